/* Graph building with shape inference (see build.h). */
#include "nn/build.h"

#include <stdarg.h>
#include <stdio.h>

static int add(ug_builder *b, ug_node nd)
{
    if (b->failed)
        return -1;
    int i = ug_net_add_node(b->net, nd);
    if (i < 0) {
        b->failed = 1;
        ug_fail(b->err, "out of memory building the network");
    }
    return i;
}

static ug_node blank(ug_op op, int x)
{
    ug_node nd = {op, {x, -1, -1}, {-1, -1, -1}, 0, 0, 0, 0, 0, 0};
    return nd;
}

static const ug_node *in_node(ug_builder *b, int x)
{
    return b->failed || x < 0 ? NULL : &b->net->nodes[x];
}

int ug_b_input(ug_builder *b, int C, int H, int W)
{
    ug_node nd = blank(OP_INPUT, -1);
    nd.C = C, nd.H = H, nd.W = W;
    return add(b, nd);
}

int ug_b_pad(ug_builder *b, int x, int pad)
{
    const ug_node *in = in_node(b, x);
    if (!in)
        return -1;
    if (pad >= in->H || pad >= in->W) {
        b->failed = 1;
        ug_fail(b->err, "the image is too small for this network: a %dx%d feature map cannot "
                        "take reflection padding %d", in->H, in->W, pad);
        return -1;
    }
    ug_node nd = blank(OP_PAD, x);
    nd.pad = pad;
    nd.C = in->C, nd.H = in->H + 2 * pad, nd.W = in->W + 2 * pad;
    return add(b, nd);
}

int ug_b_conv(ug_builder *b, int x, int w, int bias, int k, int stride)
{
    const ug_node *in = in_node(b, x);
    if (!in)
        return -1;
    if (in->H < k || in->W < k) {
        b->failed = 1;
        ug_fail(b->err, "the image is too small for this network: a %dx%d feature map is "
                        "smaller than a %dx%d convolution", in->H, in->W, k, k);
        return -1;
    }
    ug_node nd = blank(OP_CONV, x);
    nd.p[0] = w, nd.p[1] = bias, nd.k = k, nd.stride = stride;
    nd.C = (int)b->net->params[w].shape[0];
    nd.H = (in->H - k) / stride + 1, nd.W = (in->W - k) / stride + 1;
    return add(b, nd);
}

int ug_b_unary(ug_builder *b, ug_op op, int x)
{
    const ug_node *in = in_node(b, x);
    if (!in)
        return -1;
    ug_node nd = blank(op, x);
    nd.C = in->C, nd.H = in->H, nd.W = in->W;
    return add(b, nd);
}

int ug_b_linnorm(ug_builder *b, int x, int rho, int gamma_node, int beta_node, int gamma_p,
                 int beta_p)
{
    int i = ug_b_unary(b, OP_LINNORM, x);
    if (i < 0)
        return -1;
    ug_node *nd = &b->net->nodes[i];
    nd->in[1] = gamma_node, nd->in[2] = beta_node;
    nd->p[0] = rho, nd->p[1] = gamma_p, nd->p[2] = beta_p;
    return i;
}

int ug_b_up2(ug_builder *b, int x)
{
    int i = ug_b_unary(b, OP_UP2, x);
    if (i >= 0)
        b->net->nodes[i].H *= 2, b->net->nodes[i].W *= 2;
    return i;
}

int ug_b_pool(ug_builder *b, ug_op op, int x)
{
    int i = ug_b_unary(b, op, x);
    if (i >= 0)
        b->net->nodes[i].H = b->net->nodes[i].W = 1;
    return i;
}

int ug_b_linear(ug_builder *b, int x, int w, int bias)
{
    const ug_node *in = in_node(b, x);
    if (!in)
        return -1;
    ug_node nd = blank(OP_LINEAR, x);
    nd.p[0] = w, nd.p[1] = bias;
    nd.C = (int)b->net->params[w].shape[0], nd.H = nd.W = 1;
    return add(b, nd);
}

int ug_b_scale(ug_builder *b, int x, int w)
{
    int i = ug_b_unary(b, OP_SCALE, x);
    if (i >= 0)
        b->net->nodes[i].p[0] = w;
    return i;
}

int ug_b_concat(ug_builder *b, int x, int y)
{
    int i = ug_b_unary(b, OP_CONCAT, x);
    if (i >= 0) {
        b->net->nodes[i].in[1] = y;
        b->net->nodes[i].C += b->net->nodes[y].C;
    }
    return i;
}

int ug_b_chsum(ug_builder *b, int x)
{
    int i = ug_b_unary(b, OP_CHSUM, x);
    if (i >= 0)
        b->net->nodes[i].C = 1;
    return i;
}

int ug_b_add(ug_builder *b, int x, int y)
{
    int i = ug_b_unary(b, OP_ADD, x);
    if (i >= 0)
        b->net->nodes[i].in[1] = y;
    return i;
}

int ug_b_cam(ug_builder *b, int x, int gap_w, int gmp_w, int conv_w, int conv_b, ug_op act)
{
    int gap_logit = ug_b_linear(b, ug_b_pool(b, OP_GAP, x), gap_w, -1);
    int gmp_logit = ug_b_linear(b, ug_b_pool(b, OP_GMP, x), gmp_w, -1);
    b->net->out_cam = ug_b_concat(b, gap_logit, gmp_logit);
    x = ug_b_concat(b, ug_b_scale(b, x, gap_w), ug_b_scale(b, x, gmp_w));
    x = ug_b_unary(b, act, ug_b_conv(b, x, conv_w, conv_b, 1, 1));
    b->net->out_heatmap = ug_b_chsum(b, x);
    return x;
}

int ug_b_param(ug_builder *b, const char *name, int ndim, const int64_t *shape)
{
    int i = ug_net_add_param(b->net, name, UG_TRAINABLE, ndim, shape);
    if (i < 0 && !b->failed) {
        b->failed = 1;
        ug_fail(b->err, "out of memory building the network");
    }
    return i;
}

int ug_b_sn_param(ug_builder *b, const char *name, int ndim, const int64_t *shape)
{
    int i = ug_net_add_sn_param(b->net, name, ndim, shape);
    if (i < 0 && !b->failed) {
        b->failed = 1;
        ug_fail(b->err, "out of memory building the network");
    }
    return i;
}

int ug_b_find(ug_builder *b, const char *fmt, ...)
{
    char name[UG_NAME_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    int i = ug_net_find(b->net, name);
    if (i < 0 && !b->failed) {
        b->failed = 1;
        ug_fail(b->err, "internal: no parameter '%s'", name);
    }
    return i;
}
