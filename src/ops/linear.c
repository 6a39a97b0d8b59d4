/* Fully connected layer on the flattened input, out = in * w^T + b: the op
 * (shape rule, forward, backward), then the plain reference kernels; the CPU
 * backend's (oneDNN sgemm) is src/backend/cpu/linear.c. A spectrally
 * normalised weight is used as W / sigma of this call; a weight whose
 * gradient is kept as terms (net.h) gets this call's rows of dout and the
 * input as terms instead of a dense dw. */
#include <string.h>

#include "ops/ops.h"

static int linear_shape(const ug_net *net, ug_node *nd, ug_error *err)
{
    const ug_node *x = ug_op_input(net, nd, 0, err);
    if (!x)
        return -1;
    if (nd->p[0] < 0 || nd->p[0] >= net->n_params)
        return ug_fail(err, "internal: linear node without its weight");
    int64_t out = net->params[nd->p[0]].shape[0], in = (int64_t)x->C * x->H * x->W;
    if (ug_op_check_param(net, nd, nd->p[0], 2, (int64_t[]){out, in}, err) < 0 ||
        ug_op_check_bias(net, nd, out, err) < 0)
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
    const int terms = param_grads && net->params[p].terms >= 0;
    if (terms && ug_net_add_terms(net, p, g, xin, N, err) < 0)
        return -1;
    float *dw = param_grads && !terms ? ug_bwd_weight_grad(b, k, p) : NULL;
    if (b->failed)
        return ug_tape_oom(err);
    if (sn && dw) { /* weight gradient first (see ug_bwd_weight_grad) */
        if (ug_linear_backward(k, NULL, dw, db, g, xin, NULL, N, I, nd->C, acc, err) < 0)
            return -1;
        ug_bwd_fold_sn(t, k, p, dw);
        dw = db = NULL;
    }
    const float *w = din ? ug_tape_weight(t, k, p) : NULL;
    if (din && !w)
        return ug_tape_oom(err);
    if ((din || dw || db) &&
        ug_linear_backward(k, din, dw, db, g, xin, w, N, I, nd->C, acc, err) < 0)
        return -1;
    return 0;
}

const ug_op_def ug_op_linear = {"linear", 0, linear_shape, NULL, linear_forward,
                                linear_backward, NULL};

/* ---- the plain reference kernels ---- */

int ug_linear_forward_ref(ug_kctx *k, float *out, const float *in, const float *w, const float *b,
                          int N, int I, int O, ug_error *err)
{
    (void)err;
    ug_kctx_add_flops(k, 2.0 * N * (double)I * O);
#pragma omp parallel for collapse(2)
    for (int n = 0; n < N; n++) {
        for (int o = 0; o < O; o++) {
            const float *x = in + (size_t)n * I, *wo = w + (size_t)o * I;
            double acc = b ? b[o] : 0.0;
            for (int i = 0; i < I; i++)
                acc += (double)x[i] * wo[i];
            out[(size_t)n * O + o] = (float)acc;
        }
    }
    return 0;
}

/* db[o] += sum over n of dout[n, o] (the CPU backend's too). */
static void linear_bias_grad(float *db, const float *dout, int N, int O)
{
    for (int o = 0; o < O; o++) {
        double acc = 0;
        for (int n = 0; n < N; n++)
            acc += dout[(size_t)n * O + o];
        db[o] += (float)acc;
    }
}

int ug_linear_backward_ref(ug_kctx *k, float *din, float *dw, float *db, const float *dout,
                           const float *in, const float *w, int N, int I, int O, int acc,
                           ug_error *err)
{
    (void)err;
    ug_kctx_add_flops(k, 2.0 * N * (double)I * O * ((din != NULL) + (dw != NULL)));
    if (din) {
        /* Threads take runs of consecutive i, so the O rows of w they walk
         * stay cached across neighbouring i. */
#pragma omp parallel for
        for (int i = 0; i < I; i++) {
            for (int n = 0; n < N; n++) {
                double a = 0;
                for (int o = 0; o < O; o++)
                    a += (double)dout[(size_t)n * O + o] * w[(size_t)o * I + i];
                float *d = &din[(size_t)n * I + i];
                *d = acc ? *d + (float)a : (float)a;
            }
        }
    }
    if (dw) {
#pragma omp parallel for
        for (int o = 0; o < O; o++) {
            for (int i = 0; i < I; i++) {
                double a = 0;
                for (int n = 0; n < N; n++)
                    a += (double)dout[(size_t)n * O + o] * in[(size_t)n * I + i];
                dw[(size_t)o * I + i] += (float)a;
            }
        }
    }
    if (db)
        linear_bias_grad(db, dout, N, O);
    return 0;
}

