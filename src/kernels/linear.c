/* Fully connected layer (kernels.h): out = in * w^T + b. Reference versions
 * with plain loops; the fast path is oneDNN's row-major sgemm, which also
 * accumulates dw in place (beta = 1), so no copy of a weight-sized array is
 * ever made (the CAM layer's weight is 256 x 1,048,576). */
#include <string.h>

#include <dnnl.h>

#include "core/error.h"
#include "kernels/kernels.h"

void ug_linear_forward_ref(float *out, const float *in, const float *w, const float *b, int N,
                           int I, int O)
{
#pragma omp parallel for collapse(2)
    for (int n = 0; n < N; n++) {
        for (int o = 0; o < O; o++) {
            const float *x = in + (size_t)n * I, *wo = w + (size_t)o * I;
            double acc = b ? b[o] : 0.0;
            for (int i = 0; i < I; i++)
                acc += (double)x[i] * wo[i];
            out[(size_t)n * O + o] = (float)acc;
        }
    }
}

/* db[o] += sum over n of dout[n, o]; shared by both paths. */
static void linear_bias_grad(float *db, const float *dout, int N, int O)
{
    for (int o = 0; o < O; o++) {
        double acc = 0;
        for (int n = 0; n < N; n++)
            acc += dout[(size_t)n * O + o];
        db[o] += (float)acc;
    }
}

void ug_linear_backward_ref(float *din, float *dw, float *db, const float *dout, const float *in,
                            const float *w, int N, int I, int O, int acc)
{
    if (din) {
        /* Threads take runs of consecutive i, so the O rows of w they walk
         * stay cached across neighbouring i. */
#pragma omp parallel for
        for (int i = 0; i < I; i++) {
            for (int n = 0; n < N; n++) {
                double a = 0;
                for (int o = 0; o < O; o++)
                    a += (double)dout[(size_t)n * O + o] * w[(size_t)o * I + i];
                float *d = &din[(size_t)n * I + i];
                *d = acc ? *d + (float)a : (float)a;
            }
        }
    }
    if (dw) {
#pragma omp parallel for
        for (int o = 0; o < O; o++) {
            for (int i = 0; i < I; i++) {
                double a = 0;
                for (int n = 0; n < N; n++)
                    a += (double)dout[(size_t)n * O + o] * in[(size_t)n * I + i];
                dw[(size_t)o * I + i] += (float)a;
            }
        }
    }
    if (db)
        linear_bias_grad(db, dout, N, O);
}

static int sgemm(char ta, char tb, int M, int Nn, int K, const float *A, int lda, const float *B,
                 int ldb, float beta, float *C, int ldc, ug_error *err)
{
    dnnl_status_t st = dnnl_sgemm(ta, tb, M, Nn, K, 1.0f, A, lda, B, ldb, beta, C, ldc);
    if (st != dnnl_success)
        return ug_fail(err, "oneDNN: sgemm %c%c %dx%dx%d failed (status %d)", ta, tb, M, Nn, K,
                       (int)st);
    return 0;
}

int ug_linear_forward(ug_kctx *k, float *out, const float *in, const float *w, const float *b,
                      int N, int I, int O, ug_error *err)
{
    ug_kctx_add_flops(k, 2.0 * N * (double)I * O);
    if (ug_kctx_reference(k)) {
        ug_linear_forward_ref(out, in, w, b, N, I, O);
        return 0;
    }
    /* Start from the bias broadcast over rows and let sgemm add to it. */
    if (b)
        for (int n = 0; n < N; n++)
            memcpy(out + (size_t)n * O, b, (size_t)O * sizeof *out);
    return sgemm('N', 'T', N, O, I, in, I, w, I, b ? 1.0f : 0.0f, out, O, err);
}

int ug_linear_backward(ug_kctx *k, float *din, float *dw, float *db, const float *dout,
                       const float *in, const float *w, int N, int I, int O, int acc,
                       ug_error *err)
{
    ug_kctx_add_flops(k, 2.0 * N * (double)I * O * ((din != NULL) + (dw != NULL)));
    if (ug_kctx_reference(k)) {
        ug_linear_backward_ref(din, dw, db, dout, in, w, N, I, O, acc);
        return 0;
    }
    /* din (N x I) = dout (N x O) * w (O x I) */
    if (din && sgemm('N', 'N', N, I, O, dout, O, w, I, acc ? 1.0f : 0.0f, din, I, err))
        return -1;
    /* dw (O x I) += dout^T (O x N) * in (N x I) */
    if (dw && sgemm('T', 'N', O, I, N, dout, O, in, I, 1.0f, dw, I, err))
        return -1;
    if (db)
        linear_bias_grad(db, dout, N, O);
    return 0;
}
