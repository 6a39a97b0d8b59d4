/* ugatit eval: the paper's measurement of a trained model. Both test sets
 * are translated (A2B of testA, B2A of testB, through ug_model_translate,
 * each output rounded to 8 bits as `ugatit translate` writes it) and KID is
 * computed of A2B against the real testB and of B2A against testA: one row
 * of the paper's tables. */
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/hint.h"
#include "cli/kid.h"
#include "core/error.h"
#include "model/model.h"
#include "data/dataset.h"
#include "eval/preprocess.h"
#include "io/image.h"

typedef struct eval {
    ug_model *m;
    ug_inception *net;
    int batch;
    const char *cache; /* --features-cache: the real images' features */
    size_t cached;
    ug_error *err;
} eval;

/* Features of the translations of the images in paths[0..n). */
static int fake_features(eval *e, ug_direction dir, char **paths, size_t n, float *feat)
{
    const int S = ug_model_config(e->m)->img_size, P = UG_INCEPTION_SIZE;
    const size_t in = (size_t)3 * S * S, per = (size_t)3 * P * P;
    float *x = malloc((size_t)e->batch * in * sizeof *x);
    float *y = malloc((size_t)e->batch * in * sizeof *y);
    float *z = malloc((size_t)e->batch * per * sizeof *z);
    int rc = 0;
    if (!x || !y || !z)
        rc = ug_fail(e->err, "out of memory for a batch of %d images", e->batch);
    for (size_t i = 0; i < n && rc == 0; i += (size_t)e->batch) {
        int k = n - i < (size_t)e->batch ? (int)(n - i) : e->batch;
        for (int j = 0; j < k && rc == 0; j++)
            rc = ug_load_test_image(x + j * in, paths[i + j], S, ug_model_resize(e->m), e->err);
        if (rc == 0)
            rc = ug_model_translate(e->m, dir, x, k, y, NULL, NULL, e->err);
        for (int j = 0; j < k && rc == 0; j++) {
            ug_image img = {0};
            if (ug_tensor_to_image(&img, y + j * in, S, S) < 0)
                rc = ug_fail(e->err, "out of memory");
            else
                rc = ug_inception_prepare(z + j * per, &img, e->err);
            ug_image_free(&img);
        }
        if (rc == 0)
            rc = ug_inception_features(e->net, feat + i * UG_INCEPTION_DIM, z, k, e->err);
    }
    free(x);
    free(y);
    free(z);
    return rc;
}

/* KID of dir's translations of root/src against the real root/dst. */
static int direction(eval *e, const char *root, const char *src, const char *dst,
                     ug_direction dir, const ug_kid_opts *ko, ug_kid_result *r, size_t *nr,
                     size_t *nf)
{
    char path[4096];
    ug_filelist a = {0}, b = {0};
    float *fa = NULL, *fb = NULL;
    int rc = -1;
    if (ug_dataset_subdir(path, sizeof path, root, src, e->err) < 0 ||
        ug_dataset_list(&a, path, e->err) < 0 ||
        ug_dataset_subdir(path, sizeof path, root, dst, e->err) < 0 ||
        ug_dataset_list(&b, path, e->err) < 0)
        goto done;
    *nf = a.n, *nr = b.n;
    if (a.n < 2 || b.n < 2) {
        ug_fail(e->err, "%s: KID needs at least 2 images in each set (found %zu)",
                a.n < 2 ? a.dir : b.dir, a.n < 2 ? a.n : b.n);
        goto done;
    }
    fa = malloc(a.n * UG_INCEPTION_DIM * sizeof *fa);
    fb = malloc(b.n * UG_INCEPTION_DIM * sizeof *fb);
    if (!fa || !fb) {
        ug_fail(e->err, "out of memory for the features of %zu images", a.n + b.n);
        goto done;
    }
    size_t cached;
    if (fake_features(e, dir, a.paths, a.n, fa) < 0 ||
        ug_inception_files(e->net, fb, (const char *const *)b.paths, b.n, e->batch, e->cache,
                           &cached, e->err) < 0 ||
        ug_kid(r, fb, b.n, fa, a.n, UG_INCEPTION_DIM, ko, e->err) < 0)
        goto done;
    e->cached += cached;
    rc = 0;
done:
    free(fa);
    free(fb);
    ug_filelist_free(&a);
    ug_filelist_free(&b);
    return rc;
}

/* A path as a JSON string: quote, backslash and control characters escaped. */
static void json_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        if ((unsigned char)*s < 0x20)
            printf("\\u%04x", (unsigned char)*s);
        else if (*s == '"' || *s == '\\')
            printf("\\%c", *s);
        else
            putchar(*s);
    }
    putchar('"');
}

int cmd_eval(int argc, char **argv)
{
    cli_opt o[] = {
        {"model", "CKPT", "checkpoint (safetensors or the release's .pt)", NULL, 1},
        {"dataset", "NAME|DIR", "dataset/NAME (uses testA and testB), or a folder", NULL, 1},
        UG_HINT_OPTS,
        KID_OPTS("blocks"),
    };
    int n = sizeof o / sizeof o[0];
    int rc = cli_parse(argc, argv, o, n,
                       "usage: ugatit eval --model CKPT --dataset NAME|DIR [--inception FILE] "
                       "[--protocol blocks|subsets] [--json] ...\n\n"
                       "Translates testA to B and testB to A and prints KID x 100 of A2B "
                       "against testB and of\nB2A against testA, as a row of the paper's "
                       "tables (blocks of 10 by default, as the\nauthors measured; see "
                       "ugatit kid).");
    if (rc)
        return rc < 0 ? 2 : 0;
    ug_kid_opts ko;
    ug_config hint;
    int batch, json = cli_find(o, n, "json")->value != NULL;
    if (kid_options(o, n, "eval", &ko, &batch) < 0 || cli_hint(o, n, "eval", &hint) < 0)
        return 2;
    const char *model = cli_find(o, n, "model")->value;
    ug_error err = {{0}};
    eval e = {NULL, NULL, batch, cli_find(o, n, "features-cache")->value, 0, &err};
    char root[4096];
    ug_kid_result r[2];
    size_t nr[2], nf[2];
    int status = 1;
    if (ug_dataset_resolve(root, sizeof root, cli_find(o, n, "dataset")->value, &err) < 0 ||
        ug_model_load(&e.m, model, &hint, 0, &err) < 0)
        goto done;
    if (cli_hint_check(o, n, "eval", e.m, model) < 0) {
        status = 2;
        goto done;
    }
    if (kid_inception(o, n, "eval", &e.net, &err) < 0)
        goto done;
    double t0 = kid_now();
    if (direction(&e, root, "testA", "testB", UG_A2B, &ko, &r[0], &nr[0], &nf[0]) < 0 ||
        direction(&e, root, "testB", "testA", UG_B2A, &ko, &r[1], &nr[1], &nf[1]) < 0)
        goto done;
    fprintf(stderr, "ugatit eval: %zu translations and %zu real images (%zu from the features "
                    "cache) measured in %.1f s\n",
            nf[0] + nf[1], nr[0] + nr[1], e.cached, kid_now() - t0);
    if (json) {
        printf("{\"model\": ");
        json_string(model);
        for (int d = 0; d < 2; d++) {
            printf(", \"%s\": {", d ? "b2a" : "a2b");
            kid_json(stdout, &r[d], &ko, nr[d], nf[d]);
            printf("}");
        }
        printf(", \"inception\": {\"variant\": \"%s\", \"sha256\": \"%s\"}}\n",
               kid_variant(e.net), ug_inception_sha256(e.net));
    } else {
        kid_describe(stdout, &ko, e.net);
        for (int d = 0; d < 2; d++) {
            printf("%s: ", d ? "B2A" : "A2B");
            kid_sizes(stdout, &r[d], &ko, nr[d], nf[d]);
        }
        printf("\n| model | A2B KID x 100 | B2A KID x 100 |\n|---|---|---|\n| %s | ", model);
        kid_print_value(stdout, &r[0], 2);
        printf(" | ");
        kid_print_value(stdout, &r[1], 2);
        printf(" |\n");
        if (r[0].mean < 0 || r[1].mean < 0)
            printf("note: a negative estimate means the two sets are indistinguishable at this "
                   "sample size\n");
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        ug_fail(&err, "cannot write the output");
        goto done;
    }
    status = 0;
done:
    if (status == 1)
        fprintf(stderr, "ugatit eval: %s\n", err.msg);
    ug_inception_free(e.net);
    ug_model_free(e.m);
    return status;
}
