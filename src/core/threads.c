#include "core/threads.h"

#include <omp.h>
#include <stdlib.h>

void ug_threads_init(ug_threads *t, long flag)
{
    const char *env = getenv("OMP_NUM_THREADS");
    *t = (ug_threads){.now = flag > 0 ? (int)flag : 0};
    t->follow = !t->now && !(env && *env);
    if (t->follow) {
        ug_cpu_meter_init(&t->meter);
        int procs = omp_get_num_procs();
        t->now = t->meter.cores < procs ? t->meter.cores : procs;
    }
    ug_threads_update(t);
}

int ug_threads_update(ug_threads *t)
{
    if (t->follow) {
        int n = ug_cpu_meter_free(&t->meter, 1.0);
        if (n > 0)
            t->now = n;
    }
    if (t->now > 0 && t->now != omp_get_max_threads())
        omp_set_num_threads(t->now);
    return omp_get_max_threads();
}
