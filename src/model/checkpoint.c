/* Model checkpoints as safetensors (see checkpoint.h). */
#include "model/checkpoint.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

/* ug_cw_model's and ug_cw_model_in_files' entries: from base[i] where
 * base is given, else from fd[i]. */
static void add_model(ug_ckpt_writer *w, const ug_model *m, const char *prefix,
                      float *const *base, const int *fd, int trainable_only)
{
    char name[256];
    for (int i = 0; i < m->fam->n_nets; i++) {
        const ug_net *net = &m->net[i];
        if (base ? !base[i] : fd[i] < 0)
            continue;
        for (int p = 0; p < net->n_params; p++) {
            const ug_param *pp = &net->params[p];
            if (trainable_only && pp->kind != UG_TRAINABLE)
                continue;
            snprintf(name, sizeof name, "%s%s.%s", prefix, m->fam->net_names[i], pp->name);
            size_t n = w->n;
            ug_cw_tensor(w, name, pp->ndim, pp->shape, base ? base[i] + pp->off : NULL);
            if (!base && w->n > n) {
                w->e[n].in_file = 1;
                w->e[n].fd = fd[i];
                w->e[n].pos = pp->off * sizeof(float);
            }
        }
    }
}

void ug_cw_model(ug_ckpt_writer *w, const ug_model *m, const char *prefix,
                 float *const base[UG_MAX_NETS], int trainable_only)
{
    add_model(w, m, prefix, base, NULL, trainable_only);
}

void ug_cw_model_in_files(ug_ckpt_writer *w, const ug_model *m, const char *prefix,
                          const int fd[UG_MAX_NETS], int trainable_only)
{
    add_model(w, m, prefix, NULL, fd, trainable_only);
}

void ug_cw_config(ug_ckpt_writer *w, const ug_model *m)
{
    ug_cw_meta(w, "format", "ugatit");
    ug_cw_meta(w, "family", "%s", m->fam->name);
    ug_cw_meta(w, "format_version", "%d", m->fam->format_version);
    m->fam->config_write(w, &m->cfg);
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
    float *base[UG_MAX_NETS] = {0};
    int mapped = 1;
    for (int i = 0; i < m->fam->n_nets; i++) {
        const ug_net *n = &m->net[i];
        base[i] = ug_model_has(m, i) ? n->be->map(n->data, n->total * sizeof(float)) : NULL;
        mapped &= !ug_model_has(m, i) || base[i];
    }
    ug_cw_config(&w, m);
    ug_cw_model(&w, m, "", base, 0);
    int rc = mapped ? ug_cw_write(&w, path, err)
                    : ug_fail(err, "%s: out of memory reading the model for saving", path);
    ug_cw_free(&w);
    for (int i = 0; i < m->fam->n_nets; i++)
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

void ug_cw_meta_rng(ug_ckpt_writer *w, const char *key, const ug_rng *r)
{
    ug_cw_meta(w, key, "%016" PRIx64 " %016" PRIx64, r->state, r->inc);
}

int ug_ckpt_meta_rng(const ug_st_file *f, const char *path, const char *key, const char *what,
                     ug_rng *r, ug_error *err)
{
    const char *s = ug_st_meta(f, key);
    uint64_t state, inc;
    int used = 0;
    if (!s || sscanf(s, "%" SCNx64 " %" SCNx64 "%n", &state, &inc, &used) != 2 ||
        s[used] != '\0' || !(inc & 1))
        return ug_fail(err, "%s: metadata '%s' (%s) is %s", path, key, what,
                       s ? "malformed" : "missing");
    r->state = state, r->inc = inc;
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

const ug_st_tensor *ug_ckpt_need(const ug_st_file *f, const char *path, const char *name,
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
int ug_ckpt_meta_bool(const ug_st_file *f, const char *path, const char *key, int dflt, int *out,
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

/* The family of a file without metadata 'family' (the official code's
 * files): the first whose generators it holds all of, else some of (UNIT's
 * decoder keys are MUNIT's too), else the first whose networks it holds
 * (UNIT and MUNIT have the same discriminators); U-GAT-IT when none (whose
 * reader then says what is missing). */
static const ug_family *family_of_tensors(const ug_st_file *f)
{
    const ug_family *fam;
    for (int pass = 0; pass < 3; pass++)
        for (int i = 0; (fam = ug_family_at(i)) != NULL; i++) {
            const unsigned nets = fam->nets_in_file(f), gens = nets & fam->translate_nets;
            if (pass == 0 ? gens == fam->translate_nets : pass == 1 ? gens != 0 : nets != 0)
                return fam;
        }
    return ug_family_at(0);
}

/* The family and its format version; files without them are the official
 * code's (U-GAT-IT's version 1, or told by their tensors). */
static const ug_family *file_family(const ug_st_file *f, const char *path, ug_error *err)
{
    const char *name = ug_st_meta(f, "family");
    const ug_family *fam = name ? ug_family_find(name, err) : family_of_tensors(f);
    if (!fam)
        return ug_error_prefix(err, "%s", path), NULL;
    long version = 1;
    if (ug_st_meta(f, "format_version") &&
        ug_ckpt_meta_long(f, path, "format_version", &version, err) < 0)
        return NULL;
    if (version < 1 || version > fam->format_version) {
        ug_fail(err, "%s: format_version %ld of family %s; this build reads 1 to %d%s", path,
                version, fam->name, fam->format_version,
                version > fam->format_version ? " (written by a newer ugatit)" : "");
        return NULL;
    }
    return fam;
}

int ug_ckpt_config(const ug_st_file *f, const char *path, const ug_config *hint, ug_config *c,
                   unsigned *nets, ug_error *err)
{
    const ug_family *fam = file_family(f, path, err);
    if (!fam || fam->config_read(f, path, hint, c, err) < 0)
        return -1;
    c->family = fam->name;
    *nets = fam->nets_in_file(f);
    return 0;
}

#define READ_CHUNK ((size_t)1 << 20) /* floats read at a time: 4 MB */

/* Checks that tensor t, read as name, has param pp's shape. */
static int check_shape(const ug_st_tensor *t, const ug_param *pp, const char *path,
                       const char *name, ug_error *err)
{
    for (int d = 0; d < pp->ndim; d++) {
        if (t->shape[d] == pp->shape[d])
            continue;
        char want[96], got[96];
        int a = 0, b = 0;
        for (int e = 0; e < pp->ndim; e++) {
            a += snprintf(want + a, sizeof want - (size_t)a, "%s%lld", e ? ", " : "",
                          (long long)pp->shape[e]);
            b += snprintf(got + b, sizeof got - (size_t)b, "%s%lld", e ? ", " : "",
                          (long long)t->shape[e]);
        }
        return ug_fail(err, "%s: tensor '%s' has shape (%s), expected (%s)", path, name, got,
                       want);
    }
    return 0;
}

int ug_ckpt_read_model_to(const ug_st_file *f, const char *path, const ug_model *m,
                          const char *prefix, unsigned nets, int trainable_only,
                          ug_ckpt_put put, void *ctx, ug_error *err)
{
    char name[256];
    float *buf = NULL;
    int rc = 0;
    for (int i = 0; i < m->fam->n_nets && rc == 0; i++) {
        const ug_net *net = &m->net[i];
        for (int p = 0; p < net->n_params && (nets >> i & 1) && rc == 0; p++) {
            const ug_param *pp = &net->params[p];
            if (trainable_only && pp->kind != UG_TRAINABLE)
                continue;
            snprintf(name, sizeof name, "%s%s.%s", prefix, m->fam->net_names[i], pp->name);
            const ug_st_tensor *t = ug_ckpt_need(f, path, name, pp->ndim, err);
            if (!t || check_shape(t, pp, path, name, err) < 0) {
                rc = -1;
                break;
            }
            if (!buf && !(buf = malloc(READ_CHUNK * sizeof *buf))) {
                rc = ug_fail(err, "%s: out of memory reading the model", path);
                break;
            }
            for (size_t k = 0; k < pp->numel && rc == 0; k += READ_CHUNK) {
                size_t n = pp->numel - k < READ_CHUNK ? pp->numel - k : READ_CHUNK;
                if (ug_st_read(f, t, k, n, buf, err) < 0) {
                    rc = -1;
                    break;
                }
                for (size_t j = 0; j < n; j++)
                    if (!isfinite(buf[j])) {
                        rc = ug_fail(err, "%s: tensor '%s' holds %s at element %zu", path, name,
                                     isnan(buf[j]) ? "NaN" : "Inf", k + j);
                        break;
                    }
                if (rc == 0 && put(ctx, i, pp->off + k, buf, n, err) < 0)
                    rc = -1;
            }
        }
    }
    free(buf);
    return rc;
}

/* ug_ckpt_read_model's destination: base[i], backend memory of net i. */
typedef struct to_base {
    const ug_model *m;
    float *const *base;
} to_base;

static int put_base(void *ctx, int net, size_t off, const float *src, size_t n, ug_error *err)
{
    (void)err;
    const to_base *d = ctx;
    d->m->net[net].be->from_host(d->base[net] + off, src, n * sizeof(float));
    return 0;
}

int ug_ckpt_read_model(const ug_st_file *f, const char *path, const ug_model *m,
                       const char *prefix, float *const base[UG_MAX_NETS], int trainable_only,
                       ug_error *err)
{
    to_base d = {m, base};
    unsigned nets = 0;
    for (int i = 0; i < m->fam->n_nets; i++)
        nets |= base[i] ? 1u << i : 0;
    return ug_ckpt_read_model_to(f, path, m, prefix, nets, trainable_only, put_base, &d, err);
}

/* A folder in a family's official layout: fam's, else the first family's
 * that reads it; when none does, every family's reason. */
static int open_folder(ug_st_file **f, const char *path, const ug_family *fam, ug_error *err)
{
    if (fam)
        return fam->open_folder ? fam->open_folder(f, path, err)
                                : ug_fail(err, "%s: a folder, and %s has no checkpoint layout "
                                               "of folders", path, fam->name);
    char why[sizeof err->msg] = "";
    for (int i = 0; (fam = ug_family_at(i)) != NULL; i++) {
        if (!fam->open_folder)
            continue;
        if (fam->open_folder(f, path, err) == 0)
            return 0;
        if (why[0])
            strncat(why, "; ", sizeof why - strlen(why) - 1);
        strncat(why, err->msg, sizeof why - strlen(why) - 1);
    }
    return why[0] ? ug_fail(err, "%s", why)
                  : ug_fail(err, "%s: a folder, and no model family has a checkpoint layout of "
                                 "folders", path);
}

/* The group of a lone state_dict at path for family fam, if it has such files. */
static const char *single_group(const ug_family *fam, const char *path)
{
    return fam->single_group ? fam->single_group(path) : NULL;
}

int ug_ckpt_open(ug_st_file **f, const char *path, const ug_config *hint, int deferred,
                 ug_error *err)
{
    *f = NULL;
    const ug_family *fam = NULL;
    if (hint && hint->family && !(fam = ug_family_find(hint->family, err)))
        return -1;
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return open_folder(f, path, fam, err);
    if (deferred && ug_tensor_file_is_pt(path, err) == 0)
        return ug_st_open_deferred(f, path, err);
    if (fam)
        return ug_tensor_file_open(f, path, single_group(fam, path), err);
    /* A lone state_dict's keys depend on the family's group for it: the
     * first family that finds its networks under its group, else the first. */
    for (int i = 0; (fam = ug_family_at(i)) != NULL; i++) {
        if (ug_tensor_file_open(f, path, single_group(fam, path), err) < 0)
            return -1;
        if (ug_st_meta(*f, "family") || fam->nets_in_file(*f) || !ug_family_at(i + 1))
            return 0;
        ug_st_close(*f);
        *f = NULL;
    }
    return ug_fail(err, "%s: internal: no model family", path);
}

int ug_checkpoint_meta(const char *path, const char *key, char *out, int n, ug_error *err)
{
    ug_st_file *f;
    if (ug_ckpt_open(&f, path, NULL, 1, err) < 0)
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
    if (ug_ckpt_open(&f, path, hint, 1, err) < 0)
        return -1;
    ug_config c;
    unsigned nets;
    int rc = -1;
    ug_model *m = NULL;
    if (ug_ckpt_config(f, path, hint, &c, &nets, err) < 0)
        goto done;
    const ug_family *fam = ug_family_find(c.family, err);
    unsigned all = (1u << fam->n_nets) - 1;
    if (need_discriminators && (nets & all & ~fam->translate_nets) == 0) {
        ug_fail(err, "%s: the file holds only the networks that translate, not the "
                     "discriminators training needs", path);
        goto done;
    }
    /* Training needs every network: a missing one is named by the reader. */
    if (need_discriminators)
        nets = all;
    if (ug_model_build(&m, &c, nets, err) < 0) {
        ug_error_prefix(err, "%s", path);
        goto done;
    }
    float *base[UG_MAX_NETS] = {0};
    for (int i = 0; i < m->fam->n_nets; i++)
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
