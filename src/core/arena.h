/* A bump allocator for per-step activations, with a free list for
 * allocations released early (ug_arena_release). Memory is taken from large
 * blocks; ug_arena_reset() makes it all reusable without freeing, so after the
 * first training step no step calls malloc. The blocks are memory of a
 * backend (backend.h); allocations are 64-byte aligned (cache lines,
 * AVX-512 vectors). */
#ifndef UG_ARENA_H
#define UG_ARENA_H

#include <stddef.h>

#include "backend/backend.h"

typedef struct ug_arena_block ug_arena_block;

typedef struct ug_arena_freed {
    void *p;
    size_t bytes;
} ug_arena_freed;

typedef struct ug_arena {
    ug_arena_freed *freed;   /* released allocations, reused before new space */
    size_t n_freed, cap_freed;
    ug_arena_block *head;   /* block currently being filled */
    ug_arena_block *first;  /* chain of all blocks, kept across resets */
    size_t used_peak;       /* largest total in use seen, in bytes */
    size_t used;            /* total in use now, in bytes */
    const ug_backend *be;   /* whose memory the blocks are */
    struct ug_arena *host;  /* ug_arena_host's, made on first use */
} ug_arena;

void ug_arena_init(ug_arena *a, const ug_backend *be);
void ug_arena_free(ug_arena *a);
/* Returns NULL only when the system is out of memory. */
void *ug_arena_alloc(ug_arena *a, size_t bytes);
float *ug_arena_floats(ug_arena *a, size_t count);
/* Like ug_arena_floats, zero-filled. */
float *ug_arena_zeros(ug_arena *a, size_t count);
/* Host memory for the bookkeeping of whoever fills the arena (the tape's
 * tables), released by the same reset; NULL when out of memory. */
void *ug_arena_host(ug_arena *a, size_t bytes);
/* Hands an allocation of the given size back before the reset: released
 * space next to other released space, or to the end of the block being
 * filled, joins it, and a later allocation takes the smallest released range
 * that fits (best fit over a short list). */
void ug_arena_release(ug_arena *a, void *p, size_t bytes);
void ug_arena_reset(ug_arena *a);

#endif
