/* Channel-wise ops of the CAM block and the residual add (kernels in
 * src/kernels/cam.c, their own references): per-channel scaling by a
 * parameter, concatenation along channels, the channel sum (the heatmap) and
 * element-wise addition. */
#include "ops/ops.h"

static int plane(const ug_node *nd) { return nd->H * nd->W; }

static int scale_shape(const ug_net *net, ug_node *nd, ug_error *err)
{
    const ug_node *x = ug_op_input(net, nd, 0, err);
    if (!x)
        return -1;
    /* The CAM weights are linear weights of shape 1 x C. */
    if (ug_op_check_param(net, nd, nd->p[0], 2, (int64_t[]){1, x->C}, err) < 0)
        return -1;
    nd->C = x->C, nd->H = x->H, nd->W = x->W;
    return 0;
}

static int scale_forward(ug_tape *t, ug_kctx *k, int i, const float *x, float *out, int relu,
                         ug_error *err)
{
    (void)k, (void)relu, (void)err;
    const ug_node *nd = &t->net->nodes[i];
    ug_scale_channels_forward(out, x, ug_param_data(t->net, nd->p[0]), t->N, nd->C, plane(nd));
    return 0;
}

static int scale_backward(ug_bwd *b, ug_kctx *k, int i, int param_grads, ug_error *err)
{
    (void)k, (void)err;
    const ug_tape *t = b->t;
    const ug_node *nd = &t->net->nodes[i];
    int acc;
    float *din = ug_bwd_din(b, nd->in[0], &acc);
    float *dw = param_grads ? ug_param_grad(t->net, nd->p[0]) : NULL;
    ug_scale_channels_backward(din, dw, t->grad[i], t->out[nd->in[0]],
                               ug_param_data(t->net, nd->p[0]), t->N, nd->C, plane(nd), acc);
    return 0;
}

const ug_op_def ug_op_scale = {"scale", UG_OPF_OVERWRITES_IN0, scale_shape, NULL, scale_forward,
                               scale_backward};

static int concat_shape(const ug_net *net, ug_node *nd, ug_error *err)
{
    const ug_node *a = ug_op_input(net, nd, 0, err), *b = ug_op_input(net, nd, 1, err);
    if (!a || !b)
        return -1;
    if (a->H != b->H || a->W != b->W)
        return ug_fail(err, "internal: concatenating %dx%d and %dx%d maps", a->H, a->W, b->H,
                       b->W);
    nd->C = a->C + b->C, nd->H = a->H, nd->W = a->W;
    return 0;
}

static int concat_forward(ug_tape *t, ug_kctx *k, int i, const float *x, float *out, int relu,
                          ug_error *err)
{
    (void)k, (void)relu, (void)err;
    const ug_node *nd = &t->net->nodes[i];
    const ug_node *a = &t->net->nodes[nd->in[0]], *b = &t->net->nodes[nd->in[1]];
    ug_concat_forward(out, x, t->out[nd->in[1]], t->N, a->C, b->C, plane(nd));
    return 0;
}

static int concat_backward(ug_bwd *b, ug_kctx *k, int i, int param_grads, ug_error *err)
{
    (void)k, (void)param_grads, (void)err;
    const ug_node *nd = &b->t->net->nodes[i];
    const ug_node *x = &b->t->net->nodes[nd->in[0]], *y = &b->t->net->nodes[nd->in[1]];
    int acc_a, acc_b;
    float *da = ug_bwd_din(b, nd->in[0], &acc_a);
    float *db = ug_bwd_din(b, nd->in[1], &acc_b);
    ug_concat_backward(da, db, b->t->grad[i], b->t->N, x->C, y->C, plane(nd), acc_a, acc_b);
    return 0;
}

const ug_op_def ug_op_concat = {"concat", 0, concat_shape, NULL, concat_forward,
                                concat_backward};

static int chsum_shape(const ug_net *net, ug_node *nd, ug_error *err)
{
    const ug_node *x = ug_op_input(net, nd, 0, err);
    if (!x)
        return -1;
    nd->C = 1, nd->H = x->H, nd->W = x->W;
    return 0;
}

static int chsum_forward(ug_tape *t, ug_kctx *k, int i, const float *x, float *out, int relu,
                         ug_error *err)
{
    (void)k, (void)relu, (void)err;
    const ug_node *nd = &t->net->nodes[i];
    ug_channel_sum_forward(out, x, t->N, t->net->nodes[nd->in[0]].C, plane(nd));
    return 0;
}

static int chsum_backward(ug_bwd *b, ug_kctx *k, int i, int param_grads, ug_error *err)
{
    (void)k, (void)param_grads, (void)err;
    const ug_node *nd = &b->t->net->nodes[i];
    int acc;
    float *din = ug_bwd_din(b, nd->in[0], &acc);
    if (din)
        ug_channel_sum_backward(din, b->t->grad[i], b->t->N, b->t->net->nodes[nd->in[0]].C,
                                plane(nd), acc);
    return 0;
}

const ug_op_def ug_op_chsum = {"chsum", 0, chsum_shape, NULL, chsum_forward, chsum_backward};

static int add_shape(const ug_net *net, ug_node *nd, ug_error *err)
{
    const ug_node *a = ug_op_input(net, nd, 0, err), *b = ug_op_input(net, nd, 1, err);
    if (!a || !b)
        return -1;
    if (a->C != b->C || a->H != b->H || a->W != b->W)
        return ug_fail(err, "internal: adding %dx%dx%d and %dx%dx%d", a->C, a->H, a->W, b->C,
                       b->H, b->W);
    nd->C = a->C, nd->H = a->H, nd->W = a->W;
    return 0;
}

static int add_forward(ug_tape *t, ug_kctx *k, int i, const float *x, float *out, int relu,
                       ug_error *err)
{
    (void)k, (void)relu, (void)err;
    ug_add_forward(out, x, t->out[t->net->nodes[i].in[1]], ug_tape_numel(t, i));
    return 0;
}

static int add_backward(ug_bwd *b, ug_kctx *k, int i, int param_grads, ug_error *err)
{
    (void)k, (void)param_grads, (void)err;
    const ug_node *nd = &b->t->net->nodes[i];
    int acc_a, acc_b;
    float *da = ug_bwd_din(b, nd->in[0], &acc_a);
    float *db = ug_bwd_din(b, nd->in[1], &acc_b);
    ug_add_backward(da, db, b->t->grad[i], ug_tape_numel(b->t, i), acc_a, acc_b);
    return 0;
}

const ug_op_def ug_op_add = {"add", UG_OPF_OVERWRITES_ANY, add_shape, NULL, add_forward,
                             add_backward};
