/* Global pooling to C x 1 x 1: average and max (kernels in
 * src/kernels/pool.c, their own references). Max pooling saves the position
 * of each maximum for the backward pass. */
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
