/* The AVX2 + FMA path of our Winograd convolution: 8 channels per vector and
 * a 6 x 16 register block in the matrix products (12 of the 16 registers).
 * Compiled for the baseline like the rest; only these functions carry the
 * target, and winograd.c calls them only on a CPU that has AVX2 and FMA. */
/* x86 only: elsewhere winograd.c never asks for this path. */
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#include "backend/cpu/winograd_kern.h"

/* Lane l < n: p[l s]; the others zero, and not read. */
static inline __attribute__((target("avx2,fma"))) __m256 gather8(const float *p, int s, int n)
{
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i on = _mm256_cmpgt_epi32(_mm256_set1_epi32(n), lane);
    return _mm256_mask_i32gather_ps(_mm256_setzero_ps(), p,
                                    _mm256_mullo_epi32(lane, _mm256_set1_epi32(s)),
                                    _mm256_castsi256_ps(on), 4);
}

#define WT __attribute__((target("avx2,fma")))
#define VF __m256
#define VL 8
#define V_ZERO() _mm256_setzero_ps()
#define V_SET1(x) _mm256_set1_ps(x)
#define V_LOADU(p) _mm256_loadu_ps(p)
#define V_STOREU(p, v) _mm256_storeu_ps(p, v)
#define V_FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define V_GATHER(p, s, n) gather8(p, s, n)
#define RMAX 6
#define NV 2
#define WINO_TABLE ug_wino_kernels_avx2

#include "backend/cpu/winograd_simd.h"
#endif
