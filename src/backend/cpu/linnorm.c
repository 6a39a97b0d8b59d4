/* adaILN and ILN of U-GAT-IT: a per-channel mix (rho) of instance and layer
 * normalisation, then a scale and shift. Both variances are UNBIASED (divide
 * by count - 1), as torch.var in the official release.
 *
 * stats layout: in_mean[N*C], in_rstd[N*C], ln_mean[N], ln_rstd[N], then the
 * forward pass's scratch (2 N*C doubles). */
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
                            int per_sample, int N, int C, int HW, float eps, int relu,
                            int blocked)
{
    (void)k;
    float *in_mean = stats, *in_rstd = stats + (size_t)N * C;
    float *ln_mean = stats + 2 * (size_t)N * C, *ln_rstd = ln_mean + N;
    double *moments = (double *)(ln_rstd + N); /* 2N + 2NC floats in: 8-byte aligned */
    double *sums = moments + (size_t)N * C;    /* plane means first, sums of squares after */
    const long planes = (long)N * C, L = ug_pixel_step(blocked);
    const ug_planes_kernels *kt = ug_planes_best();

    /* Each plane's mean and centred sum of squares (two passes over a plane,
     * or a block of UG_BLOCK planes, that stays in cache). */
#pragma omp parallel for schedule(static)
    for (long nb = 0; nb < planes / L; nb++) {
        const float *x = in + (size_t)nb * HW * L;
        if (blocked)
            kt->moments_blocked(x, HW, moments + nb * L, sums + nb * L);
        else
            kt->moments(x, HW, moments + nb, sums + nb);
        for (long nc = nb * L; nc < (nb + 1) * L; nc++) {
            in_mean[nc] = (float)moments[nc];
            in_rstd[nc] = (float)(1.0 / sqrt(sums[nc] / unbiased_div((size_t)HW) + eps));
        }
    }
    /* The layer statistics from the planes' (equal-sized groups): the mean
     * of the means, and each plane's sum of squares about the layer mean. */
    for (int n = 0; n < N; n++) {
        const double *mo = moments + (size_t)n * C, *sq = sums + (size_t)n * C;
        double s = 0;
        for (int c = 0; c < C; c++)
            s += mo[c];
        const double m = s / C;
        double ss = 0;
        for (int c = 0; c < C; c++)
            ss += sq[c] + (double)HW * (mo[c] - m) * (mo[c] - m);
        ln_mean[n] = (float)m;
        ln_rstd[n] = (float)(1.0 / sqrt(ss / unbiased_div((size_t)C * HW) + eps));
    }

    /* (p xin + (1 - p) xln) g + b is affine in x: a x + c, two operations a
     * pixel instead of eight, from the stored (float) statistics, exactly
     * what the backward reads. */
#pragma omp parallel for schedule(static)
    for (long nb = 0; nb < planes / L; nb++) {
        double a[UG_BLOCK], c0[UG_BLOCK];
        const double zero[UG_BLOCK] = {0};
        for (long l = 0; l < L; l++) {
            const long nc = nb * L + l;
            const int n = (int)(nc / C), c = (int)(nc % C);
            const double mi = in_mean[nc], ri = in_rstd[nc];
            const double ml = ln_mean[n], rl = ln_rstd[n];
            const double p = rho[c];
            const size_t gi = per_sample ? (size_t)nc : (size_t)c;
            const double g = gamma[gi], b = beta[gi];
            a[l] = (p * ri + (1 - p) * rl) * g;
            c0[l] = b - (p * mi * ri + (1 - p) * ml * rl) * g;
        }
        const size_t at = (size_t)nb * HW * L;
        if (blocked)
            kt->affine_blocked(out + at, in + at, HW, zero, a, c0, relu);
        else
            kt->affine(out + at, in + at, HW, 0.0, a[0], c0[0], relu);
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
