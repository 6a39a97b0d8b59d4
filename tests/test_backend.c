/* The backend interface: both tables are complete, every kernel where the
 * CPU backend has its own version is held to the reference (the
 * normalisations, padding, up-sampling, average pooling and spectral
 * norm's power iteration here; convolutions and linears in
 * test_conv.c, test_deconv.c), and each backend's memory functions
 * round-trip. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "check.h"
#include "fd.h"

static ug_kctx *ref, *cpu;

/* Kernels whose CPU version is compared with the reference, and where. */
static const char *const compared[] = {
    "conv_forward",      "conv_backward",      "conv_backward_sn", /* test_conv.c */
    "linear_forward",    "linear_backward",    /* test_conv.c */
    "deconv_forward",    "deconv_backward",    /* test_deconv.c */
    "pad_reflect_forward", "pad_reflect_backward", "upsample2_forward", /* here */
    "gap_forward",       /* here */
    "instnorm_forward",  "instnorm_backward",  /* here */
    "linnorm_forward",   "linnorm_backward",   "batchnorm_forward", "batchnorm_backward",
    "groupnorm_forward", "groupnorm_backward", "spectral_norm_forward", /* here */
};

static int is_compared(const char *name)
{
    for (size_t i = 0; i < sizeof compared / sizeof compared[0]; i++)
        if (strcmp(compared[i], name) == 0)
            return 1;
    return 0;
}

static void test_tables(void)
{
    const ug_backend *r = &ug_backend_ref, *c = &ug_backend_cpu;
    CHECK(strcmp(r->name, "ref") == 0 && strcmp(c->name, "cpu") == 0, "backend names");
    CHECK(ref->be == r && cpu->be == c && ug_kctx_reference(ref) && !ug_kctx_reference(cpu),
          "ug_kctx_new picks the backend by its reference switch");
    /* Every entry is set; a CPU kernel of its own has a comparison test, and
     * one without is the reference itself. */
#define ENTRY(name)                                                                            \
    CHECK(r->name && c->name, "%s: both tables have it", #name);                               \
    CHECK((void *)c->name == (void *)r->name || is_compared(#name),                            \
          "%s: the CPU backend's own version has no test against the reference", #name);      \
    CHECK((void *)r->name == (void *)ug_##name##_ref, "%s: the ref table's is the reference",  \
          #name);
#define R_(type, name, params, args) ENTRY(name)
#define V_(name, params, args) ENTRY(name)
    UG_KERNELS(R_, V_)
#undef R_
#undef V_
#undef ENTRY
    CHECK(r->alloc && r->free && r->to_host && r->from_host && r->copy && r->zero && r->map &&
              r->unmap && r->sync && c->alloc && c->free && c->to_host && c->from_host &&
              c->copy && c->zero && c->map && c->unmap && c->sync,
          "memory functions");
}

static void test_memory(ug_kctx *k)
{
    const ug_backend *be = k->be;
    const size_t n = 1000;
    float *host = alloc(n), *back = alloc(n);
    fill_uniform(host, n, -1, 1);
    float *a = be->alloc(n * sizeof *a), *b = be->alloc(n * sizeof *b);
    CHECK(a && b && ((uintptr_t)a & 63) == 0 && ((uintptr_t)b & 63) == 0,
          "%s: alloc, 64-byte aligned", be->name);
    be->from_host(a, host, n * sizeof *a);
    be->copy(b, a, n * sizeof *a);
    be->to_host(back, b, n * sizeof *b);
    CHECK(memcmp(back, host, n * sizeof *host) == 0, "%s: from_host, copy, to_host", be->name);
    be->zero(b, 10 * sizeof *b);
    float *view = be->map(b, n * sizeof *b);
    CHECK(view && view[0] == 0 && view[9] == 0 && view[10] == host[10], "%s: zero, map",
          be->name);
    view[5] = 42;
    be->unmap(b, view, n * sizeof *b, 1);
    be->sync(k);
    be->to_host(back, b, n * sizeof *b);
    CHECK(back[5] == 42, "%s: unmap writes back", be->name);
    be->free(a);
    be->free(b);
    be->free(NULL);
    float *s = ug_kctx_scratch(k, 5000);
    CHECK(s && ug_kctx_scratch(k, 10) == s, "%s: scratch grows, never shrinks", be->name);
    free(host), free(back);
}

/* max |a - b| relative to 1 + max |b|. */
static double rel_diff(const float *a, const float *b, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++)
        m = fabs(b[i]) > m ? fabs(b[i]) : m;
    return check_max_abs_diff(a, b, n) / (1 + m);
}

#define TOL 2e-5

/* Gradient buffers of one size, filled for acc (garbage to overwrite, or a
 * value to add to), one per backend. */
static void grad_pair(float *r, float *c, size_t n, int acc)
{
    for (size_t i = 0; i < n; i++)
        r[i] = c[i] = acc ? 0.25f * (float)(i % 7) : NAN;
}

static void param_pair(float *r, float *c, size_t n)
{
    for (size_t i = 0; i < n; i++)
        r[i] = c[i] = 0.5f;
}

/* Padding and up-sampling copy, and padding's backward adds in the
 * reference's order: the same bits. */
static void test_spatial(int N, int C, int H, int W, int p)
{
    const int OH = H + 2 * p, OW = W + 2 * p;
    const size_t n = (size_t)N * C * H * W, np = (size_t)N * C * OH * OW, nu = 4 * n;
    float *x = alloc(n), *g = alloc(np), *yr = alloc(nu), *yc = alloc(nu), *dr = alloc(n),
          *dc = alloc(n);
    fill_uniform(x, n, -1, 1);
    fill_uniform(g, np, -1, 1);
    ug_pad_reflect_forward(ref, yr, x, N, C, H, W, p, 0);
    ug_pad_reflect_forward(cpu, yc, x, N, C, H, W, p, 0);
    CHECK(memcmp(yr, yc, np * sizeof *yr) == 0, "pad %dx%dx%dx%d p %d forward", N, C, H, W, p);
    for (int acc = 0; acc < 2; acc++) {
        grad_pair(dr, dc, n, acc);
        ug_pad_reflect_backward(ref, dr, g, N, C, H, W, p, acc);
        ug_pad_reflect_backward(cpu, dc, g, N, C, H, W, p, acc);
        CHECK(memcmp(dr, dc, n * sizeof *dr) == 0, "pad %dx%dx%dx%d p %d acc %d backward", N, C,
              H, W, p, acc);
    }
    ug_upsample2_forward(ref, yr, x, N, C, H, W, 0);
    ug_upsample2_forward(cpu, yc, x, N, C, H, W, 0);
    CHECK(memcmp(yr, yc, nu * sizeof *yr) == 0, "upsample2 %dx%dx%dx%d forward", N, C, H, W);
    free(x), free(g), free(yr), free(yc), free(dr), free(dc);
}

/* Average pooling sums in its own order, both in double: the float means
 * differ by a rounding at most. */
static void test_gap(int N, int C, int HW)
{
    const size_t n = (size_t)N * C * HW;
    float *x = alloc(n), *yr = alloc((size_t)N * C), *yc = alloc((size_t)N * C);
    fill_uniform(x, n, -1, 1);
    ug_gap_forward(ref, yr, x, N, C, HW);
    ug_gap_forward(cpu, yc, x, N, C, HW);
    CHECK(rel_diff(yc, yr, (size_t)N * C) < 1e-7, "gap %dx%dx%d forward: %g", N, C, HW,
          rel_diff(yc, yr, (size_t)N * C));
    free(x), free(yr), free(yc);
}

static void test_instnorm(int N, int C, int HW)
{
    const size_t n = (size_t)N * C * HW, s = (size_t)N * C;
    float *x = alloc(n), *g = alloc(n), *yr = alloc(n), *yc = alloc(n);
    float *mr = alloc(s), *rr = alloc(s), *mc = alloc(s), *rc = alloc(s);
    float *dr = alloc(n), *dc = alloc(n);
    fill_uniform(x, n, -2, 3);
    fill_uniform(g, n, -1, 1);
    for (int relu = 0; relu < 2; relu++) {
        ug_instnorm_forward(ref, yr, mr, rr, x, N, C, HW, 1e-5f, relu, 0);
        ug_instnorm_forward(cpu, yc, mc, rc, x, N, C, HW, 1e-5f, relu, 0);
        CHECK(rel_diff(yc, yr, n) < TOL && rel_diff(mc, mr, s) < TOL && rel_diff(rc, rr, s) < TOL,
              "instnorm %dx%dx%d relu %d forward: %g", N, C, HW, relu, rel_diff(yc, yr, n));
    }
    for (int acc = 0; acc < 2; acc++) {
        grad_pair(dr, dc, n, acc);
        ug_instnorm_backward(ref, dr, g, x, mr, rr, N, C, HW, acc);
        ug_instnorm_backward(cpu, dc, g, x, mr, rr, N, C, HW, acc);
        CHECK(rel_diff(dc, dr, n) < TOL, "instnorm %dx%dx%d acc %d backward: %g", N, C, HW, acc,
              rel_diff(dc, dr, n));
    }
    free(x), free(g), free(yr), free(yc), free(mr), free(rr), free(mc), free(rc), free(dr),
        free(dc);
}

static void test_linnorm(int N, int C, int HW, int per_sample)
{
    const size_t n = (size_t)N * C * HW, np = per_sample ? (size_t)N * C : (size_t)C;
    const size_t ns = ug_linnorm_stats_size(N, C), nsaved = 2 * (size_t)N * C + 2 * (size_t)N;
    float *x = alloc(n), *g = alloc(n), *yr = alloc(n), *yc = alloc(n);
    float *sr = alloc(ns), *sc = alloc(ns), *rho = alloc(C), *gam = alloc(np), *bet = alloc(np);
    float *dr = alloc(n), *dc = alloc(n), *drho_r = alloc(C), *drho_c = alloc(C);
    float *dg_r = alloc(np), *dg_c = alloc(np), *db_r = alloc(np), *db_c = alloc(np);
    fill_uniform(x, n, -2, 3);
    fill_uniform(g, n, -1, 1);
    fill_uniform(rho, C, 0, 1);
    rho[0] = 0, rho[C - 1] = 1; /* the clamp's ends */
    fill_uniform(gam, np, 0.5f, 1.5f);
    fill_uniform(bet, np, -1, 1);
    const char *tag = per_sample ? "adaILN" : "ILN";
    for (int relu = 0; relu < 2; relu++) {
        ug_linnorm_forward(ref, yr, sr, x, rho, gam, bet, per_sample, N, C, HW, 1e-5f, relu, 0);
        ug_linnorm_forward(cpu, yc, sc, x, rho, gam, bet, per_sample, N, C, HW, 1e-5f, relu, 0);
        CHECK(rel_diff(yc, yr, n) < TOL && rel_diff(sc, sr, nsaved) < TOL,
              "%s %dx%dx%d relu %d forward: %g, statistics %g", tag, N, C, HW, relu,
              rel_diff(yc, yr, n), rel_diff(sc, sr, nsaved));
    }
    for (int acc = 0; acc < 2; acc++) {
        grad_pair(dr, dc, n, acc);
        param_pair(drho_r, drho_c, C);
        param_pair(dg_r, dg_c, np);
        param_pair(db_r, db_c, np);
        ug_linnorm_backward(ref, dr, drho_r, dg_r, db_r, g, x, sr, rho, gam, per_sample, N, C, HW,
                            acc);
        ug_linnorm_backward(cpu, dc, drho_c, dg_c, db_c, g, x, sr, rho, gam, per_sample, N, C, HW,
                            acc);
        CHECK(rel_diff(dc, dr, n) < TOL && rel_diff(drho_c, drho_r, C) < TOL &&
                  rel_diff(dg_c, dg_r, np) < TOL && rel_diff(db_c, db_r, np) < TOL,
              "%s %dx%dx%d acc %d backward: din %g drho %g dgamma %g dbeta %g", tag, N, C, HW,
              acc, rel_diff(dc, dr, n), rel_diff(drho_c, drho_r, C), rel_diff(dg_c, dg_r, np),
              rel_diff(db_c, db_r, np));
    }
    /* Only the input gradient (the parameter gradients NULL), and only them. */
    ug_linnorm_backward(ref, dr, NULL, NULL, NULL, g, x, sr, rho, gam, per_sample, N, C, HW, 0);
    ug_linnorm_backward(cpu, dc, NULL, NULL, NULL, g, x, sr, rho, gam, per_sample, N, C, HW, 0);
    param_pair(drho_r, drho_c, C);
    ug_linnorm_backward(ref, NULL, drho_r, NULL, NULL, g, x, sr, rho, gam, per_sample, N, C, HW, 0);
    ug_linnorm_backward(cpu, NULL, drho_c, NULL, NULL, g, x, sr, rho, gam, per_sample, N, C, HW, 0);
    CHECK(rel_diff(dc, dr, n) < TOL && rel_diff(drho_c, drho_r, C) < TOL,
          "%s: NULL gradients skipped alike", tag);
    free(x), free(g), free(yr), free(yc), free(sr), free(sc), free(rho), free(gam), free(bet);
    free(dr), free(dc), free(drho_r), free(drho_c), free(dg_r), free(dg_c), free(db_r),
        free(db_c);
}

/* ---- channel-blocked images (kernels.h) ---- */

/* x (N x C x HW, plain) in the other layout, through k. */
static float *converted(ug_kctx *k, const float *x, int N, int C, int HW, int to_blocked)
{
    float *y = alloc((size_t)N * C * HW);
    ug_layout_convert(k, y, x, N, C, HW, to_blocked);
    return y;
}

/* The conversion: each element where ug_plane_at says, and back. */
static void test_layout(int N, int C, int HW)
{
    const size_t n = (size_t)N * C * HW;
    float *x = alloc(n);
    fill_uniform(x, n, -1, 1);
    float *b = converted(ref, x, N, C, HW, 1), *bc = converted(cpu, x, N, C, HW, 1);
    float *back = converted(cpu, b, N, C, HW, 0);
    int placed = 1;
    for (int s = 0; s < N; s++)
        for (int c = 0; c < C; c++)
            for (int i = 0; i < HW; i++)
                placed &= b[ug_plane_at(1, C, HW, s, c) + (size_t)i * UG_BLOCK] ==
                          x[ug_plane_at(0, C, HW, s, c) + i];
    CHECK(placed && memcmp(b, bc, n * sizeof *b) == 0 && memcmp(back, x, n * sizeof *x) == 0,
          "layout %dx%dx%d: blocked where ug_plane_at says, and back", N, C, HW);
    free(x), free(b), free(bc), free(back);
}

/* Each blocked forward kernel: the CPU's against the reference's, and the
 * reference's blocked result, converted back, against its plain one
 * (padding and up-sampling bit for bit). */
static void test_blocked(int N, int C, int H, int W)
{
    const int HW = H * W, p = 1, PHW = (H + 2 * p) * (W + 2 * p);
    const size_t n = (size_t)N * C * HW, s = (size_t)N * C, nu = 4 * n;
    const size_t np = (size_t)N * C * PHW, ns = ug_linnorm_stats_size(N, C);
    float *x = alloc(n), *rho = alloc(C), *gam = alloc(s), *bet = alloc(s);
    fill_uniform(x, n, -2, 3);
    fill_uniform(rho, C, 0, 1);
    fill_uniform(gam, s, 0.5f, 1.5f);
    fill_uniform(bet, s, -1, 1);
    float *xb = converted(ref, x, N, C, HW, 1);
    float *yp = alloc(nu), *yr = alloc(nu), *yc = alloc(nu);
    float *sp = alloc(ns), *sr = alloc(ns), *sc = alloc(ns);
    ug_pad_reflect_forward(ref, yp, x, N, C, H, W, p, 0);
    ug_pad_reflect_forward(ref, yr, xb, N, C, H, W, p, 1);
    ug_pad_reflect_forward(cpu, yc, xb, N, C, H, W, p, 1);
    float *back = converted(ref, yr, N, C, PHW, 0);
    CHECK(memcmp(yc, yr, np * sizeof *yr) == 0 && memcmp(back, yp, np * sizeof *yp) == 0,
          "pad %dx%dx%dx%d blocked", N, C, H, W);
    free(back);
    ug_upsample2_forward(ref, yp, x, N, C, H, W, 0);
    ug_upsample2_forward(ref, yr, xb, N, C, H, W, 1);
    ug_upsample2_forward(cpu, yc, xb, N, C, H, W, 1);
    back = converted(ref, yr, N, C, 4 * HW, 0);
    CHECK(memcmp(yc, yr, nu * sizeof *yr) == 0 && memcmp(back, yp, nu * sizeof *yp) == 0,
          "upsample2 %dx%dx%dx%d blocked", N, C, H, W);
    free(back);
    for (int relu = 0; relu < 2; relu++) {
        ug_instnorm_forward(ref, yp, sp, sp + s, x, N, C, HW, 1e-5f, relu, 0);
        ug_instnorm_forward(ref, yr, sr, sr + s, xb, N, C, HW, 1e-5f, relu, 1);
        ug_instnorm_forward(cpu, yc, sc, sc + s, xb, N, C, HW, 1e-5f, relu, 1);
        back = converted(ref, yr, N, C, HW, 0);
        CHECK(rel_diff(yc, yr, n) < TOL && rel_diff(sc, sr, 2 * s) < TOL &&
                  memcmp(back, yp, n * sizeof *yp) == 0 && memcmp(sr, sp, 2 * s * sizeof *sr) == 0,
              "instnorm %dx%dx%d relu %d blocked: %g", N, C, HW, relu, rel_diff(yc, yr, n));
        free(back);
        for (int per_sample = 0; per_sample < 2; per_sample++) {
            const char *tag = per_sample ? "adaILN" : "ILN";
            const size_t nsaved = 2 * s + 2 * (size_t)N;
            ug_linnorm_forward(ref, yp, sp, x, rho, gam, bet, per_sample, N, C, HW, 1e-5f, relu,
                               0);
            ug_linnorm_forward(ref, yr, sr, xb, rho, gam, bet, per_sample, N, C, HW, 1e-5f, relu,
                               1);
            ug_linnorm_forward(cpu, yc, sc, xb, rho, gam, bet, per_sample, N, C, HW, 1e-5f, relu,
                               1);
            back = converted(ref, yr, N, C, HW, 0);
            CHECK(rel_diff(yc, yr, n) < TOL && rel_diff(sc, sr, nsaved) < TOL &&
                      rel_diff(back, yp, n) < TOL && rel_diff(sr, sp, nsaved) < TOL,
                  "%s %dx%dx%d relu %d blocked: %g, against plain %g", tag, N, C, HW, relu,
                  rel_diff(yc, yr, n), rel_diff(back, yp, n));
            free(back);
        }
    }
    free(x), free(rho), free(gam), free(bet), free(xb), free(yp), free(yr), free(yc), free(sp),
        free(sr), free(sc);
}

static void test_batchnorm(int N, int C, int HW)
{
    const size_t n = (size_t)N * C * HW;
    float *x = alloc(n), *g = alloc(n), *yr = alloc(n), *yc = alloc(n), *w = alloc(C),
          *b = alloc(C);
    float *mr = alloc(C), *rr = alloc(C), *mc = alloc(C), *rc = alloc(C);
    float *rm_r = alloc(C), *rv_r = alloc(C), *rm_c = alloc(C), *rv_c = alloc(C);
    float *dr = alloc(n), *dc = alloc(n), *dw_r = alloc(C), *dw_c = alloc(C), *db_r = alloc(C),
          *db_c = alloc(C);
    fill_uniform(x, n, -2, 3);
    fill_uniform(g, n, -1, 1);
    fill_uniform(w, C, 0.5f, 1.5f);
    fill_uniform(b, C, -1, 1);
    fill_uniform(rm_r, C, -1, 1);
    fill_uniform(rv_r, C, 0.5f, 2);
    memcpy(rm_c, rm_r, C * sizeof *rm_c);
    memcpy(rv_c, rv_r, C * sizeof *rv_c);
    for (int train = 0; train < 2; train++) {
        ug_batchnorm_forward(ref, yr, mr, rr, x, w, b, rm_r, rv_r, train, N, C, HW, 1e-5f, 0.1f);
        ug_batchnorm_forward(cpu, yc, mc, rc, x, w, b, rm_c, rv_c, train, N, C, HW, 1e-5f, 0.1f);
        CHECK(rel_diff(yc, yr, n) < TOL && rel_diff(mc, mr, C) < TOL &&
                  rel_diff(rc, rr, C) < TOL && rel_diff(rm_c, rm_r, C) < TOL &&
                  rel_diff(rv_c, rv_r, C) < TOL,
              "batchnorm %dx%dx%d train %d forward: %g", N, C, HW, train, rel_diff(yc, yr, n));
        for (int acc = 0; acc < 2; acc++) {
            grad_pair(dr, dc, n, acc);
            param_pair(dw_r, dw_c, C);
            param_pair(db_r, db_c, C);
            ug_batchnorm_backward(ref, dr, dw_r, db_r, g, x, mr, rr, w, train, N, C, HW, acc);
            ug_batchnorm_backward(cpu, dc, dw_c, db_c, g, x, mr, rr, w, train, N, C, HW, acc);
            CHECK(rel_diff(dc, dr, n) < TOL && rel_diff(dw_c, dw_r, C) < TOL &&
                      rel_diff(db_c, db_r, C) < TOL,
                  "batchnorm %dx%dx%d train %d acc %d backward: %g %g %g", N, C, HW, train, acc,
                  rel_diff(dc, dr, n), rel_diff(dw_c, dw_r, C), rel_diff(db_c, db_r, C));
        }
    }
    free(x), free(g), free(yr), free(yc), free(w), free(b), free(mr), free(rr), free(mc),
        free(rc);
    free(rm_r), free(rv_r), free(rm_c), free(rv_c), free(dr), free(dc), free(dw_r), free(dw_c),
        free(db_r), free(db_c);
}

static void test_groupnorm(int N, int C, int HW, int G)
{
    const size_t n = (size_t)N * C * HW, s = (size_t)N * G;
    float *x = alloc(n), *g = alloc(n), *yr = alloc(n), *yc = alloc(n), *w = alloc(C),
          *b = alloc(C);
    float *mr = alloc(s), *rr = alloc(s), *mc = alloc(s), *rc = alloc(s);
    float *dr = alloc(n), *dc = alloc(n), *dw_r = alloc(C), *dw_c = alloc(C), *db_r = alloc(C),
          *db_c = alloc(C);
    fill_uniform(x, n, -2, 3);
    fill_uniform(g, n, -1, 1);
    fill_uniform(w, C, 0.5f, 1.5f);
    fill_uniform(b, C, -1, 1);
    ug_groupnorm_forward(ref, yr, mr, rr, x, w, b, N, C, HW, G, 1e-5f);
    ug_groupnorm_forward(cpu, yc, mc, rc, x, w, b, N, C, HW, G, 1e-5f);
    CHECK(rel_diff(yc, yr, n) < TOL && rel_diff(mc, mr, s) < TOL && rel_diff(rc, rr, s) < TOL,
          "groupnorm %dx%dx%d G %d forward: %g", N, C, HW, G, rel_diff(yc, yr, n));
    for (int acc = 0; acc < 2; acc++) {
        grad_pair(dr, dc, n, acc);
        param_pair(dw_r, dw_c, C);
        param_pair(db_r, db_c, C);
        ug_groupnorm_backward(ref, dr, dw_r, db_r, g, x, mr, rr, w, N, C, HW, G, acc);
        ug_groupnorm_backward(cpu, dc, dw_c, db_c, g, x, mr, rr, w, N, C, HW, G, acc);
        CHECK(rel_diff(dc, dr, n) < TOL && rel_diff(dw_c, dw_r, C) < TOL &&
                  rel_diff(db_c, db_r, C) < TOL,
              "groupnorm %dx%dx%d G %d acc %d backward: %g %g %g", N, C, HW, G, acc,
              rel_diff(dc, dr, n), rel_diff(dw_c, dw_r, C), rel_diff(db_c, db_r, C));
    }
    free(x), free(g), free(yr), free(yc), free(w), free(b), free(mr), free(rr), free(mc),
        free(rc);
    free(dr), free(dc), free(dw_r), free(dw_c), free(db_r), free(db_c);
}

/* Spectral norm's power iteration: the same double sums, W^T u's in the
 * same row order, the CPU's W v in four-row passes and wider lanes, so u, v
 * and sigma agree to float rounding. Rows past a multiple of 4 and columns
 * past the CPU's blocks of 1024. */
static void test_spectral(int rows, int cols)
{
    const size_t n = (size_t)rows * cols;
    float *w = alloc(n), *sr = alloc(n), *sc = alloc(n), *ur = alloc(rows), *uc = alloc(rows),
          *vr = alloc(cols), *vc = alloc(cols);
    double *work = malloc(((size_t)rows + cols) * sizeof *work);
    fill_uniform(w, n, -1, 1);
    fill_uniform(ur, rows, -1, 1);
    memcpy(uc, ur, rows * sizeof *ur);
    for (int update = 1; update >= 0; update--) {
        const float sgr = ug_spectral_norm_forward(ref, sr, ur, vr, w, rows, cols, update, work);
        const float sgc = ug_spectral_norm_forward(cpu, sc, uc, vc, w, rows, cols, update, work);
        CHECK(fabsf(sgc - sgr) <= 1e-6f * fabsf(sgr) && rel_diff(uc, ur, rows) < 1e-6 &&
                  rel_diff(vc, vr, cols) < 1e-6 && rel_diff(sc, sr, n) < 1e-6,
              "spectral norm %dx%d update %d: sigma %g against %g, u %g, v %g, w_sn %g", rows,
              cols, update, sgc, sgr, rel_diff(uc, ur, rows), rel_diff(vc, vr, cols),
              rel_diff(sc, sr, n));
    }
    free(w), free(sr), free(sc), free(ur), free(uc), free(vr), free(vc), free(work);
}

int main(void)
{
    ug_error err = {{0}};
    ug_rng_seed(&rng, 2024, 1);
    ref = ug_kctx_new(1, &err);
    cpu = ug_kctx_new(0, &err);
    CHECK(ref && cpu, "ug_kctx_new: %s", err.msg);
    if (!ref || !cpu)
        return check_summary();
    test_tables();
    test_memory(ref);
    test_memory(cpu);
    /* Small and odd shapes, one plane of one pixel, and sizes the threads split. */
    const int shapes[][3] = {{1, 1, 2}, {2, 3, 25}, {3, 5, 7}, {2, 16, 1024}, {1, 64, 4096}};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        const int N = shapes[i][0], C = shapes[i][1], HW = shapes[i][2];
        test_gap(N, C, HW);
        test_instnorm(N, C, HW);
        test_linnorm(N, C, HW, 0);
        test_linnorm(N, C, HW, 1);
        test_batchnorm(N, C, HW);
        test_groupnorm(N, C, HW, 1);
        test_groupnorm(N, C, HW, C);
        if (C % 4 == 0)
            test_groupnorm(N, C, HW, C / 4);
    }
    /* Each padding of the networks (1 and 3), a side of 2 (the smallest a
     * pad of 1 reflects), and sides the threads split. */
    const int pads[][5] = {{1, 1, 2, 2, 1}, {2, 3, 5, 4, 1}, {1, 2, 7, 9, 3}, {2, 8, 16, 16, 3},
                           {1, 16, 33, 31, 1}};
    for (size_t i = 0; i < sizeof pads / sizeof pads[0]; i++)
        test_spatial(pads[i][0], pads[i][1], pads[i][2], pads[i][3], pads[i][4]);
    /* Channel-blocked: one block and several, sides the threads split. */
    test_layout(1, 16, 3);
    test_layout(2, 48, 17);
    test_blocked(1, 16, 2, 2);
    test_blocked(2, 32, 5, 7);
    test_blocked(1, 64, 33, 31);
    const int sn[][2] = {{1, 1}, {3, 5}, {4, 16}, {9, 700}, {67, 2500}, {256, 4096}};
    for (size_t i = 0; i < sizeof sn / sizeof sn[0]; i++)
        test_spectral(sn[i][0], sn[i][1]);
    ug_kctx_free(ref);
    ug_kctx_free(cpu);
    return check_summary();
}
