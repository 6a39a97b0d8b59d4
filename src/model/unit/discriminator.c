/* UNIT's MsImageDis (the official networks.py, shared with MUNIT): at each
 * of num_scales scales, n_layer 4x4 stride-2 convolutions on a reflection
 * padding of 1, each followed by LeakyReLU 0.2 (norm 'none'), then a 1x1
 * convolution to one logit per patch; between scales the image is
 * down-sampled by AvgPool2d(3, 2, 1, count_include_pad=False). The keys are
 * cnns.S.L.conv.{weight,bias} and cnns.S.N.{weight,bias}; every weight is
 * drawn from N(0, 0.02), biases 0 (weights_init('gaussian')). */
#include <stdio.h>

#include "model/unit/unit.h"
#include "nn/build.h"

const char *un_scale_output(int s)
{
    static const char *const names[UN_MAX_SCALES] = {"scale0", "scale1", "scale2",
                                                     "scale3"};
    return s >= 0 && s < UN_MAX_SCALES ? names[s] : NULL;
}

static void add_params(ug_builder *b, const ug_config *c)
{
    char name[UG_NAME_MAX];
    for (int s = 0; s < c->dis_local; s++) {
        int64_t in = 3, dim = c->ch;
        for (int l = 0; l < c->dis_global; l++, in = dim, dim *= 2) {
            snprintf(name, sizeof name, "cnns.%d.%d.conv.weight", s, l);
            ug_b_normal_weight(b, name, 4, (int64_t[]){dim, in, 4, 4}, UN_DIS_INIT_STD);
            snprintf(name, sizeof name, "cnns.%d.%d.conv.bias", s, l);
            ug_b_const(b, name, 1, &dim, 0.0f);
        }
        const int64_t one = 1;
        snprintf(name, sizeof name, "cnns.%d.%d.weight", s, c->dis_global);
        ug_b_normal_weight(b, name, 4, (int64_t[]){1, in, 1, 1}, UN_DIS_INIT_STD);
        snprintf(name, sizeof name, "cnns.%d.%d.bias", s, c->dis_global);
        ug_b_const(b, name, 1, &one, 0.0f);
    }
}

static void build_graph(ug_builder *b, const ug_config *c)
{
    int x = ug_b_input(b, "image", 3, c->img_size, c->img_size);
    for (int s = 0; s < c->dis_local; s++) {
        int y = x;
        for (int l = 0; l < c->dis_global; l++) {
            int w = ug_b_find(b, "cnns.%d.%d.conv.weight", s, l);
            int bias = ug_b_find(b, "cnns.%d.%d.conv.bias", s, l);
            y = ug_b_lrelu(b, ug_b_conv(b, ug_b_pad(b, y, 1), w, bias, 4, 2), 0.2f);
        }
        y = ug_b_conv(b, y, ug_b_find(b, "cnns.%d.%d.weight", s, c->dis_global),
                      ug_b_find(b, "cnns.%d.%d.bias", s, c->dis_global), 1, 1);
        ug_b_output(b, un_scale_output(s), y);
        if (s + 1 < c->dis_local)
            x = ug_b_pool(b, OP_AVGPOOL, x, 3, 3, 2, 1, 0);
    }
}

int un_build_discriminator(ug_net *net, const ug_config *c, ug_error *err)
{
    if (c->ch < 1)
        return ug_fail(err, "ch (dis dim) must be at least 1 (got %d)", c->ch);
    if (c->dis_global < 1 || c->dis_global > 8)
        return ug_fail(err, "n_layer must be 1 to 8 (got %d)", c->dis_global);
    if (c->dis_local < 1 || c->dis_local > UN_MAX_SCALES)
        return ug_fail(err, "num_scales must be 1 to %d (got %d)", UN_MAX_SCALES, c->dis_local);
    int in_graph;
    if (ug_b_build(net, c, add_params, build_graph, &in_graph, err) == 0)
        return 0;
    if (in_graph)
        ug_error_prefix(err, "MsImageDis with %d layers at %d scales at img_size %d",
                        c->dis_global, c->dis_local, c->img_size);
    return -1;
}
