/* Transposed convolution (kernels.h), as torch.nn.ConvTranspose2d: a plain
 * reference that gathers every output from the inputs that reach it, and a
 * oneDNN fast path (deconvolution forward, backward data, backward weights)
 * with primitives cached per shape in the ug_kctx. The bias gradient is a
 * plain sum in both paths. */
#include <string.h>

#include "core/error.h"
#include "kernels/dnnl_cache.h"
#include "kernels/kernels.h"

int ug_deconv_out_h(const ug_deconv_shape *s)
{
    return (s->H - 1) * s->stride - 2 * s->pad + s->k + s->out_pad;
}

int ug_deconv_out_w(const ug_deconv_shape *s)
{
    return (s->W - 1) * s->stride - 2 * s->pad + s->k + s->out_pad;
}

/* ---- reference ----
 * Input pixel (ih, iw) reaches output (ih * s - pad + kh, iw * s - pad + kw). */

/* The input row that kernel row kh maps onto output row o, or -1. */
static int source(int o, int kh, int s, int pad, int H)
{
    const int t = o + pad - kh;
    if (t < 0 || t % s)
        return -1;
    return t / s < H ? t / s : -1;
}

void ug_deconv_forward_ref(float *out, const float *in, const float *w, const float *b,
                           const ug_deconv_shape *s)
{
    const int N = s->N, Cin = s->Cin, H = s->H, W = s->W, Cout = s->Cout, K = s->k;
    const int OH = ug_deconv_out_h(s), OW = ug_deconv_out_w(s);
#pragma omp parallel for collapse(2)
    for (int n = 0; n < N; n++) {
        for (int co = 0; co < Cout; co++) {
            float *o = out + ((size_t)n * Cout + co) * OH * OW;
            for (int oh = 0; oh < OH; oh++)
                for (int ow = 0; ow < OW; ow++) {
                    double acc = b ? b[co] : 0.0;
                    for (int ci = 0; ci < Cin; ci++) {
                        const float *x = in + ((size_t)n * Cin + ci) * H * W;
                        const float *wk = w + ((size_t)ci * Cout + co) * K * K;
                        for (int kh = 0; kh < K; kh++) {
                            const int ih = source(oh, kh, s->stride, s->pad, H);
                            for (int kw = 0; kw < K && ih >= 0; kw++) {
                                const int iw = source(ow, kw, s->stride, s->pad, W);
                                if (iw >= 0)
                                    acc += (double)x[(size_t)ih * W + iw] * wk[kh * K + kw];
                            }
                        }
                    }
                    o[(size_t)oh * OW + ow] = (float)acc;
                }
        }
    }
}

/* db[co] += sum over n and the output plane of dout; shared by both paths. */
static void deconv_bias_grad(float *db, const float *dout, int N, int Cout, size_t OHW)
{
#pragma omp parallel for
    for (int co = 0; co < Cout; co++) {
        double acc = 0;
        for (int n = 0; n < N; n++) {
            const float *g = dout + ((size_t)n * Cout + co) * OHW;
            for (size_t i = 0; i < OHW; i++)
                acc += g[i];
        }
        db[co] += (float)acc;
    }
}

void ug_deconv_backward_ref(float *din, float *dw, float *db, const float *dout,
                            const float *in, const float *w, const ug_deconv_shape *s, int acc)
{
    const int N = s->N, Cin = s->Cin, H = s->H, W = s->W, Cout = s->Cout, K = s->k,
              st = s->stride, p = s->pad;
    const int OH = ug_deconv_out_h(s), OW = ug_deconv_out_w(s);
    const size_t HW = (size_t)H * W, OHW = (size_t)OH * OW;
    if (din) {
        /* din[n, ci, ih, iw] = sum over co, kh, kw of the output gradient it reached. */
#pragma omp parallel for collapse(2)
        for (int n = 0; n < N; n++)
            for (int ci = 0; ci < Cin; ci++) {
                float *d = din + ((size_t)n * Cin + ci) * HW;
                for (int ih = 0; ih < H; ih++)
                    for (int iw = 0; iw < W; iw++) {
                        double a = 0;
                        for (int co = 0; co < Cout; co++) {
                            const float *g = dout + ((size_t)n * Cout + co) * OHW;
                            const float *wk = w + ((size_t)ci * Cout + co) * K * K;
                            for (int kh = 0; kh < K; kh++) {
                                const int oh = ih * st - p + kh;
                                for (int kw = 0; kw < K && oh >= 0 && oh < OH; kw++) {
                                    const int ow = iw * st - p + kw;
                                    if (ow >= 0 && ow < OW)
                                        a += (double)g[(size_t)oh * OW + ow] * wk[kh * K + kw];
                                }
                            }
                        }
                        float *dd = d + (size_t)ih * W + iw;
                        *dd = acc ? *dd + (float)a : (float)a;
                    }
            }
    }
    if (dw) {
#pragma omp parallel for collapse(2)
        for (int ci = 0; ci < Cin; ci++)
            for (int co = 0; co < Cout; co++) {
                float *dwk = dw + ((size_t)ci * Cout + co) * K * K;
                for (int kh = 0; kh < K; kh++)
                    for (int kw = 0; kw < K; kw++) {
                        double a = 0;
                        for (int n = 0; n < N; n++) {
                            const float *g = dout + ((size_t)n * Cout + co) * OHW;
                            const float *x = in + ((size_t)n * Cin + ci) * HW;
                            for (int ih = 0; ih < H; ih++) {
                                const int oh = ih * st - p + kh;
                                for (int iw = 0; iw < W && oh >= 0 && oh < OH; iw++) {
                                    const int ow = iw * st - p + kw;
                                    if (ow >= 0 && ow < OW)
                                        a += (double)x[(size_t)ih * W + iw] *
                                             g[(size_t)oh * OW + ow];
                                }
                            }
                        }
                        dwk[kh * K + kw] += (float)a;
                    }
            }
    }
    if (db)
        deconv_bias_grad(db, dout, N, Cout, OHW);
}

/* ---- oneDNN ---- */

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

static int deconv_check(const ug_deconv_shape *s, ug_error *err)
{
    if (s->N < 1 || s->Cin < 1 || s->Cout < 1 || s->k < 1 || s->stride < 1 || s->H < 1 ||
        s->W < 1 || s->pad < 0 || s->pad >= s->k || s->out_pad < 0 ||
        s->out_pad >= s->stride || s->out_pad > s->pad || ug_deconv_out_h(s) < 1 ||
        ug_deconv_out_w(s) < 1)
        return ug_fail(err, "transposed convolution: bad shape N=%d Cin=%d %dx%d Cout=%d k=%d "
                            "s=%d pad=%d output_padding=%d", s->N, s->Cin, s->H, s->W, s->Cout,
                       s->k, s->stride, s->pad, s->out_pad);
    return 0;
}

/* 2 * multiply-adds of one forward pass. */
static double deconv_flops(const ug_deconv_shape *s)
{
    return 2.0 * s->N * s->Cin * s->H * s->W * (double)s->Cout * s->k * s->k;
}

int ug_deconv_forward(ug_kctx *k, float *out, const float *in, const float *w, const float *b,
                      const ug_deconv_shape *s, ug_error *err)
{
    if (deconv_check(s, err))
        return -1;
    ug_kctx_add_flops(k, deconv_flops(s));
    if (ug_kctx_reference(k)) {
        ug_deconv_forward_ref(out, in, w, b, s);
        return 0;
    }
    ug_dnnl_prim *p = deconv_prim(k, b ? DECONV_FWD_BIAS : DECONV_FWD, s, err);
    if (!p)
        return -1;
    const void *ptrs[] = {in, w, out, b};
    const int acc[] = {0, 0, 0, 0};
    return ug_dnnl_exec(k, p, ptrs, acc, err);
}

int ug_deconv_backward(ug_kctx *k, float *din, float *dw, float *db, const float *dout,
                       const float *in, const float *w, const ug_deconv_shape *s, int acc,
                       ug_error *err)
{
    if (deconv_check(s, err))
        return -1;
    ug_kctx_add_flops(k, deconv_flops(s) * ((din != NULL) + (dw != NULL)));
    if (ug_kctx_reference(k)) {
        ug_deconv_backward_ref(din, dw, db, dout, in, w, s, acc);
        return 0;
    }
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
    if (db)
        deconv_bias_grad(db, dout, s->N, s->Cout,
                         (size_t)ug_deconv_out_h(s) * (size_t)ug_deconv_out_w(s));
    return 0;
}
