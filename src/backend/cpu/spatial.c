/* Reflection padding and 2x nearest up-sampling, as src/ops/spatial.c's
 * references but a row at a time: the reference finds the source of every
 * pixel through a branch, which no compiler vectorises; here each row is
 * its mirrored edges and one straight copy (or sum), in either layout. The backward passes
 * add the same terms in the same order as the references, so the results
 * are the same bit for bit. */
#include <string.h>

#include "backend/cpu/cpu.h"

/* Row of a plane of n rows read by padded row i (p < n), as the reference's reflect. */
static int mirror(int i, int n)
{
    return i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i;
}

/* A pixel is L floats: 1 plain, UG_BLOCK channel-blocked. */
void ug_cpu_pad_reflect_forward(ug_kctx *k, float *out, const float *in, int N, int C, int H,
                                int W, int p, int blocked)
{
    (void)k;
    const int OH = H + 2 * p, OW = W + 2 * p, L = ug_pixel_step(blocked);
    const size_t px = sizeof(float) * (size_t)L;
    const long planes = (long)N * C / L;
#pragma omp parallel for schedule(static)
    for (long nc = 0; nc < planes; nc++) {
        const float *src = in + (size_t)nc * H * W * L;
        float *dst = out + (size_t)nc * OH * OW * L;
        for (int y = 0; y < OH; y++) {
            const float *row = src + (size_t)mirror(y - p, H) * W * L;
            float *o = dst + (size_t)y * OW * L;
            if (L == 1)
                for (int x = 0; x < p; x++) {
                    o[x] = row[p - x];
                    o[p + W + x] = row[W - 2 - x];
                }
            else
                for (int x = 0; x < p; x++) {
                    memcpy(o + (size_t)x * L, row + (size_t)(p - x) * L, px);
                    memcpy(o + (size_t)(p + W + x) * L, row + (size_t)(W - 2 - x) * L, px);
                }
            memcpy(o + (size_t)p * L, row, px * (size_t)W);
        }
    }
}

void ug_cpu_pad_reflect_backward(ug_kctx *k, float *din, const float *dout, int N, int C, int H,
                                 int W, int p, int acc)
{
    (void)k;
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
        /* Padded rows in order and, within one, the left edge, the middle,
         * the right edge: each input pixel gets its terms in the
         * reference's order. */
        for (int y = 0; y < OH; y++) {
            float *row = dst + (size_t)mirror(y - p, H) * W;
            const float *o = src + (size_t)y * OW;
            for (int x = 0; x < p; x++)
                row[p - x] += o[x];
#pragma omp simd
            for (int x = 0; x < W; x++)
                row[x] += o[p + x];
            for (int x = 0; x < p; x++)
                row[W - 2 - x] += o[p + W + x];
        }
    }
}

void ug_cpu_upsample2_forward(ug_kctx *k, float *out, const float *in, int N, int C, int H,
                              int W, int blocked)
{
    (void)k;
    const int OW = 2 * W, L = ug_pixel_step(blocked);
    const long planes = (long)N * C / L;
#pragma omp parallel for schedule(static)
    for (long nc = 0; nc < planes; nc++) {
        const float *src = in + (size_t)nc * H * W * L;
        float *dst = out + (size_t)nc * 4 * H * W * L;
        for (int y = 0; y < H; y++) {
            const float *row = src + (size_t)y * W * L;
            float *o = dst + (size_t)(2 * y) * OW * L;
            if (L == 1) {
#pragma omp simd
                for (int x = 0; x < W; x++) {
                    o[2 * x] = row[x];
                    o[2 * x + 1] = row[x];
                }
            } else {
                for (int x = 0; x < W; x++)
                    for (int l = 0; l < UG_BLOCK; l++) {
                        o[(size_t)(2 * x) * UG_BLOCK + l] = row[(size_t)x * UG_BLOCK + l];
                        o[(size_t)(2 * x + 1) * UG_BLOCK + l] = row[(size_t)x * UG_BLOCK + l];
                    }
            }
            memcpy(o + (size_t)OW * L, o, sizeof(float) * (size_t)OW * L);
        }
    }
}
