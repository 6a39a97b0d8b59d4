/* The kernel context: what the fast kernels need that outlives one call
 * (the oneDNN engine and stream, primitives created once per shape and cached,
 * a scratch buffer), and the switch that routes every kernel to its plain C
 * reference version instead. One per thread of control; not shared. */
#ifndef UG_KCTX_H
#define UG_KCTX_H

#include <stddef.h>

#include "core/error.h"

typedef struct ug_kctx ug_kctx;

/* reference != 0: every dispatching kernel runs its plain C reference. */
ug_kctx *ug_kctx_new(int reference, ug_error *err);
void ug_kctx_free(ug_kctx *k);
int ug_kctx_reference(const ug_kctx *k);
/* A float buffer of at least count elements owned by the context, valid until
 * the next call of ug_kctx_scratch on the same context. NULL when out of memory. */
float *ug_kctx_scratch(ug_kctx *k, size_t count);

/* Winograd convolutions (3x3, stride 1) on the fast path: on by default;
 * off gives direct convolutions only. */
void ug_kctx_set_winograd(ug_kctx *k, int on);
int ug_kctx_winograd(const ug_kctx *k);

/* bf16 forward convolutions on the fast path (inference): inputs and
 * weights rounded to bfloat16 on their way into oneDNN's layouts, products
 * summed and returned in fp32. Off by default; backward passes and the
 * reference kernels are always fp32. */
void ug_kctx_set_bf16(ug_kctx *k, int on);
/* 0 when this machine can run them (oneDNN may use AVX512-BF16: the CPU has
 * it and ONEDNN_MAX_CPU_ISA does not cap it away); otherwise -1 with a
 * one-line error naming the missing instruction set and why. */
int ug_kctx_bf16_check(ug_error *err);
int ug_kctx_bf16(const ug_kctx *k);

/* Floating-point operations done by the convolution and linear kernels on
 * this context so far (2 per multiply-add, forward and backward), for
 * benchmarks; ug_kctx_add_flops is the kernels' side. */
double ug_kctx_flops(const ug_kctx *k);
void ug_kctx_add_flops(ug_kctx *k, double flops);

#endif
