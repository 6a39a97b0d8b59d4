/* The release's training step: discriminator update, then generator
 * update, then rho clamping (each Adam update clamps its network). The call
 * order of the discriminators is the release's, because every discriminator
 * call advances its spectral-norm state. Both updates start with
 * fake_A2B = G_A2B(real_A) and fake_B2A = G_B2A(real_B) under the same
 * generator weights (the discriminator update changes only its own), so
 * those two calls run once, recorded for the generator update's backward
 * pass, and the discriminators judge their outputs. */
#include "model/step.h"
#include "model/ugatit/ugatit.h"

static void discriminator_update(ug_step *s, const float *real_A, const float *real_B,
                                 const float *fake_A2B, const float *fake_B2A, float *L)
{
    ug_trainer *t = s->t;
    const ug_train_config *tc = &t->tc;
    ug_tape d;
    ug_step_zero_grad(s, ((1u << UG_N_NETS) - 1) & ~UG_GENERATORS);
    if (s->failed)
        return;
    /* Each discriminator on its real images, then on the fakes (the order of
     * its spectral-norm updates in the release), each tape taken backward
     * before the next starts, so one tape is alive at a time. */
    const int dis[4] = {UG_DIS_GA, UG_DIS_LA, UG_DIS_GB, UG_DIS_LB};
    const float *real[4] = {real_A, real_A, real_B, real_B};
    const float *fake[4] = {fake_B2A, fake_B2A, fake_A2B, fake_A2B};
    /* Loss slots per discriminator in the order GA, LA, GB, LB. */
    const int slot[4] = {UG_D_AD_GA, UG_D_AD_LA, UG_D_AD_GB, UG_D_AD_LB};
    float w = tc->adv_weight;
    for (int i = 0; i < 4; i++) {
        float real_loss[2], fake_loss[2];
        if (ug_step_fwd(s, &d, dis[i], real[i]) < 0)
            return;
        real_loss[0] = ug_step_mse(s, &d, UG_OUT_IMAGE, 1, w);
        real_loss[1] = ug_step_has_cam(&d) ? ug_step_mse(s, &d, UG_OUT_CAM, 1, w) : 0;
        ug_step_bwd(s, &d, 1, 0);
        if (ug_step_fwd(s, &d, dis[i], fake[i]) < 0)
            return;
        fake_loss[0] = ug_step_mse(s, &d, UG_OUT_IMAGE, 0, w);
        fake_loss[1] = ug_step_has_cam(&d) ? ug_step_mse(s, &d, UG_OUT_CAM, 0, w) : 0;
        ug_step_bwd(s, &d, 1, 0);
        ug_step_grads_done(s, dis[i]);
        L[slot[i]] = real_loss[0] + fake_loss[0];
        L[slot[i] + 1] = real_loss[1] + fake_loss[1];
    }
    if (s->failed)
        return;
    L[UG_D_LOSS_A] = w * (L[UG_D_AD_GA] + L[UG_D_AD_CAM_GA] + L[UG_D_AD_LA] + L[UG_D_AD_CAM_LA]);
    L[UG_D_LOSS_B] = w * (L[UG_D_AD_GB] + L[UG_D_AD_CAM_GB] + L[UG_D_AD_LB] + L[UG_D_AD_CAM_LB]);
    L[UG_D_LOSS] = L[UG_D_LOSS_A] + L[UG_D_LOSS_B];
    if (!ug_step_finite(s, "Discriminator_loss", L[UG_D_LOSS]))
        return;
    for (int i = UG_DIS_GA; i < UG_N_NETS; i++)
        ug_step_adam(s, i);
}

/* One translation of the generator update: g, the generator's call on src
 * (recorded before the discriminator update), its fake through the target
 * domain's two discriminators (dis[0] global, dis[1] local) and through the
 * other generator back to src (the cycle).
 * Its losses are seeded and its backward pass run before the next part of
 * the update starts, so that only this part's activations (and the other
 * translation's recorded call) are alive: the generators' parameter
 * gradients add up across the parts. adv receives
 * the four adversarial terms (global, its CAM, local, its CAM). */
static void translation(ug_step *s, ug_tape *g, int back, const int dis[2], const float *src,
                        float adv[4], float *recon, float *cam)
{
    const ug_train_config *tc = &s->t->tc;
    ug_tape cyc, d[2];
    if (s->failed)
        return;
    const float *fake = ug_tape_output(g, UG_OUT_IMAGE);
    /* Each discriminator's tape gone before the next tape starts (their
     * parameter gradients are not needed), then the cycle pass. */
    for (int i = 0; i < 2; i++) {
        if (ug_step_fwd(s, &d[i], dis[i], fake) < 0)
            return;
        adv[2 * i] = ug_step_mse(s, &d[i], UG_OUT_IMAGE, 1, tc->adv_weight);
        adv[2 * i + 1] = ug_step_has_cam(&d[i]) ? ug_step_mse(s, &d[i], UG_OUT_CAM, 1, tc->adv_weight) : 0;
        ug_step_bwd(s, &d[i], 0, 1);
        ug_step_pass_back(s, &d[i], g);
    }
    if (ug_step_fwd(s, &cyc, back, fake) < 0)
        return;
    *recon = ug_step_l1(s, &cyc, src, tc->cycle_weight);
    ug_step_bwd(s, &cyc, 1, 1);
    ug_step_pass_back(s, &cyc, g);
    *cam = ug_step_has_cam(g) ? ug_step_bce(s, g, UG_OUT_CAM, 1, tc->cam_weight) : 0;
    ug_step_bwd(s, g, 1, 0);
}

/* The identity part: a domain's image through the generator into it. */
static void identity(ug_step *s, int gen, const float *x, float *idt, float *cam)
{
    const ug_train_config *tc = &s->t->tc;
    ug_tape g;
    if (ug_step_fwd(s, &g, gen, x) < 0)
        return;
    *idt = ug_step_l1(s, &g, x, tc->identity_weight);
    *cam = ug_step_has_cam(&g) ? ug_step_bce(s, &g, UG_OUT_CAM, 0, tc->cam_weight) : 0;
    ug_step_bwd(s, &g, 1, 0);
}

static void generator_update(ug_step *s, const float *real_A, const float *real_B, ug_tape *gab,
                             ug_tape *gba, float *L)
{
    ug_trainer *t = s->t;
    const ug_train_config *tc = &t->tc;
    ug_step_zero_grad(s, UG_GENERATORS);
    /* A to B is judged by B's discriminators and cycled back by B2A; B to A
     * the other way round. */
    const int dis_B[2] = {UG_DIS_GB, UG_DIS_LB}, dis_A[2] = {UG_DIS_GA, UG_DIS_LA};
    float adv_B[4], adv_A[4], cam_AB, cam_BA, cam_AA, cam_BB;
    translation(s, gab, UG_GEN_B2A, dis_B, real_A, adv_B, &L[UG_G_RECON_A], &cam_AB);
    translation(s, gba, UG_GEN_A2B, dis_A, real_B, adv_A, &L[UG_G_RECON_B], &cam_BA);
    identity(s, UG_GEN_B2A, real_A, &L[UG_G_IDENTITY_A], &cam_AA);
    ug_step_grads_done(s, UG_GEN_B2A);
    identity(s, UG_GEN_A2B, real_B, &L[UG_G_IDENTITY_B], &cam_BB);
    ug_step_grads_done(s, UG_GEN_A2B);
    if (s->failed)
        return;

    const int slot_A[4] = {UG_G_AD_GA, UG_G_AD_CAM_GA, UG_G_AD_LA, UG_G_AD_CAM_LA};
    const int slot_B[4] = {UG_G_AD_GB, UG_G_AD_CAM_GB, UG_G_AD_LB, UG_G_AD_CAM_LB};
    for (int i = 0; i < 4; i++) {
        L[slot_A[i]] = adv_A[i];
        L[slot_B[i]] = adv_B[i];
    }
    /* The generator into A is B2A: its CAM tells B inputs (1) from A's (0). */
    L[UG_G_CAM_A] = cam_BA + cam_AA;
    L[UG_G_CAM_B] = cam_AB + cam_BB;
    float adv = tc->adv_weight, cyc = tc->cycle_weight, idt = tc->identity_weight,
          cam = tc->cam_weight;
    L[UG_G_LOSS_A] = adv * (L[UG_G_AD_GA] + L[UG_G_AD_CAM_GA] + L[UG_G_AD_LA] +
                            L[UG_G_AD_CAM_LA]) +
                     cyc * L[UG_G_RECON_A] + idt * L[UG_G_IDENTITY_A] + cam * L[UG_G_CAM_A];
    L[UG_G_LOSS_B] = adv * (L[UG_G_AD_GB] + L[UG_G_AD_CAM_GB] + L[UG_G_AD_LB] +
                            L[UG_G_AD_CAM_LB]) +
                     cyc * L[UG_G_RECON_B] + idt * L[UG_G_IDENTITY_B] + cam * L[UG_G_CAM_B];
    L[UG_G_LOSS] = L[UG_G_LOSS_A] + L[UG_G_LOSS_B];
    if (!ug_step_finite(s, "Generator_loss", L[UG_G_LOSS]))
        return;
    ug_step_adam(s, UG_GEN_A2B);
    ug_step_adam(s, UG_GEN_B2A);
}


int ug_ugatit_step(ug_step *s, const float *real_A, const float *real_B, float *L)
{
    ug_tape gab, gba;
    if (ug_step_fwd(s, &gab, UG_GEN_A2B, real_A) < 0 ||
        ug_step_fwd(s, &gba, UG_GEN_B2A, real_B) < 0)
        return -1;
    discriminator_update(s, real_A, real_B, ug_tape_output(&gab, UG_OUT_IMAGE),
                         ug_tape_output(&gba, UG_OUT_IMAGE), L);
    if (!s->failed)
        generator_update(s, real_A, real_B, &gab, &gba, L);
    return s->failed ? -1 : 0;
}

/* The learning rate of step `step` (the first is 1), the same for the
 * generators and the discriminators. The release subtracts lr / (iteration
 * / 2) from it before each step past the half-way point; this repeats that
 * subtraction in the same double arithmetic, so the value is bit for bit the
 * release's, and stops at 0, where the release would go below it (an odd
 * iteration, or a step past the end). At most iteration / 2 subtractions per
 * call: under a millisecond at the default 1,000,000 steps. */
double ug_ugatit_lr(const ug_train_config *tc, long step)
{
    long half = tc->iteration / 2;
    double lr = tc->lr;
    for (long s = half + 1; tc->decay_flag && half > 0 && s <= step && lr > 0; s++)
        lr -= tc->lr / (double)half;
    return lr > 0 ? lr : 0;
}
