/* What include/ugatit.h promises about threads. A model may move between
 * threads: one whose oneDNN primitives were made in the main thread
 * translates in another one (with oneDNN's default, per-thread scratchpad
 * that reads the wrong thread's buffer). Different models may translate in
 * different threads at the same time: two models loaded from the same
 * checkpoint translate several batch sizes each in its own thread at once.
 * Both must give the same bits as the model alone in the main thread; under
 * the sanitizers, nothing may leak (a primitive made in a thread that ends
 * leaked that thread's scratchpad). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ugatit.h>

#include "check.h"

enum { S = 32, THREADS = 2, ROUNDS = 6, MAX_N = 3 };

typedef struct job {
    ug_model *m;
    const float *in;
    float *out; /* ROUNDS results, each MAX_N images */
    int rc;
    ug_error err;
} job;

static void *translate_all(void *arg)
{
    job *j = arg;
    const size_t img = (size_t)3 * S * S;
    j->rc = 0;
    for (int r = 0; r < ROUNDS && j->rc == 0; r++)
        j->rc = ug_model_translate(j->m, r % 2 ? UG_B2A : UG_A2B, j->in, 1 + r % MAX_N,
                                   j->out + (size_t)r * MAX_N * img, NULL, NULL, &j->err);
    return NULL;
}

int main(void)
{
    char dir[] = "/tmp/ugatit_threads_XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 2;
    }
    char path[300];
    snprintf(path, sizeof path, "%s/m.safetensors", dir);
    ug_error err = {{0}};
    ug_model *m0 = NULL;
    ug_config c = {16, 2, S, 1, 5, 3, UG_NORM_ADALIN, 0, 0, NULL, 0, 0}; /* 16 channels: Winograd convolutions, with scratchpads */
    if (ug_model_new(&m0, &c, 5, &err) < 0 || ug_model_save(m0, path, &err) < 0) {
        fprintf(stderr, "test_threads: %s\n", err.msg);
        return 1;
    }
    const size_t img = (size_t)3 * S * S, per = (size_t)ROUNDS * MAX_N * img;
    float *in = malloc(MAX_N * img * sizeof *in);
    float *want = calloc(per, sizeof *want);
    job jobs[THREADS];
    for (size_t i = 0; in && i < MAX_N * img; i++)
        in[i] = (float)((i * 2654435761u) % 1000) / 500.0f - 1.0f;
    /* Alone first. */
    job alone = {m0, in, want, 0, {{0}}};
    translate_all(&alone);
    CHECK(alone.rc == 0, "alone: %s", alone.err.msg);
    /* The same model (its primitives made above) in another thread. */
    job moved = {m0, in, calloc(per, sizeof(float)), 0, {{0}}};
    pthread_t mt;
    CHECK(pthread_create(&mt, NULL, translate_all, &moved) == 0, "pthread_create");
    pthread_join(mt, NULL);
    CHECK(moved.rc == 0, "moved: %s", moved.err.msg);
    CHECK(moved.out && memcmp(moved.out, want, per * sizeof *want) == 0,
          "the model in another thread differs from itself in the main thread (largest "
          "difference %g)", moved.out ? check_max_abs_diff(moved.out, want, per) : -1.0);
    free(moved.out);

    for (int t = 0; t < THREADS; t++) {
        jobs[t] = (job){NULL, in, calloc(per, sizeof(float)), 0, {{0}}};
        CHECK(ug_model_load(&jobs[t].m, path, NULL, 0, &err) == 0, "%s", err.msg);
    }
    pthread_t th[THREADS];
    for (int t = 0; t < THREADS; t++)
        CHECK(pthread_create(&th[t], NULL, translate_all, &jobs[t]) == 0, "pthread_create");
    for (int t = 0; t < THREADS; t++) {
        pthread_join(th[t], NULL);
        CHECK(jobs[t].rc == 0, "thread %d: %s", t, jobs[t].err.msg);
        CHECK(memcmp(jobs[t].out, want, per * sizeof *want) == 0,
              "thread %d differs from the model alone (largest difference %g)", t,
              check_max_abs_diff(jobs[t].out, want, per));
        free(jobs[t].out);
        ug_model_free(jobs[t].m);
    }
    free(in);
    free(want);
    ug_model_free(m0);
    remove(path);
    rmdir(dir);
    return check_summary();
}
