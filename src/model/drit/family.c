/* DRIT as a model family (see family.h). */
#include <stdlib.h>

#include "model/drit/drit.h"

static const char *const net_names[DR_N_NETS] = {"enc_c", "enc_a", "gen",   "disA",
                                                 "disA2", "disB",  "disB2", "disContent"};

static const char *const loss_names[DR_N_LOSSES] = {
    "disA",     "disA2",    "disB",    "disB2",     "disContent", "gan_A_content",
    "gan_B_content", "gan_A", "gan_B", "kl_za_a",   "kl_za_b",    "kl_zc_a",
    "kl_zc_b",  "l1_cc_a",  "l1_cc_b", "l1_self_a", "l1_self_b",  "gan2_A",
    "gan2_B",   "gan2_A2",  "gan2_B2", "z_l1_a",    "z_l1_b",     "lz_AB",
    "lz_BA",    "dis_total", "gen_total",
};

static int build(ug_net *net, int i, const ug_config *c, ug_error *err)
{
    switch (i) {
    case DR_ENC_C:
        return dr_build_content(net, c, err);
    case DR_ENC_A:
        return dr_build_attribute(net, c, err);
    case DR_GEN:
        return dr_build_generator(net, c, err);
    case DR_DIS_C:
        return dr_build_content_dis(net, c, err);
    default:
        return dr_build_discriminator(net, c, err);
    }
}

/* test.py with one output per input: image i of a call takes code i drawn
 * from N(0, I) by our generator on seed 0 (the same codes every call). */
static int translate(ug_model *m, ug_direction dir, const float *images, int N, float *out,
                     float *cam_logit, float *heatmap, ug_error *err)
{
    if (cam_logit || heatmap)
        return ug_fail(err, "a DRIT generator has no CAM attention, so no heat map");
    float *z = malloc((size_t)N * DR_NZ * sizeof *z);
    if (!z)
        return ug_fail(err, "out of memory for %d attribute codes", N);
    int rc = ug_model_draw_styles(m, 0, N, z, err) < 0
                 ? -1
                 : dr_translate_codes(m, dir, images, N, z, out, err);
    free(z);
    return rc;
}

static int style_size(const ug_config *c)
{
    (void)c;
    return DR_NZ;
}

static void describe(const ug_config *c, ug_kv_lines *out)
{
    ug_kv_line(out, "crop_size", "%d", c->img_size);
    ug_kv_line(out, "base channels", "%d", c->ch);
    ug_kv_line(out, "generator", "concat 1, attribute code of %d", DR_NZ);
    ug_kv_line(out, "discriminators", "4 x MultiScaleDis (%d scales), Dis_content", c->dis_local);
}

const ug_family ug_family_drit = {
    .name = "drit",
    .title = "DRIT",
    .format_version = 1,
    .n_nets = DR_N_NETS,
    .net_names = net_names,
    .translate_nets = (1u << DR_ENC_C) | (1u << DR_ENC_A) | (1u << DR_GEN),
    .open_folder = NULL,
    .write_folder = NULL,
    .config_default = dr_config_default,
    .build = build,
    .config_write = dr_config_write,
    .config_read = dr_config_read,
    .nets_in_file = dr_nets_in_file,
    .train_defaults = dr_train_defaults,
    .lr = dr_lr,
    .state_new = dr_state_new,
    .state_free = dr_state_free,
    .state_save = dr_state_save,
    .state_load = dr_state_load,
    .pipeline = &dr_pipeline,
    .rank_batch = DR_BATCH,
    .n_losses = DR_N_LOSSES,
    .loss_names = loss_names,
    .d_loss = DR_LOSS_D,
    .g_loss = DR_LOSS_G,
    .step = dr_step,
    .sample_rows = ug_family_rows_cycle,
    .translate_net = {DR_GEN, DR_GEN},
    .translate = translate,
    .style_size = style_size,
    .translate_style = dr_translate_codes,
    .encode_style = dr_encode_style,
    .describe = describe,
};
