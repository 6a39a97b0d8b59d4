/* MUNIT as a model family (see family.h). */
#include "model/munit/munit.h"
#include "model/unit/unit.h"

static const char *const net_names[MU_N_NETS] = {"a.enc_style", "a.enc_content", "a",
                                                 "b.enc_style", "b.enc_content", "b",
                                                 "dis_a",       "dis_b"};

static const char *const loss_names[MU_N_LOSSES] = {
    "dis_a",           "dis_b",           "gen_adv_a",       "gen_adv_b",
    "gen_recon_x_a",   "gen_recon_x_b",   "gen_recon_s_a",   "gen_recon_s_b",
    "gen_recon_c_a",   "gen_recon_c_b",   "gen_cycrecon_x_a", "gen_cycrecon_x_b",
    "dis_total",       "gen_total",
};

static int build(ug_net *net, int i, const ug_config *c, ug_error *err)
{
    switch (i) {
    case MU_STYLE_A:
    case MU_STYLE_B:
        return mu_build_style_encoder(net, c, err);
    case MU_CONTENT_A:
    case MU_CONTENT_B:
        return un_build_encoder(net, c, err);
    case MU_GEN_A:
    case MU_GEN_B:
        return mu_build_decoder(net, c, err);
    default:
        return un_build_discriminator(net, c, err);
    }
}

/* A column: the real image, its translations with three drawn style codes,
 * and the first translated back (trainer.sample shows several styles). */
static const ug_sample_row rows[5] = {
    {UG_ROW_REAL, 0, 0},   {UG_ROW_STYLED, 0, 0}, {UG_ROW_STYLED, 0, 1},
    {UG_ROW_STYLED, 0, 2}, {UG_ROW_IMAGE, 1, 1},
};

static int sample_rows(const ug_config *c, const ug_sample_row **out)
{
    (void)c;
    *out = rows;
    return 5;
}

static int style_size(const ug_config *c) { return c->style_dim; }

static void describe(const ug_config *c, ug_kv_lines *out)
{
    ug_kv_line(out, "img_size", "%d", c->img_size);
    ug_kv_line(out, "gen and dis dim", "%d", c->ch);
    ug_kv_line(out, "generator", "AdaINGen, %d residual blocks", c->n_res);
    ug_kv_line(out, "style_dim, mlp_dim", "%d, %d", c->style_dim, c->mlp_dim);
    ug_kv_line(out, "discriminator", "MsImageDis, %d layers, %d scales", c->dis_global,
               c->dis_local);
}

const ug_family ug_family_munit = {
    .name = "munit",
    .title = "MUNIT",
    .format_version = 1,
    .n_nets = MU_N_NETS,
    .net_names = net_names,
    .translate_nets = MU_GENERATORS,
    .open_folder = mu_open_folder,
    .write_folder = mu_write_folder,
    .config_default = mu_config_default,
    .build = build,
    .config_write = mu_config_write,
    .config_read = mu_config_read,
    .nets_in_file = mu_nets_in_file,
    .train_defaults = mu_train_defaults,
    .lr = un_lr,
    .state_new = mu_styles_new,
    .state_free = un_noise_free,
    .state_save = un_noise_save,
    .state_load = un_noise_load,
    .pipeline = &un_pipeline,
    .n_losses = MU_N_LOSSES,
    .loss_names = loss_names,
    .d_loss = MU_LOSS_D,
    .g_loss = MU_LOSS_G,
    .step = mu_step,
    .sample_rows = sample_rows,
    .translate_net = {MU_GEN_B, MU_GEN_A},
    .translate = mu_translate,
    .style_size = style_size,
    .translate_style = mu_translate_style,
    .encode_style = mu_encode_style,
    .describe = describe,
};
