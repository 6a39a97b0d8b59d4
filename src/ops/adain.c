/* MUNIT's AdaptiveInstanceNorm2d: InstanceNorm (biased variance, as the
 * training-mode batch_norm over a (1, N*C, H, W) view computes it) with an
 * affine taken per sample from another node, the MLP's output, whose
 * channels .off .. .off + C are beta and .off + C .. .off + 2C gamma. The
 * op, then its plain reference kernels (both backends run these). The
 * backward pass reads the input and the statistics, never the output, so a
 * following ReLU can be applied in the same pass. */
#include <math.h>

#include "ops/ops.h"

static int adain_shape(const ug_net *net, ug_node *nd, ug_error *err)
{
    const ug_node *x = ug_op_input(net, nd, 0, err), *p = ug_op_input(net, nd, 1, err);
    if (!x || !p)
        return -1;
    if (!(nd->eps > 0))
        return ug_fail(err, "internal: adain without a positive eps");
    if (p->H != 1 || p->W != 1 || nd->off < 0 || nd->off + 2 * x->C > p->C)
        return ug_fail(err, "internal: adain of %d channels at offset %d of a %dx%dx%d input",
                       x->C, nd->off, p->C, p->H, p->W);
    nd->C = x->C, nd->H = x->H, nd->W = x->W;
    return 0;
}

static size_t adain_aux(const ug_node *nd, int N) { return 2 * (size_t)N * nd->C * sizeof(float); }

static int adain_forward(ug_tape *t, ug_kctx *k, int i, const float *x, float *out, int relu,
                         ug_error *err)
{
    (void)err;
    const ug_node *nd = &t->net->nodes[i];
    const ug_node *p = &t->net->nodes[nd->in[1]];
    float *stats = t->aux[i];
    ug_adain_forward(k, out, stats, stats + (size_t)t->N * nd->C, x, t->out[nd->in[1]] + nd->off,
                     p->C, t->N, nd->C, nd->H * nd->W, nd->eps, relu);
    return 0;
}

static int adain_backward(ug_bwd *b, ug_kctx *k, int i, int param_grads, ug_error *err)
{
    (void)param_grads;
    ug_tape *t = b->t;
    const ug_node *nd = &t->net->nodes[i];
    const ug_node *p = &t->net->nodes[nd->in[1]];
    const float *stats = t->aux[i];
    int acc;
    float *din = ug_bwd_din(b, nd->in[0], &acc);
    float *dp = ug_tape_grad(t, b->a, nd->in[1]);
    if (b->failed || !dp)
        return ug_tape_oom(err);
    ug_adain_backward(k, din, dp + nd->off, t->grad[i], t->out[nd->in[0]], stats,
                      stats + (size_t)t->N * nd->C, t->out[nd->in[1]] + nd->off, p->C, t->N,
                      nd->C, nd->H * nd->W, acc);
    return 0;
}

const ug_op_def ug_op_adain = {"adain", UG_OPF_OVERWRITES_IN0 | UG_OPF_FUSES_RELU, adain_shape,
                               adain_aux, adain_forward, adain_backward, NULL};

/* ---- the reference kernels: one plane at a time, its statistics in double ---- */

void ug_adain_forward_ref(ug_kctx *k, float *out, float *mean, float *rstd, const float *in,
                          const float *p, int pstride, int N, int C, int HW, float eps, int relu)
{
    (void)k;
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++) {
            const size_t nc = (size_t)n * C + c;
            const float *x = in + nc * HW;
            const double beta = p[(size_t)n * pstride + c], gamma = p[(size_t)n * pstride + C + c];
            double s = 0, ss = 0;
            for (int i = 0; i < HW; i++)
                s += x[i];
            const double m = s / HW;
            for (int i = 0; i < HW; i++)
                ss += (x[i] - m) * (x[i] - m);
            const double r = 1.0 / sqrt(ss / HW + eps);
            for (int i = 0; i < HW; i++) {
                const float v = (float)((x[i] - m) * r * gamma + beta);
                out[nc * HW + i] = relu && v < 0 ? 0 : v;
            }
            mean[nc] = (float)m;
            rstd[nc] = (float)r;
        }
}

/* dbeta = sum(dy), dgamma = sum(dy xhat), dx = gamma r (dy - mean(dy) -
 * xhat mean(dy xhat)) over each plane. */
void ug_adain_backward_ref(ug_kctx *k, float *din, float *dp, const float *dout, const float *in,
                           const float *mean, const float *rstd, const float *p, int pstride,
                           int N, int C, int HW, int acc)
{
    (void)k;
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++) {
            const size_t nc = (size_t)n * C + c;
            const float *x = in + nc * HW, *dy = dout + nc * HW;
            const double m = mean[nc], r = rstd[nc], gamma = p[(size_t)n * pstride + C + c];
            double sdy = 0, sdyx = 0;
            for (int i = 0; i < HW; i++) {
                sdy += dy[i];
                sdyx += dy[i] * (x[i] - m) * r;
            }
            if (dp) {
                dp[(size_t)n * pstride + c] += (float)sdy;
                dp[(size_t)n * pstride + C + c] += (float)sdyx;
            }
            if (!din)
                continue;
            for (int i = 0; i < HW; i++) {
                const float g =
                    (float)(gamma * r * (dy[i] - sdy / HW - (x[i] - m) * r * sdyx / HW));
                din[nc * HW + i] = acc ? din[nc * HW + i] + g : g;
            }
        }
}
