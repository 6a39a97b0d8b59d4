#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include "core/cpuload.h"

#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

double ug_cpu_busy_seconds(const char *proc_stat, const unsigned char *allowed, int n_allowed,
                           long hz)
{
    double ticks = 0;
    int found = 0;
    for (const char *line = proc_stat; line && *line;) {
        int cpu, used = 0;
        /* user nice system idle iowait irq softirq steal: all but idle and
         * iowait is time a task had the core. */
        unsigned long long v[8] = {0};
        /* "cpuN ...", not the machine's total "cpu  ..." */
        if (strncmp(line, "cpu", 3) == 0 && line[3] >= '0' && line[3] <= '9' &&
            sscanf(line, "cpu%d %llu %llu %llu %llu %llu %llu %llu %llu%n", &cpu, &v[0], &v[1],
                   &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &used) == 9 &&
            used > 0 && cpu >= 0 && cpu < n_allowed && (allowed[cpu / 8] >> (cpu % 8) & 1)) {
            ticks += (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]);
            found = 1;
        }
        line = strchr(line, '\n');
        if (line)
            line++;
    }
    return found && hz > 0 ? ticks / (double)hz : -1;
}

int ug_cpu_free_between(const ug_cpu_reading *a, const ug_cpu_reading *b, int cores)
{
    double wall = b->wall - a->wall;
    double others = (b->busy - a->busy) - (b->self - a->self);
    int busy = wall > 0 && others > 0 ? (int)lround(others / wall) : 0;
    int free_cores = cores - busy;
    return free_cores < 1 ? 1 : free_cores;
}

/* The affinity mask as bits, and its count (1 where it cannot be read). */
static int allowed_cpus(unsigned char bits[UG_MAX_CPUS / 8])
{
    memset(bits, 0, UG_MAX_CPUS / 8);
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0)
        return 1;
    int n = 0;
    for (int c = 0; c < UG_MAX_CPUS && c < CPU_SETSIZE; c++) {
        if (CPU_ISSET(c, &set)) {
            bits[c / 8] |= (unsigned char)(1u << (c % 8));
            n++;
        }
    }
    return n > 0 ? n : 1;
}

static double seconds(clockid_t clock)
{
    struct timespec t;
    clock_gettime(clock, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* A reading now of the cores in allowed; -1 when /proc/stat cannot be read. */
static int read_now(ug_cpu_reading *r, const unsigned char *allowed)
{
    FILE *f = fopen("/proc/stat", "r");
    if (!f)
        return -1;
    /* The per-CPU lines come first; 64 KiB holds them for 1024 CPUs. */
    static const size_t cap = 64 * 1024;
    char *text = malloc(cap);
    size_t n = text ? fread(text, 1, cap - 1, f) : 0;
    fclose(f);
    if (!text)
        return -1;
    text[n] = '\0';
    r->busy = ug_cpu_busy_seconds(text, allowed, UG_MAX_CPUS, sysconf(_SC_CLK_TCK));
    free(text);
    r->self = seconds(CLOCK_PROCESS_CPUTIME_ID);
    r->wall = seconds(CLOCK_MONOTONIC);
    return r->busy < 0 ? -1 : 0;
}

void ug_cpu_meter_init(ug_cpu_meter *m)
{
    m->cores = allowed_cpus(m->allowed);
    m->have = read_now(&m->last, m->allowed) == 0;
}

int ug_cpu_meter_free(ug_cpu_meter *m, double min_seconds)
{
    if (m->have && seconds(CLOCK_MONOTONIC) - m->last.wall < min_seconds)
        return 0;
    ug_cpu_reading now;
    if (read_now(&now, m->allowed) != 0)
        return 0;
    int got = m->have ? ug_cpu_free_between(&m->last, &now, m->cores) : 0;
    m->last = now;
    m->have = 1;
    return got;
}
