/* Channel-wise and element-wise ops (kernels in src/kernels/cam.c and
 * eltwise.c, their own references): per-channel scaling by a parameter,
 * concatenation along channels, the channel sum (the heatmap), and addition
 * and multiplication, one operand possibly broadcast over H, W. */
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

/* The inputs of a concatenation: in[0], in[1], ... up to the first -1. */
static int concat_inputs(const ug_node *nd)
{
    int n = 0;
    while (n < UG_NODE_IN && nd->in[n] >= 0)
        n++;
    return n;
}

static int concat_shape(const ug_net *net, ug_node *nd, ug_error *err)
{
    const int n = concat_inputs(nd);
    if (n < 2)
        return ug_fail(err, "internal: concat of %d input", n);
    nd->C = 0;
    for (int j = 0; j < n; j++) {
        const ug_node *x = ug_op_input(net, nd, j, err);
        if (!x)
            return -1;
        if (j > 0 && (x->H != nd->H || x->W != nd->W))
            return ug_fail(err, "internal: concatenating %dx%d and %dx%d maps", nd->H, nd->W,
                           x->H, x->W);
        nd->C += x->C, nd->H = x->H, nd->W = x->W;
    }
    return 0;
}

/* The channel counts of node i's inputs into C; returns how many. */
static int concat_channels(const ug_tape *t, int i, int *C)
{
    const ug_node *nd = &t->net->nodes[i];
    const int n = concat_inputs(nd);
    for (int j = 0; j < n; j++)
        C[j] = t->net->nodes[nd->in[j]].C;
    return n;
}

static int concat_forward(ug_tape *t, ug_kctx *k, int i, const float *x, float *out, int relu,
                          ug_error *err)
{
    (void)k, (void)relu, (void)err;
    const ug_node *nd = &t->net->nodes[i];
    int C[UG_NODE_IN];
    const float *in[UG_NODE_IN];
    const int n = concat_channels(t, i, C);
    for (int j = 0; j < n; j++)
        in[j] = j ? t->out[nd->in[j]] : x;
    ug_concat_forward(out, in, C, n, t->N, plane(nd));
    return 0;
}

static int concat_backward(ug_bwd *b, ug_kctx *k, int i, int param_grads, ug_error *err)
{
    (void)k, (void)param_grads, (void)err;
    const ug_node *nd = &b->t->net->nodes[i];
    int C[UG_NODE_IN], acc[UG_NODE_IN];
    float *din[UG_NODE_IN];
    const int n = concat_channels(b->t, i, C);
    for (int j = 0; j < n; j++)
        din[j] = ug_bwd_din(b, nd->in[j], &acc[j]);
    ug_concat_backward(din, acc, b->t->grad[i], C, n, b->t->N, plane(nd));
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

/* Add and multiply: two inputs of the same shape, or one C x H x W and one
 * C x 1 x 1 broadcast over H, W. */
static int eltwise_shape(const ug_net *net, ug_node *nd, ug_error *err)
{
    const ug_node *a = ug_op_input(net, nd, 0, err), *b = ug_op_input(net, nd, 1, err);
    if (!a || !b)
        return -1;
    const int a_one = a->H == 1 && a->W == 1, b_one = b->H == 1 && b->W == 1;
    if (a->C != b->C || ((a->H != b->H || a->W != b->W) && !a_one && !b_one))
        return ug_fail(err, "internal: %s %dx%dx%d and %dx%dx%d",
                       nd->op == OP_ADD ? "adding" : "multiplying", a->C, a->H, a->W, b->C, b->H,
                       b->W);
    const ug_node *big = b_one ? a : b;
    nd->C = big->C, nd->H = big->H, nd->W = big->W;
    return 0;
}

/* Node i's operands as kernel arguments: the full one first (*swap when that
 * is in[1]), and whether the other is one value per plane. */
typedef struct {
    int full, other, per_plane, swap;
} operands;

static operands operands_of(const ug_tape *t, int i)
{
    const ug_node *nd = &t->net->nodes[i];
    const ug_node *b = &t->net->nodes[nd->in[1]];
    operands o = {nd->in[0], nd->in[1], 0, 0};
    if (plane(b) != plane(nd))
        o.per_plane = 1;
    else if (plane(&t->net->nodes[nd->in[0]]) != plane(nd))
        o.per_plane = 1, o.swap = 1, o.full = nd->in[1], o.other = nd->in[0];
    return o;
}

static size_t planes(const ug_tape *t, int i) { return (size_t)t->N * t->net->nodes[i].C; }

static int add_forward(ug_tape *t, ug_kctx *k, int i, const float *x, float *out, int relu,
                       ug_error *err)
{
    (void)k, (void)relu, (void)err;
    const operands o = operands_of(t, i);
    const float *a = o.swap ? t->out[o.full] : x, *b = o.swap ? x : t->out[o.other];
    if (o.per_plane)
        ug_add_planes_forward(out, a, b, planes(t, i), (size_t)plane(&t->net->nodes[i]));
    else
        ug_add_forward(out, a, b, ug_tape_numel(t, i));
    return 0;
}

static int add_backward(ug_bwd *b, ug_kctx *k, int i, int param_grads, ug_error *err)
{
    (void)k, (void)param_grads, (void)err;
    const operands o = operands_of(b->t, i);
    int acc_a, acc_b;
    float *da = ug_bwd_din(b, o.full, &acc_a);
    float *db = ug_bwd_din(b, o.other, &acc_b);
    if (o.per_plane)
        ug_add_planes_backward(da, db, b->t->grad[i], planes(b->t, i),
                               (size_t)plane(&b->t->net->nodes[i]), acc_a, acc_b);
    else
        ug_add_backward(da, db, b->t->grad[i], ug_tape_numel(b->t, i), acc_a, acc_b);
    return 0;
}

const ug_op_def ug_op_add = {"add", UG_OPF_OVERWRITES_ANY, eltwise_shape, NULL, add_forward,
                             add_backward};

static int mul_forward(ug_tape *t, ug_kctx *k, int i, const float *x, float *out, int relu,
                       ug_error *err)
{
    (void)k, (void)relu, (void)err;
    const operands o = operands_of(t, i);
    const float *a = o.swap ? t->out[o.full] : x, *b = o.swap ? x : t->out[o.other];
    ug_mul_forward(out, a, b, planes(t, i), (size_t)plane(&t->net->nodes[i]), o.per_plane);
    return 0;
}

static int mul_backward(ug_bwd *b, ug_kctx *k, int i, int param_grads, ug_error *err)
{
    (void)k, (void)param_grads, (void)err;
    const ug_tape *t = b->t;
    const operands o = operands_of(t, i);
    int acc_a, acc_b;
    float *da = ug_bwd_din(b, o.full, &acc_a);
    float *db = ug_bwd_din(b, o.other, &acc_b);
    ug_mul_backward(da, db, t->grad[i], t->out[o.full], t->out[o.other], planes(t, i),
                    (size_t)plane(&t->net->nodes[i]), o.per_plane, acc_a, acc_b);
    return 0;
}

const ug_op_def ug_op_mul = {"mul", UG_OPF_OVERWRITES_ANY, eltwise_shape, NULL, mul_forward,
                             mul_backward};
