/* The bit-exact resume check of the families' tests: a run saved after
 * `steps` steps and resumed for `more` ends with the weights of the run that
 * went on uninterrupted, every network bit for bit. Batches of one image
 * a side, uniform in [-1, 1] from a fixed seed. */
#ifndef UG_TEST_RESUME_H
#define UG_TEST_RESUME_H

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "core/rng.h"
#include "model/model.h"

static inline void resume_random_batch(float *x, size_t n, ug_rng *r)
{
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(2 * ug_rng_uniform(r) - 1);
}

static inline int resume_same_weights(const ug_model *a, const ug_model *b)
{
    for (int i = 0; i < a->fam->n_nets; i++)
        if (memcmp(a->net[i].data, b->net[i].data, a->net[i].total * sizeof(float)) != 0)
            return 0;
    return 1;
}

/* Runs the check on m (which the trainer takes) with tc; path is a scratch
 * file, what says the case in a failure. */
static inline void check_resume(ug_model *m, const ug_train_config *tc, int steps, int more,
                                const char *path, const char *what)
{
    const size_t n = (size_t)3 * m->cfg.img_size * m->cfg.img_size;
    ug_error err;
    ug_trainer *t = NULL, *t2 = NULL;
    ug_model *m2 = NULL;
    float *A = malloc(n * sizeof *A), *B = malloc(n * sizeof *B);
    if (!A || !B || ug_trainer_new(&t, m, tc, &err) < 0) {
        CHECK(0, "%s: setup: %s", what, err.msg);
        goto done;
    }
    ug_rng r;
    ug_rng_seed(&r, 3, 1);
    int rc = 0;
    for (int s = 0; s < steps && rc == 0; s++) {
        resume_random_batch(A, n, &r), resume_random_batch(B, n, &r);
        rc = ug_trainer_step(t, A, B, 1, NULL, &err);
    }
    CHECK(rc == 0 && ug_trainer_save(t, path, NULL, 0, &err) == 0, "%s: %s", what, err.msg);
    ug_rng r2 = r;
    for (int s = 0; s < more && rc == 0; s++) {
        resume_random_batch(A, n, &r), resume_random_batch(B, n, &r);
        rc = ug_trainer_step(t, A, B, 1, NULL, &err);
    }
    CHECK(rc == 0, "%s: %s", what, err.msg);
    rc = ug_trainer_load(&t2, &m2, path, NULL, 0, &err);
    CHECK(rc == 0, "%s: load: %s", what, err.msg);
    for (int s = 0; s < more && rc == 0; s++) {
        resume_random_batch(A, n, &r2), resume_random_batch(B, n, &r2);
        rc = ug_trainer_step(t2, A, B, 1, NULL, &err);
    }
    CHECK(rc == 0 && resume_same_weights(m, m2), "%s: weights differ (%s)", what,
          rc ? err.msg : "values");
done:
    ug_trainer_free(t);
    ug_trainer_free(t2);
    ug_model_free(m2);
    unlink(path);
    free(A);
    free(B);
}

#endif
