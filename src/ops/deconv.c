/* Transposed convolution, as torch.nn.ConvTranspose2d, weight Cin x Cout x
 * k x k (PyTorch's layout): the op (shape rule, forward, backward), then the
 * shape helpers and the plain reference kernels, which gather every output
 * from the inputs that reach it; the CPU backend's oneDNN version is
 * src/backend/cpu/deconv.c. */
#include <string.h>

#include "ops/ops.h"

/* Transposed convolution, weight Cin x Cout x k x k (PyTorch's layout). */
static int deconv_shape(const ug_net *net, ug_node *nd, ug_error *err)
{
    const ug_node *x = ug_op_input(net, nd, 0, err);
    if (!x)
        return -1;
    if (nd->kh != nd->kw || nd->kh < 1 || nd->stride < 1 || nd->pad < 0 || nd->pad >= nd->kh ||
        nd->out_pad < 0 || nd->out_pad >= nd->stride || nd->out_pad > nd->pad)
        return ug_fail(err, "internal: transposed conv %dx%d stride %d padding %d output "
                            "padding %d (square kernels, output padding < stride, <= padding < "
                            "kernel)", nd->kh, nd->kw, nd->stride, nd->pad, nd->out_pad);
    if (nd->p[0] < 0 || nd->p[0] >= net->n_params)
        return ug_fail(err, "internal: transposed conv node without its weight");
    /* PyTorch normalises a transposed convolution's weight over its dimension
     * 1, which ug_spectral_norm_forward's rows are not. */
    if (net->params[nd->p[0]].sn_u >= 0)
        return ug_fail(err, "internal: transposed conv with a spectrally normalised weight");
    int64_t cout = net->params[nd->p[0]].shape[1];
    if (ug_op_check_param(net, nd, nd->p[0], 4, (int64_t[]){x->C, cout, nd->kh, nd->kw}, err) <
            0 ||
        ug_op_check_bias(net, nd, cout, err) < 0)
        return -1;
    nd->C = (int)cout;
    nd->H = (x->H - 1) * nd->stride - 2 * nd->pad + nd->kh + nd->out_pad;
    nd->W = (x->W - 1) * nd->stride - 2 * nd->pad + nd->kw + nd->out_pad;
    return 0;
}

static ug_deconv_shape deconv_of(const ug_tape *t, const ug_node *nd)
{
    const ug_node *x = &t->net->nodes[nd->in[0]];
    ug_deconv_shape s = {t->N, x->C, x->H, x->W, nd->C, nd->kh, nd->stride, nd->pad, nd->out_pad};
    return s;
}

static int deconv_forward(ug_tape *t, ug_kctx *k, int i, const float *x, float *out, int relu,
                          ug_error *err)
{
    (void)relu;
    const ug_node *nd = &t->net->nodes[i];
    ug_deconv_shape s = deconv_of(t, nd);
    const float *b = nd->p[1] >= 0 ? ug_param_data(t->net, nd->p[1]) : NULL;
    return ug_deconv_forward(k, out, x, ug_param_data(t->net, nd->p[0]), b, &s, err);
}

static int deconv_backward(ug_bwd *b, ug_kctx *k, int i, int param_grads, ug_error *err)
{
    ug_tape *t = b->t;
    const ug_net *net = t->net;
    const ug_node *nd = &net->nodes[i];
    ug_deconv_shape s = deconv_of(t, nd);
    int acc;
    float *din = ug_bwd_din(b, nd->in[0], &acc);
    if (b->failed)
        return ug_tape_oom(err);
    float *dw = param_grads ? ug_param_grad(net, nd->p[0]) : NULL;
    float *db = param_grads && nd->p[1] >= 0 ? ug_param_grad(net, nd->p[1]) : NULL;
    if (!din && !dw)
        return 0;
    return ug_deconv_backward(k, din, dw, db, t->grad[i], t->out[nd->in[0]],
                              ug_param_data(net, nd->p[0]), &s, acc, err);
}

const ug_op_def ug_op_deconv = {"deconv", 0, deconv_shape, NULL, deconv_forward,
                                deconv_backward, NULL};


/* ---- the plain reference kernels ---- */

int ug_deconv_out_h(const ug_deconv_shape *s)
{
    return (s->H - 1) * s->stride - 2 * s->pad + s->k + s->out_pad;
}

int ug_deconv_out_w(const ug_deconv_shape *s)
{
    return (s->W - 1) * s->stride - 2 * s->pad + s->k + s->out_pad;
}

int ug_deconv_check(const ug_deconv_shape *s, ug_error *err)
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

double ug_deconv_flops(const ug_deconv_shape *s)
{
    return 2.0 * s->N * s->Cin * s->H * s->W * (double)s->Cout * s->k * s->k;
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

int ug_deconv_forward_ref(ug_kctx *k, float *out, const float *in, const float *w, const float *b,
                          const ug_deconv_shape *s, ug_error *err)
{
    if (ug_deconv_check(s, err))
        return -1;
    ug_kctx_add_flops(k, ug_deconv_flops(s));
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
    return 0;
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

int ug_deconv_backward_ref(ug_kctx *k, float *din, float *dw, float *db, const float *dout,
                           const float *in, const float *w, const ug_deconv_shape *s, int acc,
                           ug_error *err)
{
    if (ug_deconv_check(s, err))
        return -1;
    ug_kctx_add_flops(k, ug_deconv_flops(s) * ((din != NULL) + (dw != NULL)));
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
    return 0;
}

