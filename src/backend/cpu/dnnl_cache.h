/* Private to src/backend/cpu: the oneDNN side of its context state. A cached primitive is
 * keyed by a few integers (its kind and shape); it owns, per argument, a
 * memory object in the caller's plain layout, one in the layout the primitive
 * chose, and the reorders between them, so a call only sets data handles. */
#ifndef UG_DNNL_CACHE_H
#define UG_DNNL_CACHE_H

#include <stddef.h>

#include <dnnl.h>

#include "backend/backend.h"

#define UG_DNNL_KEY_LEN 16
/* Most primitives a context keeps: a training step of the full model uses
 * about 60 shapes, and each new batch size of ug_model_translate about 8 more;
 * past this, the least recently used one is freed. */
#define UG_DNNL_CACHE_CAPACITY 128
#define UG_DNNL_MAX_ARGS 4

/* One argument of a primitive as the caller sees it. */
typedef struct ug_dnnl_arg_spec {
    int arg;                    /* DNNL_ARG_SRC, DNNL_ARG_DIFF_WEIGHTS, ... */
    int output;                 /* written by the primitive */
    dnnl_memory_desc_t user_md; /* the caller's plain layout */
} ug_dnnl_arg_spec;

typedef struct ug_dnnl_prim ug_dnnl_prim;

/* The CPU engine of a context of the CPU backend (another has none). */
dnnl_engine_t ug_kctx_engine(ug_kctx *k);

/* New primitive attributes with the user-managed scratchpad, which every
 * primitive given to ug_dnnl_add must be made with (the context supplies the
 * scratchpad; see dnnl.c). The caller destroys them. */
int ug_dnnl_attr_create(dnnl_primitive_attr_t *attr, ug_error *err);

/* The cached primitive for key made for the calling thread's OpenMP thread
 * count (omp_get_max_threads), or NULL. Unused key entries must be 0.
 * The pointer returned here or by ug_dnnl_add stays valid until the next
 * ug_dnnl_add on the same context (which may free it). */
ug_dnnl_prim *ug_dnnl_find(ug_kctx *k, const int key[UG_DNNL_KEY_LEN]);

/* Creates the primitive of pd (which stays the caller's), its memories and
 * reorders, and caches it under key. NULL with err set on failure. */
ug_dnnl_prim *ug_dnnl_add(ug_kctx *k, const int key[UG_DNNL_KEY_LEN],
                          const_dnnl_primitive_desc_t pd, const ug_dnnl_arg_spec *args,
                          int nargs, ug_error *err);

/* Runs p on the caller's buffers, ptrs[i] for args[i] as given to
 * ug_dnnl_add. An output with acc[i] != 0 is added to the buffer's contents
 * instead of overwriting them. Waits for completion. */
int ug_dnnl_exec(ug_kctx *k, ug_dnnl_prim *p, const void *const ptrs[], const int acc[],
                 ug_error *err);

/* Number of cached primitives, at most UG_DNNL_CACHE_CAPACITY (for tests). */
size_t ug_dnnl_cache_count(const ug_kctx *k);

#endif
