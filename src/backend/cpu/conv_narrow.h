/* Private to src/backend/cpu: the forward pass and the input gradient of a
 * stride-1, unpadded convolution to at most UG_NARROW_MAX_OUT output
 * channels (the generators' last 7x7 convolution to RGB). oneDNN's blocked
 * layouts pad the output channels to a whole vector, 16 on AVX-512, so for 3
 * of them it does more than five times the work; these kernels run vectors
 * across pixels instead. The weight gradient stays oneDNN's. */
#ifndef UG_CONV_NARROW_H
#define UG_CONV_NARROW_H

#include "backend/cpu/winograd.h"

#define UG_NARROW_MAX_OUT 4
#define UG_NARROW_MIN_ROW 64 /* output pixels a row, for whole vector blocks on every path */
/* Input channels: the generators' heads have 64; fewer were not measured against oneDNN. */
#define UG_NARROW_MIN_IN 16

/* 1 when s is a convolution the kernels take. */
int ug_narrow_applies(const ug_conv_shape *s);
/* As ug_conv_forward_ref: out = conv(in, w) + b (b may be NULL), with the
 * vector instructions of path isa. */
void ug_narrow_forward(ug_wino_isa isa, float *out, const float *in, const float *w,
                       const float *b, const ug_conv_shape *s);
/* din = (acc ? din : 0) + the input gradient of dout, as ug_conv_backward_ref. */
int ug_narrow_backward_data(ug_wino_isa isa, float *din, const float *dout, const float *w,
                            const ug_conv_shape *s, int acc, ug_error *err);

#endif
