/* The AVX-512 path of our Winograd convolution: 16 channels per vector and a
 * 12 x 32 register block in the matrix products (24 of the 32 registers).
 * Compiled for the baseline like the rest; only these functions carry the
 * target, and winograd.c calls them only on a CPU that has AVX-512F. */
#include <immintrin.h>

#include "backend/cpu/winograd_kern.h"

#define WT __attribute__((target("avx512f")))
#define VF __m512
#define VL 16
#define VI __m512i
#define V_ZERO() _mm512_setzero_ps()
#define V_SET1(x) _mm512_set1_ps(x)
#define V_LOADU(p) _mm512_loadu_ps(p)
#define V_STOREU(p, v) _mm512_storeu_ps(p, v)
#define V_FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define V_INDEX(stride) index16(stride)
#define V_GATHER(p, idx, n) gather16(p, idx, n)
#define RMAX 12
#define NV 2
#define WINO_TABLE ug_wino_kernels_avx512

static inline WT __m512i index16(int stride)
{
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    return _mm512_mullo_epi32(lane, _mm512_set1_epi32(stride));
}

static inline WT __m512 gather16(const float *p, __m512i idx, int n)
{
    const __mmask16 m = (__mmask16)((1u << n) - 1);
    return _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, idx, p, 4);
}

#include "backend/cpu/winograd_simd.h"
