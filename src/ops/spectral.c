/* Spectral normalisation as torch.nn.utils.spectral_norm: one power
 * iteration per training-mode forward, sigma = u . (W v), W_sn = W / sigma,
 * and the backward pass through sigma with u and v held constant: the plain
 * reference kernels, which the CPU backend runs too. The tape applies it to
 * the weights (src/nn/tape.c). */
#include "backend/backend.h"

#include <math.h>

/* torch.nn.functional.normalize: x / max(||x||, eps), eps = 1e-12. */
static void normalize_into(float *dst, const double *x, int n)
{
    double ss = 0;
    for (int i = 0; i < n; i++)
        ss += x[i] * x[i];
    double norm = sqrt(ss);
    if (norm < 1e-12)
        norm = 1e-12;
    for (int i = 0; i < n; i++)
        dst[i] = (float)(x[i] / norm);
}

/* y = W v (rows), in double, one row per iteration (a simd reduction per row). */
static void matvec(double *y, const float *w, const float *v, int rows, int cols)
{
#pragma omp parallel for schedule(static)
    for (int r = 0; r < rows; r++) {
        const float *row = w + (size_t)r * cols;
        double s = 0;
#pragma omp simd reduction(+ : s)
        for (int c = 0; c < cols; c++)
            s += (double)row[c] * v[c];
        y[r] = s;
    }
}

#define COL_BLOCK 1024

/* y = W^T u (cols), in double: each column summed over the rows in order, a
 * block of columns per iteration so that rows are read in contiguous runs
 * (4 KB each: the 1 KB runs of 256 columns read the 134 MB weight of the
 * discriminators at 256 a fifth slower). */
static void matvec_t(double *y, const float *w, const float *u, int rows, int cols)
{
    const int nblocks = (cols + COL_BLOCK - 1) / COL_BLOCK;
#pragma omp parallel for schedule(static)
    for (int bl = 0; bl < nblocks; bl++) {
        const int c0 = bl * COL_BLOCK, nc = cols - c0 < COL_BLOCK ? cols - c0 : COL_BLOCK;
        double acc[COL_BLOCK];
        for (int c = 0; c < nc; c++)
            acc[c] = 0;
        for (int r = 0; r < rows; r++) {
            const float *row = w + (size_t)r * cols + c0;
            const double ur = u[r];
#pragma omp simd
            for (int c = 0; c < nc; c++)
                acc[c] += (double)row[c] * ur;
        }
        for (int c = 0; c < nc; c++)
            y[c0 + c] = acc[c];
    }
}

float ug_spectral_norm_power(ug_kctx *k, float *w_sn, float *u, float *v, const float *w,
                             int rows, int cols, int update, double *work, ug_sn_product *wv,
                             ug_sn_product *wtu)
{
    double *tu = work, *tv = work + rows;
    if (update) {
        wtu(tv, w, u, rows, cols);
        normalize_into(v, tv, cols);
    }
    /* W v with the (new) v: normalised into the new u, and the same
     * product gives sigma (torch computes it twice; the values are equal). */
    wv(tu, w, v, rows, cols);
    if (update)
        normalize_into(u, tu, rows);
    double s = 0;
    for (int r = 0; r < rows; r++)
        s += u[r] * tu[r];
    const float sigma = (float)s;
    if (w_sn)
        ug_spectral_norm_apply_ref(k, w_sn, w, sigma, (size_t)rows * cols);
    return sigma;
}

float ug_spectral_norm_forward_ref(ug_kctx *k, float *w_sn, float *u, float *v, const float *w,
                                   int rows, int cols, int update, double *work)
{
    return ug_spectral_norm_power(k, w_sn, u, v, w, rows, cols, update, work, matvec, matvec_t);
}

void ug_spectral_norm_apply_ref(ug_kctx *k, float *w_sn, const float *w, float sigma, size_t n)
{
    (void)k;
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++)
        w_sn[i] = w[i] / sigma;
}

void ug_spectral_norm_output_ref(ug_kctx *k, float *out, float sigma, const float *b, int N,
                                 int C, size_t HW)
{
    (void)k;
#pragma omp parallel for collapse(2) schedule(static)
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++) {
            float *o = out + ((size_t)n * C + c) * HW;
            const float bc = b ? b[c] : 0.0f;
            for (size_t i = 0; i < HW; i++)
                o[i] = o[i] / sigma + bc;
        }
}

/* W_sn = W / sigma with sigma = u^T W v, so
 * dW = dW_sn / sigma - (sum(dW_sn * W) / sigma^2) u v^T. */
void ug_spectral_norm_backward_ref(ug_kctx *k, float *dw, const float *dw_sn, const float *w,
                                   const float *u, const float *v, float sigma, int rows, int cols)
{
    (void)k;
    if (!dw)
        return;
    const size_t n = (size_t)rows * cols;
    double dot = 0;
#pragma omp parallel for simd schedule(static) reduction(+ : dot)
    for (size_t i = 0; i < n; i++)
        dot += (double)dw_sn[i] * w[i];
    const double inv = 1.0 / sigma, f = dot / ((double)sigma * sigma);
#pragma omp parallel for schedule(static)
    for (int r = 0; r < rows; r++) {
        const size_t off = (size_t)r * cols;
#pragma omp simd
        for (int c = 0; c < cols; c++)
            dw[off + c] += (float)(dw_sn[off + c] * inv - f * u[r] * v[c]);
    }
}
