/* Dataset folders: recursive listing with opendir/readdir (no nftw, so the
 * relative paths come out directly), resolution of the --dataset argument,
 * and the test transform of one file. */
#include "data/dataset.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "data/transform.h"
#include "io/image.h"

typedef struct names {
    char **v;
    size_t n, cap;
} names;

static int names_push(names *s, char *p)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        char **v = realloc(s->v, cap * sizeof *v);
        if (!v)
            return -1;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = p;
    return 0;
}

static void names_free(names *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    memset(s, 0, sizeof *s);
}

static int has_image_ext(const char *name)
{
    static const char *const exts[] = {".jpg", ".jpeg", ".png"};
    size_t len = strlen(name);
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++) {
        size_t el = strlen(exts[i]);
        if (len > el && strcasecmp(name + len - el, exts[i]) == 0)
            return 1;
    }
    return 0;
}

/* "a" + "/" + "b", or just b when a is empty; malloc'd. */
static char *join(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    int slash = la > 0 && a[la - 1] != '/';
    char *p = malloc(la + slash + lb + 1);
    if (!p)
        return NULL;
    memcpy(p, a, la);
    if (slash)
        p[la] = '/';
    memcpy(p + la + slash, b, lb + 1);
    return p;
}

/* Appends the images under root/rel (rel "" for root itself) to out, as
 * paths relative to root. */
static int walk(names *out, const char *root, const char *rel, ug_error *err)
{
    char *dirpath = rel[0] ? join(root, rel) : strdup(root);
    if (!dirpath)
        return ug_fail(err, "%s: out of memory", root);
    DIR *d = opendir(dirpath);
    if (!d) {
        ug_fail(err, "%s: cannot read folder: %s", dirpath, strerror(errno));
        free(dirpath);
        return -1;
    }
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (errno = 0, e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char *full = join(dirpath, e->d_name);
        char *sub = rel[0] ? join(rel, e->d_name) : strdup(e->d_name);
        struct stat st;
        if (!full || !sub) {
            rc = ug_fail(err, "%s: out of memory", root);
        } else if (lstat(full, &st) == 0 && S_ISDIR(st.st_mode)) {
            rc = walk(out, root, sub, err);
        } else if (has_image_ext(e->d_name) && stat(full, &st) == 0 && S_ISREG(st.st_mode)) {
            if (names_push(out, sub) != 0)
                rc = ug_fail(err, "%s: out of memory", root);
            else
                sub = NULL;
        }
        free(full);
        free(sub);
    }
    if (rc == 0 && errno != 0)
        rc = ug_fail(err, "%s: cannot read folder: %s", dirpath, strerror(errno));
    closedir(d);
    free(dirpath);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int ug_dataset_list(ug_filelist *out, const char *dir, ug_error *err)
{
    memset(out, 0, sizeof *out);
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return ug_fail(err, "%s: no such folder", dir);
    names rel = {0};
    if (walk(&rel, dir, "", err) != 0) {
        names_free(&rel);
        return -1;
    }
    if (rel.n == 0) {
        names_free(&rel);
        return ug_fail(err, "%s: no images (.jpg, .jpeg, .png)", dir);
    }
    qsort(rel.v, rel.n, sizeof *rel.v, cmp_str);
    out->dir = strdup(dir);
    out->paths = calloc(rel.n, sizeof *out->paths);
    int rc = out->dir && out->paths ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < rel.n; i++) {
        out->paths[i] = join(dir, rel.v[i]);
        rc = out->paths[i] ? 0 : -1;
        out->n = i + 1;
    }
    names_free(&rel);
    if (rc != 0) {
        ug_filelist_free(out);
        return ug_fail(err, "%s: out of memory", dir);
    }
    return 0;
}

const char *ug_filelist_rel(const ug_filelist *l, size_t i)
{
    size_t n = strlen(l->dir);
    return l->paths[i] + n + (n > 0 && l->dir[n - 1] != '/'); /* as join() put them */
}

void ug_filelist_free(ug_filelist *l)
{
    if (!l)
        return;
    if (l->paths)
        for (size_t i = 0; i < l->n; i++)
            free(l->paths[i]);
    free(l->paths);
    free(l->dir);
    memset(l, 0, sizeof *l);
}

int ug_filelist_copy(ug_filelist *out, const ug_filelist *in, ug_error *err)
{
    memset(out, 0, sizeof *out);
    out->dir = strdup(in->dir ? in->dir : "");
    out->paths = calloc(in->n ? in->n : 1, sizeof *out->paths);
    int rc = out->dir && out->paths ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < in->n; i++) {
        out->paths[i] = strdup(in->paths[i]);
        rc = out->paths[i] ? 0 : -1;
        out->n = i + 1;
    }
    if (rc != 0) {
        ug_filelist_free(out);
        return ug_fail(err, "%s: out of memory", in->dir ? in->dir : "file list");
    }
    return 0;
}

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int put(char *out, size_t n, const char *s, const char *what, ug_error *err)
{
    size_t len = strlen(s);
    if (len + 1 > n)
        return ug_fail(err, "%s: path too long", what);
    memcpy(out, s, len + 1);
    return 0;
}

int ug_dataset_resolve(char *out, size_t n, const char *name_or_path, ug_error *err)
{
    if (!name_or_path || !name_or_path[0])
        return ug_fail(err, "dataset: empty name");
    char *rel = join("dataset", name_or_path);
    if (!rel)
        return ug_fail(err, "%s: out of memory", name_or_path);
    int rc;
    if (is_dir(rel))
        rc = put(out, n, rel, name_or_path, err);
    else if (is_dir(name_or_path))
        rc = put(out, n, name_or_path, name_or_path, err);
    else
        rc = ug_fail(err, "%s: no such dataset (neither %s nor %s is a folder)", name_or_path,
                     rel, name_or_path);
    free(rel);
    return rc;
}

void ug_dataset_name(char *out, size_t n, const char *root)
{
    if (n == 0)
        return;
    size_t end = strlen(root);
    while (end > 1 && root[end - 1] == '/')
        end--;
    size_t start = end;
    while (start > 0 && root[start - 1] != '/')
        start--;
    if (start == end && end > 0) /* root is "/" */
        start = end - 1;
    size_t len = end - start;
    if (len >= n)
        len = n - 1;
    memcpy(out, root + start, len);
    out[len] = '\0';
}

int ug_dataset_subdir(char *out, size_t n, const char *root, const char *sub, ug_error *err)
{
    char *p = join(root, sub);
    if (!p)
        return ug_fail(err, "%s: out of memory", root);
    int rc = put(out, n, p, root, err);
    free(p);
    return rc;
}

int ug_load_test_image(float *chw, const char *path, int img, ug_pipeline pipe,
                       ug_error *err)
{
    ug_image im;
    if (ug_image_load(&im, path, err) != 0)
        return -1;
    int rc = ug_transform(chw, &im, img, NULL, pipe, err);
    ug_image_free(&im);
    if (rc != 0)
        return ug_error_prefix(err, "%s", path);
    return 0;
}
