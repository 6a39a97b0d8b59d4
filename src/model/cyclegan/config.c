/* CycleGAN's configuration in checkpoint metadata, and inferred from the
 * tensor shapes of the official files (which have none). ug_config holds
 * ch (ngf = ndf), n_res (residual blocks), img_size and dis_global (the
 * discriminators' n_layers); the rest is U-GAT-IT's and stays zero. */
#include <stdio.h>
#include <string.h>

#include "model/checkpoint.h"
#include "model/cyclegan/cyclegan.h"

void cg_config_default(ug_config *c, int img_size)
{
    memset(c, 0, sizeof *c);
    c->ch = CG_NGF;
    c->img_size = img_size;
    c->n_res = img_size >= 256 ? 9 : 6;
    c->dis_global = CG_N_LAYERS_D;
    c->family = ug_family_cyclegan.name;
}

void cg_config_write(ug_ckpt_writer *w, const ug_config *c)
{
    ug_cw_meta(w, "ch", "%d", c->ch);
    ug_cw_meta(w, "n_res", "%d", c->n_res);
    ug_cw_meta(w, "img_size", "%d", c->img_size);
    ug_cw_meta(w, "n_layers_D", "%d", c->dis_global);
}

static int config_from_meta(const ug_st_file *f, const char *path, ug_config *c, ug_error *err)
{
    long v[4];
    const char *keys[4] = {"ch", "n_res", "img_size", "n_layers_D"};
    for (int i = 0; i < 4; i++) {
        if (ug_ckpt_meta_long(f, path, keys[i], &v[i], err) < 0)
            return -1;
        if (v[i] < 1 || v[i] > 65536)
            return ug_fail(err, "%s: metadata '%s' = %ld is out of range", path, keys[i], v[i]);
    }
    cg_config_default(c, (int)v[2]);
    c->ch = (int)v[0], c->n_res = (int)v[1], c->dis_global = (int)v[3];
    return 0;
}

/* The generator group a file holds (G_A, else G_B), or NULL. */
static const char *some_generator(const ug_st_file *f)
{
    return ug_st_find(f, "G_A.model.1.weight")   ? "G_A"
           : ug_st_find(f, "G_B.model.1.weight") ? "G_B"
                                                 : NULL;
}

/* Residual blocks: how many model.N.conv_block.1.weight follow model.10. */
static int count_blocks(const ug_st_file *f, const char *group)
{
    char name[128];
    int n = 0;
    for (;; n++) {
        snprintf(name, sizeof name, "%s.model.%d.conv_block.1.weight", group, 10 + n);
        if (!ug_st_find(f, name))
            return n;
    }
}

/* A discriminator's layers: stride-2 convolutions at model.2, .5, ...
 * before the stride-1 one and the last (model.3n+2). */
static int count_dis_layers(const ug_st_file *f, const char *group)
{
    char name[128];
    for (int n = 1; n <= 8; n++) {
        snprintf(name, sizeof name, "%s.model.%d.weight", group, 3 * n + 2);
        const ug_st_tensor *t = ug_st_find(f, name);
        if (t && t->ndim == 4 && t->shape[0] == 1)
            return n;
    }
    return 0;
}

static int config_from_shapes(const ug_st_file *f, const char *path, const ug_config *hint,
                              ug_config *c, ug_error *err)
{
    const char *g = some_generator(f);
    char name[128];
    if (!g)
        return ug_fail(err, "%s: no CycleGAN generator in it (no G_A.model.1.weight or "
                            "G_B.model.1.weight)", path);
    snprintf(name, sizeof name, "%s.model.1.weight", g);
    const ug_st_tensor *t = ug_ckpt_need(f, path, name, 4, err);
    if (!t)
        return -1;
    if (t->shape[0] < 1 || t->shape[0] > 65536 || t->shape[1] != 3 || t->shape[2] != 7)
        return ug_fail(err, "%s: '%s' has shape (%lld, %lld, %lld, %lld), not (ngf, 3, 7, 7) "
                            "of a ResnetGenerator", path, name, (long long)t->shape[0],
                       (long long)t->shape[1], (long long)t->shape[2], (long long)t->shape[3]);
    /* Shapes do not tell the image size: the hint's, else the official 256. */
    cg_config_default(c, hint && hint->img_size > 0 ? hint->img_size : 256);
    c->ch = (int)t->shape[0];
    c->n_res = count_blocks(f, g);
    if (c->n_res == 0) {
        snprintf(name, sizeof name, "%s.model.10.conv_block.6.weight", g);
        return ug_fail(err, "%s: no residual block weights (%s.model.10.conv_block.1.weight)%s",
                       path, g, ug_st_find(f, name) ? "; it was trained with dropout "
                       "(conv_block.6), which this build does not have" : "");
    }
    int n = count_dis_layers(f, "D_A");
    if (n)
        c->dis_global = n;
    return 0;
}

int cg_config_read(const ug_st_file *f, const char *path, const ug_config *hint, ug_config *c,
                   ug_error *err)
{
    return ug_st_meta(f, "ch") ? config_from_meta(f, path, c, err)
                               : config_from_shapes(f, path, hint, c, err);
}

unsigned cg_nets_in_file(const ug_st_file *f)
{
    static const char *const keys[CG_N_NETS] = {"G_A.model.1.weight", "G_B.model.1.weight",
                                                "D_A.model.0.weight", "D_B.model.0.weight"};
    unsigned nets = 0;
    for (int i = 0; i < CG_N_NETS; i++)
        if (ug_st_find(f, keys[i]))
            nets |= 1u << i;
    return nets;
}
