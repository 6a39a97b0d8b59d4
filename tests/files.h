/* Whole-file reading and writing for tests. */
#ifndef UG_TEST_FILES_H
#define UG_TEST_FILES_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The bytes of path (malloc'd; *n is their count), followed by a NUL so
 * that a text file can be searched as a string; NULL with *n = 0 when the
 * file cannot be opened. */
static inline unsigned char *read_bytes(const char *path, size_t *n)
{
    *n = 0;
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    fseek(fp, 0, SEEK_END);
    long len = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    unsigned char *buf = malloc(len > 0 ? (size_t)len + 1 : 1);
    if (buf) {
        *n = fread(buf, 1, len > 0 ? (size_t)len : 0, fp);
        buf[*n] = '\0';
    }
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

/* Writes a string (without its NUL) to path. */
static inline void write_text(const char *path, const char *text)
{
    write_bytes(path, text, strlen(text));
}

#endif
