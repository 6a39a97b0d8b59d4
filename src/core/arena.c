#include "core/arena.h"

#include <stdlib.h>
#include <string.h>

#define ARENA_ALIGN 64
#define ARENA_MIN_BLOCK ((size_t)64 << 20)

struct ug_arena_block {
    ug_arena_block *next;
    size_t size, off;
    unsigned char *base;
};

void ug_arena_init(ug_arena *a) { memset(a, 0, sizeof *a); }

void ug_arena_free(ug_arena *a)
{
    ug_arena_block *b = a->first;
    while (b) {
        ug_arena_block *next = b->next;
        free(b->base);
        free(b);
        b = next;
    }
    memset(a, 0, sizeof *a);
}

static ug_arena_block *block_new(size_t size)
{
    ug_arena_block *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->base = aligned_alloc(ARENA_ALIGN, size);
    if (!b->base) {
        free(b);
        return NULL;
    }
    b->size = size;
    return b;
}

void *ug_arena_alloc(ug_arena *a, size_t bytes)
{
    bytes = (bytes + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    if (bytes == 0)
        bytes = ARENA_ALIGN;
    /* Walk forward through blocks kept from earlier steps before making one. */
    while (a->head && a->head->off + bytes > a->head->size && a->head->next) {
        a->head = a->head->next;
        a->head->off = 0;
    }
    if (!a->head || a->head->off + bytes > a->head->size) {
        size_t size = bytes > ARENA_MIN_BLOCK ? bytes : ARENA_MIN_BLOCK;
        ug_arena_block *b = block_new(size);
        if (!b)
            return NULL;
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
        memset(p, 0, count * sizeof(float));
    return p;
}

void ug_arena_reset(ug_arena *a)
{
    a->head = a->first;
    if (a->head)
        a->head->off = 0;
    a->used = 0;
}
