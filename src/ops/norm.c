/* Normalisations: InstanceNorm without affine parameters, and the release's
 * adaILN / ILN. The ops, then their plain reference kernels (the CPU
 * backend's fused, threaded ones are src/backend/cpu/instnorm.c and
 * linnorm.c). Both save their statistics for the backward pass, which reads
 * the input, never the output, so a following ReLU can be applied in the
 * same pass. */
#include <math.h>

#include "ops/ops.h"

static int same_shape(const ug_net *net, ug_node *nd, ug_error *err)
{
    const ug_node *x = ug_op_input(net, nd, 0, err);
    if (!x)
        return -1;
    if (!(nd->eps > 0))
        return ug_fail(err, "internal: %s without a positive eps", ug_op_get(nd->op)->name);
    nd->C = x->C, nd->H = x->H, nd->W = x->W;
    return 0;
}

static size_t inorm_aux(const ug_node *nd, int N) { return 2 * (size_t)N * nd->C * sizeof(float); }

static int inorm_forward(ug_tape *t, ug_kctx *k, int i, const float *x, float *out, int relu,
                         ug_error *err)
{
    (void)err;
    const ug_node *nd = &t->net->nodes[i];
    float *stats = t->aux[i];
    ug_instnorm_forward(k, out, stats, stats + (size_t)t->N * nd->C, x, t->N, nd->C, nd->H * nd->W,
                        nd->eps, relu, t->blocked[i]);
    return 0;
}

static int inorm_backward(ug_bwd *b, ug_kctx *k, int i, int param_grads, ug_error *err)
{
    (void)param_grads, (void)err;
    const ug_tape *t = b->t;
    const ug_node *nd = &t->net->nodes[i];
    const float *stats = t->aux[i];
    int acc;
    float *din = ug_bwd_din(b, nd->in[0], &acc);
    if (din)
        ug_instnorm_backward(k, din, t->grad[i], t->out[nd->in[0]], stats,
                             stats + (size_t)t->N * nd->C, t->N, nd->C, nd->H * nd->W, acc);
    return 0;
}

const ug_op_def ug_op_inorm = {"inorm", UG_OPF_OVERWRITES_IN0 | UG_OPF_FUSES_RELU, same_shape,
                               inorm_aux, inorm_forward, inorm_backward, ug_layout_keeps};

/* adaILN takes gamma and beta per sample from nodes in[1], in[2] (the MLP's
 * outputs, C x 1 x 1); ILN has them as parameters p[1], p[2]. rho is p[0],
 * or without it fixed at nd->rho (the ablations' IN and LN), kept in aux
 * after the statistics so that the kernels read it like a parameter. */
static int linnorm_shape(const ug_net *net, ug_node *nd, ug_error *err)
{
    if (same_shape(net, nd, err) < 0)
        return -1;
    const int64_t c4[4] = {1, nd->C, 1, 1};
    if (nd->p[0] < 0 && !(nd->rho >= 0 && nd->rho <= 1))
        return ug_fail(err, "internal: a fixed rho of %g", (double)nd->rho);
    if (nd->p[0] >= 0 && ug_op_check_param(net, nd, nd->p[0], 4, c4, err) < 0)
        return -1;
    if (nd->in[1] < 0)
        return ug_op_check_param(net, nd, nd->p[1], 4, c4, err) < 0 ||
                       ug_op_check_param(net, nd, nd->p[2], 4, c4, err) < 0
                   ? -1
                   : 0;
    for (int j = 1; j <= 2; j++) {
        const ug_node *g = ug_op_input(net, nd, j, err);
        if (!g)
            return -1;
        if (g->C != nd->C || g->H != 1 || g->W != 1)
            return ug_fail(err, "internal: adaILN of %d channels given %s of %dx%dx%d",
                           nd->C, j == 1 ? "gamma" : "beta", g->C, g->H, g->W);
    }
    return 0;
}

static size_t linnorm_aux(const ug_node *nd, int N)
{
    return (ug_linnorm_stats_size(N, nd->C) + (nd->p[0] < 0 ? (size_t)nd->C : 0)) * sizeof(float);
}

/* The rho a node uses: its parameter, or the fixed value in aux. */
static const float *rho_of(const ug_tape *t, const ug_node *nd, int i)
{
    if (nd->p[0] >= 0)
        return ug_param_data(t->net, nd->p[0]);
    return (const float *)t->aux[i] + ug_linnorm_stats_size(t->N, nd->C);
}

static int linnorm_forward(ug_tape *t, ug_kctx *k, int i, const float *x, float *out, int relu,
                           ug_error *err)
{
    const ug_net *net = t->net;
    const ug_node *nd = &net->nodes[i];
    int per_sample = nd->in[1] >= 0;
    const float *gamma = per_sample ? t->out[nd->in[1]] : ug_param_data(net, nd->p[1]);
    const float *beta = per_sample ? t->out[nd->in[2]] : ug_param_data(net, nd->p[2]);
    if (nd->p[0] < 0) { /* the fixed rho, written on the host */
        float *dev = (float *)rho_of(t, nd, i);
        float *rho = k->be->map(dev, (size_t)nd->C * sizeof(float));
        if (!rho)
            return ug_tape_oom(err);
        for (int c = 0; c < nd->C; c++)
            rho[c] = nd->rho;
        k->be->unmap(dev, rho, (size_t)nd->C * sizeof(float), 1);
    }
    ug_linnorm_forward(k, out, t->aux[i], x, rho_of(t, nd, i), gamma, beta, per_sample, t->N,
                       nd->C, nd->H * nd->W, nd->eps, relu, t->blocked[i]);
    return 0;
}

static int linnorm_backward(ug_bwd *b, ug_kctx *k, int i, int param_grads, ug_error *err)
{
    (void)k;
    ug_tape *t = b->t;
    const ug_net *net = t->net;
    const ug_node *nd = &net->nodes[i];
    int per_sample = nd->in[1] >= 0, acc;
    float *din = ug_bwd_din(b, nd->in[0], &acc);
    float *drho = param_grads && nd->p[0] >= 0 ? ug_param_grad(net, nd->p[0]) : NULL;
    float *dgamma, *dbeta;
    const float *gamma;
    if (per_sample) {
        dgamma = ug_tape_grad(t, b->a, nd->in[1]);
        dbeta = ug_tape_grad(t, b->a, nd->in[2]);
        gamma = t->out[nd->in[1]];
    } else {
        dgamma = param_grads ? ug_param_grad(net, nd->p[1]) : NULL;
        dbeta = param_grads ? ug_param_grad(net, nd->p[2]) : NULL;
        gamma = ug_param_data(net, nd->p[1]);
    }
    if (b->failed || (per_sample && (!dgamma || !dbeta)))
        return ug_tape_oom(err);
    ug_linnorm_backward(k, din, drho, dgamma, dbeta, t->grad[i], t->out[nd->in[0]], t->aux[i],
                        rho_of(t, nd, i), gamma, per_sample, t->N, nd->C, nd->H * nd->W, acc);
    return 0;
}

const ug_op_def ug_op_linnorm = {"linnorm", UG_OPF_OVERWRITES_IN0 | UG_OPF_FUSES_RELU,
                                 linnorm_shape, linnorm_aux, linnorm_forward, linnorm_backward,
                                 ug_layout_keeps};

/* ---- the plain reference kernels: one plane (or sample) at a time, its
 * statistics in double, then the textbook formulas; the CPU backend's
 * versions (src/backend/cpu/instnorm.c, linnorm.c) fuse and thread them. */

/* The mean of n values step floats apart and their sum of squares about it. */
static void moments(const float *x, size_t n, int step, double *mean, double *sumsq)
{
    double s = 0, ss = 0;
    for (size_t i = 0; i < n; i++)
        s += x[i * step];
    const double m = s / (double)n;
    for (size_t i = 0; i < n; i++)
        ss += (x[i * step] - m) * (x[i * step] - m);
    *mean = m;
    *sumsq = ss;
}

void ug_instnorm_forward_ref(ug_kctx *k, float *out, float *mean, float *rstd, const float *in,
                             int N, int C, int HW, float eps, int relu, int blocked)
{
    (void)k;
    const int step = ug_pixel_step(blocked);
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++) {
            const size_t nc = (size_t)n * C + c, at = ug_plane_at(blocked, C, HW, n, c);
            const float *x = in + at;
            double m, ss;
            moments(x, (size_t)HW, step, &m, &ss);
            const double r = 1.0 / sqrt(ss / HW + eps); /* biased variance */
            for (int i = 0; i < HW; i++) {
                const float v = (float)((x[(size_t)i * step] - m) * r);
                out[at + (size_t)i * step] = relu && v < 0 ? 0 : v;
            }
            mean[nc] = (float)m;
            rstd[nc] = (float)r;
        }
}

/* dx = r * (dy - mean(dy) - xhat * mean(dy * xhat)) over each plane. */
void ug_instnorm_backward_ref(ug_kctx *k, float *din, const float *dout, const float *in,
                              const float *mean, const float *rstd, int N, int C, int HW, int acc)
{
    (void)k;
    if (!din)
        return;
    for (size_t nc = 0; nc < (size_t)N * C; nc++) {
        const float *x = in + nc * HW, *dy = dout + nc * HW;
        const double m = mean[nc], r = rstd[nc];
        double sdy = 0, sdyx = 0;
        for (int i = 0; i < HW; i++) {
            sdy += dy[i];
            sdyx += dy[i] * (x[i] - m) * r;
        }
        for (int i = 0; i < HW; i++) {
            const float g = (float)(r * (dy[i] - sdy / HW - (x[i] - m) * r * sdyx / HW));
            din[nc * HW + i] = acc ? din[nc * HW + i] + g : g;
        }
    }
}

size_t ug_linnorm_stats_size(int N, int C)
{
    /* The four statistics, then room for N * C (mean, centred sum of
     * squares) pairs in double, the CPU backend's forward scratch. */
    return 2 * (size_t)N * C + 2 * (size_t)N + 4 * (size_t)N * C;
}

/* count - 1 for the unbiased variance; a single element would divide by
 * zero (torch gives NaN), so 1 there. */
static double unbiased(size_t count) { return count > 1 ? (double)(count - 1) : 1.0; }

void ug_linnorm_forward_ref(ug_kctx *k, float *out, float *stats, const float *in,
                            const float *rho, const float *gamma, const float *beta,
                            int per_sample, int N, int C, int HW, float eps, int relu,
                            int blocked)
{
    (void)k;
    float *in_mean = stats, *in_rstd = stats + (size_t)N * C;
    float *ln_mean = stats + 2 * (size_t)N * C, *ln_rstd = ln_mean + N;
    const size_t plane = (size_t)C * HW;
    const int step = ug_pixel_step(blocked);
    for (int n = 0; n < N; n++) {
        double m, ss;
        /* A sample is contiguous in either layout. */
        moments(in + n * plane, plane, 1, &m, &ss);
        ln_mean[n] = (float)m;
        ln_rstd[n] = (float)(1.0 / sqrt(ss / unbiased(plane) + eps));
        for (int c = 0; c < C; c++) {
            const size_t nc = (size_t)n * C + c;
            moments(in + ug_plane_at(blocked, C, HW, n, c), (size_t)HW, step, &m, &ss);
            in_mean[nc] = (float)m;
            in_rstd[nc] = (float)(1.0 / sqrt(ss / unbiased((size_t)HW) + eps));
        }
    }
    /* The output from the stored (float) statistics, which the backward reads. */
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++) {
            const size_t nc = (size_t)n * C + c, gi = per_sample ? nc : (size_t)c;
            const size_t at = ug_plane_at(blocked, C, HW, n, c);
            for (int i = 0; i < HW; i++) {
                const double x = in[at + (size_t)i * step];
                const double xin = (x - in_mean[nc]) * in_rstd[nc];
                const double xln = (x - ln_mean[n]) * ln_rstd[n];
                const float v =
                    (float)((rho[c] * xin + (1.0 - rho[c]) * xln) * gamma[gi] + beta[gi]);
                out[at + (size_t)i * step] = relu && v < 0 ? 0 : v;
            }
        }
}

/* With dxin = rho * gamma * dy (normalised over HW) and dxln =
 * (1 - rho) * gamma * dy (over C * HW), each unbiased:
 *   dx = ri (dxin - mean(dxin) - xin sum(dxin xin) / (HW - 1))
 *      + rl (dxln - mean(dxln) - xln sum(dxln xln) / (C HW - 1)). */
void ug_linnorm_backward_ref(ug_kctx *k, float *din, float *drho, float *dgamma, float *dbeta,
                             const float *dout, const float *in, const float *stats,
                             const float *rho, const float *gamma, int per_sample, int N, int C,
                             int HW, int acc)
{
    (void)k;
    const float *in_mean = stats, *in_rstd = stats + (size_t)N * C;
    const float *ln_mean = stats + 2 * (size_t)N * C, *ln_rstd = ln_mean + N;
    const size_t plane = (size_t)C * HW;
    for (int n = 0; n < N; n++) {
        const double ml = ln_mean[n], rl = ln_rstd[n];
        double l_s = 0, l_sx = 0; /* the layer path's sums over the sample */
        for (int c = 0; c < C; c++) {
            const size_t nc = (size_t)n * C + c, gi = per_sample ? nc : (size_t)c;
            const double mi = in_mean[nc], ri = in_rstd[nc];
            double sd = 0, smix = 0, sdy = 0;
            for (int i = 0; i < HW; i++) {
                const double x = in[nc * HW + i], dy = dout[nc * HW + i];
                const double xin = (x - mi) * ri, xln = (x - ml) * rl;
                const double dxln = (1.0 - rho[c]) * gamma[gi] * dy;
                sd += dy * (xin - xln);
                smix += dy * (rho[c] * xin + (1.0 - rho[c]) * xln);
                sdy += dy;
                l_s += dxln;
                l_sx += dxln * xln;
            }
            if (drho)
                drho[c] += (float)(gamma[gi] * sd);
            if (dgamma)
                dgamma[gi] += (float)smix;
            if (dbeta)
                dbeta[gi] += (float)sdy;
        }
        if (!din)
            continue;
        for (int c = 0; c < C; c++) {
            const size_t nc = (size_t)n * C + c, gi = per_sample ? nc : (size_t)c;
            const double mi = in_mean[nc], ri = in_rstd[nc];
            double i_s = 0, i_sx = 0;
            for (int i = 0; i < HW; i++) {
                const double dxin = rho[c] * gamma[gi] * dout[nc * HW + i];
                i_s += dxin;
                i_sx += dxin * (in[nc * HW + i] - mi) * ri;
            }
            for (int i = 0; i < HW; i++) {
                const double x = in[nc * HW + i], dy = dout[nc * HW + i];
                const double xin = (x - mi) * ri, xln = (x - ml) * rl;
                const double dxin = rho[c] * gamma[gi] * dy;
                const double dxln = (1.0 - rho[c]) * gamma[gi] * dy;
                const double g = ri * (dxin - i_s / HW - xin * i_sx / unbiased((size_t)HW)) +
                                 rl * (dxln - l_s / (double)plane - xln * l_sx / unbiased(plane));
                din[nc * HW + i] = acc ? din[nc * HW + i] + (float)g : (float)g;
            }
        }
    }
}
