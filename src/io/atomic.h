/* Atomic file replacement: write to "PATH.tmp.<pid>" in the same directory,
 * flush and fsync it, then rename() it over PATH, so that a reader never sees a
 * half-written file and a crash leaves the old file intact. */
#ifndef UG_IO_ATOMIC_H
#define UG_IO_ATOMIC_H

#include <stdio.h>

#include "core/error.h"

typedef struct ug_atomic {
    FILE *fp;        /* write the contents here */
    char *path;      /* the final name */
    char *tmp_path;  /* the temporary name */
} ug_atomic;

/* Creates the temporary file. On failure nothing is left behind. */
int ug_atomic_open(ug_atomic *a, const char *path, ug_error *err);

/* Flushes, fsyncs, closes and renames over the final path. On failure the
 * temporary file is removed. Either way the ug_atomic is released. */
int ug_atomic_commit(ug_atomic *a, ug_error *err);

/* Closes and removes the temporary file; releases the ug_atomic. */
void ug_atomic_abort(ug_atomic *a);

#endif
