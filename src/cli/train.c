/* ugatit train: the release's training loop on two folders of images, with
 * readable progress, sample grids and a report every --print_freq steps,
 * checkpoints every --save_freq steps and on Ctrl-C/SIGTERM, and an exact
 * resume from the newest checkpoint.
 *
 * Under mpirun (a build with -DUGATIT_MPI=ON) every rank runs this: each
 * trains on its share of the global batch (dist/comm.h), rank 0 alone writes
 * the result folder and prints, and the ranks agree once per step whether
 * any of them failed or was told to stop, so that all end together. */
#include <omp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/results.h"
#include "cli/samples.h"
#include "core/threads.h"
#include "cli/train_kid.h"
#include "cli/yaml_config.h"
#include "core/error.h"
#include "core/meminfo.h"
#include "data/loader.h"
#include "dist/comm.h"
#include "model/model.h"
#include "model/step.h"
#ifdef UGATIT_MPI
#include "dist/mpi/comm_mpi.h"
#endif

/* What a rank tells the others once per step. */
enum { FLAG_ERROR = 1, FLAG_STOP = 2 };
#define OTHER_FAILED "stopping: another rank failed (its message says why)"

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig) { stop_signal = sig; }

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void format_duration(char *out, size_t n, double s)
{
    long t = (long)(s + 0.5);
    snprintf(out, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
}

static void warn_stderr(void *ctx, const char *msg)
{
    (void)ctx;
    fprintf(stderr, "warning: %s\n", msg);
}

static const cli_opt options[] = {
    {"dataset", "NAME|DIR", "dataset/NAME/{trainA,trainB,testA,testB}, or a folder", NULL, 1},
    {"iteration", "N", "training steps (with --resume: the checkpoint's unless given); "
                       "cyclegan: the learning rate decays over the second half", "1000000", 0},
    {"n_epochs", "N", "cyclegan without --iteration: epochs (max(|trainA|, |trainB|) / "
                      "batch_size steps) at the initial learning rate", "100", 0},
    {"n_epochs_decay", "N", "cyclegan without --iteration: epochs of linear decay to 0 after "
                            "them", "100", 0},
    {"n_ep", "N", "drit without --iteration: epochs of max(|trainA|, |trainB|) / 2 steps "
                  "(the last partial batch dropped); the run is --n_ep x that many steps",
     "1200", 0},
    {"n_ep_decay", "N", "drit: lr_policy lambda, constant through epoch N (from 0), then "
                        "linear: epoch e runs at lr x (1 - max(0, e - N) / (n_ep - N + 1)); "
                        "with --iteration, epochs of one step and N half of them", "600", 0},
    {"d_iter", "N", "drit: a full iteration (all eight networks) every N steps and on the last "
                    "two of each epoch; the others train only the content discriminator", "3",
     0},
    {"no_ms", "BOOL", "drit: without the mode-seeking loss", "false", 0},
    {"dis_scale", "N", "drit: scales of the image discriminators", "3", 0},
    {"crop_size", "N", "drit: the image side, a random crop (test: the centre crop) of the "
                       "images resized to 256 x 256 (the official resize_size), at most 256",
     "216", 0},
    {"batch_size", "N", "images per domain per step (per rank under mpirun: the global "
                        "batch is ranks x N; drit: 2 per rank, an encoded and a random "
                        "sample)", "1", 0},
    {"print_freq", "N", "progress, sample grids and report every N steps", "1000", 0},
    {"save_freq", "N", "checkpoint every N steps", "100000", 0},
    {"kid_freq", "N", "KID of the test sets every N steps, as ugatit eval measures it, into "
                      "kid.csv and the report (0: off; needs --inception)", "0", 0},
    {"inception", "FILE", "Inception-v3 weights for --kid_freq (see ugatit kid; default $"
                          UG_INCEPTION_ENV ")", NULL, 0},
    {"decay_flag", "BOOL", "linear learning-rate decay (see --iteration, --n_epochs)", "true",
     0},
    {"lr", "X", "learning rate (cyclegan: 0.0002)", "0.0001", 0},
    {"weight_decay", "X", "Adam weight decay (L2) (cyclegan: 0)", "0.0001", 0},
    {"adv_weight", "X", "weight of the adversarial losses (cyclegan: the generators')", "1", 0},
    {"gan_w", "X", "unit, munit: weight of the adversarial losses", "1", 0},
    {"cycle_weight", "X", "weight of the cycle losses (cyclegan: lambda_A = lambda_B; unit, "
                         "munit: recon_x_cyc_w; munit's default 0)", "10", 0},
    {"recon_x_w", "X", "unit, munit: weight of the image reconstruction losses", "10", 0},
    {"recon_s_w", "X", "munit: weight of the style reconstruction losses", "1", 0},
    {"recon_c_w", "X", "munit: weight of the content reconstruction losses", "1", 0},
    {"recon_kl_w", "X", "unit: weight of the KL losses of the latents", "0.01", 0},
    {"recon_kl_cyc_w", "X", "unit: weight of the KL losses of the cycles' latents", "0.01", 0},
    {"step_size", "N", "unit, munit: the learning rate times --gamma every N steps (lr_policy "
                      "step; off with --decay_flag false)", "100000", 0},
    {"gamma", "X", "unit, munit: the step decay's factor", "0.5", 0},
    {"config", "FILE", "unit, munit: the official YAML configuration (configs/*.yaml); its "
                      "values stand for the flags not given", NULL, 0},
    {"identity_weight", "X", "weight of the identity losses (cyclegan: 0.5, lambda_identity, "
                             "times the cycle weight)", "10", 0},
    {"cam_weight", "X", "weight of the CAM losses", "1000", 0},
    {"family", "NAME", "model family: ugatit, cyclegan (the official CycleGAN), unit (the "
                       "official UNIT master), munit (the official MUNIT) or drit (the "
                       "official DRIT master)", "ugatit", 0},
    {"ch", "N", "base channels (cyclegan: ngf = ndf; drit: the official 64)", "64", 0},
    {"gen_dim", "N", "unit, munit: channels of the first layers of generators and "
                     "discriminators (gen.dim = dis.dim)", "64", 0},
    {"n_downsample", "N", "unit, munit: stride-2 convolutions of the (content) encoder; this "
                          "build has the official 2", "2", 0},
    {"n_res", "N", "residual blocks (cyclegan: 9 from img_size 256 up, else 6)", "4", 0},
    {"style_dim", "N", "munit: channels of the style code", "8", 0},
    {"mlp_dim", "N", "munit: width of the MLP from the style code to the AdaIN parameters",
     "256", 0},
    {"n_layer", "N", "unit, munit: layers of each scale of the discriminators", "4", 0},
    {"num_scales", "N", "unit, munit: scales of the discriminators", "3", 0},
    {"n_dis", "N", "discriminator depth, 4 to 11: global N+1 layers, local N-1", "6", 0},
    {"img_size", "N", "image side (a multiple of 4)", "256", 0},
    {"result_dir", "DIR", "results go to DIR/NAME/{model,img,test}", "results", 0},
    {"resume", "BOOL", "continue from the newest checkpoint in DIR/NAME/model, with its "
                       "configuration (see above)", "false", 0},
    {"light", "BOOL", "the light model (pooled MLP input)", "false", 0},
    {"norm", "NAME", "decoder norm: adalin (the paper's), or the ablations in, ln, adain, gn",
     "adalin", 0},
    {"cam_g", "BOOL", "CAM attention in the generators (false: the ablation)", "true", 0},
    {"cam_d", "BOOL", "CAM attention in the discriminators (false: the ablation)", "true", 0},
    {"seed", "N", "random seed (weights, data order, augmentation)", "0", 0},
    {"threads", "N", "threads (0: as many as the cores other processes leave free)", "0", 0},
    {"augment_flag", "BOOL", "random flip and crop; false: only resize", "true", 0},
    {"init", "CKPT", "start from these weights (spectral-norm state included)", NULL, 0},
    {"moments_dir", "DIR", "where Adam's moments live: memory; DIR, files there streamed at "
                           "each update (the same training in 8 bytes a parameter less memory, "
                           "at the disk's pace); auto, files in the run's folder when they "
                           "would take more than half the memory available (the full model at "
                           "256 on 8 GB), else memory", "auto", 0},
};
#define N_OPTIONS ((int)(sizeof options / sizeof options[0]))

typedef struct train_opts {
    char dataset_root[UG_PATH_MAX];
    char name[256];
    const char *result_dir, *init;
    ug_config cfg;
    ug_train_config tc;
    long print_freq, save_freq, kid_freq, seed, threads, n_epochs, n_epochs_decay;
    int resume, augment, epochs; /* epochs: the schedule in epochs (set_epochs) */
    ug_comm *comm;
    ug_threads threads_now;  /* --threads as it runs */
    int moments_auto;        /* 1: --moments_dir auto placed them by mem_available */
    double mem_available;    /* then: this rank's share of the memory left, bytes */
    cli_opt opt[N_OPTIONS]; /* options as parsed */
    cli_yaml config;        /* --config's entries (values that opt points into) */
} train_opts;

/* The value of --name as the command line gave it, or NULL when it did not
 * (parsing replaces the default's pointer with one into argv). */
static const char *given(const train_opts *o, const char *name)
{
    for (int i = 0; i < N_OPTIONS; i++)
        if (strcmp(options[i].name, name) == 0)
            return o->opt[i].value != options[i].value ? o->opt[i].value : NULL;
    return NULL;
}

/* The flags that not every family has, and the families (separated by
 * blanks) that have them. */
static const struct {
    const char *flag, *family;
} family_flags[] = {
    {"n_dis", "ugatit"},         {"light", "ugatit"}, {"norm", "ugatit"},
    {"ch", "ugatit cyclegan drit"}, {"adv_weight", "ugatit cyclegan"},
    {"gen_dim", "unit munit"},   {"gan_w", "unit munit"}, {"n_downsample", "unit munit"},
    {"cam_g", "ugatit"},         {"cam_d", "ugatit"}, {"cam_weight", "ugatit"},
    {"identity_weight", "ugatit cyclegan"},
    {"n_epochs", "cyclegan"},    {"n_epochs_decay", "cyclegan"},
    {"recon_x_w", "unit munit"}, {"recon_kl_w", "unit"}, {"recon_kl_cyc_w", "unit"},
    {"step_size", "unit munit"}, {"gamma", "unit munit"}, {"n_layer", "unit munit"},
    {"num_scales", "unit munit"}, {"config", "unit munit"}, {"recon_s_w", "munit"},
    {"recon_c_w", "munit"},      {"style_dim", "munit"}, {"mlp_dim", "munit"},
    {"n_res", "ugatit cyclegan unit munit"}, {"img_size", "ugatit cyclegan unit munit"},
    {"cycle_weight", "ugatit cyclegan unit munit"},
    {"n_ep", "drit"},            {"n_ep_decay", "drit"}, {"d_iter", "drit"},
    {"no_ms", "drit"},           {"dis_scale", "drit"},  {"crop_size", "drit"},
};

#define N_FAMILY_FLAGS (sizeof family_flags / sizeof family_flags[0])

/* Whether name is a word of the blank-separated list. */
static int in_list(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; *p; p += strcspn(p, " "), p += *p == ' ')
        if (strncmp(p, name, n) == 0 && (p[n] == ' ' || p[n] == '\0'))
            return 1;
    return 0;
}

/* Whether flag, one of family_flags, is family's. */
static int family_has(const char *family, const char *flag)
{
    for (size_t i = 0; i < N_FAMILY_FLAGS; i++)
        if (strcmp(family_flags[i].flag, flag) == 0)
            return in_list(family_flags[i].family, family);
    return 0;
}

static int check_family_flags(const train_opts *o, const char *family)
{
    for (size_t i = 0; i < N_FAMILY_FLAGS; i++)
        if (given(o, family_flags[i].flag) && !in_list(family_flags[i].family, family)) {
            const char *list = family_flags[i].family;
            fprintf(stderr, strchr(list, ' ') ? "ugatit train: --%s is a flag of the families %s, "
                                                "not of %s\n"
                                              : "ugatit train: --%s is a flag of the %s family, "
                                                "not of %s\n",
                    family_flags[i].flag, list, family);
            return -1;
        }
    return 0;
}

/* The official configuration's keys that stand for a flag. */
static const struct {
    const char *key, *flag;
} config_flags[] = {
    {"gen.dim", "gen_dim"},      {"gen.n_res", "n_res"},
    {"dis.n_layer", "n_layer"},  {"dis.num_scales", "num_scales"},
    {"gan_w", "gan_w"},          {"recon_x_w", "recon_x_w"},
    {"recon_kl_w", "recon_kl_w"}, {"recon_x_cyc_w", "cycle_weight"},
    {"recon_kl_cyc_w", "recon_kl_cyc_w"}, {"lr", "lr"},
    {"weight_decay", "weight_decay"}, {"step_size", "step_size"},
    {"gamma", "gamma"},          {"max_iter", "iteration"},
    {"batch_size", "batch_size"}, {"crop_image_height", "img_size"},
    {"gen.style_dim", "style_dim"}, {"gen.mlp_dim", "mlp_dim"},
    {"recon_s_w", "recon_s_w"},  {"recon_c_w", "recon_c_w"},
};

/* Keys whose value this build has only the official one of. */
static const struct {
    const char *key, *value;
} config_fixed[] = {
    {"gen.n_downsample", "2"}, {"gen.activ", "relu"},   {"gen.pad_type", "reflect"},
    {"dis.norm", "none"},      {"dis.activ", "lrelu"},  {"dis.gan_type", "lsgan"},
    {"dis.pad_type", "reflect"}, {"beta1", "0.5"},      {"beta2", "0.999"},
    {"init", "kaiming"},       {"vgg_w", "0"},          {"input_dim_a", "3"},
    {"input_dim_b", "3"},
};

/* Whether a and b are the same number, or else the same text. */
static int same_value(const char *a, const char *b)
{
    char *ea, *eb;
    double x = strtod(a, &ea), y = strtod(b, &eb);
    return ea != a && !*ea && eb != b && !*eb ? x == y : strcmp(a, b) == 0;
}

/* Fails, naming the file and line, when key is there with a value other than want. */
static int config_check(const cli_yaml *y, const char *path, const char *key, const char *want,
                        const char *why)
{
    const cli_yaml_entry *e = cli_yaml_find(y, key);
    if (!e || same_value(e->value, want))
        return 0;
    fprintf(stderr, "ugatit train: %s:%d: %s is %s; this build takes only %s (%s)\n", path,
            e->line, key, e->value, want, why);
    return -1;
}

/* --config FILE: its values go where the command line gave no flag, through
 * the flags' own checks. */
static int apply_config(train_opts *o)
{
    const char *path = cli_find(o->opt, N_OPTIONS, "config")->value;
    ug_error err;
    if (!path)
        return 0;
    if (cli_yaml_load(&o->config, path, &err) < 0) {
        fprintf(stderr, "ugatit train: --config: %s\n", err.msg);
        return -1;
    }
    const cli_yaml *y = &o->config;
    for (size_t i = 0; i < sizeof config_fixed / sizeof config_fixed[0]; i++)
        if (config_check(y, path, config_fixed[i].key, config_fixed[i].value,
                         "the official value") < 0)
            return -1;
    const cli_yaml_entry *gd = cli_yaml_find(y, "gen.dim"), *ch = cli_yaml_find(y,
                                                                              "crop_image_height");
    if ((gd && config_check(y, path, "dis.dim", gd->value, "gen.dim's: --gen_dim is both") < 0) ||
        (ch && config_check(y, path, "crop_image_width", ch->value,
                            "crop_image_height's: square images") < 0))
        return -1;
    const cli_yaml_entry *policy = cli_yaml_find(y, "lr_policy");
    if (policy && strcmp(policy->value, "step") && strcmp(policy->value, "constant")) {
        fprintf(stderr, "ugatit train: %s:%d: lr_policy: %s (step or constant)\n", path,
                policy->line, policy->value);
        return -1;
    }
    for (int i = 0; i < N_OPTIONS; i++) {
        const char *flag = o->opt[i].name;
        if (given(o, flag))
            continue;
        if (strcmp(flag, "decay_flag") == 0 && policy)
            o->opt[i].value = strcmp(policy->value, "step") == 0 ? "true" : "false";
        for (size_t k = 0; k < sizeof config_flags / sizeof config_flags[0]; k++) {
            const cli_yaml_entry *e = cli_yaml_find(y, config_flags[k].key);
            if (e && strcmp(config_flags[k].flag, flag) == 0)
                o->opt[i].value = e->value;
        }
    }
    return 0;
}

static int parse(int argc, char **argv, train_opts *o)
{
    cli_opt *opt = o->opt;
    int n = N_OPTIONS;
    memcpy(opt, options, sizeof options);
    int rc = cli_parse(argc, argv, opt, n,
                       "usage: ugatit train --dataset NAME|DIR [options]\n\n"
                       "Trains a U-GAT-IT translator between DIR/trainA and DIR/trainB, or\n"
                       "with --family cyclegan the official CycleGAN (its defaults where an\n"
                       "option names them; learning rate constant for --n_epochs epochs, then\n"
                       "linear to 0 over --n_epochs_decay, or with --iteration over the second\n"
                       "half of the steps), or with --family unit the official UNIT (master:\n"
                       "two VAE generators, multi-scale discriminators, the learning rate\n"
                       "halved every --step_size steps), or with --family munit the official\n"
                       "MUNIT (style and content encoders, AdaIN decoders, UNIT's discriminators\n"
                       "and schedule), or with --family drit the official DRIT (master,\n"
                       "--concat 1, mode seeking: eight networks, batches of 2, crops of 216,\n"
                       "--n_ep epochs with the learning rate decaying after --n_ep_decay).\n\n"
                       "With --resume true a run goes on with its checkpoint's configuration: a "
                       "flag given\nthat contradicts it is an error, one not given takes the "
                       "checkpoint's value.\n--iteration, --print_freq, --save_freq, --kid_freq "
                       "and --threads may change; a larger\n--iteration extends the run (the "
                       "learning-rate decay recomputed for the new total). A checkpoint\n"
                       "already at --iteration is left as it is (nothing to do, exit status 0). "
                       "--init\ntakes the model's configuration from its checkpoint the same "
                       "way.\n\nmpirun -np K ugatit train ... trains on K processes (a build "
                       "with -DUGATIT_MPI=ON):\neach takes --batch_size images per domain, the "
                       "global batch is K x --batch_size,\nand rank 0 writes the results. "
                       "Checkpoints keep the global batch, so --resume works\non any number "
                       "of ranks that divides it (drit: the number that wrote it).");
    if (rc)
        return rc;
    long iteration, batch, ch, gen_dim, n_downsample, n_res, n_dis, img;
    double lr, wd, adv, gan_w, cyc, idt, cam, rx, rkl, rklc, gamma, rs, rc_w;
    long step_size, n_layer, num_scales, style_dim, mlp_dim, n_ep, n_ep_decay, d_iter, dis_scale,
        crop;
    int cam_g, cam_d, light, decay, no_ms;
    ug_error err;
    o->cfg.family = cli_find(opt, n, "family")->value;
    const ug_family *fam = ug_family_find(o->cfg.family, &err);
    if (!fam) {
        fprintf(stderr, "ugatit train: --family: %s\n", err.msg);
        return -1;
    }
    if (check_family_flags(o, fam->name) < 0 || apply_config(o) < 0)
        return -1;
    if (cli_int(opt, n, "iteration", 1, 1000000000, &iteration) < 0 ||
        cli_int(opt, n, "n_epochs", 1, 1000000, &o->n_epochs) < 0 ||
        cli_int(opt, n, "n_epochs_decay", 0, 1000000, &o->n_epochs_decay) < 0 ||
        cli_int(opt, n, "batch_size", 1, 4096, &batch) < 0 ||
        cli_int(opt, n, "print_freq", 1, 1000000000, &o->print_freq) < 0 ||
        cli_int(opt, n, "save_freq", 1, 1000000000, &o->save_freq) < 0 ||
        cli_int(opt, n, "kid_freq", 0, 1000000000, &o->kid_freq) < 0 ||
        cli_bool(opt, n, "decay_flag", &decay) < 0 ||
        cli_double(opt, n, "lr", 0, 1e3, &lr) < 0 ||
        cli_double(opt, n, "weight_decay", 0, 1e3, &wd) < 0 ||
        cli_double(opt, n, "adv_weight", 0, 1e9, &adv) < 0 ||
        cli_double(opt, n, "gan_w", 0, 1e9, &gan_w) < 0 ||
        cli_double(opt, n, "cycle_weight", 0, 1e9, &cyc) < 0 ||
        cli_double(opt, n, "identity_weight", 0, 1e9, &idt) < 0 ||
        cli_double(opt, n, "cam_weight", 0, 1e9, &cam) < 0 ||
        cli_double(opt, n, "recon_x_w", 0, 1e9, &rx) < 0 ||
        cli_double(opt, n, "recon_kl_w", 0, 1e9, &rkl) < 0 ||
        cli_double(opt, n, "recon_kl_cyc_w", 0, 1e9, &rklc) < 0 ||
        cli_double(opt, n, "recon_s_w", 0, 1e9, &rs) < 0 ||
        cli_double(opt, n, "recon_c_w", 0, 1e9, &rc_w) < 0 ||
        cli_int(opt, n, "style_dim", 1, 4096, &style_dim) < 0 ||
        cli_int(opt, n, "mlp_dim", 1, 65536, &mlp_dim) < 0 ||
        cli_double(opt, n, "gamma", 0, 1, &gamma) < 0 ||
        cli_int(opt, n, "step_size", 1, 1000000000, &step_size) < 0 ||
        cli_int(opt, n, "n_layer", 1, 8, &n_layer) < 0 ||
        cli_int(opt, n, "num_scales", 1, 4, &num_scales) < 0 ||
        cli_int(opt, n, "ch", 1, 4096, &ch) < 0 ||
        cli_int(opt, n, "gen_dim", 1, 4096, &gen_dim) < 0 ||
        cli_int(opt, n, "n_downsample", 2, 2, &n_downsample) < 0 ||
        cli_int(opt, n, "n_res", 1, 64, &n_res) < 0 ||
        /* The local discriminator's n_dis - 1 layers: at least 3, the global
         * one's n_dis + 1: at most 12 (ug_build_discriminator). */
        cli_int(opt, n, "n_dis", 4, 11, &n_dis) < 0 ||
        cli_int(opt, n, "img_size", 8, 8192, &img) < 0 ||
        cli_int(opt, n, "n_ep", 1, 1000000, &n_ep) < 0 ||
        cli_int(opt, n, "n_ep_decay", 0, 1000000, &n_ep_decay) < 0 ||
        cli_int(opt, n, "d_iter", 1, 1000000, &d_iter) < 0 ||
        cli_bool(opt, n, "no_ms", &no_ms) < 0 ||
        cli_int(opt, n, "dis_scale", 1, 4, &dis_scale) < 0 ||
        cli_int(opt, n, "crop_size", 8, 8192, &crop) < 0 ||
        cli_bool(opt, n, "resume", &o->resume) < 0 ||
        cli_bool(opt, n, "light", &light) < 0 ||
        cli_int(opt, n, "seed", 0, 0x7fffffffffffffffL, &o->seed) < 0 ||
        cli_int(opt, n, "threads", 0, 1024, &o->threads) < 0 ||
        cli_bool(opt, n, "augment_flag", &o->augment) < 0 ||
        cli_bool(opt, n, "cam_g", &cam_g) < 0 || cli_bool(opt, n, "cam_d", &cam_d) < 0)
        return -1;
    const char *norm = cli_find(opt, n, "norm")->value;
    if (ug_norm_parse(norm) < 0) {
        fprintf(stderr, "ugatit train: --norm must be adalin, in, ln, adain or gn (got '%s')\n",
                norm);
        return -1;
    }
    const char *dataset = cli_find(opt, n, "dataset")->value;
    if (ug_dataset_resolve(o->dataset_root, sizeof o->dataset_root, dataset, &err) < 0) {
        fprintf(stderr, "ugatit train: %s\n", err.msg);
        return -1;
    }
    ug_dataset_name(o->name, sizeof o->name, o->dataset_root);
    o->result_dir = cli_find(opt, n, "result_dir")->value;
    o->init = cli_find(opt, n, "init")->value;
    /* The family's defaults, then what the command line gave. */
    int side = (int)(family_has(fam->name, "crop_size") ? crop : img);
    if (fam->pipeline->side && side > fam->pipeline->side) {
        fprintf(stderr, "ugatit train: --%s %d is larger than the %s images' resize to %d\n",
                family_has(fam->name, "crop_size") ? "crop_size" : "img_size", side, fam->name,
                fam->pipeline->side);
        return -1;
    }
    fam->config_default(&o->cfg, side);
    o->cfg.family = fam->name;
    if (given(o, "ch"))
        o->cfg.ch = (int)ch;
    if (given(o, "gen_dim"))
        o->cfg.ch = (int)gen_dim;
    if (given(o, "n_res"))
        o->cfg.n_res = (int)n_res;
    if (given(o, "n_dis"))
        o->cfg.dis_global = (int)n_dis + 1, o->cfg.dis_local = (int)n_dis - 1;
    if (given(o, "n_layer"))
        o->cfg.dis_global = (int)n_layer;
    if (given(o, "num_scales"))
        o->cfg.dis_local = (int)num_scales;
    if (given(o, "style_dim"))
        o->cfg.style_dim = (int)style_dim;
    if (given(o, "mlp_dim"))
        o->cfg.mlp_dim = (int)mlp_dim;
    if (given(o, "dis_scale"))
        o->cfg.dis_local = (int)dis_scale;
    if (given(o, "light"))
        o->cfg.light = light;
    if (given(o, "norm"))
        o->cfg.norm = (ug_norm)ug_norm_parse(norm);
    if (given(o, "cam_g"))
        o->cfg.no_cam_g = !cam_g;
    if (given(o, "cam_d"))
        o->cfg.no_cam_d = !cam_d;
    ug_train_config_for(&o->tc, fam->name, &err);
    if (given(o, "batch_size"))
        o->tc.batch_size = (int)batch;
    o->tc.seed = (uint64_t)o->seed;
    o->tc.moments_dir = cli_find(opt, n, "moments_dir")->value;
    const struct {
        const char *flag;
        double value, *dst;
    } reals[] = {{"lr", lr, &o->tc.lr}, {"weight_decay", wd, &o->tc.weight_decay}};
    for (size_t i = 0; i < sizeof reals / sizeof reals[0]; i++)
        if (given(o, reals[i].flag))
            *reals[i].dst = reals[i].value;
    const struct {
        const char *flag;
        double value;
        float *dst;
    } weights[] = {{"adv_weight", adv, &o->tc.adv_weight},
                   {"gan_w", gan_w, &o->tc.adv_weight},
                   {"cycle_weight", cyc, &o->tc.cycle_weight},
                   {"identity_weight", idt, &o->tc.identity_weight},
                   {"cam_weight", cam, &o->tc.cam_weight},
                   {"recon_x_w", rx, &o->tc.recon_x_w},
                   {"recon_kl_w", rkl, &o->tc.recon_kl_w},
                   {"recon_kl_cyc_w", rklc, &o->tc.recon_kl_cyc_w},
                   {"recon_s_w", rs, &o->tc.recon_s_w},
                   {"recon_c_w", rc_w, &o->tc.recon_c_w}};
    for (size_t i = 0; i < sizeof weights / sizeof weights[0]; i++)
        if (given(o, weights[i].flag))
            *weights[i].dst = (float)weights[i].value;
    if (given(o, "decay_flag"))
        o->tc.decay_flag = decay;
    if (given(o, "step_size"))
        o->tc.step_size = step_size;
    if (given(o, "gamma"))
        o->tc.gamma = gamma;
    if (given(o, "d_iter"))
        o->tc.d_iter = (int)d_iter;
    if (given(o, "no_ms"))
        o->tc.no_ms = no_ms;
    if (family_has(fam->name, "n_ep"))
        o->tc.n_ep_decay = n_ep_decay, o->n_epochs = n_ep;
    /* CycleGAN and DRIT count in epochs unless --iteration is given (set_epochs). */
    o->epochs = (family_has(fam->name, "n_epochs") || family_has(fam->name, "n_ep")) &&
                !given(o, "iteration");
    if (given(o, "iteration") && (given(o, "n_epochs") || given(o, "n_epochs_decay") ||
                                  given(o, "n_ep"))) {
        fprintf(stderr, "ugatit train: give --iteration or --n_epochs/--n_epochs_decay "
                        "(drit: --n_ep), not both\n");
        return -1;
    }
    if (family_has(fam->name, "n_ep") && o->epochs && n_ep_decay > n_ep) {
        fprintf(stderr, "ugatit train: --n_ep_decay %ld is past --n_ep %ld\n", n_ep_decay, n_ep);
        return -1;
    }
    o->tc.iteration = iteration;
    return 0;
}

/* A new run of --n_epochs + --n_epochs_decay epochs of the larger domain
 * (drit: --n_ep epochs, the last partial batch dropped), in steps. */
static int set_epochs(train_opts *o, size_t n_a, size_t n_b, ug_error *err)
{
    const int drit = family_has(o->cfg.family, "n_ep");
    size_t n = n_a > n_b ? n_a : n_b, batch = (size_t)o->tc.batch_size;
    long epoch_steps = (long)(drit ? n / batch : (n + batch - 1) / batch);
    long epochs = drit ? o->n_epochs : o->n_epochs + o->n_epochs_decay;
    if (epoch_steps < 1 || epochs > 1000000000L / epoch_steps)
        return ug_fail(err, "%ld epochs of %ld steps are too many", epochs, epoch_steps);
    o->tc.epoch_steps = epoch_steps;
    o->tc.n_epochs_decay = drit ? 0 : o->n_epochs_decay;
    o->tc.iteration = epochs * epoch_steps;
    return 0;
}

/* A flag the command line gave must agree with the checkpoint's value of it
 * (same: whether it does; value: the checkpoint's, as text). */
static int agree(const train_opts *o, const char *flag, int same, const char *value,
                 const char *path, ug_error *err)
{
    const char *v = given(o, flag);
    if (!v || same)
        return 0;
    return ug_fail(err, "--%s %s contradicts the checkpoint's %s %s (%s)", flag, v, flag, value,
                   path);
}

static const char *bool_text(int b) { return b ? "true" : "false"; }

/* The model's configuration comes from a checkpoint (--resume or --init):
 * the flags given must not say otherwise. */
static int check_model_flags(const train_opts *o, const ug_config *c, const char *path,
                             ug_error *err)
{
    char ch[16], n_res[16], img[16], n_dis[64];
    snprintf(ch, sizeof ch, "%d", c->ch);
    snprintf(n_res, sizeof n_res, "%d", c->n_res);
    snprintf(img, sizeof img, "%d", c->img_size);
    if (c->dis_local == c->dis_global - 2)
        snprintf(n_dis, sizeof n_dis, "%d", c->dis_global - 1);
    else
        snprintf(n_dis, sizeof n_dis, "(none: discriminators of %d and %d layers)",
                 c->dis_global, c->dis_local);
    char n_layer[16], scales[16], style_dim[16], mlp_dim[16];
    snprintf(n_layer, sizeof n_layer, "%d", c->dis_global);
    snprintf(scales, sizeof scales, "%d", c->dis_local);
    snprintf(style_dim, sizeof style_dim, "%d", c->style_dim);
    snprintf(mlp_dim, sizeof mlp_dim, "%d", c->mlp_dim);
    const ug_config *g = &o->cfg;
    return agree(o, "family", strcmp(g->family, c->family) == 0, c->family, path, err) < 0 ||
                   agree(o, "ch", g->ch == c->ch, ch, path, err) < 0 ||
                   agree(o, "gen_dim", g->ch == c->ch, ch, path, err) < 0 ||
                   agree(o, "n_res", g->n_res == c->n_res, n_res, path, err) < 0 ||
                   agree(o, "img_size", g->img_size == c->img_size, img, path, err) < 0 ||
                   agree(o, "light", g->light == c->light, bool_text(c->light), path, err) < 0 ||
                   agree(o, "n_dis", g->dis_global == c->dis_global &&
                                         g->dis_local == c->dis_local, n_dis, path, err) < 0 ||
                   agree(o, "norm", g->norm == c->norm, ug_norm_name(c->norm), path, err) < 0 ||
                   agree(o, "cam_g", g->no_cam_g == c->no_cam_g, bool_text(!c->no_cam_g), path,
                         err) < 0 ||
                   agree(o, "cam_d", g->no_cam_d == c->no_cam_d, bool_text(!c->no_cam_d), path,
                         err) < 0 ||
                   agree(o, "n_layer", g->dis_global == c->dis_global, n_layer, path, err) < 0 ||
                   agree(o, "num_scales", g->dis_local == c->dis_local, scales, path, err) < 0 ||
                   agree(o, "style_dim", g->style_dim == c->style_dim, style_dim, path, err) < 0 ||
                   agree(o, "mlp_dim", g->mlp_dim == c->mlp_dim, mlp_dim, path, err) < 0 ||
                   agree(o, "dis_scale", g->dis_local == c->dis_local, scales, path, err) < 0 ||
                   agree(o, "crop_size", g->img_size == c->img_size, img, path, err) < 0
               ? -1
               : 0;
}

/* The same for the training configuration of a resumed checkpoint, its data
 * seed and augmentation. */
static int check_train_flags(const train_opts *o, const ug_train_config *tc, long seed,
                             int augment, const char *path, ug_error *err)
{
    const ug_train_config *g = &o->tc;
    char v[17][40];
    if (o->comm->size > 1)
        snprintf(v[0], sizeof v[0], "%d (global)", tc->batch_size);
    else
        snprintf(v[0], sizeof v[0], "%d", tc->batch_size);
    snprintf(v[1], sizeof v[1], "%g", tc->lr);
    snprintf(v[2], sizeof v[2], "%g", tc->weight_decay);
    snprintf(v[3], sizeof v[3], "%g", tc->adv_weight);
    snprintf(v[4], sizeof v[4], "%g", tc->cycle_weight);
    snprintf(v[5], sizeof v[5], "%g", tc->identity_weight);
    snprintf(v[6], sizeof v[6], "%g", tc->cam_weight);
    snprintf(v[7], sizeof v[7], "%ld", seed);
    snprintf(v[8], sizeof v[8], "%g", tc->recon_x_w);
    snprintf(v[9], sizeof v[9], "%g", tc->recon_kl_w);
    snprintf(v[10], sizeof v[10], "%g", tc->recon_kl_cyc_w);
    snprintf(v[11], sizeof v[11], "%ld", tc->step_size);
    snprintf(v[12], sizeof v[12], "%g", tc->gamma);
    snprintf(v[13], sizeof v[13], "%g", tc->recon_s_w);
    snprintf(v[14], sizeof v[14], "%g", tc->recon_c_w);
    snprintf(v[15], sizeof v[15], "%d", tc->d_iter);
    snprintf(v[16], sizeof v[16], "%ld", tc->n_ep_decay);
    return agree(o, "batch_size", g->batch_size == tc->batch_size, v[0], path, err) < 0 ||
                   agree(o, "lr", g->lr == tc->lr, v[1], path, err) < 0 ||
                   agree(o, "weight_decay", g->weight_decay == tc->weight_decay, v[2], path,
                         err) < 0 ||
                   agree(o, "adv_weight", g->adv_weight == tc->adv_weight, v[3], path, err) < 0 ||
                   agree(o, "gan_w", g->adv_weight == tc->adv_weight, v[3], path, err) < 0 ||
                   agree(o, "cycle_weight", g->cycle_weight == tc->cycle_weight, v[4], path,
                         err) < 0 ||
                   agree(o, "identity_weight", g->identity_weight == tc->identity_weight, v[5],
                         path, err) < 0 ||
                   agree(o, "cam_weight", g->cam_weight == tc->cam_weight, v[6], path, err) < 0 ||
                   agree(o, "decay_flag", g->decay_flag == tc->decay_flag,
                         bool_text(tc->decay_flag), path, err) < 0 ||
                   agree(o, "seed", o->seed == seed, v[7], path, err) < 0 ||
                   agree(o, "augment_flag", o->augment == augment, bool_text(augment), path,
                         err) < 0 ||
                   agree(o, "recon_x_w", g->recon_x_w == tc->recon_x_w, v[8], path, err) < 0 ||
                   agree(o, "recon_kl_w", g->recon_kl_w == tc->recon_kl_w, v[9], path, err) < 0 ||
                   agree(o, "recon_kl_cyc_w", g->recon_kl_cyc_w == tc->recon_kl_cyc_w, v[10], path,
                         err) < 0 ||
                   agree(o, "step_size", g->step_size == tc->step_size, v[11], path, err) < 0 ||
                   agree(o, "gamma", g->gamma == tc->gamma, v[12], path, err) < 0 ||
                   agree(o, "recon_s_w", g->recon_s_w == tc->recon_s_w, v[13], path, err) < 0 ||
                   agree(o, "recon_c_w", g->recon_c_w == tc->recon_c_w, v[14], path, err) < 0 ||
                   agree(o, "d_iter", g->d_iter == tc->d_iter, v[15], path, err) < 0 ||
                   agree(o, "n_ep_decay", g->n_ep_decay == tc->n_ep_decay, v[16], path, err) < 0 ||
                   agree(o, "no_ms", g->no_ms == tc->no_ms, bool_text(tc->no_ms), path, err) < 0
               ? -1
               : 0;
}

/* Continues from our training checkpoint ckpt: its configuration, data seed
 * and augmentation replace those of o (checked against the flags given),
 * except the total number of steps when --iteration was given. */
static int resume(train_opts *o, const char *ckpt, ug_model **m, ug_trainer **t, ug_error *err)
{
    char meta[32];
    long seed = o->seed;
    int augment = o->augment, rc;
    if (ug_trainer_load(t, m, ckpt, o->tc.moments_dir, o->tc.moments_in_memory_max, err) < 0)
        return -1;
    /* A checkpoint saved by another program may lack the data seed and the
     * augmentation: the command line's then. */
    char *end;
    if ((rc = ug_checkpoint_meta(ckpt, "seed", meta, sizeof meta, err)) < 0)
        return -1;
    if (rc == 0 && ((seed = strtol(meta, &end, 10)) < 0 || end == meta || *end))
        return ug_fail(err, "%s: metadata 'seed' = '%s' is not a seed", ckpt, meta);
    if ((rc = ug_checkpoint_meta(ckpt, "augment_flag", meta, sizeof meta, err)) < 0)
        return -1;
    if (rc == 0 && strcmp(meta, "true") && strcmp(meta, "false"))
        return ug_fail(err, "%s: metadata 'augment_flag' must be true or false", ckpt);
    if (rc == 0)
        augment = strcmp(meta, "true") == 0;
    const ug_train_config *tc = ug_trainer_config(*t);
    long total = tc->iteration;
    if (check_model_flags(o, ug_model_config(*m), ckpt, err) < 0 ||
        check_train_flags(o, tc, seed, augment, ckpt, err) < 0 ||
        (given(o, "iteration") && ug_trainer_set_iteration(*t, o->tc.iteration, err) < 0))
        return -1;
    o->tc = *tc;
    o->seed = seed;
    o->augment = augment;
    printf("resuming from %s (step %ld) with its configuration; ", ckpt,
           ug_trainer_step_count(*t));
    if (tc->iteration != total)
        printf("--iteration %ld (was %ld: the learning-rate decay follows the new total), ",
               tc->iteration, total);
    printf("--print_freq %ld, --save_freq %ld, --kid_freq %ld and --threads %ld from the "
           "command line\n", o->print_freq, o->save_freq, o->kid_freq, o->threads);
    if (o->init)
        printf("--init %s is not used: the run continues from its checkpoint\n", o->init);
    return 0;
}

/* Where Adam's moments go (--moments_dir): memory, a folder's files, or
 * (auto) the run folder's files when they would take more than half of this
 * rank's share of the memory left (where it cannot be read, memory). Read
 * before the model exists, so its weights are not counted as taken. */
static void place_moments(train_opts *o, const ug_results *r)
{
    const char *v = o->tc.moments_dir;
    uint64_t left;
    o->tc.moments_in_memory_max = 0;
    if (strcmp(v, "memory") == 0) {
        o->tc.moments_dir = NULL;
    } else if (strcmp(v, "auto") == 0) {
        o->tc.moments_dir = r->root;
        o->tc.moments_in_memory_max = SIZE_MAX;
        if (ug_mem_available(&left)) {
            o->moments_auto = 1;
            o->mem_available = (double)left / o->comm->local_size;
            o->tc.moments_in_memory_max = (size_t)(o->mem_available / 2) | 1; /* 0: always */
        }
    }
}

/* The model and trainer: resumed from the newest checkpoint, started from
 * --init weights, or new. A resumed run's configuration replaces o's. */
static int setup_trainer(train_opts *o, const ug_results *r, ug_model **m, ug_trainer **t,
                         ug_error *err)
{
    char model_dir[UG_PATH_MAX + 8], ckpt[UG_PATH_MAX + 300];
    long step;
    place_moments(o, r);
    snprintf(model_dir, sizeof model_dir, "%s/model", r->root);
    /* Rank 0 finds the checkpoint; every rank reads it (a folder all
     * machines see, or a copy at the same path). */
    struct {
        int found;
        long step;
        char path[sizeof ckpt];
    } pick = {1, 0, ""};
    if (o->resume && o->comm->rank == 0)
        pick.found = ug_find_newest_checkpoint(model_dir, r->name, pick.path, sizeof pick.path,
                                               &pick.step, err);
    if (o->comm->bcast(o->comm, &pick, sizeof pick, 0, err) < 0)
        return -1;
    if (pick.found < 0)
        return o->comm->rank == 0 ? -1 : ug_fail(err, OTHER_FAILED);
    int found = pick.found;
    step = pick.step;
    memcpy(ckpt, pick.path, sizeof ckpt);
    size_t len = strlen(ckpt);
    if (found == 0 && len > 3 && strcmp(ckpt + len - 3, ".pt") == 0) {
        /* A checkpoint of the release: weights only, so Adam starts afresh,
         * and the training configuration is the command line's. */
        if (ug_model_load(m, ckpt, &o->cfg, 1, err) < 0 ||
            check_model_flags(o, ug_model_config(*m), ckpt, err) < 0 ||
            ug_trainer_new(t, *m, &o->tc, err) < 0 || ug_trainer_set_step(*t, step, err) < 0)
            return -1;
        printf("resuming from %s (step %ld; it holds no optimiser state, so Adam starts "
               "afresh)\n", ckpt, step);
        return 0;
    }
    if (found == 0)
        return resume(o, ckpt, m, t, err);
    if (o->init) {
        if (ug_model_load(m, o->init, &o->cfg, 1, err) < 0 ||
            check_model_flags(o, ug_model_config(*m), o->init, err) < 0)
            return -1;
        printf("starting from the weights of %s\n", o->init);
    } else if (ug_model_new(m, &o->cfg, (uint64_t)o->seed, err) < 0) {
        return -1;
    }
    return ug_trainer_new(t, *m, &o->tc, err);
}

static int save_checkpoint(const train_opts *o, const ug_trainer *t, const ug_results *r,
                           ug_error *err)
{
    char path[UG_PATH_MAX + 300], seed[32];
    snprintf(seed, sizeof seed, "%ld", o->seed);
    const char *extra[] = {"seed", seed, "augment_flag", o->augment ? "true" : "false",
                           "dataset", r->name};
    ug_results_checkpoint(r, ug_trainer_step_count(t), path, sizeof path);
    if (ug_trainer_save(t, path, extra, 3, err) < 0)
        return -1;
    printf("saved %s\n", path);
    return 0;
}

/* After a failed step: the message names the checkpoint to go back to. */
static void name_last_checkpoint(const ug_results *r, ug_error *err)
{
    char last[UG_PATH_MAX + 300] = "none", dir[UG_PATH_MAX + 8];
    long step;
    ug_error ignored;
    snprintf(dir, sizeof dir, "%s/model", r->root);
    ug_find_newest_checkpoint(dir, r->name, last, sizeof last, &step, &ignored);
    size_t len = strlen(err->msg);
    snprintf(err->msg + len, sizeof err->msg - len, "; stopping, the last good checkpoint is %s",
             last);
}

/* Whether every rank got here without an error (rc == 0 here): a
 * collective. The rank that failed keeps its message; the others say that
 * one did. One process: rc. */
static int all_ok(ug_comm *c, int rc, ug_error *err)
{
    unsigned any;
    if (c->any(c, rc < 0 ? FLAG_ERROR : 0, &any, rc < 0 ? NULL : err) < 0)
        return -1;
    if (rc < 0)
        return -1;
    return any & FLAG_ERROR ? ug_fail(err, OTHER_FAILED) : 0;
}

/* Every save_freq steps and at each checkpoint the ranks compare their
 * models, a collective that every rank joins, even one whose writing failed
 * (io < 0, its error kept); then rank 0 writes the checkpoint. */
static int checkpoint(const train_opts *o, ug_trainer *t, const ug_results *r, int io,
                      ug_error *err)
{
    ug_error ignored;
    int rc = ug_trainer_check_replicas(t, io < 0 ? &ignored : err);
    if (io < 0 || rc < 0)
        return -1;
    return o->comm->rank == 0 ? save_checkpoint(o, t, r, err) : 0;
}

/* The progress line: with several ranks, their number, the time of a step
 * spent waiting for the others (gradients, losses, flags) and its share, and
 * the bytes each rank all-reduces or gathers per step. */
static void progress(const train_opts *o, long step, long total, const float *L, int d_loss,
                     int g_loss, double rate, double comm_per_step, double bytes_per_step,
                     int threads)
{
    char left[32], ranks[96] = "";
    format_duration(left, sizeof left, (double)(total - step) / rate);
    if (o->comm->size > 1)
        snprintf(ranks, sizeof ranks, "  %d ranks, comm %.3f s/it (%.0f%%), %.2f MB/it",
                 o->comm->size, comm_per_step, 100 * comm_per_step * rate, bytes_per_step / 1e6);
    printf("[%7ld/%ld] d_loss %.4f  g_loss %.4f  %.2f it/s  left %s  %d thread%s%s\n", step,
           total, L[d_loss], L[g_loss], rate, left, threads, threads == 1 ? "" : "s", ranks);
    fflush(stdout);
}

/* The loop. Each step begins with the ranks' agreement: any rank's error
 * (its batch, or rank 0's writing at the step before) ends them all, any
 * rank's stop signal stops them all after a checkpoint. A step that fails on
 * one rank only (not a shared decision such as a loss that is not finite)
 * leaves the others in a collective: the program aborts them. */
static int train_loop(train_opts *o, const ug_results *r, ug_model *m, ug_trainer *t,
                      ug_loader *loader, ug_samples *samples, train_kid *kid, ug_error *err)
{
    ug_comm *comm = o->comm;
    const int root = comm->rank == 0;
    const ug_config *c = ug_model_config(m);
    int batch = ug_trainer_rank_batch(t);
    long total = o->tc.iteration, start = ug_trainer_step_count(t), step = start, saved = -1;
    size_t numel = (size_t)batch * 3 * c->img_size * c->img_size;
    float *A = malloc(numel * sizeof *A), *B = malloc(numel * sizeof *B);
    float *L = malloc((size_t)ug_trainer_loss_count(t) * sizeof *L);
    int d_loss, g_loss;
    ug_trainer_total_losses(t, &d_loss, &g_loss);
    FILE *log = NULL;
    int rc = -1, io = 0;
    if (!A || !B || !L)
        io = ug_fail(err, "out of memory for a batch");
    else if (root)
        io = ug_log_open(&log, r, t, start, err);
    double t_start = now(), t_window = t_start, comm_window = comm->seconds;
    double bytes_window = comm->bytes;
    long window_steps = 0;
    for (;;) {
        unsigned flags = (io < 0 ? FLAG_ERROR : 0) | (stop_signal ? FLAG_STOP : 0), any;
        if (!flags && step < total && ug_loader_next(loader, A, B, err) < 0)
            flags |= FLAG_ERROR;
        if (comm->any(comm, flags, &any, flags & FLAG_ERROR ? NULL : err) < 0)
            goto done;
        if (any & FLAG_ERROR) {
            if (!(flags & FLAG_ERROR))
                ug_fail(err, OTHER_FAILED);
            goto done;
        }
        if (any & FLAG_STOP) {
            int sig = stop_signal ? stop_signal : SIGTERM; /* another rank's */
            if (step > start && saved != step && checkpoint(o, t, r, 0, err) < 0)
                goto done;
            printf("stopped by signal %d at step %ld; --resume true continues\n", sig, step);
            rc = 128 + sig;
            goto done;
        }
        if (step == total)
            break;
        step++;
        int threads = ug_threads_update(&o->threads_now);
        if (ug_trainer_step(t, A, B, batch, L, err) < 0) {
            if (comm->size > 1 && !ug_trainer_failed_everywhere(t)) {
                fprintf(stderr, "ugatit train: rank %d: %s; ending every rank\n", comm->rank,
                        err->msg);
                fflush(stderr);
                comm->abort(comm, 1);
            }
            name_last_checkpoint(r, err);
            goto done;
        }
        if (root)
            ug_log_row(log, step, L, ug_trainer_loss_count(t), ug_trainer_lr(t),
                       now() - t_start);
        window_steps++;
        if (step % o->print_freq == 0 || step == start + 1 || step == total) {
            double dt = now() - t_window, rate = window_steps / (dt > 0 ? dt : 1e-9);
            progress(o, step, total, L, d_loss, g_loss, rate,
                     (comm->seconds - comm_window) / (double)window_steps,
                     (comm->bytes - bytes_window) / (double)window_steps, threads);
            t_window = now();
            comm_window = comm->seconds;
            bytes_window = comm->bytes;
            window_steps = 0;
        }
        if (root && io == 0 && train_kid_due(kid, step, total))
            io = train_kid_measure(kid, m, step, err);
        if (root && io == 0 && (step % o->print_freq == 0 || step == total))
            io = ug_samples_write(samples, m, r->root, step, err) < 0 ||
                         ug_write_report(r, o->dataset_root, m, t, step, err) < 0
                     ? -1
                     : 0;
        if (step % o->save_freq == 0 || step == total) {
            io = checkpoint(o, t, r, io, err);
            saved = step;
        }
    }
    size_t skipped = ug_loader_skipped(loader);
    printf("done: %ld steps, %zu undecodable file%s skipped\n", total - start, skipped,
           skipped == 1 ? "" : "s");
    rc = 0;
done:
    if (log)
        fclose(log);
    free(A);
    free(B);
    free(L);
    return rc;
}

/* MPI when an MPI launcher started several ranks, else one process. */
static int open_comm(ug_comm **c, ug_error *err)
{
    *c = ug_comm_single();
    if (!ug_comm_launched())
        return 0;
#ifdef UGATIT_MPI
    return ug_comm_mpi_open(c, NULL, NULL, err);
#else
    return ug_fail(err, "started by an MPI launcher with several ranks, but this ugatit is "
                        "built without MPI (cmake -DUGATIT_MPI=ON)");
#endif
}

/* Reads the inputs, sets up the model, trainer, loader and samples, and
 * trains; every failure is agreed on by the ranks (all_ok) before the next
 * collective. */
static int train(train_opts *o)
{
    ug_comm *comm = o->comm;
    const int root = comm->rank == 0;
    ug_error err = {{0}};
    ug_results r;
    ug_filelist a = {0}, b = {0};
    ug_model *m = NULL;
    ug_trainer *t = NULL;
    ug_loader *loader = NULL;
    ug_samples samples = {0};
    train_kid kid = {0};
    int status = 1, lock = -1, rc = 0;
    char dir[UG_PATH_MAX];
    /* Every input is checked before any work starts. */
    if (ug_dataset_subdir(dir, sizeof dir, o->dataset_root, "trainA", &err) < 0 ||
        ug_dataset_list(&a, dir, &err) < 0 ||
        ug_dataset_subdir(dir, sizeof dir, o->dataset_root, "trainB", &err) < 0 ||
        ug_dataset_list(&b, dir, &err) < 0 ||
        ug_results_init(&r, o->result_dir, o->name, &err) < 0 ||
        (root && ug_results_lock(&r, &lock, &err) < 0))
        rc = -1;
    if (rc == 0 && o->epochs && set_epochs(o, a.n, b.n, &err) < 0)
        rc = -1;
    if (all_ok(comm, rc, &err) < 0)
        goto done;
    const char *written[3] = {"", "/model", "/img"};
    for (int i = 0; root && i < 3; i++) {
        snprintf(dir, sizeof dir, "%s%s", r.root, written[i]);
        ug_remove_stale_temporaries(dir);
    }
    rc = setup_trainer(o, &r, &m, &t, &err) < 0 || ug_trainer_set_comm(t, comm, &err) < 0
             ? -1
             : 0;
    if (all_ok(comm, rc, &err) < 0 || ug_trainer_check_replicas(t, &err) < 0)
        goto done;
    if (ug_trainer_step_count(t) >= o->tc.iteration) {
        printf("nothing to do: the checkpoint is already at step %ld, and the run has %ld "
               "steps (a larger --iteration extends it)\n", ug_trainer_step_count(t),
               o->tc.iteration);
        status = 0;
        goto out;
    }
    const ug_config *c = ug_model_config(m);
    int batch = ug_trainer_rank_batch(t);
    ug_loader_config lc = {&a, &b, batch, c->img_size, o->augment, (uint64_t)o->seed,
                           warn_stderr, NULL, o->tc.batch_size, comm->rank * batch,
                           ug_model_pipeline(m)};
    rc = ug_loader_new(&loader, &lc, &err) < 0 ||
                 ug_loader_start(loader, ug_trainer_step_count(t), &err) < 0 ||
                 (root && (ug_samples_load(&samples, o->dataset_root, &a, &b, c->img_size,
                                           ug_model_pipeline(m), &err) < 0 ||
                           train_kid_open(&kid, o->kid_freq, o->opt, N_OPTIONS, o->dataset_root,
                                          &r, ug_trainer_step_count(t), &err) < 0))
             ? -1
             : 0;
    if (all_ok(comm, rc, &err) < 0)
        goto done;
    char ranks[64] = "";
    if (comm->size > 1)
        snprintf(ranks, sizeof ranks, " (%d ranks x %d)", comm->size, batch);
    char kv[8][2][64], model[512] = "";
    int n_kv = ug_model_describe(m, kv, 8);
    for (int i = 0, len = 0; i < n_kv && len < (int)sizeof model; i++)
        len += snprintf(model + len, sizeof model - (size_t)len, ", %s %s", kv[i][0], kv[i][1]);
    printf("training %s (%s): %zu + %zu images%s, batch %d%s, %ld steps, %s%d thread%s%s\n",
           r.name, ug_model_family(m), a.n, b.n, model, o->tc.batch_size, ranks,
           o->tc.iteration, o->threads_now.follow ? "up to " : "", omp_get_max_threads(),
           omp_get_max_threads() == 1 ? "" : "s", comm->size > 1 ? " per rank" : "");
    if (o->moments_auto && ug_trainer_config(t)->moments_dir)
        printf("Adam's moments (%.1f GB) go to files in %s: more than half of the %.1f GB of "
               "memory available%s (--moments_dir memory keeps them in memory)\n",
               (double)ug_trainer_moments_bytes(m) / 1e9, r.root, o->mem_available / 1e9,
               comm->local_size > 1 ? " to each rank on this machine" : "");
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    status = train_loop(o, &r, m, t, loader, &samples, &kid, &err);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    if (status > 0)
        goto out; /* stopped by a signal, checkpoint written */
done:
    if (status && comm->size > 1)
        fprintf(stderr, "ugatit train: rank %d: %s\n", comm->rank, err.msg);
    else if (status)
        fprintf(stderr, "ugatit train: %s\n", err.msg);
out:
    train_kid_close(&kid);
    ug_samples_free(&samples);
    ug_loader_free(loader);
    ug_trainer_free(t);
    ug_model_free(m);
    ug_filelist_free(&a);
    ug_filelist_free(&b);
    ug_results_unlock(lock);
    return status < 0 ? 1 : status;
}

int cmd_train(int argc, char **argv)
{
    train_opts o;
    memset(&o, 0, sizeof o);
    ug_error err;
    int rc = parse(argc, argv, &o);
    if (rc) {
        cli_yaml_free(&o.config);
        return rc < 0 ? 2 : 0;
    }
    ug_threads_init(&o.threads_now, o.threads);
    if (open_comm(&o.comm, &err) < 0) {
        fprintf(stderr, "ugatit train: %s\n", err.msg);
        return 1;
    }
    /* The global batch; ranks other than 0 print errors only. */
    o.tc.batch_size *= o.comm->size;
    if (o.comm->rank > 0 && !freopen("/dev/null", "w", stdout)) {
        fprintf(stderr, "ugatit train: rank %d: cannot silence its output\n", o.comm->rank);
        o.comm->abort(o.comm, 1);
    }
    int status = train(&o);
    o.comm->close(o.comm);
    cli_yaml_free(&o.config);
    return status;
}
