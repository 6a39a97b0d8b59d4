/* CycleGAN's NLayerDiscriminator ("70x70 PatchGAN" at 3 layers): 4x4
 * convolutions with zero padding 1, stride 2 but for the last two; the
 * first without a norm, the others InstanceNorm without affine, each
 * followed by LeakyReLU 0.2; a last convolution to one logit per patch, no
 * sigmoid (LSGAN takes the raw values). */
#include <stdio.h>

#include "model/cyclegan/cyclegan.h"
#include "nn/build.h"

/* Filters of layer n (0 the first, n_layers the stride-1 one): ndf times
 * min(2^n, 8). */
static int64_t filters(int64_t ndf, int n) { return ndf * (n < 3 ? 1 << n : 8); }

/* The Sequential index of layer n's convolution, and of the last one. */
static int conv_index(int n) { return n == 0 ? 0 : 3 * n - 1; }

static void add_params(ug_builder *b, const ug_config *c)
{
    const int64_t ndf = c->ch;
    const int n_layers = c->dis_global;
    char name[UG_NAME_MAX];
    for (int n = 0; n <= n_layers + 1; n++) {
        int64_t in = n == 0 ? 3 : filters(ndf, n - 1), out = n > n_layers ? 1 : filters(ndf, n);
        snprintf(name, sizeof name, "model.%d.weight", conv_index(n));
        ug_b_normal_weight(b, name, 4, (int64_t[]){out, in, 4, 4}, CG_INIT_STD);
        snprintf(name, sizeof name, "model.%d.bias", conv_index(n));
        ug_b_const(b, name, 1, &out, 0.0f);
    }
}

static void build_graph(ug_builder *b, const ug_config *c)
{
    const int pad[4] = {1, 1, 1, 1}, n_layers = c->dis_global;
    int x = ug_b_input(b, "image", 3, c->img_size, c->img_size);
    for (int n = 0; n <= n_layers + 1; n++) {
        int w = ug_b_find(b, "model.%d.weight", conv_index(n));
        int bias = ug_b_find(b, "model.%d.bias", conv_index(n));
        x = ug_b_conv_zpad(b, x, w, bias, 4, 4, n < n_layers ? 2 : 1, pad);
        if (n > n_layers)
            break;
        if (n > 0)
            x = ug_b_inorm(b, x, 1e-5f);
        x = ug_b_lrelu(b, x, 0.2f);
    }
    ug_b_output(b, UG_OUT_IMAGE, x);
}

int cg_build_discriminator(ug_net *net, const ug_config *c, ug_error *err)
{
    int n_layers = c->dis_global;
    if (c->ch < 1)
        return ug_fail(err, "ch must be at least 1 (got %d)", c->ch);
    if (n_layers < 1 || n_layers > 8)
        return ug_fail(err, "a PatchGAN discriminator needs 1 to 8 layers (got %d)", n_layers);
    int in_graph;
    if (ug_b_build(net, c, add_params, build_graph, &in_graph, err) == 0)
        return 0;
    if (in_graph)
        ug_error_prefix(err, "PatchGAN discriminator with %d layers at img_size %d", n_layers,
                        c->img_size);
    return -1;
}
