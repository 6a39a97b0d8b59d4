/* Element-wise activations: the ops, then their kernels, which are their own
 * references (the CPU backend runs them too). Each backward reads only the
 * forward output. */
#include <math.h>

#include "ops/ops.h"

static int same_shape(const ug_net *net, ug_node *nd, ug_error *err)
{
    const ug_node *x = ug_op_input(net, nd, 0, err);
    if (!x)
        return -1;
    nd->C = x->C, nd->H = x->H, nd->W = x->W;
    return 0;
}

static int relu_forward(ug_tape *t, ug_kctx *k, int i, const float *x, float *out, int relu,
                        ug_error *err)
{
    (void)relu, (void)err;
    ug_relu_forward(k, out, x, ug_tape_numel(t, i));
    return 0;
}

static int relu_backward(ug_bwd *b, ug_kctx *k, int i, int param_grads, ug_error *err)
{
    (void)param_grads, (void)err;
    int acc;
    float *din = ug_bwd_din(b, b->t->net->nodes[i].in[0], &acc);
    if (din)
        ug_relu_backward(k, din, b->t->grad[i], b->t->out[i], ug_tape_numel(b->t, i), acc);
    return 0;
}

static int lrelu_shape(const ug_net *net, ug_node *nd, ug_error *err)
{
    if (!(nd->slope >= 0 && nd->slope < 1))
        return ug_fail(err, "internal: LeakyReLU slope %g outside [0, 1)", (double)nd->slope);
    return same_shape(net, nd, err);
}

static int lrelu_forward(ug_tape *t, ug_kctx *k, int i, const float *x, float *out, int relu,
                         ug_error *err)
{
    (void)relu, (void)err;
    ug_lrelu_forward(k, out, x, ug_tape_numel(t, i), t->net->nodes[i].slope);
    return 0;
}

static int lrelu_backward(ug_bwd *b, ug_kctx *k, int i, int param_grads, ug_error *err)
{
    (void)param_grads, (void)err;
    const ug_node *nd = &b->t->net->nodes[i];
    int acc;
    float *din = ug_bwd_din(b, nd->in[0], &acc);
    if (din)
        ug_lrelu_backward(k, din, b->t->grad[i], b->t->out[i], ug_tape_numel(b->t, i), nd->slope,
                          acc);
    return 0;
}

static int tanh_forward(ug_tape *t, ug_kctx *k, int i, const float *x, float *out, int relu,
                        ug_error *err)
{
    (void)relu, (void)err;
    ug_tanh_forward(k, out, x, ug_tape_numel(t, i));
    return 0;
}

static int tanh_backward(ug_bwd *b, ug_kctx *k, int i, int param_grads, ug_error *err)
{
    (void)param_grads, (void)err;
    int acc;
    float *din = ug_bwd_din(b, b->t->net->nodes[i].in[0], &acc);
    if (din)
        ug_tanh_backward(k, din, b->t->grad[i], b->t->out[i], ug_tape_numel(b->t, i), acc);
    return 0;
}

static int sigmoid_forward(ug_tape *t, ug_kctx *k, int i, const float *x, float *out, int relu,
                           ug_error *err)
{
    (void)relu, (void)err;
    ug_sigmoid_forward(k, out, x, ug_tape_numel(t, i));
    return 0;
}

static int sigmoid_backward(ug_bwd *b, ug_kctx *k, int i, int param_grads, ug_error *err)
{
    (void)param_grads, (void)err;
    int acc;
    float *din = ug_bwd_din(b, b->t->net->nodes[i].in[0], &acc);
    if (din)
        ug_sigmoid_backward(k, din, b->t->grad[i], b->t->out[i], ug_tape_numel(b->t, i), acc);
    return 0;
}

#define ACT_FLAGS (UG_OPF_OVERWRITES_IN0 | UG_OPF_READS_OUTPUT)
const ug_op_def ug_op_relu = {"relu", ACT_FLAGS | UG_OPF_ACTIVATION, same_shape, NULL,
                              relu_forward, relu_backward, ug_layout_any};
const ug_op_def ug_op_lrelu = {"lrelu", ACT_FLAGS | UG_OPF_ACTIVATION, lrelu_shape, NULL,
                               lrelu_forward, lrelu_backward, ug_layout_any};
const ug_op_def ug_op_tanh = {"tanh", ACT_FLAGS, same_shape, NULL, tanh_forward, tanh_backward,
                              ug_layout_any};
const ug_op_def ug_op_sigmoid = {"sigmoid", ACT_FLAGS, same_shape, NULL, sigmoid_forward,
                                 sigmoid_backward, ug_layout_any};

/* ---- the kernels: the plain references, which the CPU backend runs too ---- */

void ug_relu_forward_ref(ug_kctx *k, float *out, const float *in, size_t n)
{
    (void)k;
#pragma omp parallel for simd schedule(static)
    for (size_t i = 0; i < n; i++)
        out[i] = in[i] > 0 ? in[i] : 0.0f;
}

void ug_relu_backward_ref(ug_kctx *k, float *din, const float *dout, const float *out, size_t n,
                          int acc)
{
    (void)k;
    if (!din)
        return;
    /* One loop per acc, each reading dout whatever the sign: the compilers
     * vectorise neither a load under a condition nor a choice of store (nor,
     * but for this file's -fno-trapping-math, leaky relu's multiplication
     * under one). */
    if (acc) {
#pragma omp parallel for simd schedule(static)
        for (size_t i = 0; i < n; i++) {
            const float d = dout[i];
            din[i] += out[i] > 0 ? d : 0.0f;
        }
    } else {
#pragma omp parallel for simd schedule(static)
        for (size_t i = 0; i < n; i++) {
            const float d = dout[i];
            din[i] = out[i] > 0 ? d : 0.0f;
        }
    }
}

void ug_lrelu_forward_ref(ug_kctx *k, float *out, const float *in, size_t n, float slope)
{
    (void)k;
#pragma omp parallel for simd schedule(static)
    for (size_t i = 0; i < n; i++)
        out[i] = in[i] > 0 ? in[i] : in[i] * slope;
}

void ug_lrelu_backward_ref(ug_kctx *k, float *din, const float *dout, const float *out, size_t n,
                           float slope, int acc)
{
    (void)k;
    if (!din)
        return;
    if (acc) { /* as in ug_relu_backward_ref */
#pragma omp parallel for simd schedule(static)
        for (size_t i = 0; i < n; i++) {
            const float d = dout[i];
            din[i] += out[i] > 0 ? d : d * slope;
        }
    } else {
#pragma omp parallel for simd schedule(static)
        for (size_t i = 0; i < n; i++) {
            const float d = dout[i];
            din[i] = out[i] > 0 ? d : d * slope;
        }
    }
}

void ug_tanh_forward_ref(ug_kctx *k, float *out, const float *in, size_t n)
{
    (void)k;
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++)
        out[i] = tanhf(in[i]);
}

void ug_tanh_backward_ref(ug_kctx *k, float *din, const float *dout, const float *out, size_t n,
                          int acc)
{
    (void)k;
    if (!din)
        return;
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) {
        const float g = dout[i] * (1.0f - out[i] * out[i]);
        din[i] = acc ? din[i] + g : g;
    }
}

/* 1 / (1 + e^-x), written so that e^x is taken of a non-positive number only. */
void ug_sigmoid_forward_ref(ug_kctx *k, float *out, const float *in, size_t n)
{
    (void)k;
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) {
        const float x = in[i];
        if (x >= 0) {
            out[i] = 1.0f / (1.0f + expf(-x));
        } else {
            const float e = expf(x);
            out[i] = e / (1.0f + e);
        }
    }
}

void ug_sigmoid_backward_ref(ug_kctx *k, float *din, const float *dout, const float *out, size_t n,
                             int acc)
{
    (void)k;
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) {
        const float g = dout[i] * out[i] * (1.0f - out[i]);
        din[i] = acc ? din[i] + g : g;
    }
}
