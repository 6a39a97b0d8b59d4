/* SHA-256 (FIPS 180-4), to name a weights file by its hash as torch.hub
 * does (the first 8 hex digits in the file name). */
#ifndef UG_SHA256_H
#define UG_SHA256_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

typedef struct ug_sha256 {
    uint32_t h[8];
    uint64_t bytes;         /* message length so far */
    unsigned char buf[64];  /* the block being filled */
    size_t used;
} ug_sha256;

void ug_sha256_init(ug_sha256 *s);
void ug_sha256_update(ug_sha256 *s, const void *data, size_t n);
void ug_sha256_final(ug_sha256 *s, unsigned char digest[32]);

/* The digest of a whole file as 64 lowercase hex digits and a NUL. */
int ug_sha256_file(const char *path, char hex[65], ug_error *err);

#endif
