/* DRIT's evaluation-mode translations (test.py, test_transfer.py): the
 * source domain's content code without noise, decoded by the target
 * domain's decoder with an attribute code: drawn from N(0, I), or the mean
 * of the attribute encoder's distribution of an example image. enc_c, enc_a
 * and gen take both domains' inputs in one call (the official modules'
 * forward(a, b)); a translation runs only the branch it needs (the other's
 * inputs are the same pointers, never read). */
#include <stdlib.h>
#include <string.h>

#include "model/drit/drit.h"

#define STYLE_STREAM 0x7374796cu /* "styl": the translations' codes */

/* The bit of output NAME among net's outputs (ug_tape_forward_outputs). */
static unsigned out_bit(const ug_net *net, const char *name)
{
    for (int o = 0; o < net->n_out; o++)
        if (strcmp(net->out[o].name, name) == 0)
            return 1u << o;
    return 0;
}

/* Evaluation-mode forward of net computing output NAME only. */
static int run_for(ug_model *m, ug_tape *t, int net, const float *const *in, int N,
                   const char *name, ug_error *err)
{
    return ug_tape_forward_outputs(t, m->k, &m->arena, &m->net[net], in, N, UG_EVAL,
                                   out_bit(&m->net[net], name), err);
}

static int need(ug_model *m, int net, ug_error *err)
{
    return ug_model_has(m, net) ? 0
                                : ug_fail(err, "the checkpoint holds no %s network",
                                          m->fam->net_names[net]);
}

/* n floats of backend memory with host's values (host itself on a host-memory backend). */
static const float *upload(ug_model *m, const float *host, size_t n, ug_error *err)
{
    const ug_backend *be = m->k->be;
    if (be->host_memory)
        return host;
    float *p = ug_arena_alloc(&m->arena, n * sizeof *p);
    if (!p) {
        ug_fail(err, "out of memory for the inputs");
        return NULL;
    }
    be->from_host(p, host, n * sizeof *p);
    return p;
}

int dr_translate_codes(ug_model *m, ug_direction dir, const float *images, int N,
                       const float *z, float *out, ug_error *err)
{
    if (need(m, DR_ENC_C, err) < 0 || need(m, DR_GEN, err) < 0)
        return -1;
    const ug_config *c = &m->cfg;
    const size_t side = (size_t)dr_content_side(c);
    const size_t img = 3 * (size_t)c->img_size * c->img_size;
    const size_t cont = (size_t)dr_content_ch(c) * side * side;
    ug_arena_reset(&m->arena);
    const float *x = upload(m, images, (size_t)N * img, err);
    const float *zd = x ? upload(m, z, (size_t)N * DR_NZ, err) : NULL;
    float *zero = zd ? ug_arena_alloc(&m->arena, (size_t)N * cont * sizeof *zero) : NULL;
    if (!zero)
        return zd ? ug_fail(err, "out of memory for the content codes") : -1;
    m->k->be->zero(zero, (size_t)N * cont * sizeof *zero);
    ug_tape te, tg;
    const char *content_name = dir == UG_A2B ? DR_OUT_CONTENT_A : DR_OUT_CONTENT_B;
    const char *image_name = dir == UG_A2B ? DR_OUT_IMAGE_B : DR_OUT_IMAGE_A;
    const float *ec_in[4] = {x, x, zero, zero};
    if (run_for(m, &te, DR_ENC_C, ec_in, N, content_name, err) < 0)
        return -1;
    const float *content = ug_tape_output(&te, content_name);
    const float *g_in[4] = {content, zd, content, zd};
    if (run_for(m, &tg, DR_GEN, g_in, N, image_name, err) < 0)
        return -1;
    m->k->be->to_host(out, ug_tape_output(&tg, image_name), (size_t)N * img * sizeof *out);
    return 0;
}

/* Each of N images repeated K times, and N x K codes, then one translation. */
int dr_translate_styles(ug_model *m, ug_direction dir, const float *images, int N, int K,
                        uint64_t seed, float *out, ug_error *err)
{
    if (K < 1)
        return ug_fail(err, "the number of attribute samples must be at least 1 (got %d)", K);
    const size_t img = 3 * (size_t)m->cfg.img_size * m->cfg.img_size, n = (size_t)N * K;
    float *batch = K > 1 ? malloc(n * img * sizeof *batch) : NULL;
    float *z = malloc(n * DR_NZ * sizeof *z);
    if (!z || (K > 1 && !batch)) {
        free(batch);
        free(z);
        return ug_fail(err, "out of memory for %zu translations", n);
    }
    for (size_t i = 0; batch && i < n; i++)
        memcpy(batch + i * img, images + (i / (size_t)K) * img, img * sizeof *batch);
    ug_rng rng;
    ug_rng_seed(&rng, seed, STYLE_STREAM);
    for (size_t i = 0; i < n * DR_NZ; i++)
        z[i] = (float)ug_rng_normal(&rng);
    int rc = dr_translate_codes(m, dir, batch ? batch : images, (int)n, z, out, err);
    free(batch);
    free(z);
    return rc;
}

int dr_translate_style_from(ug_model *m, ug_direction dir, const float *images, int N,
                            const float *example, float *out, ug_error *err)
{
    if (need(m, DR_ENC_A, err) < 0)
        return -1;
    float mu[DR_NZ];
    const size_t img = 3 * (size_t)m->cfg.img_size * m->cfg.img_size;
    ug_arena_reset(&m->arena);
    const float *x = upload(m, example, img, err);
    ug_tape t;
    const float *in[2] = {x, x};
    const char *mu_name = dir == UG_A2B ? DR_OUT_MU_B : DR_OUT_MU_A;
    if (!x || run_for(m, &t, DR_ENC_A, in, 1, mu_name, err) < 0)
        return -1;
    m->k->be->to_host(mu, ug_tape_output(&t, mu_name), sizeof mu);
    float *z = malloc((size_t)N * DR_NZ * sizeof *z);
    if (!z)
        return ug_fail(err, "out of memory for %d attribute codes", N);
    for (int i = 0; i < N; i++)
        memcpy(z + (size_t)i * DR_NZ, mu, sizeof mu);
    int rc = dr_translate_codes(m, dir, images, N, z, out, err);
    free(z);
    return rc;
}
