/* The CPU backend's state in a kernel context (k->impl) and its cache of
 * oneDNN primitives (dnnl_cache.h): a CPU engine and in-order stream, a linked list of
 * primitives searched linearly (a network has a few dozen shapes) and kept in
 * order of last use, the least recently used one freed when a new one would
 * exceed UG_DNNL_CACHE_CAPACITY, and the buffers every primitive shares; then
 * what our Winograd convolutions keep (cpu.h): their buffer, the policy,
 * and under the timed policy conv.c's choices between them and oneDNN. */

#include <omp.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include "core/error.h"
#include "backend/cpu/cpu.h"
#include "backend/cpu/dnnl_cache.h"

/* A oneDNN primitive and its scratchpad. Every primitive is made with the
 * user-managed scratchpad mode: with oneDNN's default (library) mode its
 * scratchpad is a buffer per thread that the primitive finds in the thread
 * that runs it, so a primitive run in another thread than the one that created
 * it reads a buffer of the wrong size (or none), and one created in a thread
 * that ends leaks it. Here the scratchpad is a slice of the context's own
 * buffer, so a context may move between threads. */
typedef struct ug_dnnl_op {
    dnnl_primitive_t prim;
    dnnl_memory_t pad; /* NULL when the primitive needs no scratchpad */
} ug_dnnl_op;

typedef struct ug_dnnl_arg {
    int arg, output;
    int same;                     /* the primitive's layout is the caller's */
    dnnl_memory_t user;           /* caller's layout; handle set per call */
    dnnl_memory_t mem;            /* primitive's layout; its buffer is a slice of the
                                     context's shared layout scratch, set per call */
    size_t bytes;                 /* size of mem's buffer */
    ug_dnnl_op reorder;           /* inputs: user -> mem; outputs: mem -> user */
    ug_dnnl_op reorder_acc;       /* outputs: mem -> user with +=, made on first use */
} ug_dnnl_arg;

struct ug_dnnl_prim {
    int key[UG_DNNL_KEY_LEN];
    int threads; /* oneDNN sizes a primitive's work split for the threads of its creation */
    ug_dnnl_op op;
    int nargs;
    ug_dnnl_arg args[UG_DNNL_MAX_ARGS];
    struct ug_dnnl_prim *next;
};

typedef struct cpu_state {
    dnnl_engine_t engine;
    dnnl_stream_t stream;
    ug_dnnl_prim *prims;
    size_t nprims;
    float *scratch;
    size_t scratch_count;
    void *lscratch;               /* buffers of the oneDNN layouts, shared by every primitive */
    size_t lscratch_bytes;
    void *pad;                    /* the primitives' scratchpad, shared by all of them */
    size_t pad_bytes;
    float *conv_buf;              /* our own convolutions' buffer (winograd.c, conv_gemm.c) */
    size_t conv_buf_count;
    ug_cpu_choice *choices;       /* conv.c's timed choices, last used first */
    size_t nchoices;
    int wino_policy;              /* UG_CPU_WINO_AUTO, _OURS or _ONEDNN */
} cpu_state;

#define S(k) ((cpu_state *)(k)->impl)

static const char *status_name(dnnl_status_t st)
{
    switch (st) {
    case dnnl_out_of_memory: return "out of memory";
    case dnnl_invalid_arguments: return "invalid arguments";
    case dnnl_unimplemented: return "unimplemented";
    case dnnl_runtime_error: return "runtime error";
    default: return "error";
    }
}

#define DNNL_CHECK(call)                                                                 \
    do {                                                                                 \
        dnnl_status_t st_ = (call);                                                      \
        if (st_ != dnnl_success) {                                                       \
            ug_fail(err, "oneDNN: %s: %s (status %d)", #call, status_name(st_), (int)st_); \
            goto fail;                                                                   \
        }                                                                                \
    } while (0)

static void op_free(ug_dnnl_op *op)
{
    if (op->pad)
        dnnl_memory_destroy(op->pad);
    if (op->prim)
        dnnl_primitive_destroy(op->prim);
    op->pad = NULL;
    op->prim = NULL;
}

static void arg_free(ug_dnnl_arg *a)
{
    op_free(&a->reorder_acc);
    op_free(&a->reorder);
    if (a->mem)
        dnnl_memory_destroy(a->mem);
    if (a->user)
        dnnl_memory_destroy(a->user);
}

static void prim_free(ug_dnnl_prim *p)
{
    for (int i = 0; i < p->nargs; i++)
        arg_free(&p->args[i]);
    op_free(&p->op);
    free(p);
}

void ug_cpu_ctx_free(ug_kctx *k)
{
    cpu_state *c = S(k);
    if (!c)
        return;
    while (c->prims) {
        ug_dnnl_prim *next = c->prims->next;
        prim_free(c->prims);
        c->prims = next;
    }
    while (c->choices) {
        ug_cpu_choice *next = c->choices->next;
        free(c->choices);
        c->choices = next;
    }
    free(c->conv_buf);
    if (c->stream)
        dnnl_stream_destroy(c->stream);
    if (c->engine)
        dnnl_engine_destroy(c->engine);
    free(c->lscratch);
    free(c->pad);
    free(c);
    k->impl = NULL;
}

/* UGATIT_WINOGRAD=auto|timed|ours|onednn: the policy for 3x3 stride-1
 * convolutions (cpu.h); unset is auto. */
static int wino_policy_from_env(int *policy, ug_error *err)
{
    static const char *const names[] = {"auto", "timed", "ours", "onednn"};
    const char *v = getenv("UGATIT_WINOGRAD");
    *policy = UG_CPU_WINO_AUTO;
    if (!v || !*v)
        return 0;
    for (int i = 0; i < 4; i++)
        if (strcmp(v, names[i]) == 0) {
            *policy = i;
            return 0;
        }
    return ug_fail(err, "UGATIT_WINOGRAD must be auto, timed, ours or onednn (got '%s')", v);
}

int ug_cpu_ctx_init(ug_kctx *k, ug_error *err)
{
    cpu_state *c = calloc(1, sizeof *c);
    if (!c)
        return ug_fail(err, "kernel context: out of memory");
    k->impl = c;
    DNNL_CHECK(dnnl_engine_create(&c->engine, dnnl_cpu, 0));
    DNNL_CHECK(dnnl_stream_create(&c->stream, c->engine, dnnl_stream_default_flags));
    if (wino_policy_from_env(&c->wino_policy, err) < 0)
        goto fail;
    return 0;
fail:
    ug_cpu_ctx_free(k);
    return -1;
}

/* AVX512-BF16 in the CPU's identification: CPUID leaf 7, sub-leaf 1, EAX bit 5. */
static int cpu_has_avx512_bf16(void)
{
#if defined(__x86_64__) || defined(__i386__)
    unsigned a, b, c, d;
    if (__get_cpuid_max(0, NULL) < 7 || !__get_cpuid_count(7, 0, &a, &b, &c, &d) || a < 1)
        return 0;
    if (!__get_cpuid_count(7, 1, &a, &b, &c, &d))
        return 0;
    return (a >> 5) & 1;
#else
    return 0;
#endif
}

int ug_kctx_bf16_check(ug_error *err)
{
    /* oneDNN's effective ISA honours the CPU, the operating system's support
     * and the cap ONEDNN_MAX_CPU_ISA (or DNNL_MAX_CPU_ISA); every ISA value
     * at or above avx512_core_bf16 has all of its bits. */
    unsigned isa = (unsigned)dnnl_get_effective_cpu_isa();
    unsigned need = (unsigned)dnnl_cpu_isa_avx512_core_bf16;
    if ((isa & need) == need)
        return 0;
    if (!cpu_has_avx512_bf16())
        return ug_fail(err, "bf16 precision needs a CPU with AVX512-BF16, which this one lacks "
                            "(fp32 runs everywhere)");
    const char *cap = getenv("ONEDNN_MAX_CPU_ISA");
    const char *name = "ONEDNN_MAX_CPU_ISA";
    if (!cap || !*cap) {
        cap = getenv("DNNL_MAX_CPU_ISA");
        name = "DNNL_MAX_CPU_ISA";
    }
    if (cap && *cap)
        return ug_fail(err, "bf16 precision needs AVX512-BF16, which %s=%s turns off in oneDNN",
                       name, cap);
    return ug_fail(err, "bf16 precision needs AVX512-BF16, which oneDNN cannot use on this "
                        "machine (its effective ISA is %#x)", isa);
}

dnnl_engine_t ug_kctx_engine(ug_kctx *k)
{
    return S(k)->engine;
}

size_t ug_dnnl_cache_count(const ug_kctx *k)
{
    return S(k)->nprims;
}

void ug_cpu_set_wino_policy(ug_kctx *k, int policy) { S(k)->wino_policy = policy; }
int ug_cpu_wino_policy(const ug_kctx *k) { return S(k)->wino_policy; }

#define CONV_BUF_ALIGN 64

float *ug_cpu_conv_scratch(ug_kctx *k, size_t count, ug_error *err)
{
    cpu_state *c = S(k);
    if (count > c->conv_buf_count) {
        free(c->conv_buf);
        size_t bytes = (count * sizeof(float) + CONV_BUF_ALIGN - 1) & ~(size_t)(CONV_BUF_ALIGN - 1);
        c->conv_buf = aligned_alloc(CONV_BUF_ALIGN, bytes);
        c->conv_buf_count = c->conv_buf ? count : 0;
        if (!c->conv_buf) {
            ug_fail(err, "convolution: out of memory for a buffer of %zu bytes", bytes);
            return NULL;
        }
    }
    return c->conv_buf;
}

int ug_cpu_sgemm(char ta, char tb, long M, long N, long K, const float *A, long lda,
                 const float *B, long ldb, float beta, float *C, long ldc, ug_error *err)
{
    const dnnl_status_t st = dnnl_sgemm(ta, tb, M, N, K, 1.0f, A, lda, B, ldb, beta, C, ldc);
    if (st != dnnl_success)
        return ug_fail(err, "oneDNN: sgemm %c%c %ldx%ldx%ld failed (status %d)", ta, tb, M, N, K,
                       (int)st);
    return 0;
}

/* Most choices a context keeps: a few per convolution shape, as for the
 * primitives (UG_DNNL_CACHE_CAPACITY). */
#define CHOICE_CAPACITY 256

ug_cpu_choice *ug_cpu_choice_get(ug_kctx *k, const int key[UG_CPU_CHOICE_KEY_LEN])
{
    cpu_state *c = S(k);
    for (ug_cpu_choice **link = &c->choices; *link; link = &(*link)->next) {
        ug_cpu_choice *p = *link;
        if (memcmp(p->key, key, sizeof p->key) == 0) {
            *link = p->next;
            p->next = c->choices;
            c->choices = p;
            return p;
        }
    }
    ug_cpu_choice *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    if (c->nchoices >= CHOICE_CAPACITY) {
        ug_cpu_choice **link = &c->choices;
        while ((*link)->next)
            link = &(*link)->next;
        free(*link);
        *link = NULL;
        c->nchoices--;
    }
    memcpy(p->key, key, sizeof p->key);
    p->next = c->choices;
    c->choices = p;
    c->nchoices++;
    return p;
}

ug_dnnl_prim *ug_dnnl_find(ug_kctx *k, const int key[UG_DNNL_KEY_LEN])
{
    int threads = omp_get_max_threads();
    for (ug_dnnl_prim **link = &S(k)->prims; *link; link = &(*link)->next) {
        ug_dnnl_prim *p = *link;
        if (p->threads == threads && memcmp(p->key, key, sizeof p->key) == 0) {
            /* Most recently used first. */
            *link = p->next;
            p->next = S(k)->prims;
            S(k)->prims = p;
            return p;
        }
    }
    return NULL;
}

/* Frees the least recently used primitive (the list's last). A primitive is
 * only held from its find or add to the end of its ug_dnnl_exec, with no add
 * in between, so the one freed is never in use. */
static void evict_lru(ug_kctx *k)
{
    ug_dnnl_prim **link = &S(k)->prims;
    if (!*link)
        return;
    while ((*link)->next)
        link = &(*link)->next;
    prim_free(*link);
    *link = NULL;
    S(k)->nprims--;
}

static const dnnl_memory_desc_t *mem_md(dnnl_memory_t m)
{
    const dnnl_memory_desc_t *md = NULL;
    dnnl_memory_get_memory_desc(m, &md);
    return md;
}

int ug_dnnl_attr_create(dnnl_primitive_attr_t *attr, ug_error *err)
{
    *attr = NULL;
    DNNL_CHECK(dnnl_primitive_attr_create(attr));
    DNNL_CHECK(dnnl_primitive_attr_set_scratchpad_mode(*attr, dnnl_scratchpad_mode_user));
    return 0;
fail:
    if (*attr)
        dnnl_primitive_attr_destroy(*attr);
    *attr = NULL;
    return -1;
}

/* The primitive of pd and, if it needs one, a memory for its scratchpad
 * (pd made with ug_dnnl_attr_create's attributes). */
static int op_create(ug_kctx *k, ug_dnnl_op *op, const_dnnl_primitive_desc_t pd, ug_error *err)
{
    DNNL_CHECK(dnnl_primitive_create(&op->prim, pd));
    const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    if (md && dnnl_memory_desc_get_size(md) > 0)
        DNNL_CHECK(dnnl_memory_create(&op->pad, md, S(k)->engine, DNNL_MEMORY_NONE));
    return 0;
fail:
    op_free(op);
    return -1;
}

#define PAD_ALIGN 64

/* Runs op with the nargs arguments in ea, which has room for one more (the
 * scratchpad, pointed at the context's buffer, grown as needed). */
static int op_exec(ug_kctx *k, ug_dnnl_op *op, int nargs, dnnl_exec_arg_t *ea, ug_error *err)
{
    if (op->pad) {
        size_t bytes = dnnl_memory_desc_get_size(mem_md(op->pad));
        bytes = (bytes + PAD_ALIGN - 1) & ~(size_t)(PAD_ALIGN - 1);
        if (bytes > S(k)->pad_bytes) {
            /* Nothing queued may still use the old buffer. */
            DNNL_CHECK(dnnl_stream_wait(S(k)->stream));
            free(S(k)->pad);
            S(k)->pad = aligned_alloc(PAD_ALIGN, bytes);
            S(k)->pad_bytes = S(k)->pad ? bytes : 0;
            if (!S(k)->pad) {
                ug_fail(err, "oneDNN scratchpad: out of memory (%zu bytes)", bytes);
                return -1;
            }
        }
        DNNL_CHECK(dnnl_memory_set_data_handle(op->pad, S(k)->pad));
        ea[nargs].arg = DNNL_ARG_SCRATCHPAD;
        ea[nargs].memory = op->pad;
        nargs++;
    }
    DNNL_CHECK(dnnl_primitive_execute(op->prim, S(k)->stream, nargs, ea));
    return 0;
fail:
    return -1;
}

/* A reorder from one layout to another; add != 0 makes it dst += src. */
static int make_reorder(ug_kctx *k, ug_dnnl_op *out, const dnnl_memory_desc_t *from,
                        const dnnl_memory_desc_t *to, int add, ug_error *err)
{
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t po = NULL;
    dnnl_primitive_desc_t rpd = NULL;
    int rc = -1;
    if (ug_dnnl_attr_create(&attr, err) < 0)
        return -1;
    if (add) {
        DNNL_CHECK(dnnl_post_ops_create(&po));
        DNNL_CHECK(dnnl_post_ops_append_sum(po, 1.0f));
        DNNL_CHECK(dnnl_primitive_attr_set_post_ops(attr, po));
    }
    dnnl_engine_t eng = S(k)->engine;
    DNNL_CHECK(dnnl_reorder_primitive_desc_create(&rpd, from, eng, to, eng, attr));
    if (op_create(k, out, rpd, err) < 0)
        goto fail;
    rc = 0;
fail:
    if (rpd)
        dnnl_primitive_desc_destroy(rpd);
    if (po)
        dnnl_post_ops_destroy(po);
    if (attr)
        dnnl_primitive_attr_destroy(attr);
    return rc;
}

ug_dnnl_prim *ug_dnnl_add(ug_kctx *k, const int key[UG_DNNL_KEY_LEN],
                          const_dnnl_primitive_desc_t pd, const ug_dnnl_arg_spec *args,
                          int nargs, ug_error *err)
{
    ug_dnnl_prim *p = calloc(1, sizeof *p);
    if (!p) {
        ug_fail(err, "oneDNN primitive cache: out of memory");
        return NULL;
    }
    memcpy(p->key, key, sizeof p->key);
    p->threads = omp_get_max_threads();
    if (op_create(k, &p->op, pd, err) < 0)
        goto fail;
    for (int i = 0; i < nargs && i < UG_DNNL_MAX_ARGS; i++) {
        ug_dnnl_arg *a = &p->args[i];
        p->nargs = i + 1;
        a->arg = args[i].arg;
        a->output = args[i].output;
        const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(pd, dnnl_query_exec_arg_md, a->arg);
        if (!md) {
            ug_fail(err, "oneDNN: primitive has no argument %d", a->arg);
            goto fail;
        }
        DNNL_CHECK(dnnl_memory_create(&a->user, &args[i].user_md, S(k)->engine, DNNL_MEMORY_NONE));
        a->same = dnnl_memory_desc_equal(md, &args[i].user_md);
        if (a->same)
            continue; /* an output gets its own buffer only if it is ever accumulated */
        DNNL_CHECK(dnnl_memory_create(&a->mem, md, S(k)->engine, DNNL_MEMORY_NONE));
        a->bytes = dnnl_memory_desc_get_size(md);
        if (a->output) {
            if (make_reorder(k, &a->reorder, md, &args[i].user_md, 0, err))
                goto fail;
        } else {
            if (make_reorder(k, &a->reorder, &args[i].user_md, md, 0, err))
                goto fail;
        }
    }
    while (S(k)->nprims >= UG_DNNL_CACHE_CAPACITY)
        evict_lru(k);
    p->next = S(k)->prims;
    S(k)->prims = p;
    S(k)->nprims++;
    return p;
fail:
    prim_free(p);
    return NULL;
}

static int exec2(ug_kctx *k, ug_dnnl_op *r, dnnl_memory_t from, dnnl_memory_t to,
                 ug_error *err)
{
    dnnl_exec_arg_t ea[3] = {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}};
    return op_exec(k, r, 2, ea, err);
}

#define LSCRATCH_ALIGN 64

/* Points the primitive-layout memories that this call uses at slices of the
 * context's layout scratch (grown as needed; the primitives run one at a
 * time, so one buffer serves them all and no primitive keeps its own). */
static int bind_scratch(ug_kctx *k, ug_dnnl_prim *p, const int acc[], ug_error *err)
{
    size_t total = 0;
    for (int i = 0; i < p->nargs; i++) {
        ug_dnnl_arg *a = &p->args[i];
        if (a->output && acc[i] && !a->mem) {
            /* Accumulated output in the caller's own layout: a buffer to compute into. */
            const dnnl_memory_desc_t *umd = mem_md(a->user);
            DNNL_CHECK(dnnl_memory_create(&a->mem, umd, S(k)->engine, DNNL_MEMORY_NONE));
            a->bytes = dnnl_memory_desc_get_size(umd);
        }
        if (a->mem && (!a->same || (a->output && acc[i])))
            total += (a->bytes + LSCRATCH_ALIGN - 1) & ~(size_t)(LSCRATCH_ALIGN - 1);
    }
    if (total > S(k)->lscratch_bytes) {
        free(S(k)->lscratch);
        S(k)->lscratch = aligned_alloc(LSCRATCH_ALIGN, total);
        S(k)->lscratch_bytes = S(k)->lscratch ? total : 0;
        if (!S(k)->lscratch) {
            ug_fail(err, "oneDNN layout buffers: out of memory (%zu bytes)", total);
            return -1;
        }
    }
    size_t off = 0;
    for (int i = 0; i < p->nargs; i++) {
        ug_dnnl_arg *a = &p->args[i];
        if (a->mem && (!a->same || (a->output && acc[i]))) {
            DNNL_CHECK(dnnl_memory_set_data_handle(a->mem, (char *)S(k)->lscratch + off));
            off += (a->bytes + LSCRATCH_ALIGN - 1) & ~(size_t)(LSCRATCH_ALIGN - 1);
        }
    }
    return 0;
fail:
    return -1;
}

int ug_dnnl_exec(ug_kctx *k, ug_dnnl_prim *p, const void *const ptrs[], const int acc[],
                 ug_error *err)
{
    dnnl_exec_arg_t ea[UG_DNNL_MAX_ARGS + 1];
    if (bind_scratch(k, p, acc, err) < 0)
        return -1;
    for (int i = 0; i < p->nargs; i++) {
        ug_dnnl_arg *a = &p->args[i];
        /* oneDNN takes void *; inputs are only read. */
        DNNL_CHECK(dnnl_memory_set_data_handle(a->user, (void *)ptrs[i]));
        ea[i].arg = a->arg;
        if (!a->output) {
            if (!a->same && exec2(k, &a->reorder, a->user, a->mem, err))
                return -1;
            ea[i].memory = a->same ? a->user : a->mem;
        } else if (acc[i]) {
            /* Compute into a layout buffer, then add it to the caller's. */
            if (!a->reorder_acc.prim &&
                make_reorder(k, &a->reorder_acc, mem_md(a->mem), mem_md(a->user), 1, err))
                return -1;
            ea[i].memory = a->mem;
        } else {
            ea[i].memory = a->same ? a->user : a->mem;
        }
    }
    if (op_exec(k, &p->op, p->nargs, ea, err) < 0)
        return -1;
    for (int i = 0; i < p->nargs; i++) {
        ug_dnnl_arg *a = &p->args[i];
        if (!a->output)
            continue;
        if (acc[i]) {
            if (exec2(k, &a->reorder_acc, a->mem, a->user, err))
                return -1;
        } else if (!a->same) {
            if (exec2(k, &a->reorder, a->mem, a->user, err))
                return -1;
        }
    }
    DNNL_CHECK(dnnl_stream_wait(S(k)->stream));
    return 0;
fail:
    return -1;
}
