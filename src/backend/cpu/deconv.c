/* The CPU backend's transposed convolution, as torch.nn.ConvTranspose2d:
 * oneDNN's deconvolution forward, backward data and backward weights, with
 * primitives cached per shape in the context (dnnl.c). The reference is
 * src/ops/deconv.c, whose plain sum also makes the bias gradient here. */
#include <stdio.h>

#include "backend/cpu/convlike.h"
#include "backend/cpu/cpu.h"

/* Cache keys apart from the convolutions' (conv.c). */
#define KEY_BASE 64

/* The cached primitive of a pass for shape s, created on first use. */
static ug_dnnl_prim *deconv_prim(ug_kctx *k, int pass, const ug_deconv_shape *s, ug_error *err)
{
    const int key[UG_DNNL_KEY_LEN] = {KEY_BASE + pass, s->N, s->Cin,  s->H,   s->W,
                                      s->Cout,         s->k, s->stride, s->pad, s->out_pad};
    ug_dnnl_prim *p = ug_dnnl_find(k, key);
    if (p)
        return p;
    const ug_convlike_desc d = {
        .pass = pass,
        .alg = dnnl_deconvolution_direct,
        .src = {s->N, s->Cin, s->H, s->W},
        /* oneDNN's weights are Cout x Cin x k x k in its logical order;
         * PyTorch's Cin x Cout x k x k memory is its iohw layout. */
        .wei = {s->Cout, s->Cin, s->k, s->k},
        .bias = {s->Cout},
        .dst = {s->N, s->Cout, ug_deconv_out_h(s), ug_deconv_out_w(s)},
        .strides = {s->stride, s->stride},
        /* The output padding is on the bottom and right: less padding there. */
        .pad_l = {s->pad, s->pad},
        .pad_r = {s->pad - s->out_pad, s->pad - s->out_pad},
        .in_type = dnnl_f32,
        .act = dnnl_format_tag_any,
        .wei_layout = dnnl_format_tag_any,
        .wei_user = dnnl_iohw,
        .src_user = dnnl_nchw,
        .dst_user = dnnl_nchw,
    };
    char what[128];
    snprintf(what, sizeof what, "N=%d Cin=%d %dx%d Cout=%d k=%d s=%d p=%d op=%d", s->N, s->Cin,
             s->H, s->W, s->Cout, s->k, s->stride, s->pad, s->out_pad);
    return ug_convlike_prim(k, key, &ug_convlike_deconv, &d, 0, what, err);
}

int ug_cpu_deconv_forward(ug_kctx *k, float *out, const float *in, const float *w,
                          const float *b, const ug_deconv_shape *s, ug_error *err)
{
    if (ug_deconv_check(s, err))
        return -1;
    ug_kctx_add_flops(k, ug_deconv_flops(s));
    const int pass = b ? UG_PASS_FWD_BIAS : UG_PASS_FWD;
    ug_dnnl_prim *p = deconv_prim(k, pass, s, err);
    const ug_convlike_args a = {.out = out, .in = in, .w = w, .b = b};
    return p ? ug_convlike_exec(k, p, pass, &a, err) : -1;
}

int ug_cpu_deconv_backward(ug_kctx *k, float *din, float *dw, float *db, const float *dout,
                           const float *in, const float *w, const ug_deconv_shape *s, int acc,
                           ug_error *err)
{
    if (ug_deconv_check(s, err))
        return -1;
    ug_kctx_add_flops(k, ug_deconv_flops(s) * ((din != NULL) + (dw != NULL)));
    const ug_convlike_args a = {.din = din, .dw = dw, .in = in, .w = w, .dout = dout, .acc = acc};
    for (int pass = UG_PASS_BWD_DATA; pass <= UG_PASS_BWD_WEIGHTS; pass++) {
        if (!(pass == UG_PASS_BWD_DATA ? din : dw))
            continue;
        ug_dnnl_prim *p = deconv_prim(k, pass, s, err);
        if (!p || ug_convlike_exec(k, p, pass, &a, err))
            return -1;
    }
    /* The bias gradient: the reference's plain sum. */
    if (db && ug_deconv_backward_ref(k, NULL, NULL, db, dout, in, w, s, acc, err))
        return -1;
    return 0;
}
