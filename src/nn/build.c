/* Graph building with shape inference (see build.h). */
#include "nn/build.h"

#include "nn/op.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Appends nd after the op's shape rule has checked it and set its shape. */
static int add(ug_builder *b, ug_node nd)
{
    if (b->failed)
        return -1;
    if (ug_op_get(nd.op)->shape(b->net, &nd, b->err) < 0) {
        b->failed = 1;
        return -1;
    }
    int i = ug_net_add_node(b->net, nd);
    if (i < 0) {
        b->failed = 1;
        ug_fail(b->err, "out of memory building the network");
    }
    return i;
}

static ug_node blank(ug_op op, int x)
{
    ug_node nd = {.op = op};
    for (int j = 0; j < UG_NODE_IN; j++)
        nd.in[j] = -1;
    for (int j = 0; j < UG_NODE_P; j++)
        nd.p[j] = -1;
    nd.in[0] = x;
    return nd;
}

/* Records a named port, refusing a duplicate name or one too many. */
static int add_port(ug_builder *b, ug_port *ports, int *count, const char *name, int node)
{
    if (b->failed || node < 0)
        return -1;
    if (*count == UG_NET_PORTS || strlen(name) >= UG_PORT_NAME) {
        b->failed = 1;
        return ug_fail(b->err, "internal: no room for port '%s'", name);
    }
    for (int i = 0; i < *count; i++)
        if (strcmp(ports[i].name, name) == 0) {
            b->failed = 1;
            return ug_fail(b->err, "internal: port '%s' twice", name);
        }
    snprintf(ports[*count].name, UG_PORT_NAME, "%s", name);
    ports[(*count)++].node = node;
    return node;
}

int ug_b_input(ug_builder *b, const char *name, int C, int H, int W)
{
    ug_node nd = blank(OP_INPUT, -1);
    nd.C = C, nd.H = H, nd.W = W;
    return add_port(b, b->net->in, &b->net->n_in, name, add(b, nd));
}

int ug_b_output(ug_builder *b, const char *name, int node)
{
    return add_port(b, b->net->out, &b->net->n_out, name, node);
}

int ug_b_pad(ug_builder *b, int x, int pad)
{
    ug_node nd = blank(OP_PAD, x);
    nd.pad = pad;
    return add(b, nd);
}

int ug_b_conv(ug_builder *b, int x, int w, int bias, int k, int stride)
{
    ug_node nd = blank(OP_CONV, x);
    nd.p[0] = w, nd.p[1] = bias, nd.kh = nd.kw = k, nd.stride = stride;
    return add(b, nd);
}

int ug_b_conv_zpad(ug_builder *b, int x, int w, int bias, int kh, int kw, int stride,
                   const int pad[4])
{
    ug_node nd = blank(OP_CONV, x);
    nd.p[0] = w, nd.p[1] = bias, nd.kh = kh, nd.kw = kw, nd.stride = stride;
    for (int i = 0; i < 4; i++)
        nd.zpad[i] = pad[i];
    return add(b, nd);
}

int ug_b_deconv(ug_builder *b, int x, int w, int bias, int k, int stride, int pad, int out_pad)
{
    ug_node nd = blank(OP_DECONV, x);
    nd.p[0] = w, nd.p[1] = bias, nd.kh = nd.kw = k, nd.stride = stride;
    nd.pad = pad, nd.out_pad = out_pad;
    return add(b, nd);
}

int ug_b_unary(ug_builder *b, ug_op op, int x) { return add(b, blank(op, x)); }

int ug_b_pool(ug_builder *b, ug_op op, int x, int kh, int kw, int stride, int pad,
              int count_pad)
{
    ug_node nd = blank(op, x);
    nd.kh = kh, nd.kw = kw, nd.stride = stride, nd.pad = pad, nd.count_pad = count_pad;
    return add(b, nd);
}

int ug_b_bnorm(ug_builder *b, int x, int p, float eps, float momentum)
{
    ug_node nd = blank(OP_BNORM, x);
    for (int j = 0; j < 5; j++)
        nd.p[j] = p < 0 ? -1 : p + j;
    nd.eps = eps, nd.momentum = momentum;
    return add(b, nd);
}

int ug_b_groupnorm(ug_builder *b, int x, int groups, int weight, int bias, float eps)
{
    ug_node nd = blank(OP_GNORM, x);
    nd.p[0] = weight, nd.p[1] = bias, nd.groups = groups, nd.eps = eps;
    return add(b, nd);
}

int ug_b_nvlnorm(ug_builder *b, int x, int gamma, int beta, float eps)
{
    ug_node nd = blank(OP_NVLNORM, x);
    nd.p[0] = gamma, nd.p[1] = beta, nd.eps = eps;
    return add(b, nd);
}

int ug_b_adain(ug_builder *b, int x, int p, int off, float eps)
{
    ug_node nd = blank(OP_ADAIN, x);
    nd.in[1] = p, nd.off = off, nd.eps = eps;
    return add(b, nd);
}

int ug_b_dlnorm(ug_builder *b, int x, int weight, int bias, float eps)
{
    ug_node nd = blank(OP_DLNORM, x);
    nd.p[0] = weight, nd.p[1] = bias, nd.eps = eps;
    return add(b, nd);
}

int ug_b_inorm(ug_builder *b, int x, float eps)
{
    ug_node nd = blank(OP_INORM, x);
    nd.eps = eps;
    return add(b, nd);
}

int ug_b_lrelu(ug_builder *b, int x, float slope)
{
    ug_node nd = blank(OP_LRELU, x);
    nd.slope = slope;
    return add(b, nd);
}

/* An AdaLIN/ILN node: rho the parameter rho_p, or fixed_rho where rho_p < 0. */
static int linnorm(ug_builder *b, int x, int rho_p, float fixed_rho, int gamma_node,
                   int beta_node, int gamma_p, int beta_p, float eps)
{
    ug_node nd = blank(OP_LINNORM, x);
    nd.in[1] = gamma_node, nd.in[2] = beta_node;
    nd.p[0] = rho_p, nd.p[1] = gamma_p, nd.p[2] = beta_p;
    nd.rho = fixed_rho, nd.eps = eps;
    return add(b, nd);
}

int ug_b_linnorm(ug_builder *b, int x, int rho, int gamma_node, int beta_node, int gamma_p,
                 int beta_p, float eps)
{
    return linnorm(b, x, rho, 0, gamma_node, beta_node, gamma_p, beta_p, eps);
}

int ug_b_linnorm_fixed(ug_builder *b, int x, float rho, int gamma_node, int beta_node,
                       int gamma_p, int beta_p, float eps)
{
    return linnorm(b, x, -1, rho, gamma_node, beta_node, gamma_p, beta_p, eps);
}

int ug_b_linear(ug_builder *b, int x, int w, int bias)
{
    ug_node nd = blank(OP_LINEAR, x);
    nd.p[0] = w, nd.p[1] = bias;
    return add(b, nd);
}

int ug_b_scale(ug_builder *b, int x, int w)
{
    ug_node nd = blank(OP_SCALE, x);
    nd.p[0] = w;
    return add(b, nd);
}

int ug_b_binary(ug_builder *b, ug_op op, int x, int y)
{
    ug_node nd = blank(op, x);
    nd.in[1] = y;
    return add(b, nd);
}

int ug_b_concat(ug_builder *b, const int *xs, int n)
{
    if (b->failed)
        return -1;
    if (n < 2 || n > UG_NODE_IN) {
        b->failed = 1;
        ug_fail(b->err, "internal: concat of %d inputs (2 to %d)", n, UG_NODE_IN);
        return -1;
    }
    ug_node nd = blank(OP_CONCAT, xs[0]);
    for (int j = 1; j < n; j++)
        nd.in[j] = xs[j];
    return add(b, nd);
}

int ug_b_cam(ug_builder *b, int x, int gap_w, int gmp_w, int conv_w, int conv_b, int leaky)
{
    int gap_logit = ug_b_linear(b, ug_b_unary(b, OP_GAP, x), gap_w, -1);
    int gmp_logit = ug_b_linear(b, ug_b_unary(b, OP_GMP, x), gmp_w, -1);
    ug_b_output(b, UG_OUT_CAM, ug_b_binary(b, OP_CONCAT, gap_logit, gmp_logit));
    x = ug_b_binary(b, OP_CONCAT, ug_b_scale(b, x, gap_w), ug_b_scale(b, x, gmp_w));
    x = ug_b_conv(b, x, conv_w, conv_b, 1, 1);
    x = leaky ? ug_b_lrelu(b, x, 0.2f) : ug_b_unary(b, OP_RELU, x);
    ug_b_output(b, UG_OUT_HEATMAP, ug_b_unary(b, OP_CHSUM, x));
    return x;
}

static int param_of(ug_builder *b, ug_param_kind kind, const char *name, int ndim,
                    const int64_t *shape, ug_init_kind init, double value)
{
    int i = ug_net_add_param(b->net, name, kind, ndim, shape);
    if (i < 0) {
        if (!b->failed)
            ug_fail(b->err, "out of memory building the network");
        b->failed = 1;
        return -1;
    }
    b->net->params[i].init = init;
    b->net->params[i].init_value = value;
    return i;
}

static int param(ug_builder *b, const char *name, int ndim, const int64_t *shape,
                 ug_init_kind init, double value)
{
    return param_of(b, UG_TRAINABLE, name, ndim, shape, init, value);
}

/* PyTorch's default bound for a weight: 1/sqrt(fan_in), the product of the
 * dimensions after the first. */
static double weight_bound(int ndim, const int64_t *shape)
{
    int64_t fan_in = 1;
    for (int d = 1; d < ndim; d++)
        fan_in *= shape[d];
    return 1.0 / sqrt((double)fan_in);
}

int ug_b_weight(ug_builder *b, const char *name, int ndim, const int64_t *shape)
{
    return param(b, name, ndim, shape, UG_INIT_UNIFORM, weight_bound(ndim, shape));
}

int ug_b_bias(ug_builder *b, const char *name, int64_t n, int64_t fan_in)
{
    return param(b, name, 1, &n, UG_INIT_UNIFORM, 1.0 / sqrt((double)fan_in));
}

int ug_b_normal_weight(ug_builder *b, const char *name, int ndim, const int64_t *shape,
                       double std)
{
    return param(b, name, ndim, shape, UG_INIT_NORMAL, std);
}

int ug_b_unit_uniform(ug_builder *b, const char *name, int ndim, const int64_t *shape)
{
    return param(b, name, ndim, shape, UG_INIT_UNIT_UNIFORM, 1);
}

int ug_b_const(ug_builder *b, const char *name, int ndim, const int64_t *shape, float value)
{
    return param(b, name, ndim, shape, value == 0 ? UG_INIT_NONE : UG_INIT_CONST, value);
}

int ug_b_buffer(ug_builder *b, const char *name, int ndim, const int64_t *shape, float value)
{
    return param_of(b, UG_BUFFER, name, ndim, shape, value == 0 ? UG_INIT_NONE : UG_INIT_CONST,
                    value);
}

int ug_b_bnorm_params(ug_builder *b, const char *prefix, int64_t C)
{
    static const char *const names[5] = {"weight", "bias", "running_mean", "running_var",
                                         "num_batches_tracked"};
    static const float start[5] = {1, 0, 0, 1, 0};
    int first = -1;
    for (int j = 0; j < 5; j++) {
        char name[UG_NAME_MAX];
        snprintf(name, sizeof name, "%s.%s", prefix, names[j]);
        int i = j < 2 ? ug_b_const(b, name, 1, &C, start[j])
                      : ug_b_buffer(b, name, j < 4 ? 1 : 0, &C, start[j]);
        first = j == 0 ? i : first;
    }
    return b->failed ? -1 : first;
}

int ug_b_clamp(ug_builder *b, int p, float lo, float hi)
{
    if (p >= 0) {
        ug_param *pp = &b->net->params[p];
        pp->clamped = 1, pp->clamp_lo = lo, pp->clamp_hi = hi;
    }
    return p;
}

int ug_b_sn_weight(ug_builder *b, const char *name, int ndim, const int64_t *shape)
{
    int i = ug_net_add_sn_param(b->net, name, ndim, shape);
    if (i < 0) {
        if (!b->failed)
            ug_fail(b->err, "out of memory building the network");
        b->failed = 1;
        return -1;
    }
    b->net->params[i].init = UG_INIT_UNIFORM;
    b->net->params[i].init_value = weight_bound(ndim, shape);
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

int ug_b_build(ug_net *net, const ug_config *c,
               void (*params)(ug_builder *, const ug_config *),
               void (*graph)(ug_builder *, const ug_config *), int *in_graph,
               ug_error *err)
{
    ug_net_init(net);
    ug_builder b = {net, err, 0};
    params(&b, c);
    int graph_failed = 0;
    if (!b.failed && ug_net_alloc(net, err) == 0) {
        graph(&b, c);
        graph_failed = b.failed;
        if (!b.failed) {
            if (in_graph)
                *in_graph = 0;
            return 0;
        }
    }
    if (in_graph)
        *in_graph = graph_failed;
    ug_net_free(net);
    return -1;
}
