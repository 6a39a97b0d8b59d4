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
    const ug_backend *be = n->be;
    ug_net_init(n);
    n->be = be;
}

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
    p->off = n->total;
    p->sn_u = p->sn_v = -1;
    /* Keep every tensor 64-byte aligned inside the block. */
    n->total += (p->numel + 15) & ~(size_t)15;
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

int ug_net_zero_grad(ug_net *n, ug_error *err)
{
    size_t bytes = (n->total ? n->total : 16) * sizeof(float);
    if (!n->grad && !(n->grad = n->be->alloc(bytes)))
        return ug_fail(err, "out of memory for the gradients of %zu parameters", n->total);
    n->be->zero(n->grad, bytes);
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
