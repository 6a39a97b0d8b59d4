/* Memory backed by a file: for state too large to keep in RAM beside the
 * rest (Adam's moments of the full model). The file is unlinked as soon as it
 * is made and its blocks reserved up front, so a full disk is an error here
 * and not a fault later; the kernel keeps its pages cached while memory
 * allows. Hot loops stream it through a small buffer (ug_spill_read and
 * ug_spill_write): writing through the mapping costs a page fault per page. */
#ifndef UG_SPILL_H
#define UG_SPILL_H

#include "ugatit.h"

#include <stddef.h>

typedef struct ug_spill {
    int fd;
    void *map; /* the whole file, shared: for reading and writing it at rest; NULL: none */
    size_t bytes;
} ug_spill;

/* bytes of zeroed memory in a new file in dir. */
int ug_spill_alloc(ug_spill *s, const char *dir, size_t bytes, ug_error *err);

/* Unmaps and closes s (the file goes with it); a zeroed s is none. */
void ug_spill_free(ug_spill *s);

/* Drops s's pages from this process's memory; their contents stay in the
 * file, and come back when next touched. */
void ug_spill_release(const ug_spill *s);

/* n bytes at offset off of the file to buf, and back. */
int ug_spill_read(const ug_spill *s, size_t off, void *buf, size_t n, ug_error *err);
int ug_spill_write(const ug_spill *s, size_t off, const void *buf, size_t n, ug_error *err);

#endif
