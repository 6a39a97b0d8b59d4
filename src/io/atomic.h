/* Atomic file replacement: write to "PATH.tmp.<pid>" in the same directory,
 * fsync it, then rename() it over PATH, so that a reader never sees a
 * half-written file and a crash leaves the old file intact. A symbolic link
 * at PATH is written through: its final target is the file replaced. An
 * existing PATH that is not a regular file (a device, a FIFO, a folder) is
 * refused before anything is created. */
#ifndef UG_IO_ATOMIC_H
#define UG_IO_ATOMIC_H

#include <stddef.h>

#include "core/error.h"

typedef struct ug_atomic {
    int fd;          /* the temporary file */
    int error;       /* errno of the first failed write, 0 if none */
    char *name;      /* PATH as given, for messages */
    char *path;      /* the file replaced: PATH or its link's target */
    char *tmp_path;  /* the temporary name, beside path */
} ug_atomic;

/* Creates the temporary file. On failure nothing is left behind. */
int ug_atomic_open(ug_atomic *a, const char *path, ug_error *err);

/* Appends n bytes. The first failure is kept (with its errno) and reported
 * by ug_atomic_commit; after it, nothing more is written. */
void ug_atomic_write(ug_atomic *a, const void *data, size_t n);

/* Fsyncs, closes and renames over the final path. On failure (of this or of
 * an earlier write: "PATH: write failed: No space left on device") the
 * temporary file is removed. Either way the ug_atomic is released. */
int ug_atomic_commit(ug_atomic *a, ug_error *err);

/* Closes and removes the temporary file; releases the ug_atomic. */
void ug_atomic_abort(ug_atomic *a);

#endif
