/* Hostile use of training never damages a run (issue #9): resuming with a
 * longer --iteration, with contradicting flags or past the end, two runs in
 * one result folder, temporaries left by a killed run, an impossible
 * --n_dis, a training step that fails half-way, and log.csv as a link or a FIFO. */
#define _DEFAULT_SOURCE
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "cli.h"
#include "ugatit.h"

static char dir[] = "/tmp/ugatit_test_hostile_XXXXXX";
static char shapes[300];
/* img 32, ch 2, one residual block, discriminators of 5 and 3 layers. */
#define TINY "--img_size 32 --ch 2 --n_res 1 --n_dis 4 --light true --threads 2"

static int run(const char *args, char *out, size_t n)
{
    return run_cli(dir, args, 1, out, n);
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static void touch(const char *path)
{
    FILE *f = fopen(path, "w");
    if (f)
        fclose(f);
}

/* Trains `args` into dir/RESULT from scratch (--seed 3, a checkpoint at the end). */
static int train_new(const char *result, const char *args)
{
    char cmd[2048], out[8192];
    snprintf(cmd, sizeof cmd, "train --dataset %s --result_dir %s/%s --print_freq 100 "
             "--save_freq 100 --seed 3 %s " TINY, shapes, dir, result, args);
    int rc = run(cmd, out, sizeof out);
    CHECK(rc == 0, "train %s: %s", args, out);
    return rc;
}

/* The lr column of log.csv, steps 1..n into lr[0..n-1]; returns the rows read. */
static int read_lr(const char *result, double *lr, int n)
{
    char path[512], line[8192];
    snprintf(path, sizeof path, "%s/%s/shapes/log.csv", dir, result);
    FILE *f = fopen(path, "r");
    int rows = 0;
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f)) {
        char *comma = strrchr(line, ',');
        long step = strtol(line, NULL, 10);
        if (!comma || step < 1 || step > n)
            continue;
        *comma = 0;
        lr[step - 1] = strtod(strrchr(line, ',') + 1, NULL);
        rows++;
    }
    fclose(f);
    return rows;
}

/* Case 1: a larger --iteration on resume extends the run, with the decay
 * recomputed for the new total (the learning rates of a run that had that
 * total from the start), and a learning rate never goes below 0. */
static void test_resume_longer(void)
{
    char args[2048], out[8192], path[512];
    double lr[8], fresh[8];
    if (train_new("long", "--iteration 4") || train_new("fresh8", "--iteration 8"))
        return;
    snprintf(args, sizeof args, "train --dataset %s --result_dir %s/long --iteration 8 "
             "--resume true --print_freq 100 --save_freq 100", shapes, dir);
    CHECK(run(args, out, sizeof out) == 0, "resume with --iteration 8: %s", out);
    CHECK(strstr(out, "--iteration 8") && strstr(out, "was 4"), "banner: %s", out);
    CHECK(read_lr("long", lr, 8) == 8 && read_lr("fresh8", fresh, 8) == 8, "log.csv rows");
    for (int s = 4; s < 8; s++)
        CHECK(lr[s] == fresh[s] && lr[s] >= 0, "step %d: lr %g, a run of 8 steps has %g", s + 1,
              lr[s], fresh[s]);
    CHECK(lr[7] >= 0 && lr[7] < 1e-15, "lr at the last step: %g", lr[7]);
    char meta[64];
    ug_error err;
    snprintf(path, sizeof path, "%s/long/shapes/model/shapes_params_0000008.safetensors", dir);
    CHECK(ug_checkpoint_meta(path, "iteration", meta, sizeof meta, &err) == 0 &&
              strcmp(meta, "8") == 0,
          "checkpoint's iteration: %s", meta);

    /* An odd total: the release's schedule would end at -lr. */
    if (train_new("odd", "--iteration 3"))
        return;
    CHECK(read_lr("odd", lr, 3) == 3, "log.csv rows");
    CHECK(lr[0] == 1e-4 && lr[1] == 0 && lr[2] == 0, "lr of --iteration 3: %g %g %g", lr[0],
          lr[1], lr[2]);
}

/* Case 2: a flag given with --resume (or --init) that contradicts the
 * checkpoint is an error naming both values; flags not given take the
 * checkpoint's values. */
static void test_resume_flags(void)
{
    char args[2048], out[8192], ckpt[512];
    if (train_new("flags", "--iteration 2 --batch_size 2"))
        return;
    snprintf(ckpt, sizeof ckpt, "%s/flags/shapes/model/shapes_params_0000002.safetensors", dir);
    const char *bad[][2] = {
        {"--batch_size 1", "--batch_size 1 contradicts the checkpoint's batch_size 2"},
        {"--lr 0.0002", "--lr 0.0002 contradicts the checkpoint's lr 0.0001"},
        {"--cam_weight 10", "--cam_weight 10 contradicts the checkpoint's cam_weight 1000"},
        {"--seed 4", "--seed 4 contradicts the checkpoint's seed 3"},
        {"--augment_flag false", "--augment_flag false contradicts the checkpoint's "
                                 "augment_flag true"},
        {"--decay_flag false", "--decay_flag false contradicts the checkpoint's decay_flag true"},
        {"--ch 4", "--ch 4 contradicts the checkpoint's ch 2"},
        {"--n_dis 5", "--n_dis 5 contradicts the checkpoint's"},
        {"--norm in", "--norm in contradicts the checkpoint's norm adalin"},
        {"--cam_g false", "--cam_g false contradicts the checkpoint's cam_g true"},
        {"--cam_d false", "--cam_d false contradicts the checkpoint's cam_d true"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        /* TINY comes first, so that the contradicting flag given after it wins. */
        snprintf(args, sizeof args, "train --dataset %s --result_dir %s/flags --iteration 4 "
                 "--resume true " TINY " %s", shapes, dir, bad[i][0]);
        int rc = run(args, out, sizeof out);
        CHECK(rc == 1 && strstr(out, bad[i][1]) && strstr(out, ckpt),
              "%s on resume: %d %s", bad[i][0], rc, out);
    }
    /* Given and equal, or not given: the checkpoint's batch of 2 is used. */
    snprintf(args, sizeof args, "train --dataset %s --result_dir %s/flags --iteration 3 "
             "--resume true --batch_size 2 --seed 3 " TINY, shapes, dir);
    CHECK(run(args, out, sizeof out) == 0, "resume with the same flags: %s", out);
    snprintf(args, sizeof args, "train --dataset %s --result_dir %s/flags --iteration 4 "
             "--resume true", shapes, dir);
    CHECK(run(args, out, sizeof out) == 0, "resume without flags: %s", out);

    snprintf(args, sizeof args, "train --dataset %s --result_dir %s/init --iteration 1 "
             "--init %s --img_size 64", shapes, dir, ckpt);
    int rc = run(args, out, sizeof out);
    CHECK(rc == 1 && strstr(out, "--img_size 64 contradicts the checkpoint's img_size 32") &&
              strstr(out, ckpt),
          "--init with another img_size: %d %s", rc, out);
}

/* Case 3: a second run into a result folder in use fails at once, naming the
 * folder and the holder's pid. */
static void test_lock(void)
{
    char args[2048], out[8192], path[512], want[600];
    snprintf(path, sizeof path, "mkdir -p %s/locked/shapes", dir);
    CHECK(system(path) == 0, "mkdir");
    snprintf(path, sizeof path, "%s/locked/shapes/.lock", dir);
    FILE *f = fopen(path, "w");
    if (!f || flock(fileno(f), LOCK_EX | LOCK_NB) != 0) {
        CHECK(0, "cannot lock %s", path);
        return;
    }
    fprintf(f, "%ld\n", (long)getpid());
    fflush(f);
    snprintf(args, sizeof args, "train --dataset %s --result_dir %s/locked --iteration 1 " TINY,
             shapes, dir);
    int rc = run(args, out, sizeof out);
    snprintf(want, sizeof want, "%s/locked/shapes: in use by another ugatit train (pid %ld)", dir,
             (long)getpid());
    CHECK(rc == 1 && strstr(out, want), "second run: %d %s", rc, out);
    fclose(f);
    CHECK(run(args, out, sizeof out) == 0, "run after the lock is released: %s", out);

    /* A real run holds it while it trains. */
    char res[300], log[300];
    snprintf(res, sizeof res, "%s/busy", dir);
    snprintf(log, sizeof log, "%s/busy/shapes/log.csv", dir);
    pid_t pid = fork();
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stdout))
            _exit(126);
        execl(UGATIT_CLI, UGATIT_CLI, "train", "--dataset", shapes, "--result_dir", res,
              "--iteration", "100000", "--print_freq", "100000", "--save_freq", "100000",
              "--img_size", "32", "--ch", "2", "--n_res", "1", "--n_dis", "4", "--light", "true",
              "--threads", "1", (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 600 && !exists(log); i++)
        usleep(50000);
    snprintf(args, sizeof args, "train --dataset %s --result_dir %s --iteration 1 " TINY, shapes,
             res);
    rc = run(args, out, sizeof out);
    snprintf(want, sizeof want, "%s/shapes: in use by another ugatit train (pid %ld)", res,
             (long)pid);
    CHECK(rc == 1 && strstr(out, want), "run beside a running one: %d %s", rc, out);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
}

/* Case 5: temporaries of a dead writer are removed, a live one's are kept. */
static void test_stale_temporaries(void)
{
    char args[2048], out[8192], dead[3][512], live[512];
    pid_t pid = fork();
    if (pid == 0)
        _exit(0);
    waitpid(pid, NULL, 0);
    if (train_new("stale", "--iteration 1"))
        return;
    snprintf(dead[0], sizeof dead[0], "%s/stale/shapes/img/A2B_0000002.png.tmp.%ld", dir,
             (long)pid);
    snprintf(dead[1], sizeof dead[1],
             "%s/stale/shapes/model/shapes_params_0000002.safetensors.tmp.%ld", dir, (long)pid);
    snprintf(dead[2], sizeof dead[2], "%s/stale/shapes/test/A2B_1.png.tmp.%ld", dir, (long)pid);
    snprintf(live, sizeof live, "%s/stale/shapes/img/B2A_0000002.png.tmp.%ld", dir,
             (long)getpid());
    for (int i = 0; i < 3; i++)
        touch(dead[i]);
    touch(live);
    snprintf(args, sizeof args, "train --dataset %s --result_dir %s/stale --iteration 2 "
             "--resume true", shapes, dir);
    CHECK(run(args, out, sizeof out) == 0, "resume: %s", out);
    CHECK(!exists(dead[0]) && !exists(dead[1]), "train left a dead run's temporaries");
    CHECK(exists(live), "train removed a live process's temporary");
    snprintf(args, sizeof args, "test --dataset %s --result_dir %s/stale", shapes, dir);
    CHECK(run(args, out, sizeof out) == 0, "test: %s", out);
    CHECK(!exists(dead[2]), "test left a dead run's temporary");
}

/* Case 6: resuming a checkpoint already at or past --iteration does nothing,
 * says so and exits 0. */
static void test_nothing_to_do(void)
{
    char args[2048], out[8192];
    if (train_new("done", "--iteration 3"))
        return;
    snprintf(args, sizeof args, "train --dataset %s --result_dir %s/done --iteration 2 "
             "--resume true", shapes, dir);
    int rc = run(args, out, sizeof out);
    CHECK(rc == 0 && strstr(out, "nothing to do") && strstr(out, "already at step 3") &&
              !strstr(out, "done:"),
          "resume past --iteration: %d %s", rc, out);
    double lr[3];
    CHECK(read_lr("done", lr, 3) == 3, "log.csv lost rows");
}

/* Case 7: --n_dis below 4 gives a local discriminator of fewer than 3 layers. */
static void test_n_dis(void)
{
    char args[2048], out[8192];
    for (int n = 2; n <= 3; n++) {
        snprintf(args, sizeof args, "train --dataset %s --result_dir %s/ndis --n_dis %d", shapes,
                 dir, n);
        int rc = run(args, out, sizeof out);
        CHECK(rc == 2 && strstr(out, "--n_dis must be an integer from 4 to 11"),
              "--n_dis %d: %d %s", n, rc, out);
    }
}

/* Case 4: a step that fails half-way leaves the trainer refusing further
 * steps and saving, rather than continuing from a half-updated state; and
 * (case 2) the library refuses a batch of the wrong size. */
static void test_failed_step(void)
{
    ug_config c = {2, 1, 32, 1, 5, 3, UG_NORM_ADALIN, 0, 0, NULL, 0, 0};
    ug_train_config tc;
    ug_train_config_default(&tc);
    size_t n = (size_t)3 * c.img_size * c.img_size;
    float *x = calloc(n, sizeof *x), *bad = calloc(n, sizeof *bad);
    ug_error err;
    ug_model *m;
    ug_trainer *t;
    if (ug_model_new(&m, &c, 1, &err) < 0 || ug_trainer_new(&t, m, &tc, &err) < 0) {
        CHECK(0, "%s", err.msg);
        return;
    }
    bad[0] = NAN;
    /* A batch of another size is refused before anything changes. */
    CHECK(ug_trainer_step(t, x, x, 2, NULL, &err) < 0 && strstr(err.msg, "batch of 2") &&
              strstr(err.msg, "batch_size is 1"),
          "a batch of 2 for a trainer of 1: %s", err.msg);
    CHECK(ug_trainer_step(t, x, x, 1, NULL, &err) == 0, "%s", err.msg);
    CHECK(ug_trainer_step(t, bad, x, 1, NULL, &err) < 0 && strstr(err.msg, "training step 2") &&
              strstr(err.msg, "not finite"),
          "a NaN image was trained on: %s", err.msg);
    CHECK(ug_trainer_step(t, x, x, 1, NULL, &err) < 0 && strstr(err.msg, "failed state"),
          "a step after a failed one was not refused: %s", err.msg);
    char path[512];
    snprintf(path, sizeof path, "%s/failed.safetensors", dir);
    CHECK(ug_trainer_save(t, path, NULL, 0, &err) < 0 && strstr(err.msg, "failed state") &&
              !exists(path),
          "a half-updated trainer was saved: %s", err.msg);
    CHECK(ug_trainer_step_count(t) == 1, "step count %ld", ug_trainer_step_count(t));
    ug_trainer_free(t);
    ug_model_free(m);
    free(x);
    free(bad);
}

/* log.csv is written like every other file: through a symbolic link to its
 * target (the link stays), and a FIFO in its place is refused, not replaced. */
static void test_log_path(void)
{
    char path[512], target[512], args[1024], out[8192];
    snprintf(path, sizeof path, "mkdir -p %s/loglink/shapes %s/logfifo/shapes", dir, dir);
    CHECK(system(path) == 0, "mkdir");
    snprintf(target, sizeof target, "%s/elsewhere.csv", dir);
    snprintf(path, sizeof path, "%s/loglink/shapes/log.csv", dir);
    FILE *t = fopen(target, "w"); /* a dangling link is refused, as by cp */
    if (t)
        fclose(t);
    CHECK(symlink(target, path) == 0, "symlink");
    if (train_new("loglink", "--iteration 2"))
        return;
    struct stat st;
    CHECK(lstat(path, &st) == 0 && S_ISLNK(st.st_mode), "log.csv is still a symbolic link");
    FILE *f = fopen(target, "r");
    int lines = 0;
    for (int c; f && (c = fgetc(f)) != EOF;)
        lines += c == '\n';
    if (f)
        fclose(f);
    CHECK(lines == 3, "the link's target holds the header and 2 rows (%d lines)", lines);

    snprintf(path, sizeof path, "%s/logfifo/shapes/log.csv", dir);
    CHECK(mkfifo(path, 0600) == 0, "mkfifo");
    snprintf(args, sizeof args, "train --dataset %s --result_dir %s/logfifo --iteration 1 "
             TINY, shapes, dir);
    int rc = run(args, out, sizeof out);
    CHECK(rc != 0 && strstr(out, "log.csv") && strstr(out, "FIFO"),
          "a FIFO as log.csv is refused: %d %s", rc, out);
    CHECK(lstat(path, &st) == 0 && S_ISFIFO(st.st_mode), "the FIFO is left in place");
}

int main(void)
{
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    char args[1024], out[4096];
    snprintf(shapes, sizeof shapes, "%s/shapes", dir);
    snprintf(args, sizeof args, "make-shapes --out %s --n 8 --size 32 --seed 1", shapes);
    CHECK(run(args, out, sizeof out) == 0, "make-shapes: %s", out);
    test_failed_step();
    test_n_dis();
    test_nothing_to_do();
    test_resume_longer();
    test_resume_flags();
    test_lock();
    test_stale_temporaries();
    test_log_path();
    snprintf(args, sizeof args, "rm -rf %s", dir);
    CHECK(system(args) == 0, "cleanup");
    return check_summary();
}
