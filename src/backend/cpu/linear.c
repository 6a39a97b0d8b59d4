/* The CPU backend's fully connected layer: out = in * w^T + b by oneDNN's
 * row-major sgemm, which also
 * accumulates dw in place (beta = 1), so no copy of a weight-sized array is
 * ever made (the CAM layer's weight is 256 x 1,048,576); one image through a
 * weight larger than the caches by our matrix-vector product. */
#include <omp.h>
#include <string.h>

#include "backend/cpu/cpu.h"
#include "backend/cpu/planes.h"

/* Floats of a weight from which one image takes matvec (16 MB, past the L2
 * caches), and of the slices of x it takes at a time (256 KB, within them). */
#define MATVEC_MIN_WEIGHT (1L << 22)
#define MATVEC_SLICE 65536

/* out (O) = w (O x I) x + b, bound by reading w once. Each thread takes a
 * share of the rows and passes them over x a slice at a time, so the slice
 * stays in its cache while the rows stream by, four at a time sharing each
 * load of x; sgemm reads x again from the shared cache for every row. The
 * full generator's 256 x 1,048,576 weight on 2 cores: 16.5 against 17.2 ms
 * on a quiet host, 19 to 24 against 21 to 29 on a busy one. */
static void matvec(float *out, const float *x, const float *w, const float *b, int I, int O)
{
    const ug_planes_kernels *kt = ug_planes_best();
#pragma omp parallel
    {
        const int nt = omp_get_num_threads(), id = omp_get_thread_num();
        const int o0 = (int)((long)O * id / nt), o1 = (int)((long)O * (id + 1) / nt);
        for (int o = o0; o < o1; o++)
            out[o] = b ? b[o] : 0.0f;
        for (int c = 0; c < I; c += MATVEC_SLICE) {
            const int n = I - c < MATVEC_SLICE ? I - c : MATVEC_SLICE;
            for (int o = o0; o < o1; o += 4)
                kt->dots(out + o, w + (size_t)o * I + c, (size_t)I, x + c, n,
                         o1 - o < 4 ? o1 - o : 4);
        }
    }
}

int ug_cpu_linear_forward(ug_kctx *k, float *out, const float *in, const float *w,
                          const float *b, int N, int I, int O, ug_error *err)
{
    ug_kctx_add_flops(k, 2.0 * N * (double)I * O);
    if (N == 1 && (long)I * O >= MATVEC_MIN_WEIGHT) {
        matvec(out, in, w, b, I, O);
        return 0;
    }
    /* Start from the bias broadcast over rows and let sgemm add to it. */
    if (b)
        for (int n = 0; n < N; n++)
            memcpy(out + (size_t)n * O, b, (size_t)O * sizeof *out);
    return ug_cpu_sgemm('N', 'T', N, O, I, in, I, w, I, b ? 1.0f : 0.0f, out, O, err);
}

int ug_cpu_linear_backward(ug_kctx *k, float *din, float *dw, float *db, const float *dout,
                           const float *in, const float *w, int N, int I, int O, int acc,
                           ug_error *err)
{
    ug_kctx_add_flops(k, 2.0 * N * (double)I * O * ((din != NULL) + (dw != NULL)));
    /* din (N x I) = dout (N x O) * w (O x I) */
    if (din && ug_cpu_sgemm('N', 'N', N, I, O, dout, O, w, I, acc ? 1.0f : 0.0f, din, I, err))
        return -1;
    /* dw (O x I) += dout^T (O x N) * in (N x I) */
    if (dw && ug_cpu_sgemm('T', 'N', O, I, N, dout, O, in, I, 1.0f, dw, I, err))
        return -1;
    /* The bias gradient: the reference's plain sum. */
    return db ? ug_linear_backward_ref(k, NULL, NULL, db, dout, in, w, N, I, O, acc, err) : 0;
}
