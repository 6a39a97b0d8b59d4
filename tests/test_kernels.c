/* Tests of the element, normalisation, pooling, CAM, spectral-norm, loss,
 * Adam and clamp kernels: forward values that are easy to work out by hand,
 * and every backward pass against central finite differences (fd.h), with
 * the acc (overwrite / accumulate) and NULL-gradient rules; all of it on the
 * reference backend, then on the CPU backend. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fd.h"
#include "backend/backend.h"

/* The context every kernel here runs on: each test runs on both backends. */
static ug_kctx *K;

/* Shapes shared by the image cases. */
typedef struct {
    int N, C, H, W;
    int p;
    float slope;
    int per_sample, relu;
    float *stats, *mean, *rstd, *out_saved;
    float *b, *gamma, *beta, *w;
    int32_t *argmax;
} img_data;

#define D(c) ((img_data *)(c)->data)

/* ---- reflection padding ---- */
static void pad_fwd(fd_case *c, float *out)
{
    ug_pad_reflect_forward(K, out, c->x[0], D(c)->N, D(c)->C, D(c)->H, D(c)->W, D(c)->p, 0);
}
static void pad_bwd(fd_case *c, const float *dout, int acc)
{
    ug_pad_reflect_backward(K, c->grad[0], dout, D(c)->N, D(c)->C, D(c)->H, D(c)->W, D(c)->p, acc);
}

static void test_pad(void)
{
    /* A 3x3 pattern padded by 1 and by 2 (p < H allows 2). */
    const float in[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    const float want1[25] = {5, 4, 5, 6, 5, 2, 1, 2, 3, 2, 5, 4, 5, 6, 5, 8, 7, 8, 9, 8, 5, 4, 5, 6, 5};
    float out[49];
    ug_pad_reflect_forward(K, out, in, 1, 1, 3, 3, 1, 0);
    CHECK(check_max_abs_diff(out, want1, 25) == 0, "reflect pad 1 of a 3x3 pattern");
    ug_pad_reflect_forward(K, out, in, 1, 1, 3, 3, 2, 0);
    const float row0[7] = {9, 8, 7, 8, 9, 8, 7}; /* padded row 0 = input row 2 reflected */
    CHECK(check_max_abs_diff(out, row0, 7) == 0, "reflect pad 2, first row");
    const float row3[7] = {6, 5, 4, 5, 6, 5, 4};
    CHECK(check_max_abs_diff(out + 21, row3, 7) == 0, "reflect pad 2, middle row");

    img_data d = {.N = 2, .C = 3, .H = 5, .W = 4, .p = 2};
    float *x = alloc(2 * 3 * 5 * 4);
    fill_uniform(x, 120, -1, 1);
    fd_case c = {.name = "pad", .forward = pad_fwd, .backward = pad_bwd, .nvar = 1,
                 .x = {x}, .nx = {120}, .nout = 2 * 3 * 9 * 8, .eps = 1e-2f, .data = &d};
    fd_check(&c, 1e-3);
    free(x);
}

/* ---- instance norm ---- */
static void in_fwd(fd_case *c, float *out)
{
    img_data *d = D(c);
    ug_instnorm_forward(K, out, d->mean, d->rstd, c->x[0], d->N, d->C, d->H * d->W, 1e-5f, 0, 0);
}
static void in_bwd(fd_case *c, const float *dout, int acc)
{
    img_data *d = D(c);
    ug_instnorm_backward(K, c->grad[0], dout, c->x[0], d->mean, d->rstd, d->N, d->C, d->H * d->W,
                         acc);
}

static void test_instnorm(void)
{
    /* Biased variance: {1, 2, 3, 4} has mean 2.5 and var 1.25. */
    const float x4[4] = {1, 2, 3, 4};
    float y[4], m, r;
    ug_instnorm_forward(K, y, &m, &r, x4, 1, 1, 4, 0.0f, 0, 0);
    CHECK(fabsf(m - 2.5f) < 1e-6f, "instnorm mean %g", m);
    CHECK(fabsf(r - 1.0f / sqrtf(1.25f)) < 1e-6f, "instnorm rstd is biased: %g", r);
    CHECK(fabsf(y[0] + 1.5f / sqrtf(1.25f)) < 1e-6f, "instnorm out[0] %g", y[0]);

    img_data d = {.N = 2, .C = 3, .H = 5, .W = 5};
    d.mean = alloc(6);
    d.rstd = alloc(6);
    float *x = alloc(150);
    fill_uniform(x, 150, -2, 2);
    fd_case c = {.name = "instnorm", .forward = in_fwd, .backward = in_bwd, .nvar = 1,
                 .x = {x}, .nx = {150}, .nout = 150, .eps = 1e-2f, .data = &d};
    fd_check(&c, 1e-3);

    /* The fused ReLU: the same output clamped at zero, the same statistics. */
    float *y0 = alloc(150), *y1 = alloc(150), m1[6], r1[6];
    ug_instnorm_forward(K, y0, d.mean, d.rstd, x, 2, 3, 25, 1e-5f, 0, 0);
    ug_instnorm_forward(K, y1, m1, r1, x, 2, 3, 25, 1e-5f, 1, 0);
    int same = memcmp(m1, d.mean, sizeof m1) == 0 && memcmp(r1, d.rstd, sizeof r1) == 0;
    for (int i = 0; i < 150; i++)
        same &= y1[i] == (y0[i] > 0 ? y0[i] : 0);
    CHECK(same, "instnorm with relu differs from relu(instnorm)");
    free(y0);
    free(y1);
    free(x);
    free(d.mean);
    free(d.rstd);
}

/* ---- adaILN / ILN ---- */
static void ln_fwd(fd_case *c, float *out)
{
    img_data *d = D(c);
    ug_linnorm_forward(K, out, d->stats, c->x[0], c->x[1], c->x[2], c->x[3], d->per_sample, d->N,
                       d->C, d->H * d->W, 1e-5f, d->relu, 0);
}
static void ln_bwd(fd_case *c, const float *dout, int acc)
{
    img_data *d = D(c);
    ug_linnorm_backward(K, c->grad[0], c->grad[1], c->grad[2], c->grad[3], dout, c->x[0], d->stats,
                        c->x[1], c->x[2], d->per_sample, d->N, d->C, d->H * d->W, acc);
}

static void test_linnorm(void)
{
    /* Four statistics, then the forward pass's double scratch. */
    CHECK(ug_linnorm_stats_size(2, 3) == 2 * 6 + 2 * 2 + 4 * 6, "linnorm stats size");

    /* Unbiased variances: one sample, two channels of {1,2,3,4} and {5,6,7,8}.
     * Instance: mean 2.5 / 6.5, var 5/3. Layer: mean 4.5, var 42/7 = 6. */
    {
        const float x[8] = {1, 2, 3, 4, 5, 6, 7, 8};
        const float rho[2] = {1, 0}, g[2] = {2, 1}, b[2] = {0.5f, 0};
        float y[8];
        _Alignas(double) float st[14];
        ug_linnorm_forward(K, y, st, x, rho, g, b, 0, 1, 2, 4, 0.0f, 0, 0);
        CHECK(fabsf(st[0] - 2.5f) < 1e-6f && fabsf(st[1] - 6.5f) < 1e-6f, "linnorm in means");
        CHECK(fabsf(st[2] - 1.0f / sqrtf(5.0f / 3)) < 1e-6f, "linnorm in rstd unbiased %g", st[2]);
        CHECK(fabsf(st[4] - 4.5f) < 1e-6f, "linnorm ln mean %g", st[4]);
        CHECK(fabsf(st[5] - 1.0f / sqrtf(6.0f)) < 1e-6f, "linnorm ln rstd unbiased %g", st[5]);
        /* channel 0: pure instance norm, * 2 + 0.5; channel 1: pure layer norm. */
        CHECK(fabsf(y[0] - (float)(-1.5 / sqrt(5.0 / 3) * 2 + 0.5)) < 1e-5f, "linnorm y[0] %g",
              y[0]);
        CHECK(fabsf(y[7] - (float)(3.5 / sqrt(6.0))) < 1e-5f, "linnorm y[7] %g", y[7]);
    }

    for (int per_sample = 0; per_sample <= 1; per_sample++) {
        /* Small planes, so that the unbiased (M - 1) factors differ clearly from M. */
        img_data d = {.N = 2, .C = 3, .H = 3, .W = 3, .per_sample = per_sample};
        const int N = 2, C = 3, HW = 9;
        const size_t ng = per_sample ? (size_t)N * C : (size_t)C;
        d.stats = alloc(ug_linnorm_stats_size(N, C));
        float *x = alloc((size_t)N * C * HW), *rho = alloc(C), *g = alloc(ng), *b = alloc(ng);
        fill_uniform(x, (size_t)N * C * HW, -2, 2);
        /* Channels on different offsets so the layer statistics differ from the instance ones. */
        for (int n = 0; n < N; n++)
            for (int ch = 0; ch < C; ch++)
                for (int i = 0; i < HW; i++)
                    x[((size_t)n * C + ch) * HW + i] += 0.7f * ch - 0.3f * n;
        fill_uniform(rho, C, 0.1f, 0.9f);
        fill_uniform(g, ng, 0.5f, 1.5f);
        fill_uniform(b, ng, -0.5f, 0.5f);
        fd_case c = {.name = per_sample ? "adaILN" : "ILN", .forward = ln_fwd, .backward = ln_bwd,
                     .nvar = 4, .x = {x, rho, g, b}, .nx = {(size_t)N * C * HW, C, ng, ng},
                     .is_param = {0, 1, 1, 1}, .nout = (size_t)N * C * HW, .eps = 1e-2f,
                     .data = &d};
        fd_check(&c, 1e-3);

        /* The fused ReLU: the same output clamped at zero. */
        const size_t nout = (size_t)N * C * HW;
        float *y0 = alloc(nout), *y1 = alloc(nout);
        ln_fwd(&c, y0);
        d.relu = 1;
        ln_fwd(&c, y1);
        d.relu = 0;
        int same = 1, clamped = 0;
        for (size_t i = 0; i < nout; i++) {
            same &= y1[i] == (y0[i] > 0 ? y0[i] : 0);
            clamped += y0[i] < 0;
        }
        CHECK(same && clamped > 0, "%s with relu differs from relu(%s)", c.name, c.name);
        free(y0);
        free(y1);
        free(x);
        free(rho);
        free(g);
        free(b);
        free(d.stats);
    }
}

/* ---- activations (the backward reads the forward output) ---- */
enum { ACT_RELU, ACT_LRELU, ACT_TANH };
typedef struct {
    int kind;
    float *out;
} act_data;

static void act_fwd(fd_case *c, float *out)
{
    act_data *a = c->data;
    if (a->kind == ACT_RELU)
        ug_relu_forward(K, out, c->x[0], c->nout);
    else if (a->kind == ACT_LRELU)
        ug_lrelu_forward(K, out, c->x[0], c->nout, 0.2f);
    else
        ug_tanh_forward(K, out, c->x[0], c->nout);
    memcpy(a->out, out, sizeof(float) * c->nout);
}
static void act_bwd(fd_case *c, const float *dout, int acc)
{
    act_data *a = c->data;
    if (a->kind == ACT_RELU)
        ug_relu_backward(K, c->grad[0], dout, a->out, c->nout, acc);
    else if (a->kind == ACT_LRELU)
        ug_lrelu_backward(K, c->grad[0], dout, a->out, c->nout, 0.2f, acc);
    else
        ug_tanh_backward(K, c->grad[0], dout, a->out, c->nout, acc);
}

static void test_activations(void)
{
    float x[4] = {-2, -0.5f, 0, 3}, y[4];
    ug_relu_forward(K, y, x, 4);
    CHECK(y[0] == 0 && y[1] == 0 && y[2] == 0 && y[3] == 3, "relu values");
    ug_lrelu_forward(K, y, x, 4, 0.2f);
    CHECK(y[0] == -0.4f && y[1] == -0.1f && y[3] == 3, "lrelu values");
    ug_tanh_forward(K, x, x, 4); /* in place */
    CHECK(fabsf(x[3] - tanhf(3)) < 1e-7f && x[2] == 0, "tanh in place");

    const char *names[3] = {"relu", "lrelu", "tanh"};
    for (int k = 0; k < 3; k++) {
        float *in = alloc(60);
        act_data a = {.kind = k, .out = alloc(60)};
        fill_away_from_zero(in, 60);
        fd_case c = {.name = names[k], .forward = act_fwd, .backward = act_bwd, .nvar = 1,
                     .x = {in}, .nx = {60}, .nout = 60, .eps = 1e-2f, .data = &a};
        fd_check(&c, 1e-3);
        free(in);
        free(a.out);
    }
}

/* ---- upsampling ---- */
static void up_fwd(fd_case *c, float *out)
{
    ug_upsample2_forward(K, out, c->x[0], D(c)->N, D(c)->C, D(c)->H, D(c)->W, 0);
}
static void up_bwd(fd_case *c, const float *dout, int acc)
{
    ug_upsample2_backward(K, c->grad[0], dout, D(c)->N, D(c)->C, D(c)->H, D(c)->W, acc);
}

static void test_upsample(void)
{
    const float in[4] = {1, 2, 3, 4};
    const float want[16] = {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4};
    float out[16];
    ug_upsample2_forward(K, out, in, 1, 1, 2, 2, 0);
    CHECK(check_max_abs_diff(out, want, 16) == 0, "upsample 2x2");

    img_data d = {.N = 2, .C = 3, .H = 3, .W = 4};
    float *x = alloc(72);
    fill_uniform(x, 72, -1, 1);
    fd_case c = {.name = "upsample", .forward = up_fwd, .backward = up_bwd, .nvar = 1,
                 .x = {x}, .nx = {72}, .nout = 288, .eps = 1e-2f, .data = &d};
    fd_check(&c, 1e-3);
    free(x);
}

/* ---- pooling ---- */
static void gap_fwd(fd_case *c, float *out)
{
    ug_gap_forward(K, out, c->x[0], D(c)->N, D(c)->C, D(c)->H * D(c)->W);
}
static void gap_bwd(fd_case *c, const float *dout, int acc)
{
    ug_gap_backward(K, c->grad[0], dout, D(c)->N, D(c)->C, D(c)->H * D(c)->W, acc);
}
static void gmp_fwd(fd_case *c, float *out)
{
    ug_gmp_forward(K, out, D(c)->argmax, c->x[0], D(c)->N, D(c)->C, D(c)->H * D(c)->W);
}
static void gmp_bwd(fd_case *c, const float *dout, int acc)
{
    ug_gmp_backward(K, c->grad[0], dout, D(c)->argmax, D(c)->N, D(c)->C, D(c)->H * D(c)->W, acc);
}

static void test_pool(void)
{
    const float x[6] = {1, 5, 5, 2, -1, 0};
    float out[2];
    int32_t am[2];
    ug_gmp_forward(K, out, am, x, 1, 2, 3);
    CHECK(out[0] == 5 && am[0] == 1, "gmp first maximum on ties: %d", am[0]);
    CHECK(out[1] == 2 && am[1] == 0, "gmp second plane");
    ug_gap_forward(K, out, x, 1, 2, 3);
    CHECK(fabsf(out[0] - 11.0f / 3) < 1e-6f && fabsf(out[1] - 1.0f / 3) < 1e-6f, "gap values");

    img_data d = {.N = 2, .C = 3, .H = 5, .W = 5};
    d.argmax = malloc(sizeof(int32_t) * 6);
    float *in = alloc(150);
    /* Distinct values at least 0.1 apart, so the step never changes the argmax. */
    for (int i = 0; i < 150; i++)
        in[i] = 0.1f * (float)i;
    for (int i = 149; i > 0; i--) {
        const int j = (int)ug_rng_below(&rng, (uint32_t)i + 1);
        const float t = in[i];
        in[i] = in[j];
        in[j] = t;
    }
    fd_case c = {.name = "gap", .forward = gap_fwd, .backward = gap_bwd, .nvar = 1, .x = {in},
                 .nx = {150}, .nout = 6, .eps = 1e-2f, .data = &d};
    fd_check(&c, 1e-3);
    c.name = "gmp";
    c.forward = gmp_fwd;
    c.backward = gmp_bwd;
    fd_check(&c, 1e-3);
    free(in);
    free(d.argmax);
}

/* ---- CAM helpers ---- */
static void scale_fwd(fd_case *c, float *out)
{
    ug_scale_channels_forward(K, out, c->x[0], c->x[1], D(c)->N, D(c)->C, D(c)->H * D(c)->W);
}
static void scale_bwd(fd_case *c, const float *dout, int acc)
{
    ug_scale_channels_backward(K, c->grad[0], c->grad[1], dout, c->x[0], c->x[1], D(c)->N, D(c)->C,
                               D(c)->H * D(c)->W, acc);
}
/* concat of three inputs: C, p and 1 channels. */
static void concat_fwd(fd_case *c, float *out)
{
    const int C[3] = {D(c)->C, D(c)->p, 1};
    const float *in[3] = {c->x[0], c->x[1], c->x[2]};
    ug_concat_forward(K, out, in, C, 3, D(c)->N, D(c)->H * D(c)->W);
}
static void concat_bwd(fd_case *c, const float *dout, int acc)
{
    const int C[3] = {D(c)->C, D(c)->p, 1}, accs[3] = {acc, acc, acc};
    ug_concat_backward(K, c->grad, accs, dout, C, 3, D(c)->N, D(c)->H * D(c)->W);
}
static void csum_fwd(fd_case *c, float *out)
{
    ug_channel_sum_forward(K, out, c->x[0], D(c)->N, D(c)->C, D(c)->H * D(c)->W);
}
static void csum_bwd(fd_case *c, const float *dout, int acc)
{
    ug_channel_sum_backward(K, c->grad[0], dout, D(c)->N, D(c)->C, D(c)->H * D(c)->W, acc);
}
static void add_fwd(fd_case *c, float *out)
{
    ug_add_forward(K, out, c->x[0], c->x[1], c->nout);
}
static void add_bwd(fd_case *c, const float *dout, int acc)
{
    ug_add_backward(K, c->grad[0], c->grad[1], dout, c->nout, acc, acc);
}

static void test_cam(void)
{
    const int N = 2, C = 3, HW = 20;
    img_data d = {.N = N, .C = C, .H = 4, .W = 5, .p = 2};
    const size_t n = (size_t)N * C * HW, nb = (size_t)N * 2 * HW;
    float *a = alloc(n), *b = alloc(nb), *w = alloc(C), *out = alloc(n + nb);
    fill_uniform(a, n, -1, 1);
    fill_uniform(b, nb, -1, 1);
    fill_uniform(w, C, -1, 1);

    float *e = alloc((size_t)N * HW), *out3 = alloc(n + nb + (size_t)N * HW);
    fill_uniform(e, (size_t)N * HW, -1, 1);
    const float *ins[3] = {a, b, e};
    ug_concat_forward(K, out3, ins, (const int[]){C, 2, 1}, 3, N, HW);
    CHECK(out3[0] == a[0] && out3[C * HW] == b[0] && out3[(C + 2) * HW] == e[0] &&
              out3[(C + 3) * HW] == a[C * HW] && out3[(2 * C + 5) * HW] == e[HW],
          "concat layout");
    ug_channel_sum_forward(K, out, a, N, C, HW);
    CHECK(fabsf(out[HW + 1] - (a[C * HW + 1] + a[C * HW + HW + 1] + a[C * HW + 2 * HW + 1])) <
              1e-6f,
          "channel sum");
    memcpy(out, a, sizeof(float) * n);
    ug_add_forward(K, out, out, a, n); /* out aliases a's copy */
    CHECK(out[5] == 2 * a[5], "add in place");
    float g[3] = {1, 2, 3}, da[3] = {10, 10, 10};
    ug_add_backward(K, da, g, g, 3, 1, 0); /* db aliases dout */
    CHECK(da[2] == 13 && g[2] == 3, "add backward with db == dout");

    fd_case c = {.name = "scale_channels", .forward = scale_fwd, .backward = scale_bwd,
                 .nvar = 2, .x = {a, w}, .nx = {n, C}, .is_param = {0, 1}, .nout = n,
                 .eps = 1e-2f, .data = &d};
    fd_check(&c, 1e-3);

    fd_case cc = {.name = "concat", .forward = concat_fwd, .backward = concat_bwd, .nvar = 3,
                  .x = {a, b, e}, .nx = {n, nb, (size_t)N * HW}, .nout = n + nb + (size_t)N * HW,
                  .eps = 1e-2f, .data = &d};
    fd_check(&cc, 1e-3);

    fd_case cs = {.name = "channel_sum", .forward = csum_fwd, .backward = csum_bwd, .nvar = 1,
                  .x = {a}, .nx = {n}, .nout = (size_t)N * HW, .eps = 1e-2f, .data = &d};
    fd_check(&cs, 1e-3);

    float *a2 = alloc(n);
    fill_uniform(a2, n, -1, 1);
    fd_case ca = {.name = "add", .forward = add_fwd, .backward = add_bwd, .nvar = 2,
                  .x = {a, a2}, .nx = {n, n}, .nout = n, .eps = 1e-2f, .data = &d};
    fd_check(&ca, 1e-3);
    free(a);
    free(a2);
    free(b);
    free(e);
    free(out3);
    free(w);
    free(out);
}

/* ---- spectral normalisation ---- */

static double sn_work[4096]; /* rows + cols doubles for every test here */
typedef struct {
    int rows, cols;
    float *u, *v;
    float sigma;
} sn_data;

static void sn_fwd(fd_case *c, float *out)
{
    sn_data *s = c->data;
    s->sigma = ug_spectral_norm_forward(K, out, s->u, s->v, c->x[0], s->rows, s->cols, 0, sn_work);
}
static void sn_bwd(fd_case *c, const float *dout, int acc)
{
    sn_data *s = c->data;
    (void)acc; /* dw is a parameter gradient: always accumulated */
    ug_spectral_norm_backward(K, c->grad[0], dout, c->x[0], s->u, s->v, s->sigma, s->rows, s->cols);
}

static void test_spectral(void)
{
    /* W W^T = [[5, 4], [4, 5]] has eigenvalues 9 and 1: sigma_max = 3. */
    const float w[6] = {2, 1, 0, 1, 2, 0};
    float u[2] = {1, 0}, v[3] = {0, 0, 0}, wsn[6];
    float sigma = 0;
    for (int it = 0; it < 50; it++)
        sigma = ug_spectral_norm_forward(K, wsn, u, v, w, 2, 3, 1, sn_work);
    CHECK(fabsf(sigma - 3.0f) < 1e-5f, "spectral sigma %g, want 3", sigma);
    CHECK(fabs(check_norm2(u, 2) - 1) < 1e-6 && fabs(check_norm2(v, 3) - 1) < 1e-6,
          "u, v unit length");
    CHECK(fabsf(wsn[0] - 2.0f / sigma) < 1e-7f, "w_sn = w / sigma");
    /* Without update u and v stay as they are. */
    float u0[2] = {u[0], u[1]};
    const float s2 = ug_spectral_norm_forward(K, wsn, u, v, w, 2, 3, 0, sn_work);
    CHECK(u[0] == u0[0] && u[1] == u0[1] && s2 == sigma, "no update in eval mode");

    /* One iteration from a known u, checked by hand: u = (1, 0):
     * W^T u = (2, 1, 0) -> v = (2, 1, 0)/sqrt5; W v = (5, 4)/sqrt5 -> u = (5, 4)/sqrt41;
     * sigma = u . W v = (25 + 16) / sqrt(5 * 41) = sqrt(41 / 5). */
    u[0] = 1;
    u[1] = 0;
    sigma = ug_spectral_norm_forward(K, wsn, u, v, w, 2, 3, 1, sn_work);
    CHECK(fabsf(sigma - sqrtf(41.0f / 5)) < 1e-6f, "one power iteration sigma %g", sigma);
    CHECK(fabsf(v[0] - 2 / sqrtf(5)) < 1e-6f && fabsf(u[1] - 4 / sqrtf(41)) < 1e-6f,
          "one power iteration u, v");

    /* A zero u normalises to zero, not NaN (eps 1e-12). */
    float uz[2] = {0, 0}, vz[3] = {1, 1, 1};
    ug_spectral_norm_forward(K, NULL, uz, vz, w, 2, 3, 1, sn_work);
    CHECK(vz[0] == 0 && vz[1] == 0 && vz[2] == 0, "normalize of zero is zero");

    /* Gradient through sigma, u and v fixed after a few iterations. */
    const int rows = 4, cols = 6;
    sn_data s = {.rows = rows, .cols = cols, .u = alloc(rows), .v = alloc(cols)};
    float *wr = alloc((size_t)rows * cols), *out = alloc((size_t)rows * cols);
    fill_uniform(wr, (size_t)rows * cols, -1, 1);
    fill_uniform(s.u, rows, -1, 1);
    for (int it = 0; it < 3; it++)
        ug_spectral_norm_forward(K, out, s.u, s.v, wr, rows, cols, 1, sn_work);
    fd_case c = {.name = "spectral", .forward = sn_fwd, .backward = sn_bwd, .nvar = 1,
                 .x = {wr}, .nx = {(size_t)rows * cols}, .is_param = {1},
                 .nout = (size_t)rows * cols, .eps = 1e-3f, .data = &s};
    fd_check(&c, 1e-3);
    free(s.u);
    free(s.v);
    free(wr);
    free(out);

    /* A wide matrix (several column blocks of W^T u, a ragged last one)
     * against the power iteration written out plainly in double. */
    const int R = 9, C = 700;
    float *wb = alloc((size_t)R * C), *ub = alloc(R), *vb = alloc(C);
    double *tv = calloc(C, sizeof *tv), tu[9], ssv = 0, ssu = 0, sig = 0;
    fill_uniform(wb, (size_t)R * C, -1, 1);
    fill_uniform(ub, R, -1, 1);
    for (int c2 = 0; c2 < C; c2++) {
        for (int r = 0; r < R; r++)
            tv[c2] += (double)wb[(size_t)r * C + c2] * ub[r];
        ssv += tv[c2] * tv[c2];
    }
    for (int r = 0; r < R; r++) {
        tu[r] = 0;
        for (int c2 = 0; c2 < C; c2++)
            tu[r] += (double)wb[(size_t)r * C + c2] * (float)(tv[c2] / sqrt(ssv));
        ssu += tu[r] * tu[r];
    }
    for (int r = 0; r < R; r++)
        sig += (double)(float)(tu[r] / sqrt(ssu)) * tu[r];
    const float sb = ug_spectral_norm_forward(K, NULL, ub, vb, wb, R, C, 1, sn_work);
    double dv = 0;
    for (int c2 = 0; c2 < C; c2++)
        dv = fmax(dv, fabs(vb[c2] - tv[c2] / sqrt(ssv)));
    CHECK(dv < 1e-7 && fabs(sb - sig) < 1e-5 * fabs(sig), "wide spectral norm: v off by %g, "
          "sigma %g vs %g", dv, sb, sig);
    free(wb);
    free(ub);
    free(vb);
    free(tv);
}

/* ---- losses ---- */
enum { LOSS_MSE, LOSS_L1, LOSS_BCE, LOSS_BCE_PROB };
typedef struct {
    int kind;
    float target, scale;
    const float *y;
} loss_data;

static void loss_fwd(fd_case *c, float *out)
{
    loss_data *l = c->data;
    const size_t n = c->nx[0];
    float v;
    if (l->kind == LOSS_MSE)
        v = ug_mse_const_forward(K, c->x[0], n, l->target);
    else if (l->kind == LOSS_L1)
        v = ug_l1_forward(K, c->x[0], l->y, n);
    else if (l->kind == LOSS_BCE)
        v = ug_bce_logits_const_forward(K, c->x[0], n, l->target);
    else
        v = ug_bce_prob_const_forward(K, c->x[0], n, l->target);
    out[0] = v * l->scale;
}
static void loss_bwd(fd_case *c, const float *dout, int acc)
{
    loss_data *l = c->data;
    const size_t n = c->nx[0];
    const float sc = l->scale * dout[0];
    if (l->kind == LOSS_MSE)
        ug_mse_const_backward(K, c->grad[0], c->x[0], n, l->target, sc, acc);
    else if (l->kind == LOSS_L1)
        ug_l1_backward(K, c->grad[0], c->x[0], l->y, n, sc, acc);
    else if (l->kind == LOSS_BCE)
        ug_bce_logits_const_backward(K, c->grad[0], c->x[0], n, l->target, sc, acc);
    else
        ug_bce_prob_const_backward(K, c->grad[0], c->x[0], n, l->target, sc, acc);
}

static void test_losses(void)
{
    const float x[4] = {0, 1, 2, -1}, y[4] = {1, 1, 0, 1};
    CHECK(fabsf(ug_mse_const_forward(K, x, 4, 1) - (1 + 0 + 1 + 4) / 4.0f) < 1e-7f, "mse value");
    CHECK(fabsf(ug_l1_forward(K, x, y, 4) - (1 + 0 + 2 + 2) / 4.0f) < 1e-7f, "l1 value");
    float dx[4];
    ug_l1_backward(K, dx, x, y, 4, 1, 0);
    CHECK(dx[0] == -0.25f && dx[1] == 0 && dx[2] == 0.25f, "l1 gradient, sign(0) = 0");
    /* BCE of logit 0 is log 2 for any target; of a large logit against 1 is ~0,
     * and stays finite for huge logits. */
    const float z[1] = {0}, big[2] = {100, -100};
    CHECK(fabsf(ug_bce_logits_const_forward(K, z, 1, 0.3f) - logf(2)) < 1e-7f, "bce at 0");
    CHECK(fabsf(ug_bce_logits_const_forward(K, big, 2, 1) - 50.0f) < 1e-4f, "bce stable at +-100");
    ug_bce_logits_const_backward(K, dx, big, 2, 1, 1, 0);
    CHECK(fabsf(dx[0]) < 1e-7f && fabsf(dx[1] + 0.5f) < 1e-7f, "bce gradient saturates");

    /* BCE of sigmoid probabilities: the logits' BCE where the sigmoid is not
     * saturated; where it is (p == 1 in float), each log clamped at -100 and
     * a zero gradient, as torch's binary_cross_entropy. */
    const float mid[3] = {0.7f, -1.3f, 2.0f};
    CHECK(fabsf(ug_bce_prob_const_forward(K, mid, 3, 0.5f) -
                ug_bce_logits_const_forward(K, mid, 3, 0.5f)) < 1e-6f, "bce of probabilities");
    const float sat[1] = {40};
    CHECK(fabsf(ug_bce_prob_const_forward(K, sat, 1, 0) - 100.0f) < 1e-4f,
          "bce of a saturated probability: log clamped at -100");
    ug_bce_prob_const_backward(K, dx, sat, 1, 0, 1, 0);
    CHECK(dx[0] == 0, "bce of a saturated probability: gradient 0 (got %g)", dx[0]);

    const char *names[4] = {"mse", "l1", "bce", "bce_prob"};
    const float targets[4] = {1, 0, 1, 0.5f};
    for (int k = 0; k < 4; k++) {
        float *in = alloc(30), *yy = alloc(30);
        fill_uniform(in, 30, -2, 2);
        for (int i = 0; i < 30; i++) /* keep |x - y| away from the kink at 0 */
            yy[i] = in[i] + (i % 2 ? 0.3f : -0.3f);
        loss_data l = {.kind = k, .target = targets[k], .scale = 3.0f, .y = yy};
        fd_case c = {.name = names[k], .forward = loss_fwd, .backward = loss_bwd, .nvar = 1,
                     .x = {in}, .nx = {30}, .nout = 1, .eps = 1e-2f, .data = &l};
        fd_check(&c, 1e-3);
        free(in);
        free(yy);
    }
}

/* ---- Gaussian latent codes and the tiled concatenation (DRIT) ---- */
static void reparam_fwd(fd_case *c, float *out)
{
    ug_reparam_forward(K, out, c->x[0], c->x[1], c->data, c->nout);
}
static void reparam_bwd(fd_case *c, const float *dout, int acc)
{
    ug_reparam_backward(K, c->grad[0], c->grad[1], dout, c->x[1], c->data, c->nout, acc);
}
static void kl_fwd(fd_case *c, float *out)
{
    out[0] = 0.01f * ug_kl_gauss_sum_forward(K, c->x[0], c->x[1], c->nx[0]);
}
static void kl_bwd(fd_case *c, const float *dout, int acc)
{
    ug_kl_gauss_sum_backward(K, c->grad[0], c->grad[1], c->x[0], c->x[1], c->nx[0],
                             0.01f * dout[0], acc);
}
/* x: N x 3 x HW, z: N x 2 */
static void tiled_fwd(fd_case *c, float *out)
{
    ug_concat_tiled_forward(K, out, c->x[0], c->x[1], 2, 3, 2, 6);
}
static void tiled_bwd(fd_case *c, const float *dout, int acc)
{
    ug_concat_tiled_backward(K, c->grad[0], acc, c->grad[1], acc, dout, 2, 3, 2, 6);
}

static void test_latent(void)
{
    const float mu[2] = {0.5f, -1}, lv[2] = {0, 2 * logf(2)}, e[2] = {1, -2};
    float z[2];
    ug_reparam_forward(K, z, mu, lv, e, 2);
    CHECK(fabsf(z[0] - 1.5f) < 1e-6f && fabsf(z[1] + 5) < 1e-6f, "reparameterisation values");
    /* -1/2 sum(1 + lv - mu^2 - e^lv): (0.25) / 2 + (-(1 + 2 ln 2 - 1 - 4)) / 2 */
    const double kl = 0.125 + 0.5 * (4 - 2 * log(2.0));
    CHECK(fabs(ug_kl_gauss_sum_forward(K, mu, lv, 2) - kl) < 1e-6, "KL is a sum");

    float m8[8], l8[8], e8[8], x[36], zz[4];
    fill_uniform(m8, 8, -1, 1);
    fill_uniform(l8, 8, -1, 1);
    fill_uniform(e8, 8, -2, 2);
    fd_case cr = {.name = "reparam", .forward = reparam_fwd, .backward = reparam_bwd, .nvar = 2,
                  .x = {m8, l8}, .nx = {8, 8}, .nout = 8, .eps = 1e-2f, .data = e8};
    fd_check(&cr, 1e-3);
    fd_case ck = {.name = "kl_gauss_sum", .forward = kl_fwd, .backward = kl_bwd, .nvar = 2,
                  .x = {m8, l8}, .nx = {8, 8}, .nout = 1, .eps = 1e-2f};
    fd_check(&ck, 1e-3);
    fill_uniform(x, 36, -1, 1);
    fill_uniform(zz, 4, -1, 1);
    float out[60];
    ug_concat_tiled_forward(K, out, x, zz, 2, 3, 2, 6);
    CHECK(out[0] == x[0] && out[17] == x[17] && out[18] == zz[0] && out[29] == zz[1] &&
              out[30] == x[18] && out[48] == zz[2] && out[59] == zz[3],
          "tiled concatenation layout");
    fd_case ct = {.name = "concat_tiled", .forward = tiled_fwd, .backward = tiled_bwd, .nvar = 2,
                  .x = {x, zz}, .nx = {36, 4}, .nout = 60, .eps = 1e-2f};
    fd_check(&ct, 1e-3);
}

/* ---- Adam ---- */
static void test_adam(void)
{
    const double lr = 1e-2, b1 = 0.5, b2 = 0.999, eps = 1e-8, wd = 1e-2;
    float p[3] = {1, -2, 0.5f}, m[3] = {0}, v[3] = {0};
    double pd[3] = {1, -2, 0.5}, md[3] = {0}, vd[3] = {0};
    const float g1[3] = {0.1f, -0.3f, 0}, g2[3] = {-0.2f, 0.05f, 1};
    for (long step = 1; step <= 2; step++) {
        const float *g = step == 1 ? g1 : g2;
        ug_adam_update(K, p, g, m, v, 3, (float)lr, (float)b1, (float)b2, (float)eps, (float)wd,
                       step);
        for (int i = 0; i < 3; i++) {
            const double gg = g[i] + wd * pd[i];
            md[i] = b1 * md[i] + (1 - b1) * gg;
            vd[i] = b2 * vd[i] + (1 - b2) * gg * gg;
            pd[i] -= lr / (1 - pow(b1, step)) * md[i] /
                     (sqrt(vd[i]) / sqrt(1 - pow(b2, step)) + eps);
        }
    }
    for (int i = 0; i < 3; i++) {
        CHECK(fabs(p[i] - pd[i]) < 1e-6 * (1 + fabs(pd[i])), "adam p[%d] %g vs %g", i, p[i], pd[i]);
        CHECK(fabs(m[i] - md[i]) < 1e-6, "adam m[%d]", i);
        CHECK(fabs(v[i] - vd[i]) < 1e-6, "adam v[%d]", i);
    }
    /* First step moves each parameter by about lr against the gradient's sign. */
    float q[1] = {0}, mq[1] = {0}, vq[1] = {0};
    const float gq[1] = {5};
    ug_adam_update(K, q, gq, mq, vq, 1, 1e-3f, 0.9f, 0.999f, 1e-8f, 0, 1);
    CHECK(fabsf(q[0] + 1e-3f) < 1e-8f, "adam first step is -lr * sign(g): %g", q[0]);
}

/* ---- clamp (AdaLIN's rho after each update) ---- */
static void test_clamp(void)
{
    float x[6] = {-0.5f, 0, 0.25f, 1, 1.5f, NAN};
    ug_clamp(K, x, 5, 0, 1);
    CHECK(x[0] == 0 && x[1] == 0 && x[2] == 0.25f && x[3] == 1 && x[4] == 1 && isnan(x[5]),
          "clamp into [0, 1] (n respected): %g %g %g %g %g", x[0], x[1], x[2], x[3], x[4]);
}

int main(void)
{
    for (int reference = 1; reference >= 0; reference--) {
        ug_error err = {{0}};
        K = ug_kctx_new(reference, &err);
        CHECK(K != NULL, "ug_kctx_new(%d): %s", reference, err.msg);
        if (!K)
            break;
        ug_rng_seed(&rng, 1234, 1);
        test_pad();
        test_instnorm();
        test_linnorm();
        test_activations();
        test_upsample();
        test_pool();
        test_cam();
        test_spectral();
        test_losses();
        test_latent();
        test_adam();
        test_clamp();
        ug_kctx_free(K);
    }
    return check_summary();
}
