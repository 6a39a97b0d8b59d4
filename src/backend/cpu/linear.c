/* The CPU backend's fully connected layer: out = in * w^T + b by oneDNN's
 * row-major sgemm, which also
 * accumulates dw in place (beta = 1), so no copy of a weight-sized array is
 * ever made (the CAM layer's weight is 256 x 1,048,576). */
#include <string.h>

#include "backend/cpu/cpu.h"
#include "backend/cpu/dnnl_cache.h"

static int sgemm(char ta, char tb, int M, int Nn, int K, const float *A, int lda, const float *B,
                 int ldb, float beta, float *C, int ldc, ug_error *err)
{
    dnnl_status_t st = dnnl_sgemm(ta, tb, M, Nn, K, 1.0f, A, lda, B, ldb, beta, C, ldc);
    if (st != dnnl_success)
        return ug_fail(err, "oneDNN: sgemm %c%c %dx%dx%d failed (status %d)", ta, tb, M, Nn, K,
                       (int)st);
    return 0;
}

int ug_cpu_linear_forward(ug_kctx *k, float *out, const float *in, const float *w,
                          const float *b, int N, int I, int O, ug_error *err)
{
    ug_kctx_add_flops(k, 2.0 * N * (double)I * O);
    /* Start from the bias broadcast over rows and let sgemm add to it. */
    if (b)
        for (int n = 0; n < N; n++)
            memcpy(out + (size_t)n * O, b, (size_t)O * sizeof *out);
    return sgemm('N', 'T', N, O, I, in, I, w, I, b ? 1.0f : 0.0f, out, O, err);
}

int ug_cpu_linear_backward(ug_kctx *k, float *din, float *dw, float *db, const float *dout,
                           const float *in, const float *w, int N, int I, int O, int acc,
                           ug_error *err)
{
    ug_kctx_add_flops(k, 2.0 * N * (double)I * O * ((din != NULL) + (dw != NULL)));
    /* din (N x I) = dout (N x O) * w (O x I) */
    if (din && sgemm('N', 'N', N, I, O, dout, O, w, I, acc ? 1.0f : 0.0f, din, I, err))
        return -1;
    /* dw (O x I) += dout^T (O x N) * in (N x I) */
    if (dw && sgemm('T', 'N', O, I, N, dout, O, in, I, 1.0f, dw, I, err))
        return -1;
    /* The bias gradient: the reference's plain sum. */
    return db ? ug_linear_backward_ref(k, NULL, NULL, db, dout, in, w, N, I, O, acc, err) : 0;
}
