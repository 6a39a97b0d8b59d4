/* Adam with L2 weight decay, following torch.optim.Adam (single-tensor path):
 * the bias corrections and step size are computed in double, as torch does
 * with Python floats, and the per-element update in float; and the clamp that
 * projects AdaLIN's rho after it. The plain reference kernels, which the CPU
 * backend runs too. */
#include "backend/backend.h"

#include <math.h>

void ug_adam_update_ref(ug_kctx *k, float *p, const float *grad, float *m, float *v, size_t n,
                        float lr, float beta1, float beta2, float eps, float weight_decay,
                        long step)
{
    (void)k;
    const double bc1 = 1.0 - pow((double)beta1, (double)step);
    const double bc2 = 1.0 - pow((double)beta2, (double)step);
    const float step_size = (float)(lr / bc1);
    const float bc2_sqrt = (float)sqrt(bc2);
    const float a1 = 1.0f - beta1, a2 = 1.0f - beta2;
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) {
        const float g = grad[i] + weight_decay * p[i];
        m[i] = beta1 * m[i] + a1 * g;
        v[i] = beta2 * v[i] + a2 * g * g;
        const float denom = sqrtf(v[i]) / bc2_sqrt + eps;
        p[i] -= step_size * m[i] / denom;
    }
}

void ug_clamp_ref(ug_kctx *k, float *x, size_t n, float lo, float hi)
{
    (void)k;
    for (size_t i = 0; i < n; i++)
        x[i] = x[i] < lo ? lo : x[i] > hi ? hi : x[i];
}
