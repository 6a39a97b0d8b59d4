/* Whole-file reading and writing for tests. */
#ifndef UG_TEST_FILES_H
#define UG_TEST_FILES_H

#include <stdio.h>
#include <stdlib.h>

/* The bytes of path (malloc'd; *n is their count), or NULL with *n = 0. */
static inline unsigned char *read_bytes(const char *path, size_t *n)
{
    *n = 0;
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    fseek(fp, 0, SEEK_END);
    long len = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    unsigned char *buf = malloc(len > 0 ? (size_t)len : 1);
    *n = fread(buf, 1, (size_t)len, fp);
    fclose(fp);
    return buf;
}

/* Writes n bytes to path; a test that cannot write its own files stops. */
static inline void write_bytes(const char *path, const void *data, size_t n)
{
    FILE *fp = fopen(path, "wb");
    if (!fp) {
        perror(path);
        exit(2);
    }
    fwrite(data, 1, n, fp);
    fclose(fp);
}

#endif
