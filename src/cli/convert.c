/* ugatit convert IN OUT: a checkpoint between PyTorch .pt and safetensors,
 * or between an official CycleGAN folder of .pth files and one safetensors.
 * The input format is read from the file's first bytes (or that it is a
 * folder), the output format from OUT's extension (a trailing '/': a
 * folder); the tensors (names, shapes, float32 values) are kept exactly and
 * each output file is written atomically. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "io/pt.h"
#include "io/safetensors.h"
#include "model/checkpoint.h"

static const char *usage = "usage: ugatit convert IN OUT\n\n"
                           "Converts a checkpoint between PyTorch .pt (the authors' release) and\n"
                           "safetensors. IN may be either; OUT's extension picks the format:\n"
                           ".pt or .pth, or .safetensors. Tensors are kept bit for bit; a .pt\n"
                           "holds no metadata, so metadata of a safetensors IN is dropped.\n\n"
                           "Official CycleGAN checkpoints: IN may be a folder holding\n"
                           "latest_net_{G_A,G_B,D_A,D_B}.pth (any of them, a generator at\n"
                           "least), made into one .safetensors; and OUT ending in '/' writes\n"
                           "the CycleGAN networks of IN as such a folder of .pth files.";

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* IN's networks as the official folder OUT of the family whose networks
 * it holds (one that has such a layout). */
static int convert_to_folder(const char *in, const char *out, ug_error *err)
{
    ug_st_file *f;
    if (ug_ckpt_open(&f, in, NULL, 0, err) < 0)
        return -1;
    const ug_family *fam;
    for (int i = 0; (fam = ug_family_at(i)) != NULL; i++)
        if (fam->write_folder && fam->nets_in_file(f))
            break;
    int rc = fam ? fam->write_folder(f, in, out, err)
                 : ug_fail(err, "%s: none of its networks has a folder layout (CycleGAN's "
                                "latest_net_*.pth)", in);
    ug_st_close(f);
    return rc;
}

static int convert(const char *in, const char *out, int to_pt, ug_error *err)
{
    ug_st_file *f;
    if (ug_ckpt_open(&f, in, NULL, 0, err) < 0)
        return -1;
    size_t n = ug_st_count(f);
    ug_st_entry *e = calloc(n ? n : 1, sizeof *e);
    int rc = e ? 0 : ug_fail(err, "out of memory");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const ug_st_tensor *t = ug_st_at(f, i);
        if (t->ndim > 4) {
            rc = ug_fail(err, "%s: tensor '%s' has %d dimensions; at most 4 can be written", in,
                         t->name, t->ndim);
            break;
        }
        e[i].name = t->name;
        e[i].ndim = t->ndim;
        for (int d = 0; d < t->ndim; d++)
            e[i].shape[d] = t->shape[d];
        e[i].data = t->data;
    }
    if (rc == 0 && to_pt && ug_st_meta_count(f) > 0)
        fprintf(stderr, "ugatit convert: note: the %zu metadata entries of %s are not kept (a .pt "
                        "has none)\n", ug_st_meta_count(f), in);
    if (rc == 0)
        rc = to_pt ? ug_pt_write(out, e, n, err) : ug_st_write(out, e, n, NULL, 0, err);
    free(e);
    ug_st_close(f);
    return rc;
}

int cmd_convert(int argc, char **argv)
{
    const char *pos[2];
    int n_pos = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("%s\n", usage);
            return 0;
        }
        if (strncmp(argv[i], "--", 2) == 0 || n_pos == 2) {
            fprintf(stderr, "ugatit convert: unexpected argument '%s' (see --help)\n", argv[i]);
            return 2;
        }
        pos[n_pos++] = argv[i];
    }
    if (n_pos != 2) {
        fprintf(stderr, "ugatit convert: expected IN and OUT (see --help)\n");
        return 2;
    }
    int to_pt = ends_with(pos[1], ".pt") || ends_with(pos[1], ".pth");
    int to_folder = ends_with(pos[1], "/");
    if (!to_pt && !to_folder && !ends_with(pos[1], ".safetensors")) {
        fprintf(stderr, "ugatit convert: cannot tell the format of '%s' from its name (use .pt, "
                        ".pth or .safetensors, or end a folder's name with '/')\n", pos[1]);
        return 2;
    }
    ug_error err = {{0}};
    if ((to_folder ? convert_to_folder(pos[0], pos[1], &err)
                   : convert(pos[0], pos[1], to_pt, &err)) < 0) {
        fprintf(stderr, "ugatit convert: %s\n", err.msg);
        return 1;
    }
    return 0;
}
