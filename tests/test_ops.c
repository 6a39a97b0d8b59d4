/* Kernels of the ops the coming networks need: BatchNorm, GroupNorm,
 * windowed max and average pooling, sigmoid, and broadcasting add and
 * multiply. Forward values worked out by hand (PyTorch's semantics), and
 * every backward pass against central finite differences (fd.h), on the
 * reference backend, then on the CPU backend. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fd.h"
#include "backend/backend.h"

/* The context every kernel here runs on: each test runs on both backends. */
static ug_kctx *K;

typedef struct {
    int N, C, HW, G, train, count_pad;
    float *mean, *rstd, *rm, *rv;
    int32_t *argmax;
    ug_pool_shape ps;
} op_data;

#define OD(c) ((op_data *)(c)->data)

/* ---- BatchNorm ---- */

static void bn_fwd(fd_case *c, float *out)
{
    op_data *d = OD(c);
    ug_batchnorm_forward(K, out, d->mean, d->rstd, c->x[0], c->x[1], c->x[2], d->rm, d->rv,
                         d->train, d->N, d->C, d->HW, 1e-5f, 0.1f);
}

static void bn_bwd(fd_case *c, const float *dout, int acc)
{
    op_data *d = OD(c);
    ug_batchnorm_backward(K, c->grad[0], c->grad[1], c->grad[2], dout, c->x[0], d->mean, d->rstd,
                          c->x[1], d->train, d->N, d->C, d->HW, acc);
}

static void test_batchnorm(void)
{
    /* One channel over a batch of 2 maps of 2: {1, 2, 3, 4} has mean 2.5,
     * biased variance 1.25 (normalisation) and unbiased 5/3 (running). */
    const float x4[4] = {1, 2, 3, 4}, w1 = 2, b1 = 0.5f;
    float y[4], m, r, rm = 0, rv = 1;
    ug_batchnorm_forward(K, y, &m, &r, x4, &w1, &b1, &rm, &rv, 1, 2, 1, 2, 0, 0.1f);
    CHECK(fabsf(y[0] - (2 * -1.5f / sqrtf(1.25f) + 0.5f)) < 1e-6f, "batchnorm train out[0] %g",
          y[0]);
    CHECK(fabsf(rm - 0.25f) < 1e-7f && fabsf(rv - (0.9f + 0.1f * 5 / 3)) < 1e-6f,
          "running statistics use the unbiased variance: %g %g", rm, rv);
    /* Evaluation: the running statistics, left as they are. */
    rm = 1, rv = 3;
    ug_batchnorm_forward(K, y, &m, &r, x4, &w1, &b1, &rm, &rv, 0, 2, 1, 2, 1, 0.1f);
    CHECK(fabsf(y[3] - (2 * 3 / 2.0f + 0.5f)) < 1e-6f && rm == 1 && rv == 3,
          "batchnorm eval out[3] %g", y[3]);

    const int N = 3, C = 2, HW = 6;
    const size_t n = (size_t)N * C * HW;
    float *x = alloc(n), *w = alloc(C), *b = alloc(C), mean[2], rstd[2], rms[2] = {0.3f, -0.2f},
          rvs[2] = {0.5f, 2};
    fill_uniform(x, n, -2, 2);
    fill_uniform(w, C, 0.5f, 1.5f);
    fill_uniform(b, C, -1, 1);
    for (int train = 0; train < 2; train++) {
        op_data d = {.N = N, .C = C, .HW = HW, .train = train, .mean = mean, .rstd = rstd,
                     .rm = rms, .rv = rvs};
        fd_case c = {.name = train ? "batchnorm train" : "batchnorm eval", .forward = bn_fwd,
                     .backward = bn_bwd, .nvar = 3, .x = {x, w, b}, .nx = {n, C, C},
                     .is_param = {0, 1, 1}, .nout = n, .eps = 1e-2f, .data = &d};
        fd_check(&c, 1e-3);
    }
    free(x), free(w), free(b);
}

/* ---- GroupNorm ---- */

static void gn_fwd(fd_case *c, float *out)
{
    op_data *d = OD(c);
    ug_groupnorm_forward(K, out, d->mean, d->rstd, c->x[0], c->x[1], c->x[2], d->N, d->C, d->HW,
                         d->G, 1e-5f);
}

static void gn_bwd(fd_case *c, const float *dout, int acc)
{
    op_data *d = OD(c);
    ug_groupnorm_backward(K, c->grad[0], c->grad[1], c->grad[2], dout, c->x[0], d->mean, d->rstd,
                          c->x[1], d->N, d->C, d->HW, d->G, acc);
}

static void test_groupnorm(void)
{
    /* 4 channels of one pixel in 2 groups: {1, 2} and {3, 5} normalise to
     * {-1, 1} each, then weight {1, 2, 3, 4} and bias {0, 0, 0, 1}. */
    const float x4[4] = {1, 2, 3, 5}, w4[4] = {1, 2, 3, 4}, b4[4] = {0, 0, 0, 1};
    const float want[4] = {-1, 2, -3, 5};
    float y[4], m[2], r[2];
    ug_groupnorm_forward(K, y, m, r, x4, w4, b4, 1, 4, 1, 2, 0);
    CHECK(memcmp(y, want, sizeof want) == 0 && m[1] == 4 && r[0] == 2,
          "groupnorm by hand: %g %g %g %g", y[0], y[1], y[2], y[3]);

    /* One group per channel is InstanceNorm (weight 1, bias 0). */
    const int N = 2, C = 6, HW = 5;
    const size_t n = (size_t)N * C * HW;
    float *x = alloc(n), *y1 = alloc(n), *y2 = alloc(n), ones[6], zeros[6] = {0};
    float mean[12], rstd[12], im[12], ir[12];
    for (int i = 0; i < C; i++)
        ones[i] = 1;
    fill_uniform(x, n, -2, 2);
    ug_groupnorm_forward(K, y1, mean, rstd, x, ones, zeros, N, C, HW, C, 1e-5f);
    ug_instnorm_forward(K, y2, im, ir, x, N, C, HW, 1e-5f, 0, 0);
    double d0 = check_max_abs_diff(y1, y2, n);
    CHECK(d0 < 1e-5, "groupnorm with C groups vs instnorm: %g", d0);

    float *w = alloc(C), *b = alloc(C);
    fill_uniform(w, C, 0.5f, 1.5f);
    fill_uniform(b, C, -1, 1);
    const int groups[3] = {1, 2, 6};
    for (int g = 0; g < 3; g++) {
        op_data d = {.N = N, .C = C, .HW = HW, .G = groups[g], .mean = mean, .rstd = rstd};
        fd_case c = {.name = "groupnorm", .forward = gn_fwd, .backward = gn_bwd, .nvar = 3,
                     .x = {x, w, b}, .nx = {n, C, C}, .is_param = {0, 1, 1}, .nout = n,
                     .eps = 1e-2f, .data = &d};
        fd_check(&c, 1e-3);
    }
    free(x), free(y1), free(y2), free(w), free(b);
}

/* ---- NVIDIA's LayerNorm ---- */

static void nvln_fwd(fd_case *c, float *out)
{
    op_data *d = OD(c);
    ug_nvlayernorm_forward(K, out, d->mean, d->rstd, c->x[0], c->x[1], c->x[2], d->N, d->C,
                           d->HW, 1e-5f);
}

static void nvln_bwd(fd_case *c, const float *dout, int acc)
{
    op_data *d = OD(c);
    ug_nvlayernorm_backward(K, c->grad[0], c->grad[1], c->grad[2], dout, c->x[0], d->mean,
                            d->rstd, c->x[1], d->N, d->C, d->HW, 1e-5f, acc);
}

static void test_nvlayernorm(void)
{
    /* {1, 2, 3, 5}: mean 2.75, unbiased std sqrt(8.75 / 3), eps added to the std. */
    const float x4[4] = {1, 2, 3, 5}, w4[4] = {1, 2, 3, 4}, b4[4] = {0, 0, 0, 1};
    float y[4], m[1], r[1];
    ug_nvlayernorm_forward(K, y, m, r, x4, w4, b4, 1, 4, 1, 0.5f);
    double worst = 0;
    for (int i = 0; i < 4; i++) {
        double want = (x4[i] - 2.75) / (sqrt(8.75 / 3) + 0.5) * w4[i] + b4[i];
        worst = fmax(worst, fabs(y[i] - want));
    }
    CHECK(worst < 1e-6 && m[0] == 2.75f, "nvlayernorm by hand: off by %g", worst);

    const int N = 2, C = 3, HW = 5;
    const size_t n = (size_t)N * C * HW;
    float *x = alloc(n), *w = alloc(C), *b = alloc(C), mean[2], rden[2];
    fill_uniform(x, n, -2, 2);
    fill_uniform(w, C, 0.5f, 1.5f);
    fill_uniform(b, C, -1, 1);
    op_data d = {.N = N, .C = C, .HW = HW, .mean = mean, .rstd = rden};
    fd_case c = {.name = "nvlayernorm", .forward = nvln_fwd, .backward = nvln_bwd, .nvar = 3,
                 .x = {x, w, b}, .nx = {n, C, C}, .is_param = {0, 1, 1}, .nout = n,
                 .eps = 1e-2f, .data = &d};
    fd_check(&c, 1e-3);
    free(x), free(w), free(b);
}

/* ---- MUNIT's AdaIN ---- */

static void adain_fwd(fd_case *c, float *out)
{
    op_data *d = OD(c);
    ug_adain_forward(K, out, d->mean, d->rstd, c->x[0], c->x[1] + 1, 2 * d->C + 3, d->N, d->C,
                     d->HW, 1e-5f, 0);
}

static void adain_bwd(fd_case *c, const float *dout, int acc)
{
    op_data *d = OD(c);
    ug_adain_backward(K, c->grad[0], c->grad[1] ? c->grad[1] + 1 : NULL, dout, c->x[0], d->mean,
                      d->rstd, c->x[1] + 1, 2 * d->C + 3, d->N, d->C, d->HW, acc);
}

static void test_adain(void)
{
    /* {1, 2, 3, 5}: mean 2.75, biased variance 2.1875; beta 0.5 first, gamma -2 second. */
    const float x4[4] = {1, 2, 3, 5}, p2[2] = {0.5f, -2};
    float y[4], m[1], r[1];
    ug_adain_forward(K, y, m, r, x4, p2, 2, 1, 1, 4, 0.25f, 0);
    double worst = 0;
    for (int i = 0; i < 4; i++)
        worst = fmax(worst, fabs(y[i] - ((x4[i] - 2.75) / sqrt(2.1875 + 0.25) * -2 + 0.5)));
    CHECK(worst < 1e-6 && m[0] == 2.75f, "adain by hand: off by %g", worst);

    /* The affine at offset 1 of a vector of 2C + 3 per sample: the values
     * outside it get no gradient. */
    const int N = 2, C = 3, HW = 5, P = 2 * C + 3;
    const size_t n = (size_t)N * C * HW;
    float *x = alloc(n), *p = alloc((size_t)N * P), mean[6], rstd[6];
    fill_uniform(x, n, -2, 2);
    fill_uniform(p, (size_t)N * P, -1.5f, 1.5f);
    op_data d = {.N = N, .C = C, .HW = HW, .mean = mean, .rstd = rstd};
    fd_case c = {.name = "adain", .forward = adain_fwd, .backward = adain_bwd, .nvar = 2,
                 .x = {x, p}, .nx = {n, (size_t)N * P}, .is_param = {0, 1}, .nout = n,
                 .eps = 1e-2f, .data = &d};
    fd_check(&c, 1e-3);
    free(x), free(p);
}

/* ---- windowed pooling ---- */

static void maxpool_fwd(fd_case *c, float *out)
{
    ug_maxpool_forward(K, out, OD(c)->argmax, c->x[0], &OD(c)->ps);
}

static void maxpool_bwd(fd_case *c, const float *dout, int acc)
{
    ug_maxpool_backward(K, c->grad[0], dout, OD(c)->argmax, &OD(c)->ps, acc);
}

static void avgpool_fwd(fd_case *c, float *out)
{
    ug_avgpool_forward(K, out, c->x[0], &OD(c)->ps, OD(c)->count_pad);
}

static void avgpool_bwd(fd_case *c, const float *dout, int acc)
{
    ug_avgpool_backward(K, c->grad[0], dout, &OD(c)->ps, OD(c)->count_pad, acc);
}

static void test_pool_by_hand(void)
{
    /* 3x3 windows, stride 2, padding 1 over 0..15 in a 4x4 map: 2x2 outputs. */
    float x[16], out[4];
    int32_t am[4];
    for (int i = 0; i < 16; i++)
        x[i] = (float)i;
    const ug_pool_shape s = {1, 1, 4, 4, 3, 3, 2, 1};
    CHECK(ug_pool_out_h(&s) == 2 && ug_pool_out_w(&s) == 2, "pool output size");
    ug_maxpool_forward(K, out, am, x, &s);
    CHECK(out[0] == 5 && out[1] == 7 && out[2] == 13 && out[3] == 15 && am[0] == 5 &&
              am[3] == 15,
          "max pool values");
    /* count_include_pad: the top-left window {0, 1, 4, 5} over 9 or over 4;
     * the top-right one {1, 2, 3, 5, 6, 7} over 9 or 6; the last one is whole. */
    ug_avgpool_forward(K, out, x, &s, 1);
    CHECK(fabsf(out[0] - 10.0f / 9) < 1e-6f && fabsf(out[1] - 24.0f / 9) < 1e-6f &&
              out[3] == 10,
          "avg pool counting the padding: %g %g %g", out[0], out[1], out[3]);
    ug_avgpool_forward(K, out, x, &s, 0);
    CHECK(out[0] == 2.5f && out[1] == 4 && out[3] == 10, "avg pool without the padding: %g %g",
          out[0], out[1]);

    /* Ties: the first maximum of the window in row-major order. */
    for (int i = 0; i < 16; i++)
        x[i] = 1;
    ug_maxpool_forward(K, out, am, x, &s);
    CHECK(am[0] == 0 && am[1] == 1 && am[2] == 4 && am[3] == 5, "max pool ties: %d %d %d %d",
          am[0], am[1], am[2], am[3]);
    /* -inf padding: a window of negative values is not lifted to 0. */
    for (int i = 0; i < 16; i++)
        x[i] = -1 - (float)i;
    ug_maxpool_forward(K, out, am, x, &s);
    CHECK(out[0] == -1 && out[3] == -6, "max pool pads with -inf: %g %g", out[0], out[3]);
    /* A NaN in a window is its maximum, as in PyTorch. */
    x[0] = NAN;
    ug_maxpool_forward(K, out, am, x, &s);
    CHECK(isnan(out[0]) && am[0] == 0 && out[1] == -2 && out[3] == -6, "max pool NaN");
}

static void test_pool2d(void)
{
    test_pool_by_hand();
    const ug_pool_shape shapes[] = {
        {2, 3, 7, 6, 3, 3, 2, 1}, /* Inception's 3x3 stride 2 (with padding) */
        {2, 3, 7, 6, 3, 3, 1, 1}, /* 3x3 stride 1 padding 1 (Inception's branch pool) */
        {1, 2, 6, 5, 2, 2, 2, 0},
        {1, 2, 5, 7, 2, 4, 3, 1},
    };
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        const ug_pool_shape *s = &shapes[k];
        const size_t n = (size_t)s->N * s->C * s->H * s->W;
        const size_t nout = (size_t)s->N * s->C * ug_pool_out_h(s) * ug_pool_out_w(s);
        float *x = alloc(n);
        /* Distinct values 0.1 apart, so the step never changes a maximum. */
        for (size_t i = 0; i < n; i++)
            x[i] = 0.1f * (float)i - 3;
        for (size_t i = n - 1; i > 0; i--) {
            const size_t j = ug_rng_below(&rng, (uint32_t)i + 1);
            const float t = x[i];
            x[i] = x[j], x[j] = t;
        }
        op_data d = {.ps = *s, .argmax = malloc(nout * sizeof(int32_t))};
        fd_case c = {.name = "maxpool", .forward = maxpool_fwd, .backward = maxpool_bwd,
                     .nvar = 1, .x = {x}, .nx = {n}, .nout = nout, .eps = 1e-2f, .data = &d};
        fd_check(&c, 1e-3);
        for (d.count_pad = 0; d.count_pad < 2; d.count_pad++) {
            fd_case a = {.name = "avgpool", .forward = avgpool_fwd, .backward = avgpool_bwd,
                         .nvar = 1, .x = {x}, .nx = {n}, .nout = nout, .eps = 1e-2f, .data = &d};
            fd_check(&a, 1e-3);
        }
        free(d.argmax);
        free(x);
    }
}

/* ---- sigmoid ---- */

static void sigmoid_fwd(fd_case *c, float *out) { ug_sigmoid_forward(K, out, c->x[0], c->nout); }

static void sigmoid_bwd(fd_case *c, const float *dout, int acc)
{
    float *y = alloc(c->nout);
    ug_sigmoid_forward(K, y, c->x[0], c->nout);
    ug_sigmoid_backward(K, c->grad[0], dout, y, c->nout, acc);
    free(y);
}

static void test_sigmoid(void)
{
    float x[5] = {0, 2, -2, -100, 100}, y[5];
    ug_sigmoid_forward(K, y, x, 5);
    CHECK(y[0] == 0.5f && fabsf(y[1] - 1 / (1 + expf(-2))) < 1e-7f &&
              fabsf(y[1] + y[2] - 1) < 1e-7f && y[3] >= 0 && y[3] < 1e-40f && y[4] == 1,
          "sigmoid values %g %g %g %g", y[1], y[2], y[3], y[4]);
    ug_sigmoid_forward(K, x, x, 5); /* in place */
    CHECK(memcmp(x, y, sizeof y) == 0, "sigmoid in place");
    float *in = alloc(60);
    fill_uniform(in, 60, -4, 4);
    fd_case c = {.name = "sigmoid", .forward = sigmoid_fwd, .backward = sigmoid_bwd, .nvar = 1,
                 .x = {in}, .nx = {60}, .nout = 60, .eps = 1e-2f};
    fd_check(&c, 1e-3);
    free(in);
}

/* ---- broadcasting add and multiply: planes of HW, b one per plane or full ---- */

typedef struct {
    size_t planes, HW;
    int b_planes, mul;
} elt_data;

static void elt_fwd(fd_case *c, float *out)
{
    const elt_data *e = c->data;
    if (e->mul)
        ug_mul_forward(K, out, c->x[0], c->x[1], e->planes, e->HW, e->b_planes);
    else
        ug_add_planes_forward(K, out, c->x[0], c->x[1], e->planes, e->HW);
}

static void elt_bwd(fd_case *c, const float *dout, int acc)
{
    const elt_data *e = c->data;
    if (e->mul)
        ug_mul_backward(K, c->grad[0], c->grad[1], dout, c->x[0], c->x[1], e->planes, e->HW,
                        e->b_planes, acc, acc);
    else
        ug_add_planes_backward(K, c->grad[0], c->grad[1], dout, e->planes, e->HW, acc, acc);
}

static void test_eltwise(void)
{
    const float a[6] = {1, 2, 3, 4, 5, 6}, b[2] = {10, -1}, full[6] = {2, 2, 2, 0, 1, -1};
    float out[6];
    ug_add_planes_forward(K, out, a, b, 2, 3);
    CHECK(out[0] == 11 && out[2] == 13 && out[3] == 3 && out[5] == 5, "add per plane");
    ug_mul_forward(K, out, a, b, 2, 3, 1);
    CHECK(out[1] == 20 && out[4] == -5, "mul per plane");
    ug_mul_forward(K, out, a, full, 2, 3, 0);
    CHECK(out[1] == 4 && out[3] == 0 && out[5] == -6, "mul element-wise");
    /* x * x: both gradients into one buffer, 2 x dout x. */
    float g[6] = {1, 1, 1, 1, 1, 1}, dx[6];
    ug_mul_backward(K, dx, dx, g, a, a, 2, 3, 0, 0, 1);
    CHECK(dx[0] == 2 && dx[5] == 12, "mul of a node by itself");

    const size_t planes = 6, HW = 7, n = planes * HW;
    float *x = alloc(n), *y = alloc(n);
    fill_uniform(x, n, -1, 1);
    fill_uniform(y, n, -1, 1);
    const elt_data cases[3] = {{planes, HW, 1, 0}, {planes, HW, 1, 1}, {planes, HW, 0, 1}};
    const char *names[3] = {"add per plane", "mul per plane", "mul element-wise"};
    for (int k = 0; k < 3; k++) {
        fd_case c = {.name = names[k], .forward = elt_fwd, .backward = elt_bwd, .nvar = 2,
                     .x = {x, y}, .nx = {n, cases[k].b_planes ? planes : n}, .nout = n,
                     .eps = 1e-2f, .data = (void *)&cases[k]};
        fd_check(&c, 1e-3);
    }
    free(x), free(y);
}

int main(void)
{
    for (int reference = 1; reference >= 0; reference--) {
        ug_error err = {{0}};
        K = ug_kctx_new(reference, &err);
        CHECK(K != NULL, "ug_kctx_new(%d): %s", reference, err.msg);
        if (!K)
            break;
        ug_rng_seed(&rng, 4321, 1);
        test_batchnorm();
        test_groupnorm();
        test_nvlayernorm();
        test_adain();
        test_pool2d();
        test_sigmoid();
        test_eltwise();
        ug_kctx_free(K);
    }
    return check_summary();
}
