/* The U-GAT-IT discriminator: strided 4x4 convolutions with spectral
 * normalisation and LeakyReLU, CAM attention, and a patch classifier. */
#include <stdio.h>

#include "model/ugatit/ugatit.h"
#include "nn/build.h"

/* Input channels of model layer j (0-based) and its output channels. */
static int64_t layer_in(int64_t ch, int j) { return j == 0 ? 3 : ch << (j - 1); }
static int64_t layer_out(int64_t ch, int j) { return ch << j; }

/* Parameters in the release's state_dict order: the CAM and the classifier
 * were registered before the model Sequential; spectral norm re-registers the
 * weight after the bias. */
static void add_params(ug_builder *b, int64_t ch, int n_layers, int cam)
{
    int64_t c = ch << (n_layers - 2);
    char name[UG_NAME_MAX];
    if (cam) {
        ug_b_sn_weight(b, "gap_fc.weight", 2, (int64_t[]){1, c});
        ug_b_sn_weight(b, "gmp_fc.weight", 2, (int64_t[]){1, c});
        ug_b_weight(b, "conv1x1.weight", 4, (int64_t[]){c, 2 * c, 1, 1});
        ug_b_bias(b, "conv1x1.bias", c, 2 * c);
    }
    ug_b_sn_weight(b, "conv.weight", 4, (int64_t[]){1, c, 4, 4});
    for (int j = 0; j <= n_layers - 2; j++) {
        snprintf(name, sizeof name, "model.%d.bias", 3 * j + 1);
        ug_b_bias(b, name, layer_out(ch, j), layer_in(ch, j) * 16);
        snprintf(name, sizeof name, "model.%d.weight", 3 * j + 1);
        ug_b_sn_weight(b, name, 4, (int64_t[]){layer_out(ch, j), layer_in(ch, j), 4, 4});
    }
}

static void build_graph(ug_builder *b, int n_layers, int img, int cam)
{
    int x = ug_b_input(b, "image", 3, img, img);
    /* n_layers - 2 convolutions halve the side, the last one of the model keeps it. */
    for (int j = 0; j <= n_layers - 2; j++) {
        int w = ug_b_find(b, "model.%d.weight_orig", 3 * j + 1);
        int bias = ug_b_find(b, "model.%d.bias", 3 * j + 1);
        x = ug_b_pad(b, x, 1);
        x = ug_b_conv(b, x, w, bias, 4, j < n_layers - 2 ? 2 : 1);
        x = ug_b_lrelu(b, x, 0.2f);
    }
    /* CAM attention: logits from the spectrally normalised gap_fc/gmp_fc,
     * re-weighting with their raw weight_orig (the release's quirk). Without
     * it (the ablation) the classifier takes the encoder's output. */
    if (cam)
        x = ug_b_cam(b, x, ug_b_find(b, "gap_fc.weight_orig"), ug_b_find(b, "gmp_fc.weight_orig"),
                 ug_b_find(b, "conv1x1.weight"), ug_b_find(b, "conv1x1.bias"), 1);
    x = ug_b_pad(b, x, 1);
    ug_b_output(b, UG_OUT_IMAGE, ug_b_conv(b, x, ug_b_find(b, "conv.weight_orig"), -1, 4, 1));
}

int ug_build_discriminator(ug_net *net, int ch, int n_layers, int img, int cam, ug_error *err)
{
    if (ch < 1)
        return ug_fail(err, "ch must be at least 1 (got %d)", ch);
    if (n_layers < 3 || n_layers > 12)
        return ug_fail(err, "a discriminator needs 3 to 12 layers (got %d)", n_layers);
    ug_net_init(net);
    ug_builder b = {net, err, 0};
    add_params(&b, ch, n_layers, cam);
    if (b.failed || ug_net_alloc(net, err) < 0)
        goto fail;
    build_graph(&b, n_layers, img, cam);
    if (b.failed) {
        ug_error_prefix(err, "discriminator with %d layers at img_size %d (needs at least %d)",
                        n_layers, img, 3 << (n_layers - 2));
        goto fail;
    }
    return 0;
fail:
    ug_net_free(net);
    return -1;
}
