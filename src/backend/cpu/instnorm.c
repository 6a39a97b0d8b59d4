/* InstanceNorm2d without affine parameters: each (n, c) plane is normalised
 * by its own mean and BIASED variance (divide by HW), as torch does. */
#include "backend/cpu/cpu.h"

#include <math.h>

#include "backend/cpu/planes.h"

/* Channel-blocked: UG_BLOCK planes at a time, a lane each. */
static void instnorm_blocked(const ug_planes_kernels *kt, float *out, float *mean, float *rstd,
                             const float *in, int N, int C, int HW, float eps, int relu)
{
    const long blocks = (long)N * C / UG_BLOCK;
#pragma omp parallel for schedule(static)
    for (long nb = 0; nb < blocks; nb++) {
        const size_t at = (size_t)nb * HW * UG_BLOCK;
        double m[UG_BLOCK], ss[UG_BLOCK], r[UG_BLOCK];
        const double zero[UG_BLOCK] = {0};
        kt->moments_blocked(in + at, HW, m, ss);
        for (int l = 0; l < UG_BLOCK; l++) {
            r[l] = 1.0 / sqrt(ss[l] / HW + eps);
            mean[nb * UG_BLOCK + l] = (float)m[l];
            rstd[nb * UG_BLOCK + l] = (float)r[l];
        }
        kt->affine_blocked(out + at, in + at, HW, m, r, zero, relu);
    }
}

void ug_cpu_instnorm_forward(ug_kctx *k, float *out, float *mean, float *rstd, const float *in,
                             int N, int C, int HW, float eps, int relu, int blocked)
{
    (void)k;
    const ug_planes_kernels *kt = ug_planes_best();
    if (blocked) {
        instnorm_blocked(kt, out, mean, rstd, in, N, C, HW, eps, relu);
        return;
    }
    const long planes = (long)N * C;
#pragma omp parallel for schedule(static)
    for (long nc = 0; nc < planes; nc++) {
        const float *x = in + (size_t)nc * HW;
        double m, ss;
        kt->moments(x, HW, &m, &ss);
        const double r = 1.0 / sqrt(ss / HW + eps);
        kt->affine(out + (size_t)nc * HW, x, HW, m, r, 0.0, relu);
        mean[nc] = (float)m;
        rstd[nc] = (float)r;
    }
}

/* dx = r * (dy - mean(dy) - xhat * mean(dy * xhat)). */
void ug_cpu_instnorm_backward(ug_kctx *k, float *din, const float *dout, const float *in,
                              const float *mean, const float *rstd, int N, int C, int HW, int acc)
{
    (void)k;
    if (!din)
        return;
    const ug_planes_kernels *kt = ug_planes_best();
    const long planes = (long)N * C;
#pragma omp parallel for schedule(static)
    for (long nc = 0; nc < planes; nc++)
        kt->instnorm_grad(din + (size_t)nc * HW, dout + (size_t)nc * HW, in + (size_t)nc * HW, HW,
                          mean[nc], rstd[nc], acc);
}
