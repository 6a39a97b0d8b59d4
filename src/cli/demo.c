/* ugatit make-shapes and ugatit demo: the built-in two-domain data set
 * (discs and squares) and a short training run on it that needs no download:
 * make-shapes, train, test, with the report; with Inception-v3 weights in
 * $UGATIT_INCEPTION, KID during training and ugatit eval at the end too. The
 * demo runs the same commands a user would, with fixed arguments. */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "core/error.h"
#include "data/shapes.h"
#include "eval/inception.h"

int cmd_make_shapes(int argc, char **argv)
{
    cli_opt o[] = {
        {"out", "DIR", "dataset folder to write ({trainA,trainB,testA,testB})", NULL, 1},
        {"n", "N", "training images per domain", "400", 0},
        {"size", "S", "image side", "64", 0},
        {"seed", "N", "random seed", "0", 0},
    };
    int n = sizeof o / sizeof o[0];
    int rc = cli_parse(argc, argv, o, n,
                       "usage: ugatit make-shapes --out DIR [--n N] [--size S] [--seed N]\n\n"
                       "Writes a two-domain data set: A holds filled discs, B filled squares, "
                       "each of random colour, size and position on a black background.");
    if (rc)
        return rc < 0 ? 2 : 0;
    long count, size, seed;
    if (cli_int(o, n, "n", 1, 1000000, &count) < 0 ||
        cli_int(o, n, "size", UG_SHAPES_MIN_SIZE, 4096, &size) < 0 ||
        cli_int(o, n, "seed", 0, 0x7fffffffffffffffL, &seed) < 0)
        return 2;
    ug_error err;
    const char *out = cli_find(o, n, "out")->value;
    if (ug_make_shapes(out, (int)count, (int)size, (uint64_t)seed, &err) < 0) {
        fprintf(stderr, "ugatit make-shapes: %s\n", err.msg);
        return 1;
    }
    printf("wrote %ld + %ld training and %d + %d test images (%ldx%ld) to %s\n", count, count,
           ug_shapes_test_count((int)count), ug_shapes_test_count((int)count), size, size, out);
    return 0;
}

int cmd_demo(int argc, char **argv)
{
    cli_opt o[] = {
        {"dir", "DIR", "where the data set and the results go", "demo", 0},
        {"iteration", "N", "training steps", "3000", 0},
        {"threads", "N", "threads (0: all cores)", "0", 0},
    };
    int n = sizeof o / sizeof o[0];
    int rc = cli_parse(argc, argv, o, n,
                       "usage: ugatit demo [--dir DIR] [--iteration N] [--threads N]\n\n"
                       "Makes the shapes data set (discs in A, squares in B), trains a small "
                       "light model on it (img 64, ch 16, n_res 4, n_dis 4, cam_weight 10), tests it, and "
                       "writes the report DIR/results/shapes/index.html. With Inception-v3 "
                       "weights in $" UG_INCEPTION_ENV "\n(see ugatit kid) it also measures KID "
                       "at every report and runs ugatit eval on the\nfinal model.");
    if (rc)
        return rc < 0 ? 2 : 0;
    const char *dir = cli_find(o, n, "dir")->value;
    const char *iteration = cli_find(o, n, "iteration")->value;
    const char *threads = cli_find(o, n, "threads")->value;
    char data[4096], results[4096], print_freq[32], save_freq[32];
    long it;
    if (cli_int(o, n, "iteration", 1, 100000000, &it) < 0 ||
        cli_int(o, n, "threads", 0, 1024, &(long){0}) < 0)
        return 2;
    snprintf(data, sizeof data, "%s/dataset/shapes", dir);
    snprintf(results, sizeof results, "%s/results", dir);
    snprintf(print_freq, sizeof print_freq, "%ld", it >= 10 ? it / 10 : 1);
    /* Five checkpoints (21 MB each at these settings) give the report's
     * chart of rho over training its points. */
    snprintf(save_freq, sizeof save_freq, "%ld", it >= 5 ? it / 5 : 1);

    /* The release's settings except cam_weight. On discs and squares of any
     * colour the generator's CAM loss stays near 0.7, and at the release's
     * weight of 1000 it drowns the rest of the generator's gradient: after
     * 3000 steps the shapes had turned but the colours drifted (mean error
     * to the ideal square 18.6/255 on the test images, against 13.3 at 10). */
    char *make[] = {"make-shapes", "--out", data, "--n", "400", "--size", "64", NULL};
    char *train[] = {"train", "--dataset", data, "--result_dir", results, "--iteration",
                     (char *)iteration, "--img_size", "64", "--ch", "16", "--n_res", "4",
                     "--n_dis", "4", "--light", "true", "--cam_weight", "10",
                     "--print_freq", print_freq,
                     "--save_freq", save_freq, "--threads", (char *)threads,
                     "--resume", "true", "--kid_freq", print_freq, NULL};
    const char *weights = getenv(UG_INCEPTION_ENV);
    int kid = weights && *weights, n_train = kid ? 29 : 27;
    char *test[] = {"test", "--dataset", data, "--result_dir", results, "--threads",
                    (char *)threads, NULL};
    if ((rc = cmd_make_shapes(7, make)) != 0)
        return rc;
    if ((rc = cmd_train(n_train, train)) != 0)
        return rc;
    if ((rc = cmd_test(7, test)) != 0)
        return rc;
    if (kid) {
        char model[4096 + 64];
        snprintf(model, sizeof model, "%s/shapes/model/shapes_params_%07ld.safetensors",
                 results, it);
        char *eval[] = {"eval", "--model", model, "--dataset", data, NULL};
        if ((rc = cmd_eval(5, eval)) != 0)
            return rc;
    }
    printf("\nopen %s/shapes/index.html to see the report; the test strips are in "
           "%s/shapes/test\n", results, results);
    return 0;
}
