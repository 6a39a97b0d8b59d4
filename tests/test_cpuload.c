/* The free-core measurement that --threads follows by default
 * (src/core/cpuload.h): /proc/stat's per-CPU lines of the affinity mask,
 * the other processes' share of them, and the meter on this machine; and
 * the program's OpenMP wait policy (src/core/program.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "core/cpuload.h"

static void test_parse(void)
{
    /* user nice system idle iowait irq softirq steal guest guest_nice */
    const char *stat = "cpu  900 0 300 5000 100 0 0 0 0 0\n"
                       "cpu0 100 10 20 1000 50 5 5 10 0 0\n"
                       "cpu1 700 0 200 100 0 0 0 0 0 0\n"
                       "cpu2 30 0 10 2000 40 0 0 0 0 0\n"
                       "intr 12345 0 0\n"
                       "ctxt 999\n";
    unsigned char cpu0_2[1] = {0x5}, cpu1[1] = {0x2}, cpu7[1] = {0x80};
    /* cpu0: 100 + 10 + 20 + 5 + 5 + 10 = 150 ticks, cpu2: 40, idle and
     * iowait left out; 100 ticks a second. */
    double b = ug_cpu_busy_seconds(stat, cpu0_2, 8, 100);
    CHECK(b > 1.9 - 1e-9 && b < 1.9 + 1e-9, "cpu0 + cpu2 busy %g s, want 1.9", b);
    b = ug_cpu_busy_seconds(stat, cpu1, 8, 100);
    CHECK(b > 9 - 1e-9 && b < 9 + 1e-9, "cpu1 busy %g s, want 9", b);
    CHECK(ug_cpu_busy_seconds(stat, cpu7, 8, 100) == -1, "a CPU with no line counted");
    CHECK(ug_cpu_busy_seconds("cpu  1 2 3 4 5 6 7 8\n", cpu0_2, 8, 100) == -1,
          "the machine's total line taken for a CPU");
    CHECK(ug_cpu_busy_seconds("", cpu0_2, 8, 100) == -1, "empty text");
}

static void test_free(void)
{
    /* Over 2 s, the cores ran 3 s of which 1 s was ours: one core busy. */
    ug_cpu_reading a = {10, 1, 100}, b = {13, 2, 102};
    CHECK(ug_cpu_free_between(&a, &b, 2) == 1, "one of two free");
    CHECK(ug_cpu_free_between(&a, &b, 4) == 3, "three of four free");
    /* A third of a core (rounded away), and more than all cores busy. */
    ug_cpu_reading c = {10.6, 2, 102}, d = {25, 2, 102};
    CHECK(ug_cpu_free_between(&a, &c, 2) == 2, "a third of a core busy counted");
    CHECK(ug_cpu_free_between(&a, &d, 2) == 1, "never fewer than one");
    CHECK(ug_cpu_free_between(&a, &a, 2) == 2, "no time passed");
}

static void test_meter(void)
{
    ug_cpu_meter m;
    ug_cpu_meter_init(&m);
    CHECK(m.cores >= 1, "cores %d", m.cores);
    CHECK(ug_cpu_meter_free(&m, 60) == 0, "answered before its interval");
    /* Busy for 0.2 s ourselves: our own time is not another process's. */
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    volatile double x = 0;
    do {
        for (int i = 0; i < 100000; i++)
            x += i * 1e-9;
        clock_gettime(CLOCK_MONOTONIC, &t);
    } while ((double)(t.tv_sec - t0.tv_sec) + 1e-9 * (double)(t.tv_nsec - t0.tv_nsec) < 0.2);
    CHECK(x > 0, "the busy loop summed nothing");
    int n = ug_cpu_meter_free(&m, 0.1);
    CHECK(!m.have || (n >= 1 && n <= m.cores), "free cores %d of %d", n, m.cores);
}

/* The spin count libgomp uses in `ugatit --help` (it prints its settings
 * under OMP_DISPLAY_ENV; the last are the ones of the process that runs). */
static void spin_count(const char *env, char *out, size_t n)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "env -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT %s OMP_DISPLAY_ENV=verbose "
             "%s --help 2>&1", env, UGATIT_CLI);
    FILE *p = popen(cmd, "r");
    char line[512];
    out[0] = 0;
    while (p && fgets(line, sizeof line, p)) {
        const char *v = strstr(line, "GOMP_SPINCOUNT = '");
        if (v)
            snprintf(out, n, "%.*s", (int)strcspn(v + 18, "'"), v + 18);
    }
    if (p)
        pclose(p);
}

static void test_wait_policy(void)
{
    char got[64];
    spin_count("", got, sizeof got);
    CHECK(strcmp(got, "10000") == 0, "the program spins %s times, want 10000", got);
    spin_count("GOMP_SPINCOUNT=7", got, sizeof got);
    CHECK(strcmp(got, "7") == 0, "GOMP_SPINCOUNT=7 gave %s", got);
    spin_count("OMP_WAIT_POLICY=passive", got, sizeof got);
    CHECK(strcmp(got, "0") == 0, "OMP_WAIT_POLICY=passive gave %s", got);
}

int main(void)
{
    test_parse();
    test_free();
    test_meter();
    test_wait_policy();
    return check_summary();
}
