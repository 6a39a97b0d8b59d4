/* ugatit translate: one image through a trained generator, optionally with
 * its attention map. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "io/image.h"
#include "ugatit.h"

/* Reads path, resizes it to size x size if needed (bilinear, as the release's
 * test transform), and returns the 3 x size x size tensor. */
static int load_input(const char *path, int size, float *chw, ug_error *err)
{
    ug_image img = {0}, resized = {0};
    if (ug_image_load(&img, path, err) < 0)
        return -1;
    const ug_image *use = &img;
    if (img.w != size || img.h != size) {
        if (ug_image_resize_bilinear(&resized, &img, size, size, err) < 0) {
            ug_image_free(&img);
            return -1;
        }
        use = &resized;
    }
    ug_image_to_tensor(chw, use);
    ug_image_free(&img);
    ug_image_free(&resized);
    return 0;
}

static int save_tensor(const char *path, const float *chw, int size, ug_error *err)
{
    ug_image out = {0};
    if (ug_tensor_to_image(&out, chw, size, size) < 0)
        return ug_fail(err, "%s: out of memory", path), -1;
    int rc = ug_image_save_png(path, &out, err);
    ug_image_free(&out);
    return rc;
}

int cmd_translate(int argc, char **argv)
{
    cli_opt o[] = {
        {"model", "CKPT", "checkpoint (.safetensors)", NULL, 1},
        {"input", "IMAGE", "input image (JPEG or PNG)", NULL, 1},
        {"output", "OUT.png", "where to write the translated image", NULL, 1},
        {"direction", "A2B|B2A", "which generator to run", "A2B", 0},
        {"img_size", "N", "image side of a light model without metadata", "256", 0},
        {"cam", "CAM.png", "also write the attention heatmap (JET colours)", NULL, 0},
    };
    int n = sizeof o / sizeof o[0];
    int rc = cli_parse(argc, argv, o, n,
                       "usage: ugatit translate --model CKPT --input IMAGE --output OUT.png "
                       "[--direction A2B|B2A] [--img_size N] [--cam CAM.png]");
    if (rc)
        return rc < 0 ? 2 : 0;
    long img_hint;
    const char *dir = cli_find(o, n, "direction")->value;
    if (cli_int(o, n, "img_size", 8, 8192, &img_hint) < 0)
        return 2;
    if (strcmp(dir, "A2B") && strcmp(dir, "B2A")) {
        fprintf(stderr, "ugatit translate: --direction must be A2B or B2A (got '%s')\n", dir);
        return 2;
    }

    ug_error err = {{0}};
    ug_model *m = NULL;
    float *in = NULL, *out = NULL, *heat = NULL;
    int status = 1;
    if (ug_model_load(&m, cli_find(o, n, "model")->value, (int)img_hint, 0, &err) < 0)
        goto done;
    int S = ug_model_config(m)->img_size;
    size_t numel = (size_t)3 * S * S;
    in = malloc(numel * sizeof *in);
    out = malloc(numel * sizeof *out);
    heat = malloc((size_t)(S / 4) * (S / 4) * sizeof *heat);
    if (!in || !out || !heat) {
        ug_fail(&err, "out of memory");
        goto done;
    }
    if (load_input(cli_find(o, n, "input")->value, S, in, &err) < 0 ||
        ug_model_translate(m, strcmp(dir, "B2A") == 0 ? UG_B2A : UG_A2B, in, 1, out, NULL, heat,
                           &err) < 0 ||
        save_tensor(cli_find(o, n, "output")->value, out, S, &err) < 0)
        goto done;
    const char *cam = cli_find(o, n, "cam")->value;
    if (cam) {
        ug_image pic = {0};
        if (ug_cam_image(&pic, heat, S / 4, S / 4, S, &err) < 0)
            goto done;
        rc = ug_image_save_png(cam, &pic, &err);
        ug_image_free(&pic);
        if (rc < 0)
            goto done;
    }
    status = 0;
done:
    if (status)
        fprintf(stderr, "ugatit translate: %s\n", err.msg);
    free(in);
    free(out);
    free(heat);
    ug_model_free(m);
    return status;
}
