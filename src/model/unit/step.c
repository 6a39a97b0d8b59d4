/* One iteration of the official UNIT_Trainer: dis_update, then gen_update,
 * each with its own Adam step and its own noise. Every training decode
 * reads z = h + n with h the encoder's output and n ~ N(0, I) (noise.c);
 * the gradient of z is h's, and the KL term mean(h^2) seeds h's gradient
 * too. The generator losses all go back through the tapes that made them
 * before each tape's own backward pass, so the totals are exact; the
 * official order of the draws is kept: dis_update n_a, n_b; gen_update
 * n_a, n_b, n_b_recon (enc_a on x_ba), n_a_recon (enc_b on x_ab). */
#include "model/step.h"
#include "model/unit/unit.h"

/* Slots of a step's draws (un_noise_draw). */
enum { N_A, N_B, N_B_RECON, N_A_RECON };

/* z = h + n for the encoder output on tape e, n drawn into slot; in the
 * step's arena. */
static const float *latent(ug_step *s, const ug_tape *e, int slot)
{
    if (s->failed)
        return NULL;
    const ug_backend *be = s->t->m->k->be;
    const int node = ug_net_output(e->net, UG_OUT_IMAGE);
    const size_t n = ug_tape_numel(e, node), bytes = n * sizeof(float);
    const float *noise = un_noise_draw(s->t->fam_state, slot, n, s->t->comm);
    float *z = ug_arena_alloc(s->a, bytes);
    float *dev = be->host_memory ? NULL : ug_arena_alloc(s->a, bytes);
    if (!noise || !z || (!be->host_memory && !dev)) {
        s->failed = 1;
        ug_fail(s->err, "out of memory for the latent noise");
        return NULL;
    }
    if (dev) {
        be->from_host(dev, noise, bytes);
        noise = dev;
    }
    ug_add_forward(s->t->m->k, z, e->out[node], noise, n);
    return z;
}

float un_ms_mse(ug_step *s, ug_tape *d, float target, float w)
{
    float sum = 0;
    for (int k = 0; k < s->t->m->cfg.dis_local; k++)
        sum += ug_step_mse(s, d, un_scale_output(k), target, w);
    return sum;
}

float un_dis_loss(ug_step *s, int dis, const float *fake, const float *real)
{
    const float w = s->t->tc.adv_weight;
    ug_tape d;
    float loss = 0;
    if (ug_step_fwd(s, &d, dis, fake) < 0)
        return 0;
    loss += un_ms_mse(s, &d, 0, w);
    ug_step_bwd(s, &d, 1, 0);
    if (ug_step_fwd(s, &d, dis, real) < 0)
        return 0;
    loss += un_ms_mse(s, &d, 1, w);
    ug_step_bwd(s, &d, 1, 0);
    return w * loss;
}

static void dis_update(ug_step *s, const float *x_a, const float *x_b, float *L)
{
    ug_tape ea, eb, t;
    ug_step_zero_grad(s, UN_DISCRIMINATORS);
    if (ug_step_fwd_nograd(s, &ea, UN_ENC_A, x_a) < 0 ||
        ug_step_fwd_nograd(s, &eb, UN_ENC_B, x_b) < 0)
        return;
    const float *z_a = latent(s, &ea, N_A), *z_b = latent(s, &eb, N_B);
    const float *x_ba = NULL, *x_ab = NULL;
    if (ug_step_fwd_nograd(s, &t, UN_DEC_A, z_b) == 0)
        x_ba = ug_tape_output(&t, UG_OUT_IMAGE);
    ug_tape t2;
    if (ug_step_fwd_nograd(s, &t2, UN_DEC_B, z_a) == 0)
        x_ab = ug_tape_output(&t2, UG_OUT_IMAGE);
    if (s->failed)
        return;
    L[UN_LOSS_D_A] = un_dis_loss(s, UN_DIS_A, x_ba, x_a);
    L[UN_LOSS_D_B] = un_dis_loss(s, UN_DIS_B, x_ab, x_b);
    L[UN_LOSS_D] = L[UN_LOSS_D_A] + L[UN_LOSS_D_B];
    if (!ug_step_finite(s, "D", L[UN_LOSS_D]))
        return;
    ug_step_adam(s, UN_DIS_A);
    ug_step_adam(s, UN_DIS_B);
}

/* The weights and loss slots of one domain's generator terms. */
typedef struct side {
    int enc, dec, other_enc, other_dec, dis;
    int recon_slot; /* the draw of the cycle's encode (by the other domain's encoder) */
    int gan, recon_x, recon_kl, cyc_x, cyc_kl;
} side;

static const side sides[2] = {
    {UN_ENC_A, UN_DEC_A, UN_ENC_B, UN_DEC_B, UN_DIS_B, N_A_RECON, UN_LOSS_GAN_B,
     UN_LOSS_RECON_X_A, UN_LOSS_RECON_KL_A, UN_LOSS_CYC_X_A, UN_LOSS_CYC_KL_A},
    {UN_ENC_B, UN_DEC_B, UN_ENC_A, UN_DEC_A, UN_DIS_A, N_B_RECON, UN_LOSS_GAN_A,
     UN_LOSS_RECON_X_B, UN_LOSS_RECON_KL_B, UN_LOSS_CYC_X_B, UN_LOSS_CYC_KL_B},
};

/* Everything that starts from domain x's latent z (its encoder on tape e):
 * the reconstruction, and the translation with its adversarial term and its
 * cycle back through the other domain's encoder and x's decoder. Every
 * gradient ends at e's output, whose backward pass the caller runs. */
static void from_latent(ug_step *s, const side *sd, const float *x, ug_tape *e, const float *z,
                        float *L)
{
    const ug_train_config *tc = &s->t->tc;
    ug_tape r, t, d, e2, c;
    /* x_recon = dec(h + n) */
    if (ug_step_fwd(s, &r, sd->dec, z) < 0)
        return;
    L[sd->recon_x] = tc->recon_x_w * ug_step_l1(s, &r, x, tc->recon_x_w);
    ug_step_bwd(s, &r, 1, 1);
    ug_step_pass_back(s, &r, e);
    L[sd->recon_kl] = tc->recon_kl_w * ug_step_mse(s, e, UG_OUT_IMAGE, 0, tc->recon_kl_w);
    /* the translation and the other domain's discriminator on it */
    if (ug_step_fwd(s, &t, sd->other_dec, z) < 0)
        return;
    const float *fake = ug_tape_output(&t, UG_OUT_IMAGE);
    if (ug_step_fwd(s, &d, sd->dis, fake) < 0)
        return;
    L[sd->gan] = tc->adv_weight * un_ms_mse(s, &d, 1, tc->adv_weight);
    ug_step_bwd(s, &d, 0, 1);
    ug_step_pass_back(s, &d, &t);
    /* the cycle: the other encoder on the fake, x's decoder on its latent */
    if (ug_step_fwd(s, &e2, sd->other_enc, fake) < 0)
        return;
    const float *z2 = latent(s, &e2, sd->recon_slot);
    if (!z2 || ug_step_fwd(s, &c, sd->dec, z2) < 0)
        return;
    L[sd->cyc_x] = tc->cycle_weight * ug_step_l1(s, &c, x, tc->cycle_weight);
    ug_step_bwd(s, &c, 1, 1);
    ug_step_pass_back(s, &c, &e2);
    L[sd->cyc_kl] = tc->recon_kl_cyc_w * ug_step_mse(s, &e2, UG_OUT_IMAGE, 0, tc->recon_kl_cyc_w);
    ug_step_bwd(s, &e2, 1, 1);
    ug_step_pass_back(s, &e2, &t);
    ug_step_bwd(s, &t, 1, 1);
    ug_step_pass_back(s, &t, e);
}

static void gen_update(ug_step *s, const float *x_a, const float *x_b, float *L)
{
    const float *x[2] = {x_a, x_b};
    ug_tape e[2];
    const float *z[2];
    ug_step_zero_grad(s, UN_GENERATORS);
    /* The encodes of the real images draw first (n_a, n_b); the cycle's
     * draws come in the official order because b's cycle (n_b_recon) runs first. */
    for (int i = 0; i < 2; i++)
        if (ug_step_fwd(s, &e[i], sides[i].enc, x[i]) < 0 || !(z[i] = latent(s, &e[i], i)))
            return;
    from_latent(s, &sides[1], x_b, &e[1], z[1], L);
    from_latent(s, &sides[0], x_a, &e[0], z[0], L);
    ug_step_bwd(s, &e[0], 1, 0);
    ug_step_bwd(s, &e[1], 1, 0);
    if (s->failed)
        return;
    L[UN_LOSS_G] = 0;
    for (int i = UN_LOSS_GAN_A; i <= UN_LOSS_CYC_KL_B; i++)
        L[UN_LOSS_G] += L[i];
    if (!ug_step_finite(s, "G", L[UN_LOSS_G]))
        return;
    for (int i = 0; i < 2; i++) {
        ug_step_adam(s, sides[i].enc);
        ug_step_adam(s, sides[i].dec);
    }
}

int un_step(ug_step *s, const float *real_A, const float *real_B, float *L)
{
    dis_update(s, real_A, real_B, L);
    ug_arena_reset(s->a);
    if (!s->failed)
        gen_update(s, real_A, real_B, L);
    return s->failed ? -1 : 0;
}
