/* The one-process communicator, and what the implementations share. */
#include "dist/comm.h"

#include <stdlib.h>
#include <string.h>

static int single_allreduce(ug_comm *c, float *buf, size_t n, ug_error *err)
{
    (void)c, (void)buf, (void)n, (void)err;
    return 0;
}

static int single_iallreduce(ug_comm *c, int slot, float *buf, size_t n, ug_error *err)
{
    (void)c, (void)slot, (void)buf, (void)n, (void)err;
    return 0;
}

static int single_wait(ug_comm *c, int slot, ug_error *err)
{
    (void)c, (void)slot, (void)err;
    return 0;
}

static void single_progress(ug_comm *c) { (void)c; }

static int single_any(ug_comm *c, unsigned flags, unsigned *out, ug_error *err)
{
    (void)c, (void)err;
    *out = flags;
    return 0;
}

/* The one rank's part is the whole buffer: nothing to copy. */
static int single_allgather(ug_comm *c, void *buf, size_t bytes, ug_error *err)
{
    (void)c, (void)buf, (void)bytes, (void)err;
    return 0;
}

static int single_bcast(ug_comm *c, void *buf, size_t bytes, int root, ug_error *err)
{
    (void)c, (void)buf, (void)bytes, (void)root, (void)err;
    return 0;
}

static int single_same(ug_comm *c, uint64_t hash, int *same, ug_error *err)
{
    (void)c, (void)hash, (void)err;
    *same = 1;
    return 0;
}

/* One process has no others to end: the program ends itself. */
static void single_abort(ug_comm *c, int code) { (void)c, (void)code; }

static void single_close(ug_comm *c) { (void)c; }

static ug_comm single = {
    "single", 0, 1, 1, 0, 0, NULL, single_allreduce, single_iallreduce, single_wait,
    single_progress, single_any, single_allgather, single_bcast, single_same, single_abort,
    single_close,
};

ug_comm *ug_comm_single(void) { return &single; }

int ug_comm_launched(void)
{
    const char *keys[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"};
    for (int i = 0; i < 2; i++) {
        const char *v = getenv(keys[i]);
        if (v && atoi(v) > 1)
            return 1;
    }
    return 0;
}

/* splitmix64's finaliser over 8-byte words: fast, and any changed bit moves
 * the result. */
static uint64_t mix(uint64_t x)
{
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

uint64_t ug_hash_bytes(uint64_t h, const void *p, size_t bytes)
{
    const unsigned char *b = p;
    size_t i = 0;
    for (; i + 8 <= bytes; i += 8) {
        uint64_t w;
        memcpy(&w, b + i, 8);
        h = mix(h ^ w) + 0x9e3779b97f4a7c15ULL;
    }
    uint64_t w = bytes;
    memcpy(&w, b + i, bytes - i);
    return mix(h ^ w ^ ((uint64_t)(bytes - i) << 56));
}
