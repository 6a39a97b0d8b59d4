/* Gaussian latent codes of a VAE encoder (DRIT's attribute encoder): the
 * reparameterisation z = mu + eps * exp(logvar / 2) with eps given, and the
 * KL divergence of N(mu, exp(logvar)) from N(0, I) summed over the code.
 * The plain reference kernels, which the CPU backend runs too (the codes
 * are a few values per image). */
#include <math.h>

#include "backend/backend.h"

void ug_reparam_forward_ref(ug_kctx *k, float *z, const float *mu, const float *logvar,
                            const float *eps, size_t n)
{
    (void)k;
    for (size_t i = 0; i < n; i++)
        z[i] = mu[i] + eps[i] * expf(0.5f * logvar[i]);
}

void ug_reparam_backward_ref(ug_kctx *k, float *dmu, float *dlogvar, const float *dz,
                             const float *logvar, const float *eps, size_t n, int acc)
{
    (void)k;
    for (size_t i = 0; i < n; i++) {
        const float dl = dz[i] * eps[i] * 0.5f * expf(0.5f * logvar[i]);
        if (dmu)
            dmu[i] = acc ? dmu[i] + dz[i] : dz[i];
        if (dlogvar)
            dlogvar[i] = acc ? dlogvar[i] + dl : dl;
    }
}

float ug_kl_gauss_sum_forward_ref(ug_kctx *k, const float *mu, const float *logvar, size_t n)
{
    (void)k;
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += 1.0 + logvar[i] - (double)mu[i] * mu[i] - exp((double)logvar[i]);
    return (float)(-0.5 * s);
}

void ug_kl_gauss_sum_backward_ref(ug_kctx *k, float *dmu, float *dlogvar, const float *mu,
                                  const float *logvar, size_t n, float scale, int acc)
{
    (void)k;
    for (size_t i = 0; i < n; i++) {
        const float gm = scale * mu[i], gl = scale * 0.5f * (expf(logvar[i]) - 1.0f);
        if (dmu)
            dmu[i] = acc ? dmu[i] + gm : gm;
        if (dlogvar)
            dlogvar[i] = acc ? dlogvar[i] + gl : gl;
    }
}
