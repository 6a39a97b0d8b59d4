/* InstanceNorm2d without affine parameters: each (n, c) plane is normalised
 * by its own mean and BIASED variance (divide by HW), as torch does. */
#include "backend/cpu/cpu.h"

#include <math.h>

#include "backend/cpu/moments.h"

void ug_cpu_instnorm_forward(ug_kctx *k, float *out, float *mean, float *rstd, const float *in,
                             int N, int C, int HW, float eps, int relu)
{
    (void)k;
    const long planes = (long)N * C;
#pragma omp parallel for schedule(static)
    for (long nc = 0; nc < planes; nc++) {
        const float *x = in + (size_t)nc * HW;
        float *y = out + (size_t)nc * HW;
        double m, ss;
        ug_plane_moments(x, HW, &m, &ss);
        const double r = 1.0 / sqrt(ss / HW + eps);
#pragma omp simd
        for (int i = 0; i < HW; i++) {
            const float v = (float)((x[i] - m) * r);
            y[i] = relu && v < 0 ? 0 : v;
        }
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
    const long planes = (long)N * C;
#pragma omp parallel for schedule(static)
    for (long nc = 0; nc < planes; nc++) {
        const float *x = in + (size_t)nc * HW;
        const float *dy = dout + (size_t)nc * HW;
        float *dx = din + (size_t)nc * HW;
        const double m = mean[nc], r = rstd[nc];
        double sdy = 0, sdyx = 0;
#pragma omp simd reduction(+ : sdy, sdyx)
        for (int i = 0; i < HW; i++) {
            sdy += dy[i];
            sdyx += dy[i] * ((x[i] - m) * r);
        }
        const double mdy = sdy / HW, mdyx = sdyx / HW;
#pragma omp simd
        for (int i = 0; i < HW; i++) {
            const double xhat = (x[i] - m) * r;
            const float g = (float)(r * (dy[i] - mdy - xhat * mdyx));
            dx[i] = acc ? dx[i] + g : g;
        }
    }
}
