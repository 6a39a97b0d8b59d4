/* The parameter table and graph storage of a network, and PyTorch's default
 * initialisation over it. */
#include "nn/net.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ug_net_init(ug_net *n)
{
    memset(n, 0, sizeof *n);
    n->be = ug_backend_default();
}

void ug_net_free(ug_net *n)
{
    free(n->params);
    free(n->nodes);
    n->be->free(n->data);
    n->be->free(n->grad);
    for (int i = 0; i < n->n_terms; i++) {
        n->be->free(n->terms[i].u);
        n->be->free(n->terms[i].v);
    }
    free(n->terms);
    const ug_backend *be = n->be;
    ug_net_init(n);
    n->be = be;
}

/* A tensor's floats in a block, rounded up so every tensor stays 64-byte aligned. */
static size_t padded(size_t numel) { return (numel + 15) & ~(size_t)15; }

int ug_net_add_param(ug_net *n, const char *name, ug_param_kind kind, int ndim,
                     const int64_t *shape)
{
    if (n->n_params == n->cap_params) {
        int cap = n->cap_params ? 2 * n->cap_params : 64;
        ug_param *p = realloc(n->params, (size_t)cap * sizeof *p);
        if (!p)
            return -1;
        n->params = p;
        n->cap_params = cap;
    }
    ug_param *p = &n->params[n->n_params];
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", name);
    p->kind = kind;
    p->ndim = ndim;
    p->numel = 1;
    for (int i = 0; i < ndim; i++) {
        p->shape[i] = shape[i];
        p->numel *= (size_t)shape[i];
    }
    p->off = p->goff = n->total;
    p->sn_u = p->sn_v = p->terms = -1;
    n->total += padded(p->numel);
    return n->n_params++;
}

int ug_net_add_sn_param(ug_net *n, const char *name, int ndim, const int64_t *shape)
{
    char buf[UG_NAME_MAX];
    snprintf(buf, sizeof buf, "%s_orig", name);
    int w = ug_net_add_param(n, buf, UG_TRAINABLE, ndim, shape);
    int64_t rows = shape[0], cols = 1;
    for (int i = 1; i < ndim; i++)
        cols *= shape[i];
    snprintf(buf, sizeof buf, "%s_u", name);
    int u = ug_net_add_param(n, buf, UG_BUFFER, 1, &rows);
    snprintf(buf, sizeof buf, "%s_v", name);
    int v = ug_net_add_param(n, buf, UG_BUFFER, 1, &cols);
    if (w < 0 || u < 0 || v < 0)
        return -1;
    n->params[w].sn_u = u;
    n->params[w].sn_v = v;
    n->params[u].init = n->params[v].init = UG_INIT_UNIT_NORMAL;
    return w;
}

static int port(const ug_port *ports, int count, const char *name)
{
    for (int i = 0; i < count; i++)
        if (strcmp(ports[i].name, name) == 0)
            return ports[i].node;
    return -1;
}

int ug_net_output(const ug_net *n, const char *name) { return port(n->out, n->n_out, name); }
int ug_net_input(const ug_net *n, const char *name) { return port(n->in, n->n_in, name); }

int ug_net_find(const ug_net *n, const char *name)
{
    for (int i = 0; i < n->n_params; i++)
        if (strcmp(n->params[i].name, name) == 0)
            return i;
    return -1;
}

int ug_net_alloc(ug_net *n, ug_error *err)
{
    size_t bytes = (n->total ? n->total : 16) * sizeof(float);
    n->data = n->be->alloc(bytes);
    if (!n->data)
        return ug_fail(err, "out of memory for %zu parameters", n->total);
    n->be->zero(n->data, bytes);
    return 0;
}

int ug_net_add_node(ug_net *n, ug_node node)
{
    if (n->n_nodes == n->cap_nodes) {
        int cap = n->cap_nodes ? 2 * n->cap_nodes : 64;
        ug_node *p = realloc(n->nodes, (size_t)cap * sizeof *p);
        if (!p)
            return -1;
        n->nodes = p;
        n->cap_nodes = cap;
    }
    n->nodes[n->n_nodes] = node;
    return n->n_nodes++;
}

static void fill_uniform(float *x, size_t n, double bound, ug_rng *rng)
{
    for (size_t i = 0; i < n; i++)
        x[i] = (float)((2.0 * ug_rng_uniform(rng) - 1.0) * bound);
}

static void fill_unit_normal(float *x, size_t n, ug_rng *rng)
{
    double ss = 0;
    for (size_t i = 0; i < n; i++) {
        x[i] = (float)ug_rng_normal(rng);
        ss += (double)x[i] * x[i];
    }
    double norm = fmax(sqrt(ss), 1e-12);
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(x[i] / norm);
}

void ug_net_init_default(ug_net *n, ug_rng *rng)
{
    /* Drawn on the host, in place where the backend's memory is the host's. */
    const size_t bytes = n->total * sizeof(float);
    float *host = bytes ? n->be->map(n->data, bytes) : NULL;
    if (!host)
        return;
    for (int i = 0; i < n->n_params; i++) {
        const ug_param *p = &n->params[i];
        float *x = host + p->off;
        switch (p->init) {
        case UG_INIT_NONE:
            break;
        case UG_INIT_UNIFORM:
            fill_uniform(x, p->numel, p->init_value, rng);
            break;
        case UG_INIT_CONST:
            for (size_t e = 0; e < p->numel; e++)
                x[e] = p->init_value;
            break;
        case UG_INIT_UNIT_NORMAL:
            fill_unit_normal(x, p->numel, rng);
            break;
        case UG_INIT_NORMAL:
            for (size_t e = 0; e < p->numel; e++)
                x[e] = (float)(ug_rng_normal(rng) * p->init_value);
            break;
        case UG_INIT_UNIT_UNIFORM:
            for (size_t e = 0; e < p->numel; e++)
                x[e] = (float)ug_rng_uniform(rng);
            break;
        }
    }
    n->be->unmap(n->data, host, bytes, 1);
}

void ug_net_clamp(ug_net *n, ug_kctx *k)
{
    for (int p = 0; p < n->n_params; p++) {
        const ug_param *pp = &n->params[p];
        if (pp->clamped)
            ug_clamp(k, ug_param_data(n, p), pp->numel, pp->clamp_lo, pp->clamp_hi);
    }
}

/* Whether weight p's gradient is kept as terms (ug_net_zero_grad). */
static int keeps_terms(const ug_net *n, int p)
{
    if (n->params[p].kind != UG_TRAINABLE || n->params[p].sn_u >= 0 || n->params[p].ndim != 2)
        return 0;
    int flat = 0;
    for (int i = 0; i < n->n_nodes; i++) {
        const ug_node *nd = &n->nodes[i];
        for (int j = 0; j < UG_NODE_P; j++) {
            if (nd->p[j] != p)
                continue;
            if (nd->op != OP_LINEAR || j != 0)
                return 0; /* read by something else too */
            const ug_node *x = &n->nodes[nd->in[0]];
            flat = x->H * x->W > 1;
            if (!flat)
                return 0;
        }
    }
    return flat;
}

/* Which weights keep their gradient as terms, and where the others' dense
 * gradients lie in grad. */
static int plan_grads(ug_net *n, ug_error *err)
{
    n->grad_total = 0;
    n->n_terms = 0; /* again after a failed allocation: no term is held before grad exists */
    for (int p = 0; p < n->n_params; p++) {
        ug_param *pp = &n->params[p];
        if (!keeps_terms(n, p)) {
            pp->goff = n->grad_total;
            n->grad_total += padded(pp->numel);
            continue;
        }
        ug_terms *t = realloc(n->terms, (size_t)(n->n_terms + 1) * sizeof *t);
        if (!t)
            return ug_fail(err, "out of memory for the gradients' terms");
        n->terms = t;
        pp->terms = n->n_terms++;
        t[pp->terms] = (ug_terms){.param = p, .rows = (int)pp->shape[0],
                                  .cols = (int)pp->shape[1], .scale = 1};
    }
    return 0;
}

int ug_net_zero_grad(ug_net *n, ug_error *err)
{
    if (!n->grad && plan_grads(n, err) < 0)
        return -1;
    const size_t bytes = (n->grad_total ? n->grad_total : 16) * sizeof(float);
    if (!n->grad && !(n->grad = n->be->alloc(bytes)))
        return ug_fail(err, "out of memory for the gradients of %zu parameters", n->grad_total);
    n->be->zero(n->grad, bytes);
    for (int i = 0; i < n->n_terms; i++)
        n->terms[i].rank = 0, n->terms[i].scale = 1;
    return 0;
}

int ug_terms_reserve(const ug_backend *be, ug_terms *t, int cap, ug_error *err)
{
    if (cap <= t->cap)
        return 0;
    float *u = be->alloc((size_t)cap * t->rows * sizeof *u);
    float *v = be->alloc((size_t)cap * t->cols * sizeof *v);
    if (!u || !v) {
        be->free(u);
        be->free(v);
        return ug_fail(err, "out of memory for %d gradient terms of %d x %d", cap, t->rows,
                       t->cols);
    }
    if (t->rank) {
        be->copy(u, t->u, (size_t)t->rank * t->rows * sizeof *u);
        be->copy(v, t->v, (size_t)t->rank * t->cols * sizeof *v);
    }
    be->free(t->u);
    be->free(t->v);
    t->u = u, t->v = v, t->cap = cap;
    return 0;
}

int ug_net_add_terms(const ug_net *n, int p, const float *dout, const float *in, int N,
                     ug_error *err)
{
    ug_terms *t = &n->terms[n->params[p].terms];
    if (t->rank + N > t->cap &&
        ug_terms_reserve(n->be, t, t->rank + N > 2 * t->cap ? t->rank + N : 2 * t->cap, err) < 0)
        return -1;
    n->be->copy(t->u + (size_t)t->rank * t->rows, dout, (size_t)N * t->rows * sizeof *dout);
    n->be->copy(t->v + (size_t)t->rank * t->cols, in, (size_t)N * t->cols * sizeof *in);
    t->rank += N;
    return 0;
}

/* Host views of a term list's u and v (both, or neither with an error). */
static int map_terms(const ug_backend *be, const ug_terms *t, float **u, float **v,
                     ug_error *err)
{
    *u = be->map(t->u, (size_t)t->rank * t->rows * sizeof(float));
    *v = *u ? be->map(t->v, (size_t)t->rank * t->cols * sizeof(float)) : NULL;
    if (*v)
        return 0;
    if (*u)
        be->unmap(t->u, *u, (size_t)t->rank * t->rows * sizeof(float), 0);
    return ug_fail(err, "out of memory reading the gradient terms of %d x %d", t->rows, t->cols);
}

static void unmap_terms(const ug_backend *be, const ug_terms *t, float *u, float *v)
{
    be->unmap(t->u, u, (size_t)t->rank * t->rows * sizeof(float), 0);
    be->unmap(t->v, v, (size_t)t->rank * t->cols * sizeof(float), 0);
}

int ug_net_read_grad(const ug_net *n, int p, float *out, ug_error *err)
{
    const ug_param *pp = &n->params[p];
    if (pp->terms < 0) {
        n->be->to_host(out, ug_param_grad(n, p), pp->numel * sizeof *out);
        return 0;
    }
    const ug_terms *t = &n->terms[pp->terms];
    float *u, *v;
    memset(out, 0, pp->numel * sizeof *out);
    if (!t->rank)
        return 0;
    if (map_terms(n->be, t, &u, &v, err) < 0)
        return -1;
    /* The sum in Adam's order (ug_adam_update_terms). */
    for (int r = 0; r < t->rank; r++)
        for (int o = 0; o < t->rows; o++)
            for (int i = 0; i < t->cols; i++)
                out[(size_t)o * t->cols + i] += u[(size_t)r * t->rows + o] * v[(size_t)r * t->cols + i];
    for (size_t e = 0; e < pp->numel; e++)
        out[e] *= t->scale;
    unmap_terms(n->be, t, u, v);
    return 0;
}

/* ||scale sum_r u_r v_r^T||^2 = scale^2 sum over r, q of (u_r . u_q)(v_r . v_q):
 * rank^2 dot products instead of the dense gradient. */
static int terms_norm2(const ug_backend *be, const ug_terms *t, double *sq, ug_error *err)
{
    float *u, *v;
    if (!t->rank)
        return 0;
    if (map_terms(be, t, &u, &v, err) < 0)
        return -1;
    double s = 0;
    for (int r = 0; r < t->rank; r++)
        for (int q = 0; q < t->rank; q++) {
            double uu = 0, vv = 0;
            for (int o = 0; o < t->rows; o++)
                uu += (double)u[(size_t)r * t->rows + o] * u[(size_t)q * t->rows + o];
            for (int i = 0; i < t->cols; i++)
                vv += (double)v[(size_t)r * t->cols + i] * v[(size_t)q * t->cols + i];
            s += uu * vv;
        }
    *sq += s * t->scale * t->scale;
    unmap_terms(be, t, u, v);
    return 0;
}

int ug_net_grad_norm2(const ug_net *n, double *sq, ug_error *err)
{
    const float *g = n->be->map(n->grad, n->grad_total * sizeof *g);
    if (!g)
        return ug_fail(err, "out of memory reading the gradients");
    for (int p = 0; p < n->n_params; p++)
        if (n->params[p].kind == UG_TRAINABLE && n->params[p].terms < 0)
            for (size_t i = 0; i < n->params[p].numel; i++)
                *sq += (double)g[n->params[p].goff + i] * g[n->params[p].goff + i];
    n->be->unmap(n->grad, (void *)g, n->grad_total * sizeof *g, 0);
    for (int i = 0; i < n->n_terms; i++)
        if (terms_norm2(n->be, &n->terms[i], sq, err) < 0)
            return -1;
    return 0;
}

int ug_net_scale_grad(ug_net *n, float coef, ug_error *err)
{
    float *g = n->be->map(n->grad, n->grad_total * sizeof *g);
    if (!g)
        return ug_fail(err, "out of memory reading the gradients");
    for (int p = 0; p < n->n_params; p++)
        if (n->params[p].kind == UG_TRAINABLE && n->params[p].terms < 0)
            for (size_t i = 0; i < n->params[p].numel; i++)
                g[n->params[p].goff + i] *= coef;
    n->be->unmap(n->grad, g, n->grad_total * sizeof *g, 1);
    for (int i = 0; i < n->n_terms; i++)
        n->terms[i].scale *= coef;
    return 0;
}

size_t ug_net_trainable(const ug_net *n)
{
    size_t t = 0;
    for (int i = 0; i < n->n_params; i++)
        if (n->params[i].kind == UG_TRAINABLE)
            t += n->params[i].numel;
    return t;
}
