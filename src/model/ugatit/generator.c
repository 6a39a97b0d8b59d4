/* The U-GAT-IT generator (the release's ResnetGenerator): encoder, CAM
 * attention, gamma/beta MLP, AdaLIN residual decoder; and the paper's
 * ablations of it (the decoder's normalisation, no CAM), defined in the
 * README. */
#include <stdio.h>

#include "model/ugatit/ugatit.h"
#include "nn/build.h"

/* What one normalisation layer of the decoder is. */
typedef enum {
    DN_ADAILN,       /* the release's residual blocks: learned rho, gamma/beta from the MLP */
    DN_ILN,          /* the release's up-sampling: learned rho, gamma, beta */
    DN_ILN_FIXED,    /* ILN with rho fixed (IN: 1, LN: 0): learned gamma, beta */
    DN_ADAILN_FIXED, /* adaILN with rho fixed at 1 (AdaIN) */
    DN_GN,           /* GroupNorm: learned weight, bias */
} dnorm;

static dnorm residual_norm(ug_norm n)
{
    return n == UG_NORM_ADALIN  ? DN_ADAILN
           : n == UG_NORM_ADAIN ? DN_ADAILN_FIXED
           : n == UG_NORM_GN    ? DN_GN
                                : DN_ILN_FIXED;
}

static dnorm upsampling_norm(ug_norm n)
{
    return n == UG_NORM_ADALIN ? DN_ILN : n == UG_NORM_GN ? DN_GN : DN_ILN_FIXED;
}

/* Only AdaLIN and AdaIN take gamma and beta from the MLP. */
static int has_mlp(ug_norm n) { return n == UG_NORM_ADALIN || n == UG_NORM_ADAIN; }

/* A decoder norm's parameters under PREFIX, in the release's order, with
 * its start values: adaILN's rho 0.9; ILN's rho 0, gamma 1, beta 0. */
static void norm_params(ug_builder *b, const char *prefix, int64_t c, dnorm kind)
{
    const int64_t shape[4] = {1, c, 1, 1};
    char name[UG_NAME_MAX];
    if (kind == DN_ADAILN || kind == DN_ILN) {
        snprintf(name, sizeof name, "%s.rho", prefix);
        ug_b_clamp(b, ug_b_const(b, name, 4, shape, kind == DN_ADAILN ? 0.9f : 0.0f), 0, 1);
    }
    if (kind == DN_ILN || kind == DN_ILN_FIXED) {
        snprintf(name, sizeof name, "%s.gamma", prefix);
        ug_b_const(b, name, 4, shape, 1.0f);
        snprintf(name, sizeof name, "%s.beta", prefix);
        ug_b_const(b, name, 4, shape, 0.0f);
    }
    if (kind == DN_GN) {
        snprintf(name, sizeof name, "%s.weight", prefix);
        ug_b_const(b, name, 1, &c, 1.0f);
        snprintf(name, sizeof name, "%s.bias", prefix);
        ug_b_const(b, name, 1, &c, 0.0f);
    }
}

/* Parameters in the release's state_dict order, less what a variant does not build. */
static void add_params(ug_builder *b, const ug_config *cfg)
{
    int64_t ch = cfg->ch, c4 = 4 * ch, img = cfg->img_size;
    int64_t fc_in = cfg->light ? c4 : c4 * (img / 4) * (img / 4);
    char name[UG_NAME_MAX];
    if (!cfg->no_cam_g) {
        ug_b_weight(b, "gap_fc.weight", 2, (int64_t[]){1, c4});
        ug_b_weight(b, "gmp_fc.weight", 2, (int64_t[]){1, c4});
        ug_b_weight(b, "conv1x1.weight", 4, (int64_t[]){c4, 2 * c4, 1, 1});
        ug_b_bias(b, "conv1x1.bias", c4, 2 * c4);
    }
    if (has_mlp(cfg->norm)) {
        ug_b_weight(b, "gamma.weight", 2, (int64_t[]){c4, c4});
        ug_b_weight(b, "beta.weight", 2, (int64_t[]){c4, c4});
    }
    for (int i = 1; i <= cfg->n_res; i++) {
        for (int j = 1; j <= 2; j++) {
            snprintf(name, sizeof name, "UpBlock1_%d.conv%d.weight", i, j);
            ug_b_weight(b, name, 4, (int64_t[]){c4, c4, 3, 3});
            snprintf(name, sizeof name, "UpBlock1_%d.norm%d", i, j);
            norm_params(b, name, c4, residual_norm(cfg->norm));
        }
    }
    ug_b_weight(b, "DownBlock.1.weight", 4, (int64_t[]){ch, 3, 7, 7});
    ug_b_weight(b, "DownBlock.5.weight", 4, (int64_t[]){2 * ch, ch, 3, 3});
    ug_b_weight(b, "DownBlock.9.weight", 4, (int64_t[]){c4, 2 * ch, 3, 3});
    for (int i = 0; i < cfg->n_res; i++) {
        for (int j = 1; j <= 5; j += 4) {
            snprintf(name, sizeof name, "DownBlock.%d.conv_block.%d.weight", 12 + i, j);
            ug_b_weight(b, name, 4, (int64_t[]){c4, c4, 3, 3});
        }
    }
    if (has_mlp(cfg->norm)) {
        ug_b_weight(b, "FC.0.weight", 2, (int64_t[]){c4, fc_in});
        ug_b_weight(b, "FC.2.weight", 2, (int64_t[]){c4, c4});
    }
    const int up_conv[2] = {2, 7}, up_norm[2] = {3, 8};
    for (int i = 0; i < 2; i++) {
        int64_t cin = c4 >> i, cout = cin / 2;
        snprintf(name, sizeof name, "UpBlock2.%d.weight", up_conv[i]);
        ug_b_weight(b, name, 4, (int64_t[]){cout, cin, 3, 3});
        snprintf(name, sizeof name, "UpBlock2.%d", up_norm[i]);
        norm_params(b, name, cout, upsampling_norm(cfg->norm));
    }
    ug_b_weight(b, "UpBlock2.11.weight", 4, (int64_t[]){3, ch, 7, 7});
}

/* The largest divisor of c that is at most 32: the ablation's group count. */
static int groups_of(int c)
{
    int g = c < 32 ? c : 32;
    while (c % g)
        g--;
    return g;
}

/* A decoder norm node over x; gamma and beta are the MLP's output nodes. */
static int norm_node(ug_builder *b, int x, const char *prefix, dnorm kind, float fixed_rho,
                     int gamma, int beta)
{
    const float eps = 1e-5f;
    switch (kind) {
    case DN_ADAILN:
        return ug_b_linnorm(b, x, ug_b_find(b, "%s.rho", prefix), gamma, beta, -1, -1, eps);
    case DN_ILN:
        return ug_b_linnorm(b, x, ug_b_find(b, "%s.rho", prefix), -1, -1,
                            ug_b_find(b, "%s.gamma", prefix), ug_b_find(b, "%s.beta", prefix),
                            eps);
    case DN_ILN_FIXED:
        return ug_b_linnorm_fixed(b, x, fixed_rho, -1, -1, ug_b_find(b, "%s.gamma", prefix),
                                  ug_b_find(b, "%s.beta", prefix), eps);
    case DN_ADAILN_FIXED:
        return ug_b_linnorm_fixed(b, x, 1.0f, gamma, beta, -1, -1, eps);
    case DN_GN:
        return ug_b_groupnorm(b, x, groups_of(b->net->nodes[x].C),
                              ug_b_find(b, "%s.weight", prefix), ug_b_find(b, "%s.bias", prefix),
                              eps);
    }
    return -1;
}

static int conv_norm_relu(ug_builder *b, int x, int w, int k, int stride, int pad)
{
    x = ug_b_pad(b, x, pad);
    x = ug_b_conv(b, x, w, -1, k, stride);
    x = ug_b_inorm(b, x, 1e-5f);
    return ug_b_unary(b, OP_RELU, x);
}

static void build_graph(ug_builder *b, const ug_config *cfg)
{
    const float fixed_rho = cfg->norm == UG_NORM_LN ? 0.0f : 1.0f;
    char prefix[UG_NAME_MAX];
    int x = ug_b_input(b, "image", 3, cfg->img_size, cfg->img_size);

    /* Encoder. */
    x = conv_norm_relu(b, x, ug_b_find(b, "DownBlock.1.weight"), 7, 1, 3);
    x = conv_norm_relu(b, x, ug_b_find(b, "DownBlock.5.weight"), 3, 2, 1);
    x = conv_norm_relu(b, x, ug_b_find(b, "DownBlock.9.weight"), 3, 2, 1);
    for (int i = 0; i < cfg->n_res; i++) {
        int r = conv_norm_relu(b, x, ug_b_find(b, "DownBlock.%d.conv_block.1.weight", 12 + i),
                               3, 1, 1);
        r = ug_b_pad(b, r, 1);
        r = ug_b_conv(b, r, ug_b_find(b, "DownBlock.%d.conv_block.5.weight", 12 + i), -1, 3, 1);
        r = ug_b_inorm(b, r, 1e-5f);
        x = ug_b_binary(b, OP_ADD, x, r);
    }

    /* CAM attention; without it the decoder takes the encoder's output. */
    if (!cfg->no_cam_g)
        x = ug_b_cam(b, x, ug_b_find(b, "gap_fc.weight"), ug_b_find(b, "gmp_fc.weight"),
                     ug_b_find(b, "conv1x1.weight"), ug_b_find(b, "conv1x1.bias"), 0);

    /* gamma and beta of every adaILN, from one MLP. */
    int gamma = -1, beta = -1;
    if (has_mlp(cfg->norm)) {
        int h = cfg->light ? ug_b_unary(b, OP_GAP, x) : x;
        h = ug_b_unary(b, OP_RELU, ug_b_linear(b, h, ug_b_find(b, "FC.0.weight"), -1));
        h = ug_b_unary(b, OP_RELU, ug_b_linear(b, h, ug_b_find(b, "FC.2.weight"), -1));
        gamma = ug_b_linear(b, h, ug_b_find(b, "gamma.weight"), -1);
        beta = ug_b_linear(b, h, ug_b_find(b, "beta.weight"), -1);
    }

    /* Decoder: residual blocks, then two up-sampling stages. */
    for (int i = 1; i <= cfg->n_res; i++) {
        int r = x;
        for (int j = 1; j <= 2; j++) {
            r = ug_b_pad(b, r, 1);
            r = ug_b_conv(b, r, ug_b_find(b, "UpBlock1_%d.conv%d.weight", i, j), -1, 3, 1);
            snprintf(prefix, sizeof prefix, "UpBlock1_%d.norm%d", i, j);
            r = norm_node(b, r, prefix, residual_norm(cfg->norm), fixed_rho, gamma, beta);
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
        snprintf(prefix, sizeof prefix, "UpBlock2.%d", up_norm[i]);
        x = norm_node(b, x, prefix, upsampling_norm(cfg->norm), fixed_rho, -1, -1);
        x = ug_b_unary(b, OP_RELU, x);
    }
    x = ug_b_pad(b, x, 3);
    x = ug_b_conv(b, x, ug_b_find(b, "UpBlock2.11.weight"), -1, 7, 1);
    ug_b_output(b, UG_OUT_IMAGE, ug_b_unary(b, OP_TANH, x));
}

int ug_build_generator(ug_net *net, const ug_config *c, ug_error *err)
{
    if (c->ch < 1)
        return ug_fail(err, "ch must be at least 1 (got %d)", c->ch);
    if (c->n_res < 1)
        return ug_fail(err, "n_res must be at least 1 (got %d)", c->n_res);
    if (c->img_size < 8 || c->img_size % 4 != 0)
        return ug_fail(err, "img_size must be a multiple of 4 and at least 8 (got %d)",
                       c->img_size);
    if ((int)c->norm < 0 || c->norm >= UG_N_NORMS)
        return ug_fail(err, "unknown decoder norm %d", (int)c->norm);
    return ug_b_build(net, c, add_params, build_graph, NULL, err);
}
