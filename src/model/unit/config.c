/* UNIT's configuration in checkpoint metadata, and inferred from the tensor
 * shapes of a file without it. */
#include <stdio.h>
#include <string.h>

#include "model/checkpoint.h"
#include "model/unit/unit.h"

void un_config_default(ug_config *c, int img_size)
{
    memset(c, 0, sizeof *c);
    c->ch = UN_DIM;
    c->n_res = UN_N_RES;
    c->img_size = img_size;
    c->dis_global = UN_N_LAYER;
    c->dis_local = UN_NUM_SCALES;
    c->family = ug_family_unit.name;
}

void un_config_write(ug_ckpt_writer *w, const ug_config *c)
{
    ug_cw_meta(w, "ch", "%d", c->ch);
    ug_cw_meta(w, "n_res", "%d", c->n_res);
    ug_cw_meta(w, "img_size", "%d", c->img_size);
    ug_cw_meta(w, "n_layer", "%d", c->dis_global);
    ug_cw_meta(w, "num_scales", "%d", c->dis_local);
}

static int config_from_meta(const ug_st_file *f, const char *path, ug_config *c, ug_error *err)
{
    long v[5];
    const char *keys[5] = {"ch", "n_res", "img_size", "n_layer", "num_scales"};
    for (int i = 0; i < 5; i++) {
        if (ug_ckpt_meta_long(f, path, keys[i], &v[i], err) < 0)
            return -1;
        if (v[i] < 1 || v[i] > 65536)
            return ug_fail(err, "%s: metadata '%s' = %ld is out of range", path, keys[i], v[i]);
    }
    un_config_default(c, (int)v[2]);
    c->ch = (int)v[0], c->n_res = (int)v[1], c->dis_global = (int)v[3], c->dis_local = (int)v[4];
    return 0;
}

/* Residual blocks of the encoder in group g: a.enc.model.3.model.N. */
static int count_blocks(const ug_st_file *f, const char *g)
{
    char name[128];
    int n = 0;
    for (;; n++) {
        snprintf(name, sizeof name, "%s.model.3.model.%d.model.0.conv.weight", g, n);
        if (!ug_st_find(f, name))
            return n;
    }
}

/* A discriminator's layers and scales, when the file has one. */
void un_count_dis(const ug_st_file *f, ug_config *c)
{
    char name[128];
    int layers = 0, scales = 0;
    for (;; layers++) {
        snprintf(name, sizeof name, "dis_a.cnns.0.%d.conv.weight", layers);
        if (!ug_st_find(f, name))
            break;
    }
    for (;; scales++) {
        snprintf(name, sizeof name, "dis_a.cnns.%d.0.conv.weight", scales);
        if (!ug_st_find(f, name))
            break;
    }
    if (layers > 0 && scales > 0)
        c->dis_global = layers, c->dis_local = scales;
}

static int config_from_shapes(const ug_st_file *f, const char *path, const ug_config *hint,
                              ug_config *c, ug_error *err)
{
    const char *g = ug_st_find(f, "a.enc.model.0.conv.weight")   ? "a.enc"
                    : ug_st_find(f, "b.enc.model.0.conv.weight") ? "b.enc"
                                                                 : NULL;
    if (!g)
        return ug_fail(err, "%s: no UNIT encoder in it (no a.enc.model.0.conv.weight or "
                            "b.enc.model.0.conv.weight)", path);
    char name[128];
    snprintf(name, sizeof name, "%s.model.0.conv.weight", g);
    const ug_st_tensor *t = ug_ckpt_need(f, path, name, 4, err);
    if (!t)
        return -1;
    if (t->shape[0] < 1 || t->shape[0] > 65536 || t->shape[1] != 3 || t->shape[2] != 7)
        return ug_fail(err, "%s: '%s' has shape (%lld, %lld, %lld, %lld), not (dim, 3, 7, 7) "
                            "of a UNIT encoder", path, name, (long long)t->shape[0],
                       (long long)t->shape[1], (long long)t->shape[2], (long long)t->shape[3]);
    /* Shapes do not tell the image size: the hint's, else the official 256. */
    un_config_default(c, hint && hint->img_size > 0 ? hint->img_size : 256);
    c->ch = (int)t->shape[0];
    c->n_res = count_blocks(f, g);
    if (c->n_res == 0)
        return ug_fail(err, "%s: no residual block weights (%s.model.3.model.0.model.0.conv."
                            "weight)", path, g);
    un_count_dis(f, c);
    return 0;
}

int un_config_read(const ug_st_file *f, const char *path, const ug_config *hint, ug_config *c,
                   ug_error *err)
{
    return ug_st_meta(f, "ch") ? config_from_meta(f, path, c, err)
                               : config_from_shapes(f, path, hint, c, err);
}

unsigned un_nets_in_file(const ug_st_file *f)
{
    static const char *const keys[UN_N_NETS] = {
        "a.enc.model.0.conv.weight", "a.dec.model.0.model.0.model.0.conv.weight",
        "b.enc.model.0.conv.weight", "b.dec.model.0.model.0.model.0.conv.weight",
        "dis_a.cnns.0.0.conv.weight", "dis_b.cnns.0.0.conv.weight"};
    unsigned nets = 0;
    for (int i = 0; i < UN_N_NETS; i++)
        if (ug_st_find(f, keys[i]))
            nets |= 1u << i;
    return nets;
}
