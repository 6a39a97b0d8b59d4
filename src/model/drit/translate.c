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

/* The attribute encoder's mean of each of N examples of dir's target domain. */
int dr_encode_style(ug_model *m, ug_direction dir, const float *images, int N, float *styles,
                    ug_error *err)
{
    if (need(m, DR_ENC_A, err) < 0)
        return -1;
    const size_t img = 3 * (size_t)m->cfg.img_size * m->cfg.img_size;
    ug_arena_reset(&m->arena);
    const float *x = upload(m, images, (size_t)N * img, err);
    ug_tape t;
    const float *in[2] = {x, x};
    const char *mu_name = dir == UG_A2B ? DR_OUT_MU_B : DR_OUT_MU_A;
    if (!x || run_for(m, &t, DR_ENC_A, in, N, mu_name, err) < 0)
        return -1;
    m->k->be->to_host(styles, ug_tape_output(&t, mu_name), (size_t)N * DR_NZ * sizeof *styles);
    return 0;
}
