/* The trainer of every family: Adam's state, the family's learning-rate
 * schedule and training state, the step count and the failed state around
 * the family's step, and training checkpoints. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/spill.h"
#include "io/tensor_file.h"
#include "model/checkpoint.h"
#include "model/step.h"

/* The refusal of a trainer whose step failed half-way (ug_trainer_step). */
#define FAILED_STATE "the trainer is in a failed state after step %ld failed half-way; " \
                     "reload the checkpoint"

void ug_trainer_total_losses(const ug_trainer *t, int *d_loss, int *g_loss)
{
    *d_loss = t->m->fam->d_loss;
    *g_loss = t->m->fam->g_loss;
}

/* Bytes of one domain's batch of images on this rank. */
static size_t batch_bytes(const ug_trainer *t)
{
    const size_t S = (size_t)t->m->cfg.img_size;
    return (size_t)t->batch * 3 * S * S * sizeof(float);
}

int ug_trainer_loss_count(const ug_trainer *t) { return t->m->fam->n_losses; }

const char *ug_trainer_loss_name(const ug_trainer *t, int i)
{
    return i >= 0 && i < t->m->fam->n_losses ? t->m->fam->loss_names[i] : "?";
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
    t->seed = 0;
    t->epoch_steps = 0;
    t->n_epochs_decay = 0;
    t->recon_x_w = 10;
    t->recon_kl_w = 0.01f;
    t->recon_kl_cyc_w = 0.01f;
    t->recon_s_w = 1;
    t->recon_c_w = 1;
    t->step_size = 100000;
    t->gamma = 0.5;
    t->d_iter = 3;
    t->no_ms = 0;
    t->n_ep_decay = 0;
    t->moments_dir = NULL;
    t->moments_in_memory_max = 0;
}

int ug_train_config_for(ug_train_config *t, const char *family, ug_error *err)
{
    const ug_family *fam = ug_family_find(family, err);
    if (!fam)
        return -1;
    ug_train_config_default(t);
    if (fam->train_defaults)
        fam->train_defaults(t);
    return 0;
}

static size_t moments_bytes(const ug_net *n) { return (n->total ? n->total : 1) * sizeof(float); }

size_t ug_trainer_moments_bytes(const ug_model *m)
{
    size_t bytes = 0;
    for (int i = 0; i < m->fam->n_nets; i++)
        bytes += 2 * moments_bytes(&m->net[i]);
    return bytes;
}

/* Allocates net i's two moments, zeroed: backend memory, or a file's. */
static int alloc_moments(ug_trainer *t, int i, ug_error *err)
{
    const ug_backend *be = t->m->net[i].be;
    size_t bytes = moments_bytes(&t->m->net[i]);
    if (t->tc.moments_dir) {
        if (ug_spill_alloc(&t->moments[0][i], t->tc.moments_dir, bytes, err) < 0 ||
            ug_spill_alloc(&t->moments[1][i], t->tc.moments_dir, bytes, err) < 0)
            return ug_error_prefix(err, "Adam's moments");
        t->adam_m[i] = t->moments[0][i].map;
        t->adam_v[i] = t->moments[1][i].map;
        return 0;
    }
    t->adam_m[i] = be->alloc(bytes);
    t->adam_v[i] = be->alloc(bytes);
    if (!t->adam_m[i] || !t->adam_v[i])
        return ug_fail(err, "out of memory for the optimiser state");
    be->zero(t->adam_m[i], bytes);
    be->zero(t->adam_v[i], bytes);
    return 0;
}

/* Drops file-backed moments (tc.moments_dir) from the process's memory after
 * something read or wrote them through their mappings. */
static void release_moments(const ug_trainer *t)
{
    for (int i = 0; t->tc.moments_dir && i < t->m->fam->n_nets; i++) {
        ug_spill_release(&t->moments[0][i]);
        ug_spill_release(&t->moments[1][i]);
    }
}

void ug_trainer_free(ug_trainer *t)
{
    if (!t)
        return;
    const ug_backend *be = t->m->k->be;
    for (int i = 0; i < t->m->fam->n_nets; i++) {
        if (t->tc.moments_dir) {
            ug_spill_free(&t->moments[0][i]);
            ug_spill_free(&t->moments[1][i]);
        } else {
            t->m->net[i].be->free(t->adam_m[i]);
            t->m->net[i].be->free(t->adam_v[i]);
        }
    }
    free(t->moments_dir);
    free(t->spill_buf);
    be->free(t->real[0]);
    be->free(t->real[1]);
    if (t->fam_state)
        t->m->fam->state_free(t->fam_state);
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
    if (tc->epoch_steps < 0 || tc->n_epochs_decay < 0 ||
        (tc->epoch_steps > 0 && tc->n_epochs_decay > tc->iteration / tc->epoch_steps))
        return ug_fail(err, "epoch_steps %ld and n_epochs_decay %ld do not fit %ld steps",
                       tc->epoch_steps, tc->n_epochs_decay, tc->iteration);
    if (tc->d_iter < 1 || tc->n_ep_decay < 0)
        return ug_fail(err, "d_iter must be at least 1 and n_ep_decay not negative (got %d, %ld)",
                       tc->d_iter, tc->n_ep_decay);
    return 0;
}

int ug_trainer_new(ug_trainer **out, ug_model *m, const ug_train_config *tc, ug_error *err)
{
    *out = NULL;
    if (m->nets != (1u << m->fam->n_nets) - 1)
        return ug_fail(err, "the model holds only generators (loaded for translation), so it "
                            "cannot be trained");
    if (check_train_config(tc, err) < 0)
        return -1;
    ug_train_config place = *tc;
    if (tc->moments_in_memory_max && ug_trainer_moments_bytes(m) <= tc->moments_in_memory_max)
        place.moments_dir = NULL;
    tc = &place;
    if (tc->moments_dir && !m->k->be->host_memory)
        return ug_fail(err, "moments_dir %s: the %s backend's memory is not the host's",
                       tc->moments_dir, m->k->be->name);
    ug_trainer *t = calloc(1, sizeof *t);
    if (!t)
        return ug_fail(err, "out of memory");
    t->m = m;
    t->tc = *tc;
    t->comm = ug_comm_single();
    t->batch = tc->batch_size;
    t->spill_chunk = (size_t)1 << 20; /* 4 MB a moment */
    if (tc->moments_dir && !(t->tc.moments_dir = t->moments_dir = strdup(tc->moments_dir))) {
        free(t);
        return ug_fail(err, "out of memory");
    }
    for (int i = 0; i < m->fam->n_nets; i++)
        if (alloc_moments(t, i, err) < 0) {
            ug_trainer_free(t);
            return -1;
        }
    for (int d = 0; d < 2 && !m->k->be->host_memory; d++)
        if (!(t->real[d] = m->k->be->alloc(batch_bytes(t)))) {
            ug_trainer_free(t);
            return ug_fail(err, "out of memory for the training batches");
        }
    if (m->fam->state_new && m->fam->state_new(&t->fam_state, m, tc, err) < 0) {
        ug_trainer_free(t);
        return -1;
    }
    *out = t;
    return 0;
}

const ug_train_config *ug_trainer_config(const ug_trainer *t) { return &t->tc; }

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
/* The learning rate of step `step` (the first is 1), the same for the
 * generators and the discriminators: the family's schedule. */
static double scheduled_lr(const ug_trainer *t, long step) { return t->m->fam->lr(&t->tc, step); }

double ug_trainer_lr(const ug_trainer *t) { return scheduled_lr(t, t->step); }

/* A family whose step is made for one batch (family.h's rank_batch) gets
 * that batch on each of `ranks` ranks. */
static int check_rank_batch(const ug_trainer *t, int ranks, ug_error *err)
{
    const int want = t->m->fam->rank_batch;
    if (!want || t->tc.batch_size == want * ranks)
        return 0;
    return ug_fail(err, "%s trains on batches of %d images per domain per rank, not a global "
                        "batch of %d on %d rank%s", t->m->fam->title, want, t->tc.batch_size,
                   ranks, ranks == 1 ? "" : "s");
}

int ug_trainer_step(ug_trainer *t, const float *real_A, const float *real_B, int n,
                    float *losses, ug_error *err)
{
    float L[UG_MAX_LOSSES] = {0};
    long step = t->step + 1;
    /* Checks before any change leave the trainer as it was. */
    if (t->failed_step)
        return ug_fail(err, "training step %ld: " FAILED_STATE, step, t->failed_step);
    if (check_rank_batch(t, t->comm->size, err) < 0)
        return ug_error_prefix(err, "training step %ld", step);
    if (n != t->batch)
        return ug_fail(err, "training step %ld: a batch of %d images per domain, but the "
                            "trainer's batch_size is %d%s", step, n, t->batch,
                       t->comm->size > 1 ? " per rank" : "");
    if (ug_kctx_bf16(t->m->k))
        return ug_fail(err, "training step %ld: the model is set to bf16, which is for "
                            "inference only", step);
    /* The batches into backend memory, unless that is the host's. */
    if (!t->m->k->be->host_memory) {
        t->m->k->be->from_host(t->real[0], real_A, batch_bytes(t));
        t->m->k->be->from_host(t->real[1], real_B, batch_bytes(t));
        real_A = t->real[0], real_B = t->real[1];
    }
    ug_arena *a = &t->m->arena;
    ug_step s = {t, a, err, scheduled_lr(t, step), 0, 0};
    ug_arena_reset(a);
    t->failed_everywhere = 0;
    int n_losses = t->m->fam->n_losses;
    /* The losses as one process on the whole batch would see them: the
     * mean over the ranks. */
    if (t->m->fam->step(&s, real_A, real_B, L) < 0 ||
        t->comm->allreduce(t->comm, L, (size_t)n_losses, err) < 0) {
        /* Spectral-norm states, and maybe the discriminators, have moved. */
        ug_step_drain(t);
        t->failed_step = step;
        return ug_error_prefix(err, "training step %ld", step);
    }
    for (int i = 0; t->comm->size > 1 && i < n_losses; i++)
        L[i] /= (float)t->comm->size;
    t->step = step;
    if (losses)
        memcpy(losses, L, (size_t)t->m->fam->n_losses * sizeof *L);
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
    double lr = scheduled_lr(t, t->step);
    ug_ckpt_writer w;
    ug_cw_init(&w);
    /* The writer reads host memory: the backend's, mapped until it is written;
     * moments in files it reads from them (through no mapping, which would
     * hold them all in memory at once). */
    const int spilled = t->tc.moments_dir != NULL;
    float *data[UG_MAX_NETS] = {0}, *mom[UG_MAX_NETS] = {0}, *var[UG_MAX_NETS] = {0};
    int mapped = 1, fm[UG_MAX_NETS], fv[UG_MAX_NETS];
    for (int i = 0; i < m->fam->n_nets; i++) {
        const ug_backend *be = m->net[i].be;
        size_t bytes = m->net[i].total * sizeof(float);
        data[i] = be->map(m->net[i].data, bytes);
        mapped &= data[i] != NULL;
        if (spilled) {
            fm[i] = t->moments[0][i].fd;
            fv[i] = t->moments[1][i].fd;
            continue;
        }
        mom[i] = be->map(t->adam_m[i], bytes);
        var[i] = be->map(t->adam_v[i], bytes);
        mapped &= mom[i] && var[i];
    }
    ug_cw_config(&w, m);
    ug_cw_meta(&w, "step", "%ld", t->step);
    ug_cw_meta(&w, "lr_g", "%.17g", lr);
    ug_cw_meta(&w, "lr_d", "%.17g", lr);
    ug_cw_meta(&w, "iteration", "%ld", tc->iteration);
    ug_cw_meta(&w, "batch_size", "%d", tc->batch_size); /* the global batch */
    ug_cw_meta(&w, "ranks", "%d", t->comm->size);
    ug_cw_meta(&w, "lr", "%.17g", tc->lr);
    ug_cw_meta(&w, "weight_decay", "%.17g", tc->weight_decay);
    ug_cw_meta(&w, "adv_weight", "%.9g", tc->adv_weight);
    ug_cw_meta(&w, "cycle_weight", "%.9g", tc->cycle_weight);
    ug_cw_meta(&w, "identity_weight", "%.9g", tc->identity_weight);
    ug_cw_meta(&w, "cam_weight", "%.9g", tc->cam_weight);
    ug_cw_meta(&w, "decay_flag", "%s", tc->decay_flag ? "true" : "false");
    ug_cw_meta(&w, "epoch_steps", "%ld", tc->epoch_steps);
    ug_cw_meta(&w, "n_epochs_decay", "%ld", tc->n_epochs_decay);
    ug_cw_meta(&w, "recon_x_w", "%.9g", tc->recon_x_w);
    ug_cw_meta(&w, "recon_kl_w", "%.9g", tc->recon_kl_w);
    ug_cw_meta(&w, "recon_kl_cyc_w", "%.9g", tc->recon_kl_cyc_w);
    ug_cw_meta(&w, "recon_s_w", "%.9g", tc->recon_s_w);
    ug_cw_meta(&w, "recon_c_w", "%.9g", tc->recon_c_w);
    ug_cw_meta(&w, "step_size", "%ld", tc->step_size);
    ug_cw_meta(&w, "gamma", "%.17g", tc->gamma);
    ug_cw_meta(&w, "d_iter", "%d", tc->d_iter);
    ug_cw_meta(&w, "no_ms", "%s", tc->no_ms ? "true" : "false");
    ug_cw_meta(&w, "n_ep_decay", "%ld", tc->n_ep_decay);
    if (t->fam_state)
        m->fam->state_save(t->fam_state, &w);
    for (int i = 0; i < n_extra; i++)
        ug_cw_meta(&w, extra_meta[2 * i], "%s", extra_meta[2 * i + 1]);
    ug_cw_model(&w, m, "", data, 0);
    if (spilled) {
        ug_cw_model_in_files(&w, m, "optim.m.", fm, 1);
        ug_cw_model_in_files(&w, m, "optim.v.", fv, 1);
    } else {
        ug_cw_model(&w, m, "optim.m.", mom, 1);
        ug_cw_model(&w, m, "optim.v.", var, 1);
    }
    int rc = mapped ? ug_cw_write(&w, path, err)
                    : ug_fail(err, "%s: out of memory reading the model for saving", path);
    for (int i = 0; i < m->fam->n_nets; i++) {
        const ug_backend *be = m->net[i].be;
        size_t bytes = m->net[i].total * sizeof(float);
        be->unmap(m->net[i].data, data[i], bytes, 0);
        if (!spilled) {
            be->unmap(t->adam_m[i], mom[i], bytes, 0);
            be->unmap(t->adam_v[i], var[i], bytes, 0);
        }
    }
    ug_cw_free(&w);
    return rc;
}

static int read_train_config(const ug_st_file *f, const char *path, ug_train_config *tc,
                             ug_error *err)
{
    long iteration, batch;
    double v[6];
    const char *keys[6] = {"lr", "weight_decay", "adv_weight", "cycle_weight",
                           "identity_weight", "cam_weight"};
    ug_train_config_default(tc); /* for what older checkpoints do not record */
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
    /* Checkpoints from before the epoch schedule have neither. */
    long epoch[2] = {0, 0};
    const char *epoch_keys[2] = {"epoch_steps", "n_epochs_decay"};
    for (int i = 0; i < 2; i++)
        if (ug_st_meta(f, epoch_keys[i]) &&
            ug_ckpt_meta_long(f, path, epoch_keys[i], &epoch[i], err) < 0)
            return -1;
    tc->epoch_steps = epoch[0], tc->n_epochs_decay = epoch[1];
    /* Checkpoints from before the unit and munit families have none of these (and no use
     * for them). */
    const char *unit_keys[7] = {"recon_x_w", "recon_kl_w", "recon_kl_cyc_w", "step_size", "gamma",
                                "recon_s_w", "recon_c_w"};
    double u[7] = {tc->recon_x_w, tc->recon_kl_w, tc->recon_kl_cyc_w, (double)tc->step_size,
                   tc->gamma, tc->recon_s_w, tc->recon_c_w};
    for (int i = 0; i < 7; i++)
        if (ug_st_meta(f, unit_keys[i]) &&
            ug_ckpt_meta_double(f, path, unit_keys[i], &u[i], err) < 0)
            return -1;
    if (u[3] < 0 || u[3] > 1e15)
        return ug_fail(err, "%s: metadata 'step_size' = %g is out of range", path, u[3]);
    tc->recon_x_w = (float)u[0], tc->recon_kl_w = (float)u[1], tc->recon_kl_cyc_w = (float)u[2];
    tc->step_size = (long)u[3], tc->gamma = u[4];
    tc->recon_s_w = (float)u[5], tc->recon_c_w = (float)u[6];
    /* Checkpoints from before the drit family have none of these. */
    long d_iter = tc->d_iter, n_ep_decay = tc->n_ep_decay;
    if ((ug_st_meta(f, "d_iter") && ug_ckpt_meta_long(f, path, "d_iter", &d_iter, err) < 0) ||
        (ug_st_meta(f, "n_ep_decay") &&
         ug_ckpt_meta_long(f, path, "n_ep_decay", &n_ep_decay, err) < 0))
        return -1;
    const char *no_ms = ug_st_meta(f, "no_ms");
    if (no_ms && strcmp(no_ms, "true") && strcmp(no_ms, "false"))
        return ug_fail(err, "%s: metadata 'no_ms' must be true or false", path);
    if (d_iter < 1 || d_iter > 1000000)
        return ug_fail(err, "%s: metadata 'd_iter' = %ld is out of range", path, d_iter);
    tc->d_iter = (int)d_iter, tc->n_ep_decay = n_ep_decay;
    tc->no_ms = no_ms && strcmp(no_ms, "true") == 0;
    return check_train_config(tc, err) < 0 ? ug_error_prefix(err, "%s", path) : 0;
}

static int put_spilled(void *ctx, int net, size_t off, const float *src, size_t n,
                       ug_error *err)
{
    ug_spill *files = ctx;
    return ug_spill_write(&files[net], off * sizeof *src, src, n * sizeof *src, err);
}

/* Moment k (0: adam_m, 1: adam_v) from f under prefix; file-backed moments
 * are written like the update writes them, not through their mappings, so
 * that loading holds no more than a chunk of them in memory. */
static int read_moments(ug_trainer *t, const ug_st_file *f, const char *path,
                        const char *prefix, int k, ug_error *err)
{
    const ug_model *m = t->m;
    if (!t->tc.moments_dir)
        return ug_ckpt_read_model(f, path, m, prefix, k ? t->adam_v : t->adam_m, 1, err);
    return ug_ckpt_read_model_to(f, path, m, prefix, m->nets, 1, put_spilled, t->moments[k], err);
}

int ug_trainer_load(ug_trainer **out, ug_model **model, const char *path,
                    const char *moments_dir, size_t moments_in_memory_max, ug_error *err)
{
    *out = NULL;
    *model = NULL;
    ug_st_file *f;
    if (ug_ckpt_open(&f, path, NULL, 1, err) < 0)
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
    tc.moments_dir = moments_dir;
    tc.moments_in_memory_max = moments_in_memory_max;
    if (ug_trainer_new(&t, m, &tc, err) < 0)
        goto done;
    float *data[UG_MAX_NETS] = {0};
    for (int i = 0; i < m->fam->n_nets; i++)
        data[i] = m->net[i].data;
    if (ug_ckpt_read_model(f, path, m, "", data, 0, err) < 0 ||
        read_moments(t, f, path, "optim.m.", 0, err) < 0 ||
        read_moments(t, f, path, "optim.v.", 1, err) < 0 ||
        (t->fam_state && m->fam->state_load(t->fam_state, f, path, err) < 0))
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

/* ---- data parallelism ---- */

int ug_trainer_set_comm(ug_trainer *t, ug_comm *c, ug_error *err)
{
    if (t->tc.batch_size % c->size)
        return ug_fail(err, "a global batch of %d images does not divide among %d ranks",
                       t->tc.batch_size, c->size);
    if (check_rank_batch(t, c->size, err) < 0)
        return -1;
    const ug_backend *be = t->m->k->be;
    t->comm = c;
    t->batch = t->tc.batch_size / c->size;
    for (int d = 0; d < 2 && !be->host_memory; d++) {
        be->free(t->real[d]);
        if (!(t->real[d] = be->alloc(batch_bytes(t))))
            return ug_fail(err, "out of memory for the training batches");
    }
    return 0;
}

int ug_trainer_rank_batch(const ug_trainer *t) { return t->batch; }

int ug_trainer_failed_everywhere(const ug_trainer *t) { return t->failed_everywhere; }

/* The hash of the backend memory p (floats of it), read through map. */
static int hash_floats(uint64_t *h, const ug_backend *be, void *p, size_t n, ug_error *err)
{
    void *host = be->map(p, n * sizeof(float));
    if (!host)
        return ug_fail(err, "out of memory reading the model for its hash");
    *h = ug_hash_bytes(*h, host, n * sizeof(float));
    be->unmap(p, host, n * sizeof(float), 0);
    return 0;
}

/* The family's training state as its checkpoint holds it (state_save's
 * metadata and tensors). */
static int hash_state(uint64_t *h, const ug_trainer *t, ug_error *err)
{
    if (!t->fam_state)
        return 0;
    ug_ckpt_writer w;
    ug_cw_init(&w);
    t->m->fam->state_save(t->fam_state, &w);
    for (size_t i = 0; i < w.n_meta; i++)
        *h = ug_hash_bytes(*h, w.meta[i], strlen(w.meta[i]) + 1);
    for (size_t i = 0; i < w.n; i++) {
        size_t numel = 1;
        for (int d = 0; d < w.e[i].ndim; d++)
            numel *= (size_t)w.e[i].shape[d];
        *h = ug_hash_bytes(*h, w.e[i].data, numel * sizeof(float));
    }
    int failed = w.failed;
    ug_cw_free(&w);
    return failed ? ug_fail(err, "out of memory hashing the training state") : 0;
}

int ug_trainer_check_replicas(ug_trainer *t, ug_error *err)
{
    if (t->comm->size == 1)
        return 0;
    uint64_t h = ug_hash_bytes(UG_HASH_SEED, &t->step, sizeof t->step);
    int same, rc = 0;
    for (int i = 0; i < t->m->fam->n_nets && rc == 0; i++) {
        ug_net *n = &t->m->net[i];
        rc = hash_floats(&h, n->be, n->data, n->total, err) < 0 ||
                     hash_floats(&h, n->be, t->adam_m[i], n->total, err) < 0 ||
                     hash_floats(&h, n->be, t->adam_v[i], n->total, err) < 0
                 ? -1
                 : 0;
    }
    release_moments(t);
    if (rc == 0)
        rc = hash_state(&h, t, err);
    /* A rank that could not hash still takes part in the comparison (the
     * others wait in it), with a hash of its own. */
    if (rc < 0)
        h = ~(uint64_t)t->comm->rank;
    if (t->comm->same(t->comm, h, &same, rc < 0 ? NULL : err) < 0 || rc < 0)
        return -1;
    if (!same)
        return ug_fail(err, "the ranks' models differ after step %ld (weights, spectral-norm "
                            "vectors, Adam state, training state or step): replicas out of "
                            "step", t->step);
    return 0;
}
