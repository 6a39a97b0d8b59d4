/* Normalisations: InstanceNorm without affine parameters, and the release's
 * adaILN / ILN (kernels and references in src/kernels/instnorm.c and
 * linnorm.c). Both save their statistics for the backward pass, which reads
 * the input, never the output, so a following ReLU can be applied in the
 * same pass. */
#include "ops/ops.h"

static int same_shape(const ug_net *net, ug_node *nd, ug_error *err)
{
    const ug_node *x = ug_op_input(net, nd, 0, err);
    if (!x)
        return -1;
    if (!(nd->eps > 0))
        return ug_fail(err, "internal: %s without a positive eps", ug_op_get(nd->op)->name);
    nd->C = x->C, nd->H = x->H, nd->W = x->W;
    return 0;
}

static size_t inorm_aux(const ug_node *nd, int N) { return 2 * (size_t)N * nd->C * sizeof(float); }

static int inorm_forward(ug_tape *t, ug_kctx *k, int i, const float *x, float *out, int relu,
                         ug_error *err)
{
    (void)k, (void)err;
    const ug_node *nd = &t->net->nodes[i];
    float *stats = t->aux[i];
    ug_instnorm_forward(out, stats, stats + (size_t)t->N * nd->C, x, t->N, nd->C, nd->H * nd->W,
                        nd->eps, relu);
    return 0;
}

static int inorm_backward(ug_bwd *b, ug_kctx *k, int i, int param_grads, ug_error *err)
{
    (void)k, (void)param_grads, (void)err;
    const ug_tape *t = b->t;
    const ug_node *nd = &t->net->nodes[i];
    const float *stats = t->aux[i];
    int acc;
    float *din = ug_bwd_din(b, nd->in[0], &acc);
    if (din)
        ug_instnorm_backward(din, t->grad[i], t->out[nd->in[0]], stats,
                             stats + (size_t)t->N * nd->C, t->N, nd->C, nd->H * nd->W, acc);
    return 0;
}

const ug_op_def ug_op_inorm = {"inorm", UG_OPF_OVERWRITES_IN0 | UG_OPF_FUSES_RELU, same_shape,
                               inorm_aux, inorm_forward, inorm_backward};

/* adaILN takes gamma and beta per sample from nodes in[1], in[2] (the MLP's
 * outputs, C x 1 x 1); ILN has them as parameters p[1], p[2]. rho is p[0],
 * or without it fixed at nd->rho (the ablations' IN and LN), kept in aux
 * after the statistics so that the kernels read it like a parameter. */
static int linnorm_shape(const ug_net *net, ug_node *nd, ug_error *err)
{
    if (same_shape(net, nd, err) < 0)
        return -1;
    const int64_t c4[4] = {1, nd->C, 1, 1};
    if (nd->p[0] < 0 && !(nd->rho >= 0 && nd->rho <= 1))
        return ug_fail(err, "internal: a fixed rho of %g", (double)nd->rho);
    if (nd->p[0] >= 0 && ug_op_check_param(net, nd, nd->p[0], 4, c4, err) < 0)
        return -1;
    if (nd->in[1] < 0)
        return ug_op_check_param(net, nd, nd->p[1], 4, c4, err) < 0 ||
                       ug_op_check_param(net, nd, nd->p[2], 4, c4, err) < 0
                   ? -1
                   : 0;
    for (int j = 1; j <= 2; j++) {
        const ug_node *g = ug_op_input(net, nd, j, err);
        if (!g)
            return -1;
        if (g->C != nd->C || g->H != 1 || g->W != 1)
            return ug_fail(err, "internal: adaILN of %d channels given %s of %dx%dx%d",
                           nd->C, j == 1 ? "gamma" : "beta", g->C, g->H, g->W);
    }
    return 0;
}

static size_t linnorm_aux(const ug_node *nd, int N)
{
    return (ug_linnorm_stats_size(N, nd->C) + (nd->p[0] < 0 ? (size_t)nd->C : 0)) * sizeof(float);
}

/* The rho a node uses: its parameter, or the fixed value in aux. */
static const float *rho_of(const ug_tape *t, const ug_node *nd, int i)
{
    if (nd->p[0] >= 0)
        return ug_param_data(t->net, nd->p[0]);
    return (const float *)t->aux[i] + ug_linnorm_stats_size(t->N, nd->C);
}

static int linnorm_forward(ug_tape *t, ug_kctx *k, int i, const float *x, float *out, int relu,
                           ug_error *err)
{
    (void)k, (void)err;
    const ug_net *net = t->net;
    const ug_node *nd = &net->nodes[i];
    int per_sample = nd->in[1] >= 0;
    const float *gamma = per_sample ? t->out[nd->in[1]] : ug_param_data(net, nd->p[1]);
    const float *beta = per_sample ? t->out[nd->in[2]] : ug_param_data(net, nd->p[2]);
    if (nd->p[0] < 0) {
        float *rho = (float *)rho_of(t, nd, i);
        for (int c = 0; c < nd->C; c++)
            rho[c] = nd->rho;
    }
    ug_linnorm_forward(out, t->aux[i], x, rho_of(t, nd, i), gamma, beta, per_sample, t->N, nd->C,
                       nd->H * nd->W, nd->eps, relu);
    return 0;
}

static int linnorm_backward(ug_bwd *b, ug_kctx *k, int i, int param_grads, ug_error *err)
{
    (void)k;
    ug_tape *t = b->t;
    const ug_net *net = t->net;
    const ug_node *nd = &net->nodes[i];
    int per_sample = nd->in[1] >= 0, acc;
    float *din = ug_bwd_din(b, nd->in[0], &acc);
    float *drho = param_grads && nd->p[0] >= 0 ? ug_param_grad(net, nd->p[0]) : NULL;
    float *dgamma, *dbeta;
    const float *gamma;
    if (per_sample) {
        dgamma = ug_tape_grad(t, b->a, nd->in[1]);
        dbeta = ug_tape_grad(t, b->a, nd->in[2]);
        gamma = t->out[nd->in[1]];
    } else {
        dgamma = param_grads ? ug_param_grad(net, nd->p[1]) : NULL;
        dbeta = param_grads ? ug_param_grad(net, nd->p[2]) : NULL;
        gamma = ug_param_data(net, nd->p[1]);
    }
    if (b->failed || (per_sample && (!dgamma || !dbeta)))
        return ug_tape_oom(err);
    ug_linnorm_backward(din, drho, dgamma, dbeta, t->grad[i], t->out[nd->in[0]], t->aux[i],
                        rho_of(t, nd, i), gamma, per_sample, t->N, nd->C, nd->H * nd->W, acc);
    return 0;
}

const ug_op_def ug_op_linnorm = {"linnorm", UG_OPF_OVERWRITES_IN0 | UG_OPF_FUSES_RELU,
                                 linnorm_shape, linnorm_aux, linnorm_forward, linnorm_backward};
