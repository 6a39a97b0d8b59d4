/* MUNIT's official checkpoint folder: UNIT's layout (src/model/unit/official.c),
 * its generators' keys enc_style.*, enc_content.*, dec.*, mlp.*, and the
 * decoder's AdaIN running_mean/var buffers kept (the networks have them). */
#include "model/munit/munit.h"
#include "model/unit/unit.h"

static const un_official munit = {"MUNIT", "enc_content.model.0.conv.weight", "dec.",
                                  mu_nets_in_file, MU_GENERATORS,
                                  "a.enc_style, a.enc_content, a, b.enc_style, ..."};

int mu_open_folder(ug_st_file **f, const char *dir, ug_error *err)
{
    return un_open_official(f, dir, &munit, err);
}

int mu_write_folder(const ug_st_file *f, const char *path, const char *dir, ug_error *err)
{
    return un_write_official(f, path, dir, &munit, err);
}
