/* Reflection padding (torch.nn.ReflectionPad2d): the edge pixel is not
 * repeated, so index -1 maps to 1 and index H maps to H - 2. */
#include "kernels/kernels.h"

#include <string.h>

/* Source index for padded coordinate i in [-p, n + p); valid while p < n. */
static int reflect(int i, int n)
{
    if (i < 0)
        return -i;
    if (i >= n)
        return 2 * (n - 1) - i;
    return i;
}

void ug_pad_reflect_forward(float *out, const float *in, int N, int C, int H, int W, int p)
{
    const int OH = H + 2 * p, OW = W + 2 * p;
    const long planes = (long)N * C;
#pragma omp parallel for schedule(static)
    for (long nc = 0; nc < planes; nc++) {
        const float *src = in + (size_t)nc * H * W;
        float *dst = out + (size_t)nc * OH * OW;
        for (int y = 0; y < OH; y++) {
            const float *row = src + (size_t)reflect(y - p, H) * W;
            float *orow = dst + (size_t)y * OW;
            for (int x = 0; x < OW; x++)
                orow[x] = row[reflect(x - p, W)];
        }
    }
}

void ug_pad_reflect_backward(float *din, const float *dout, int N, int C, int H, int W, int p,
                             int acc)
{
    if (!din)
        return;
    const int OH = H + 2 * p, OW = W + 2 * p;
    const long planes = (long)N * C;
#pragma omp parallel for schedule(static)
    for (long nc = 0; nc < planes; nc++) {
        float *dst = din + (size_t)nc * H * W;
        const float *src = dout + (size_t)nc * OH * OW;
        if (!acc)
            memset(dst, 0, sizeof(float) * (size_t)H * W);
        /* Several padded pixels read the same input pixel: sum them. */
        for (int y = 0; y < OH; y++) {
            float *row = dst + (size_t)reflect(y - p, H) * W;
            const float *orow = src + (size_t)y * OW;
            for (int x = 0; x < OW; x++)
                row[reflect(x - p, W)] += orow[x];
        }
    }
}
