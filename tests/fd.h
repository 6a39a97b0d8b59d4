/* The finite-difference harness of the kernel tests: a case names up to 4
 * variables (inputs or parameters), a forward that computes out from them,
 * and a backward that writes their gradients into grad[i] (skipping a NULL
 * grad[i]) given dout and acc; fd_check holds the backward to central
 * differences of L = sum(out * w) for a random w, and checks the acc
 * (overwrite / accumulate) and NULL-gradient rules. */
#ifndef UG_TEST_FD_H
#define UG_TEST_FD_H

#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/rng.h"

static ug_rng rng;

static inline float *alloc(size_t n)
{
    float *p = calloc(n ? n : 1, sizeof(float));
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return p;
}

static inline void fill_uniform(float *x, size_t n, float lo, float hi)
{
    for (size_t i = 0; i < n; i++)
        x[i] = lo + (hi - lo) * (float)ug_rng_uniform(&rng);
}

/* Uniform values bounded away from zero (|x| in [0.2, 1]), for kinks at 0. */
static inline void fill_away_from_zero(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const float m = 0.2f + 0.8f * (float)ug_rng_uniform(&rng);
        x[i] = ug_rng_uniform(&rng) < 0.5 ? -m : m;
    }
}

#define FD_MAXVAR 4

typedef struct fd_case fd_case;
struct fd_case {
    const char *name;
    void (*forward)(fd_case *c, float *out);
    void (*backward)(fd_case *c, const float *dout, int acc);
    int nvar;
    float *x[FD_MAXVAR];
    size_t nx[FD_MAXVAR];
    int is_param[FD_MAXVAR]; /* parameters always accumulate */
    float *grad[FD_MAXVAR];
    size_t nout;
    float eps; /* finite-difference step */
    void *data; /* the kernel-specific rest */
};

static inline double weighted_loss(fd_case *c, float *out, const float *wts)
{
    c->forward(c, out);
    double s = 0;
    for (size_t i = 0; i < c->nout; i++)
        s += (double)out[i] * wts[i];
    return s;
}

/* Fills grad buffers: inputs with in_fill, parameters with param_fill. */
static inline void fill_grads(fd_case *c, float **g, float in_fill, float param_fill)
{
    for (int v = 0; v < c->nvar; v++)
        for (size_t i = 0; i < c->nx[v]; i++)
            g[v][i] = c->is_param[v] ? param_fill : in_fill;
}

static inline void fd_check(fd_case *c, double tol)
{
    float *out = alloc(c->nout), *wts = alloc(c->nout);
    fill_uniform(wts, c->nout, -1, 1);
    float *num[FD_MAXVAR], *ana[FD_MAXVAR], *buf[FD_MAXVAR];

    /* Numerical gradients. */
    for (int v = 0; v < c->nvar; v++) {
        num[v] = alloc(c->nx[v]);
        ana[v] = alloc(c->nx[v]);
        buf[v] = alloc(c->nx[v]);
        for (size_t i = 0; i < c->nx[v]; i++) {
            const float x0 = c->x[v][i];
            c->x[v][i] = x0 + c->eps;
            const double lp = weighted_loss(c, out, wts);
            c->x[v][i] = x0 - c->eps;
            const double lm = weighted_loss(c, out, wts);
            c->x[v][i] = x0;
            num[v][i] = (float)((lp - lm) / (2.0 * c->eps));
        }
    }

    /* Analytic, acc = 0: inputs must be overwritten (start from garbage),
     * parameters accumulated (start from 0.5). */
    c->forward(c, out);
    fill_grads(c, ana, 123.0f, 0.5f);
    for (int v = 0; v < c->nvar; v++)
        c->grad[v] = ana[v];
    c->backward(c, wts, 0);
    for (int v = 0; v < c->nvar; v++) {
        if (c->is_param[v])
            for (size_t i = 0; i < c->nx[v]; i++)
                ana[v][i] -= 0.5f;
        const double rel = check_rel_l2(ana[v], num[v], c->nx[v]);
        CHECK(rel < tol, "%s: var %d gradient vs finite differences: rel %g", c->name, v, rel);
    }

    /* acc = 1: everything adds onto existing content. */
    fill_grads(c, buf, 1.0f, 1.0f);
    for (int v = 0; v < c->nvar; v++)
        c->grad[v] = buf[v];
    c->backward(c, wts, 1);
    for (int v = 0; v < c->nvar; v++) {
        for (size_t i = 0; i < c->nx[v]; i++)
            buf[v][i] -= 1.0f;
        const double d = check_max_abs_diff(buf[v], ana[v], c->nx[v]);
        CHECK(d < 1e-5, "%s: var %d acc=1 does not add: diff %g", c->name, v, d);
    }

    /* One gradient at a time, the others NULL: the same values. */
    for (int v = 0; v < c->nvar && c->nvar > 1; v++) {
        for (int u = 0; u < c->nvar; u++)
            c->grad[u] = NULL;
        memset(buf[v], 0, sizeof(float) * c->nx[v]);
        c->grad[v] = buf[v];
        c->backward(c, wts, 0);
        const double d = check_max_abs_diff(buf[v], ana[v], c->nx[v]);
        CHECK(d < 1e-5, "%s: var %d alone (others NULL) differs: %g", c->name, v, d);
    }

    for (int v = 0; v < c->nvar; v++) {
        free(num[v]);
        free(ana[v]);
        free(buf[v]);
        c->grad[v] = NULL;
    }
    free(out);
    free(wts);
}

#endif
