/* DRIT's configuration in checkpoint metadata, and inferred from the tensor
 * shapes of a file without it (an official NNNNN.pth). */
#include <stdio.h>
#include <string.h>

#include "model/checkpoint.h"
#include "model/drit/drit.h"

void dr_config_default(ug_config *c, int img_size)
{
    memset(c, 0, sizeof *c);
    c->ch = DR_CH;
    c->img_size = img_size;
    c->dis_local = DR_DIS_SCALE;
    c->family = ug_family_drit.name;
}

void dr_config_write(ug_ckpt_writer *w, const ug_config *c)
{
    ug_cw_meta(w, "ch", "%d", c->ch);
    ug_cw_meta(w, "img_size", "%d", c->img_size);
    ug_cw_meta(w, "dis_scale", "%d", c->dis_local);
}

static int config_from_meta(const ug_st_file *f, const char *path, ug_config *c, ug_error *err)
{
    long v[3];
    const char *keys[3] = {"ch", "img_size", "dis_scale"};
    for (int i = 0; i < 3; i++) {
        if (ug_ckpt_meta_long(f, path, keys[i], &v[i], err) < 0)
            return -1;
        if (v[i] < 1 || v[i] > 65536)
            return ug_fail(err, "%s: metadata '%s' = %ld is out of range", path, keys[i], v[i]);
    }
    dr_config_default(c, (int)v[1]);
    c->ch = (int)v[0], c->dis_local = (int)v[2];
    return 0;
}

/* The scales of disA, when the file has it. */
static void count_scales(const ug_st_file *f, ug_config *c)
{
    char name[128];
    int scales = 0;
    for (;; scales++) {
        snprintf(name, sizeof name, "disA.Diss.%d.0.model.1.weight", scales);
        if (!ug_st_find(f, name))
            break;
    }
    if (scales > 0)
        c->dis_local = scales;
}

/* The crop is the official 216: the shapes do not tell it, and the hint's
 * img_size (the side of a U-GAT-IT light model, 256 unless given) is not
 * DRIT's. */
static int config_from_shapes(const ug_st_file *f, const char *path, ug_config *c,
                              ug_error *err)
{
    const char *name = "enc_c.convA.0.model.1.weight";
    const ug_st_tensor *t = ug_ckpt_need(f, path, name, 4, err);
    if (!t)
        return -1;
    if (t->shape[0] < 1 || t->shape[0] > 4096 || t->shape[1] != 3 || t->shape[2] != 7 ||
        t->shape[3] != 7)
        return ug_fail(err, "%s: '%s' has shape (%lld, %lld, %lld, %lld), not (ch, 3, 7, 7) of "
                            "DRIT's content encoder", path, name, (long long)t->shape[0],
                       (long long)t->shape[1], (long long)t->shape[2], (long long)t->shape[3]);
    dr_config_default(c, DR_CROP);
    c->ch = (int)t->shape[0];
    count_scales(f, c);
    return 0;
}

int dr_config_read(const ug_st_file *f, const char *path, const ug_config *hint, ug_config *c,
                   ug_error *err)
{
    (void)hint;
    return ug_st_meta(f, "ch") ? config_from_meta(f, path, c, err)
                               : config_from_shapes(f, path, c, err);
}

unsigned dr_nets_in_file(const ug_st_file *f)
{
    static const char *const keys[DR_N_NETS] = {
        "enc_c.convA.0.model.1.weight",    "enc_a.fc_A.0.weight",
        "gen.dec_share.0.model.1.weight",  "disA.Diss.0.0.model.1.weight",
        "disA2.Diss.0.0.model.1.weight",   "disB.Diss.0.0.model.1.weight",
        "disB2.Diss.0.0.model.1.weight",   "disContent.model.0.model.1.weight"};
    unsigned nets = 0;
    for (int i = 0; i < DR_N_NETS; i++)
        if (ug_st_find(f, keys[i]))
            nets |= 1u << i;
    return nets;
}
