/* Global average pooling (the CAM's and the light MLP's input) on the
 * planes kernels: the reference (src/ops/pool.c) sums each plane in one
 * chain of double adds, latency-bound; the vector paths keep a chain per
 * lane. */
#include "backend/cpu/cpu.h"

#include "backend/cpu/planes.h"

/* out[n, c] = the mean of plane (n, c): its double sum in the path's lanes
 * (an order of its own, so the last bit may differ from the reference's). */
void ug_cpu_gap_forward(ug_kctx *k, float *out, const float *in, int N, int C, int HW)
{
    (void)k;
    const ug_planes_kernels *kt = ug_planes_best();
    const long planes = (long)N * C;
#pragma omp parallel for schedule(static)
    for (long nc = 0; nc < planes; nc++)
        out[nc] = (float)(kt->sum(in + (size_t)nc * HW, HW) / HW);
}
