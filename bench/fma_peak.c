/* FP32 fused multiply-add peak of this machine: every OpenMP thread runs
 * independent chains of FMAs (enough of them to hide the FMA latency on both
 * pipes) on registers only, and the program prints the sustained GFLOP/s of
 * all threads together (2 FLOPs per lane per FMA), one line per ISA: every
 * one the CPU has, widest first (AVX-512 with 16 lanes, AVX2 with FMA with
 * 8), or the one --isa names. Each kernel is compiled for its own ISA
 * (target attributes), the rest of the program for the baseline, so that an
 * AVX2-only CPU runs the AVX2 kernel and never the AVX-512 one.
 *
 *   fma_peak [--isa avx512|avx2] [ITERATIONS]
 */
#include <immintrin.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHAINS 12

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* iters rounds of CHAINS independent FMAs; the result keeps the work alive. */
__attribute__((target("avx512f"))) static float run_avx512(long iters)
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

__attribute__((target("avx2,fma"))) static float run_avx2(long iters)
{
    __m256 acc[CHAINS];
    const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
    for (int c = 0; c < CHAINS; c++)
        acc[c] = _mm256_set1_ps((float)c);
    for (long i = 0; i < iters; i++) {
#pragma GCC unroll 12
        for (int c = 0; c < CHAINS; c++)
            acc[c] = _mm256_fmadd_ps(acc[c], a, b);
    }
    __m256 s = acc[0];
    for (int c = 1; c < CHAINS; c++)
        s = _mm256_add_ps(s, acc[c]);
    float v[8];
    _mm256_storeu_ps(v, s);
    return v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7];
}

/* Measures one ISA and prints its line. */
static void measure(int wide, long iters)
{
    const int lanes = wide ? 16 : 8;
    float (*run)(long) = wide ? run_avx512 : run_avx2;
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
        double gflops = (double)threads * iters * CHAINS * lanes * 2 / dt / 1e9;
        if (gflops > best)
            best = gflops;
    }
    printf("fma_peak isa=%s lanes=%d threads=%d gflops=%.1f per_thread=%.1f (checksum %g)\n",
           wide ? "avx512" : "avx2", lanes, threads, best, best / threads, (double)sink);
}

int main(int argc, char **argv)
{
    __builtin_cpu_init();
    int has512 = __builtin_cpu_supports("avx512f");
    int has2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    const char *isa = NULL;
    long iters = 200000000L;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--isa") == 0 && i + 1 < argc) {
            isa = argv[++i];
            if (strcmp(isa, "avx512") && strcmp(isa, "avx2")) {
                fprintf(stderr, "fma_peak: --isa must be avx512 or avx2 (got '%s')\n", isa);
                return 2;
            }
            if (strcmp(isa, "avx512") == 0 ? !has512 : !has2) {
                fprintf(stderr, "fma_peak: this CPU has no %s\n",
                        strcmp(isa, "avx512") == 0 ? "AVX-512" : "AVX2 with FMA");
                return 1;
            }
        } else {
            char *end;
            iters = strtol(argv[i], &end, 10);
            if (*end || iters < 1) {
                fprintf(stderr, "usage: fma_peak [--isa avx512|avx2] [ITERATIONS]\n");
                return 2;
            }
        }
    }
    if (isa) {
        measure(strcmp(isa, "avx512") == 0, iters);
        return 0;
    }
    if (!has512 && !has2) {
        fprintf(stderr, "fma_peak: this CPU has neither AVX-512 nor AVX2 with FMA\n");
        return 1;
    }
    if (has512)
        measure(1, iters);
    if (has2)
        measure(0, iters);
    return 0;
}
