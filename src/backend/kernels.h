/* Every numerical kernel of the engine, forward and backward, over float
 * arrays with explicit shapes, as one list (UG_KERNELS) from which backend.h
 * makes the backend table's function pointers, the callers' wrappers
 * (ug_conv_forward(k, ...) calls k->be->conv_forward) and the declarations
 * of the plain C references (ug_conv_forward_ref, in the op family's file
 * under src/ops). Images are N x C x H x W, row-major; every pointer to
 * tensor data is memory of the context's backend (backend.h).
 *
 * Where a forward kernel takes `blocked` (or a convolution's shape says so),
 * an image may instead be channel-blocked: N x C/16 x H x W x 16 (oneDNN's
 * nChw16c; C a multiple of UG_BLOCK), the layout the CPU backend's
 * convolutions compute in, which inference keeps between them (tape.c)
 * instead of converting at every convolution.
 *
 * Gradient conventions (as in llm.c, true dL/dx everywhere):
 * - Gradients of parameters (dw, db, drho, ...) are always ACCUMULATED (+=).
 * - The gradient of an input (din, da, ...) is overwritten when acc == 0 and
 *   accumulated when acc != 0, so that a value read by several consumers gets
 *   the sum of their gradients without a separate zeroing pass.
 * - A gradient pointer that is NULL is not computed. */
#ifndef UG_KERNELS_H
#define UG_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

typedef struct ug_kctx ug_kctx;

#define UG_BLOCK 16
/* Where plane (n, c) of an N x C x HW image starts, plain or blocked; its
 * pixels are ug_pixel_step floats apart. */
static inline size_t ug_plane_at(int blocked, int C, int HW, int n, int c)
{
    if (!blocked)
        return ((size_t)n * C + (size_t)c) * (size_t)HW;
    const size_t block = (size_t)(c / UG_BLOCK) * UG_BLOCK;
    return ((size_t)n * C + block) * (size_t)HW + (size_t)(c % UG_BLOCK);
}
static inline int ug_pixel_step(int blocked) { return blocked ? UG_BLOCK : 1; }

/* Convolution: kernel kh x kw, stride s, zero padding pad[] (top, bottom,
 * left, right; each smaller than the kernel side; reflection padding is a
 * separate op). out is N x Cout x OH x OW with
 * OH = (H + top + bottom - kh) / s + 1, OW likewise. w: Cout x Cin x kh x kw;
 * b: Cout or NULL. blocked_in, blocked_out: the forward pass's input and
 * output are channel-blocked (the backward passes take plain ones only). */
typedef struct ug_conv_shape {
    int N, Cin, H, W, Cout, kh, kw, stride;
    int pad[4];
    int blocked_in, blocked_out;
} ug_conv_shape;
int ug_conv_out_h(const ug_conv_shape *s);
int ug_conv_out_w(const ug_conv_shape *s);
/* -1 with a one-line error unless s is a shape the kernels take. */
int ug_conv_check(const ug_conv_shape *s, ug_error *err);
double ug_conv_flops(const ug_conv_shape *s); /* 2 * multiply-adds of one forward pass */

/* Transposed convolution, as torch.nn.ConvTranspose2d: kernel k x k, stride
 * s, padding p, output padding op (op < s, op <= p < k):
 * OH = (H - 1) * s - 2p + k + op, OW likewise. Input pixel (ih, iw) adds
 * in * w[ci][co][kh][kw] to output (ih * s - p + kh, iw * s - p + kw).
 * w: Cin x Cout x k x k (PyTorch's layout); b: Cout or NULL. */
typedef struct ug_deconv_shape {
    int N, Cin, H, W, Cout, k, stride, pad, out_pad;
} ug_deconv_shape;
int ug_deconv_out_h(const ug_deconv_shape *s);
int ug_deconv_out_w(const ug_deconv_shape *s);
int ug_deconv_check(const ug_deconv_shape *s, ug_error *err);
double ug_deconv_flops(const ug_deconv_shape *s);

/* Windowed pooling, as torch.nn.MaxPool2d and AvgPool2d with ceil_mode
 * false: kernel kh x kw, stride, padding pad on every side (pad <= kh / 2
 * and kw / 2). OH = (H + 2 pad - kh) / stride + 1. Max pooling pads with
 * -inf, saves the index in the plane of each output's maximum (the first one
 * on ties); average pooling divides by kh * kw (count_pad != 0, PyTorch's
 * count_include_pad) or by the input pixels in the window. */
typedef struct ug_pool_shape {
    int N, C, H, W, kh, kw, stride, pad;
} ug_pool_shape;
int ug_pool_out_h(const ug_pool_shape *s);
int ug_pool_out_w(const ug_pool_shape *s);

/* adaILN's and ILN's saved statistics: ug_linnorm_stats_size floats (8-byte
 * aligned): instance mean and rstd (N*C each), layer mean and rstd (N each),
 * then the forward pass's scratch. */
size_t ug_linnorm_stats_size(int N, int C);

/* The list: V(name, parameters, arguments) for a kernel returning nothing,
 * R(type, name, parameters, arguments) for one returning a value. Each
 * takes the kernel context first. */
#define UG_KERNELS(R, V)                                                                        \
    /* ---- layout (src/ops/layout.c): an N x C x HW image from plain to channel-blocked      \
     * (to_blocked != 0) or back; C a multiple of UG_BLOCK; out != in. */                      \
    V(layout_convert, (ug_kctx *k, float *out, const float *in, int N, int C, int HW,          \
                       int to_blocked),                                                        \
      (k, out, in, N, C, HW, to_blocked))                                                      \
    /* ---- convolution (src/ops/conv.c) */                                                    \
    R(int, conv_forward,                                                                       \
      (ug_kctx *k, float *out, const float *in, const float *w, const float *b,                \
       const ug_conv_shape *s, ug_error *err),                                                 \
      (k, out, in, w, b, s, err))                                                              \
    R(int, conv_backward,                                                                      \
      (ug_kctx *k, float *din, float *dw, float *db, const float *dout, const float *in,       \
       const float *w, const ug_conv_shape *s, int acc, ug_error *err),                        \
      (k, din, dw, db, dout, in, w, s, acc, err))                                              \
    /* The same for a spectrally normalised weight used as W / sigma (sigma = u^T W v, u and   \
     * v constant; see spectral_norm_backward): w is weight_orig, din and db as above, and     \
     * dw += weight_orig's gradient through sigma. */                                          \
    R(int, conv_backward_sn,                                                                   \
      (ug_kctx *k, float *din, float *dw, float *db, const float *dout, const float *in,       \
       const float *w, float sigma, const float *u, const float *v, const ug_conv_shape *s,    \
       int acc, ug_error *err),                                                                \
      (k, din, dw, db, dout, in, w, sigma, u, v, s, acc, err))                                 \
    /* ---- transposed convolution (src/ops/deconv.c) */                                      \
    R(int, deconv_forward,                                                                     \
      (ug_kctx *k, float *out, const float *in, const float *w, const float *b,                \
       const ug_deconv_shape *s, ug_error *err),                                               \
      (k, out, in, w, b, s, err))                                                              \
    R(int, deconv_backward,                                                                    \
      (ug_kctx *k, float *din, float *dw, float *db, const float *dout, const float *in,       \
       const float *w, const ug_deconv_shape *s, int acc, ug_error *err),                      \
      (k, din, dw, db, dout, in, w, s, acc, err))                                              \
    /* ---- linear (src/ops/linear.c): out (N x O) = in (N x I) * w^T + b; w: O x I;          \
     * b: O or NULL. */                                                                        \
    R(int, linear_forward,                                                                     \
      (ug_kctx *k, float *out, const float *in, const float *w, const float *b, int N, int I,  \
       int O, ug_error *err),                                                                  \
      (k, out, in, w, b, N, I, O, err))                                                        \
    R(int, linear_backward,                                                                    \
      (ug_kctx *k, float *din, float *dw, float *db, const float *dout, const float *in,       \
       const float *w, int N, int I, int O, int acc, ug_error *err),                           \
      (k, din, dw, db, dout, in, w, N, I, O, acc, err))                                        \
    /* ---- reflection padding (src/ops/spatial.c): N x C x H x W -> N x C x (H+2p) x         \
     * (W+2p). The edge pixel is not repeated; requires p < H and p < W. */                    \
    V(pad_reflect_forward, (ug_kctx *k, float *out, const float *in, int N, int C, int H,      \
                            int W, int p, int blocked),                                        \
      (k, out, in, N, C, H, W, p, blocked))                                                    \
    V(pad_reflect_backward, (ug_kctx *k, float *din, const float *dout, int N, int C, int H,   \
                             int W, int p, int acc),                                           \
      (k, din, dout, N, C, H, W, p, acc))                                                      \
    /* ---- nearest-neighbour upsampling by 2 (src/ops/spatial.c): H x W -> 2H x 2W. */       \
    V(upsample2_forward, (ug_kctx *k, float *out, const float *in, int N, int C, int H, int W, \
                          int blocked),                                                        \
      (k, out, in, N, C, H, W, blocked))                                                       \
    V(upsample2_backward, (ug_kctx *k, float *din, const float *dout, int N, int C, int H,     \
                           int W, int acc),                                                    \
      (k, din, dout, N, C, H, W, acc))                                                         \
    /* ---- InstanceNorm without affine parameters, biased variance                           \
     * (src/ops/instnorm.c). Saves mean and rstd = 1/sqrt(var + eps), each N*C, for the        \
     * backward pass. relu != 0 applies a ReLU to the output in the same pass (the backward    \
     * pass reads the input, never the output, so the ReLU's own backward is unchanged). */    \
    V(instnorm_forward, (ug_kctx *k, float *out, float *mean, float *rstd, const float *in,    \
                         int N, int C, int HW, float eps, int relu, int blocked),              \
      (k, out, mean, rstd, in, N, C, HW, eps, relu, blocked))                                  \
    V(instnorm_backward, (ug_kctx *k, float *din, const float *dout, const float *in,          \
                          const float *mean, const float *rstd, int N, int C, int HW, int acc), \
      (k, din, dout, in, mean, rstd, N, C, HW, acc))                                           \
    /* ---- MUNIT's AdaIN (src/ops/adain.c): InstanceNorm with the BIASED variance, then     \
     * out = xhat * gamma[n,c] + beta[n,c], the affine taken from a per-sample vector p of     \
     * stride pstride: beta[n,c] = p[n * pstride + c], gamma[n,c] = p[n * pstride + C + c]      \
     * (assign_adain_params: bias first, weight second). Saves mean and rstd (N*C each).       \
     * relu as for instance norm. Backward: dp += (the same layout). */                        \
    V(adain_forward, (ug_kctx *k, float *out, float *mean, float *rstd, const float *in,       \
                      const float *p, int pstride, int N, int C, int HW, float eps, int relu),  \
      (k, out, mean, rstd, in, p, pstride, N, C, HW, eps, relu))                               \
    V(adain_backward, (ug_kctx *k, float *din, float *dp, const float *dout, const float *in,  \
                       const float *mean, const float *rstd, const float *p, int pstride,      \
                       int N, int C, int HW, int acc),                                         \
      (k, din, dp, dout, in, mean, rstd, p, pstride, N, C, HW, acc))                           \
    /* ---- adaILN and ILN (src/ops/linnorm.c), UNBIASED variances (divide by count - 1):     \
     *   out = (rho[c] * x_in + (1 - rho[c]) * x_ln) * gamma[n,c] + beta[n,c]                  \
     * x_in normalises over H,W per (n,c); x_ln over C,H,W per n. gamma/beta are N x C when    \
     * per_sample != 0 (adaILN, from the MLP) and C otherwise (ILN's own parameters). stats:   \
     * see ug_linnorm_stats_size. relu as for instance norm. Backward: drho += (C);            \
     * dgamma, dbeta += (N x C if per_sample, else C); din by acc. */                          \
    V(linnorm_forward, (ug_kctx *k, float *out, float *stats, const float *in,                 \
                        const float *rho, const float *gamma, const float *beta,               \
                        int per_sample, int N, int C, int HW, float eps, int relu,             \
                        int blocked),                                                          \
      (k, out, stats, in, rho, gamma, beta, per_sample, N, C, HW, eps, relu, blocked))         \
    V(linnorm_backward, (ug_kctx *k, float *din, float *drho, float *dgamma, float *dbeta,     \
                         const float *dout, const float *in, const float *stats,               \
                         const float *rho, const float *gamma, int per_sample, int N, int C,   \
                         int HW, int acc),                                                     \
      (k, din, drho, dgamma, dbeta, dout, in, stats, rho, gamma, per_sample, N, C, HW, acc))   \
    /* ---- BatchNorm with affine weight and bias (src/ops/batchnorm.c), as                   \
     * torch.nn.BatchNorm2d. train != 0: normalises by the batch's mean and biased variance    \
     * over N, H, W, and moves running_mean and running_var by momentum towards the batch      \
     * mean and UNBIASED variance (N * HW must exceed 1); train == 0: normalises by            \
     * running_mean, running_var (left unchanged). Saves the mean and rstd =                   \
     * 1/sqrt(var + eps) it used (C each) for the backward pass, whose train must be the       \
     * forward's. */                                                                           \
    V(batchnorm_forward, (ug_kctx *k, float *out, float *mean, float *rstd, const float *in,   \
                          const float *w, const float *b, float *running_mean,                 \
                          float *running_var, int train, int N, int C, int HW, float eps,      \
                          float momentum),                                                     \
      (k, out, mean, rstd, in, w, b, running_mean, running_var, train, N, C, HW, eps,          \
       momentum))                                                                              \
    V(batchnorm_backward, (ug_kctx *k, float *din, float *dw, float *db, const float *dout,    \
                           const float *in, const float *mean, const float *rstd,              \
                           const float *w, int train, int N, int C, int HW, int acc),          \
      (k, din, dw, db, dout, in, mean, rstd, w, train, N, C, HW, acc))                         \
    /* ---- GroupNorm (src/ops/groupnorm.c), as torch.nn.GroupNorm(G, C, eps): biased         \
     * variance over each group of C / G channels and H, W; weight and bias per channel.      \
     * Saves mean and rstd (N * G each). */                                                    \
    V(groupnorm_forward, (ug_kctx *k, float *out, float *mean, float *rstd, const float *in,   \
                          const float *w, const float *b, int N, int C, int HW, int G,         \
                          float eps),                                                          \
      (k, out, mean, rstd, in, w, b, N, C, HW, G, eps))                                        \
    V(groupnorm_backward, (ug_kctx *k, float *din, float *dw, float *db, const float *dout,    \
                           const float *in, const float *mean, const float *rstd,              \
                           const float *w, int N, int C, int HW, int G, int acc),              \
      (k, din, dw, db, dout, in, mean, rstd, w, N, C, HW, G, acc))                             \
    /* ---- NVIDIA's LayerNorm (UNIT, MUNIT; src/ops/affine_norm.c): per sample over C, H, W, \
     * y = (x - mean) / (std + eps) w[c] + b[c] with the UNBIASED std and eps added to it.   \
     * Saves mean and 1 / (std + eps) (N each). */                                            \
    V(nvlayernorm_forward, (ug_kctx *k, float *out, float *mean, float *rden, const float *in, \
                            const float *w, const float *b, int N, int C, int HW, float eps),  \
      (k, out, mean, rden, in, w, b, N, C, HW, eps))                                           \
    V(nvlayernorm_backward, (ug_kctx *k, float *din, float *dw, float *db, const float *dout,  \
                             const float *in, const float *mean, const float *rden,            \
                             const float *w, int N, int C, int HW, float eps, int acc),        \
      (k, din, dw, db, dout, in, mean, rden, w, N, C, HW, eps, acc))                           \
    /* ---- windowed pooling (src/ops/pool.c; see ug_pool_shape) */                           \
    V(maxpool_forward, (ug_kctx *k, float *out, int32_t *argmax, const float *in,              \
                        const ug_pool_shape *s),                                               \
      (k, out, argmax, in, s))                                                                 \
    V(maxpool_backward, (ug_kctx *k, float *din, const float *dout, const int32_t *argmax,     \
                         const ug_pool_shape *s, int acc),                                     \
      (k, din, dout, argmax, s, acc))                                                          \
    V(avgpool_forward, (ug_kctx *k, float *out, const float *in, const ug_pool_shape *s,       \
                        int count_pad),                                                        \
      (k, out, in, s, count_pad))                                                              \
    V(avgpool_backward, (ug_kctx *k, float *din, const float *dout, const ug_pool_shape *s,    \
                         int count_pad, int acc),                                              \
      (k, din, dout, s, count_pad, acc))                                                       \
    /* ---- global pooling (src/ops/pool.c): N x C x HW -> N x C. Max pooling saves the       \
     * index of the maximum (the first one on ties) per (n,c). */                              \
    V(gap_forward, (ug_kctx *k, float *out, const float *in, int N, int C, int HW),            \
      (k, out, in, N, C, HW))                                                                  \
    V(gap_backward, (ug_kctx *k, float *din, const float *dout, int N, int C, int HW,          \
                     int acc),                                                                 \
      (k, din, dout, N, C, HW, acc))                                                           \
    V(gmp_forward, (ug_kctx *k, float *out, int32_t *argmax, const float *in, int N, int C,    \
                    int HW),                                                                   \
      (k, out, argmax, in, N, C, HW))                                                          \
    V(gmp_backward, (ug_kctx *k, float *din, const float *dout, const int32_t *argmax, int N,  \
                     int C, int HW, int acc),                                                  \
      (k, din, dout, argmax, N, C, HW, acc))                                                   \
    /* ---- element-wise activations (src/ops/activation.c); out may equal in. The            \
     * backward passes read the forward OUTPUT (enough for all four). */                       \
    V(relu_forward, (ug_kctx *k, float *out, const float *in, size_t n), (k, out, in, n))      \
    V(relu_backward, (ug_kctx *k, float *din, const float *dout, const float *out, size_t n,   \
                      int acc),                                                                \
      (k, din, dout, out, n, acc))                                                             \
    V(lrelu_forward, (ug_kctx *k, float *out, const float *in, size_t n, float slope),         \
      (k, out, in, n, slope))                                                                  \
    V(lrelu_backward, (ug_kctx *k, float *din, const float *dout, const float *out, size_t n,  \
                       float slope, int acc),                                                  \
      (k, din, dout, out, n, slope, acc))                                                      \
    V(tanh_forward, (ug_kctx *k, float *out, const float *in, size_t n), (k, out, in, n))      \
    V(tanh_backward, (ug_kctx *k, float *din, const float *dout, const float *out, size_t n,   \
                      int acc),                                                                \
      (k, din, dout, out, n, acc))                                                             \
    V(sigmoid_forward, (ug_kctx *k, float *out, const float *in, size_t n), (k, out, in, n))   \
    V(sigmoid_backward, (ug_kctx *k, float *din, const float *dout, const float *out,          \
                         size_t n, int acc),                                                   \
      (k, din, dout, out, n, acc))                                                             \
    /* ---- channel ops (src/ops/channel.c). Per-channel scaling:                             \
     * out[n,c,:] = in[n,c,:] * w[c]; dw += sum over n, hw. */                                 \
    V(scale_channels_forward, (ug_kctx *k, float *out, const float *in, const float *w, int N, \
                               int C, int HW),                                                 \
      (k, out, in, w, N, C, HW))                                                               \
    V(scale_channels_backward, (ug_kctx *k, float *din, float *dw, const float *dout,          \
                                const float *in, const float *w, int N, int C, int HW,         \
                                int acc),                                                      \
      (k, din, dw, dout, in, w, N, C, HW, acc))                                                \
    /* channel concatenation of n_in inputs in[j] (N x C[j] x HW) -> out                      \
     * (N x sum C[j] x HW); backward: din[j] by acc[j] (NULL: skipped). */                     \
    V(concat_forward, (ug_kctx *k, float *out, const float *const *in, const int *C,           \
                       int n_in, int N, int HW),                                               \
      (k, out, in, C, n_in, N, HW))                                                            \
    V(concat_backward, (ug_kctx *k, float *const *din, const int *acc, const float *dout,      \
                        const int *C, int n_in, int N, int HW),                                \
      (k, din, acc, dout, C, n_in, N, HW))                                                     \
    /* x (N x C x HW) followed by z (N x Z, one value per channel) tiled over the plane ->    \
     * out (N x (C + Z) x HW): DRIT's decoder input; backward: dx by accx, dz (the sum over   \
     * the plane) by accz (NULL: skipped). */                                                  \
    V(concat_tiled_forward, (ug_kctx *k, float *out, const float *x, const float *z, int N,    \
                             int C, int Z, int HW),                                            \
      (k, out, x, z, N, C, Z, HW))                                                             \
    V(concat_tiled_backward, (ug_kctx *k, float *dx, int accx, float *dz, int accz,            \
                              const float *dout, int N, int C, int Z, int HW),                 \
      (k, dx, accx, dz, accz, dout, N, C, Z, HW))                                              \
    /* heatmap: out[n,0,:] = sum over c of in[n,c,:]. */                                       \
    V(channel_sum_forward, (ug_kctx *k, float *out, const float *in, int N, int C, int HW),    \
      (k, out, in, N, C, HW))                                                                  \
    V(channel_sum_backward, (ug_kctx *k, float *din, const float *dout, int N, int C, int HW,  \
                             int acc),                                                         \
      (k, din, dout, N, C, HW, acc))                                                           \
    /* residual add: out = a + b (out may equal a or b); backward gives dout to both. */       \
    V(add_forward, (ug_kctx *k, float *out, const float *a, const float *b, size_t n),         \
      (k, out, a, b, n))                                                                       \
    V(add_backward, (ug_kctx *k, float *da, float *db, const float *dout, size_t n, int acc_a, \
                     int acc_b),                                                               \
      (k, da, db, dout, n, acc_a, acc_b))                                                      \
    /* broadcasting element-wise ops over planes of HW: a has planes x HW values; b has one    \
     * per plane (add_planes, mul with b_planes != 0) or as many as a; out may equal a. The    \
     * backward passes sum a broadcast b's gradient over its plane. */                         \
    V(add_planes_forward, (ug_kctx *k, float *out, const float *a, const float *b,             \
                           size_t planes, size_t HW),                                          \
      (k, out, a, b, planes, HW))                                                              \
    V(add_planes_backward, (ug_kctx *k, float *da, float *db, const float *dout,               \
                            size_t planes, size_t HW, int acc_a, int acc_b),                   \
      (k, da, db, dout, planes, HW, acc_a, acc_b))                                             \
    V(mul_forward, (ug_kctx *k, float *out, const float *a, const float *b, size_t planes,     \
                    size_t HW, int b_planes),                                                  \
      (k, out, a, b, planes, HW, b_planes))                                                    \
    V(mul_backward, (ug_kctx *k, float *da, float *db, const float *dout, const float *a,      \
                     const float *b, size_t planes, size_t HW, int b_planes, int acc_a,        \
                     int acc_b),                                                               \
      (k, da, db, dout, a, b, planes, HW, b_planes, acc_a, acc_b))                             \
    /* ---- spectral normalisation (src/ops/spectral.c), as torch.nn.utils.spectral_norm      \
     * with one power iteration and eps 1e-12. w is rows x cols (weight_orig reshaped to       \
     * out x in*kh*kw), u has rows, v has cols. update != 0 (training mode):                   \
     * v = normalize(w^T u), u = normalize(w v), written back to u and v. Then                 \
     * sigma = u . (w v) and w_sn = w / sigma (skipped when w_sn is NULL). Returns sigma.      \
     * work: rows + cols doubles of the backend's memory (nothing is allocated). */            \
    R(float, spectral_norm_forward, (ug_kctx *k, float *w_sn, float *u, float *v,              \
                                     const float *w, int rows, int cols, int update,           \
                                     double *work),                                            \
      (k, w_sn, u, v, w, rows, cols, update, work))                                            \
    /* w_sn[i] = w[i] / sigma over n floats (what the forward writes). */                      \
    V(spectral_norm_apply, (ug_kctx *k, float *w_sn, const float *w, float sigma, size_t n),   \
      (k, w_sn, w, sigma, n))                                                                  \
    /* out[n,c,:] = out[n,c,:] / sigma + (b ? b[c] : 0) over N x C planes of HW floats: a    \
     * layer's output made with weight_orig instead of w_sn, the division moved past the sum. */\
    V(spectral_norm_output, (ug_kctx *k, float *out, float sigma, const float *b, int N, int C, \
                             size_t HW),                                                       \
      (k, out, sigma, b, N, C, HW))                                                            \
    /* Gradient through sigma with u, v constant:                                              \
     * dw += dw_sn / sigma - (sum(dw_sn * w) / sigma^2) * u v^T. */                            \
    V(spectral_norm_backward, (ug_kctx *k, float *dw, const float *dw_sn, const float *w,      \
                               const float *u, const float *v, float sigma, int rows,          \
                               int cols),                                                      \
      (k, dw, dw_sn, w, u, v, sigma, rows, cols))                                              \
    /* ---- losses (src/ops/loss.c), means over n elements, accumulated in double, returned   \
     * to the host. The backward functions write scale * dloss/dx (acc as above). */           \
    R(float, mse_const_forward, (ug_kctx *k, const float *x, size_t n, float target),          \
      (k, x, n, target))                                                                       \
    V(mse_const_backward, (ug_kctx *k, float *dx, const float *x, size_t n, float target,      \
                           float scale, int acc),                                              \
      (k, dx, x, n, target, scale, acc))                                                       \
    R(float, l1_forward, (ug_kctx *k, const float *x, const float *y, size_t n), (k, x, y, n)) \
    /* d/dx of mean|x - y| with sign(0) = 0, as torch. */                                      \
    V(l1_backward, (ug_kctx *k, float *dx, const float *x, const float *y, size_t n,           \
                    float scale, int acc),                                                     \
      (k, dx, x, y, n, scale, acc))                                                            \
    /* binary cross entropy with logits against a constant target, numerically stable. */     \
    R(float, bce_logits_const_forward, (ug_kctx *k, const float *x, size_t n, float target),   \
      (k, x, n, target))                                                                       \
    V(bce_logits_const_backward, (ug_kctx *k, float *dx, const float *x, size_t n,             \
                                  float target, float scale, int acc),                         \
      (k, dx, x, n, target, scale, acc))                                                       \
    /* binary cross entropy of p = sigmoid(x) against a constant, as torch's                  \
     * F.binary_cross_entropy(torch.sigmoid(x), t): p in float, each log clamped at >= -100;  \
     * backward (p - t) / max(p (1 - p), 1e-12) * p (1 - p). */                               \
    R(float, bce_prob_const_forward, (ug_kctx *k, const float *x, size_t n, float target),     \
      (k, x, n, target))                                                                       \
    V(bce_prob_const_backward, (ug_kctx *k, float *dx, const float *x, size_t n,               \
                                float target, float scale, int acc),                           \
      (k, dx, x, n, target, scale, acc))                                                       \
    /* ---- Gaussian latent codes (src/ops/latent.c), n values each. The reparameterisation  \
     * z = mu + eps * exp(logvar / 2); backward: dmu and dlogvar by acc. */                    \
    V(reparam_forward, (ug_kctx *k, float *z, const float *mu, const float *logvar,            \
                        const float *eps, size_t n),                                           \
      (k, z, mu, logvar, eps, n))                                                              \
    V(reparam_backward, (ug_kctx *k, float *dmu, float *dlogvar, const float *dz,              \
                         const float *logvar, const float *eps, size_t n, int acc),            \
      (k, dmu, dlogvar, dz, logvar, eps, n, acc))                                              \
    /* The KL divergence from N(0, I), a SUM (not a mean) accumulated in double:              \
     * -1/2 sum(1 + logvar - mu^2 - exp(logvar)); backward writes scale * its gradient. */    \
    R(float, kl_gauss_sum_forward, (ug_kctx *k, const float *mu, const float *logvar,          \
                                    size_t n),                                                 \
      (k, mu, logvar, n))                                                                      \
    V(kl_gauss_sum_backward, (ug_kctx *k, float *dmu, float *dlogvar, const float *mu,         \
                              const float *logvar, size_t n, float scale, int acc),            \
      (k, dmu, dlogvar, mu, logvar, n, scale, acc))                                            \
    /* ---- the optimiser (src/ops/adam.c). Adam with L2 weight decay, exactly                \
     * torch.optim.Adam, over n parameters; step is 1 for the first update:                    \
     *   g = grad + wd * p; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2                         \
     *   p -= lr / (1 - b1^step) * m / (sqrt(v) / sqrt(1 - b2^step) + eps) */                  \
    V(adam_update, (ug_kctx *k, float *p, const float *grad, float *m, float *v, size_t n,     \
                    float lr, float beta1, float beta2, float eps, float weight_decay,         \
                    long step),                                                                \
      (k, p, grad, m, v, n, lr, beta1, beta2, eps, weight_decay, step))                        \
    /* The same for a rows x cols weight whose gradient is kept as terms (net.h's ug_terms):  \
     * grad = scale * sum over r < rank of u_r v_r^T (u: rank x rows, vt: rank x cols). */    \
    V(adam_update_terms, (ug_kctx *k, float *p, const float *u, const float *vt, int rank,     \
                          int rows, int cols, float scale, float *m, float *v, float lr,       \
                          float beta1, float beta2, float eps, float weight_decay,             \
                          long step),                                                          \
      (k, p, u, vt, rank, rows, cols, scale, m, v, lr, beta1, beta2, eps, weight_decay, step)) \
    /* Projects x into [lo, hi] (AdaLIN's rho after each update). */                           \
    V(clamp, (ug_kctx *k, float *x, size_t n, float lo, float hi), (k, x, n, lo, hi))

/* spectral_norm_forward with its two products given (src/ops/spectral.c): y = W x (rows
 * values) and y = W^T x (cols values), in double. The reference passes its plain loops, the
 * CPU backend its vectorised ones. */
typedef void ug_sn_product(double *y, const float *w, const float *x, int rows, int cols);
float ug_spectral_norm_power(ug_kctx *k, float *w_sn, float *u, float *v, const float *w,
                             int rows, int cols, int update, double *work, ug_sn_product *wv,
                             ug_sn_product *wtu);

#endif
