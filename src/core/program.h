/* What a program of this project (ugatit, bench/) sets for the whole
 * process before anything else, first thing in main. */
#ifndef UG_PROGRAM_H
#define UG_PROGRAM_H

/* The OpenMP wait policy: libgomp by default spins 300,000 times
 * (milliseconds) at the end of a parallel region before it sleeps, which on
 * a shared machine burns the core that a preempted thread of the same region,
 * or another process, needs (a training step at 128 with two threads beside
 * busy neighbours: 25 s spinning so long, 7 s spinning 10,000 times). We spin
 * 10,000 times, a fraction of a millisecond and longer than a region's usual
 * imbalance, then sleep. libgomp reads its environment before main runs, so
 * this sets GOMP_SPINCOUNT and starts the program again (argv as given);
 * OMP_WAIT_POLICY or GOMP_SPINCOUNT in the environment win.
 *
 * glibc's mmap threshold, fixed at its initial 128 KiB: by default a freed
 * large block raises it, so later blocks of that size come from the heap,
 * where the freed ones stay resident between the steps (8 MB more peak
 * resident memory at the 256 training step, for the same allocations). */
void ug_program_init(char **argv);

#endif
