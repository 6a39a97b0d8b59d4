/* One iteration of the official DRIT (train.py, model.py): a content-only
 * iteration (update_D_content) or a full one: forward(), update_D (the four
 * image discriminators, then the content discriminator with its gradient
 * clipped at norm 5), then update_EG in two phases, each with its own Adam
 * steps (enc_c and gen are updated twice per full iteration, enc_a once).
 * Batches of 2 per domain: sample 0 is the "encoded" one, sample 1 the
 * "random" one. The random draws are in the official order: content noise
 * A, B; eps a, b; z_random, z_random2; the content noise of the fakes A, B;
 * eps of their attributes a, b.
 *
 * The second phase (backward_G_alone) of the official code runs backward
 * through the graph of forward() after the first phase's optimiser steps;
 * PyTorch 0.4 then mixed the old activations with the new weights, and
 * current PyTorch refuses it. We do what current PyTorch can: the second
 * phase RECOMPUTES what it needs with the weights the first phase left (the
 * content codes of the real samples with the same noise, the decodes of
 * z_random and z_random2, the attribute means of the first), as
 * tools/drit_ref.py does and the golden test checks.
 *
 * Every loss is seeded at the output of the tape that made it, and each
 * tape's backward pass runs once all of its gradient has arrived. */
#include <math.h>
#include <stdlib.h>

#include "model/drit/drit.h"

typedef struct iter {
    ug_step *s;
    dr_state *st;
    ug_kctx *k;
    const ug_backend *be;
    int ms;          /* mode seeking */
    size_t img;      /* floats of one image */
    size_t cont;     /* floats of one content code */
    double lr;
} iter;

static float *alloc_f(iter *c, size_t n)
{
    if (c->s->failed)
        return NULL;
    float *p = ug_arena_alloc(c->s->a, n * sizeof(float));
    if (!p) {
        c->s->failed = 1;
        ug_fail(c->s->err, "out of memory for DRIT's training buffers");
    }
    return p;
}

/* n draws of N(0, 1) in backend memory; a copy in host memory at host (may be NULL). */
static float *draw(iter *c, size_t n, float *host)
{
    float *p = alloc_f(c, n);
    if (!p)
        return NULL;
    if (c->be->host_memory && !host) {
        dr_draw(c->st, c->s->t->comm, p, n);
        return p;
    }
    float *h = host ? host : malloc(n * sizeof *h);
    if (!h) {
        c->s->failed = 1;
        ug_fail(c->s->err, "out of memory for DRIT's random draws");
        return NULL;
    }
    dr_draw(c->st, c->s->t->comm, h, n);
    c->be->from_host(p, h, n * sizeof *h);
    if (!host)
        free(h);
    return p;
}

/* The gradient buffer of output NAME of tape t (zeroed on first use). */
static float *out_grad(iter *c, ug_tape *t, const char *name)
{
    if (c->s->failed)
        return NULL;
    float *g = ug_tape_grad(t, c->s->a, ug_net_output(t->net, name));
    if (!g) {
        c->s->failed = 1;
        ug_fail(c->s->err, "out of memory for gradients");
    }
    return g;
}

static const float *out(const ug_tape *t, const char *name) { return ug_tape_output(t, name); }

/* dst += the gradient left at input NAME of tape t after its backward pass
 * (n floats from element offset off of it). */
static void add_in_grad(iter *c, float *dst, const ug_tape *t, const char *name, size_t off,
                        size_t n)
{
    if (c->s->failed || !dst)
        return;
    const float *g = t->grad[ug_net_input(t->net, name)];
    if (g)
        ug_add_forward(c->k, dst, dst, g + off, n);
}

static int fwd(iter *c, ug_tape *t, int net, const float *const *in, int N, int record)
{
    return ug_step_fwd_n(c->s, t, net, in, N, record);
}

/* sigmoid + BCE against target of sample k of output NAME (a mean over its
 * values), scale times its gradient seeded; returns the loss. */
static float bce(iter *c, ug_tape *t, const char *name, int k, float target, float scale)
{
    float *g = out_grad(c, t, name);
    if (!g)
        return 0;
    const int node = ug_net_output(t->net, name);
    const size_t n = ug_tape_numel(t, node) / (size_t)t->N;
    const float *x = t->out[node] + (size_t)k * n;
    ug_bce_prob_const_backward(c->k, g + (size_t)k * n, x, n, target, scale, 1);
    return ug_bce_prob_const_forward(c->k, x, n, target);
}

/* The sum over the scales of an image discriminator's tape. */
static float bce_scales(iter *c, ug_tape *t, int k, float target)
{
    float sum = 0;
    for (int sc = 0; sc < c->s->t->m->cfg.dis_local; sc++)
        sum += bce(c, t, dr_scale_output(sc), k, target, 1);
    return sum;
}

static void adam(iter *c, int net, double lr)
{
    if (!c->s->failed)
        ug_step_adam_at(c->s, net, lr, ++c->st->adam_count[net]);
}

/* backward_D of an image discriminator on n_fake fakes (each against the
 * same real image, gradients summed), then its step. */
static float dis_update(iter *c, int net, const float *real, const float *fake, int n_fake)
{
    float loss = 0;
    ug_step_zero_grad(c->s, 1u << net);
    for (int f = 0; f < n_fake; f++) {
        const float *x[2] = {fake + (size_t)f * c->img, real};
        for (int r = 0; r < 2; r++) {
            ug_tape d;
            if (fwd(c, &d, net, &x[r], 1, 1) < 0)
                return 0;
            loss += bce_scales(c, &d, 0, (float)r);
            ug_step_bwd(c->s, &d, 1, 0);
        }
    }
    adam(c, net, c->lr);
    return loss;
}

/* update_D_content's step: content A labelled fake, content B real. */
static float content_update(iter *c, const float *za, const float *zb)
{
    const float *x[2] = {za, zb};
    float loss = 0;
    ug_step_zero_grad(c->s, 1u << DR_DIS_C);
    for (int r = 0; r < 2; r++) {
        ug_tape d;
        if (fwd(c, &d, DR_DIS_C, &x[r], 1, 1) < 0)
            return 0;
        loss += bce(c, &d, UG_OUT_IMAGE, 0, (float)r, 1);
        ug_step_bwd(c->s, &d, 1, 0);
    }
    if (!ug_step_finite(c->s, "dis_content", loss))
        return loss;
    ug_step_clip_grad_norm(c->s, DR_DIS_C, DR_CLIP_NORM);
    adam(c, DR_DIS_C, c->lr * DR_CONTENT_LR);
    return loss;
}

/* dst = the n-float pieces src[0], src[1], ... (count of them) one after another. */
static float *gather(iter *c, const float *const *src, int count, size_t n)
{
    float *dst = alloc_f(c, (size_t)count * n);
    for (int i = 0; dst && i < count; i++)
        c->be->copy(dst + (size_t)i * n, src[i], n * sizeof(float));
    return dst;
}

/* z = mu + eps * exp(logvar / 2) of tape t's outputs MU, LOGVAR. */
static float *reparam(iter *c, const ug_tape *t, const char *mu, const char *logvar,
                      const float *eps)
{
    float *z = alloc_f(c, DR_NZ);
    if (z)
        ug_reparam_forward(c->k, z, out(t, mu), out(t, logvar), eps, DR_NZ);
    return z;
}

/* Seeds tape t's MU, LOGVAR gradients from dz through the reparameterisation. */
static void reparam_back(iter *c, ug_tape *t, const char *mu, const char *logvar,
                         const float *dz, const float *eps)
{
    float *gm = out_grad(c, t, mu), *gl = out_grad(c, t, logvar);
    if (gm && gl && dz)
        ug_reparam_backward(c->k, gm, gl, dz, out(t, logvar), eps, DR_NZ, 1);
}

/* What forward() makes and phase 2 reuses. */
typedef struct fwd_state {
    const float *A0, *A1, *B0, *B1;
    float *na, *nb;                   /* content noise of the real samples */
    float *eps_a, *eps_b, *eps_ra, *eps_rb;
    float *zr, *zr2;                  /* z_random, z_random2 (backend memory) */
    float zr_host[2][DR_NZ];
    ug_tape ec1, ea1, g1, ec2, ea2, g2;
    int nb_dec;                       /* decodes per domain in g1: 3, or 4 with mode seeking */
} fwd_state;

/* forward(): the encodes of the real samples, the batched decodes, the
 * encodes of the fakes and the cross-cycle decodes, all recorded. */
static int forward(iter *c, fwd_state *f)
{
    const size_t cont = c->cont;
    f->na = draw(c, cont, NULL);
    f->nb = draw(c, cont, NULL);
    const float *ec_in[4] = {f->A0, f->B0, f->na, f->nb};
    if (fwd(c, &f->ec1, DR_ENC_C, ec_in, 1, 1) < 0)
        return -1;
    const float *ea_in[2] = {f->A0, f->B0};
    if (fwd(c, &f->ea1, DR_ENC_A, ea_in, 1, 1) < 0)
        return -1;
    f->eps_a = draw(c, DR_NZ, NULL);
    f->eps_b = draw(c, DR_NZ, NULL);
    f->zr = draw(c, DR_NZ, f->zr_host[0]);
    f->zr2 = c->ms ? draw(c, DR_NZ, f->zr_host[1]) : NULL;
    float *za = reparam(c, &f->ea1, DR_OUT_MU_A, DR_OUT_LOGVAR_A, f->eps_a);
    float *zb = reparam(c, &f->ea1, DR_OUT_MU_B, DR_OUT_LOGVAR_B, f->eps_b);
    if (c->s->failed)
        return -1;
    const float *zca = out(&f->ec1, DR_OUT_CONTENT_A), *zcb = out(&f->ec1, DR_OUT_CONTENT_B);
    const float *cs_a[4] = {zcb, zca, zcb, zcb}, *cs_b[4] = {zca, zcb, zca, zca};
    const float *zs_a[4] = {za, za, f->zr, f->zr2}, *zs_b[4] = {zb, zb, f->zr, f->zr2};
    f->nb_dec = c->ms ? 4 : 3;
    const float *g_in[4] = {gather(c, cs_a, f->nb_dec, cont), gather(c, zs_a, f->nb_dec, DR_NZ),
                            gather(c, cs_b, f->nb_dec, cont), gather(c, zs_b, f->nb_dec, DR_NZ)};
    if (c->s->failed || fwd(c, &f->g1, DR_GEN, g_in, f->nb_dec, 1) < 0)
        return -1;
    const float *fA = out(&f->g1, DR_OUT_IMAGE_A), *fB = out(&f->g1, DR_OUT_IMAGE_B);
    float *nra = draw(c, cont, NULL), *nrb = draw(c, cont, NULL);
    const float *ec2_in[4] = {fA, fB, nra, nrb};
    if (c->s->failed || fwd(c, &f->ec2, DR_ENC_C, ec2_in, 1, 1) < 0)
        return -1;
    const float *ea2_in[2] = {fA, fB};
    if (fwd(c, &f->ea2, DR_ENC_A, ea2_in, 1, 1) < 0)
        return -1;
    f->eps_ra = draw(c, DR_NZ, NULL);
    f->eps_rb = draw(c, DR_NZ, NULL);
    const float *z_ra = reparam(c, &f->ea2, DR_OUT_MU_A, DR_OUT_LOGVAR_A, f->eps_ra);
    const float *z_rb = reparam(c, &f->ea2, DR_OUT_MU_B, DR_OUT_LOGVAR_B, f->eps_rb);
    /* fake_A_recon = gen.forward_a(z_content_recon_a, z_attr_recon_a), where
     * z_content_recon_a is the content of fake_B_encoded. */
    const float *g2_in[4] = {out(&f->ec2, DR_OUT_CONTENT_B), z_ra, out(&f->ec2, DR_OUT_CONTENT_A),
                             z_rb};
    if (c->s->failed || fwd(c, &f->g2, DR_GEN, g2_in, 1, 1) < 0)
        return -1;
    return 0;
}

static void update_d(iter *c, fwd_state *f, float *L)
{
    const float *fA = out(&f->g1, DR_OUT_IMAGE_A), *fB = out(&f->g1, DR_OUT_IMAGE_B);
    const int n_random = c->ms ? 2 : 1;
    L[DR_LOSS_DIS_A] = dis_update(c, DR_DIS_A, f->A0, fA, 1);
    L[DR_LOSS_DIS_A2] = dis_update(c, DR_DIS_A2, f->A1, fA + 2 * c->img, n_random);
    L[DR_LOSS_DIS_B] = dis_update(c, DR_DIS_B, f->B0, fB, 1);
    L[DR_LOSS_DIS_B2] = dis_update(c, DR_DIS_B2, f->B1, fB + 2 * c->img, n_random);
    L[DR_LOSS_DIS_CONTENT] =
        content_update(c, out(&f->ec1, DR_OUT_CONTENT_A), out(&f->ec1, DR_OUT_CONTENT_B));
    L[DR_LOSS_D] = L[DR_LOSS_DIS_A] + L[DR_LOSS_DIS_A2] + L[DR_LOSS_DIS_B] + L[DR_LOSS_DIS_B2] +
                   L[DR_LOSS_DIS_CONTENT];
}

/* The image discriminator dis (not updated) on sample 0 of fake with target
 * 1; its gradient added to dst; returns the loss. */
static float gan_back(iter *c, int dis, const float *fake, float *dst)
{
    ug_tape d;
    if (fwd(c, &d, dis, &fake, 1, 1) < 0)
        return 0;
    float loss = bce_scales(c, &d, 0, 1);
    ug_step_bwd(c->s, &d, 0, 1);
    add_in_grad(c, dst, &d, "image", 0, c->img);
    return loss;
}

/* backward_EG: every first-phase loss, back to enc_c, enc_a and gen. */
static void phase1(iter *c, fwd_state *f, float *L)
{
    const size_t img = c->img, cont = c->cont;
    const int nd = f->nb_dec;
    ug_step_zero_grad(c->s, (1u << DR_ENC_C) | (1u << DR_ENC_A) | (1u << DR_GEN));
    /* cross-cycle reconstruction, back through g2, ea2, ec2 */
    float *g = out_grad(c, &f->g2, DR_OUT_IMAGE_A);
    if (!g)
        return;
    ug_l1_backward(c->k, g, out(&f->g2, DR_OUT_IMAGE_A), f->A0, img, DR_W_L1, 1);
    L[DR_LOSS_L1_CC_A] = DR_W_L1 * ug_l1_forward(c->k, out(&f->g2, DR_OUT_IMAGE_A), f->A0, img);
    if (!(g = out_grad(c, &f->g2, DR_OUT_IMAGE_B)))
        return;
    ug_l1_backward(c->k, g, out(&f->g2, DR_OUT_IMAGE_B), f->B0, img, DR_W_L1, 1);
    L[DR_LOSS_L1_CC_B] = DR_W_L1 * ug_l1_forward(c->k, out(&f->g2, DR_OUT_IMAGE_B), f->B0, img);
    ug_step_bwd(c->s, &f->g2, 1, 1);
    if (c->s->failed)
        return;
    const ug_tape *g2 = &f->g2;
    reparam_back(c, &f->ea2, DR_OUT_MU_A, DR_OUT_LOGVAR_A,
                 g2->grad[ug_net_input(g2->net, DR_IN_Z_A)], f->eps_ra);
    reparam_back(c, &f->ea2, DR_OUT_MU_B, DR_OUT_LOGVAR_B,
                 g2->grad[ug_net_input(g2->net, DR_IN_Z_B)], f->eps_rb);
    add_in_grad(c, out_grad(c, &f->ec2, DR_OUT_CONTENT_B), g2, DR_IN_CONTENT_A, 0, cont);
    add_in_grad(c, out_grad(c, &f->ec2, DR_OUT_CONTENT_A), g2, DR_IN_CONTENT_B, 0, cont);
    ug_step_bwd(c->s, &f->ea2, 1, 1);
    ug_step_bwd(c->s, &f->ec2, 1, 1);
    /* fake_A_encoded (sample 0 of g1's A decodes) gets the gradients through
     * the fakes' encodes and disA's; fake_AA_encoded (sample 1) the
     * self-reconstruction's */
    float *gA = out_grad(c, &f->g1, DR_OUT_IMAGE_A), *gB = out_grad(c, &f->g1, DR_OUT_IMAGE_B);
    if (!gA || !gB)
        return;
    const float *fA = out(&f->g1, DR_OUT_IMAGE_A), *fB = out(&f->g1, DR_OUT_IMAGE_B);
    add_in_grad(c, gA, &f->ea2, DR_IN_IMAGE_A, 0, img);
    add_in_grad(c, gA, &f->ec2, DR_IN_IMAGE_A, 0, img);
    add_in_grad(c, gB, &f->ea2, DR_IN_IMAGE_B, 0, img);
    add_in_grad(c, gB, &f->ec2, DR_IN_IMAGE_B, 0, img);
    L[DR_LOSS_GAN_A] = gan_back(c, DR_DIS_A, fA, gA);
    L[DR_LOSS_GAN_B] = gan_back(c, DR_DIS_B, fB, gB);
    ug_l1_backward(c->k, gA + img, fA + img, f->A0, img, DR_W_L1, 1);
    L[DR_LOSS_L1_SELF_A] = DR_W_L1 * ug_l1_forward(c->k, fA + img, f->A0, img);
    ug_l1_backward(c->k, gB + img, fB + img, f->B0, img, DR_W_L1, 1);
    L[DR_LOSS_L1_SELF_B] = DR_W_L1 * ug_l1_forward(c->k, fB + img, f->B0, img);
    ug_step_bwd(c->s, &f->g1, 1, 1);
    if (c->s->failed)
        return;
    /* the content codes: g1 decoded A's content at B-decode 0, 2, 3 and A-decode 1 */
    float *gza = out_grad(c, &f->ec1, DR_OUT_CONTENT_A), *gzb = out_grad(c, &f->ec1,
                                                                         DR_OUT_CONTENT_B);
    for (int i = 0; i < nd; i++) {
        add_in_grad(c, i == 1 ? gza : gzb, &f->g1, DR_IN_CONTENT_A, (size_t)i * cont, cont);
        add_in_grad(c, i == 1 ? gzb : gza, &f->g1, DR_IN_CONTENT_B, (size_t)i * cont, cont);
    }
    const float *zc[2] = {out(&f->ec1, DR_OUT_CONTENT_A), out(&f->ec1, DR_OUT_CONTENT_B)};
    float *gz[2] = {gza, gzb};
    for (int d = 0; d < 2 && !c->s->failed; d++) {
        ug_tape t;
        if (fwd(c, &t, DR_DIS_C, &zc[d], 1, 1) < 0)
            return;
        L[DR_LOSS_GAN_A_CONTENT + d] = bce(c, &t, UG_OUT_IMAGE, 0, 0.5f, 1);
        ug_step_bwd(c->s, &t, 0, 1);
        add_in_grad(c, gz[d], &t, "image", 0, cont);
        ug_mse_const_backward(c->k, gz[d], zc[d], cont, 0, DR_W_KL, 1);
        L[DR_LOSS_KL_ZC_A + d] = DR_W_KL * ug_mse_const_forward(c->k, zc[d], cont, 0);
    }
    /* the attribute codes: z_attr_a fed A-decodes 0 and 1 */
    float *dz = alloc_f(c, DR_NZ);
    const char *in_z[2] = {DR_IN_Z_A, DR_IN_Z_B};
    const char *mu[2] = {DR_OUT_MU_A, DR_OUT_MU_B}, *lv[2] = {DR_OUT_LOGVAR_A, DR_OUT_LOGVAR_B};
    const float *eps[2] = {f->eps_a, f->eps_b};
    for (int d = 0; d < 2 && dz; d++) {
        const float *gzin = f->g1.grad[ug_net_input(f->g1.net, in_z[d])];
        if (!gzin)
            break;
        ug_add_forward(c->k, dz, gzin, gzin + DR_NZ, DR_NZ);
        reparam_back(c, &f->ea1, mu[d], lv[d], dz, eps[d]);
        float *gm = out_grad(c, &f->ea1, mu[d]), *gl = out_grad(c, &f->ea1, lv[d]);
        if (!gm || !gl)
            return;
        ug_kl_gauss_sum_backward(c->k, gm, gl, out(&f->ea1, mu[d]), out(&f->ea1, lv[d]), DR_NZ,
                                 DR_W_KL, 1);
        L[DR_LOSS_KL_ZA_A + d] =
            DR_W_KL * ug_kl_gauss_sum_forward(c->k, out(&f->ea1, mu[d]), out(&f->ea1, lv[d]),
                                              DR_NZ);
    }
    ug_step_bwd(c->s, &f->ea1, 1, 0);
    ug_step_bwd(c->s, &f->ec1, 1, 0);
    float total = 0;
    for (int i = DR_LOSS_GAN_A_CONTENT; i <= DR_LOSS_L1_SELF_B; i++)
        total += L[i];
    if (!ug_step_finite(c->s, "G (first update)", total))
        return;
    adam(c, DR_ENC_C, c->lr);
    adam(c, DR_ENC_A, c->lr);
    adam(c, DR_GEN, c->lr);
}

/* mean|x - y| / dz of two images, its reciprocal loss 1 / (lz + eps) seeded
 * into gx and gy; returns the loss. */
static float mode_seeking(iter *c, float *gx, float *gy, const float *x, const float *y,
                          double dz)
{
    const double lz = ug_l1_forward(c->k, x, y, c->img) / dz;
    const double d = lz + DR_MS_EPS;
    const float scale = (float)(-1.0 / (d * d) / dz);
    ug_l1_backward(c->k, gx, x, y, c->img, scale, 1);
    ug_l1_backward(c->k, gy, y, x, c->img, scale, 1);
    return (float)(1.0 / d);
}

/* backward_G_alone, recomputed with the updated weights (see the top). */
static void phase2(iter *c, fwd_state *f, float *L)
{
    const size_t img = c->img, cont = c->cont;
    const int nr = c->ms ? 2 : 1;
    ug_tape ec, g, ea;
    ug_step_zero_grad(c->s, (1u << DR_ENC_C) | (1u << DR_GEN));
    const float *ec_in[4] = {f->A0, f->B0, f->na, f->nb};
    if (fwd(c, &ec, DR_ENC_C, ec_in, 1, 1) < 0)
        return;
    const float *zca = out(&ec, DR_OUT_CONTENT_A), *zcb = out(&ec, DR_OUT_CONTENT_B);
    const float *cs_a[2] = {zcb, zcb}, *cs_b[2] = {zca, zca}, *zs[2] = {f->zr, f->zr2};
    const float *g_in[4] = {gather(c, cs_a, nr, cont), gather(c, zs, nr, DR_NZ),
                            gather(c, cs_b, nr, cont), gather(c, zs, nr, DR_NZ)};
    if (c->s->failed || fwd(c, &g, DR_GEN, g_in, nr, 1) < 0)
        return;
    const float *fA = out(&g, DR_OUT_IMAGE_A), *fB = out(&g, DR_OUT_IMAGE_B);
    float *gA = out_grad(c, &g, DR_OUT_IMAGE_A), *gB = out_grad(c, &g, DR_OUT_IMAGE_B);
    const float *ea_in[2] = {fA, fB};
    if (!gA || !gB || fwd(c, &ea, DR_ENC_A, ea_in, 1, 1) < 0)
        return;
    /* latent regression: both domains' means regress z_random */
    const char *mu[2] = {DR_OUT_MU_A, DR_OUT_MU_B};
    for (int d = 0; d < 2; d++) {
        float *gm = out_grad(c, &ea, mu[d]);
        if (!gm)
            return;
        ug_l1_backward(c->k, gm, out(&ea, mu[d]), f->zr, DR_NZ, DR_W_L1, 1);
        L[DR_LOSS_Z_L1_A + d] = DR_W_L1 * ug_l1_forward(c->k, out(&ea, mu[d]), f->zr, DR_NZ);
    }
    ug_step_bwd(c->s, &ea, 0, 1);
    add_in_grad(c, gA, &ea, DR_IN_IMAGE_A, 0, img);
    add_in_grad(c, gB, &ea, DR_IN_IMAGE_B, 0, img);
    /* disA2, disB2 on the random decodes */
    const int dis[2] = {DR_DIS_A2, DR_DIS_B2};
    const float *fakes[2] = {fA, fB};
    float *gf[2] = {gA, gB};
    for (int d = 0; d < 2; d++) {
        ug_tape t;
        if (fwd(c, &t, dis[d], &fakes[d], nr, 1) < 0)
            return;
        L[DR_LOSS_GAN2_A + d] = bce_scales(c, &t, 0, 1);
        L[DR_LOSS_GAN2_A2 + d] = c->ms ? bce_scales(c, &t, 1, 1) : 0;
        ug_step_bwd(c->s, &t, 0, 1);
        add_in_grad(c, gf[d], &t, "image", 0, (size_t)nr * img);
    }
    L[DR_LOSS_LZ_AB] = L[DR_LOSS_LZ_BA] = 0;
    if (c->ms && !c->s->failed) {
        double dz = 0;
        for (int i = 0; i < DR_NZ; i++)
            dz += fabs((double)f->zr_host[1][i] - f->zr_host[0][i]);
        dz /= DR_NZ;
        L[DR_LOSS_LZ_AB] = mode_seeking(c, gB + img, gB, fB + img, fB, dz);
        L[DR_LOSS_LZ_BA] = mode_seeking(c, gA + img, gA, fA + img, fA, dz);
    }
    ug_step_bwd(c->s, &g, 1, 1);
    for (int i = 0; i < nr; i++) {
        add_in_grad(c, out_grad(c, &ec, DR_OUT_CONTENT_B), &g, DR_IN_CONTENT_A, (size_t)i * cont,
                    cont);
        add_in_grad(c, out_grad(c, &ec, DR_OUT_CONTENT_A), &g, DR_IN_CONTENT_B, (size_t)i * cont,
                    cont);
    }
    ug_step_bwd(c->s, &ec, 1, 0);
    float total = 0;
    for (int i = DR_LOSS_GAN2_A; i <= DR_LOSS_LZ_BA; i++)
        total += L[i];
    if (!ug_step_finite(c->s, "G (second update)", total))
        return;
    adam(c, DR_ENC_C, c->lr);
    adam(c, DR_GEN, c->lr);
}

static void full(iter *c, const float *real_A, const float *real_B, float *L)
{
    fwd_state f = {0};
    f.A0 = real_A, f.A1 = real_A + c->img, f.B0 = real_B, f.B1 = real_B + c->img;
    if (forward(c, &f) < 0)
        return;
    update_d(c, &f, L);
    if (!ug_step_finite(c->s, "D", L[DR_LOSS_D]))
        return;
    phase1(c, &f, L);
    phase2(c, &f, L);
    L[DR_LOSS_G] = 0;
    for (int i = DR_LOSS_GAN_A_CONTENT; i <= DR_LOSS_LZ_BA; i++)
        L[DR_LOSS_G] += L[i];
}

/* update_D_content: the content codes of the encoded samples (drawing their
 * noise), the content discriminator's step. */
static void content_only(iter *c, const float *real_A, const float *real_B, float *L)
{
    ug_tape ec;
    const float *na = draw(c, c->cont, NULL), *nb = draw(c, c->cont, NULL);
    const float *in[4] = {real_A, real_B, na, nb};
    if (c->s->failed || fwd(c, &ec, DR_ENC_C, in, 1, 0) < 0)
        return;
    L[DR_LOSS_DIS_CONTENT] =
        content_update(c, out(&ec, DR_OUT_CONTENT_A), out(&ec, DR_OUT_CONTENT_B));
    L[DR_LOSS_D] = L[DR_LOSS_DIS_A] + L[DR_LOSS_DIS_A2] + L[DR_LOSS_DIS_B] + L[DR_LOSS_DIS_B2] +
                   L[DR_LOSS_DIS_CONTENT];
}

int dr_step(ug_step *s, const float *real_A, const float *real_B, float *L)
{
    const ug_config *cfg = &s->t->m->cfg;
    const size_t side = (size_t)dr_content_side(cfg);
    iter c = {s, s->t->fam_state, s->t->m->k, s->t->m->k->be, !s->t->tc.no_ms,
              3 * (size_t)cfg->img_size * cfg->img_size, (size_t)dr_content_ch(cfg) * side * side,
              s->lr};
    float *last = c.st->last;
    for (int i = 0; i < DR_N_LOSSES; i++)
        L[i] = last[i];
    if (dr_full_iteration(&s->t->tc, s->t->step + 1))
        full(&c, real_A, real_B, L);
    else
        content_only(&c, real_A, real_B, L);
    if (s->failed)
        return -1;
    /* Kept as the trainer reports them, the mean over the ranks: the same
     * state on every rank. */
    ug_comm *comm = s->t->comm;
    for (int i = 0; i < DR_N_LOSSES; i++)
        last[i] = L[i];
    if (comm->allreduce(comm, last, DR_N_LOSSES, s->err) < 0)
        return -1;
    for (int i = 0; i < DR_N_LOSSES; i++)
        last[i] /= (float)comm->size;
    return 0;
}
