/* The thread count of the program (train, test, translate, serve) and of
 * bench/bench.c: a fixed count (--threads N), or by default as
 * many threads as the cores that other processes leave free, measured again
 * (at most once a second) between units of work: a training step, an image.
 * On a shared machine a parallel region then never waits for a thread that
 * another process has preempted. OMP_NUM_THREADS in the environment is a
 * fixed count too. A fixed count makes a run reproducible bit for bit: the
 * sums of a training step depend on the thread count. */
#ifndef UG_CORE_THREADS_H
#define UG_CORE_THREADS_H

#include "core/cpuload.h"

typedef struct ug_threads {
    int fixed;  /* --threads N, or 0 */
    int follow; /* 1: follow the free cores */
    int now;    /* the count chosen last (0: OMP_NUM_THREADS's) */
    ug_cpu_meter meter;
} ug_threads;

/* flag: the --threads value, 0 for the default. */
void ug_threads_init(ug_threads *t, long flag);

/* Between units of work, in the thread that does them (an OpenMP thread
 * count belongs to one thread): sets the next one's count, and returns it. */
int ug_threads_update(ug_threads *t);

/* The program's wait policy, first thing in main: libgomp by default spins
 * 300,000 times (milliseconds) at the end of a parallel region before it
 * sleeps, which on a shared machine burns the core that a preempted thread of
 * the same region, or another process, needs (a training step at 128 with two
 * threads beside busy neighbours: 25 s spinning so long, 7 s spinning 10,000
 * times). We spin 10,000 times, a fraction of a millisecond and longer than a
 * region's usual imbalance, then sleep. libgomp reads its environment before
 * main runs, so this sets GOMP_SPINCOUNT and starts the program again (argv
 * as given); OMP_WAIT_POLICY or GOMP_SPINCOUNT in the environment win. */
void ug_threads_short_spin(char **argv);

#endif
