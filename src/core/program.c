#include "core/program.h"

#include <malloc.h>
#include <stdlib.h>
#include <unistd.h>

void ug_program_init(char **argv)
{
    if (!getenv("OMP_WAIT_POLICY") && !getenv("GOMP_SPINCOUNT") &&
        setenv("GOMP_SPINCOUNT", "10000", 1) == 0)
        execv("/proc/self/exe", argv); /* returns only without /proc: libgomp's default */
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
}
