/* The transposed convolution (torch.nn.ConvTranspose2d): output sizes and
 * values worked out by hand, the reference backward against finite
 * differences (fd.h), and the oneDNN fast path against the reference. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fd.h"
#include "backend/cpu/dnnl_cache.h"
#include "backend/backend.h"

/* The reference backend's context, for the plain kernels called directly. */
static ug_kctx *REFK;

static size_t in_size(const ug_deconv_shape *s) { return (size_t)s->N * s->Cin * s->H * s->W; }
static size_t w_size(const ug_deconv_shape *s) { return (size_t)s->Cin * s->Cout * s->k * s->k; }
static size_t out_size(const ug_deconv_shape *s)
{
    return (size_t)s->N * s->Cout * ug_deconv_out_h(s) * ug_deconv_out_w(s);
}

static void test_by_hand(ug_kctx *fast)
{
    /* CycleGAN's up-sampling: k 3, stride 2, padding 1, output padding 1
     * doubles the size: (H - 1) * 2 - 2 + 3 + 1 = 2H. */
    ug_deconv_shape s = {1, 1, 2, 2, 1, 3, 2, 1, 1};
    CHECK(ug_deconv_out_h(&s) == 4 && ug_deconv_out_w(&s) == 4, "k3 s2 p1 op1 doubles");
    ug_deconv_shape t = {1, 1, 5, 7, 1, 4, 3, 2, 1};
    CHECK(ug_deconv_out_h(&t) == 4 * 3 - 4 + 4 + 1 && ug_deconv_out_w(&t) == 6 * 3 - 4 + 4 + 1,
          "(H - 1) s - 2p + k + op");

    /* Ones through a kernel of ones: output (oh, ow) sums the inputs whose
     * rows reach oh (row 0 reaches outputs 0, 1; row 1 outputs 1, 2, 3). */
    const float x[4] = {1, 2, 3, 4}, want[16] = {1, 3, 2, 2, 4, 10, 6, 6, 3, 7, 4, 4, 3, 7, 4, 4};
    float w[9], out[16];
    for (int i = 0; i < 9; i++)
        w[i] = 1;
    ug_deconv_forward_ref(REFK, out, x, w, NULL, &s, NULL);
    CHECK(memcmp(out, want, sizeof want) == 0, "2x2 through ones");

    /* One pixel through an asymmetric kernel, Cin 1 x Cout 2: output (o, q)
     * of channel co is w[0][co][o + 1][q + 1] (no flip), plus the bias. */
    ug_deconv_shape one = {1, 1, 1, 1, 2, 3, 2, 1, 1};
    float w2[18], b2[2] = {0.5f, -1}, o2[8], o2f[8];
    for (int i = 0; i < 9; i++)
        w2[i] = (float)(i + 1), w2[9 + i] = 10.0f * (float)(i + 1);
    const float one_px = 1, want2[8] = {5.5f, 6.5f, 8.5f, 9.5f, 49, 59, 79, 89};
    ug_deconv_forward_ref(REFK, o2, &one_px, w2, b2, &one, NULL);
    CHECK(memcmp(o2, want2, sizeof want2) == 0, "one pixel through an asymmetric kernel");
    ug_error err = {{0}};
    CHECK(ug_deconv_forward(fast, o2f, &one_px, w2, b2, &one, &err) == 0 &&
              check_max_abs_diff(o2f, want2, 8) < 1e-5,
          "one pixel, fast: %s", err.msg);

    ug_deconv_shape bad = s;
    bad.out_pad = 2;
    CHECK(ug_deconv_forward(fast, out, x, w, NULL, &bad, &err) == -1 &&
              strstr(err.msg, "output_padding"),
          "output padding >= stride refused: %s", err.msg);
}

/* ---- the reference backward against finite differences ---- */

typedef struct {
    ug_deconv_shape s;
    int bias;
} deconv_data;

static void ref_fwd(fd_case *c, float *out)
{
    const deconv_data *d = c->data;
    ug_deconv_forward_ref(REFK, out, c->x[0], c->x[1], d->bias ? c->x[2] : NULL, &d->s, NULL);
}

static void ref_bwd(fd_case *c, const float *dout, int acc)
{
    const deconv_data *d = c->data;
    ug_deconv_backward_ref(REFK, c->grad[0], c->grad[1], d->bias ? c->grad[2] : NULL, dout,
                           c->x[0], c->x[1], &d->s, acc, NULL);
}

static void test_fd(ug_deconv_shape s)
{
    for (int bias = 0; bias < 2; bias++) {
        deconv_data d = {s, bias};
        float *x = alloc(in_size(&s)), *w = alloc(w_size(&s)), *b = alloc((size_t)s.Cout);
        fill_uniform(x, in_size(&s), -1, 1);
        fill_uniform(w, w_size(&s), -1, 1);
        fill_uniform(b, (size_t)s.Cout, -1, 1);
        /* Linear in each variable: a large step is exact up to rounding. */
        fd_case c = {.name = "deconv_ref", .forward = ref_fwd, .backward = ref_bwd,
                     .nvar = 2 + bias, .x = {x, w, b},
                     .nx = {in_size(&s), w_size(&s), (size_t)s.Cout}, .is_param = {0, 1, 1},
                     .nout = out_size(&s), .eps = 0.1f, .data = &d};
        fd_check(&c, 1e-4);
        free(x), free(w), free(b);
    }
}

/* ---- the fast path against the reference ---- */

/* max |a - b| relative to 1 + max |b|: float sums of hundreds of terms
 * summed in another order differ by a few ulp of the larger values. */
static double rel_diff(const float *a, const float *b, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++)
        m = fabs(b[i]) > m ? fabs(b[i]) : m;
    return check_max_abs_diff(a, b, n) / (1 + m);
}

static void test_fast(ug_kctx *fast, ug_deconv_shape s)
{
    const size_t nin = in_size(&s), nw = w_size(&s), nout = out_size(&s);
    float *x = alloc(nin), *w = alloc(nw), *b = alloc((size_t)s.Cout), *g = alloc(nout);
    float *out_r = alloc(nout), *out_f = alloc(nout);
    float *din_r = alloc(nin), *din_f = alloc(nin), *dw_r = alloc(nw), *dw_f = alloc(nw);
    float *db_r = alloc((size_t)s.Cout), *db_f = alloc((size_t)s.Cout);
    fill_uniform(x, nin, -1, 1);
    fill_uniform(w, nw, -1, 1);
    fill_uniform(b, (size_t)s.Cout, -1, 1);
    fill_uniform(g, nout, -1, 1);
    char tag[96];
    snprintf(tag, sizeof tag, "N=%d Cin=%d %dx%d Cout=%d k=%d s=%d p=%d op=%d", s.N, s.Cin, s.H,
             s.W, s.Cout, s.k, s.stride, s.pad, s.out_pad);
    ug_error err = {{0}};

    ug_deconv_forward_ref(REFK, out_r, x, w, b, &s, NULL);
    CHECK(ug_deconv_forward(fast, out_f, x, w, b, &s, &err) == 0, "%s: forward: %s", tag, err.msg);
    double d = rel_diff(out_f, out_r, nout);
    CHECK(d < 1e-5, "%s: forward fast vs ref: %g", tag, d);

    /* din overwritten from garbage, then accumulated; dw, db accumulated onto 0.5. */
    for (int acc = 0; acc < 2; acc++) {
        for (size_t i = 0; i < nin; i++)
            din_r[i] = din_f[i] = acc ? 1.0f : NAN;
        for (size_t i = 0; i < nw; i++)
            dw_r[i] = dw_f[i] = 0.5f;
        for (int i = 0; i < s.Cout; i++)
            db_r[i] = db_f[i] = 0.5f;
        ug_deconv_backward_ref(REFK, din_r, dw_r, db_r, g, x, w, &s, acc, NULL);
        CHECK(ug_deconv_backward(fast, din_f, dw_f, db_f, g, x, w, &s, acc, &err) == 0,
              "%s: backward: %s", tag, err.msg);
        d = rel_diff(din_f, din_r, nin);
        CHECK(d < 1e-5, "%s acc=%d: din fast vs ref: %g", tag, acc, d);
        d = rel_diff(dw_f, dw_r, nw);
        CHECK(d < 1e-5, "%s acc=%d: dw fast vs ref: %g", tag, acc, d);
        d = rel_diff(db_f, db_r, (size_t)s.Cout);
        CHECK(d < 1e-5, "%s acc=%d: db fast vs ref: %g", tag, acc, d);
    }
    /* NULL gradients are skipped; the cache holds one primitive per kind and shape. */
    size_t cached = ug_dnnl_cache_count(fast);
    memcpy(dw_f, dw_r, nw * sizeof *dw_f);
    CHECK(ug_deconv_backward(fast, NULL, dw_f, NULL, g, x, w, &s, 0, &err) == 0 &&
              ug_deconv_backward(fast, din_f, NULL, NULL, g, x, w, &s, 0, &err) == 0,
          "%s: one gradient at a time: %s", tag, err.msg);
    for (size_t i = 0; i < nw; i++)
        dw_r[i] += dw_r[i] - 0.5f; /* a second weight gradient */
    d = rel_diff(dw_f, dw_r, nw);
    CHECK(d < 1e-5, "%s: dw alone accumulates: %g", tag, d);
    CHECK(ug_dnnl_cache_count(fast) == cached, "%s: cache grew on reuse", tag);

    free(x), free(w), free(b), free(g), free(out_r), free(out_f), free(din_r), free(din_f);
    free(dw_r), free(dw_f), free(db_r), free(db_f);
}

int main(void)
{
    ug_error err = {{0}};
    ug_rng_seed(&rng, 99, 1);
    ug_kctx *fast = ug_kctx_new(0, &err);
    REFK = ug_kctx_new(1, &err);
    CHECK(fast && REFK, "ug_kctx_new: %s", err.msg);
    if (!fast || !REFK)
        return check_summary();
    test_by_hand(fast);
    const ug_deconv_shape shapes[] = {
        {2, 3, 4, 5, 2, 3, 2, 1, 1}, /* CycleGAN's */
        {1, 2, 3, 3, 3, 4, 2, 1, 0}, /* DCGAN-like k 4 */
        {2, 2, 3, 4, 3, 3, 1, 1, 0}, /* stride 1: a padded convolution's transpose */
        {1, 3, 2, 3, 2, 5, 3, 2, 2},
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        test_fd(shapes[i]);
        test_fast(fast, shapes[i]);
        ug_deconv_shape big = shapes[i];
        big.Cin = 16, big.Cout = 32, big.H += 5, big.W += 6; /* blocked layouts */
        test_fast(fast, big);
    }
    ug_kctx_free(fast);
    ug_kctx_free(REFK);
    return check_summary();
}
