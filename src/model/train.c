/* The release's training step: discriminator update, then generator update,
 * then rho clamping, with Adam (L2 weight decay) and linear learning-rate
 * decay over the second half of training. The call order of the networks is
 * the release's, because every discriminator call advances its spectral-norm
 * state. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/tensor_file.h"
#include "model/checkpoint.h"
#include "nn/tape.h"

#define ADAM_BETA1 0.5f
#define ADAM_BETA2 0.999f
#define ADAM_EPS 1e-8f
/* The refusal of a trainer whose step failed half-way (ug_trainer_step). */
#define FAILED_STATE "the trainer is in a failed state after step %ld failed half-way; " \
                     "reload the checkpoint"

struct ug_trainer {
    ug_model *m;
    ug_train_config tc;
    long step;             /* steps done */
    long failed_step;      /* the step that failed half-way, or 0 */
    float *adam_m[UG_N_NETS], *adam_v[UG_N_NETS]; /* backend memory, as the parameters */
    float *real[2];        /* the step's batches (A, B), uploaded into backend memory */
};

static const char *const loss_names[UG_N_LOSSES] = {
    "D_ad_loss_GA", "D_ad_cam_loss_GA", "D_ad_loss_LA", "D_ad_cam_loss_LA",
    "D_ad_loss_GB", "D_ad_cam_loss_GB", "D_ad_loss_LB", "D_ad_cam_loss_LB",
    "D_loss_A", "D_loss_B", "Discriminator_loss",
    "G_ad_loss_GA", "G_ad_cam_loss_GA", "G_ad_loss_LA", "G_ad_cam_loss_LA",
    "G_ad_loss_GB", "G_ad_cam_loss_GB", "G_ad_loss_LB", "G_ad_cam_loss_LB",
    "G_recon_loss_A", "G_recon_loss_B", "G_identity_loss_A", "G_identity_loss_B",
    "G_cam_loss_A", "G_cam_loss_B", "G_loss_A", "G_loss_B", "Generator_loss",
};

/* Bytes of one domain's batch of images. */
static size_t batch_bytes(const ug_trainer *t)
{
    const size_t S = (size_t)t->m->cfg.img_size;
    return (size_t)t->tc.batch_size * 3 * S * S * sizeof(float);
}

const char *ug_loss_name(ug_loss_term t)
{
    return (unsigned)t < UG_N_LOSSES ? loss_names[t] : "?";
}

void ug_train_config_default(ug_train_config *t)
{
    t->iteration = 1000000;
    t->batch_size = 1;
    t->lr = 1e-4;
    t->weight_decay = 1e-4;
    t->adv_weight = 1;
    t->cycle_weight = 10;
    t->identity_weight = 10;
    t->cam_weight = 1000;
    t->decay_flag = 1;
}

void ug_trainer_free(ug_trainer *t)
{
    if (!t)
        return;
    const ug_backend *be = t->m->k->be;
    for (int i = 0; i < UG_N_NETS; i++) {
        t->m->net[i].be->free(t->adam_m[i]);
        t->m->net[i].be->free(t->adam_v[i]);
    }
    be->free(t->real[0]);
    be->free(t->real[1]);
    free(t);
}

static int check_train_config(const ug_train_config *tc, ug_error *err)
{
    if (tc->iteration < 1)
        return ug_fail(err, "iteration must be at least 1 (got %ld)", tc->iteration);
    if (tc->batch_size < 1)
        return ug_fail(err, "batch_size must be at least 1 (got %d)", tc->batch_size);
    if (!(tc->lr >= 0) || !(tc->weight_decay >= 0))
        return ug_fail(err, "lr and weight_decay must be non-negative");
    return 0;
}

int ug_trainer_new(ug_trainer **out, ug_model *m, const ug_train_config *tc, ug_error *err)
{
    *out = NULL;
    if (m->nets != UG_ALL_NETS)
        return ug_fail(err, "the model holds only generators (loaded for translation), so it "
                            "cannot be trained");
    if (check_train_config(tc, err) < 0)
        return -1;
    ug_trainer *t = calloc(1, sizeof *t);
    if (!t)
        return ug_fail(err, "out of memory");
    t->m = m;
    t->tc = *tc;
    for (int i = 0; i < UG_N_NETS; i++) {
        const ug_backend *be = m->net[i].be;
        size_t bytes = (m->net[i].total ? m->net[i].total : 1) * sizeof(float);
        t->adam_m[i] = be->alloc(bytes);
        t->adam_v[i] = be->alloc(bytes);
        if (!t->adam_m[i] || !t->adam_v[i]) {
            ug_trainer_free(t);
            return ug_fail(err, "out of memory for the optimiser state");
        }
        be->zero(t->adam_m[i], bytes);
        be->zero(t->adam_v[i], bytes);
    }
    for (int d = 0; d < 2; d++)
        if (!(t->real[d] = m->k->be->alloc(batch_bytes(t)))) {
            ug_trainer_free(t);
            return ug_fail(err, "out of memory for the training batches");
        }
    *out = t;
    return 0;
}

const ug_train_config *ug_trainer_config(const ug_trainer *t) { return &t->tc; }

/* The learning rate of step `step` (the first is 1), the same for the
 * generators and the discriminators. The release subtracts lr / (iteration
 * / 2) from it before each step past the half-way point; this repeats that
 * subtraction in the same double arithmetic, so the value is bit for bit the
 * release's, and stops at 0, where the release would go below it (an odd
 * iteration, or a step past the end). At most iteration / 2 subtractions per
 * call: under a millisecond at the default 1,000,000 steps. */
static double scheduled_lr(const ug_train_config *tc, long step)
{
    long half = tc->iteration / 2;
    double lr = tc->lr;
    for (long s = half + 1; tc->decay_flag && half > 0 && s <= step && lr > 0; s++)
        lr -= tc->lr / (double)half;
    return lr > 0 ? lr : 0;
}

int ug_trainer_set_step(ug_trainer *t, long step, ug_error *err)
{
    if (step < 0)
        return ug_fail(err, "step must not be negative (got %ld)", step);
    t->step = step;
    return 0;
}

int ug_trainer_set_iteration(ug_trainer *t, long iteration, ug_error *err)
{
    if (iteration < 1)
        return ug_fail(err, "iteration must be at least 1 (got %ld)", iteration);
    t->tc.iteration = iteration;
    return 0;
}

long ug_trainer_step_count(const ug_trainer *t) { return t->step; }
double ug_trainer_lr(const ug_trainer *t) { return scheduled_lr(&t->tc, t->step); }

/* ---- one step ---- */

typedef struct {
    ug_trainer *t;
    ug_arena *a;
    ug_error *err;
    double lr;   /* this step's learning rate */
    int failed;
} step_ctx;

/* Every network runs in training mode, as the release's modules do. */
static int fwd(step_ctx *s, ug_tape *tape, int net, const float *x)
{
    if (s->failed)
        return -1;
    ug_model *m = s->t->m;
    if (ug_tape_forward(tape, m->k, s->a, &m->net[net], &x, s->t->tc.batch_size, UG_TRAIN,
                        s->err) < 0)
        s->failed = 1;
    return s->failed ? -1 : 0;
}

/* A generator call that no backward pass goes through (the D phase's fakes):
 * only its outputs are kept, dead activations are recycled. */
static int fwd_nograd(step_ctx *s, ug_tape *tape, int net, const float *x)
{
    if (s->failed)
        return -1;
    ug_model *m = s->t->m;
    if (ug_tape_forward_nograd(tape, m->k, s->a, &m->net[net], &x, s->t->tc.batch_size,
                               UG_TRAIN, s->err) < 0)
        s->failed = 1;
    return s->failed ? -1 : 0;
}

/* The node of a network's output NAME; a missing one is a bug, reported. */
static int output(step_ctx *s, const ug_tape *tape, const char *name)
{
    int node = ug_net_output(tape->net, name);
    if (node < 0 && !s->failed) {
        s->failed = 1;
        ug_fail(s->err, "internal: a network without its output '%s'", name);
    }
    return node;
}

/* Whether a network has CAM attention (the ablations drop it): without it
 * the CAM terms of the losses are 0 and seed no gradient. */
static int has_cam(const ug_tape *tape) { return ug_net_output(tape->net, UG_OUT_CAM) >= 0; }

static float *grad_of(step_ctx *s, ug_tape *tape, int node)
{
    float *g = s->failed ? NULL : ug_tape_grad(tape, s->a, node);
    if (!g && !s->failed) {
        s->failed = 1;
        ug_fail(s->err, "out of memory for gradients");
    }
    return g;
}

/* scale * MSE(output, target), seeding its gradient; returns the unscaled loss. */
static float mse(step_ctx *s, ug_tape *tape, const char *name, float target, float scale)
{
    int node = output(s, tape, name);
    float *g = node < 0 ? NULL : grad_of(s, tape, node);
    if (!g)
        return 0;
    size_t n = ug_tape_numel(tape, node);
    ug_mse_const_backward(s->t->m->k, g, tape->out[node], n, target, scale, 1);
    return ug_mse_const_forward(s->t->m->k, tape->out[node], n, target);
}

static float bce(step_ctx *s, ug_tape *tape, const char *name, float target, float scale)
{
    int node = output(s, tape, name);
    float *g = node < 0 ? NULL : grad_of(s, tape, node);
    if (!g)
        return 0;
    size_t n = ug_tape_numel(tape, node);
    ug_bce_logits_const_backward(s->t->m->k, g, tape->out[node], n, target, scale, 1);
    return ug_bce_logits_const_forward(s->t->m->k, tape->out[node], n, target);
}

static float l1(step_ctx *s, ug_tape *tape, const float *target, float scale)
{
    int node = output(s, tape, UG_OUT_IMAGE);
    float *g = node < 0 ? NULL : grad_of(s, tape, node);
    if (!g)
        return 0;
    size_t n = ug_tape_numel(tape, node);
    ug_l1_backward(s->t->m->k, g, tape->out[node], target, n, scale, 1);
    return ug_l1_forward(s->t->m->k, tape->out[node], target, n);
}

static void bwd(step_ctx *s, ug_tape *tape, int param_grads, int input_grad)
{
    if (!s->failed &&
        ug_tape_backward(tape, s->t->m->k, s->a, param_grads, input_grad, s->err) < 0)
        s->failed = 1;
}

/* Adds the gradient that reached a discriminator's input to a generator output. */
static void pass_back(step_ctx *s, const ug_tape *d, ug_tape *g)
{
    int out = output(s, g, UG_OUT_IMAGE), in = ug_net_input(d->net, "image");
    float *dst = out < 0 ? NULL : grad_of(s, g, out);
    if (!dst || in < 0 || !d->grad[in])
        return;
    ug_add_forward(s->t->m->k, dst, dst, d->grad[in], ug_tape_numel(g, out));
}

static void adam(ug_trainer *t, int net, double lr)
{
    ug_net *n = &t->m->net[net];
    for (int p = 0; p < n->n_params; p++) {
        const ug_param *pp = &n->params[p];
        if (pp->kind != UG_TRAINABLE)
            continue;
        ug_adam_update(t->m->k, n->data + pp->off, n->grad + pp->off, t->adam_m[net] + pp->off,
                       t->adam_v[net] + pp->off, pp->numel, (float)lr, ADAM_BETA1, ADAM_BETA2,
                       ADAM_EPS, (float)t->tc.weight_decay, t->step + 1);
    }
}

/* A loss that is not finite would take the parameters with it: the step
 * fails before the optimiser runs. */
static int finite_loss(step_ctx *s, const char *name, float loss)
{
    if (isfinite(loss))
        return 1;
    s->failed = 1;
    ug_fail(s->err, "the losses are not finite (%s %g)", name, loss);
    return 0;
}

static void discriminator_update(step_ctx *s, const float *real_A, const float *real_B,
                                 float *L)
{
    ug_trainer *t = s->t;
    const ug_train_config *tc = &t->tc;
    ug_net *nets = t->m->net;
    ug_tape gab, gba, d;
    for (int i = UG_DIS_GA; i < UG_N_NETS; i++)
        if (ug_net_zero_grad(&nets[i], s->err) < 0)
            s->failed = 1;
    fwd_nograd(s, &gab, UG_GEN_A2B, real_A);
    fwd_nograd(s, &gba, UG_GEN_B2A, real_B);
    if (s->failed)
        return;
    const float *fake_A2B = ug_tape_output(&gab, UG_OUT_IMAGE);
    const float *fake_B2A = ug_tape_output(&gba, UG_OUT_IMAGE);
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
        if (fwd(s, &d, dis[i], real[i]) < 0)
            return;
        real_loss[0] = mse(s, &d, UG_OUT_IMAGE, 1, w);
        real_loss[1] = has_cam(&d) ? mse(s, &d, UG_OUT_CAM, 1, w) : 0;
        bwd(s, &d, 1, 0);
        if (fwd(s, &d, dis[i], fake[i]) < 0)
            return;
        fake_loss[0] = mse(s, &d, UG_OUT_IMAGE, 0, w);
        fake_loss[1] = has_cam(&d) ? mse(s, &d, UG_OUT_CAM, 0, w) : 0;
        bwd(s, &d, 1, 0);
        L[slot[i]] = real_loss[0] + fake_loss[0];
        L[slot[i] + 1] = real_loss[1] + fake_loss[1];
    }
    if (s->failed)
        return;
    L[UG_D_LOSS_A] = w * (L[UG_D_AD_GA] + L[UG_D_AD_CAM_GA] + L[UG_D_AD_LA] + L[UG_D_AD_CAM_LA]);
    L[UG_D_LOSS_B] = w * (L[UG_D_AD_GB] + L[UG_D_AD_CAM_GB] + L[UG_D_AD_LB] + L[UG_D_AD_CAM_LB]);
    L[UG_D_LOSS] = L[UG_D_LOSS_A] + L[UG_D_LOSS_B];
    if (!finite_loss(s, "Discriminator_loss", L[UG_D_LOSS]))
        return;
    for (int i = UG_DIS_GA; i < UG_N_NETS; i++)
        adam(t, i, s->lr);
}

/* One translation of the generator update: src through gen to a fake, the
 * fake through the target domain's two discriminators (dis[0] global,
 * dis[1] local) and through the other generator back to src (the cycle).
 * Its losses are seeded and its backward pass run before the next part of
 * the update starts, so that only this part's activations are alive: the
 * generators' parameter gradients add up across the parts. adv receives
 * the four adversarial terms (global, its CAM, local, its CAM). */
static void translation(step_ctx *s, int gen, int back, const int dis[2], const float *src,
                        float adv[4], float *recon, float *cam)
{
    const ug_train_config *tc = &s->t->tc;
    ug_tape g, cyc, d[2];
    if (fwd(s, &g, gen, src) < 0)
        return;
    const float *fake = ug_tape_output(&g, UG_OUT_IMAGE);
    /* Each discriminator's tape gone before the next tape starts (their
     * parameter gradients are not needed), then the cycle pass. */
    for (int i = 0; i < 2; i++) {
        if (fwd(s, &d[i], dis[i], fake) < 0)
            return;
        adv[2 * i] = mse(s, &d[i], UG_OUT_IMAGE, 1, tc->adv_weight);
        adv[2 * i + 1] = has_cam(&d[i]) ? mse(s, &d[i], UG_OUT_CAM, 1, tc->adv_weight) : 0;
        bwd(s, &d[i], 0, 1);
        pass_back(s, &d[i], &g);
    }
    if (fwd(s, &cyc, back, fake) < 0)
        return;
    *recon = l1(s, &cyc, src, tc->cycle_weight);
    bwd(s, &cyc, 1, 1);
    pass_back(s, &cyc, &g);
    *cam = has_cam(&g) ? bce(s, &g, UG_OUT_CAM, 1, tc->cam_weight) : 0;
    bwd(s, &g, 1, 0);
}

/* The identity part: a domain's image through the generator into it. */
static void identity(step_ctx *s, int gen, const float *x, float *idt, float *cam)
{
    const ug_train_config *tc = &s->t->tc;
    ug_tape g;
    if (fwd(s, &g, gen, x) < 0)
        return;
    *idt = l1(s, &g, x, tc->identity_weight);
    *cam = has_cam(&g) ? bce(s, &g, UG_OUT_CAM, 0, tc->cam_weight) : 0;
    bwd(s, &g, 1, 0);
}

static void generator_update(step_ctx *s, const float *real_A, const float *real_B, float *L)
{
    ug_trainer *t = s->t;
    const ug_train_config *tc = &t->tc;
    ug_net *nets = t->m->net;
    if (ug_net_zero_grad(&nets[UG_GEN_A2B], s->err) < 0 ||
        ug_net_zero_grad(&nets[UG_GEN_B2A], s->err) < 0)
        s->failed = 1;
    /* A to B is judged by B's discriminators and cycled back by B2A; B to A
     * the other way round. */
    const int dis_B[2] = {UG_DIS_GB, UG_DIS_LB}, dis_A[2] = {UG_DIS_GA, UG_DIS_LA};
    float adv_B[4], adv_A[4], cam_AB, cam_BA, cam_AA, cam_BB;
    translation(s, UG_GEN_A2B, UG_GEN_B2A, dis_B, real_A, adv_B, &L[UG_G_RECON_A], &cam_AB);
    translation(s, UG_GEN_B2A, UG_GEN_A2B, dis_A, real_B, adv_A, &L[UG_G_RECON_B], &cam_BA);
    identity(s, UG_GEN_B2A, real_A, &L[UG_G_IDENTITY_A], &cam_AA);
    identity(s, UG_GEN_A2B, real_B, &L[UG_G_IDENTITY_B], &cam_BB);
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
    if (!finite_loss(s, "Generator_loss", L[UG_G_LOSS]))
        return;
    adam(t, UG_GEN_A2B, s->lr);
    adam(t, UG_GEN_B2A, s->lr);
    ug_net_clamp(&nets[UG_GEN_A2B], t->m->k);
    ug_net_clamp(&nets[UG_GEN_B2A], t->m->k);
}

int ug_trainer_step(ug_trainer *t, const float *real_A, const float *real_B, int n,
                    float *losses, ug_error *err)
{
    float L[UG_N_LOSSES] = {0};
    long step = t->step + 1;
    /* Checks before any change leave the trainer as it was. */
    if (t->failed_step)
        return ug_fail(err, "training step %ld: " FAILED_STATE, step, t->failed_step);
    if (n != t->tc.batch_size)
        return ug_fail(err, "training step %ld: a batch of %d images per domain, but the "
                            "trainer's batch_size is %d", step, n, t->tc.batch_size);
    if (ug_kctx_bf16(t->m->k))
        return ug_fail(err, "training step %ld: the model is set to bf16, which is for "
                            "inference only", step);
    ug_arena *a = &t->m->arena;
    step_ctx s = {t, a, err, scheduled_lr(&t->tc, step), 0};
    t->m->k->be->from_host(t->real[0], real_A, batch_bytes(t));
    t->m->k->be->from_host(t->real[1], real_B, batch_bytes(t));
    real_A = t->real[0], real_B = t->real[1];
    ug_arena_reset(a);
    discriminator_update(&s, real_A, real_B, L);
    ug_arena_reset(a);
    if (!s.failed)
        generator_update(&s, real_A, real_B, L);
    if (s.failed) {
        /* Spectral-norm states, and maybe the discriminators, have moved. */
        t->failed_step = step;
        return ug_error_prefix(err, "training step %ld", step);
    }
    t->step = step;
    if (losses)
        memcpy(losses, L, sizeof L);
    return 0;
}

/* ---- training checkpoints ---- */

int ug_trainer_save(const ug_trainer *t, const char *path, const char *const *extra_meta,
                    int n_extra, ug_error *err)
{
    if (t->failed_step)
        return ug_fail(err, "%s: not saved: " FAILED_STATE, path, t->failed_step);
    const ug_model *m = t->m;
    const ug_train_config *tc = &t->tc;
    double lr = scheduled_lr(tc, t->step);
    ug_ckpt_writer w;
    ug_cw_init(&w);
    /* The writer reads host memory: the backend's, mapped until it is written. */
    float *data[UG_N_NETS], *mom[UG_N_NETS], *var[UG_N_NETS];
    int mapped = 1;
    for (int i = 0; i < UG_N_NETS; i++) {
        const ug_backend *be = m->net[i].be;
        size_t bytes = m->net[i].total * sizeof(float);
        data[i] = be->map(m->net[i].data, bytes);
        mom[i] = be->map(t->adam_m[i], bytes);
        var[i] = be->map(t->adam_v[i], bytes);
        mapped &= data[i] && mom[i] && var[i];
    }
    ug_cw_config(&w, &m->cfg);
    ug_cw_meta(&w, "step", "%ld", t->step);
    ug_cw_meta(&w, "lr_g", "%.17g", lr);
    ug_cw_meta(&w, "lr_d", "%.17g", lr);
    ug_cw_meta(&w, "iteration", "%ld", tc->iteration);
    ug_cw_meta(&w, "batch_size", "%d", tc->batch_size);
    ug_cw_meta(&w, "lr", "%.17g", tc->lr);
    ug_cw_meta(&w, "weight_decay", "%.17g", tc->weight_decay);
    ug_cw_meta(&w, "adv_weight", "%.9g", tc->adv_weight);
    ug_cw_meta(&w, "cycle_weight", "%.9g", tc->cycle_weight);
    ug_cw_meta(&w, "identity_weight", "%.9g", tc->identity_weight);
    ug_cw_meta(&w, "cam_weight", "%.9g", tc->cam_weight);
    ug_cw_meta(&w, "decay_flag", "%s", tc->decay_flag ? "true" : "false");
    for (int i = 0; i < n_extra; i++)
        ug_cw_meta(&w, extra_meta[2 * i], "%s", extra_meta[2 * i + 1]);
    ug_cw_model(&w, m, "", data, 0);
    ug_cw_model(&w, m, "optim.m.", mom, 1);
    ug_cw_model(&w, m, "optim.v.", var, 1);
    int rc = mapped ? ug_cw_write(&w, path, err)
                    : ug_fail(err, "%s: out of memory reading the model for saving", path);
    ug_cw_free(&w);
    for (int i = 0; i < UG_N_NETS; i++) {
        const ug_backend *be = m->net[i].be;
        size_t bytes = m->net[i].total * sizeof(float);
        be->unmap(m->net[i].data, data[i], bytes, 0);
        be->unmap(t->adam_m[i], mom[i], bytes, 0);
        be->unmap(t->adam_v[i], var[i], bytes, 0);
    }
    return rc;
}

static int read_train_config(const ug_st_file *f, const char *path, ug_train_config *tc,
                             ug_error *err)
{
    long iteration, batch;
    double v[6];
    const char *keys[6] = {"lr", "weight_decay", "adv_weight", "cycle_weight",
                           "identity_weight", "cam_weight"};
    if (ug_ckpt_meta_long(f, path, "iteration", &iteration, err) < 0 ||
        ug_ckpt_meta_long(f, path, "batch_size", &batch, err) < 0)
        return -1;
    for (int i = 0; i < 6; i++)
        if (ug_ckpt_meta_double(f, path, keys[i], &v[i], err) < 0)
            return -1;
    const char *decay = ug_st_meta(f, "decay_flag");
    if (!decay || (strcmp(decay, "true") && strcmp(decay, "false")))
        return ug_fail(err, "%s: metadata 'decay_flag' must be true or false", path);
    if (batch < 1 || batch > 1 << 16)
        return ug_fail(err, "%s: metadata 'batch_size' = %ld is out of range", path, batch);
    tc->iteration = iteration;
    tc->batch_size = (int)batch;
    tc->lr = v[0];
    tc->weight_decay = v[1];
    tc->adv_weight = (float)v[2];
    tc->cycle_weight = (float)v[3];
    tc->identity_weight = (float)v[4];
    tc->cam_weight = (float)v[5];
    tc->decay_flag = strcmp(decay, "true") == 0;
    return check_train_config(tc, err) < 0 ? ug_error_prefix(err, "%s", path) : 0;
}

int ug_trainer_load(ug_trainer **out, ug_model **model, const char *path, ug_error *err)
{
    *out = NULL;
    *model = NULL;
    ug_st_file *f;
    if (ug_tensor_file_open(&f, path, err) < 0)
        return -1;
    ug_config c;
    ug_train_config tc;
    ug_model *m = NULL;
    ug_trainer *t = NULL;
    unsigned nets;
    int rc = -1;
    long step;
    if (ug_ckpt_config(f, path, NULL, &c, &nets, err) < 0 ||
        read_train_config(f, path, &tc, err) < 0 ||
        ug_ckpt_meta_long(f, path, "step", &step, err) < 0)
        goto done;
    if (step < 0) {
        ug_fail(err, "%s: metadata 'step' is negative", path);
        goto done;
    }
    if (ug_model_build(&m, &c, UG_ALL_NETS, err) < 0) {
        ug_error_prefix(err, "%s", path);
        goto done;
    }
    if (ug_trainer_new(&t, m, &tc, err) < 0)
        goto done;
    float *data[UG_N_NETS];
    for (int i = 0; i < UG_N_NETS; i++)
        data[i] = m->net[i].data;
    if (ug_ckpt_read_model(f, path, m, "", data, 0, err) < 0 ||
        ug_ckpt_read_model(f, path, m, "optim.m.", t->adam_m, 1, err) < 0 ||
        ug_ckpt_read_model(f, path, m, "optim.v.", t->adam_v, 1, err) < 0)
        goto done;
    t->step = step;
    rc = 0;
done:
    ug_st_close(f);
    if (rc < 0) {
        ug_trainer_free(t);
        ug_model_free(m);
    } else {
        *out = t;
        *model = m;
    }
    return rc;
}
