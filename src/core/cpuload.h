/* How many cores the rest of the machine leaves this process: the busy time
 * of the cores it may run on (its affinity mask, from /proc/stat) minus its
 * own CPU time, over the interval between two readings. A program that
 * follows it runs as many threads as there are cores free, so that on a
 * shared machine no thread of a parallel region waits for one that another
 * process has preempted. */
#ifndef UG_CPULOAD_H
#define UG_CPULOAD_H

typedef struct ug_cpu_reading {
    double busy; /* CPU seconds the allowed cores have run anything */
    double self; /* CPU seconds of this process */
    double wall; /* seconds, monotonic */
} ug_cpu_reading;

enum { UG_MAX_CPUS = 1024 };

typedef struct ug_cpu_meter {
    unsigned char allowed[UG_MAX_CPUS / 8]; /* the affinity mask at init, a bit per CPU */
    int cores;                              /* its count */
    ug_cpu_reading last;
    int have; /* last is valid */
} ug_cpu_meter;

/* Busy seconds of the cpuN lines of proc_stat (the text of /proc/stat) whose
 * N is in allowed (a bit per CPU, n_allowed bits), clock ticks of hz per
 * second; -1 when the text has none of them. */
double ug_cpu_busy_seconds(const char *proc_stat, const unsigned char *allowed, int n_allowed,
                           long hz);

/* Cores free between two readings: cores less the other processes' CPU
 * time over the wall time, rounded, at least 1. */
int ug_cpu_free_between(const ug_cpu_reading *a, const ug_cpu_reading *b, int cores);

/* A meter with its first reading; cores is at least 1 even where /proc is
 * missing. */
void ug_cpu_meter_init(ug_cpu_meter *m);

/* The cores free since the last reading, taking a new one; 0 (no answer,
 * no reading taken) when less than min_seconds have passed or /proc/stat
 * cannot be read. */
int ug_cpu_meter_free(ug_cpu_meter *m, double min_seconds);

#endif
