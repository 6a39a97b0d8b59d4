/* Convolution with zero padding inside it (reflection padding is its own
 * op): the op (shape rule, forward, backward), then the shape helpers and
 * the plain reference kernels; the CPU backend's oneDNN version is
 * src/backend/cpu/conv.c. A spectrally normalised weight is used as
 * W / sigma of this call (or the sum divided by sigma, sn_after_sum); its
 * gradient is folded back into weight_orig's through sigma. */
#include <string.h>

#include "ops/ops.h"

static int conv_shape(const ug_net *net, ug_node *nd, ug_error *err)
{
    const ug_node *x = ug_op_input(net, nd, 0, err);
    if (!x)
        return -1;
    int pads_ok = 1;
    for (int i = 0; i < 4; i++)
        pads_ok &= nd->zpad[i] >= 0 && nd->zpad[i] < (i < 2 ? nd->kh : nd->kw);
    if (nd->kh < 1 || nd->kw < 1 || nd->stride < 1 || !pads_ok)
        return ug_fail(err, "internal: conv %dx%d stride %d zero padding %d,%d,%d,%d (each "
                            "smaller than the kernel)", nd->kh, nd->kw, nd->stride, nd->zpad[0],
                       nd->zpad[1], nd->zpad[2], nd->zpad[3]);
    if (nd->p[0] < 0 || nd->p[0] >= net->n_params)
        return ug_fail(err, "internal: conv node without its weight");
    int64_t cout = net->params[nd->p[0]].shape[0];
    if (ug_op_check_param(net, nd, nd->p[0], 4, (int64_t[]){cout, x->C, nd->kh, nd->kw}, err) <
            0 ||
        ug_op_check_bias(net, nd, cout, err) < 0)
        return -1;
    const int H = x->H + nd->zpad[0] + nd->zpad[1], W = x->W + nd->zpad[2] + nd->zpad[3];
    if (H < nd->kh || W < nd->kw)
        return ug_fail(err, "the image is too small for this network: a %dx%d feature map is "
                            "smaller than a %dx%d convolution", x->H, x->W, nd->kh, nd->kw);
    nd->C = (int)cout;
    nd->H = (H - nd->kh) / nd->stride + 1, nd->W = (W - nd->kw) / nd->stride + 1;
    return 0;
}

/* Node i's shape, with the layouts of this call (plain in a recording tape). */
static ug_conv_shape conv_of(const ug_tape *t, int i)
{
    const ug_node *nd = &t->net->nodes[i], *x = &t->net->nodes[nd->in[0]];
    ug_conv_shape s = {t->N, x->C, x->H, x->W, nd->C, nd->kh, nd->kw, nd->stride,
                       {nd->zpad[0], nd->zpad[1], nd->zpad[2], nd->zpad[3]},
                       t->blocked[nd->in[0]], t->blocked[i]};
    return s;
}

/* 1 when node i divides by sigma after the sum instead of before it:
 * conv(x, W / sigma) = conv(x, W) / sigma, and the input gradient likewise
 * from dout / sigma. Done where the weight is larger than the output (the
 * discriminators' deep layers: 134 MB of weights against 0.4 MB of output
 * at 256), so that no pass writes and reads a W / sigma copy; the rounding
 * differs from torch's order by a few ulp of the sum. Plain outputs only. */
static int sn_after_sum(const ug_tape *t, int i, const ug_conv_shape *s)
{
    const int p = t->net->nodes[i].p[0];
    return t->sn_uv[p] && !s->blocked_out && t->net->params[p].numel > ug_tape_numel(t, i);
}

static int conv_forward(ug_tape *t, ug_kctx *k, int i, const float *x, float *out, int relu,
                        ug_error *err)
{
    (void)relu;
    const ug_node *nd = &t->net->nodes[i];
    const int p = nd->p[0];
    ug_conv_shape s = conv_of(t, i);
    const float *b = nd->p[1] >= 0 ? ug_param_data(t->net, nd->p[1]) : NULL;
    if (sn_after_sum(t, i, &s)) {
        if (ug_conv_forward(k, out, x, ug_param_data(t->net, p), NULL, &s, err))
            return -1;
        ug_spectral_norm_output(k, out, t->sigma[p], b, s.N, s.Cout,
                                (size_t)ug_conv_out_h(&s) * ug_conv_out_w(&s));
        return 0;
    }
    const float *w = ug_tape_weight(t, k, p);
    return w ? ug_conv_forward(k, out, x, w, b, &s, err) : ug_tape_oom(err);
}

static int conv_backward(ug_bwd *b, ug_kctx *k, int i, int param_grads, ug_error *err)
{
    ug_tape *t = b->t;
    const ug_net *net = t->net;
    const ug_node *nd = &net->nodes[i];
    const int j = nd->in[0], p = nd->p[0], sn = t->sn_uv[p] != NULL;
    ug_conv_shape s = conv_of(t, i);
    int acc;
    float *din = ug_bwd_din(b, j, &acc);
    float *db = param_grads && nd->p[1] >= 0 ? ug_param_grad(net, nd->p[1]) : NULL;
    if (b->failed)
        return ug_tape_oom(err);
    if (!din && !param_grads)
        return 0;
    /* Divided by sigma after the sum: the backend's kernel, which makes no
     * W / sigma; else W / sigma's weight gradient first (see
     * ug_bwd_weight_grad), folded through sigma. */
    const int sum_sn = sn && sn_after_sum(t, i, &s);
    float *dw = !param_grads ? NULL : sum_sn ? ug_param_grad(net, p) : ug_bwd_weight_grad(b, k, p);
    if (b->failed)
        return ug_tape_oom(err);
    const float *xin = t->out[j], *g = t->grad[i];
    float *made = NULL;
    if (!xin && dw && !(xin = made = ug_bwd_recompute(b, k, j)))
        return ug_tape_oom(err);
    int rc = 0;
    if (sum_sn) {
        rc = ug_conv_backward_sn(k, din, dw, db, g, xin, ug_param_data(net, p), t->sigma[p],
                                 t->sn_uv[p], t->sn_uv[p] + s.Cout, &s, acc, err);
    } else {
        if (sn && dw) {
            rc = ug_conv_backward(k, NULL, dw, db, g, xin, NULL, &s, acc, err);
            if (rc == 0)
                ug_bwd_fold_sn(t, k, p, dw);
            dw = db = NULL;
        }
        const float *w = rc == 0 && din ? ug_tape_weight(t, k, p) : NULL;
        if (rc == 0 && din && !w)
            rc = ug_tape_oom(err);
        if (rc == 0 && (din || dw || db))
            rc = ug_conv_backward(k, din, dw, db, g, xin, w, &s, acc, err);
    }
    if (made)
        ug_arena_release(b->a, made, ug_tape_numel(t, j) * sizeof(float));
    return rc;
}

static ug_layout conv_layout(const ug_tape *t, ug_kctx *k, int i)
{
    const ug_conv_shape s = conv_of(t, i);
    return ug_kctx_conv_blocked(k, &s) ? UG_LAYOUT_MAKES : UG_LAYOUT_PLAIN;
}

const ug_op_def ug_op_conv = {"conv", UG_OPF_INPUT_FOR_WGRAD, conv_shape, NULL, conv_forward,
                              conv_backward, conv_layout};


/* ---- the plain reference kernels ---- */

int ug_conv_out_h(const ug_conv_shape *s)
{
    return (s->H + s->pad[0] + s->pad[1] - s->kh) / s->stride + 1;
}

int ug_conv_out_w(const ug_conv_shape *s)
{
    return (s->W + s->pad[2] + s->pad[3] - s->kw) / s->stride + 1;
}

int ug_conv_check(const ug_conv_shape *s, ug_error *err)
{
    int pads_ok = 1;
    for (int i = 0; i < 4; i++)
        pads_ok &= s->pad[i] >= 0 && s->pad[i] < (i < 2 ? s->kh : s->kw);
    if (s->N < 1 || s->Cin < 1 || s->Cout < 1 || s->kh < 1 || s->kw < 1 || s->stride < 1 ||
        !pads_ok || s->H + s->pad[0] + s->pad[1] < s->kh || s->W + s->pad[2] + s->pad[3] < s->kw)
        return ug_fail(err, "convolution: bad shape N=%d Cin=%d %dx%d Cout=%d k=%dx%d s=%d pad "
                            "%d,%d,%d,%d", s->N, s->Cin, s->H, s->W, s->Cout, s->kh, s->kw,
                       s->stride, s->pad[0], s->pad[1], s->pad[2], s->pad[3]);
    if ((s->blocked_in && s->Cin % UG_BLOCK) || (s->blocked_out && s->Cout % UG_BLOCK))
        return ug_fail(err, "convolution: a channel-blocked image of %d channels, not a "
                            "multiple of %d", s->blocked_in && s->Cin % UG_BLOCK ? s->Cin : s->Cout,
                       UG_BLOCK);
    return 0;
}

double ug_conv_flops(const ug_conv_shape *s)
{
    return 2.0 * s->N * s->Cout * ug_conv_out_h(s) * ug_conv_out_w(s) * (double)s->Cin * s->kh *
           s->kw;
}

int ug_conv_forward_ref(ug_kctx *k, float *out, const float *in, const float *w, const float *b,
                        const ug_conv_shape *s, ug_error *err)
{
    if (ug_conv_check(s, err))
        return -1;
    ug_kctx_add_flops(k, ug_conv_flops(s));
    const int N = s->N, Cin = s->Cin, H = s->H, W = s->W, Cout = s->Cout, KH = s->kh,
              KW = s->kw, st = s->stride, pt = s->pad[0], pl = s->pad[2];
    const int OH = ug_conv_out_h(s), OW = ug_conv_out_w(s);
    const int si = ug_pixel_step(s->blocked_in), so = ug_pixel_step(s->blocked_out);
#pragma omp parallel for collapse(2)
    for (int n = 0; n < N; n++) {
        for (int co = 0; co < Cout; co++) {
            float *o = out + ug_plane_at(s->blocked_out, Cout, OH * OW, n, co);
            for (int oh = 0; oh < OH; oh++) {
                for (int ow = 0; ow < OW; ow++) {
                    double acc = b ? b[co] : 0.0;
                    for (int ci = 0; ci < Cin; ci++) {
                        const float *x = in + ug_plane_at(s->blocked_in, Cin, H * W, n, ci);
                        const float *wk = w + ((size_t)co * Cin + ci) * KH * KW;
                        for (int kh = 0; kh < KH; kh++) {
                            const int ih = oh * st - pt + kh;
                            if (ih < 0 || ih >= H)
                                continue; /* zero padding */
                            for (int kw = 0; kw < KW; kw++) {
                                const int iw = ow * st - pl + kw;
                                if (iw >= 0 && iw < W)
                                    acc += (double)x[((size_t)ih * W + iw) * si] *
                                           wk[kh * KW + kw];
                            }
                        }
                    }
                    o[((size_t)oh * OW + ow) * so] = (float)acc;
                }
            }
        }
    }
    return 0;
}

/* db[co] += sum over n, oh, ow of dout (the CPU backend's too). */
static void conv_bias_grad(float *db, const float *dout, int N, int Cout, size_t OHW)
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

int ug_conv_backward_ref(ug_kctx *k, float *din, float *dw, float *db, const float *dout,
                         const float *in, const float *w, const ug_conv_shape *s, int acc,
                         ug_error *err)
{
    if (ug_conv_check(s, err))
        return -1;
    if (s->blocked_in || s->blocked_out)
        return ug_fail(err, "convolution: the backward pass takes plain images only");
    ug_kctx_add_flops(k, ug_conv_flops(s) * ((din != NULL) + (dw != NULL)));
    const int N = s->N, Cin = s->Cin, H = s->H, W = s->W, Cout = s->Cout, KH = s->kh,
              KW = s->kw, st = s->stride, pt = s->pad[0], pl = s->pad[2];
    const int OH = ug_conv_out_h(s), OW = ug_conv_out_w(s);
    const size_t HW = (size_t)H * W, OHW = (size_t)OH * OW;
    if (din) {
        /* Scatter each output gradient back; one (n, ci) plane per iteration,
         * so threads never write the same element. */
#pragma omp parallel for collapse(2)
        for (int n = 0; n < N; n++) {
            for (int ci = 0; ci < Cin; ci++) {
                float *d = din + ((size_t)n * Cin + ci) * HW;
                if (!acc)
                    memset(d, 0, HW * sizeof *d);
                for (int co = 0; co < Cout; co++) {
                    const float *g = dout + ((size_t)n * Cout + co) * OHW;
                    const float *wk = w + ((size_t)co * Cin + ci) * KH * KW;
                    for (int oh = 0; oh < OH; oh++)
                        for (int ow = 0; ow < OW; ow++) {
                            const float gv = g[(size_t)oh * OW + ow];
                            for (int kh = 0; kh < KH; kh++) {
                                const int ih = oh * st - pt + kh;
                                for (int kw = 0; kw < KW; kw++) {
                                    const int iw = ow * st - pl + kw;
                                    if (ih >= 0 && ih < H && iw >= 0 && iw < W)
                                        d[(size_t)ih * W + iw] += gv * wk[kh * KW + kw];
                                }
                            }
                        }
                }
            }
        }
    }
    if (dw) {
#pragma omp parallel for collapse(2)
        for (int co = 0; co < Cout; co++) {
            for (int ci = 0; ci < Cin; ci++) {
                float *dwk = dw + ((size_t)co * Cin + ci) * KH * KW;
                for (int kh = 0; kh < KH; kh++)
                    for (int kw = 0; kw < KW; kw++) {
                        double a = 0;
                        for (int n = 0; n < N; n++) {
                            const float *g = dout + ((size_t)n * Cout + co) * OHW;
                            const float *x = in + ((size_t)n * Cin + ci) * HW;
                            for (int oh = 0; oh < OH; oh++) {
                                const int ih = oh * st - pt + kh;
                                if (ih < 0 || ih >= H)
                                    continue;
                                for (int ow = 0; ow < OW; ow++) {
                                    const int iw = ow * st - pl + kw;
                                    if (iw >= 0 && iw < W)
                                        a += (double)g[(size_t)oh * OW + ow] *
                                             x[(size_t)ih * W + iw];
                                }
                            }
                        }
                        dwk[kh * KW + kw] += (float)a;
                    }
            }
        }
    }
    if (db)
        conv_bias_grad(db, dout, N, Cout, OHW);
    return 0;
}

/* Composed of the kernels above through the context's backend: the weight
 * gradient for W / sigma into the scratch, folded through sigma; then the
 * input gradient from dout / sigma and W, the same as from dout and W / sigma. */
int ug_conv_backward_sn_ref(ug_kctx *k, float *din, float *dw, float *db, const float *dout,
                            const float *in, const float *w, float sigma, const float *u,
                            const float *v, const ug_conv_shape *s, int acc, ug_error *err)
{
    if (ug_conv_check(s, err))
        return -1;
    const size_t cols = (size_t)s->Cin * s->kh * s->kw, nw = (size_t)s->Cout * cols;
    const size_t nout = (size_t)s->N * s->Cout * ug_conv_out_h(s) * ug_conv_out_w(s);
    const size_t count = dw && nw > nout ? nw : nout;
    float *buf = ug_kctx_scratch(k, count);
    if (!buf)
        return ug_fail(err, "convolution: out of memory for a scratch of %zu floats", count);
    if (dw) {
        k->be->zero(buf, nw * sizeof *buf);
        if (ug_conv_backward(k, NULL, buf, db, dout, in, NULL, s, acc, err))
            return -1;
        ug_spectral_norm_backward(k, dw, buf, w, u, v, sigma, s->Cout, (int)cols);
    } else if (db && ug_conv_backward(k, NULL, NULL, db, dout, in, NULL, s, acc, err)) {
        return -1;
    }
    if (!din)
        return 0;
    ug_spectral_norm_apply(k, buf, dout, sigma, nout);
    return ug_conv_backward(k, din, NULL, NULL, buf, in, w, s, acc, err);
}
