/* Channel-wise and element-wise ops: per-channel scaling by a parameter,
 * concatenation along channels, the channel sum (the heatmap), and addition
 * and multiplication, one operand possibly broadcast over H, W. The ops,
 * then their kernels, which are their own references (the CPU backend runs
 * them too). */
#include <string.h>

#include "ops/ops.h"

static int plane(const ug_node *nd) { return nd->H * nd->W; }

static int scale_shape(const ug_net *net, ug_node *nd, ug_error *err)
{
    const ug_node *x = ug_op_input(net, nd, 0, err);
    if (!x)
        return -1;
    /* The CAM weights are linear weights of shape 1 x C. */
    if (ug_op_check_param(net, nd, nd->p[0], 2, (int64_t[]){1, x->C}, err) < 0)
        return -1;
    nd->C = x->C, nd->H = x->H, nd->W = x->W;
    return 0;
}

static int scale_forward(ug_tape *t, ug_kctx *k, int i, const float *x, float *out, int relu,
                         ug_error *err)
{
    (void)relu, (void)err;
    const ug_node *nd = &t->net->nodes[i];
    ug_scale_channels_forward(k, out, x, ug_param_data(t->net, nd->p[0]), t->N, nd->C, plane(nd));
    return 0;
}

static int scale_backward(ug_bwd *b, ug_kctx *k, int i, int param_grads, ug_error *err)
{
    (void)err;
    const ug_tape *t = b->t;
    const ug_node *nd = &t->net->nodes[i];
    int acc;
    float *din = ug_bwd_din(b, nd->in[0], &acc);
    float *dw = param_grads ? ug_param_grad(t->net, nd->p[0]) : NULL;
    ug_scale_channels_backward(k, din, dw, t->grad[i], t->out[nd->in[0]],
                               ug_param_data(t->net, nd->p[0]), t->N, nd->C, plane(nd), acc);
    return 0;
}

const ug_op_def ug_op_scale = {"scale", UG_OPF_OVERWRITES_IN0, scale_shape, NULL, scale_forward,
                               scale_backward, NULL};

/* The inputs of a concatenation: in[0], in[1], ... up to the first -1. */
static int concat_inputs(const ug_node *nd)
{
    int n = 0;
    while (n < UG_NODE_IN && nd->in[n] >= 0)
        n++;
    return n;
}

static int concat_shape(const ug_net *net, ug_node *nd, ug_error *err)
{
    const int n = concat_inputs(nd);
    if (n < 2)
        return ug_fail(err, "internal: concat of %d input", n);
    nd->C = 0;
    for (int j = 0; j < n; j++) {
        const ug_node *x = ug_op_input(net, nd, j, err);
        if (!x)
            return -1;
        if (j > 0 && (x->H != nd->H || x->W != nd->W))
            return ug_fail(err, "internal: concatenating %dx%d and %dx%d maps", nd->H, nd->W,
                           x->H, x->W);
        nd->C += x->C, nd->H = x->H, nd->W = x->W;
    }
    return 0;
}

/* The channel counts of node i's inputs into C; returns how many. */
static int concat_channels(const ug_tape *t, int i, int *C)
{
    const ug_node *nd = &t->net->nodes[i];
    const int n = concat_inputs(nd);
    for (int j = 0; j < n; j++)
        C[j] = t->net->nodes[nd->in[j]].C;
    return n;
}

static int concat_forward(ug_tape *t, ug_kctx *k, int i, const float *x, float *out, int relu,
                          ug_error *err)
{
    (void)relu, (void)err;
    const ug_node *nd = &t->net->nodes[i];
    int C[UG_NODE_IN];
    const float *in[UG_NODE_IN];
    const int n = concat_channels(t, i, C);
    for (int j = 0; j < n; j++)
        in[j] = j ? t->out[nd->in[j]] : x;
    ug_concat_forward(k, out, in, C, n, t->N, plane(nd));
    return 0;
}

static int concat_backward(ug_bwd *b, ug_kctx *k, int i, int param_grads, ug_error *err)
{
    (void)param_grads, (void)err;
    const ug_node *nd = &b->t->net->nodes[i];
    int C[UG_NODE_IN], acc[UG_NODE_IN];
    float *din[UG_NODE_IN];
    const int n = concat_channels(b->t, i, C);
    for (int j = 0; j < n; j++)
        din[j] = ug_bwd_din(b, nd->in[j], &acc[j]);
    ug_concat_backward(k, din, acc, b->t->grad[i], C, n, b->t->N, plane(nd));
    return 0;
}

const ug_op_def ug_op_concat = {"concat", 0, concat_shape, NULL, concat_forward,
                                concat_backward, ug_layout_any};

/* in[0] (C x H x W) and the code in[1] (Z x 1 x 1) tiled over H x W. */
static int concat_tiled_shape(const ug_net *net, ug_node *nd, ug_error *err)
{
    const ug_node *x = ug_op_input(net, nd, 0, err), *z = x ? ug_op_input(net, nd, 1, err) : NULL;
    if (!z)
        return -1;
    if (z->H != 1 || z->W != 1)
        return ug_fail(err, "internal: tiling a %dx%d map (a code is 1x1)", z->H, z->W);
    nd->C = x->C + z->C, nd->H = x->H, nd->W = x->W;
    return 0;
}

static int concat_tiled_forward(ug_tape *t, ug_kctx *k, int i, const float *x, float *out,
                                int relu, ug_error *err)
{
    (void)relu, (void)err;
    const ug_node *nd = &t->net->nodes[i];
    const int C = t->net->nodes[nd->in[0]].C;
    ug_concat_tiled_forward(k, out, x, t->out[nd->in[1]], t->N, C, nd->C - C, plane(nd));
    return 0;
}

static int concat_tiled_backward(ug_bwd *b, ug_kctx *k, int i, int param_grads, ug_error *err)
{
    (void)param_grads, (void)err;
    const ug_node *nd = &b->t->net->nodes[i];
    const int C = b->t->net->nodes[nd->in[0]].C;
    int accx, accz;
    float *dx = ug_bwd_din(b, nd->in[0], &accx);
    float *dz = ug_bwd_din(b, nd->in[1], &accz);
    ug_concat_tiled_backward(k, dx, accx, dz, accz, b->t->grad[i], b->t->N, C, nd->C - C,
                             plane(nd));
    return 0;
}

const ug_op_def ug_op_concat_tiled = {"concat_tiled", 0, concat_tiled_shape, NULL,
                                      concat_tiled_forward, concat_tiled_backward, NULL};

static int chsum_shape(const ug_net *net, ug_node *nd, ug_error *err)
{
    const ug_node *x = ug_op_input(net, nd, 0, err);
    if (!x)
        return -1;
    nd->C = 1, nd->H = x->H, nd->W = x->W;
    return 0;
}

static int chsum_forward(ug_tape *t, ug_kctx *k, int i, const float *x, float *out, int relu,
                         ug_error *err)
{
    (void)relu, (void)err;
    const ug_node *nd = &t->net->nodes[i];
    ug_channel_sum_forward(k, out, x, t->N, t->net->nodes[nd->in[0]].C, plane(nd));
    return 0;
}

static int chsum_backward(ug_bwd *b, ug_kctx *k, int i, int param_grads, ug_error *err)
{
    (void)param_grads, (void)err;
    const ug_node *nd = &b->t->net->nodes[i];
    int acc;
    float *din = ug_bwd_din(b, nd->in[0], &acc);
    if (din)
        ug_channel_sum_backward(k, din, b->t->grad[i], b->t->N, b->t->net->nodes[nd->in[0]].C,
                                plane(nd), acc);
    return 0;
}

const ug_op_def ug_op_chsum = {"chsum", 0, chsum_shape, NULL, chsum_forward, chsum_backward, NULL};

/* Add and multiply: two inputs of the same shape, or one C x H x W and one
 * C x 1 x 1 broadcast over H, W. */
static int eltwise_shape(const ug_net *net, ug_node *nd, ug_error *err)
{
    const ug_node *a = ug_op_input(net, nd, 0, err), *b = ug_op_input(net, nd, 1, err);
    if (!a || !b)
        return -1;
    const int a_one = a->H == 1 && a->W == 1, b_one = b->H == 1 && b->W == 1;
    if (a->C != b->C || ((a->H != b->H || a->W != b->W) && !a_one && !b_one))
        return ug_fail(err, "internal: %s %dx%dx%d and %dx%dx%d",
                       nd->op == OP_ADD ? "adding" : "multiplying", a->C, a->H, a->W, b->C, b->H,
                       b->W);
    const ug_node *big = b_one ? a : b;
    nd->C = big->C, nd->H = big->H, nd->W = big->W;
    return 0;
}

/* Node i's operands as kernel arguments: the full one first (*swap when that
 * is in[1]), and whether the other is one value per plane. */
typedef struct {
    int full, other, per_plane, swap;
} operands;

static operands operands_of(const ug_tape *t, int i)
{
    const ug_node *nd = &t->net->nodes[i];
    const ug_node *b = &t->net->nodes[nd->in[1]];
    operands o = {nd->in[0], nd->in[1], 0, 0};
    if (plane(b) != plane(nd))
        o.per_plane = 1;
    else if (plane(&t->net->nodes[nd->in[0]]) != plane(nd))
        o.per_plane = 1, o.swap = 1, o.full = nd->in[1], o.other = nd->in[0];
    return o;
}

static size_t planes(const ug_tape *t, int i) { return (size_t)t->N * t->net->nodes[i].C; }

static int add_forward(ug_tape *t, ug_kctx *k, int i, const float *x, float *out, int relu,
                       ug_error *err)
{
    (void)relu, (void)err;
    const operands o = operands_of(t, i);
    const float *a = o.swap ? t->out[o.full] : x, *b = o.swap ? x : t->out[o.other];
    if (o.per_plane)
        ug_add_planes_forward(k, out, a, b, planes(t, i), (size_t)plane(&t->net->nodes[i]));
    else
        ug_add_forward(k, out, a, b, ug_tape_numel(t, i));
    return 0;
}

static int add_backward(ug_bwd *b, ug_kctx *k, int i, int param_grads, ug_error *err)
{
    (void)param_grads, (void)err;
    const operands o = operands_of(b->t, i);
    int acc_a, acc_b;
    float *da = ug_bwd_din(b, o.full, &acc_a);
    float *db = ug_bwd_din(b, o.other, &acc_b);
    if (o.per_plane)
        ug_add_planes_backward(k, da, db, b->t->grad[i], planes(b->t, i),
                               (size_t)plane(&b->t->net->nodes[i]), acc_a, acc_b);
    else
        ug_add_backward(k, da, db, b->t->grad[i], ug_tape_numel(b->t, i), acc_a, acc_b);
    return 0;
}

const ug_op_def ug_op_add = {"add", UG_OPF_OVERWRITES_ANY, eltwise_shape, NULL, add_forward,
                             add_backward, ug_layout_any};

static int mul_forward(ug_tape *t, ug_kctx *k, int i, const float *x, float *out, int relu,
                       ug_error *err)
{
    (void)relu, (void)err;
    const operands o = operands_of(t, i);
    const float *a = o.swap ? t->out[o.full] : x, *b = o.swap ? x : t->out[o.other];
    ug_mul_forward(k, out, a, b, planes(t, i), (size_t)plane(&t->net->nodes[i]), o.per_plane);
    return 0;
}

static int mul_backward(ug_bwd *b, ug_kctx *k, int i, int param_grads, ug_error *err)
{
    (void)param_grads, (void)err;
    const ug_tape *t = b->t;
    const operands o = operands_of(t, i);
    int acc_a, acc_b;
    float *da = ug_bwd_din(b, o.full, &acc_a);
    float *db = ug_bwd_din(b, o.other, &acc_b);
    ug_mul_backward(k, da, db, t->grad[i], t->out[o.full], t->out[o.other], planes(t, i),
                    (size_t)plane(&t->net->nodes[i]), o.per_plane, acc_a, acc_b);
    return 0;
}

const ug_op_def ug_op_mul = {"mul", UG_OPF_OVERWRITES_ANY, eltwise_shape, NULL, mul_forward,
                             mul_backward, NULL};

/* ---- the kernels: the plain references, which the CPU backend runs too ---- */

void ug_scale_channels_forward_ref(ug_kctx *k, float *out, const float *in, const float *w, int N,
                                   int C, int HW)
{
    (void)k;
    const long planes = (long)N * C;
#pragma omp parallel for schedule(static)
    for (long nc = 0; nc < planes; nc++) {
        const float s = w[nc % C];
        const float *x = in + (size_t)nc * HW;
        float *y = out + (size_t)nc * HW;
        for (int i = 0; i < HW; i++)
            y[i] = x[i] * s;
    }
}

void ug_scale_channels_backward_ref(ug_kctx *k, float *din, float *dw, const float *dout,
                                    const float *in, const float *w, int N, int C, int HW, int acc)
{
    (void)k;
    if (dw) {
        /* One channel per iteration, so no two threads touch the same dw[c]. */
#pragma omp parallel for schedule(static)
        for (int c = 0; c < C; c++) {
            double s = 0;
            for (int n = 0; n < N; n++) {
                const size_t off = ((size_t)n * C + c) * HW;
                for (int i = 0; i < HW; i++)
                    s += (double)dout[off + i] * in[off + i];
            }
            dw[c] += (float)s;
        }
    }
    if (din) {
        const long planes = (long)N * C;
#pragma omp parallel for schedule(static)
        for (long nc = 0; nc < planes; nc++) {
            const float s = w[nc % C];
            const float *dy = dout + (size_t)nc * HW;
            float *dx = din + (size_t)nc * HW;
            for (int i = 0; i < HW; i++)
                dx[i] = acc ? dx[i] + dy[i] * s : dy[i] * s;
        }
    }
}

void ug_concat_forward_ref(ug_kctx *k, float *out, const float *const *in, const int *C, int n_in,
                           int N, int HW)
{
    (void)k;
    size_t total = 0;
    for (int j = 0; j < n_in; j++)
        total += (size_t)C[j] * HW;
    for (int n = 0; n < N; n++) {
        float *o = out + (size_t)n * total;
        for (int j = 0; j < n_in; j++) {
            const size_t nj = (size_t)C[j] * HW;
            memcpy(o, in[j] + (size_t)n * nj, sizeof(float) * nj);
            o += nj;
        }
    }
}

/* dst = src (acc == 0) or dst += src; dst may be src. */
static void copy_or_add(float *dst, const float *src, size_t n, int acc)
{
    if (!acc) {
        if (dst != src)
            memcpy(dst, src, sizeof(float) * n);
        return;
    }
    for (size_t i = 0; i < n; i++)
        dst[i] += src[i];
}

void ug_concat_backward_ref(ug_kctx *k, float *const *din, const int *acc, const float *dout,
                            const int *C, int n_in, int N, int HW)
{
    (void)k;
    size_t total = 0;
    for (int j = 0; j < n_in; j++)
        total += (size_t)C[j] * HW;
    /* Input by input, so one node given twice gets the sum of both parts. */
    for (int j = 0, off = 0; j < n_in; off += C[j] * HW, j++) {
        const size_t nj = (size_t)C[j] * HW;
        for (int n = 0; din[j] && n < N; n++)
            copy_or_add(din[j] + (size_t)n * nj, dout + (size_t)n * total + off, nj, acc[j]);
    }
}

void ug_channel_sum_forward_ref(ug_kctx *k, float *out, const float *in, int N, int C, int HW)
{
    (void)k;
    /* In runs of RUN pixels, each channel's run read in order: walking down
     * the channels one pixel at a time would read a cache line per term. */
    enum { RUN = 64 };
    const int runs = (HW + RUN - 1) / RUN;
#pragma omp parallel for schedule(static)
    for (long nr = 0; nr < (long)N * runs; nr++) {
        const int n = (int)(nr / runs), i0 = (int)(nr % runs) * RUN;
        const int m = HW - i0 < RUN ? HW - i0 : RUN;
        double s[RUN] = {0};
        for (int c = 0; c < C; c++) {
            const float *x = in + ((size_t)n * C + c) * HW + i0;
            for (int i = 0; i < m; i++)
                s[i] += x[i];
        }
        for (int i = 0; i < m; i++)
            out[(size_t)n * HW + i0 + i] = (float)s[i];
    }
}

void ug_channel_sum_backward_ref(ug_kctx *k, float *din, const float *dout, int N, int C, int HW,
                                 int acc)
{
    (void)k;
    if (!din)
        return;
    const long planes = (long)N * C;
#pragma omp parallel for schedule(static)
    for (long nc = 0; nc < planes; nc++)
        copy_or_add(din + (size_t)nc * HW, dout + (size_t)(nc / C) * HW, (size_t)HW, acc);
}

void ug_add_forward_ref(ug_kctx *k, float *out, const float *a, const float *b, size_t n)
{
    (void)k;
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++)
        out[i] = a[i] + b[i];
}

void ug_add_backward_ref(ug_kctx *k, float *da, float *db, const float *dout, size_t n, int acc_a,
                         int acc_b)
{
    (void)k;
    /* da or db may be dout itself: within each chunk that one is written last. */
    enum { CHUNK = 1 << 14 };
    const int a_last = da == dout;
    float *first = a_last ? db : da, *last = a_last ? da : db;
    const int acc_first = a_last ? acc_b : acc_a, acc_last = a_last ? acc_a : acc_b;
#pragma omp parallel for schedule(static)
    for (size_t c = 0; c < n; c += CHUNK) {
        const size_t m = n - c < CHUNK ? n - c : CHUNK;
        if (first)
            copy_or_add(first + c, dout + c, m, acc_first);
        if (last)
            copy_or_add(last + c, dout + c, m, acc_last);
    }
}

void ug_add_planes_forward_ref(ug_kctx *k, float *out, const float *a, const float *b,
                               size_t planes, size_t HW)
{
    (void)k;
#pragma omp parallel for schedule(static)
    for (size_t p = 0; p < planes; p++)
        for (size_t i = 0; i < HW; i++)
            out[p * HW + i] = a[p * HW + i] + b[p];
}

void ug_add_planes_backward_ref(ug_kctx *k, float *da, float *db, const float *dout, size_t planes,
                                size_t HW, int acc_a, int acc_b)
{
    (void)k;
#pragma omp parallel for schedule(static)
    for (size_t p = 0; p < planes; p++) {
        double s = 0;
        for (size_t i = 0; i < HW; i++) {
            const float g = dout[p * HW + i];
            s += g;
            if (da)
                da[p * HW + i] = acc_a ? da[p * HW + i] + g : g;
        }
        if (db)
            db[p] = acc_b ? db[p] + (float)s : (float)s;
    }
}

void ug_mul_forward_ref(ug_kctx *k, float *out, const float *a, const float *b, size_t planes,
                        size_t HW, int b_planes)
{
    (void)k;
#pragma omp parallel for schedule(static)
    for (size_t p = 0; p < planes; p++)
        for (size_t i = 0; i < HW; i++)
            out[p * HW + i] = a[p * HW + i] * b[b_planes ? p : p * HW + i];
}

void ug_mul_backward_ref(ug_kctx *k, float *da, float *db, const float *dout, const float *a,
                         const float *b, size_t planes, size_t HW, int b_planes, int acc_a,
                         int acc_b)
{
    (void)k;
#pragma omp parallel for schedule(static)
    for (size_t p = 0; p < planes; p++) {
        double s = 0;
        for (size_t i = 0; i < HW; i++) {
            const size_t j = p * HW + i, jb = b_planes ? p : j;
            const float g = dout[j], av = a[j], bv = b[jb];
            if (da)
                da[j] = acc_a ? da[j] + g * bv : g * bv;
            if (db && b_planes)
                s += (double)g * av;
            else if (db)
                db[j] = acc_b ? db[j] + g * av : g * av;
        }
        if (db && b_planes)
            db[p] = acc_b ? db[p] + (float)s : (float)s;
    }
}

void ug_concat_tiled_forward_ref(ug_kctx *k, float *out, const float *x, const float *z, int N,
                                 int C, int Z, int HW)
{
    (void)k;
    for (int n = 0; n < N; n++) {
        float *o = out + (size_t)n * (C + Z) * HW;
        memcpy(o, x + (size_t)n * C * HW, sizeof(float) * C * HW);
        for (int c = 0; c < Z; c++)
            for (int i = 0; i < HW; i++)
                o[(size_t)(C + c) * HW + i] = z[n * Z + c];
    }
}

void ug_concat_tiled_backward_ref(ug_kctx *k, float *dx, int accx, float *dz, int accz,
                                  const float *dout, int N, int C, int Z, int HW)
{
    (void)k;
    for (int n = 0; n < N; n++) {
        const float *g = dout + (size_t)n * (C + Z) * HW;
        if (dx)
            copy_or_add(dx + (size_t)n * C * HW, g, (size_t)C * HW, accx);
        for (int c = 0; dz && c < Z; c++) {
            double s = 0;
            for (int i = 0; i < HW; i++)
                s += g[(size_t)(C + c) * HW + i];
            dz[n * Z + c] = accz ? dz[n * Z + c] + (float)s : (float)s;
        }
    }
}
