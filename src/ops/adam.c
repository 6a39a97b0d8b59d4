/* Adam with L2 weight decay, following torch.optim.Adam (single-tensor path):
 * the bias corrections and step size are computed in double, as torch does
 * with Python floats, and the per-element update in float; and the clamp that
 * projects AdaLIN's rho after it. The plain reference kernels, which the CPU
 * backend runs too. */
#include "backend/backend.h"

#include <math.h>

typedef struct adam_consts {
    float beta1, beta2, a1, a2, eps, step_size, bc2_sqrt, weight_decay;
} adam_consts;

static adam_consts consts(float lr, float beta1, float beta2, float eps, float weight_decay,
                          long step)
{
    const double bc1 = 1.0 - pow((double)beta1, (double)step);
    const double bc2 = 1.0 - pow((double)beta2, (double)step);
    return (adam_consts){beta1, beta2, 1.0f - beta1, 1.0f - beta2, eps, (float)(lr / bc1),
                         (float)sqrt(bc2), weight_decay};
}

/* One parameter's update from its gradient grad (weight decay not yet in). */
static inline void update(const adam_consts *c, float *p, float *m, float *v, float grad)
{
    const float g = grad + c->weight_decay * *p;
    *m = c->beta1 * *m + c->a1 * g;
    *v = c->beta2 * *v + c->a2 * g * g;
    const float denom = sqrtf(*v) / c->bc2_sqrt + c->eps;
    *p -= c->step_size * *m / denom;
}

void ug_adam_update_ref(ug_kctx *k, float *p, const float *grad, float *m, float *v, size_t n,
                        float lr, float beta1, float beta2, float eps, float weight_decay,
                        long step)
{
    (void)k;
    const adam_consts c = consts(lr, beta1, beta2, eps, weight_decay, step);
#pragma omp parallel for simd schedule(static)
    for (size_t i = 0; i < n; i++)
        update(&c, &p[i], &m[i], &v[i], grad[i]);
}

/* Columns go in blocks, outermost: a block of every term's v stays in cache
 * while the rows of p, m and v stream past once. */
#define TERMS_BLOCK 512

void ug_adam_update_terms_ref(ug_kctx *k, float *p, const float *u, const float *vt, int rank,
                              int rows, int cols, float scale, float *m, float *v, float lr,
                              float beta1, float beta2, float eps, float weight_decay, long step)
{
    (void)k;
    const adam_consts c = consts(lr, beta1, beta2, eps, weight_decay, step);
    const int blocks = (cols + TERMS_BLOCK - 1) / TERMS_BLOCK;
#pragma omp parallel for schedule(static)
    for (int b = 0; b < blocks; b++) {
        const int i0 = b * TERMS_BLOCK, n = cols - i0 < TERMS_BLOCK ? cols - i0 : TERMS_BLOCK;
        float g[TERMS_BLOCK];
        for (int o = 0; o < rows; o++) {
            for (int i = 0; i < n; i++)
                g[i] = 0;
            for (int r = 0; r < rank; r++) {
                const float ur = u[(size_t)r * rows + o], *vr = vt + (size_t)r * cols + i0;
#pragma omp simd
                for (int i = 0; i < n; i++)
                    g[i] += ur * vr[i];
            }
            const size_t row = (size_t)o * cols + i0;
#pragma omp simd
            for (int i = 0; i < n; i++)
                update(&c, &p[row + i], &m[row + i], &v[row + i], scale * g[i]);
        }
    }
}

void ug_clamp_ref(ug_kctx *k, float *x, size_t n, float lo, float hi)
{
    (void)k;
    for (size_t i = 0; i < n; i++)
        x[i] = x[i] < lo ? lo : x[i] > hi ? hi : x[i];
}
