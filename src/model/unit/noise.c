/* The latent noise of UNIT's training decodes (VAEGen.encode's
 * torch.randn), drawn on the host from our generator seeded with the
 * trainer's seed. Its state is training state, saved in checkpoints, so a
 * resumed run draws what the uninterrupted one would have. MUNIT's style
 * codes are drawn by the same generator (un_noise_new_n). Every rank draws
 * the whole global batch's noise and keeps its share, so the generator
 * stays the same on all of them. */
#include <stdio.h>
#include <stdlib.h>

#include "core/rng.h"
#include "model/checkpoint.h"
#include "model/unit/unit.h"

#define RNG_STREAM 0x756e6974u /* "unit": apart from the initialisation's stream */

typedef struct un_noise {
    ug_rng rng;
    size_t cap;
    float *draws[UN_NOISE_SLOTS];
} un_noise;

int un_noise_new_n(void **state, size_t cap, uint64_t seed, ug_error *err)
{
    un_noise *p = calloc(1, sizeof *p);
    if (!p)
        return ug_fail(err, "out of memory for the random draws");
    p->cap = cap;
    for (int i = 0; i < UN_NOISE_SLOTS; i++)
        if (!(p->draws[i] = malloc(p->cap * sizeof(float)))) {
            un_noise_free(p);
            return ug_fail(err, "out of memory for the random draws");
        }
    ug_rng_seed(&p->rng, seed, RNG_STREAM);
    *state = p;
    return 0;
}

int un_noise_new(void **state, const ug_model *m, const ug_train_config *tc, ug_error *err)
{
    const ug_config *c = ug_model_config(m);
    const size_t S = (size_t)c->img_size >> UN_N_DOWNSAMPLE;
    return un_noise_new_n(state, (size_t)tc->batch_size * ((size_t)c->ch << UN_N_DOWNSAMPLE) * S * S,
                          tc->seed, err);
}

void un_noise_free(void *state)
{
    un_noise *p = state;
    if (!p)
        return;
    for (int i = 0; i < UN_NOISE_SLOTS; i++)
        free(p->draws[i]);
    free(p);
}

const float *un_noise_draw(void *state, int slot, size_t n, const ug_comm *c)
{
    un_noise *p = state;
    const size_t all = n * (size_t)c->size;
    if (all > p->cap)
        return NULL;
    for (size_t i = 0; i < all; i++)
        p->draws[slot][i] = (float)ug_rng_normal(&p->rng);
    return p->draws[slot] + (size_t)c->rank * n;
}

/* The generator's state as metadata "noise_rng": two hexadecimal integers. */
void un_noise_save(const void *state, ug_ckpt_writer *w)
{
    const un_noise *p = state;
    ug_cw_meta_rng(w, "noise_rng", &p->rng);
}

int un_noise_load(void *state, const ug_st_file *f, const char *path, ug_error *err)
{
    un_noise *p = state;
    return ug_ckpt_meta_rng(f, path, "noise_rng", "the latent noise's random state", &p->rng,
                            err);
}
