/* Model-level tests: configuration checks, checkpoint round trips and the
 * refusal of broken checkpoints, bit-exact training resume, bf16 inference. */
#define _DEFAULT_SOURCE
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "files.h"
#include "model/checkpoint.h"
#include "model/step.h"
#include "model/ugatit/ugatit.h"

/* Field by field (a struct may hold padding); a family of NULL is "ugatit". */
static int same_config(const ug_config *a, const ug_config *b)
{
    const char *fa = a->family ? a->family : "ugatit", *fb = b->family ? b->family : "ugatit";
    return a->ch == b->ch && a->n_res == b->n_res && a->img_size == b->img_size &&
           a->light == b->light && a->dis_global == b->dis_global &&
           a->dis_local == b->dis_local && a->norm == b->norm && a->no_cam_g == b->no_cam_g &&
           a->no_cam_d == b->no_cam_d && strcmp(fa, fb) == 0;
}

static char dir[] = "/tmp/ugatit_test_model_XXXXXX";

static ug_config small(void)
{
    ug_config c = {2, 1, 32, 1, 5, 3, UG_NORM_ADALIN, 0, 0, NULL, 0, 0};
    return c;
}

static void test_invalid_configs(void)
{
    struct {
        ug_config c;
        const char *needle;
    } bad[] = {
        {{0, 1, 32, 1, 5, 3, UG_NORM_ADALIN, 0, 0, NULL, 0, 0}, "ch must be at least 1"},
        {{2, 1, 30, 1, 5, 3, UG_NORM_ADALIN, 0, 0, NULL, 0, 0}, "multiple of 4"},
        {{2, 0, 32, 1, 5, 3, UG_NORM_ADALIN, 0, 0, NULL, 0, 0}, "n_res"},
        {{2, 1, 64, 1, 7, 5, UG_NORM_ADALIN, 0, 0, NULL, 0, 0}, "too small"},  /* the release's 7-layer D needs img >= 96 */
        {{2, 1, 32, 1, 2, 3, UG_NORM_ADALIN, 0, 0, NULL, 0, 0}, "layers"},
        {{2, 1, 32, 1, 5, 3, (ug_norm)UG_N_NORMS, 0, 0, NULL, 0, 0}, "unknown decoder norm"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ug_model *m = NULL;
        ug_error err = {{0}};
        int rc = ug_model_new(&m, &bad[i].c, 1, &err);
        CHECK(rc < 0 && m == NULL, "config %zu accepted", i);
        CHECK(strstr(err.msg, bad[i].needle) != NULL, "config %zu: '%s' lacks '%s'", i, err.msg,
              bad[i].needle);
    }
    /* The smallest valid sizes work. */
    ug_config ok = {1, 1, 96, 0, 7, 5, UG_NORM_ADALIN, 0, 0, NULL, 0, 0};
    ug_model *m;
    ug_error err;
    CHECK(ug_model_new(&m, &ok, 1, &err) == 0, "img 96 with 7/5 layers: %s", err.msg);
    ug_model_free(m);
}

static int same_params(const ug_model *a, const ug_model *b, int nets)
{
    for (int i = 0; i < nets; i++)
        if (a->net[i].total != b->net[i].total ||
            memcmp(a->net[i].data, b->net[i].data, a->net[i].total * sizeof(float)))
            return 0;
    return 1;
}

static void test_round_trip(void)
{
    ug_config c = small();
    ug_model *m, *back;
    ug_error err;
    char path[256];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    CHECK(ug_model_new(&m, &c, 7, &err) == 0, "%s", err.msg);
    CHECK(ug_model_save(m, path, &err) == 0, "%s", err.msg);
    CHECK(ug_model_load(&back, path, NULL, 1, &err) == 0, "%s", err.msg);
    if (!back)
        return;
    CHECK(same_config(ug_model_config(back), &c), "config differs after load");
    CHECK(same_params(m, back, UG_N_NETS), "tensors differ after load");
    ug_model_free(back);

    /* Same seed, same weights; other seed, other weights. */
    ug_model *again, *other;
    ug_model_new(&again, &c, 7, &err);
    ug_model_new(&other, &c, 8, &err);
    CHECK(same_params(m, again, UG_N_NETS), "seed does not reproduce the weights");
    CHECK(!same_params(m, other, UG_N_NETS), "different seeds give the same weights");
    ug_model_free(again);
    ug_model_free(other);

    /* Without metadata (a file written by another tool) the config comes from
     * the shapes; a light model's size from the hint. */
    ug_ckpt_writer w;
    ug_cw_init(&w);
    float *base[UG_MAX_NETS] = {0};
    for (int i = 0; i < UG_N_NETS; i++)
        base[i] = m->net[i].data;
    ug_cw_model(&w, m, "", base, 0);
    snprintf(path, sizeof path, "%s/nometa.safetensors", dir);
    CHECK(ug_cw_write(&w, path, &err) == 0, "%s", err.msg);
    ug_cw_free(&w);
    ug_config hint;
    ug_config_default(&hint);
    hint.img_size = 32;
    CHECK(ug_model_load(&back, path, &hint, 1, &err) == 0, "%s", err.msg);
    if (back) {
        CHECK(same_config(ug_model_config(back), &c), "inferred config differs");
        ug_model_free(back);
    }

    /* A full model's size is inferred from FC.0. */
    ug_config full = {2, 2, 48, 0, 5, 3, UG_NORM_ADALIN, 0, 0, NULL, 0, 0};
    ug_model *fm;
    CHECK(ug_model_new(&fm, &full, 3, &err) == 0, "%s", err.msg);
    ug_cw_init(&w);
    for (int i = 0; i < UG_N_NETS; i++)
        base[i] = fm->net[i].data;
    ug_cw_model(&w, fm, "", base, 0);
    snprintf(path, sizeof path, "%s/full.safetensors", dir);
    ug_cw_write(&w, path, &err);
    ug_cw_free(&w);
    CHECK(ug_model_load(&back, path, NULL, 1, &err) == 0, "%s", err.msg);
    if (back) {
        CHECK(same_config(ug_model_config(back), &full), "full config not inferred");
        ug_model_free(back);
    }
    ug_model_free(fm);

    /* A generators-only file is enough to translate, not to train. */
    ug_cw_init(&w);
    for (int i = 0; i < UG_N_NETS; i++)
        base[i] = i <= UG_GEN_B2A ? m->net[i].data : NULL;
    ug_cw_config(&w, m);
    ug_cw_model(&w, m, "", base, 0);
    snprintf(path, sizeof path, "%s/gen.safetensors", dir);
    ug_cw_write(&w, path, &err);
    ug_cw_free(&w);
    CHECK(ug_model_load(&back, path, NULL, 0, &err) == 0, "%s", err.msg);
    if (back) {
        CHECK(same_params(m, back, 2), "generator tensors differ");
        ug_model_free(back);
    }
    CHECK(ug_model_load(&back, path, NULL, 1, &err) < 0 && strstr(err.msg, path),
          "generators-only file accepted for training");
    ug_model_free(m);
}

/* Every network's tensors of m. */
static void add_tensors(ug_ckpt_writer *w, const ug_model *m)
{
    float *base[UG_MAX_NETS] = {0};
    for (int i = 0; i < UG_N_NETS; i++)
        base[i] = m->net[i].data;
    ug_cw_model(w, m, "", base, 0);
}

/* Writes a model file with one tensor renamed or reshaped. */
static void write_broken(const char *path, const char *drop, const char *reshape)
{
    ug_config c = small();
    ug_model *m;
    ug_error err;
    ug_model_new(&m, &c, 1, &err);
    ug_ckpt_writer w;
    ug_cw_init(&w);
    ug_cw_config(&w, m);
    add_tensors(&w, m);
    for (size_t i = 0; i < w.n; i++) {
        if (drop && strcmp(w.e[i].name, drop) == 0)
            memcpy((char *)w.e[i].name, "X", 2);
        if (reshape && strcmp(w.e[i].name, reshape) == 0) {
            /* Same number of floats, other shape. */
            w.e[i].shape[0] *= w.e[i].shape[1];
            w.e[i].shape[1] = 1;
        }
    }
    ug_cw_write(&w, path, &err);
    ug_cw_free(&w);
    ug_model_free(m);
}

static void expect_refused(const char *path, const char *needle)
{
    ug_model *m = NULL;
    ug_error err = {{0}};
    int rc = ug_model_load(&m, path, NULL, 1, &err);
    CHECK(rc < 0 && m == NULL, "%s: broken file accepted", path);
    CHECK(strstr(err.msg, path) != NULL, "error does not name the file: %s", err.msg);
    CHECK(strstr(err.msg, needle) != NULL, "error '%s' lacks '%s'", err.msg, needle);
    CHECK(strchr(err.msg, '\n') == NULL, "error is not one line: %s", err.msg);
}

static void test_broken_files(void)
{
    char good[256], path[256];
    snprintf(good, sizeof good, "%s/model.safetensors", dir);
    size_t size;
    unsigned char *bytes = read_bytes(good, &size);
    CHECK(bytes != NULL, "no model file");
    if (!bytes)
        return;

    snprintf(path, sizeof path, "%s/truncated.safetensors", dir);
    write_bytes(path, bytes, size / 2);
    expect_refused(path, "");
    FILE *f;

    snprintf(path, sizeof path, "%s/badjson.safetensors", dir);
    f = fopen(path, "wb");
    fwrite(bytes, 1, 8, f);
    fputs("{\"genA2B.gap_fc.weight\": {\"dtype\": \"F32\", ", f);
    fwrite(bytes + 8 + 40, 1, size - 48, f);
    fclose(f);
    expect_refused(path, "");

    snprintf(path, sizeof path, "%s/hugeheader.safetensors", dir);
    f = fopen(path, "wb");
    unsigned char len[8] = {0, 0, 0, 0, 1, 0, 0, 0};
    fwrite(len, 1, 8, f);
    fwrite(bytes + 8, 1, 100, f);
    fclose(f);
    expect_refused(path, "");

    snprintf(path, sizeof path, "%s/missing.safetensors", dir);
    write_broken(path, "disLB.conv1x1.bias", NULL);
    expect_refused(path, "missing tensor 'disLB.conv1x1.bias'");

    snprintf(path, sizeof path, "%s/shape.safetensors", dir);
    write_broken(path, NULL, "genB2A.UpBlock2.2.weight");
    expect_refused(path, "genB2A.UpBlock2.2.weight");

    snprintf(path, sizeof path, "%s/nonexistent.safetensors", dir);
    expect_refused(path, "");
    free(bytes);
}

/* Overwrites the first float of the first tensor whose name starts with
 * prefix in a file of our writer (tensors contiguous in header order) with
 * v; its name goes to name. */
static void poison(const char *path, const char *prefix, size_t at, float v, char *name,
                   size_t cap)
{
    ug_st_file *f;
    ug_error err;
    name[0] = 0;
    CHECK(ug_st_open(&f, path, &err) == 0, "%s", err.msg);
    if (!f)
        return;
    size_t size, off = 0, i = 0;
    for (; i < ug_st_count(f) && strncmp(ug_st_at(f, i)->name, prefix, strlen(prefix)); i++)
        off += 4 * ug_st_at(f, i)->numel;
    CHECK(i < ug_st_count(f), "%s: no tensor %s*", path, prefix);
    if (i < ug_st_count(f))
        snprintf(name, cap, "%s", ug_st_at(f, i)->name);
    ug_st_close(f);
    unsigned char *bytes = read_bytes(path, &size);
    size_t hlen = 0;
    for (int k = 7; k >= 0; k--)
        hlen = hlen << 8 | bytes[k];
    uint32_t b;
    memcpy(&b, &v, 4);
    for (int k = 0; k < 4; k++)
        bytes[8 + hlen + off + 4 * at + (size_t)k] = (unsigned char)(b >> (8 * k));
    write_bytes(path, bytes, size);
    free(bytes);
}

/* Weights or Adam moments holding NaN or Inf are refused with the tensor's
 * name, not translated into a flat picture or trained on. */
static void test_non_finite(void)
{
    ug_config c = small();
    ug_model *m = NULL;
    ug_trainer *t = NULL;
    ug_train_config tc;
    ug_train_config_default(&tc);
    ug_error err;
    char path[256], name[256], needle[600];
    snprintf(path, sizeof path, "%s/nan.safetensors", dir);
    CHECK(ug_model_new(&m, &c, 3, &err) == 0 && ug_model_save(m, path, &err) == 0, "%s", err.msg);
    poison(path, "genA2B.", 0, NAN, name, sizeof name);
    snprintf(needle, sizeof needle, "tensor '%s' holds NaN", name);
    expect_refused(path, needle);

    snprintf(path, sizeof path, "%s/inf.safetensors", dir);
    CHECK(ug_model_save(m, path, &err) == 0, "%s", err.msg);
    poison(path, "disLB.", 0, -INFINITY, name, sizeof name);
    snprintf(needle, sizeof needle, "tensor '%s' holds Inf", name);
    expect_refused(path, needle);

    snprintf(path, sizeof path, "%s/adam.safetensors", dir);
    CHECK(ug_trainer_new(&t, m, &tc, &err) == 0 && ug_trainer_save(t, path, NULL, 0, &err) == 0,
          "%s", err.msg);
    poison(path, "optim.v.", 0, INFINITY, name, sizeof name);
    ug_trainer *back = NULL;
    ug_model *mb = NULL;
    CHECK(ug_trainer_load(&back, &mb, path, NULL, 0, &err) < 0 && back == NULL, "%s: accepted",
          path);
    snprintf(needle, sizeof needle, "%s: tensor '%s' holds Inf", path, name);
    CHECK(strstr(err.msg, needle) != NULL, "error '%s' lacks '%s'", err.msg, needle);
    ug_trainer_free(t);
    ug_model_free(m);
}

/* A parameter larger than the chunk the reader reads at a time (4 MB; the
 * full model's FC.0 here): loaded exactly, and a NaN past the first chunk
 * named at its element. */
static void test_large_tensor(void)
{
    ug_config c = small();
    c.ch = 18;
    c.img_size = 64;
    c.light = 0;
    ug_model *m = NULL, *back = NULL;
    ug_error err;
    char path[256], name[256], needle[600];
    snprintf(path, sizeof path, "%s/large.safetensors", dir);
    CHECK(ug_model_new(&m, &c, 4, &err) == 0 && ug_model_save(m, path, &err) == 0, "%s", err.msg);
    CHECK(ug_model_load(&back, path, NULL, 1, &err) == 0, "%s", err.msg);
    CHECK(back && same_params(m, back, UG_N_NETS), "tensors differ after load");
    poison(path, "genA2B.FC.0.weight", 1100000, NAN, name, sizeof name);
    snprintf(needle, sizeof needle, "tensor 'genA2B.FC.0.weight' holds NaN at element 1100000");
    expect_refused(path, needle);
    ug_model_free(back);
    ug_model_free(m);
}

static void random_batch(float *x, size_t n, unsigned seed)
{
    ug_rng r;
    ug_rng_seed(&r, seed, 9);
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(2 * ug_rng_uniform(&r) - 1);
}

/* Four steps straight, or two steps, save, load, two more: the same bits. */
static void test_resume_bit_exact(void)
{
    ug_config c = small();
    ug_train_config tc;
    ug_train_config_default(&tc);
    tc.iteration = 4; /* so that the learning rate decays in steps 3 and 4 */
    tc.batch_size = 2;
    size_t n = (size_t)tc.batch_size * 3 * c.img_size * c.img_size;
    float *A = malloc(n * sizeof *A), *B = malloc(n * sizeof *B);
    ug_error err;
    ug_model *m1, *m2, *m3;
    ug_trainer *t1, *t2, *t3;
    ug_model_new(&m1, &c, 5, &err);
    ug_model_new(&m2, &c, 5, &err);
    ug_trainer_new(&t1, m1, &tc, &err);
    ug_trainer_new(&t2, m2, &tc, &err);
    char path[256];
    snprintf(path, sizeof path, "%s/train.safetensors", dir);
    for (int s = 0; s < 4; s++) {
        random_batch(A, n, 2 * s);
        random_batch(B, n, 2 * s + 1);
        CHECK(ug_trainer_step(t1, A, B, tc.batch_size, NULL, &err) == 0, "%s", err.msg);
        if (s < 2)
            CHECK(ug_trainer_step(t2, A, B, tc.batch_size, NULL, &err) == 0, "%s", err.msg);
        if (s == 1) {
            const char *extra[2] = {"note", "hello"};
            CHECK(ug_trainer_save(t2, path, extra, 1, &err) == 0, "%s", err.msg);
            ug_trainer_free(t2);
            ug_model_free(m2);
            CHECK(ug_trainer_load(&t3, &m3, path, NULL, 0, &err) == 0, "%s", err.msg);
            if (!t3)
                goto out;
            CHECK(ug_trainer_step_count(t3) == 2, "step count not restored");
        }
        if (s >= 2)
            CHECK(ug_trainer_step(t3, A, B, tc.batch_size, NULL, &err) == 0, "%s", err.msg);
    }
    CHECK(ug_trainer_lr(t1) == 0.0, "lr did not decay to 0 at the last step: %g", ug_trainer_lr(t1));
    CHECK(ug_trainer_lr(t3) == ug_trainer_lr(t1), "lr differs after resume");
    CHECK(same_params(m1, m3, UG_N_NETS), "resumed run differs from the uninterrupted one");
    ug_trainer_free(t3);
    ug_model_free(m3);
out:
    ug_trainer_free(t1);
    ug_model_free(m1);
    free(A);
    free(B);
}

/* The resident size in kB of the mapping of this process that holds p
 * (/proc/self/smaps), or -1. */
static long resident_kb(const void *p)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    char line[512];
    int inside = 0;
    long kb = -1;
    while (f && kb < 0 && fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2)
            inside = (uintptr_t)p >= lo && (uintptr_t)p < hi;
        else if (inside && strncmp(line, "Rss:", 4) == 0)
            kb = strtol(line + 4, NULL, 10);
    }
    if (f)
        fclose(f);
    return kb;
}

/* Adam's moments in a file (tc.moments_dir): the same weights and moments as
 * in memory, step by step (streamed in chunks smaller than a parameter) and
 * across a save and a load with the moments in a file again; out of the
 * process's memory after each step, a save and a load; a folder that cannot
 * hold them is an error naming it. The full model, so the MLP's
 * gradient-as-terms update runs too. */
static void test_moments_in_file(void)
{
    ug_config c = small();
    c.ch = 4;
    c.light = 0;
    ug_train_config tc, tf;
    ug_train_config_default(&tc);
    tc.iteration = 3;
    tc.decay_flag = 0; /* else the last step's learning rate is 0 and it tells nothing */
    tf = tc;
    tf.moments_dir = dir;
    size_t n = (size_t)3 * c.img_size * c.img_size;
    float *A = malloc(n * sizeof *A), *B = malloc(n * sizeof *B);
    ug_error err;
    ug_model *m1 = NULL, *m2 = NULL, *m3 = NULL;
    ug_trainer *t1 = NULL, *t2 = NULL, *t3 = NULL;
    char path[256];
    snprintf(path, sizeof path, "%s/moments.safetensors", dir);
    if (ug_model_new(&m1, &c, 5, &err) < 0 || ug_model_new(&m2, &c, 5, &err) < 0 ||
        ug_trainer_new(&t1, m1, &tc, &err) < 0 || ug_trainer_new(&t2, m2, &tf, &err) < 0) {
        CHECK(0, "setup: %s", err.msg);
        goto out;
    }
    CHECK(ug_trainer_config(t2)->moments_dir != tf.moments_dir, "moments_dir not copied");
    t2->spill_chunk = 100; /* the MLP's rows of 1024 one at a time, the rest 100 floats */
    const size_t bytes = m2->net[0].total * sizeof(float);
    CHECK(bytes > 4 * 4096, "the generator's moments span only %zu bytes", bytes);
    for (int s = 0; s < 3; s++) {
        random_batch(A, n, 2 * s);
        random_batch(B, n, 2 * s + 1);
        CHECK(ug_trainer_step(t1, A, B, 1, NULL, &err) == 0, "%s", err.msg);
        if (s < 2)
            CHECK(ug_trainer_step(t2, A, B, 1, NULL, &err) == 0, "%s", err.msg);
        if (s == 1) {
            /* Only a page at the end of each, shared with what follows, may stay. */
            long kb = resident_kb(t2->adam_m[0]);
            CHECK(kb >= 0 && kb <= 4, "%ld kB of %zu kB of moments resident after a step", kb,
                  bytes >> 10);
            CHECK(ug_trainer_save(t2, path, NULL, 0, &err) == 0, "%s", err.msg);
            kb = resident_kb(t2->adam_v[0]);
            CHECK(kb >= 0 && kb <= 4, "%ld kB of moments resident after saving", kb);
            CHECK(same_params(m1, m2, UG_N_NETS), "weights differ with the moments in a file");
            for (int i = 0; i < UG_N_NETS; i++)
                CHECK(memcmp(t1->adam_m[i], t2->adam_m[i], m1->net[i].total * 4) == 0 &&
                          memcmp(t1->adam_v[i], t2->adam_v[i], m1->net[i].total * 4) == 0,
                      "net %d: moments differ in a file", i);
            CHECK(ug_trainer_load(&t3, &m3, path, dir, 0, &err) == 0, "%s", err.msg);
            if (!t3)
                goto out;
            kb = resident_kb(t3->adam_m[0]);
            CHECK(kb >= 0 && kb <= 4, "%ld kB of moments resident after loading", kb);
        }
        if (s == 2)
            CHECK(ug_trainer_step(t3, A, B, 1, NULL, &err) == 0, "%s", err.msg);
    }
    CHECK(same_params(m1, m3, UG_N_NETS), "resumed with the moments in a file: weights differ");
    for (int i = 0; i < UG_N_NETS; i++)
        CHECK(memcmp(t1->adam_m[i], t3->adam_m[i], m1->net[i].total * 4) == 0 &&
                  memcmp(t1->adam_v[i], t3->adam_v[i], m1->net[i].total * 4) == 0,
              "net %d: moments differ after resuming with them in a file", i);
    ug_trainer *bad = NULL;
    tf.moments_dir = "/nonexistent/moments";
    CHECK(ug_trainer_new(&bad, m3, &tf, &err) < 0 && bad == NULL &&
              strstr(err.msg, "/nonexistent/moments: cannot create a file there"),
          "a missing folder: %s", err.msg);
out:
    ug_trainer_free(t1);
    ug_trainer_free(t2);
    ug_trainer_free(t3);
    ug_model_free(m1);
    ug_model_free(m2);
    ug_model_free(m3);
    free(A);
    free(B);
}

/* moments_in_memory_max: moments up to it stay in memory after all (the
 * trainer's moments_dir then NULL), larger ones go to the folder's files; the
 * same when a checkpoint is loaded. ug_trainer_moments_bytes counts both
 * moments of every network. */
static void test_moments_placement(void)
{
    ug_config c = small();
    ug_train_config tc;
    ug_train_config_default(&tc);
    CHECK(tc.moments_in_memory_max == 0, "default %zu", tc.moments_in_memory_max);
    tc.moments_dir = dir;
    ug_error err;
    ug_model *m = NULL, *m2 = NULL;
    ug_trainer *t = NULL, *t2 = NULL;
    char path[256];
    snprintf(path, sizeof path, "%s/placement.safetensors", dir);
    if (ug_model_new(&m, &c, 5, &err) < 0) {
        CHECK(0, "%s", err.msg);
        return;
    }
    size_t bytes = 0;
    for (int i = 0; i < m->fam->n_nets; i++)
        bytes += 2 * m->net[i].total * sizeof(float);
    CHECK(ug_trainer_moments_bytes(m) == bytes, "%zu moment bytes, want %zu",
          ug_trainer_moments_bytes(m), bytes);
    const struct {
        size_t max;
        int in_files;
    } cases[] = {{0, 1}, {bytes - 1, 1}, {bytes, 0}, {SIZE_MAX, 0}};
    for (int k = 0; k < 4; k++) {
        tc.moments_in_memory_max = cases[k].max;
        if (ug_trainer_new(&t, m, &tc, &err) < 0) {
            CHECK(0, "max %zu: %s", cases[k].max, err.msg);
            continue;
        }
        const char *where = ug_trainer_config(t)->moments_dir;
        CHECK(cases[k].in_files ? where && strcmp(where, dir) == 0 && t->moments[0][0].map
                                : !where && !t->moments[0][0].map,
              "max %zu of %zu bytes: moments in %s", cases[k].max, bytes,
              where ? where : "memory");
        if (k == 1)
            CHECK(ug_trainer_save(t, path, NULL, 0, &err) == 0, "%s", err.msg);
        ug_trainer_free(t);
        t = NULL;
    }
    for (int k = 0; k < 4; k++) {
        if (ug_trainer_load(&t2, &m2, path, dir, cases[k].max, &err) < 0) {
            CHECK(0, "load, max %zu: %s", cases[k].max, err.msg);
            continue;
        }
        CHECK(!ug_trainer_config(t2)->moments_dir == !cases[k].in_files,
              "loaded, max %zu: moments in %s", cases[k].max,
              cases[k].in_files ? "memory" : "files");
        ug_trainer_free(t2);
        ug_model_free(m2);
        t2 = NULL, m2 = NULL;
    }
    ug_model_free(m);
}

/* bf16 translation: close to fp32 but not equal (so the path really ran), and
 * refused by training. Skipped, saying so, where the CPU (or the cap
 * ONEDNN_MAX_CPU_ISA) has no AVX512-BF16: then ug_model_set_precision refuses
 * it (test_isa_cap checks the refusal). */
static void test_bf16(void)
{
    ug_config c = {16, 1, 32, 1, 5, 3, UG_NORM_ADALIN, 0, 0, NULL, 0, 0};
    const size_t n = (size_t)3 * c.img_size * c.img_size;
    float *x = malloc(n * sizeof *x), *o32 = malloc(n * sizeof *o32), *o16 = malloc(n * sizeof *o16);
    ug_error err;
    ug_model *m;
    CHECK(ug_model_new(&m, &c, 3, &err) == 0, "%s", err.msg);
    random_batch(x, n, 9);
    CHECK(ug_model_translate(m, UG_A2B, x, 1, o32, NULL, NULL, &err) == 0, "%s", err.msg);
    if (ug_model_set_precision(m, UG_BF16, &err) < 0) {
        CHECK(strstr(err.msg, "AVX512-BF16") != NULL, "%s", err.msg);
        printf("bf16 skipped: %s\n", err.msg);
        goto out;
    }
    CHECK(ug_model_translate(m, UG_A2B, x, 1, o16, NULL, NULL, &err) == 0, "bf16: %s", err.msg);
    double worst = 0, sum = 0;
    for (size_t i = 0; i < n; i++) {
        double d = o16[i] > o32[i] ? o16[i] - o32[i] : o32[i] - o16[i];
        worst = d > worst ? d : worst;
        sum += d;
    }
    CHECK(worst > 0 && worst < 0.05 && sum / n < 0.005,
          "bf16 against fp32: largest difference %g, mean %g", worst, sum / n);
    ug_train_config tc;
    ug_train_config_default(&tc);
    ug_trainer *t;
    CHECK(ug_trainer_new(&t, m, &tc, &err) == 0, "%s", err.msg);
    CHECK(ug_trainer_step(t, x, x, 1, NULL, &err) < 0 && strstr(err.msg, "bf16"),
          "training a bf16 model was not refused (%s)", err.msg);
    CHECK(ug_model_set_precision(m, UG_FP32, &err) == 0 &&
              ug_trainer_step(t, x, x, 1, NULL, &err) == 0,
          "training after going back to fp32: %s", err.msg);
    ug_trainer_free(t);
out:
    ug_model_free(m);
    free(x);
    free(o32);
    free(o16);
}

/* A model file with the family metadata written as given (NULL: left out). */
static void write_family(const char *path, const char *family, const char *version)
{
    ug_config c = small();
    ug_model *m;
    ug_error err;
    ug_model_new(&m, &c, 1, &err);
    ug_ckpt_writer w;
    ug_cw_init(&w);
    if (family)
        ug_cw_meta(&w, "family", "%s", family);
    if (version)
        ug_cw_meta(&w, "format_version", "%s", version);
    m->fam->config_write(&w, &m->cfg);
    add_tensors(&w, m);
    CHECK(ug_cw_write(&w, path, &err) == 0, "%s", err.msg);
    ug_cw_free(&w);
    ug_model_free(m);
}

/* Checkpoints name their family and format version; files without them are
 * U-GAT-IT's version 1; an unknown family or a newer version is refused. */
static void test_family(void)
{
    char path[600], v[64];
    ug_error err = {{0}};
    ug_config c = small();
    ug_model *m = NULL;
    CHECK(ug_model_new(&m, &c, 1, &err) == 0, "%s", err.msg);
    CHECK(m && strcmp(ug_model_family(m), "ugatit") == 0, "family of a new model");
    snprintf(path, sizeof path, "%s/family.safetensors", dir);
    CHECK(ug_model_save(m, path, &err) == 0, "%s", err.msg);
    CHECK(ug_checkpoint_meta(path, "family", v, sizeof v, &err) == 0 && strcmp(v, "ugatit") == 0,
          "metadata family: %s", v);
    CHECK(ug_checkpoint_meta(path, "format_version", v, sizeof v, &err) == 0 &&
              strcmp(v, "1") == 0, "metadata format_version: %s", v);
    ug_model_free(m);

    snprintf(path, sizeof path, "%s/nofamily.safetensors", dir);
    write_family(path, NULL, NULL);
    CHECK(ug_model_load(&m, path, NULL, 1, &err) == 0, "%s", err.msg);
    if (m) {
        CHECK(strcmp(ug_model_family(m), "ugatit") == 0, "a file without family is ugatit");
        ug_model_free(m);
    }
    snprintf(path, sizeof path, "%s/cyclegan.safetensors", dir);
    write_family(path, "cyclegan9", "1");
    expect_refused(path, "unknown model family 'cyclegan9' (this build has: ugatit, cyclegan, "
                         "unit, munit, drit)");
    snprintf(path, sizeof path, "%s/v2.safetensors", dir);
    write_family(path, "ugatit", "2");
    expect_refused(path, "format_version 2 of family ugatit; this build reads 1 to 1 (written by "
                         "a newer ugatit)");
    snprintf(path, sizeof path, "%s/v0.safetensors", dir);
    write_family(path, "ugatit", "zero");
    expect_refused(path, "metadata 'format_version' is not an integer");

    c.family = "nosuch";
    CHECK(ug_model_new(&m, &c, 1, &err) < 0 && strstr(err.msg, "unknown model family 'nosuch'"),
          "an unknown family in the config: %s", err.msg);
}

/* The report's lines: the family's, at most as many as asked for. */
static void test_describe(void)
{
    ug_config c = small();
    ug_model *m;
    ug_error err;
    if (ug_model_new(&m, &c, 7, &err) < 0) {
        CHECK(0, "%s", err.msg);
        return;
    }
    char kv[8][2][64];
    CHECK(ug_model_describe(m, kv, 8) == 5 && strcmp(kv[0][0], "img_size") == 0 &&
              atoi(kv[0][1]) == c.img_size && strcmp(kv[4][0], "discriminator layers") == 0,
          "five lines, img_size first");
    CHECK(ug_model_describe(m, kv, 2) == 2 && strcmp(kv[1][0], "ch") == 0, "cut at max");
    CHECK(ug_model_describe(m, kv, 0) == 0, "none asked for");
    ug_model_free(m);
}

/* A generator's state through checkpoint metadata: written and read back,
 * and a missing, malformed, trailing or even-stream value refused. */
static void test_meta_rng(void)
{
    char path[256];
    snprintf(path, sizeof path, "%s/rng.safetensors", dir);
    ug_rng r = {0x0123456789abcdefULL, 0xfedcba9876543211ULL}, back = {0, 0};
    ug_ckpt_writer w;
    ug_error err;
    ug_cw_init(&w);
    ug_cw_meta_rng(&w, "good_rng", &r);
    ug_cw_meta(&w, "bad_rng", "%s", "12 zz");
    ug_cw_meta(&w, "long_rng", "%s", "1 3 5");
    ug_cw_meta(&w, "even_rng", "%s", "1 2");
    const float one = 1;
    ug_cw_tensor(&w, "x", 1, (int64_t[]){1}, &one);
    CHECK(ug_cw_write(&w, path, &err) == 0, "%s", err.msg);
    ug_cw_free(&w);
    ug_st_file *f;
    if (ug_st_open(&f, path, &err) < 0) {
        CHECK(0, "%s", err.msg);
        return;
    }
    CHECK(ug_ckpt_meta_rng(f, path, "good_rng", "a test's", &back, &err) == 0 &&
              back.state == r.state && back.inc == r.inc,
          "round trip: %s", err.msg);
    const char *bad[] = {"bad_rng", "long_rng", "even_rng"};
    for (int i = 0; i < 3; i++)
        CHECK(ug_ckpt_meta_rng(f, path, bad[i], "a test's", &back, &err) < 0 &&
                  strstr(err.msg, "is malformed"),
              "%s accepted", bad[i]);
    CHECK(ug_ckpt_meta_rng(f, path, "no_rng", "a test's", &back, &err) < 0 &&
              strstr(err.msg, "'no_rng' (a test's) is missing"),
          "a missing state: %s", err.msg);
    ug_st_close(f);
}

int main(void)
{
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_invalid_configs();
    test_round_trip();
    test_broken_files();
    test_non_finite();
    test_large_tensor();
    test_resume_bit_exact();
    test_moments_in_file();
    test_moments_placement();
    test_bf16();
    test_family();
    test_describe();
    test_meta_rng();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0, "cleanup");
    return check_summary();
}
