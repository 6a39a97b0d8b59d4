/* BatchNorm over N, H, W per channel, with affine weight and bias, as
 * torch.nn.BatchNorm2d: training normalises by the batch's mean and biased
 * variance and moves the running statistics towards the batch's mean and
 * unbiased variance; evaluation normalises by the running statistics. */
#include "backend/cpu/cpu.h"

#include <math.h>

void ug_cpu_batchnorm_forward(ug_kctx *k, float *out, float *mean, float *rstd, const float *in,
                              const float *w, const float *b, float *running_mean,
                              float *running_var, int train, int N, int C, int HW, float eps,
                              float momentum)
{
    (void)k;
    const double M = (double)N * HW;
#pragma omp parallel for schedule(static)
    for (int c = 0; c < C; c++) {
        double mu, var;
        if (train) {
            double s = 0, ss = 0;
            for (int n = 0; n < N; n++) {
                const float *x = in + ((size_t)n * C + c) * HW;
                for (int i = 0; i < HW; i++)
                    s += x[i];
            }
            mu = s / M;
            for (int n = 0; n < N; n++) {
                const float *x = in + ((size_t)n * C + c) * HW;
                for (int i = 0; i < HW; i++)
                    ss += (x[i] - mu) * (x[i] - mu);
            }
            var = ss / M;
            running_mean[c] = (float)((1 - momentum) * running_mean[c] + momentum * mu);
            running_var[c] =
                (float)((1 - momentum) * running_var[c] + momentum * ss / (M - 1));
        } else {
            mu = running_mean[c], var = running_var[c];
        }
        const double r = 1.0 / sqrt(var + eps);
        mean[c] = (float)mu, rstd[c] = (float)r;
        const float scale = (float)(r * w[c]), shift = (float)(b[c] - mu * r * w[c]);
        for (int n = 0; n < N; n++) {
            const float *x = in + ((size_t)n * C + c) * HW;
            float *y = out + ((size_t)n * C + c) * HW;
            for (int i = 0; i < HW; i++)
                y[i] = x[i] * scale + shift;
        }
    }
}

void ug_cpu_batchnorm_backward(ug_kctx *k, float *din, float *dw, float *db, const float *dout,
                               const float *in, const float *mean, const float *rstd,
                               const float *w, int train, int N, int C, int HW, int acc)
{
    (void)k;
    const double M = (double)N * HW;
#pragma omp parallel for schedule(static)
    for (int c = 0; c < C; c++) {
        const double mu = mean[c], r = rstd[c];
        double sdy = 0, sdyx = 0; /* sums of dout and dout * xhat over the channel */
        for (int n = 0; n < N; n++) {
            const size_t off = ((size_t)n * C + c) * HW;
            for (int i = 0; i < HW; i++) {
                sdy += dout[off + i];
                sdyx += dout[off + i] * (in[off + i] - mu) * r;
            }
        }
        if (dw)
            dw[c] += (float)sdyx;
        if (db)
            db[c] += (float)sdy;
        if (!din)
            continue;
        /* Training: the batch statistics depend on x too. */
        const double k = r * w[c], mdy = train ? sdy / M : 0, mdyx = train ? sdyx / M : 0;
        for (int n = 0; n < N; n++) {
            const size_t off = ((size_t)n * C + c) * HW;
            for (int i = 0; i < HW; i++) {
                const double xh = (in[off + i] - mu) * r;
                const float g = (float)(k * (dout[off + i] - mdy - xh * mdyx));
                din[off + i] = acc ? din[off + i] + g : g;
            }
        }
    }
}
