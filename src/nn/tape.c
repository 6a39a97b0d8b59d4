/* Forward and backward over a network's graph (see tape.h). */
#include "nn/tape.h"

#include "nn/op.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- profiling ---- */

#define PROF_MAX 512
#define PROF_SN_FWD 100 /* pseudo-op: the spectral norms of a call (their backward is in the node) */

typedef struct {
    int op, C, H, W, inC, inH, k, stride; /* op: a ug_op, or PROF_SN_FWD */
    double fwd, bwd;
    long nfwd, nbwd;
} prof_entry;

static int prof_on;
static prof_entry prof[PROF_MAX];
static int prof_n;

void ug_tape_profile_enable(int on) { prof_on = on; }

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void prof_add(const ug_net *net, int op, int node, double dt, int bwd)
{
    prof_entry key = {op, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    if (node >= 0) {
        const ug_node *nd = &net->nodes[node];
        key.C = nd->C, key.H = nd->H, key.W = nd->W, key.k = nd->kh, key.stride = nd->stride;
        if (nd->in[0] >= 0)
            key.inC = net->nodes[nd->in[0]].C, key.inH = net->nodes[nd->in[0]].H;
    }
    int i;
    for (i = 0; i < prof_n; i++)
        if (memcmp(&prof[i], &key, 8 * sizeof(int)) == 0)
            break;
    if (i == prof_n) {
        if (prof_n == PROF_MAX)
            return;
        prof[prof_n++] = key;
    }
    if (bwd)
        prof[i].bwd += dt, prof[i].nbwd++;
    else
        prof[i].fwd += dt, prof[i].nfwd++;
}

static int prof_cmp(const void *a, const void *b)
{
    const prof_entry *x = a, *y = b;
    double tx = x->fwd + x->bwd, ty = y->fwd + y->bwd;
    return tx < ty ? 1 : tx > ty ? -1 : 0;
}

void ug_tape_profile_print(FILE *f)
{
    double total = 0;
    for (int i = 0; i < prof_n; i++)
        total += prof[i].fwd + prof[i].bwd;
    qsort(prof, (size_t)prof_n, sizeof *prof, prof_cmp);
    fprintf(f, "%-8s %-26s %9s %6s %9s %6s %6s\n", "op", "in -> out (C x H), k/s", "fwd s",
            "calls", "bwd s", "calls", "share");
    for (int i = 0; i < prof_n; i++) {
        const prof_entry *e = &prof[i];
        const char *name = e->op == PROF_SN_FWD ? "sn_fwd" : ug_op_get((ug_op)e->op)->name;
        char shape[64];
        snprintf(shape, sizeof shape, "%dx%d -> %dx%d k%d/%d", e->inC, e->inH, e->C, e->H, e->k,
                 e->stride);
        fprintf(f, "%-8s %-26s %9.4f %6ld %9.4f %6ld %5.1f%%\n", name, shape, e->fwd, e->nfwd,
                e->bwd, e->nbwd, total > 0 ? 100 * (e->fwd + e->bwd) / total : 0.0);
    }
    fprintf(f, "total %.4f s in nodes\n", total);
    prof_n = 0;
}

static size_t node_numel(const ug_tape *t, int i) { return ug_tape_numel(t, i); }

/* W / sigma goes to the context's scratch, so no call keeps a weight-sized copy. */
const float *ug_tape_weight(const ug_tape *t, ug_kctx *k, int p)
{
    const ug_param *pp = &t->net->params[p];
    if (!t->sn_uv[p])
        return ug_param_data(t->net, p);
    float *w = ug_kctx_scratch(k, pp->numel);
    if (!w)
        return NULL;
    ug_spectral_norm_apply(k, w, ug_param_data(t->net, p), t->sigma[p], pp->numel);
    return w;
}

int ug_tape_oom(ug_error *err) { return ug_fail(err, "out of memory for activations"); }

static int oom(ug_error *err) { return ug_tape_oom(err); }

/* Computes the spectrally normalised weights for this call. */
static int spectral_norms(ug_tape *t, ug_kctx *k, ug_arena *a, int update, ug_error *err)
{
    ug_net *net = t->net;
    double t0 = prof_on ? now_s() : 0;
    for (int p = 0; p < net->n_params; p++) {
        const ug_param *pp = &net->params[p];
        if (pp->sn_u < 0)
            continue;
        int rows = (int)pp->shape[0], cols = (int)(pp->numel / (size_t)rows);
        float *u = ug_param_data(net, pp->sn_u), *v = ug_param_data(net, pp->sn_v);
        t->sn_uv[p] = ug_arena_floats(a, (size_t)rows + (size_t)cols);
        double *work = ug_arena_alloc(a, ((size_t)rows + (size_t)cols) * sizeof(double));
        if (!t->sn_uv[p] || !work)
            return oom(err);
        t->sigma[p] = ug_spectral_norm_forward(k, NULL, u, v, ug_param_data(net, p), rows, cols,
                                               update, work);
        k->be->copy(t->sn_uv[p], u, (size_t)rows * sizeof(float));
        k->be->copy(t->sn_uv[p] + rows, v, (size_t)cols * sizeof(float));
    }
    if (prof_on)
        prof_add(net, PROF_SN_FWD, -1, now_s() - t0, 0);
    return 0;
}

static int tape_alloc(ug_tape *t, ug_arena *a, ug_net *net, int N, ug_mode mode)
{
    memset(t, 0, sizeof *t);
    t->net = net;
    t->N = N;
    t->mode = mode;
    size_t nn = (size_t)net->n_nodes, np = (size_t)net->n_params;
    /* The tables are the host's; what they point at is the backend's. */
    t->out = ug_arena_host(a, nn * sizeof *t->out);
    t->aux = ug_arena_host(a, nn * sizeof *t->aux);
    t->grad = ug_arena_host(a, nn * sizeof *t->grad);
    t->blocked = ug_arena_host(a, nn);
    t->plain = ug_arena_host(a, nn * sizeof *t->plain);
    t->sn_uv = ug_arena_host(a, np * sizeof *t->sn_uv);
    t->sigma = ug_arena_host(a, np * sizeof *t->sigma);
    if (!t->out || !t->aux || !t->grad || !t->blocked || !t->plain || !t->sn_uv || !t->sigma)
        return -1;
    memset(t->blocked, 0, nn);
    memset(t->plain, 0, nn * sizeof *t->plain);
    memset(t->aux, 0, nn * sizeof *t->aux);
    memset(t->grad, 0, nn * sizeof *t->grad);
    memset(t->sn_uv, 0, np * sizeof *t->sn_uv);
    memset(t->out, 0, nn * sizeof *t->out);
    return 0;
}

static int is_input(const ug_net *net, int j) { return net->nodes[j].op == OP_INPUT; }

/* The caller's data of every named input; the spectral norms of this call. */
static int start(ug_tape *t, ug_kctx *k, ug_arena *a, ug_net *net, const float *const *inputs,
                 int N, ug_mode mode, ug_error *err)
{
    if (tape_alloc(t, a, net, N, mode) < 0)
        return oom(err);
    for (int i = 0; i < net->n_in; i++)
        t->out[net->in[i].node] = (float *)inputs[i];
    return spectral_norms(t, k, a, mode == UG_TRAIN, err);
}

const float *ug_tape_output(const ug_tape *t, const char *name)
{
    int node = ug_net_output(t->net, name);
    return node < 0 ? NULL : t->out[node];
}

/* What node i's backward pass needs besides values (normalisation
 * statistics, max-pool positions), allocated before the node's inputs can go
 * back to the arena: a kernel must never write its statistics over an input
 * it is still reading. */
static int alloc_aux(ug_tape *t, ug_arena *a, int i)
{
    const ug_node *nd = &t->net->nodes[i];
    const ug_op_def *def = ug_op_get(nd->op);
    if (!def->aux_bytes)
        return 0;
    t->aux[i] = ug_arena_alloc(a, def->aux_bytes(nd, t->N));
    return t->aux[i] ? 0 : -1;
}

/* fuse_relu: a normalisation applies the ReLU that follows it (relu_fused). */
static int forward_node(ug_tape *t, ug_kctx *k, int i, int fuse_relu, ug_error *err)
{
    const ug_node *nd = &t->net->nodes[i];
    const float *x = nd->in[0] >= 0 ? t->out[nd->in[0]] : NULL;
    return ug_op_get(nd->op)->forward(t, k, i, x, t->out[i], fuse_relu, err);
}

static int flags_of(const ug_net *net, int j) { return ug_op_get(net->nodes[j].op)->flags; }

static int is_output(const ug_net *net, int j)
{
    for (int o = 0; o < net->n_out; o++)
        if (net->out[o].node == j)
            return 1;
    return 0;
}

/* Memory planning of the recording forward pass (the tape keeps what the
 * backward pass reads, not every output):
 *
 * An activation (ReLU, LeakyReLU) writes over its input when it is that
 * input's only reader, the input's own backward does not read its output,
 * the input is not a copy the tape drops, and it is not a network output: the
 * activation's backward reads only its own output. */
static int relu_in_place(const ug_net *net, const ug_node *nd, int j, const int *readers)
{
    if (!(ug_op_get(nd->op)->flags & UG_OPF_ACTIVATION) || is_input(net, j) || readers[j] != 1)
        return 0;
    if (is_output(net, j))
        return 0;
    return !(flags_of(net, j) & (UG_OPF_READS_OUTPUT | UG_OPF_RECOMPUTABLE));
}

/* A normalisation read only by a ReLU, the next node, applies the ReLU in
 * its own pass and the ReLU node takes over its buffer (one pass over memory
 * fewer). The normalisation's output is then never seen, which is safe in
 * the recording pass too: its backward reads its input, not its output. */
static int relu_fused(const ug_net *net, int j, const int *readers)
{
    if (j < 0 || j + 1 >= net->n_nodes || readers[j] != 1)
        return 0;
    if (!(flags_of(net, j) & UG_OPF_FUSES_RELU))
        return 0;
    if (is_output(net, j))
        return 0;
    return net->nodes[j + 1].op == OP_RELU && net->nodes[j + 1].in[0] == j;
}

/* readers[j]: how many nodes read node j's output (an arena array). */
static int *count_readers(ug_arena *a, const ug_net *net)
{
    const int nn = net->n_nodes;
    int *readers = ug_arena_host(a, (size_t)nn * sizeof *readers);
    if (!readers)
        return NULL;
    memset(readers, 0, (size_t)nn * sizeof *readers);
    for (int i = 0; i < nn; i++)
        for (int j = 0; j < UG_NODE_IN; j++)
            if (net->nodes[i].in[j] >= 0)
                readers[net->nodes[i].in[j]]++;
    return readers;
}

/* Copies that a convolution's weight gradient can make again from what the
 * tape keeps are not kept (their own backward passes read no values): a
 * recomputable node (a reflection pad, an up-sampling) read only by the next
 * node, which reads it only for its weight gradient (a convolution) or is
 * itself such a copy. See ug_bwd_recompute(). */
static int recomputed(const ug_net *net, int j, const int *readers)
{
    if (j < 0 || j + 1 >= net->n_nodes || readers[j] != 1 || is_output(net, j) ||
        net->nodes[j + 1].in[0] != j || !(flags_of(net, j) & UG_OPF_RECOMPUTABLE))
        return 0;
    return (flags_of(net, j + 1) & UG_OPF_INPUT_FOR_WGRAD) || recomputed(net, j + 1, readers);
}

int ug_tape_forward(ug_tape *t, ug_kctx *k, ug_arena *a, ug_net *net,
                    const float *const *inputs, int N, ug_mode mode, ug_error *err)
{
    if (start(t, k, a, net, inputs, N, mode, err) < 0)
        return -1;
    const int nn = net->n_nodes;
    int *readers = count_readers(a, net);
    if (!readers)
        return oom(err);
    for (int i = 0; i < nn; i++) {
        const ug_node *nd = &net->nodes[i];
        const int j = nd->in[0];
        if (is_input(net, i))
            continue;
        if (alloc_aux(t, a, i) < 0)
            return oom(err);
        if (relu_in_place(net, nd, j, readers))
            t->out[i] = t->out[j]; /* see relu_in_place */
        else if (!(t->out[i] = ug_arena_floats(a, node_numel(t, i))))
            return oom(err);
        if (relu_fused(net, j, readers))
            continue; /* applied by node j; relu_in_place shared the buffer */
        double t0 = prof_on ? now_s() : 0;
        if (forward_node(t, k, i, relu_fused(net, i, readers), err) < 0)
            return -1;
        if (prof_on)
            prof_add(net, nd->op, i, now_s() - t0, 0);
        if (recomputed(net, j, readers)) {
            /* Its only reader has run: not kept (see recomputed). */
            ug_arena_release(a, t->out[j], node_numel(t, j) * sizeof(float));
            t->out[j] = NULL;
        }
    }
    return 0;
}

/* ---- channel-blocked images in a pass without a tape (op.h's ug_layout) ---- */

ug_layout ug_layout_any(const ug_tape *t, ug_kctx *k, int i)
{
    (void)t, (void)k, (void)i;
    return UG_LAYOUT_ANY;
}

ug_layout ug_layout_keeps(const ug_tape *t, ug_kctx *k, int i)
{
    (void)t, (void)k, (void)i;
    return UG_LAYOUT_KEEPS;
}

/* Node i's output is a network output, or becomes one through a ReLU that
 * takes over its buffer (relu_fused). */
static int output_plain(const ug_net *net, int i, const int *readers)
{
    return is_output(net, i) || (relu_fused(net, i, readers) && is_output(net, i + 1));
}

static ug_layout rule_of(const ug_tape *t, ug_kctx *k, int i)
{
    const ug_op_def *def = ug_op_get(t->net->nodes[i].op);
    return def->layout ? def->layout(t, k, i) : UG_LAYOUT_PLAIN;
}

/* Some needed reader of node i may take it blocked (a convolution's output
 * that only plain readers take would only be converted back). */
static int read_blocked(const ug_tape *t, ug_kctx *k, int i, const unsigned char *needed)
{
    const ug_net *net = t->net;
    for (int r = i + 1; r < net->n_nodes; r++)
        for (int j = 0; needed[r] && j < UG_NODE_IN; j++)
            if (net->nodes[r].in[j] == i && rule_of(t, k, r) != UG_LAYOUT_PLAIN)
                return 1;
    return 0;
}

/* Decides t->blocked[i] by node i's rule; returns the rule. */
static ug_layout plan_layout(ug_tape *t, ug_kctx *k, int i, const int *readers,
                             const unsigned char *needed)
{
    const ug_net *net = t->net;
    const ug_node *nd = &net->nodes[i];
    const ug_layout rule = rule_of(t, k, i);
    int blocked = nd->C % UG_BLOCK == 0 && nd->H * nd->W > 1 && !output_plain(net, i, readers);
    if (rule == UG_LAYOUT_PLAIN)
        blocked = 0;
    else if (rule == UG_LAYOUT_MAKES)
        blocked &= read_blocked(t, k, i, needed);
    else if (rule == UG_LAYOUT_KEEPS)
        blocked &= t->blocked[nd->in[0]];
    else if (rule == UG_LAYOUT_ANY)
        for (int j = 0; j < UG_NODE_IN && nd->in[j] >= 0; j++) {
            const ug_node *x = &net->nodes[nd->in[j]];
            blocked &= t->blocked[nd->in[j]] && x->H == nd->H && x->W == nd->W;
        }
    t->blocked[i] = (unsigned char)blocked;
    return rule;
}

/* Whether node i, of rule `rule`, reads its input slot j as it is when blocked. */
static int reads_blocked(const ug_tape *t, int i, ug_layout rule, int j)
{
    if (rule == UG_LAYOUT_MAKES)
        return j == 0;
    if (rule == UG_LAYOUT_KEEPS)
        return j == 0 && t->blocked[i];
    return rule == UG_LAYOUT_ANY && t->blocked[i];
}

/* Shows node i its blocked inputs that it reads plain as plain copies (made
 * once per input, kept while it lives): t->out points at the copy and
 * t->blocked is 0 until restore_inputs, which saved[] lets put back. */
static int plain_inputs(ug_tape *t, ug_kctx *k, ug_arena *a, int i, ug_layout rule,
                        float **saved)
{
    const ug_node *nd = &t->net->nodes[i];
    for (int j = 0; j < UG_NODE_IN; j++)
        saved[j] = NULL;
    for (int j = 0; j < UG_NODE_IN; j++) {
        const int in = nd->in[j];
        if (in < 0 || !t->blocked[in] || reads_blocked(t, i, rule, j))
            continue; /* plain, already swapped (an input read twice), or read blocked */
        if (!t->plain[in]) {
            const ug_node *x = &t->net->nodes[in];
            if (!(t->plain[in] = ug_arena_floats(a, node_numel(t, in))))
                return -1;
            ug_layout_convert(k, t->plain[in], t->out[in], t->N, x->C, x->H * x->W, 0);
        }
        saved[j] = t->out[in];
        t->out[in] = t->plain[in];
        t->blocked[in] = 0;
    }
    return 0;
}

static void restore_inputs(ug_tape *t, int i, float *const *saved)
{
    for (int j = UG_NODE_IN - 1; j >= 0; j--)
        if (saved[j]) {
            t->out[t->net->nodes[i].in[j]] = saved[j];
            t->blocked[t->net->nodes[i].in[j]] = 1;
        }
}

/* ---- forward without a tape: buffers recycled by liveness ---- */

int ug_tape_forward_nograd(ug_tape *t, ug_kctx *k, ug_arena *a, ug_net *net,
                           const float *const *inputs, int N, ug_mode mode, ug_error *err)
{
    return ug_tape_forward_outputs(t, k, a, net, inputs, N, mode, ~0u, err);
}

int ug_tape_forward_outputs(ug_tape *t, ug_kctx *k, ug_arena *a, ug_net *net,
                            const float *const *inputs, int N, ug_mode mode, unsigned outputs,
                            ug_error *err)
{
    if (start(t, k, a, net, inputs, N, mode, err) < 0)
        return -1;
    const int nn = net->n_nodes;
    /* needed[i]: node i leads to a wanted output (nodes are in topological
     * order, so one pass from the end finds them); last[j]: the last needed
     * node reading node j's output (nn for the network's outputs). */
    int *last = ug_arena_host(a, (size_t)nn * sizeof *last);
    unsigned char *needed = ug_arena_host(a, (size_t)nn);
    int *readers = count_readers(a, net);
    if (!last || !needed || !readers)
        return oom(err);
    memset(needed, 0, (size_t)nn);
    for (int o = 0; o < net->n_out; o++)
        needed[net->out[o].node] |= (outputs >> o) & 1u;
    for (int i = nn - 1; i >= 0; i--)
        for (int j = 0; needed[i] && j < UG_NODE_IN; j++)
            if (net->nodes[i].in[j] >= 0)
                needed[net->nodes[i].in[j]] = 1;
    for (int i = 0; i < nn; i++) {
        last[i] = i;
        for (int j = 0; needed[i] && j < UG_NODE_IN; j++)
            if (net->nodes[i].in[j] >= 0)
                last[net->nodes[i].in[j]] = i;
    }
    for (int o = 0; o < net->n_out; o++)
        last[net->out[o].node] = nn;
    for (int i = 0; i < net->n_in; i++)
        last[net->in[i].node] = nn; /* the caller's inputs are never recycled */
    for (int i = 0; i < nn; i++) {
        const ug_node *nd = &net->nodes[i];
        if (is_input(net, i) || !needed[i])
            continue;
        if (relu_fused(net, nd->in[0], readers)) {
            /* Applied by the normalisation: take over its buffer. */
            t->out[i] = t->out[nd->in[0]];
            t->blocked[i] = t->blocked[nd->in[0]];
            t->out[nd->in[0]] = NULL;
            continue;
        }
        const ug_layout rule = plan_layout(t, k, i, readers, needed);
        /* The inputs whose last reader this is, each once. */
        int dying[UG_NODE_IN], ndying = 0;
        for (int j = 0; j < UG_NODE_IN; j++) {
            int in = nd->in[j], seen = 0;
            for (int e = 0; e < j; e++)
                seen |= nd->in[e] == in;
            if (in >= 0 && last[in] == i && t->out[in] && !seen)
                dying[ndying++] = in;
        }
        /* The output takes over a dying input the kernel can write over (the
         * first input of an element-wise or per-plane kernel, or either
         * operand of an add), exactly in place. */
        int reuse = -1;
        if (alloc_aux(t, a, i) < 0)
            return oom(err);
        const int flags = ug_op_get(nd->op)->flags;
        if (flags & (UG_OPF_OVERWRITES_IN0 | UG_OPF_OVERWRITES_ANY))
            for (int d = 0; d < ndying && reuse < 0; d++)
                if ((dying[d] == nd->in[0] || (flags & UG_OPF_OVERWRITES_ANY)) &&
                    node_numel(t, dying[d]) == node_numel(t, i))
                    reuse = d;
        if (reuse >= 0)
            t->out[i] = t->out[dying[reuse]];
        else if (!(t->out[i] = ug_arena_floats(a, node_numel(t, i))))
            return oom(err);
        double t0 = prof_on ? now_s() : 0;
        float *saved[UG_NODE_IN];
        const int converted = plain_inputs(t, k, a, i, rule, saved);
        const int rc = converted < 0 ? -1 : forward_node(t, k, i, relu_fused(net, i, readers), err);
        restore_inputs(t, i, saved);
        if (converted < 0)
            return oom(err);
        if (rc < 0)
            return -1;
        if (prof_on)
            prof_add(net, nd->op, i, now_s() - t0, 0);
        for (int d = 0; d < ndying; d++) {
            const size_t bytes = node_numel(t, dying[d]) * sizeof(float);
            if (d != reuse)
                ug_arena_release(a, t->out[dying[d]], bytes);
            ug_arena_release(a, t->plain[dying[d]], bytes);
            t->out[dying[d]] = t->plain[dying[d]] = NULL;
        }
    }
    return 0;
}

float *ug_tape_grad(ug_tape *t, ug_arena *a, int node)
{
    if (!t->grad[node])
        t->grad[node] = ug_arena_zeros(a, node_numel(t, node));
    return t->grad[node];
}

float *ug_bwd_din(ug_bwd *b, int j, int *acc)
{
    *acc = 0;
    if (is_input(b->t->net, j) && !b->input_grad)
        return NULL;
    if (b->t->grad[j]) {
        *acc = 1;
        return b->t->grad[j];
    }
    b->t->grad[j] = ug_arena_floats(b->a, node_numel(b->t, j));
    if (!b->t->grad[j])
        b->failed = 1;
    return b->t->grad[j];
}

float *ug_bwd_recompute(ug_bwd *b, ug_kctx *k, int j)
{
    ug_tape *t = b->t;
    const ug_node *nd = &t->net->nodes[j];
    const float *in = t->out[nd->in[0]];
    float *made = NULL;
    if (!in && !(in = made = ug_bwd_recompute(b, k, nd->in[0])))
        return NULL;
    float *out = ug_arena_floats(b->a, node_numel(t, j));
    ug_error ignored;
    if (out && ug_op_get(nd->op)->forward(t, k, j, in, out, 0, &ignored) < 0) {
        ug_arena_release(b->a, out, node_numel(t, j) * sizeof(float));
        out = NULL;
    }
    if (made)
        ug_arena_release(b->a, made, node_numel(t, nd->in[0]) * sizeof(float));
    return out;
}

/* Such a node computes and folds its weight gradient before its input
 * gradient, whose W / sigma (ug_tape_weight) then takes the same scratch: one
 * weight-sized buffer instead of two. */
float *ug_bwd_weight_grad(ug_bwd *b, ug_kctx *k, int p)
{
    ug_tape *t = b->t;
    if (!t->sn_uv[p])
        return ug_param_grad(t->net, p);
    size_t n = t->net->params[p].numel;
    float *dw = ug_kctx_scratch(k, n);
    if (!dw)
        b->failed = 1;
    else
        k->be->zero(dw, n * sizeof *dw);
    return dw;
}

/* weight_orig's gradient from the spectrally normalised weight's (this
 * call's sigma, u and v). */
void ug_bwd_fold_sn(ug_tape *t, ug_kctx *k, int p, const float *dw_sn)
{
    const ug_net *net = t->net;
    const ug_param *pp = &net->params[p];
    int rows = (int)pp->shape[0], cols = (int)(pp->numel / (size_t)rows);
    ug_spectral_norm_backward(k, ug_param_grad(net, p), dw_sn, ug_param_data(net, p), t->sn_uv[p],
                              t->sn_uv[p] + rows, t->sigma[p], rows, cols);
}

int ug_tape_backward(ug_tape *t, ug_kctx *k, ug_arena *a, int param_grads, int input_grad,
                     ug_error *err)
{
    if (param_grads && !t->net->grad)
        return ug_fail(err, "internal: parameter gradients requested before ug_net_zero_grad");
    ug_bwd b = {t, a, input_grad, 0};
    const ug_net *net = t->net;
    for (int i = net->n_nodes - 1; i >= 0; i--) {
        if (is_input(net, i))
            continue; /* its gradient is the caller's */
        if (t->grad[i]) {
            double t0 = prof_on ? now_s() : 0;
            if (ug_op_get(net->nodes[i].op)->backward(&b, k, i, param_grads, err) < 0)
                return -1;
            if (b.failed)
                return oom(err);
            if (prof_on)
                prof_add(net, net->nodes[i].op, i, now_s() - t0, 1);
        }
        /* Every reader of node i has run backward (they come after it), so
         * its output and gradient are dead: back to the arena. An output
         * that an in-place ReLU shares goes back with its input. */
        size_t bytes = node_numel(t, i) * sizeof(float);
        ug_arena_release(a, t->grad[i], bytes);
        t->grad[i] = NULL;
        int j = net->nodes[i].in[0];
        if (t->out[i] && !(j >= 0 && t->out[j] == t->out[i]))
            ug_arena_release(a, t->out[i], bytes);
        t->out[i] = NULL;
    }
    return 0;
}
