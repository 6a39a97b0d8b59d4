/* The image pools (the official util/image_pool.py, pool_size 50): one per
 * fake domain, fed with the generators' fakes and answering the
 * discriminators with a mix of those and older ones. The draws are ours
 * (PCG32 from the trainer's seed) instead of Python's random; images, counts
 * and the generator's state are training state, saved in checkpoints, so a
 * resumed run goes on exactly. With several ranks every rank queries with
 * the whole global batch (the ranks' fakes gathered), so the pools and the
 * generator stay the same on all of them and each keeps its share of the
 * answer, as one process on the global batch would. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "model/checkpoint.h"
#include "model/cyclegan/cyclegan.h"

#define RNG_STREAM 0x706f6f6cu /* "pool": apart from the initialisation's stream */

typedef struct cg_pools {
    ug_rng rng;
    int S, batch;        /* batch: the global one */
    size_t plane;        /* floats per image */
    int count[2];        /* images kept: fake A (G_B's), fake B (G_A's) */
    float *images[2];    /* CG_HISTORY images each */
    float *answer[2];    /* the last query's answer, batch images each */
    float *fakes;        /* the ranks' fakes of a query, batch images */
} cg_pools;

static const char *const tensor_names[2] = {"pool.fake_A", "pool.fake_B"};

int cg_pools_new(void **state, const ug_model *m, const ug_train_config *tc, ug_error *err)
{
    cg_pools *p = calloc(1, sizeof *p);
    if (!p)
        return ug_fail(err, "out of memory for the image pools");
    p->S = ug_model_config(m)->img_size;
    p->plane = (size_t)3 * p->S * p->S;
    p->batch = tc->batch_size;
    const size_t batch_bytes = (size_t)p->batch * p->plane * sizeof(float);
    p->fakes = malloc(batch_bytes);
    int ok = p->fakes != NULL;
    for (int d = 0; d < 2; d++) {
        p->images[d] = malloc(CG_HISTORY * p->plane * sizeof(float));
        p->answer[d] = malloc(batch_bytes);
        ok = ok && p->images[d] && p->answer[d];
    }
    if (!ok) {
        int S = p->S;
        cg_pools_free(p);
        return ug_fail(err, "out of memory for the image pools (%d images of %d x %d)",
                       2 * CG_HISTORY, S, S);
    }
    ug_rng_seed(&p->rng, tc->seed, RNG_STREAM);
    *state = p;
    return 0;
}

void cg_pools_free(void *state)
{
    cg_pools *p = state;
    if (!p)
        return;
    for (int d = 0; d < 2; d++) {
        free(p->images[d]);
        free(p->answer[d]);
    }
    free(p->fakes);
    free(p);
}

const float *cg_pool_query(void *state, int d, ug_comm *c, const ug_backend *be,
                          const float *fakes, ug_error *err)
{
    cg_pools *p = state;
    const size_t bytes = p->plane * sizeof(float), share = (size_t)(p->batch / c->size);
    be->to_host(p->fakes + c->rank * share * p->plane, fakes, share * bytes);
    if (c->allgather(c, p->fakes, share * bytes, err) < 0)
        return NULL;
    for (int i = 0; i < p->batch; i++) {
        const float *x = p->fakes + (size_t)i * p->plane;
        float *y = p->answer[d] + (size_t)i * p->plane;
        if (p->count[d] < CG_HISTORY) {
            float *kept = p->images[d] + (size_t)p->count[d]++ * p->plane;
            memcpy(kept, x, bytes);
            memcpy(y, x, bytes);
        } else if (ug_rng_uniform(&p->rng) > 0.5) {
            float *kept = p->images[d] + ug_rng_below(&p->rng, CG_HISTORY) * p->plane;
            memcpy(y, kept, bytes);
            memcpy(kept, x, bytes);
        } else {
            memcpy(y, x, bytes);
        }
    }
    return p->answer[d] + c->rank * share * p->plane;
}

/* The generator's state as metadata "pool_rng": two hexadecimal integers. */
void cg_pools_save(const void *state, ug_ckpt_writer *w)
{
    const cg_pools *p = state;
    ug_cw_meta_rng(w, "pool_rng", &p->rng);
    for (int d = 0; d < 2; d++)
        if (p->count[d] > 0)
            ug_cw_tensor(w, tensor_names[d], 4, (int64_t[]){p->count[d], 3, p->S, p->S},
                         p->images[d]);
}

int cg_pools_load(void *state, const ug_st_file *f, const char *path, ug_error *err)
{
    cg_pools *p = state;
    if (ug_ckpt_meta_rng(f, path, "pool_rng", "the image pools' random state", &p->rng, err) <
        0)
        return -1;
    for (int d = 0; d < 2; d++) {
        const ug_st_tensor *t = ug_st_find(f, tensor_names[d]);
        p->count[d] = 0;
        if (!t)
            continue;
        if (t->ndim != 4 || t->shape[0] < 1 || t->shape[0] > CG_HISTORY || t->shape[1] != 3 ||
            t->shape[2] != p->S || t->shape[3] != p->S)
            return ug_fail(err, "%s: tensor '%s' is not 1 to %d images of 3 x %d x %d", path,
                           tensor_names[d], CG_HISTORY, p->S, p->S);
        if (ug_st_read(f, t, 0, t->numel, p->images[d], err) < 0)
            return -1;
        p->count[d] = (int)t->shape[0];
    }
    return 0;
}
