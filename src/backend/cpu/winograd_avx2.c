/* The AVX2 + FMA path of our Winograd convolution: 8 channels per vector and
 * a 6 x 16 register block in the matrix products (12 of the 16 registers).
 * Compiled for the baseline like the rest; only these functions carry the
 * target, and winograd.c calls them only on a CPU that has AVX2 and FMA. */
#include <immintrin.h>

#include "backend/cpu/winograd_kern.h"

#define WT __attribute__((target("avx2,fma")))
#define VF __m256
#define VL 8
#define VI __m256i
#define V_ZERO() _mm256_setzero_ps()
#define V_SET1(x) _mm256_set1_ps(x)
#define V_LOADU(p) _mm256_loadu_ps(p)
#define V_STOREU(p, v) _mm256_storeu_ps(p, v)
#define V_FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define V_INDEX(stride) index8(stride)
#define V_GATHER(p, idx, n) gather8(p, idx, n)
#define RMAX 6
#define NV 2
#define WINO_TABLE ug_wino_kernels_avx2

static inline WT __m256i index8(int stride)
{
    return _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
                              _mm256_set1_epi32(stride));
}

static inline WT __m256 gather8(const float *p, __m256i idx, int n)
{
    if (n == 8)
        return _mm256_i32gather_ps(p, idx, 4);
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256 m = _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32(n), lane));
    return _mm256_mask_i32gather_ps(_mm256_setzero_ps(), p, idx, m, 4);
}

#include "backend/cpu/winograd_simd.h"
