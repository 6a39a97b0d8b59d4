/* U-GAT-IT as a model family (see family.h). */
#include "model/model.h"
#include "model/ugatit/ugatit.h"

static const char *const net_names[UG_N_NETS] = {"genA2B", "genB2A", "disGA",
                                                 "disGB",  "disLA",  "disLB"};

static const char *const loss_names[UG_N_LOSSES] = {
    "D_ad_loss_GA", "D_ad_cam_loss_GA", "D_ad_loss_LA", "D_ad_cam_loss_LA",
    "D_ad_loss_GB", "D_ad_cam_loss_GB", "D_ad_loss_LB", "D_ad_cam_loss_LB",
    "D_loss_A", "D_loss_B", "Discriminator_loss",
    "G_ad_loss_GA", "G_ad_cam_loss_GA", "G_ad_loss_LA", "G_ad_cam_loss_LA",
    "G_ad_loss_GB", "G_ad_cam_loss_GB", "G_ad_loss_LB", "G_ad_cam_loss_LB",
    "G_recon_loss_A", "G_recon_loss_B", "G_identity_loss_A", "G_identity_loss_B",
    "G_cam_loss_A", "G_cam_loss_B", "G_loss_A", "G_loss_B", "Generator_loss",
};

/* A lone state_dict is a generator A to B, whatever its name. */
static const char *single_group(const char *path)
{
    (void)path;
    return "genA2B";
}

static void config_default(ug_config *c, int img_size)
{
    ug_config_default(c);
    c->img_size = img_size;
}

static int build(ug_net *net, int i, const ug_config *c, ug_error *err)
{
    if (i <= UG_GEN_B2A)
        return ug_build_generator(net, c, err);
    int layers = i <= UG_DIS_GB ? c->dis_global : c->dis_local;
    return ug_build_discriminator(net, c->ch, layers, c->img_size, !c->no_cam_d, err);
}

/* The release's sample column for A2B: real A, then genB2A on it (the
 * identity A2A), genA2B on it (A2B) and genB2A on that (the cycle A2B2A),
 * each after its heat map; without CAM the heat maps are left out. */
static const ug_sample_row rows_cam[7] = {
    {UG_ROW_REAL, 0, 0},    {UG_ROW_HEATMAP, 2, 0}, {UG_ROW_IMAGE, 0, 1},
    {UG_ROW_HEATMAP, 4, 0}, {UG_ROW_IMAGE, 0, 0},   {UG_ROW_HEATMAP, 6, 0},
    {UG_ROW_IMAGE, 4, 1},
};
static const ug_sample_row rows_plain[4] = {
    {UG_ROW_REAL, 0, 0},
    {UG_ROW_IMAGE, 0, 1},
    {UG_ROW_IMAGE, 0, 0},
    {UG_ROW_IMAGE, 2, 1},
};

static int sample_rows(const ug_config *c, const ug_sample_row **rows)
{
    *rows = c->no_cam_g ? rows_plain : rows_cam;
    return c->no_cam_g ? 4 : 7;
}

static int translate(ug_model *m, ug_direction dir, const float *images, int N, float *out,
                     float *cam_logit, float *heatmap, ug_error *err)
{
    return ug_model_run(m, m->fam->translate_net[dir == UG_B2A], images, N, out, cam_logit,
                        heatmap, err);
}

static void describe(const ug_config *c, ug_kv_lines *out)
{
    ug_kv_line(out, "img_size", "%d", c->img_size);
    ug_kv_line(out, "ch", "%d", c->ch);
    ug_kv_line(out, "n_res", "%d", c->n_res);
    ug_kv_line(out, "model", "%s, norm %s, CAM in G %s, in D %s", c->light ? "light" : "full",
               ug_norm_name(c->norm), c->no_cam_g ? "no" : "yes", c->no_cam_d ? "no" : "yes");
    ug_kv_line(out, "discriminator layers", "%d global, %d local", c->dis_global, c->dis_local);
}

const ug_family ug_family_ugatit = {
    .name = "ugatit",
    .title = "U-GAT-IT",
    .format_version = 1,
    .n_nets = UG_N_NETS,
    .net_names = net_names,
    .translate_nets = UG_GENERATORS,
    .single_group = single_group,
    .config_default = config_default,
    .build = build,
    .config_write = ug_ugatit_config_write,
    .config_read = ug_ugatit_config_read,
    .nets_in_file = ug_ugatit_nets_in_file,
    .lr = ug_ugatit_lr,
    .pipeline = &ug_pipeline_release,
    .n_losses = UG_N_LOSSES,
    .loss_names = loss_names,
    .d_loss = UG_D_LOSS,
    .g_loss = UG_G_LOSS,
    .step = ug_ugatit_step,
    .sample_rows = sample_rows,
    .translate_net = {UG_GEN_A2B, UG_GEN_B2A},
    .translate = translate,
    .describe = describe,
};
