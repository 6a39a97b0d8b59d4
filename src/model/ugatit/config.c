/* U-GAT-IT's configuration in checkpoint metadata, and inferred from the
 * tensor shapes of a file without it (the release's .pt files, other
 * people's safetensors). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "model/checkpoint.h"
#include "model/ugatit/ugatit.h"

void ug_ugatit_config_write(ug_ckpt_writer *w, const ug_config *c)
{
    ug_cw_meta(w, "ch", "%d", c->ch);
    ug_cw_meta(w, "n_res", "%d", c->n_res);
    ug_cw_meta(w, "img_size", "%d", c->img_size);
    ug_cw_meta(w, "light", "%s", c->light ? "true" : "false");
    ug_cw_meta(w, "dis_global", "%d", c->dis_global);
    ug_cw_meta(w, "dis_local", "%d", c->dis_local);
    ug_cw_meta(w, "norm", "%s", ug_norm_name(c->norm));
    ug_cw_meta(w, "cam_g", "%s", c->no_cam_g ? "false" : "true");
    ug_cw_meta(w, "cam_d", "%s", c->no_cam_d ? "false" : "true");
}

/* The ablation variant from metadata; files from before the ablations have
 * none and are the release's model. */
static int variant_from_meta(const ug_st_file *f, const char *path, ug_config *c, ug_error *err)
{
    const char *norm = ug_st_meta(f, "norm");
    int n = norm ? ug_norm_parse(norm) : UG_NORM_ADALIN, cam_g, cam_d;
    if (n < 0)
        return ug_fail(err, "%s: metadata 'norm' is '%s', not one of adalin, in, ln, adain, gn",
                       path, norm);
    if (ug_ckpt_meta_bool(f, path, "cam_g", 1, &cam_g, err) < 0 ||
        ug_ckpt_meta_bool(f, path, "cam_d", 1, &cam_d, err) < 0)
        return -1;
    c->norm = (ug_norm)n, c->no_cam_g = !cam_g, c->no_cam_d = !cam_d;
    return 0;
}

static int config_from_meta(const ug_st_file *f, const char *path, ug_config *c, ug_error *err)
{
    long v[5];
    const char *keys[5] = {"ch", "n_res", "img_size", "dis_global", "dis_local"};
    for (int i = 0; i < 5; i++) {
        if (ug_ckpt_meta_long(f, path, keys[i], &v[i], err) < 0)
            return -1;
        if (v[i] < 1 || v[i] > 65536)
            return ug_fail(err, "%s: metadata '%s' = %ld is out of range", path, keys[i], v[i]);
    }
    const char *light = ug_st_meta(f, "light");
    if (!light || (strcmp(light, "true") && strcmp(light, "false")))
        return ug_fail(err, "%s: metadata 'light' must be true or false", path);
    c->ch = (int)v[0], c->n_res = (int)v[1], c->img_size = (int)v[2];
    c->dis_global = (int)v[3], c->dis_local = (int)v[4];
    c->light = strcmp(light, "true") == 0;
    return variant_from_meta(f, path, c, err);
}

/* Number of model.* convolutions of a discriminator group in the file. */
static int count_dis_layers(const ug_st_file *f, const char *group)
{
    char name[128];
    int j = 0;
    for (;; j++) {
        snprintf(name, sizeof name, "%s.model.%d.weight_orig", group, 3 * j + 1);
        if (!ug_st_find(f, name))
            break;
    }
    return j == 0 ? 0 : j + 1;
}

/* The decoder normalisation from which tensors its first norm layers hold. */
static int norm_from_shapes(const ug_st_file *f, const char *path, const ug_config *hint,
                            ug_config *c, ug_error *err)
{
    if (ug_st_find(f, "genA2B.UpBlock1_1.norm1.rho"))
        c->norm = UG_NORM_ADALIN;
    else if (ug_st_find(f, "genA2B.UpBlock1_1.norm1.weight"))
        c->norm = UG_NORM_GN;
    else if (!ug_st_find(f, "genA2B.UpBlock1_1.norm1.gamma"))
        c->norm = UG_NORM_ADAIN;
    else if (hint && (hint->norm == UG_NORM_IN || hint->norm == UG_NORM_LN))
        c->norm = hint->norm;
    else
        return ug_fail(err, "%s: its decoder norms are 'in' or 'ln', which hold the same "
                            "tensors: say which with --norm in or --norm ln", path);
    return 0;
}

static int config_from_shapes(const ug_st_file *f, const char *path, const ug_config *hint,
                              ug_config *c, ug_error *err)
{
    int img_size_hint = hint ? hint->img_size : 0;
    ug_config_default(c);
    if (norm_from_shapes(f, path, hint, c, err) < 0)
        return -1;
    c->no_cam_g = !ug_st_find(f, "genA2B.gap_fc.weight");
    c->no_cam_d = ug_st_find(f, "disGA.model.1.weight_orig") && !ug_st_find(f, "disGA.gap_fc.weight_orig");
    const ug_st_tensor *t = ug_ckpt_need(f, path, "genA2B.DownBlock.1.weight", 4, err);
    if (!t)
        return -1;
    if (t->shape[0] < 1 || t->shape[0] > 65536)
        return ug_fail(err, "%s: implausible channel count %lld", path, (long long)t->shape[0]);
    c->ch = (int)t->shape[0];
    char name[128];
    c->n_res = 0;
    for (;;) {
        snprintf(name, sizeof name, "genA2B.UpBlock1_%d.conv1.weight", c->n_res + 1);
        if (!ug_st_find(f, name))
            break;
        c->n_res++;
    }
    int64_t c4 = 4 * (int64_t)c->ch, in = c4;
    /* Without the gamma/beta MLP light and full are the same networks. */
    if (c->norm == UG_NORM_ADALIN || c->norm == UG_NORM_ADAIN) {
        if (!(t = ug_ckpt_need(f, path, "genA2B.FC.0.weight", 2, err)))
            return -1;
        in = t->shape[1];
    }
    if (in == c4) {
        c->light = 1;
        c->img_size = img_size_hint > 0 ? img_size_hint : 256;
    } else {
        c->light = 0;
        int64_t side = (int64_t)llround(sqrt((double)in / (double)c4));
        if (side < 2 || side * side * c4 != in)
            return ug_fail(err, "%s: genA2B.FC.0.weight has %lld inputs, which fits neither the "
                                "light nor the full model with ch %d", path, (long long)in, c->ch);
        c->img_size = (int)(4 * side);
    }
    int g = count_dis_layers(f, "disGA"), l = count_dis_layers(f, "disLA");
    if (g)
        c->dis_global = g;
    if (l)
        c->dis_local = l;
    return 0;
}

int ug_ugatit_config_read(const ug_st_file *f, const char *path, const ug_config *hint,
                          ug_config *c, ug_error *err)
{
    return ug_st_meta(f, "ch") ? config_from_meta(f, path, c, err)
                               : config_from_shapes(f, path, hint, c, err);
}

/* genA2B is always there (the configuration comes from it; a file without
 * it is not U-GAT-IT's); the others are optional for translation. */
unsigned ug_ugatit_nets_in_file(const ug_st_file *f)
{
    if (!ug_st_find(f, "genA2B.DownBlock.1.weight"))
        return 0;
    unsigned nets = 1u << UG_GEN_A2B;
    if (ug_st_find(f, "genB2A.DownBlock.1.weight"))
        nets |= 1u << UG_GEN_B2A;
    if (ug_st_find(f, "disGA.model.1.weight_orig"))
        nets |= ((1u << UG_N_NETS) - 1) & ~UG_GENERATORS;
    return nets;
}
