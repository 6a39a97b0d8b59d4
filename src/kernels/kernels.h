/* Every numerical kernel of the network, forward and backward, over plain
 * float arrays with explicit shapes. Images are N x C x H x W, row-major.
 *
 * Gradient conventions (as in llm.c, true dL/dx everywhere):
 * - Gradients of parameters (dw, db, drho, ...) are always ACCUMULATED (+=).
 * - The gradient of an input (din, da, ...) is overwritten when acc == 0 and
 *   accumulated when acc != 0, so that a value read by several consumers gets
 *   the sum of their gradients without a separate zeroing pass.
 * - A gradient pointer that is NULL is not computed.
 *
 * Kernels taking a ug_kctx dispatch between a fast path and the plain
 * reference ("_ref") version, which is also exported so tests can compare the
 * two. Kernels without a context are simple enough to be their own reference. */
#ifndef UG_KERNELS_H
#define UG_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/kctx.h"

/* ---- convolution (conv.c): kernel kh x kw, stride s, zero padding pad[]
 * (top, bottom, left, right; each smaller than the kernel side; reflection
 * padding is a separate op). out is N x Cout x OH x OW with
 * OH = (H + top + bottom - kh) / s + 1, OW likewise. */
typedef struct ug_conv_shape {
    int N, Cin, H, W, Cout, kh, kw, stride;
    int pad[4];
} ug_conv_shape;
int ug_conv_out_h(const ug_conv_shape *s);
int ug_conv_out_w(const ug_conv_shape *s);
/* w: Cout x Cin x kh x kw; b: Cout or NULL. */
int ug_conv_forward(ug_kctx *k, float *out, const float *in, const float *w, const float *b,
                    const ug_conv_shape *s, ug_error *err);
int ug_conv_backward(ug_kctx *k, float *din, float *dw, float *db, const float *dout,
                     const float *in, const float *w, const ug_conv_shape *s, int acc,
                     ug_error *err);
void ug_conv_forward_ref(float *out, const float *in, const float *w, const float *b,
                         const ug_conv_shape *s);
void ug_conv_backward_ref(float *din, float *dw, float *db, const float *dout, const float *in,
                          const float *w, const ug_conv_shape *s, int acc);

/* ---- transposed convolution (deconv.c), as torch.nn.ConvTranspose2d: kernel
 * k x k, stride s, padding p, output padding op (op < s, op <= p < k):
 * OH = (H - 1) * s - 2p + k + op, OW likewise. Input pixel (ih, iw) adds
 * in * w[ci][co][kh][kw] to output (ih * s - p + kh, iw * s - p + kw). */
typedef struct ug_deconv_shape {
    int N, Cin, H, W, Cout, k, stride, pad, out_pad;
} ug_deconv_shape;
int ug_deconv_out_h(const ug_deconv_shape *s);
int ug_deconv_out_w(const ug_deconv_shape *s);
/* w: Cin x Cout x k x k (PyTorch's layout); b: Cout or NULL. */
int ug_deconv_forward(ug_kctx *k, float *out, const float *in, const float *w, const float *b,
                      const ug_deconv_shape *s, ug_error *err);
int ug_deconv_backward(ug_kctx *k, float *din, float *dw, float *db, const float *dout,
                       const float *in, const float *w, const ug_deconv_shape *s, int acc,
                       ug_error *err);
void ug_deconv_forward_ref(float *out, const float *in, const float *w, const float *b,
                           const ug_deconv_shape *s);
void ug_deconv_backward_ref(float *din, float *dw, float *db, const float *dout,
                            const float *in, const float *w, const ug_deconv_shape *s, int acc);

/* ---- linear (linear.c): out (N x O) = in (N x I) * w^T + b; w: O x I; b: O or NULL. */
int ug_linear_forward(ug_kctx *k, float *out, const float *in, const float *w, const float *b,
                      int N, int I, int O, ug_error *err);
int ug_linear_backward(ug_kctx *k, float *din, float *dw, float *db, const float *dout,
                       const float *in, const float *w, int N, int I, int O, int acc,
                       ug_error *err);
void ug_linear_forward_ref(float *out, const float *in, const float *w, const float *b, int N,
                           int I, int O);
void ug_linear_backward_ref(float *din, float *dw, float *db, const float *dout, const float *in,
                            const float *w, int N, int I, int O, int acc);

/* ---- reflection padding (pad.c): in N x C x H x W -> out N x C x (H+2p) x (W+2p).
 * The edge pixel is not repeated; requires p < H and p < W. */
void ug_pad_reflect_forward(float *out, const float *in, int N, int C, int H, int W, int p);
void ug_pad_reflect_backward(float *din, const float *dout, int N, int C, int H, int W, int p,
                             int acc);

/* ---- InstanceNorm without affine parameters, biased variance (instnorm.c).
 * Saves mean and rstd = 1/sqrt(var + eps), each N*C, for the backward pass.
 * relu != 0 applies a ReLU to the output in the same pass (the backward
 * pass reads the input, never the output, so the ReLU's own backward is
 * unchanged). */
void ug_instnorm_forward(float *out, float *mean, float *rstd, const float *in, int N, int C,
                         int HW, float eps, int relu);
void ug_instnorm_backward(float *din, const float *dout, const float *in, const float *mean,
                          const float *rstd, int N, int C, int HW, int acc);

/* ---- adaILN and ILN (linnorm.c), UNBIASED variances (divide by count - 1):
 *   out = (rho[c] * x_in + (1 - rho[c]) * x_ln) * gamma[n,c] + beta[n,c]
 * x_in normalises over H,W per (n,c); x_ln over C,H,W per n.
 * gamma/beta are N x C when per_sample != 0 (adaILN, from the MLP) and C
 * otherwise (ILN's own parameters). stats holds ug_linnorm_stats_size floats
 * (8-byte aligned): instance mean and rstd (N*C each), layer mean and rstd
 * (N each), then the forward pass's scratch. relu as for instance norm. */
size_t ug_linnorm_stats_size(int N, int C);
void ug_linnorm_forward(float *out, float *stats, const float *in, const float *rho,
                        const float *gamma, const float *beta, int per_sample, int N, int C,
                        int HW, float eps, int relu);
/* drho += (C); dgamma, dbeta += (N x C if per_sample, else C). din by acc. */
void ug_linnorm_backward(float *din, float *drho, float *dgamma, float *dbeta, const float *dout,
                         const float *in, const float *stats, const float *rho,
                         const float *gamma, int per_sample, int N, int C, int HW, int acc);

/* ---- BatchNorm with affine weight and bias (batchnorm.c), as
 * torch.nn.BatchNorm2d. train != 0: normalises by the batch's mean and biased
 * variance over N, H, W, and moves running_mean and running_var by momentum
 * towards the batch mean and UNBIASED variance (N * HW must exceed 1);
 * train == 0: normalises by running_mean, running_var (left unchanged). Saves
 * the mean and rstd = 1/sqrt(var + eps) it used (C each) for the backward
 * pass, whose train must be the forward's. */
void ug_batchnorm_forward(float *out, float *mean, float *rstd, const float *in, const float *w,
                          const float *b, float *running_mean, float *running_var, int train,
                          int N, int C, int HW, float eps, float momentum);
void ug_batchnorm_backward(float *din, float *dw, float *db, const float *dout, const float *in,
                           const float *mean, const float *rstd, const float *w, int train,
                           int N, int C, int HW, int acc);

/* ---- GroupNorm (groupnorm.c), as torch.nn.GroupNorm(G, C, eps): biased
 * variance over each group of C / G channels and H, W; weight and bias per
 * channel. Saves mean and rstd (N * G each). */
void ug_groupnorm_forward(float *out, float *mean, float *rstd, const float *in, const float *w,
                          const float *b, int N, int C, int HW, int G, float eps);
void ug_groupnorm_backward(float *din, float *dw, float *db, const float *dout, const float *in,
                           const float *mean, const float *rstd, const float *w, int N, int C,
                           int HW, int G, int acc);

/* ---- windowed pooling (pool2d.c), as torch.nn.MaxPool2d and AvgPool2d
 * with ceil_mode false: kernel kh x kw, stride, padding pad on every side
 * (pad <= kh / 2 and kw / 2). OH = (H + 2 pad - kh) / stride + 1. Max
 * pooling pads with -inf, saves the index in the plane of each output's
 * maximum (the first one on ties); average pooling divides by kh * kw
 * (count_pad != 0, PyTorch's count_include_pad) or by the input pixels in
 * the window. */
typedef struct ug_pool_shape {
    int N, C, H, W, kh, kw, stride, pad;
} ug_pool_shape;
int ug_pool_out_h(const ug_pool_shape *s);
int ug_pool_out_w(const ug_pool_shape *s);
void ug_maxpool_forward(float *out, int32_t *argmax, const float *in, const ug_pool_shape *s);
void ug_maxpool_backward(float *din, const float *dout, const int32_t *argmax,
                         const ug_pool_shape *s, int acc);
void ug_avgpool_forward(float *out, const float *in, const ug_pool_shape *s, int count_pad);
void ug_avgpool_backward(float *din, const float *dout, const ug_pool_shape *s, int count_pad,
                         int acc);

/* ---- broadcasting element-wise ops (eltwise.c) over planes of HW: a has
 * planes x HW values; b has one per plane (ug_add_planes_*, ug_mul_* with
 * b_planes != 0) or as many as a; out may equal a. The backward passes sum
 * a broadcast b's gradient over its plane. */
void ug_add_planes_forward(float *out, const float *a, const float *b, size_t planes, size_t HW);
void ug_add_planes_backward(float *da, float *db, const float *dout, size_t planes, size_t HW,
                            int acc_a, int acc_b);
void ug_mul_forward(float *out, const float *a, const float *b, size_t planes, size_t HW,
                    int b_planes);
void ug_mul_backward(float *da, float *db, const float *dout, const float *a, const float *b,
                     size_t planes, size_t HW, int b_planes, int acc_a, int acc_b);

/* ---- element-wise activations (activation.c); out may equal in. The
 * backward passes read the forward OUTPUT (enough for all four). */
void ug_relu_forward(float *out, const float *in, size_t n);
void ug_relu_backward(float *din, const float *dout, const float *out, size_t n, int acc);
void ug_lrelu_forward(float *out, const float *in, size_t n, float slope);
void ug_lrelu_backward(float *din, const float *dout, const float *out, size_t n, float slope,
                       int acc);
void ug_tanh_forward(float *out, const float *in, size_t n);
void ug_tanh_backward(float *din, const float *dout, const float *out, size_t n, int acc);
void ug_sigmoid_forward(float *out, const float *in, size_t n);
void ug_sigmoid_backward(float *din, const float *dout, const float *out, size_t n, int acc);

/* ---- nearest-neighbour upsampling by 2 (upsample.c): N x C x H x W -> 2H x 2W. */
void ug_upsample2_forward(float *out, const float *in, int N, int C, int H, int W);
void ug_upsample2_backward(float *din, const float *dout, int N, int C, int H, int W, int acc);

/* ---- global pooling (pool.c): in N x C x HW -> out N x C. Max pooling saves
 * the index of the maximum (the first one on ties) per (n,c). */
void ug_gap_forward(float *out, const float *in, int N, int C, int HW);
void ug_gap_backward(float *din, const float *dout, int N, int C, int HW, int acc);
void ug_gmp_forward(float *out, int32_t *argmax, const float *in, int N, int C, int HW);
void ug_gmp_backward(float *din, const float *dout, const int32_t *argmax, int N, int C, int HW,
                     int acc);

/* ---- CAM helpers (cam.c) ----
 * per-channel scaling: out[n,c,:] = in[n,c,:] * w[c]; dw += sum over n, hw. */
void ug_scale_channels_forward(float *out, const float *in, const float *w, int N, int C, int HW);
void ug_scale_channels_backward(float *din, float *dw, const float *dout, const float *in,
                                const float *w, int N, int C, int HW, int acc);
/* channel concatenation of n_in inputs in[j] (N x C[j] x HW) -> out (N x sum C[j] x HW);
 * backward: din[j] by acc[j] (NULL: skipped). */
void ug_concat_forward(float *out, const float *const *in, const int *C, int n_in, int N,
                       int HW);
void ug_concat_backward(float *const *din, const int *acc, const float *dout, const int *C,
                        int n_in, int N, int HW);
/* heatmap: out[n,0,:] = sum over c of in[n,c,:]. */
void ug_channel_sum_forward(float *out, const float *in, int N, int C, int HW);
void ug_channel_sum_backward(float *din, const float *dout, int N, int C, int HW, int acc);
/* residual add: out = a + b (out may equal a or b); backward gives dout to both. */
void ug_add_forward(float *out, const float *a, const float *b, size_t n);
void ug_add_backward(float *da, float *db, const float *dout, size_t n, int acc_a, int acc_b);

/* ---- spectral normalisation (spectral.c), as torch.nn.utils.spectral_norm
 * with one power iteration and eps 1e-12. w is rows x cols (weight_orig
 * reshaped to out x in*kh*kw), u has rows, v has cols.
 * update != 0 (training mode): v = normalize(w^T u), u = normalize(w v),
 * written back to u and v. Then sigma = u . (w v) and w_sn = w / sigma
 * (skipped when w_sn is NULL). Returns sigma. work: rows + cols doubles of
 * the caller's (nothing is allocated). */
float ug_spectral_norm_forward(float *w_sn, float *u, float *v, const float *w, int rows, int cols,
                               int update, double *work);
/* w_sn[i] = w[i] / sigma over n floats (what the forward writes). */
void ug_spectral_norm_apply(float *w_sn, const float *w, float sigma, size_t n);
/* Gradient through sigma with u, v constant:
 * dw += dw_sn / sigma - (sum(dw_sn * w) / sigma^2) * u v^T. */
void ug_spectral_norm_backward(float *dw, const float *dw_sn, const float *w, const float *u,
                               const float *v, float sigma, int rows, int cols);

/* ---- losses (loss.c), means over n elements, accumulated in double.
 * The backward functions write scale * dloss/dx (acc as above). */
float ug_mse_const_forward(const float *x, size_t n, float target);
void ug_mse_const_backward(float *dx, const float *x, size_t n, float target, float scale,
                           int acc);
float ug_l1_forward(const float *x, const float *y, size_t n);
/* d/dx of mean|x - y| with sign(0) = 0, as torch. */
void ug_l1_backward(float *dx, const float *x, const float *y, size_t n, float scale, int acc);
/* binary cross entropy with logits against a constant target, numerically stable. */
float ug_bce_logits_const_forward(const float *x, size_t n, float target);
void ug_bce_logits_const_backward(float *dx, const float *x, size_t n, float target, float scale,
                                  int acc);

/* ---- Adam with L2 weight decay, exactly torch.optim.Adam (adam.c), over n
 * parameters; step is 1 for the first update:
 *   g = grad + wd * p; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2
 *   p -= lr / (1 - b1^step) * m / (sqrt(v) / sqrt(1 - b2^step) + eps) */
void ug_adam_update(float *p, const float *grad, float *m, float *v, size_t n, float lr,
                    float beta1, float beta2, float eps, float weight_decay, long step);

#endif
