/* Opening the files we read: only regular files, checked before the first
 * byte is read, so that a FIFO given as an input is refused instead of
 * blocking forever, and a device or a folder is named for what it is. */
#ifndef UG_IO_FILE_H
#define UG_IO_FILE_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "core/error.h"

/* "is a FIFO", "is a directory", "is a device", "is a socket" or "is
 * special", for messages "PATH: is a FIFO, not a regular file". */
const char *ug_file_kind(mode_t mode);

/* Opens path read-only without blocking (O_NONBLOCK, then cleared), refuses
 * anything but a regular file, and returns the descriptor (-1 on failure,
 * with "PATH: cannot open: REASON" or "PATH: is a FIFO, not a regular file").
 * size, if not NULL, receives the file's size. */
int ug_open_read(const char *path, uint64_t *size, ug_error *err);

/* The same as a binary stdio stream; NULL on failure. */
FILE *ug_fopen_read(const char *path, uint64_t *size, ug_error *err);

#endif
