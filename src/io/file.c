/* Opening input files (see file.h). */
#include "io/file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *ug_file_kind(mode_t mode)
{
    if (S_ISFIFO(mode))
        return "is a FIFO";
    if (S_ISDIR(mode))
        return "is a directory";
    if (S_ISCHR(mode) || S_ISBLK(mode))
        return "is a device";
    if (S_ISSOCK(mode))
        return "is a socket";
    return "is special";
}

/* Closes fd and reports errno's reason. */
static int open_failed(int fd, const char *path, ug_error *err)
{
    int e = errno;
    close(fd);
    return ug_fail(err, "%s: cannot open: %s", path, strerror(e));
}

int ug_open_read(const char *path, uint64_t *size, ug_error *err)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK);
    if (fd < 0)
        return ug_fail(err, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0)
        return open_failed(fd, path, err);
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return ug_fail(err, "%s: %s, not a regular file", path, ug_file_kind(st.st_mode));
    }
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0)
        return open_failed(fd, path, err);
    if (size)
        *size = (uint64_t)st.st_size;
    return fd;
}

FILE *ug_fopen_read(const char *path, uint64_t *size, ug_error *err)
{
    int fd = ug_open_read(path, size, err);
    if (fd < 0)
        return NULL;
    FILE *fp = fdopen(fd, "rb");
    if (!fp)
        open_failed(fd, path, err);
    return fp;
}
