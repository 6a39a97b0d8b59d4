/* The CycleGAN family beyond its golden fixture: the official architecture's
 * sizes, the learning-rate policy, the image pool's rule, a resume past the
 * point where the pool starts drawing, and the messages for bad official
 * files. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "resume.h"
#include "io/pt.h"
#include "model/cyclegan/cyclegan.h"
#include "model/model.h"
#include "model/step.h"

static size_t trainable(const ug_model *m, int net) { return ug_net_trainable(&m->net[net]); }

/* The official default at 256 (notes 1.2, 1.3) and the 6-block choice below. */
static void test_architecture(void)
{
    ug_config c;
    ug_error err;
    ug_model *m;
    cg_config_default(&c, 256);
    int rc = ug_model_build(&m, &c, UG_ALL_NETS, &err);
    CHECK(rc == 0, "build at 256: %s", err.msg);
    if (rc)
        return;
    CHECK(c.n_res == 9, "n_res at 256: %d", c.n_res);
    CHECK(trainable(m, CG_G_A) == 11378179, "G parameters %zu", trainable(m, CG_G_A));
    CHECK(trainable(m, CG_D_A) == 2764737, "D parameters %zu", trainable(m, CG_D_A));
    const ug_net *d = &m->net[CG_D_A];
    const ug_node *out = &d->nodes[ug_net_output(d, UG_OUT_IMAGE)];
    CHECK(out->C == 1 && out->H == 30 && out->W == 30, "D output %dx%dx%d", out->C, out->H,
          out->W);
    CHECK(ug_net_find(&m->net[CG_G_B], "model.26.weight") >= 0 &&
              m->net[CG_G_B].params[ug_net_find(&m->net[CG_G_B], "model.19.weight")].shape[0] ==
                  256,
          "the transposed convolution's weight is Cin x Cout");
    ug_model_free(m);
    cg_config_default(&c, 128);
    CHECK(c.n_res == 6, "n_res at 128: %d", c.n_res);
}

static double lr_at(ug_trainer *t, long step)
{
    ug_error err;
    CHECK(ug_trainer_set_step(t, step, &err) == 0, "%s", err.msg);
    return ug_trainer_lr(t);
}

/* lr * (1 - max(0, e + 1 - n_epochs) / (n_epochs_decay + 1)) in epoch e. */
static void test_schedule(ug_model *m)
{
    ug_train_config tc;
    ug_error err;
    ug_trainer *t;
    CHECK(ug_train_config_for(&tc, "cyclegan", &err) == 0, "%s", err.msg);
    CHECK(tc.lr == 2e-4 && tc.weight_decay == 0 && tc.cycle_weight == 10 &&
              tc.identity_weight == 0.5f,
          "official training defaults");
    tc.epoch_steps = 10, tc.n_epochs_decay = 100, tc.iteration = 2000;
    if (ug_trainer_new(&t, m, &tc, &err) < 0) {
        CHECK(0, "%s", err.msg);
        return;
    }
    CHECK(lr_at(t, 1) == 2e-4 && lr_at(t, 990) == 2e-4, "epochs 1-99 at lr");
    CHECK(fabs(lr_at(t, 991) - 2e-4 * 100 / 101) < 1e-18, "epoch 100: %g", lr_at(t, 991));
    CHECK(fabs(lr_at(t, 1990) - 2e-4 / 101) < 1e-18, "epoch 199: %g", lr_at(t, 1990));
    CHECK(lr_at(t, 1991) == 0 && lr_at(t, 2000) == 0, "the last epoch at 0");
    ug_trainer_free(t);
    /* --iteration 10: one-step epochs, the second half decaying. */
    tc.epoch_steps = 0, tc.n_epochs_decay = 0, tc.iteration = 10;
    if (ug_trainer_new(&t, m, &tc, &err) < 0) {
        CHECK(0, "%s", err.msg);
        return;
    }
    CHECK(lr_at(t, 4) == 2e-4 && fabs(lr_at(t, 5) - 2e-4 * 5 / 6) < 1e-18 && lr_at(t, 10) == 0,
          "--iteration: %g %g %g", lr_at(t, 4), lr_at(t, 5), lr_at(t, 10));
    ug_trainer_free(t);
}

/* Below 50 images a pool returns what it gets; past that it swaps about
 * half of them for kept ones, which were all given to it before. */
static void test_pool(ug_model *m)
{
    ug_train_config tc;
    ug_error err;
    void *pool;
    ug_train_config_for(&tc, "cyclegan", &err);
    if (cg_pools_new(&pool, m, &tc, &err) < 0) {
        CHECK(0, "%s", err.msg);
        return;
    }
    const int S = m->cfg.img_size, total = 400;
    const size_t plane = (size_t)3 * S * S;
    float *x = calloc(plane, sizeof *x);
    int swapped = 0, bad = 0;
    for (int i = 0; i < total && x; i++) {
        x[0] = (float)i; /* an image's name */
        const float *y = cg_pool_query(pool, 0, ug_comm_single(), m->k->be, x, &err);
        if (i < CG_HISTORY)
            bad += y[0] != (float)i;
        else if (y[0] != (float)i)
            bad += y[0] > (float)i || y[0] < 0, swapped++;
    }
    CHECK(bad == 0, "%d answers were neither the image nor an earlier one", bad);
    int drawn = total - CG_HISTORY;
    CHECK(swapped > drawn * 2 / 5 && swapped < drawn * 3 / 5, "%d of %d swapped", swapped, drawn);
    free(x);
    cg_pools_free(pool);
}

/* A run saved after the pools are full and resumed is the run that was not
 * interrupted, bit for bit: pools and their generator are in the checkpoint. */
static void test_resume(ug_model *m)
{
    ug_train_config tc;
    ug_error err;
    ug_train_config_for(&tc, "cyclegan", &err);
    tc.iteration = 100, tc.seed = 7;
    check_resume(m, &tc, CG_HISTORY + 2, 4, "test_cyclegan_resume.safetensors",
                 "resumed past the pool's fill");
}

/* Writes a bare state_dict of one tensor NAME of shape (o, i, k, k). */
static void write_state_dict(const char *path, const char *name, int64_t o, int64_t i, int64_t k)
{
    size_t numel = (size_t)(o * i * k * k);
    float *data = calloc(numel, sizeof *data);
    ug_st_entry e = {.name = name, .ndim = 4, .shape = {o, i, k, k}, .data = data};
    ug_error err;
    CHECK(data && ug_pt_write_state_dict(path, &e, 1, &err) == 0, "write %s", path);
    free(data);
}

static void expect_refusal(const char *path, const char *want)
{
    ug_model *m = NULL;
    ug_error err = {""};
    int rc = ug_model_load(&m, path, NULL, 0, &err);
    CHECK(rc < 0 && strstr(err.msg, path) && strstr(err.msg, want),
          "%s: want an error naming it and '%s', got '%s'", path, want, rc ? err.msg : "none");
    ug_model_free(m);
}

static void test_bad_files(void)
{
    CHECK(strcmp(cg_single_group("ck/latest_net_G_B.pth"), "G_B") == 0 &&
              strcmp(cg_single_group("5_net_D_A.pth"), "D_A") == 0 &&
              strcmp(cg_single_group("net_G_Bx.pth"), "G_A") == 0,
          "the network a file's name tells");
    const char *dir = "test_cyclegan_bad";
    char path[256];
    mkdir(dir, 0777);
    snprintf(path, sizeof path, "%s/latest_net_G_A.pth", dir);
    /* A 5x5 first convolution: not a ResnetGenerator. */
    write_state_dict(path, "model.1.weight", 8, 3, 5);
    expect_refusal(path, "not (ngf, 3, 7, 7)");
    expect_refusal(dir, "not (ngf, 3, 7, 7)");
    /* The dropout variant's keys. */
    write_state_dict(path, "model.1.weight", 8, 3, 7);
    expect_refusal(path, "residual block");
    /* A discriminator's file under a generator's name. */
    write_state_dict(path, "model.0.weight", 8, 3, 4);
    expect_refusal(dir, "not the state_dict of a CycleGAN generator");
    unlink(path);
    expect_refusal(dir, "without latest_net_G_A.pth");
    rmdir(dir);
}

int main(void)
{
    test_architecture();
    test_bad_files();
    ug_config c;
    ug_error err;
    ug_model *m;
    cg_config_default(&c, 32);
    c.ch = 2, c.n_res = 1;
    if (ug_model_new(&m, &c, 1, &err) < 0) {
        CHECK(0, "%s", err.msg);
        return check_summary();
    }
    test_schedule(m);
    test_pool(m);
    test_resume(m);
    ug_model_free(m);
    return check_summary();
}
