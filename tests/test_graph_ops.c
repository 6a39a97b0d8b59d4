/* The new ops as graph nodes: their shape rules refuse what does not fit
 * with a message, a small network using all of them runs through the tape
 * (the no-grad pass bitwise equal to the recording one, every input and
 * parameter gradient against finite differences of the network's loss), max
 * pooling's node against its kernel, BatchNorm's node in both modes, and a
 * weight gradient kept as terms. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fd.h"
#include "nn/build.h"
#include "nn/op.h"
#include "nn/tape.h"

static void reset(ug_builder *b, ug_error *err)
{
    b->failed = 0;
    err->msg[0] = 0;
}

static void test_shape_rules(void)
{
    ug_error err = {{0}};
    ug_net net;
    ug_net_init(&net);
    ug_builder b = {&net, &err, 0};
    int cw = ug_b_weight(&b, "conv.weight", 4, (int64_t[]){8, 4, 1, 7});
    int dw = ug_b_weight(&b, "up.weight", 4, (int64_t[]){4, 8, 3, 3});
    int bn = ug_b_bnorm_params(&b, "bn", 4);
    int bn_bad = ug_b_bnorm_params(&b, "bn_bad", 5);
    int trained = ug_b_const(&b, "trained", 1, (int64_t[]){4}, 0);
    int buf = ug_b_buffer(&b, "var", 1, (int64_t[]){4}, 1);
    int nbt = ug_b_buffer(&b, "nbt", 0, NULL, 0);
    int gw = ug_b_const(&b, "gn.weight", 1, (int64_t[]){4}, 1);
    CHECK(ug_net_alloc(&net, &err) == 0, "alloc: %s", err.msg);
    CHECK(bn >= 0 && net.params[bn + 2].kind == UG_BUFFER && net.params[bn + 4].ndim == 0 &&
              net.params[bn + 3].init == UG_INIT_CONST && net.params[bn + 3].init_value == 1 &&
              net.params[bn].init == UG_INIT_CONST && net.params[bn + 2].init == UG_INIT_NONE &&
              strcmp(net.params[bn + 4].name, "bn.num_batches_tracked") == 0,
          "BatchNorm's parameters and buffers");

    int x = ug_b_input(&b, "x", 4, 9, 9);
    const int same[4] = {0, 0, 3, 3}, tall[4] = {3, 3, 0, 0}, big[4] = {0, 0, 7, 0};
    int y = ug_b_conv_zpad(&b, x, cw, -1, 1, 7, 1, same);
    CHECK(y >= 0 && net.nodes[y].C == 8 && net.nodes[y].H == 9 && net.nodes[y].W == 9,
          "1x7 with padding 3 keeps the size: %s", err.msg);
    CHECK(ug_b_conv_zpad(&b, x, cw, -1, 7, 1, 1, tall) < 0 && strstr(err.msg, "conv.weight") &&
              strstr(err.msg, "8x4x7x1"),
          "a 1x7 weight as a 7x1 conv is refused: %s", err.msg);
    reset(&b, &err);
    CHECK(ug_b_conv_zpad(&b, x, cw, -1, 1, 7, 1, big) < 0 && strstr(err.msg, "padding"),
          "padding as wide as the kernel is refused: %s", err.msg);
    reset(&b, &err);

    int u = ug_b_deconv(&b, x, dw, -1, 3, 2, 1, 1);
    CHECK(u >= 0 && net.nodes[u].C == 8 && net.nodes[u].H == 18, "deconv doubles: %s", err.msg);
    CHECK(ug_b_deconv(&b, y, dw, -1, 3, 2, 1, 1) < 0 && strstr(err.msg, "up.weight") &&
              strstr(err.msg, "8x8x3x3"),
          "a deconv weight on the wrong input is refused: %s", err.msg);
    reset(&b, &err);
    CHECK(ug_b_deconv(&b, x, dw, -1, 3, 2, 1, 2) < 0 && strstr(err.msg, "output padding"),
          "output padding >= stride is refused: %s", err.msg);
    reset(&b, &err);

    CHECK(ug_b_bnorm(&b, x, bn, 1e-5f, 0.1f) >= 0, "bnorm: %s", err.msg);
    CHECK(ug_b_bnorm(&b, x, bn_bad, 1e-5f, 0.1f) < 0 && strstr(err.msg, "bn_bad.weight"),
          "BatchNorm parameters of another width are refused: %s", err.msg);
    reset(&b, &err);
    ug_node nd = {.op = OP_BNORM, .in = {x, -1, -1, -1, -1, -1, -1, -1},
                  .p = {bn, bn + 1, trained, buf, nbt}, .eps = 1e-5f, .momentum = 0.1f};
    CHECK(ug_op_get(OP_BNORM)->shape(&net, &nd, &err) < 0 && strstr(err.msg, "trained") &&
              strstr(err.msg, "buffer"),
          "a trainable running mean is refused: %s", err.msg);
    nd.p[2] = bn + 2, nd.p[4] = buf;
    CHECK(ug_op_get(OP_BNORM)->shape(&net, &nd, &err) < 0 && strstr(err.msg, "var is 4") &&
              strstr(err.msg, "needs a scalar"),
          "num_batches_tracked of 4 values is refused: %s", err.msg);
    CHECK(ug_b_bnorm(&b, x, bn, 1e-5f, 1.5f) < 0 && strstr(err.msg, "momentum"),
          "momentum 1.5 is refused: %s", err.msg);
    reset(&b, &err);

    CHECK(ug_b_groupnorm(&b, x, 2, gw, gw, 1e-5f) >= 0, "gnorm: %s", err.msg);
    CHECK(ug_b_groupnorm(&b, x, 3, gw, gw, 1e-5f) < 0 && strstr(err.msg, "3 groups"),
          "4 channels in 3 groups are refused: %s", err.msg);
    reset(&b, &err);
    CHECK(ug_b_groupnorm(&b, y, 2, gw, gw, 1e-5f) < 0 && strstr(err.msg, "gn.weight"),
          "a GroupNorm weight of 4 on 8 channels is refused: %s", err.msg);
    reset(&b, &err);

    int p = ug_b_pool(&b, OP_AVGPOOL, x, 3, 3, 2, 1, 1);
    CHECK(p >= 0 && net.nodes[p].H == 5 && net.nodes[p].W == 5, "avgpool 3/2/1 of 9: %s",
          err.msg);
    CHECK(ug_b_pool(&b, OP_MAXPOOL, x, 3, 3, 2, 2, 0) < 0 && strstr(err.msg, "half"),
          "padding over half the window is refused: %s", err.msg);
    reset(&b, &err);

    int g = ug_b_unary(&b, OP_GAP, x);
    int m = ug_b_binary(&b, OP_MUL, g, x);
    CHECK(m >= 0 && net.nodes[m].C == 4 && net.nodes[m].H == 9, "C x 1 x 1 times a map: %s",
          err.msg);
    CHECK(ug_b_binary(&b, OP_MUL, x, y) < 0 && strstr(err.msg, "multiplying"),
          "multiplying 4 and 8 channels is refused: %s", err.msg);
    reset(&b, &err);
    CHECK(ug_b_binary(&b, OP_ADD, x, p) < 0 && strstr(err.msg, "adding"),
          "adding 9x9 and 5x5 maps is refused: %s", err.msg);
    reset(&b, &err);

    int c = ug_b_concat(&b, (const int[]){x, y, x}, 3);
    CHECK(c >= 0 && net.nodes[c].C == 16, "concat of three: %s", err.msg);
    CHECK(ug_b_concat(&b, (const int[]){x, p}, 2) < 0 && strstr(err.msg, "concatenating"),
          "concatenating 9x9 and 5x5 maps is refused: %s", err.msg);
    reset(&b, &err);
    int many[UG_NODE_IN + 1];
    for (int i = 0; i <= UG_NODE_IN; i++)
        many[i] = x;
    CHECK(ug_b_concat(&b, many, UG_NODE_IN) >= 0, "concat of %d", UG_NODE_IN);
    CHECK(ug_b_concat(&b, many, UG_NODE_IN + 1) < 0, "concat of more than UG_NODE_IN refused");
    ug_net_free(&net);
}

/* ---- a network of every new op through the tape ---- */

typedef struct {
    ug_net net;
    ug_kctx *k;
    ug_arena a;
    int N, out;
    ug_mode mode; /* BatchNorm's statistics: the batch's or the running ones */
    float *input, *R; /* the loss is sum(out * R) */
} graph;

static int build(graph *g, ug_error *err)
{
    ug_net *net = &g->net;
    ug_net_init(net);
    ug_builder b = {net, err, 0};
    int cw = ug_b_weight(&b, "conv.weight", 4, (int64_t[]){4, 3, 1, 3});
    int cb = ug_b_bias(&b, "conv.bias", 4, 9);
    int bn = ug_b_bnorm_params(&b, "bn", 4);
    int dw = ug_b_weight(&b, "up.weight", 4, (int64_t[]){12, 4, 3, 3});
    int db = ug_b_bias(&b, "up.bias", 4, 36);
    int gw = ug_b_const(&b, "gn.weight", 1, (int64_t[]){4}, 1);
    int gb = ug_b_const(&b, "gn.bias", 1, (int64_t[]){4}, 0);
    if (ug_net_alloc(net, err) < 0)
        return -1;
    int x = ug_b_input(&b, "x", 3, 6, 7);
    int c = ug_b_conv_zpad(&b, x, cw, cb, 1, 3, 1, (const int[]){0, 0, 1, 1});
    int s = ug_b_unary(&b, OP_SIGMOID, ug_b_bnorm(&b, c, bn, 1e-5f, 0.1f));
    int ap = ug_b_pool(&b, OP_AVGPOOL, s, 3, 3, 1, 1, 0);
    int gp = ug_b_unary(&b, OP_GAP, s);
    int m = ug_b_binary(&b, OP_MUL, ap, gp);  /* broadcast second */
    int m2 = ug_b_binary(&b, OP_MUL, gp, s);  /* broadcast first */
    int a2 = ug_b_binary(&b, OP_ADD, gp, ug_b_binary(&b, OP_ADD, m, m2));
    int cat = ug_b_concat(&b, (const int[]){a2, s, m}, 3);
    int d = ug_b_deconv(&b, cat, dw, db, 3, 2, 1, 1);
    g->out = ug_b_output(&b, "y", ug_b_groupnorm(&b, d, 2, gw, gb, 1e-5f));
    if (b.failed)
        return -1;
    /* Running statistics away from 0 and 1, affine parameters away from 1 and 0. */
    for (size_t i = 0; i < net->total; i++)
        net->data[i] = 0.5f * (float)ug_rng_uniform(&rng) - 0.25f;
    for (int j = 0; j < 4; j++) {
        ug_param_data(net, bn + 3)[j] += 1; /* running_var */
        ug_param_data(net, gw)[j] += 1;
        ug_param_data(net, bn)[j] += 1;
    }
    return 0;
}

static double loss(graph *g, float *out_copy, ug_error *err)
{
    ug_tape t;
    ug_arena_reset(&g->a);
    const float *in[1] = {g->input};
    if (ug_tape_forward_nograd(&t, g->k, &g->a, &g->net, in, g->N, g->mode, err) < 0)
        return NAN;
    const float *out = ug_tape_out(&t, g->out);
    const size_t n = ug_tape_numel(&t, g->out);
    if (out_copy)
        memcpy(out_copy, out, n * sizeof *out);
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (double)out[i] * g->R[i];
    return s;
}

/* rel L2 of analytic against central differences over n floats at x, at
 * about 40 of them spread over the tensor (the loss is a whole forward pass). */
static double fd_err(graph *g, float *x, size_t n, const float *analytic, ug_error *err)
{
    const float eps = 1e-2f;
    const size_t step = n / 40 + 1, m = (n + step - 1) / step;
    float *num = alloc(m), *ana = alloc(m);
    for (size_t j = 0; j < m; j++) {
        const size_t i = j * step;
        const float keep = x[i];
        x[i] = keep + eps;
        const double lp = loss(g, NULL, err);
        x[i] = keep - eps;
        const double lm = loss(g, NULL, err);
        x[i] = keep;
        num[j] = (float)((lp - lm) / (2.0 * eps));
        ana[j] = analytic[i];
    }
    const double e = check_rel_l2(ana, num, m);
    free(num), free(ana);
    return e;
}

static void test_network(int reference, ug_mode mode)
{
    ug_error err = {{0}};
    graph g = {.N = 2, .mode = mode};
    g.k = ug_kctx_new(reference, &err);
    ug_arena_init(&g.a, ug_backend_default());
    CHECK(g.k && build(&g, &err) == 0, "build: %s", err.msg);
    if (!g.k || err.msg[0])
        return;
    const size_t nin = (size_t)g.N * 3 * 6 * 7, nout = (size_t)g.N * 4 * 12 * 14;
    g.input = alloc(nin), g.R = alloc(nout);
    fill_uniform(g.input, nin, -1, 1);
    fill_uniform(g.R, nout, -1, 1);

    /* The recording pass: outputs, then gradients. */
    ug_arena rec;
    ug_arena_init(&rec, ug_backend_default());
    ug_tape t;
    CHECK(ug_tape_forward(&t, g.k, &rec, &g.net, (const float *const[]){g.input}, g.N, mode,
                          &err) == 0,
          "forward: %s", err.msg);
    float *out_nograd = alloc(nout);
    loss(&g, out_nograd, &err);
    CHECK(memcmp(out_nograd, ug_tape_out(&t, g.out), nout * sizeof(float)) == 0,
          "no-grad forward (outputs over dying inputs) equals the recording one");
    memcpy(ug_tape_grad(&t, &rec, g.out), g.R, nout * sizeof(float));
    CHECK(ug_net_zero_grad(&g.net, &err) == 0 &&
              ug_tape_backward(&t, g.k, &rec, 1, 1, &err) == 0,
          "backward: %s", err.msg);
    float *din = alloc(nin);
    memcpy(din, t.grad[0], nin * sizeof(float));

    double e = fd_err(&g, g.input, nin, din, &err);
    const char *tag = reference ? "reference" : mode == UG_TRAIN ? "fast, training" : "fast";
    CHECK(e < 2e-3, "%s: input gradient vs finite differences: rel %g", tag, e);
    for (int p = 0; p < g.net.n_params; p++) {
        const ug_param *pp = &g.net.params[p];
        if (pp->kind != UG_TRAINABLE)
            continue;
        if (mode == UG_TRAIN && strcmp(pp->name, "conv.bias") == 0) {
            /* The batch mean takes the bias before BatchNorm away: no gradient. */
            const float zero[4] = {0};
            e = check_max_abs_diff(ug_param_grad(&g.net, p), zero, 4);
            CHECK(e < 1e-5, "%s: the bias before BatchNorm has gradient %g", tag, e);
            continue;
        }
        e = fd_err(&g, ug_param_data(&g.net, p), pp->numel, ug_param_grad(&g.net, p), &err);
        CHECK(e < 2e-3, "%s: %s gradient vs finite differences: rel %g", tag, pp->name, e);
    }
    free(din), free(out_nograd), free(g.input), free(g.R);
    ug_arena_free(&rec);
    ug_arena_free(&g.a);
    ug_net_free(&g.net);
    ug_kctx_free(g.k);
}

/* A one-op network: input (C x H x W) through the node the caller adds. */
static void test_maxpool_node(void)
{
    ug_error err = {{0}};
    ug_net net;
    ug_net_init(&net);
    ug_builder b = {&net, &err, 0};
    CHECK(ug_net_alloc(&net, &err) == 0, "alloc: %s", err.msg);
    int x = ug_b_input(&b, "x", 3, 7, 6);
    int y = ug_b_output(&b, "y", ug_b_pool(&b, OP_MAXPOOL, x, 3, 3, 2, 1, 0));
    const ug_pool_shape s = {2, 3, 7, 6, 3, 3, 2, 1};
    const size_t nin = 2 * 3 * 7 * 6, nout = 2 * 3 * 4 * 3;
    float *in = alloc(nin), *g = alloc(nout), *want = alloc(nout), *dwant = alloc(nin);
    int32_t *am = malloc(nout * sizeof *am);
    fill_uniform(in, nin, -1, 1);
    fill_uniform(g, nout, -1, 1);
    ug_kctx *k = ug_kctx_new(0, &err);
    ug_maxpool_forward(k, want, am, in, &s);
    ug_maxpool_backward(k, dwant, g, am, &s, 0);
    ug_arena a;
    ug_arena_init(&a, ug_backend_default());
    ug_tape t;
    CHECK(ug_tape_forward(&t, k, &a, &net, (const float *const[]){in}, 2, UG_EVAL, &err) == 0 &&
              memcmp(ug_tape_out(&t, y), want, nout * sizeof(float)) == 0,
          "maxpool node forward: %s", err.msg);
    memcpy(ug_tape_grad(&t, &a, y), g, nout * sizeof(float));
    CHECK(ug_tape_backward(&t, k, &a, 0, 1, &err) == 0 &&
              memcmp(t.grad[x], dwant, nin * sizeof(float)) == 0,
          "maxpool node backward: %s", err.msg);
    free(in), free(g), free(want), free(dwant), free(am);
    ug_arena_free(&a);
    ug_kctx_free(k);
    ug_net_free(&net);
}

/* BatchNorm's node: evaluation leaves the running statistics; training
 * normalises by the batch's, moves the running ones and
 * num_batches_tracked, and its backward pass goes through the batch
 * statistics. */
static void test_bnorm_node(void)
{
    ug_error err = {{0}};
    ug_net net;
    ug_net_init(&net);
    ug_builder b = {&net, &err, 0};
    int bn = ug_b_bnorm_params(&b, "bn", 3);
    CHECK(ug_net_alloc(&net, &err) == 0, "alloc: %s", err.msg);
    ug_net_init_default(&net, &rng);
    int x = ug_b_input(&b, "x", 3, 4, 5);
    int y = ug_b_output(&b, "y", ug_b_bnorm(&b, x, bn, 1e-5f, 0.1f));
    const int N = 2, C = 3, HW = 20;
    const size_t n = (size_t)N * C * HW;
    float *in = alloc(n), *g = alloc(n), *want = alloc(n), *dwant = alloc(n);
    float mean[3], rstd[3], rm[3] = {0, 0, 0}, rv[3] = {1, 1, 1}, dw[3] = {0}, db[3] = {0};
    fill_uniform(in, n, -1, 3);
    fill_uniform(g, n, -1, 1);
    const float *w = ug_param_data(&net, bn), *bias = ug_param_data(&net, bn + 1);
    ug_kctx *k = ug_kctx_new(0, &err);
    ug_batchnorm_forward(k, want, mean, rstd, in, w, bias, rm, rv, 1, N, C, HW, 1e-5f, 0.1f);
    ug_batchnorm_backward(k, dwant, dw, db, g, in, mean, rstd, w, 1, N, C, HW, 0);
    ug_arena a;
    ug_arena_init(&a, ug_backend_default());
    ug_tape t;
    const float *const inputs[1] = {in};
    CHECK(ug_tape_forward(&t, k, &a, &net, inputs, N, UG_EVAL, &err) == 0 &&
              ug_param_data(&net, bn + 2)[0] == 0 && ug_param_data(&net, bn + 3)[0] == 1 &&
              ug_param_data(&net, bn + 4)[0] == 0,
          "evaluation leaves the running statistics: %s", err.msg);
    ug_arena_reset(&a);
    CHECK(ug_tape_forward(&t, k, &a, &net, inputs, N, UG_TRAIN, &err) == 0 &&
              memcmp(ug_tape_out(&t, y), want, n * sizeof(float)) == 0,
          "bnorm node in training: %s", err.msg);
    CHECK(memcmp(ug_param_data(&net, bn + 2), rm, sizeof rm) == 0 &&
              memcmp(ug_param_data(&net, bn + 3), rv, sizeof rv) == 0 &&
              ug_param_data(&net, bn + 4)[0] == 1,
          "running statistics and num_batches_tracked moved");
    memcpy(ug_tape_grad(&t, &a, y), g, n * sizeof(float));
    CHECK(ug_net_zero_grad(&net, &err) == 0 && ug_tape_backward(&t, k, &a, 1, 1, &err) == 0 &&
              memcmp(t.grad[x], dwant, n * sizeof(float)) == 0 &&
              memcmp(ug_param_grad(&net, bn), dw, sizeof dw) == 0 &&
              memcmp(ug_param_grad(&net, bn + 1), db, sizeof db) == 0,
          "bnorm node backward in training: %s", err.msg);

    /* One value per channel cannot train. */
    ug_arena_reset(&a);
    CHECK(ug_tape_forward(&t, k, &a, &net, inputs, 1, UG_EVAL, &err) == 0,
          "a batch of one in evaluation: %s", err.msg);
    net.nodes[x].H = net.nodes[x].W = net.nodes[y].H = net.nodes[y].W = 1;
    ug_arena_reset(&a);
    CHECK(ug_tape_forward(&t, k, &a, &net, inputs, 1, UG_TRAIN, &err) < 0 &&
              strstr(err.msg, "more than one value"),
          "one value per channel in training is refused: %s", err.msg);
    free(in), free(g), free(want), free(dwant);
    ug_arena_free(&a);
    ug_kctx_free(k);
    ug_net_free(&net);
}

/* A linear layer on a flattened feature map keeps its weight gradient as
 * terms (net.h), one per image per use; one on a vector keeps it dense. Over
 * two uses: the terms' gradient against the sum of the uses' products in
 * double, the gradient norm and scaling over both kinds, and Adam on the
 * terms against Adam on their dense sum. */
static void test_linear_terms(void)
{
    ug_error err = {{0}};
    ug_net net;
    ug_net_init(&net);
    ug_builder b = {&net, &err, 0};
    enum { N = 2, C = 2, H = 3, W = 4, I = C * H * W, O = 5, O2 = 3 };
    int fc = ug_b_weight(&b, "fc.weight", 2, (int64_t[]){O, I});
    int fc2 = ug_b_weight(&b, "fc2.weight", 2, (int64_t[]){O2, O});
    CHECK(ug_net_alloc(&net, &err) == 0, "alloc: %s", err.msg);
    ug_net_init_default(&net, &rng);
    int x = ug_b_input(&b, "x", C, H, W);
    int h = ug_b_linear(&b, x, fc, -1);
    int y = ug_b_output(&b, "y", ug_b_linear(&b, h, fc2, -1));
    CHECK(y >= 0 && ug_net_zero_grad(&net, &err) == 0, "build: %s", err.msg);
    CHECK(net.n_terms == 1 && net.params[fc].terms == 0 && net.params[fc2].terms < 0 &&
              net.grad_total < net.total,
          "the weight on the 2x3x4 map keeps terms, the one on a vector a dense gradient");
    ug_kctx *k = ug_kctx_new(0, &err);
    const float *w2 = ug_param_data(&net, fc2);
    double want[O * I] = {0}, want2[O2 * O] = {0};
    for (int use = 0; use < 2; use++) {
        float in[N * I], r[N * O2];
        fill_uniform(in, N * I, -1, 1);
        fill_uniform(r, N * O2, -1, 1);
        ug_arena a;
        ug_arena_init(&a, ug_backend_default());
        ug_tape t;
        CHECK(ug_tape_forward(&t, k, &a, &net, (const float *const[]){in}, N, UG_TRAIN, &err) == 0,
              "forward: %s", err.msg);
        const float *hv = ug_tape_out(&t, h);
        for (int n = 0; n < N; n++)
            for (int o = 0; o < O; o++) {
                double dh = 0;
                for (int j = 0; j < O2; j++) {
                    dh += (double)r[n * O2 + j] * w2[j * O + o];
                    want2[j * O + o] += (double)r[n * O2 + j] * hv[n * O + o];
                }
                for (int i = 0; i < I; i++)
                    want[o * I + i] += dh * in[n * I + i];
            }
        memcpy(ug_tape_grad(&t, &a, y), r, sizeof r);
        CHECK(ug_tape_backward(&t, k, &a, 1, 0, &err) == 0, "backward: %s", err.msg);
        ug_arena_free(&a);
    }
    float got[O * I], got2[O2 * O], wantf[O * I];
    double sq = 0, want_sq = 0;
    CHECK(net.terms[0].rank == 2 * N && ug_net_read_grad(&net, fc, got, &err) == 0 &&
              ug_net_read_grad(&net, fc2, got2, &err) == 0 && ug_net_grad_norm2(&net, &sq, &err) == 0,
          "reading: %s", err.msg);
    for (int e = 0; e < O * I; e++)
        wantf[e] = (float)want[e], want_sq += want[e] * want[e];
    for (int e = 0; e < O2 * O; e++)
        want_sq += want2[e] * want2[e];
    CHECK(check_rel_l2(got, wantf, O * I) < 1e-6, "the terms' gradient: rel %g",
          check_rel_l2(got, wantf, O * I));
    CHECK(fabs(sq - want_sq) < 1e-5 * want_sq, "gradient norm^2 %.9g, want %.9g", sq, want_sq);

    /* Adam on the terms (scaled, as after a mean over ranks) equals Adam on their dense sum. */
    CHECK(ug_net_scale_grad(&net, 0.5f, &err) == 0 && ug_net_read_grad(&net, fc, got, &err) == 0 &&
              ug_net_read_grad(&net, fc2, got2, &err) == 0,
          "scaling: %s", err.msg);
    float half[O * I], half2[O2 * O];
    for (int e = 0; e < O * I; e++)
        half[e] = 0.5f * wantf[e];
    for (int e = 0; e < O2 * O; e++)
        half2[e] = (float)(0.5 * want2[e]);
    CHECK(check_rel_l2(got, half, O * I) < 1e-6 && check_rel_l2(got2, half2, O2 * O) < 1e-6,
          "both gradients scaled by 0.5: rel %g, %g", check_rel_l2(got, half, O * I),
          check_rel_l2(got2, half2, O2 * O));
    float p1[O * I], p2[O * I], m1[O * I], m2[O * I], v1[O * I], v2[O * I];
    memcpy(p1, ug_param_data(&net, fc), sizeof p1);
    memcpy(p2, p1, sizeof p2);
    fill_uniform(m1, O * I, -0.1f, 0.1f);
    fill_uniform(v1, O * I, 0, 0.1f);
    memcpy(m2, m1, sizeof m2);
    memcpy(v2, v1, sizeof v2);
    const ug_terms *tm = &net.terms[0];
    ug_adam_update_terms(k, p1, tm->u, tm->v, tm->rank, O, I, tm->scale, m1, v1, 1e-2f, 0.5f,
                         0.999f, 1e-8f, 1e-4f, 3);
    ug_adam_update_ref(k, p2, got, m2, v2, O * I, 1e-2f, 0.5f, 0.999f, 1e-8f, 1e-4f, 3);
    CHECK(check_max_abs_diff(p1, p2, O * I) < 1e-7 && check_max_abs_diff(m1, m2, O * I) < 1e-7 &&
              check_max_abs_diff(v1, v2, O * I) < 1e-7,
          "Adam on the terms: %g %g %g", check_max_abs_diff(p1, p2, O * I),
          check_max_abs_diff(m1, m2, O * I), check_max_abs_diff(v1, v2, O * I));
    ug_kctx_free(k);
    ug_net_free(&net);
}

int main(void)
{
    ug_rng_seed(&rng, 777, 1);
    test_shape_rules();
    test_network(1, UG_EVAL);
    test_network(0, UG_EVAL);
    test_network(0, UG_TRAIN);
    test_maxpool_node();
    test_bnorm_node();
    test_linear_terms();
    return check_summary();
}
