#include "core/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_ALIGN 64
#define ARENA_MIN_BLOCK ((size_t)64 << 20)

struct ug_arena_block {
    ug_arena_block *next;
    size_t size, off;
    unsigned char *base;
};

void ug_arena_init(ug_arena *a, const ug_backend *be)
{
    memset(a, 0, sizeof *a);
    a->be = be;
}

void ug_arena_free(ug_arena *a)
{
    if (a->host) {
        ug_arena_free(a->host);
        free(a->host);
    }
    free(a->freed);
    ug_arena_block *b = a->first;
    while (b) {
        ug_arena_block *next = b->next;
        a->be->free(b->base);
        free(b);
        b = next;
    }
    ug_arena_init(a, a->be);
}

static ug_arena_block *block_new(const ug_backend *be, size_t size)
{
    ug_arena_block *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->base = be->alloc(size); /* 64-byte aligned, as ARENA_ALIGN needs */
    if (!b->base) {
        free(b);
        return NULL;
    }
    b->size = size;
    return b;
}

static size_t round_up(size_t bytes)
{
    bytes = (bytes + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    return bytes ? bytes : ARENA_ALIGN;
}

/* Whether q is where a block starts: free ranges never merge across blocks,
 * even where two blocks happen to lie next to each other. */
static int block_start(const ug_arena *a, const unsigned char *q)
{
    for (const ug_arena_block *b = a->first; b; b = b->next)
        if (b->base == q)
            return 1;
    return 0;
}

/* Puts [p, p + bytes) on the free list, merged with the free ranges right
 * before and after it (the list never holds two touching ranges, so one pass
 * finds both); a range that ends where the head block's filling stops goes
 * back to that block instead. */
static void free_range(ug_arena *a, unsigned char *p, size_t bytes)
{
    for (size_t i = 0; i < a->n_freed;) {
        unsigned char *q = a->freed[i].p;
        size_t n = a->freed[i].bytes;
        if ((q + n == p && !block_start(a, p)) || (p + bytes == q && !block_start(a, q))) {
            p = q < p ? q : p;
            bytes += n;
            a->freed[i] = a->freed[--a->n_freed];
        } else {
            i++;
        }
    }
    const ug_arena_block *h = a->head;
    if (h && (uintptr_t)p >= (uintptr_t)h->base && bytes <= h->off &&
        p + bytes == h->base + h->off) {
        a->head->off -= bytes;
        return;
    }
    if (a->n_freed == a->cap_freed) {
        size_t cap = a->cap_freed ? 2 * a->cap_freed : 256;
        ug_arena_freed *f = realloc(a->freed, cap * sizeof *f);
        if (!f)
            return; /* not reused then, still valid until the reset */
        a->freed = f;
        a->cap_freed = cap;
    }
    a->freed[a->n_freed].p = p;
    a->freed[a->n_freed].bytes = bytes;
    a->n_freed++;
}

void ug_arena_release(ug_arena *a, void *p, size_t bytes)
{
    if (!p)
        return;
    bytes = round_up(bytes);
    a->used -= bytes;
    free_range(a, p, bytes);
}

void *ug_arena_alloc(ug_arena *a, size_t bytes)
{
    bytes = round_up(bytes);
    /* The smallest released allocation that fits; what it has beyond the
     * request stays on the list, so every release hands back exactly what
     * its allocation took. */
    size_t best = a->n_freed;
    for (size_t i = 0; i < a->n_freed; i++)
        if (a->freed[i].bytes >= bytes &&
            (best == a->n_freed || a->freed[i].bytes < a->freed[best].bytes))
            best = i;
    if (best < a->n_freed) {
        void *p = a->freed[best].p;
        if (a->freed[best].bytes > bytes) {
            a->freed[best].p = (unsigned char *)p + bytes;
            a->freed[best].bytes -= bytes;
        } else {
            a->freed[best] = a->freed[--a->n_freed];
        }
        a->used += bytes;
        if (a->used > a->used_peak)
            a->used_peak = a->used;
        return p;
    }
    /* Walk forward through blocks kept from earlier steps before making one;
     * the unused end of a block left behind goes on the free list. */
    while (a->head && a->head->off + bytes > a->head->size && a->head->next) {
        ug_arena_block *left = a->head;
        a->head = left->next;
        a->head->off = 0;
        if (left->off < left->size)
            free_range(a, left->base + left->off, left->size - left->off);
        left->off = left->size;
    }
    if (!a->head || a->head->off + bytes > a->head->size) {
        size_t size = bytes > ARENA_MIN_BLOCK ? bytes : ARENA_MIN_BLOCK;
        ug_arena_block *b = block_new(a->be, size);
        if (!b)
            return NULL;
        if (a->head && a->head->off < a->head->size) {
            /* The unused end of the block left behind, as above. */
            free_range(a, a->head->base + a->head->off, a->head->size - a->head->off);
            a->head->off = a->head->size;
        }
        if (a->head) {
            b->next = a->head->next;
            a->head->next = b;
        } else {
            a->first = b;
        }
        a->head = b;
    }
    void *p = a->head->base + a->head->off;
    a->head->off += bytes;
    a->used += bytes;
    if (a->used > a->used_peak)
        a->used_peak = a->used;
    return p;
}

float *ug_arena_floats(ug_arena *a, size_t count)
{
    return ug_arena_alloc(a, count * sizeof(float));
}

float *ug_arena_zeros(ug_arena *a, size_t count)
{
    float *p = ug_arena_floats(a, count);
    if (p)
        a->be->zero(p, count * sizeof(float));
    return p;
}

void *ug_arena_host(ug_arena *a, size_t bytes)
{
    /* On a host backend the arena's own blocks serve: a second arena would
     * hold a 64 MB block for a few small tables. */
    if (a->be->host_memory)
        return ug_arena_alloc(a, bytes);
    if (!a->host) {
        if (!(a->host = malloc(sizeof *a->host)))
            return NULL;
        ug_arena_init(a->host, ug_backend_host());
    }
    return ug_arena_alloc(a->host, bytes);
}

void ug_arena_reset(ug_arena *a)
{
    if (a->host)
        ug_arena_reset(a->host);
    a->head = a->first;
    if (a->head)
        a->head->off = 0;
    a->used = 0;
    a->n_freed = 0;
}
