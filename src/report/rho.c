/* Rho summaries and their history over a run (see rho.h). */
#include "report/rho.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "model/rho.h"

int ug_rho_bin(float v)
{
    if (isnan(v))
        return -1;
    double k = floor(10.0 * (double)v);
    return k < 0 ? 0 : k > UG_RHO_BINS - 1 ? UG_RHO_BINS - 1 : (int)k;
}

void ug_rho_summarise(ug_rho_stats *s, const ug_rho_layer *layer)
{
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%s", layer->name);
    s->channels = layer->channels;
    double sum = 0;
    float mn = INFINITY, mx = -INFINITY;
    for (int c = 0; c < layer->channels; c++) {
        float v = layer->values[c];
        sum += v;
        mn = v < mn ? v : mn;
        mx = v > mx ? v : mx;
        int b = ug_rho_bin(v);
        if (b >= 0)
            s->hist[b]++;
    }
    int any = mn <= mx;
    s->mean = layer->channels > 0 ? sum / layer->channels : NAN;
    s->min = any ? mn : NAN;
    s->max = any ? mx : NAN;
}

int ug_rho_stats_model(ug_rho_stats **out, int *n, const ug_model *m, ug_error *err)
{
    *n = ug_model_rho_count(m);
    *out = calloc((size_t)*n + 1, sizeof **out);
    if (!*out)
        return ug_fail(err, "out of memory");
    for (int i = 0; i < *n; i++) {
        ug_rho_layer layer;
        if (ug_model_rho(m, i, &layer, err) < 0) {
            free(*out);
            *out = NULL;
            return -1;
        }
        ug_rho_summarise(&(*out)[i], &layer);
    }
    return 0;
}

void ug_rho_history_free(ug_rho_history *h)
{
    free(h->steps);
    free(h->mean);
    memset(h, 0, sizeof *h);
}

/* Appends a point: the layer means of values (every layer's channels, one
 * layer after another), or of m's own values when values is NULL. */
static int add_point(ug_rho_history *h, const ug_model *m, long step, const float *values,
                     ug_error *err)
{
    long *steps = realloc(h->steps, ((size_t)h->n_points + 1) * sizeof *steps);
    if (steps)
        h->steps = steps;
    double *mean = realloc(h->mean, ((size_t)h->n_points + 1) * (size_t)(h->n_layers + 1) *
                                        sizeof *mean);
    if (mean)
        h->mean = mean;
    if (!steps || !mean)
        return ug_fail(err, "out of memory");
    double *row = h->mean + (size_t)h->n_points * h->n_layers;
    for (int i = 0; i < h->n_layers; i++) {
        ug_rho_layer layer;
        ug_rho_stats s;
        if (ug_model_rho(m, i, &layer, err) < 0)
            return -1;
        if (values) {
            layer.values = values;
            values += layer.channels;
        }
        ug_rho_summarise(&s, &layer);
        row[i] = s.mean;
    }
    h->steps[h->n_points++] = step;
    return 0;
}

/* The step of "NAME_params_%07d.safetensors" (as training names them), or -1. */
static long checkpoint_step(const char *file, const char *name)
{
    size_t len = strlen(name);
    if (strncmp(file, name, len) || strncmp(file + len, "_params_", 8))
        return -1;
    const char *digits = file + len + 8;
    char *end, again[64];
    long step = strtol(digits, &end, 10);
    snprintf(again, sizeof again, "%07ld.safetensors", step);
    return end != digits && step >= 0 && strcmp(digits, again) == 0 ? step : -1;
}

static int by_step(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return x < y ? -1 : x > y;
}

/* The steps of the checkpoints in dir below step, ascending: *out
 * (malloc'd; NULL on failure), *n of them. */
static int list_steps(long **out, int *n, const char *dir, const char *name, long step,
                      ug_error *err)
{
    *out = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? 0 : ug_fail(err, "%s: %s", dir, strerror(errno));
    int cap = 0, rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d))) {
        long s = checkpoint_step(e->d_name, name);
        if (s < 0 || s >= step)
            continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            long *grown = realloc(*out, (size_t)cap * sizeof *grown);
            if (!grown) {
                rc = ug_fail(err, "out of memory");
                break;
            }
            *out = grown;
        }
        (*out)[(*n)++] = s;
    }
    closedir(d);
    if (rc < 0) {
        free(*out);
        *out = NULL;
        *n = 0;
    } else if (*n > 1) {
        qsort(*out, (size_t)*n, sizeof **out, by_step);
    }
    return rc;
}

int ug_rho_history_read(ug_rho_history *h, const ug_model *m, const char *model_dir,
                        const char *name, long step, ug_error *err)
{
    memset(h, 0, sizeof *h);
    h->n_layers = ug_model_rho_count(m);
    size_t total = 0;
    for (int i = 0; i < h->n_layers; i++) {
        ug_rho_layer layer;
        if (ug_model_rho(m, i, &layer, err) < 0)
            return -1;
        total += (size_t)layer.channels;
    }
    long *steps = NULL;
    int n_steps = 0;
    float *values = malloc((total + 1) * sizeof *values);
    size_t plen = strlen(model_dir) + strlen(name) + 64;
    char *path = malloc(plen);
    int rc = values && path ? list_steps(&steps, &n_steps, model_dir, name, step, err)
                            : ug_fail(err, "out of memory");
    for (int k = 0; rc == 0 && k < n_steps; k++) {
        snprintf(path, plen, "%s/%s_params_%07ld.safetensors", model_dir, name, steps[k]);
        ug_error why;
        if (ug_rho_read(m, path, values, &why) < 0) {
            if (h->n_skipped++ == 0)
                h->first_skip = why;
            continue;
        }
        rc = add_point(h, m, steps[k], values, err);
    }
    if (rc == 0)
        rc = add_point(h, m, step, NULL, err);
    free(steps);
    free(values);
    free(path);
    if (rc < 0)
        ug_rho_history_free(h);
    return rc;
}
