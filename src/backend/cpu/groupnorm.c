/* GroupNorm as torch.nn.GroupNorm(G, C, eps): per sample, the C channels in
 * G groups of C / G, each normalised over its channels and H, W by its mean
 * and biased variance, then an affine weight and bias per channel. */
#include "backend/cpu/cpu.h"

#include <math.h>

void ug_cpu_groupnorm_forward(ug_kctx *k, float *out, float *mean, float *rstd, const float *in,
                              const float *w, const float *b, int N, int C, int HW, int G,
                              float eps)
{
    (void)k;
    const int Cg = C / G;
    const size_t M = (size_t)Cg * HW;
#pragma omp parallel for schedule(static)
    for (int ng = 0; ng < N * G; ng++) {
        const float *x = in + (size_t)ng * M; /* a group's channels are contiguous */
        double s = 0, ss = 0;
        for (size_t i = 0; i < M; i++)
            s += x[i];
        const double mu = s / (double)M;
        for (size_t i = 0; i < M; i++)
            ss += (x[i] - mu) * (x[i] - mu);
        const double r = 1.0 / sqrt(ss / (double)M + eps);
        mean[ng] = (float)mu, rstd[ng] = (float)r;
        float *y = out + (size_t)ng * M;
        for (int cc = 0; cc < Cg; cc++) {
            const int c = (ng % G) * Cg + cc;
            const float scale = (float)(r * w[c]), shift = (float)(b[c] - mu * r * w[c]);
            for (int i = 0; i < HW; i++)
                y[(size_t)cc * HW + i] = x[(size_t)cc * HW + i] * scale + shift;
        }
    }
}

void ug_cpu_groupnorm_backward(ug_kctx *k, float *din, float *dw, float *db, const float *dout,
                               const float *in, const float *mean, const float *rstd,
                               const float *w, int N, int C, int HW, int G, int acc)
{
    (void)k;
    const int Cg = C / G;
    const size_t M = (size_t)Cg * HW;
    if (dw || db) {
        /* One channel per iteration, so no two threads touch the same dw[c]. */
#pragma omp parallel for schedule(static)
        for (int c = 0; c < C; c++) {
            double sdy = 0, sdyx = 0;
            for (int n = 0; n < N; n++) {
                const int ng = n * G + c / Cg;
                const size_t off = ((size_t)n * C + c) * HW;
                for (int i = 0; i < HW; i++) {
                    sdy += dout[off + i];
                    sdyx += dout[off + i] * (in[off + i] - (double)mean[ng]) * rstd[ng];
                }
            }
            if (dw)
                dw[c] += (float)sdyx;
            if (db)
                db[c] += (float)sdy;
        }
    }
    if (!din)
        return;
#pragma omp parallel for schedule(static)
    for (int ng = 0; ng < N * G; ng++) {
        const double mu = mean[ng], r = rstd[ng];
        const size_t off = (size_t)ng * M;
        const int c0 = (ng % G) * Cg;
        /* dxhat = dout * w; din = r (dxhat - mean(dxhat) - xhat mean(dxhat xhat)). */
        double s = 0, sx = 0;
        for (size_t i = 0; i < M; i++) {
            const double dxh = (double)dout[off + i] * w[c0 + i / HW];
            s += dxh;
            sx += dxh * (in[off + i] - mu) * r;
        }
        s /= (double)M, sx /= (double)M;
        for (size_t i = 0; i < M; i++) {
            const double dxh = (double)dout[off + i] * w[c0 + i / HW];
            const float g = (float)(r * (dxh - s - (in[off + i] - mu) * r * sx));
            din[off + i] = acc ? din[off + i] + g : g;
        }
    }
}
