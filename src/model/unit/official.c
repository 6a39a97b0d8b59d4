/* The official code's checkpoint folder (outputs/NAME/checkpoints):
 * gen_NNNNNNNN.pt, {'a': gen_a.state_dict(), 'b': gen_b.state_dict()}, and
 * dis_NNNNNNNN.pt, {'a': dis_a..., 'b': dis_b...}; the lexicographically last
 * of each is the newest (trainer.resume). Read as one file: the generators'
 * keys as they are (a.enc.*, ...: our groups), the discriminators' under
 * dis_a, dis_b; InstanceNorm running statistics (PyTorch-0.3 files) are
 * dropped, as the official test script deletes them, except MUNIT's AdaIN
 * buffers, which its networks keep. Written back as the same two files.
 * MUNIT's folder is the same layout (un_official says what differs). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "io/pt.h"
#include "io/tensor_file.h"
#include "model/unit/unit.h"

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* The lexicographically last PREFIX*.pt in dir into name (empty: none). */
static void newest(const char *dir, const char *prefix, char *name, size_t n)
{
    name[0] = '\0';
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0 && ends_with(e->d_name, ".pt") &&
            strcmp(e->d_name, name) > 0 && strlen(e->d_name) < n)
            snprintf(name, n, "%s", e->d_name);
    closedir(d);
}

/* A running statistic the networks do not have: every one but those under
 * 'a.KEEP' or 'b.KEEP'. */
static int dropped_stat(const char *name, const char *keep)
{
    if (keep && (strncmp(name, "a.", 2) == 0 || strncmp(name, "b.", 2) == 0) &&
        strncmp(name + 2, keep, strlen(keep)) == 0)
        return 0;
    return ends_with(name, ".running_mean") || ends_with(name, ".running_var") ||
           ends_with(name, ".num_batches_tracked");
}

/* Copies src's tensors into dst, each name prefixed with `prefix` (may be ""). */
static int copy_tensors(ug_st_file *dst, const ug_st_file *src, const char *prefix,
                        const char *keep, const char *path, ug_error *err)
{
    char name[512];
    for (size_t i = 0; i < ug_st_count(src); i++) {
        const ug_st_tensor *t = ug_st_at(src, i);
        if (dropped_stat(t->name, keep))
            continue;
        snprintf(name, sizeof name, "%s%s", prefix, t->name);
        float *data = t->numel ? malloc(t->numel * sizeof *data) : NULL;
        if (t->numel && !data)
            return ug_fail(err, "%s: out of memory", path);
        if (t->numel)
            memcpy(data, t->data, t->numel * sizeof *data);
        if (ug_st_add(dst, name, t->ndim, t->shape, data, path, err) < 0)
            return -1;
    }
    return 0;
}

/* One of the two files: its keys must start with 'a.' or 'b.'. */
static int add_file(ug_st_file *f, const char *dir, const char *base, int dis,
                    const un_official *o, ug_error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, base);
    ug_st_file *one;
    if (ug_tensor_file_open(&one, path, NULL, err) < 0)
        return -1;
    int rc = 0;
    for (int side = 0; side < 2 && rc == 0; side++) {
        char key[64];
        snprintf(key, sizeof key, "%c.%s", 'a' + side,
                 dis ? "cnns.0.0.conv.weight" : o->gen_key);
        if (!ug_st_find(one, key))
            rc = ug_fail(err, "%s: no '%s' in it: not the official %s %s file", path, key,
                         o->title, dis ? "discriminators'" : "generators'");
    }
    if (rc == 0)
        rc = copy_tensors(f, one, dis ? "dis_" : "", o->keep_stats, path, err);
    ug_st_close(one);
    return rc;
}

int un_open_official(ug_st_file **out, const char *dir, const un_official *o, ug_error *err)
{
    char gen[256], dis[256];
    ug_st_file *f;
    *out = NULL;
    newest(dir, "gen", gen, sizeof gen);
    newest(dir, "dis", dis, sizeof dis);
    if (!gen[0])
        return ug_fail(err, "%s: a folder without gen_*.pt (the official %s checkpoint layout)",
                       dir, o->title);
    if (ug_st_new(&f, err) < 0)
        return -1;
    int rc = add_file(f, dir, gen, 0, o, err);
    if (rc == 0 && dis[0])
        rc = add_file(f, dir, dis, 1, o, err);
    if (rc == 0)
        rc = ug_st_finish(f, dir, err);
    if (rc < 0) {
        ug_st_close(f);
        return -1;
    }
    *out = f;
    return 0;
}

/* The tensors of groups a.*, b.* (generators; prefix "") or dis_a.*, dis_b.*
 * (prefix "dis_") as one file's entries named a.*, b.*. */
static int write_file(const ug_st_file *f, const char *path, const char *prefix, const char *out,
                      ug_error *err)
{
    size_t n = ug_st_count(f), k = 0, len = strlen(prefix);
    ug_st_entry *e = calloc(n ? n : 1, sizeof *e);
    if (!e)
        return ug_fail(err, "out of memory");
    int rc = 0;
    for (size_t j = 0; j < n && rc == 0; j++) {
        const ug_st_tensor *t = ug_st_at(f, j);
        const char *name = t->name + len;
        if (strncmp(t->name, prefix, len) != 0 || (strncmp(name, "a.", 2) && strncmp(name, "b.", 2)))
            continue;
        if (t->ndim > 4) {
            rc = ug_fail(err, "%s: tensor '%s' has %d dimensions; at most 4 can be written",
                         path, t->name, t->ndim);
            break;
        }
        e[k] = (ug_st_entry){.name = name, .ndim = t->ndim, .data = t->data};
        for (int d = 0; d < t->ndim; d++)
            e[k].shape[d] = t->shape[d];
        k++;
    }
    if (rc == 0 && k > 0)
        rc = ug_pt_write(out, e, k, err);
    free(e);
    return rc;
}

int un_write_official(const ug_st_file *f, const char *path, const char *dir,
                      const un_official *o, ug_error *err)
{
    const unsigned nets = o->nets_in_file(f);
    if (!(nets & o->generators))
        return ug_fail(err, "%s: no %s generators (%s) in it", path, o->title, o->gen_names);
    struct stat st;
    if (mkdir(dir, 0777) != 0 && (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)))
        return ug_fail(err, "%s: cannot create the folder", dir);
    /* Named by the steps done, as trainer.save names them. */
    const char *step = ug_st_meta(f, "step");
    long steps = step ? strtol(step, NULL, 10) : 0;
    char out[4096];
    snprintf(out, sizeof out, "%s/gen_%08ld.pt", dir, steps);
    if (write_file(f, path, "", out, err) < 0)
        return -1;
    snprintf(out, sizeof out, "%s/dis_%08ld.pt", dir, steps);
    return nets & ~o->generators ? write_file(f, path, "dis_", out, err) : 0;
}

static const un_official unit = {"UNIT", "enc.model.0.conv.weight", NULL, un_nets_in_file,
                                 UN_GENERATORS, "a.enc, a.dec, b.enc, b.dec"};

int un_open_folder(ug_st_file **f, const char *dir, ug_error *err)
{
    return un_open_official(f, dir, &unit, err);
}

int un_write_folder(const ug_st_file *f, const char *path, const char *dir, ug_error *err)
{
    return un_write_official(f, path, dir, &unit, err);
}
