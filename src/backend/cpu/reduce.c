/* Sums over a plane and across channels, on the planes kernels: global
 * average pooling (the CAM's and the light MLP's input) and the channel sum
 * (the heatmap). The references (src/ops) add in one double chain per
 * output, latency-bound; here the vector paths keep many chains. */
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

/* out[n, i] = the sum over c of in[n, c, i], in runs of RUN pixels as the
 * reference goes, each pixel's sum in channel order as there: the same
 * bits, the runs' adds in vector lanes. */
void ug_cpu_channel_sum_forward(ug_kctx *k, float *out, const float *in, int N, int C, int HW)
{
    (void)k;
    enum { RUN = 256 };
    const ug_planes_kernels *kt = ug_planes_best();
    const int runs = (HW + RUN - 1) / RUN;
#pragma omp parallel for schedule(static)
    for (long nr = 0; nr < (long)N * runs; nr++) {
        const int n = (int)(nr / runs), i0 = (int)(nr % runs) * RUN;
        const int m = HW - i0 < RUN ? HW - i0 : RUN;
        double s[RUN] = {0};
        for (int c = 0; c < C; c++)
            kt->accumulate(s, in + ((size_t)n * C + c) * HW + i0, m);
        for (int i = 0; i < m; i++)
            out[(size_t)n * HW + i0 + i] = (float)s[i];
    }
}
