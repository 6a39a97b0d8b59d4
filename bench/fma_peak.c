/* FP32 fused multiply-add peak of this machine: every OpenMP thread runs
 * independent chains of AVX-512 FMAs (enough of them to hide the FMA latency
 * on both pipes) on registers only, and the program prints the sustained
 * GFLOP/s of all threads together (2 FLOPs per lane per FMA, 16 lanes).
 * Built with -mavx512f for this file only. */
#include <immintrin.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define CHAINS 12

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* iters rounds of CHAINS independent FMAs; the result keeps the work alive. */
static float run(long iters)
{
    __m512 acc[CHAINS];
    const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
    for (int c = 0; c < CHAINS; c++)
        acc[c] = _mm512_set1_ps((float)c);
    for (long i = 0; i < iters; i++) {
#pragma GCC unroll 12
        for (int c = 0; c < CHAINS; c++)
            acc[c] = _mm512_fmadd_ps(acc[c], a, b);
    }
    __m512 s = acc[0];
    for (int c = 1; c < CHAINS; c++)
        s = _mm512_add_ps(s, acc[c]);
    return _mm512_reduce_add_ps(s);
}

int main(int argc, char **argv)
{
    long iters = argc > 1 ? atol(argv[1]) : 200000000L;
    int threads = 1;
    float sink = 0;
    run(iters / 20); /* warm up (clock ramp) */
    double best = 0;
    for (int rep = 0; rep < 3; rep++) {
        double t0 = now_s();
#pragma omp parallel reduction(+ : sink)
        {
#pragma omp single
            threads = omp_get_num_threads();
            sink += run(iters);
        }
        double dt = now_s() - t0;
        double gflops = (double)threads * iters * CHAINS * 16 * 2 / dt / 1e9;
        if (gflops > best)
            best = gflops;
    }
    printf("fma_peak threads=%d gflops=%.1f per_thread=%.1f (checksum %g)\n", threads, best,
           best / threads, (double)sink);
    return 0;
}
