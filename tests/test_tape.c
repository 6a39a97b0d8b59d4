/* The tape's memory planning: the arena's free list, and the no-grad forward
 * (buffers recycled by liveness, in-place element-wise nodes) against the
 * recording forward, which must give bitwise the same outputs. The recording
 * pass's own planning (pads recomputed, in-place ReLUs, buffers released in
 * backward) is held to PyTorch by test_golden. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "model/networks.h"
#include "nn/tape.h"

static void test_arena(void)
{
    ug_arena a;
    ug_arena_init(&a);
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

static void test_nograd(int light)
{
    ug_error err = {{0}};
    ug_net net;
    int rc = ug_build_generator(&net, 16, 2, 32, light, &err);
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
    ug_arena_init(&a1);
    ug_arena_init(&a2);
    ug_tape t1, t2;
    rc = ug_tape_forward(&t1, k, &a1, &net, x, N, 0, &err);
    CHECK(rc == 0, "forward: %s", err.msg);
    rc |= ug_tape_forward_nograd(&t2, k, &a2, &net, x, N, 0, &err);
    CHECK(rc == 0, "forward_nograd: %s", err.msg);
    if (rc == 0) {
        const int outs[3] = {net.out_main, net.out_cam, net.out_heatmap};
        for (int i = 0; i < 3; i++)
            CHECK(memcmp(t1.out[outs[i]], t2.out[outs[i]],
                         ug_tape_numel(&t1, outs[i]) * sizeof(float)) == 0,
                  "light=%d output %d differs without the tape", light, i);
        CHECK(a2.used_peak < a1.used_peak / 2, "no-grad forward keeps %zu of %zu bytes",
              a2.used_peak, a1.used_peak);
        CHECK(t2.out[1] == NULL, "dead outputs are dropped");
    }
    free(x);
    ug_arena_free(&a1);
    ug_arena_free(&a2);
    ug_kctx_free(k);
    ug_net_free(&net);
}

int main(void)
{
    test_arena();
    test_nograd(1);
    test_nograd(0);
    return check_summary();
}
