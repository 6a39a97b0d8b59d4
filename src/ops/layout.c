/* Layout conversion between plain and channel-blocked images (kernels.h):
 * the reference kernel, which the CPU backend runs too. Inference converts
 * only where a channel-blocked stretch of the network meets an op that
 * reads plain images (tape.c). A block of UG_BLOCK planes goes in tiles of
 * TILE pixels, a plane's run of a tile at a time: each tile is a few cache
 * lines on either side. Going through a block's pixels one at a time wrote
 * (or read) UG_BLOCK streams a plane apart at every pixel, six times slower
 * from blocked to plain on a 256 x 64 x 64 image (1.3 against 0.2 ms). */
#include "ops/ops.h"

enum { TILE = 16 };

void ug_layout_convert_ref(ug_kctx *k, float *out, const float *in, int N, int C, int HW,
                           int to_blocked)
{
    (void)k;
    const long blocks = (long)N * C / UG_BLOCK;
    const size_t span = (size_t)UG_BLOCK * HW; /* floats of a block, in either layout */
    const int tiles = (HW + TILE - 1) / TILE;
#pragma omp parallel for schedule(static)
    for (long bt = 0; bt < blocks * tiles; bt++) {
        const size_t at = (size_t)(bt / tiles) * span;
        const int i0 = (int)(bt % tiles) * TILE, m = HW - i0 < TILE ? HW - i0 : TILE;
        const float *src = in + at;
        float *dst = out + at;
        if (to_blocked)
            for (int l = 0; l < UG_BLOCK; l++)
                for (int i = i0; i < i0 + m; i++)
                    dst[(size_t)i * UG_BLOCK + l] = src[(size_t)l * HW + i];
        else
            for (int l = 0; l < UG_BLOCK; l++)
                for (int i = i0; i < i0 + m; i++)
                    dst[(size_t)l * HW + i] = src[(size_t)i * UG_BLOCK + l];
    }
}
