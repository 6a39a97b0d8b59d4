/* Atomic file replacement (temp file + fsync + rename); see atomic.h. */
#define _XOPEN_SOURCE 700 /* realpath */
#include "io/atomic.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/file.h"

static void release(ug_atomic *a)
{
    free(a->name);
    free(a->path);
    free(a->tmp_path);
    a->fd = -1;
    a->name = a->path = a->tmp_path = NULL;
}

static char *copy_of(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    return p ? memcpy(p, s, n) : NULL;
}

/* Sets a->path to the file to replace: path itself when it does not exist
 * (or cannot be looked at: creating the temporary file then says why), the
 * final target of a symbolic link, and only ever a regular file. */
static int find_target(ug_atomic *a, const char *path, ug_error *err)
{
    struct stat st;
    if (lstat(path, &st) != 0) {
        a->path = copy_of(path);
        return a->path ? 0 : ug_fail(err, "%s: out of memory", path);
    }
    if (S_ISLNK(st.st_mode)) {
        a->path = realpath(path, NULL);
        if (!a->path && errno == ENOENT)
            return ug_fail(err, "%s: a symbolic link to a missing file; not writing through it",
                           path);
        if (!a->path || stat(a->path, &st) != 0)
            return ug_fail(err, "%s: cannot follow the symbolic link: %s", path, strerror(errno));
    }
    if (!S_ISREG(st.st_mode))
        return ug_fail(err, "%s: %s, not a regular file", path, ug_file_kind(st.st_mode));
    if (!a->path)
        a->path = copy_of(path);
    return a->path ? 0 : ug_fail(err, "%s: out of memory", path);
}

int ug_atomic_open(ug_atomic *a, const char *path, ug_error *err)
{
    memset(a, 0, sizeof *a);
    a->fd = -1;
    a->name = copy_of(path);
    if (!a->name) {
        release(a);
        return ug_fail(err, "%s: out of memory", path);
    }
    if (find_target(a, path, err) != 0) {
        release(a);
        return -1;
    }
    size_t len = strlen(a->path) + 32;
    a->tmp_path = malloc(len);
    if (!a->tmp_path) {
        release(a);
        return ug_fail(err, "%s: out of memory", path);
    }
    snprintf(a->tmp_path, len, "%s.tmp.%ld", a->path, (long)getpid());
    a->fd = open(a->tmp_path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
    if (a->fd < 0) {
        int e = errno;
        release(a);
        return ug_fail(err, "%s: cannot create temporary file: %s", path, strerror(e));
    }
    return 0;
}

void ug_atomic_write(ug_atomic *a, const void *data, size_t n)
{
    const char *p = data;
    while (n > 0 && !a->error) {
        ssize_t got = write(a->fd, p, n < SSIZE_MAX ? n : SSIZE_MAX);
        if (got > 0) {
            p += got;
            n -= (size_t)got;
        } else if (got == 0 || errno != EINTR) {
            a->error = got == 0 ? EIO : errno; /* 0: no progress, never seen on a file */
        }
    }
}

void ug_atomic_abort(ug_atomic *a)
{
    if (a->fd >= 0)
        close(a->fd);
    if (a->tmp_path)
        unlink(a->tmp_path);
    release(a);
}

/* Makes the rename itself durable; failure here is not worth reporting
 * (some file systems refuse fsync on directories). */
static void sync_parent_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = NULL;
    if (!slash) {
        dir = copy_of(".");
    } else {
        size_t n = slash == path ? 1 : (size_t)(slash - path);
        dir = malloc(n + 1);
        if (dir) {
            memcpy(dir, path, n);
            dir[n] = '\0';
        }
    }
    if (!dir)
        return;
    int fd = open(dir, O_RDONLY);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
    free(dir);
}

int ug_atomic_commit(ug_atomic *a, ug_error *err)
{
    int e = a->error;
    if (!e && fsync(a->fd) != 0)
        e = errno;
    if (close(a->fd) != 0 && !e)
        e = errno;
    a->fd = -1;
    if (!e && rename(a->tmp_path, a->path) != 0)
        e = errno;
    if (e) {
        unlink(a->tmp_path);
        ug_fail(err, "%s: write failed: %s", a->name, strerror(e));
        release(a);
        return -1;
    }
    sync_parent_dir(a->path);
    release(a);
    return 0;
}
