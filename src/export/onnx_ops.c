/* ONNX mappings of the op kinds that generators use (see onnx_ops.h):
 * U-GAT-IT's and CycleGAN's. The discriminators' kinds (LeakyReLU,
 * spectrally normalised weights) have none yet, so exporting them is an
 * error that names them. */
#include "export/onnx_ops.h"

#include <stdio.h>

static const ug_node *node(const ox_ctx *c, int i) { return &c->net->nodes[i]; }

/* The ONNX value of node i's input j. */
static const char *in(const ox_ctx *c, int i, int j) { return c->val[node(c, i)->in[j]]; }

/* Parameter p as its own shape, or seen as 1 x C x 1 x 1 to scale channels. */
static const char *param(const ox_ctx *c, int p)
{
    const ug_param *pp = &c->net->params[p];
    return ox_param(c->g, c->net, p, pp->ndim, pp->shape);
}

static const char *per_channel(const ox_ctx *c, int p, int C)
{
    return ox_param(c->g, c->net, p, 4, (int64_t[]){1, C, 1, 1});
}

/* A weight as it is stored: generators have no spectral norm, whose W / sigma
 * would need the power iteration's state exported as well. */
static const char *plain_weight(const ox_ctx *c, int p)
{
    if (c->net->params[p].sn_u < 0)
        return param(c, p);
    c->g->failed = 1;
    ug_fail(c->g->err, "the spectrally normalised weight '%s' is not exported",
            c->net->params[p].name);
    return NULL;
}

static const char *emit_input(ox_ctx *c, int i, const char *out)
{
    (void)out;
    const ug_node *nd = node(c, i);
    for (int k = 0; k < c->net->n_in; k++)
        if (c->net->in[k].node == i) {
            ox_input(c->g, c->net->in[k].name, nd->C, nd->H, nd->W);
            return c->g->failed ? NULL : c->net->in[k].name;
        }
    c->g->failed = 1;
    ug_fail(c->g->err, "internal: an input node without a name");
    return NULL;
}

static const char *emit_pad(ox_ctx *c, int i, const char *out)
{
    const int64_t p = node(c, i)->pad;
    char name[32];
    snprintf(name, sizeof name, "pads.%lld", (long long)p);
    const char *pads = ox_ints(c->g, name, 8, (int64_t[]){0, 0, p, p, 0, 0, p, p});
    const char *y = ox_node(c->g, "Pad", out, 2, in(c, i, 0), pads);
    ox_attr_string(c->g, "mode", "reflect"); /* the edge pixel not repeated, as PyTorch's */
    return y;
}

static const char *emit_conv(ox_ctx *c, int i, const char *out)
{
    const ug_node *nd = node(c, i);
    const char *x = in(c, i, 0), *w = plain_weight(c, nd->p[0]);
    const char *y = nd->p[1] >= 0 ? ox_node(c->g, "Conv", out, 3, x, w, param(c, nd->p[1]))
                                  : ox_node(c->g, "Conv", out, 2, x, w);
    ox_attr_ints(c->g, "kernel_shape", 2, (int64_t[]){nd->kh, nd->kw});
    ox_attr_ints(c->g, "strides", 2, (int64_t[]){nd->stride, nd->stride});
    /* ONNX orders the padding begins then ends: top, left, bottom, right. */
    ox_attr_ints(c->g, "pads", 4, (int64_t[]){nd->zpad[0], nd->zpad[2], nd->zpad[1], nd->zpad[3]});
    return y;
}

/* CycleGAN's up-sampling; the weight is Cin x Cout x k x k in both. */
static const char *emit_deconv(ox_ctx *c, int i, const char *out)
{
    const ug_node *nd = node(c, i);
    const char *x = in(c, i, 0), *w = plain_weight(c, nd->p[0]);
    const char *y = nd->p[1] >= 0
                        ? ox_node(c->g, "ConvTranspose", out, 3, x, w, param(c, nd->p[1]))
                        : ox_node(c->g, "ConvTranspose", out, 2, x, w);
    ox_attr_ints(c->g, "kernel_shape", 2, (int64_t[]){nd->kh, nd->kw});
    ox_attr_ints(c->g, "strides", 2, (int64_t[]){nd->stride, nd->stride});
    ox_attr_ints(c->g, "pads", 4, (int64_t[]){nd->pad, nd->pad, nd->pad, nd->pad});
    ox_attr_ints(c->g, "output_padding", 2, (int64_t[]){nd->out_pad, nd->out_pad});
    return y;
}

static const char *emit_inorm(ox_ctx *c, int i, const char *out)
{
    const ug_node *nd = node(c, i);
    char ones[32], zeros[32];
    snprintf(ones, sizeof ones, "ones.%d", nd->C);
    snprintf(zeros, sizeof zeros, "zeros.%d", nd->C);
    const char *y = ox_node(c->g, "InstanceNormalization", out, 3, in(c, i, 0),
                            ox_fill(c->g, ones, nd->C, 1), ox_fill(c->g, zeros, nd->C, 0));
    ox_attr_float(c->g, "epsilon", nd->eps);
    return y;
}

/* (x - mean) / sqrt(var + eps) over axes of count values each, with the
 * unbiased variance (count - 1 in the divisor, as torch.var; 1 for a single
 * value, as our kernel) or the biased one. */
static const char *standardise(ox_graph *g, const char *x, int n_axes, const int64_t *axes,
                               int64_t count, int unbiased, float eps)
{
    const char *mean = ox_node(g, "ReduceMean", NULL, 1, x);
    ox_attr_ints(g, "axes", n_axes, axes);
    const char *d = ox_node(g, "Sub", NULL, 2, x, mean);
    const char *var = ox_node(g, "ReduceMean", NULL, 1, ox_node(g, "Mul", NULL, 2, d, d));
    ox_attr_ints(g, "axes", n_axes, axes);
    if (unbiased && count > 1)
        var = ox_node(g, "Mul", NULL, 2, var,
                      ox_scalar(g, (float)((double)count / (double)(count - 1))));
    const char *sd = ox_node(g, "Sqrt", NULL, 1, ox_node(g, "Add", NULL, 2, var, ox_scalar(g, eps)));
    return ox_node(g, "Div", NULL, 2, d, sd);
}

/* AdaLIN / ILN: rho * IN(x) + (1 - rho) * LN(x), both with the unbiased
 * variance, then gamma and beta: per sample from the MLP (adaILN) or
 * parameters (ILN). A fixed rho of 1 or 0 writes only the half it keeps. */
static const char *emit_linnorm(ox_ctx *c, int i, const char *out)
{
    ox_graph *g = c->g;
    const ug_node *nd = node(c, i);
    const char *x = in(c, i, 0);
    const int64_t hw = (int64_t)nd->H * nd->W, chw = nd->C * hw;
    const int fixed = nd->p[0] < 0;
    const char *mix;
    if (fixed && nd->rho == 1) {
        mix = standardise(g, x, 2, (int64_t[]){2, 3}, hw, 1, nd->eps);
    } else if (fixed && nd->rho == 0) {
        mix = standardise(g, x, 3, (int64_t[]){1, 2, 3}, chw, 1, nd->eps);
    } else {
        const char *rho = fixed ? ox_scalar(g, nd->rho) : param(c, nd->p[0]);
        const char *xin = standardise(g, x, 2, (int64_t[]){2, 3}, hw, 1, nd->eps);
        const char *xln = standardise(g, x, 3, (int64_t[]){1, 2, 3}, chw, 1, nd->eps);
        const char *rest = ox_node(g, "Sub", NULL, 2, ox_scalar(g, 1), rho);
        mix = ox_node(g, "Add", NULL, 2, ox_node(g, "Mul", NULL, 2, rho, xin),
                      ox_node(g, "Mul", NULL, 2, rest, xln));
    }
    const int ada = nd->in[1] >= 0;
    const char *gamma = ada ? in(c, i, 1) : param(c, nd->p[1]);
    const char *beta = ada ? in(c, i, 2) : param(c, nd->p[2]);
    return ox_node(g, "Add", out, 2, ox_node(g, "Mul", NULL, 2, mix, gamma), beta);
}

/* GroupNorm: each sample seen as G rows of C / G channels, standardised
 * per row (biased variance), then the per-channel weight and bias. */
static const char *emit_gnorm(ox_ctx *c, int i, const char *out)
{
    ox_graph *g = c->g;
    const ug_node *nd = node(c, i);
    char rows[48], back[64];
    snprintf(rows, sizeof rows, "shape.%d.rows", nd->groups);
    snprintf(back, sizeof back, "shape.%dx%dx%d", nd->C, nd->H, nd->W);
    /* 0 keeps the batch dimension, whatever N is. */
    const char *x = ox_node(g, "Reshape", NULL, 2, in(c, i, 0),
                            ox_ints(g, rows, 3, (int64_t[]){0, nd->groups, -1}));
    const int64_t count = (int64_t)(nd->C / nd->groups) * nd->H * nd->W;
    x = standardise(g, x, 1, (int64_t[]){2}, count, 0, nd->eps);
    x = ox_node(g, "Reshape", NULL, 2, x, ox_ints(g, back, 4, (int64_t[]){0, nd->C, nd->H, nd->W}));
    x = ox_node(g, "Mul", NULL, 2, x, per_channel(c, nd->p[0], nd->C));
    return ox_node(g, "Add", out, 2, x, per_channel(c, nd->p[1], nd->C));
}

static const char *emit_relu(ox_ctx *c, int i, const char *out)
{
    return ox_node(c->g, "Relu", out, 1, in(c, i, 0));
}

static const char *emit_tanh(ox_ctx *c, int i, const char *out)
{
    return ox_node(c->g, "Tanh", out, 1, in(c, i, 0));
}

/* Nearest x2: output pixel y reads input floor(y / 2), as PyTorch's. */
static const char *emit_up2(ox_ctx *c, int i, const char *out)
{
    const char *scales = ox_floats(c->g, "scales.up2", 4, (float[]){1, 1, 2, 2});
    const char *y = ox_node(c->g, "Resize", out, 3, in(c, i, 0), "", scales);
    ox_attr_string(c->g, "mode", "nearest");
    ox_attr_string(c->g, "coordinate_transformation_mode", "asymmetric");
    ox_attr_string(c->g, "nearest_mode", "floor");
    return y;
}

static const char *emit_gap(ox_ctx *c, int i, const char *out)
{
    return ox_node(c->g, "GlobalAveragePool", out, 1, in(c, i, 0));
}

/* On the flattened input (C x H x W values per sample, in memory order, as
 * PyTorch's view), back to N x out x 1 x 1. */
static const char *emit_linear(ox_ctx *c, int i, const char *out)
{
    ox_graph *g = c->g;
    const ug_node *nd = node(c, i);
    const char *x = ox_node(g, "Flatten", NULL, 1, in(c, i, 0));
    ox_attr_int(g, "axis", 1);
    const char *w = plain_weight(c, nd->p[0]);
    x = nd->p[1] >= 0 ? ox_node(g, "Gemm", NULL, 3, x, w, param(c, nd->p[1]))
                      : ox_node(g, "Gemm", NULL, 2, x, w);
    ox_attr_int(g, "transB", 1);
    return ox_node(g, "Unsqueeze", out, 2, x, ox_ints(g, "axes.hw", 2, (int64_t[]){2, 3}));
}

/* The CAM re-weighting: by the raw weight, never a spectrally normalised one. */
static const char *emit_scale(ox_ctx *c, int i, const char *out)
{
    const ug_node *nd = node(c, i);
    return ox_node(c->g, "Mul", out, 2, in(c, i, 0), per_channel(c, nd->p[0], nd->C));
}

static const char *emit_concat(ox_ctx *c, int i, const char *out)
{
    const ug_node *nd = node(c, i);
    const char *xs[UG_NODE_IN];
    int n = 0;
    while (n < UG_NODE_IN && nd->in[n] >= 0) {
        xs[n] = c->val[nd->in[n]];
        n++;
    }
    const char *y = ox_nodev(c->g, "Concat", out, n, xs);
    ox_attr_int(c->g, "axis", 1);
    return y;
}

static const char *emit_chsum(ox_ctx *c, int i, const char *out)
{
    const char *axes = ox_ints(c->g, "axes.c", 1, (int64_t[]){1});
    return ox_node(c->g, "ReduceSum", out, 2, in(c, i, 0), axes);
}

/* Numpy broadcasting covers a C x 1 x 1 operand. */
static const char *emit_add(ox_ctx *c, int i, const char *out)
{
    return ox_node(c->g, "Add", out, 2, in(c, i, 0), in(c, i, 1));
}

static const ox_emit_fn table[OP_COUNT] = {
    [OP_INPUT] = emit_input,   [OP_PAD] = emit_pad,       [OP_CONV] = emit_conv,
    [OP_DECONV] = emit_deconv, [OP_INORM] = emit_inorm,   [OP_LINNORM] = emit_linnorm,
    [OP_GNORM] = emit_gnorm,   [OP_RELU] = emit_relu,     [OP_TANH] = emit_tanh,
    [OP_UP2] = emit_up2,       [OP_GAP] = emit_gap,       [OP_LINEAR] = emit_linear,
    [OP_SCALE] = emit_scale,   [OP_CONCAT] = emit_concat, [OP_CHSUM] = emit_chsum,
    [OP_ADD] = emit_add,
};

ox_emit_fn ox_op_emit(ug_op op) { return (int)op >= 0 && op < OP_COUNT ? table[op] : NULL; }
