/* Inception-v3 (src/eval): the architecture's parameter counts, the resize,
 * golden features of both variants on two sample images against PyTorch
 * (tools/make_inception_fixtures.py, with the deterministic weights of
 * inception_weights.h written here as safetensors and as .pt), and weights
 * files that are refused. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "cli.h"
#include "data/dataset.h"
#include "eval/kid.h"
#include "eval/inception.h"
#include "eval/preprocess.h"
#include "files.h"
#include "inception_weights.h"
#include "io/image.h"
#include "io/pt.h"
#include "io/safetensors.h"

static char tmp[64];
static const char *const IMAGES[2] = {"testA/female_2321.jpg", "testB/3414.png"};

static void architecture(void)
{
    for (int v = 0; v < 2; v++) {
        ug_net net;
        ug_error err = {{0}};
        CHECK(ug_inception_build(&net, (ug_inception_kind)v, &err) == 0, "%s", err.msg);
        /* 94 BasicConv2d of 6 tensors; the notes' learnable count less fc's. */
        CHECK(net.n_params == 94 * 6, "variant %d: %d parameters", v, net.n_params);
        CHECK(ug_net_trainable(&net) == 21785568, "variant %d: %zu learnable floats", v,
              ug_net_trainable(&net));
        int out = ug_net_output(&net, UG_INCEPTION_OUT);
        CHECK(out >= 0 && net.nodes[out].C == 2048 && net.nodes[out].H == 1,
              "variant %d: no 2048 x 1 x 1 output", v);
        int pools[2] = {0, 0}; /* average pools counting the padding, max pools with padding */
        for (int i = 0; i < net.n_nodes; i++) {
            pools[0] += net.nodes[i].op == OP_AVGPOOL && net.nodes[i].count_pad;
            pools[1] += net.nodes[i].op == OP_MAXPOOL && net.nodes[i].pad;
        }
        CHECK(pools[0] == (v ? 9 : 0) && pools[1] == (v ? 0 : 1),
              "variant %d: %d padded average pools, %d padded max pools", v, pools[0], pools[1]);
        ug_net_free(&net);
    }
}

static void resize(void)
{
    /* F.interpolate([[0, 1], [2, 3]], (4, 4), bilinear, align_corners=False)
     * = 2 r_y + r_x with r = 0, 0.25, 0.75, 1; and 4 -> 2 averages pairs. */
    const float src[4] = {0, 1, 2, 3}, r[4] = {0, 0.25f, 0.75f, 1};
    float out[16];
    ug_error err = {{0}};
    CHECK(ug_resize_bilinear_torch(out, 4, 4, src, 2, 2, &err) == 0, "%s", err.msg);
    int ok = 1;
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 4; x++)
            ok &= fabsf(out[y * 4 + x] - (2 * r[y] + r[x])) < 1e-6f;
    CHECK(ok, "2x2 to 4x4");
    const float row[4] = {0, 1, 2, 4};
    CHECK(ug_resize_bilinear_torch(out, 2, 1, row, 4, 1, &err) == 0 &&
              fabsf(out[0] - 0.5f) < 1e-6f && fabsf(out[1] - 3.0f) < 1e-6f,
          "4 to 2: %g %g", out[0], out[1]);
}

/* The net's tensors (host: its data, mapped) as entries named PREFIX.NAME,
 * with fc.weight of fc_rows rows and fc.bias added; with_counters:
 * num_batches_tracked too. */
static ug_st_entry *entries(const ug_net *net, const float *host, const char *prefix,
                            int fc_rows, int with_counters, size_t *n, float **fc)
{
    ug_st_entry *e = calloc((size_t)net->n_params + 2, sizeof *e);
    *fc = calloc((size_t)fc_rows * 2048 + fc_rows, sizeof **fc);
    *n = 0;
    for (int p = 0; p <= net->n_params + 1; p++) {
        char name[128];
        ug_st_entry *t = &e[*n];
        if (p < net->n_params) {
            const ug_param *q = &net->params[p];
            if (!with_counters && tw_ends(q->name, "num_batches_tracked"))
                continue;
            snprintf(name, sizeof name, "%s%s", prefix, q->name);
            t->ndim = q->ndim;
            memcpy(t->shape, q->shape, sizeof t->shape);
            t->data = host + q->off;
        } else if (p == net->n_params) {
            snprintf(name, sizeof name, "%sfc.weight", prefix);
            t->ndim = 2, t->shape[0] = fc_rows, t->shape[1] = 2048, t->data = *fc;
        } else {
            snprintf(name, sizeof name, "%sfc.bias", prefix);
            t->ndim = 1, t->shape[0] = fc_rows, t->data = *fc + (size_t)fc_rows * 2048;
        }
        t->name = strdup(name);
        (*n)++;
    }
    return e;
}

static void free_entries(ug_st_entry *e, size_t n, float *fc)
{
    for (size_t i = 0; i < n; i++)
        free((char *)e[i].name);
    free(e);
    free(fc);
}

/* Writes the test weights of a variant: FID as safetensors with the
 * counters, torchvision as .pt ({"inception": state_dict}) without. */
static int write_weights(const char *path, ug_inception_kind v)
{
    ug_net net;
    ug_error err = {{0}};
    if (ug_inception_build(&net, v, &err) < 0)
        return -1;
    const size_t bytes = net.total * sizeof(float);
    float *host = fill_test_weights(&net) == 0 ? net.be->map(net.data, bytes) : NULL;
    CHECK(host != NULL, "out of memory");
    if (!host) {
        ug_net_free(&net);
        return -1;
    }
    size_t n;
    float *fc;
    int fid = v == UG_INCEPTION_FID;
    ug_st_entry *e =
        entries(&net, host, fid ? "" : "inception.", fid ? 1008 : 1000, fid, &n, &fc);
    int rc = fid ? ug_st_write(path, e, n, NULL, 0, &err) : ug_pt_write(path, e, n, &err);
    CHECK(rc == 0, "writing %s: %s", path, err.msg);
    free_entries(e, n, fc);
    net.be->unmap(net.data, host, bytes, 0);
    ug_net_free(&net);
    return rc;
}

static void golden(const char *fid_path)
{
    char path[512];
    size_t n;
    snprintf(path, sizeof path, "%s/inception_features.f32", UGATIT_FIXTURES);
    unsigned char *want = read_bytes(path, &n);
    CHECK(want && n == 4 * 2 * 2 * 2048, "cannot read %s", path);
    if (!want || n != 4 * 2 * 2 * 2048) {
        free(want);
        return;
    }
    const size_t S = UG_INCEPTION_SIZE;
    float *x = malloc(2 * 3 * S * S * sizeof *x), feat[2 * 2048];
    ug_error err = {{0}};
    for (int i = 0; i < 2; i++) {
        ug_image img = {0};
        snprintf(path, sizeof path, "%s/%s", CHECK_SAMPLES, IMAGES[i]);
        CHECK(ug_image_load(&img, path, &err) == 0 &&
                  ug_inception_prepare(x + i * 3 * S * S, &img, &err) == 0,
              "%s", err.msg);
        ug_image_free(&img);
    }
    for (int v = 0; v < 2; v++) {
        const char *wpath = fid_path;
        if (v == UG_INCEPTION_TORCHVISION) {
            snprintf(path, sizeof path, "%s/torchvision.pt", tmp);
            wpath = path;
            if (write_weights(wpath, UG_INCEPTION_TORCHVISION) < 0)
                continue;
        }
        ug_inception *m = NULL;
        CHECK(ug_inception_load(&m, wpath, &err) == 0, "%s", err.msg);
        if (!m)
            continue;
        CHECK(ug_inception_variant(m) == (ug_inception_kind)v, "%s: variant %d", wpath,
              (int)ug_inception_variant(m));
        CHECK(strlen(ug_inception_sha256(m)) == 64, "sha256 '%s'", ug_inception_sha256(m));
        CHECK(ug_inception_features(m, feat, x, 2, &err) == 0, "%s", err.msg);
        for (int i = 0; i < 2; i++) {
            const float *w = (const float *)want + (v * 2 + i) * 2048;
            double rel = check_rel_l2(feat + i * 2048, w, 2048);
            printf("variant %s, %s: relative L2 %.3g\n", v ? "torchvision" : "FID", IMAGES[i],
                   rel);
            CHECK(rel < 1e-4, "variant %d image %d: relative L2 %g", v, i, rel);
        }
        ug_inception_free(m);
        if (v == UG_INCEPTION_TORCHVISION)
            remove(wpath);
    }
    free(x);
    free(want);
}

/* Loads path, expecting an error containing both strings. */
static void refused(const char *path, const char *what, const char *also)
{
    ug_inception *m = NULL;
    ug_error err = {{0}};
    int rc = ug_inception_load(&m, path, &err);
    CHECK(rc < 0 && !m && strstr(err.msg, path) && strstr(err.msg, what) &&
              (!also || strstr(err.msg, also)),
          "%s: '%s'", path, err.msg);
    ug_inception_free(m);
}

static void hostile(const char *fid_path)
{
    char path[512];
    snprintf(path, sizeof path, "%s/small.safetensors", tmp);
    float *fc = calloc(1008 * 2048, sizeof *fc), w[32 * 3 * 5 * 5] = {0};
    ug_st_entry e[3] = {{.name = "fc.weight", .ndim = 2, .shape = {1008, 2048}, .data = fc},
                        {.name = "Conv2d_1a_3x3.conv.weight", .ndim = 4, .shape = {32, 3, 5, 5},
                         .data = w},
                        {.name = "generator.weight", .ndim = 1, .shape = {4}, .data = w}};
    ug_error err = {{0}};
    /* fc of 1008 and nothing else: the first conv is missing. */
    CHECK(ug_st_write(path, e, 1, NULL, 0, &err) == 0, "%s", err.msg);
    refused(path, "no tensor 'Conv2d_1a_3x3.conv.weight'", "not the weights of an Inception");
    CHECK(ug_st_write(path, e, 2, NULL, 0, &err) == 0, "%s", err.msg);
    refused(path, "'Conv2d_1a_3x3.conv.weight' has shape [32, 3, 5, 5]", "[32, 3, 3, 3]");
    CHECK(ug_st_write(path, e, 3, NULL, 0, &err) == 0, "%s", err.msg);
    refused(path, "unexpected tensor 'generator.weight'", NULL);
    e[0].shape[0] = 10;
    CHECK(ug_st_write(path, e, 1, NULL, 0, &err) == 0, "%s", err.msg);
    refused(path, "fc.weight has another shape", "[1008, 2048]");
    CHECK(ug_st_write(path, e + 2, 1, NULL, 0, &err) == 0, "%s", err.msg);
    refused(path, "no fc.weight", NULL);
    free(fc);
    remove(path);
    /* The real weights, cut short. */
    snprintf(path, sizeof path, "%s/truncated.safetensors", tmp);
    size_t n;
    unsigned char *b = read_bytes(fid_path, &n);
    CHECK(b && n > 1000, "cannot read %s", fid_path);
    if (b)
        write_bytes(path, b, n / 2);
    free(b);
    refused(path, "", NULL);
    remove(path);
    /* The start of a legacy torch.save stream and nothing more. */
    snprintf(path, sizeof path, "%s/legacy.pth", tmp);
    write_bytes(path, "\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19", 14);
    refused(path, "", NULL);
    remove(path);
}

/* The sample images first .. first + count - 1 (of 4, in sorted order)
 * mirrored left to right, as PNG in dir. */
static void make_fakes(const char *dir, size_t first, size_t count)
{
    ug_filelist l = {0};
    ug_error err = {{0}};
    CHECK(ug_dataset_list(&l, CHECK_SAMPLES, &err) == 0 && l.n == 4, "%s", err.msg);
    for (size_t i = first; i < first + count && i < l.n; i++) {
        ug_image img = {0};
        CHECK(ug_image_load(&img, l.paths[i], &err) == 0, "%s", err.msg);
        for (int y = 0; y < img.h; y++)
            for (int x = 0; x < img.w / 2; x++)
                for (int c = 0; c < 3; c++) {
                    unsigned char *a = img.rgb + ((size_t)y * img.w + x) * 3 + c;
                    unsigned char *b = img.rgb + ((size_t)y * img.w + img.w - 1 - x) * 3 + c;
                    unsigned char t = *a;
                    *a = *b, *b = t;
                }
        char path[512];
        snprintf(path, sizeof path, "%s/fake_%zu.png", dir, i);
        CHECK(ug_image_save_png(path, &img, &err) == 0, "%s", err.msg);
        ug_image_free(&img);
    }
    ug_filelist_free(&l);
}

/* KID of the sample images against fakes, in process, as ugatit kid computes it. */
static double kid_here(const char *weights, const char *fakes, const ug_kid_opts *o)
{
    ug_inception *m = NULL;
    ug_filelist r = {0}, f = {0};
    ug_error err = {{0}};
    ug_kid_result res = {NAN, NAN, 0, 0};
    float *x = malloc(8 * 2048 * sizeof *x);
    size_t c;
    CHECK(ug_inception_load(&m, weights, &err) == 0 &&
              ug_dataset_list(&r, CHECK_SAMPLES, &err) == 0 &&
              ug_dataset_list(&f, fakes, &err) == 0 &&
              ug_inception_files(m, x, (const char *const *)r.paths, 4, 8, NULL, &c, &err) == 0 &&
              ug_inception_files(m, x + 4 * 2048, (const char *const *)f.paths, 4, 8, NULL, &c,
                                 &err) == 0 &&
              ug_kid(&res, x, 4, x + 4 * 2048, 4, 2048, o, &err) == 0,
          "%s", err.msg);
    free(x);
    ug_filelist_free(&r);
    ug_filelist_free(&f);
    ug_inception_free(m);
    return 100 * res.mean;
}

static double after(const char *out, const char *key)
{
    const char *p = strstr(out, key);
    return p ? strtod(p + strlen(key), NULL) : NAN;
}

/* Removes the files in dir, then dir. */
static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[1024];
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.') {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            remove(path);
        }
    if (d)
        closedir(d);
    rmdir(dir);
}

/* --features-cache: a second run reads every image's features from the cache
 * and gives the same number; a file changed since, or a damaged entry, is
 * measured again (in a smaller batch: oneDNN's sums may round differently). */
static void features_cache(const char *weights, const char *fakes)
{
    char cache[128], args[1024], out[8192], path[512];
    snprintf(cache, sizeof cache, "%s/cache", tmp);
    snprintf(args, sizeof args, "kid --real %s --fake %s --inception %s --features-cache %s "
             "--json", CHECK_SAMPLES, fakes, weights, cache);
    int rc = run_cli(tmp, args, 1, out, sizeof out);
    double first = after(out, "\"mean\": ");
    CHECK(rc == 0 && strstr(out, "8 images through Inception-v3") &&
              strstr(out, "0 from the features cache"),
          "first run: %s", out);
    rc = run_cli(tmp, args, 1, out, sizeof out);
    CHECK(rc == 0 && strstr(out, "8 from the features cache") &&
              after(out, "\"mean\": ") == first,
          "second run (%.17g first): %s", first, out);
    /* A fake written again (a new inode and time), a cache entry cut short. */
    make_fakes(fakes, 0, 1);
    DIR *d = opendir(cache);
    struct dirent *e = NULL;
    while (d && (e = readdir(d)) && e->d_name[0] == '.')
        ;
    if (e) {
        snprintf(path, sizeof path, "%s/%s", cache, e->d_name);
        write_bytes(path, "short", 5);
    }
    if (d)
        closedir(d);
    rc = run_cli(tmp, args, 1, out, sizeof out);
    CHECK(rc == 0 && (strstr(out, "6 from the features cache") ||
                      strstr(out, "7 from the features cache")) &&
              fabs(after(out, "\"mean\": ") - first) <= 1e-6 * fabs(first),
          "after a change: %s", out);
    rc = run_cli(tmp, args, 1, out, sizeof out);
    CHECK(rc == 0 && strstr(out, "8 from the features cache"), "fourth run: %s", out);
    remove_dir(cache);
}

static void cli(const char *weights)
{
    char fakes[128], args[1024], out[8192];
    snprintf(fakes, sizeof fakes, "%s/fakes", tmp);
    CHECK(mkdir(fakes, 0700) == 0, "mkdir %s", fakes);
    make_fakes(fakes, 0, 4);
    unsetenv(UG_INCEPTION_ENV);

    snprintf(args, sizeof args, "kid --real %s --fake %s --inception %s --subsets 5 "
             "--subset_size 3 --seed 7 --json", CHECK_SAMPLES, fakes, weights);
    int rc = run_cli(tmp, args, 1, out, sizeof out);
    ug_kid_opts o;
    ug_kid_opts_default(&o);
    o.subsets = 5, o.subset_size = 3, o.seed = 7;
    double want = kid_here(weights, fakes, &o), got = after(out, "\"mean\": ");
    CHECK(rc == 0 && strstr(out, "{\"protocol\": \"subsets\", \"n_real\": 4, \"n_fake\": 4, "
                                 "\"kid_x100\": {\"mean\": ") &&
              fabs(got - want) <= 1e-6 * fabs(want),
          "--json: rc %d, %.17g (in process %.17g): %s", rc, got, want, out);
    CHECK(strstr(out, "not comparable with published ones"), "no SHA-256 warning: %s", out);

    snprintf(args, sizeof args, "kid --real %s --fake %s --inception %s --protocol blocks "
             "--block_size 2", CHECK_SAMPLES, fakes, weights);
    rc = run_cli(tmp, args, 1, out, sizeof out);
    o.protocol = UG_KID_BLOCKS, o.block_size = 2;
    want = kid_here(weights, fakes, &o), got = after(out, "KID x 100: ");
    CHECK(rc == 0 && strstr(out, "images: 4 real, 4 fake; 2 blocks of at most 2") &&
              fabs(got - want) <= 1e-4 * fabs(want) + 1e-4 && strstr(out, " ± "),
          "blocks: rc %d, %g (in process %g): %s", rc, got, want, out);

    /* A set against itself: negative (for a positive definite kernel the mean
     * off-diagonal value is below the diagonal's), with the note. */
    snprintf(args, sizeof args, "kid --real %s --fake %s --inception %s", CHECK_SAMPLES,
             CHECK_SAMPLES, weights);
    rc = run_cli(tmp, args, 1, out, sizeof out);
    CHECK(rc == 0 && after(out, "KID x 100: ") < 0 && strstr(out, "indistinguishable"),
          "against itself: %s", out);

    snprintf(args, sizeof args, "kid --real %s/testA --fake %s --inception %s", CHECK_SAMPLES,
             fakes, weights);
    rc = run_cli(tmp, args, 0, out, sizeof out);
    CHECK(rc == 1 && strstr(out, "testA: KID needs at least 2 images in each set (found 1)"),
          "one real image: rc %d: %s", rc, out);
    snprintf(args, sizeof args, "kid --real %s --fake %s", CHECK_SAMPLES, fakes);
    rc = run_cli(tmp, args, 0, out, sizeof out);
    CHECK(rc == 1 && strstr(out, "--inception FILE") && strstr(out, "pytorch-fid") &&
              !strchr(strchr(out, '\n') + 1, '\n'),
          "no weights: rc %d: %s", rc, out);
    snprintf(args, sizeof args, "kid --real %s --fake %s --protocol paper", CHECK_SAMPLES,
             fakes);
    rc = run_cli(tmp, args, 0, out, sizeof out);
    CHECK(rc == 2 && strstr(out, "--protocol must be subsets or blocks"), "rc %d: %s", rc, out);

    features_cache(weights, fakes);

    char path[512];
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/fake_%d.png", fakes, i);
        remove(path);
    }
    snprintf(path, sizeof path, "%s/cli_output.txt", tmp);
    remove(path);
    rmdir(fakes);
}

/* eval's A2B number for model on data set ds (testA a, testB b) is what
 * translate (into tr) and kid give. */
static void check_eval_a2b(const char *model, const char *ds, const char *a, const char *b,
                           const char *tr, const char *weights)
{
    char args[2048], out[8192];
    snprintf(args, sizeof args, "eval --model %s --dataset %s --inception %s --block_size 2 "
             "--json", model, ds, weights);
    int rc = run_cli(tmp, args, 1, out, sizeof out);
    CHECK(rc == 0 &&
              strstr(out, "\"a2b\": {\"protocol\": \"blocks\", \"n_real\": 2, \"n_fake\": 2") &&
              strstr(out, "\"b2a\": {") && strstr(out, "\"std\": null"),
          "eval --json %s: rc %d: %s", model, rc, out);
    double got = after(out, "\"mean\": ");
    snprintf(args, sizeof args, "translate --model %s --input %s --output %s", model, a, tr);
    CHECK(run_cli(tmp, args, 0, out, sizeof out) == 0, "translate: %s", out);
    snprintf(args, sizeof args, "kid --real %s --fake %s --inception %s --protocol blocks "
             "--block_size 2 --json", b, tr, weights);
    rc = run_cli(tmp, args, 1, out, sizeof out);
    double want = after(out, "\"mean\": ");
    CHECK(rc == 0 && fabs(got - want) <= 1e-3 * fabs(want) + 1e-3,
          "%s: eval's A2B %.9g, translate + kid %.9g: %s", model, got, want, out);
}

/* ugatit eval on a new light model and on a CycleGAN, with a data set of
 * two images a side. */
static void eval_cli(const char *weights)
{
    char ds[128], a[160], b[160], tr[160], model[160], args[2048], out[8192];
    snprintf(ds, sizeof ds, "%s/ds", tmp);
    snprintf(a, sizeof a, "%s/testA", ds);
    snprintf(b, sizeof b, "%s/testB", ds);
    snprintf(tr, sizeof tr, "%s/a2b", tmp);
    snprintf(model, sizeof model, "%s/model.safetensors", tmp);
    CHECK(mkdir(ds, 0700) == 0 && mkdir(a, 0700) == 0 && mkdir(b, 0700) == 0, "mkdir %s", ds);
    make_fakes(a, 0, 2);
    make_fakes(b, 2, 2);
    ug_config c;
    ug_config_default(&c);
    c.ch = 4, c.n_res = 2, c.img_size = 64, c.light = 1, c.dis_global = 5, c.dis_local = 3;
    ug_model *m = NULL;
    ug_error err = {{0}};
    CHECK(ug_model_new(&m, &c, 3, &err) == 0 && ug_model_save(m, model, &err) == 0, "%s",
          err.msg);
    ug_model_free(m);

    check_eval_a2b(model, ds, a, b, tr, weights);
    /* A CycleGAN checkpoint: its family from the metadata, its bicubic resize. */
    char cyclegan[160];
    snprintf(cyclegan, sizeof cyclegan, "%s/cyclegan.safetensors", tmp);
    ug_config cg = {4, 1, 64, 0, 3, 0, UG_NORM_ADALIN, 0, 0, "cyclegan", 0, 0};
    CHECK(ug_model_new(&m, &cg, 3, &err) == 0 && ug_model_save(m, cyclegan, &err) == 0, "%s",
          err.msg);
    ug_model_free(m);
    check_eval_a2b(cyclegan, ds, a, b, tr, weights);
    remove(cyclegan);
    /* UNIT: an encoder and the other domain's decoder, without noise. */
    ug_config un = {4, 1, 64, 0, 2, 2, UG_NORM_ADALIN, 0, 0, "unit", 0, 0};
    CHECK(ug_model_new(&m, &un, 3, &err) == 0 && ug_model_save(m, cyclegan, &err) == 0, "%s",
          err.msg);
    ug_model_free(m);
    check_eval_a2b(cyclegan, ds, a, b, tr, weights);
    remove(cyclegan);
    /* MUNIT: its codes follow the images' places in a call, which eval's
     * batches and translate's single images do not share; eval runs. */
    ug_config mu = {4, 1, 64, 0, 2, 2, UG_NORM_ADALIN, 0, 0, "munit", 2, 8};
    CHECK(ug_model_new(&m, &mu, 3, &err) == 0 && ug_model_save(m, cyclegan, &err) == 0, "%s",
          err.msg);
    ug_model_free(m);
    snprintf(args, sizeof args, "eval --model %s --dataset %s --inception %s --block_size 2 "
             "--json", cyclegan, ds, weights);
    int mrc = run_cli(tmp, args, 1, out, sizeof out);
    CHECK(mrc == 0 && strstr(out, "\"a2b\": {\"protocol\": \"blocks\"") &&
              strstr(out, "\"b2a\": {"),
          "eval of a MUNIT model: rc %d: %s", mrc, out);
    remove(cyclegan);

    snprintf(args, sizeof args, "eval --model %s --dataset %s --inception %s --block_size 2",
             model, ds, weights);
    int rc = run_cli(tmp, args, 1, out, sizeof out);
    CHECK(rc == 0 && strstr(out, "| model | A2B KID x 100 | B2A KID x 100 |") &&
              strstr(out, "model.safetensors | "),
          "eval table: rc %d: %s", rc, out);
    /* The real test images' features come from the cache the second time. */
    char cache[160];
    snprintf(cache, sizeof cache, "%s/eval_cache", tmp);
    snprintf(args, sizeof args, "eval --model %s --dataset %s --inception %s --block_size 2 "
             "--features-cache %s", model, ds, weights, cache);
    rc = run_cli(tmp, args, 1, out, sizeof out);
    CHECK(rc == 0 && strstr(out, "(0 from the features cache)"), "eval cache: %s", out);
    rc = run_cli(tmp, args, 1, out, sizeof out);
    CHECK(rc == 0 && strstr(out, "(4 from the features cache)"), "eval cache: %s", out);
    remove_dir(cache);

    snprintf(args, sizeof args, "eval --model %s --dataset %s/nothing --inception %s", model,
             tmp, weights);
    rc = run_cli(tmp, args, 0, out, sizeof out);
    CHECK(rc == 1 && strstr(out, "nothing"), "eval of no data set: rc %d: %s", rc, out);

    const char *files[] = {"testA/fake_0.png", "testA/fake_1.png", "testB/fake_2.png",
                           "testB/fake_3.png"};
    for (int i = 0; i < 4; i++) {
        snprintf(args, sizeof args, "%s/%s", ds, files[i]);
        remove(args);
        snprintf(args, sizeof args, "%s/fake_%d.png", tr, i);
        remove(args);
    }
    rmdir(a), rmdir(b), rmdir(ds), rmdir(tr);
    remove(model);
    snprintf(args, sizeof args, "%s/cli_output.txt", tmp);
    remove(args);
}

/* The value of column col (0: step) in the row of kid.csv text for step. */
static double kid_row(const char *csv, long step, int col)
{
    char key[32];
    snprintf(key, sizeof key, "\n%ld,", step);
    const char *p = strstr(csv, key);
    if (!p)
        return NAN;
    p += strlen(key);
    for (int c = 1; c < col; c++)
        p = strchr(p, ',') + 1;
    return strtod(p, NULL);
}

/* ugatit train --kid_freq: a row of kid.csv per measurement, drawn by the
 * report; the last one is what ugatit eval says of the final checkpoint; a
 * resumed run keeps the rows up to its checkpoint; without weights the run
 * fails before its first step. */
static void train_kid(const char *weights)
{
    char ds[160], res[160], args[2048], out[16384], path[512];
    snprintf(ds, sizeof ds, "%s/kshapes", tmp);
    snprintf(res, sizeof res, "%s/kres", tmp);
    snprintf(args, sizeof args, "make-shapes --out %s --n 4 --size 32", ds);
    CHECK(run_cli(tmp, args, 0, out, sizeof out) == 0, "make-shapes: %s", out);
    const char *common = "--img_size 32 --ch 2 --n_res 1 --light true --n_dis 4 --print_freq 4 "
                         "--save_freq 2 --threads 2";
    snprintf(args, sizeof args, "train --dataset %s --result_dir %s %s --iteration 4 "
             "--kid_freq 3 --inception %s", ds, res, common, weights);
    int rc = run_cli(tmp, args, 1, out, sizeof out);
    CHECK(rc == 0 && strstr(out, "KID every 3 steps on 5 + 5 test images") &&
              strstr(out, "step 3: KID x 100 A2B ") && strstr(out, "step 4: KID x 100 A2B "),
          "train --kid_freq: rc %d: %s", rc, out);
    snprintf(path, sizeof path, "%s/kshapes/kid.csv", res);
    size_t len;
    char *csv = (char *)read_bytes(path, &len);
    const char *head = "step,kid_A2B,kid_A2B_std,kid_B2A,kid_B2A_std\n3,";
    CHECK(csv && strncmp(csv, head, strlen(head)) == 0 &&
              strstr(csv, "\n4,") && !strstr(csv, "\n2,"),
          "kid.csv: %s", csv ? csv : "missing");
    snprintf(path, sizeof path, "%s/kshapes/index.html", res);
    char *html = (char *)read_bytes(path, &len);
    CHECK(html && strstr(html, "<h2>KID</h2>") && strstr(html, "2 measurements; at step 4: A2B ") &&
              strstr(html, "url(#clip-kid)"),
          "the report's KID chart");
    free(html);

    snprintf(args, sizeof args, "eval --model %s/kshapes/model/kshapes_params_0000004.safetensors "
             "--dataset %s --inception %s --json", res, ds, weights);
    rc = run_cli(tmp, args, 1, out, sizeof out);
    const char *b2a = strstr(out, "\"b2a\"");
    double a = after(out, "\"mean\": "), b = b2a ? after(b2a, "\"mean\": ") : NAN;
    double ka = csv ? kid_row(csv, 4, 1) : NAN, kb = csv ? kid_row(csv, 4, 3) : NAN;
    CHECK(rc == 0 && fabs(a - ka) <= 1e-6 * fabs(a) + 1e-9 && fabs(b - kb) <= 1e-6 * fabs(b) + 1e-9,
          "eval of the last checkpoint %.9g, %.9g; kid.csv at step 4 %.9g, %.9g: %s", a, b, ka, kb,
          out);
    free(csv);

    snprintf(args, sizeof args, "train --dataset %s --result_dir %s %s --iteration 6 --resume "
             "true --kid_freq 3 --inception %s", ds, res, common, weights);
    rc = run_cli(tmp, args, 1, out, sizeof out);
    snprintf(path, sizeof path, "%s/kshapes/kid.csv", res);
    csv = (char *)read_bytes(path, &len);
    const char *four = csv ? strstr(csv, "\n4,") : NULL;
    CHECK(rc == 0 && csv && strstr(csv, "\n3,") && four && !strstr(four + 1, "\n4,") &&
              strstr(csv, "\n6,") && !strstr(csv, "\n5,"),
          "resumed kid.csv (a row per step 3, 4, 6): rc %d: %s", rc, csv ? csv : out);
    free(csv);

    snprintf(args, sizeof args, "train --dataset %s --result_dir %s/none %s --iteration 4 "
             "--kid_freq 2", ds, tmp, common);
    rc = run_cli(tmp, args, 0, out, sizeof out);
    snprintf(path, sizeof path, "%s/none/kshapes/model/kshapes_params_0000002.safetensors", tmp);
    CHECK(rc == 1 && strstr(out, "--inception") && access(path, F_OK) != 0,
          "--kid_freq without weights: rc %d: %s", rc, out);

    snprintf(args, sizeof args, "rm -rf %s %s %s/none %s/cli_output.txt", ds, res, tmp, tmp);
    CHECK(system(args) == 0, "%s", args);
}

static void where(void)
{
    const char *p = NULL;
    ug_error err = {{0}};
    unsetenv(UG_INCEPTION_ENV);
    CHECK(ug_inception_path(&p, NULL, &err) < 0 && strstr(err.msg, "--inception") &&
              strstr(err.msg, UG_INCEPTION_ENV) &&
              strstr(err.msg, "pt_inception-2015-12-05-6726825d.pth"),
          "no weights: '%s'", err.msg);
    CHECK(ug_inception_path(&p, "/nonexistent/w.pth", &err) < 0 &&
              strstr(err.msg, "/nonexistent/w.pth") && strstr(err.msg, "pytorch-fid"),
          "missing file: '%s'", err.msg);
    setenv(UG_INCEPTION_ENV, UGATIT_FIXTURES "/kid_real.f32", 1);
    CHECK(ug_inception_path(&p, NULL, &err) == 0 && strstr(p, "kid_real.f32"),
          "from the environment: '%s'", err.msg);
    unsetenv(UG_INCEPTION_ENV);
}

int main(void)
{
    if (!check_samples("test_inception"))
        return 1;
    snprintf(tmp, sizeof tmp, "/tmp/ug_inception_XXXXXX");
    if (!mkdtemp(tmp)) {
        perror("mkdtemp");
        return 1;
    }
    architecture();
    resize();
    where();
    char fid[128];
    snprintf(fid, sizeof fid, "%s/fid.safetensors", tmp);
    if (write_weights(fid, UG_INCEPTION_FID) == 0) {
        golden(fid);
        hostile(fid);
        cli(fid);
        eval_cli(fid);
        train_kid(fid);
    }
    remove(fid);
    rmdir(tmp);
    return check_summary();
}
