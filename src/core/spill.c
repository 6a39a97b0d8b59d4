/* File-backed memory (spill.h): mkstemp, unlink, posix_fallocate, mmap(MAP_SHARED). */
#define _DEFAULT_SOURCE /* madvise */
#include "core/spill.h"

#include "core/error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int ug_spill_alloc(ug_spill *s, const char *dir, size_t bytes, ug_error *err)
{
    *s = (ug_spill){-1, NULL, bytes};
    char path[4096];
    if (snprintf(path, sizeof path, "%s/ugatit-spill-XXXXXX", dir) >= (int)sizeof path)
        return ug_fail(err, "%s: folder name too long", dir);
    if ((s->fd = mkstemp(path)) < 0)
        return ug_fail(err, "%s: cannot create a file there: %s", dir, strerror(errno));
    unlink(path);
    /* posix_fallocate returns its error instead of setting errno. */
    int e = bytes > (size_t)INT64_MAX ? EFBIG : posix_fallocate(s->fd, 0, (off_t)bytes);
    if (!e) {
        s->map = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, s->fd, 0);
        e = s->map == MAP_FAILED ? errno : 0;
    }
    if (e) {
        close(s->fd);
        *s = (ug_spill){-1, NULL, 0};
        return ug_fail(err, "%s: cannot reserve %zu MB in a file there: %s", dir, bytes >> 20,
                       strerror(e));
    }
    return 0;
}

void ug_spill_free(ug_spill *s)
{
    if (!s->map)
        return;
    munmap(s->map, s->bytes);
    close(s->fd);
    *s = (ug_spill){-1, NULL, 0};
}

void ug_spill_release(const ug_spill *s)
{
    /* MADV_DONTNEED on a shared file mapping keeps what was written: dirty
     * pages stay in the page cache, and go from there to the file. */
    if (s->map)
        madvise(s->map, s->bytes, MADV_DONTNEED);
}

int ug_spill_read(const ug_spill *s, size_t off, void *buf, size_t n, ug_error *err)
{
    for (size_t done = 0; done < n;) {
        ssize_t r = pread(s->fd, (char *)buf + done, n - done, (off_t)(off + done));
        if (r <= 0 && !(r < 0 && errno == EINTR))
            return ug_fail(err, "reading a spill file: %s", r ? strerror(errno) : "at its end");
        done += r > 0 ? (size_t)r : 0;
    }
    return 0;
}

int ug_spill_write(const ug_spill *s, size_t off, const void *buf, size_t n, ug_error *err)
{
    for (size_t done = 0; done < n;) {
        ssize_t r = pwrite(s->fd, (const char *)buf + done, n - done, (off_t)(off + done));
        if (r <= 0 && !(r < 0 && errno == EINTR))
            return ug_fail(err, "writing a spill file: %s", r ? strerror(errno) : "no progress");
        done += r > 0 ? (size_t)r : 0;
    }
    return 0;
}
