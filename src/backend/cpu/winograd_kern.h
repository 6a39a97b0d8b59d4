/* Private to the Winograd files: the tile geometry and the table of kernels
 * each code path (plain, AVX2, AVX-512) provides; winograd.c drives them.
 *
 * Every pass is written as a forward convolution of C channels of H x W
 * planes into K channels of OH x OW planes, cut into 4x4 output tiles, each
 * read as a 6x6 input patch whose corner is (4 ty - pt, 4 tx - pl); pixels
 * outside the plane are zero. A chunk of TB tiles holds its transforms as
 * V[36][TB][Cp] (inputs) and M[36][TB][Kp] (products), so that slice xi of
 * all tiles is one matrix and the 36 products are matrix products (the
 * slices ug_wino_slice apart). The right-hand matrices of the products, U
 * (36 slices of C x Kp: the transformed weights) and dM (36 of TB x Kp), are
 * held in blocks of a path's column width BW (two vectors): element (j, k)
 * of an R-row slice at (k / BW) R BW + j BW + k % BW.
 *
 * The tile transforms read and write images in a blocked layout: the
 * channels in groups of LB (the last one padded with zeros), a group's
 * planes with each pixel's LB values contiguous: N x ceil(C / LB) x H x W x
 * LB. LB is a path's vector width VL in the driver's own copies of plain
 * images, or UG_BLOCK (a multiple of every VL) in the caller's blocked
 * ones. */
#ifndef UG_WINOGRAD_KERN_H
#define UG_WINOGRAD_KERN_H

#include <stddef.h>

/* Channel counts are rounded up to this in V, M, U, dM: a multiple of
 * every path's column block (two vectors). */
#define UG_WINO_PAD 32

/* Floats from one slice of V, M, U or dM to the next, for slices of n
 * floats: a cache line more than n. A tile's 36 values lie a slice apart,
 * and slices of a multiple of 4 KB (24 tiles of 256 channels, the 256 x 256
 * weights) would put all 36 in one set of the first-level cache, which
 * holds 8 to 12. */
static inline size_t ug_wino_slice(size_t n)
{
    return n + 16;
}

typedef struct ug_wino_geom {
    int C, H, W;  /* channels and plane read */
    int K, OH, OW; /* channels and plane written */
    int pt, pl;   /* zero rows above and columns left of the plane read */
    int ty, tx;   /* tiles down and across one image */
    int lbi, lbo; /* LB of the image read and of the image written */
    int TB;       /* tiles per chunk: the stride between slices of V and M */
    int Cp, Kp;   /* C and K rounded up to UG_WINO_PAD */
} ug_wino_geom;

typedef struct ug_wino_kernels {
    int vl; /* the vector width: floats per pixel in the blocked layout */
    int bw; /* the column width of U and dM's blocks */
    /* Channel group cb of image n of src (C planes of P pixels) to the
     * blocked layout in dst, and back from it: dst = (acc ? dst : 0) + src
     * + bias (bias may be NULL). */
    void (*to_blocked)(float *dst, const float *src, int C, size_t P, int n, int cb);
    void (*from_blocked)(float *dst, const float *src, const float *bias, int C, size_t P, int n,
                         int cb, int acc);
    /* U[xi](c, k) = (G w G^T)[xi] for the 3x3 kernel from input channel c
     * to output channel k (w[k][c]; flip: w[c][k] turned 180 degrees, the
     * transposed convolution's), for every c and k0 <= k < k1 (zero for
     * k >= K; k0 and k1 multiples of UG_WINO_PAD or k1 = Kp). */
    void (*weights)(float *U, const float *w, int C, int K, int Kp, int flip, int k0, int k1);
    /* dw[k][c] += G^T dU G, dU laid out as U, for c0 <= c < c1. */
    void (*dweights)(float *dw, const float *dU, int C, int K, int Kp, int c0, int c1);
    /* V[xi][t][c] = (B^T d B)[xi] for tiles t0 .. t0 + nt - 1 of in
     * (blocked; t from 0). */
    void (*input)(float *V, const float *in, const ug_wino_geom *g, int t0, int nt);
    /* out (blocked) = A^T M A + bias (bias may be NULL), the parts of each
     * tile inside the plane. */
    void (*output)(float *out, const float *M, const float *bias, const ug_wino_geom *g, int t0,
                   int nt);
    /* dM[xi](t, k) = (A y A^T)[xi], y the 4x4 tiles of dy (blocked, K
     * channels of OH x OW), zero outside it: the transpose of output. */
    void (*dout)(float *dM, const float *dy, const ug_wino_geom *g, int t0, int nt);
    /* Cm[r][k] = (accumulate ? Cm[r][k] : 0) + sum over j < J of
     * A[r a_rs + j a_js] B(j, k), for r < rows, k < cols (a multiple of
     * UG_WINO_PAD); row r of Cm starts at Cm + r c_rs; B in column blocks of
     * b_rows rows. */
    void (*gemm)(float *Cm, ptrdiff_t c_rs, const float *A, ptrdiff_t a_rs, ptrdiff_t a_js,
                 const float *B, int b_rows, int rows, int J, int cols, int accumulate);
} ug_wino_kernels;

extern const ug_wino_kernels ug_wino_kernels_plain, ug_wino_kernels_avx2,
    ug_wino_kernels_avx512;

#endif
