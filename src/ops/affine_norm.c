/* Normalisations with an affine weight and bias per channel: BatchNorm,
 * GroupNorm, NVIDIA's LayerNorm (UNIT's and MUNIT's, not torch's) and DRIT's. The ops, then their plain reference kernels (the CPU backend's
 * threaded ones are src/backend/cpu/batchnorm.c and groupnorm.c). Both save
 * the statistics they used for the backward pass, which reads the input,
 * never the output. */
#include <math.h>

#include "ops/ops.h"

/* The input's shape, a positive eps, and weight p[0] and bias p[1] of C values. */
static int affine_shape(const ug_net *net, ug_node *nd, ug_error *err)
{
    const ug_node *x = ug_op_input(net, nd, 0, err);
    if (!x)
        return -1;
    if (!(nd->eps > 0))
        return ug_fail(err, "internal: %s without a positive eps", ug_op_get(nd->op)->name);
    const int64_t c = x->C;
    if (ug_op_check_param(net, nd, nd->p[0], 1, &c, err) < 0 ||
        ug_op_check_param(net, nd, nd->p[1], 1, &c, err) < 0)
        return -1;
    nd->C = x->C, nd->H = x->H, nd->W = x->W;
    return 0;
}

/* BatchNorm: running_mean p[2] and running_var p[3] of C values and
 * num_batches_tracked p[4], a scalar, all buffers. */
static int bnorm_shape(const ug_net *net, ug_node *nd, ug_error *err)
{
    if (affine_shape(net, nd, err) < 0)
        return -1;
    if (!(nd->momentum >= 0 && nd->momentum <= 1))
        return ug_fail(err, "internal: BatchNorm momentum %g outside [0, 1]",
                       (double)nd->momentum);
    const int64_t c = nd->C;
    if (ug_op_check_param(net, nd, nd->p[2], 1, &c, err) < 0 ||
        ug_op_check_param(net, nd, nd->p[3], 1, &c, err) < 0 ||
        ug_op_check_param(net, nd, nd->p[4], 0, NULL, err) < 0)
        return -1;
    for (int j = 2; j < 5; j++)
        if (net->params[nd->p[j]].kind != UG_BUFFER)
            return ug_fail(err, "internal: BatchNorm's %s is not a buffer",
                           net->params[nd->p[j]].name);
    return 0;
}

static size_t bnorm_aux(const ug_node *nd, int N)
{
    (void)N;
    return 2 * (size_t)nd->C * sizeof(float);
}

static int bnorm_forward(ug_tape *t, ug_kctx *k, int i, const float *x, float *out, int relu,
                         ug_error *err)
{
    (void)relu;
    const ug_net *net = t->net;
    const ug_node *nd = &net->nodes[i];
    const int HW = nd->H * nd->W, train = t->mode == UG_TRAIN;
    if (train && t->N * HW < 2)
        return ug_fail(err, "BatchNorm in training needs more than one value per channel "
                            "(batch %d of %dx%d maps)", t->N, nd->H, nd->W);
    float *stats = t->aux[i];
    ug_batchnorm_forward(k, out, stats, stats + nd->C, x, ug_param_data(net, nd->p[0]),
                         ug_param_data(net, nd->p[1]), ug_param_data(net, nd->p[2]),
                         ug_param_data(net, nd->p[3]), train, t->N, nd->C, HW, nd->eps,
                         nd->momentum);
    if (train) { /* num_batches_tracked, counted on the host */
        float *dev = ug_param_data(net, nd->p[4]), *n = k->be->map(dev, sizeof *n);
        if (!n)
            return ug_tape_oom(err);
        n[0] += 1;
        k->be->unmap(dev, n, sizeof *n, 1);
    }
    return 0;
}

static int bnorm_backward(ug_bwd *b, ug_kctx *k, int i, int param_grads, ug_error *err)
{
    (void)err;
    const ug_tape *t = b->t;
    const ug_node *nd = &t->net->nodes[i];
    const float *stats = t->aux[i];
    int acc;
    float *din = ug_bwd_din(b, nd->in[0], &acc);
    float *dw = param_grads ? ug_param_grad(t->net, nd->p[0]) : NULL;
    float *db = param_grads ? ug_param_grad(t->net, nd->p[1]) : NULL;
    ug_batchnorm_backward(k, din, dw, db, t->grad[i], t->out[nd->in[0]], stats, stats + nd->C,
                          ug_param_data(t->net, nd->p[0]), t->mode == UG_TRAIN, t->N, nd->C,
                          nd->H * nd->W, acc);
    return 0;
}

const ug_op_def ug_op_bnorm = {"bnorm", UG_OPF_OVERWRITES_IN0, bnorm_shape, bnorm_aux,
                               bnorm_forward, bnorm_backward, NULL};

static int gnorm_shape(const ug_net *net, ug_node *nd, ug_error *err)
{
    if (affine_shape(net, nd, err) < 0)
        return -1;
    if (nd->groups < 1 || nd->C % nd->groups)
        return ug_fail(err, "internal: GroupNorm of %d channels in %d groups", nd->C,
                       nd->groups);
    return 0;
}

static size_t gnorm_aux(const ug_node *nd, int N)
{
    return 2 * (size_t)N * nd->groups * sizeof(float);
}

static int gnorm_forward(ug_tape *t, ug_kctx *k, int i, const float *x, float *out, int relu,
                         ug_error *err)
{
    (void)relu, (void)err;
    const ug_net *net = t->net;
    const ug_node *nd = &net->nodes[i];
    float *stats = t->aux[i];
    ug_groupnorm_forward(k, out, stats, stats + (size_t)t->N * nd->groups, x,
                         ug_param_data(net, nd->p[0]), ug_param_data(net, nd->p[1]), t->N, nd->C,
                         nd->H * nd->W, nd->groups, nd->eps);
    return 0;
}

static int gnorm_backward(ug_bwd *b, ug_kctx *k, int i, int param_grads, ug_error *err)
{
    (void)err;
    const ug_tape *t = b->t;
    const ug_node *nd = &t->net->nodes[i];
    const float *stats = t->aux[i];
    int acc;
    float *din = ug_bwd_din(b, nd->in[0], &acc);
    float *dw = param_grads ? ug_param_grad(t->net, nd->p[0]) : NULL;
    float *db = param_grads ? ug_param_grad(t->net, nd->p[1]) : NULL;
    ug_groupnorm_backward(k, din, dw, db, t->grad[i], t->out[nd->in[0]], stats,
                          stats + (size_t)t->N * nd->groups, ug_param_data(t->net, nd->p[0]), t->N,
                          nd->C, nd->H * nd->W, nd->groups, acc);
    return 0;
}

const ug_op_def ug_op_gnorm = {"gnorm", UG_OPF_OVERWRITES_IN0, gnorm_shape, gnorm_aux,
                               gnorm_forward, gnorm_backward, NULL};

/* DRIT's LayerNorm: F.layer_norm over C x H x W (biased variance, eps inside
 * the square root) then a per-channel affine whose weight and bias are
 * C x 1 x 1, i.e. GroupNorm with one group; it runs GroupNorm's kernels. */
static int dlnorm_shape(const ug_net *net, ug_node *nd, ug_error *err)
{
    const ug_node *x = ug_op_input(net, nd, 0, err);
    if (!x)
        return -1;
    if (!(nd->eps > 0))
        return ug_fail(err, "internal: dlnorm without a positive eps");
    const int64_t shape[3] = {x->C, 1, 1};
    if (ug_op_check_param(net, nd, nd->p[0], 3, shape, err) < 0 ||
        ug_op_check_param(net, nd, nd->p[1], 3, shape, err) < 0)
        return -1;
    nd->groups = 1;
    nd->C = x->C, nd->H = x->H, nd->W = x->W;
    return 0;
}

const ug_op_def ug_op_dlnorm = {"dlnorm", UG_OPF_OVERWRITES_IN0, dlnorm_shape, gnorm_aux,
                                gnorm_forward, gnorm_backward, NULL};

/* NVIDIA's LayerNorm saves mean and 1 / (std + eps) per sample. */
static size_t nvlnorm_aux(const ug_node *nd, int N)
{
    (void)nd;
    return 2 * (size_t)N * sizeof(float);
}

static int nvlnorm_forward(ug_tape *t, ug_kctx *k, int i, const float *x, float *out, int relu,
                           ug_error *err)
{
    (void)relu;
    const ug_net *net = t->net;
    const ug_node *nd = &net->nodes[i];
    if ((size_t)nd->C * nd->H * nd->W < 2)
        return ug_fail(err, "LayerNorm of one value per sample has no unbiased std");
    float *stats = t->aux[i];
    ug_nvlayernorm_forward(k, out, stats, stats + t->N, x, ug_param_data(net, nd->p[0]),
                           ug_param_data(net, nd->p[1]), t->N, nd->C, nd->H * nd->W, nd->eps);
    return 0;
}

static int nvlnorm_backward(ug_bwd *b, ug_kctx *k, int i, int param_grads, ug_error *err)
{
    (void)err;
    const ug_tape *t = b->t;
    const ug_node *nd = &t->net->nodes[i];
    const float *stats = t->aux[i];
    int acc;
    float *din = ug_bwd_din(b, nd->in[0], &acc);
    float *dw = param_grads ? ug_param_grad(t->net, nd->p[0]) : NULL;
    float *db = param_grads ? ug_param_grad(t->net, nd->p[1]) : NULL;
    ug_nvlayernorm_backward(k, din, dw, db, t->grad[i], t->out[nd->in[0]], stats, stats + t->N,
                            ug_param_data(t->net, nd->p[0]), t->N, nd->C, nd->H * nd->W,
                            nd->eps, acc);
    return 0;
}

const ug_op_def ug_op_nvlnorm = {"nvlnorm", UG_OPF_OVERWRITES_IN0, affine_shape, nvlnorm_aux,
                                 nvlnorm_forward, nvlnorm_backward, NULL};

/* ---- the plain reference kernels: one channel (or group) at a time, its
 * statistics in double, then the textbook formulas; the CPU backend's
 * versions (src/backend/cpu/batchnorm.c, groupnorm.c) fold and thread them.
 * Both normalise a set of planes: xhat = (x - mean) * rstd, y = xhat w + b,
 * and dx = rstd w (dy - mean(dy) - xhat mean(dy xhat)) over the set. */

void ug_batchnorm_forward_ref(ug_kctx *k, float *out, float *mean, float *rstd, const float *in,
                              const float *w, const float *b, float *running_mean,
                              float *running_var, int train, int N, int C, int HW, float eps,
                              float momentum)
{
    (void)k;
    const double M = (double)N * HW;
    for (int c = 0; c < C; c++) {
        double mu = running_mean[c], var = running_var[c];
        if (train) {
            double s = 0, ss = 0;
            for (int n = 0; n < N; n++)
                for (int i = 0; i < HW; i++)
                    s += in[((size_t)n * C + c) * HW + i];
            mu = s / M;
            for (int n = 0; n < N; n++)
                for (int i = 0; i < HW; i++) {
                    const double d = in[((size_t)n * C + c) * HW + i] - mu;
                    ss += d * d;
                }
            var = ss / M;
            running_mean[c] = (float)((1 - momentum) * running_mean[c] + momentum * mu);
            running_var[c] = (float)((1 - momentum) * running_var[c] + momentum * ss / (M - 1));
        }
        const double r = 1.0 / sqrt(var + eps);
        mean[c] = (float)mu, rstd[c] = (float)r;
        for (int n = 0; n < N; n++)
            for (int i = 0; i < HW; i++) {
                const size_t j = ((size_t)n * C + c) * HW + i;
                out[j] = (float)((in[j] - mu) * r * w[c] + b[c]);
            }
    }
}

void ug_batchnorm_backward_ref(ug_kctx *k, float *din, float *dw, float *db, const float *dout,
                               const float *in, const float *mean, const float *rstd,
                               const float *w, int train, int N, int C, int HW, int acc)
{
    (void)k;
    const double M = (double)N * HW;
    for (int c = 0; c < C; c++) {
        const double mu = mean[c], r = rstd[c];
        double sdy = 0, sdyx = 0;
        for (int n = 0; n < N; n++)
            for (int i = 0; i < HW; i++) {
                const size_t j = ((size_t)n * C + c) * HW + i;
                sdy += dout[j];
                sdyx += dout[j] * (in[j] - mu) * r;
            }
        if (dw)
            dw[c] += (float)sdyx;
        if (db)
            db[c] += (float)sdy;
        if (!din)
            continue;
        /* In evaluation the statistics are constants: dx = rstd w dy. */
        for (int n = 0; n < N; n++)
            for (int i = 0; i < HW; i++) {
                const size_t j = ((size_t)n * C + c) * HW + i;
                const double xhat = (in[j] - mu) * r;
                const double g = train ? r * w[c] * (dout[j] - sdy / M - xhat * sdyx / M)
                                       : r * w[c] * dout[j];
                din[j] = acc ? din[j] + (float)g : (float)g;
            }
    }
}

void ug_groupnorm_forward_ref(ug_kctx *k, float *out, float *mean, float *rstd, const float *in,
                              const float *w, const float *b, int N, int C, int HW, int G,
                              float eps)
{
    (void)k;
    const int Cg = C / G;
    const size_t M = (size_t)Cg * HW; /* a group's channels are contiguous */
    for (int n = 0; n < N; n++)
        for (int g = 0; g < G; g++) {
            const size_t ng = (size_t)n * G + g;
            const float *x = in + ng * M;
            double s = 0, ss = 0;
            for (size_t i = 0; i < M; i++)
                s += x[i];
            const double mu = s / (double)M;
            for (size_t i = 0; i < M; i++)
                ss += (x[i] - mu) * (x[i] - mu);
            const double r = 1.0 / sqrt(ss / (double)M + eps);
            mean[ng] = (float)mu, rstd[ng] = (float)r;
            for (size_t i = 0; i < M; i++) {
                const int c = g * Cg + (int)(i / HW);
                out[ng * M + i] = (float)((x[i] - mu) * r * w[c] + b[c]);
            }
        }
}

void ug_groupnorm_backward_ref(ug_kctx *k, float *din, float *dw, float *db, const float *dout,
                               const float *in, const float *mean, const float *rstd,
                               const float *w, int N, int C, int HW, int G, int acc)
{
    (void)k;
    const int Cg = C / G;
    const size_t M = (size_t)Cg * HW;
    for (int n = 0; n < N; n++)
        for (int g = 0; g < G; g++) {
            const size_t ng = (size_t)n * G + g, off = ng * M;
            const double mu = mean[ng], r = rstd[ng];
            double s = 0, sx = 0; /* sums of dxhat = dy w and dxhat * xhat */
            for (int c = g * Cg; c < (g + 1) * Cg; c++) {
                const size_t o = ((size_t)n * C + c) * HW;
                double sdy = 0, sdyx = 0;
                for (int i = 0; i < HW; i++) {
                    sdy += dout[o + i];
                    sdyx += dout[o + i] * (in[o + i] - mu) * r;
                }
                if (dw)
                    dw[c] += (float)sdyx;
                if (db)
                    db[c] += (float)sdy;
                s += sdy * w[c];
                sx += sdyx * w[c];
            }
            if (!din)
                continue;
            for (size_t i = 0; i < M; i++) {
                const int c = g * Cg + (int)(i / HW);
                const double xhat = (in[off + i] - mu) * r;
                const double v = r * ((double)dout[off + i] * w[c] - s / (double)M -
                                      xhat * sx / (double)M);
                din[off + i] = acc ? din[off + i] + (float)v : (float)v;
            }
        }
}

/* NVIDIA's LayerNorm: with M = C HW values per sample, s their unbiased
 * std and r = 1 / (s + eps), y = (x - mean) r w + b. Through s,
 * ds/dx_j = (x_j - mean) / ((M - 1) s), so with g = dy w and xhat = (x - mean) r:
 * dx_j = r (g_j - mean(g)) - xhat_j sum(g xhat) / ((M - 1) s). */
void ug_nvlayernorm_forward_ref(ug_kctx *k, float *out, float *mean, float *rden,
                                const float *in, const float *w, const float *b, int N, int C,
                                int HW, float eps)
{
    (void)k;
    const size_t M = (size_t)C * HW;
    for (int n = 0; n < N; n++) {
        const float *x = in + (size_t)n * M;
        double s = 0, ss = 0;
        for (size_t i = 0; i < M; i++)
            s += x[i];
        const double mu = s / (double)M;
        for (size_t i = 0; i < M; i++)
            ss += (x[i] - mu) * (x[i] - mu);
        const double r = 1.0 / (sqrt(ss / (double)(M - 1)) + eps);
        mean[n] = (float)mu, rden[n] = (float)r;
        for (size_t i = 0; i < M; i++) {
            const int c = (int)(i / HW);
            out[(size_t)n * M + i] = (float)((x[i] - mu) * r * w[c] + b[c]);
        }
    }
}

void ug_nvlayernorm_backward_ref(ug_kctx *k, float *din, float *dw, float *db,
                                 const float *dout, const float *in, const float *mean,
                                 const float *rden, const float *w, int N, int C, int HW,
                                 float eps, int acc)
{
    (void)k;
    const size_t M = (size_t)C * HW;
    for (int n = 0; n < N; n++) {
        const size_t off = (size_t)n * M;
        const double mu = mean[n], r = rden[n], std = 1.0 / r - eps;
        double sg = 0, sgx = 0;
        for (int c = 0; c < C; c++) {
            double sdy = 0, sdyx = 0;
            for (int i = 0; i < HW; i++) {
                const size_t j = off + (size_t)c * HW + i;
                sdy += dout[j];
                sdyx += dout[j] * (in[j] - mu) * r;
            }
            if (dw)
                dw[c] += (float)sdyx;
            if (db)
                db[c] += (float)sdy;
            sg += w[c] * sdy, sgx += w[c] * sdyx;
        }
        if (!din)
            continue;
        /* A constant sample (std 0) has no gradient through its std. */
        const double through_std = std > 0 ? sgx / ((double)(M - 1) * std) : 0;
        for (size_t i = 0; i < M; i++) {
            const size_t j = off + i;
            const int c = (int)(i / HW);
            const double xhat = (in[j] - mu) * r;
            const double g = r * (dout[j] * w[c] - sg / (double)M) - xhat * through_std;
            din[j] = acc ? din[j] + (float)g : (float)g;
        }
    }
}
