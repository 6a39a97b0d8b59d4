/* DRIT's evaluation-mode translations (test.py, test_transfer.py): the
 * source domain's content code without noise, decoded by the target
 * domain's decoder with an attribute code: drawn from N(0, I), or the mean
 * of the attribute encoder's distribution of an example image. enc_c, enc_a
 * and gen run both domains' branches in one call (the official modules'
 * forward(a, b)); here the unused branch gets the same input, and its
 * output is dropped. */
#include <stdlib.h>
#include <string.h>

#include "model/drit/drit.h"

#define STYLE_STREAM 0x7374796cu /* "styl": the translations' codes */

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
    const float *ec_in[4] = {x, x, zero, zero};
    if (ug_tape_forward_nograd(&te, m->k, &m->arena, &m->net[DR_ENC_C], ec_in, N, UG_EVAL,
                               err) < 0)
        return -1;
    const float *content =
        ug_tape_output(&te, dir == UG_A2B ? DR_OUT_CONTENT_A : DR_OUT_CONTENT_B);
    const float *g_in[4] = {content, zd, content, zd};
    if (ug_tape_forward_nograd(&tg, m->k, &m->arena, &m->net[DR_GEN], g_in, N, UG_EVAL, err) < 0)
        return -1;
    m->k->be->to_host(out, ug_tape_output(&tg, dir == UG_A2B ? DR_OUT_IMAGE_B : DR_OUT_IMAGE_A),
                      (size_t)N * img * sizeof *out);
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
    if (!x || ug_tape_forward_nograd(&t, m->k, &m->arena, &m->net[DR_ENC_A], in, 1, UG_EVAL,
                                     err) < 0)
        return -1;
    m->k->be->to_host(mu, ug_tape_output(&t, dir == UG_A2B ? DR_OUT_MU_B : DR_OUT_MU_A),
                      sizeof mu);
    float *z = malloc((size_t)N * DR_NZ * sizeof *z);
    if (!z)
        return ug_fail(err, "out of memory for %d attribute codes", N);
    for (int i = 0; i < N; i++)
        memcpy(z + (size_t)i * DR_NZ, mu, sizeof mu);
    int rc = dr_translate_codes(m, dir, images, N, z, out, err);
    free(z);
    return rc;
}
