/* Private to src/backend/cpu: convolutions with small output planes (at
 * most UG_GEMM_MAX_PLANE pixels: the discriminators' last layers, 3x3 to
 * 8x8, whose weights of up to 134 MB change every step) as three matrix
 * products of oneDNN's sgemm on the input unfolded into one row of
 * Cin*kh*kw values per output pixel. oneDNN's own convolution runs these
 * shapes as the same kind of products but 2 to 4 times slower (its input
 * gradient at 4x4 planes reads the weights transposed at a fifth of the
 * memory's speed); planes this small leave direct kernels without work. */
#ifndef UG_CONV_GEMM_H
#define UG_CONV_GEMM_H

#include "backend/kernels.h"

#define UG_GEMM_MAX_PLANE 64

/* 1 when s's output plane is small enough for these functions. */
int ug_gemm_conv_applies(const ug_conv_shape *s);
/* As ug_conv_forward_ref: out = conv(in, w) + b (b may be NULL). */
int ug_gemm_conv_forward(ug_kctx *k, float *out, const float *in, const float *w,
                         const float *b, const ug_conv_shape *s, ug_error *err);
/* din = (acc ? din : 0) + the input gradient of dout. */
int ug_gemm_conv_backward_data(ug_kctx *k, float *din, const float *dout, const float *w,
                               const ug_conv_shape *s, int acc, ug_error *err);
/* dw += the weight gradient of dout (parameter gradients accumulate). */
int ug_gemm_conv_backward_weights(ug_kctx *k, float *dw, const float *dout, const float *in,
                                  const ug_conv_shape *s, ug_error *err);
/* As ug_conv_backward_sn_ref without the bias: din (acc) through W / sigma and
 * dw += weight_orig's gradient (dw not NULL), reading W once and dw once. */
int ug_gemm_conv_backward_sn(ug_kctx *k, float *din, float *dw, const float *dout,
                             const float *in, const float *w, float sigma, const float *u,
                             const float *v, const ug_conv_shape *s, int acc, ug_error *err);

#endif
