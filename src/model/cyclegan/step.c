/* One iteration of the official cycle_gan_model.optimize_parameters: the
 * generators' update (both in one Adam step), then the discriminators'
 * (both in one Adam step) on the pools' answers to the fakes made before
 * the generators moved. Querying a pool during the generator phase gives
 * the same answer as after it (only the fakes, the pool and its generator
 * go in), so the fakes need not outlive their tapes. */
#include "model/cyclegan/cyclegan.h"
#include "model/step.h"

/* One direction of the generator loss: gen translates src (into the domain
 * that dis judges), back translates the fake back. adv, cyc receive the
 * weighted terms; pool `pool` gets the fake, its answer goes to *pooled. Each part's backward pass
 * runs before the next starts, so only its activations are alive. */
static void translation(ug_step *s, int gen, int back, int dis, const float *src, int pool,
                        const float **pooled, float *adv, float *cyc)
{
    const ug_train_config *tc = &s->t->tc;
    ug_tape g, d, rec;
    if (ug_step_fwd(s, &g, gen, src) < 0)
        return;
    const float *fake = ug_tape_output(&g, UG_OUT_IMAGE);
    *pooled = cg_pool_query(s->t->fam_state, pool, s->t->comm, s->t->m->k->be, fake, s->err);
    if (!*pooled)
        s->failed = 1;
    if (ug_step_fwd(s, &d, dis, fake) < 0)
        return;
    *adv = tc->adv_weight * ug_step_mse(s, &d, UG_OUT_IMAGE, 1, tc->adv_weight);
    ug_step_bwd(s, &d, 0, 1);
    ug_step_pass_back(s, &d, &g);
    if (ug_step_fwd(s, &rec, back, fake) < 0)
        return;
    *cyc = tc->cycle_weight * ug_step_l1(s, &rec, src, tc->cycle_weight);
    ug_step_bwd(s, &rec, 1, 1);
    ug_step_pass_back(s, &rec, &g);
    ug_step_bwd(s, &g, 1, 0);
}

/* The identity term: gen on an image of its target domain (official
 * loss_idt_A is G_A(real_B) against real_B), weighted lambda * lambda_idt;
 * skipped at weight 0, as the official code does. */
static void identity(ug_step *s, int gen, const float *x, float *idt)
{
    const ug_train_config *tc = &s->t->tc;
    const float w = tc->cycle_weight * tc->identity_weight;
    ug_tape g;
    *idt = 0;
    if (w == 0 || ug_step_fwd(s, &g, gen, x) < 0)
        return;
    *idt = w * ug_step_l1(s, &g, x, w);
    ug_step_bwd(s, &g, 1, 0);
}

/* pooled[d] receives pool d's answer (0: fake A, 1: fake B). */
static void generator_update(ug_step *s, const float *real_A, const float *real_B,
                             const float *pooled[2], float *L)
{
    ug_step_zero_grad(s, CG_GENERATORS);
    translation(s, CG_G_A, CG_G_B, CG_D_A, real_A, 1, &pooled[1], &L[CG_LOSS_G_A],
                &L[CG_LOSS_CYCLE_A]);
    translation(s, CG_G_B, CG_G_A, CG_D_B, real_B, 0, &pooled[0], &L[CG_LOSS_G_B],
                &L[CG_LOSS_CYCLE_B]);
    identity(s, CG_G_A, real_B, &L[CG_LOSS_IDT_A]);
    identity(s, CG_G_B, real_A, &L[CG_LOSS_IDT_B]);
    if (s->failed)
        return;
    L[CG_LOSS_G] = L[CG_LOSS_G_A] + L[CG_LOSS_G_B] + L[CG_LOSS_CYCLE_A] + L[CG_LOSS_CYCLE_B] +
                   L[CG_LOSS_IDT_A] + L[CG_LOSS_IDT_B];
    if (!ug_step_finite(s, "G", L[CG_LOSS_G]))
        return;
    ug_step_adam(s, CG_G_A);
    ug_step_adam(s, CG_G_B);
}

/* The pool's answer where the discriminator can read it: as it is on a
 * backend with host memory, else uploaded into the arena. */
static const float *on_backend(ug_step *s, const float *host)
{
    const ug_backend *be = s->t->m->k->be;
    const int S = s->t->m->cfg.img_size;
    const size_t bytes = (size_t)s->t->batch * 3 * S * S * sizeof(float);
    if (be->host_memory || s->failed)
        return host;
    float *dev = ug_arena_alloc(s->a, bytes);
    if (!dev) {
        s->failed = 1;
        ug_fail(s->err, "out of memory for the pooled fakes");
        return NULL;
    }
    be->from_host(dev, host, bytes);
    return dev;
}

/* backward_D_basic: half the LSGAN loss on real (target 1) and on the
 * pool's fakes (target 0). */
static float discriminator_loss(ug_step *s, int dis, const float *real, const float *fake)
{
    ug_tape d;
    float loss = 0;
    if (ug_step_fwd(s, &d, dis, real) < 0)
        return 0;
    loss += ug_step_mse(s, &d, UG_OUT_IMAGE, 1, 0.5f);
    ug_step_bwd(s, &d, 1, 0);
    if (!fake || ug_step_fwd(s, &d, dis, fake) < 0)
        return 0;
    loss += ug_step_mse(s, &d, UG_OUT_IMAGE, 0, 0.5f);
    ug_step_bwd(s, &d, 1, 0);
    return 0.5f * loss;
}

static void discriminator_update(ug_step *s, const float *real_A, const float *real_B,
                                 const float *const pooled[2], float *L)
{
    ug_step_zero_grad(s, ((1u << CG_N_NETS) - 1) & ~CG_GENERATORS);
    L[CG_LOSS_D_A] = discriminator_loss(s, CG_D_A, real_B, on_backend(s, pooled[1]));
    L[CG_LOSS_D_B] = discriminator_loss(s, CG_D_B, real_A, on_backend(s, pooled[0]));
    L[CG_LOSS_D] = L[CG_LOSS_D_A] + L[CG_LOSS_D_B];
    if (!ug_step_finite(s, "D", L[CG_LOSS_D]))
        return;
    ug_step_adam(s, CG_D_A);
    ug_step_adam(s, CG_D_B);
}

int cg_step(ug_step *s, const float *real_A, const float *real_B, float *L)
{
    const float *pooled[2] = {NULL, NULL};
    generator_update(s, real_A, real_B, pooled, L);
    ug_arena_reset(s->a);
    if (!s->failed)
        discriminator_update(s, real_A, real_B, pooled, L);
    return s->failed ? -1 : 0;
}
