/* Private to src/backend/cpu: the CPU backend's own kernels (oneDNN
 * convolutions and linears, threaded normalisations) and its context state
 * (dnnl.c). Every other kernel of its table is the plain reference. */
#ifndef UG_CPU_H
#define UG_CPU_H

#include "backend/backend.h"

int ug_cpu_ctx_init(ug_kctx *k, ug_error *err);
void ug_cpu_ctx_free(ug_kctx *k);

int ug_cpu_conv_forward(ug_kctx *k, float *out, const float *in, const float *w, const float *b,
                        const ug_conv_shape *s, ug_error *err);
int ug_cpu_conv_backward(ug_kctx *k, float *din, float *dw, float *db, const float *dout,
                         const float *in, const float *w, const ug_conv_shape *s, int acc,
                         ug_error *err);
int ug_cpu_deconv_forward(ug_kctx *k, float *out, const float *in, const float *w,
                          const float *b, const ug_deconv_shape *s, ug_error *err);
int ug_cpu_deconv_backward(ug_kctx *k, float *din, float *dw, float *db, const float *dout,
                           const float *in, const float *w, const ug_deconv_shape *s, int acc,
                           ug_error *err);
int ug_cpu_linear_forward(ug_kctx *k, float *out, const float *in, const float *w,
                          const float *b, int N, int I, int O, ug_error *err);
int ug_cpu_linear_backward(ug_kctx *k, float *din, float *dw, float *db, const float *dout,
                           const float *in, const float *w, int N, int I, int O, int acc,
                           ug_error *err);
void ug_cpu_instnorm_forward(ug_kctx *k, float *out, float *mean, float *rstd, const float *in,
                             int N, int C, int HW, float eps, int relu);
void ug_cpu_instnorm_backward(ug_kctx *k, float *din, const float *dout, const float *in,
                              const float *mean, const float *rstd, int N, int C, int HW, int acc);
void ug_cpu_linnorm_forward(ug_kctx *k, float *out, float *stats, const float *in,
                            const float *rho, const float *gamma, const float *beta,
                            int per_sample, int N, int C, int HW, float eps, int relu);
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
