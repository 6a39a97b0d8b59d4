/* `mpirun -np 2 ugatit train` on a tiny model, 1 thread per rank: two ranks
 * of batch 1 end where one process of batch 2 does (to float tolerance),
 * a checkpoint resumes on another number of ranks, and a rank that fails or
 * is stopped ends the other within seconds. Open MPI runs here as root
 * (CI, a fresh Debian root) over TCP on loopback: no shared memory. */
#define _DEFAULT_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mpi_run.h"

/* Without the decay, whose learning rate is 0 from step 2 of 3. */
#define TINY "--img_size 32 --ch 2 --n_res 1 --n_dis 4 --light true --threads 1 " \
    "--decay_flag false"
/* Parameters after 3 steps of 2 x 1 against 1 x 2: the sums of the batch
 * come in another order, nothing else differs. */
#define TOLERANCE 1e-5
#define MOMENT_TOLERANCE 1e-3 /* relative: measured 3e-5 */

/* The same in the full model, whose MLP weight's gradient is kept as terms
 * (net.h) and gathered over the ranks instead of all-reduced. */
#define TINY_FULL "--img_size 32 --ch 2 --n_res 1 --n_dis 4 --light false --threads 1 " \
    "--decay_flag false"

/* The tiny U-GAT-IT on np ranks. */
static int train(int np, const char *result, const char *args, char *out, size_t n)
{
    return mpi_train(np, result, TINY, args, out, n);
}

/* 3 steps of model on 2 ranks x batch 1 (result two) against 1 x 2 (one). */
static void equivalence(const char *model, const char *one, const char *two, char *out,
                        size_t n)
{
    char a[700], b[700];
    const char *steps = "--iteration 3 --save_freq 3 --print_freq 1";
    char args[256];
    snprintf(args, sizeof args, "%s --batch_size 2", steps);
    CHECK(mpi_train(1, one, model, args, out, n) == 0, "1 x 2: %s", out);
    snprintf(args, sizeof args, "%s --batch_size 1", steps);
    CHECK(mpi_train(2, two, model, args, out, n) == 0, "2 x 1: %s", out);
    CHECK(strstr(out, "batch 2 (2 ranks x 1)") && strstr(out, "2 ranks, comm"),
          "2 x 1 does not say its ranks: %s", out);
    ckpt_path(a, sizeof a, one, 3);
    ckpt_path(b, sizeof b, two, 3);
    double w = max_diff(a, b, 0, 0), m = max_diff(a, b, 1, 0);
    printf("%s: 2 ranks x batch 1 vs 1 x batch 2 after 3 steps: weights differ by at most "
           "%.3g, Adam moments by %.3g (relative)\n", strstr(model, "light true") ? "light" : "full",
           w, m);
    CHECK(w >= 0 && w <= TOLERANCE, "weights of 2 x 1 and 1 x 2 differ by %g", w);
    CHECK(m >= 0 && m <= MOMENT_TOLERANCE, "Adam moments of 2 x 1 and 1 x 2 differ by %g", m);
}

static void test_equivalence(void)
{
    char out[16384], a[700];
    equivalence(TINY_FULL, "full1", "full2", out, sizeof out);
    equivalence(TINY, "one", "two", out, sizeof out);
    /* Rank 0 alone writes: one log with a row per step. */
    snprintf(a, sizeof a, "%s/two/shapes/log.csv", dir);
    FILE *f = fopen(a, "r");
    int lines = 0, c;
    while (f && (c = fgetc(f)) != EOF)
        lines += c == '\n';
    if (f)
        fclose(f);
    CHECK(lines == 4, "log.csv of 2 x 1 has %d lines, not 4", lines);
}

/* Two steps on one number of ranks, the third on the other: as 1 x 2 alone. */
static void test_resume(void)
{
    char out[16384], a[700], b[700];
    CHECK(train(2, "r21", "--iteration 2 --batch_size 1", out, sizeof out) == 0,
          "2 x 1, 2 steps: %s", out);
    CHECK(train(1, "r21", "--iteration 3 --resume true", out, sizeof out) == 0,
          "resumed on 1 rank: %s", out);
    CHECK(strstr(out, "batch 2,") != NULL, "resumed on 1 rank without the global batch: %s",
          out);
    ckpt_path(a, sizeof a, "one", 3);
    ckpt_path(b, sizeof b, "r21", 3);
    double w = max_diff(a, b, 0, 0);
    CHECK(w >= 0 && w <= TOLERANCE, "2 ranks then 1 differs from 1 x 2 by %g", w);

    CHECK(train(1, "r12", "--iteration 2 --batch_size 2", out, sizeof out) == 0,
          "1 x 2, 2 steps: %s", out);
    CHECK(train(2, "r12", "--iteration 3 --resume true --batch_size 1", out, sizeof out) == 0,
          "resumed on 2 ranks: %s", out);
    ckpt_path(b, sizeof b, "r12", 3);
    w = max_diff(a, b, 0, 0);
    CHECK(w >= 0 && w <= TOLERANCE, "1 rank then 2 differs from 1 x 2 by %g", w);
    printf("resumed across rank counts: within %g of 1 x 2\n", w);
    /* A per-rank batch that contradicts the global one is refused. */
    int rc = train(2, "r12", "--iteration 4 --resume true --batch_size 2", out, sizeof out);
    CHECK(rc != 0 && strstr(out, "--batch_size 2 contradicts the checkpoint's batch_size 2 "
                                 "(global)"), "a contradicting batch (%d): %s", rc, out);
}

/* The pids of the processes whose parent is ppid. */
static int children(pid_t ppid, pid_t *pids, int max)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    int n = 0;
    while (d && (e = readdir(d)) && n < max) {
        char path[300], buf[512];
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        size_t got = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[got] = 0;
        char *p = strrchr(buf, ')'); /* after the command's name */
        int parent;
        if (p && sscanf(p + 2, "%*c %d", &parent) == 1 && parent == ppid)
            pids[n++] = (pid_t)atoi(e->d_name);
    }
    if (d)
        closedir(d);
    return n;
}

/* Starts a long 2-rank run, waits until it trains, sends sig to one rank;
 * returns mpirun's exit status and the seconds it took to end. */
static int hit_one_rank(const char *result, int sig, double *seconds)
{
    char cmd[2048], log[700];
    snprintf(cmd, sizeof cmd, "exec " MPIRUN " train --dataset %s --result_dir %s/%s " TINY
             " --iteration 100000 --batch_size 1 --save_freq 100000 >%s/%s.txt 2>&1",
             shapes, dir, result, dir, result);
    snprintf(log, sizeof log, "%s/%s/shapes/log.csv", dir, result);
    pid_t pid = fork();
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    struct stat st;
    for (int i = 0; i < 600 && (stat(log, &st) != 0 || st.st_size < 2000); i++)
        usleep(100000);
    pid_t ranks[8];
    int n = children(pid, ranks, 8), status = -1;
    CHECK(n == 2, "mpirun has %d children, not 2", n);
    double t0 = now();
    if (n >= 2)
        kill(ranks[1], sig);
    for (int i = 0; i < 300; i++) { /* 30 s at most */
        if (waitpid(pid, &status, WNOHANG) == pid)
            break;
        usleep(100000);
    }
    *seconds = now() - t0;
    if (!WIFEXITED(status) && !WIFSIGNALED(status)) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void test_failures(void)
{
    char out[16384], p[700];
    double s;
    /* A rank killed: the other ends within seconds, non-zero. */
    int rc = hit_one_rank("killed", SIGKILL, &s);
    printf("a rank killed: mpirun ended in %.1f s with status %d\n", s, rc);
    CHECK(rc > 0 && s < 10, "a rank killed: status %d after %.1f s", rc, s);
    /* A stop signal to one rank stops both after a checkpoint. */
    rc = hit_one_rank("stopped", SIGTERM, &s);
    printf("SIGTERM to one rank: mpirun ended in %.1f s with status %d\n", s, rc);
    CHECK(rc > 0 && s < 10, "SIGTERM to one rank: status %d after %.1f s", rc, s);
    snprintf(p, sizeof p, "%s/stopped.txt", dir);
    FILE *f = fopen(p, "r");
    size_t got = f ? fread(out, 1, sizeof out - 1, f) : 0;
    out[got] = 0;
    if (f)
        fclose(f);
    CHECK(strstr(out, "stopped by signal 15") && strstr(out, "saved "),
          "SIGTERM to one rank: no checkpoint: %s", out);
    /* A rank that fails on its own (rank 0 cannot lock the result folder)
     * ends the other with a message. */
    snprintf(p, sizeof p, "%s/locked/shapes", dir);
    char cmd[800];
    snprintf(cmd, sizeof cmd, "mkdir -p %s", p);
    CHECK(sh(cmd, out, sizeof out) == 0, "mkdir: %s", out);
    snprintf(p, sizeof p, "%s/locked/shapes/.lock", dir);
    int fd = open(p, O_RDWR | O_CREAT, 0644);
    CHECK(fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0, "cannot lock %s", p);
    double t0 = now();
    rc = train(2, "locked", "--iteration 3", out, sizeof out);
    s = now() - t0;
    CHECK(rc != 0 && strstr(out, "another rank failed") && s < 30,
          "a rank failing alone: status %d after %.1f s: %s", rc, s, out);
    if (fd >= 0)
        close(fd);
}

int main(void)
{
    if (mpi_setup() < 0)
        return 1;
    test_equivalence();
    test_resume();
    test_failures();
    return mpi_finish();
}
