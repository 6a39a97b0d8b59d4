/* MUNIT's AdaINGen networks besides the content encoder (UNIT's): the style
 * encoder, a 7x7 convolution and four 4x4 stride-2 ones (the first two
 * doubling the channels), each with ReLU and no norm, a global average pool
 * and a 1x1 convolution to the style code; and the decoder, UNIT's with
 * AdaIN in its residual blocks, together with the MLP (three linears, ReLU
 * between them) that turns the style code into the AdaIN parameters of all
 * of them. Kaiming-normal weights (fan_in) and zero biases, the MLP's
 * linears included; the AdaIN norms' running_mean/var buffers are saved and
 * never read. */
#include <math.h>
#include <stdio.h>

#include "model/munit/munit.h"
#include "model/unit/unit.h"

static int check(const ug_config *c, ug_error *err)
{
    if (un_check_gen(c, err) < 0)
        return -1;
    if (c->img_size % (1 << MU_STYLE_DOWN) != 0)
        return ug_fail(err, "img_size must be a multiple of %d for the style encoder (got %d)",
                       1 << MU_STYLE_DOWN, c->img_size);
    if (c->style_dim < 1 || c->mlp_dim < 1)
        return ug_fail(err, "style_dim and mlp_dim must be at least 1 (got %d, %d)",
                       c->style_dim, c->mlp_dim);
    return 0;
}

/* ---- the style encoder: model.0 .. model.4, (model.5 the pool), model.6 ---- */

static void style_params(ug_builder *b, const ug_config *c)
{
    int64_t dim = c->ch, sd = c->style_dim;
    char name[UG_NAME_MAX];
    un_conv_params(b, "model.0", dim, 3, 7);
    for (int i = 1; i <= MU_STYLE_DOWN; i++) {
        int64_t out = i <= 2 ? 2 * dim : dim;
        snprintf(name, sizeof name, "model.%d", i);
        un_conv_params(b, name, out, dim, 4);
        dim = out;
    }
    ug_b_normal_weight(b, "model.6.weight", 4, (int64_t[]){sd, dim, 1, 1}, sqrt(2.0 / (double)dim));
    ug_b_const(b, "model.6.bias", 1, &sd, 0.0f);
}

static void style_graph(ug_builder *b, const ug_config *c)
{
    int x = ug_b_input(b, "image", 3, c->img_size, c->img_size);
    x = ug_b_unary(b, OP_RELU, un_conv(b, x, "model.0", 7, 1, 3));
    for (int i = 1; i <= MU_STYLE_DOWN; i++) {
        char name[UG_NAME_MAX];
        snprintf(name, sizeof name, "model.%d", i);
        x = ug_b_unary(b, OP_RELU, un_conv(b, x, name, 4, 2, 1));
    }
    x = ug_b_unary(b, OP_GAP, x);
    x = ug_b_conv(b, x, ug_b_find(b, "model.6.weight"), ug_b_find(b, "model.6.bias"), 1, 1);
    ug_b_output(b, UG_OUT_IMAGE, x);
}

/* ---- the decoder (dec.*) and the MLP (mlp.model.{0,1,2}.fc.*) ---- */

/* The AdaIN parameters of the decoder: beta and gamma of 2 norms per block. */
static int64_t adain_params(const ug_config *c)
{
    return (int64_t)4 * c->n_res * ((int64_t)c->ch << UN_N_DOWNSAMPLE);
}

static void dec_params(ug_builder *b, const ug_config *c)
{
    un_dec_params(b, c, "dec.", 1);
    int64_t in = c->style_dim;
    for (int i = 0; i < MU_MLP_LAYERS; i++) {
        int64_t out = i + 1 < MU_MLP_LAYERS ? c->mlp_dim : adain_params(c);
        char name[UG_NAME_MAX];
        snprintf(name, sizeof name, "mlp.model.%d.fc.weight", i);
        ug_b_normal_weight(b, name, 2, (int64_t[]){out, in}, sqrt(2.0 / (double)in));
        snprintf(name, sizeof name, "mlp.model.%d.fc.bias", i);
        ug_b_const(b, name, 1, &out, 0.0f);
        in = out;
    }
}

static void dec_graph(ug_builder *b, const ug_config *c)
{
    const int S = c->img_size >> UN_N_DOWNSAMPLE;
    int x = ug_b_input(b, "image", c->ch << UN_N_DOWNSAMPLE, S, S);
    int p = ug_b_input(b, "style", c->style_dim, 1, 1);
    for (int i = 0; i < MU_MLP_LAYERS; i++) {
        p = ug_b_linear(b, p, ug_b_find(b, "mlp.model.%d.fc.weight", i),
                        ug_b_find(b, "mlp.model.%d.fc.bias", i));
        if (i + 1 < MU_MLP_LAYERS)
            p = ug_b_unary(b, OP_RELU, p);
    }
    ug_b_output(b, UG_OUT_IMAGE, un_dec_graph(b, c, x, "dec.", p));
}

int mu_build_style_encoder(ug_net *net, const ug_config *c, ug_error *err)
{
    return check(c, err) < 0 ? -1 : ug_b_build(net, c, style_params, style_graph, NULL, err);
}

int mu_build_decoder(ug_net *net, const ug_config *c, ug_error *err)
{
    return check(c, err) < 0 ? -1 : ug_b_build(net, c, dec_params, dec_graph, NULL, err);
}
