/* Helpers of the CAM attention branch: per-channel scaling by the classifier
 * weights, channel concatenation, the channel-sum heatmap, and the residual add. */
#include "kernels/kernels.h"

#include <string.h>

void ug_scale_channels_forward(float *out, const float *in, const float *w, int N, int C, int HW)
{
    const long planes = (long)N * C;
#pragma omp parallel for schedule(static)
    for (long nc = 0; nc < planes; nc++) {
        const float s = w[nc % C];
        const float *x = in + (size_t)nc * HW;
        float *y = out + (size_t)nc * HW;
        for (int i = 0; i < HW; i++)
            y[i] = x[i] * s;
    }
}

void ug_scale_channels_backward(float *din, float *dw, const float *dout, const float *in,
                                const float *w, int N, int C, int HW, int acc)
{
    if (dw) {
        /* One channel per iteration, so no two threads touch the same dw[c]. */
#pragma omp parallel for schedule(static)
        for (int c = 0; c < C; c++) {
            double s = 0;
            for (int n = 0; n < N; n++) {
                const size_t off = ((size_t)n * C + c) * HW;
                for (int i = 0; i < HW; i++)
                    s += (double)dout[off + i] * in[off + i];
            }
            dw[c] += (float)s;
        }
    }
    if (din) {
        const long planes = (long)N * C;
#pragma omp parallel for schedule(static)
        for (long nc = 0; nc < planes; nc++) {
            const float s = w[nc % C];
            const float *dy = dout + (size_t)nc * HW;
            float *dx = din + (size_t)nc * HW;
            for (int i = 0; i < HW; i++)
                dx[i] = acc ? dx[i] + dy[i] * s : dy[i] * s;
        }
    }
}

void ug_concat_forward(float *out, const float *const *in, const int *C, int n_in, int N,
                       int HW)
{
    size_t total = 0;
    for (int j = 0; j < n_in; j++)
        total += (size_t)C[j] * HW;
    for (int n = 0; n < N; n++) {
        float *o = out + (size_t)n * total;
        for (int j = 0; j < n_in; j++) {
            const size_t nj = (size_t)C[j] * HW;
            memcpy(o, in[j] + (size_t)n * nj, sizeof(float) * nj);
            o += nj;
        }
    }
}

/* dst = src (acc == 0) or dst += src. */
static void copy_or_add(float *dst, const float *src, size_t n, int acc)
{
    if (!acc) {
        memcpy(dst, src, sizeof(float) * n);
        return;
    }
    for (size_t i = 0; i < n; i++)
        dst[i] += src[i];
}

void ug_concat_backward(float *const *din, const int *acc, const float *dout, const int *C,
                        int n_in, int N, int HW)
{
    size_t total = 0;
    for (int j = 0; j < n_in; j++)
        total += (size_t)C[j] * HW;
    /* Input by input, so one node given twice gets the sum of both parts. */
    for (int j = 0, off = 0; j < n_in; off += C[j] * HW, j++) {
        const size_t nj = (size_t)C[j] * HW;
        for (int n = 0; din[j] && n < N; n++)
            copy_or_add(din[j] + (size_t)n * nj, dout + (size_t)n * total + off, nj, acc[j]);
    }
}

void ug_channel_sum_forward(float *out, const float *in, int N, int C, int HW)
{
#pragma omp parallel for schedule(static)
    for (int n = 0; n < N; n++) {
        float *y = out + (size_t)n * HW;
        for (int i = 0; i < HW; i++) {
            double s = 0;
            for (int c = 0; c < C; c++)
                s += in[((size_t)n * C + c) * HW + i];
            y[i] = (float)s;
        }
    }
}

void ug_channel_sum_backward(float *din, const float *dout, int N, int C, int HW, int acc)
{
    if (!din)
        return;
    const long planes = (long)N * C;
#pragma omp parallel for schedule(static)
    for (long nc = 0; nc < planes; nc++)
        copy_or_add(din + (size_t)nc * HW, dout + (size_t)(nc / C) * HW, (size_t)HW, acc);
}

void ug_add_forward(float *out, const float *a, const float *b, size_t n)
{
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++)
        out[i] = a[i] + b[i];
}

void ug_add_backward(float *da, float *db, const float *dout, size_t n, int acc_a, int acc_b)
{
    /* Read dout[i] once before writing, so da or db may alias dout. */
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) {
        const float g = dout[i];
        if (da)
            da[i] = acc_a ? da[i] + g : g;
        if (db)
            db[i] = acc_b ? db[i] + g : g;
    }
}
