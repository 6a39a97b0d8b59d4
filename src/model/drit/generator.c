/* G_concat (gen, --concat 1): dec_share, one INSResBlock shared by both
 * domains; then per domain, each stage fed its input with the attribute
 * code tiled over the plane as 8 more channels (features first):
 * decA1 = three INSResBlocks, decA2 and decA3 = ReLUINSConvTranspose2d
 * (a 3x3 stride-2 transposed convolution, DRIT's LayerNorm, ReLU; no
 * InstanceNorm despite the name), decA4 = a 1x1 transposed convolution to 3
 * channels and tanh. Registration order: dec_share, decA1..4, decB1..4.
 * Transposed-convolution biases have PyTorch's default bound from
 * weight.size(1) * k * k (the output channels). */
#include <stdio.h>

#include "model/drit/drit.h"

/* The channels of the stages at base ch: decX1, the inputs and outputs of
 * decX2, decX3, and the input of decX4. */
typedef struct stages {
    int64_t c1, c2_in, c2_out, c3_in, c3_out, c4_in;
} stages;

static stages stage_channels(const ug_config *c)
{
    stages s;
    s.c1 = dr_content_ch(c) + DR_NZ;
    s.c2_in = s.c1 + DR_NZ, s.c2_out = s.c2_in / 2;
    s.c3_in = s.c2_out + DR_NZ, s.c3_out = s.c3_in / 2;
    s.c4_in = s.c3_out + DR_NZ;
    return s;
}

static void deconv_params(ug_builder *b, const char *prefix, int64_t in, int64_t out, int k)
{
    char name[UG_NAME_MAX];
    snprintf(name, sizeof name, "%s.weight", prefix);
    ug_b_normal_weight(b, name, 4, (int64_t[]){in, out, k, k}, DR_INIT_STD);
    snprintf(name, sizeof name, "%s.bias", prefix);
    ug_b_bias(b, name, out, out * k * k);
}

/* ReLUINSConvTranspose2d PREFIX: model.0 the transposed convolution,
 * model.1 the LayerNorm (weight 1, bias 0, each C x 1 x 1). */
static void up_params(ug_builder *b, const char *prefix, int64_t in, int64_t out)
{
    char name[UG_NAME_MAX];
    snprintf(name, sizeof name, "%s.model.0", prefix);
    deconv_params(b, name, in, out, 3);
    const int64_t shape[3] = {out, 1, 1};
    snprintf(name, sizeof name, "%s.model.1.weight", prefix);
    ug_b_const(b, name, 3, shape, 1.0f);
    snprintf(name, sizeof name, "%s.model.1.bias", prefix);
    ug_b_const(b, name, 3, shape, 0.0f);
}

static int up(ug_builder *b, int x, const char *prefix)
{
    int y = ug_b_deconv(b, x, ug_b_find(b, "%s.model.0.weight", prefix),
                        ug_b_find(b, "%s.model.0.bias", prefix), 3, 2, 1, 1);
    y = ug_b_dlnorm(b, y, ug_b_find(b, "%s.model.1.weight", prefix),
                    ug_b_find(b, "%s.model.1.bias", prefix), 1e-5f);
    return ug_b_unary(b, OP_RELU, y);
}

static void domain_params(ug_builder *b, char d, const stages *s)
{
    char name[UG_NAME_MAX];
    for (int i = 0; i < DR_N_RES; i++) {
        snprintf(name, sizeof name, "dec%c1.%d", d, i);
        dr_res_params(b, name, s->c1);
    }
    snprintf(name, sizeof name, "dec%c2.0", d);
    up_params(b, name, s->c2_in, s->c2_out);
    snprintf(name, sizeof name, "dec%c3.0", d);
    up_params(b, name, s->c3_in, s->c3_out);
    snprintf(name, sizeof name, "dec%c4.0", d);
    deconv_params(b, name, s->c4_in, 3, 1);
}

static void add_params(ug_builder *b, const ug_config *c)
{
    const stages s = stage_channels(c);
    dr_res_params(b, "dec_share.0", dr_content_ch(c));
    domain_params(b, 'A', &s);
    domain_params(b, 'B', &s);
}

static int domain_graph(ug_builder *b, int x, int z, char d)
{
    char name[UG_NAME_MAX];
    x = ug_b_binary(b, OP_CONCAT_TILED, dr_res(b, x, "dec_share.0"), z);
    for (int i = 0; i < DR_N_RES; i++) {
        snprintf(name, sizeof name, "dec%c1.%d", d, i);
        x = dr_res(b, x, name);
    }
    for (int i = 2; i <= 3; i++) {
        snprintf(name, sizeof name, "dec%c%d.0", d, i);
        x = up(b, ug_b_binary(b, OP_CONCAT_TILED, x, z), name);
    }
    x = ug_b_binary(b, OP_CONCAT_TILED, x, z);
    x = ug_b_deconv(b, x, ug_b_find(b, "dec%c4.0.weight", d), ug_b_find(b, "dec%c4.0.bias", d),
                    1, 1, 0, 0);
    return ug_b_unary(b, OP_TANH, x);
}

static void build_graph(ug_builder *b, const ug_config *c)
{
    const int C = dr_content_ch(c), S = dr_content_side(c);
    int ca = ug_b_input(b, DR_IN_CONTENT_A, C, S, S), za = ug_b_input(b, DR_IN_Z_A, DR_NZ, 1, 1);
    int cb = ug_b_input(b, DR_IN_CONTENT_B, C, S, S), zb = ug_b_input(b, DR_IN_Z_B, DR_NZ, 1, 1);
    ug_b_output(b, DR_OUT_IMAGE_A, domain_graph(b, ca, za, 'A'));
    ug_b_output(b, DR_OUT_IMAGE_B, domain_graph(b, cb, zb, 'B'));
}

int dr_build_generator(ug_net *net, const ug_config *c, ug_error *err)
{
    return dr_check(c, err) < 0 ? -1 : ug_b_build(net, c, add_params, build_graph, NULL, err);
}
