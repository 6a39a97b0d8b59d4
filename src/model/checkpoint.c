/* Model checkpoints as safetensors (see checkpoint.h). */
#include "model/checkpoint.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/tensor_file.h"

void ug_cw_init(ug_ckpt_writer *w) { memset(w, 0, sizeof *w); }

void ug_cw_free(ug_ckpt_writer *w)
{
    for (size_t i = 0; i < w->n; i++)
        free((char *)w->e[i].name);
    for (size_t i = 0; i < w->n_meta; i++)
        free(w->meta[i]);
    free(w->e);
    free(w->meta);
    ug_cw_init(w);
}

void ug_cw_tensor(ug_ckpt_writer *w, const char *name, int ndim, const int64_t *shape,
                  const float *data)
{
    if (w->n == w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 256;
        ug_st_entry *e = realloc(w->e, cap * sizeof *e);
        if (!e) {
            w->failed = 1;
            return;
        }
        w->e = e;
        w->cap = cap;
    }
    ug_st_entry *e = &w->e[w->n];
    memset(e, 0, sizeof *e);
    e->name = strdup(name);
    if (!e->name) {
        w->failed = 1;
        return;
    }
    e->ndim = ndim;
    for (int i = 0; i < ndim; i++)
        e->shape[i] = shape[i];
    e->data = data;
    w->n++;
}

void ug_cw_meta(ug_ckpt_writer *w, const char *key, const char *fmt, ...)
{
    if (w->n_meta + 2 > w->cap_meta) {
        size_t cap = w->cap_meta ? 2 * w->cap_meta : 64;
        char **m = realloc(w->meta, cap * sizeof *m);
        if (!m) {
            w->failed = 1;
            return;
        }
        w->meta = m;
        w->cap_meta = cap;
    }
    char value[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(value, sizeof value, fmt, ap);
    va_end(ap);
    char *k = strdup(key), *v = strdup(value);
    if (!k || !v) {
        free(k);
        free(v);
        w->failed = 1;
        return;
    }
    w->meta[w->n_meta++] = k;
    w->meta[w->n_meta++] = v;
}

void ug_cw_model(ug_ckpt_writer *w, const ug_model *m, const char *prefix,
                 float *const base[UG_N_NETS], int trainable_only)
{
    char name[256];
    for (int i = 0; i < UG_N_NETS; i++) {
        const ug_net *net = &m->net[i];
        if (!base[i])
            continue;
        for (int p = 0; p < net->n_params; p++) {
            const ug_param *pp = &net->params[p];
            if (trainable_only && pp->kind != UG_TRAINABLE)
                continue;
            snprintf(name, sizeof name, "%s%s.%s", prefix, ug_net_group[i], pp->name);
            ug_cw_tensor(w, name, pp->ndim, pp->shape, base[i] + pp->off);
        }
    }
}

void ug_cw_config(ug_ckpt_writer *w, const ug_config *c)
{
    ug_cw_meta(w, "format", "ugatit");
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

int ug_cw_write(ug_ckpt_writer *w, const char *path, ug_error *err)
{
    if (w->failed)
        return ug_fail(err, "%s: out of memory preparing the checkpoint", path);
    return ug_st_write(path, w->e, w->n, (const char *const *)w->meta, w->n_meta / 2, err);
}

int ug_model_save(const ug_model *m, const char *path, ug_error *err)
{
    ug_ckpt_writer w;
    ug_cw_init(&w);
    /* The writer reads host memory: the backend's, mapped until it is written. */
    float *base[UG_N_NETS];
    int mapped = 1;
    for (int i = 0; i < UG_N_NETS; i++) {
        const ug_net *n = &m->net[i];
        base[i] = ug_model_has(m, i) ? n->be->map(n->data, n->total * sizeof(float)) : NULL;
        mapped &= !ug_model_has(m, i) || base[i];
    }
    ug_cw_config(&w, &m->cfg);
    ug_cw_model(&w, m, "", base, 0);
    int rc = mapped ? ug_cw_write(&w, path, err)
                    : ug_fail(err, "%s: out of memory reading the model for saving", path);
    ug_cw_free(&w);
    for (int i = 0; i < UG_N_NETS; i++)
        if (ug_model_has(m, i))
            m->net[i].be->unmap(m->net[i].data, base[i], m->net[i].total * sizeof(float), 0);
    return rc;
}

/* ---- reading ---- */

int ug_ckpt_meta_long(const ug_st_file *f, const char *path, const char *key, long *out,
                      ug_error *err)
{
    const char *s = ug_st_meta(f, key);
    if (!s)
        return ug_fail(err, "%s: metadata has no '%s'", path, key);
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end)
        return ug_fail(err, "%s: metadata '%s' is not an integer: '%s'", path, key, s);
    *out = v;
    return 0;
}

int ug_ckpt_meta_double(const ug_st_file *f, const char *path, const char *key, double *out,
                        ug_error *err)
{
    const char *s = ug_st_meta(f, key);
    if (!s)
        return ug_fail(err, "%s: metadata has no '%s'", path, key);
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v))
        return ug_fail(err, "%s: metadata '%s' is not a number: '%s'", path, key, s);
    *out = v;
    return 0;
}

static const ug_st_tensor *need(const ug_st_file *f, const char *path, const char *name,
                                int ndim, ug_error *err)
{
    const ug_st_tensor *t = ug_st_find(f, name);
    if (!t)
        ug_fail(err, "%s: missing tensor '%s'", path, name);
    else if (t->ndim != ndim) {
        ug_fail(err, "%s: tensor '%s' has %d dimensions, expected %d", path, name, t->ndim, ndim);
        t = NULL;
    }
    return t;
}

/* A "true"/"false" metadata value; absent gives dflt. */
static int meta_bool(const ug_st_file *f, const char *path, const char *key, int dflt, int *out,
                     ug_error *err)
{
    const char *s = ug_st_meta(f, key);
    if (!s)
        *out = dflt;
    else if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0)
        *out = strcmp(s, "true") == 0;
    else
        return ug_fail(err, "%s: metadata '%s' must be true or false, not '%s'", path, key, s);
    return 0;
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
    if (meta_bool(f, path, "cam_g", 1, &cam_g, err) < 0 ||
        meta_bool(f, path, "cam_d", 1, &cam_d, err) < 0)
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
    const ug_st_tensor *t = need(f, path, "genA2B.DownBlock.1.weight", 4, err);
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
        if (!(t = need(f, path, "genA2B.FC.0.weight", 2, err)))
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

int ug_ckpt_config(const ug_st_file *f, const char *path, const ug_config *hint, ug_config *c,
                   unsigned *nets, ug_error *err)
{
    int rc = ug_st_meta(f, "ch") ? config_from_meta(f, path, c, err)
                                 : config_from_shapes(f, path, hint, c, err);
    /* genA2B is always there (the configuration comes from it); the others
     * are optional for translation. */
    *nets = 1u << UG_GEN_A2B;
    if (ug_st_find(f, "genB2A.DownBlock.1.weight"))
        *nets |= 1u << UG_GEN_B2A;
    if (ug_st_find(f, "disGA.model.1.weight_orig"))
        *nets |= UG_ALL_NETS & ~UG_GENERATORS;
    return rc;
}

int ug_ckpt_read_model(const ug_st_file *f, const char *path, const ug_model *m,
                       const char *prefix, float *const base[UG_N_NETS], int trainable_only,
                       ug_error *err)
{
    char name[256];
    for (int i = 0; i < UG_N_NETS; i++) {
        const ug_net *net = &m->net[i];
        if (!base[i])
            continue;
        for (int p = 0; p < net->n_params; p++) {
            const ug_param *pp = &net->params[p];
            if (trainable_only && pp->kind != UG_TRAINABLE)
                continue;
            snprintf(name, sizeof name, "%s%s.%s", prefix, ug_net_group[i], pp->name);
            const ug_st_tensor *t = need(f, path, name, pp->ndim, err);
            if (!t)
                return -1;
            for (int d = 0; d < pp->ndim; d++) {
                if (t->shape[d] != pp->shape[d]) {
                    char want[96], got[96];
                    int a = 0, b = 0;
                    for (int e = 0; e < pp->ndim; e++) {
                        a += snprintf(want + a, sizeof want - (size_t)a, "%s%lld", e ? ", " : "",
                                      (long long)pp->shape[e]);
                        b += snprintf(got + b, sizeof got - (size_t)b, "%s%lld", e ? ", " : "",
                                      (long long)t->shape[e]);
                    }
                    return ug_fail(err, "%s: tensor '%s' has shape (%s), expected (%s)", path,
                                   name, got, want);
                }
            }
            for (size_t k = 0; k < pp->numel; k++)
                if (!isfinite(t->data[k]))
                    return ug_fail(err, "%s: tensor '%s' holds %s at element %zu", path, name,
                                   isnan(t->data[k]) ? "NaN" : "Inf", k);
            net->be->from_host(base[i] + pp->off, t->data, pp->numel * sizeof(float));
        }
    }
    return 0;
}

int ug_checkpoint_meta(const char *path, const char *key, char *out, int n, ug_error *err)
{
    ug_st_file *f;
    if (ug_tensor_file_open(&f, path, err) < 0)
        return -1;
    const char *v = ug_st_meta(f, key);
    if (v)
        snprintf(out, (size_t)n, "%s", v);
    ug_st_close(f);
    return v ? 0 : 1;
}

int ug_model_load(ug_model **out, const char *path, const ug_config *hint,
                  int need_discriminators, ug_error *err)
{
    *out = NULL;
    ug_st_file *f;
    if (ug_tensor_file_open(&f, path, err) < 0)
        return -1;
    ug_config c;
    unsigned nets;
    int rc = -1;
    ug_model *m = NULL;
    if (ug_ckpt_config(f, path, hint, &c, &nets, err) < 0)
        goto done;
    if (need_discriminators && !(nets & (1u << UG_DIS_GA))) {
        ug_fail(err, "%s: missing tensor 'disGA.model.1.weight_orig' (the file holds no "
                     "discriminators)", path);
        goto done;
    }
    /* Training needs all six networks: a missing one is named by the reader. */
    if (need_discriminators)
        nets = UG_ALL_NETS;
    if (ug_model_build(&m, &c, nets, err) < 0) {
        ug_error_prefix(err, "%s", path);
        goto done;
    }
    float *base[UG_N_NETS];
    for (int i = 0; i < UG_N_NETS; i++)
        base[i] = ug_model_has(m, i) ? m->net[i].data : NULL;
    rc = ug_ckpt_read_model(f, path, m, "", base, 0, err);
done:
    ug_st_close(f);
    if (rc < 0)
        ug_model_free(m);
    else
        *out = m;
    return rc;
}
