/* E_content (enc_c): per domain convA / convB = a 7x7 LeakyReLUConv2d, two
 * stride-2 ReLUINSConv2d, three INSResBlocks; then conv_share, one
 * INSResBlock shared by both domains, and the GaussianNoiseLayer, which adds
 * the noise inputs (N(0, I) from the trainer's generator in training, zeros
 * in evaluation). Registration order: conv_share, convA, convB. */
#include <stdio.h>

#include "model/drit/drit.h"

static void branch_params(ug_builder *b, const char *branch, int64_t ch)
{
    char name[UG_NAME_MAX];
    snprintf(name, sizeof name, "%s.0", branch);
    dr_block_params(b, name, ch, 3, 7);
    snprintf(name, sizeof name, "%s.1", branch);
    dr_block_params(b, name, 2 * ch, ch, 3);
    snprintf(name, sizeof name, "%s.2", branch);
    dr_block_params(b, name, 4 * ch, 2 * ch, 3);
    for (int i = 0; i < DR_N_RES; i++) {
        snprintf(name, sizeof name, "%s.%d", branch, 3 + i);
        dr_res_params(b, name, 4 * ch);
    }
}

static void add_params(ug_builder *b, const ug_config *c)
{
    dr_res_params(b, "conv_share.0", dr_content_ch(c));
    branch_params(b, "convA", c->ch);
    branch_params(b, "convB", c->ch);
}

static int branch(ug_builder *b, int x, const char *branch)
{
    char name[UG_NAME_MAX];
    snprintf(name, sizeof name, "%s.0", branch);
    x = dr_lrelu_conv(b, x, name, 7, 1, 3);
    for (int i = 1; i <= 2; i++) {
        snprintf(name, sizeof name, "%s.%d", branch, i);
        x = dr_ins_conv(b, x, name, 3, 2, 1);
    }
    for (int i = 0; i < DR_N_RES; i++) {
        snprintf(name, sizeof name, "%s.%d", branch, 3 + i);
        x = dr_res(b, x, name);
    }
    return x;
}

static void build_graph(ug_builder *b, const ug_config *c)
{
    const int S = c->img_size, C = dr_content_ch(c), CS = dr_content_side(c);
    int xa = ug_b_input(b, DR_IN_IMAGE_A, 3, S, S), xb = ug_b_input(b, DR_IN_IMAGE_B, 3, S, S);
    int na = ug_b_input(b, DR_IN_NOISE_A, C, CS, CS), nb = ug_b_input(b, DR_IN_NOISE_B, C, CS, CS);
    int ya = dr_res(b, branch(b, xa, "convA"), "conv_share.0");
    int yb = dr_res(b, branch(b, xb, "convB"), "conv_share.0");
    ug_b_output(b, DR_OUT_CONTENT_A, ug_b_binary(b, OP_ADD, ya, na));
    ug_b_output(b, DR_OUT_CONTENT_B, ug_b_binary(b, OP_ADD, yb, nb));
}

int dr_build_content(ug_net *net, const ug_config *c, ug_error *err)
{
    return dr_check(c, err) < 0 ? -1 : ug_b_build(net, c, add_params, build_graph, NULL, err);
}
