/* The CPU backend's transposed convolution, as torch.nn.ConvTranspose2d:
 * oneDNN's deconvolution forward, backward data and backward weights, with
 * primitives cached per shape in the context (dnnl.c). The reference is
 * src/ops/deconv.c, whose plain sum also makes the bias gradient here. */
#include <string.h>

#include "backend/cpu/cpu.h"
#include "backend/cpu/dnnl_cache.h"

/* Kinds, apart from the convolutions' (conv.c) in the shared cache. */
enum { DECONV_FWD = 64, DECONV_FWD_BIAS, DECONV_BWD_DATA, DECONV_BWD_WEIGHTS };

/* Creates the primitive of the given kind for shape s and caches it under key. */
static ug_dnnl_prim *deconv_prim_new(ug_kctx *k, const int *key, int kind,
                                     const ug_deconv_shape *s, ug_error *err)
{
    ug_dnnl_prim *p = NULL;
    dnnl_engine_t eng = ug_kctx_engine(k);
    const dnnl_dims_t src_d = {s->N, s->Cin, s->H, s->W};
    /* oneDNN's weights are Cout x Cin x k x k in its logical order; PyTorch's
     * Cin x Cout x k x k memory is its iohw layout. */
    const dnnl_dims_t wei_d = {s->Cout, s->Cin, s->k, s->k};
    const dnnl_dims_t bias_d = {s->Cout};
    const dnnl_dims_t dst_d = {s->N, s->Cout, ug_deconv_out_h(s), ug_deconv_out_w(s)};
    const dnnl_dims_t strides = {s->stride, s->stride};
    /* The output padding is on the bottom and right: less padding there. */
    const dnnl_dims_t pad_l = {s->pad, s->pad};
    const dnnl_dims_t pad_r = {s->pad - s->out_pad, s->pad - s->out_pad};
    dnnl_memory_desc_t src_any, wei_any, dst_any, src_u, wei_u, bias_u, dst_u;
    dnnl_deconvolution_desc_t fd, bd;
    dnnl_primitive_desc_t fpd = NULL, bpd = NULL;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_status_t st = dnnl_success;
    const int bias = kind == DECONV_FWD_BIAS;
    const dnnl_format_tag_t any = dnnl_format_tag_any;

    if (ug_dnnl_attr_create(&attr, err) < 0)
        return NULL;
    if ((st = dnnl_memory_desc_init_by_tag(&src_any, 4, src_d, dnnl_f32, any)) ||
        (st = dnnl_memory_desc_init_by_tag(&wei_any, 4, wei_d, dnnl_f32, any)) ||
        (st = dnnl_memory_desc_init_by_tag(&dst_any, 4, dst_d, dnnl_f32, any)) ||
        (st = dnnl_memory_desc_init_by_tag(&src_u, 4, src_d, dnnl_f32, dnnl_nchw)) ||
        (st = dnnl_memory_desc_init_by_tag(&wei_u, 4, wei_d, dnnl_f32, dnnl_iohw)) ||
        (st = dnnl_memory_desc_init_by_tag(&bias_u, 1, bias_d, dnnl_f32, dnnl_x)) ||
        (st = dnnl_memory_desc_init_by_tag(&dst_u, 4, dst_d, dnnl_f32, dnnl_nchw)))
        goto dnnl_fail;
    /* The backward primitives need the forward one as a hint. */
    if ((st = dnnl_deconvolution_forward_desc_init(&fd, dnnl_forward_training,
                                                   dnnl_deconvolution_direct, &src_any,
                                                   &wei_any, bias ? &bias_u : NULL, &dst_any,
                                                   strides, pad_l, pad_r)) ||
        (st = dnnl_primitive_desc_create(&fpd, &fd, attr, eng, NULL)))
        goto dnnl_fail;

    if (kind == DECONV_FWD || kind == DECONV_FWD_BIAS) {
        const ug_dnnl_arg_spec a[] = {{DNNL_ARG_SRC, 0, src_u},
                                      {DNNL_ARG_WEIGHTS, 0, wei_u},
                                      {DNNL_ARG_DST, 1, dst_u},
                                      {DNNL_ARG_BIAS, 0, bias_u}};
        p = ug_dnnl_add(k, key, fpd, a, bias ? 4 : 3, err);
    } else if (kind == DECONV_BWD_DATA) {
        const ug_dnnl_arg_spec a[] = {{DNNL_ARG_DIFF_DST, 0, dst_u},
                                      {DNNL_ARG_WEIGHTS, 0, wei_u},
                                      {DNNL_ARG_DIFF_SRC, 1, src_u}};
        if ((st = dnnl_deconvolution_backward_data_desc_init(&bd, dnnl_deconvolution_direct,
                                                             &src_any, &wei_any, &dst_any,
                                                             strides, pad_l, pad_r)) ||
            (st = dnnl_primitive_desc_create(&bpd, &bd, attr, eng, fpd)))
            goto dnnl_fail;
        p = ug_dnnl_add(k, key, bpd, a, 3, err);
    } else {
        const ug_dnnl_arg_spec a[] = {{DNNL_ARG_SRC, 0, src_u},
                                      {DNNL_ARG_DIFF_DST, 0, dst_u},
                                      {DNNL_ARG_DIFF_WEIGHTS, 1, wei_u}};
        if ((st = dnnl_deconvolution_backward_weights_desc_init(
                 &bd, dnnl_deconvolution_direct, &src_any, &wei_any, NULL, &dst_any, strides,
                 pad_l, pad_r)) ||
            (st = dnnl_primitive_desc_create(&bpd, &bd, attr, eng, fpd)))
            goto dnnl_fail;
        p = ug_dnnl_add(k, key, bpd, a, 3, err);
    }
    goto done;
dnnl_fail:
    ug_fail(err, "oneDNN: cannot create transposed convolution (kind %d, N=%d Cin=%d %dx%d "
                 "Cout=%d k=%d s=%d p=%d op=%d): status %d",
            kind, s->N, s->Cin, s->H, s->W, s->Cout, s->k, s->stride, s->pad, s->out_pad,
            (int)st);
    p = NULL;
done:
    if (bpd)
        dnnl_primitive_desc_destroy(bpd);
    if (fpd)
        dnnl_primitive_desc_destroy(fpd);
    dnnl_primitive_attr_destroy(attr);
    return p;
}

/* The cached primitive of the given kind for shape s, created on first use. */
static ug_dnnl_prim *deconv_prim(ug_kctx *k, int kind, const ug_deconv_shape *s, ug_error *err)
{
    const int key[UG_DNNL_KEY_LEN] = {kind,   s->N,      s->Cin, s->H,   s->W,
                                      s->Cout, s->k,     s->stride, s->pad, s->out_pad};
    ug_dnnl_prim *p = ug_dnnl_find(k, key);
    return p ? p : deconv_prim_new(k, key, kind, s, err);
}

int ug_cpu_deconv_forward(ug_kctx *k, float *out, const float *in, const float *w,
                          const float *b, const ug_deconv_shape *s, ug_error *err)
{
    if (ug_deconv_check(s, err))
        return -1;
    ug_kctx_add_flops(k, ug_deconv_flops(s));
    ug_dnnl_prim *p = deconv_prim(k, b ? DECONV_FWD_BIAS : DECONV_FWD, s, err);
    if (!p)
        return -1;
    const void *ptrs[] = {in, w, out, b};
    const int acc[] = {0, 0, 0, 0};
    return ug_dnnl_exec(k, p, ptrs, acc, err);
}

int ug_cpu_deconv_backward(ug_kctx *k, float *din, float *dw, float *db, const float *dout,
                           const float *in, const float *w, const ug_deconv_shape *s, int acc,
                           ug_error *err)
{
    if (ug_deconv_check(s, err))
        return -1;
    ug_kctx_add_flops(k, ug_deconv_flops(s) * ((din != NULL) + (dw != NULL)));
    if (din) {
        ug_dnnl_prim *p = deconv_prim(k, DECONV_BWD_DATA, s, err);
        const void *ptrs[] = {dout, w, din};
        const int accs[] = {0, 0, acc != 0};
        if (!p || ug_dnnl_exec(k, p, ptrs, accs, err))
            return -1;
    }
    if (dw) {
        ug_dnnl_prim *p = deconv_prim(k, DECONV_BWD_WEIGHTS, s, err);
        const void *ptrs[] = {in, dout, dw};
        const int accs[] = {0, 0, 1}; /* parameter gradients always accumulate */
        if (!p || ug_dnnl_exec(k, p, ptrs, accs, err))
            return -1;
    }
    /* The bias gradient: the reference's plain sum. */
    if (db && ug_deconv_backward_ref(k, NULL, NULL, db, dout, in, w, s, acc, err))
        return -1;
    return 0;
}
