/* Atomic file replacement (temp file + fsync + rename); see atomic.h. */
#include "io/atomic.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void release(ug_atomic *a)
{
    free(a->path);
    free(a->tmp_path);
    a->fp = NULL;
    a->path = a->tmp_path = NULL;
}

int ug_atomic_open(ug_atomic *a, const char *path, ug_error *err)
{
    memset(a, 0, sizeof *a);
    size_t len = strlen(path);
    a->path = malloc(len + 1);
    a->tmp_path = malloc(len + 32);
    if (!a->path || !a->tmp_path) {
        release(a);
        return ug_fail(err, "%s: out of memory", path);
    }
    memcpy(a->path, path, len + 1);
    snprintf(a->tmp_path, len + 32, "%s.tmp.%ld", path, (long)getpid());

    int fd = open(a->tmp_path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
    if (fd < 0) {
        int e = errno;
        release(a);
        return ug_fail(err, "%s: cannot create temporary file: %s", path, strerror(e));
    }
    a->fp = fdopen(fd, "wb");
    if (!a->fp) {
        int e = errno;
        close(fd);
        unlink(a->tmp_path);
        release(a);
        return ug_fail(err, "%s: cannot open temporary file: %s", path, strerror(e));
    }
    return 0;
}

void ug_atomic_abort(ug_atomic *a)
{
    if (a->fp)
        fclose(a->fp);
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
        dir = malloc(2);
        if (dir)
            strcpy(dir, ".");
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
    int failed = ferror(a->fp) != 0;
    int e = failed ? EIO : 0;
    if (!failed && fflush(a->fp) != 0) {
        failed = 1;
        e = errno;
    }
    if (!failed && fsync(fileno(a->fp)) != 0) {
        failed = 1;
        e = errno;
    }
    if (fclose(a->fp) != 0 && !failed) {
        failed = 1;
        e = errno;
    }
    a->fp = NULL;
    if (!failed && rename(a->tmp_path, a->path) != 0) {
        failed = 1;
        e = errno;
    }
    if (failed) {
        unlink(a->tmp_path);
        ug_fail(err, "%s: write failed: %s", a->path, strerror(e));
        release(a);
        return -1;
    }
    sync_parent_dir(a->path);
    release(a);
    return 0;
}
