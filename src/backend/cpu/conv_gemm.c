/* Small-plane convolutions as matrix products (conv_gemm.h). For image n,
 * with P = OH*OW output pixels and J = Cin*kh*kw taps, the unfolded input
 * U (P x J) holds in U[p][j] the input value under tap j of output pixel p
 * (0 in the padding), j = (ci*kh + ky)*kw + kx, the order of a weight row.
 * With W the weights as a Cout x J matrix and D dout as Cout x P:
 *
 *   out = W U^T (+ b)     dU = D^T W, folded back onto din     dW += D U
 *
 * U stays P x J in all three, so each product reads W and dW in their own
 * row order. A spectrally normalised weight's gradients take a fourth
 * function, which reads W and dW once each (ug_gemm_conv_backward_sn). */
#include "backend/cpu/conv_gemm.h"

#include <string.h>

#include "backend/cpu/cpu.h"

int ug_gemm_conv_applies(const ug_conv_shape *s)
{
    return ug_conv_out_h(s) * ug_conv_out_w(s) <= UG_GEMM_MAX_PLANE;
}

/* The input row and column of tap (ky, kx) under output pixel (oy, ox). */
static int in_y(const ug_conv_shape *s, int oy, int ky) { return oy * s->stride - s->pad[0] + ky; }
static int in_x(const ug_conv_shape *s, int ox, int kx) { return ox * s->stride - s->pad[2] + kx; }

/* U of image `in` (one image, Cin x H x W), its rows shared among the
 * threads. */
static void unfold(float *U, const float *in, const ug_conv_shape *s)
{
    const int OW = ug_conv_out_w(s), P = ug_conv_out_h(s) * OW;
    const int kh = s->kh, kw = s->kw, H = s->H, W = s->W;
    const size_t J = (size_t)s->Cin * kh * kw;
#pragma omp parallel for schedule(static)
    for (int p = 0; p < P; p++) {
        const int oy = p / OW, ox = p % OW;
        float *u = U + (size_t)p * J;
        for (int ci = 0; ci < s->Cin; ci++)
            for (int ky = 0; ky < kh; ky++) {
                const int iy = in_y(s, oy, ky);
                if (iy < 0 || iy >= H) { /* a row of the padding */
                    memset(u, 0, (size_t)kw * sizeof *u);
                    u += kw;
                    continue;
                }
                const float *row = in + ((size_t)ci * H + iy) * W;
                for (int kx = 0; kx < kw; kx++) {
                    const int ix = in_x(s, ox, kx);
                    *u++ = ix >= 0 && ix < W ? row[ix] : 0.0f;
                }
            }
    }
}

/* din (one image) = (acc ? din : 0) + dU folded back: each input value
 * gathers the taps that read it. One input channel per thread at a time,
 * so no two threads write the same value. */
static void fold(float *din, const float *dU, const ug_conv_shape *s, int acc)
{
    const int OW = ug_conv_out_w(s), P = ug_conv_out_h(s) * OW;
    const int kh = s->kh, kw = s->kw, H = s->H, W = s->W;
    const size_t J = (size_t)s->Cin * kh * kw;
#pragma omp parallel for schedule(static)
    for (int ci = 0; ci < s->Cin; ci++) {
        float *plane = din + (size_t)ci * H * W;
        if (!acc)
            memset(plane, 0, (size_t)H * W * sizeof *plane);
        for (int p = 0; p < P; p++) {
            const int oy = p / OW, ox = p % OW;
            const float *du = dU + (size_t)p * J + (size_t)ci * kh * kw;
            for (int ky = 0; ky < kh; ky++) {
                const int iy = in_y(s, oy, ky);
                if (iy < 0 || iy >= H)
                    continue;
                for (int kx = 0; kx < kw; kx++) {
                    const int ix = in_x(s, ox, kx);
                    if (ix >= 0 && ix < W)
                        plane[(size_t)iy * W + ix] += du[ky * kw + kx];
                }
            }
        }
    }
}

/* A (rows x cols, row stride lda) = D / sigma, the reference's dout / sigma. */
static void divide_into(float *A, size_t lda, const float *D, size_t rows, size_t cols,
                        float sigma)
{
    for (size_t r = 0; r < rows; r++)
        for (size_t c = 0; c < cols; c++)
            A[r * lda + c] = D[r * cols + c] / sigma;
}

/* sum of a[i] * b[i] in double. */
static double sum_products(const float *a, const float *b, size_t n)
{
    double s = 0;
#pragma omp parallel for simd schedule(static) reduction(+ : s)
    for (size_t i = 0; i < n; i++)
        s += (double)a[i] * b[i];
    return s;
}

/* A pass's sizes: output pixels, output channels, taps, and floats per input image. */
typedef struct {
    size_t P, Co, J, image;
} dims;

static dims dims_of(const ug_conv_shape *s)
{
    const dims d = {(size_t)ug_conv_out_h(s) * ug_conv_out_w(s), (size_t)s->Cout,
                    (size_t)s->Cin * s->kh * s->kw, (size_t)s->Cin * s->H * s->W};
    return d;
}

int ug_gemm_conv_forward(ug_kctx *k, float *out, const float *in, const float *w,
                         const float *b, const ug_conv_shape *s, ug_error *err)
{
    const dims d = dims_of(s);
    float *U = ug_cpu_conv_scratch(k, d.P * d.J, err);
    if (!U)
        return -1;
    for (int n = 0; n < s->N; n++) {
        float *o = out + n * d.Co * d.P;
        if (b)
            for (size_t co = 0; co < d.Co; co++)
                for (size_t p = 0; p < d.P; p++)
                    o[co * d.P + p] = b[co];
        unfold(U, in + n * d.image, s);
        if (ug_cpu_sgemm('N', 'T', d.Co, d.P, d.J, w, d.J, U, d.J, b ? 1.0f : 0.0f, o, d.P, err))
            return -1;
    }
    return 0;
}

int ug_gemm_conv_backward_data(ug_kctx *k, float *din, const float *dout, const float *w,
                               const ug_conv_shape *s, int acc, ug_error *err)
{
    const dims d = dims_of(s);
    float *dU = ug_cpu_conv_scratch(k, d.P * d.J, err);
    if (!dU)
        return -1;
    for (int n = 0; n < s->N; n++) {
        if (ug_cpu_sgemm('T', 'N', d.P, d.J, d.Co, dout + n * d.Co * d.P, d.P, w, d.J, 0.0f, dU,
                         d.J, err))
            return -1;
        fold(din + n * d.image, dU, s, acc);
    }
    return 0;
}

int ug_gemm_conv_backward_weights(ug_kctx *k, float *dw, const float *dout, const float *in,
                                  const ug_conv_shape *s, ug_error *err)
{
    const dims d = dims_of(s);
    float *U = ug_cpu_conv_scratch(k, d.P * d.J, err);
    if (!U)
        return -1;
    for (int n = 0; n < s->N; n++) {
        unfold(U, in + n * d.image, s);
        if (ug_cpu_sgemm('N', 'N', d.Co, d.J, d.P, dout + n * d.Co * d.P, d.P, U, d.J, 1.0f, dw,
                         d.J, err))
            return -1;
    }
    return 0;
}

/* With W / sigma for the weights (spectral normalisation, sigma = u^T W v,
 * u and v constant). Per image: A = D / sigma and dU = A^T W (W read once,
 * no W / sigma made), folded into din; <U, dU> summed. Then weight_orig's
 * gradient
 *
 *   dW += A U - (<U, dU> / sigma) u v^T
 *
 * (<U, dU> sigma = <D U, W>, the reference's sum(dw_sn * w)) as one product
 * whose inner dimension is P + 1: A with -(<U, dU> / sigma) u as its last
 * column, U with v as its last row, so dW is read and written once. */
int ug_gemm_conv_backward_sn(ug_kctx *k, float *din, float *dw, const float *dout,
                             const float *in, const float *w, float sigma, const float *u,
                             const float *v, const ug_conv_shape *s, int acc, ug_error *err)
{
    const dims d = dims_of(s);
    const size_t K = d.P + 1;
    float *B = ug_cpu_conv_scratch(k, K * d.J + d.P * d.J + d.Co * K, err);
    if (!B)
        return -1;
    float *dU = B + K * d.J, *A = dU + d.P * d.J;
    double dot = 0;
    for (int n = 0; n < s->N; n++) {
        divide_into(A, K, dout + n * d.Co * d.P, d.Co, d.P, sigma);
        unfold(B, in + n * d.image, s);
        if (ug_cpu_sgemm('T', 'N', d.P, d.J, d.Co, A, K, w, d.J, 0.0f, dU, d.J, err))
            return -1;
        dot += sum_products(B, dU, d.P * d.J);
        if (din)
            fold(din + n * d.image, dU, s, acc);
    }
    /* The last image's A and U are in place: its product takes the extra
     * column and row; the others' are made again. */
    const float f = (float)(dot / sigma);
    for (size_t co = 0; co < d.Co; co++)
        A[co * K + d.P] = -f * u[co];
    memcpy(B + d.P * d.J, v, d.J * sizeof *v);
    for (int n = s->N - 1; n >= 0; n--) {
        const int last = n == s->N - 1;
        if (!last) {
            divide_into(A, K, dout + n * d.Co * d.P, d.Co, d.P, sigma);
            unfold(B, in + n * d.image, s);
        }
        if (ug_cpu_sgemm('N', 'N', d.Co, d.J, last ? K : d.P, A, K, B, d.J, 1.0f, dw, d.J, err))
            return -1;
    }
    return 0;
}
