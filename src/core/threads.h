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
    int follow; /* 1: follow the free cores */
    int now;    /* --threads N, or the count chosen last (0: OMP_NUM_THREADS's) */
    ug_cpu_meter meter;
} ug_threads;

/* flag: the --threads value, 0 for the default. */
void ug_threads_init(ug_threads *t, long flag);

/* Between units of work, in the thread that does them (an OpenMP thread
 * count belongs to one thread): sets the next one's count, and returns it. */
int ug_threads_update(ug_threads *t);

#endif
