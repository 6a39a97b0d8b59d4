/* UNIT's VAEGen (the official networks.py, shared with MUNIT): the encoder
 * is a 7x7 convolution and two 4x4 stride-2 ones, each with InstanceNorm
 * and ReLU, then residual blocks; the decoder is residual blocks, then twice
 * nearest up-sampling and a 5x5 convolution with NVIDIA's LayerNorm and
 * ReLU, then a 7x7 convolution to tanh. Every convolution has reflection
 * padding and a bias (cancelled before an InstanceNorm, but the official
 * files have them). Parameters are Kaiming-normal (fan_in) with zero biases,
 * LayerNorm gamma U[0, 1) and beta 0 (utils.weights_init('kaiming')). */
#include <math.h>
#include <stdio.h>

#include "model/unit/unit.h"
#include "nn/build.h"

/* Conv2dBlock PREFIX.conv.{weight,bias}: out x in x k x k. */
void un_conv_params(ug_builder *b, const char *prefix, int64_t out, int64_t in, int k)
{
    char name[UG_NAME_MAX];
    snprintf(name, sizeof name, "%s.conv.weight", prefix);
    ug_b_normal_weight(b, name, 4, (int64_t[]){out, in, k, k}, sqrt(2.0 / (double)(in * k * k)));
    snprintf(name, sizeof name, "%s.conv.bias", prefix);
    ug_b_const(b, name, 1, &out, 0.0f);
}

/* The reflection-padded convolution of Conv2dBlock PREFIX. */
int un_conv(ug_builder *b, int x, const char *prefix, int k, int stride, int pad)
{
    int w = ug_b_find(b, "%s.conv.weight", prefix), bias = ug_b_find(b, "%s.conv.bias", prefix);
    return ug_b_conv(b, pad ? ug_b_pad(b, x, pad) : x, w, bias, k, stride);
}

static int in_relu(ug_builder *b, int x)
{
    return ug_b_unary(b, OP_RELU, ug_b_inorm(b, x, 1e-5f));
}

/* ResBlocks PREFIX of n blocks of dim channels: parameters, then graph.
 * With AdaIN norms (MUNIT's decoder) each norm has the running_mean (0) and
 * running_var (1) buffers AdaptiveInstanceNorm2d registers and never reads. */
void un_res_params(ug_builder *b, const char *prefix, int n, int64_t dim, int adain)
{
    char name[UG_NAME_MAX];
    for (int i = 0; i < n; i++)
        for (int j = 0; j < 2; j++) {
            snprintf(name, sizeof name, "%s.model.%d.model.%d", prefix, i, j);
            un_conv_params(b, name, dim, dim, 3);
            if (!adain)
                continue;
            snprintf(name, sizeof name, "%s.model.%d.model.%d.norm.running_mean", prefix, i, j);
            ug_b_buffer(b, name, 1, &dim, 0.0f);
            snprintf(name, sizeof name, "%s.model.%d.model.%d.norm.running_var", prefix, i, j);
            ug_b_buffer(b, name, 1, &dim, 1.0f);
        }
}

/* Norm k of the residual blocks: InstanceNorm, or with adain >= 0 AdaIN
 * from that node, layer k taking its channels 2 C k .. 2 C (k + 1)
 * (assign_adain_params: the layers in order, bias before weight). */
static int res_norm(ug_builder *b, int x, int adain, int k, int C)
{
    return adain < 0 ? ug_b_inorm(b, x, 1e-5f) : ug_b_adain(b, x, adain, 2 * C * k, 1e-5f);
}

int un_res_blocks(ug_builder *b, int x, const char *prefix, int n, int C, int adain)
{
    char name[2][UG_NAME_MAX];
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < 2; j++)
            snprintf(name[j], sizeof name[j], "%s.model.%d.model.%d", prefix, i, j);
        int r = ug_b_unary(b, OP_RELU, res_norm(b, un_conv(b, x, name[0], 3, 1, 1), adain,
                                                 2 * i, C));
        r = res_norm(b, un_conv(b, r, name[1], 3, 1, 1), adain, 2 * i + 1, C);
        x = ug_b_binary(b, OP_ADD, x, r);
    }
    return x;
}

int un_check_gen(const ug_config *c, ug_error *err)
{
    if (c->ch < 1)
        return ug_fail(err, "ch (gen dim) must be at least 1 (got %d)", c->ch);
    if (c->n_res < 1)
        return ug_fail(err, "n_res must be at least 1 (got %d)", c->n_res);
    if (c->img_size < 8 || c->img_size % 4 != 0)
        return ug_fail(err, "img_size must be a multiple of 4 and at least 8 (got %d)",
                       c->img_size);
    return 0;
}

/* ---- the encoder: model.0 (7x7), model.1, model.2 (4x4 stride 2), model.3 (ResBlocks) ---- */

static void enc_params(ug_builder *b, const ug_config *c)
{
    int64_t dim = c->ch;
    un_conv_params(b, "model.0", dim, 3, 7);
    for (int i = 1; i <= UN_N_DOWNSAMPLE; i++, dim *= 2) {
        char name[UG_NAME_MAX];
        snprintf(name, sizeof name, "model.%d", i);
        un_conv_params(b, name, 2 * dim, dim, 4);
    }
    un_res_params(b, "model.3", c->n_res, dim, 0);
}

static void enc_graph(ug_builder *b, const ug_config *c)
{
    int x = ug_b_input(b, "image", 3, c->img_size, c->img_size);
    x = in_relu(b, un_conv(b, x, "model.0", 7, 1, 3));
    for (int i = 1; i <= UN_N_DOWNSAMPLE; i++) {
        char name[UG_NAME_MAX];
        snprintf(name, sizeof name, "model.%d", i);
        x = in_relu(b, un_conv(b, x, name, 4, 2, 1));
    }
    ug_b_output(b, UG_OUT_IMAGE,
                un_res_blocks(b, x, "model.3", c->n_res, c->ch << UN_N_DOWNSAMPLE, -1));
}

/* ---- the decoder: model.0 (ResBlocks), up-sampling at 1 and 3, model.2 and
 * model.4 (5x5, LayerNorm), model.5 (7x7 to tanh) ---- */

void un_dec_params(ug_builder *b, const ug_config *c, const char *prefix, int adain)
{
    int64_t dim = (int64_t)c->ch << UN_N_DOWNSAMPLE;
    char name[UG_NAME_MAX];
    snprintf(name, sizeof name, "%smodel.0", prefix);
    un_res_params(b, name, c->n_res, dim, adain);
    for (int i = 0; i < UN_N_DOWNSAMPLE; i++, dim /= 2) {
        int64_t half = dim / 2;
        snprintf(name, sizeof name, "%smodel.%d", prefix, 2 + 2 * i);
        un_conv_params(b, name, half, dim, 5);
        snprintf(name, sizeof name, "%smodel.%d.norm.gamma", prefix, 2 + 2 * i);
        ug_b_unit_uniform(b, name, 1, &half);
        snprintf(name, sizeof name, "%smodel.%d.norm.beta", prefix, 2 + 2 * i);
        ug_b_const(b, name, 1, &half, 0.0f);
    }
    snprintf(name, sizeof name, "%smodel.%d", prefix, 2 + 2 * UN_N_DOWNSAMPLE - 1);
    un_conv_params(b, name, 3, dim, 7);
}

int un_dec_graph(ug_builder *b, const ug_config *c, int x, const char *prefix, int adain)
{
    char name[UG_NAME_MAX];
    snprintf(name, sizeof name, "%smodel.0", prefix);
    x = un_res_blocks(b, x, name, c->n_res, c->ch << UN_N_DOWNSAMPLE, adain);
    for (int i = 0; i < UN_N_DOWNSAMPLE; i++) {
        snprintf(name, sizeof name, "%smodel.%d", prefix, 2 + 2 * i);
        x = un_conv(b, ug_b_unary(b, OP_UP2, x), name, 5, 1, 2);
        x = ug_b_nvlnorm(b, x, ug_b_find(b, "%s.norm.gamma", name),
                         ug_b_find(b, "%s.norm.beta", name), 1e-5f);
        x = ug_b_unary(b, OP_RELU, x);
    }
    snprintf(name, sizeof name, "%smodel.%d", prefix, 2 + 2 * UN_N_DOWNSAMPLE - 1);
    return ug_b_unary(b, OP_TANH, un_conv(b, x, name, 7, 1, 3));
}

static void dec_params(ug_builder *b, const ug_config *c) { un_dec_params(b, c, "", 0); }

static void dec_graph(ug_builder *b, const ug_config *c)
{
    const int S = c->img_size >> UN_N_DOWNSAMPLE;
    int x = ug_b_input(b, "image", c->ch << UN_N_DOWNSAMPLE, S, S);
    ug_b_output(b, UG_OUT_IMAGE, un_dec_graph(b, c, x, "", -1));
}

int un_build_encoder(ug_net *net, const ug_config *c, ug_error *err)
{
    return un_check_gen(c, err) < 0 ? -1 : ug_b_build(net, c, enc_params, enc_graph, NULL, err);
}

int un_build_decoder(ug_net *net, const ug_config *c, ug_error *err)
{
    return un_check_gen(c, err) < 0 ? -1 : ug_b_build(net, c, dec_params, dec_graph, NULL, err);
}
