/* Tests for src/data: dataset listing and resolution, the training and test
 * transforms, the loader (determinism, resuming from a step, per-epoch
 * reshuffling, skipping undecodable files) and the shapes generator. Temporary
 * datasets live under a mkdtemp folder that is removed at the end; the
 * shared sample images are only read. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "files.h"
#include "data/dataset.h"
#include "data/loader.h"
#include "data/shapes.h"
#include "data/transform.h"
#include "model/cyclegan/cyclegan.h"
#include "model/unit/unit.h"
#include "io/image.h"

#define SAMPLES CHECK_SAMPLES
#define JPEG_SAMPLE SAMPLES "/testA/female_2321.jpg"

static char tmpdir[] = "/tmp/ug_data_test_XXXXXX";

static void tmp_path(char *buf, size_t cap, const char *rel)
{
    snprintf(buf, cap, "%s/%s", tmpdir, rel);
}

static void make_dir(const char *rel)
{
    char p[512];
    tmp_path(p, sizeof p, rel);
    if (mkdir(p, 0777) != 0) {
        perror(p);
        exit(2);
    }
}

/* Writes a string to a file under the test's folder. */
static void write_tmp(const char *rel, const char *data)
{
    char p[512];
    tmp_path(p, sizeof p, rel);
    write_text(p, data);
}

/* An 8 x 8 PNG of one colour. */
static void write_solid(const char *rel, unsigned char r, unsigned char g, unsigned char b)
{
    char p[512];
    tmp_path(p, sizeof p, rel);
    unsigned char px[8 * 8 * 3];
    for (int i = 0; i < 64; i++) {
        px[3 * i] = r;
        px[3 * i + 1] = g;
        px[3 * i + 2] = b;
    }
    ug_image im = {8, 8, px};
    ug_error err;
    if (ug_image_save_png(p, &im, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        exit(2);
    }
}

static void remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char sub[1024];
            snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
            remove_tree(sub);
        }
        if (d)
            closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

/* ---- listing ----------------------------------------------------------- */

static void test_listing(void)
{
    make_dir("list");
    make_dir("list/sub");
    make_dir("list/sub/deep");
    make_dir("list/dir.png");
    write_tmp("list/b.PNG", "x");
    write_tmp("list/a.jpg", "x");
    write_tmp("list/Z.jpg", "x");
    write_tmp("list/notes.txt", "x");
    write_tmp("list/x.png.bak", "x");
    write_tmp("list/.png", "x"); /* no name before the extension */
    write_tmp("list/sub/c.JPEG", "x");
    write_tmp("list/sub/deep/d.png", "x");
    write_tmp("list/dir.png/e.png", "x");
    static const char *const want[] = {"Z.jpg",         "a.jpg",      "b.PNG",
                                       "dir.png/e.png", "sub/c.JPEG", "sub/deep/d.png"};
    char dir[512];
    tmp_path(dir, sizeof dir, "list");
    ug_filelist l;
    ug_error err = {{0}};
    int rc = ug_dataset_list(&l, dir, &err);
    CHECK(rc == 0, "list: %s", err.msg);
    CHECK(l.n == 6, "list: %zu files, want 6", l.n);
    for (size_t i = 0; rc == 0 && i < l.n && i < 6; i++) {
        char p[1024];
        snprintf(p, sizeof p, "%s/%s", dir, want[i]);
        CHECK(strcmp(l.paths[i], p) == 0, "list[%zu] = %s, want %s", i, l.paths[i], p);
    }
    CHECK(rc != 0 || strcmp(l.dir, dir) == 0, "list dir %s", l.dir);
    ug_filelist_free(&l);

    /* A trailing slash does not double up. */
    char slash[600];
    snprintf(slash, sizeof slash, "%s/sub/", dir);
    rc = ug_dataset_list(&l, slash, &err);
    CHECK(rc == 0 && l.n == 2, "list with slash: %s", err.msg);
    if (rc == 0) {
        char p[1024];
        snprintf(p, sizeof p, "%s/sub/c.JPEG", dir);
        CHECK(strcmp(l.paths[0], p) == 0, "slash path %s", l.paths[0]);
    }
    ug_filelist_free(&l);

    char missing[600], want_msg[700];
    snprintf(missing, sizeof missing, "%s/nope", dir);
    rc = ug_dataset_list(&l, missing, &err);
    snprintf(want_msg, sizeof want_msg, "%s: no such folder", missing);
    CHECK(rc == -1 && strcmp(err.msg, want_msg) == 0, "missing dir: %s", err.msg);
    CHECK(l.n == 0 && l.paths == NULL, "missing dir leaves the list empty");

    make_dir("empty");
    write_tmp("empty/readme.txt", "x");
    char empty[512];
    tmp_path(empty, sizeof empty, "empty");
    rc = ug_dataset_list(&l, empty, &err);
    snprintf(want_msg, sizeof want_msg, "%s: no images (.jpg, .jpeg, .png)", empty);
    CHECK(rc == -1 && strcmp(err.msg, want_msg) == 0, "empty dir: %s", err.msg);

    /* A file is not a folder. */
    char file[600];
    snprintf(file, sizeof file, "%s/a.jpg", dir);
    rc = ug_dataset_list(&l, file, &err);
    CHECK(rc == -1 && strstr(err.msg, "no such folder"), "file as dir: %s", err.msg);

    rc = ug_dataset_list(&l, SAMPLES "/trainA", &err);
    CHECK(rc == 0 && l.n == 1 && strcmp(l.paths[0], SAMPLES "/trainA/female_222.jpg") == 0,
          "sample trainA: %s", rc ? err.msg : l.paths[0]);
    ug_filelist copy = {0};
    CHECK(rc == 0 && ug_filelist_copy(&copy, &l, &err) == 0 && copy.n == 1 &&
              strcmp(copy.paths[0], l.paths[0]) == 0 && strcmp(copy.dir, l.dir) == 0,
          "copy");
    ug_filelist_free(&copy);
    ug_filelist_free(&l);
    ug_filelist_free(&l); /* twice is fine */
}

static void test_resolve(void)
{
    char cwd[1024];
    if (!getcwd(cwd, sizeof cwd)) {
        perror("getcwd");
        exit(2);
    }
    make_dir("ws");
    make_dir("ws/dataset");
    make_dir("ws/dataset/foo");
    make_dir("ws/bar");
    char ws[512];
    tmp_path(ws, sizeof ws, "ws");
    if (chdir(ws) != 0) {
        perror(ws);
        exit(2);
    }
    char out[512];
    ug_error err = {{0}};
    CHECK(ug_dataset_resolve(out, sizeof out, "foo", &err) == 0 &&
              strcmp(out, "dataset/foo") == 0,
          "resolve foo: %s / %s", out, err.msg);
    CHECK(ug_dataset_resolve(out, sizeof out, "bar", &err) == 0 && strcmp(out, "bar") == 0,
          "resolve bar: %s / %s", out, err.msg);
    CHECK(ug_dataset_resolve(out, sizeof out, ws, &err) == 0 && strcmp(out, ws) == 0,
          "resolve absolute: %s / %s", out, err.msg);
    CHECK(ug_dataset_resolve(out, sizeof out, "nope", &err) == -1 &&
              strncmp(err.msg, "nope: no such dataset", 21) == 0,
          "resolve nope: %s", err.msg);
    CHECK(ug_dataset_resolve(out, 5, "foo", &err) == -1, "resolve into a short buffer");
    if (chdir(cwd) != 0) {
        perror(cwd);
        exit(2);
    }

    static const char *const cases[][2] = {{"dataset/selfie2anime", "selfie2anime"},
                                           {"dataset/selfie2anime//", "selfie2anime"},
                                           {"shapes", "shapes"},
                                           {"/", "/"},
                                           {"/a/b/", "b"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char name[64];
        ug_dataset_name(name, sizeof name, cases[i][0]);
        CHECK(strcmp(name, cases[i][1]) == 0, "name(%s) = %s", cases[i][0], name);
    }
    CHECK(ug_dataset_subdir(out, sizeof out, "dataset/x", "trainA", &err) == 0 &&
              strcmp(out, "dataset/x/trainA") == 0,
          "subdir %s", out);
}

/* ---- transforms -------------------------------------------------------- */

static void test_transforms(void)
{
    ug_error err = {{0}};
    ug_image im, r;
    if (ug_image_load(&im, JPEG_SAMPLE, &err) != 0) {
        CHECK(0, "%s", err.msg);
        return;
    }
    const ug_pipeline *rel = &ug_pipeline_release;
    const int S = 64, B = S + rel->margin;
    size_t n = (size_t)3 * S * S;
    float *got = malloc(n * sizeof(float)), *want = malloc(n * sizeof(float));
    float *alt = malloc(n * sizeof(float));

    /* Test transform = Pillow bilinear resize + ToTensor/Normalize, exactly. */
    CHECK(ug_load_test_image(got, JPEG_SAMPLE, S, rel, &err) == 0,
          "test image: %s", err.msg);
    CHECK(ug_image_resize(&r, &im, S, S, UG_RESIZE_BILINEAR, &err) == 0, "%s", err.msg);
    ug_image_to_tensor(want, &r);
    ug_image_free(&r);
    CHECK(memcmp(got, want, n * sizeof(float)) == 0, "test transform differs");
    CHECK(ug_transform(alt, &im, S, NULL, rel, &err) == 0 &&
              memcmp(alt, want, n * sizeof(float)) == 0,
          "ug_transform(NULL) differs");

    /* Training transform, no flip: resize to S + 30, crop at (top, left). */
    ug_augment a = {0, 5, 17};
    CHECK(ug_transform(got, &im, S, &a, rel, &err) == 0, "%s", err.msg);
    CHECK(ug_image_resize(&r, &im, B, B, UG_RESIZE_BILINEAR, &err) == 0, "%s", err.msg);
    float *big = malloc((size_t)3 * B * B * sizeof(float));
    ug_image_to_tensor(big, &r);
    ug_image_free(&r);
    double md = 0;
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < S; y++)
            for (int x = 0; x < S; x++) {
                float g = got[((size_t)c * S + y) * S + x];
                float w = big[((size_t)c * B + y + a.top) * B + x + a.left];
                md = fmax(md, fabs(g - w));
            }
    CHECK(md == 0, "crop differs from resize + crop: %g", md);
    free(big);

    /* Flip first, then crop at left = L equals the mirror of the unflipped
     * crop at left = 30 - L (Pillow's filter is symmetric up to rounding). */
    ug_augment f = {1, 9, 4}, nf = {0, 9, rel->margin - 4};
    CHECK(ug_transform(got, &im, S, &f, rel, &err) == 0, "%s", err.msg);
    CHECK(ug_transform(alt, &im, S, &nf, rel, &err) == 0, "%s", err.msg);
    size_t same = 0;
    md = 0;
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < S; y++)
            for (int x = 0; x < S; x++) {
                float g = got[((size_t)c * S + y) * S + x];
                float w = alt[((size_t)c * S + y) * S + (S - 1 - x)];
                md = fmax(md, fabs(g - w));
                same += g == w;
            }
    CHECK(md <= 2.0 / 127.5 + 1e-6 && same > n * 9 / 10,
          "flip not a mirror: max diff %g, %zu of %zu equal", md, same, n);

    ug_augment bad = {0, 31, 0};
    CHECK(ug_transform(got, &im, S, &bad, rel, &err) == -1,
          "crop offset 31 accepted");

    /* The draws cover 0..30 and flip about half the time. */
    ug_rng rng;
    ug_rng_seed(&rng, 1, 2);
    int flips = 0, lo = 99, hi = -1;
    for (int i = 0; i < 4000; i++) {
        ug_augment d;
        ug_augment_draw(&d, &rng, rel->margin, rel->margin);
        flips += d.flip;
        lo = d.top < lo ? d.top : lo;
        lo = d.left < lo ? d.left : lo;
        hi = d.top > hi ? d.top : hi;
        hi = d.left > hi ? d.left : hi;
    }
    CHECK(flips > 1800 && flips < 2200 && lo == 0 && hi == 30, "draws: %d flips, %d..%d",
          flips, lo, hi);

    /* The sample PNG is RGBA or RGB; either way it loads. */
    CHECK(ug_load_test_image(got, SAMPLES "/trainB/0006.png", S, rel, &err) == 0,
          "%s", err.msg);
    CHECK(ug_load_test_image(got, SAMPLES "/nope.png", S, rel, &err) == -1 &&
              strstr(err.msg, "nope.png"),
          "missing test image: %s", err.msg);
    ug_image_free(&im);
    free(got);
    free(want);
    free(alt);
}

/* The crop at (top, left) of in resized to w x h, as floats: what every
 * pipeline's transform must give. */
static void resized_crop(float *out, const ug_image *in, int w, int h, ug_resize_filter f,
                         int img, int top, int left)
{
    ug_image r = {0};
    ug_error err = {{0}};
    CHECK(ug_image_resize(&r, in, w, h, f, &err) == 0, "%s", err.msg);
    float *all = malloc((size_t)3 * w * h * sizeof(float));
    if (r.rgb && all) {
        ug_image_to_tensor(all, &r);
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < img; y++)
                for (int x = 0; x < img; x++)
                    out[((size_t)c * img + y) * img + x] =
                        all[((size_t)c * h + y + top) * w + x + left];
    }
    free(all);
    ug_image_free(&r);
}

/* UNIT's training resize keeps the aspect (the shorter side to the crop,
 * torchvision truncating the longer one); a test transform is a resize to
 * img + margin and the centre crop (offsets rounded half to even); DRIT's
 * resizes are to a fixed side at any crop size. */
static void test_pipelines(void)
{
    ug_error err = {{0}};
    enum { S = 32 };
    float got[3 * S * S], want[3 * S * S];
    const ug_pipeline aspect = {.filter = UG_RESIZE_BILINEAR, .keep_aspect = 1};
    const int dims[2][2] = {{50, 80}, {80, 50}}; /* tall, wide */
    for (int t = 0; t < 2; t++) {
        ug_image im = {dims[t][0], dims[t][1], malloc((size_t)dims[t][0] * dims[t][1] * 3)};
        for (int i = 0; i < im.w * im.h * 3; i++)
            im.rgb[i] = (unsigned char)((i * 37 + i / 7) & 255);
        int w, h;
        ug_train_resize(&aspect, S, im.w, im.h, &w, &h);
        CHECK(t == 0 ? (w == S && h == 51) : (w == 51 && h == S), "aspect resize %dx%d", w, h);
        ug_augment a = {0, t == 0 ? 19 : 0, t == 0 ? 0 : 19};
        CHECK(ug_transform(got, &im, S, &a, &aspect, &err) == 0, "%s", err.msg);
        resized_crop(want, &im, w, h, UG_RESIZE_BILINEAR, S, a.top, a.left);
        CHECK(memcmp(got, want, sizeof got) == 0, "aspect-kept crop differs (%s)",
              t ? "wide" : "tall");
        ug_augment past = {0, t == 0 ? 20 : 1, t == 0 ? 1 : 20};
        CHECK(ug_transform(got, &im, S, &past, &aspect, &err) == -1 && strstr(err.msg, "outside"),
              "a crop past the resized image accepted");
        /* The test transform stays the square resize. */
        CHECK(ug_transform(got, &im, S, NULL, &aspect, &err) == 0, "%s", err.msg);
        resized_crop(want, &im, S, S, UG_RESIZE_BILINEAR, S, 0, 0);
        CHECK(memcmp(got, want, sizeof got) == 0, "aspect pipeline's test transform");
        const int margins[3][2] = {{40, 20}, {41, 20}, {43, 22}};
        for (int m = 0; m < 3; m++) {
            const ug_pipeline centre = {.filter = UG_RESIZE_BICUBIC, .margin = 40,
                                        .test_margin = margins[m][0]};
            int side = S + margins[m][0], off = margins[m][1];
            CHECK(ug_transform(got, &im, S, NULL, &centre, &err) == 0, "%s", err.msg);
            resized_crop(want, &im, side, side, UG_RESIZE_BICUBIC, S, off, off);
            CHECK(memcmp(got, want, sizeof got) == 0, "centre crop of %d at %d differs", side,
                  off);
        }
        const ug_pipeline fixed = {.filter = UG_RESIZE_BICUBIC, .margin = 40, .side = 75};
        int w2, h2;
        ug_train_resize(&fixed, S, im.w, im.h, &w2, &h2);
        CHECK(w2 == 75 && h2 == 75, "fixed-side training resize %dx%d", w2, h2);
        ug_augment corner = {0, 43, 43};
        CHECK(ug_transform(got, &im, S, &corner, &fixed, &err) == 0, "%s", err.msg);
        resized_crop(want, &im, 75, 75, UG_RESIZE_BICUBIC, S, 43, 43);
        CHECK(memcmp(got, want, sizeof got) == 0, "fixed-side training crop differs");
        CHECK(ug_transform(got, &im, S, NULL, &fixed, &err) == 0, "%s", err.msg);
        resized_crop(want, &im, 75, 75, UG_RESIZE_BICUBIC, S, 22, 22); /* 21.5 to even */
        CHECK(memcmp(got, want, sizeof got) == 0, "fixed-side centre crop differs");
        const ug_pipeline small = {.filter = UG_RESIZE_BICUBIC, .side = S - 1};
        CHECK(ug_transform(got, &im, S, NULL, &small, &err) == -1 && strstr(err.msg, "resized to"),
              "a crop larger than the fixed side accepted");
        free(im.rgb);
    }
}

/* ---- loader -------------------------------------------------------------- */

/* Colour-coded datasets: file i of domain A is red 10 + 30 i, of B green. */
#define NA 7
#define NB 5

static void make_coded(const char *root, int bad_a, int all_bad_b)
{
    char rel[256];
    make_dir(root);
    snprintf(rel, sizeof rel, "%s/A", root);
    make_dir(rel);
    snprintf(rel, sizeof rel, "%s/B", root);
    make_dir(rel);
    for (int i = 0; i < NA; i++) {
        snprintf(rel, sizeof rel, "%s/A/%02d.png", root, i);
        write_solid(rel, (unsigned char)(10 + 30 * i), 0, 0);
    }
    if (bad_a) {
        snprintf(rel, sizeof rel, "%s/A/03bad.png", root);
        write_tmp(rel, "this is not an image at all");
    }
    for (int i = 0; i < NB; i++) {
        snprintf(rel, sizeof rel, "%s/B/%02d.png", root, i);
        if (all_bad_b)
            write_tmp(rel, "\x89PNG\r\n\x1a\n truncated");
        else
            write_solid(rel, 0, (unsigned char)(10 + 30 * i), 0);
    }
}

typedef struct warnings {
    int count;
    char last[1024];
} warnings;

static void on_warn(void *ctx, const char *msg)
{
    warnings *w = ctx;
    w->count++;
    snprintf(w->last, sizeof w->last, "%s", msg);
}

typedef struct run {
    int n_a, n_b, s_a, s_b;   /* file counts and samples per domain per call */
    int *ia, *ib;             /* decoded file indices, -1 if undecodable */
    float *fa, *fb;           /* raw floats */
} run;

static int decode(float v, int n)
{
    int level = (int)lrintf((v + 1.0f) * 127.5f);
    if ((level - 10) % 30 != 0 || level < 10 || (level - 10) / 30 >= n)
        return -1;
    return (level - 10) / 30;
}

/* Runs `steps` steps from `first` with a fresh loader; the red (A) and green
 * (B) channel of pixel 0 name the file. */
static int run_loader(const ug_pipeline *p, const char *root, uint64_t seed, int batch, int img,
                      int augment, long first, int steps, int *ia, int *ib, float *fa, float *fb,
                      warnings *w, size_t *skipped, ug_error *err)
{
    char da[512], db[512];
    snprintf(da, sizeof da, "%s/%s/A", tmpdir, root);
    snprintf(db, sizeof db, "%s/%s/B", tmpdir, root);
    ug_filelist la, lb;
    if (ug_dataset_list(&la, da, err) != 0)
        return -1;
    if (ug_dataset_list(&lb, db, err) != 0) {
        ug_filelist_free(&la);
        return -1;
    }
    ug_loader_config c = {&la, &lb, batch, img, augment, seed, w ? on_warn : NULL, w, 0, 0, p};
    ug_loader *l;
    int rc = ug_loader_new(&l, &c, err);
    ug_filelist_free(&la); /* the loader keeps its own copies */
    ug_filelist_free(&lb);
    if (rc != 0)
        return -1;
    if (first != 0)
        rc = ug_loader_start(l, first, err);
    size_t plane = (size_t)img * img, per = 3 * plane * (size_t)batch;
    float *A = malloc(per * sizeof(float)), *B = malloc(per * sizeof(float));
    for (int s = 0; rc == 0 && s < steps; s++) {
        if (ug_loader_step(l) != first + s) {
            rc = ug_fail(err, "step %ld, want %ld", ug_loader_step(l), first + s);
            break;
        }
        rc = ug_loader_next(l, A, B, err);
        for (int i = 0; rc == 0 && i < batch; i++) {
            if (ia)
                ia[s * batch + i] = decode(A[i * 3 * plane], NA);
            if (ib)
                ib[s * batch + i] = decode(B[i * 3 * plane + plane], NB);
        }
        if (rc == 0 && fa)
            memcpy(fa + (size_t)s * per, A, per * sizeof(float));
        if (rc == 0 && fb)
            memcpy(fb + (size_t)s * per, B, per * sizeof(float));
    }
    if (skipped)
        *skipped = ug_loader_skipped(l);
    ug_loader_free(l);
    free(A);
    free(B);
    return rc;
}

static int is_permutation(const int *v, int n)
{
    int seen[16] = {0};
    for (int i = 0; i < n; i++) {
        if (v[i] < 0 || v[i] >= n || seen[v[i]]++)
            return 0;
    }
    return 1;
}

static void test_loader_order(void)
{
    make_coded("coded", 0, 0);
    enum { BATCH = 3, STEPS = 24, SAMPLES_N = BATCH * STEPS };
    int ia[SAMPLES_N], ib[SAMPLES_N], ja[SAMPLES_N], jb[SAMPLES_N];
    ug_error err = {{0}};
    int rc = run_loader(&ug_pipeline_release, "coded", 42, BATCH, 4, 0, 0, STEPS, ia, ib, NULL,
                        NULL,
                    NULL, NULL, &err);
    CHECK(rc == 0, "loader: %s", err.msg);
    if (rc != 0)
        return;

    /* Every epoch of each domain is a permutation of its files, and the
     * order changes from epoch to epoch. */
    int differ_a = 0, differ_b = 0;
    for (int e = 0; (e + 1) * NA <= SAMPLES_N; e++) {
        CHECK(is_permutation(ia + e * NA, NA), "A epoch %d not a permutation", e);
        if (e > 0)
            differ_a += memcmp(ia + e * NA, ia, NA * sizeof(int)) != 0;
    }
    for (int e = 0; (e + 1) * NB <= SAMPLES_N; e++) {
        CHECK(is_permutation(ib + e * NB, NB), "B epoch %d not a permutation", e);
        if (e > 0)
            differ_b += memcmp(ib + e * NB, ib, NB * sizeof(int)) != 0;
    }
    CHECK(differ_a >= 5 && differ_b >= 8, "too few reshuffles: A %d, B %d", differ_a, differ_b);
    int sorted = 1;
    for (int i = 0; i < NA; i++)
        sorted &= ia[i] == i;
    CHECK(!sorted, "epoch 0 of A is not shuffled");

    /* Same seed, same order; another seed, another order. */
    rc = run_loader(&ug_pipeline_release, "coded", 42, BATCH, 4, 0, 0, STEPS, ja, jb, NULL, NULL,
                    NULL, NULL, &err);
    CHECK(rc == 0 && memcmp(ia, ja, sizeof ia) == 0 && memcmp(ib, jb, sizeof ib) == 0,
          "same seed, different order (%s)", err.msg);
    rc = run_loader(&ug_pipeline_release, "coded", 43, BATCH, 4, 0, 0, STEPS, ja, jb, NULL, NULL,
                    NULL, NULL, &err);
    CHECK(rc == 0 && memcmp(ia, ja, sizeof ia) != 0 && memcmp(ib, jb, sizeof ib) != 0,
          "seeds 42 and 43 give the same order");

    /* Resuming at step s (here mid-epoch for both domains) continues the
     * uninterrupted run. */
    for (long s = 1; s < STEPS; s += 5) {
        rc = run_loader(&ug_pipeline_release, "coded", 42, BATCH, 4, 0, s, (int)(STEPS - s), ja,
                        jb, NULL, NULL, NULL,
                        NULL, &err);
        CHECK(rc == 0 &&
                  memcmp(ia + s * BATCH, ja, (size_t)(STEPS - s) * BATCH * sizeof(int)) == 0 &&
                  memcmp(ib + s * BATCH, jb, (size_t)(STEPS - s) * BATCH * sizeof(int)) == 0,
              "resume at step %ld differs (%s)", s, err.msg);
    }
}

/* Domain B walked as a permutation of 7 indices over its 5 files. */
static void wide_b(int d, const size_t n[2], ug_sampling *w)
{
    *w = (ug_sampling){d ? 7 : n[0], d ? 7 : n[0], 0};
}

/* The families' official data orders: CycleGAN's (A shuffled over max(|A|,
 * |B|) items, B uniform), UNIT's (two shuffled loaders zipped, an epoch of
 * min(|A|, |B|)), and a permutation longer than its domain (indices modulo
 * the files); each resumes where it left off. */
static void test_loader_walks(void)
{
    enum { BATCH = 2, STEPS = 35, N = BATCH * STEPS };
    int ia[N], ib[N], ja[N], jb[N];
    ug_error err = {{0}};
    int rc = run_loader(&cg_pipeline, "coded", 5, BATCH, 4, 0, 0, STEPS, ia, ib, NULL, NULL,
                        NULL, NULL, &err);
    CHECK(rc == 0, "cyclegan walk: %s", err.msg);
    int repeats = 0, seen[NB] = {0};
    for (int e = 0; rc == 0 && (e + 1) * NA <= N; e++)
        CHECK(is_permutation(ia + e * NA, NA), "cyclegan A epoch %d not a permutation", e);
    for (int e = 0; rc == 0 && (e + 1) * NB <= N; e++) {
        repeats += !is_permutation(ib + e * NB, NB);
        for (int i = 0; i < NB; i++)
            seen[ib[e * NB + i] < 0 ? 0 : ib[e * NB + i]]++;
    }
    CHECK(repeats >= 10, "cyclegan B looks shuffled, not drawn uniformly (%d of 14 blocks "
          "repeat a file)", repeats);
    for (int i = 0; i < NB; i++)
        CHECK(seen[i] >= 5, "cyclegan B file %d drawn %d times in %d", i, seen[i], N);
    rc = run_loader(&cg_pipeline, "coded", 5, BATCH, 4, 0, 11, STEPS - 11, ja, jb, NULL, NULL,
                    NULL, NULL, &err);
    CHECK(rc == 0 && memcmp(ia + 22, ja, (N - 22) * sizeof(int)) == 0 &&
              memcmp(ib + 22, jb, (N - 22) * sizeof(int)) == 0,
          "cyclegan walk resumed at step 11 differs (%s)", err.msg);

    rc = run_loader(&un_pipeline, "coded", 5, BATCH, 4, 0, 0, STEPS, ia, ib, NULL, NULL, NULL,
                    NULL, &err);
    CHECK(rc == 0, "unit walk: %s", err.msg);
    int partial = 0;
    for (int e = 0; rc == 0 && (e + 1) * NB <= N; e++) {
        int count[NA] = {0}, distinct = 1;
        for (int i = 0; i < NB; i++) {
            int f = ia[e * NB + i];
            distinct &= f >= 0 && count[f]++ == 0;
        }
        CHECK(distinct, "unit A epoch %d repeats a file", e);
        CHECK(is_permutation(ib + e * NB, NB), "unit B epoch %d not a permutation", e);
        partial += e > 0 && memcmp(ia + e * NB, ia, NB * sizeof(int)) != 0;
    }
    CHECK(partial >= 10, "unit A epochs do not change (%d)", partial);

    const ug_pipeline wide = {.filter = UG_RESIZE_BILINEAR, .margin = 30, .sampling = wide_b};
    rc = run_loader(&wide, "coded", 5, BATCH, 4, 0, 0, STEPS, NULL, ib, NULL, NULL, NULL, NULL,
                    &err);
    CHECK(rc == 0, "wide walk: %s", err.msg);
    for (int e = 0; rc == 0 && (e + 1) * 7 <= N; e++) {
        int count[NB] = {0};
        for (int i = 0; i < 7; i++)
            count[ib[e * 7 + i] < 0 ? 0 : ib[e * 7 + i]]++;
        CHECK(count[0] == 2 && count[1] == 2 && count[2] == 1 && count[3] == 1 && count[4] == 1,
              "a permutation of 7 over 5 files, epoch %d: %d %d %d %d %d", e, count[0],
              count[1], count[2], count[3], count[4]);
    }
}

/* Restarting one loader, and the real training transform. */
static void test_loader_augment(void)
{
    ug_error err = {{0}};
    char root[512];
    tmp_path(root, sizeof root, "shapes_aug");
    if (ug_make_shapes(root, 6, 40, 9, &err) != 0) {
        CHECK(0, "shapes: %s", err.msg);
        return;
    }
    char da[600], db[600];
    snprintf(da, sizeof da, "%s/trainA", root);
    snprintf(db, sizeof db, "%s/trainB", root);
    ug_filelist la, lb;
    if (ug_dataset_list(&la, da, &err) != 0 || ug_dataset_list(&lb, db, &err) != 0) {
        CHECK(0, "%s", err.msg);
        return;
    }
    enum { BATCH = 2, IMG = 32, STEPS = 10 };
    size_t per = (size_t)BATCH * 3 * IMG * IMG;
    float *ref_a = malloc(STEPS * per * sizeof(float)),
                          *ref_b = malloc(STEPS * per * sizeof(float));
    float *A = malloc(per * sizeof(float)), *B = malloc(per * sizeof(float));
    ug_loader_config c = {&la, &lb, BATCH, IMG, 1, 77, NULL, NULL, 0, 0, &ug_pipeline_release};
    ug_loader *l = NULL;
    int rc = ug_loader_new(&l, &c, &err);
    CHECK(rc == 0, "%s", err.msg);
    for (int s = 0; rc == 0 && s < STEPS; s++) {
        rc = ug_loader_next(l, ref_a + s * per, ref_b + s * per, &err);
        CHECK(rc == 0, "next: %s", err.msg);
    }
    /* The same loader, restarted back at step 3 and then at 7. */
    for (long start = 3; rc == 0 && start < STEPS; start += 4) {
        rc = ug_loader_start(l, start, &err);
        for (long s = start; rc == 0 && s < STEPS; s++) {
            rc = ug_loader_next(l, A, B, &err);
            CHECK(rc == 0 && memcmp(A, ref_a + s * per, per * sizeof(float)) == 0 &&
                      memcmp(B, ref_b + s * per, per * sizeof(float)) == 0,
                  "restart at %ld: step %ld differs", start, s);
        }
    }
    ug_loader_free(l);

    /* The same order without augmentation gives other pixels at every step
     * (a crop of the 62-pixel resize, not the 32-pixel resize). */
    c.augment = 0;
    rc = ug_loader_new(&l, &c, &err);
    int differ = 0;
    for (int s = 0; rc == 0 && s < STEPS; s++) {
        rc = ug_loader_next(l, A, B, &err);
        differ += rc == 0 && memcmp(A, ref_a + s * per, per * sizeof(float)) != 0;
    }
    CHECK(rc == 0 && differ == STEPS, "augment=1 equals augment=0 in %d steps", STEPS - differ);
    ug_loader_free(l);

    /* Another seed changes the augmented stream. */
    c.augment = 1;
    c.seed = 78;
    rc = ug_loader_new(&l, &c, &err);
    rc = rc == 0 ? ug_loader_next(l, A, B, &err) : rc;
    CHECK(rc == 0 && memcmp(A, ref_a, per * sizeof(float)) != 0, "seed 78 = seed 77");
    ug_loader_free(l);

    /* Two ranks of batch 1 load the halves of this batch of 2, pixel for
     * pixel (order across epochs and augmentation); a share that does not
     * fit the global batch is refused. */
    ug_loader_config half = c;
    half.seed = 77, half.batch = BATCH / 2, half.global_batch = BATCH;
    for (int r = 0; r < 2; r++) {
        half.offset = r * half.batch;
        rc = ug_loader_new(&l, &half, &err);
        for (int s = 0; rc == 0 && s < STEPS; s++) {
            rc = ug_loader_next(l, A, B, &err);
            size_t at = s * per + r * per / 2, bytes = per / 2 * sizeof(float);
            CHECK(rc == 0 && memcmp(A, ref_a + at, bytes) == 0 &&
                      memcmp(B, ref_b + at, bytes) == 0,
                  "rank %d of 2, step %d: not its half of the batch", r, s);
        }
        ug_loader_free(l);
    }
    half.offset = 2;
    CHECK(ug_loader_new(&l, &half, &err) == -1 && l == NULL, "a share past the batch accepted");

    /* Freeing while the thread waits on a full queue does not hang. */
    rc = ug_loader_new(&l, &c, &err);
    rc = rc == 0 ? ug_loader_start(l, 0, &err) : rc;
    nanosleep(&(struct timespec){0, 20000000}, NULL);
    ug_loader_free(l);
    CHECK(rc == 0, "%s", err.msg);
    ug_loader_free(NULL);

    c.batch = 0;
    CHECK(ug_loader_new(&l, &c, &err) == -1 && l == NULL, "batch 0 accepted");
    ug_filelist_free(&la);
    ug_filelist_free(&lb);
    free(ref_a);
    free(ref_b);
    free(A);
    free(B);
}

static void test_loader_corrupt(void)
{
    make_coded("corrupt", 1, 0);
    enum { BATCH = 2, STEPS = 16, N = BATCH * STEPS };
    int ia[N], ib[N], ja[N], jb[N];
    warnings w = {0};
    size_t skipped = 0;
    ug_error err = {{0}};
    int rc = run_loader(&ug_pipeline_release, "corrupt", 5, BATCH, 4, 1, 0, STEPS, ia, ib, NULL,
                        NULL, &w, &skipped,
                        &err);
    CHECK(rc == 0, "corrupt run: %s", err.msg);
    CHECK(w.count == 1 && strstr(w.last, "03bad.png") != NULL, "%d warnings, last: %s", w.count,
          w.last);
    CHECK(skipped == 1, "skipped %zu", skipped);
    int ok = 1;
    for (int i = 0; i < N; i++)
        ok &= ia[i] >= 0 && ib[i] >= 0;
    CHECK(ok, "an undecodable sample came through");

    /* Replacement is deterministic, also when resuming past the first skip. */
    warnings w2 = {0};
    rc = run_loader(&ug_pipeline_release, "corrupt", 5, BATCH, 4, 1, 0, STEPS, ja, jb, NULL, NULL,
                    &w2, NULL, &err);
    CHECK(rc == 0 && memcmp(ia, ja, sizeof ia) == 0 && memcmp(ib, jb, sizeof ib) == 0,
          "corrupt: same seed, different order");
    for (long s = 3; s < STEPS; s += 6) {
        rc = run_loader(&ug_pipeline_release, "corrupt", 5, BATCH, 4, 1, s, (int)(STEPS - s), ja,
                        jb, NULL, NULL, NULL,
                        NULL, &err);
        CHECK(rc == 0 &&
                  memcmp(ia + s * BATCH, ja, (size_t)(STEPS - s) * BATCH * sizeof(int)) == 0 &&
                  memcmp(ib + s * BATCH, jb, (size_t)(STEPS - s) * BATCH * sizeof(int)) == 0,
              "corrupt: resume at %ld differs", s);
    }

    /* Every file of B broken: an error naming the folder, on every call. */
    make_coded("allbad", 0, 1);
    w = (warnings){0};
    rc = run_loader(&ug_pipeline_release, "allbad", 5, BATCH, 4, 1, 0, 2, NULL, NULL, NULL, NULL,
                    &w, &skipped, &err);
    char want[600];
    snprintf(want, sizeof want, "%s/allbad/B: no readable images", tmpdir);
    CHECK(rc == -1 && strncmp(err.msg, want, strlen(want)) == 0, "all corrupt: %s", err.msg);
    CHECK(w.count == NB && skipped == NB, "all corrupt: %d warnings, %zu skipped", w.count,
          skipped);
}

/* ---- shapes ----------------------------------------------------------- */

static int px_is(const ug_image *im, int x, int y, const unsigned char c[3])
{
    const unsigned char *p = im->rgb + ((size_t)y * im->w + x) * 3;
    return p[0] == c[0] && p[1] == c[1] && p[2] == c[2];
}

static void test_shapes(void)
{
    enum { N = 12, S = 32 };
    char root[512];
    tmp_path(root, sizeof root, "gen/shapes");
    ug_error err = {{0}};
    CHECK(ug_make_shapes(root, N, S, 3, &err) == 0, "shapes: %s", err.msg);
    CHECK(ug_shapes_test_count(N) == 5 && ug_shapes_test_count(100) == 20, "test counts");
    static const char *const sub[4] = {"trainA", "trainB", "testA", "testB"};
    int counts[4] = {N, N, 5, 5};
    for (int f = 0; f < 4; f++) {
        char dir[600];
        snprintf(dir, sizeof dir, "%s/%s", root, sub[f]);
        ug_filelist l;
        int rc = ug_dataset_list(&l, dir, &err);
        CHECK(rc == 0 && l.n == (size_t)counts[f], "%s: %zu files (%s)", sub[f], l.n, err.msg);
        for (size_t i = 0; rc == 0 && i < l.n; i++) {
            char want[700];
            snprintf(want, sizeof want, "%s/%04zu.png", dir, i);
            CHECK(strcmp(l.paths[i], want) == 0, "name %s", l.paths[i]);
            ug_shape s;
            ug_shape_params(&s, 3, f / 2, (int)i, S);
            int black = 1, full = 0;
            for (int c = 0; c < 3; c++) {
                black &= s.bg[c] == 0;
                full |= s.fg[c] == 255;
            }
            CHECK(black && full, "background not black or shape colour not at full value");
            CHECK(s.side >= S * 3 / 10 && s.side <= S * 7 / 10 && s.x0 >= 1 && s.y0 >= 1 &&
                      s.x0 + s.side <= S - 1 && s.y0 + s.side <= S - 1,
                  "shape %d,%d side %d", s.x0, s.y0, s.side);
            ug_image im;
            if (ug_image_load(&im, l.paths[i], &err) != 0) {
                CHECK(0, "%s", err.msg);
                continue;
            }
            CHECK(im.w == S && im.h == S, "%s is %dx%d", l.paths[i], im.w, im.h);
            int x1 = s.x0 + s.side - 1, y1 = s.y0 + s.side - 1, mid = s.side / 2;
            int square = f % 2;
            const unsigned char *corner = square ? s.fg : s.bg;
            CHECK(px_is(&im, s.x0, s.y0, corner) && px_is(&im, x1, s.y0, corner) &&
                      px_is(&im, s.x0, y1, corner) && px_is(&im, x1, y1, corner),
                  "%s: bounding-box corners", l.paths[i]);
            CHECK(px_is(&im, s.x0 + mid, s.y0 + mid, s.fg) && px_is(&im, s.x0 + mid, s.y0, s.fg) &&
                      px_is(&im, s.x0, s.y0 + mid, s.fg),
                  "%s: centre and edge midpoints", l.paths[i]);
            CHECK(px_is(&im, s.x0 - 1, s.y0 + mid, s.bg) && px_is(&im, x1 + 1, s.y0 + mid, s.bg) &&
                      px_is(&im, 0, 0, s.bg) && px_is(&im, S - 1, S - 1, s.bg),
                  "%s: background outside the box", l.paths[i]);
            ug_image_free(&im);
        }
        ug_filelist_free(&l);
    }

    /* Same seed, same bytes; the A and B images of an index share colours. */
    char again[512];
    tmp_path(again, sizeof again, "gen/again");
    CHECK(ug_make_shapes(again, N, S, 3, &err) == 0, "%s", err.msg);
    ug_image a, b;
    char pa[700], pb[700];
    snprintf(pa, sizeof pa, "%s/trainA/0007.png", root);
    snprintf(pb, sizeof pb, "%s/trainA/0007.png", again);
    if (ug_image_load(&a, pa, &err) == 0 && ug_image_load(&b, pb, &err) == 0) {
        CHECK(memcmp(a.rgb, b.rgb, (size_t)S * S * 3) == 0, "shapes not deterministic");
        ug_image_free(&a);
        ug_image_free(&b);
    } else {
        CHECK(0, "%s", err.msg);
    }
    ug_shape s0, s1;
    ug_shape_params(&s0, 3, 0, 0, S);
    ug_shape_params(&s1, 3, 0, 1, S);
    CHECK(memcmp(&s0, &s1, sizeof s0) != 0, "images 0 and 1 identical");
    ug_shape_params(&s1, 4, 0, 0, S);
    CHECK(memcmp(&s0, &s1, sizeof s0) != 0, "seeds 3 and 4 identical");

    CHECK(ug_make_shapes(again, 0, S, 3, &err) == -1, "n = 0 accepted");
    CHECK(ug_make_shapes(again, 1, 4, 3, &err) == -1, "size 4 accepted");
    char blocked[600];
    snprintf(blocked, sizeof blocked, "%s/trainA/0000.png/x", root);
    CHECK(ug_make_shapes(blocked, 1, S, 3, &err) == -1 && strstr(err.msg, "cannot create"),
          "a file in the way: %s", err.msg);
}

int main(void)
{
    if (!check_samples("test_data"))
        return 1;
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 2;
    }
    make_dir("gen");
    test_listing();
    test_resolve();
    test_transforms();
    test_pipelines();
    test_loader_order();
    test_loader_walks();
    test_loader_augment();
    test_loader_corrupt();
    test_shapes();
    remove_tree(tmpdir);
    return check_summary();
}
