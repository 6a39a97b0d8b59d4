/* `ugatit translate` end to end on the real sample images: the output equals
 * our PyTorch reference's translation of the same image with the same
 * weights, and bad input gets a one-line error and a non-zero exit. */
#define _DEFAULT_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "cli.h"
#include "files.h"
#include "io/image.h"
#include "model/checkpoint.h"

static char dir[] = "/tmp/ugatit_test_translate_XXXXXX";
#define SAMPLE CHECK_SAMPLES

static int run(const char *args, char *out, size_t n)
{
    return run_cli(dir, args, 0, out, n);
}

/* The light96 fixture's initial weights as a checkpoint. */
static int write_fixture_model(const char *path, const ug_st_file **keep)
{
    static ug_st_file *f;
    ug_error err;
    if (ug_st_open(&f, UGATIT_FIXTURES "/light96.safetensors", &err) < 0)
        return -1;
    ug_config c = {4, 2, 96, 1, 7, 5, UG_NORM_ADALIN, 0, 0, NULL, 0, 0};
    ug_model *m;
    if (ug_model_build(&m, &c, UG_ALL_NETS, &err) < 0)
        return -1;
    float *base[UG_MAX_NETS] = {0};
    for (int i = 0; i < m->fam->n_nets; i++)
        base[i] = m->net[i].data;
    int rc = ug_ckpt_read_model(f, "light96", m, "init.", base, 0, &err);
    if (rc == 0)
        rc = ug_model_save(m, path, &err);
    ug_model_free(m);
    *keep = f;
    return rc;
}

static void test_matches_reference(const char *model, const ug_st_file *f)
{
    char args[1024], out[300], cam[300], msg[1024];
    snprintf(out, sizeof out, "%s/out.png", dir);
    snprintf(cam, sizeof cam, "%s/cam.png", dir);
    snprintf(args, sizeof args, "translate --model %s --input %s/testA/female_2321.jpg "
             "--output %s --cam %s", model, SAMPLE, out, cam);
    int rc = run(args, msg, sizeof msg);
    CHECK(rc == 0, "translate failed (%d): %s", rc, msg);
    ug_image img = {0}, pic = {0}, want = {0};
    ug_error err;
    CHECK(ug_image_load(&img, out, &err) == 0, "%s", err.msg);
    CHECK(img.w == 96 && img.h == 96, "output is %dx%d", img.w, img.h);
    const ug_st_tensor *ref = ug_st_find(f, "translate.genA2B.image");
    const ug_st_tensor *heat = ug_st_find(f, "translate.genA2B.heatmap");
    CHECK(ref && heat, "fixture lacks translate.*");
    if (img.rgb && ref && ug_tensor_to_image(&want, ref->data, 96, 96) == 0) {
        int worst = 0;
        for (int i = 0; i < 96 * 96 * 3; i++)
            worst = abs(img.rgb[i] - want.rgb[i]) > worst ? abs(img.rgb[i] - want.rgb[i]) : worst;
        /* Pixels equal up to a rounding flip where a value sits on .5. */
        CHECK(worst <= 1, "translated pixels differ from the reference by %d levels", worst);
    }
    CHECK(ug_image_load(&pic, cam, &err) == 0, "%s", err.msg);
    CHECK(pic.w == 96 && pic.h == 96, "cam is %dx%d", pic.w, pic.h);
    if (pic.rgb && heat) {
        ug_image expect = {0};
        CHECK(ug_cam_image(&expect, heat->data, 24, 24, 96, &err) == 0, "%s", err.msg);
        int differ = 0;
        for (int i = 0; expect.rgb && i < 96 * 96 * 3; i++)
            differ += abs(pic.rgb[i] - expect.rgb[i]) > 8;
        CHECK(differ < 96 * 96 * 3 / 100, "cam picture differs from the reference's in %d values",
              differ);
        ug_image_free(&expect);
    }
    /* --precision bf16: a few levels from the fp32 reference, not identical. */
    ug_image b16 = {0};
    snprintf(args, sizeof args, "translate --model %s --input %s/testA/female_2321.jpg "
             "--output %s/bf16.png --precision bf16", model, SAMPLE, dir);
    rc = run(args, msg, sizeof msg);
    snprintf(out, sizeof out, "%s/bf16.png", dir);
    if (rc != 0 && strstr(msg, "AVX512-BF16")) { /* this CPU has none: test_isa_cap */
        printf("bf16 skipped: %s", msg);
    } else {
        CHECK(rc == 0 && ug_image_load(&b16, out, &err) == 0, "bf16 translate: %s", msg);
        int worst = 0, differ = 0;
        for (int i = 0; b16.rgb && want.rgb && i < 96 * 96 * 3; i++) {
            int d = abs(b16.rgb[i] - want.rgb[i]);
            worst = d > worst ? d : worst;
            differ += d > 0;
        }
        CHECK(differ > 0 && worst <= 8, "bf16 pixels: %d differ, by up to %d levels", differ,
              worst);
    }
    ug_image_free(&b16);
    ug_image_free(&img);
    ug_image_free(&pic);
    ug_image_free(&want);

    /* B2A on the PNG sample (anime to selfie) also works. */
    snprintf(args, sizeof args, "translate --model %s --input %s/testB/3414.png --output %s "
             "--direction B2A", model, SAMPLE, out);
    CHECK(run(args, msg, sizeof msg) == 0, "B2A failed: %s", msg);
}

/* A folder in, a folder out with the same relative paths as PNG; a bad
 * file is reported, the others still translated, and the exit is non-zero. */
static void test_folder(const char *model)
{
    char args[2048], msg[4096], p[512];
    snprintf(args, sizeof args, "cp -r %s %s/in && echo broken > %s/in/trainA/zz_bad.jpg", SAMPLE,
             dir, dir);
    CHECK(system(args) == 0, "copy the samples");
    snprintf(args, sizeof args, "translate --model %s --input %s/in --output %s/out --cam %s/cam",
             model, dir, dir, dir);
    int rc = run(args, msg, sizeof msg);
    CHECK(rc == 1, "folder with a bad file: exit %d: %s", rc, msg);
    CHECK(strstr(msg, "zz_bad.jpg") != NULL, "bad file not named: %s", msg);
    const char *rel[4] = {"testA/female_2321", "testB/3414", "trainA/female_222", "trainB/0006"};
    for (int i = 0; i < 4; i++) {
        ug_image img = {0};
        ug_error err;
        snprintf(p, sizeof p, "%s/out/%s.png", dir, rel[i]);
        CHECK(ug_image_load(&img, p, &err) == 0 && img.w == 96, "%s", err.msg);
        ug_image_free(&img);
        snprintf(p, sizeof p, "%s/cam/%s.png", dir, rel[i]);
        CHECK(ug_image_load(&img, p, &err) == 0 && img.w == 96, "%s", err.msg);
        ug_image_free(&img);
    }
}

static int is_png(const char *path)
{
    ug_image img = {0};
    ug_error err;
    int ok = ug_image_load(&img, path, &err) == 0;
    ug_image_free(&img);
    return ok;
}

/* Folder paths given with trailing slashes (as in the README's example)
 * keep every output name whole. */
static void test_folder_slashes(const char *model)
{
    char args[2048], msg[4096], p[512];
    snprintf(args, sizeof args, "mkdir -p %s/sl/in && cp %s/testA/female_2321.jpg %s/sl/in/",
             dir, SAMPLE, dir);
    CHECK(system(args) == 0, "copy a sample");
    snprintf(args, sizeof args, "translate --model %s --input %s/sl/in/ --output %s/sl/out/ "
             "--cam %s/sl/cam/", model, dir, dir, dir);
    CHECK(run(args, msg, sizeof msg) == 0, "trailing slashes: %s", msg);
    snprintf(p, sizeof p, "%s/sl/out/female_2321.png", dir);
    CHECK(is_png(p), "%s missing (input and output with a trailing slash)", p);
    snprintf(p, sizeof p, "%s/sl/cam/female_2321.png", dir);
    CHECK(is_png(p), "%s missing (--cam with a trailing slash)", p);
    snprintf(args, sizeof args, "translate --model %s --input %s/sl/in// --output %s/sl/out2",
             model, dir, dir);
    CHECK(run(args, msg, sizeof msg) == 0, "two trailing slashes: %s", msg);
    snprintf(p, sizeof p, "%s/sl/out2/female_2321.png", dir);
    CHECK(is_png(p), "%s missing (input with two trailing slashes)", p);
}

/* A FIFO as the model, the input or the output is refused at once, with a
 * message naming it, instead of waiting forever (timeout ends a regression). */
static void test_fifos(const char *model)
{
    char fifo[512], args[2048], msg[1024], file[512];
    snprintf(fifo, sizeof fifo, "%s/fifo", dir);
    snprintf(file, sizeof file, "%s/fifo_out.txt", dir);
    CHECK(mkfifo(fifo, 0600) == 0, "mkfifo");
    const char *cases[3][2] = {{"--model", "--input"}, {"--input", "--model"},
                               {"--output", "--model"}};
    for (int i = 0; i < 3; i++) {
        /* the FIFO for cases[i][0]; a good model and input otherwise */
        const char *m = i == 0 ? fifo : model, *in = i == 1 ? fifo : SAMPLE "/testA/female_2321.jpg";
        char out[600];
        snprintf(out, sizeof out, "%s", i == 2 ? fifo : dir);
        if (i != 2)
            strcat(out, "/fifo_result.png");
        snprintf(args, sizeof args, "timeout 30 %s translate --model %s --input %s --output %s "
                 "2>%s >/dev/null", UGATIT_CLI, m, in, out, file);
        int st = system(args);
        int rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        size_t n;
        char *text = (char *)read_bytes(file, &n);
        snprintf(msg, sizeof msg, "%s", text ? text : "");
        free(text);
        CHECK(rc == 1, "a FIFO as %s: exit %d (124: it hung): %s", cases[i][0], rc, msg);
        CHECK(strstr(msg, fifo) && strstr(msg, "is a FIFO, not a regular file"),
              "a FIFO as %s: '%s'", cases[i][0], msg);
    }
    struct stat st;
    CHECK(lstat(fifo, &st) == 0 && S_ISFIFO(st.st_mode), "the FIFO was replaced");
    unlink(fifo);
}

static void expect_error(const char *args, const char *needle)
{
    char msg[1024];
    int rc = run(args, msg, sizeof msg);
    CHECK(rc != 0, "'%s' succeeded", args);
    CHECK(strstr(msg, needle) != NULL, "'%s': message '%s' lacks '%s'", args, msg, needle);
    char *nl = strchr(msg, '\n');
    CHECK(nl && nl[1] == 0, "'%s': not one line: '%s'", args, msg);
}

int main(void)
{
    if (!check_samples("test_translate"))
        return 1;
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    char model[300], args[1024], text[300];
    const ug_st_file *f = NULL;
    snprintf(model, sizeof model, "%s/light96.safetensors", dir);
    CHECK(write_fixture_model(model, &f) == 0, "could not write the fixture model");
    if (f)
        test_matches_reference(model, f);
    test_folder(model);
    test_folder_slashes(model);
    test_fifos(model);

    snprintf(text, sizeof text, "%s/notanimage.png", dir);
    FILE *t = fopen(text, "w");
    fputs("hello\n", t);
    fclose(t);
    snprintf(args, sizeof args, "translate --model %s --input %s --output %s/o.png", model, text,
             dir);
    expect_error(args, text);
    snprintf(args, sizeof args, "translate --model %s/none.safetensors --input %s --output "
             "%s/o.png", dir, text, dir);
    expect_error(args, "none.safetensors");
    snprintf(args, sizeof args, "translate --model %s --input %s/testA/female_2321.jpg "
             "--output %s/o.png --direction X", model, SAMPLE, dir);
    expect_error(args, "--direction");
    snprintf(args, sizeof args, "translate --model %s --input %s/testA/female_2321.jpg "
             "--output %s/o.png --precision fp16", model, SAMPLE, dir);
    expect_error(args, "--precision");
    expect_error("translate --input x.png", "--model");
    /* A folder input with a file as the output folder: said once, not per image. */
    snprintf(args, sizeof args, "translate --model %s --input %s/in --output %s", model, dir, text);
    expect_error(args, "is not a folder");
    snprintf(args, sizeof args, "translate --model %s --input %s/in --output %s/out --cam %s",
             model, dir, dir, text);
    expect_error(args, "is not a folder");
    expect_error("translate --model a --input b --output c --bogus 1", "--bogus");
    expect_error("nosuchverb", "nosuchverb");

    ug_st_close((ug_st_file *)f);
    snprintf(args, sizeof args, "rm -rf %s", dir);
    CHECK(system(args) == 0, "cleanup");
    return check_summary();
}
