/* The result folder of a training run (see results.h). */
#define _DEFAULT_SOURCE /* flock */
#include "cli/results.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "io/atomic.h"
#include "io/file.h"

int ug_mkdirs(const char *path, ug_error *err)
{
    char buf[UG_PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return ug_fail(err, "%s: path too long", path);
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || *p == 0) {
            char c = *p;
            *p = 0;
            if (mkdir(buf, 0777) < 0 && errno != EEXIST)
                return ug_fail(err, "%s: cannot create folder: %s", buf, strerror(errno));
            struct stat st;
            if (stat(buf, &st) < 0 || !S_ISDIR(st.st_mode))
                return ug_fail(err, "%s: exists and is not a folder", buf);
            *p = c;
            if (!c)
                break;
        }
    }
    return 0;
}

int ug_results_init(ug_results *r, const char *result_dir, const char *name, ug_error *err)
{
    snprintf(r->name, sizeof r->name, "%s", name);
    if (snprintf(r->root, sizeof r->root, "%s/%s", result_dir, name) >= (int)sizeof r->root)
        return ug_fail(err, "%s: path too long", result_dir);
    const char *sub[3] = {"model", "img", "test"};
    for (int i = 0; i < 3; i++) {
        char p[UG_PATH_MAX + 16];
        snprintf(p, sizeof p, "%s/%s", r->root, sub[i]);
        if (ug_mkdirs(p, err) < 0)
            return -1;
    }
    return 0;
}

int ug_results_lock(const ug_results *r, int *fd_out, ug_error *err)
{
    char path[UG_PATH_MAX + 8], pid[32] = "";
    snprintf(path, sizeof path, "%s/.lock", r->root);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0)
        return ug_fail(err, "%s: %s", path, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        int e = errno;
        ssize_t n = e == EWOULDBLOCK ? read(fd, pid, sizeof pid - 1) : 0;
        close(fd);
        if (e != EWOULDBLOCK)
            return ug_fail(err, "%s: cannot lock: %s", path, strerror(e));
        pid[n > 0 ? n : 0] = 0;
        pid[strcspn(pid, "\n")] = 0;
        return ug_fail(err, "%s: in use by another ugatit train (pid %s); wait for it to end or "
                            "give another --result_dir", r->root, *pid ? pid : "unknown");
    }
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) < 0 || write(fd, pid, (size_t)n) != n) {
        int e = errno;
        close(fd);
        return ug_fail(err, "%s: cannot write: %s", path, strerror(e));
    }
    *fd_out = fd;
    return 0;
}

void ug_results_unlock(int fd)
{
    if (fd >= 0)
        close(fd);
}

/* The process id of a temporary's name "NAME.tmp.PID", or 0. */
static long temporary_pid(const char *file)
{
    const char *p = NULL;
    for (const char *q = strstr(file, ".tmp."); q; q = strstr(q + 1, ".tmp."))
        p = q + 5;
    if (!p || !isdigit((unsigned char)*p))
        return 0;
    char *end;
    long pid = strtol(p, &end, 10);
    return *end || pid <= 0 ? 0 : pid;
}

void ug_remove_stale_temporaries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    int removed = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        long pid = temporary_pid(e->d_name);
        if (pid == 0 || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue; /* not a temporary, or its writer may still be at work */
        char path[UG_PATH_MAX + 300];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        removed += unlink(path) == 0;
    }
    closedir(d);
    if (removed)
        printf("removed %d temporary file%s left in %s by a run that was killed\n", removed,
               removed == 1 ? "" : "s", dir);
}

void ug_results_checkpoint(const ug_results *r, long step, char *out, size_t n)
{
    snprintf(out, n, "%s/model/%s_params_%07ld.safetensors", r->root, r->name, step);
}

/* The step of "NAME_params_%07d.EXT", or -1. */
static long checkpoint_step(const char *file, const char *name)
{
    size_t len = strlen(name);
    if (strncmp(file, name, len) || strncmp(file + len, "_params_", 8))
        return -1;
    const char *digits = file + len + 8;
    char *end;
    long step = strtol(digits, &end, 10);
    if (end == digits || step < 0 || (strcmp(end, ".safetensors") && strcmp(end, ".pt")))
        return -1;
    return step;
}

int ug_find_newest_checkpoint(const char *model_dir, const char *name, char *out, size_t n,
                              long *step, ug_error *err)
{
    DIR *d = opendir(model_dir);
    if (!d)
        return errno == ENOENT ? 1 : ug_fail(err, "%s: %s", model_dir, strerror(errno));
    long best = -1;
    int best_is_st = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        long s = checkpoint_step(e->d_name, name);
        int is_st = strstr(e->d_name, ".safetensors") != NULL;
        /* At equal steps our own format wins: it holds the optimiser state. */
        if (s > best || (s == best && s >= 0 && is_st && !best_is_st)) {
            best = s;
            best_is_st = is_st;
            snprintf(out, n, "%s/%s", model_dir, e->d_name);
        }
    }
    closedir(d);
    if (best < 0)
        return 1;
    *step = best;
    return 0;
}

/* Copies the header and the rows with step <= keep_step of the old log. */
static int copy_kept_rows(FILE *in, FILE *out, long keep_step)
{
    char line[8192];
    int first = 1;
    while (fgets(line, sizeof line, in)) {
        if (first) {
            first = 0;
            continue; /* the header is written anew */
        }
        char *end;
        long step = strtol(line, &end, 10);
        if (end != line && *end == ',' && step <= keep_step)
            fputs(line, out);
    }
    return ferror(out) ? -1 : 0;
}

int ug_csv_open(FILE **out, const char *path, const char *header, long keep_step,
                ug_error *err)
{
    /* The header and the kept rows, replaced atomically; then the stream
     * appends the rows of this run as they come. */
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    if (!m)
        return ug_fail(err, "%s: out of memory", path);
    fputs(header, m);
    FILE *old = keep_step > 0 ? ug_fopen_read(path, NULL, NULL) : NULL; /* none: no rows */
    if (old) {
        copy_kept_rows(old, m, keep_step);
        fclose(old);
    }
    if (fclose(m) != 0) {
        free(text);
        return ug_fail(err, "%s: out of memory", path);
    }
    ug_atomic a;
    int rc = ug_atomic_open(&a, path, err);
    if (rc == 0) {
        ug_atomic_write(&a, text, len);
        rc = ug_atomic_commit(&a, err);
    }
    free(text);
    if (rc < 0)
        return -1;
    FILE *f = fopen(path, "a");
    if (!f)
        return ug_fail(err, "%s: %s", path, strerror(errno));
    *out = f;
    return 0;
}

int ug_log_open(FILE **out, const ug_results *r, const ug_trainer *t, long keep_step,
                ug_error *err)
{
    char path[UG_PATH_MAX + 16], *header = NULL;
    size_t len = 0;
    snprintf(path, sizeof path, "%s/log.csv", r->root);
    FILE *h = open_memstream(&header, &len);
    if (!h)
        return ug_fail(err, "%s: out of memory", path);
    fputs("step", h);
    for (int i = 0; i < ug_trainer_loss_count(t); i++)
        fprintf(h, ",%s", ug_trainer_loss_name(t, i));
    fputs(",lr,seconds\n", h);
    int rc = fclose(h) != 0 ? ug_fail(err, "%s: out of memory", path)
                            : ug_csv_open(out, path, header, keep_step, err);
    free(header);
    return rc;
}

void ug_log_row(FILE *f, long step, const float *losses, int n_losses, double lr,
                double seconds)
{
    fprintf(f, "%ld", step);
    for (int i = 0; i < n_losses; i++)
        fprintf(f, ",%.9g", losses[i]);
    fprintf(f, ",%.9g,%.3f\n", lr, seconds);
    fflush(f);
}
