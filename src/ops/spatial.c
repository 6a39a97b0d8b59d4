/* Spatial copies: reflection padding and nearest-neighbour up-sampling by 2;
 * the ops, then their kernels, which are their own references (the CPU
 * backend runs them too). Both are cheap to make again, so the tape may drop
 * their outputs. */
#include <string.h>

#include "ops/ops.h"

static int pad_shape(const ug_net *net, ug_node *nd, ug_error *err)
{
    const ug_node *x = ug_op_input(net, nd, 0, err);
    if (!x)
        return -1;
    if (nd->pad < 0 || nd->pad >= x->H || nd->pad >= x->W)
        return ug_fail(err, "the image is too small for this network: a %dx%d feature map cannot "
                            "take reflection padding %d", x->H, x->W, nd->pad);
    nd->C = x->C, nd->H = x->H + 2 * nd->pad, nd->W = x->W + 2 * nd->pad;
    return 0;
}

static int pad_forward(ug_tape *t, ug_kctx *k, int i, const float *x, float *out, int relu,
                       ug_error *err)
{
    (void)relu, (void)err;
    const ug_node *nd = &t->net->nodes[i], *in = &t->net->nodes[nd->in[0]];
    ug_pad_reflect_forward(k, out, x, t->N, in->C, in->H, in->W, nd->pad, t->blocked[i]);
    return 0;
}

static int pad_backward(ug_bwd *b, ug_kctx *k, int i, int param_grads, ug_error *err)
{
    (void)param_grads, (void)err;
    const ug_node *nd = &b->t->net->nodes[i], *in = &b->t->net->nodes[nd->in[0]];
    int acc;
    float *din = ug_bwd_din(b, nd->in[0], &acc);
    if (din)
        ug_pad_reflect_backward(k, din, b->t->grad[i], b->t->N, in->C, in->H, in->W, nd->pad, acc);
    return 0;
}

const ug_op_def ug_op_pad = {"pad", UG_OPF_RECOMPUTABLE, pad_shape, NULL, pad_forward,
                             pad_backward, ug_layout_keeps};

static int up2_shape(const ug_net *net, ug_node *nd, ug_error *err)
{
    const ug_node *x = ug_op_input(net, nd, 0, err);
    if (!x)
        return -1;
    nd->C = x->C, nd->H = 2 * x->H, nd->W = 2 * x->W;
    return 0;
}

static int up2_forward(ug_tape *t, ug_kctx *k, int i, const float *x, float *out, int relu,
                       ug_error *err)
{
    (void)relu, (void)err;
    const ug_node *in = &t->net->nodes[t->net->nodes[i].in[0]];
    ug_upsample2_forward(k, out, x, t->N, in->C, in->H, in->W, t->blocked[i]);
    return 0;
}

static int up2_backward(ug_bwd *b, ug_kctx *k, int i, int param_grads, ug_error *err)
{
    (void)param_grads, (void)err;
    const ug_node *nd = &b->t->net->nodes[i], *in = &b->t->net->nodes[nd->in[0]];
    int acc;
    float *din = ug_bwd_din(b, nd->in[0], &acc);
    if (din)
        ug_upsample2_backward(k, din, b->t->grad[i], b->t->N, in->C, in->H, in->W, acc);
    return 0;
}

const ug_op_def ug_op_up2 = {"up2", UG_OPF_RECOMPUTABLE, up2_shape, NULL, up2_forward,
                             up2_backward, ug_layout_keeps};

/* ---- the kernels: the plain references, which the CPU backend runs too ---- */

/* Source index for padded coordinate i in [-p, n + p); valid while p < n. */
static int reflect(int i, int n)
{
    if (i < 0)
        return -i;
    if (i >= n)
        return 2 * (n - 1) - i;
    return i;
}

void ug_pad_reflect_forward_ref(ug_kctx *k, float *out, const float *in, int N, int C, int H,
                                int W, int p, int blocked)
{
    (void)k;
    const int OH = H + 2 * p, OW = W + 2 * p, step = ug_pixel_step(blocked);
#pragma omp parallel for collapse(2) schedule(static)
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++) {
            const float *src = in + ug_plane_at(blocked, C, H * W, n, c);
            float *dst = out + ug_plane_at(blocked, C, OH * OW, n, c);
            for (int y = 0; y < OH; y++)
                for (int x = 0; x < OW; x++)
                    dst[((size_t)y * OW + x) * step] =
                        src[((size_t)reflect(y - p, H) * W + reflect(x - p, W)) * step];
        }
}

void ug_pad_reflect_backward_ref(ug_kctx *k, float *din, const float *dout, int N, int C, int H,
                                 int W, int p, int acc)
{
    (void)k;
    if (!din)
        return;
    const int OH = H + 2 * p, OW = W + 2 * p;
    const long planes = (long)N * C;
#pragma omp parallel for schedule(static)
    for (long nc = 0; nc < planes; nc++) {
        float *dst = din + (size_t)nc * H * W;
        const float *src = dout + (size_t)nc * OH * OW;
        if (!acc)
            memset(dst, 0, sizeof(float) * (size_t)H * W);
        /* Several padded pixels read the same input pixel: sum them. */
        for (int y = 0; y < OH; y++) {
            float *row = dst + (size_t)reflect(y - p, H) * W;
            const float *orow = src + (size_t)y * OW;
            for (int x = 0; x < OW; x++)
                row[reflect(x - p, W)] += orow[x];
        }
    }
}

void ug_upsample2_forward_ref(ug_kctx *k, float *out, const float *in, int N, int C, int H, int W,
                              int blocked)
{
    (void)k;
    const int OW = 2 * W, step = ug_pixel_step(blocked);
#pragma omp parallel for collapse(2) schedule(static)
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++) {
            const float *src = in + ug_plane_at(blocked, C, H * W, n, c);
            float *dst = out + ug_plane_at(blocked, C, 4 * H * W, n, c);
            for (int y = 0; y < 2 * H; y++)
                for (int x = 0; x < OW; x++)
                    dst[((size_t)y * OW + x) * step] = src[((size_t)(y / 2) * W + x / 2) * step];
        }
}

void ug_upsample2_backward_ref(ug_kctx *k, float *din, const float *dout, int N, int C, int H,
                               int W, int acc)
{
    (void)k;
    if (!din)
        return;
    const int OW = 2 * W;
    const long planes = (long)N * C;
#pragma omp parallel for schedule(static)
    for (long nc = 0; nc < planes; nc++) {
        const float *src = dout + (size_t)nc * 4 * H * W;
        float *dst = din + (size_t)nc * H * W;
        for (int y = 0; y < H; y++) {
            const float *r0 = src + (size_t)(2 * y) * OW;
            const float *r1 = r0 + OW;
            for (int x = 0; x < W; x++) {
                const float g = r0[2 * x] + r0[2 * x + 1] + r1[2 * x] + r1[2 * x + 1];
                float *d = dst + (size_t)y * W + x;
                *d = acc ? *d + g : g;
            }
        }
    }
}
