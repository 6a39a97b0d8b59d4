/* adaILN and ILN of U-GAT-IT: a per-channel mix (rho) of instance and layer
 * normalisation, then a scale and shift. Both variances are UNBIASED (divide
 * by count - 1), as torch.var in the official release.
 *
 * stats layout: in_mean[N*C], in_rstd[N*C], ln_mean[N], ln_rstd[N], then the
 * forward pass's scratch (N*C pairs of doubles). */
#include "backend/cpu/cpu.h"

#include <math.h>

#include "backend/cpu/planes.h"

/* count - 1 for the unbiased variance; a single element would divide by
 * zero (torch gives NaN), so fall back to 1 there. */
static double unbiased_div(size_t count)
{
    return count > 1 ? (double)(count - 1) : 1.0;
}

void ug_cpu_linnorm_forward(ug_kctx *k, float *out, float *stats, const float *in,
                            const float *rho, const float *gamma, const float *beta,
                            int per_sample, int N, int C, int HW, float eps, int relu)
{
    (void)k;
    float *in_mean = stats, *in_rstd = stats + (size_t)N * C;
    float *ln_mean = stats + 2 * (size_t)N * C, *ln_rstd = ln_mean + N;
    double *moments = (double *)(ln_rstd + N); /* 2N + 2NC floats in: 8-byte aligned */
    const long planes = (long)N * C;
    const ug_planes_kernels *kt = ug_planes_best();

    /* Each plane's mean and centred sum of squares (two passes over a plane
     * that stays in cache). */
#pragma omp parallel for schedule(static)
    for (long nc = 0; nc < planes; nc++) {
        double m, ss;
        kt->moments(in + (size_t)nc * HW, HW, &m, &ss);
        moments[2 * nc] = m;
        moments[2 * nc + 1] = ss;
        in_mean[nc] = (float)m;
        in_rstd[nc] = (float)(1.0 / sqrt(ss / unbiased_div((size_t)HW) + eps));
    }
    /* The layer statistics from the planes' (equal-sized groups): the mean
     * of the means, and each plane's sum of squares about the layer mean. */
    for (int n = 0; n < N; n++) {
        const double *mo = moments + 2 * (size_t)n * C;
        double s = 0;
        for (int c = 0; c < C; c++)
            s += mo[2 * c];
        const double m = s / C;
        double ss = 0;
        for (int c = 0; c < C; c++)
            ss += mo[2 * c + 1] + (double)HW * (mo[2 * c] - m) * (mo[2 * c] - m);
        ln_mean[n] = (float)m;
        ln_rstd[n] = (float)(1.0 / sqrt(ss / unbiased_div((size_t)C * HW) + eps));
    }

#pragma omp parallel for schedule(static)
    for (long nc = 0; nc < planes; nc++) {
        const int n = (int)(nc / C), c = (int)(nc % C);
        const float *x = in + (size_t)nc * HW;
        float *y = out + (size_t)nc * HW;
        /* The stored (float) statistics, exactly what the backward reads. */
        const double mi = in_mean[nc], ri = in_rstd[nc];
        const double ml = ln_mean[n], rl = ln_rstd[n];
        const double p = rho[c];
        const size_t gi = per_sample ? (size_t)nc : (size_t)c;
        const double g = gamma[gi], b = beta[gi];
        /* (p xin + (1 - p) xln) g + b is affine in x: a x + c, two
         * operations a pixel instead of eight. */
        const double a = (p * ri + (1 - p) * rl) * g;
        const double c0 = b - (p * mi * ri + (1 - p) * ml * rl) * g;
        kt->affine(y, x, HW, 0.0, a, c0, relu);
    }
}

/* Parameter gradients, one channel per iteration so that threads never share
 * a drho[c] (or a per-channel dgamma[c], dbeta[c]). */
static void linnorm_param_grads(float *drho, float *dgamma, float *dbeta, const float *dout,
                                const float *in, const float *stats, const float *rho,
                                const float *gamma, int per_sample, int N, int C, int HW)
{
    const float *in_mean = stats, *in_rstd = stats + (size_t)N * C;
    const float *ln_mean = stats + 2 * (size_t)N * C, *ln_rstd = ln_mean + N;

#pragma omp parallel for schedule(static)
    for (int c = 0; c < C; c++) {
        const double p = rho[c];
        double srho = 0, sg = 0, sb = 0;
        for (int n = 0; n < N; n++) {
            const size_t nc = (size_t)n * C + c;
            const size_t gi = per_sample ? nc : (size_t)c;
            const float *x = in + nc * HW, *dy = dout + nc * HW;
            const double mi = in_mean[nc], ri = in_rstd[nc];
            const double ml = ln_mean[n], rl = ln_rstd[n];
            double s_diff = 0, s_mix = 0, s_dy = 0;
#pragma omp simd reduction(+ : s_diff, s_mix, s_dy)
            for (int i = 0; i < HW; i++) {
                const double xin = (x[i] - mi) * ri, xln = (x[i] - ml) * rl;
                s_diff += dy[i] * (xin - xln);
                s_mix += dy[i] * (p * xin + (1 - p) * xln);
                s_dy += dy[i];
            }
            srho += gamma[gi] * s_diff;
            if (per_sample) {
                if (dgamma)
                    dgamma[gi] += (float)s_mix;
                if (dbeta)
                    dbeta[gi] += (float)s_dy;
            } else {
                sg += s_mix;
                sb += s_dy;
            }
        }
        if (drho)
            drho[c] += (float)srho;
        if (!per_sample) {
            if (dgamma)
                dgamma[c] += (float)sg;
            if (dbeta)
                dbeta[c] += (float)sb;
        }
    }
}

/* For xhat = (x - mean) * r normalised over M elements with the unbiased
 * variance, dx = r * (dxhat - mean(dxhat) - xhat * sum(dxhat * xhat) / (M - 1)).
 * Here dxhat_in = rho * dout * gamma over HW, dxhat_ln = (1 - rho) * dout * gamma
 * over C * HW; din is the sum of both paths. */
static void linnorm_input_grad(float *din, const float *dout, const float *in,
                               const float *stats, const float *rho, const float *gamma,
                               int per_sample, int N, int C, int HW, int acc)
{
    const float *in_mean = stats, *in_rstd = stats + (size_t)N * C;
    const float *ln_mean = stats + 2 * (size_t)N * C, *ln_rstd = ln_mean + N;
    const size_t plane = (size_t)C * HW;

    for (int n = 0; n < N; n++) {
        const double ml = ln_mean[n], rl = ln_rstd[n];
        /* Layer-norm sums over the whole sample first. */
        double l_s = 0, l_sx = 0;
#pragma omp parallel for schedule(static) reduction(+ : l_s, l_sx)
        for (int c = 0; c < C; c++) {
            const size_t nc = (size_t)n * C + c;
            const double k = (1 - (double)rho[c]) * gamma[per_sample ? nc : (size_t)c];
            const float *x = in + nc * HW, *dy = dout + nc * HW;
#pragma omp simd reduction(+ : l_s, l_sx)
            for (int i = 0; i < HW; i++) {
                const double d = dy[i] * k;
                l_s += d;
                l_sx += d * ((x[i] - ml) * rl);
            }
        }
        const double l_mean = l_s / (double)plane, l_proj = l_sx / unbiased_div(plane);

#pragma omp parallel for schedule(static)
        for (int c = 0; c < C; c++) {
            const size_t nc = (size_t)n * C + c;
            const double g = gamma[per_sample ? nc : (size_t)c], p = rho[c];
            const double ki = p * g, kl = (1 - p) * g;
            const double mi = in_mean[nc], ri = in_rstd[nc];
            const float *x = in + nc * HW, *dy = dout + nc * HW;
            float *dx = din + nc * HW;
            double i_s = 0, i_sx = 0;
#pragma omp simd reduction(+ : i_s, i_sx)
            for (int i = 0; i < HW; i++) {
                const double d = dy[i] * ki;
                i_s += d;
                i_sx += d * ((x[i] - mi) * ri);
            }
            const double i_mean = i_s / HW, i_proj = i_sx / unbiased_div((size_t)HW);
            /* ri (dy ki - i_mean - xin i_proj) + rl (dy kl - l_mean - xln l_proj)
             * is affine in dy and x: a dy - b x + c. One loop per acc: the
             * compilers vectorise no load under a condition. */
            const double a = ri * ki + rl * kl, b = ri * ri * i_proj + rl * rl * l_proj;
            const double c0 = ri * ri * i_proj * mi + rl * rl * l_proj * ml -
                              ri * i_mean - rl * l_mean;
            if (acc) {
#pragma omp simd
                for (int i = 0; i < HW; i++)
                    dx[i] += (float)(dy[i] * a - x[i] * b + c0);
            } else {
#pragma omp simd
                for (int i = 0; i < HW; i++)
                    dx[i] = (float)(dy[i] * a - x[i] * b + c0);
            }
        }
    }
}

void ug_cpu_linnorm_backward(ug_kctx *k, float *din, float *drho, float *dgamma, float *dbeta,
                             const float *dout, const float *in, const float *stats,
                             const float *rho, const float *gamma, int per_sample, int N, int C,
                             int HW, int acc)
{
    (void)k;
    if (drho || dgamma || dbeta)
        linnorm_param_grads(drho, dgamma, dbeta, dout, in, stats, rho, gamma, per_sample, N, C,
                            HW);
    if (din)
        linnorm_input_grad(din, dout, in, stats, rho, gamma, per_sample, N, C, HW, acc);
}
