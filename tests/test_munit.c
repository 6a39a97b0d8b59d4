/* The MUNIT family beyond its golden fixture: the official architecture's
 * sizes (notes 4.2), the initialisation, its training defaults and step
 * schedule, a bit-exact resume (the style codes' generator is training
 * state), the message for a file that is not MUNIT's, and the command line:
 * train with the official YAML, the official folder that convert writes,
 * translate with --styles and --style_from, and the refusals. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "resume.h"
#include "cli.h"
#include "io/pt.h"
#include "model/model.h"
#include "model/munit/munit.h"
#include "model/step.h"
#include "model/unit/unit.h"

static size_t trainable(const ug_model *m, int net) { return ug_net_trainable(&m->net[net]); }

static void test_architecture(void)
{
    ug_config c;
    ug_error err;
    ug_model *m;
    mu_config_default(&c, 256);
    int rc = ug_model_build(&m, &c, UG_ALL_NETS, &err);
    CHECK(rc == 0, "build at 256: %s", err.msg);
    if (rc)
        return;
    /* style encoder 2,764,936; content encoder 5,385,856; decoder 5,754,627 + MLP 1,120,768. */
    CHECK(trainable(m, MU_STYLE_A) == 2764936 && trainable(m, MU_CONTENT_A) == 5385856 &&
              trainable(m, MU_GEN_A) == 5754627 + 1120768,
          "style %zu, content %zu, decoder and MLP %zu parameters", trainable(m, MU_STYLE_A),
          trainable(m, MU_CONTENT_A), trainable(m, MU_GEN_A));
    int tensors = 0, buffers = 0;
    for (int net = MU_STYLE_B; net <= MU_GEN_B; net++)
        for (int p = 0; p < m->net[net].n_params; p++)
            m->net[net].params[p].kind == UG_TRAINABLE ? tensors++ : buffers++;
    CHECK(tensors == 66 && buffers == 16, "%d parameter tensors and %d buffers per generator",
          tensors, buffers);
    CHECK(trainable(m, MU_DIS_A) == 8271171, "MsImageDis parameters %zu", trainable(m, MU_DIS_A));
    const ug_net *s = &m->net[MU_STYLE_A];
    const ug_node *code = &s->nodes[ug_net_output(s, UG_OUT_IMAGE)];
    CHECK(code->C == 8 && code->H == 1 && code->W == 1, "style code %dx%dx%d", code->C, code->H,
          code->W);
    const ug_net *g = &m->net[MU_GEN_B];
    CHECK(g->n_in == 2 && strcmp(g->in[0].name, "image") == 0 &&
              strcmp(g->in[1].name, "style") == 0 &&
              g->nodes[g->in[0].node].C == 256 && g->nodes[g->in[0].node].H == 64,
          "decoder inputs: the content code and the style code");
    ug_model_free(m);
}

/* Kaiming-normal generator weights (the MLP's linears too), N(0, 0.02)
 * discriminators, zero biases, the AdaIN buffers 0 and 1. */
static void test_init(void)
{
    ug_config c;
    ug_error err;
    ug_model *m;
    mu_config_default(&c, 32);
    c.ch = 16, c.n_res = 1, c.dis_global = 2, c.mlp_dim = 64;
    if (ug_model_new(&m, &c, 5, &err) < 0) {
        CHECK(0, "%s", err.msg);
        return;
    }
    const struct {
        int net;
        const char *name;
        double std;
    } w[] = {{MU_STYLE_A, "model.3.conv.weight", 0.0442},  /* sqrt(2 / (64 * 4 * 4)) */
             {MU_STYLE_B, "model.6.weight", 0.177},        /* sqrt(2 / 64) */
             {MU_GEN_A, "mlp.model.1.fc.weight", 0.177},   /* sqrt(2 / 64) */
             {MU_GEN_B, "dec.model.2.conv.weight", 0.0354}, /* sqrt(2 / (64 * 5 * 5)) */
             {MU_DIS_A, "cnns.1.1.conv.weight", 0.02}};
    for (size_t i = 0; i < sizeof w / sizeof w[0]; i++) {
        const ug_net *n = &m->net[w[i].net];
        const int p = ug_net_find(n, w[i].name);
        CHECK(p >= 0, "no %s", w[i].name);
        if (p < 0)
            continue;
        const float *x = ug_param_data(n, p);
        double ss = 0;
        for (size_t j = 0; j < n->params[p].numel; j++)
            ss += (double)x[j] * x[j];
        double std = sqrt(ss / (double)n->params[p].numel);
        CHECK(fabs(std / w[i].std - 1) < 0.15, "%s std %g, want %g", w[i].name, std, w[i].std);
    }
    const ug_net *dec = &m->net[MU_GEN_A];
    const char *zero[3] = {"mlp.model.2.fc.bias", "dec.model.0.model.0.model.1.norm.running_mean",
                           "dec.model.0.model.0.model.0.conv.bias"};
    for (int i = 0; i < 3; i++) {
        const int p = ug_net_find(dec, zero[i]);
        const float *x = ug_param_data(dec, p);
        int bad = 0;
        for (size_t j = 0; j < dec->params[p].numel; j++)
            bad += x[j] != 0;
        CHECK(bad == 0, "%s is not 0", zero[i]);
    }
    const int rv = ug_net_find(dec, "dec.model.0.model.0.model.1.norm.running_var");
    CHECK(rv >= 0 && dec->params[rv].kind == UG_BUFFER && ug_param_data(dec, rv)[5] == 1,
          "the AdaIN running_var buffer, 1");
    ug_model_free(m);
}

static double lr_at(ug_trainer *t, long step)
{
    ug_error err;
    CHECK(ug_trainer_set_step(t, step, &err) == 0, "%s", err.msg);
    return ug_trainer_lr(t);
}

/* The official defaults (configs/edges2handbags_folder.yaml) and UNIT's
 * StepLR, one iteration early. */
static void test_schedule(ug_model *m)
{
    ug_train_config tc;
    ug_error err;
    ug_trainer *t;
    CHECK(ug_train_config_for(&tc, "munit", &err) == 0, "%s", err.msg);
    CHECK(tc.lr == 1e-4 && tc.weight_decay == 1e-4 && tc.adv_weight == 1 &&
              tc.cycle_weight == 0 && tc.recon_x_w == 10 && tc.recon_s_w == 1 &&
              tc.recon_c_w == 1 && tc.step_size == 100000 && tc.gamma == 0.5,
          "official training defaults");
    if (ug_trainer_new(&t, m, &tc, &err) < 0) {
        CHECK(0, "%s", err.msg);
        return;
    }
    CHECK(lr_at(t, 1) == 1e-4 && lr_at(t, 99999) == 1e-4 && lr_at(t, 100000) == 5e-5 &&
              lr_at(t, 200000) == 2.5e-5,
          "decays at steps 100000 (iteration 99,999) and 200000");
    ug_trainer_free(t);
}

/* A run saved and resumed is the run that was not interrupted, bit for bit
 * (with the cycle terms on, so that every decode runs). */
static void test_resume(ug_model *m)
{
    ug_train_config tc;
    ug_error err;
    ug_train_config_for(&tc, "munit", &err);
    tc.iteration = 100, tc.seed = 7, tc.cycle_weight = 10;
    check_resume(m, &tc, 2, 2, "test_munit_resume.safetensors", "resumed");
}

/* A first content convolution of 5x5 (in the official gen file's nesting,
 * a.enc_content.*): not a MUNIT content encoder. */
static void test_bad_file(void)
{
    const char *path = "test_munit_bad.pt";
    float *data = calloc(8 * 3 * 5 * 5 + 16 * 8, sizeof *data);
    ug_st_entry e[2] = {{.name = "a.enc_content.model.0.conv.weight", .ndim = 4,
                         .shape = {8, 3, 5, 5}, .data = data},
                        {.name = "a.mlp.model.0.fc.weight", .ndim = 2, .shape = {16, 8},
                         .data = data}};
    ug_error err = {""};
    CHECK(data && ug_pt_write(path, e, 2, &err) == 0, "write %s", path);
    ug_model *m = NULL;
    int rc = ug_model_load(&m, path, NULL, 0, &err);
    CHECK(rc < 0 && strstr(err.msg, path) && strstr(err.msg, "not (dim, 3, 7, 7) of a MUNIT"),
          "want an error naming %s and the shape, got '%s'", path, rc ? err.msg : "none");
    ug_model_free(m);
    free(data);
    unlink(path);
}

/* The official YAML schema (configs/edges2shoes_folder.yaml's keys): a tiny
 * model, 3 steps. */
static const char config_yaml[] =
    "max_iter: 3\nbatch_size: 1\nweight_decay: 0.0001\nbeta1: 0.5\nbeta2: 0.999\n"
    "init: kaiming\nlr: 0.0001\nlr_policy: step\nstep_size: 100000\ngamma: 0.5\ngan_w: 1\n"
    "recon_x_w: 10\nrecon_s_w: 1\nrecon_c_w: 1\nrecon_x_cyc_w: 10\nvgg_w: 0\n"
    "gen:\n  dim: 4\n  mlp_dim: 16\n  style_dim: 3\n  activ: relu\n  n_downsample: 2\n"
    "  n_res: 1\n  pad_type: reflect\n"
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

static int exists(const char *path) { return access(path, F_OK) == 0; }

static void test_cli(void)
{
    char dir[] = "/tmp/ugatit_test_munit_XXXXXX", cmd[4096], out[8192], path[1024], meta[64];
    if (!mkdtemp(dir)) {
        CHECK(0, "mkdtemp");
        return;
    }
    ug_error err;
    snprintf(path, sizeof path, "%s/munit.yaml", dir);
    write_text(path, config_yaml);
    snprintf(cmd, sizeof cmd, "make-shapes --out %s/shapes --n 2 --size 32", dir);
    CHECK(run_cli(dir, cmd, 1, out, sizeof out) == 0, "make-shapes: %s", out);
    snprintf(cmd, sizeof cmd, "train --family munit --help");
    CHECK(run_cli(dir, cmd, 1, out, sizeof out) == 0 && strstr(out, "--style_dim") &&
              strstr(out, "--mlp_dim") && strstr(out, "--recon_s_w") &&
              strstr(out, "--recon_c_w"),
          "train --help shows MUNIT's flags: %s", out);
    snprintf(cmd, sizeof cmd, "train --family munit --config %s --dataset %s/shapes "
             "--result_dir %s/r --print_freq 3 --save_freq 3", path, dir, dir);
    CHECK(run_cli(dir, cmd, 1, out, sizeof out) == 0, "train --config: %s", out);
    char ckpt[1024];
    snprintf(ckpt, sizeof ckpt, "%s/r/shapes/model/shapes_params_0000003.safetensors", dir);
    const char *want[][2] = {{"family", "munit"}, {"ch", "4"}, {"style_dim", "3"},
                             {"mlp_dim", "16"}, {"cycle_weight", "10"}};
    for (int i = 0; i < 5; i++)
        CHECK(ug_checkpoint_meta(ckpt, want[i][0], meta, sizeof meta, &err) == 0 &&
                  strcmp(meta, want[i][1]) == 0,
              "%s: %s = %s, want %s", ckpt, want[i][0], meta, want[i][1]);
    snprintf(cmd, sizeof cmd, "train --family munit --config %s --dataset %s/shapes "
             "--result_dir %s/r --resume true --iteration 4 --style_dim 8", path, dir, dir);
    CHECK(run_cli(dir, cmd, 1, out, sizeof out) != 0 &&
              strstr(out, "--style_dim 8 contradicts"),
          "a flag against the checkpoint: %s", out);
    snprintf(cmd, sizeof cmd, "convert %s %s/official/", ckpt, dir);
    CHECK(run_cli(dir, cmd, 1, out, sizeof out) == 0, "convert to the folder: %s", out);
    snprintf(path, sizeof path, "%s/official/gen_00000003.pt", dir);
    CHECK(exists(path), "no %s", path);
    /* Several styles of one input, from drawn codes and from an example. */
    snprintf(cmd, sizeof cmd, "translate --model %s/official --img_size 32 --input %s/shapes/"
             "testA --output %s/styles --styles 3 --seed 4", dir, dir, dir);
    CHECK(run_cli(dir, cmd, 1, out, sizeof out) == 0, "translate --styles: %s", out);
    int numbered = 0;
    for (int j = 0; j < 3; j++) {
        snprintf(path, sizeof path, "%s/styles/0000_%03d.png", dir, j);
        numbered += exists(path);
    }
    CHECK(numbered == 3, "translate --styles 3 wrote %d of 0000_00{0,1,2}.png: %s",
          numbered, out);
    snprintf(cmd, sizeof cmd, "translate --model %s --input %s/shapes/testA/0000.png "
             "--output %s/from_b.png --style_from %s/shapes/testB/0000.png", ckpt, dir,
             dir, dir);
    CHECK(run_cli(dir, cmd, 1, out, sizeof out) == 0 && exists(strcat(strcpy(path, dir),
                                                                  "/from_b.png")),
          "translate --style_from: %s", out);
    /* Refusals. */
    snprintf(cmd, sizeof cmd, "translate --model %s --input %s/shapes/testA/0000.png "
             "--output %s/x.png --styles 2 --style_from %s/shapes/testB/0000.png", ckpt,
             dir, dir, dir);
    CHECK(run_cli(dir, cmd, 0, out, sizeof out) != 0 && strstr(out, "not both"),
          "--styles and --style_from: %s", out);
    snprintf(cmd, sizeof cmd, "train --family unit --dataset %s/shapes --result_dir %s/u "
             "--iteration 1 --img_size 32 --gen_dim 2 --n_res 1 --n_layer 2", dir, dir);
    CHECK(run_cli(dir, cmd, 1, out, sizeof out) == 0, "train unit: %s", out);
    snprintf(cmd, sizeof cmd, "translate --model %s/u/shapes/model/shapes_params_0000001."
             "safetensors --input %s/shapes/testA/0000.png --output %s/x.png --styles 2", dir,
             dir, dir);
    CHECK(run_cli(dir, cmd, 0, out, sizeof out) != 0 &&
              strstr(out, "--styles: a UNIT model has no style codes"),
          "--styles on a model without styles: %s", out);
    snprintf(cmd, sizeof cmd, "train --family unit --style_dim 4 --dataset %s/shapes", dir);
    CHECK(run_cli(dir, cmd, 0, out, sizeof out) == 2 &&
              strstr(out, "--style_dim is a flag of the munit family, not of unit"),
          "a MUNIT flag on UNIT: %s", out);
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
    mu_config_default(&c, 32);
    c.ch = 2, c.n_res = 1, c.dis_global = 2, c.style_dim = 3, c.mlp_dim = 8;
    if (ug_model_new(&m, &c, 1, &err) < 0) {
        CHECK(0, "%s", err.msg);
        return check_summary();
    }
    test_schedule(m);
    test_resume(m);
    ug_model_free(m);
    return check_summary();
}
