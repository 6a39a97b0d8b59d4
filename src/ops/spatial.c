/* Spatial copies: reflection padding and nearest-neighbour up-sampling by 2
 * (kernels and their references in src/kernels/pad.c and upsample.c). Both
 * are cheap to make again, so the tape may drop their outputs. */
#include "ops/ops.h"

static int pad_shape(const ug_net *net, ug_node *nd, ug_error *err)
{
    const ug_node *x = ug_op_input(net, nd, 0, err);
    if (!x)
        return -1;
    if (nd->pad < 0 || nd->pad >= x->H || nd->pad >= x->W)
        return ug_fail(err, "the image is too small for this network: a %dx%d feature map cannot "
                            "take reflection padding %d", x->H, x->W, nd->pad);
    nd->C = x->C, nd->H = x->H + 2 * nd->pad, nd->W = x->W + 2 * nd->pad;
    return 0;
}

static int pad_forward(ug_tape *t, ug_kctx *k, int i, const float *x, float *out, int relu,
                       ug_error *err)
{
    (void)k, (void)relu, (void)err;
    const ug_node *nd = &t->net->nodes[i], *in = &t->net->nodes[nd->in[0]];
    ug_pad_reflect_forward(out, x, t->N, in->C, in->H, in->W, nd->pad);
    return 0;
}

static int pad_backward(ug_bwd *b, ug_kctx *k, int i, int param_grads, ug_error *err)
{
    (void)k, (void)param_grads, (void)err;
    const ug_node *nd = &b->t->net->nodes[i], *in = &b->t->net->nodes[nd->in[0]];
    int acc;
    float *din = ug_bwd_din(b, nd->in[0], &acc);
    if (din)
        ug_pad_reflect_backward(din, b->t->grad[i], b->t->N, in->C, in->H, in->W, nd->pad, acc);
    return 0;
}

const ug_op_def ug_op_pad = {"pad", UG_OPF_RECOMPUTABLE, pad_shape, NULL, pad_forward,
                             pad_backward};

static int up2_shape(const ug_net *net, ug_node *nd, ug_error *err)
{
    const ug_node *x = ug_op_input(net, nd, 0, err);
    if (!x)
        return -1;
    nd->C = x->C, nd->H = 2 * x->H, nd->W = 2 * x->W;
    return 0;
}

static int up2_forward(ug_tape *t, ug_kctx *k, int i, const float *x, float *out, int relu,
                       ug_error *err)
{
    (void)k, (void)relu, (void)err;
    const ug_node *in = &t->net->nodes[t->net->nodes[i].in[0]];
    ug_upsample2_forward(out, x, t->N, in->C, in->H, in->W);
    return 0;
}

static int up2_backward(ug_bwd *b, ug_kctx *k, int i, int param_grads, ug_error *err)
{
    (void)k, (void)param_grads, (void)err;
    const ug_node *nd = &b->t->net->nodes[i], *in = &b->t->net->nodes[nd->in[0]];
    int acc;
    float *din = ug_bwd_din(b, nd->in[0], &acc);
    if (din)
        ug_upsample2_backward(din, b->t->grad[i], b->t->N, in->C, in->H, in->W, acc);
    return 0;
}

const ug_op_def ug_op_up2 = {"up2", UG_OPF_RECOMPUTABLE, up2_shape, NULL, up2_forward,
                             up2_backward};
