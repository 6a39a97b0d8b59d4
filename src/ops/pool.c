/* Pooling: global, to C x 1 x 1, average and max, and windowed, max and
 * average; the ops, then their kernels, which are their own references (the
 * CPU backend runs them too). Max pooling saves the position of each maximum
 * for the backward pass. */
#include <math.h>

#include <string.h>

#include "ops/ops.h"

static int pool_shape(const ug_net *net, ug_node *nd, ug_error *err)
{
    const ug_node *x = ug_op_input(net, nd, 0, err);
    if (!x)
        return -1;
    nd->C = x->C, nd->H = nd->W = 1;
    return 0;
}

static int plane(const ug_tape *t, int i)
{
    const ug_node *x = &t->net->nodes[t->net->nodes[i].in[0]];
    return x->H * x->W;
}

static int gap_forward(ug_tape *t, ug_kctx *k, int i, const float *x, float *out, int relu,
                       ug_error *err)
{
    (void)relu, (void)err;
    ug_gap_forward(k, out, x, t->N, t->net->nodes[i].C, plane(t, i));
    return 0;
}

static int gap_backward(ug_bwd *b, ug_kctx *k, int i, int param_grads, ug_error *err)
{
    (void)param_grads, (void)err;
    const ug_node *nd = &b->t->net->nodes[i];
    int acc;
    float *din = ug_bwd_din(b, nd->in[0], &acc);
    if (din)
        ug_gap_backward(k, din, b->t->grad[i], b->t->N, nd->C, plane(b->t, i), acc);
    return 0;
}

const ug_op_def ug_op_gap = {"gap", 0, pool_shape, NULL, gap_forward, gap_backward, NULL};

static size_t gmp_aux(const ug_node *nd, int N) { return (size_t)N * nd->C * sizeof(int32_t); }

static int gmp_forward(ug_tape *t, ug_kctx *k, int i, const float *x, float *out, int relu,
                       ug_error *err)
{
    (void)relu, (void)err;
    ug_gmp_forward(k, out, t->aux[i], x, t->N, t->net->nodes[i].C, plane(t, i));
    return 0;
}

static int gmp_backward(ug_bwd *b, ug_kctx *k, int i, int param_grads, ug_error *err)
{
    (void)param_grads, (void)err;
    const ug_node *nd = &b->t->net->nodes[i];
    int acc;
    float *din = ug_bwd_din(b, nd->in[0], &acc);
    if (din)
        ug_gmp_backward(k, din, b->t->grad[i], b->t->aux[i], b->t->N, nd->C, plane(b->t, i), acc);
    return 0;
}

const ug_op_def ug_op_gmp = {"gmp", 0, pool_shape, gmp_aux, gmp_forward, gmp_backward, NULL};

/* Windowed pooling: kernel kh x kw, .stride, .pad on every side, at most
 * half the kernel (as PyTorch requires). */
static int pool2d_shape(const ug_net *net, ug_node *nd, ug_error *err)
{
    const ug_node *x = ug_op_input(net, nd, 0, err);
    if (!x)
        return -1;
    if (nd->kh < 1 || nd->kw < 1 || nd->stride < 1 || nd->pad < 0 || 2 * nd->pad > nd->kh ||
        2 * nd->pad > nd->kw)
        return ug_fail(err, "internal: %s %dx%d stride %d padding %d (at most half the kernel)",
                       ug_op_get(nd->op)->name, nd->kh, nd->kw, nd->stride, nd->pad);
    if (x->H + 2 * nd->pad < nd->kh || x->W + 2 * nd->pad < nd->kw)
        return ug_fail(err, "the image is too small for this network: a %dx%d feature map is "
                            "smaller than a %dx%d pooling window", x->H, x->W, nd->kh, nd->kw);
    nd->C = x->C;
    nd->H = (x->H + 2 * nd->pad - nd->kh) / nd->stride + 1;
    nd->W = (x->W + 2 * nd->pad - nd->kw) / nd->stride + 1;
    return 0;
}

static ug_pool_shape pool_of(const ug_tape *t, int i)
{
    const ug_node *nd = &t->net->nodes[i], *x = &t->net->nodes[nd->in[0]];
    ug_pool_shape s = {t->N, x->C, x->H, x->W, nd->kh, nd->kw, nd->stride, nd->pad};
    return s;
}

static size_t maxpool_aux(const ug_node *nd, int N)
{
    return (size_t)N * nd->C * nd->H * nd->W * sizeof(int32_t);
}

static int maxpool_forward(ug_tape *t, ug_kctx *k, int i, const float *x, float *out, int relu,
                           ug_error *err)
{
    (void)relu, (void)err;
    const ug_pool_shape s = pool_of(t, i);
    ug_maxpool_forward(k, out, t->aux[i], x, &s);
    return 0;
}

static int maxpool_backward(ug_bwd *b, ug_kctx *k, int i, int param_grads, ug_error *err)
{
    (void)param_grads, (void)err;
    int acc;
    float *din = ug_bwd_din(b, b->t->net->nodes[i].in[0], &acc);
    const ug_pool_shape s = pool_of(b->t, i);
    if (din)
        ug_maxpool_backward(k, din, b->t->grad[i], b->t->aux[i], &s, acc);
    return 0;
}

const ug_op_def ug_op_maxpool = {"maxpool", 0, pool2d_shape, maxpool_aux, maxpool_forward,
                                 maxpool_backward, NULL};

static int avgpool_forward(ug_tape *t, ug_kctx *k, int i, const float *x, float *out, int relu,
                           ug_error *err)
{
    (void)relu, (void)err;
    const ug_pool_shape s = pool_of(t, i);
    ug_avgpool_forward(k, out, x, &s, t->net->nodes[i].count_pad);
    return 0;
}

static int avgpool_backward(ug_bwd *b, ug_kctx *k, int i, int param_grads, ug_error *err)
{
    (void)param_grads, (void)err;
    const ug_node *nd = &b->t->net->nodes[i];
    int acc;
    float *din = ug_bwd_din(b, nd->in[0], &acc);
    const ug_pool_shape s = pool_of(b->t, i);
    if (din)
        ug_avgpool_backward(k, din, b->t->grad[i], &s, nd->count_pad, acc);
    return 0;
}

const ug_op_def ug_op_avgpool = {"avgpool", 0, pool2d_shape, NULL, avgpool_forward,
                                 avgpool_backward, NULL};

/* ---- the kernels: the plain references, which the CPU backend runs too ---- */

void ug_gap_forward_ref(ug_kctx *k, float *out, const float *in, int N, int C, int HW)
{
    (void)k;
    const long planes = (long)N * C;
#pragma omp parallel for schedule(static)
    for (long nc = 0; nc < planes; nc++) {
        const float *x = in + (size_t)nc * HW;
        double s = 0;
        for (int i = 0; i < HW; i++)
            s += x[i];
        out[nc] = (float)(s / HW);
    }
}

void ug_gap_backward_ref(ug_kctx *k, float *din, const float *dout, int N, int C, int HW, int acc)
{
    (void)k;
    if (!din)
        return;
    const long planes = (long)N * C;
#pragma omp parallel for schedule(static)
    for (long nc = 0; nc < planes; nc++) {
        float *dx = din + (size_t)nc * HW;
        const float g = dout[nc] / (float)HW;
        for (int i = 0; i < HW; i++)
            dx[i] = acc ? dx[i] + g : g;
    }
}

void ug_gmp_forward_ref(ug_kctx *k, float *out, int32_t *argmax, const float *in, int N, int C,
                        int HW)
{
    (void)k;
    const long planes = (long)N * C;
#pragma omp parallel for schedule(static)
    for (long nc = 0; nc < planes; nc++) {
        const float *x = in + (size_t)nc * HW;
        int best = 0;
        for (int i = 1; i < HW; i++)
            if (x[i] > x[best]) /* strict: the first maximum wins ties */
                best = i;
        out[nc] = x[best];
        argmax[nc] = best;
    }
}

void ug_gmp_backward_ref(ug_kctx *k, float *din, const float *dout, const int32_t *argmax, int N,
                         int C, int HW, int acc)
{
    (void)k;
    if (!din)
        return;
    const long planes = (long)N * C;
#pragma omp parallel for schedule(static)
    for (long nc = 0; nc < planes; nc++) {
        float *dx = din + (size_t)nc * HW;
        if (!acc)
            memset(dx, 0, sizeof(float) * (size_t)HW);
        dx[argmax[nc]] += dout[nc];
    }
}

int ug_pool_out_h(const ug_pool_shape *s) { return (s->H + 2 * s->pad - s->kh) / s->stride + 1; }
int ug_pool_out_w(const ug_pool_shape *s) { return (s->W + 2 * s->pad - s->kw) / s->stride + 1; }

/* The window of output (oh, ow) clipped to the input: rows [*h0, *h1), columns [*w0, *w1). */
static void window(const ug_pool_shape *s, int oh, int ow, int *h0, int *h1, int *w0, int *w1)
{
    const int hs = oh * s->stride - s->pad, ws = ow * s->stride - s->pad;
    *h0 = hs < 0 ? 0 : hs, *h1 = hs + s->kh > s->H ? s->H : hs + s->kh;
    *w0 = ws < 0 ? 0 : ws, *w1 = ws + s->kw > s->W ? s->W : ws + s->kw;
}

void ug_maxpool_forward_ref(ug_kctx *k, float *out, int32_t *argmax, const float *in,
                            const ug_pool_shape *s)
{
    (void)k;
    const int OH = ug_pool_out_h(s), OW = ug_pool_out_w(s);
    const long planes = (long)s->N * s->C;
#pragma omp parallel for schedule(static)
    for (long nc = 0; nc < planes; nc++) {
        const float *x = in + (size_t)nc * s->H * s->W;
        for (int oh = 0; oh < OH; oh++)
            for (int ow = 0; ow < OW; ow++) {
                int h0, h1, w0, w1;
                window(s, oh, ow, &h0, &h1, &w0, &w1);
                int best = h0 * s->W + w0;
                float m = -INFINITY;
                for (int h = h0; h < h1; h++)
                    for (int w = w0; w < w1; w++) {
                        const float v = x[h * s->W + w];
                        if (v > m || isnan(v)) {
                            m = v, best = h * s->W + w;
                            if (isnan(v))
                                h = h1, w = w1; /* a NaN is the maximum */
                        }
                    }
                const size_t o = ((size_t)nc * OH + oh) * OW + ow;
                out[o] = m;
                argmax[o] = best;
            }
    }
}

void ug_maxpool_backward_ref(ug_kctx *k, float *din, const float *dout, const int32_t *argmax,
                             const ug_pool_shape *s, int acc)
{
    (void)k;
    const size_t HW = (size_t)s->H * s->W, OHW = (size_t)ug_pool_out_h(s) * ug_pool_out_w(s);
    const long planes = (long)s->N * s->C;
#pragma omp parallel for schedule(static)
    for (long nc = 0; nc < planes; nc++) {
        float *d = din + (size_t)nc * HW;
        if (!acc)
            memset(d, 0, HW * sizeof *d);
        for (size_t o = 0; o < OHW; o++)
            d[argmax[nc * OHW + o]] += dout[nc * OHW + o];
    }
}

/* The divisor of output (oh, ow)'s window. */
static int divisor(const ug_pool_shape *s, int count_pad, int h0, int h1, int w0, int w1)
{
    return count_pad ? s->kh * s->kw : (h1 - h0) * (w1 - w0);
}

void ug_avgpool_forward_ref(ug_kctx *k, float *out, const float *in, const ug_pool_shape *s,
                            int count_pad)
{
    (void)k;
    const int OH = ug_pool_out_h(s), OW = ug_pool_out_w(s);
    const long planes = (long)s->N * s->C;
#pragma omp parallel for schedule(static)
    for (long nc = 0; nc < planes; nc++) {
        const float *x = in + (size_t)nc * s->H * s->W;
        for (int oh = 0; oh < OH; oh++)
            for (int ow = 0; ow < OW; ow++) {
                int h0, h1, w0, w1;
                window(s, oh, ow, &h0, &h1, &w0, &w1);
                double sum = 0;
                for (int h = h0; h < h1; h++)
                    for (int w = w0; w < w1; w++)
                        sum += x[h * s->W + w];
                out[((size_t)nc * OH + oh) * OW + ow] =
                    (float)(sum / divisor(s, count_pad, h0, h1, w0, w1));
            }
    }
}

void ug_avgpool_backward_ref(ug_kctx *k, float *din, const float *dout, const ug_pool_shape *s,
                             int count_pad, int acc)
{
    (void)k;
    const int OH = ug_pool_out_h(s), OW = ug_pool_out_w(s);
    const size_t HW = (size_t)s->H * s->W;
    const long planes = (long)s->N * s->C;
#pragma omp parallel for schedule(static)
    for (long nc = 0; nc < planes; nc++) {
        float *d = din + (size_t)nc * HW;
        if (!acc)
            memset(d, 0, HW * sizeof *d);
        for (int oh = 0; oh < OH; oh++)
            for (int ow = 0; ow < OW; ow++) {
                int h0, h1, w0, w1;
                window(s, oh, ow, &h0, &h1, &w0, &w1);
                const float g = dout[((size_t)nc * OH + oh) * OW + ow] /
                                (float)divisor(s, count_pad, h0, h1, w0, w1);
                for (int h = h0; h < h1; h++)
                    for (int w = w0; w < w1; w++)
                        d[h * s->W + w] += g;
            }
    }
}
