/* The tape's memory planning: the arena's free list, and the no-grad forward
 * (buffers recycled by liveness, in-place element-wise nodes, channel-blocked
 * images between convolutions) against the recording forward, which must
 * give bitwise the same outputs. The recording
 * pass's own planning (pads recomputed, in-place ReLUs, buffers released in
 * backward) is held to PyTorch by test_golden. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "model/ugatit/ugatit.h"
#include "nn/build.h"
#include "nn/op.h"
#include "nn/tape.h"

static void test_arena(void)
{
    ug_arena a;
    ug_arena_init(&a, ug_backend_default());
    float *x = ug_arena_floats(&a, 1000), *y = ug_arena_floats(&a, 1000);
    CHECK(x && y && x != y, "arena allocations");
    size_t used = a.used;
    ug_arena_release(&a, x, 1000 * sizeof(float));
    CHECK(a.used + 4032 == used, "release gives back the rounded size (%zu -> %zu)", used, a.used);
    float *z = ug_arena_floats(&a, 500);
    CHECK(z == x, "a released allocation is reused");
    float *w = ug_arena_floats(&a, 400);
    CHECK(w == x + 512, "the rest of a split allocation is reused (%p %p)", (void *)w,
          (void *)(x + 512));
    float *v = ug_arena_floats(&a, 1000);
    CHECK(v != x && v != y, "no reuse once the released space is taken");
    ug_arena_release(&a, y, 1000 * sizeof(float));
    ug_arena_reset(&a);
    CHECK(a.used == 0 && a.n_freed == 0, "reset empties the free list");
    CHECK(ug_arena_floats(&a, 10) == x, "reset starts over");

    /* Released neighbours join: two 4 KB ranges serve an 8 KB request. */
    ug_arena_reset(&a);
    float *p0 = ug_arena_floats(&a, 1024), *p1 = ug_arena_floats(&a, 1024);
    float *p2 = ug_arena_floats(&a, 1024);
    ug_arena_release(&a, p1, 1024 * sizeof(float));
    ug_arena_release(&a, p0, 1024 * sizeof(float));
    CHECK(a.n_freed == 1, "touching released ranges join (%zu ranges)", a.n_freed);
    CHECK(ug_arena_floats(&a, 2048) == p0, "the joined range serves a larger request");
    /* Released space at the end of the filling goes back to the block. */
    float *p3 = ug_arena_floats(&a, 1024);
    ug_arena_release(&a, p3, 1024 * sizeof(float));
    CHECK(a.n_freed == 0 && ug_arena_floats(&a, 1024) == p3, "the block's end is reused");
    (void)p2;
    ug_arena_free(&a);
}

static void test_nograd(ug_norm norm, int light, int no_cam)
{
    ug_error err = {{0}};
    ug_net net;
    ug_config c = {16, 2, 32, light, 5, 3, norm, no_cam, 0, NULL, 0, 0};
    int rc = ug_build_generator(&net, &c, &err);
    CHECK(rc == 0, "build: %s", err.msg);
    if (rc)
        return;
    ug_rng rng;
    ug_rng_seed(&rng, 5, 1);
    ug_net_init_default(&net, &rng);
    ug_kctx *k = ug_kctx_new(0, &err);
    const int N = 2;
    const size_t n = (size_t)N * 3 * 32 * 32;
    float *x = malloc(n * sizeof *x);
    for (size_t i = 0; i < n; i++)
        x[i] = (float)((int)(i * 7919 % 2001) - 1000) / 1000.0f;
    ug_arena a1, a2;
    ug_arena_init(&a1, ug_backend_default());
    ug_arena_init(&a2, ug_backend_default());
    ug_tape t1, t2;
    const float *in = x;
    rc = ug_tape_forward(&t1, k, &a1, &net, &in, N, UG_EVAL, &err);
    CHECK(rc == 0, "forward: %s", err.msg);
    rc |= ug_tape_forward_nograd(&t2, k, &a2, &net, &in, N, UG_EVAL, &err);
    CHECK(rc == 0, "forward_nograd: %s", err.msg);
    if (rc == 0) {
        const int outs[3] = {ug_net_output(&net, UG_OUT_IMAGE), ug_net_output(&net, UG_OUT_CAM),
                             ug_net_output(&net, UG_OUT_HEATMAP)};
        CHECK((outs[1] < 0) == no_cam && (outs[2] < 0) == no_cam, "CAM outputs iff CAM");
        for (int i = 0; i < 3; i++)
            CHECK(outs[i] < 0 || memcmp(t1.out[outs[i]], t2.out[outs[i]],
                                        ug_tape_numel(&t1, outs[i]) * sizeof(float)) == 0,
                  "%s light=%d cam=%d: output %d differs without the tape", ug_norm_name(norm),
                  light, !no_cam, i);
        CHECK(a2.used_peak < a1.used_peak / 2, "no-grad forward keeps %zu of %zu bytes",
              a2.used_peak, a1.used_peak);
        CHECK(t2.out[1] == NULL, "dead outputs are dropped");
        /* Where the convolutions compute channel-blocked, the images between
         * them stay blocked; with that off, none is. Same outputs either way. */
        const ug_conv_shape s = {N, 16, 34, 34, 16, 3, 3, 1, {0, 0, 0, 0}, 0, 0};
        int blocked = 0;
        for (int i = 0; i < net.n_nodes; i++)
            blocked += t2.blocked[i];
        CHECK((blocked > 0) == ug_kctx_conv_blocked(k, &s), "%d blocked images, conv_blocked %d",
              blocked, ug_kctx_conv_blocked(k, &s));
        ug_arena a3;
        ug_arena_init(&a3, ug_backend_default());
        ug_tape t3;
        ug_kctx_set_blocked(k, 0);
        rc = ug_tape_forward_nograd(&t3, k, &a3, &net, &in, N, UG_EVAL, &err);
        ug_kctx_set_blocked(k, 1);
        blocked = 0;
        for (int i = 0; rc == 0 && i < net.n_nodes; i++)
            blocked += t3.blocked[i];
        CHECK(rc == 0 && blocked == 0, "blocked images off: %s", err.msg);
        for (int i = 0; rc == 0 && i < 3; i++)
            CHECK(outs[i] < 0 || memcmp(t3.out[outs[i]], t2.out[outs[i]],
                                        ug_tape_numel(&t2, outs[i]) * sizeof(float)) == 0,
                  "%s light=%d cam=%d: output %d differs with plain images", ug_norm_name(norm),
                  light, !no_cam, i);
        ug_arena_free(&a3);
    }
    free(x);
    ug_arena_free(&a1);
    ug_arena_free(&a2);
    ug_kctx_free(k);
    ug_net_free(&net);
}

/* Every op kind has a complete table entry with a distinct name. */
static void test_op_table(void)
{
    for (int op = 0; op < OP_COUNT; op++) {
        const ug_op_def *d = ug_op_get((ug_op)op);
        CHECK(d && d->name && d->shape && d->forward && d->backward, "op %d's entry", op);
        for (int o = 0; d && o < op; o++)
            CHECK(strcmp(ug_op_get((ug_op)o)->name, d->name) != 0, "op name %s twice", d->name);
    }
}

/* A builder slip (a weight whose shape does not fit its input) is an error
 * from the op's shape rule, not a heap over-read at run time. */
static void test_shape_rules(void)
{
    ug_error err = {{0}};
    ug_net net;
    ug_net_init(&net);
    ug_builder b = {&net, &err, 0};
    int w = ug_b_weight(&b, "conv.weight", 4, (int64_t[]){8, 4, 3, 3});
    int bias = ug_b_bias(&b, "conv.bias", 7, 36);
    int fc = ug_b_weight(&b, "fc.weight", 2, (int64_t[]){2, 100});
    CHECK(ug_net_alloc(&net, &err) == 0, "alloc: %s", err.msg);

    int x = ug_b_input(&b, "a", 3, 16, 16);
    CHECK(ug_b_conv(&b, x, w, -1, 3, 1) < 0 && b.failed && strstr(err.msg, "conv.weight") &&
              strstr(err.msg, "8x3x3x3"),
          "a 4-input weight on a 3-channel input is refused: %s", err.msg);

    b.failed = 0, err.msg[0] = 0;
    x = ug_b_input(&b, "b", 4, 16, 16);
    CHECK(ug_b_conv(&b, x, w, -1, 5, 1) < 0 && strstr(err.msg, "8x4x5x5"),
          "a 3x3 weight used as 5x5 is refused: %s", err.msg);
    b.failed = 0, err.msg[0] = 0;
    CHECK(ug_b_conv(&b, x, w, bias, 3, 1) < 0 && strstr(err.msg, "conv.bias"),
          "a bias of the wrong length is refused: %s", err.msg);
    b.failed = 0, err.msg[0] = 0;
    int y = ug_b_conv(&b, x, w, -1, 3, 1);
    CHECK(y >= 0 && net.nodes[y].C == 8 && net.nodes[y].H == 14, "a fitting conv: %s", err.msg);
    CHECK(ug_b_linear(&b, y, fc, -1) < 0 && strstr(err.msg, "fc.weight"),
          "a linear whose weight does not take 8x14x14 inputs is refused: %s", err.msg);
    b.failed = 0, err.msg[0] = 0;
    CHECK(ug_b_binary(&b, OP_ADD, x, y) < 0 && strstr(err.msg, "adding"),
          "adding maps of different shapes is refused: %s", err.msg);
    b.failed = 0, err.msg[0] = 0;
    CHECK(ug_b_pad(&b, y, 14) < 0 && strstr(err.msg, "too small"), "padding past the edge: %s",
          err.msg);
    /* Once failed, every later helper returns -1 without another message. */
    CHECK(ug_b_unary(&b, OP_RELU, y) < 0, "helpers after a failure return -1");
    ug_net_free(&net);
}

int main(void)
{
    test_op_table();
    test_shape_rules();
    test_arena();
    for (int norm = 0; norm < UG_N_NORMS; norm++)
        if (norm != UG_NORM_GN)
            test_nograd((ug_norm)norm, norm == UG_NORM_ADALIN, norm == UG_NORM_ADAIN);
    test_nograd(UG_NORM_ADALIN, 0, 0);
    return check_summary();
}
