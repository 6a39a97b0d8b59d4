/* MUNIT's configuration in checkpoint metadata, inferred from the tensor
 * shapes of a file without it, and its official training configuration. */
#include <stdio.h>
#include <string.h>

#include "model/checkpoint.h"
#include "model/munit/munit.h"
#include "model/unit/unit.h"

void mu_config_default(ug_config *c, int img_size)
{
    memset(c, 0, sizeof *c);
    c->ch = UN_DIM;
    c->n_res = UN_N_RES;
    c->img_size = img_size;
    c->dis_global = UN_N_LAYER;
    c->dis_local = UN_NUM_SCALES;
    c->style_dim = MU_STYLE_DIM;
    c->mlp_dim = MU_MLP_DIM;
    c->family = ug_family_munit.name;
}

/* The official configs (edges2handbags_folder.yaml, train.py's default):
 * UNIT's optimiser and schedule, gan_w 1, recon_x_w 10, recon_s_w 1,
 * recon_c_w 1, recon_x_cyc_w 0. */
void mu_train_defaults(ug_train_config *tc)
{
    un_train_defaults(tc);
    tc->cycle_weight = 0;
    tc->recon_kl_w = 0;
    tc->recon_kl_cyc_w = 0;
    tc->recon_s_w = 1;
    tc->recon_c_w = 1;
}

static const char *const keys[7] = {"ch", "n_res", "img_size", "n_layer", "num_scales",
                                    "style_dim", "mlp_dim"};

void mu_config_write(ug_ckpt_writer *w, const ug_config *c)
{
    const int v[7] = {c->ch, c->n_res, c->img_size, c->dis_global, c->dis_local, c->style_dim,
                      c->mlp_dim};
    for (int i = 0; i < 7; i++)
        ug_cw_meta(w, keys[i], "%d", v[i]);
}

static int config_from_meta(const ug_st_file *f, const char *path, ug_config *c, ug_error *err)
{
    long v[7];
    for (int i = 0; i < 7; i++) {
        if (ug_ckpt_meta_long(f, path, keys[i], &v[i], err) < 0)
            return -1;
        if (v[i] < 1 || v[i] > 65536)
            return ug_fail(err, "%s: metadata '%s' = %ld is out of range", path, keys[i], v[i]);
    }
    mu_config_default(c, (int)v[2]);
    c->ch = (int)v[0], c->n_res = (int)v[1], c->dis_global = (int)v[3], c->dis_local = (int)v[4];
    c->style_dim = (int)v[5], c->mlp_dim = (int)v[6];
    return 0;
}

/* The shape of tensor name as rows x cols (a 2- or 4-dimensional weight). */
static int weight_shape(const ug_st_file *f, const char *path, const char *name, int ndim,
                        int64_t *rows, int64_t *cols, ug_error *err)
{
    const ug_st_tensor *t = ug_ckpt_need(f, path, name, ndim, err);
    if (!t)
        return -1;
    if (t->shape[0] < 1 || t->shape[0] > 65536 || t->shape[1] < 1 || t->shape[1] > 65536)
        return ug_fail(err, "%s: '%s' has a shape out of range", path, name);
    *rows = t->shape[0], *cols = t->shape[1];
    return 0;
}

static int config_from_shapes(const ug_st_file *f, const char *path, const ug_config *hint,
                              ug_config *c, ug_error *err)
{
    const char *g = ug_st_find(f, "a.enc_content.model.0.conv.weight")   ? "a"
                    : ug_st_find(f, "b.enc_content.model.0.conv.weight") ? "b"
                                                                         : NULL;
    if (!g)
        return ug_fail(err, "%s: no MUNIT content encoder in it (no a.enc_content.model.0.conv."
                            "weight or b.enc_content.model.0.conv.weight)", path);
    char name[128];
    int64_t dim, in, sd, mlp;
    snprintf(name, sizeof name, "%s.enc_content.model.0.conv.weight", g);
    if (weight_shape(f, path, name, 4, &dim, &in, err) < 0)
        return -1;
    const ug_st_tensor *t = ug_st_find(f, name);
    if (in != 3 || t->shape[2] != 7 || t->shape[3] != 7)
        return ug_fail(err, "%s: '%s' has shape (%lld, %lld, %lld, %lld), not (dim, 3, 7, 7) "
                            "of a MUNIT content encoder", path, name, (long long)dim,
                       (long long)in, (long long)t->shape[2], (long long)t->shape[3]);
    snprintf(name, sizeof name, "%s.mlp.model.0.fc.weight", g);
    if (weight_shape(f, path, name, 2, &mlp, &sd, err) < 0)
        return -1;
    /* Shapes do not tell the image size: the hint's, else the official 256. */
    mu_config_default(c, hint && hint->img_size > 0 ? hint->img_size : 256);
    c->ch = (int)dim, c->style_dim = (int)sd, c->mlp_dim = (int)mlp;
    for (c->n_res = 0;; c->n_res++) {
        snprintf(name, sizeof name, "%s.enc_content.model.3.model.%d.model.0.conv.weight", g,
                 c->n_res);
        if (!ug_st_find(f, name))
            break;
    }
    if (c->n_res == 0)
        return ug_fail(err, "%s: no residual block weights (%s.enc_content.model.3.model.0."
                            "model.0.conv.weight)", path, g);
    un_count_dis(f, c);
    return 0;
}

int mu_config_read(const ug_st_file *f, const char *path, const ug_config *hint, ug_config *c,
                   ug_error *err)
{
    return ug_st_meta(f, "ch") ? config_from_meta(f, path, c, err)
                               : config_from_shapes(f, path, hint, c, err);
}

unsigned mu_nets_in_file(const ug_st_file *f)
{
    static const char *const names[MU_N_NETS] = {
        "a.enc_style.model.0.conv.weight", "a.enc_content.model.0.conv.weight",
        "a.mlp.model.0.fc.weight",         "b.enc_style.model.0.conv.weight",
        "b.enc_content.model.0.conv.weight", "b.mlp.model.0.fc.weight",
        "dis_a.cnns.0.0.conv.weight",      "dis_b.cnns.0.0.conv.weight"};
    unsigned nets = 0;
    for (int i = 0; i < MU_N_NETS; i++)
        if (ug_st_find(f, names[i]))
            nets |= 1u << i;
    return nets;
}
