/* Writing files where the output path is hostile or the disk gives out: a
 * symbolic link is written through to its target (atomically, beside it), a
 * device, FIFO or folder at the path is refused before anything is created,
 * and a failed write reports the system's reason (here EFBIG under
 * RLIMIT_FSIZE), not a generic one. */
#define _DEFAULT_SOURCE
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "files.h"
#include "io/image.h"
#include "io/safetensors.h"

static char dir[] = "/tmp/ugatit_test_write_XXXXXX";

static void in_dir(char *buf, size_t cap, const char *name)
{
    snprintf(buf, cap, "%s/%s", dir, name);
}

/* Names in folder d other than . and .., as "a b c" into out. */
static void listing(const char *d, char *out, size_t cap)
{
    out[0] = 0;
    DIR *dp = opendir(d);
    struct dirent *e;
    while (dp && (e = readdir(dp)) != NULL)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            snprintf(out + strlen(out), cap - strlen(out), "%s%s", out[0] ? " " : "", e->d_name);
    if (dp)
        closedir(dp);
}

static int write_tensor(const char *path, float v, ug_error *err)
{
    float x[4] = {v, v, v, v};
    ug_st_entry e[] = {{.name = "w", .ndim = 1, .shape = {4}, .data = x}};
    return ug_st_write(path, e, 1, NULL, 0, err);
}

/* The first float of tensor "w" in path, or -1. */
static float read_tensor(const char *path)
{
    ug_st_file *f;
    ug_error err;
    if (ug_st_open(&f, path, &err) < 0)
        return -1;
    float v = ug_st_find(f, "w") ? ug_st_find(f, "w")->data[0] : -1;
    ug_st_close(f);
    return v;
}

static void test_symlinks(void)
{
    char a[256], b[256], target[512], link1[512], link2[512], names[1024];
    ug_error err;
    snprintf(a, sizeof a, "%s/a", dir);
    snprintf(b, sizeof b, "%s/b", dir);
    CHECK(mkdir(a, 0777) == 0 && mkdir(b, 0777) == 0, "mkdir");
    snprintf(target, sizeof target, "%s/model.safetensors", b);
    snprintf(link1, sizeof link1, "%s/link1", a);
    snprintf(link2, sizeof link2, "%s/link2", a);
    CHECK(write_tensor(target, 1, &err) == 0, "%s", err.msg);
    /* a/link1 -> link2 -> ../b/model.safetensors, relative links */
    CHECK(symlink("../b/model.safetensors", link2) == 0 && symlink("link2", link1) == 0,
          "symlink");
    CHECK(write_tensor(link1, 2, &err) == 0, "through a chain of links: %s", err.msg);
    struct stat st;
    CHECK(lstat(link1, &st) == 0 && S_ISLNK(st.st_mode), "%s is no longer a link", link1);
    CHECK(lstat(link2, &st) == 0 && S_ISLNK(st.st_mode), "%s is no longer a link", link2);
    CHECK(read_tensor(target) == 2, "the link's target was not written");
    listing(a, names, sizeof names);
    CHECK(strcmp(names, "link1 link2") == 0 || strcmp(names, "link2 link1") == 0,
          "%s holds '%s'", a, names);
    listing(b, names, sizeof names);
    CHECK(strcmp(names, "model.safetensors") == 0, "%s holds '%s'", b, names);

    /* A link to nothing: refused, and nothing is created on either side. */
    char dangling[512];
    snprintf(dangling, sizeof dangling, "%s/dangling", a);
    CHECK(symlink("../b/none.safetensors", dangling) == 0, "symlink");
    CHECK(write_tensor(dangling, 3, &err) < 0 && strstr(err.msg, dangling) &&
              strstr(err.msg, "symbolic link"),
          "dangling link: '%s'", err.msg);
    listing(b, names, sizeof names);
    CHECK(strcmp(names, "model.safetensors") == 0, "%s holds '%s'", b, names);
    unlink(dangling);
    unlink(link1);
    unlink(link2);
    unlink(target);
    rmdir(a);
    rmdir(b);
}

/* path exists and is not a regular file: the write is refused naming it
 * and what it is, and path is still what it was. */
static void expect_refused(const char *path, const char *kind, mode_t type)
{
    ug_error err = {""};
    char want[600];
    snprintf(want, sizeof want, "%s: %s, not a regular file", path, kind);
    CHECK(write_tensor(path, 1, &err) < 0 && strstr(err.msg, want), "%s: '%s' lacks '%s'", path,
          err.msg, want);
    ug_image img = {4, 4, (unsigned char[48]){0}};
    CHECK(ug_image_save_png(path, &img, &err) < 0 && strstr(err.msg, want),
          "PNG to %s: '%s' lacks '%s'", path, err.msg, want);
    struct stat st;
    CHECK(lstat(path, &st) == 0 && (st.st_mode & S_IFMT) == type, "%s was replaced", path);
}

static void test_special_files(void)
{
    char fifo[512], sub[512], dev[512], link[512], names[1024];
    in_dir(fifo, sizeof fifo, "fifo");
    in_dir(sub, sizeof sub, "folder");
    in_dir(link, sizeof link, "link_to_fifo");
    CHECK(mkfifo(fifo, 0600) == 0 && mkdir(sub, 0777) == 0 && symlink("fifo", link) == 0,
          "mkfifo, mkdir, symlink");
    expect_refused(fifo, "is a FIFO", S_IFIFO);
    expect_refused(sub, "is a directory", S_IFDIR);
    expect_refused(link, "is a FIFO", S_IFLNK);
    /* A device node of our own (the null device's numbers), where we may
     * make one: a failure to refuse must not damage a real device. */
    in_dir(dev, sizeof dev, "null");
    if (mknod(dev, S_IFCHR | 0666, makedev(1, 3)) == 0) {
        expect_refused(dev, "is a device", S_IFCHR);
        unlink(dev);
    } else {
        printf("device case skipped: mknod: %s\n", strerror(errno));
    }
    unlink(link);
    unlink(fifo);
    rmdir(sub);
    listing(dir, names, sizeof names);
    CHECK(names[0] == 0, "left behind in %s: %s", dir, names);
}

/* In a child limited to 1000-byte files (SIGXFSZ ignored, so write() fails
 * with EFBIG): both writers report "File too large", leaving nothing. */
static void test_write_error_reason(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit lim = {1000, 1000};
        setrlimit(RLIMIT_FSIZE, &lim);
        const char *want = strerror(EFBIG);
        char path[512], names[1024];
        ug_error err = {""};
        int bad = 0;
        static float x[1000];
        ug_st_entry e[] = {{.name = "w", .ndim = 1, .shape = {1000}, .data = x}};
        in_dir(path, sizeof path, "big.safetensors");
        if (ug_st_write(path, e, 1, NULL, 0, &err) == 0 || !strstr(err.msg, want)) {
            fprintf(stderr, "safetensors: '%s' lacks '%s'\n", err.msg, want);
            bad = 1;
        }
        static unsigned char noise[64 * 64 * 3]; /* incompressible: the PNG is > 12 kB */
        uint32_t r = 1;
        for (size_t i = 0; i < sizeof noise; i++) {
            r = r * 1664525u + 1013904223u;
            noise[i] = (unsigned char)(r >> 24);
        }
        ug_image img = {64, 64, noise};
        in_dir(path, sizeof path, "big.png");
        if (ug_image_save_png(path, &img, &err) == 0 || !strstr(err.msg, want)) {
            fprintf(stderr, "png: '%s' lacks '%s'\n", err.msg, want);
            bad = 1;
        }
        listing(dir, names, sizeof names);
        if (names[0]) {
            fprintf(stderr, "left behind: %s\n", names);
            bad = 1;
        }
        _exit(bad);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "a failed write gave the wrong reason");
}

int main(void)
{
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 2;
    }
    test_symlinks();
    test_special_files();
    test_write_error_reason();
    rmdir(dir);
    return check_summary();
}
