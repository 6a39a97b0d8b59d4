/* Private to src/backend/cpu: our Winograd F(4x4, 3x3) convolution for 3x3
 * stride-1 kernels with zero padding (forward, backward data, backward
 * weights), in three code paths chosen at run time: plain C (the reference
 * for the transforms, and the fallback), AVX2 with FMA, and AVX-512. The
 * backend (conv.c) runs it where its policy says it is faster than oneDNN
 * (cpu.h). */
#ifndef UG_WINOGRAD_H
#define UG_WINOGRAD_H

#include "backend/backend.h"

typedef enum ug_wino_isa { UG_WINO_PLAIN, UG_WINO_AVX2, UG_WINO_AVX512 } ug_wino_isa;

/* The widest path this CPU has (cpuid), capped like oneDNN by
 * ONEDNN_MAX_CPU_ISA (or DNNL_MAX_CPU_ISA): under ONEDNN_MAX_CPU_ISA=AVX2 an
 * AVX-512 machine runs the AVX2 path. */
ug_wino_isa ug_wino_isa_best(void);
/* 1 when this CPU can run path isa (cpuid only, no cap). */
int ug_wino_isa_supported(ug_wino_isa isa);
const char *ug_wino_isa_name(ug_wino_isa isa);

/* 1 when s is a convolution these kernels take: 3x3, stride 1. */
int ug_wino_applies(const ug_conv_shape *s);
/* 1 when the forward takes s's channel-blocked sides (blocked_in,
 * blocked_out) in place: their channels in whole blocks of UG_BLOCK. */
int ug_wino_blocked_ok(const ug_conv_shape *s);

/* As ug_conv_forward_ref: out = conv(in, w) + b (b may be NULL). */
int ug_wino_forward(ug_kctx *k, ug_wino_isa isa, float *out, const float *in, const float *w,
                    const float *b, const ug_conv_shape *s, ug_error *err);
/* din = (acc ? din : 0) + the input gradient of dout. */
int ug_wino_backward_data(ug_kctx *k, ug_wino_isa isa, float *din, const float *dout,
                          const float *w, const ug_conv_shape *s, int acc, ug_error *err);
/* dw += the weight gradient of dout for input in. */
int ug_wino_backward_weights(ug_kctx *k, ug_wino_isa isa, float *dw, const float *dout,
                             const float *in, const ug_conv_shape *s, ug_error *err);

#endif
