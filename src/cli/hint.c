/* --img_size and --norm for checkpoints without metadata (see hint.h). */
#include "cli/hint.h"

#include <stdio.h>

int cli_hint(cli_opt *o, int n, const char *cmd, ug_config *hint)
{
    long img;
    ug_config_default(hint);
    if (cli_int(o, n, "img_size", 8, 8192, &img) < 0)
        return -1;
    hint->img_size = (int)img;
    const char *norm = cli_find(o, n, "norm")->value;
    if (norm) {
        int v = ug_norm_parse(norm);
        if (v < 0) {
            fprintf(stderr, "ugatit %s: --norm must be adalin, in, ln, adain or gn (got '%s')\n",
                    cmd, norm);
            return -1;
        }
        hint->norm = (ug_norm)v;
    }
    return 0;
}

int cli_hint_check(cli_opt *o, int n, const char *cmd, const ug_model *m, const char *path)
{
    const char *norm = cli_find(o, n, "norm")->value;
    ug_norm has = ug_model_config(m)->norm;
    if (norm && ug_norm_parse(norm) != (int)has) {
        fprintf(stderr, "ugatit %s: --norm %s contradicts %s, whose decoder norm is %s\n", cmd,
                norm, path, ug_norm_name(has));
        return -1;
    }
    return 0;
}
