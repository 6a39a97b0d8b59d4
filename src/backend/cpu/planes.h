/* Private to src/backend/cpu: the per-plane loops of the instance and layer
 * normalisations and average pooling, and the per-row loops of matrix-vector products, compiled
 * once per code path (plain, AVX2, AVX-512) from planes_simd.h. They sum in double; a wider path sums in more lanes, an
 * order the sums are free to take. */
#ifndef UG_PLANES_H
#define UG_PLANES_H

#include "backend/kernels.h"

typedef struct ug_planes_kernels {
    /* The mean of x[0 .. n) and its centred sum of squares: two passes,
     * the mean first, then the squares about it. */
    void (*moments)(const float *x, int n, double *mean, double *sumsq);
    /* The sum of x[0 .. n) in double. */
    double (*sum)(const float *x, int n);
    /* y = (x - sub) mul + add, then max(y, 0) where relu != 0. */
    void (*affine)(float *y, const float *x, int n, double sub, double mul, double add, int relu);
    /* dx = (acc ? dx : 0) + r (dy - mean(dy) - xhat mean(dy xhat)), xhat = (x - m) r:
     * the input gradient of one plane of instance normalisation. */
    void (*instnorm_grad)(float *dx, const float *dy, const float *x, int n, double m, double r,
                          int acc);
    /* moments and affine over the UG_BLOCK planes of a channel block (n
     * pixels of UG_BLOCK floats; kernels.h), mean, sumsq, sub, mul and add
     * UG_BLOCK each. */
    void (*moments_blocked)(const float *x, int n, double *mean, double *sumsq);
    void (*affine_blocked)(float *y, const float *x, int n, const double *sub, const double *mul,
                           const double *add, int relu);
    /* acc[r] += the dot product of row r of w (rows of ld floats apart) with
     * x[0 .. n), for r < rows <= 4: a slice of a matrix-vector product. */
    void (*dots)(float *acc, const float *w, size_t ld, const float *x, int n, int rows);
    /* The same in double, written: y[r] = row r of w . x[0 .. n), r < rows <= 4. */
    void (*dots_double)(double *y, const float *w, size_t ld, const float *x, int n, int rows);
    /* acc[c] += w[r * ld + c] u[r] for c < n, in double, summed over r < rows <= 4 in
     * row order: four rows of a transposed matrix-vector product in one pass over acc. */
    void (*axpys_double)(double *acc, const float *w, size_t ld, const float *u, int n, int rows);
} ug_planes_kernels;

/* The widest path this CPU has under the ISA cap (ug_wino_isa_best). */
const ug_planes_kernels *ug_planes_best(void);

#endif
