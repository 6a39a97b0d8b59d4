/* DRIT's building blocks (the official networks.py): every convolution and
 * transposed convolution has a bias; gaussian_weights_init draws the weights
 * of every Conv* module from N(0, 0.02) and leaves the biases at PyTorch's
 * default U(-1/sqrt(fan_in), 1/sqrt(fan_in)). LeakyReLUConv2d's norm branch
 * compares two string literals and is never taken: no norm there, ever. */
#include <stdio.h>

#include "model/drit/drit.h"

void dr_conv_params(ug_builder *b, const char *prefix, int64_t out, int64_t in, int k)
{
    char name[UG_NAME_MAX];
    snprintf(name, sizeof name, "%s.weight", prefix);
    ug_b_normal_weight(b, name, 4, (int64_t[]){out, in, k, k}, DR_INIT_STD);
    snprintf(name, sizeof name, "%s.bias", prefix);
    ug_b_bias(b, name, out, in * k * k);
}

int dr_conv(ug_builder *b, int x, const char *prefix, int k, int stride, int pad)
{
    int w = ug_b_find(b, "%s.weight", prefix), bias = ug_b_find(b, "%s.bias", prefix);
    return ug_b_conv(b, pad ? ug_b_pad(b, x, pad) : x, w, bias, k, stride);
}

void dr_block_params(ug_builder *b, const char *prefix, int64_t out, int64_t in, int k)
{
    char name[UG_NAME_MAX];
    snprintf(name, sizeof name, "%s.model.1", prefix);
    dr_conv_params(b, name, out, in, k);
}

int dr_lrelu_conv(ug_builder *b, int x, const char *prefix, int k, int stride, int pad)
{
    char name[UG_NAME_MAX];
    snprintf(name, sizeof name, "%s.model.1", prefix);
    return ug_b_lrelu(b, dr_conv(b, x, name, k, stride, pad), DR_LRELU);
}

int dr_ins_conv(ug_builder *b, int x, const char *prefix, int k, int stride, int pad)
{
    char name[UG_NAME_MAX];
    snprintf(name, sizeof name, "%s.model.1", prefix);
    return ug_b_unary(b, OP_RELU, ug_b_inorm(b, dr_conv(b, x, name, k, stride, pad), 1e-5f));
}

/* model = [pad, conv, IN, ReLU, pad, conv, IN]; out = model(x) + x. */
void dr_res_params(ug_builder *b, const char *prefix, int64_t C)
{
    char name[UG_NAME_MAX];
    for (int j = 1; j <= 5; j += 4) {
        snprintf(name, sizeof name, "%s.model.%d", prefix, j);
        dr_conv_params(b, name, C, C, 3);
    }
}

int dr_res(ug_builder *b, int x, const char *prefix)
{
    char name[UG_NAME_MAX];
    snprintf(name, sizeof name, "%s.model.1", prefix);
    int r = ug_b_unary(b, OP_RELU, ug_b_inorm(b, dr_conv(b, x, name, 3, 1, 1), 1e-5f));
    snprintf(name, sizeof name, "%s.model.5", prefix);
    r = ug_b_inorm(b, dr_conv(b, r, name, 3, 1, 1), 1e-5f);
    return ug_b_binary(b, OP_ADD, r, x);
}

int dr_check(const ug_config *c, ug_error *err)
{
    if (c->ch < 1 || c->ch > 4096)
        return ug_fail(err, "ch must be 1 to 4096 (got %d)", c->ch);
    if (c->img_size < 8 || c->img_size % 4 != 0)
        return ug_fail(err, "img_size (the crop) must be a multiple of 4 and at least 8 (got %d)",
                       c->img_size);
    return 0;
}
