/* The U-GAT-IT generator (the release's ResnetGenerator): encoder, CAM
 * attention, gamma/beta MLP, adaILN residual decoder. */
#include <stdio.h>

#include "model/networks.h"
#include "nn/build.h"

/* An AdaLIN/ILN rho: one per channel, kept in [0, 1]. */
static void rho(ug_builder *b, const char *name, int64_t c, float start)
{
    ug_b_clamp(b, ug_b_const(b, name, 4, (int64_t[]){1, c, 1, 1}, start), 0, 1);
}

/* Parameters in the release's state_dict order, with its start values:
 * adaILN's rho 0.9; ILN's rho 0, gamma 1, beta 0. */
static void add_params(ug_builder *b, int64_t ch, int n_res, int64_t img, int light)
{
    int64_t c4 = 4 * ch, fc_in = light ? c4 : c4 * (img / 4) * (img / 4);
    char name[UG_NAME_MAX];
    ug_b_weight(b, "gap_fc.weight", 2, (int64_t[]){1, c4});
    ug_b_weight(b, "gmp_fc.weight", 2, (int64_t[]){1, c4});
    ug_b_weight(b, "conv1x1.weight", 4, (int64_t[]){c4, 2 * c4, 1, 1});
    ug_b_bias(b, "conv1x1.bias", c4, 2 * c4);
    ug_b_weight(b, "gamma.weight", 2, (int64_t[]){c4, c4});
    ug_b_weight(b, "beta.weight", 2, (int64_t[]){c4, c4});
    for (int i = 1; i <= n_res; i++) {
        for (int j = 1; j <= 2; j++) {
            snprintf(name, sizeof name, "UpBlock1_%d.conv%d.weight", i, j);
            ug_b_weight(b, name, 4, (int64_t[]){c4, c4, 3, 3});
            snprintf(name, sizeof name, "UpBlock1_%d.norm%d.rho", i, j);
            rho(b, name, c4, 0.9f);
        }
    }
    ug_b_weight(b, "DownBlock.1.weight", 4, (int64_t[]){ch, 3, 7, 7});
    ug_b_weight(b, "DownBlock.5.weight", 4, (int64_t[]){2 * ch, ch, 3, 3});
    ug_b_weight(b, "DownBlock.9.weight", 4, (int64_t[]){c4, 2 * ch, 3, 3});
    for (int i = 0; i < n_res; i++) {
        for (int j = 1; j <= 5; j += 4) {
            snprintf(name, sizeof name, "DownBlock.%d.conv_block.%d.weight", 12 + i, j);
            ug_b_weight(b, name, 4, (int64_t[]){c4, c4, 3, 3});
        }
    }
    ug_b_weight(b, "FC.0.weight", 2, (int64_t[]){c4, fc_in});
    ug_b_weight(b, "FC.2.weight", 2, (int64_t[]){c4, c4});
    const int up_conv[2] = {2, 7}, up_norm[2] = {3, 8};
    for (int i = 0; i < 2; i++) {
        int64_t cin = c4 >> i, cout = cin / 2;
        snprintf(name, sizeof name, "UpBlock2.%d.weight", up_conv[i]);
        ug_b_weight(b, name, 4, (int64_t[]){cout, cin, 3, 3});
        snprintf(name, sizeof name, "UpBlock2.%d.rho", up_norm[i]);
        rho(b, name, cout, 0.0f);
        snprintf(name, sizeof name, "UpBlock2.%d.gamma", up_norm[i]);
        ug_b_const(b, name, 4, (int64_t[]){1, cout, 1, 1}, 1.0f);
        snprintf(name, sizeof name, "UpBlock2.%d.beta", up_norm[i]);
        ug_b_const(b, name, 4, (int64_t[]){1, cout, 1, 1}, 0.0f);
    }
    ug_b_weight(b, "UpBlock2.11.weight", 4, (int64_t[]){3, ch, 7, 7});
}

static int conv_norm_relu(ug_builder *b, int x, int w, int k, int stride, int pad)
{
    x = ug_b_pad(b, x, pad);
    x = ug_b_conv(b, x, w, -1, k, stride);
    x = ug_b_inorm(b, x, 1e-5f);
    return ug_b_unary(b, OP_RELU, x);
}

static void build_graph(ug_builder *b, int n_res, int img, int light)
{
    int x = ug_b_input(b, "image", 3, img, img);

    /* Encoder. */
    x = conv_norm_relu(b, x, ug_b_find(b, "DownBlock.1.weight"), 7, 1, 3);
    x = conv_norm_relu(b, x, ug_b_find(b, "DownBlock.5.weight"), 3, 2, 1);
    x = conv_norm_relu(b, x, ug_b_find(b, "DownBlock.9.weight"), 3, 2, 1);
    for (int i = 0; i < n_res; i++) {
        int r = conv_norm_relu(b, x, ug_b_find(b, "DownBlock.%d.conv_block.1.weight", 12 + i),
                               3, 1, 1);
        r = ug_b_pad(b, r, 1);
        r = ug_b_conv(b, r, ug_b_find(b, "DownBlock.%d.conv_block.5.weight", 12 + i), -1, 3, 1);
        r = ug_b_inorm(b, r, 1e-5f);
        x = ug_b_binary(b, OP_ADD, x, r);
    }

    /* CAM attention. */
    x = ug_b_cam(b, x, ug_b_find(b, "gap_fc.weight"), ug_b_find(b, "gmp_fc.weight"),
                 ug_b_find(b, "conv1x1.weight"), ug_b_find(b, "conv1x1.bias"), 0);

    /* gamma and beta of every adaILN, from one MLP. */
    int h = light ? ug_b_unary(b, OP_GAP, x) : x;
    h = ug_b_unary(b, OP_RELU, ug_b_linear(b, h, ug_b_find(b, "FC.0.weight"), -1));
    h = ug_b_unary(b, OP_RELU, ug_b_linear(b, h, ug_b_find(b, "FC.2.weight"), -1));
    int gamma = ug_b_linear(b, h, ug_b_find(b, "gamma.weight"), -1);
    int beta = ug_b_linear(b, h, ug_b_find(b, "beta.weight"), -1);

    /* Decoder: adaILN residual blocks, then two upsampling stages with ILN. */
    for (int i = 1; i <= n_res; i++) {
        int r = x;
        for (int j = 1; j <= 2; j++) {
            r = ug_b_pad(b, r, 1);
            r = ug_b_conv(b, r, ug_b_find(b, "UpBlock1_%d.conv%d.weight", i, j), -1, 3, 1);
            r = ug_b_linnorm(b, r, ug_b_find(b, "UpBlock1_%d.norm%d.rho", i, j), gamma, beta,
                             -1, -1, 1e-5f);
            if (j == 1)
                r = ug_b_unary(b, OP_RELU, r);
        }
        x = ug_b_binary(b, OP_ADD, x, r);
    }
    const int up_conv[2] = {2, 7}, up_norm[2] = {3, 8};
    for (int i = 0; i < 2; i++) {
        x = ug_b_unary(b, OP_UP2, x);
        x = ug_b_pad(b, x, 1);
        x = ug_b_conv(b, x, ug_b_find(b, "UpBlock2.%d.weight", up_conv[i]), -1, 3, 1);
        x = ug_b_linnorm(b, x, ug_b_find(b, "UpBlock2.%d.rho", up_norm[i]), -1, -1,
                         ug_b_find(b, "UpBlock2.%d.gamma", up_norm[i]),
                         ug_b_find(b, "UpBlock2.%d.beta", up_norm[i]), 1e-5f);
        x = ug_b_unary(b, OP_RELU, x);
    }
    x = ug_b_pad(b, x, 3);
    x = ug_b_conv(b, x, ug_b_find(b, "UpBlock2.11.weight"), -1, 7, 1);
    ug_b_output(b, UG_OUT_IMAGE, ug_b_unary(b, OP_TANH, x));
}

int ug_build_generator(ug_net *net, int ch, int n_res, int img, int light, ug_error *err)
{
    if (ch < 1)
        return ug_fail(err, "ch must be at least 1 (got %d)", ch);
    if (n_res < 1)
        return ug_fail(err, "n_res must be at least 1 (got %d)", n_res);
    if (img < 8 || img % 4 != 0)
        return ug_fail(err, "img_size must be a multiple of 4 and at least 8 (got %d)", img);
    ug_net_init(net);
    ug_builder b = {net, err, 0};
    add_params(&b, ch, n_res, img, light);
    if (b.failed || ug_net_alloc(net, err) < 0)
        goto fail;
    build_graph(&b, n_res, img, light);
    if (b.failed)
        goto fail;
    return 0;
fail:
    ug_net_free(net);
    return -1;
}
