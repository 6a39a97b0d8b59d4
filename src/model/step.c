/* The pieces of a training step (see step.h). */
#include "model/step.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>

#define ADAM_BETA1 0.5f
#define ADAM_BETA2 0.999f
#define ADAM_EPS 1e-8f

int ug_step_fwd_n(ug_step *s, ug_tape *tape, int net, const float *const *x, int N, int grad)
{
    if (s->failed)
        return -1;
    ug_model *m = s->t->m;
    int rc;
    if (grad) {
        s->t->comm->progress(s->t->comm);
        rc = ug_tape_forward(tape, m->k, s->a, &m->net[net], x, N, UG_TRAIN, s->err);
    } else {
        /* Dead activations are recycled: only the outputs are kept. */
        rc = ug_tape_forward_nograd(tape, m->k, s->a, &m->net[net], x, N, UG_TRAIN, s->err);
    }
    if (rc < 0)
        s->failed = 1;
    return s->failed ? -1 : 0;
}

int ug_step_fwd(ug_step *s, ug_tape *tape, int net, const float *x)
{
    return ug_step_fwd_n(s, tape, net, &x, s->t->batch, 1);
}

int ug_step_fwd_nograd(ug_step *s, ug_tape *tape, int net, const float *x)
{
    return ug_step_fwd_n(s, tape, net, &x, s->t->batch, 0);
}

/* The node of a network's output NAME; a missing one is a bug, reported. */
static int output(ug_step *s, const ug_tape *tape, const char *name)
{
    int node = ug_net_output(tape->net, name);
    if (node < 0 && !s->failed) {
        s->failed = 1;
        ug_fail(s->err, "internal: a network without its output '%s'", name);
    }
    return node;
}

int ug_step_has_cam(const ug_tape *tape) { return ug_net_output(tape->net, UG_OUT_CAM) >= 0; }

static float *grad_of(ug_step *s, ug_tape *tape, int node)
{
    float *g = s->failed ? NULL : ug_tape_grad(tape, s->a, node);
    if (!g && !s->failed) {
        s->failed = 1;
        ug_fail(s->err, "out of memory for gradients");
    }
    return g;
}

/* Where a loss on output NAME seeds its gradient, with the output's values
 * and size; NULL once the step has failed. */
static float *seed(ug_step *s, ug_tape *tape, const char *name, const float **x, size_t *n)
{
    int node = output(s, tape, name);
    float *g = node < 0 ? NULL : grad_of(s, tape, node);
    if (g) {
        *x = tape->out[node];
        *n = ug_tape_numel(tape, node);
    }
    return g;
}

float ug_step_mse(ug_step *s, ug_tape *tape, const char *name, float target, float scale)
{
    const float *x;
    size_t n;
    float *g = seed(s, tape, name, &x, &n);
    if (!g)
        return 0;
    ug_mse_const_backward(s->t->m->k, g, x, n, target, scale, 1);
    return ug_mse_const_forward(s->t->m->k, x, n, target);
}

float ug_step_bce(ug_step *s, ug_tape *tape, const char *name, float target, float scale)
{
    const float *x;
    size_t n;
    float *g = seed(s, tape, name, &x, &n);
    if (!g)
        return 0;
    ug_bce_logits_const_backward(s->t->m->k, g, x, n, target, scale, 1);
    return ug_bce_logits_const_forward(s->t->m->k, x, n, target);
}

float ug_step_l1(ug_step *s, ug_tape *tape, const float *target, float scale)
{
    const float *x;
    size_t n;
    float *g = seed(s, tape, UG_OUT_IMAGE, &x, &n);
    if (!g)
        return 0;
    ug_l1_backward(s->t->m->k, g, x, target, n, scale, 1);
    return ug_l1_forward(s->t->m->k, x, target, n);
}

void ug_step_bwd(ug_step *s, ug_tape *tape, int param_grads, int input_grad)
{
    s->t->comm->progress(s->t->comm);
    if (!s->failed &&
        ug_tape_backward(tape, s->t->m->k, s->a, param_grads, input_grad, s->err) < 0)
        s->failed = 1;
}

void ug_step_pass_back_from(ug_step *s, const ug_tape *d, const char *input, ug_tape *g)
{
    int out = output(s, g, UG_OUT_IMAGE), in = ug_net_input(d->net, input);
    float *dst = out < 0 ? NULL : grad_of(s, g, out);
    if (!dst || in < 0 || !d->grad[in])
        return;
    ug_add_forward(s->t->m->k, dst, dst, d->grad[in], ug_tape_numel(g, out));
}

void ug_step_pass_back(ug_step *s, const ug_tape *d, ug_tape *g)
{
    ug_step_pass_back_from(s, d, "image", g);
}

void ug_step_zero_grad(ug_step *s, unsigned nets)
{
    ug_model *m = s->t->m;
    for (int i = 0; i < m->fam->n_nets; i++)
        if (!s->failed && ((nets >> i) & 1u) && ug_net_zero_grad(&m->net[i], s->err) < 0)
            s->failed = 1;
}

/* Every rank decides on the mean of the loss over the ranks, so that all
 * go on or all stop. */
int ug_step_finite(ug_step *s, const char *name, float loss)
{
    ug_comm *c = s->t->comm;
    if (s->failed)
        return 0;
    if (c->allreduce(c, &loss, 1, s->err) < 0) {
        s->failed = 1;
        return 0;
    }
    loss /= (float)c->size;
    if (isfinite(loss))
        return 1;
    s->failed = 1;
    s->t->failed_everywhere = 1;
    ug_fail(s->err, "the losses are not finite (%s %g%s)", name, loss,
            c->size > 1 ? ", the mean over the ranks" : "");
    return 0;
}

void ug_step_grads_done(ug_step *s, int net)
{
    ug_trainer *t = s->t;
    ug_net *n = &t->m->net[net];
    if (s->failed || t->comm->size == 1 || t->grad_host[net] || ((s->reduced >> net) & 1u))
        return;
    float *g = n->be->map(n->grad, n->grad_total * sizeof *g);
    if (!g) {
        s->failed = 1;
        ug_fail(s->err, "out of memory reading the gradients of %s", t->m->fam->net_names[net]);
        return;
    }
    t->grad_host[net] = g;
    if (t->comm->iallreduce(t->comm, net, g, n->grad_total, s->err) < 0)
        s->failed = 1;
}

/* Waits for net's reduction and hands the gradient back to the backend. */
static int finish_reduction(ug_trainer *t, int net, ug_error *err)
{
    ug_net *n = &t->m->net[net];
    float *g = t->grad_host[net];
    if (!g)
        return 0;
    int rc = t->comm->wait(t->comm, net, err);
    if (rc == 0) {
        float inv = 1.0f / (float)t->comm->size; /* the mean, as one process on the whole batch */
        for (size_t i = 0; i < n->grad_total; i++)
            g[i] *= inv;
    }
    n->be->unmap(n->grad, g, n->grad_total * sizeof *g, rc == 0);
    t->grad_host[net] = NULL;
    return rc;
}

/* count floats at p (backend memory) gathered over the ranks in place, this
 * rank's at rank x count. */
static int gather_floats(ug_comm *c, const ug_backend *be, float *p, size_t count, ug_error *err)
{
    size_t bytes = (size_t)c->size * count * sizeof *p;
    float *h = be->map(p, bytes);
    if (!h)
        return ug_fail(err, "out of memory gathering gradient terms");
    int rc = c->allgather(c, h, count * sizeof *p, err);
    be->unmap(p, h, bytes, rc == 0);
    return rc;
}

/* The mean over the ranks of a gradient kept as terms: every rank's terms
 * side by side on every rank (rank j's at j x rank), at scale 1 / ranks. A
 * term is far smaller than the dense gradient, so this gathers a few MB
 * where an all-reduce would move the whole weight. */
static int gather_terms(ug_trainer *t, int net, ug_error *err)
{
    ug_comm *c = t->comm;
    ug_net *n = &t->m->net[net];
    for (int i = 0; i < n->n_terms; i++) {
        ug_terms *tm = &n->terms[i];
        const int r = tm->rank, K = c->size;
        int same;
        if (c->same(c, (uint64_t)r, &same, err) < 0)
            return -1;
        if (!same)
            return ug_fail(err, "internal: the ranks hold different numbers of gradient terms "
                                "of %s", n->params[tm->param].name);
        if (ug_terms_reserve(n->be, tm, K * r, err) < 0)
            return -1;
        if (c->rank > 0 && r > 0) { /* [0, r) and [rank x r, ...) do not overlap */
            n->be->copy(tm->u + (size_t)c->rank * r * tm->rows, tm->u,
                        (size_t)r * tm->rows * sizeof(float));
            n->be->copy(tm->v + (size_t)c->rank * r * tm->cols, tm->v,
                        (size_t)r * tm->cols * sizeof(float));
        }
        if (r > 0 && (gather_floats(c, n->be, tm->u, (size_t)r * tm->rows, err) < 0 ||
                      gather_floats(c, n->be, tm->v, (size_t)r * tm->cols, err) < 0))
            return -1;
        tm->rank = K * r;
        tm->scale = 1.0f / (float)K;
    }
    return 0;
}

void ug_step_drain(ug_trainer *t)
{
    ug_error ignored;
    for (int i = 0; i < t->m->fam->n_nets; i++)
        finish_reduction(t, i, &ignored);
}

void ug_step_adam(ug_step *s, int net) { ug_step_adam_at(s, net, s->lr, s->t->step + 1); }

/* net's gradient averaged over the ranks now (waiting for the reduction
 * that ug_step_grads_done started, or running it), until its Adam update. */
static int reduce(ug_step *s, int net)
{
    if (s->failed)
        return -1;
    if ((s->reduced >> net) & 1u)
        return 0; /* already (clipping, then Adam) */
    ug_step_grads_done(s, net);
    if (s->failed || finish_reduction(s->t, net, s->err) < 0 ||
        (s->t->comm->size > 1 && gather_terms(s->t, net, s->err) < 0)) {
        s->failed = 1;
        return -1;
    }
    s->reduced |= 1u << net;
    return 0;
}

void ug_step_clip_grad_norm(ug_step *s, int net, double max_norm)
{
    ug_net *n = &s->t->m->net[net];
    double sq = 0;
    if (reduce(s, net) < 0 || ug_net_grad_norm2(n, &sq, s->err) < 0) {
        s->failed = 1;
        return;
    }
    const double coef = max_norm / (sqrt(sq) + 1e-6);
    if (coef < 1 && ug_net_scale_grad(n, (float)coef, s->err) < 0)
        s->failed = 1;
}

/* Rows [r0, r0 + nr) of parameter p's Adam update, its moments at m and v:
 * a parameter whose gradient is kept as terms is rows x cols; any other, its
 * elements one to a row. ubuf holds the terms' u of those rows when they are
 * not all of them. */
static void adam_rows(ug_trainer *t, ug_net *n, int p, size_t r0, size_t nr, float *m, float *v,
                      float *ubuf, double lr, long count)
{
    const ug_param *pp = &n->params[p];
    const float wd = (float)t->tc.weight_decay;
    if (pp->terms < 0) {
        ug_adam_update(t->m->k, n->data + pp->off + r0, ug_param_grad(n, p) + r0, m, v, nr,
                       (float)lr, ADAM_BETA1, ADAM_BETA2, ADAM_EPS, wd, count);
        return;
    }
    const ug_terms *tm = &n->terms[pp->terms];
    const float *u = tm->u;
    if (nr < (size_t)tm->rows) {
        for (int r = 0; r < tm->rank; r++)
            for (size_t o = 0; o < nr; o++)
                ubuf[r * nr + o] = tm->u[(size_t)r * tm->rows + r0 + o];
        u = ubuf;
    }
    ug_adam_update_terms(t->m->k, n->data + pp->off + r0 * tm->cols, u, tm->v, tm->rank, (int)nr,
                         tm->cols, tm->scale, m, v, (float)lr, ADAM_BETA1, ADAM_BETA2, ADAM_EPS,
                         wd, count);
}

/* Parameter p's update with its moments in files: chunks of t->spill_chunk
 * floats of each (whole rows, at least one) read, updated and written back,
 * one chunk to a thread at a time (copying through the page cache is most of
 * the work; the update within a chunk runs on its thread alone). */
static int adam_spilled(ug_trainer *t, int net, int p, double lr, long count, ug_error *err)
{
    ug_net *n = &t->m->net[net];
    const ug_param *pp = &n->params[p];
    const ug_terms *tm = pp->terms < 0 ? NULL : &n->terms[pp->terms];
    const size_t rows = tm ? (size_t)tm->rows : pp->numel, cols = tm ? (size_t)tm->cols : 1;
    size_t step = t->spill_chunk / cols ? t->spill_chunk / cols : 1;
    step = step < rows ? step : rows;
    const size_t chunks = (rows + step - 1) / step;
    const size_t floats = 2 * step * cols + (tm ? (size_t)tm->rank * step : 0);
    /* One buffer a thread, kept from update to update: a fresh one each time
     * would be paged in anew for every parameter. */
    const size_t need = (size_t)omp_get_max_threads() * floats;
    if (need > t->spill_buf_floats) {
        free(t->spill_buf);
        t->spill_buf_floats = 0;
        if (!(t->spill_buf = malloc(need * sizeof *t->spill_buf)))
            return ug_fail(err, "out of memory updating parameter %s", pp->name);
        t->spill_buf_floats = need;
    }
    int failed = 0;
#pragma omp parallel
    {
        ug_error e;
        float *m = t->spill_buf + (size_t)omp_get_thread_num() * floats, *v = m + step * cols;
        int mine = 0;
#pragma omp for schedule(dynamic)
        for (size_t c = 0; c < chunks; c++) {
            const size_t r0 = c * step, nr = rows - r0 < step ? rows - r0 : step;
            const size_t bytes = nr * cols * sizeof(float);
            const size_t off = (pp->off + r0 * cols) * sizeof(float);
            if (mine || ug_spill_read(&t->moments[0][net], off, m, bytes, &e) < 0 ||
                ug_spill_read(&t->moments[1][net], off, v, bytes, &e) < 0) {
                mine = -1;
                continue;
            }
            adam_rows(t, n, p, r0, nr, m, v, v + step * cols, lr, count);
            if (ug_spill_write(&t->moments[0][net], off, m, bytes, &e) < 0 ||
                ug_spill_write(&t->moments[1][net], off, v, bytes, &e) < 0)
                mine = -1;
        }
        if (mine) {
#pragma omp critical(adam_spilled)
            if (!failed++)
                *err = e;
        }
    }
    return failed ? -1 : 0;
}

void ug_step_adam_at(ug_step *s, int net, double lr, long count)
{
    ug_trainer *t = s->t;
    if (reduce(s, net) < 0)
        return;
    ug_net *n = &t->m->net[net];
    for (int p = 0; p < n->n_params; p++) {
        const ug_param *pp = &n->params[p];
        if (pp->kind != UG_TRAINABLE)
            continue;
        if (t->tc.moments_dir) {
            if (adam_spilled(t, net, p, lr, count, s->err) < 0) {
                s->failed = 1;
                return;
            }
            continue;
        }
        const size_t rows = pp->terms < 0 ? pp->numel : (size_t)n->terms[pp->terms].rows;
        adam_rows(t, n, p, 0, rows, t->adam_m[net] + pp->off, t->adam_v[net] + pp->off, NULL,
                  lr, count);
    }
    ug_net_clamp(n, t->m->k);
    s->reduced &= ~(1u << net);
}
