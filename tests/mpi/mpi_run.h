/* What the tests of `mpirun -np 2 ugatit train` share: a scratch folder
 * with the shapes data set, training runs on 1 or 2 ranks (1 thread each;
 * Open MPI as root, as on CI, over TCP on loopback: no shared memory), and
 * the difference of two checkpoints. */
#ifndef UG_TEST_MPI_RUN_H
#define UG_TEST_MPI_RUN_H

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "cli.h"
#include "io/safetensors.h"

static char dir[] = "/tmp/ugatit_test_mpi_XXXXXX";
static char shapes[512];
#define MPIRUN UGATIT_MPIRUN " --oversubscribe --allow-run-as-root --bind-to none " \
    "--mca pml ob1 --mca btl self,tcp --mca btl_tcp_if_include lo "                 \
    "--mca oob_tcp_if_include lo -x OMP_NUM_THREADS=1 -np 2 "                        \
    UGATIT_CLI

static inline double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Runs a shell command with its output into out; returns its exit status. */
static inline int sh(const char *cmd, char *out, size_t n)
{
    char full[4096], file[600];
    snprintf(file, sizeof file, "%s/output.txt", dir);
    snprintf(full, sizeof full, "OMP_NUM_THREADS=1 %s >%s 2>&1", cmd, file);
    return run_to_file(full, file, out, n);
}

/* The scratch folder and the shapes data set in it; 0 when ready. */
static inline int mpi_setup(void)
{
    char out[8192], cmd[1024];
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return -1;
    }
    snprintf(shapes, sizeof shapes, "%s/shapes", dir);
    snprintf(cmd, sizeof cmd, "%s make-shapes --out %s --n 8 --size 32 --seed 1", UGATIT_CLI,
             shapes);
    CHECK(sh(cmd, out, sizeof out) == 0, "make-shapes: %s", out);
    return 0;
}

/* The summary; the scratch folder goes unless a check failed. */
static inline int mpi_finish(void)
{
    char out[256], cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (check_failed == 0)
        sh(cmd, out, sizeof out);
    return check_summary();
}

/* `ugatit train` of the model `model` (flags) on the shapes into
 * RESULT/shapes, on np ranks (1: no mpirun). */
static inline int mpi_train(int np, const char *result, const char *model, const char *args,
                            char *out, size_t n)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s train --dataset %s --result_dir %s/%s %s %s",
             np > 1 ? MPIRUN : UGATIT_CLI, shapes, dir, result, model, args);
    return sh(cmd, out, n);
}

static inline void ckpt_path(char *p, size_t n, const char *result, long step)
{
    snprintf(p, n, "%s/%s/shapes/model/shapes_params_%07ld.safetensors", dir, result, step);
}

/* Whether tensor name of checkpoint f is a parameter the loss does not
 * depend on (a bias that an InstanceNorm right after it takes away again),
 * or its Adam moments: its gradient is rounding noise (the square root of
 * its largest second moment below 1e-6; measured at most 2e-7 for those,
 * at least 4e-5 for the others), which Adam scales up to steps of the
 * learning rate, so two runs whose sums come in another order differ in it
 * by up to that. */
static inline int dead_param(const ug_st_file *f, const char *name)
{
    char key[600];
    if (strncmp(name, "optim.", 6) == 0)
        name += 8; /* optim.m., optim.v. */
    snprintf(key, sizeof key, "optim.v.%s", name);
    const ug_st_tensor *v = ug_st_find(f, key);
    float top = 0;
    for (size_t i = 0; v && i < v->numel; i++)
        top = v->data[i] > top ? v->data[i] : top;
    return v && sqrt(top) < 1e-6;
}

/* The largest difference of the tensors two checkpoints share: of the
 * weights and buffers (and training state), or with optim of the Adam
 * moments relative to the tensor's norm (||a - b|| / ||b||: the second
 * moments are squares of gradients, large or tiny); with live, of the
 * parameters the loss depends on only (dead_param in a). -1 when they do
 * not hold the same tensors. */
static inline double max_diff(const char *a, const char *b, int optim, int live)
{
    ug_st_file *fa, *fb;
    ug_error err;
    if (ug_st_open(&fa, a, &err) < 0)
        return -1;
    if (ug_st_open(&fb, b, &err) < 0) {
        ug_st_close(fa);
        return -1;
    }
    double m = ug_st_count(fa) == ug_st_count(fb) ? 0 : -1;
    for (size_t i = 0; m >= 0 && i < ug_st_count(fa); i++) {
        const ug_st_tensor *x = ug_st_at(fa, i), *y = ug_st_find(fb, x->name);
        if (!y || x->numel != y->numel) {
            m = -1;
        } else if ((strncmp(x->name, "optim.", 6) == 0) == optim &&
                   !(live && dead_param(fa, x->name))) {
            double d = optim ? check_rel_l2(x->data, y->data, x->numel)
                             : check_max_abs_diff(x->data, y->data, x->numel);
            m = d > m ? d : m;
        }
    }
    ug_st_close(fa);
    ug_st_close(fb);
    return m;
}

#endif
