/* Our Winograd F(4x4, 3x3) convolution against oneDNN's choice, per shape
 * and pass (forward, backward data, backward weights), one row each:
 *
 *   bench_winograd [--reps R] [N C HW K] ...
 *
 * Each shape is a 3x3 stride-1 convolution without zero padding of N x C x
 * HW x HW into K channels, as U-GAT-IT runs it after a reflection pad (the
 * default shapes: residual blocks at 256 ch 64 and 128 ch 32, the up-sampling
 * blocks, batch 1 to 8). oneDNN runs through the CPU backend with our
 * Winograd off; ours runs on each path this CPU has under the cap (AVX-512,
 * AVX2). Rounds alternate the sides; each prints the median and minimum
 * seconds and ours / oneDNN. oneDNN's ISA is fixed for the process: run it
 * again under ONEDNN_MAX_CPU_ISA=AVX2 for the AVX2 rows (bench/winograd.sh
 * does both). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <dnnl.h>

#include "backend/backend.h"
#include "backend/cpu/cpu.h"
#include "backend/cpu/winograd.h"

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

static void cpu_name(char *name, size_t n)
{
    snprintf(name, n, "unknown CPU");
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[256];
    while (f && fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        if (strncmp(line, "model name", 10) == 0 && colon) {
            snprintf(name, n, "%s", colon + 2);
            name[strcspn(name, "\n")] = 0;
            break;
        }
    }
    if (f)
        fclose(f);
}

enum { FWD, BWD_DATA, BWD_WEIGHTS };
static const char *const PASS[] = {"forward", "bwd_data", "bwd_weights"};

/* One pass: ours on path isa, or oneDNN through the backend (isa < 0). */
static int run(ug_kctx *k, int isa, int pass, float *out, float *in, float *w, float *dw,
               const ug_conv_shape *s, ug_error *err)
{
    if (isa < 0) {
        if (pass == FWD)
            return ug_conv_forward(k, out, in, w, NULL, s, err);
        return ug_conv_backward(k, pass == BWD_DATA ? in : NULL, pass == BWD_WEIGHTS ? dw : NULL,
                                NULL, out, in, w, s, 0, err);
    }
    if (pass == FWD)
        return ug_wino_forward(k, (ug_wino_isa)isa, out, in, w, NULL, s, err);
    if (pass == BWD_DATA)
        return ug_wino_backward_data(k, (ug_wino_isa)isa, in, out, w, s, 0, err);
    return ug_wino_backward_weights(k, (ug_wino_isa)isa, dw, out, in, s, err);
}

static int bench_shape(ug_kctx *k, const ug_conv_shape *s, int reps)
{
    ug_error err = {{0}};
    const size_t nin = (size_t)s->N * s->Cin * s->H * s->W, nw = (size_t)s->Cout * s->Cin * 9,
                 nout = (size_t)s->N * s->Cout * ug_conv_out_h(s) * ug_conv_out_w(s);
    float *in = malloc(nin * sizeof *in), *w = malloc(nw * sizeof *w),
          *dw = calloc(nw, sizeof *dw), *out = malloc(nout * sizeof *out);
    double *t = malloc(3 * (size_t)reps * sizeof *t);
    if (!in || !w || !dw || !out || !t)
        return -1;
    srand(7);
    for (size_t i = 0; i < nin; i++)
        in[i] = (float)rand() / (float)RAND_MAX - 0.5f;
    for (size_t i = 0; i < nw; i++)
        w[i] = (float)rand() / (float)RAND_MAX - 0.5f;
    for (size_t i = 0; i < nout; i++)
        out[i] = (float)rand() / (float)RAND_MAX - 0.5f;
    /* Sides: oneDNN, then ours on the best path and on AVX2 below it. */
    int isas[3] = {-1, (int)ug_wino_isa_best(), -2}, nside = 2;
    if (isas[1] == UG_WINO_AVX512)
        isas[nside++] = UG_WINO_AVX2;
    const double gflop = 2.0 * nout * s->Cin * 9 / 1e9;
    for (int pass = 0; pass < 3; pass++) {
        for (int side = 0; side < nside; side++) /* warm-up */
            if (run(k, isas[side], pass, out, in, w, dw, s, &err))
                goto fail;
        for (int r = 0; r < reps; r++)
            for (int side = 0; side < nside; side++) {
                double t0 = now_s();
                if (run(k, isas[side], pass, out, in, w, dw, s, &err))
                    goto fail;
                t[side * reps + r] = now_s() - t0;
            }
        double med[3], mn[3];
        for (int side = 0; side < nside; side++) {
            qsort(t + side * reps, (size_t)reps, sizeof *t, cmp_double);
            med[side] = t[side * reps + reps / 2];
            mn[side] = t[side * reps];
        }
        for (int side = 1; side < nside; side++)
            printf("N=%d C=%d HW=%d K=%d %-11s ours=%-6s ours_s=%.4f (min %.4f) onednn_s=%.4f "
                   "(min %.4f) ours/onednn=%.2f ours_gflops=%.0f\n",
                   s->N, s->Cin, s->H, s->Cout, PASS[pass],
                   ug_wino_isa_name((ug_wino_isa)isas[side]), med[side], mn[side], med[0], mn[0],
                   med[side] / med[0], gflop / med[side]);
    }
    free(in), free(w), free(dw), free(out), free(t);
    return 0;
fail:
    fprintf(stderr, "bench_winograd: %s\n", err.msg);
    return -1;
}

int main(int argc, char **argv)
{
    int reps = 5, i = 1;
    if (argc > 2 && strcmp(argv[1], "--reps") == 0) {
        reps = atoi(argv[2]);
        i = 3;
    }
    if (reps < 1 || (argc - i) % 4) {
        fprintf(stderr, "usage: bench_winograd [--reps R] [N C HW K] ...\n");
        return 2;
    }
    ug_error err = {{0}};
    ug_kctx *k = ug_kctx_new(0, &err);
    if (!k) {
        fprintf(stderr, "bench_winograd: %s\n", err.msg);
        return 1;
    }
    ug_cpu_set_wino_policy(k, UG_CPU_WINO_ONEDNN);
    char name[200];
    cpu_name(name, sizeof name);
    double load[3] = {0};
    FILE *f = fopen("/proc/loadavg", "r");
    if (!f || fscanf(f, "%lf %lf %lf", &load[0], &load[1], &load[2]) != 3)
        load[0] = -1;
    if (f)
        fclose(f);
    printf("cpu=\"%s\" onednn_isa=%#x ours_best=%s load=%.2f,%.2f,%.2f reps=%d\n", name,
           (unsigned)dnnl_get_effective_cpu_isa(), ug_wino_isa_name(ug_wino_isa_best()), load[0],
           load[1], load[2], reps);
    static const int defaults[][4] = {
        {1, 256, 66, 256}, {4, 256, 66, 256}, {8, 256, 66, 256}, {1, 128, 34, 128},
        {4, 128, 34, 128}, {8, 128, 34, 128}, {1, 256, 130, 128}, {1, 128, 258, 64},
        {1, 64, 66, 64},
    };
    int rc = 0;
    if (i == argc) {
        for (size_t d = 0; d < sizeof defaults / sizeof defaults[0] && !rc; d++) {
            const ug_conv_shape s = {defaults[d][0], defaults[d][1], defaults[d][2],
                                     defaults[d][2], defaults[d][3], 3, 3, 1, {0, 0, 0, 0}, 0, 0};
            rc = bench_shape(k, &s, reps);
        }
    }
    for (; i < argc && !rc; i += 4) {
        const ug_conv_shape s = {atoi(argv[i]), atoi(argv[i + 1]), atoi(argv[i + 2]),
                                 atoi(argv[i + 2]), atoi(argv[i + 3]), 3, 3, 1, {0, 0, 0, 0}, 0, 0};
        rc = ug_conv_check(&s, &err) ? -1 : bench_shape(k, &s, reps);
        if (rc && err.msg[0])
            fprintf(stderr, "bench_winograd: %s\n", err.msg);
    }
    ug_kctx_free(k);
    return rc ? 1 : 0;
}
