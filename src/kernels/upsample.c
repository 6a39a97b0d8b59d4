/* Nearest-neighbour upsampling by 2 (nn.Upsample(scale_factor=2)): each
 * input pixel becomes a 2 x 2 block, so its gradient is the block's sum. */
#include "kernels/kernels.h"

void ug_upsample2_forward(float *out, const float *in, int N, int C, int H, int W)
{
    const int OW = 2 * W;
    const long planes = (long)N * C;
#pragma omp parallel for schedule(static)
    for (long nc = 0; nc < planes; nc++) {
        const float *src = in + (size_t)nc * H * W;
        float *dst = out + (size_t)nc * 4 * H * W;
        for (int y = 0; y < 2 * H; y++) {
            const float *row = src + (size_t)(y / 2) * W;
            float *orow = dst + (size_t)y * OW;
            for (int x = 0; x < OW; x++)
                orow[x] = row[x / 2];
        }
    }
}

void ug_upsample2_backward(float *din, const float *dout, int N, int C, int H, int W, int acc)
{
    if (!din)
        return;
    const int OW = 2 * W;
    const long planes = (long)N * C;
#pragma omp parallel for schedule(static)
    for (long nc = 0; nc < planes; nc++) {
        const float *src = dout + (size_t)nc * 4 * H * W;
        float *dst = din + (size_t)nc * H * W;
        for (int y = 0; y < H; y++) {
            const float *r0 = src + (size_t)(2 * y) * OW;
            const float *r1 = r0 + OW;
            for (int x = 0; x < W; x++) {
                const float g = r0[2 * x] + r0[2 * x + 1] + r1[2 * x] + r1[2 * x + 1];
                float *d = dst + (size_t)y * W + x;
                *d = acc ? *d + g : g;
            }
        }
    }
}
