/* The pieces of a training step (see step.h). */
#include "model/step.h"

#include <math.h>


#define ADAM_BETA1 0.5f
#define ADAM_BETA2 0.999f
#define ADAM_EPS 1e-8f

int ug_step_fwd(ug_step *s, ug_tape *tape, int net, const float *x)
{
    if (s->failed)
        return -1;
    ug_model *m = s->t->m;
    if (ug_tape_forward(tape, m->k, s->a, &m->net[net], &x, s->t->tc.batch_size, UG_TRAIN,
                        s->err) < 0)
        s->failed = 1;
    return s->failed ? -1 : 0;
}

/* Dead activations are recycled: only the outputs are kept. */
int ug_step_fwd_nograd(ug_step *s, ug_tape *tape, int net, const float *x)
{
    if (s->failed)
        return -1;
    ug_model *m = s->t->m;
    if (ug_tape_forward_nograd(tape, m->k, s->a, &m->net[net], &x, s->t->tc.batch_size,
                               UG_TRAIN, s->err) < 0)
        s->failed = 1;
    return s->failed ? -1 : 0;
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
    if (!s->failed &&
        ug_tape_backward(tape, s->t->m->k, s->a, param_grads, input_grad, s->err) < 0)
        s->failed = 1;
}

void ug_step_pass_back(ug_step *s, const ug_tape *d, ug_tape *g)
{
    int out = output(s, g, UG_OUT_IMAGE), in = ug_net_input(d->net, "image");
    float *dst = out < 0 ? NULL : grad_of(s, g, out);
    if (!dst || in < 0 || !d->grad[in])
        return;
    ug_add_forward(s->t->m->k, dst, dst, d->grad[in], ug_tape_numel(g, out));
}

void ug_step_zero_grad(ug_step *s, unsigned nets)
{
    ug_model *m = s->t->m;
    for (int i = 0; i < m->fam->n_nets; i++)
        if (!s->failed && ((nets >> i) & 1u) && ug_net_zero_grad(&m->net[i], s->err) < 0)
            s->failed = 1;
}

int ug_step_finite(ug_step *s, const char *name, float loss)
{
    if (isfinite(loss))
        return 1;
    s->failed = 1;
    ug_fail(s->err, "the losses are not finite (%s %g)", name, loss);
    return 0;
}

void ug_step_adam(ug_step *s, int net)
{
    if (s->failed)
        return;
    ug_trainer *t = s->t;
    ug_net *n = &t->m->net[net];
    for (int p = 0; p < n->n_params; p++) {
        const ug_param *pp = &n->params[p];
        if (pp->kind != UG_TRAINABLE)
            continue;
        ug_adam_update(t->m->k, n->data + pp->off, n->grad + pp->off,
                       t->adam_m[net] + pp->off, t->adam_v[net] + pp->off, pp->numel,
                       (float)s->lr, ADAM_BETA1, ADAM_BETA2, ADAM_EPS,
                       (float)t->tc.weight_decay, t->step + 1);
    }
    ug_net_clamp(n, t->m->k);
}
