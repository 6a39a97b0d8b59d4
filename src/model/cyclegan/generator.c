/* CycleGAN's ResnetGenerator (the official networks.py): a 7x7 convolution
 * on a reflection-padded input, two stride-2 convolutions with zero
 * padding, residual blocks with reflection padding, two transposed
 * convolutions, and a 7x7 convolution to tanh; InstanceNorm without affine
 * and ReLU after every convolution but the last; no dropout. Every
 * convolution has a bias (the ones before a norm are cancelled by it, but
 * the official code has them and so do its files). */
#include <stdio.h>

#include "model/cyclegan/cyclegan.h"
#include "nn/build.h"

/* A convolution's weight (shape w) from N(0, 0.02) and its bias of n_out,
 * zero (init_weights). */
static void conv_params(ug_builder *b, int idx, const char *inner, const int64_t w[4],
                        int64_t n_out)
{
    char name[UG_NAME_MAX];
    snprintf(name, sizeof name, "model.%d%s.weight", idx, inner);
    ug_b_normal_weight(b, name, 4, w, CG_INIT_STD);
    snprintf(name, sizeof name, "model.%d%s.bias", idx, inner);
    ug_b_const(b, name, 1, &n_out, 0.0f);
}

/* The Sequential's indices: 0 pad, 1 conv, 2 IN, 3 ReLU, then conv/IN/ReLU
 * at 4 and 7, the blocks at 10.., the transposed convolutions after them
 * every three, a pad and the last convolution. */
static int up_index(int n_res, int i) { return 10 + n_res + 3 * i; }
static int last_index(int n_res) { return 17 + n_res; }

static void add_params(ug_builder *b, const ug_config *c)
{
    int64_t ch = c->ch;
    conv_params(b, 1, "", (int64_t[]){ch, 3, 7, 7}, ch);
    conv_params(b, 4, "", (int64_t[]){2 * ch, ch, 3, 3}, 2 * ch);
    conv_params(b, 7, "", (int64_t[]){4 * ch, 2 * ch, 3, 3}, 4 * ch);
    for (int i = 0; i < c->n_res; i++) {
        conv_params(b, 10 + i, ".conv_block.1", (int64_t[]){4 * ch, 4 * ch, 3, 3}, 4 * ch);
        conv_params(b, 10 + i, ".conv_block.5", (int64_t[]){4 * ch, 4 * ch, 3, 3}, 4 * ch);
    }
    /* A transposed convolution's weight is Cin x Cout x k x k. */
    conv_params(b, up_index(c->n_res, 0), "", (int64_t[]){4 * ch, 2 * ch, 3, 3}, 2 * ch);
    conv_params(b, up_index(c->n_res, 1), "", (int64_t[]){2 * ch, ch, 3, 3}, ch);
    conv_params(b, last_index(c->n_res), "", (int64_t[]){3, ch, 7, 7}, 3);
}

static int conv_node(ug_builder *b, int x, int idx, const char *inner, int k, int stride,
                     int zero_pad)
{
    int w = ug_b_find(b, "model.%d%s.weight", idx, inner);
    int bias = ug_b_find(b, "model.%d%s.bias", idx, inner);
    const int pad[4] = {zero_pad, zero_pad, zero_pad, zero_pad};
    return ug_b_conv_zpad(b, x, w, bias, k, k, stride, pad);
}

static int norm_relu(ug_builder *b, int x)
{
    return ug_b_unary(b, OP_RELU, ug_b_inorm(b, x, 1e-5f));
}

static void build_graph(ug_builder *b, const ug_config *c)
{
    int x = ug_b_input(b, "image", 3, c->img_size, c->img_size);
    x = norm_relu(b, conv_node(b, ug_b_pad(b, x, 3), 1, "", 7, 1, 0));
    x = norm_relu(b, conv_node(b, x, 4, "", 3, 2, 1));
    x = norm_relu(b, conv_node(b, x, 7, "", 3, 2, 1));
    for (int i = 0; i < c->n_res; i++) {
        int r = norm_relu(b, conv_node(b, ug_b_pad(b, x, 1), 10 + i, ".conv_block.1", 3, 1, 0));
        r = ug_b_inorm(b, conv_node(b, ug_b_pad(b, r, 1), 10 + i, ".conv_block.5", 3, 1, 0),
                       1e-5f);
        x = ug_b_binary(b, OP_ADD, x, r);
    }
    for (int i = 0; i < 2; i++) {
        int idx = up_index(c->n_res, i);
        x = ug_b_deconv(b, x, ug_b_find(b, "model.%d.weight", idx),
                        ug_b_find(b, "model.%d.bias", idx), 3, 2, 1, 1);
        x = norm_relu(b, x);
    }
    x = conv_node(b, ug_b_pad(b, x, 3), last_index(c->n_res), "", 7, 1, 0);
    ug_b_output(b, UG_OUT_IMAGE, ug_b_unary(b, OP_TANH, x));
}

int cg_build_generator(ug_net *net, const ug_config *c, ug_error *err)
{
    if (c->ch < 1)
        return ug_fail(err, "ch must be at least 1 (got %d)", c->ch);
    if (c->n_res < 1)
        return ug_fail(err, "n_res must be at least 1 (got %d)", c->n_res);
    if (c->img_size < 8 || c->img_size % 4 != 0)
        return ug_fail(err, "img_size must be a multiple of 4 and at least 8 (got %d)",
                       c->img_size);
    return ug_b_build(net, c, add_params, build_graph, NULL, err);
}
