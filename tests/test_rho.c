/* The rho analysis: ug_model_rho (names, channels, values, a bad index),
 * the binning rule, `ugatit rho --csv` exactly on hand-set values (edge
 * values 0, 0.1, 0.95 and 1 included) for safetensors, .pt and a
 * generator-only file, its table, its errors, reading the rho tensors alone
 * from checkpoints, and the report's histograms and chart over training,
 * from ug_report_write and from a short `ugatit train`. */
#define _DEFAULT_SOURCE
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "cli.h"
#include "files.h"
#include "io/safetensors.h"
#include "model/model.h"
#include "model/ugatit/ugatit.h"
#include "model/rho.h"
#include "report/report.h"
#include "report/rho.h"

static char dir[] = "/tmp/ugatit_test_rho_XXXXXX";

/* ch 2, one residual block, light: per generator two adaILN layers of 8
 * channels and ILN layers of 4 and 2. */
static const ug_config small = {.ch = 2, .n_res = 1, .img_size = 32, .light = 1,
                                .dis_global = 5, .dis_local = 3};

/* The writable values of rho layer i (the test sets them by hand). */
static float *rho_values(ug_model *m, int i)
{
    for (int g = UG_GEN_A2B; g <= UG_GEN_B2A; g++)
        for (int p = 0; p < m->net[g].n_params; p++)
            if (m->net[g].params[p].clamped && i-- == 0)
                return ug_param_data(&m->net[g], p);
    return NULL;
}

/* Every layer set to v. */
static void set_all(ug_model *m, float v)
{
    for (int i = 0; i < ug_model_rho_count(m); i++) {
        ug_rho_layer l;
        ug_model_rho(m, i, &l, NULL);
        for (int c = 0; c < l.channels; c++)
            rho_values(m, i)[c] = v;
    }
}

static int run(const char *args, int with_stdout, char *out, size_t n)
{
    return run_cli(dir, args, with_stdout, out, n);
}

static void test_api(void)
{
    ug_model *m;
    ug_error err = {{0}};
    if (ug_model_new(&m, &small, 1, &err) < 0) {
        CHECK(0, "model: %s", err.msg);
        return;
    }
    static const char *const names[] = {"genA2B.UpBlock1_1.norm1", "genA2B.UpBlock1_1.norm2",
                                        "genA2B.UpBlock2.3", "genA2B.UpBlock2.8",
                                        "genB2A.UpBlock1_1.norm1", "genB2A.UpBlock1_1.norm2",
                                        "genB2A.UpBlock2.3", "genB2A.UpBlock2.8"};
    static const int channels[] = {8, 8, 4, 2, 8, 8, 4, 2};
    int n = ug_model_rho_count(m);
    CHECK(n == 8, "%d rho layers", n);
    for (int i = 0; i < n && i < 8; i++) {
        ug_rho_layer l;
        CHECK(ug_model_rho(m, i, &l, &err) == 0, "layer %d: %s", i, err.msg);
        CHECK(strcmp(l.name, names[i]) == 0 && l.channels == channels[i], "layer %d is %s, %d",
              i, l.name, l.channels);
        CHECK(l.values == rho_values(m, i), "layer %d: the model's own values", i);
        /* The release's start values: 0.9 in adaILN, 0 in ILN. */
        CHECK(l.values[0] == (i % 4 < 2 ? 0.9f : 0.0f), "layer %d starts at %g", i, l.values[0]);
    }
    ug_rho_layer l;
    strcpy(l.name, "untouched");
    CHECK(ug_model_rho(m, n, &l, &err) == -1 && strstr(err.msg, "rho layer 8 does not exist") &&
              strstr(err.msg, "has 8") && strcmp(l.name, "untouched") == 0,
          "index past the end: %s", err.msg);
    CHECK(ug_model_rho(m, -1, &l, &err) == -1 && strstr(err.msg, "rho layer -1"),
          "negative index: %s", err.msg);
    CHECK(ug_model_rho(m, 99, &l, NULL) == -1, "NULL error is allowed");
    ug_model_free(m);
}

static void test_bins(void)
{
    CHECK(ug_rho_bin(0.0f) == 0 && ug_rho_bin(0.05f) == 0, "[0, 0.1) is bin 0");
    CHECK(ug_rho_bin(0.1f) == 1 && ug_rho_bin(nextafterf(0.1f, 0)) == 0,
          "0.1f (0.100000001) is bin 1, the float below it bin 0");
    CHECK(ug_rho_bin(0.7f) == 6, "0.7f (0.699999988) is bin 6");
    CHECK(ug_rho_bin(0.95f) == 9 && ug_rho_bin(1.0f) == 9 && ug_rho_bin(nextafterf(1, 0)) == 9,
          "0.95 and 1 are bin 9");
    CHECK(ug_rho_bin(1.5f) == 9 && ug_rho_bin(-0.25f) == 0 && ug_rho_bin(NAN) == -1,
          "outside [0, 1]: the end bins; NaN: none");
}

/* A checkpoint of the small model with hand-set rho: layer 0 holds edge
 * values, layer 1 0.25 everywhere, every other layer 0.5. */
static int write_handset(const char *path)
{
    ug_model *m;
    ug_error err = {{0}};
    if (ug_model_new(&m, &small, 2, &err) < 0)
        return -1;
    set_all(m, 0.5f);
    static const float edge[8] = {0.0f, 0.1f, 0.95f, 1.0f, 0.5f, 0.7f, 0.05f, 0.3f};
    memcpy(rho_values(m, 0), edge, sizeof edge);
    for (int c = 0; c < 8; c++)
        rho_values(m, 1)[c] = 0.25f;
    int rc = ug_model_save(m, path, &err);
    ug_model_free(m);
    return rc;
}

static const char *const want_csv =
    "layer,mean,min,max,h0,h1,h2,h3,h4,h5,h6,h7,h8,h9\n"
    /* the mean of the floats 0, 0.1, 0.95, 1, 0.5, 0.7, 0.05, 0.3, summed in double */
    "genA2B.UpBlock1_1.norm1,0.449999999,0,1,2,1,0,1,0,1,1,0,0,2\n"
    "genA2B.UpBlock1_1.norm2,0.25,0.25,0.25,0,0,8,0,0,0,0,0,0,0\n"
    "genA2B.UpBlock2.3,0.5,0.5,0.5,0,0,0,0,0,4,0,0,0,0\n"
    "genA2B.UpBlock2.8,0.5,0.5,0.5,0,0,0,0,0,2,0,0,0,0\n"
    "genB2A.UpBlock1_1.norm1,0.5,0.5,0.5,0,0,0,0,0,8,0,0,0,0\n"
    "genB2A.UpBlock1_1.norm2,0.5,0.5,0.5,0,0,0,0,0,8,0,0,0,0\n"
    "genB2A.UpBlock2.3,0.5,0.5,0.5,0,0,0,0,0,4,0,0,0,0\n"
    "genB2A.UpBlock2.8,0.5,0.5,0.5,0,0,0,0,0,2,0,0,0,0\n";

static void test_cli(void)
{
    char ckpt[256], pt[256], args[1024], out[8192];
    snprintf(ckpt, sizeof ckpt, "%s/handset.safetensors", dir);
    snprintf(pt, sizeof pt, "%s/handset.pt", dir);
    CHECK(write_handset(ckpt) == 0, "hand-set checkpoint written");

    snprintf(args, sizeof args, "rho --model %s --csv", ckpt);
    int rc = run(args, 1, out, sizeof out);
    CHECK(rc == 0 && strcmp(out, want_csv) == 0, "csv (%d):\n%s", rc, out);

    /* The release's format gives the same numbers. */
    snprintf(args, sizeof args, "convert %s %s", ckpt, pt);
    CHECK(run(args, 0, out, sizeof out) == 0, "convert: %s", out);
    snprintf(args, sizeof args, "rho --csv --model %s", pt);
    rc = run(args, 1, out, sizeof out);
    CHECK(rc == 0 && strcmp(out, want_csv) == 0, ".pt csv (%d):\n%s", rc, out);

    /* A file holding genA2B alone. */
    snprintf(args, sizeof args, "rho --model %s/pt/gen_only.pt --csv", UGATIT_FIXTURES);
    rc = run(args, 1, out, sizeof out);
    int lines = 0;
    for (const char *p = out; *p; p++)
        lines += *p == '\n';
    CHECK(rc == 0 && lines == 7 && strstr(out, "\ngenA2B.UpBlock2.8,") && !strstr(out, "genB2A"),
          "generator-only file (%d, %d lines):\n%s", rc, lines, out);

    snprintf(args, sizeof args, "rho --model %s", ckpt);
    rc = run(args, 1, out, sizeof out);
    CHECK(rc == 0 && strstr(out, "\ngenA2B\nlayer ") && strstr(out, "\ngenB2A\nlayer ") &&
              strstr(out, "channels") && strstr(out, "h9\n") &&
              strstr(out, "genA2B.UpBlock1_1.norm1        8        0.45           0           1"
                          "      2      1      0      1      0      1      1      0      0      2"),
          "table (%d):\n%s", rc, out);

    rc = run("rho --model /nonexistent/ckpt.safetensors", 0, out, sizeof out);
    CHECK(rc == 1 && strstr(out, "ugatit rho: /nonexistent/ckpt.safetensors: cannot open") &&
              strchr(out, '\n') == out + strlen(out) - 1,
          "missing file: one line, exit 1 (%d): %s", rc, out);
    snprintf(args, sizeof args, "%s/garbage.safetensors", dir);
    write_text(args, "not a checkpoint at all");
    snprintf(args, sizeof args, "rho --model %s/garbage.safetensors", dir);
    rc = run(args, 0, out, sizeof out);
    CHECK(rc == 1 && strstr(out, "garbage.safetensors: "), "garbage file (%d): %s", rc, out);
    rc = run("rho", 0, out, sizeof out);
    CHECK(rc == 2 && strstr(out, "--model"), "no --model (%d): %s", rc, out);
    rc = run("rho --model x --csv=yes", 0, out, sizeof out);
    CHECK(rc == 2 && strstr(out, "takes no value"), "--csv=yes (%d): %s", rc, out);
    rc = run("--help", 1, out, sizeof out);
    CHECK(rc == 0 && strstr(out, "\n  rho "), "ugatit --help lists rho");
}

/* Checkpoints of a run at steps 10 and 20 (rho 0.2 and 0.4 everywhere), a
 * damaged one at 15, one past the current step and one of another run; the
 * model now (0.6) at step 25. */
static void test_history_and_report(void)
{
    char run_dir[256], model_dir[300], path[400];
    snprintf(run_dir, sizeof run_dir, "%s/run", dir);
    snprintf(model_dir, sizeof model_dir, "%s/model", run_dir);
    mkdir(run_dir, 0777);
    mkdir(model_dir, 0777);
    ug_model *m;
    ug_error err = {{0}};
    if (ug_model_new(&m, &small, 3, &err) < 0) {
        CHECK(0, "model: %s", err.msg);
        return;
    }
    const struct { const char *file; float v; } saved[] = {
        {"run_params_0000010.safetensors", 0.2f}, {"run_params_0000020.safetensors", 0.4f},
        {"run_params_0000030.safetensors", 0.9f}, {"other_params_0000005.safetensors", 0.9f}};
    for (int k = 0; k < 4; k++) {
        set_all(m, saved[k].v);
        snprintf(path, sizeof path, "%s/%s", model_dir, saved[k].file);
        CHECK(ug_model_save(m, path, &err) == 0, "save: %s", err.msg);
    }
    snprintf(path, sizeof path, "%s/run_params_0000015.safetensors", model_dir);
    write_text(path, "damaged");
    set_all(m, 0.6f);

    /* One checkpoint's rho alone, and the tensors that read leaves out. */
    float values[64];
    snprintf(path, sizeof path, "%s/run_params_0000020.safetensors", model_dir);
    CHECK(ug_rho_read(m, path, values, &err) == 0 && values[0] == 0.4f && values[43] == 0.4f,
          "rho read: %s", err.msg);
    ug_st_file *f;
    const char *names[] = {"genA2B.UpBlock2.3.rho", "no.such.tensor"};
    CHECK(ug_st_open_some(&f, path, names, 2, &err) == 0 && ug_st_count(f) == 1 &&
              ug_st_find(f, names[0]) && ug_st_find(f, names[0])->numel == 4 &&
              ug_st_meta(f, "ch") && !ug_st_find(f, "genA2B.DownBlock.1.weight"),
          "ug_st_open_some keeps the named tensors and the metadata: %s", err.msg);
    ug_st_close(f);
    ug_model *big;
    ug_config c = small;
    c.ch = 4;
    CHECK(ug_model_new(&big, &c, 1, &err) == 0, "bigger model: %s", err.msg);
    CHECK(ug_rho_read(big, path, values, &err) == -1 && strstr(err.msg, path) &&
              strstr(err.msg, "genA2B.UpBlock1_1.norm1.rho") && strstr(err.msg, "values"),
          "another configuration: %s", err.msg);
    ug_model_free(big);

    ug_rho_history h;
    CHECK(ug_rho_history_read(&h, m, model_dir, "run", 25, &err) == 0, "history: %s", err.msg);
    CHECK(h.n_layers == 8 && h.n_points == 3 && h.steps[0] == 10 && h.steps[1] == 20 &&
              h.steps[2] == 25,
          "%d points, steps %ld %ld %ld", h.n_points, h.steps[0], h.steps[1], h.steps[2]);
    CHECK(h.n_points == 3 && h.mean[0] == (double)0.2f && h.mean[8 + 7] == (double)0.4f &&
              h.mean[16 + 3] == (double)0.6f,
          "the means of each point");
    CHECK(h.n_skipped == 1 && strstr(h.first_skip.msg, "run_params_0000015.safetensors"),
          "damaged checkpoint skipped: %s", h.first_skip.msg);

    ug_rho_history empty;
    snprintf(path, sizeof path, "%s/nothing", dir);
    CHECK(ug_rho_history_read(&empty, m, path, "run", 25, &err) == 0 && empty.n_points == 1 &&
              empty.steps[0] == 25 && empty.n_skipped == 0,
          "no model folder: the model alone");

    ug_rho_stats *stats;
    int n;
    CHECK(ug_rho_stats_model(&stats, &n, m, &err) == 0 && n == 8 && stats[2].channels == 4 &&
              stats[2].hist[6] == 4 && stats[2].mean == (double)0.6f,
          "stats of the model");
    ug_report_input in = {.title = "run", .result_dir = run_dir, .step = 25, .rho = stats,
                          .n_rho = n, .rho_history = &h};
    CHECK(ug_report_write(&in, &err) == 0, "report: %s", err.msg);
    snprintf(path, sizeof path, "%s/index.html", run_dir);
    size_t len;
    char *html = (char *)read_bytes(path, &len);
    CHECK(html && strstr(html, "<h3>genA2B</h3>") && strstr(html, "<h3>genB2A</h3>"),
          "a part per generator");
    CHECK(html && strstr(html, "residual blocks UpBlock1_*: 2 layers, 16 channels") &&
              strstr(html, "up-sampling UpBlock2.*: 2 layers, 6 channels"),
          "pooled histograms, residual blocks and up-sampling apart");
    CHECK(html && strstr(html, "<title>[0.6, 0.7): 16</title>") &&
              strstr(html, "<title>[0.9, 1.0]: 0</title>"),
          "histogram bars with their counts");
    CHECK(html && strstr(html, "mean rho per layer over training") &&
              strstr(html, "From 2 checkpoints of this run, steps 10 to 20, and the model now at "
                           "step 25"),
          "chart over training");
    CHECK(html && strstr(html, "1 checkpoint left out") &&
              strstr(html, "run_params_0000015.safetensors"),
          "the skipped checkpoint is named");
    /* Each layer's line has the three points. */
    const char *line = html ? strstr(html, "<title>genA2B.UpBlock2.8</title><polyline") : NULL;
    int commas = 0;
    for (const char *p = line ? strstr(line, "points=\"") + 8 : NULL; p && *p != '"'; p++)
        commas += *p == ',';
    CHECK(commas == 3, "a line of 3 points (%d)", commas);
    CHECK(html && !strstr(html, "<script") && !strstr(html, "https://"), "nothing external");
    free(html);

    /* Without earlier checkpoints: a note in place of the chart. */
    in.rho_history = &empty;
    CHECK(ug_report_write(&in, &err) == 0, "report: %s", err.msg);
    html = (char *)read_bytes(path, &len);
    CHECK(html && strstr(html, "No earlier checkpoint") && !strstr(html, "over training</text>"),
          "no chart from one point");
    free(html);
    free(stats);
    ug_rho_history_free(&h);
    ug_rho_history_free(&empty);
    CHECK(h.steps == NULL && h.n_points == 0, "free zeroes");
    ug_model_free(m);
}

/* A short training run writes its report with the rho histograms and the
 * chart over its checkpoints. */
static void test_train_report(void)
{
    char args[2048], out[4096], path[300];
    snprintf(args, sizeof args, "make-shapes --out %s/shapes --n 4 --size 32", dir);
    CHECK(run(args, 0, out, sizeof out) == 0, "make-shapes: %s", out);
    snprintf(args, sizeof args,
             "train --dataset %s/shapes --result_dir %s/results --img_size 32 --ch 2 --n_res 1 "
             "--light true --n_dis 4 --iteration 6 --print_freq 3 --save_freq 2 --threads 2",
             dir, dir);
    int rc = run(args, 0, out, sizeof out);
    CHECK(rc == 0, "train (%d): %s", rc, out);
    snprintf(path, sizeof path, "%s/results/shapes/index.html", dir);
    size_t len;
    char *html = (char *)read_bytes(path, &len);
    CHECK(html && strstr(html, "residual blocks UpBlock1_*") && strstr(html, "up-sampling "),
          "the report's histograms");
    CHECK(html && strstr(html, "From 2 checkpoints of this run, steps 2 to 4, and the model now "
                               "at step 6"),
          "the report's chart over the run's checkpoints");
    free(html);
}

int main(void)
{
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 2;
    }
    test_api();
    test_bins();
    test_cli();
    test_history_and_report();
    test_train_report();
    char args[128];
    snprintf(args, sizeof args, "rm -rf %s", dir);
    if (getenv("UG_KEEP_TMP"))
        printf("kept %s\n", dir);
    else
        CHECK(system(args) == 0, "cleanup");
    return check_summary();
}
