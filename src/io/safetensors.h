/* The Hugging Face safetensors format: an 8-byte little-endian header length
 * N, N bytes of JSON ({name: {"dtype", "shape", "data_offsets"}} plus an
 * optional "__metadata__" string map), then the raw tensor data. Reading
 * accepts F32, F16, BF16 and F64 and gives float32; writing produces F32. */
#ifndef UG_IO_SAFETENSORS_H
#define UG_IO_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define UG_ST_MAX_DIMS 8

typedef struct ug_st_tensor {
    const char *name;
    int ndim;
    int64_t shape[UG_ST_MAX_DIMS];
    size_t numel;
    const float *data; /* numel floats, owned by the file; NULL in a deferred
                          file (ug_st_open_deferred), whose data ug_st_read reads */
} ug_st_tensor;

typedef struct ug_st_file ug_st_file;

/* Reads and validates the whole file (a regular file; each data byte in
 * exactly one tensor, as the format requires); on success *out must be
 * closed with ug_st_close. Every error is one line starting with the path. */
int ug_st_open(ug_st_file **out, const char *path, ug_error *err);

/* The same from a buffer of len bytes (the caller keeps it); name is used in
 * messages in place of a path. */
int ug_st_open_mem(ug_st_file **out, const void *buf, size_t len, const char *name,
                   ug_error *err);

/* Like ug_st_open, but reads the data of only the tensors named in names[0..n)
 * (names the file lacks are no error): the whole header is still validated,
 * and the file then lists only those tensors. For a few small tensors of a
 * large checkpoint. */
int ug_st_open_some(ug_st_file **out, const char *path, const char *const *names, size_t n,
                    ug_error *err);

/* Like ug_st_open, but the data stays in the file, which stays open until
 * ug_st_close: every tensor is listed with data NULL, for ug_st_read. For
 * checkpoints as large as the memory they are loaded into. */
int ug_st_open_deferred(ug_st_file **out, const char *path, ug_error *err);

/* Elements [first, first + count) of t, a tensor of f, as float32 into dst,
 * from memory or, in a deferred file, from the file. */
int ug_st_read(const ug_st_file *f, const ug_st_tensor *t, size_t first, size_t count,
               float *dst, ug_error *err);

/* Building a file in memory (how other formats, e.g. .pt, are read into the
 * same structure): ug_st_new, then ug_st_add per tensor, then ug_st_finish,
 * which indexes the names and refuses duplicates; only then may ug_st_find
 * be used. ug_st_add takes ownership of data (malloc'd, numel floats; may be
 * NULL when numel is 0), also when it fails. path names the source in
 * messages. */
int ug_st_new(ug_st_file **out, ug_error *err);
int ug_st_add(ug_st_file *f, const char *name, int ndim, const int64_t *shape, float *data,
              const char *path, ug_error *err);
int ug_st_finish(ug_st_file *f, const char *path, ug_error *err);

/* Tensors in the order of the header (or of ug_st_add). */
size_t ug_st_count(const ug_st_file *f);
const ug_st_tensor *ug_st_at(const ug_st_file *f, size_t i);

/* NULL if there is no tensor of that name. */
const ug_st_tensor *ug_st_find(const ug_st_file *f, const char *name);

/* How many "__metadata__" pairs the file has. */
size_t ug_st_meta_count(const ug_st_file *f);

/* A "__metadata__" value; NULL if absent. */
const char *ug_st_meta(const ug_st_file *f, const char *key);

void ug_st_close(ug_st_file *f);

/* Little-endian element types that are read as float32. */
typedef enum { UG_ST_F32, UG_ST_F16, UG_ST_BF16, UG_ST_F64 } ug_st_dtype;

/* Converts count little-endian elements of type d at raw to float32 (exact
 * for F16/BF16, rounded to nearest for F64). */
void ug_st_decode(float *dst, const unsigned char *raw, size_t count, ug_st_dtype d);

typedef struct ug_st_entry {
    const char *name;
    int ndim;          /* 0..4 */
    int64_t shape[4];
    const float *data; /* product(shape) floats, or NULL with in_file */
    /* ug_st_write only: the floats (host order) are at byte pos of the open
     * file fd, read a little at a time, not mapped (e.g. Adam's moments
     * kept in files). */
    int in_file;
    int fd;
    uint64_t pos;
} ug_st_entry;

/* Writes n tensors as F32, in the given order, contiguous, with metadata
 * pairs meta[2i] = key, meta[2i+1] = value (n_meta pairs). The file is
 * replaced atomically (temp file + fsync + rename). */
int ug_st_write(const char *path, const ug_st_entry *t, size_t n, const char *const *meta,
                size_t n_meta, ug_error *err);

#endif
