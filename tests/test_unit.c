/* The UNIT family beyond its golden fixture: the official architecture's
 * sizes (notes 2.5, 3.2), its training defaults and step schedule, the
 * initialisation, a bit-exact resume (the noise generator is training
 * state), and the message for a file that is not UNIT's. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "resume.h"
#include "cli.h"
#include "io/pt.h"
#include "model/model.h"
#include "model/step.h"
#include "model/unit/unit.h"

static size_t trainable(const ug_model *m, int net) { return ug_net_trainable(&m->net[net]); }

static void test_architecture(void)
{
    ug_config c;
    ug_error err;
    ug_model *m;
    un_config_default(&c, 256);
    int rc = ug_model_build(&m, &c, UG_ALL_NETS, &err);
    CHECK(rc == 0, "build at 256: %s", err.msg);
    if (rc)
        return;
    CHECK(trainable(m, UN_ENC_A) == 5385856 && trainable(m, UN_DEC_A) == 5754627,
          "encoder %zu, decoder %zu parameters", trainable(m, UN_ENC_A), trainable(m, UN_DEC_A));
    CHECK(m->net[UN_ENC_B].n_params + m->net[UN_DEC_B].n_params == 48,
          "%d tensors per generator", m->net[UN_ENC_B].n_params + m->net[UN_DEC_B].n_params);
    CHECK(trainable(m, UN_DIS_A) == 8271171, "MsImageDis parameters %zu", trainable(m, UN_DIS_A));
    const ug_net *d = &m->net[UN_DIS_B];
    for (int s = 0; s < 3; s++) {
        const ug_node *out = &d->nodes[ug_net_output(d, un_scale_output(s))];
        CHECK(out->C == 1 && out->H == 16 >> s && out->W == 16 >> s, "scale %d: %dx%dx%d", s,
              out->C, out->H, out->W);
    }
    const ug_net *e = &m->net[UN_ENC_A];
    const ug_node *h = &e->nodes[ug_net_output(e, UG_OUT_IMAGE)];
    CHECK(h->C == 256 && h->H == 64, "latent %dx%dx%d", h->C, h->H, h->W);
    ug_model_free(m);
}

/* Kaiming-normal generator weights, N(0, 0.02) discriminators, zero biases,
 * LayerNorm gamma in [0, 1) and beta 0. */
static void test_init(void)
{
    ug_config c;
    ug_error err;
    ug_model *m;
    un_config_default(&c, 32);
    c.ch = 16, c.n_res = 1, c.dis_global = 2;
    if (ug_model_new(&m, &c, 5, &err) < 0) {
        CHECK(0, "%s", err.msg);
        return;
    }
    const struct {
        int net;
        const char *name;
        double std;
    } w[] = {{UN_ENC_A, "model.1.conv.weight", 0.0884}, /* sqrt(2 / (16 * 4 * 4)) */
             {UN_DEC_B, "model.2.conv.weight", 0.0354}, /* sqrt(2 / (64 * 5 * 5)) */
             {UN_DIS_A, "cnns.1.1.conv.weight", 0.02}};
    for (size_t i = 0; i < sizeof w / sizeof w[0]; i++) {
        const ug_net *n = &m->net[w[i].net];
        const int p = ug_net_find(n, w[i].name);
        const float *x = ug_param_data(n, p);
        double ss = 0;
        for (size_t j = 0; j < n->params[p].numel; j++)
            ss += (double)x[j] * x[j];
        double std = sqrt(ss / (double)n->params[p].numel);
        CHECK(fabs(std / w[i].std - 1) < 0.1, "%s std %g, want %g", w[i].name, std, w[i].std);
    }
    const ug_net *dec = &m->net[UN_DEC_A];
    const float *g = ug_param_data(dec, ug_net_find(dec, "model.4.norm.gamma"));
    const float *b = ug_param_data(dec, ug_net_find(dec, "model.4.norm.beta"));
    const float *bias = ug_param_data(dec, ug_net_find(dec, "model.4.conv.bias"));
    int bad = 0;
    double mean = 0;
    for (int j = 0; j < 16; j++) {
        bad += g[j] < 0 || g[j] >= 1 || b[j] != 0 || bias[j] != 0;
        mean += g[j] / 16.0;
    }
    CHECK(bad == 0 && mean > 0.25 && mean < 0.75, "LayerNorm gamma U[0, 1), beta and bias 0");
    ug_model_free(m);
}

static double lr_at(ug_trainer *t, long step)
{
    ug_error err;
    CHECK(ug_trainer_set_step(t, step, &err) == 0, "%s", err.msg);
    return ug_trainer_lr(t);
}

/* StepLR stepped before each iteration: our step s is the official
 * iteration s - 1, whose rate is lr gamma^floor(s / step_size). */
static void test_schedule(ug_model *m)
{
    ug_train_config tc;
    ug_error err;
    ug_trainer *t;
    CHECK(ug_train_config_for(&tc, "unit", &err) == 0, "%s", err.msg);
    CHECK(tc.lr == 1e-4 && tc.weight_decay == 1e-4 && tc.adv_weight == 1 &&
              tc.cycle_weight == 10 && tc.recon_x_w == 10 && tc.recon_kl_w == 0.01f &&
              tc.recon_kl_cyc_w == 0.01f && tc.step_size == 100000 && tc.gamma == 0.5,
          "official training defaults");
    if (ug_trainer_new(&t, m, &tc, &err) < 0) {
        CHECK(0, "%s", err.msg);
        return;
    }
    CHECK(lr_at(t, 1) == 1e-4 && lr_at(t, 99999) == 1e-4, "before the first decay");
    CHECK(lr_at(t, 100000) == 5e-5 && lr_at(t, 199999) == 5e-5 && lr_at(t, 200000) == 2.5e-5,
          "decays at steps 100000 (iteration 99,999) and 200000: %g %g", lr_at(t, 100000),
          lr_at(t, 200000));
    ug_trainer_free(t);
    tc.decay_flag = 0;
    if (ug_trainer_new(&t, m, &tc, &err) == 0) {
        CHECK(lr_at(t, 500000) == 1e-4, "--decay_flag false: constant");
        ug_trainer_free(t);
    }
}

/* A run saved and resumed is the run that was not interrupted, bit for bit. */
static void test_resume(ug_model *m)
{
    ug_train_config tc;
    ug_error err;
    ug_train_config_for(&tc, "unit", &err);
    tc.iteration = 100, tc.seed = 7;
    check_resume(m, &tc, 2, 2, "test_unit_resume.safetensors", "resumed");
}

/* A first convolution of 5x5 (in the official gen file's nesting, a.enc.*):
 * not a UNIT encoder. */
static void test_bad_file(void)
{
    const char *path = "test_unit_bad.pt";
    float *data = calloc(8 * 3 * 5 * 5, sizeof *data);
    ug_st_entry e = {.name = "a.enc.model.0.conv.weight", .ndim = 4, .shape = {8, 3, 5, 5},
                     .data = data};
    ug_error err = {""};
    CHECK(data && ug_pt_write(path, &e, 1, &err) == 0, "write %s", path);
    ug_model *m = NULL;
    int rc = ug_model_load(&m, path, NULL, 0, &err);
    CHECK(rc < 0 && strstr(err.msg, path) && strstr(err.msg, "not (dim, 3, 7, 7)"),
          "want an error naming %s and the shape, got '%s'", path, rc ? err.msg : "none");
    ug_model_free(m);
    free(data);
    unlink(path);
}

/* The official YAML schema, ours: a tiny model, 3 steps, the rate x 0.25 every 2. */
static const char config_yaml[] =
    "max_iter: 3\nbatch_size: 1\nweight_decay: 0.0001\nbeta1: 0.5\nbeta2: 0.999\n"
    "init: kaiming\nlr: 0.0002\nlr_policy: step\nstep_size: 2\ngamma: 0.25\ngan_w: 1\n"
    "recon_x_w: 10\nrecon_kl_w: 0.01\nrecon_x_cyc_w: 10\nrecon_kl_cyc_w: 0.01\nvgg_w: 0\n"
    "gen:\n  dim: 4\n  activ: relu\n  n_downsample: 2\n  n_res: 1\n  pad_type: reflect\n"
    "dis:\n  dim: 4\n  norm: none\n  activ: lrelu\n  n_layer: 2\n  gan_type: lsgan\n"
    "  num_scales: 3\n  pad_type: reflect\n"
    "crop_image_height: 32\ncrop_image_width: 32\ndata_root: ./datasets/demo/\n";

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    CHECK(f && fputs(text, f) >= 0, "write %s", path);
    if (f)
        fclose(f);
}

/* ugatit train --family unit --config, its resume, the official folder that
 * convert writes and translate reads, and refusals naming what is wrong. */
static void test_cli(void)
{
    char dir[] = "/tmp/ugatit_test_unit_XXXXXX", cmd[4096], out[8192], path[1024], meta[64];
    if (!mkdtemp(dir)) {
        CHECK(0, "mkdtemp");
        return;
    }
    ug_error err;
    snprintf(path, sizeof path, "%s/unit.yaml", dir);
    write_text(path, config_yaml);
    snprintf(cmd, sizeof cmd, "make-shapes --out %s/shapes --n 2 --size 32", dir);
    CHECK(run_cli(dir, cmd, 1, out, sizeof out) == 0, "make-shapes: %s", out);
    snprintf(cmd, sizeof cmd, "train --family unit --config %s --dataset %s/shapes "
             "--result_dir %s/r --print_freq 3 --save_freq 3", path, dir, dir);
    CHECK(run_cli(dir, cmd, 1, out, sizeof out) == 0, "train --config: %s", out);
    char ckpt[1024];
    snprintf(ckpt, sizeof ckpt, "%s/r/shapes/model/shapes_params_0000003.safetensors", dir);
    const char *want[][2] = {{"ch", "4"}, {"n_layer", "2"}, {"step_size", "2"},
                             {"lr_g", "5.0000000000000002e-05"}};
    for (int i = 0; i < 4; i++)
        CHECK(ug_checkpoint_meta(ckpt, want[i][0], meta, sizeof meta, &err) == 0 &&
                  strcmp(meta, want[i][1]) == 0,
              "%s: %s = %s, want %s", ckpt, want[i][0], meta, want[i][1]);
    snprintf(cmd, sizeof cmd, "train --family unit --config %s --dataset %s/shapes "
             "--result_dir %s/r --resume true --iteration 4 --gamma 0.5", path, dir, dir);
    CHECK(run_cli(dir, cmd, 1, out, sizeof out) != 0 && strstr(out, "--gamma 0.5 contradicts"),
          "a flag against the checkpoint: %s", out);
    snprintf(cmd, sizeof cmd, "convert %s %s/official/", ckpt, dir);
    CHECK(run_cli(dir, cmd, 1, out, sizeof out) == 0, "convert to the folder: %s", out);
    snprintf(cmd, sizeof cmd, "translate --model %s/official --img_size 32 --input %s/shapes/"
             "testA --output %s/out", dir, dir, dir);
    CHECK(run_cli(dir, cmd, 1, out, sizeof out) == 0, "translate the folder: %s", out);
    /* Refusals. */
    snprintf(path, sizeof path, "%s/bad.yaml", dir);
    write_text(path, "gen:\n  dim: 4\n  n_downsample: 3\n");
    snprintf(cmd, sizeof cmd, "train --family unit --config %s --dataset %s/shapes", path, dir);
    CHECK(run_cli(dir, cmd, 0, out, sizeof out) == 2 && strstr(out, "bad.yaml:3:") &&
              strstr(out, "n_downsample is 3"),
          "an unsupported value: %s", out);
    snprintf(cmd, sizeof cmd, "train --family unit --ch 8 --dataset %s/shapes", dir);
    CHECK(run_cli(dir, cmd, 0, out, sizeof out) == 2 &&
              strstr(out, "--ch is a flag of the families ugatit cyclegan drit, not of unit"),
          "--ch with unit (its --gen_dim): %s", out);
    snprintf(cmd, sizeof cmd, "train --gan_w 2 --dataset %s/shapes", dir);
    CHECK(run_cli(dir, cmd, 0, out, sizeof out) == 2 &&
              strstr(out, "--gan_w is a flag of the families unit munit, not of ugatit"),
          "--gan_w without unit: %s", out);
    snprintf(cmd, sizeof cmd, "train --family unit --n_downsample 3 --dataset %s/shapes", dir);
    CHECK(run_cli(dir, cmd, 0, out, sizeof out) == 2 && strstr(out, "--n_downsample"),
          "--n_downsample 3: %s", out);
    snprintf(cmd, sizeof cmd, "train --recon_x_w 5 --dataset %s/shapes", dir);
    CHECK(run_cli(dir, cmd, 0, out, sizeof out) == 2 &&
              strstr(out, "--recon_x_w is a flag of the families unit munit, not of ugatit"),
          "a unit flag without --family unit: %s", out);
    snprintf(cmd, sizeof cmd, "train --family unit --identity_weight 5 --dataset %s/shapes", dir);
    CHECK(run_cli(dir, cmd, 0, out, sizeof out) == 2 &&
              strstr(out, "--identity_weight is a flag of the families ugatit cyclegan, not of "
                          "unit"),
          "a flag UNIT has no use for: %s", out);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0, "%s", cmd);
}

int main(void)
{
    test_cli();
    test_architecture();
    test_init();
    test_bad_file();
    ug_config c;
    ug_error err;
    ug_model *m;
    un_config_default(&c, 32);
    c.ch = 2, c.n_res = 1, c.dis_global = 2;
    if (ug_model_new(&m, &c, 1, &err) < 0) {
        CHECK(0, "%s", err.msg);
        return check_summary();
    }
    test_schedule(m);
    test_resume(m);
    ug_model_free(m);
    return check_summary();
}
