/* The deterministic Inception-v3 test weights of tools/make_inception_fixtures.py
 * (its docstring defines them): each tensor a function of its name, so the
 * golden test needs no 100 MB file in the repository. */
#ifndef UG_TEST_INCEPTION_WEIGHTS_H
#define UG_TEST_INCEPTION_WEIGHTS_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "backend/backend.h"
#include "nn/net.h"

static inline uint64_t tw_fnv1a64(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return h;
}

static inline double tw_uniform(uint64_t seed, uint64_t i)
{
    uint64_t z = seed + (i + 1) * 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return (double)(z >> 11) * 0x1p-53;
}

static inline int tw_ends(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* Fills every parameter of an Inception net (num_batches_tracked left),
 * through a host mapping of its backend's memory; -1 when out of memory. */
static inline int fill_test_weights(ug_net *net)
{
    const size_t bytes = net->total * sizeof(float);
    float *host = net->be->map(net->data, bytes);
    if (!host)
        return -1;
    for (int p = 0; p < net->n_params; p++) {
        const ug_param *q = &net->params[p];
        double lo, hi;
        if (tw_ends(q->name, "conv.weight")) {
            hi = sqrt(6.0 / (double)(q->shape[1] * q->shape[2] * q->shape[3]));
            lo = -hi;
        } else if (tw_ends(q->name, "bn.weight") || tw_ends(q->name, "bn.running_var")) {
            lo = 0.8, hi = 1.2;
        } else if (tw_ends(q->name, "bn.bias") || tw_ends(q->name, "bn.running_mean")) {
            lo = -0.1, hi = 0.1;
        } else {
            continue;
        }
        float *d = host + q->off;
        uint64_t seed = tw_fnv1a64(q->name);
        for (size_t i = 0; i < q->numel; i++)
            d[i] = (float)(lo + (hi - lo) * tw_uniform(seed, i));
    }
    net->be->unmap(net->data, host, bytes, 1);
    return 0;
}

#endif
