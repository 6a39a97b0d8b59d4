/* Private to src/backend/cpu: the CPU backend's own kernels (oneDNN
 * convolutions and linears, our Winograd convolutions, threaded
 * normalisations, row-wise padding and up-sampling) and its context state
 * (dnnl.c). Every other kernel of its table is the plain reference. */
#ifndef UG_CPU_H
#define UG_CPU_H

#include "backend/backend.h"

int ug_cpu_ctx_init(ug_kctx *k, ug_error *err);
void ug_cpu_ctx_free(ug_kctx *k);

/* Which code runs the 3x3 stride-1 convolutions (conv.c). AUTO, the
 * default: ours (winograd.h) where oneDNN has no Winograd (the AVX2 path,
 * and on the AVX-512 path channel counts that are not multiples of 16), for
 * 64 or more channels each way; oneDNN elsewhere. TIMED:
 * the first calls of each pass and shape alternate between the two, timed,
 * and the faster is kept in the context; results then depend on timings,
 * so they are not reproducible bit for bit. OURS and ONEDNN force one. A
 * new context takes it from UGATIT_WINOGRAD (auto, timed, ours, onednn;
 * unset: auto). */
enum { UG_CPU_WINO_AUTO, UG_CPU_WINO_TIMED, UG_CPU_WINO_OURS, UG_CPU_WINO_ONEDNN };
void ug_cpu_set_wino_policy(ug_kctx *k, int policy);
int ug_cpu_wino_policy(const ug_kctx *k);

/* The context's buffer for our own convolutions (winograd.c, conv_gemm.c),
 * at least count floats, 64-byte aligned, valid until the next call; NULL
 * with err set when out of memory. */
float *ug_cpu_conv_scratch(ug_kctx *k, size_t count, ug_error *err);

/* C (M x N) = op(A) op(B) + beta C by oneDNN's row-major sgemm (op: 'N' or
 * 'T'); -1 with err set when oneDNN refuses. */
int ug_cpu_sgemm(char ta, char tb, long M, long N, long K, const float *A, long lda,
                 const float *B, long ldb, float beta, float *C, long ldc, ug_error *err);

/* conv.c's record of one pass and shape under the timed policy: its calls
 * so far and the best timed run of each side. */
#define UG_CPU_CHOICE_KEY_LEN 16
typedef struct ug_cpu_choice {
    int key[UG_CPU_CHOICE_KEY_LEN];
    int calls;
    double best[2]; /* seconds: [0] oneDNN, [1] ours; 0 until timed */
    struct ug_cpu_choice *next;
} ug_cpu_choice;
/* The record for key (unused entries 0), made on first use; NULL when out
 * of memory. Valid until the next call. */
ug_cpu_choice *ug_cpu_choice_get(ug_kctx *k, const int key[UG_CPU_CHOICE_KEY_LEN]);

/* 1 when convolution s runs on channel-blocked images without converting
 * them: oneDNN's (whose convolutions compute blocked on the AVX2 and AVX-512
 * paths) and our Winograd's (which reads and writes them in place), not the
 * narrow kernels, the matrix products of small planes, a timed choice
 * between the two Winograds, or a CPU without AVX2. */
int ug_cpu_conv_blocked(ug_kctx *k, const ug_conv_shape *s);
int ug_cpu_conv_forward(ug_kctx *k, float *out, const float *in, const float *w, const float *b,
                        const ug_conv_shape *s, ug_error *err);
int ug_cpu_conv_backward(ug_kctx *k, float *din, float *dw, float *db, const float *dout,
                         const float *in, const float *w, const ug_conv_shape *s, int acc,
                         ug_error *err);
int ug_cpu_conv_backward_sn(ug_kctx *k, float *din, float *dw, float *db, const float *dout,
                            const float *in, const float *w, float sigma, const float *u,
                            const float *v, const ug_conv_shape *s, int acc, ug_error *err);
int ug_cpu_deconv_forward(ug_kctx *k, float *out, const float *in, const float *w,
                          const float *b, const ug_deconv_shape *s, ug_error *err);
int ug_cpu_deconv_backward(ug_kctx *k, float *din, float *dw, float *db, const float *dout,
                           const float *in, const float *w, const ug_deconv_shape *s, int acc,
                           ug_error *err);
float ug_cpu_spectral_norm_forward(ug_kctx *k, float *w_sn, float *u, float *v, const float *w,
                                   int rows, int cols, int update, double *work);
int ug_cpu_linear_forward(ug_kctx *k, float *out, const float *in, const float *w,
                          const float *b, int N, int I, int O, ug_error *err);
int ug_cpu_linear_backward(ug_kctx *k, float *din, float *dw, float *db, const float *dout,
                           const float *in, const float *w, int N, int I, int O, int acc,
                           ug_error *err);
void ug_cpu_pad_reflect_forward(ug_kctx *k, float *out, const float *in, int N, int C, int H,
                                int W, int p, int blocked);
void ug_cpu_pad_reflect_backward(ug_kctx *k, float *din, const float *dout, int N, int C, int H,
                                 int W, int p, int acc);
void ug_cpu_upsample2_forward(ug_kctx *k, float *out, const float *in, int N, int C, int H,
                              int W, int blocked);
void ug_cpu_gap_forward(ug_kctx *k, float *out, const float *in, int N, int C, int HW);
void ug_cpu_instnorm_forward(ug_kctx *k, float *out, float *mean, float *rstd, const float *in,
                             int N, int C, int HW, float eps, int relu, int blocked);
void ug_cpu_instnorm_backward(ug_kctx *k, float *din, const float *dout, const float *in,
                              const float *mean, const float *rstd, int N, int C, int HW, int acc);
void ug_cpu_linnorm_forward(ug_kctx *k, float *out, float *stats, const float *in,
                            const float *rho, const float *gamma, const float *beta,
                            int per_sample, int N, int C, int HW, float eps, int relu,
                            int blocked);
void ug_cpu_linnorm_backward(ug_kctx *k, float *din, float *drho, float *dgamma, float *dbeta,
                             const float *dout, const float *in, const float *stats,
                             const float *rho, const float *gamma, int per_sample, int N, int C,
                             int HW, int acc);
void ug_cpu_batchnorm_forward(ug_kctx *k, float *out, float *mean, float *rstd, const float *in,
                              const float *w, const float *b, float *running_mean,
                              float *running_var, int train, int N, int C, int HW, float eps,
                              float momentum);
void ug_cpu_batchnorm_backward(ug_kctx *k, float *din, float *dw, float *db, const float *dout,
                               const float *in, const float *mean, const float *rstd,
                               const float *w, int train, int N, int C, int HW, int acc);
void ug_cpu_groupnorm_forward(ug_kctx *k, float *out, float *mean, float *rstd, const float *in,
                              const float *w, const float *b, int N, int C, int HW, int G,
                              float eps);
void ug_cpu_groupnorm_backward(ug_kctx *k, float *din, float *dw, float *db, const float *dout,
                               const float *in, const float *mean, const float *rstd,
                               const float *w, int N, int C, int HW, int G, int acc);

#endif
