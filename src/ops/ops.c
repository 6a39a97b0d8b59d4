/* The op table: one entry per op kind, in the order of the ug_op enum. */
#include <stdio.h>
#include <string.h>

#include "ops/ops.h"

static int input_shape(const ug_net *net, ug_node *nd, ug_error *err)
{
    (void)net;
    if (nd->C < 1 || nd->H < 1 || nd->W < 1)
        return ug_fail(err, "internal: an input of shape %dx%dx%d", nd->C, nd->H, nd->W);
    return 0;
}

static int input_forward(ug_tape *t, ug_kctx *k, int i, const float *x, float *out, int relu,
                         ug_error *err)
{
    (void)t, (void)k, (void)i, (void)x, (void)out, (void)relu, (void)err;
    return 0;
}

static int input_backward(ug_bwd *b, ug_kctx *k, int i, int param_grads, ug_error *err)
{
    (void)b, (void)k, (void)i, (void)param_grads, (void)err;
    return 0;
}

static const ug_op_def input_op = {"input", 0, input_shape, NULL, input_forward,
                                   input_backward, NULL};

static const ug_op_def *const table[] = {
    [OP_INPUT] = &input_op,        [OP_PAD] = &ug_op_pad,       [OP_CONV] = &ug_op_conv,
    [OP_INORM] = &ug_op_inorm,     [OP_LINNORM] = &ug_op_linnorm, [OP_RELU] = &ug_op_relu,
    [OP_LRELU] = &ug_op_lrelu,     [OP_TANH] = &ug_op_tanh,     [OP_UP2] = &ug_op_up2,
    [OP_GAP] = &ug_op_gap,         [OP_GMP] = &ug_op_gmp,       [OP_LINEAR] = &ug_op_linear,
    [OP_SCALE] = &ug_op_scale,     [OP_CONCAT] = &ug_op_concat, [OP_CHSUM] = &ug_op_chsum,
    [OP_ADD] = &ug_op_add,         [OP_DECONV] = &ug_op_deconv, [OP_BNORM] = &ug_op_bnorm,
    [OP_GNORM] = &ug_op_gnorm,     [OP_MAXPOOL] = &ug_op_maxpool, [OP_AVGPOOL] = &ug_op_avgpool,
    [OP_SIGMOID] = &ug_op_sigmoid, [OP_MUL] = &ug_op_mul,       [OP_NVLNORM] = &ug_op_nvlnorm,
    [OP_ADAIN] = &ug_op_adain,
    [OP_DLNORM] = &ug_op_dlnorm,   [OP_CONCAT_TILED] = &ug_op_concat_tiled,
};
_Static_assert(sizeof table / sizeof table[0] == OP_COUNT, "one table entry per op kind");

const ug_op_def *ug_op_get(ug_op op) { return table[op]; }

const ug_node *ug_op_input(const ug_net *net, const ug_node *nd, int j, ug_error *err)
{
    int x = nd->in[j];
    if (x < 0 || x >= net->n_nodes) {
        ug_fail(err, "internal: %s node without its input %d", table[nd->op]->name, j);
        return NULL;
    }
    return &net->nodes[x];
}

int ug_op_check_bias(const ug_net *net, const ug_node *nd, int64_t outputs, ug_error *err)
{
    return nd->p[1] < 0 ? 0 : ug_op_check_param(net, nd, nd->p[1], 1, &outputs, err);
}

int ug_op_check_param(const ug_net *net, const ug_node *nd, int p, int ndim,
                      const int64_t *shape, ug_error *err)
{
    if (p < 0 || p >= net->n_params)
        return ug_fail(err, "internal: %s node without its parameter", table[nd->op]->name);
    const ug_param *pp = &net->params[p];
    int ok = pp->ndim == ndim;
    for (int d = 0; ok && d < ndim; d++)
        ok = pp->shape[d] == shape[d];
    if (ok)
        return 0;
    char want[96] = "", got[96] = "";
    for (int d = 0; d < ndim; d++)
        snprintf(want + strlen(want), sizeof want - strlen(want), "%s%lld", d ? "x" : "",
                 (long long)shape[d]);
    for (int d = 0; d < pp->ndim; d++)
        snprintf(got + strlen(got), sizeof got - strlen(got), "%s%lld", d ? "x" : "",
                 (long long)pp->shape[d]);
    return ug_fail(err, "internal: %s node: parameter %s is %s, its input needs %s",
                   table[nd->op]->name, pp->name, got[0] ? got : "a scalar",
                   want[0] ? want : "a scalar");
}
