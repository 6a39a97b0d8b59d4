/* Inception-v3 forward speed (src/eval): images per second of the FID
 * variant at batch B on random weights, after one warm-up pass; --profile
 * prints the time per op and shape (the tape's profiler).
 *
 *   bench_inception [--batch B] [--reps R] [--profile]
 *
 * bench/bench_inception_torch.py measures PyTorch on the same network. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend/backend.h"
#include "core/rng.h"
#include "eval/inception.h"
#include "nn/tape.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    int batch = 8, reps = 3, profile = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc)
            batch = atoi(argv[++i]);
        else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (strcmp(argv[i], "--profile") == 0)
            profile = 1;
        else {
            fprintf(stderr, "usage: bench_inception [--batch B] [--reps R] [--profile]\n");
            return 2;
        }
    }
    if (batch < 1 || reps < 1) {
        fprintf(stderr, "bench_inception: batch and reps must be positive\n");
        return 2;
    }
    ug_error err = {{0}};
    ug_net net;
    if (ug_inception_build(&net, UG_INCEPTION_FID, &err) < 0) {
        fprintf(stderr, "bench_inception: %s\n", err.msg);
        return 1;
    }
    ug_rng rng;
    ug_rng_seed(&rng, 1, 0);
    ug_net_init_default(&net, &rng);
    const size_t per = 3 * UG_INCEPTION_SIZE * UG_INCEPTION_SIZE;
    float *x = malloc((size_t)batch * per * sizeof *x);
    for (size_t i = 0; i < (size_t)batch * per; i++)
        x[i] = (float)(2 * ug_rng_uniform(&rng) - 1);
    ug_kctx *k = ug_kctx_new(0, &err);
    if (!k) {
        fprintf(stderr, "bench_inception: %s\n", err.msg);
        return 1;
    }
    ug_arena arena;
    ug_arena_init(&arena, k->be);
    ug_tape t;
    const size_t in_bytes = (size_t)batch * per * sizeof(float);
    double best = 1e30, total = 0;
    int rc = 0;
    for (int r = 0; r <= reps && rc == 0; r++) {
        ug_tape_profile_enable(profile && r == reps);
        ug_arena_reset(&arena);
        double t0 = now();
        float *in = ug_arena_alloc(&arena, in_bytes);
        if (!in) {
            fprintf(stderr, "bench_inception: out of memory\n");
            return 1;
        }
        k->be->from_host(in, x, in_bytes); /* the images into the backend's memory */
        const float *const inputs[1] = {in};
        rc = ug_tape_forward_nograd(&t, k, &arena, &net, inputs, batch, UG_EVAL, &err);
        double dt = now() - t0;
        if (r > 0) /* the first pass creates oneDNN's primitives */
            total += dt, best = dt < best ? dt : best;
    }
    if (rc < 0) {
        fprintf(stderr, "bench_inception: %s\n", err.msg);
        return 1;
    }
    printf("impl=c net=inception-fid batch=%d reps=%d images_per_s_mean=%.2f "
           "images_per_s_best=%.2f\n", batch, reps, batch * reps / total, batch / best);
    if (profile)
        ug_tape_profile_print(stdout);
    ug_arena_free(&arena);
    ug_kctx_free(k);
    ug_net_free(&net);
    free(x);
    return 0;
}
