/* E_attr_concat (enc_a, --concat 1): per domain conv_A = reflection pad 1,
 * a 4x4 stride-2 convolution, three BasicBlocks (LeakyReLU 0.2, no norm),
 * LeakyReLU 0.2 and a global average pool; fc_A and fcVar_A (Linear, left at
 * PyTorch's default init) give the mean and log-variance of the 8-value
 * attribute code. Registration order: fc_A, fcVar_A, conv_A, fc_B, fcVar_B,
 * conv_B. A BasicBlock(in, out) is conv(x) + shortcut(x) with
 * conv = [LReLU, pad, conv in->in 3x3, LReLU, [pad, conv in->out 3x3,
 * avgpool 2]] and shortcut = [avgpool 2, conv in->out 1x1]. */
#include <stdio.h>

#include "model/drit/drit.h"

static void linear_params(ug_builder *b, const char *prefix, int64_t out, int64_t in)
{
    char name[UG_NAME_MAX];
    snprintf(name, sizeof name, "%s.0.weight", prefix);
    ug_b_weight(b, name, 2, (int64_t[]){out, in});
    snprintf(name, sizeof name, "%s.0.bias", prefix);
    ug_b_bias(b, name, out, in);
}

static void domain_params(ug_builder *b, char d, int64_t ch)
{
    char name[UG_NAME_MAX];
    snprintf(name, sizeof name, "fc_%c", d);
    linear_params(b, name, DR_NZ, 4 * ch);
    snprintf(name, sizeof name, "fcVar_%c", d);
    linear_params(b, name, DR_NZ, 4 * ch);
    snprintf(name, sizeof name, "conv_%c.1", d);
    dr_conv_params(b, name, ch, 3, 4);
    const int64_t dims[4] = {ch, 2 * ch, 3 * ch, 4 * ch};
    for (int i = 0; i < 3; i++) {
        snprintf(name, sizeof name, "conv_%c.%d.conv.2", d, 2 + i);
        dr_conv_params(b, name, dims[i], dims[i], 3);
        snprintf(name, sizeof name, "conv_%c.%d.conv.4.1", d, 2 + i);
        dr_conv_params(b, name, dims[i + 1], dims[i], 3);
        snprintf(name, sizeof name, "conv_%c.%d.shortcut.1", d, 2 + i);
        dr_conv_params(b, name, dims[i + 1], dims[i], 1);
    }
}

static void add_params(ug_builder *b, const ug_config *c)
{
    domain_params(b, 'A', c->ch);
    domain_params(b, 'B', c->ch);
}

static int basic_block(ug_builder *b, int x, char d, int i)
{
    char name[UG_NAME_MAX];
    snprintf(name, sizeof name, "conv_%c.%d.conv.2", d, i);
    int y = dr_conv(b, ug_b_lrelu(b, x, DR_ATTR_LRELU), name, 3, 1, 1);
    snprintf(name, sizeof name, "conv_%c.%d.conv.4.1", d, i);
    y = dr_conv(b, ug_b_lrelu(b, y, DR_ATTR_LRELU), name, 3, 1, 1);
    y = ug_b_pool(b, OP_AVGPOOL, y, 2, 2, 2, 0, 1);
    snprintf(name, sizeof name, "conv_%c.%d.shortcut.1", d, i);
    int s = dr_conv(b, ug_b_pool(b, OP_AVGPOOL, x, 2, 2, 2, 0, 1), name, 1, 1, 0);
    return ug_b_binary(b, OP_ADD, y, s);
}

static void domain_graph(ug_builder *b, int x, char d, const char *mu, const char *logvar)
{
    char name[UG_NAME_MAX];
    snprintf(name, sizeof name, "conv_%c.1", d);
    x = dr_conv(b, x, name, 4, 2, 1);
    for (int i = 2; i <= 4; i++)
        x = basic_block(b, x, d, i);
    x = ug_b_unary(b, OP_GAP, ug_b_lrelu(b, x, DR_ATTR_LRELU));
    ug_b_output(b, mu, ug_b_linear(b, x, ug_b_find(b, "fc_%c.0.weight", d),
                                   ug_b_find(b, "fc_%c.0.bias", d)));
    ug_b_output(b, logvar, ug_b_linear(b, x, ug_b_find(b, "fcVar_%c.0.weight", d),
                                       ug_b_find(b, "fcVar_%c.0.bias", d)));
}

static void build_graph(ug_builder *b, const ug_config *c)
{
    const int S = c->img_size;
    int xa = ug_b_input(b, DR_IN_IMAGE_A, 3, S, S), xb = ug_b_input(b, DR_IN_IMAGE_B, 3, S, S);
    domain_graph(b, xa, 'A', DR_OUT_MU_A, DR_OUT_LOGVAR_A);
    domain_graph(b, xb, 'B', DR_OUT_MU_B, DR_OUT_LOGVAR_B);
}

int dr_build_attribute(ug_net *net, const ug_config *c, ug_error *err)
{
    return dr_check(c, err) < 0 ? -1 : ug_b_build(net, c, add_params, build_graph, NULL, err);
}
