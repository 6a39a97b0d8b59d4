/* Our Winograd F(4x4, 3x3) convolution (src/backend/cpu/winograd.h) on
 * each code path this CPU has (plain C, AVX2 + FMA, AVX-512; a path the CPU
 * lacks is reported as skipped), against the plain reference convolution:
 * forward with and without bias, backward data overwriting and
 * accumulating, backward weights accumulating, the forward on blocked
 * images against the plain one; on odd plane sizes, planes
 * smaller than a tile, N > 1, channel counts that are not multiples of the
 * vector width, zero padding of every side, passes in several chunks of
 * tiles with a short last one (with the argument "chunks", only those, which
 * CMake runs on 7 threads: the products split their rows between threads;
 * set there by OMP_NUM_THREADS, as libomp keeps what a change of the team's
 * size allocates past the end and LeakSanitizer reports it). Then the CPU backend with our
 * Winograd forced, under its default rule, and timed through its trial
 * calls.
 *
 * The tolerance: fp32 rounding in a sum is bounded by a multiple of eps
 * times the sum of the absolute values of its terms, so each output's error
 * is measured against that sum (the reference convolution of |x| with |w|),
 * not against the output itself, which cancellation can make tiny. A direct
 * fp32 convolution stays within C * 9 * eps of it in the worst case and
 * about eps (6e-8) in practice; the Winograd transforms mix a tile's 36
 * values with weights up to 5 (B^T's row sums) and 8 (A^T's), so an output
 * carries rounding errors of its whole 6x6 patch, which costs one to two
 * decimal digits: we measure 4e-7 on the residual blocks' shape (oneDNN's
 * Winograd 2e-7, its direct convolution 4e-8) and at most about 1e-5 on
 * edges where few terms are not zero (printed), and allow 1e-4, while a
 * wrong tap or tile edge gives errors of order 1. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/rng.h"
#include "backend/backend.h"
#include "backend/cpu/cpu.h"
#include "backend/cpu/winograd.h"

#define TOL 1e-4

static ug_rng rng;
static ug_kctx *REFK;

static float *randn(size_t n)
{
    float *p = malloc(n * sizeof *p);
    for (size_t i = 0; i < n; i++)
        p[i] = (float)ug_rng_normal(&rng);
    return p;
}

static float *absolute(const float *a, size_t n)
{
    float *p = malloc(n * sizeof *p);
    for (size_t i = 0; i < n; i++)
        p[i] = fabsf(a[i]);
    return p;
}

static float *copy(const float *a, size_t n)
{
    float *p = malloc(n * sizeof *p);
    memcpy(p, a, n * sizeof *p);
    return p;
}

/* Largest |got - want| / (scale + tiny), scale the sums of absolute terms. */
static double rel_err(const float *got, const float *want, const float *scale, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)got[i] - want[i]) / ((double)scale[i] + 1e-30);
        if (!(e <= m))
            m = e; /* NaN too */
    }
    return m;
}

static double worst[3][3]; /* [isa][pass] */

typedef struct bufs {
    ug_conv_shape s;
    size_t nin, nw, nout;
    float *in, *w, *b, *dout, *ain, *aw, *adout;
    float *out_r, *out_s, *din_r, *din_s, *dw_r, *dw_s, *dw0;
} bufs;

/* Inputs, the reference results and their absolute-value scales. */
static bufs make(ug_conv_shape s)
{
    bufs B = {.s = s};
    B.nin = (size_t)s.N * s.Cin * s.H * s.W;
    B.nw = (size_t)s.Cout * s.Cin * 9;
    B.nout = (size_t)s.N * s.Cout * ug_conv_out_h(&s) * ug_conv_out_w(&s);
    B.in = randn(B.nin), B.w = randn(B.nw), B.b = randn(s.Cout), B.dout = randn(B.nout);
    B.ain = absolute(B.in, B.nin), B.aw = absolute(B.w, B.nw), B.adout = absolute(B.dout, B.nout);
    B.out_r = malloc(B.nout * sizeof(float)), B.out_s = malloc(B.nout * sizeof(float));
    B.din_r = malloc(B.nin * sizeof(float)), B.din_s = malloc(B.nin * sizeof(float));
    B.dw0 = randn(B.nw);
    B.dw_r = copy(B.dw0, B.nw);
    B.dw_s = calloc(B.nw, sizeof(float));
    ug_conv_forward_ref(REFK, B.out_r, B.in, B.w, B.b, &s, NULL);
    ug_conv_forward_ref(REFK, B.out_s, B.ain, B.aw, NULL, &s, NULL);
    ug_conv_backward_ref(REFK, B.din_r, B.dw_r, NULL, B.dout, B.in, B.w, &s, 0, NULL);
    ug_conv_backward_ref(REFK, B.din_s, B.dw_s, NULL, B.adout, B.ain, B.aw, &s, 0, NULL);
    for (size_t i = 0; i < B.nout; i++) /* the bias is one more term */
        B.out_s[i] += fabsf(B.b[i / (B.nout / s.N / s.Cout) % s.Cout]);
    for (size_t i = 0; i < B.nw; i++) /* the start value of the accumulation too */
        B.dw_s[i] += fabsf(B.dw0[i]);
    return B;
}

static void unmake(bufs *B)
{
    free(B->in), free(B->w), free(B->b), free(B->dout), free(B->ain), free(B->aw);
    free(B->adout), free(B->out_r), free(B->out_s), free(B->din_r), free(B->din_s);
    free(B->dw_r), free(B->dw_s), free(B->dw0);
}

static void tag_of(char *tag, size_t n, const ug_conv_shape *s)
{
    snprintf(tag, n, "N=%d Cin=%d %dx%d Cout=%d pad=%d,%d,%d,%d", s->N, s->Cin, s->H, s->W,
             s->Cout, s->pad[0], s->pad[1], s->pad[2], s->pad[3]);
}

/* The forward with input, output or both channel-blocked (kernels.h): bit
 * for bit the plain forward's values on the same path, as only the copies
 * in and out of the path's own layout are skipped; refused where a blocked
 * side's channels are not whole blocks. */
static void test_blocked(ug_kctx *k, ug_wino_isa isa, const bufs *B, const char *tag)
{
    ug_error err = {{0}};
    const ug_conv_shape *s = &B->s;
    const int OHW = ug_conv_out_h(s) * ug_conv_out_w(s);
    const int in_whole = s->Cin % UG_BLOCK == 0, out_whole = s->Cout % UG_BLOCK == 0;
    float *plain = malloc(B->nout * sizeof *plain), *out = malloc(B->nout * sizeof *out);
    float *back = malloc(B->nout * sizeof *back), *inb = malloc(B->nin * sizeof *inb);
    CHECK(ug_wino_forward(k, isa, plain, B->in, B->w, B->b, s, &err) == 0, "%s", err.msg);
    if (in_whole)
        ug_layout_convert(REFK, inb, B->in, s->N, s->Cin, s->H * s->W, 1);
    for (int bi = 0; bi < 2; bi++)
        for (int bo = !bi; bo < 2; bo++) {
            ug_conv_shape t = *s;
            t.blocked_in = bi, t.blocked_out = bo;
            for (size_t i = 0; i < B->nout; i++)
                out[i] = NAN;
            err.msg[0] = 0;
            const int rc = ug_wino_forward(k, isa, out, bi ? inb : B->in, B->w, B->b, &t, &err);
            if ((bi && !in_whole) || (bo && !out_whole)) {
                CHECK(rc < 0 && strstr(err.msg, "blocked"), "%s %s: blocked in %d out %d "
                      "refused: '%s'", ug_wino_isa_name(isa), tag, bi, bo, err.msg);
                continue;
            }
            if (bo)
                ug_layout_convert(REFK, back, out, s->N, s->Cout, OHW, 0);
            else
                memcpy(back, out, B->nout * sizeof *back);
            CHECK(rc == 0 && memcmp(back, plain, B->nout * sizeof *back) == 0,
                  "%s %s: blocked in %d out %d: the plain forward's values %s",
                  ug_wino_isa_name(isa), tag, bi, bo, err.msg);
        }
    free(plain), free(out), free(back), free(inb);
}

/* Every pass of path isa on B's shape. */
static void test_isa(ug_kctx *k, ug_wino_isa isa, bufs *B)
{
    ug_error err = {{0}};
    const ug_conv_shape *s = &B->s;
    const char *name = ug_wino_isa_name(isa);
    char tag[128];
    tag_of(tag, sizeof tag, s);
    float *out = malloc(B->nout * sizeof *out), *din = malloc(B->nin * sizeof *din);
    double e;

    /* forward, with bias and without (out starts as NaN: every element written) */
    for (size_t i = 0; i < B->nout; i++)
        out[i] = NAN;
    CHECK(ug_wino_forward(k, isa, out, B->in, B->w, B->b, s, &err) == 0, "%s %s: %s", name, tag,
          err.msg);
    e = rel_err(out, B->out_r, B->out_s, B->nout);
    CHECK(e <= TOL, "%s %s: forward error %g", name, tag, e);
    worst[isa][0] = fmax(worst[isa][0], e);
    float *nob = malloc(B->nout * sizeof *nob);
    ug_conv_forward_ref(REFK, nob, B->in, B->w, NULL, s, NULL);
    CHECK(ug_wino_forward(k, isa, out, B->in, B->w, NULL, s, &err) == 0, "%s", err.msg);
    e = rel_err(out, nob, B->out_s, B->nout);
    CHECK(e <= TOL, "%s %s: forward without bias, error %g", name, tag, e);
    free(nob);
    test_blocked(k, isa, B, tag);

    /* backward data: overwrite (from NaN), then accumulate onto 1 */
    for (size_t i = 0; i < B->nin; i++)
        din[i] = NAN;
    CHECK(ug_wino_backward_data(k, isa, din, B->dout, B->w, s, 0, &err) == 0, "%s", err.msg);
    e = rel_err(din, B->din_r, B->din_s, B->nin);
    CHECK(e <= TOL, "%s %s: backward data error %g", name, tag, e);
    worst[isa][1] = fmax(worst[isa][1], e);
    for (size_t i = 0; i < B->nin; i++)
        din[i] = 1.0f;
    CHECK(ug_wino_backward_data(k, isa, din, B->dout, B->w, s, 1, &err) == 0, "%s", err.msg);
    for (size_t i = 0; i < B->nin; i++)
        din[i] -= 1.0f;
    e = rel_err(din, B->din_r, B->din_s, B->nin);
    CHECK(e <= TOL + 1e-6, "%s %s: backward data acc=1, error %g", name, tag, e);

    /* backward weights accumulate onto dw0 */
    float *dw = copy(B->dw0, B->nw);
    CHECK(ug_wino_backward_weights(k, isa, dw, B->dout, B->in, s, &err) == 0, "%s", err.msg);
    e = rel_err(dw, B->dw_r, B->dw_s, B->nw);
    CHECK(e <= TOL, "%s %s: backward weights error %g", name, tag, e);
    worst[isa][2] = fmax(worst[isa][2], e);
    free(dw), free(out), free(din);
}

/* The CPU backend under policy: ug_conv_forward and ug_conv_backward (din
 * overwritten with dw, then accumulated alone) against the reference, calls
 * times. */
static void test_backend(ug_kctx *k, int policy, bufs *B, int calls)
{
    ug_error err = {{0}};
    const ug_conv_shape *s = &B->s;
    char tag[128];
    tag_of(tag, sizeof tag, s);
    ug_cpu_set_wino_policy(k, policy);
    float *out = malloc(B->nout * sizeof *out), *din = malloc(B->nin * sizeof *din);
    for (int c = 0; c < calls; c++) {
        CHECK(ug_conv_forward(k, out, B->in, B->w, B->b, s, &err) == 0, "%s", err.msg);
        double e = rel_err(out, B->out_r, B->out_s, B->nout);
        CHECK(e <= TOL, "backend policy %d call %d %s: forward error %g", policy, c, tag, e);
        float *dw = copy(B->dw0, B->nw);
        for (size_t i = 0; i < B->nin; i++)
            din[i] = NAN;
        CHECK(ug_conv_backward(k, din, dw, NULL, B->dout, B->in, B->w, s, 0, &err) == 0, "%s",
              err.msg);
        e = rel_err(din, B->din_r, B->din_s, B->nin);
        CHECK(e <= TOL, "backend policy %d call %d %s: din error %g", policy, c, tag, e);
        e = rel_err(dw, B->dw_r, B->dw_s, B->nw);
        CHECK(e <= TOL, "backend policy %d call %d %s: dw error %g", policy, c, tag, e);
        free(dw);
        /* din accumulated onto 1, alone */
        for (size_t i = 0; i < B->nin; i++)
            din[i] = 1.0f;
        CHECK(ug_conv_backward(k, din, NULL, NULL, B->dout, B->in, B->w, s, 1, &err) == 0, "%s",
              err.msg);
        for (size_t i = 0; i < B->nin; i++)
            din[i] -= 1.0f;
        e = rel_err(din, B->din_r, B->din_s, B->nin);
        CHECK(e <= TOL + 1e-6, "backend policy %d call %d %s: din acc=1 error %g", policy, c, tag,
              e);
    }
    free(out), free(din);
}

int main(int argc, char **argv)
{
    /* "chunks": only the shapes that run in several chunks (CMake runs
     * that on 7 threads, where the products split their rows). */
    const int only_chunks = argc > 1 && strcmp(argv[1], "chunks") == 0;
    ug_error err = {{0}};
    ug_rng_seed(&rng, 4321, 1);

    /* A bad UGATIT_WINOGRAD is refused with one line naming it. */
    setenv("UGATIT_WINOGRAD", "fastest", 1);
    ug_kctx *bad = ug_kctx_new(0, &err);
    CHECK(!bad && strstr(err.msg, "UGATIT_WINOGRAD") && !strchr(err.msg, '\n'),
          "UGATIT_WINOGRAD=fastest: '%s'", err.msg);
    ug_kctx_free(bad);
    unsetenv("UGATIT_WINOGRAD");

    ug_kctx *k = ug_kctx_new(0, &err);
    REFK = ug_kctx_new(1, &err);
    CHECK(k && REFK, "contexts: %s", err.msg);
    if (!k || !REFK)
        return check_summary();
    CHECK(ug_cpu_wino_policy(k) == UG_CPU_WINO_AUTO, "the default policy is auto");

    /* The first NCHUNKED run in several chunks of tiles (the sizes on 2
     * threads), the only ones run under "chunks". */
    enum { NCHUNKED = 2 };
    const ug_conv_shape shapes[] = {
        {1, 64, 16, 116, 40, 3, 3, 1, {1, 1, 1, 1}, 0, 0},   /* forward: 72 and 44 tiles */
        {1, 40, 106, 102, 24, 3, 3, 1, {1, 1, 1, 1}, 0, 0}, /* 144 x 4 and 126; 360 and 342 */
        {2, 37, 13, 11, 21, 3, 3, 1, {1, 1, 1, 1}, 0, 0}, /* odd sizes, ragged tiles, N > 1 */
        {1, 5, 3, 3, 3, 3, 3, 1, {0, 0, 0, 0}, 0, 0}, /* a 1x1 output: one tile, mostly outside */
        {3, 17, 9, 14, 33, 3, 3, 1, {0, 2, 2, 1}, 0, 0},    /* asymmetric padding */
        {1, 24, 4, 4, 8, 3, 3, 1, {2, 0, 0, 2}, 0, 0},      /* a plane smaller than a patch */
        {2, 64, 18, 20, 48, 3, 3, 1, {0, 0, 0, 0}, 0, 0},   /* as after a reflection pad */
        {1, 256, 14, 12, 256, 3, 3, 1, {1, 1, 1, 1}, 0, 0}, /* the residual blocks' channels */
        /* the golden fixtures' (tests/test_golden.c) */
        {1, 16, 26, 26, 16, 3, 3, 1, {0, 0, 0, 0}, 0, 0},
        {1, 8, 98, 98, 4, 3, 3, 1, {0, 0, 0, 0}, 0, 0},
        {2, 16, 10, 10, 16, 3, 3, 1, {0, 0, 0, 0}, 0, 0},
        {1, 16, 50, 50, 8, 3, 3, 1, {0, 0, 0, 0}, 0, 0},
    };
    const int nshapes = (int)(sizeof shapes / sizeof shapes[0]);
    printf("Winograd paths: best here %s (cap: ONEDNN_MAX_CPU_ISA)\n",
           ug_wino_isa_name(ug_wino_isa_best()));
    for (int i = 0; i < (only_chunks ? NCHUNKED : nshapes); i++) {
        bufs B = make(shapes[i]);
        for (int isa = UG_WINO_PLAIN; isa <= UG_WINO_AVX512; isa++)
            if (ug_wino_isa_supported((ug_wino_isa)isa))
                test_isa(k, (ug_wino_isa)isa, &B);
        if (B.s.Cin >= 16 && B.s.Cout >= 16) {
            test_backend(k, UG_CPU_WINO_OURS, &B, 1);
            test_backend(k, UG_CPU_WINO_AUTO, &B, 1);
            test_backend(k, UG_CPU_WINO_TIMED, &B, 8); /* through the trials and after */
        }
        unmake(&B);
    }
    for (int isa = UG_WINO_PLAIN; isa <= UG_WINO_AVX512; isa++) {
        if (!ug_wino_isa_supported((ug_wino_isa)isa))
            printf("%s: skipped, this CPU lacks it\n", ug_wino_isa_name((ug_wino_isa)isa));
        else
            printf("%s: largest error / sum of |terms|: forward %.2g, backward data %.2g, "
                   "backward weights %.2g\n",
                   ug_wino_isa_name((ug_wino_isa)isa), worst[isa][0], worst[isa][1],
                   worst[isa][2]);
    }
    ug_kctx_free(k);
    ug_kctx_free(REFK);
    return check_summary();
}
