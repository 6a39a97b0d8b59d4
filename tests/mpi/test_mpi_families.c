/* `mpirun -np 2 ugatit train` of the families with training state of their
 * own (CycleGAN's image pools, the random draws of UNIT, MUNIT and DRIT):
 * two ranks of batch 1 end where one process of batch 2 does, to float
 * tolerance, the state included; each of them resumes on another number
 * of ranks (CycleGAN's pools, UNIT's and MUNIT's draws); DRIT, whose step takes 2 images a rank, trains on 2 ranks x 2
 * with the ranks' models and state kept the same, resumes on 2 ranks and is
 * refused on 1. */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/family.h"
#include "mpi_run.h"

/* Tiny models, 1 thread a rank, without the learning-rate decay. */
#define COMMON "--threads 1 --decay_flag false --img_size 32 "
static const struct {
    const char *name, *flags;
} families[] = {
    {"cyclegan", "--family cyclegan " COMMON "--ch 2 --n_res 1"},
    {"unit", "--family unit " COMMON "--gen_dim 2 --n_res 1 --n_layer 2"},
    {"munit", "--family munit " COMMON "--gen_dim 4 --n_res 1 --n_layer 2 --style_dim 3 "
              "--mlp_dim 16"},
};
/* DRIT at its 216 crop: its content discriminator needs 212 or more. */
#define DRIT "--family drit --threads 1 --decay_flag false --ch 1 --dis_scale 1"
/* Weights (and CycleGAN's pooled images) after 3 steps of 2 x 1 against
 * 1 x 2, of the parameters the loss depends on (see dead_param): the sums
 * of the batch come in another order, nothing else differs. The losses of
 * each step too, relative to their size (or 1). */
#define TOLERANCE 1e-5
#define MOMENT_TOLERANCE 1e-3 /* relative */
#define LOSS_TOLERANCE 1e-5

/* The numbers of a line of log.csv into x (max of them); their count. */
static int fields(const char *line, double *x, int max)
{
    int n = 0;
    for (const char *p = line; p && n < max; p = strchr(p, ',')) {
        p += *p == ',';
        x[n++] = strtod(p, NULL);
    }
    return n;
}

/* The largest difference of the losses that two runs logged (log.csv's
 * rows of the step, the losses, lr and the seconds, these not compared),
 * relative to their size (or 1); -1 when the logs are not alike. */
static double log_diff(const char *result_a, const char *result_b)
{
    char path[700], line[2][4096];
    const char *result[2] = {result_a, result_b};
    FILE *f[2];
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s/shapes/log.csv", dir, result[i]);
        f[i] = fopen(path, "r");
    }
    double m = f[0] && f[1] ? 0 : -1, x[2][UG_MAX_LOSSES + 3];
    for (int row = 0; m >= 0 && fgets(line[0], sizeof line[0], f[0]); row++) {
        if (!fgets(line[1], sizeof line[1], f[1])) {
            m = -1;
            break;
        }
        if (row == 0)
            continue; /* the header */
        int n = fields(line[0], x[0], UG_MAX_LOSSES + 3);
        if (n != fields(line[1], x[1], UG_MAX_LOSSES + 3))
            m = -1;
        for (int i = 1; m >= 0 && i < n - 1; i++) {
            double d = fabs(x[0][i] - x[1][i]) / fmax(fabs(x[1][i]), 1);
            m = d > m ? d : m;
        }
    }
    for (int i = 0; i < 2; i++)
        if (f[i])
            fclose(f[i]);
    return m;
}

static void test_equivalence(int f)
{
    char out[16384], a[700], b[700], one[64], two[64];
    const char *steps = "--iteration 3 --save_freq 3 --print_freq 1";
    char args[256];
    snprintf(one, sizeof one, "%s_one", families[f].name);
    snprintf(two, sizeof two, "%s_two", families[f].name);
    snprintf(args, sizeof args, "%s --batch_size 2", steps);
    CHECK(mpi_train(1, one, families[f].flags, args, out, sizeof out) == 0, "%s 1 x 2: %s",
          families[f].name, out);
    snprintf(args, sizeof args, "%s --batch_size 1", steps);
    CHECK(mpi_train(2, two, families[f].flags, args, out, sizeof out) == 0, "%s 2 x 1: %s",
          families[f].name, out);
    ckpt_path(a, sizeof a, one, 3);
    ckpt_path(b, sizeof b, two, 3);
    double w = max_diff(a, b, 0, 1), m = max_diff(a, b, 1, 1), l = log_diff(one, two);
    printf("%s: 2 ranks x batch 1 vs 1 x batch 2 after 3 steps: weights and state differ by at "
           "most %.3g, Adam moments by %.3g (relative), losses by %.3g (relative); all "
           "parameters, those the loss does not depend on too, by %.3g\n", families[f].name,
           w, m, l, max_diff(a, b, 0, 0));
    CHECK(w >= 0 && w <= TOLERANCE, "%s: weights of 2 x 1 and 1 x 2 differ by %g",
          families[f].name, w);
    CHECK(m >= 0 && m <= MOMENT_TOLERANCE, "%s: Adam moments of 2 x 1 and 1 x 2 differ by %g",
          families[f].name, m);
    CHECK(l >= 0 && l <= LOSS_TOLERANCE, "%s: losses of 2 x 1 and 1 x 2 differ by %g",
          families[f].name, l);
}

/* Two steps on one number of ranks, the third on the other, as 1 x 2 alone
 * (CycleGAN's pools, UNIT's and MUNIT's draws carried by the checkpoint). */
static void test_resume(int f)
{
    char out[16384], a[700], b[700], one[64], r21[64], r12[64];
    const char *name = families[f].name, *flags = families[f].flags;
    snprintf(one, sizeof one, "%s_one", name);
    snprintf(r21, sizeof r21, "%s21", name);
    snprintf(r12, sizeof r12, "%s12", name);
    ckpt_path(a, sizeof a, one, 3);
    CHECK(mpi_train(2, r21, flags, "--iteration 2 --batch_size 1", out, sizeof out) == 0,
          "%s 2 x 1, 2 steps: %s", name, out);
    CHECK(mpi_train(1, r21, flags, "--iteration 3 --resume true", out, sizeof out) == 0,
          "%s resumed on 1 rank: %s", name, out);
    ckpt_path(b, sizeof b, r21, 3);
    double w21 = max_diff(a, b, 0, 1);
    CHECK(w21 >= 0 && w21 <= TOLERANCE, "%s 2 ranks then 1 differs from 1 x 2 by %g", name, w21);
    CHECK(mpi_train(1, r12, flags, "--iteration 2 --batch_size 2", out, sizeof out) == 0,
          "%s 1 x 2, 2 steps: %s", name, out);
    CHECK(mpi_train(2, r12, flags, "--iteration 3 --resume true", out, sizeof out) == 0,
          "%s resumed on 2 ranks: %s", name, out);
    ckpt_path(b, sizeof b, r12, 3);
    double w12 = max_diff(a, b, 0, 1);
    CHECK(w12 >= 0 && w12 <= TOLERANCE, "%s 1 rank then 2 differs from 1 x 2 by %g", name, w12);
    printf("%s resumed across rank counts: within %.3g (2 then 1) and %.3g (1 then 2) of "
           "1 x 2\n", name, w21, w12);
}

/* DRIT on 2 ranks x 2: the ranks agree (their hash at each checkpoint), a
 * resume on 2 ranks ends where the uninterrupted run does, and one on 1
 * rank is refused. */
static void test_drit(void)
{
    char out[16384], a[700], b[700];
    CHECK(mpi_train(2, "drit", DRIT, "--iteration 3 --save_freq 1", out, sizeof out) == 0 &&
              strstr(out, "batch 4 (2 ranks x 2)"),
          "drit 2 x 2: %s", out);
    CHECK(mpi_train(2, "drit2", DRIT, "--iteration 2", out, sizeof out) == 0,
          "drit 2 x 2, 2 steps: %s", out);
    CHECK(mpi_train(2, "drit2", DRIT, "--iteration 3 --resume true", out, sizeof out) == 0,
          "drit resumed on 2 ranks: %s", out);
    ckpt_path(a, sizeof a, "drit", 3);
    ckpt_path(b, sizeof b, "drit2", 3);
    double w = max_diff(a, b, 0, 0);
    printf("drit 2 x 2: resumed at step 2 on 2 ranks, within %.3g of the uninterrupted run\n",
           w);
    CHECK(w == 0, "drit resumed on 2 ranks differs from the uninterrupted run by %g", w);
    int rc = mpi_train(1, "drit2", DRIT, "--iteration 4 --resume true", out, sizeof out);
    CHECK(rc != 0 && strstr(out, "DRIT trains on batches of 2 images per domain per rank, not "
                                 "a global batch of 4 on 1 rank"),
          "drit resumed on 1 rank (%d): %s", rc, out);
    rc = mpi_train(2, "drit1", DRIT, "--iteration 1 --batch_size 1", out, sizeof out);
    CHECK(rc != 0 && strstr(out, "not a global batch of 2 on 2 ranks"),
          "drit on 2 ranks x 1 (%d): %s", rc, out);
}

int main(void)
{
    if (mpi_setup() < 0)
        return 1;
    for (int f = 0; f < (int)(sizeof families / sizeof families[0]); f++) {
        test_equivalence(f);
        test_resume(f);
    }
    test_drit();
    return mpi_finish();
}
