/* Element-wise activations (kernels in src/kernels/activation.c, their own
 * references). Each backward reads only the forward output. */
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
    (void)k, (void)relu, (void)err;
    ug_relu_forward(out, x, ug_tape_numel(t, i));
    return 0;
}

static int relu_backward(ug_bwd *b, ug_kctx *k, int i, int param_grads, ug_error *err)
{
    (void)k, (void)param_grads, (void)err;
    int acc;
    float *din = ug_bwd_din(b, b->t->net->nodes[i].in[0], &acc);
    if (din)
        ug_relu_backward(din, b->t->grad[i], b->t->out[i], ug_tape_numel(b->t, i), acc);
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
    (void)k, (void)relu, (void)err;
    ug_lrelu_forward(out, x, ug_tape_numel(t, i), t->net->nodes[i].slope);
    return 0;
}

static int lrelu_backward(ug_bwd *b, ug_kctx *k, int i, int param_grads, ug_error *err)
{
    (void)k, (void)param_grads, (void)err;
    const ug_node *nd = &b->t->net->nodes[i];
    int acc;
    float *din = ug_bwd_din(b, nd->in[0], &acc);
    if (din)
        ug_lrelu_backward(din, b->t->grad[i], b->t->out[i], ug_tape_numel(b->t, i), nd->slope,
                          acc);
    return 0;
}

static int tanh_forward(ug_tape *t, ug_kctx *k, int i, const float *x, float *out, int relu,
                        ug_error *err)
{
    (void)k, (void)relu, (void)err;
    ug_tanh_forward(out, x, ug_tape_numel(t, i));
    return 0;
}

static int tanh_backward(ug_bwd *b, ug_kctx *k, int i, int param_grads, ug_error *err)
{
    (void)k, (void)param_grads, (void)err;
    int acc;
    float *din = ug_bwd_din(b, b->t->net->nodes[i].in[0], &acc);
    if (din)
        ug_tanh_backward(din, b->t->grad[i], b->t->out[i], ug_tape_numel(b->t, i), acc);
    return 0;
}

static int sigmoid_forward(ug_tape *t, ug_kctx *k, int i, const float *x, float *out, int relu,
                           ug_error *err)
{
    (void)k, (void)relu, (void)err;
    ug_sigmoid_forward(out, x, ug_tape_numel(t, i));
    return 0;
}

static int sigmoid_backward(ug_bwd *b, ug_kctx *k, int i, int param_grads, ug_error *err)
{
    (void)k, (void)param_grads, (void)err;
    int acc;
    float *din = ug_bwd_din(b, b->t->net->nodes[i].in[0], &acc);
    if (din)
        ug_sigmoid_backward(din, b->t->grad[i], b->t->out[i], ug_tape_numel(b->t, i), acc);
    return 0;
}

#define ACT_FLAGS (UG_OPF_OVERWRITES_IN0 | UG_OPF_READS_OUTPUT)
const ug_op_def ug_op_relu = {"relu", ACT_FLAGS | UG_OPF_ACTIVATION, same_shape, NULL,
                              relu_forward, relu_backward};
const ug_op_def ug_op_lrelu = {"lrelu", ACT_FLAGS | UG_OPF_ACTIVATION, lrelu_shape, NULL,
                               lrelu_forward, lrelu_backward};
const ug_op_def ug_op_tanh = {"tanh", ACT_FLAGS, same_shape, NULL, tanh_forward, tanh_backward};
const ug_op_def ug_op_sigmoid = {"sigmoid", ACT_FLAGS, same_shape, NULL, sigmoid_forward,
                                 sigmoid_backward};
