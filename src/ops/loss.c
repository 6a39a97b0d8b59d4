/* The training losses, each a mean over n elements (accumulated in double):
 * MSE against a constant, L1 between two arrays, and binary cross entropy
 * with logits against a constant. Backward passes write scale * dloss/dx.
 * The plain reference kernels, which the CPU backend runs too. */
#include "backend/backend.h"

#include <math.h>

static inline void put(float *dx, size_t i, float g, int acc)
{
    dx[i] = acc ? dx[i] + g : g;
}

float ug_mse_const_forward_ref(ug_kctx *k, const float *x, size_t n, float target)
{
    (void)k;
    double s = 0;
#pragma omp parallel for schedule(static) reduction(+ : s)
    for (size_t i = 0; i < n; i++) {
        const double d = (double)x[i] - target;
        s += d * d;
    }
    return (float)(s / (double)n);
}

void ug_mse_const_backward_ref(ug_kctx *k, float *dx, const float *x, size_t n, float target,
                               float scale, int acc)
{
    (void)k;
    if (!dx)
        return;
    const float f = (float)(2.0 * scale / (double)n);
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++)
        put(dx, i, f * (x[i] - target), acc);
}

float ug_l1_forward_ref(ug_kctx *k, const float *x, const float *y, size_t n)
{
    (void)k;
    double s = 0;
#pragma omp parallel for schedule(static) reduction(+ : s)
    for (size_t i = 0; i < n; i++)
        s += fabs((double)x[i] - y[i]);
    return (float)(s / (double)n);
}

void ug_l1_backward_ref(ug_kctx *k, float *dx, const float *x, const float *y, size_t n,
                        float scale, int acc)
{
    (void)k;
    if (!dx)
        return;
    const float f = (float)(scale / (double)n);
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) {
        const float d = x[i] - y[i];
        const float sgn = d > 0 ? 1.0f : (d < 0 ? -1.0f : 0.0f);
        put(dx, i, f * sgn, acc);
    }
}

/* max(x, 0) - x t + log(1 + exp(-|x|)): never overflows. */
float ug_bce_logits_const_forward_ref(ug_kctx *k, const float *x, size_t n, float target)
{
    (void)k;
    double s = 0;
#pragma omp parallel for schedule(static) reduction(+ : s)
    for (size_t i = 0; i < n; i++) {
        const double v = x[i];
        s += (v > 0 ? v : 0) - v * target + log1p(exp(-fabs(v)));
    }
    return (float)(s / (double)n);
}

/* d/dx = sigmoid(x) - t, with a sigmoid that does not overflow for either sign. */
void ug_bce_logits_const_backward_ref(ug_kctx *k, float *dx, const float *x, size_t n,
                                      float target, float scale, int acc)
{
    (void)k;
    if (!dx)
        return;
    const double f = scale / (double)n;
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) {
        const double v = x[i];
        const double sig = v >= 0 ? 1.0 / (1.0 + exp(-v)) : exp(v) / (1.0 + exp(v));
        put(dx, i, (float)(f * (sig - target)), acc);
    }
}

static inline float sigmoidf_stable(float v)
{
    return v >= 0 ? 1.0f / (1.0f + expf(-v)) : expf(v) / (1.0f + expf(v));
}

static inline double clamped_log(float p)
{
    const double l = log((double)p);
    return l < -100.0 ? -100.0 : l;
}

/* The probability is a float, as torch.sigmoid gives it, so a saturated
 * sigmoid (p == 1 or 0) meets the clamp as in PyTorch. */
float ug_bce_prob_const_forward_ref(ug_kctx *k, const float *x, size_t n, float target)
{
    (void)k;
    double s = 0;
#pragma omp parallel for schedule(static) reduction(+ : s)
    for (size_t i = 0; i < n; i++) {
        const float p = sigmoidf_stable(x[i]);
        s -= target * clamped_log(p) + (1.0 - target) * clamped_log(1.0f - p);
    }
    return (float)(s / (double)n);
}

void ug_bce_prob_const_backward_ref(ug_kctx *k, float *dx, const float *x, size_t n,
                                    float target, float scale, int acc)
{
    (void)k;
    if (!dx)
        return;
    const float f = (float)(scale / (double)n);
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) {
        const float p = sigmoidf_stable(x[i]);
        const float pq = (1.0f - p) * p;
        const float dp = f * (p - target) / (pq > 1e-12f ? pq : 1e-12f);
        put(dx, i, dp * pq, acc);
    }
}
