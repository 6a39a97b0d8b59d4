/* Convolution (square and rectangular kernels, with and without zero
 * padding) and linear kernels: the oneDNN fast path (and our few-output
 * kernel on every path of this CPU) against the plain reference (forward, backward, accumulation semantics), the reference
 * backward against central finite differences of L = sum(out * R), and the
 * primitive cache being reused. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/rng.h"
#include "backend/cpu/conv_gemm.h"
#include "backend/cpu/conv_narrow.h"
#include "backend/cpu/dnnl_cache.h"
#include "backend/backend.h"

/* The reference backend's context, for the plain kernels called directly. */
static ug_kctx *REFK;

static ug_rng rng;

static float *randn(size_t n)
{
    float *p = malloc((n ? n : 1) * sizeof *p);
    for (size_t i = 0; i < n; i++)
        p[i] = (float)ug_rng_normal(&rng);
    return p;
}

static float *zeros(size_t n)
{
    return calloc(n ? n : 1, sizeof(float));
}

static float *copy(const float *a, size_t n)
{
    float *p = malloc((n ? n : 1) * sizeof *p);
    memcpy(p, a, n * sizeof *p);
    return p;
}

static void fill(float *p, size_t n, float v)
{
    for (size_t i = 0; i < n; i++)
        p[i] = v;
}

static double max_abs(const float *a, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++)
        m = fabs(a[i]) > m ? fabs(a[i]) : m;
    return m;
}

/* |a - b| small relative to the size of b. */
static int close_to(const float *a, const float *b, size_t n, double tol)
{
    return check_max_abs_diff(a, b, n) <= tol * (1.0 + max_abs(b, n));
}

static double dot(const float *a, const float *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (double)a[i] * b[i];
    return s;
}

/* ---- convolution ---- */

static double conv_loss(float *out, const float *in, const float *w, const float *b,
                        const ug_conv_shape *s, const float *R, size_t nout)
{
    ug_conv_forward_ref(REFK, out, in, w, b, s, NULL);
    return dot(out, R, nout);
}

/* Central differences of L at every element of x against the analytic g. */
static double conv_fd_err(float *x, size_t n, const float *g, float *out, const float *in,
                          const float *w, const float *b, const ug_conv_shape *s, const float *R,
                          size_t nout)
{
    const float eps = 0.1f; /* L is linear in each argument, so large eps is exact */
    double worst = 0, scale = 1.0 + max_abs(g, n);
    for (size_t i = 0; i < n; i++) {
        float keep = x[i];
        x[i] = keep + eps;
        double lp = conv_loss(out, in, w, b, s, R, nout);
        x[i] = keep - eps;
        double lm = conv_loss(out, in, w, b, s, R, nout);
        x[i] = keep;
        double fd = (lp - lm) / (2.0 * (double)eps);
        double e = fabs(fd - g[i]) / scale;
        worst = e > worst ? e : worst;
    }
    return worst;
}

/* A square kernel without padding. */
static ug_conv_shape square(int N, int Cin, int H, int W, int Cout, int k, int stride)
{
    ug_conv_shape s = {N, Cin, H, W, Cout, k, k, stride, {0, 0, 0, 0}, 0, 0};
    return s;
}

static void test_conv_case(ug_kctx *fast, ug_kctx *refk, ug_conv_shape s, int bias, int fd)
{
    ug_error err = {{0}};
    const int OH = ug_conv_out_h(&s), OW = ug_conv_out_w(&s);
    const size_t nin = (size_t)s.N * s.Cin * s.H * s.W, nw = (size_t)s.Cout * s.Cin * s.kh * s.kw,
                 nout = (size_t)s.N * s.Cout * OH * OW, nb = (size_t)s.Cout;
    char tag[128];
    snprintf(tag, sizeof tag, "N=%d Cin=%d %dx%d Cout=%d k=%dx%d s=%d pad=%d,%d,%d,%d bias=%d",
             s.N, s.Cin, s.H, s.W, s.Cout, s.kh, s.kw, s.stride, s.pad[0], s.pad[1], s.pad[2],
             s.pad[3], bias);

    float *in = randn(nin), *w = randn(nw), *b = bias ? randn(nb) : NULL, *R = randn(nout);
    float *out_r = randn(nout), *out_f = randn(nout), *out_d = randn(nout);

    /* forward */
    ug_conv_forward_ref(REFK, out_r, in, w, b, &s, NULL);
    int rc = ug_conv_forward(fast, out_f, in, w, b, &s, &err);
    CHECK(rc == 0, "%s: forward: %s", tag, err.msg);
    CHECK(close_to(out_f, out_r, nout, 1e-5), "%s: forward fast vs ref: %g", tag,
          check_max_abs_diff(out_f, out_r, nout));
    CHECK(ug_conv_forward(refk, out_d, in, w, b, &s, &err) == 0 &&
              memcmp(out_d, out_r, nout * sizeof *out_d) == 0,
          "%s: reference context does not run the reference", tag);

    /* backward, din overwritten (start from NaN), dw and db accumulated onto D0, B0 */
    float *dw0 = randn(nw), *db0 = randn(nb);
    float *din_r = zeros(nin), *din_f = zeros(nin);
    fill(din_r, nin, NAN);
    fill(din_f, nin, NAN);
    float *dw_r = copy(dw0, nw), *dw_f = copy(dw0, nw);
    float *db_r = copy(db0, nb), *db_f = copy(db0, nb);
    ug_conv_backward_ref(REFK, din_r, dw_r, bias ? db_r : NULL, R, in, w, &s, 0, NULL);
    rc = ug_conv_backward(fast, din_f, dw_f, bias ? db_f : NULL, R, in, w, &s, 0, &err);
    CHECK(rc == 0, "%s: backward: %s", tag, err.msg);
    CHECK(close_to(din_f, din_r, nin, 1e-5), "%s: din fast vs ref: %g", tag,
          check_max_abs_diff(din_f, din_r, nin));
    CHECK(close_to(dw_f, dw_r, nw, 1e-5), "%s: dw fast vs ref: %g", tag,
          check_max_abs_diff(dw_f, dw_r, nw));
    if (bias)
        CHECK(close_to(db_f, db_r, nb, 1e-5), "%s: db fast vs ref: %g", tag,
              check_max_abs_diff(db_f, db_r, nb));
    else
        CHECK(memcmp(db_f, db0, nb * sizeof *db_f) == 0, "%s: db touched without bias", tag);

    /* the pure gradients, g = result - start */
    float *gw = zeros(nw), *gb = zeros(nb);
    for (size_t i = 0; i < nw; i++)
        gw[i] = dw_r[i] - dw0[i];
    for (size_t i = 0; i < nb; i++)
        gb[i] = db_r[i] - db0[i];

    /* acc = 1 adds to din; a second call adds to dw again; skipped pointers */
    float *x0 = randn(nin), *din_a = copy(x0, nin), *expect = zeros(nin);
    for (size_t i = 0; i < nin; i++)
        expect[i] = x0[i] + din_r[i];
    rc = ug_conv_backward(fast, din_a, dw_f, NULL, R, in, w, &s, 1, &err);
    CHECK(rc == 0, "%s: backward acc: %s", tag, err.msg);
    CHECK(close_to(din_a, expect, nin, 1e-5), "%s: din acc=1 fast: %g", tag,
          check_max_abs_diff(din_a, expect, nin));
    memcpy(din_a, x0, nin * sizeof *din_a);
    ug_conv_backward_ref(REFK, din_a, NULL, NULL, R, in, w, &s, 1, NULL);
    CHECK(close_to(din_a, expect, nin, 1e-6), "%s: din acc=1 ref", tag);
    float *dw2 = zeros(nw);
    for (size_t i = 0; i < nw; i++)
        dw2[i] = dw0[i] + 2 * gw[i];
    CHECK(close_to(dw_f, dw2, nw, 1e-5), "%s: dw does not accumulate: %g", tag,
          check_max_abs_diff(dw_f, dw2, nw));
    /* dw only (din NULL, as for a first layer) */
    memcpy(dw_f, dw0, nw * sizeof *dw_f);
    rc = ug_conv_backward(fast, NULL, dw_f, NULL, R, in, w, &s, 0, &err);
    CHECK(rc == 0 && close_to(dw_f, dw_r, nw, 1e-5), "%s: dw alone", tag);

    /* the cache holds one primitive per kind and shape */
    size_t cached = ug_dnnl_cache_count(fast);
    rc = ug_conv_forward(fast, out_f, in, w, b, &s, &err);
    rc |= ug_conv_backward(fast, din_f, dw_f, NULL, R, in, w, &s, 1, &err);
    CHECK(rc == 0 && ug_dnnl_cache_count(fast) == cached, "%s: cache grew on reuse", tag);

    if (fd) {
        float *scratch = zeros(nout);
        double e = conv_fd_err(in, nin, din_r, scratch, in, w, b, &s, R, nout);
        CHECK(e < 1e-3, "%s: din vs finite differences: %g", tag, e);
        e = conv_fd_err(w, nw, gw, scratch, in, w, b, &s, R, nout);
        CHECK(e < 1e-3, "%s: dw vs finite differences: %g", tag, e);
        if (bias) {
            e = conv_fd_err(b, nb, gb, scratch, in, w, b, &s, R, nout);
            CHECK(e < 1e-3, "%s: db vs finite differences: %g", tag, e);
        }
        free(scratch);
    }

    free(in), free(w), free(b), free(R), free(out_r), free(out_f), free(out_d);
    free(dw0), free(db0), free(din_r), free(din_f), free(dw_r), free(dw_f), free(db_r);
    free(db_f), free(gw), free(gb), free(x0), free(din_a), free(expect), free(dw2);
}

/* ---- spectrally normalised weights: conv_backward_sn ---- */

/* sum(out * R) for the weight W / sigma(W), sigma = u^T W v (u, v fixed). */
static double sn_loss(float *out, float *w_sn, const float *in, const float *w, const float *b,
                      const float *u, const float *v, const ug_conv_shape *s, const float *R,
                      size_t nout)
{
    const size_t cols = (size_t)s->Cin * s->kh * s->kw;
    double sigma = 0;
    for (int r = 0; r < s->Cout; r++)
        for (size_t c = 0; c < cols; c++)
            sigma += (double)u[r] * w[r * cols + c] * v[c];
    for (size_t i = 0; i < (size_t)s->Cout * cols; i++)
        w_sn[i] = (float)(w[i] / sigma);
    return conv_loss(out, in, w_sn, b, s, R, nout);
}

/* The CPU's (matrix products on small planes, else the composition) against
 * the reference backend's: din overwritten and accumulated, dw and db
 * accumulated onto random starts, dw without din; the reference's weight
 * gradient against central differences through sigma. */
static void test_conv_sn_case(ug_kctx *fast, ug_conv_shape s, int bias, int fd)
{
    ug_error err = {{0}};
    const int rows = s.Cout, cols = s.Cin * s.kh * s.kw;
    const size_t nin = (size_t)s.N * s.Cin * s.H * s.W, nw = (size_t)rows * cols,
                 nout = (size_t)s.N * s.Cout * ug_conv_out_h(&s) * ug_conv_out_w(&s);
    char tag[128];
    snprintf(tag, sizeof tag, "sn N=%d Cin=%d %dx%d Cout=%d k=%d s=%d pad=%d bias=%d", s.N,
             s.Cin, s.H, s.W, s.Cout, s.kh, s.stride, s.pad[0], bias);
    float *in = randn(nin), *w = randn(nw), *R = randn(nout), *u = randn(rows), *v = randn(cols);
    double *work = malloc((size_t)(rows + cols) * sizeof *work);
    float sigma = 0;
    for (int it = 0; it < 20; it++) /* u, v near the top singular vectors, as in training */
        sigma = ug_spectral_norm_forward_ref(REFK, NULL, u, v, w, rows, cols, 1, work);
    float *dw0 = randn(nw), *db0 = randn((size_t)rows), *x0 = randn(nin);
    float *dw_r = copy(dw0, nw), *dw_f = copy(dw0, nw), *db_r = copy(db0, (size_t)rows);
    float *db_f = copy(db0, (size_t)rows), *din_r = copy(x0, nin), *din_f = copy(x0, nin);
    for (int acc = 0; acc < 2; acc++) {
        if (!acc) {
            fill(din_r, nin, NAN);
            fill(din_f, nin, NAN);
        }
        int rc = ug_conv_backward_sn_ref(REFK, din_r, dw_r, bias ? db_r : NULL, R, in, w, sigma,
                                         u, v, &s, acc, &err);
        rc |= ug_conv_backward_sn(fast, din_f, dw_f, bias ? db_f : NULL, R, in, w, sigma, u, v,
                                  &s, acc, &err);
        CHECK(rc == 0, "%s acc=%d: %s", tag, acc, err.msg);
        CHECK(close_to(din_f, din_r, nin, 1e-5), "%s acc=%d: din fast vs ref: %g", tag, acc,
              check_max_abs_diff(din_f, din_r, nin));
        CHECK(close_to(dw_f, dw_r, nw, 1e-5), "%s acc=%d: dw fast vs ref: %g", tag, acc,
              check_max_abs_diff(dw_f, dw_r, nw));
        CHECK(close_to(db_f, db_r, (size_t)rows, 1e-5), "%s acc=%d: db", tag, acc);
    }
    /* dw alone, onto the start again: the one call's gradient */
    float *gw = zeros(nw), *dw_a = copy(dw0, nw);
    CHECK(ug_conv_backward_sn(fast, NULL, dw_a, NULL, R, in, w, sigma, u, v, &s, 0, &err) == 0,
          "%s: dw alone: %s", tag, err.msg);
    for (size_t i = 0; i < nw; i++)
        gw[i] = (dw_r[i] - dw0[i]) / 2;
    for (size_t i = 0; i < nw; i++)
        dw_a[i] -= dw0[i];
    CHECK(close_to(dw_a, gw, nw, 1e-5), "%s: dw alone: %g", tag, check_max_abs_diff(dw_a, gw, nw));
    if (fd) {
        float *out = zeros(nout), *w_sn = zeros(nw);
        const float eps = 1e-2f;
        double worst = 0, scale = 1.0 + max_abs(gw, nw);
        for (size_t i = 0; i < nw; i++) {
            const float keep = w[i];
            w[i] = keep + eps;
            const double lp = sn_loss(out, w_sn, in, w, NULL, u, v, &s, R, nout);
            w[i] = keep - eps;
            const double lm = sn_loss(out, w_sn, in, w, NULL, u, v, &s, R, nout);
            w[i] = keep;
            const double e = fabs((lp - lm) / (2.0 * eps) - gw[i]) / scale;
            worst = e > worst ? e : worst;
        }
        CHECK(worst < 1e-3, "%s: dw vs finite differences through sigma: %g", tag, worst);
        free(out), free(w_sn);
    }
    free(in), free(w), free(R), free(u), free(v), free(work), free(dw0), free(db0), free(x0);
    free(dw_r), free(dw_f), free(db_r), free(db_f), free(din_r), free(din_f), free(gw);
    free(dw_a);
}

static void test_conv_sn(ug_kctx *fast)
{
    /* a discriminator's last layers: 4x4 kernels onto 3x3 and 2x2 planes, as matrix products */
    ug_conv_shape last = square(1, 16, 6, 6, 24, 4, 1);
    CHECK(ug_gemm_conv_applies(&last), "3x3 plane as matrix products");
    test_conv_sn_case(fast, last, 1, 1);
    ug_conv_shape padded = {2, 8, 5, 4, 12, 4, 4, 2, {1, 1, 1, 1}, 0, 0};
    test_conv_sn_case(fast, padded, 0, 1);
    test_conv_sn_case(fast, square(3, 5, 7, 7, 3, 3, 1), 1, 0);
    /* a plane too large for them: the composition */
    ug_conv_shape wide = square(1, 4, 13, 12, 6, 4, 1);
    CHECK(!ug_gemm_conv_applies(&wide), "a 10x9 plane as matrix products");
    test_conv_sn_case(fast, wide, 1, 1);
}

/* The few-output kernels (conv_narrow.h) of every path this CPU has against
 * the reference: 1 to 4 outputs, forward with and without bias, the input
 * gradient overwritten and accumulated, the weight gradient, rows of whole
 * vector blocks and a ragged tail (69 pixels; the input gradient's rows 75);
 * then the input gradient from 1 to 4 inputs. */
static void test_narrow(ug_kctx *k)
{
    for (int isa = UG_WINO_PLAIN; isa <= UG_WINO_AVX512; isa++) {
        if (!ug_wino_isa_supported((ug_wino_isa)isa))
            continue;
        for (int co = 1; co <= UG_NARROW_MAX_OUT; co++) {
            const ug_conv_shape s = square(2, 16, 9, 75, co, 7, 1);
            const size_t nin = (size_t)s.N * s.Cin * s.H * s.W, nw = (size_t)co * s.Cin * 49;
            const size_t nout = (size_t)s.N * co * ug_conv_out_h(&s) * ug_conv_out_w(&s);
            float *in = randn(nin), *w = randn(nw), *b = randn((size_t)co);
            float *want = randn(nout), *got = randn(nout), *dout = randn(nout);
            float *din_r = randn(nin), *din_f = randn(nin);
            const char *name = ug_wino_isa_name((ug_wino_isa)isa);
            for (int bias = 0; bias < 2; bias++) {
                ug_conv_forward_ref(REFK, want, in, w, bias ? b : NULL, &s, NULL);
                ug_narrow_forward((ug_wino_isa)isa, got, in, w, bias ? b : NULL, &s);
                CHECK(ug_narrow_applies(&s) && close_to(got, want, nout, 1e-5),
                      "narrow %s, %d outputs, bias %d: %g", name, co, bias,
                      check_max_abs_diff(got, want, nout));
            }
            /* The input gradient, overwritten and then accumulated. */
            for (int acc = 0; acc < 2; acc++) {
                ug_error err = {{0}};
                ug_conv_backward_ref(REFK, din_r, NULL, NULL, dout, in, w, &s, acc, NULL);
                CHECK(ug_narrow_backward_data(k, (ug_wino_isa)isa, din_f, dout, w, &s, acc,
                                              &err) == 0 &&
                          close_to(din_f, din_r, nin, 1e-5),
                      "narrow %s, %d outputs, input gradient, acc %d: %g %s", name, co, acc,
                      check_max_abs_diff(din_f, din_r, nin), err.msg);
            }
            /* The weight gradient, accumulated onto random values. */
            float *dw_r = randn(nw), *dw_f = copy(dw_r, nw);
            ug_conv_backward_ref(REFK, NULL, dw_r, NULL, dout, in, w, &s, 0, NULL);
            ug_narrow_backward_weights((ug_wino_isa)isa, dw_f, dout, in, &s);
            CHECK(close_to(dw_f, dw_r, nw, 1e-5), "narrow %s, %d outputs, weight gradient: %g",
                  name, co, check_max_abs_diff(dw_f, dw_r, nw));
            free(in), free(w), free(b), free(want), free(got), free(dout), free(din_r), free(din_f);
            free(dw_r), free(dw_f);
        }
        /* Few inputs (1 to 4) to 18 outputs, a kernel of 5 x 6: the input
         * gradient, overwritten and accumulated. */
        for (int ci = 1; ci <= UG_NARROW_MAX_OUT; ci++) {
            const ug_conv_shape s = {2, ci, 8, 71, 18, 5, 6, 1, {0, 0, 0, 0}, 0, 0};
            const size_t nin = (size_t)s.N * ci * s.H * s.W, nw = (size_t)18 * ci * 30;
            const size_t nout = (size_t)s.N * 18 * ug_conv_out_h(&s) * ug_conv_out_w(&s);
            float *in = randn(nin), *w = randn(nw), *dout = randn(nout);
            float *din_r = randn(nin), *din_f = randn(nin);
            const char *name = ug_wino_isa_name((ug_wino_isa)isa);
            for (int acc = 0; acc < 2; acc++) {
                ug_error err = {{0}};
                ug_conv_backward_ref(REFK, din_r, NULL, NULL, dout, in, w, &s, acc, NULL);
                CHECK(ug_narrow_in_applies(&s) &&
                          ug_narrow_backward_data(k, (ug_wino_isa)isa, din_f, dout, w, &s,
                                                  acc, &err) == 0 &&
                          close_to(din_f, din_r, nin, 1e-5),
                      "narrow %s, %d inputs, input gradient, acc %d: %g %s", name, ci, acc,
                      check_max_abs_diff(din_f, din_r, nin), err.msg);
            }
            free(in), free(w), free(dout), free(din_r), free(din_f);
        }
    }
}

static void test_conv(ug_kctx *fast, ug_kctx *refk)
{
    static const int ks[][2] = {{7, 1}, {3, 1}, {3, 2}, {4, 2}, {4, 1}, {1, 1}};
    for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++) {
        for (int bias = 0; bias < 2; bias++) {
            /* odd sizes, H != W; W = 10 leaves an uncovered column at stride 2 */
            ug_conv_shape s = square(2, 3, 11, 10, 5, ks[i][0], ks[i][1]);
            test_conv_case(fast, refk, s, bias, 1);
            /* channel counts where oneDNN picks blocked layouts */
            ug_conv_shape big = square(2, 16, 11, 10, 24, ks[i][0], ks[i][1]);
            test_conv_case(fast, refk, big, bias, 0);
            /* output planes of 72 to 380 pixels, above UG_GEMM_MAX_PLANE
             * for every kernel and stride: oneDNN's convolutions (smaller
             * ones are conv_gemm.h's matrix products) */
            ug_conv_shape wide = square(1, 16, 20, 19, 24, ks[i][0], ks[i][1]);
            CHECK(!ug_gemm_conv_applies(&wide), "a plane of %dx%d as matrix products",
                  ug_conv_out_h(&wide), ug_conv_out_w(&wide));
            test_conv_case(fast, refk, wide, bias, 0);
        }
    }
    ug_conv_shape one = square(1, 1, 4, 5, 1, 3, 1);
    test_conv_case(fast, refk, one, 1, 1);
    /* A generator's last layer (7x7 to RGB) and first (7x7 from RGB): the
     * few-channel kernels. */
    test_conv_case(fast, refk, square(2, 16, 13, 75, 3, 7, 1), 1, 0);
    test_conv_case(fast, refk, square(2, 3, 13, 75, 16, 7, 1), 1, 0);
    test_narrow(fast);

    /* 3x3 stride 1 with channels in multiples of 16: the Winograd path
     * (F(4x4, 3x3), several tiles and a ragged edge), held to the same
     * tolerance as the direct one; then the same shapes with Winograd off. */
    const ug_conv_shape wino[] = {square(2, 32, 11, 10, 16, 3, 1), square(1, 64, 18, 19, 32, 3, 1)};
    for (int off = 0; off < 2; off++) {
        ug_kctx_set_winograd(fast, !off);
        CHECK(ug_kctx_winograd(fast) == !off, "ug_kctx_set_winograd");
        for (size_t i = 0; i < sizeof wino / sizeof wino[0]; i++)
            test_conv_case(fast, refk, wino[i], (int)i, 0);
    }
    ug_kctx_set_winograd(fast, 1);

    /* Rectangular kernels and zero padding (Inception's 1x7 and 7x1, the
     * CycleGAN discriminator's 4x4 stride 2 padding 1, asymmetric padding). */
    const ug_conv_shape padded[] = {
        {2, 3, 11, 10, 5, 1, 7, 1, {0, 0, 3, 3}, 0, 0},
        {2, 3, 11, 10, 5, 7, 1, 1, {3, 3, 0, 0}, 0, 0},
        {2, 3, 11, 10, 5, 4, 4, 2, {1, 1, 1, 1}, 0, 0},
        {2, 3, 11, 10, 5, 3, 3, 2, {1, 1, 1, 1}, 0, 0},
        {2, 3, 11, 10, 5, 3, 2, 1, {0, 2, 1, 0}, 0, 0},
        {1, 2, 3, 4, 3, 3, 5, 3, {2, 1, 4, 3}, 0, 0},
    };
    for (size_t i = 0; i < sizeof padded / sizeof padded[0]; i++) {
        for (int bias = 0; bias < 2; bias++) {
            test_conv_case(fast, refk, padded[i], bias, 1);
            ug_conv_shape big = padded[i];
            big.Cin = 16, big.Cout = 24;
            test_conv_case(fast, refk, big, bias, 0);
        }
    }
    /* Padded 3x3 stride 1 with channels in multiples of 16 (Winograd). */
    const ug_conv_shape wino_pad = {2, 32, 11, 10, 16, 3, 3, 1, {1, 1, 1, 1}, 0, 0};
    test_conv_case(fast, refk, wino_pad, 1, 0);

    /* By hand: ones through a 3x3 kernel of ones with padding 1 count the
     * input pixels under each window (4 at a corner, 6 on an edge, 9 inside). */
    float ones[16], k9[9], o16[16], o16_fast[16];
    for (int i = 0; i < 16; i++)
        ones[i] = 1;
    for (int i = 0; i < 9; i++)
        k9[i] = 1;
    const ug_conv_shape same = {1, 1, 4, 4, 1, 3, 3, 1, {1, 1, 1, 1}, 0, 0};
    const float count[16] = {4, 6, 6, 4, 6, 9, 9, 6, 6, 9, 9, 6, 4, 6, 6, 4};
    ug_conv_forward_ref(REFK, o16, ones, k9, NULL, &same, NULL);
    ug_error err = {{0}};
    CHECK(ug_conv_out_h(&same) == 4 && ug_conv_out_w(&same) == 4 &&
              memcmp(o16, count, sizeof count) == 0,
          "padded 3x3 of ones");
    CHECK(ug_conv_forward(fast, o16_fast, ones, k9, NULL, &same, &err) == 0 &&
              memcmp(o16_fast, count, sizeof count) == 0,
          "padded 3x3 of ones, fast: %s", err.msg);
    /* A 1x3 kernel (1, 2, 3) with padding left 2, right 0 on a row (1, 10, 100):
     * outputs 3, 32, 321. */
    const ug_conv_shape row = {1, 1, 1, 3, 1, 1, 3, 1, {0, 0, 2, 0}, 0, 0};
    const float x3[3] = {1, 10, 100}, k3[3] = {1, 2, 3}, want3[3] = {3, 32, 321};
    float o3[3];
    ug_conv_forward_ref(REFK, o3, x3, k3, NULL, &row, NULL);
    CHECK(memcmp(o3, want3, sizeof want3) == 0, "1x3 with left padding: %g %g %g", o3[0], o3[1],
          o3[2]);

    ug_conv_shape bad = square(1, 3, 2, 2, 4, 3, 1);
    float x[12] = {0}, w[108] = {0}, o[4] = {0};
    CHECK(ug_conv_forward(fast, o, x, w, NULL, &bad, &err) == -1 && err.msg[0],
          "kernel larger than image accepted");
    bad.H = bad.W = 3, bad.pad[0] = 3;
    CHECK(ug_conv_forward(fast, o, x, w, NULL, &bad, &err) == -1 && err.msg[0],
          "padding as large as the kernel accepted");
}

/* ---- linear ---- */

static double lin_loss(float *out, const float *in, const float *w, const float *b, int N, int I,
                       int O, const float *R)
{
    ug_linear_forward_ref(REFK, out, in, w, b, N, I, O, NULL);
    return dot(out, R, (size_t)N * O);
}

static double lin_fd_err(float *x, size_t n, const float *g, float *out, const float *in,
                         const float *w, const float *b, int N, int I, int O, const float *R)
{
    const float eps = 0.1f;
    double worst = 0, scale = 1.0 + max_abs(g, n);
    for (size_t i = 0; i < n; i++) {
        float keep = x[i];
        x[i] = keep + eps;
        double lp = lin_loss(out, in, w, b, N, I, O, R);
        x[i] = keep - eps;
        double lm = lin_loss(out, in, w, b, N, I, O, R);
        x[i] = keep;
        double e = fabs((lp - lm) / (2.0 * (double)eps) - g[i]) / scale;
        worst = e > worst ? e : worst;
    }
    return worst;
}

static void test_linear_case(ug_kctx *fast, ug_kctx *refk, int N, int I, int O, int bias, int fd)
{
    ug_error err = {{0}};
    const size_t nin = (size_t)N * I, nw = (size_t)O * I, nout = (size_t)N * O;
    char tag[96];
    snprintf(tag, sizeof tag, "linear N=%d I=%d O=%d bias=%d", N, I, O, bias);

    float *in = randn(nin), *w = randn(nw), *b = bias ? randn(O) : NULL, *R = randn(nout);
    float *out_r = randn(nout), *out_f = randn(nout), *out_d = randn(nout);
    ug_linear_forward_ref(REFK, out_r, in, w, b, N, I, O, NULL);
    CHECK(ug_linear_forward(fast, out_f, in, w, b, N, I, O, &err) == 0, "%s: %s", tag, err.msg);
    CHECK(close_to(out_f, out_r, nout, 1e-5), "%s: forward fast vs ref: %g", tag,
          check_max_abs_diff(out_f, out_r, nout));
    CHECK(ug_linear_forward(refk, out_d, in, w, b, N, I, O, &err) == 0 &&
              memcmp(out_d, out_r, nout * sizeof *out_d) == 0,
          "%s: reference context", tag);

    float *dw0 = randn(nw), *db0 = randn(O);
    float *din_r = zeros(nin), *din_f = zeros(nin);
    fill(din_r, nin, NAN);
    fill(din_f, nin, NAN);
    float *dw_r = copy(dw0, nw), *dw_f = copy(dw0, nw), *db_r = copy(db0, O), *db_f = copy(db0, O);
    ug_linear_backward_ref(REFK, din_r, dw_r, bias ? db_r : NULL, R, in, w, N, I, O, 0, NULL);
    CHECK(ug_linear_backward(fast, din_f, dw_f, bias ? db_f : NULL, R, in, w, N, I, O, 0, &err) ==
              0,
          "%s: %s", tag, err.msg);
    CHECK(close_to(din_f, din_r, nin, 1e-5), "%s: din fast vs ref: %g", tag,
          check_max_abs_diff(din_f, din_r, nin));
    CHECK(close_to(dw_f, dw_r, nw, 1e-5), "%s: dw fast vs ref: %g", tag,
          check_max_abs_diff(dw_f, dw_r, nw));
    CHECK(close_to(db_f, db_r, O, 1e-5), "%s: db fast vs ref", tag);

    float *gw = zeros(nw), *gb = zeros(O);
    for (size_t i = 0; i < nw; i++)
        gw[i] = dw_r[i] - dw0[i];
    for (int i = 0; i < O; i++)
        gb[i] = db_r[i] - db0[i];

    /* acc = 1 for din, dw accumulating again */
    float *x0 = randn(nin), *din_a = copy(x0, nin), *expect = zeros(nin);
    for (size_t i = 0; i < nin; i++)
        expect[i] = x0[i] + din_r[i];
    CHECK(ug_linear_backward(fast, din_a, dw_f, NULL, R, in, w, N, I, O, 1, &err) == 0, "%s", tag);
    CHECK(close_to(din_a, expect, nin, 1e-5), "%s: din acc=1 fast", tag);
    memcpy(din_a, x0, nin * sizeof *din_a);
    ug_linear_backward_ref(REFK, din_a, NULL, NULL, R, in, w, N, I, O, 1, NULL);
    CHECK(close_to(din_a, expect, nin, 1e-6), "%s: din acc=1 ref", tag);
    float *dw2 = zeros(nw);
    for (size_t i = 0; i < nw; i++)
        dw2[i] = dw0[i] + 2 * gw[i];
    CHECK(close_to(dw_f, dw2, nw, 1e-5), "%s: dw does not accumulate", tag);

    if (fd) {
        float *scratch = zeros(nout);
        double e = lin_fd_err(in, nin, din_r, scratch, in, w, b, N, I, O, R);
        CHECK(e < 1e-3, "%s: din vs finite differences: %g", tag, e);
        e = lin_fd_err(w, nw, gw, scratch, in, w, b, N, I, O, R);
        CHECK(e < 1e-3, "%s: dw vs finite differences: %g", tag, e);
        if (bias) {
            e = lin_fd_err(b, O, gb, scratch, in, w, b, N, I, O, R);
            CHECK(e < 1e-3, "%s: db vs finite differences: %g", tag, e);
        }
        free(scratch);
    }

    free(in), free(w), free(b), free(R), free(out_r), free(out_f), free(out_d), free(dw0);
    free(db0), free(din_r), free(din_f), free(dw_r), free(dw_f), free(db_r), free(db_f);
    free(gw), free(gb), free(x0), free(din_a), free(expect), free(dw2);
}

static void test_linear(ug_kctx *fast, ug_kctx *refk)
{
    const int Ns[] = {1, 3};
    for (int i = 0; i < 2; i++)
        for (int bias = 0; bias < 2; bias++) {
            test_linear_case(fast, refk, Ns[i], 37, 11, bias, 1);
            test_linear_case(fast, refk, Ns[i], 4099, 64, bias, 0);
        }
    /* One image through a weight past the caches (the CPU's matrix-vector
     * product), rows not a multiple of 4 per thread: forward only. */
    const int I = 65537, O = 67;
    float *in = randn(I), *w = randn((size_t)I * O), *b = randn(O), *out_r = randn(O),
          *out_f = randn(O);
    ug_error err = {{0}};
    ug_linear_forward_ref(refk, out_r, in, w, b, 1, I, O, NULL);
    CHECK(ug_linear_forward(fast, out_f, in, w, b, 1, I, O, &err) == 0 &&
              close_to(out_f, out_r, O, 1e-5),
          "linear N=1 I=%d O=%d forward fast vs ref: %s %g", I, O, err.msg,
          check_max_abs_diff(out_f, out_r, O));
    free(in), free(w), free(b), free(out_r), free(out_f);
}

static void test_scratch(ug_kctx *k)
{
    float *a = ug_kctx_scratch(k, 10);
    CHECK(a != NULL, "scratch 10");
    for (int i = 0; i < 10; i++)
        a[i] = (float)i;
    float *b = ug_kctx_scratch(k, 100000);
    CHECK(b != NULL, "scratch 100000");
    b[99999] = 1;
    CHECK(ug_kctx_scratch(k, 5) == b, "a smaller request reuses the buffer");
}

/* Channel-blocked input and output (kernels.h): the fast convolution
 * against the reference with the same layouts, and the reference's blocked
 * result, converted back, bit for bit its plain one. The backward passes
 * refuse blocked shapes. */
static void test_conv_blocked(ug_kctx *fast, ug_conv_shape s)
{
    ug_error err = {{0}};
    const int OHW = ug_conv_out_h(&s) * ug_conv_out_w(&s);
    const size_t nin = (size_t)s.N * s.Cin * s.H * s.W, nw = (size_t)s.Cout * s.Cin * s.kh * s.kw,
                 nout = (size_t)s.N * s.Cout * OHW;
    float *in = randn(nin), *w = randn(nw), *b = randn((size_t)s.Cout), *inb = zeros(nin);
    float *plain = zeros(nout), *out_r = zeros(nout), *out_f = zeros(nout), *back = zeros(nout);
    ug_layout_convert(REFK, inb, in, s.N, s.Cin, s.H * s.W, 1);
    ug_conv_forward_ref(REFK, plain, in, w, b, &s, NULL);
    for (int bi = 0; bi < 2; bi++)
        for (int bo = !bi; bo < 2; bo++) {
            ug_conv_shape t = s;
            t.blocked_in = bi, t.blocked_out = bo;
            const float *x = bi ? inb : in;
            ug_conv_forward_ref(REFK, out_r, x, w, b, &t, NULL);
            int rc = ug_conv_forward(fast, out_f, x, w, b, &t, &err);
            CHECK(rc == 0 && close_to(out_f, out_r, nout, 1e-5),
                  "blocked conv Cin=%d Cout=%d k=%d s=%d in %d out %d: %s %g", s.Cin, s.Cout, s.kh,
                  s.stride, bi, bo, err.msg, check_max_abs_diff(out_f, out_r, nout));
            if (bo)
                ug_layout_convert(REFK, back, out_r, s.N, s.Cout, OHW, 0);
            else
                memcpy(back, out_r, nout * sizeof *back);
            CHECK(memcmp(back, plain, nout * sizeof *back) == 0,
                  "blocked reference conv in %d out %d: the plain one's values", bi, bo);
            err.msg[0] = 0;
            CHECK(ug_conv_backward(fast, NULL, out_f, NULL, out_r, x, w, &t, 0, &err) < 0 &&
                      strstr(err.msg, "plain"),
                  "blocked conv backward refused: %s", err.msg);
        }
    free(in), free(w), free(b), free(inb), free(plain), free(out_r), free(out_f), free(back);
}

int main(void)
{
    ug_error err = {{0}};
    ug_rng_seed(&rng, 1234, 1);
    ug_kctx *fast = ug_kctx_new(0, &err);
    CHECK(fast != NULL, "ug_kctx_new(0): %s", err.msg);
    ug_kctx *refk = ug_kctx_new(1, &err);
    CHECK(refk != NULL, "ug_kctx_new(1): %s", err.msg);
    if (!fast || !refk)
        return check_summary();
    REFK = refk;
    CHECK(!ug_kctx_reference(fast) && ug_kctx_reference(refk), "ug_kctx_reference");
    test_conv(fast, refk);
    test_conv_sn(fast);
    test_linear(fast, refk);
    /* Winograd-eligible, strided and 1x1, as in the generators. */
    test_conv_blocked(fast, (ug_conv_shape){1, 32, 18, 18, 16, 3, 3, 1, {0, 0, 0, 0}, 0, 0});
    test_conv_blocked(fast, (ug_conv_shape){2, 16, 20, 20, 32, 3, 3, 2, {1, 1, 1, 1}, 0, 0});
    test_conv_blocked(fast, (ug_conv_shape){2, 32, 10, 10, 16, 1, 1, 1, {0, 0, 0, 0}, 0, 0});
    test_scratch(fast);
    test_scratch(refk);
    ug_kctx_free(fast);
    ug_kctx_free(refk);
    return check_summary();
}
