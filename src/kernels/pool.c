/* Global average and max pooling over each (n, c) plane (the CAM branch).
 * Max pooling keeps the first maximum on ties and routes the gradient to it. */
#include "kernels/kernels.h"

#include <string.h>

void ug_gap_forward(float *out, const float *in, int N, int C, int HW)
{
    const long planes = (long)N * C;
#pragma omp parallel for schedule(static)
    for (long nc = 0; nc < planes; nc++) {
        const float *x = in + (size_t)nc * HW;
        double s = 0;
        for (int i = 0; i < HW; i++)
            s += x[i];
        out[nc] = (float)(s / HW);
    }
}

void ug_gap_backward(float *din, const float *dout, int N, int C, int HW, int acc)
{
    if (!din)
        return;
    const long planes = (long)N * C;
#pragma omp parallel for schedule(static)
    for (long nc = 0; nc < planes; nc++) {
        float *dx = din + (size_t)nc * HW;
        const float g = dout[nc] / (float)HW;
        for (int i = 0; i < HW; i++)
            dx[i] = acc ? dx[i] + g : g;
    }
}

void ug_gmp_forward(float *out, int32_t *argmax, const float *in, int N, int C, int HW)
{
    const long planes = (long)N * C;
#pragma omp parallel for schedule(static)
    for (long nc = 0; nc < planes; nc++) {
        const float *x = in + (size_t)nc * HW;
        int best = 0;
        for (int i = 1; i < HW; i++)
            if (x[i] > x[best]) /* strict: the first maximum wins ties */
                best = i;
        out[nc] = x[best];
        argmax[nc] = best;
    }
}

void ug_gmp_backward(float *din, const float *dout, const int32_t *argmax, int N, int C, int HW,
                     int acc)
{
    if (!din)
        return;
    const long planes = (long)N * C;
#pragma omp parallel for schedule(static)
    for (long nc = 0; nc < planes; nc++) {
        float *dx = din + (size_t)nc * HW;
        if (!acc)
            memset(dx, 0, sizeof(float) * (size_t)HW);
        dx[argmax[nc]] += dout[nc];
    }
}
