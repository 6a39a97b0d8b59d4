/* The official code's checkpoint files: checkpoints/NAME/latest_net_G_A.pth,
 * latest_net_G_B.pth, latest_net_D_A.pth, latest_net_D_B.pth, each one
 * network's bare state_dict (torch.save(net.state_dict())). One file's
 * network is told by its name; a folder of them reads as one file of
 * GROUP.NAME tensors, and is written back from one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "io/pt.h"
#include "io/tensor_file.h"
#include "model/cyclegan/cyclegan.h"

#define FILE_PREFIX "latest_net_"

const char *cg_single_group(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    /* "..._net_D_B.pth" and the like; otherwise a generator A to B. */
    for (int i = 0; i < CG_N_NETS; i++) {
        const char *g = ug_family_cyclegan.net_names[i], *p = base;
        size_t len = strlen(g);
        while ((p = strstr(p, "net_")) != NULL) {
            p += 4;
            if (strncmp(p, g, len) == 0 && (p[len] == '.' || p[len] == '\0'))
                return g;
        }
    }
    return ug_family_cyclegan.net_names[CG_G_A];
}

/* Copies every tensor of src into dst (names kept). */
static int copy_tensors(ug_st_file *dst, const ug_st_file *src, const char *path,
                        ug_error *err)
{
    for (size_t i = 0; i < ug_st_count(src); i++) {
        const ug_st_tensor *t = ug_st_at(src, i);
        float *data = t->numel ? malloc(t->numel * sizeof *data) : NULL;
        if (t->numel && !data)
            return ug_fail(err, "%s: out of memory", path);
        if (t->numel)
            memcpy(data, t->data, t->numel * sizeof *data);
        if (ug_st_add(dst, t->name, t->ndim, t->shape, data, path, err) < 0)
            return -1;
    }
    return 0;
}

int cg_open_folder(ug_st_file **out, const char *dir, ug_error *err)
{
    char path[4096];
    ug_st_file *f;
    *out = NULL;
    if (ug_st_new(&f, err) < 0)
        return -1;
    int found = 0, rc = 0;
    for (int i = 0; i < CG_N_NETS && rc == 0; i++) {
        const char *g = ug_family_cyclegan.net_names[i];
        snprintf(path, sizeof path, "%s/" FILE_PREFIX "%s.pth", dir, g);
        struct stat st;
        if (stat(path, &st) != 0)
            continue;
        ug_st_file *one;
        rc = ug_tensor_file_open(&one, path, g, err);
        if (rc == 0) {
            /* A file of another network's keys under this name is refused. */
            char key[64];
            snprintf(key, sizeof key, "%s.model.%d.weight", g, i < CG_D_A ? 1 : 0);
            if (!ug_st_find(one, key))
                rc = ug_fail(err, "%s: no '%s' in it: not the state_dict of a CycleGAN %s",
                             path, key + strlen(g) + 1,
                             i < CG_D_A ? "generator" : "discriminator");
            if (rc == 0)
                rc = copy_tensors(f, one, path, err);
            ug_st_close(one);
            found |= 1 << i;
        }
    }
    if (rc == 0 && !(found & CG_GENERATORS))
        rc = ug_fail(err, "%s: a folder without " FILE_PREFIX "G_A.pth or " FILE_PREFIX
                          "G_B.pth (the official CycleGAN checkpoint layout)", dir);
    if (rc == 0)
        rc = ug_st_finish(f, dir, err);
    if (rc < 0) {
        ug_st_close(f);
        return -1;
    }
    *out = f;
    return 0;
}

int cg_write_folder(const ug_st_file *f, const char *path, const char *dir, ug_error *err)
{
    size_t n = ug_st_count(f);
    ug_st_entry *e = calloc(n ? n : 1, sizeof *e);
    if (!e)
        return ug_fail(err, "out of memory");
    struct stat st;
    if (mkdir(dir, 0777) != 0 && (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))) {
        free(e);
        return ug_fail(err, "%s: cannot create the folder", dir);
    }
    int rc = 0, written = 0;
    char out[4096];
    for (int i = 0; i < CG_N_NETS && rc == 0; i++) {
        const char *g = ug_family_cyclegan.net_names[i];
        size_t len = strlen(g), k = 0;
        for (size_t j = 0; j < n; j++) {
            const ug_st_tensor *t = ug_st_at(f, j);
            if (strncmp(t->name, g, len) != 0 || t->name[len] != '.')
                continue;
            if (t->ndim > 4) {
                rc = ug_fail(err, "%s: tensor '%s' has %d dimensions; at most 4 can be written",
                             path, t->name, t->ndim);
                break;
            }
            e[k] = (ug_st_entry){.name = t->name + len + 1, .ndim = t->ndim, .data = t->data};
            for (int d = 0; d < t->ndim; d++)
                e[k].shape[d] = t->shape[d];
            k++;
        }
        if (rc == 0 && k > 0) {
            snprintf(out, sizeof out, "%s/" FILE_PREFIX "%s.pth", dir, g);
            rc = ug_pt_write_state_dict(out, e, k, err);
            written++;
        }
    }
    free(e);
    if (rc == 0 && written == 0)
        rc = ug_fail(err, "%s: no CycleGAN network (G_A, G_B, D_A, D_B) in it", path);
    return rc;
}
