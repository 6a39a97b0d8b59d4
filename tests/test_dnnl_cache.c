/* The oneDNN primitive cache of a model's kernel context stays bounded: every
 * new batch size of ug_model_translate creates primitives for its shapes, and
 * translating with many batch sizes must keep at most UG_DNNL_CACHE_CAPACITY
 * of them (the least recently used freed), with results unchanged when an
 * evicted shape comes back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ugatit.h>

#include "check.h"
#include "backend/cpu/dnnl_cache.h"
#include "model/model.h"
#include "model/ugatit/ugatit.h"

enum { S = 32, MAX_N = 32 };

int main(void)
{
    ug_error err = {{0}};
    ug_model *m = NULL;
    ug_config c = {2, 1, S, 1, 5, 3, UG_NORM_ADALIN, 0, 0, NULL, 0, 0};
    if (ug_model_new(&m, &c, 3, &err) < 0) {
        fprintf(stderr, "test_dnnl_cache: %s\n", err.msg);
        return 1;
    }
    const size_t img = (size_t)3 * S * S;
    float *in = malloc(MAX_N * img * sizeof *in), *out = malloc(MAX_N * img * sizeof *out);
    float *first = malloc(img * sizeof *first);
    if (!in || !out || !first) {
        fprintf(stderr, "test_dnnl_cache: out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < MAX_N * img; i++)
        in[i] = (float)((i * 7919) % 255) / 127.5f - 1.0f;

    CHECK(ug_model_translate(m, UG_A2B, in, 1, first, NULL, NULL, &err) == 0, "%s", err.msg);
    size_t one = ug_dnnl_cache_count(m->k);
    CHECK(one > 0, "no primitive cached after a translation");
    CHECK(ug_model_translate(m, UG_A2B, in, 1, out, NULL, NULL, &err) == 0, "%s", err.msg);
    CHECK(ug_dnnl_cache_count(m->k) == one, "the same shape again added primitives: %zu, then %zu",
          one, ug_dnnl_cache_count(m->k));

    size_t most = 0;
    int over = 0;
    for (int n = 2; n <= MAX_N; n++) {
        CHECK(ug_model_translate(m, UG_A2B, in, n, out, NULL, NULL, &err) == 0, "N=%d: %s", n,
              err.msg);
        size_t count = ug_dnnl_cache_count(m->k);
        most = count > most ? count : most;
        if (count > UG_DNNL_CACHE_CAPACITY && !over++)
            CHECK(0, "N=%d: %zu primitives cached, more than the bound %d", n, count,
                  UG_DNNL_CACHE_CAPACITY);
    }
    /* The batch sizes above need more shapes than the bound, so it was reached. */
    CHECK(most + 16 >= UG_DNNL_CACHE_CAPACITY, "only %zu primitives: the bound was not reached",
          most);
    printf("batch sizes 1 to %d: at most %zu primitives cached (bound %d)\n", MAX_N, most,
           UG_DNNL_CACHE_CAPACITY);

    /* Batch 1 was evicted long ago: created again, it gives the same bits. */
    CHECK(ug_model_translate(m, UG_A2B, in, 1, out, NULL, NULL, &err) == 0, "%s", err.msg);
    CHECK(memcmp(out, first, img * sizeof *out) == 0,
          "batch 1 after its primitives were evicted differs (largest difference %g)",
          check_max_abs_diff(out, first, img));
    CHECK(ug_dnnl_cache_count(m->k) <= UG_DNNL_CACHE_CAPACITY, "%zu primitives after batch 1",
          ug_dnnl_cache_count(m->k));

    free(in);
    free(out);
    free(first);
    ug_model_free(m);
    return check_summary();
}
