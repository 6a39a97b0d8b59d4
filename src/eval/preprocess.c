/* pytorch-fid's preprocessing (see preprocess.h). */
#include "eval/preprocess.h"

#include <math.h>
#include <stdlib.h>

#include "eval/inception.h"

/* PyTorch's linear source index and weights along one axis. */
static void taps(int *i0, int *i1, float *w1, int out, int in)
{
    const float scale = (float)in / (float)out;
    for (int d = 0; d < out; d++) {
        float src = scale * ((float)d + 0.5f) - 0.5f;
        src = src < 0 ? 0 : src;
        int i = (int)floorf(src);
        float l = src - (float)i;
        i0[d] = i;
        i1[d] = i + (i < in - 1 ? 1 : 0);
        w1[d] = l < 0 ? 0 : l > 1 ? 1 : l;
    }
}

int ug_resize_bilinear_torch(float *dst, int dw, int dh, const float *src, int sw, int sh,
                             ug_error *err)
{
    int *x0 = malloc(sizeof(int) * (size_t)(2 * dw + 2 * dh));
    float *wx = malloc(sizeof(float) * (size_t)(dw + dh));
    if (!x0 || !wx) {
        free(x0), free(wx);
        return ug_fail(err, "out of memory resizing to %dx%d", dw, dh);
    }
    int *x1 = x0 + dw, *y0 = x1 + dw, *y1 = y0 + dh;
    float *wy = wx + dw;
    taps(x0, x1, wx, dw, sw);
    taps(y0, y1, wy, dh, sh);
    for (int y = 0; y < dh; y++) {
        const float *r0 = src + (size_t)y0[y] * sw, *r1 = src + (size_t)y1[y] * sw;
        const float h1 = wy[y], h0 = 1 - h1;
        for (int x = 0; x < dw; x++) {
            const float w1 = wx[x], w0 = 1 - w1;
            dst[(size_t)y * dw + x] = h0 * (w0 * r0[x0[x]] + w1 * r0[x1[x]]) +
                                      h1 * (w0 * r1[x0[x]] + w1 * r1[x1[x]]);
        }
    }
    free(x0);
    free(wx);
    return 0;
}

int ug_inception_prepare(float *chw, const ug_image *img, ug_error *err)
{
    const size_t plane = (size_t)img->w * img->h;
    float *src = malloc(plane * sizeof *src);
    if (!src)
        return ug_fail(err, "out of memory for a %dx%d image", img->w, img->h);
    const int S = UG_INCEPTION_SIZE;
    for (int c = 0; c < 3; c++) {
        for (size_t i = 0; i < plane; i++)
            src[i] = (float)img->rgb[3 * i + c] / 255.0f;
        float *out = chw + (size_t)c * S * S;
        if (ug_resize_bilinear_torch(out, S, S, src, img->w, img->h, err) < 0) {
            free(src);
            return -1;
        }
        for (int i = 0; i < S * S; i++)
            out[i] = 2 * out[i] - 1;
    }
    free(src);
    return 0;
}
