/* PyTorch's .pt files (torch.save), read without Python and without running
 * anything, in either of its two containers:
 * - zip (the default since PyTorch 1.6): ARCHIVE/data.pkl is a pickle read by
 *   the restricted unpickler (pickle.h); ARCHIVE/data/KEY are raw
 *   little-endian storages; ARCHIVE is whatever top folder the entries share.
 * - legacy (before 1.6, or _use_new_zipfile_serialization=False): pickles
 *   back to back, the magic number 0x1950a86a20f9469cfc6c, the format
 *   version 1001, a dict of system info, the object, and the list of its
 *   storage keys; then for each listed key an int64 element count and the
 *   raw little-endian elements (pt_legacy.c).
 * Either is read into the same in-memory ug_st_file as safetensors (float32
 * tensors by name; float16, bfloat16, float64 and int64 are converted): a
 * dict of state_dicts {group: {name: tensor}} gives GROUP.NAME keys (the
 * counters and optimiser states beside them in DRIT's checkpoints skipped), a
 * single state_dict {name: tensor} (one network, such as the release's
 * generator files) gives SINGLE_GROUP.NAME, with the group the caller's
 * model family names (NULL: such a file is refused). */
#ifndef UG_IO_PT_H
#define UG_IO_PT_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "io/pickle.h"
#include "io/safetensors.h"

typedef struct ug_pt_limits {
    size_t max_pickle_bytes;   /* size of data.pkl, or of each legacy pickle */
    size_t max_objects;        /* pickle objects */
    int max_depth;             /* pickle nesting and open MARKs */
    size_t max_entries;        /* zip entries, or storages of a legacy file */
    uint64_t max_tensor_bytes; /* float32 output plus one storage; 0: 8 x the archive + 1 MiB */
    const char *single_group;  /* the group of a single state_dict (NULL: refused) */
} ug_pt_limits;

void ug_pt_limits_default(ug_pt_limits *lim);

/* Reads a zip .pt file with the default limits. Errors are one line
 * starting with the path. */
int ug_pt_open(ug_st_file **out, const char *path, const char *single_group, ug_error *err);

/* The same from len bytes in memory (the caller keeps buf); name is used in
 * messages. lim may be NULL for the defaults. */
int ug_pt_open_mem(ug_st_file **out, const void *buf, size_t len, const char *name,
                   const ug_pt_limits *lim, ug_error *err);

/* The same for the legacy format. */
int ug_pt_legacy_open(ug_st_file **out, const char *path, const char *single_group,
                      ug_error *err);
int ug_pt_legacy_open_mem(ug_st_file **out, const void *buf, size_t len, const char *name,
                          const ug_pt_limits *lim, ug_error *err);

/* 1 if the first n bytes (4 suffice) start a legacy file: the magic number's
 * pickle. */
int ug_pt_is_legacy(const unsigned char *b, size_t n);

/* Writes tensors named GROUP.NAME as torch.save writes a dict of state_dicts,
 * {GROUP: OrderedDict(NAME: float32 tensor)} (groups and names in the given
 * order), to a zip of stored entries archive/data.pkl, archive/data/N and
 * archive/version; torch.load reads it. The file is replaced atomically. */
int ug_pt_write(const char *path, const ug_st_entry *t, size_t n, ug_error *err);
/* The same for one network's bare state_dict, OrderedDict(NAME: tensor) with
 * the names as given (the official CycleGAN files). */
int ug_pt_write_state_dict(const char *path, const ug_st_entry *t, size_t n, ug_error *err);

/* ---- internal to the reader, exposed for the fuzzers ---- */

typedef struct ug_pt_item {
    char *name;               /* GROUP.NAME */
    const ug_pk_obj *tensor;  /* UG_PK_TENSOR, owned by the pickle */
} ug_pt_item;

/* The tensors of an unpickled root, named as above, in pickle order. *items
 * is freed with ug_pt_items_free (also after a failure). */
int ug_pt_flatten(const ug_pk_obj *root, ug_pt_item **items, size_t *n, const char *name,
                  const char *single_group, ug_error *err);
void ug_pt_items_free(ug_pt_item *items, size_t n);

/* Checks a tensor against its storage (s->i elements): sizes, row-major
 * contiguity, offset, and that the storage and the float32 output so far
 * (*total, increased here) stay within max_bytes. *numel receives its element
 * count; nothing is allocated. */
int ug_pt_check_tensor(const ug_pt_item *it, uint64_t max_bytes, uint64_t *total,
                       uint64_t *numel, const char *name, ug_error *err);

/* Converts count little-endian elements of a storage to float32 (int64 and
 * float64 rounded to nearest, as torch's .float()). */
void ug_pt_decode(float *dst, const unsigned char *raw, size_t count, ug_pk_dtype d);

#endif
