/* ugatit export: a trained generator in a format other runtimes load; for
 * now ONNX (src/export/onnx.h). */
#include <stdio.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/hint.h"
#include "export/onnx.h"
#include "model/model.h"

int cmd_export(int argc, char **argv)
{
    cli_opt o[] = {
        {"onnx", "OUT.onnx", "write the generator as an ONNX model (opset 17)", NULL, 1},
        {"model", "CKPT", "checkpoint (.safetensors, the release's .pt, an official CycleGAN "
                          ".pth or folder)", NULL, 1},
        {"direction", "A2B|B2A", "which generator to export", "A2B", 0},
        UG_HINT_OPTS,
    };
    int n = sizeof o / sizeof o[0];
    int rc = cli_parse(argc, argv, o, n,
                       "usage: ugatit export --onnx OUT.onnx --model CKPT [--direction A2B|B2A] "
                       "[--img_size N] [--norm in|ln]\n\n"
                       "Writes one generator as an ONNX model (opset 17, standard ops only) "
                       "that ONNX Runtime runs:\ninput 'image', float N x 3 x S x S in [-1, 1] "
                       "(N, the batch, is symbolic; S the model's\nimg_size); outputs "
                       "'translated', the same shape in [-1, 1], and, for a generator with\nCAM "
                       "attention, 'heatmap', N x 1 x S/4 x S/4: the values of ugatit translate "
                       "before\nthey are rounded to 8 bits.");
    if (rc)
        return rc < 0 ? 2 : 0;
    ug_config hint;
    const char *dir = cli_find(o, n, "direction")->value;
    if (cli_hint(o, n, "export", &hint) < 0)
        return 2;
    if (strcmp(dir, "A2B") && strcmp(dir, "B2A")) {
        fprintf(stderr, "ugatit export: --direction must be A2B or B2A (got '%s')\n", dir);
        return 2;
    }
    const char *model = cli_find(o, n, "model")->value, *out = cli_find(o, n, "onnx")->value;
    ug_error err = {{0}};
    ug_model *m = NULL;
    int status = 1;
    if (ug_model_load(&m, model, &hint, 0, &err) < 0)
        goto done;
    if (cli_hint_check(o, n, "export", m, model) < 0) {
        ug_model_free(m);
        return 2;
    }
    ug_direction d = strcmp(dir, "B2A") ? UG_A2B : UG_B2A;
    if (ug_onnx_export(m, d, out, &err) < 0)
        goto done;
    printf("wrote %s (%s, %s)\n", out, m->fam->net_names[m->fam->translate_net[d]], model);
    status = 0;
done:
    if (status)
        fprintf(stderr, "ugatit export: %s\n", err.msg);
    ug_model_free(m);
    return status;
}
