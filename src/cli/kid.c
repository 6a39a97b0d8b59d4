/* ugatit kid: Kernel Inception Distance between two folders of images,
 * with the Inception-v3 of src/eval and the estimator of src/eval/kid.h,
 * printed x 100 as the paper's tables give it, with the protocol that made
 * the number (users of KID tools ask which one was used). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "core/error.h"
#include "data/dataset.h"
#include "eval/inception.h"
#include "eval/kid.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* A JSON number, or null for NaN (one block has no standard error). */
static void json_num(double v)
{
    if (isfinite(v))
        printf("%.17g", v);
    else
        printf("null");
}

static void print_result(const ug_kid_result *r, const ug_kid_opts *o, size_t m, size_t n,
                         const ug_inception *net, int json)
{
    const char *proto = o->protocol == UG_KID_BLOCKS ? "blocks" : "subsets";
    const char *variant = ug_inception_variant(net) == UG_INCEPTION_FID ? "fid" : "torchvision";
    if (json) {
        printf("{\"protocol\": \"%s\", \"n_real\": %zu, \"n_fake\": %zu, \"kid_x100\": "
               "{\"mean\": ", proto, m, n);
        json_num(100 * r->mean);
        printf(", \"std\": ");
        json_num(100 * r->std);
        printf("}, \"count\": %d, \"size\": %d", r->count, r->size);
        if (o->protocol == UG_KID_SUBSETS)
            printf(", \"seed\": %llu", (unsigned long long)o->seed);
        printf(", \"inception\": {\"variant\": \"%s\", \"sha256\": \"%s\"}}\n", variant,
               ug_inception_sha256(net));
        return;
    }
    if (o->protocol == UG_KID_SUBSETS)
        printf("protocol: subsets: %d random subsets of %d of %zu real and %zu fake images "
               "(seed %llu); std over subsets\n",
               r->count, r->size, m, n, (unsigned long long)o->seed);
    else
        printf("protocol: blocks: %d consecutive blocks of at most %d of %zu real and %zu fake "
               "images in file order; standard error over blocks\n",
               r->count, r->size, m, n);
    printf("features: Inception-v3 (%s, SHA-256 %.8s) pool_3, 2048-d; images RGB/255, "
           "bilinear to 299x299 (align_corners=False), 2x-1\n", variant,
           ug_inception_sha256(net));
    printf("KID x 100: %.4f ± %.4f\n", 100 * r->mean, 100 * r->std);
    if (r->mean < 0)
        printf("note: a negative estimate means the two sets are indistinguishable at this "
               "sample size\n");
}

int cmd_kid(int argc, char **argv)
{
    cli_opt o[] = {
        {"real", "DIR", "real images (JPEG, PNG; read recursively in sorted order)", NULL, 1},
        {"fake", "DIR", "generated images", NULL, 1},
        {"inception", "FILE", "Inception-v3 weights (pytorch-fid's pt_inception-2015-12-05-"
                              "6726825d.pth; default $" UG_INCEPTION_ENV ")", NULL, 0},
        {"protocol", "NAME", "subsets (torch-fidelity's) or blocks (the U-GAT-IT authors')",
         "subsets", 0},
        {"subsets", "N", "subsets: how many", "100", 0},
        {"subset_size", "M", "subsets: images per subset (0: min(1000, n_real, n_fake))", "0",
         0},
        {"seed", "S", "subsets: seed of the draws", "0", 0},
        {"block_size", "B", "blocks: the largest block", "10", 0},
        {"batch", "N", "images per Inception forward pass", "8", 0},
        {"json", NULL, "print one JSON object instead", NULL, 0},
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
    ug_kid_opts_default(&ko);
    long subsets, size, seed, bs, batch;
    const char *proto = cli_find(o, n, "protocol")->value;
    if (cli_int(o, n, "subsets", 1, 100000, &subsets) < 0 ||
        cli_int(o, n, "subset_size", 0, 1000000, &size) < 0 ||
        cli_int(o, n, "seed", 0, 0x7fffffffL, &seed) < 0 ||
        cli_int(o, n, "block_size", 2, 1000000, &bs) < 0 ||
        cli_int(o, n, "batch", 1, 1024, &batch) < 0)
        return 2;
    if (strcmp(proto, "subsets") != 0 && strcmp(proto, "blocks") != 0) {
        fprintf(stderr, "ugatit kid: --protocol must be subsets or blocks (got '%s')\n", proto);
        return 2;
    }
    ko.protocol = strcmp(proto, "blocks") == 0 ? UG_KID_BLOCKS : UG_KID_SUBSETS;
    ko.subsets = (int)subsets, ko.subset_size = (int)size, ko.seed = (uint64_t)seed;
    ko.block_size = (int)bs;

    ug_error err = {{0}};
    ug_filelist real = {0}, fake = {0};
    ug_inception *net = NULL;
    float *fx = NULL, *fy = NULL;
    const char *weights = NULL;
    int status = 1;
    if (ug_dataset_list(&real, cli_find(o, n, "real")->value, &err) < 0 ||
        ug_dataset_list(&fake, cli_find(o, n, "fake")->value, &err) < 0)
        goto done;
    if (real.n < 2 || fake.n < 2) {
        ug_fail(&err, "%s: KID needs at least 2 images in each set (found %zu)",
                real.n < 2 ? real.dir : fake.dir, real.n < 2 ? real.n : fake.n);
        goto done;
    }
    if (ug_inception_path(&weights, cli_find(o, n, "inception")->value, &err) < 0 ||
        ug_inception_load(&net, weights, &err) < 0)
        goto done;
    if (strncmp(ug_inception_sha256(net), UG_INCEPTION_FID_SHA, 8) != 0)
        fprintf(stderr, "ugatit kid: warning: %s has SHA-256 %.8s..., not pytorch-fid's "
                        "%s...: these numbers are not comparable with published ones\n",
                weights, ug_inception_sha256(net), UG_INCEPTION_FID_SHA);
    fx = malloc(real.n * UG_INCEPTION_DIM * sizeof *fx);
    fy = malloc(fake.n * UG_INCEPTION_DIM * sizeof *fy);
    if (!fx || !fy) {
        ug_fail(&err, "out of memory for the features of %zu images", real.n + fake.n);
        goto done;
    }
    double t0 = now();
    if (ug_inception_files(net, fx, (const char *const *)real.paths, real.n, (int)batch, &err) <
            0 ||
        ug_inception_files(net, fy, (const char *const *)fake.paths, fake.n, (int)batch, &err) <
            0)
        goto done;
    double dt = now() - t0;
    fprintf(stderr, "ugatit kid: %zu images through Inception-v3 in %.1f s (%.2f images/s)\n",
            real.n + fake.n, dt, (double)(real.n + fake.n) / dt);
    ug_kid_result r;
    if (ug_kid(&r, fx, real.n, fy, fake.n, UG_INCEPTION_DIM, &ko, &err) < 0)
        goto done;
    print_result(&r, &ko, real.n, fake.n, net, cli_find(o, n, "json")->value != NULL);
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
