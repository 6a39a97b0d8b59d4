/* Private to src/backend/cpu: oneDNN's convolution and deconvolution
 * (transposed convolution) made and run one way. The two take the same
 * descriptors and arguments; a table of their three descriptor initialisers
 * tells them apart. */
#ifndef UG_CONVLIKE_H
#define UG_CONVLIKE_H

#include "backend/cpu/dnnl_cache.h"

/* A primitive's pass. */
enum { UG_PASS_FWD = 1, UG_PASS_FWD_BIAS, UG_PASS_BWD_DATA, UG_PASS_BWD_WEIGHTS };

typedef struct ug_convlike_op {
    const char *name; /* for errors: "convolution" */
    dnnl_status_t (*fwd)(dnnl_convolution_desc_t *d, dnnl_prop_kind_t prop, dnnl_alg_kind_t alg,
                         const dnnl_memory_desc_t *src, const dnnl_memory_desc_t *wei,
                         const dnnl_memory_desc_t *bias, const dnnl_memory_desc_t *dst,
                         const dnnl_dims_t strides, const dnnl_dims_t pad_l,
                         const dnnl_dims_t pad_r);
    dnnl_status_t (*bwd_data)(dnnl_convolution_desc_t *d, dnnl_alg_kind_t alg,
                              const dnnl_memory_desc_t *diff_src, const dnnl_memory_desc_t *wei,
                              const dnnl_memory_desc_t *diff_dst, const dnnl_dims_t strides,
                              const dnnl_dims_t pad_l, const dnnl_dims_t pad_r);
    dnnl_status_t (*bwd_weights)(dnnl_convolution_desc_t *d, dnnl_alg_kind_t alg,
                                 const dnnl_memory_desc_t *src,
                                 const dnnl_memory_desc_t *diff_wei,
                                 const dnnl_memory_desc_t *diff_bias,
                                 const dnnl_memory_desc_t *diff_dst, const dnnl_dims_t strides,
                                 const dnnl_dims_t pad_l, const dnnl_dims_t pad_r);
} ug_convlike_op;

extern const ug_convlike_op ug_convlike_conv, ug_convlike_deconv;

/* One primitive: its pass, algorithm, dimensions (oneDNN's logical order:
 * weights Cout x Cin x kh x kw), the type inside it of input and weights
 * (f32, or bf16 rounded by the reorders), its layouts (format_tag_any for
 * oneDNN's choice, or plain) and the caller's: of the weights, and of the
 * forward pass's input and output (plain or nChw16c; backward: plain). */
typedef struct ug_convlike_desc {
    int pass;
    dnnl_alg_kind_t alg;
    dnnl_dims_t src, wei, bias, dst, strides, pad_l, pad_r;
    dnnl_data_type_t in_type;
    dnnl_format_tag_t act, wei_layout, wei_user, src_user, dst_user;
} ug_convlike_desc;

/* Creates the primitive of d and caches it under key. NULL with err set on
 * failure, which what (the op's shape, for people) describes; with quiet,
 * a shape or machine the algorithm does not support returns NULL with err
 * untouched. */
ug_dnnl_prim *ug_convlike_prim(ug_kctx *k, const int key[UG_DNNL_KEY_LEN],
                               const ug_convlike_op *op, const ug_convlike_desc *d, int quiet,
                               const char *what, ug_error *err);

/* One pass's buffers: forward (out, in, w, b), backward data (din, dout,
 * w; acc: add to din) or backward weights (dw, which it adds to; dout,
 * in). */
typedef struct ug_convlike_args {
    float *out, *din, *dw;
    const float *in, *w, *b, *dout;
    int acc;
} ug_convlike_args;

/* Runs pass (the one p was made for) on a's buffers. */
int ug_convlike_exec(ug_kctx *k, ug_dnnl_prim *p, int pass, const ug_convlike_args *a,
                     ug_error *err);

#endif
