/* A restricted unpickler for what torch.save writes: nested dicts of tensors
 * (pickle protocol 2, the default; 3 to 5 too), and the small pickles around
 * them in the legacy format (an int, a dict, a list of strings). It never
 * imports or calls anything:
 * the few globals it knows (collections.OrderedDict,
 * torch._utils._rebuild_tensor_v2 and the float and int64 storage classes)
 * are recognised by name and turned into plain values; any other global,
 * opcode or call is refused with an error naming it. Objects live in a pool
 * owned by the result and are freed with it. */
#ifndef UG_IO_PICKLE_H
#define UG_IO_PICKLE_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define UG_PK_MAX_DIMS 8

typedef enum {
    UG_PK_NONE,
    UG_PK_BOOL,    /* i: 0 or 1 */
    UG_PK_INT,     /* i */
    UG_PK_STR,     /* s (NUL-terminated, no inner NUL) */
    UG_PK_TUPLE,   /* items[0..n) */
    UG_PK_LIST,    /* items[0..n) */
    UG_PK_DICT,    /* keys items[2k] (strings, or ints: an optimiser's state by parameter
                      index), values items[2k+1], k < n */
    UG_PK_GLOBAL,  /* which: one of the allowed globals */
    UG_PK_STORAGE, /* dtype, s = key, i = numel: a persistent id */
    UG_PK_TENSOR,  /* storage, offset, ndim, size, stride */
    UG_PK_FLOAT    /* f (an optimiser's hyperparameters) */
} ug_pk_type;

typedef enum {
    UG_PK_G_ORDERED_DICT,
    UG_PK_G_REBUILD_TENSOR_V2,
    UG_PK_G_FLOAT_STORAGE,
    UG_PK_G_HALF_STORAGE,
    UG_PK_G_BFLOAT16_STORAGE,
    UG_PK_G_DOUBLE_STORAGE,
    UG_PK_G_LONG_STORAGE /* BatchNorm's num_batches_tracked */
} ug_pk_global;

/* In the order of the storage globals above. */
typedef enum { UG_PK_F32, UG_PK_F16, UG_PK_BF16, UG_PK_F64, UG_PK_I64 } ug_pk_dtype;

typedef struct ug_pk_obj ug_pk_obj;
struct ug_pk_obj {
    ug_pk_type type;
    int depth;            /* nesting at construction: 1 for a leaf */
    int64_t i;
    double f;
    char *s;
    ug_pk_obj **items;
    size_t n, cap;
    ug_pk_global which;
    ug_pk_dtype dtype;
    const ug_pk_obj *storage;
    int64_t offset;
    int ndim;
    int64_t size[UG_PK_MAX_DIMS], stride[UG_PK_MAX_DIMS];
};

typedef struct ug_pk_limits {
    size_t max_objects; /* objects created (strings, tuples, dicts, ...) */
    int max_depth;      /* container nesting and open MARKs */
} ug_pk_limits;

typedef struct ug_pickle ug_pickle;

/* Unpickles len bytes; *out owns every object and the root. Errors are one
 * line starting with "name: ". */
int ug_pk_load(ug_pickle **out, const unsigned char *buf, size_t len, const ug_pk_limits *lim,
               const char *name, ug_error *err);

/* The same for a pickle at the start of buf that more bytes may follow (the
 * legacy torch.save format writes several back to back); *used is its
 * length. Returns -2, with the error set, when buf ends before the pickle
 * does, so that a caller reading a file in pieces knows to read more. */
int ug_pk_load_prefix(ug_pickle **out, const unsigned char *buf, size_t len,
                      const ug_pk_limits *lim, const char *name, size_t *used, ug_error *err);
const ug_pk_obj *ug_pk_root(const ug_pickle *p);
void ug_pk_free(ug_pickle *p);

/* "dict", "tensor", ... for messages. */
const char *ug_pk_type_name(ug_pk_type t);

/* Bytes per element of a storage dtype. */
size_t ug_pk_dtype_size(ug_pk_dtype d);

#endif
