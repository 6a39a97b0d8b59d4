/* `ugatit train`, `test` and `make-shapes` end to end on tiny configurations:
 * the files a run writes, the exact resume (after a checkpoint and after
 * SIGTERM), the skipping of an undecodable image, and the errors for an empty
 * domain and an impossible configuration; the same for --family cyclegan,
 * with translate and convert on its official folder layout. */
#define _DEFAULT_SOURCE
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "cli.h"
#include "files.h"
#include "io/image.h"
#include "model/checkpoint.h"

static char dir[] = "/tmp/ugatit_test_train_XXXXXX";
#define SAMPLE CHECK_SAMPLES
/* img 32, ch 2, one residual block, discriminators of 5 and 3 layers. */
#define TINY "--img_size 32 --ch 2 --n_res 1 --n_dis 4 --light true --threads 2"

static int run(const char *args, char *out, size_t n)
{
    return run_cli(dir, args, 1, out, n);
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static int count_lines(const char *path)
{
    FILE *f = fopen(path, "r");
    int n = 0, c;
    if (!f)
        return -1;
    while ((c = fgetc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    return n;
}

static void check_png(const char *path, int w, int h)
{
    ug_image img = {0};
    ug_error err;
    CHECK(ug_image_load(&img, path, &err) == 0, "%s", err.msg);
    CHECK(img.w == w && img.h == h, "%s is %dx%d, expected %dx%d", path, img.w, img.h, w, h);
    ug_image_free(&img);
}

/* Every tensor of two checkpoints is bit-identical. */
static int same_checkpoint(const char *a, const char *b)
{
    ug_st_file *fa, *fb;
    ug_error err;
    if (ug_st_open(&fa, a, &err) < 0)
        return 0;
    if (ug_st_open(&fb, b, &err) < 0) {
        ug_st_close(fa);
        return 0;
    }
    int same = ug_st_count(fa) == ug_st_count(fb);
    for (size_t i = 0; same && i < ug_st_count(fa); i++) {
        const ug_st_tensor *x = ug_st_at(fa, i), *y = ug_st_find(fb, x->name);
        same = y && x->numel == y->numel && memcmp(x->data, y->data, x->numel * 4) == 0;
    }
    ug_st_close(fa);
    ug_st_close(fb);
    return same;
}

static void test_files_written(const char *shapes)
{
    char args[2048], out[8192], p[512];
    snprintf(args, sizeof args, "train --dataset %s --result_dir %s/r1 --iteration 4 "
             "--print_freq 2 --save_freq 2 " TINY, shapes, dir);
    int rc = run(args, out, sizeof out);
    CHECK(rc == 0, "train failed (%d): %s", rc, out);
    CHECK(strstr(out, "[      4/4] d_loss") != NULL, "no progress line: %s", out);
    CHECK(strstr(out, "it/s") && strstr(out, "left"), "progress lacks speed or time left");
    for (int s = 2; s <= 4; s += 2) {
        snprintf(p, sizeof p, "%s/r1/shapes/model/shapes_params_%07d.safetensors", dir, s);
        ug_model *m = NULL;
        ug_error err;
        CHECK(ug_model_load(&m, p, NULL, 1, &err) == 0, "checkpoint does not load: %s", err.msg);
        ug_model_free(m);
        /* 5 training + 5 test samples of 32 pixels, 7 rows. */
        snprintf(p, sizeof p, "%s/r1/shapes/img/A2B_%07d.png", dir, s);
        check_png(p, 10 * 32, 7 * 32);
        snprintf(p, sizeof p, "%s/r1/shapes/img/B2A_%07d.png", dir, s);
        check_png(p, 10 * 32, 7 * 32);
    }
    snprintf(p, sizeof p, "%s/r1/shapes/log.csv", dir);
    CHECK(count_lines(p) == 1 + 4, "log.csv has %d lines, expected a header and 4 rows",
          count_lines(p));
    snprintf(p, sizeof p, "%s/r1/shapes/index.html", dir);
    CHECK(exists(p), "no report");

    snprintf(args, sizeof args, "test --dataset %s --result_dir %s/r1", shapes, dir);
    rc = run(args, out, sizeof out);
    CHECK(rc == 0, "test failed: %s", out);
    snprintf(p, sizeof p, "%s/r1/shapes/test/A2B_1.png", dir);
    check_png(p, 32, 7 * 32);
    snprintf(p, sizeof p, "%s/r1/shapes/test/B2A_5.png", dir);
    check_png(p, 32, 7 * 32);
}

/* Without --threads or OMP_NUM_THREADS the thread count follows the cores
 * other processes leave free: the first line says "up to" the cores, each
 * progress line the count of its step. --threads N stays N. */
static void test_threads_follow(const char *shapes)
{
    char args[2048], out[8192], saved[64] = "";
    const char *env = getenv("OMP_NUM_THREADS");
    if (env)
        snprintf(saved, sizeof saved, "%s", env);
    unsetenv("OMP_NUM_THREADS");
    const char *tiny = "--img_size 32 --ch 2 --n_res 1 --n_dis 4 --light true";
    snprintf(args, sizeof args, "train --dataset %s --result_dir %s/rt --iteration 3 "
             "--print_freq 1 %s", shapes, dir, tiny);
    int rc = run(args, out, sizeof out);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    const char *last = strstr(out, "[      3/3]");
    int n = 0;
    CHECK(rc == 0 && strstr(out, " steps, up to ") && last &&
              sscanf(strstr(last, "left"), "left %*s %d thread", &n) == 1 && n >= 1 &&
              n <= cores,
          "threads following the free cores (%d of %ld): %s", n, cores, out);
    snprintf(args, sizeof args, "train --dataset %s --result_dir %s/rt1 --iteration 2 "
             "--print_freq 1 --threads 1 %s", shapes, dir, tiny);
    rc = run(args, out, sizeof out);
    CHECK(rc == 0 && strstr(out, " steps, 1 thread\n") && strstr(out, "  1 thread\n"),
          "--threads 1: %s", out);
    if (*saved)
        setenv("OMP_NUM_THREADS", saved, 1);
}

/* Resuming from a checkpoint, or after SIGTERM, ends with the same bits as
 * the run left alone, wherever Adam's moments were: the default
 * (--moments_dir auto, memory for a model this small), memory, files. */
static void test_resume(const char *shapes)
{
    char args[2048], out[8192], a[512], b[512], c[512];
    snprintf(args, sizeof args, "train --dataset %s --result_dir %s/ra --iteration 6 "
             "--print_freq 3 --save_freq 3 --seed 3 " TINY, shapes, dir);
    CHECK(run(args, out, sizeof out) == 0, "train: %s", out);
    CHECK(!strstr(out, "moments"), "a tiny model's moments placed in files: %s", out);
    snprintf(a, sizeof a, "%s/ra/shapes/model/shapes_params_0000006.safetensors", dir);

    /* Stop after step 3 by removing the last checkpoint, then resume. */
    snprintf(args, sizeof args, "train --dataset %s --result_dir %s/rb --iteration 6 "
             "--print_freq 3 --save_freq 3 --seed 3 --moments_dir memory " TINY, shapes, dir);
    CHECK(run(args, out, sizeof out) == 0, "train: %s", out);
    snprintf(b, sizeof b, "%s/rb/shapes/model/shapes_params_0000006.safetensors", dir);
    remove(b);
    /* Adam's moments in a file for the second half: the same bits. */
    snprintf(args, sizeof args, "train --dataset %s --result_dir %s/rb --iteration 6 "
             "--print_freq 3 --save_freq 3 --resume true --moments_dir %s " TINY, shapes, dir,
             dir);
    CHECK(run(args, out, sizeof out) == 0, "resume: %s", out);
    CHECK(strstr(out, "resuming from") && strstr(out, "step 3"), "did not resume: %s", out);
    CHECK(same_checkpoint(a, b), "resumed run differs from the uninterrupted one");
    snprintf(c, sizeof c, "%s/rb/shapes/log.csv", dir);
    CHECK(count_lines(c) == 1 + 6, "log.csv after resume has %d lines", count_lines(c));

    /* SIGTERM in the middle: a checkpoint is written, and resuming ends the same. */
    char res[300], log[300];
    snprintf(res, sizeof res, "%s/rc", dir);
    snprintf(log, sizeof log, "%s/rc/shapes/log.csv", dir);
    pid_t pid = fork();
    if (pid == 0) {
        char out_file[300];
        snprintf(out_file, sizeof out_file, "%s/sigterm.txt", dir);
        if (!freopen(out_file, "w", stdout) || !freopen(out_file, "a", stderr))
            _exit(126);
        execl(UGATIT_CLI, UGATIT_CLI, "train", "--dataset", shapes, "--result_dir", res,
              "--iteration", "6", "--print_freq", "3", "--save_freq", "100", "--seed", "3",
              "--img_size", "32", "--ch", "2", "--n_res", "1", "--n_dis", "4", "--light", "true",
              "--threads", "2", (char *)NULL);
        _exit(127);
    }
    /* Wait for the first logged step, then stop it. */
    for (int i = 0; i < 600 && count_lines(log) < 2; i++)
        usleep(50000);
    kill(pid, SIGTERM);
    int st;
    waitpid(pid, &st, 0);
    int code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    /* Either stopped by the signal (143) or it had already finished (0). */
    CHECK(code == 128 + SIGTERM || code == 0, "exit status after SIGTERM: %d", code);
    snprintf(args, sizeof args, "train --dataset %s --result_dir %s --iteration 6 "
             "--print_freq 3 --save_freq 100 --resume true " TINY, shapes, res);
    CHECK(run(args, out, sizeof out) == 0, "resume after SIGTERM: %s", out);
    snprintf(c, sizeof c, "%s/shapes/model/shapes_params_0000006.safetensors", res);
    CHECK(same_checkpoint(a, c), "run resumed after SIGTERM differs from the uninterrupted one");
    CHECK(count_lines(log) == 1 + 6, "log.csv after SIGTERM and resume has %d lines",
          count_lines(log));
}

/* A result folder holding the release's .pt checkpoints: --resume continues
 * from the newest one (fresh Adam state), and --init takes one too. */
static void test_resume_from_pt(const char *shapes)
{
    char args[2048], out[8192], st[512], pt[512];
    snprintf(args, sizeof args, "train --dataset %s --result_dir %s/rpt --iteration 2 "
             "--print_freq 2 --save_freq 2 " TINY, shapes, dir);
    CHECK(run(args, out, sizeof out) == 0, "train: %s", out);
    snprintf(st, sizeof st, "%s/rpt/shapes/model/shapes_params_0000002.safetensors", dir);
    snprintf(pt, sizeof pt, "%s/rpt/shapes/model/shapes_params_0000002.pt", dir);
    snprintf(args, sizeof args, "convert %s %s", st, pt);
    CHECK(run(args, out, sizeof out) == 0, "convert: %s", out);
    remove(st);
    snprintf(args, sizeof args, "train --dataset %s --result_dir %s/rpt --iteration 4 "
             "--print_freq 2 --save_freq 2 --resume true " TINY, shapes, dir);
    CHECK(run(args, out, sizeof out) == 0, "resume from .pt: %s", out);
    CHECK(strstr(out, "shapes_params_0000002.pt (step 2; it holds no optimiser state"),
          "did not resume from the .pt: %s", out);
    snprintf(st, sizeof st, "%s/rpt/shapes/model/shapes_params_0000004.safetensors", dir);
    CHECK(exists(st), "no checkpoint after resuming from the .pt");
    snprintf(args, sizeof args, "train --dataset %s --result_dir %s/rinit --iteration 1 "
             "--print_freq 1 --save_freq 1 --init %s " TINY, shapes, dir, pt);
    CHECK(run(args, out, sizeof out) == 0 && strstr(out, "starting from the weights of"),
          "--init from .pt: %s", out);
}

static void test_bad_inputs(const char *shapes)
{
    char args[2048], out[8192], p[512], bad[512];
    /* An undecodable image is skipped with a warning naming it. */
    snprintf(args, sizeof args, "cp -r %s %s/broken", shapes, dir);
    CHECK(system(args) == 0, "copy");
    snprintf(bad, sizeof bad, "%s/broken/trainA/0000_bad.png", dir);
    FILE *f = fopen(bad, "w");
    fputs("not a png", f);
    fclose(f);
    snprintf(args, sizeof args, "train --dataset %s/broken --result_dir %s/rbad --iteration 12 "
             "--batch_size 2 --print_freq 100 --save_freq 100 " TINY, dir, dir);
    int rc = run(args, out, sizeof out);
    CHECK(rc == 0, "training with a corrupt image failed: %s", out);
    CHECK(strstr(out, "warning") && strstr(out, bad), "no warning naming %s: %s", bad, out);
    CHECK(strstr(out, "1 undecodable file skipped") != NULL, "skip not counted: %s", out);

    /* An empty domain is an error before any work. */
    snprintf(args, sizeof args, "mkdir -p %s/empty/trainA %s/empty/trainB && cp %s/trainA/0000.png "
             "%s/empty/trainA/", dir, dir, shapes, dir);
    CHECK(system(args) == 0, "mkdir");
    snprintf(args, sizeof args, "train --dataset %s/empty --result_dir %s/rempty " TINY, dir,
             dir);
    rc = run(args, out, sizeof out);
    snprintf(p, sizeof p, "%s/empty/trainB: no images", dir);
    CHECK(rc != 0 && strstr(out, p), "empty domain: %d %s", rc, out);
    snprintf(p, sizeof p, "%s/rempty/empty/model/empty_params_0000001.safetensors", dir);
    CHECK(!exists(p), "work started despite the empty domain");

    /* A missing dataset, and an image too small for the discriminators. */
    snprintf(args, sizeof args, "train --dataset %s/nothing " TINY, dir);
    CHECK(run(args, out, sizeof out) != 0 && strstr(out, "nothing"), "missing dataset: %s", out);
    snprintf(args, sizeof args, "train --dataset %s --result_dir %s/rsmall --img_size 64 "
             "--ch 2 --n_dis 6", shapes, dir);
    rc = run(args, out, sizeof out);
    CHECK(rc != 0 && strstr(out, "too small"), "impossible config accepted: %s", out);
    snprintf(args, sizeof args, "train --dataset %s --img_size 30", shapes);
    CHECK(run(args, out, sizeof out) != 0 && strstr(out, "multiple of 4"), "img 30: %s", out);
    snprintf(args, sizeof args, "train --dataset %s --light maybe", shapes);
    CHECK(run(args, out, sizeof out) == 2 && strstr(out, "--light"), "bad boolean: %s", out);
    CHECK(run("train --help", out, sizeof out) == 0 && strstr(out, "--cycle_weight"),
          "train --help");
}

/* The real selfie2anime images, with the release's discriminator depths. */
static void test_real_images(void)
{
    char args[2048], out[8192], p[512];
    snprintf(args, sizeof args, "train --dataset %s --result_dir %s/real --iteration 2 "
             "--print_freq 1 --save_freq 2 --img_size 96 --ch 2 --n_res 1 --light true "
             "--threads 2", SAMPLE, dir);
    int rc = run(args, out, sizeof out);
    CHECK(rc == 0, "training on the samples failed: %s", out);
    /* One training and one test image per domain: two columns. */
    snprintf(p, sizeof p, "%s/real/selfie2anime-sample/img/A2B_0000002.png", dir);
    check_png(p, 2 * 96, 7 * 96);
    snprintf(args, sizeof args, "test --dataset %s --result_dir %s/real", SAMPLE, dir);
    CHECK(run(args, out, sizeof out) == 0, "test on the samples: %s", out);
    snprintf(p, sizeof p, "%s/real/selfie2anime-sample/test/B2A_1.png", dir);
    check_png(p, 96, 7 * 96);
}

/* The paper's ablations from the command line: --norm gn --cam_d false
 * trains, saves, resumes exactly (the variant from the checkpoint, no flag
 * repeated) and translates; --cam_g false gives 4-row grids and refuses
 * --cam; a .pt of an `in` model (no metadata) needs --norm to translate. */
static void test_ablations(const char *shapes)
{
    char args[2048], out[8192], a[512], b[512], p[512];
    snprintf(args, sizeof args, "train --dataset %s --result_dir %s/gn --iteration 4 "
             "--print_freq 2 --save_freq 2 --seed 5 --norm gn --cam_d false " TINY, shapes, dir);
    CHECK(run(args, out, sizeof out) == 0, "train --norm gn --cam_d false: %s", out);
    snprintf(a, sizeof a, "%s/gn/shapes/model/shapes_params_0000004.safetensors", dir);
    snprintf(args, sizeof args, "train --dataset %s --result_dir %s/gn2 --iteration 4 "
             "--print_freq 2 --save_freq 2 --seed 5 --norm gn --cam_d false " TINY, shapes, dir);
    CHECK(run(args, out, sizeof out) == 0, "train: %s", out);
    snprintf(b, sizeof b, "%s/gn2/shapes/model/shapes_params_0000004.safetensors", dir);
    remove(b);
    snprintf(args, sizeof args, "train --dataset %s --result_dir %s/gn2 --iteration 4 "
             "--resume true", shapes, dir);
    CHECK(run(args, out, sizeof out) == 0 && strstr(out, "step 2"), "resume gn: %s", out);
    CHECK(same_checkpoint(a, b), "resumed gn run differs from the uninterrupted one");
    snprintf(args, sizeof args, "translate --model %s --input %s/testA --output %s/gn_out",
             a, shapes, dir);
    CHECK(run(args, out, sizeof out) == 0, "translate with a gn model: %s", out);
    snprintf(p, sizeof p, "%s/gn/shapes/img/A2B_0000004.png", dir);
    check_png(p, 10 * 32, 7 * 32);

    snprintf(args, sizeof args, "train --dataset %s --result_dir %s/nocam --iteration 2 "
             "--print_freq 2 --save_freq 2 --norm in --cam_g false " TINY, shapes, dir);
    CHECK(run(args, out, sizeof out) == 0, "train --norm in --cam_g false: %s", out);
    snprintf(p, sizeof p, "%s/nocam/shapes/img/A2B_0000002.png", dir);
    check_png(p, 10 * 32, 4 * 32);
    snprintf(a, sizeof a, "%s/nocam/shapes/model/shapes_params_0000002.safetensors", dir);
    snprintf(args, sizeof args, "translate --model %s --input %s/testA --output %s/nc_out "
             "--cam %s/nc_cam", a, shapes, dir, dir);
    CHECK(run(args, out, sizeof out) != 0 && strstr(out, "no CAM attention"),
          "--cam on a model without CAM: %s", out);
    snprintf(b, sizeof b, "%s/nocam.pt", dir);
    snprintf(args, sizeof args, "convert %s %s", a, b);
    CHECK(run(args, out, sizeof out) == 0, "convert: %s", out);
    snprintf(args, sizeof args, "translate --model %s --img_size 32 --input %s/testA "
             "--output %s/pt_out", b, shapes, dir);
    CHECK(run(args, out, sizeof out) != 0 && strstr(out, "--norm in or --norm ln"),
          "an in/ln .pt without --norm: %s", out);
    snprintf(args, sizeof args, "translate --model %s --img_size 32 --norm ln --input "
             "%s/testA --output %s/pt_out", b, shapes, dir);
    CHECK(run(args, out, sizeof out) == 0, "the .pt with --norm ln: %s", out);
    snprintf(args, sizeof args, "translate --model %s --norm gn --input %s/testA --output "
             "%s/nc_out", a, shapes, dir);
    CHECK(run(args, out, sizeof out) != 0 && strstr(out, "contradicts"),
          "--norm contradicting the metadata: %s", out);
}

/* CycleGAN: epochs of the 8 shapes, its 3-row samples, an exact resume, its
 * flags refused for U-GAT-IT and the other way round, and the official
 * folder layout through convert and translate. */
static void test_cyclegan(const char *shapes)
{
    char args[2048], out[8192], a[512], b[512], p[512];
    const char *tiny = "--img_size 32 --ch 2 --n_res 1 --threads 2 --family cyclegan";
    snprintf(args, sizeof args, "train --dataset %s --result_dir %s/cg --n_epochs 1 "
             "--n_epochs_decay 1 --print_freq 8 --save_freq 8 --seed 3 %s", shapes, dir, tiny);
    CHECK(run(args, out, sizeof out) == 0 && strstr(out, "16 steps") &&
              strstr(out, "(cyclegan)"), "train --family cyclegan: %s", out);
    snprintf(a, sizeof a, "%s/cg/shapes/model/shapes_params_0000016.safetensors", dir);
    snprintf(p, sizeof p, "%s/cg/shapes/img/A2B_0000016.png", dir);
    check_png(p, 10 * 32, 3 * 32);
    snprintf(p, sizeof p, "%s/cg/shapes/log.csv", dir);
    CHECK(count_lines(p) == 17, "log.csv of 16 steps: %d lines", count_lines(p));
    snprintf(p, sizeof p, "%s/cg/shapes/index.html", dir);
    size_t len;
    char *page = (char *)read_bytes(p, &len);
    CHECK(page && strstr(page, "<title>CycleGAN: shapes") && strstr(page, "PatchGAN, 3 layers"),
          "the report of a CycleGAN run names it and its configuration");
    free(page);
    snprintf(args, sizeof args, "train --dataset %s --result_dir %s/cg2 --n_epochs 1 "
             "--n_epochs_decay 1 --print_freq 8 --save_freq 8 --seed 3 %s", shapes, dir, tiny);
    CHECK(run(args, out, sizeof out) == 0, "train: %s", out);
    snprintf(b, sizeof b, "%s/cg2/shapes/model/shapes_params_0000016.safetensors", dir);
    remove(b);
    snprintf(args, sizeof args, "train --dataset %s --result_dir %s/cg2 --resume true", shapes,
             dir);
    CHECK(run(args, out, sizeof out) == 0 && strstr(out, "step 8"), "resume: %s", out);
    CHECK(same_checkpoint(a, b), "resumed cyclegan run differs from the uninterrupted one");

    snprintf(args, sizeof args, "train --dataset %s --result_dir %s/x %s --light true", shapes,
             dir, tiny);
    CHECK(run(args, out, sizeof out) == 2 && strstr(out, "--light is a flag of the ugatit"),
          "--light with cyclegan: %s", out);
    snprintf(args, sizeof args, "train --dataset %s --result_dir %s/x --n_epochs 2", shapes,
             dir);
    CHECK(run(args, out, sizeof out) == 2 && strstr(out, "--n_epochs is a flag of the cyclegan"),
          "--n_epochs with ugatit: %s", out);

    snprintf(p, sizeof p, "%s/cg_official/", dir);
    snprintf(args, sizeof args, "convert %s %s", a, p);
    CHECK(run(args, out, sizeof out) == 0, "convert to a folder: %s", out);
    snprintf(args, sizeof args, "translate --model %slatest_net_G_B.pth --img_size 32 "
             "--input %s/testB --output %s/cg_b2a", p, shapes, dir);
    CHECK(run(args, out, sizeof out) == 0, "translate a lone G_B: %s", out);
    snprintf(args, sizeof args, "translate --model %s --img_size 32 --direction B2A "
             "--input %s/testB --output %s/cg_b2a_ckpt", a, shapes, dir);
    CHECK(run(args, out, sizeof out) == 0, "translate B2A: %s", out);
    snprintf(args, sizeof args, "cmp -s %s/cg_b2a/0000.png %s/cg_b2a_ckpt/0000.png", dir, dir);
    CHECK(system(args) == 0, "latest_net_G_B.pth translates as the checkpoint's G_B");
    snprintf(b, sizeof b, "%s/cg_back.safetensors", dir);
    snprintf(args, sizeof args, "convert %s %s", p, b);
    CHECK(run(args, out, sizeof out) == 0, "convert a folder: %s", out);
    snprintf(args, sizeof args, "translate --model %s --img_size 32 --input %s/testA --output "
             "%s/cg_out --cam %s/cg_cam", b, shapes, dir, dir);
    CHECK(run(args, out, sizeof out) != 0 && strstr(out, "no CAM attention"),
          "--cam with cyclegan: %s", out);
}

int main(void)
{
    if (!check_samples("test_train"))
        return 1;
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    char shapes[300], args[1024], out[4096];
    snprintf(shapes, sizeof shapes, "%s/shapes", dir);
    snprintf(args, sizeof args, "make-shapes --out %s --n 8 --size 32 --seed 1", shapes);
    CHECK(run(args, out, sizeof out) == 0, "make-shapes: %s", out);
    test_files_written(shapes);
    test_threads_follow(shapes);
    test_resume(shapes);
    test_resume_from_pt(shapes);
    test_bad_inputs(shapes);
    test_ablations(shapes);
    test_cyclegan(shapes);
    test_real_images();
    snprintf(args, sizeof args, "rm -rf %s", dir);
    CHECK(system(args) == 0, "cleanup");
    return check_summary();
}
