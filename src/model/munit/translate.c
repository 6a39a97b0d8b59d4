/* MUNIT's translation (test.py, trainer.sample): the source domain's
 * content encoder, the target domain's decoder with a style code: given,
 * drawn from N(0, I), or encoded from an example image of the target domain
 * by its style encoder. */
#include <stdlib.h>

#include "model/model.h"
#include "model/munit/munit.h"
#include "nn/tape.h"

static int need(const ug_model *m, int net, ug_error *err)
{
    return ug_model_has(m, net) ? 0
                                : ug_fail(err, "the checkpoint holds no %s network",
                                          m->fam->net_names[net]);
}

/* host (bytes) in backend memory: itself when the backend's memory is the host's. */
static const float *upload(ug_model *m, const float *host, size_t bytes, ug_error *err)
{
    const ug_backend *be = m->k->be;
    if (be->host_memory)
        return host;
    float *dev = ug_arena_alloc(&m->arena, bytes);
    if (!dev) {
        ug_fail(err, "out of memory for the inputs");
        return NULL;
    }
    be->from_host(dev, host, bytes);
    return dev;
}

int mu_translate_style(ug_model *m, ug_direction dir, const float *images, int N,
                       const float *styles, float *out, ug_error *err)
{
    const int enc = dir == UG_A2B ? MU_CONTENT_A : MU_CONTENT_B;
    const int gen = dir == UG_A2B ? MU_GEN_B : MU_GEN_A;
    if (need(m, enc, err) < 0 || need(m, gen, err) < 0)
        return -1;
    const int S = m->cfg.img_size;
    const size_t img_bytes = (size_t)N * 3 * S * S * sizeof(float);
    ug_tape te, td;
    ug_arena_reset(&m->arena);
    const float *x = upload(m, images, img_bytes, err);
    const float *style = x ? upload(m, styles, (size_t)N * m->cfg.style_dim * sizeof(float), err)
                           : NULL;
    if (!style ||
        ug_tape_forward_nograd(&te, m->k, &m->arena, &m->net[enc], &x, N, UG_EVAL, err) < 0)
        return -1;
    const float *in[2] = {ug_tape_output(&te, UG_OUT_IMAGE), style};
    if (ug_tape_forward_nograd(&td, m->k, &m->arena, &m->net[gen], in, N, UG_EVAL, err) < 0)
        return -1;
    m->k->be->to_host(out, ug_tape_output(&td, UG_OUT_IMAGE), img_bytes);
    return 0;
}

int mu_encode_style(ug_model *m, ug_direction dir, const float *images, int N, float *styles,
                    ug_error *err)
{
    const int net = dir == UG_A2B ? MU_STYLE_B : MU_STYLE_A;
    if (need(m, net, err) < 0)
        return -1;
    const int S = m->cfg.img_size;
    ug_tape t;
    ug_arena_reset(&m->arena);
    const float *x = upload(m, images, (size_t)N * 3 * S * S * sizeof(float), err);
    if (!x || ug_tape_forward_nograd(&t, m->k, &m->arena, &m->net[net], &x, N, UG_EVAL, err) < 0)
        return -1;
    m->k->be->to_host(styles, ug_tape_output(&t, UG_OUT_IMAGE),
                      (size_t)N * m->cfg.style_dim * sizeof(float));
    return 0;
}

/* Without given codes: image i of every call takes code i drawn on seed 0
 * (deterministic, as the official test script's fixed seed; `translate
 * --styles K --seed 0` gives the same codes). */
int mu_translate(ug_model *m, ug_direction dir, const float *images, int N, float *out,
                 float *cam_logit, float *heatmap, ug_error *err)
{
    if (cam_logit || heatmap)
        return ug_fail(err, "a MUNIT generator has no CAM attention, so no heat map");
    float *styles = malloc((size_t)N * m->cfg.style_dim * sizeof *styles);
    if (!styles)
        return ug_fail(err, "out of memory for the style codes");
    int rc = ug_model_draw_styles(m, 0, N, styles, err);
    if (rc == 0)
        rc = mu_translate_style(m, dir, images, N, styles, out, err);
    free(styles);
    return rc;
}
