/* ugatit kid: Kernel Inception Distance between two folders of images,
 * with the Inception-v3 of src/eval and the estimator of src/eval/kid.h,
 * printed x 100 as the paper's tables give it, with the protocol that made
 * the number (users of KID tools ask which one was used). */
#include "cli/kid.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/commands.h"
#include "core/error.h"
#include "data/dataset.h"

double kid_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int kid_options(cli_opt *o, int n, const char *cmd, ug_kid_opts *ko, int *batch)
{
    ug_kid_opts_default(ko);
    long subsets, size, seed, bs, b;
    const char *proto = cli_find(o, n, "protocol")->value;
    if (cli_int(o, n, "subsets", 1, 100000, &subsets) < 0 ||
        cli_int(o, n, "subset_size", 0, 1000000, &size) < 0 ||
        cli_int(o, n, "seed", 0, 0x7fffffffL, &seed) < 0 ||
        cli_int(o, n, "block_size", 2, 1000000, &bs) < 0 ||
        cli_int(o, n, "batch", 1, 1024, &b) < 0)
        return -1;
    if (strcmp(proto, "subsets") != 0 && strcmp(proto, "blocks") != 0) {
        fprintf(stderr, "ugatit %s: --protocol must be subsets or blocks (got '%s')\n", cmd,
                proto);
        return -1;
    }
    ko->protocol = strcmp(proto, "blocks") == 0 ? UG_KID_BLOCKS : UG_KID_SUBSETS;
    ko->subsets = (int)subsets, ko->subset_size = (int)size, ko->seed = (uint64_t)seed;
    ko->block_size = (int)bs;
    *batch = (int)b;
    return 0;
}

int kid_inception(cli_opt *o, int n, const char *cmd, ug_inception **net, ug_error *err)
{
    const char *weights = NULL;
    if (ug_inception_path(&weights, cli_find(o, n, "inception")->value, err) < 0 ||
        ug_inception_load(net, weights, err) < 0)
        return -1;
    if (strncmp(ug_inception_sha256(*net), UG_INCEPTION_FID_SHA, 8) != 0)
        fprintf(stderr, "ugatit %s: warning: %s has SHA-256 %.8s..., not pytorch-fid's "
                        "%s...: these numbers are not comparable with published ones\n",
                cmd, weights, ug_inception_sha256(*net), UG_INCEPTION_FID_SHA);
    return 0;
}

const char *kid_variant(const ug_inception *net)
{
    return ug_inception_variant(net) == UG_INCEPTION_FID ? "fid" : "torchvision";
}

void kid_describe(FILE *f, const ug_kid_opts *ko, const ug_inception *net)
{
    if (ko->protocol == UG_KID_SUBSETS)
        fprintf(f, "protocol: subsets: %d random subsets per pair of sets, of %s images each "
                   "(seed %llu); std over subsets\n",
                ko->subsets, ko->subset_size ? "--subset_size" : "min(1000, n_real, n_fake)",
                (unsigned long long)ko->seed);
    else
        fprintf(f, "protocol: blocks: consecutive blocks of at most %d images in file order, "
                   "sizes spread as TF-GAN does; standard error over blocks\n",
                ko->block_size);
    fprintf(f, "features: Inception-v3 (%s, SHA-256 %.8s) pool_3, 2048-d; images RGB/255, "
               "bilinear to 299x299 (align_corners=False), 2x-1\n",
            kid_variant(net), ug_inception_sha256(net));
}

void kid_print_value(FILE *f, const ug_kid_result *r, int decimals)
{
    fprintf(f, "%.*f ± %.*f", decimals, 100 * r->mean, decimals, 100 * r->std);
}

void kid_json_num(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, "%.17g", v);
    else
        fprintf(f, "null");
}

void kid_sizes(FILE *f, const ug_kid_result *r, const ug_kid_opts *ko, size_t m, size_t n)
{
    fprintf(f, "images: %zu real, %zu fake; %d %s of %s%d\n", m, n, r->count,
            ko->protocol == UG_KID_BLOCKS ? "blocks" : "subsets",
            ko->protocol == UG_KID_BLOCKS ? "at most " : "", r->size);
}

void kid_json(FILE *f, const ug_kid_result *r, const ug_kid_opts *ko, size_t m, size_t n)
{
    fprintf(f, "\"protocol\": \"%s\", \"n_real\": %zu, \"n_fake\": %zu, \"kid_x100\": "
               "{\"mean\": ", ko->protocol == UG_KID_BLOCKS ? "blocks" : "subsets", m, n);
    kid_json_num(f, 100 * r->mean);
    fprintf(f, ", \"std\": ");
    kid_json_num(f, 100 * r->std);
    fprintf(f, "}, \"%s\": %d, \"size\": %d", ko->protocol == UG_KID_BLOCKS ? "blocks" : "subsets",
            r->count, r->size);
    if (ko->protocol == UG_KID_SUBSETS)
        fprintf(f, ", \"seed\": %llu", (unsigned long long)ko->seed);
}

int cmd_kid(int argc, char **argv)
{
    cli_opt o[] = {
        {"real", "DIR", "real images (JPEG, PNG; read recursively in sorted order)", NULL, 1},
        {"fake", "DIR", "generated images", NULL, 1},
        KID_OPTS("subsets"),
    };
    int n = sizeof o / sizeof o[0];
    int rc = cli_parse(argc, argv, o, n,
                       "usage: ugatit kid --real DIR --fake DIR [--inception FILE] "
                       "[--protocol subsets|blocks] [--json] ...\n\n"
                       "Kernel Inception Distance between two folders of images: the unbiased "
                       "MMD^2 estimate with\nthe kernel (x.y/2048 + 1)^3 on Inception-v3 pool "
                       "features, printed x 100 with its spread\nas 'KID x 100: MEAN ± STD'. "
                       "The paper's numbers come from the blocks protocol\n(--protocol blocks: "
                       "blocks of 10, standard error). A negative estimate is printed as it\nis.");
    if (rc)
        return rc < 0 ? 2 : 0;
    ug_kid_opts ko;
    int batch, json = cli_find(o, n, "json")->value != NULL;
    if (kid_options(o, n, "kid", &ko, &batch) < 0)
        return 2;

    ug_error err = {{0}};
    ug_filelist real = {0}, fake = {0};
    ug_inception *net = NULL;
    float *fx = NULL, *fy = NULL;
    int status = 1;
    if (ug_dataset_list(&real, cli_find(o, n, "real")->value, &err) < 0 ||
        ug_dataset_list(&fake, cli_find(o, n, "fake")->value, &err) < 0)
        goto done;
    if (real.n < 2 || fake.n < 2) {
        ug_fail(&err, "%s: KID needs at least 2 images in each set (found %zu)",
                real.n < 2 ? real.dir : fake.dir, real.n < 2 ? real.n : fake.n);
        goto done;
    }
    if (kid_inception(o, n, "kid", &net, &err) < 0)
        goto done;
    fx = malloc(real.n * UG_INCEPTION_DIM * sizeof *fx);
    fy = malloc(fake.n * UG_INCEPTION_DIM * sizeof *fy);
    if (!fx || !fy) {
        ug_fail(&err, "out of memory for the features of %zu images", real.n + fake.n);
        goto done;
    }
    const char *cache = cli_find(o, n, "features-cache")->value;
    size_t cx, cy;
    double t0 = kid_now();
    if (ug_inception_files(net, fx, (const char *const *)real.paths, real.n, batch, cache, &cx,
                           &err) < 0 ||
        ug_inception_files(net, fy, (const char *const *)fake.paths, fake.n, batch, cache, &cy,
                           &err) < 0)
        goto done;
    double dt = kid_now() - t0;
    size_t ran = real.n + fake.n - cx - cy;
    fprintf(stderr, "ugatit kid: %zu images through Inception-v3 in %.1f s (%.2f images/s), "
                    "%zu from the features cache\n",
            ran, dt, ran ? (double)ran / dt : 0.0, cx + cy);
    ug_kid_result r;
    if (ug_kid(&r, fx, real.n, fy, fake.n, UG_INCEPTION_DIM, &ko, &err) < 0)
        goto done;
    if (json) {
        printf("{");
        kid_json(stdout, &r, &ko, real.n, fake.n);
        printf(", \"inception\": {\"variant\": \"%s\", \"sha256\": \"%s\"}}\n", kid_variant(net),
               ug_inception_sha256(net));
    } else {
        kid_describe(stdout, &ko, net);
        kid_sizes(stdout, &r, &ko, real.n, fake.n);
        printf("KID x 100: ");
        kid_print_value(stdout, &r, 4);
        printf("\n");
        if (r.mean < 0)
            printf("note: a negative estimate means the two sets are indistinguishable at this "
                   "sample size\n");
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        ug_fail(&err, "cannot write the output");
        goto done;
    }
    status = 0;
done:
    if (status)
        fprintf(stderr, "ugatit kid: %s\n", err.msg);
    free(fx);
    free(fy);
    ug_inception_free(net);
    ug_filelist_free(&real);
    ug_filelist_free(&fake);
    return status;
}
