/* Layout conversion between plain and channel-blocked images (kernels.h):
 * the reference kernel, which the CPU backend runs too. Inference converts
 * only where a channel-blocked stretch of the network meets an op that
 * reads plain images (tape.c). One block of UG_BLOCK planes at a time, its
 * pixels in order: the blocked side is read or written straight through,
 * the plain side as UG_BLOCK sequential streams. */
#include "ops/ops.h"

void ug_layout_convert_ref(ug_kctx *k, float *out, const float *in, int N, int C, int HW,
                           int to_blocked)
{
    (void)k;
    const long blocks = (long)N * C / UG_BLOCK;
    const size_t span = (size_t)UG_BLOCK * HW; /* floats of a block, in either layout */
#pragma omp parallel for schedule(static)
    for (long b = 0; b < blocks; b++) {
        const float *src = in + (size_t)b * span;
        float *dst = out + (size_t)b * span;
        if (to_blocked)
            for (int i = 0; i < HW; i++)
                for (int l = 0; l < UG_BLOCK; l++)
                    dst[(size_t)i * UG_BLOCK + l] = src[(size_t)l * HW + i];
        else
            for (int i = 0; i < HW; i++)
                for (int l = 0; l < UG_BLOCK; l++)
                    dst[(size_t)l * HW + i] = src[(size_t)i * UG_BLOCK + l];
    }
}
