/* The rho layers of a model (see rho.h). */
#include "model/rho.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/safetensors.h"

/* The i-th rho parameter (a clamped one) over the networks, or NULL. */
static const ug_param *nth_rho(const ug_model *m, int i, int *net)
{
    for (*net = 0; i >= 0 && *net < m->fam->n_nets; (*net)++) {
        const ug_net *n = &m->net[*net];
        for (int p = 0; p < n->n_params; p++)
            if (n->params[p].clamped && i-- == 0)
                return &n->params[p];
    }
    return NULL;
}

int ug_model_rho_count(const ug_model *m)
{
    int count = 0;
    for (int g = 0; g < m->fam->n_nets; g++)
        for (int p = 0; p < m->net[g].n_params; p++)
            count += m->net[g].params[p].clamped;
    return count;
}

int ug_model_rho(const ug_model *m, int i, ug_rho_layer *out, ug_error *err)
{
    int net;
    const ug_param *p = nth_rho(m, i, &net);
    if (!p)
        return ug_fail(err, "rho layer %d does not exist (the model has %d, numbered from 0)", i,
                       ug_model_rho_count(m));
    const char *dot = strrchr(p->name, '.');
    int len = dot ? (int)(dot - p->name) : (int)strlen(p->name);
    snprintf(out->name, sizeof out->name, "%s.%.*s", m->fam->net_names[net], len, p->name);
    out->channels = (int)p->numel;
    /* Read in place where the backend's memory is the host's. */
    out->values = m->net[net].be->map(m->net[net].data + p->off, p->numel * sizeof(float));
    if (!out->values)
        return ug_fail(err, "rho layer %d: out of memory", i);
    return 0;
}

int ug_rho_read(const ug_model *m, const char *path, float *out, ug_error *err)
{
    int n = ug_model_rho_count(m), net;
    char (*keys)[UG_NAME_MAX + 16] = calloc((size_t)n + 1, sizeof *keys);
    const char **names = calloc((size_t)n + 1, sizeof *names);
    const ug_param **params = calloc((size_t)n + 1, sizeof *params);
    ug_st_file *f = NULL;
    int rc = keys && names && params ? 0 : ug_fail(err, "%s: out of memory", path);
    for (int i = 0; rc == 0 && i < n; i++) {
        params[i] = nth_rho(m, i, &net);
        snprintf(keys[i], sizeof keys[i], "%s.%s", m->fam->net_names[net], params[i]->name);
        names[i] = keys[i];
    }
    if (rc == 0)
        rc = ug_st_open_some(&f, path, names, (size_t)n, err);
    for (int i = 0; rc == 0 && i < n; i++) {
        const ug_st_tensor *t = ug_st_find(f, names[i]);
        if (!t)
            rc = ug_fail(err, "%s: missing tensor '%s'", path, names[i]);
        else if (t->numel != params[i]->numel)
            rc = ug_fail(err, "%s: tensor '%s' has %zu values, the model %zu", path, names[i],
                         t->numel, params[i]->numel);
        else
            memcpy(out, t->data, t->numel * sizeof *out);
        out += params[i]->numel;
    }
    ug_st_close(f);
    free(keys);
    free(names);
    free(params);
    return rc;
}
