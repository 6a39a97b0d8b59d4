/* The CPU backend's convolution with zero padding: oneDNN's direct (or
 * Winograd) convolution forward, backward data and backward weights, with
 * primitives cached per shape in the context (dnnl.c); for 3x3 stride-1
 * ones our own Winograd (winograd.h) where it is faster on this CPU; for
 * small output planes matrix products (conv_gemm.h); where one side has
 * few channels the narrow kernels (conv_narrow.h). The reference is
 * src/ops/conv.c, whose plain sum also makes the bias gradient here. */
#include <stdio.h>
#include <time.h>

#include "backend/cpu/cpu.h"
#include "backend/cpu/conv_gemm.h"
#include "backend/cpu/conv_narrow.h"
#include "backend/cpu/convlike.h"
#include "backend/cpu/winograd.h"

/* Creates the primitive of pass `pass` for shape s with algorithm alg and
 * caches it under key. With quiet != 0, a shape or machine the algorithm
 * does not support returns NULL without setting err. */
static ug_dnnl_prim *conv_prim_alg(ug_kctx *k, const int *key, int pass, const ug_conv_shape *s,
                                   dnnl_alg_kind_t alg, int bf16, int quiet, ug_error *err)
{
    const ug_convlike_desc d = {
        .pass = pass,
        .alg = alg,
        .src = {s->N, s->Cin, s->H, s->W},
        .wei = {s->Cout, s->Cin, s->kh, s->kw},
        .bias = {s->Cout},
        .dst = {s->N, s->Cout, ug_conv_out_h(s), ug_conv_out_w(s)},
        .strides = {s->stride, s->stride},
        .pad_l = {s->pad[0], s->pad[2]},
        .pad_r = {s->pad[1], s->pad[3]},
        /* bf16: oneDNN's layouts of input and weights hold bfloat16, so the
         * reorders from the plain fp32 buffers round. */
        .in_type = bf16 ? dnnl_bf16 : dnnl_f32,
        .act = dnnl_format_tag_any,
        .wei_layout = dnnl_format_tag_any,
        .wei_user = dnnl_oihw,
        .src_user = s->blocked_in ? dnnl_nChw16c : dnnl_nchw,
        .dst_user = s->blocked_out ? dnnl_nChw16c : dnnl_nchw,
    };
    char what[128];
    snprintf(what, sizeof what, "N=%d Cin=%d %dx%d Cout=%d k=%dx%d s=%d", s->N, s->Cin, s->H,
             s->W, s->Cout, s->kh, s->kw, s->stride);
    return ug_convlike_prim(k, key, &ug_convlike_conv, &d, quiet, what, err);
}

/* Winograd F(4x4, 3x3) for 3x3 stride-1 convolutions where oneDNN has it
 * (AVX-512): 2.2 to 2.7 times fewer multiplications than direct; its
 * rounding differs from a direct sum by a few ulp of the larger terms (see
 * tests/test_conv.c). Everything else, and a context with Winograd off, is
 * direct. */
static int conv_wino_eligible(const ug_kctx *k, const ug_conv_shape *s)
{
    return ug_kctx_winograd(k) && s->kh == 3 && s->kw == 3 && s->stride == 1 &&
           s->Cin % 16 == 0 && s->Cout % 16 == 0;
}

/* The cached primitive of a pass for shape s, created on first use. */
static ug_dnnl_prim *conv_prim(ug_kctx *k, int pass, const ug_conv_shape *s, ug_error *err)
{
    const int wino = conv_wino_eligible(k, s);
    /* bf16 for the forward convolutions that Winograd does not take: at
     * AVX512-BF16's rate a direct bf16 convolution is no faster than an
     * fp32 Winograd one, and less exact. */
    const int bf16 = ug_kctx_bf16(k) && pass <= UG_PASS_FWD_BIAS && !wino;
    const int key[UG_DNNL_KEY_LEN] = {pass + 16 * wino + 32 * bf16 + 64 * s->blocked_in +
                                          128 * s->blocked_out,
                                      s->N, s->Cin, s->H, s->W,
                                      s->Cout, s->kh, s->stride, s->kw, s->pad[0], s->pad[1],
                                      s->pad[2], s->pad[3]};
    ug_dnnl_prim *p = ug_dnnl_find(k, key);
    if (p)
        return p;
    if (wino) {
        p = conv_prim_alg(k, key, pass, s, dnnl_convolution_winograd, 0, 1, err);
        if (p)
            return p;
    }
    return conv_prim_alg(k, key, pass, s, dnnl_convolution_direct, bf16, 0, err);
}

static int dnnl_pass(ug_kctx *k, int pass, const ug_convlike_args *a, const ug_conv_shape *s,
                     ug_error *err)
{
    ug_dnnl_prim *p = conv_prim(k, pass, s, err);
    return p ? ug_convlike_exec(k, p, pass, a, err) : -1;
}

static int wino_pass(ug_kctx *k, int pass, const ug_convlike_args *a, const ug_conv_shape *s,
                     ug_error *err)
{
    const ug_wino_isa isa = ug_wino_isa_best();
    if (pass == UG_PASS_BWD_DATA)
        return ug_wino_backward_data(k, isa, a->din, a->dout, a->w, s, a->acc, err);
    if (pass == UG_PASS_BWD_WEIGHTS)
        return ug_wino_backward_weights(k, isa, a->dw, a->dout, a->in, s, err);
    return ug_wino_forward(k, isa, a->out, a->in, a->w, a->b, s, err);
}

/* Under TIMED, the calls of a pass and shape that try both sides: oneDNN
 * on even ones, ours on odd ones, the first of each a warm-up (primitive
 * creation, first touch of the buffers); then the faster one's time kept. */
#define TRIAL_CALLS 6

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int timed_pass(ug_kctx *k, int pass, const ug_convlike_args *a, const ug_conv_shape *s,
                      ug_error *err)
{
    const int key[UG_CPU_CHOICE_KEY_LEN] = {pass == UG_PASS_FWD_BIAS ? UG_PASS_FWD : pass, s->N,
                                            s->Cin, s->H, s->W, s->Cout, s->pad[0], s->pad[1],
                                            s->pad[2], s->pad[3]};
    ug_cpu_choice *c = ug_cpu_choice_get(k, key);
    if (!c) /* no memory for the record: oneDNN */
        return dnnl_pass(k, pass, a, s, err);
    if (c->calls >= TRIAL_CALLS)
        return c->best[1] < c->best[0] ? wino_pass(k, pass, a, s, err)
                                       : dnnl_pass(k, pass, a, s, err);
    const int ours = c->calls % 2, timed = c->calls >= 2;
    c->calls++;
    const double t0 = now_s();
    const int rc = ours ? wino_pass(k, pass, a, s, err) : dnnl_pass(k, pass, a, s, err);
    const double t = now_s() - t0;
    /* The passes make no records, so c is still valid. */
    if (timed && (c->best[ours] == 0 || t < c->best[ours]))
        c->best[ours] = t;
    return rc;
}

/* Who runs a pass of a 3x3 stride-1 shape, as the policy says (cpu.h): ours
 * only for those shapes, Winograd on, and a CPU with AVX2; under TIMED only
 * for 16 or more channels each way (fewer do not repay the transforms, and
 * ours rounds differently from a direct sum), under AUTO for 64 or more
 * wherever oneDNN's convolution is direct. AUTO's rule is
 * bench/winograd.sh's measurement (README, "Winograd convolutions"): ours
 * at 0.3 to 0.75 of oneDNN's time on the AVX2 path, where oneDNN's 3x3
 * convolutions are direct, but 1.25 to 1.6 with 32 output channels; on the
 * AVX-512 path, against oneDNN's Winograd, from 0.3 to 2.2 depending on
 * shape, threads and load, so oneDNN stays where its Winograd applies
 * (channels in multiples of 16; DRIT's 264-channel decoder convolutions
 * are not, and translate 14% faster with ours). */
enum { RUN_ONEDNN, RUN_OURS, RUN_TIMED };

static int conv_runner(const ug_kctx *k, const ug_conv_shape *s)
{
    const int policy = ug_cpu_wino_policy(k);
    const ug_wino_isa isa = ug_wino_isa_best();
    if (!ug_kctx_winograd(k) || !ug_wino_applies(s) || policy == UG_CPU_WINO_ONEDNN ||
        isa == UG_WINO_PLAIN)
        return RUN_ONEDNN;
    if (policy == UG_CPU_WINO_OURS)
        return RUN_OURS;
    if (policy == UG_CPU_WINO_TIMED)
        return s->Cin < 16 || s->Cout < 16 ? RUN_ONEDNN : RUN_TIMED;
    const int wide = s->Cin >= 64 && s->Cout >= 64;
    const int onednn_wino = isa == UG_WINO_AVX512 && conv_wino_eligible(k, s);
    return wide && !onednn_wino ? RUN_OURS : RUN_ONEDNN;
}

/* Blocked images go to ours where the policy says ours and it takes them,
 * else to oneDNN (never to a timed trial: its choice could change the
 * layout a plan was made for). */
static int conv_pass(ug_kctx *k, int pass, const ug_convlike_args *a, const ug_conv_shape *s,
                     ug_error *err)
{
    int run = conv_runner(k, s);
    if ((s->blocked_in || s->blocked_out) &&
        (run == RUN_TIMED || (run == RUN_OURS && !ug_wino_blocked_ok(s))))
        run = RUN_ONEDNN;
    if (run == RUN_OURS)
        return wino_pass(k, pass, a, s, err);
    if (run == RUN_TIMED)
        return timed_pass(k, pass, a, s, err);
    return dnnl_pass(k, pass, a, s, err);
}

int ug_cpu_conv_blocked(ug_kctx *k, const ug_conv_shape *s)
{
    if (ug_wino_isa_best() == UG_WINO_PLAIN || ug_narrow_applies(s) || ug_gemm_conv_applies(s))
        return 0;
    return conv_runner(k, s) != RUN_TIMED;
}

int ug_cpu_conv_forward(ug_kctx *k, float *out, const float *in, const float *w,
                        const float *b, const ug_conv_shape *s, ug_error *err)
{
    if (ug_conv_check(s, err))
        return -1;
    ug_kctx_add_flops(k, ug_conv_flops(s));
    const int plain = !s->blocked_in && !s->blocked_out;
    if (plain && ug_narrow_applies(s)) {
        ug_narrow_forward(ug_wino_isa_best(), out, in, w, b, s);
        return 0;
    }
    if (plain && ug_gemm_conv_applies(s))
        return ug_gemm_conv_forward(k, out, in, w, b, s, err);
    const ug_convlike_args a = {.out = out, .in = in, .w = w, .b = b};
    return conv_pass(k, b ? UG_PASS_FWD_BIAS : UG_PASS_FWD, &a, s, err);
}

int ug_cpu_conv_backward(ug_kctx *k, float *din, float *dw, float *db, const float *dout,
                         const float *in, const float *w, const ug_conv_shape *s, int acc,
                         ug_error *err)
{
    if (ug_conv_check(s, err))
        return -1;
    if (s->blocked_in || s->blocked_out)
        return ug_fail(err, "convolution: the backward pass takes plain images only");
    ug_kctx_add_flops(k, ug_conv_flops(s) * ((din != NULL) + (dw != NULL)));
    const ug_convlike_args a = {.din = din, .dw = dw, .in = in, .w = w, .dout = dout, .acc = acc};
    const ug_wino_isa isa = ug_wino_isa_best();
    const int gemm = ug_gemm_conv_applies(s);
    const int narrow_din = ug_narrow_applies(s) || ug_narrow_in_applies(s);
    if (din && (narrow_din ? ug_narrow_backward_data(k, isa, din, dout, w, s, acc, err)
                : gemm     ? ug_gemm_conv_backward_data(k, din, dout, w, s, acc, err)
                           : conv_pass(k, UG_PASS_BWD_DATA, &a, s, err)))
        return -1;
    if (dw && ug_narrow_applies(s))
        ug_narrow_backward_weights(isa, dw, dout, in, s);
    else if (dw && (gemm ? ug_gemm_conv_backward_weights(k, dw, dout, in, s, err)
                         : conv_pass(k, UG_PASS_BWD_WEIGHTS, &a, s, err)))
        return -1;
    /* The bias gradient: the reference's plain sum. */
    if (db && ug_conv_backward_ref(k, NULL, NULL, db, dout, in, w, s, acc, err))
        return -1;
    return 0;
}

/* Small planes with the weight gradient wanted: conv_gemm.h's single pass
 * over W and dw instead of the reference's five over weight-sized arrays
 * (zeroing, accumulating, the fold's sum and update); the rest as the
 * reference composes it from the kernels above. */
int ug_cpu_conv_backward_sn(ug_kctx *k, float *din, float *dw, float *db, const float *dout,
                            const float *in, const float *w, float sigma, const float *u,
                            const float *v, const ug_conv_shape *s, int acc, ug_error *err)
{
    if (!dw || s->blocked_in || s->blocked_out || !ug_gemm_conv_applies(s))
        return ug_conv_backward_sn_ref(k, din, dw, db, dout, in, w, sigma, u, v, s, acc, err);
    if (ug_conv_check(s, err))
        return -1;
    ug_kctx_add_flops(k, ug_conv_flops(s) * (1 + (din != NULL)));
    if (ug_gemm_conv_backward_sn(k, din, dw, dout, in, w, sigma, u, v, s, acc, err))
        return -1;
    return db ? ug_conv_backward_ref(k, NULL, NULL, db, dout, in, w, s, acc, err) : 0;
}
