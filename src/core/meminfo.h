/* How much memory this process may still take, read before allocating large
 * state so that it can go where it fits (Adam's moments: in memory, or in
 * files when they would not fit; ug_train_config.moments_in_memory_max). */
#ifndef UG_MEMINFO_H
#define UG_MEMINFO_H

#include <stdint.h>

/* The kernel's estimate of the memory the machine has available
 * (MemAvailable), or less where a memory cgroup, v1 or v2, of this process or
 * one above it has less left: its limit less its working set (what it holds
 * less the file pages it could drop, as container tools count it), into
 * *bytes; 0 when nothing tells it, 1 when it was read. */
int ug_mem_available(uint64_t *bytes);

/* The same read from the files under proc (for ug_mem_available "/proc") and
 * sys_cgroup ("/sys/fs/cgroup"). */
int ug_mem_available_at(const char *proc, const char *sys_cgroup, uint64_t *bytes);

#endif
