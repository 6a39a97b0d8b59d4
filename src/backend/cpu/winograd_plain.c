/* The plain C path of our Winograd convolution: one channel at a time, for
 * CPUs without AVX2 and as the reference the vector paths are tested
 * against (tests/test_winograd.c). */
#include "backend/cpu/winograd_kern.h"

#define WT
#define VF float
#define VL 1
#define V_ZERO() 0.0f
#define V_SET1(x) (x)
#define V_LOADU(p) (*(p))
#define V_STOREU(p, v) (*(p) = (v))
#define V_FMA(a, b, c) ((a) * (b) + (c))
#define V_GATHER(p, s, n) ((void)(s), (void)(n), *(p))
#define RMAX 4
#define NV 4
#define WINO_TABLE ug_wino_kernels_plain

#include "backend/cpu/winograd_simd.h"
