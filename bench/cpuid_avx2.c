/* A CPU without AVX-512 for one process and the processes it starts: a
 * library, preloaded and also loaded as an audit library, that makes the CPUID instruction fault (Linux's
 * arch_prctl(ARCH_SET_CPUID), on CPUs with CPUID faulting) and answers it
 * itself, with every AVX-512 feature, AVX-VNNI and the AVX-512 register state
 * cleared. ONNX Runtime's MLAS, PyTorch, OpenBLAS, oneDNN and our own
 * dispatch all choose their kernels from CPUID, and only oneDNN and ours take a
 * cap, so this is how bench/run.py's --cpu avx2 rows put all three on their
 * AVX2 paths on an AVX-512 machine (README, "Benchmarks").
 *
 *   LD_AUDIT=build-bench/bench/libcpuid_avx2.so \
 *   LD_PRELOAD=build-bench/bench/libcpuid_avx2.so program ...
 *
 * The audit copy starts first, before any library's constructors (oneDNN's
 * reads CPUID as it loads); the preloaded copy then takes over the handler,
 * so that a program's own SIGSEGV handler runs behind it. The faulting
 * setting is per thread, inherited by new threads and processes and cleared
 * by execve; both variables pass on to exec'd programs, which set it again. Where the CPU or
 * kernel cannot fault CPUID, the process stops with a one-line error instead
 * of running on the AVX-512 path unnoticed.
 *
 * Where it cannot (a virtual machine that does not pass CPUID faulting on),
 * the audit copy alone can patch the CPUID instructions of named files as
 * they load, each into UD2 (as long, two bytes), and answer the SIGILL they
 * raise the same way. CPUID_AVX2_PATCH names the files and where their CPUID
 * instructions are, "FILE:HEX,HEX,...;FILE:..." (offsets from the file's load
 * address, as objdump -d prints them; bench/cpuid_patch.py finds them and
 * runs a program so). A listed offset that does not hold CPUID stops the
 * process with an error; a UD2 of the program's own still ends it. */
#define _GNU_SOURCE
#include <asm/prctl.h>
#include <cpuid.h>
#include <limits.h>
#include <link.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

/* Bits cleared, per leaf (Intel SDM vol. 2A, CPUID; AMD APM vol. 3). */
#define L7_EBX_AVX512 (1u << 16 | 1u << 17 | 1u << 21 | 1u << 26 | 1u << 27 | 1u << 28 | \
                       1u << 30 | 1u << 31) /* F DQ IFMA PF ER CD BW VL */
#define L7_ECX_AVX512 (1u << 1 | 1u << 6 | 1u << 11 | 1u << 12 | 1u << 14) /* VBMI VBMI2 VNNI BITALG VPOPCNTDQ */
#define L7_EDX_AVX512 (1u << 2 | 1u << 3 | 1u << 8 | 1u << 23) /* 4VNNIW 4FMAPS VP2INTERSECT FP16 */
#define L7_1_EAX_DROP (1u << 4 | 1u << 5)                    /* AVX-VNNI, AVX512-BF16 */
#define LD_EAX_ZMM (1u << 5 | 1u << 6 | 1u << 7) /* XCR0: opmask, ZMM_Hi256, Hi16_ZMM */

static struct sigaction program_segv; /* the program's own SIGSEGV action, run for other faults */

extern int __sigaction(int, const struct sigaction *, struct sigaction *); /* glibc's, not ours */

static long set_cpuid(int enabled) {
    return syscall(SYS_arch_prctl, ARCH_SET_CPUID, (unsigned long)enabled);
}

static void mask(unsigned leaf, unsigned sub, unsigned r[4]) {
    if (leaf == 7 && sub == 0) {
        r[1] &= ~L7_EBX_AVX512;
        r[2] &= ~L7_ECX_AVX512;
        r[3] &= ~L7_EDX_AVX512;
    } else if (leaf == 7 && sub == 1) {
        r[0] &= ~L7_1_EAX_DROP;
    } else if (leaf == 0xd && sub == 0) {
        r[0] &= ~LD_EAX_ZMM;
    }
}

/* The registers of a CPUID at the context's instruction pointer, answered
 * with the masks, and the instruction skipped. */
static void answer(void *ctx, int faulting) {
    greg_t *g = ((ucontext_t *)ctx)->uc_mcontext.gregs;
    unsigned leaf = (unsigned)g[REG_RAX], sub = (unsigned)g[REG_RCX], r[4];
    if (faulting)
        set_cpuid(1);
    __cpuid_count(leaf, sub, r[0], r[1], r[2], r[3]);
    if (faulting)
        set_cpuid(0);
    mask(leaf, sub, r);
    g[REG_RAX] = r[0]; /* CPUID writes 32 bits, clearing the upper half */
    g[REG_RBX] = r[1];
    g[REG_RCX] = r[2];
    g[REG_RDX] = r[3];
    g[REG_RIP] += 2;
}

static void on_segv(int sig, siginfo_t *si, void *ctx) {
    greg_t *g = ((ucontext_t *)ctx)->uc_mcontext.gregs;
    const unsigned char *ip = (const unsigned char *)g[REG_RIP];
    /* A faulting CPUID is a general protection fault (SI_KERNEL); only then is
     * the instruction pointer known to point at readable code. */
    if (si->si_code == SI_KERNEL && ip[0] == 0x0f && ip[1] == 0xa2) {
        answer(ctx, 1);
        return;
    }
    if (program_segv.sa_flags & SA_SIGINFO) {
        program_segv.sa_sigaction(sig, si, ctx);
    } else if (program_segv.sa_handler != SIG_DFL && program_segv.sa_handler != SIG_IGN) {
        program_segv.sa_handler(sig);
    } else {
        struct sigaction dfl;
        memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        __sigaction(SIGSEGV, &dfl, NULL); /* the fault repeats on return and ends the process */
    }
}

/* A program that sets its own SIGSEGV handler (Node.js does, for WebAssembly)
 * gets it run for every fault but CPUID's, behind ours. */
int sigaction(int sig, const struct sigaction *act, struct sigaction *old) {
    if (sig != SIGSEGV)
        return __sigaction(sig, act, old);
    if (old)
        *old = program_segv;
    if (act)
        program_segv = *act;
    return 0;
}

sighandler_t signal(int sig, sighandler_t handler) {
    struct sigaction act, old;
    memset(&act, 0, sizeof act);
    act.sa_handler = handler;
    act.sa_flags = SA_RESTART;
    sigemptyset(&act.sa_mask);
    return sigaction(sig, &act, &old) == 0 ? old.sa_handler : SIG_ERR;
}

/* ---- patching (no CPUID faulting) ---- */

enum { MAX_SITES = 4096 };
static uintptr_t patched[MAX_SITES]; /* addresses of the UD2s we wrote */
static int n_patched, patching;

static void on_ill(int sig, siginfo_t *si, void *ctx) {
    (void)si;
    uintptr_t ip = (uintptr_t)((ucontext_t *)ctx)->uc_mcontext.gregs[REG_RIP];
    for (int i = 0; i < n_patched; i++)
        if (patched[i] == ip) {
            answer(ctx, 0);
            return;
        }
    signal(sig, SIG_DFL); /* not ours: it repeats on return and ends the process */
}

static void fail(const char *what, const char *file) {
    fprintf(stderr, "libcpuid_avx2: CPUID_AVX2_PATCH: %s: %s\n", file, what);
    _exit(1);
}

/* CPUID -> UD2 at each offset CPUID_AVX2_PATCH lists for the file at path,
 * loaded at base. */
static void patch(const char *path, uintptr_t base) {
    const char *spec = getenv("CPUID_AVX2_PATCH");
    char real[PATH_MAX], want[PATH_MAX], file[PATH_MAX];
    if (!spec || !realpath(path, real))
        return;
    for (const char *e = spec; *e; e += strcspn(e, ";"), e += *e == ';') {
        const char *colon = strchr(e, ':');
        size_t len = colon ? (size_t)(colon - e) : 0;
        if (!colon || len >= sizeof file || colon > e + strcspn(e, ";"))
            fail("each entry must be FILE:HEX,HEX,...", spec);
        memcpy(file, e, len);
        file[len] = '\0';
        if (!realpath(file, want) || strcmp(want, real) != 0)
            continue;
        for (const char *o = colon + 1; *o && *o != ';';) {
            char *end;
            unsigned long off = strtoul(o, &end, 16);
            if (end == o || n_patched == MAX_SITES)
                fail(end == o ? "an offset is not hexadecimal" : "too many offsets", file);
            unsigned char *at = (unsigned char *)(base + off);
            uintptr_t page = (uintptr_t)at & ~(uintptr_t)4095;
            size_t span = (uintptr_t)at + 2 - page;
            if (mprotect((void *)page, span, PROT_READ | PROT_WRITE | PROT_EXEC) != 0)
                fail("cannot make its code writable", file);
            if (at[0] != 0x0f || at[1] != 0xa2)
                fail("a listed offset does not hold CPUID", file);
            at[1] = 0x0b;
            mprotect((void *)page, span, PROT_READ | PROT_EXEC);
            patched[n_patched++] = (uintptr_t)at;
            o = end + (*end == ',');
        }
    }
}

/* The audit interface: each object as it is mapped, before its relocation
 * and constructors (the main program's name is empty). */
unsigned la_objopen(struct link_map *map, Lmid_t lmid, uintptr_t *cookie) {
    (void)lmid, (void)cookie;
    if (patching)
        patch(map->l_name[0] ? map->l_name : "/proc/self/exe", map->l_addr);
    return 0;
}

/* Patching instead of faulting: SIGILL answered by on_ill. */
static int start_patching(void) {
    struct sigaction act;
    memset(&act, 0, sizeof act);
    act.sa_sigaction = on_ill;
    act.sa_flags = SA_SIGINFO;
    sigemptyset(&act.sa_mask);
    return __sigaction(SIGILL, &act, NULL);
}

static int faulting;

__attribute__((constructor)) static void start(void) {
    /* Twice in one process (the audit copy, then the preloaded one): the second
     * handler replaces the first, and faulting is already on. */
    struct sigaction act;
    memset(&act, 0, sizeof act);
    act.sa_sigaction = on_segv;
    act.sa_flags = SA_SIGINFO;
    sigemptyset(&act.sa_mask);
    program_segv.sa_handler = SIG_DFL;
    if (__sigaction(SIGSEGV, &act, NULL) == 0 && set_cpuid(0) == 0) {
        faulting = 1;
        return;
    }
    if (getenv("CPUID_AVX2_PATCH"))
        return; /* the audit copy patches (la_version) */
    fprintf(stderr, "libcpuid_avx2: this CPU or kernel cannot make CPUID fault "
                    "(arch_prctl ARCH_SET_CPUID); refusing to run on the AVX-512 path\n");
    _exit(1);
}

/* The audit interface's entry: the dynamic loader calls it (after this
 * copy's constructor) before it loads anything else. */
unsigned la_version(unsigned version) {
    (void)version;
    start();
    if (!faulting && !patching) {
        if (start_patching() != 0) {
            fprintf(stderr, "libcpuid_avx2: cannot set a SIGILL handler\n");
            _exit(1);
        }
        patching = 1;
    }
    return LAV_CURRENT;
}
