/* Private to src/backend/cpu: stride-1, unpadded convolutions with few
 * channels on one side (the generators' first and last 7x7 convolutions,
 * from and to RGB). oneDNN's blocked layouts pad channels to a whole
 * vector, 16 on AVX-512, so for 3 of them it does more than five times the
 * work; these kernels run vectors across pixels instead. Few outputs:
 * forward, input gradient and weight gradient; few inputs: the input
 * gradient (a few-output convolution of dout; oneDNN's weight gradient,
 * whose outputs fill its vectors, was as fast or faster there). */
#ifndef UG_CONV_NARROW_H
#define UG_CONV_NARROW_H

#include "backend/cpu/winograd.h"

#define UG_NARROW_MAX_OUT 4
#define UG_NARROW_MIN_ROW 64 /* output pixels a row, for whole vector blocks on every path */
/* Input channels: the generators' heads have 64; fewer were not measured against oneDNN. */
#define UG_NARROW_MIN_IN 16
#define UG_NARROW_MAX_K 8 /* kernel rows and columns (the weight gradient sums them on the stack) */

/* 1 when s is a convolution to few outputs the kernels take. */
int ug_narrow_applies(const ug_conv_shape *s);
/* 1 when s is one from few inputs (at most UG_NARROW_MAX_OUT) to at least
 * UG_NARROW_MIN_IN outputs, whose input gradient ug_narrow_backward_data
 * makes. */
int ug_narrow_in_applies(const ug_conv_shape *s);

/* As ug_conv_forward_ref: out = conv(in, w) + b (b may be NULL), with the
 * vector instructions of path isa. */
void ug_narrow_forward(ug_wino_isa isa, float *out, const float *in, const float *w,
                       const float *b, const ug_conv_shape *s);
/* din = (acc ? din : 0) + the input gradient of dout, as ug_conv_backward_ref. */
int ug_narrow_backward_data(ug_kctx *k, ug_wino_isa isa, float *din, const float *dout,
                            const float *w, const ug_conv_shape *s, int acc, ug_error *err);
/* dw += the weight gradient of a convolution ug_narrow_applies takes, as
 * ug_conv_backward_ref. */
void ug_narrow_backward_weights(ug_wino_isa isa, float *dw, const float *dout, const float *in,
                                const ug_conv_shape *s);

#endif
