/* ugatit translate: images through a trained generator, optionally with the
 * attention map. The input is one image or a folder of them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/hint.h"
#include "cli/results.h"
#include "cli/translator.h"
#include "core/error.h"
#include "data/dataset.h"
#include "io/image.h"
#include "model/model.h"

/* The style codes of a translation: none (the family's own translation),
 * K drawn codes whose outputs are numbered (--styles), or one taken from an
 * example image (--style_from). */
typedef struct styles {
    float *codes;
    int n, size, numbered;
} styles;

/* out_path with _NNN before its extension. */
static int numbered_path(char *out, size_t n, const char *out_path, int j, ug_error *err)
{
    const char *dot = strrchr(out_path, '.'), *slash = strrchr(out_path, '/');
    size_t stem = dot && (!slash || dot > slash) ? (size_t)(dot - out_path) : strlen(out_path);
    if (snprintf(out, n, "%.*s_%03d.png", (int)stem, out_path, j) >= (int)n)
        return ug_fail(err, "%s: path too long", out_path);
    return 0;
}

/* One image: read, translate (see translator.h) with each style code, write
 * out_path (numbered per style for --styles) and, if cam_path, the heatmap
 * picture. */
static int translate_one(translator *t, ug_direction dir, const char *in_path,
                         const char *out_path, const char *cam_path, const styles *st,
                         ug_error *err)
{
    ug_image photo = {0}, out = {0}, pic = {0};
    int rc = -1;
    if (ug_image_load(&photo, in_path, err) < 0)
        goto done;
    for (int j = 0; j < (st->n ? st->n : 1); j++) {
        char path[UG_PATH_MAX];
        const float *code = st->n ? st->codes + (size_t)j * st->size : NULL;
        if (st->numbered ? numbered_path(path, sizeof path, out_path, j, err) < 0
                         : snprintf(path, sizeof path, "%s", out_path) < 0)
            goto done;
        if (translator_run(t, dir, &photo, in_path, code, &out, cam_path ? &pic : NULL, err) < 0)
            goto done;
        if (ug_image_save_png(path, &out, err) < 0 ||
            (cam_path && ug_image_save_png(cam_path, &pic, err) < 0))
            goto done;
        ug_image_free(&out);
        ug_image_free(&pic);
    }
    rc = 0;
done:
    ug_image_free(&photo);
    ug_image_free(&out);
    ug_image_free(&pic);
    return rc;
}

/* --styles K (drawn with --seed) or --style_from IMAGE into st; 0 without
 * either. Families without style codes refuse both. */
static int style_codes(styles *st, translator *t, ug_direction dir, const char *k_text,
                       long seed, const char *example, ug_error *err)
{
    *st = (styles){0};
    if (!k_text && !example)
        return 0;
    if (k_text && example)
        return ug_fail(err, "give --styles or --style_from, not both");
    st->size = ug_model_style_size(t->m);
    if (st->size == 0)
        return ug_fail(err, "--%s: a %s model has no style codes (only multimodal families, "
                            "munit and drit, have them)", k_text ? "styles" : "style_from",
                       t->m->fam->title);
    char *end;
    long k = k_text ? strtol(k_text, &end, 10) : 1;
    if (k_text && (end == k_text || *end || k < 1 || k > 1000))
        return ug_fail(err, "--styles must be an integer from 1 to 1000 (got '%s')", k_text);
    st->n = (int)k, st->numbered = k_text != NULL;
    st->codes = malloc((size_t)st->n * st->size * sizeof *st->codes);
    if (!st->codes)
        return ug_fail(err, "out of memory");
    if (k_text)
        return ug_model_draw_styles(t->m, (uint64_t)seed, st->n, st->codes, err);
    ug_image photo = {0};
    int rc = ug_image_load(&photo, example, err) < 0
                 ? -1
                 : translator_style(t, dir, &photo, example, st->codes, err);
    ug_image_free(&photo);
    return rc;
}

/* out_dir/REL with REL's extension replaced by .png, creating its folder. */
static int output_path(char *out, size_t n, const char *out_dir, const char *rel, ug_error *err)
{
    const char *dot = strrchr(rel, '.');
    size_t stem = dot ? (size_t)(dot - rel) : strlen(rel);
    size_t dl = strlen(out_dir);
    const char *slash = dl > 0 && out_dir[dl - 1] == '/' ? "" : "/";
    if (snprintf(out, n, "%s%s%.*s.png", out_dir, slash, (int)stem, rel) >= (int)n)
        return ug_fail(err, "%s/%s: path too long", out_dir, rel);
    char *last = strrchr(out, '/');
    *last = 0;
    int rc = ug_mkdirs(out, err);
    *last = '/';
    return rc;
}

/* Every image under in_dir; a file that fails is reported and passed over.
 * Returns 1 when some failed, 0 when none did, or -1 when nothing could start
 * (no images, or an output folder that cannot be made). */
static int translate_folder(translator *t, ug_direction dir, const char *in_dir,
                            const char *out_dir, const char *cam_dir, const styles *st,
                            ug_error *err)
{
    ug_filelist list = {0};
    if (ug_dataset_list(&list, in_dir, err) < 0)
        return -1;
    if (ug_mkdirs(out_dir, err) < 0 || (cam_dir && ug_mkdirs(cam_dir, err) < 0)) {
        ug_filelist_free(&list);
        return -1;
    }
    size_t failed = 0;
    char out[UG_PATH_MAX], cam[UG_PATH_MAX];
    for (size_t i = 0; i < list.n; i++) {
        const char *rel = ug_filelist_rel(&list, i);
        ug_error e;
        if (output_path(out, sizeof out, out_dir, rel, &e) < 0 ||
            (cam_dir && output_path(cam, sizeof cam, cam_dir, rel, &e) < 0) ||
            translate_one(t, dir, list.paths[i], out, cam_dir ? cam : NULL, st, &e) < 0) {
            fprintf(stderr, "ugatit translate: %s\n", e.msg);
            failed++;
        }
    }
    printf("translated %zu of %zu images into %s\n", list.n - failed, list.n, out_dir);
    ug_filelist_free(&list);
    return (int)(failed > 0);
}

int cmd_translate(int argc, char **argv)
{
    cli_opt o[] = {
        {"model", "CKPT|DIR", "checkpoint (.safetensors, the release's .pt, an official CycleGAN "
                              "latest_net_G_A.pth or G_B, or a folder of those)", NULL, 1},
        {"input", "IMAGE|DIR", "input image (JPEG or PNG), or a folder of them", NULL, 1},
        {"output", "OUT.png|DIR", "translated image, or a folder for a folder input", NULL, 1},
        {"direction", "A2B|B2A", "which generator to run (default: A2B, or B2A for a file of "
                                 "that generator alone, such as latest_net_G_B.pth)", NULL, 0},
        UG_HINT_OPTS,
        {"cam", "CAM.png|DIR", "also write the attention heatmap (JET colours)", NULL, 0},
        {"precision", "fp32|bf16", "arithmetic of the convolutions (bf16: AVX512-BF16 CPUs)",
         "fp32", 0},
        {"threads", "N", "threads (0: as many as the cores other processes leave free)", "0", 0},
        {"styles", "K", "multimodal families (munit, drit): K translations of each input, each "
                        "with a style code drawn from N(0, I) with --seed, written as "
                        "OUT_000.png, OUT_001.png, ...", NULL, 0},
        {"style_from", "IMAGE", "multimodal families (munit, drit): the style of this example "
                                "image of the target domain", NULL, 0},
        {"seed", "N", "the seed of --styles' codes (without --styles or --style_from, a "
                      "multimodal model translates image i of a call with code i of seed 0)",
         "0", 0},
    };
    int n = sizeof o / sizeof o[0];
    int rc = cli_parse(argc, argv, o, n,
                       "usage: ugatit translate --model CKPT --input IMAGE|DIR --output "
                       "OUT.png|DIR [--direction A2B|B2A] [--img_size N] [--cam CAM.png|DIR]\n"
                       "                       [--precision fp32|bf16] [--norm in|ln] "
                       "[--threads N]\n"
                       "                       [--styles K [--seed N] | --style_from IMAGE]\n\n"
                       "With a folder as input, every image under it is translated to the same "
                       "relative path under the output folder, as PNG.");
    if (rc)
        return rc < 0 ? 2 : 0;
    ug_config hint;
    long threads, seed;
    const char *dir = cli_find(o, n, "direction")->value;
    if (cli_int(o, n, "seed", 0, 0x7fffffffffffffffL, &seed) < 0 ||
        cli_int(o, n, "threads", 0, 1024, &threads) < 0)
        return 2;
    if (cli_hint(o, n, "translate", &hint) < 0)
        return 2;
    if (dir && strcmp(dir, "A2B") && strcmp(dir, "B2A")) {
        fprintf(stderr, "ugatit translate: --direction must be A2B or B2A (got '%s')\n", dir);
        return 2;
    }
    const char *precision = cli_find(o, n, "precision")->value;
    if (strcmp(precision, "fp32") && strcmp(precision, "bf16")) {
        fprintf(stderr, "ugatit translate: --precision must be fp32 or bf16 (got '%s')\n",
                precision);
        return 2;
    }
    const char *input = cli_find(o, n, "input")->value, *output = cli_find(o, n, "output")->value;
    const char *cam = cli_find(o, n, "cam")->value;
    struct stat st;
    int folder = stat(input, &st) == 0 && S_ISDIR(st.st_mode);

    ug_error err = {{0}};
    ug_direction d = dir && strcmp(dir, "B2A") == 0 ? UG_B2A : UG_A2B;
    ug_model *m = NULL;
    translator t = {0};
    styles sc = {0};
    int status = 1;
    const char *model = cli_find(o, n, "model")->value;
    if (ug_model_load(&m, model, &hint, 0, &err) < 0)
        goto done;
    if (cli_hint_check(o, n, "translate", m, model) < 0) {
        ug_model_free(m);
        return 2;
    }
    if (!dir && !ug_model_translates(m, UG_A2B) && ug_model_translates(m, UG_B2A))
        d = UG_B2A;
    if (ug_model_set_precision(m, strcmp(precision, "bf16") ? UG_FP32 : UG_BF16, &err) < 0 ||
        translator_init(&t, m, threads, &err) < 0 ||
        style_codes(&sc, &t, d, cli_find(o, n, "styles")->value, seed,
                    cli_find(o, n, "style_from")->value, &err) < 0)
        goto done;
    if (folder) {
        rc = translate_folder(&t, d, input, output, cam, &sc, &err);
        if (rc < 0)
            goto done;
        status = rc;
        goto out;
    }
    if (translate_one(&t, d, input, output, cam, &sc, &err) < 0)
        goto done;
    status = 0;
done:
    if (status)
        fprintf(stderr, "ugatit translate: %s\n", err.msg);
out:
    free(sc.codes);
    translator_free(&t);
    ug_model_free(m);
    return status;
}
