/* DRIT's discriminators. MultiScaleDis (disA, disA2, disB, disB2): at each
 * of dis_scale scales four LeakyReLUConv2d (4x4, stride 2, reflection pad 1,
 * LeakyReLU 0.01, no norm whatever --dis_norm says) and a 1x1 convolution to
 * one logit per patch, keys Diss.S.L.model.1.* and Diss.S.4.*; between
 * scales AvgPool2d(3, 2, 1, count_include_pad=False). Dis_content
 * (disContent): three 7x7 stride-2 LeakyReLUConv2d with reflection pad 1, a
 * 4x4 one without padding and a 1x1 convolution, on the content code (at
 * crop 216 the code is 54x54 and the output 1x1). */
#include <stdio.h>

#include "model/drit/drit.h"

const char *dr_scale_output(int s)
{
    static const char *const names[DR_MAX_SCALES] = {"scale0", "scale1", "scale2", "scale3"};
    return s >= 0 && s < DR_MAX_SCALES ? names[s] : NULL;
}

static void image_params(ug_builder *b, const ug_config *c)
{
    char name[UG_NAME_MAX];
    for (int s = 0; s < c->dis_local; s++) {
        int64_t in = 3, dim = c->ch;
        for (int l = 0; l < DR_DIS_LAYERS; l++, in = dim, dim *= 2) {
            snprintf(name, sizeof name, "Diss.%d.%d", s, l);
            dr_block_params(b, name, dim, in, 4);
        }
        snprintf(name, sizeof name, "Diss.%d.%d", s, DR_DIS_LAYERS);
        dr_conv_params(b, name, 1, in, 1);
    }
}

static void image_graph(ug_builder *b, const ug_config *c)
{
    char name[UG_NAME_MAX];
    int x = ug_b_input(b, "image", 3, c->img_size, c->img_size);
    for (int s = 0; s < c->dis_local; s++) {
        int y = x;
        for (int l = 0; l < DR_DIS_LAYERS; l++) {
            snprintf(name, sizeof name, "Diss.%d.%d", s, l);
            y = dr_lrelu_conv(b, y, name, 4, 2, 1);
        }
        snprintf(name, sizeof name, "Diss.%d.%d", s, DR_DIS_LAYERS);
        ug_b_output(b, dr_scale_output(s), dr_conv(b, y, name, 1, 1, 0));
        if (s + 1 < c->dis_local)
            x = ug_b_pool(b, OP_AVGPOOL, x, 3, 3, 2, 1, 0);
    }
}

int dr_build_discriminator(ug_net *net, const ug_config *c, ug_error *err)
{
    if (dr_check(c, err) < 0)
        return -1;
    if (c->dis_local < 1 || c->dis_local > DR_MAX_SCALES)
        return ug_fail(err, "dis_scale must be 1 to %d (got %d)", DR_MAX_SCALES, c->dis_local);
    int in_graph;
    if (ug_b_build(net, c, image_params, image_graph, &in_graph, err) == 0)
        return 0;
    if (in_graph)
        ug_error_prefix(err, "MultiScaleDis at %d scales at crop %d", c->dis_local, c->img_size);
    return -1;
}

static void content_params(ug_builder *b, const ug_config *c)
{
    const int64_t C = dr_content_ch(c);
    for (int l = 0; l < 3; l++) {
        char name[UG_NAME_MAX];
        snprintf(name, sizeof name, "model.%d", l);
        dr_block_params(b, name, C, C, 7);
    }
    dr_block_params(b, "model.3", C, C, 4);
    dr_conv_params(b, "model.4", 1, C, 1);
}

static void content_graph(ug_builder *b, const ug_config *c)
{
    const int S = dr_content_side(c);
    int x = ug_b_input(b, "image", dr_content_ch(c), S, S);
    for (int l = 0; l < 3; l++) {
        char name[UG_NAME_MAX];
        snprintf(name, sizeof name, "model.%d", l);
        x = dr_lrelu_conv(b, x, name, 7, 2, 1);
    }
    x = dr_lrelu_conv(b, x, "model.3", 4, 1, 0);
    ug_b_output(b, UG_OUT_IMAGE, dr_conv(b, x, "model.4", 1, 1, 0));
}

int dr_build_content_dis(ug_net *net, const ug_config *c, ug_error *err)
{
    if (dr_check(c, err) < 0)
        return -1;
    int in_graph;
    if (ug_b_build(net, c, content_params, content_graph, &in_graph, err) == 0)
        return 0;
    if (in_graph)
        ug_error_prefix(err, "Dis_content at crop %d (its 7x7 stride-2 layers need a crop of "
                             "212 or more)", c->img_size);
    return -1;
}
