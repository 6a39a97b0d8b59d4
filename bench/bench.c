/* Benchmark of libugatit, one row per process (so that the peak RSS is the
 * row's own):
 *
 *   bench infer|train --img S --ch C --light 0|1 [--reps R] [--warmup W]
 *         [--bf16 0|1] [--family ugatit|cyclegan|unit|munit|drit] [--threads N] [--profile]
 *         [--moments_dir DIR]
 *
 * infer: ug_model_translate of one image (batch 1, A2B) with a model of
 * that generator only; train: one
 * ug_trainer_step with the family's batch (1; DRIT's 2, each step a full
 * iteration). Inputs are uniform in [-1, 1] from a fixed
 * seed, weights the family's initialisation (ug_model_new). CycleGAN takes
 * its official configuration at img (ch as ngf; --light does not apply) and
 * its official training configuration, and so does UNIT (ch as the gen and
 * dis dim), whose translation runs an encoder and the other domain's
 * decoder (the inference model holds the generators), and DRIT (its 216
 * crops as img; the translation runs enc_c and gen). Prints one
 * line of key=value: the median and minimum time of the timed repetitions,
 * the peak resident set (getrusage ru_maxrss) and the convolution + linear
 * FLOPs of one repetition. --profile prints a per-op table of the timed
 * repetitions (tape profiling) to stderr. --bf16 1 sets the model to bf16
 * convolutions (inference only). Threads are the program's (core/threads.h):
 * --threads N, or OMP_NUM_THREADS, or the cores other processes leave free,
 * measured before every repetition; the line gives the last repetition's.
 * --moments_dir keeps Adam's moments in a file there (ug_train_config's). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "core/program.h"
#include "core/threads.h"
#include "model/model.h"
#include "nn/tape.h"
#include "ugatit.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void usage(void)
{
    fprintf(stderr, "usage: bench infer|train --img S --ch C --light 0|1 [--reps R] "
                    "[--warmup W] [--bf16 0|1] [--family ugatit|cyclegan|unit|munit|drit] "
                    "[--threads N] [--profile] [--moments_dir DIR]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    ug_program_init(argv);
    if (argc < 2)
        usage();
    int train = strcmp(argv[1], "train") == 0;
    if (!train && strcmp(argv[1], "infer") != 0)
        usage();
    int img = 256, ch = 64, light = 1, reps = 5, warmup = 1, profile = 0, bf16 = 0, nthr = 0;
    const char *family = "ugatit", *moments_dir = NULL;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--profile")) {
            profile = 1;
            continue;
        }
        if (i + 1 >= argc)
            usage();
        if (!strcmp(a, "--family")) {
            family = argv[++i];
            continue;
        }
        if (!strcmp(a, "--moments_dir")) {
            moments_dir = argv[++i];
            continue;
        }
        int v = atoi(argv[++i]);
        if (!strcmp(a, "--img"))
            img = v;
        else if (!strcmp(a, "--ch"))
            ch = v;
        else if (!strcmp(a, "--light"))
            light = v;
        else if (!strcmp(a, "--reps"))
            reps = v;
        else if (!strcmp(a, "--warmup"))
            warmup = v;
        else if (!strcmp(a, "--bf16"))
            bf16 = v;
        else if (!strcmp(a, "--threads"))
            nthr = v;
        else
            usage();
    }
    if (reps < 1)
        reps = 1;

    ug_threads threads;
    ug_threads_init(&threads, nthr);
    ug_error err;
    ug_config c;
    const ug_family *fam = ug_family_find(family, &err);
    if (!fam) {
        fprintf(stderr, "bench: %s\n", err.msg);
        return 1;
    }
    fam->config_default(&c, img);
    c.ch = ch;
    c.light = light; /* U-GAT-IT's only */
    ug_model *m;
    /* Translation A2B needs that generator only (PyTorch's side builds one
     * too); UNIT's, MUNIT's and DRIT's networks of both domains, of the generators built. */
    const int several = strcmp(family, "unit") == 0 || strcmp(family, "munit") == 0 ||
                        strcmp(family, "drit") == 0;
    const unsigned gens = several ? fam->translate_nets : 1u << fam->translate_net[0];
    if (train ? ug_model_new(&m, &c, 1234, &err) : ug_model_build(&m, &c, gens, &err)) {
        fprintf(stderr, "bench: %s\n", err.msg);
        return 1;
    }
    if (!train) {
        ug_rng rng;
        ug_rng_seed(&rng, 1234, 1);
        for (int i = 0; i < fam->n_nets; i++)
            if (ug_model_has(m, i))
                ug_net_init_default(&m->net[i], &rng);
        if (ug_model_set_precision(m, bf16 ? UG_BF16 : UG_FP32, &err) < 0) {
            fprintf(stderr, "bench: %s\n", err.msg);
            return 1;
        }
    }
    /* A training step takes the family's batch (DRIT's 2), a translation one image. */
    ug_train_config tc;
    if (ug_train_config_for(&tc, fam->name, &err) < 0) {
        fprintf(stderr, "bench: %s\n", err.msg);
        return 1;
    }
    tc.d_iter = 1; /* DRIT: every step a full iteration */
    tc.moments_dir = moments_dir;
    const int batch = train ? tc.batch_size : 1;
    size_t n = (size_t)3 * img * img * (size_t)batch;
    float *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y), *out = malloc(n * sizeof *out);
    if (!x || !y || !out)
        return 1;
    srand(42);
    for (size_t i = 0; i < n; i++) {
        x[i] = 2.0f * (float)rand() / (float)RAND_MAX - 1.0f;
        y[i] = 2.0f * (float)rand() / (float)RAND_MAX - 1.0f;
    }
    ug_trainer *t = NULL;
    if (train) {
        if (ug_trainer_new(&t, m, &tc, &err) < 0) {
            fprintf(stderr, "bench: %s\n", err.msg);
            return 1;
        }
    }
    double *times = calloc((size_t)reps, sizeof *times), flops = 0;
    for (int r = 0; r < warmup + reps; r++) {
        if (profile && r == warmup)
            ug_tape_profile_enable(1);
        nthr = ug_threads_update(&threads);
        double f0 = ug_kctx_flops(m->k), t0 = now_s();
        int rc = train ? ug_trainer_step(t, x, y, batch, NULL, &err)
                       : ug_model_translate(m, UG_A2B, x, 1, out, NULL, NULL, &err);
        double dt = now_s() - t0;
        if (rc < 0) {
            fprintf(stderr, "bench: %s\n", err.msg);
            return 1;
        }
        flops = ug_kctx_flops(m->k) - f0;
        if (r >= warmup)
            times[r - warmup] = dt;
    }
    if (profile) {
        ug_tape_profile_enable(0);
        fprintf(stderr, "profile over %d repetitions:\n", reps);
        ug_tape_profile_print(stderr);
    }
    qsort(times, (size_t)reps, sizeof *times, cmp_double);
    double median = reps % 2 ? times[reps / 2] : 0.5 * (times[reps / 2 - 1] + times[reps / 2]);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("impl=ugatit family=%s mode=%s img=%d ch=%d light=%d reps=%d median_s=%.4f "
           "min_s=%.4f maxrss_mb=%.1f arena_peak_mb=%.1f gflop=%.3f threads=%d\n",
           fam->name, argv[1], img, ch, light, reps, median, times[0], ru.ru_maxrss / 1024.0,
           m->arena.used_peak / 1048576.0, flops / 1e9, nthr);
    ug_trainer_free(t);
    ug_model_free(m);
    free(times);
    free(x);
    free(y);
    free(out);
    return 0;
}
