/* The AVX-512 path of our Winograd convolution: 16 channels per vector and a
 * 12 x 32 register block in the matrix products (24 of the 32 registers).
 * Compiled for the baseline like the rest; only these functions carry the
 * target, and winograd.c calls them only on a CPU that has AVX-512F. */
/* x86 only: elsewhere winograd.c never asks for this path. */
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#include "backend/cpu/winograd_kern.h"

/* Lane l < n: p[l s]; the others zero, and not read. */
static inline __attribute__((target("avx512f"))) __m512 gather16(const float *p, int s, int n)
{
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    return _mm512_mask_i32gather_ps(_mm512_setzero_ps(), (__mmask16)((1u << n) - 1),
                                    _mm512_mullo_epi32(lane, _mm512_set1_epi32(s)), p, 4);
}

#define WT __attribute__((target("avx512f")))
#define VF __m512
#define VL 16
#define V_ZERO() _mm512_setzero_ps()
#define V_SET1(x) _mm512_set1_ps(x)
#define V_LOADU(p) _mm512_loadu_ps(p)
#define V_STOREU(p, v) _mm512_storeu_ps(p, v)
#define V_FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define V_GATHER(p, s, n) gather16(p, s, n)
#define RMAX 12
#define NV 2
#define WINO_TABLE ug_wino_kernels_avx512

#include "backend/cpu/winograd_simd.h"
#endif
