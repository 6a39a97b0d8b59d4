/* CycleGAN as a model family (see family.h). */
#include "model/model.h"
#include "model/cyclegan/cyclegan.h"

static const char *const net_names[CG_N_NETS] = {"G_A", "G_B", "D_A", "D_B"};

static const char *const loss_names[CG_N_LOSSES] = {
    "D_A", "G_A", "cycle_A", "idt_A", "D_B", "G_B", "cycle_B", "idt_B", "D", "G",
};

static int build(ug_net *net, int i, const ug_config *c, ug_error *err)
{
    return i < CG_D_A ? cg_build_generator(net, c, err) : cg_build_discriminator(net, c, err);
}

static int translate(ug_model *m, ug_direction dir, const float *images, int N, float *out,
                     float *cam_logit, float *heatmap, ug_error *err)
{
    if (cam_logit || heatmap)
        return ug_fail(err, "a CycleGAN generator has no CAM attention, so no heat map");
    return ug_model_run(m, m->fam->translate_net[dir == UG_B2A], images, N, out, NULL, NULL,
                        err);
}

static void describe(const ug_config *c, ug_kv_lines *out)
{
    ug_kv_line(out, "img_size", "%d", c->img_size);
    ug_kv_line(out, "ngf = ndf", "%d", c->ch);
    ug_kv_line(out, "generator", "ResNet, %d blocks", c->n_res);
    ug_kv_line(out, "discriminator", "PatchGAN, %d layers", c->dis_global);
}

const ug_family ug_family_cyclegan = {
    .name = "cyclegan",
    .title = "CycleGAN",
    .format_version = 1,
    .n_nets = CG_N_NETS,
    .net_names = net_names,
    .translate_nets = CG_GENERATORS,
    .single_group = cg_single_group,
    .open_folder = cg_open_folder,
    .write_folder = cg_write_folder,
    .config_default = cg_config_default,
    .build = build,
    .config_write = cg_config_write,
    .config_read = cg_config_read,
    .nets_in_file = cg_nets_in_file,
    .train_defaults = cg_train_defaults,
    .lr = cg_lr,
    .state_new = cg_pools_new,
    .state_free = cg_pools_free,
    .state_save = cg_pools_save,
    .state_load = cg_pools_load,
    .pipeline = &cg_pipeline,
    .n_losses = CG_N_LOSSES,
    .loss_names = loss_names,
    .d_loss = CG_LOSS_D,
    .g_loss = CG_LOSS_G,
    .step = cg_step,
    .sample_rows = ug_family_rows_cycle,
    .translate_net = {CG_G_A, CG_G_B},
    .translate = translate,
    .describe = describe,
};
