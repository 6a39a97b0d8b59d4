/* Convolutions with few channels on one side (conv_narrow.h). The forward
 * pass and input gradients give each thread output rows, the weight
 * gradient input channels; the kernels
 * (conv_narrow_simd.h) are written once and made here for each path: plain
 * C, AVX2 with FMA, AVX-512. */
#include "backend/cpu/conv_narrow.h"

#include <string.h>

#include "backend/cpu/cpu.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

/* Stride 1, no zero padding and rows of whole vector blocks: what both
 * directions need. */
static int unpadded_rows(const ug_conv_shape *s)
{
    return s->stride == 1 && !s->pad[0] && !s->pad[1] && !s->pad[2] && !s->pad[3] &&
           ug_conv_out_w(s) >= UG_NARROW_MIN_ROW;
}

int ug_narrow_applies(const ug_conv_shape *s)
{
    return s->Cout <= UG_NARROW_MAX_OUT && s->Cin >= UG_NARROW_MIN_IN &&
           s->kh <= UG_NARROW_MAX_K && s->kw <= UG_NARROW_MAX_K && unpadded_rows(s);
}

int ug_narrow_in_applies(const ug_conv_shape *s)
{
    return s->Cin <= UG_NARROW_MAX_OUT && s->Cout >= UG_NARROW_MIN_IN && unpadded_rows(s);
}

typedef void (*narrow_fn)(float *out, const float *in, const float *w, const float *b,
                          const ug_conv_shape *s, int n, int oy, int add);
typedef void (*narrow_dw_fn)(float *sums, const float *g, size_t gstride, const float *x, int W,
                             int OH, int OW, int kh, int kw, int co_n);

#define WT
#define VF float
#define VL 1
#define V_SET1(x) (x)
#define V_LOADU(p) (*(p))
#define V_LOADR(p) (*(p))
#define V_STOREU(p, v) (*(p) = (v))
#define V_FMA(a, b, c) ((a) * (b) + (c))
#define NARROW_ROW narrow_plain
#define NARROW_DW narrow_dw_plain
#define NARROW_KB 4
#include "backend/cpu/conv_narrow_simd.h"

#if defined(__x86_64__) || defined(__i386__)
/* A loaded vector the compilers must keep in a register: left to them, they
 * fold a load that feeds several multiply-adds into each of them as a
 * memory operand, and an unaligned load that crosses a cache line (every
 * AVX-512 one off the line, half the AVX2 ones) is then paid CO times. */
static inline __attribute__((target("avx2"))) __m256 in_register256(__m256 v)
{
    __asm__("" : "+v"(v));
    return v;
}

static inline __attribute__((target("avx512f"))) __m512 in_register512(__m512 v)
{
    __asm__("" : "+v"(v));
    return v;
}

#define WT __attribute__((target("avx2,fma")))
#define VF __m256
#define VL 8
#define V_SET1(x) _mm256_set1_ps(x)
#define V_LOADU(p) _mm256_loadu_ps(p)
#define V_LOADR(p) in_register256(_mm256_loadu_ps(p))
#define V_STOREU(p, v) _mm256_storeu_ps(p, v)
#define V_FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define NARROW_ROW narrow_avx2
#define NARROW_DW narrow_dw_avx2
#define NARROW_KB 3 /* 3 x 3 sums, 3 of dout and one of input: 16 registers */
#include "backend/cpu/conv_narrow_simd.h"

#define WT __attribute__((target("avx512f")))
#define VF __m512
#define VL 16
#define V_SET1(x) _mm512_set1_ps(x)
#define V_LOADU(p) _mm512_loadu_ps(p)
#define V_LOADR(p) in_register512(_mm512_loadu_ps(p))
#define V_STOREU(p, v) _mm512_storeu_ps(p, v)
#define V_FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define NARROW_ROW narrow_avx512
#define NARROW_DW narrow_dw_avx512
#define NARROW_KB 4
#include "backend/cpu/conv_narrow_simd.h"
#endif

/* A path's kernels. */
typedef struct {
    narrow_fn row;
    narrow_dw_fn dw;
} narrow_kernels;

static narrow_kernels kernels_of(ug_wino_isa isa)
{
#if defined(__x86_64__) || defined(__i386__)
    if (isa == UG_WINO_AVX512)
        return (narrow_kernels){narrow_avx512, narrow_dw_avx512};
    if (isa == UG_WINO_AVX2)
        return (narrow_kernels){narrow_avx2, narrow_dw_avx2};
#endif
    (void)isa;
    return (narrow_kernels){narrow_plain, narrow_dw_plain};
}

/* The rows of s, in parallel here, outside the paths: the compilers outline
 * a parallel loop's body into a function of its own, which would lose their
 * target. */
static void narrow_rows(narrow_fn row, float *out, const float *in, const float *w,
                        const float *b, const ug_conv_shape *s, int add)
{
    const int OH = ug_conv_out_h(s);
#pragma omp parallel for collapse(2) schedule(static)
    for (int n = 0; n < s->N; n++)
        for (int oy = 0; oy < OH; oy++)
            row(out, in, w, b, s, n, oy, add);
}

void ug_narrow_forward(ug_wino_isa isa, float *out, const float *in, const float *w,
                       const float *b, const ug_conv_shape *s)
{
    narrow_rows(kernels_of(isa).row, out, in, w, b, s, 0);
}

/* The input gradient is a convolution too, of dout zero-padded by the
 * kernel's size less one, with the kernel turned by 180 degrees and its
 * input and output channels swapped, which the same row kernel makes
 * UG_NARROW_MAX_OUT channels at a time: for few outputs, few inputs (s's
 * outputs) to many in several passes; for few inputs, many to few in one. */
int ug_narrow_backward_data(ug_kctx *k, ug_wino_isa isa, float *din, const float *dout,
                            const float *w, const ug_conv_shape *s, int acc, ug_error *err)
{
    const int Cin = s->Cin, Cout = s->Cout, kh = s->kh, kw = s->kw;
    const int OH = ug_conv_out_h(s), OW = ug_conv_out_w(s);
    const int PH = s->H + kh - 1, PW = s->W + kw - 1; /* padded dout */
    const size_t npad = (size_t)s->N * Cout * PH * PW, nw = (size_t)Cin * Cout * kh * kw;
    float *pad = ug_cpu_conv_scratch(k, npad + nw, err), *wt = pad + npad;
    if (!pad)
        return -1;
    /* The scratch holds old values: every padded row is written whole. */
#pragma omp parallel for schedule(static)
    for (int plane = 0; plane < s->N * Cout; plane++)
        for (int y = 0; y < PH; y++) {
            float *r = pad + ((size_t)plane * PH + y) * PW;
            const int oy = y - (kh - 1);
            if (oy < 0 || oy >= OH) {
                memset(r, 0, (size_t)PW * sizeof *r);
                continue;
            }
            memset(r, 0, (size_t)(kw - 1) * sizeof *r);
            memcpy(r + kw - 1, dout + ((size_t)plane * OH + oy) * OW, (size_t)OW * sizeof *r);
            memset(r + kw - 1 + OW, 0, (size_t)(kw - 1) * sizeof *r);
        }
    for (int ci = 0; ci < Cin; ci++)
        for (int co = 0; co < Cout; co++)
            for (int ky = 0; ky < kh; ky++)
                for (int kx = 0; kx < kw; kx++)
                    wt[(((size_t)ci * Cout + co) * kh + ky) * kw + kx] =
                        w[(((size_t)co * Cin + ci) * kh + kh - 1 - ky) * kw + kw - 1 - kx];
    const narrow_fn row = kernels_of(isa).row;
    for (int n = 0; n < s->N; n++)
        for (int c0 = 0; c0 < Cin; c0 += UG_NARROW_MAX_OUT) {
            const int nc = Cin - c0 < UG_NARROW_MAX_OUT ? Cin - c0 : UG_NARROW_MAX_OUT;
            const ug_conv_shape t = {1, Cout, PH, PW, nc, kh, kw, 1, {0, 0, 0, 0}, 0, 0};
            narrow_rows(row, din + ((size_t)n * Cin + c0) * s->H * s->W,
                        pad + (size_t)n * Cout * PH * PW, wt + (size_t)c0 * Cout * kh * kw, NULL,
                        &t, acc);
        }
    return 0;
}

/* dw[co][ci][ky][kx] += sum over images and pixels of dout[co][oy][ox]
 * in[ci][oy + ky][ox + kx]: one item per input channel, each summing every
 * image into its Cout x kh x kw taps. */
void ug_narrow_backward_weights(ug_wino_isa isa, float *dw, const float *dout, const float *in,
                                const ug_conv_shape *s)
{
    const narrow_dw_fn dwk = kernels_of(isa).dw;
    const int Cin = s->Cin, Cout = s->Cout, kh = s->kh, kw = s->kw, H = s->H, W = s->W;
    const int OH = ug_conv_out_h(s), OW = ug_conv_out_w(s);
    const size_t plane = (size_t)OH * OW;
#pragma omp parallel for schedule(static)
    for (int ci = 0; ci < Cin; ci++) {
        float sums[UG_NARROW_MAX_K * UG_NARROW_MAX_OUT * UG_NARROW_MAX_K] = {0};
        for (int n = 0; n < s->N; n++)
            dwk(sums, dout + (size_t)n * Cout * plane, plane, in + ((size_t)n * Cin + ci) * H * W,
                W, OH, OW, kh, kw, Cout);
        for (int ky = 0; ky < kh; ky++)
            for (int co = 0; co < Cout; co++)
                for (int kx = 0; kx < kw; kx++)
                    dw[(((size_t)co * Cin + ci) * kh + ky) * kw + kx] +=
                        sums[(ky * Cout + co) * kw + kx];
    }
}
