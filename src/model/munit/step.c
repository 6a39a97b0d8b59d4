/* One iteration of the official MUNIT_Trainer: dis_update, then gen_update,
 * each with its own Adam step and its own style codes s_a, s_b ~ N(0, I)
 * (styles.c, drawn in that order at the start of each). A decode is one
 * forward pass of a domain's decoder network on (content, style); its
 * backward pass leaves the gradients of both inputs, which go back to the
 * encoders that made them. The content loss |c_recon - c| sends gradient
 * into both sides (the target is not detached), the style loss only into
 * the re-encoded style (its target is a sample). All of a tape's gradients
 * are in before its backward pass runs, so the totals are exact. */
#include "model/munit/munit.h"
#include "model/step.h"
#include "model/unit/unit.h"

/* B x style_dim codes drawn into slot, in the step's arena (backend memory). */
static const float *style_codes(ug_step *s, int slot)
{
    if (s->failed)
        return NULL;
    const ug_backend *be = s->t->m->k->be;
    const size_t n = (size_t)s->t->batch * s->t->m->cfg.style_dim, bytes = n * sizeof(float);
    const float *codes = un_noise_draw(s->t->fam_state, slot, n, s->t->comm);
    float *dev = codes && !be->host_memory ? ug_arena_alloc(s->a, bytes) : NULL;
    if (!codes || (!be->host_memory && !dev)) {
        s->failed = 1;
        ug_fail(s->err, "out of memory for the style codes");
        return NULL;
    }
    if (dev)
        be->from_host(dev, codes, bytes);
    return dev ? dev : codes;
}

/* A decode on the content output of tape c and the style codes style. */
static int decode(ug_step *s, ug_tape *t, int gen, const ug_tape *c, const float *style,
                  int grad)
{
    if (s->failed)
        return -1;
    const float *x[2] = {ug_tape_output(c, UG_OUT_IMAGE), style};
    return ug_step_fwd_n(s, t, gen, x, s->t->batch, grad);
}

static void dis_update(ug_step *s, const float *x_a, const float *x_b, float *L)
{
    ug_tape ca, cb, t_ba, t_ab;
    ug_step_zero_grad(s, MU_DISCRIMINATORS);
    const float *s_a = style_codes(s, 0), *s_b = style_codes(s, 1);
    if (ug_step_fwd_nograd(s, &ca, MU_CONTENT_A, x_a) < 0 ||
        ug_step_fwd_nograd(s, &cb, MU_CONTENT_B, x_b) < 0 ||
        decode(s, &t_ba, MU_GEN_A, &cb, s_a, 0) < 0 || decode(s, &t_ab, MU_GEN_B, &ca, s_b, 0) < 0)
        return;
    L[MU_LOSS_D_A] = un_dis_loss(s, MU_DIS_A, ug_tape_output(&t_ba, UG_OUT_IMAGE), x_a);
    L[MU_LOSS_D_B] = un_dis_loss(s, MU_DIS_B, ug_tape_output(&t_ab, UG_OUT_IMAGE), x_b);
    L[MU_LOSS_D] = L[MU_LOSS_D_A] + L[MU_LOSS_D_B];
    if (!ug_step_finite(s, "D", L[MU_LOSS_D]))
        return;
    ug_step_adam(s, MU_DIS_A);
    ug_step_adam(s, MU_DIS_B);
}

/* One domain's networks and loss slots; other is the other domain's. */
typedef struct side {
    int style, content, gen, dis; /* dis: this domain's discriminator */
    int recon_x, recon_s, recon_c, cyc_x, gan;
} side;

static const side sides[2] = {
    {MU_STYLE_A, MU_CONTENT_A, MU_GEN_A, MU_DIS_A, MU_LOSS_RECON_X_A, MU_LOSS_RECON_S_A,
     MU_LOSS_RECON_C_A, MU_LOSS_CYC_X_A, MU_LOSS_GAN_A},
    {MU_STYLE_B, MU_CONTENT_B, MU_GEN_B, MU_DIS_B, MU_LOSS_RECON_X_B, MU_LOSS_RECON_S_B,
     MU_LOSS_RECON_C_B, MU_LOSS_CYC_X_B, MU_LOSS_GAN_B},
};

/* A decode's input gradients back to the tapes that made its inputs. */
static void decode_back(ug_step *s, ug_tape *t, ug_tape *content, ug_tape *style)
{
    ug_step_bwd(s, t, 1, 1);
    ug_step_pass_back(s, t, content);
    if (style)
        ug_step_pass_back_from(s, t, "style", style);
}

/* The gradient of w * mean|x - y| with respect to y (the content loss's
 * target, not detached) into the output gradient of tape y. */
static void l1_target_grad(ug_step *s, ug_tape *x, ug_tape *y, float w)
{
    if (s->failed)
        return;
    const int nx = ug_net_output(x->net, UG_OUT_IMAGE), ny = ug_net_output(y->net, UG_OUT_IMAGE);
    float *g = ug_tape_grad(y, s->a, ny);
    if (!g) {
        s->failed = 1;
        ug_fail(s->err, "out of memory for gradients");
        return;
    }
    ug_l1_backward(s->t->m->k, g, x->out[nx], y->out[ny], ug_tape_numel(y, ny), -w, 1);
}

/* Everything that starts from domain i's content code (tape c[i]) and style
 * code (tape st[i]) of x: the reconstruction; the translation with style
 * code s_j into domain j, its adversarial term, its re-encoding by j's
 * encoders with the style and content losses, and the cycle back into i
 * with i's own style code. Every gradient ends at c[i] and st[i] (the
 * content loss's at c[i] too), whose backward passes the caller runs. */
static void from_codes(ug_step *s, int i, const float *x, ug_tape *c, ug_tape *st,
                       const float *s_j, float *L)
{
    const ug_train_config *tc = &s->t->tc;
    const side *a = &sides[i], *b = &sides[1 - i];
    ug_tape r, t, d, c2, s2, cyc;
    /* x_recon = gen_i.decode(c_i, s_i') */
    const float *s_own = ug_tape_output(&st[i], UG_OUT_IMAGE);
    if (decode(s, &r, a->gen, &c[i], s_own, 1) < 0)
        return;
    L[a->recon_x] = tc->recon_x_w * ug_step_l1(s, &r, x, tc->recon_x_w);
    decode_back(s, &r, &c[i], &st[i]);
    /* x_ij = gen_j.decode(c_i, s_j), judged by j's discriminator */
    if (decode(s, &t, b->gen, &c[i], s_j, 1) < 0)
        return;
    const float *fake = ug_tape_output(&t, UG_OUT_IMAGE);
    if (ug_step_fwd(s, &d, b->dis, fake) < 0)
        return;
    L[b->gan] = tc->adv_weight * un_ms_mse(s, &d, 1, tc->adv_weight);
    ug_step_bwd(s, &d, 0, 1);
    ug_step_pass_back(s, &d, &t);
    /* (c_i_recon, s_j_recon) = gen_j.encode(x_ij) */
    if (ug_step_fwd(s, &s2, b->style, fake) < 0 || ug_step_fwd(s, &c2, b->content, fake) < 0)
        return;
    L[b->recon_s] = tc->recon_s_w * ug_step_l1(s, &s2, s_j, tc->recon_s_w);
    ug_step_bwd(s, &s2, 1, 1);
    ug_step_pass_back(s, &s2, &t);
    L[a->recon_c] = tc->recon_c_w * ug_step_l1(s, &c2, ug_tape_output(&c[i], UG_OUT_IMAGE),
                                               tc->recon_c_w);
    l1_target_grad(s, &c2, &c[i], tc->recon_c_w);
    /* x_iji = gen_i.decode(c_i_recon, s_i') */
    L[a->cyc_x] = 0;
    if (tc->cycle_weight > 0) {
        if (decode(s, &cyc, a->gen, &c2, s_own, 1) < 0)
            return;
        L[a->cyc_x] = tc->cycle_weight * ug_step_l1(s, &cyc, x, tc->cycle_weight);
        decode_back(s, &cyc, &c2, &st[i]);
    }
    ug_step_bwd(s, &c2, 1, 1);
    ug_step_pass_back(s, &c2, &t);
    decode_back(s, &t, &c[i], NULL);
}

static void gen_update(ug_step *s, const float *x_a, const float *x_b, float *L)
{
    const float *x[2] = {x_a, x_b};
    ug_tape c[2], st[2];
    ug_step_zero_grad(s, MU_GENERATORS);
    const float *s_a = style_codes(s, 0), *s_b = style_codes(s, 1);
    for (int i = 0; i < 2; i++)
        if (ug_step_fwd(s, &st[i], sides[i].style, x[i]) < 0 ||
            ug_step_fwd(s, &c[i], sides[i].content, x[i]) < 0)
            return;
    from_codes(s, 0, x_a, c, st, s_b, L);
    from_codes(s, 1, x_b, c, st, s_a, L);
    for (int i = 0; i < 2; i++) {
        ug_step_bwd(s, &c[i], 1, 0);
        ug_step_bwd(s, &st[i], 1, 0);
    }
    if (s->failed)
        return;
    L[MU_LOSS_G] = 0;
    for (int i = MU_LOSS_GAN_A; i <= MU_LOSS_CYC_X_B; i++)
        L[MU_LOSS_G] += L[i];
    if (!ug_step_finite(s, "G", L[MU_LOSS_G]))
        return;
    for (int net = 0; net < MU_N_NETS; net++)
        if ((MU_GENERATORS >> net) & 1u)
            ug_step_adam(s, net);
}

int mu_step(ug_step *s, const float *real_A, const float *real_B, float *L)
{
    dis_update(s, real_A, real_B, L);
    ug_arena_reset(s->a);
    if (!s->failed)
        gen_update(s, real_A, real_B, L);
    return s->failed ? -1 : 0;
}
