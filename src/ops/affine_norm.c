/* Normalisations with an affine weight and bias per channel: BatchNorm and
 * GroupNorm (kernels, their own references, in src/kernels/batchnorm.c and
 * groupnorm.c). Both save the statistics they used for the backward pass,
 * which reads the input, never the output. */
#include "ops/ops.h"

/* The input's shape, a positive eps, and weight p[0] and bias p[1] of C values. */
static int affine_shape(const ug_net *net, ug_node *nd, ug_error *err)
{
    const ug_node *x = ug_op_input(net, nd, 0, err);
    if (!x)
        return -1;
    if (!(nd->eps > 0))
        return ug_fail(err, "internal: %s without a positive eps", ug_op_get(nd->op)->name);
    const int64_t c = x->C;
    if (ug_op_check_param(net, nd, nd->p[0], 1, &c, err) < 0 ||
        ug_op_check_param(net, nd, nd->p[1], 1, &c, err) < 0)
        return -1;
    nd->C = x->C, nd->H = x->H, nd->W = x->W;
    return 0;
}

/* BatchNorm: running_mean p[2] and running_var p[3] of C values and
 * num_batches_tracked p[4], a scalar, all buffers. */
static int bnorm_shape(const ug_net *net, ug_node *nd, ug_error *err)
{
    if (affine_shape(net, nd, err) < 0)
        return -1;
    if (!(nd->momentum >= 0 && nd->momentum <= 1))
        return ug_fail(err, "internal: BatchNorm momentum %g outside [0, 1]",
                       (double)nd->momentum);
    const int64_t c = nd->C;
    if (ug_op_check_param(net, nd, nd->p[2], 1, &c, err) < 0 ||
        ug_op_check_param(net, nd, nd->p[3], 1, &c, err) < 0 ||
        ug_op_check_param(net, nd, nd->p[4], 0, NULL, err) < 0)
        return -1;
    for (int j = 2; j < 5; j++)
        if (net->params[nd->p[j]].kind != UG_BUFFER)
            return ug_fail(err, "internal: BatchNorm's %s is not a buffer",
                           net->params[nd->p[j]].name);
    return 0;
}

static size_t bnorm_aux(const ug_node *nd, int N)
{
    (void)N;
    return 2 * (size_t)nd->C * sizeof(float);
}

static int bnorm_forward(ug_tape *t, ug_kctx *k, int i, const float *x, float *out, int relu,
                         ug_error *err)
{
    (void)k, (void)relu;
    const ug_net *net = t->net;
    const ug_node *nd = &net->nodes[i];
    const int HW = nd->H * nd->W, train = t->mode == UG_TRAIN;
    if (train && t->N * HW < 2)
        return ug_fail(err, "BatchNorm in training needs more than one value per channel "
                            "(batch %d of %dx%d maps)", t->N, nd->H, nd->W);
    float *stats = t->aux[i];
    ug_batchnorm_forward(out, stats, stats + nd->C, x, ug_param_data(net, nd->p[0]),
                         ug_param_data(net, nd->p[1]), ug_param_data(net, nd->p[2]),
                         ug_param_data(net, nd->p[3]), train, t->N, nd->C, HW, nd->eps,
                         nd->momentum);
    if (train)
        ug_param_data(net, nd->p[4])[0] += 1;
    return 0;
}

static int bnorm_backward(ug_bwd *b, ug_kctx *k, int i, int param_grads, ug_error *err)
{
    (void)k, (void)err;
    const ug_tape *t = b->t;
    const ug_node *nd = &t->net->nodes[i];
    const float *stats = t->aux[i];
    int acc;
    float *din = ug_bwd_din(b, nd->in[0], &acc);
    float *dw = param_grads ? ug_param_grad(t->net, nd->p[0]) : NULL;
    float *db = param_grads ? ug_param_grad(t->net, nd->p[1]) : NULL;
    ug_batchnorm_backward(din, dw, db, t->grad[i], t->out[nd->in[0]], stats, stats + nd->C,
                          ug_param_data(t->net, nd->p[0]), t->mode == UG_TRAIN, t->N, nd->C,
                          nd->H * nd->W, acc);
    return 0;
}

const ug_op_def ug_op_bnorm = {"bnorm", UG_OPF_OVERWRITES_IN0, bnorm_shape, bnorm_aux,
                               bnorm_forward, bnorm_backward};

static int gnorm_shape(const ug_net *net, ug_node *nd, ug_error *err)
{
    if (affine_shape(net, nd, err) < 0)
        return -1;
    if (nd->groups < 1 || nd->C % nd->groups)
        return ug_fail(err, "internal: GroupNorm of %d channels in %d groups", nd->C,
                       nd->groups);
    return 0;
}

static size_t gnorm_aux(const ug_node *nd, int N)
{
    return 2 * (size_t)N * nd->groups * sizeof(float);
}

static int gnorm_forward(ug_tape *t, ug_kctx *k, int i, const float *x, float *out, int relu,
                         ug_error *err)
{
    (void)k, (void)relu, (void)err;
    const ug_net *net = t->net;
    const ug_node *nd = &net->nodes[i];
    float *stats = t->aux[i];
    ug_groupnorm_forward(out, stats, stats + (size_t)t->N * nd->groups, x,
                         ug_param_data(net, nd->p[0]), ug_param_data(net, nd->p[1]), t->N,
                         nd->C, nd->H * nd->W, nd->groups, nd->eps);
    return 0;
}

static int gnorm_backward(ug_bwd *b, ug_kctx *k, int i, int param_grads, ug_error *err)
{
    (void)k, (void)err;
    const ug_tape *t = b->t;
    const ug_node *nd = &t->net->nodes[i];
    const float *stats = t->aux[i];
    int acc;
    float *din = ug_bwd_din(b, nd->in[0], &acc);
    float *dw = param_grads ? ug_param_grad(t->net, nd->p[0]) : NULL;
    float *db = param_grads ? ug_param_grad(t->net, nd->p[1]) : NULL;
    ug_groupnorm_backward(din, dw, db, t->grad[i], t->out[nd->in[0]], stats,
                          stats + (size_t)t->N * nd->groups, ug_param_data(t->net, nd->p[0]),
                          t->N, nd->C, nd->H * nd->W, nd->groups, acc);
    return 0;
}

const ug_op_def ug_op_gnorm = {"gnorm", UG_OPF_OVERWRITES_IN0, gnorm_shape, gnorm_aux,
                               gnorm_forward, gnorm_backward};
