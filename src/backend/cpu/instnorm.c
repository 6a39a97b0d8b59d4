/* InstanceNorm2d without affine parameters: each (n, c) plane is normalised
 * by its own mean and BIASED variance (divide by HW), as torch does. */
#include "backend/cpu/cpu.h"

#include <math.h>

#include "backend/cpu/planes.h"

/* One plane at a time, or channel-blocked UG_BLOCK planes at a time, a lane
 * each. */
void ug_cpu_instnorm_forward(ug_kctx *k, float *out, float *mean, float *rstd, const float *in,
                             int N, int C, int HW, float eps, int relu, int blocked)
{
    (void)k;
    const ug_planes_kernels *kt = ug_planes_best();
    const int L = ug_pixel_step(blocked);
    const long groups = (long)N * C / L;
#pragma omp parallel for schedule(static)
    for (long g = 0; g < groups; g++) {
        const size_t at = (size_t)g * HW * L;
        double m[UG_BLOCK], ss[UG_BLOCK], r[UG_BLOCK];
        const double zero[UG_BLOCK] = {0};
        if (blocked)
            kt->moments_blocked(in + at, HW, m, ss);
        else
            kt->moments(in + at, HW, m, ss);
        for (int l = 0; l < L; l++) {
            r[l] = 1.0 / sqrt(ss[l] / HW + eps);
            mean[g * L + l] = (float)m[l];
            rstd[g * L + l] = (float)r[l];
        }
        if (blocked)
            kt->affine_blocked(out + at, in + at, HW, m, r, zero, relu);
        else
            kt->affine(out + at, in + at, HW, m[0], r[0], 0.0, relu);
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
