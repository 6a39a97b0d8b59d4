/* Windowed max and average pooling as torch.nn.MaxPool2d and AvgPool2d
 * (ceil_mode false): kernel kh x kw, one stride, the same padding on every
 * side. Max pooling pads with -inf and keeps the first maximum of a window
 * in row-major order (a NaN wins, as in PyTorch); the gradient goes to it.
 * Average pooling pads with zeros and divides by kh * kw (count_pad) or by
 * the number of input pixels in the window. */
#include "kernels/kernels.h"

#include <math.h>
#include <string.h>

int ug_pool_out_h(const ug_pool_shape *s) { return (s->H + 2 * s->pad - s->kh) / s->stride + 1; }
int ug_pool_out_w(const ug_pool_shape *s) { return (s->W + 2 * s->pad - s->kw) / s->stride + 1; }

/* The window of output (oh, ow) clipped to the input: rows [*h0, *h1), columns [*w0, *w1). */
static void window(const ug_pool_shape *s, int oh, int ow, int *h0, int *h1, int *w0, int *w1)
{
    const int hs = oh * s->stride - s->pad, ws = ow * s->stride - s->pad;
    *h0 = hs < 0 ? 0 : hs, *h1 = hs + s->kh > s->H ? s->H : hs + s->kh;
    *w0 = ws < 0 ? 0 : ws, *w1 = ws + s->kw > s->W ? s->W : ws + s->kw;
}

void ug_maxpool_forward(float *out, int32_t *argmax, const float *in, const ug_pool_shape *s)
{
    const int OH = ug_pool_out_h(s), OW = ug_pool_out_w(s);
    const long planes = (long)s->N * s->C;
#pragma omp parallel for schedule(static)
    for (long nc = 0; nc < planes; nc++) {
        const float *x = in + (size_t)nc * s->H * s->W;
        for (int oh = 0; oh < OH; oh++)
            for (int ow = 0; ow < OW; ow++) {
                int h0, h1, w0, w1;
                window(s, oh, ow, &h0, &h1, &w0, &w1);
                int best = h0 * s->W + w0;
                float m = -INFINITY;
                for (int h = h0; h < h1; h++)
                    for (int w = w0; w < w1; w++) {
                        const float v = x[h * s->W + w];
                        if (v > m || isnan(v)) {
                            m = v, best = h * s->W + w;
                            if (isnan(v))
                                h = h1, w = w1; /* a NaN is the maximum */
                        }
                    }
                const size_t o = ((size_t)nc * OH + oh) * OW + ow;
                out[o] = m;
                argmax[o] = best;
            }
    }
}

void ug_maxpool_backward(float *din, const float *dout, const int32_t *argmax,
                         const ug_pool_shape *s, int acc)
{
    const size_t HW = (size_t)s->H * s->W, OHW = (size_t)ug_pool_out_h(s) * ug_pool_out_w(s);
    const long planes = (long)s->N * s->C;
#pragma omp parallel for schedule(static)
    for (long nc = 0; nc < planes; nc++) {
        float *d = din + (size_t)nc * HW;
        if (!acc)
            memset(d, 0, HW * sizeof *d);
        for (size_t o = 0; o < OHW; o++)
            d[argmax[nc * OHW + o]] += dout[nc * OHW + o];
    }
}

/* The divisor of output (oh, ow)'s window. */
static int divisor(const ug_pool_shape *s, int count_pad, int h0, int h1, int w0, int w1)
{
    return count_pad ? s->kh * s->kw : (h1 - h0) * (w1 - w0);
}

void ug_avgpool_forward(float *out, const float *in, const ug_pool_shape *s, int count_pad)
{
    const int OH = ug_pool_out_h(s), OW = ug_pool_out_w(s);
    const long planes = (long)s->N * s->C;
#pragma omp parallel for schedule(static)
    for (long nc = 0; nc < planes; nc++) {
        const float *x = in + (size_t)nc * s->H * s->W;
        for (int oh = 0; oh < OH; oh++)
            for (int ow = 0; ow < OW; ow++) {
                int h0, h1, w0, w1;
                window(s, oh, ow, &h0, &h1, &w0, &w1);
                double sum = 0;
                for (int h = h0; h < h1; h++)
                    for (int w = w0; w < w1; w++)
                        sum += x[h * s->W + w];
                out[((size_t)nc * OH + oh) * OW + ow] =
                    (float)(sum / divisor(s, count_pad, h0, h1, w0, w1));
            }
    }
}

void ug_avgpool_backward(float *din, const float *dout, const ug_pool_shape *s, int count_pad,
                         int acc)
{
    const int OH = ug_pool_out_h(s), OW = ug_pool_out_w(s);
    const size_t HW = (size_t)s->H * s->W;
    const long planes = (long)s->N * s->C;
#pragma omp parallel for schedule(static)
    for (long nc = 0; nc < planes; nc++) {
        float *d = din + (size_t)nc * HW;
        if (!acc)
            memset(d, 0, HW * sizeof *d);
        for (int oh = 0; oh < OH; oh++)
            for (int ow = 0; ow < OW; ow++) {
                int h0, h1, w0, w1;
                window(s, oh, ow, &h0, &h1, &w0, &w1);
                const float g = dout[((size_t)nc * OH + oh) * OW + ow] /
                                (float)divisor(s, count_pad, h0, h1, w0, w1);
                for (int h = h0; h < h1; h++)
                    for (int w = w0; w < w1; w++)
                        d[h * s->W + w] += g;
            }
    }
}
