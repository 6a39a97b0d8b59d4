/* Ops with a weight matrix: convolution, transposed convolution and linear
 * (kernels, with their oneDNN fast paths and plain references, in
 * src/kernels/conv.c, deconv.c and linear.c). A spectrally normalised weight
 * (convolution and linear) is used as W / sigma of this call; its gradient is
 * folded back into weight_orig's through sigma. */
#include "ops/ops.h"

/* The bias parameter p[1], when there is one, holds one value per output. */
static int check_bias(const ug_net *net, const ug_node *nd, int64_t outputs, ug_error *err)
{
    return nd->p[1] < 0 ? 0 : ug_op_check_param(net, nd, nd->p[1], 1, &outputs, err);
}

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
        check_bias(net, nd, cout, err) < 0)
        return -1;
    const int H = x->H + nd->zpad[0] + nd->zpad[1], W = x->W + nd->zpad[2] + nd->zpad[3];
    if (H < nd->kh || W < nd->kw)
        return ug_fail(err, "the image is too small for this network: a %dx%d feature map is "
                            "smaller than a %dx%d convolution", x->H, x->W, nd->kh, nd->kw);
    nd->C = (int)cout;
    nd->H = (H - nd->kh) / nd->stride + 1, nd->W = (W - nd->kw) / nd->stride + 1;
    return 0;
}

static ug_conv_shape conv_of(const ug_tape *t, const ug_node *nd)
{
    const ug_node *x = &t->net->nodes[nd->in[0]];
    ug_conv_shape s = {t->N, x->C, x->H, x->W, nd->C, nd->kh, nd->kw, nd->stride,
                       {nd->zpad[0], nd->zpad[1], nd->zpad[2], nd->zpad[3]}};
    return s;
}

static int conv_forward(ug_tape *t, ug_kctx *k, int i, const float *x, float *out, int relu,
                        ug_error *err)
{
    (void)relu;
    const ug_node *nd = &t->net->nodes[i];
    ug_conv_shape s = conv_of(t, nd);
    const float *b = nd->p[1] >= 0 ? ug_param_data(t->net, nd->p[1]) : NULL;
    const float *w = ug_tape_weight(t, k, nd->p[0]);
    return w ? ug_conv_forward(k, out, x, w, b, &s, err) : ug_tape_oom(err);
}

static int conv_backward(ug_bwd *b, ug_kctx *k, int i, int param_grads, ug_error *err)
{
    ug_tape *t = b->t;
    const ug_net *net = t->net;
    const ug_node *nd = &net->nodes[i];
    const int j = nd->in[0], p = nd->p[0], sn = t->sn_uv[p] != NULL;
    ug_conv_shape s = conv_of(t, nd);
    int acc;
    float *din = ug_bwd_din(b, j, &acc);
    float *db = param_grads && nd->p[1] >= 0 ? ug_param_grad(net, nd->p[1]) : NULL;
    if (b->failed)
        return ug_tape_oom(err);
    if (!din && !param_grads)
        return 0;
    float *dw = param_grads ? ug_bwd_weight_grad(b, k, p) : NULL;
    if (b->failed)
        return ug_tape_oom(err);
    const float *xin = t->out[j], *g = t->grad[i];
    float *made = NULL;
    if (!xin && dw && !(xin = made = ug_bwd_recompute(b, k, j)))
        return ug_tape_oom(err);
    int rc = 0;
    if (sn && dw) { /* weight gradient first (see ug_bwd_weight_grad) */
        rc = ug_conv_backward(k, NULL, dw, db, g, xin, NULL, &s, acc, err);
        if (rc == 0)
            ug_bwd_fold_sn(t, p, dw);
        dw = db = NULL;
    }
    const float *w = rc == 0 && din ? ug_tape_weight(t, k, p) : NULL;
    if (rc == 0 && din && !w)
        rc = ug_tape_oom(err);
    if (rc == 0 && (din || dw || db))
        rc = ug_conv_backward(k, din, dw, db, g, xin, w, &s, acc, err);
    if (made)
        ug_arena_release(b->a, made, ug_tape_numel(t, j) * sizeof(float));
    return rc;
}

const ug_op_def ug_op_conv = {"conv", UG_OPF_INPUT_FOR_WGRAD, conv_shape, NULL, conv_forward,
                              conv_backward};

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
        check_bias(net, nd, cout, err) < 0)
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
                                deconv_backward};

static int linear_shape(const ug_net *net, ug_node *nd, ug_error *err)
{
    const ug_node *x = ug_op_input(net, nd, 0, err);
    if (!x)
        return -1;
    if (nd->p[0] < 0 || nd->p[0] >= net->n_params)
        return ug_fail(err, "internal: linear node without its weight");
    int64_t out = net->params[nd->p[0]].shape[0], in = (int64_t)x->C * x->H * x->W;
    if (ug_op_check_param(net, nd, nd->p[0], 2, (int64_t[]){out, in}, err) < 0 ||
        check_bias(net, nd, out, err) < 0)
        return -1;
    nd->C = (int)out, nd->H = nd->W = 1;
    return 0;
}

static int linear_inputs(const ug_tape *t, const ug_node *nd)
{
    const ug_node *x = &t->net->nodes[nd->in[0]];
    return x->C * x->H * x->W;
}

static int linear_forward(ug_tape *t, ug_kctx *k, int i, const float *x, float *out, int relu,
                          ug_error *err)
{
    (void)relu;
    const ug_node *nd = &t->net->nodes[i];
    const float *b = nd->p[1] >= 0 ? ug_param_data(t->net, nd->p[1]) : NULL;
    const float *w = ug_tape_weight(t, k, nd->p[0]);
    return w ? ug_linear_forward(k, out, x, w, b, t->N, linear_inputs(t, nd), nd->C, err)
             : ug_tape_oom(err);
}

static int linear_backward(ug_bwd *b, ug_kctx *k, int i, int param_grads, ug_error *err)
{
    ug_tape *t = b->t;
    const ug_net *net = t->net;
    const ug_node *nd = &net->nodes[i];
    const int p = nd->p[0], sn = t->sn_uv[p] != NULL, I = linear_inputs(t, nd), N = t->N;
    const float *xin = t->out[nd->in[0]], *g = t->grad[i];
    int acc;
    float *din = ug_bwd_din(b, nd->in[0], &acc);
    float *db = param_grads && nd->p[1] >= 0 ? ug_param_grad(net, nd->p[1]) : NULL;
    if (b->failed)
        return ug_tape_oom(err);
    float *dw = param_grads ? ug_bwd_weight_grad(b, k, p) : NULL;
    if (b->failed)
        return ug_tape_oom(err);
    if (sn && dw) { /* weight gradient first (see ug_bwd_weight_grad) */
        if (ug_linear_backward(k, NULL, dw, db, g, xin, NULL, N, I, nd->C, acc, err) < 0)
            return -1;
        ug_bwd_fold_sn(t, p, dw);
        dw = db = NULL;
    }
    const float *w = din ? ug_tape_weight(t, k, p) : NULL;
    if (din && !w)
        return ug_tape_oom(err);
    if ((din || dw || db) && ug_linear_backward(k, din, dw, db, g, xin, w, N, I, nd->C, acc, err) < 0)
        return -1;
    return 0;
}

const ug_op_def ug_op_linear = {"linear", 0, linear_shape, NULL, linear_forward,
                                linear_backward};
