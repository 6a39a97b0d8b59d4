/* The CPU backend's spectral normalisation forward: the reference's power
 * iteration (src/ops/spectral.c) with its two matrix-vector products on this
 * CPU's widest path (planes.h) and four rows of W to a pass. The reference's
 * loops, compiled for the baseline ISA, sum each row in one chain of double
 * adds and pass over a block of W^T u's sums once per row; the products of
 * a training step at 128 ch 32 (AMD Zen 5, 2 threads) took 23 and 10 ms that
 * way. Both still sum each output in double, in the reference's row order
 * for W^T u. */
#include "backend/cpu/cpu.h"
#include "backend/cpu/planes.h"

/* W^T u's columns a block at a time, so that each row is read in runs of
 * 4 KB and the block's sums stay in the L1 cache. */
#define COL_BLOCK 1024

static void wv(double *y, const float *w, const float *v, int rows, int cols)
{
    const ug_planes_kernels *kt = ug_planes_best();
#pragma omp parallel for schedule(static)
    for (int r = 0; r < rows; r += 4)
        kt->dots_double(y + r, w + (size_t)r * cols, (size_t)cols, v, cols,
                        rows - r < 4 ? rows - r : 4);
}

static void wtu(double *y, const float *w, const float *u, int rows, int cols)
{
    const ug_planes_kernels *kt = ug_planes_best();
    const int nblocks = (cols + COL_BLOCK - 1) / COL_BLOCK;
#pragma omp parallel for schedule(static)
    for (int bl = 0; bl < nblocks; bl++) {
        const int c0 = bl * COL_BLOCK, nc = cols - c0 < COL_BLOCK ? cols - c0 : COL_BLOCK;
        double acc[COL_BLOCK] = {0};
        for (int r = 0; r < rows; r += 4)
            kt->axpys_double(acc, w + (size_t)r * cols + c0, (size_t)cols, u + r, nc,
                             rows - r < 4 ? rows - r : 4);
        for (int c = 0; c < nc; c++)
            y[c0 + c] = acc[c];
    }
}

float ug_cpu_spectral_norm_forward(ug_kctx *k, float *w_sn, float *u, float *v, const float *w,
                                   int rows, int cols, int update, double *work)
{
    return ug_spectral_norm_power(k, w_sn, u, v, w, rows, cols, update, work, wv, wtu);
}
