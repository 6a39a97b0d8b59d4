/* Loading Inception-v3 weights into the graph of inception.c and running it
 * (see inception.h). */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "backend/backend.h"
#include "core/arena.h"
#include "core/sha256.h"
#include "eval/inception.h"
#include "io/tensor_file.h"
#include "nn/tape.h"

struct ug_inception {
    ug_net net;
    ug_inception_kind kind;
    ug_kctx *k;
    ug_arena arena;
    char sha256[65];
};

#define GET_IT "get pytorch-fid's pt_inception-2015-12-05-6726825d.pth (95 MB) from " \
               "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/" \
               "pt_inception-2015-12-05-6726825d.pth and give it with --inception FILE or " \
               "the environment variable " UG_INCEPTION_ENV

int ug_inception_path(const char **path, const char *given, ug_error *err)
{
    const char *p = given && *given ? given : getenv(UG_INCEPTION_ENV);
    struct stat st;
    if (!p || !*p)
        return ug_fail(err, "no Inception-v3 weights: " GET_IT);
    if (stat(p, &st) != 0 || !S_ISREG(st.st_mode))
        return ug_fail(err, "%s: no such Inception-v3 weights file (from %s): " GET_IT, p,
                       given && *given ? "--inception" : UG_INCEPTION_ENV);
    *path = p;
    return 0;
}

/* A .pt holding a bare state_dict names its tensors "inception.NAME" (the
 * group tensor_file.c is given), as does one holding {"inception": state_dict};
 * safetensors, NAME. */
static const ug_st_tensor *find(const ug_st_file *f, const char *prefix, const char *name)
{
    char key[UG_NAME_MAX + 16];
    snprintf(key, sizeof key, "%s%s", prefix, name);
    return ug_st_find(f, key);
}

static int starts(const char *s, const char *p) { return strncmp(s, p, strlen(p)) == 0; }

static int same_shape(const ug_st_tensor *t, const ug_param *p)
{
    if (t->ndim != p->ndim)
        return 0;
    for (int d = 0; d < p->ndim; d++)
        if (t->shape[d] != p->shape[d])
            return 0;
    return 1;
}

static void shape_str(char *out, size_t n, int ndim, const int64_t *shape)
{
    size_t len = (size_t)snprintf(out, n, "[");
    for (int d = 0; d < ndim && len < n; d++)
        len += (size_t)snprintf(out + len, n - len, d ? ", %lld" : "%lld", (long long)shape[d]);
    if (len < n)
        snprintf(out + len, n - len, "]");
}

/* The variant from fc.weight, then every parameter from the file. */
static int fill(ug_inception *m, const ug_st_file *f, const char *path, ug_error *err)
{
    const char *prefix =
        ug_st_count(f) > 0 && starts(ug_st_at(f, 0)->name, "inception.") ? "inception." : "";
    const ug_st_tensor *fc = find(f, prefix, "fc.weight");
    if (!fc || fc->ndim != 2 || fc->shape[1] != UG_INCEPTION_DIM ||
        (fc->shape[0] != 1008 && fc->shape[0] != 1000))
        return ug_fail(err, "%s: %s, so neither pytorch-fid's Inception-v3 (fc.weight [1008, "
                            "2048]) nor torchvision's ([1000, 2048])",
                       path, fc ? "fc.weight has another shape" : "no fc.weight");
    m->kind = fc->shape[0] == 1008 ? UG_INCEPTION_FID : UG_INCEPTION_TORCHVISION;
    if (ug_inception_build(&m->net, m->kind, err) < 0)
        return -1;
    /* Foreign tensors first: a wrong file is named before its shapes are. */
    for (size_t i = 0; i < ug_st_count(f); i++) {
        const char *name = ug_st_at(f, i)->name + strlen(prefix);
        if (!starts(ug_st_at(f, i)->name, prefix) ||
            (ug_net_find(&m->net, name) < 0 && !starts(name, "fc.") &&
             !starts(name, "AuxLogits.")))
            return ug_fail(err, "%s: unexpected tensor '%s': not the weights of an Inception-v3",
                           path, ug_st_at(f, i)->name);
    }
    char a[64], b[64];
    /* The parameters live in the network's backend: written through a host mapping. */
    const size_t bytes = m->net.total * sizeof(float);
    float *host = m->net.be->map(m->net.data, bytes);
    if (!host)
        return ug_fail(err, "out of memory");
    int rc = 0;
    for (int i = 0; i < m->net.n_params && rc == 0; i++) {
        const ug_param *p = &m->net.params[i];
        const ug_st_tensor *t = find(f, prefix, p->name);
        if (!t && strstr(p->name, "num_batches_tracked"))
            continue; /* a counter for training, not needed (PyTorch does not need it either) */
        if (!t) {
            rc = ug_fail(err, "%s: no tensor '%s': not the weights of an Inception-v3", path,
                         p->name);
        } else if (!same_shape(t, p)) {
            shape_str(a, sizeof a, t->ndim, t->shape);
            shape_str(b, sizeof b, p->ndim, p->shape);
            rc = ug_fail(err, "%s: '%s' has shape %s, Inception-v3's is %s", path, p->name, a,
                         b);
        } else {
            memcpy(host + p->off, t->data, p->numel * sizeof(float));
        }
    }
    m->net.be->unmap(m->net.data, host, bytes, rc == 0);
    return rc;
}

int ug_inception_load(ug_inception **out, const char *path, ug_error *err)
{
    *out = NULL;
    ug_inception *m = calloc(1, sizeof *m);
    if (!m)
        return ug_fail(err, "out of memory");
    ug_net_init(&m->net);
    /* The context first: the activations live in its backend. */
    m->k = ug_kctx_new(0, err);
    ug_arena_init(&m->arena, m->k ? m->k->be : ug_backend_default());
    ug_st_file *f = NULL;
    if (!m->k || ug_tensor_file_open(&f, path, "inception", err) < 0 ||
        fill(m, f, path, err) < 0 || ug_sha256_file(path, m->sha256, err) < 0) {
        ug_st_close(f);
        ug_inception_free(m);
        return -1;
    }
    ug_st_close(f);
    *out = m;
    return 0;
}

void ug_inception_free(ug_inception *m)
{
    if (!m)
        return;
    ug_net_free(&m->net);
    ug_kctx_free(m->k);
    ug_arena_free(&m->arena);
    free(m);
}

ug_inception_kind ug_inception_variant(const ug_inception *m) { return m->kind; }

const char *ug_inception_sha256(const ug_inception *m) { return m->sha256; }

int ug_inception_features(ug_inception *m, float *features, const float *images, int N,
                          ug_error *err)
{
    ug_tape t;
    ug_arena_reset(&m->arena);
    const size_t in_bytes = (size_t)N * 3 * UG_INCEPTION_SIZE * UG_INCEPTION_SIZE * sizeof(float);
    float *x = ug_arena_alloc(&m->arena, in_bytes);
    if (!x)
        return ug_fail(err, "out of memory for %d images", N);
    m->k->be->from_host(x, images, in_bytes);
    const float *const inputs[1] = {x};
    if (ug_tape_forward_nograd(&t, m->k, &m->arena, &m->net, inputs, N, UG_EVAL, err) < 0)
        return -1;
    m->k->be->to_host(features, ug_tape_output(&t, UG_INCEPTION_OUT),
                      (size_t)N * UG_INCEPTION_DIM * sizeof(float));
    return 0;
}
