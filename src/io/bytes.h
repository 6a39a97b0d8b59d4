/* Helpers of the file readers for bytes they do not trust: printable copies
 * of names for one-line messages, and the host's byte order. */
#ifndef UG_IO_BYTES_H
#define UG_IO_BYTES_H

#include <stddef.h>

/* A printable copy of the n bytes at s in out (cap bytes, cut with "..."
 * where it does not fit; control bytes become '?'). out may be s. Returns
 * out. */
const char *ug_printable_n(char *out, size_t cap, const char *s, size_t n);

/* The same for a C string. */
const char *ug_printable(char *out, size_t cap, const char *s);

/* 1 when the host stores integers little-endian, as the files do. */
int ug_host_is_little_endian(void);

#endif
