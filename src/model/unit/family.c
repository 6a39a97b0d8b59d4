/* UNIT as a model family (see family.h). */
#include "model/model.h"
#include "model/unit/unit.h"
#include "nn/tape.h"

static const char *const net_names[UN_N_NETS] = {"a.enc", "a.dec", "b.enc", "b.dec", "dis_a",
                                                 "dis_b"};

static const char *const loss_names[UN_N_LOSSES] = {
    "dis_a",          "dis_b",         "gen_adv_a",       "gen_adv_b",     "gen_recon_x_a",
    "gen_recon_x_b",  "gen_recon_kl_a", "gen_recon_kl_b", "gen_cyc_x_a",   "gen_cyc_x_b",
    "gen_recon_kl_cyc_aba", "gen_recon_kl_cyc_bab", "dis_total", "gen_total",
};

static int build(ug_net *net, int i, const ug_config *c, ug_error *err)
{
    switch (i) {
    case UN_ENC_A:
    case UN_ENC_B:
        return un_build_encoder(net, c, err);
    case UN_DEC_A:
    case UN_DEC_B:
        return un_build_decoder(net, c, err);
    default:
        return un_build_discriminator(net, c, err);
    }
}

/* trainer.sample / test.py: the source domain's encoder without noise,
 * the target domain's decoder. */
static int translate(ug_model *m, ug_direction dir, const float *images, int N, float *out,
                     float *cam_logit, float *heatmap, ug_error *err)
{
    if (cam_logit || heatmap)
        return ug_fail(err, "a UNIT generator has no CAM attention, so no heat map");
    const int enc = dir == UG_A2B ? UN_ENC_A : UN_ENC_B;
    const int dec = dir == UG_A2B ? UN_DEC_B : UN_DEC_A;
    for (int net = enc; net <= dec; net += dec - enc)
        if (!ug_model_has(m, net))
            return ug_fail(err, "the checkpoint holds no %s network", m->fam->net_names[net]);
    ug_tape te, td;
    ug_arena_reset(&m->arena);
    const ug_backend *be = m->k->be;
    const float *x = images;
    const size_t in_bytes = (size_t)N * 3 * m->cfg.img_size * m->cfg.img_size * sizeof(float);
    if (!be->host_memory) {
        float *up = ug_arena_alloc(&m->arena, in_bytes);
        if (!up)
            return ug_fail(err, "out of memory for the input images");
        be->from_host(up, images, in_bytes);
        x = up;
    }
    if (ug_tape_forward_nograd(&te, m->k, &m->arena, &m->net[enc], &x, N, UG_EVAL, err) < 0)
        return -1;
    const float *h = ug_tape_output(&te, UG_OUT_IMAGE);
    if (ug_tape_forward_nograd(&td, m->k, &m->arena, &m->net[dec], &h, N, UG_EVAL, err) < 0)
        return -1;
    be->to_host(out, ug_tape_output(&td, UG_OUT_IMAGE), in_bytes);
    return 0;
}

static void describe(const ug_config *c, ug_kv_lines *out)
{
    ug_kv_line(out, "img_size", "%d", c->img_size);
    ug_kv_line(out, "gen and dis dim", "%d", c->ch);
    ug_kv_line(out, "generator", "VAEGen, %d residual blocks", c->n_res);
    ug_kv_line(out, "discriminator", "MsImageDis, %d layers, %d scales", c->dis_global,
               c->dis_local);
}

const ug_family ug_family_unit = {
    .name = "unit",
    .title = "UNIT",
    .format_version = 1,
    .n_nets = UN_N_NETS,
    .net_names = net_names,
    .translate_nets = UN_GENERATORS,
    .open_folder = un_open_folder,
    .write_folder = un_write_folder,
    .config_default = un_config_default,
    .build = build,
    .config_write = un_config_write,
    .config_read = un_config_read,
    .nets_in_file = un_nets_in_file,
    .train_defaults = un_train_defaults,
    .lr = un_lr,
    .state_new = un_noise_new,
    .state_free = un_noise_free,
    .state_save = un_noise_save,
    .state_load = un_noise_load,
    .pipeline = &un_pipeline,
    .n_losses = UN_N_LOSSES,
    .loss_names = loss_names,
    .d_loss = UN_LOSS_D,
    .g_loss = UN_LOSS_G,
    .step = un_step,
    .sample_rows = ug_family_rows_cycle,
    .translate_net = {UN_DEC_B, UN_DEC_A},
    .translate = translate,
    .describe = describe,
};
