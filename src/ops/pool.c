/* Pooling: global, to C x 1 x 1, average and max (kernels in
 * src/kernels/pool.c), and windowed, max and average (pool2d.c); the kernels
 * are their own references. Max pooling saves the position of each maximum
 * for the backward pass. */
#include "ops/ops.h"

static int pool_shape(const ug_net *net, ug_node *nd, ug_error *err)
{
    const ug_node *x = ug_op_input(net, nd, 0, err);
    if (!x)
        return -1;
    nd->C = x->C, nd->H = nd->W = 1;
    return 0;
}

static int plane(const ug_tape *t, int i)
{
    const ug_node *x = &t->net->nodes[t->net->nodes[i].in[0]];
    return x->H * x->W;
}

static int gap_forward(ug_tape *t, ug_kctx *k, int i, const float *x, float *out, int relu,
                       ug_error *err)
{
    (void)k, (void)relu, (void)err;
    ug_gap_forward(out, x, t->N, t->net->nodes[i].C, plane(t, i));
    return 0;
}

static int gap_backward(ug_bwd *b, ug_kctx *k, int i, int param_grads, ug_error *err)
{
    (void)k, (void)param_grads, (void)err;
    const ug_node *nd = &b->t->net->nodes[i];
    int acc;
    float *din = ug_bwd_din(b, nd->in[0], &acc);
    if (din)
        ug_gap_backward(din, b->t->grad[i], b->t->N, nd->C, plane(b->t, i), acc);
    return 0;
}

const ug_op_def ug_op_gap = {"gap", 0, pool_shape, NULL, gap_forward, gap_backward};

static size_t gmp_aux(const ug_node *nd, int N) { return (size_t)N * nd->C * sizeof(int32_t); }

static int gmp_forward(ug_tape *t, ug_kctx *k, int i, const float *x, float *out, int relu,
                       ug_error *err)
{
    (void)k, (void)relu, (void)err;
    ug_gmp_forward(out, t->aux[i], x, t->N, t->net->nodes[i].C, plane(t, i));
    return 0;
}

static int gmp_backward(ug_bwd *b, ug_kctx *k, int i, int param_grads, ug_error *err)
{
    (void)k, (void)param_grads, (void)err;
    const ug_node *nd = &b->t->net->nodes[i];
    int acc;
    float *din = ug_bwd_din(b, nd->in[0], &acc);
    if (din)
        ug_gmp_backward(din, b->t->grad[i], b->t->aux[i], b->t->N, nd->C, plane(b->t, i), acc);
    return 0;
}

const ug_op_def ug_op_gmp = {"gmp", 0, pool_shape, gmp_aux, gmp_forward, gmp_backward};

/* Windowed pooling: kernel kh x kw, .stride, .pad on every side, at most
 * half the kernel (as PyTorch requires). */
static int pool2d_shape(const ug_net *net, ug_node *nd, ug_error *err)
{
    const ug_node *x = ug_op_input(net, nd, 0, err);
    if (!x)
        return -1;
    if (nd->kh < 1 || nd->kw < 1 || nd->stride < 1 || nd->pad < 0 || 2 * nd->pad > nd->kh ||
        2 * nd->pad > nd->kw)
        return ug_fail(err, "internal: %s %dx%d stride %d padding %d (at most half the kernel)",
                       ug_op_get(nd->op)->name, nd->kh, nd->kw, nd->stride, nd->pad);
    if (x->H + 2 * nd->pad < nd->kh || x->W + 2 * nd->pad < nd->kw)
        return ug_fail(err, "the image is too small for this network: a %dx%d feature map is "
                            "smaller than a %dx%d pooling window", x->H, x->W, nd->kh, nd->kw);
    nd->C = x->C;
    nd->H = (x->H + 2 * nd->pad - nd->kh) / nd->stride + 1;
    nd->W = (x->W + 2 * nd->pad - nd->kw) / nd->stride + 1;
    return 0;
}

static ug_pool_shape pool_of(const ug_tape *t, int i)
{
    const ug_node *nd = &t->net->nodes[i], *x = &t->net->nodes[nd->in[0]];
    ug_pool_shape s = {t->N, x->C, x->H, x->W, nd->kh, nd->kw, nd->stride, nd->pad};
    return s;
}

static size_t maxpool_aux(const ug_node *nd, int N)
{
    return (size_t)N * nd->C * nd->H * nd->W * sizeof(int32_t);
}

static int maxpool_forward(ug_tape *t, ug_kctx *k, int i, const float *x, float *out, int relu,
                           ug_error *err)
{
    (void)k, (void)relu, (void)err;
    const ug_pool_shape s = pool_of(t, i);
    ug_maxpool_forward(out, t->aux[i], x, &s);
    return 0;
}

static int maxpool_backward(ug_bwd *b, ug_kctx *k, int i, int param_grads, ug_error *err)
{
    (void)k, (void)param_grads, (void)err;
    int acc;
    float *din = ug_bwd_din(b, b->t->net->nodes[i].in[0], &acc);
    const ug_pool_shape s = pool_of(b->t, i);
    if (din)
        ug_maxpool_backward(din, b->t->grad[i], b->t->aux[i], &s, acc);
    return 0;
}

const ug_op_def ug_op_maxpool = {"maxpool", 0, pool2d_shape, maxpool_aux, maxpool_forward,
                                 maxpool_backward};

static int avgpool_forward(ug_tape *t, ug_kctx *k, int i, const float *x, float *out, int relu,
                           ug_error *err)
{
    (void)k, (void)relu, (void)err;
    const ug_pool_shape s = pool_of(t, i);
    ug_avgpool_forward(out, x, &s, t->net->nodes[i].count_pad);
    return 0;
}

static int avgpool_backward(ug_bwd *b, ug_kctx *k, int i, int param_grads, ug_error *err)
{
    (void)k, (void)param_grads, (void)err;
    const ug_node *nd = &b->t->net->nodes[i];
    int acc;
    float *din = ug_bwd_din(b, nd->in[0], &acc);
    const ug_pool_shape s = pool_of(b->t, i);
    if (din)
        ug_avgpool_backward(din, b->t->grad[i], &s, nd->count_pad, acc);
    return 0;
}

const ug_op_def ug_op_avgpool = {"avgpool", 0, pool2d_shape, NULL, avgpool_forward,
                                 avgpool_backward};
