/* Tests for src/report: sample grids (tile placement, PNG round trip, the JET
 * CAM tile, a model-computed column against ug_model_translate), the log.csv
 * reader (NaN rows, malformed rows, bucketing of a 200,000-row log) and the
 * HTML report (escaping, curves, missing or broken logs, file size). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "files.h"
#include "model/ugatit/ugatit.h"
#include "io/image.h"
#include "report/csvlog.h"
#include "report/grid.h"
#include "report/report.h"

static char tmpdir[] = "/tmp/ug_report_test_XXXXXX";

static void path_in(char *buf, size_t cap, const char *rel)
{
    snprintf(buf, cap, "%s/%s", tmpdir, rel);
}

/* Removes dir and everything in it (two levels are all the tests make). */
static void rm_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char p[1024];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (unlink(p) != 0)
            rm_tree(p);
    }
    closedir(d);
    rmdir(dir);
}

/* Does tile (row, col) of a grid picture equal the img x img picture t? */
static int tile_equals(const ug_image *g, int img, int row, int col, const ug_image *t)
{
    for (int y = 0; y < img; y++)
        if (memcmp(g->rgb + ((size_t)(row * img + y) * g->w + (size_t)col * img) * 3,
                   t->rgb + (size_t)y * img * 3, (size_t)img * 3) != 0)
            return 0;
    return 1;
}

static int tile_is_black(const ug_image *g, int img, int row, int col)
{
    for (int y = 0; y < img; y++)
        for (int x = 0; x < img * 3; x++)
            if (g->rgb[((size_t)(row * img + y) * g->w + (size_t)col * img) * 3 + x])
                return 0;
    return 1;
}

static void fill_tensor(float *x, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        x[i] = (float)((seed >> 8) & 0xffff) / 32767.5f - 1.0f;
    }
}

static void test_grid_tiles(void)
{
    enum { IMG = 16, ROWS = 7, COLS = 10 };
    ug_error err = {{0}};
    ug_grid g;
    CHECK(ug_grid_init(&g, ROWS, COLS, IMG, &err) == 0, "grid init: %s", err.msg);
    float x[3 * IMG * IMG], heat[4 * 4];
    fill_tensor(x, 3 * IMG * IMG, 7);
    for (int i = 0; i < 16; i++)
        heat[i] = (float)(i % 4 + i / 4); /* min at (0, 0), max at (3, 3) */
    CHECK(ug_grid_put_tensor(&g, 4, 9, x, &err) == 0, "put tensor: %s", err.msg);
    CHECK(ug_grid_put_cam(&g, 3, 2, heat, 4, 4, &err) == 0, "put cam: %s", err.msg);
    CHECK(ug_grid_put_tensor(&g, 7, 0, x, &err) == -1 && strstr(err.msg, "outside"),
          "row 7 refused: %s", err.msg);
    CHECK(ug_grid_put_cam(&g, 0, 10, heat, 4, 4, &err) == -1, "column 10 refused");

    char path[512];
    path_in(path, sizeof path, "grid.png");
    CHECK(ug_grid_save(&g, path, &err) == 0, "save: %s", err.msg);
    ug_image back = {0}, want = {0};
    CHECK(ug_image_load(&back, path, &err) == 0, "reload: %s", err.msg);
    CHECK(back.w == COLS * IMG && back.h == ROWS * IMG, "grid is %dx%d", back.w, back.h);
    if (back.w == COLS * IMG && back.h == ROWS * IMG) {
        ug_tensor_to_image(&want, x, IMG, IMG);
        CHECK(tile_equals(&back, IMG, 4, 9, &want), "tile (4, 9) is the tensor's picture");
        CHECK(tile_is_black(&back, IMG, 4, 8) && tile_is_black(&back, IMG, 0, 0),
              "untouched tiles stay black");
        /* JET: the heat map's maximum corner is red, its minimum corner blue. */
        size_t hot_at = (size_t)(3 * IMG + IMG - 1) * back.w + 3 * IMG - 1;
        const unsigned char *hot = back.rgb + hot_at * 3;
        const unsigned char *cold = back.rgb + ((size_t)(3 * IMG) * back.w + 2 * IMG) * 3;
        unsigned char jet_hi[3], jet_lo[3];
        ug_jet_rgb(255, jet_hi);
        ug_jet_rgb(0, jet_lo);
        CHECK(memcmp(hot, jet_hi, 3) == 0 && hot[0] > 100 && hot[1] == 0 && hot[2] == 0,
              "hot corner is JET red (%d %d %d)", hot[0], hot[1], hot[2]);
        CHECK(memcmp(cold, jet_lo, 3) == 0 && cold[2] > 100 && cold[0] == 0,
              "cold corner is JET blue (%d %d %d)", cold[0], cold[1], cold[2]);
        ug_image_free(&want);
    }
    ug_image_free(&back);
    ug_grid_free(&g);
    CHECK(g.pix.rgb == NULL, "free zeroes");
    ug_grid_free(&g);
    CHECK(ug_grid_init(&g, 0, 10, 16, &err) == -1 && strstr(err.msg, "grid"), "0 rows refused");
    ug_grid zero = {0};
    CHECK(ug_grid_save(&zero, path, &err) == -1 && strstr(err.msg, path), "empty grid refused");
}

/* Tile row of grid g equals the picture of a tensor or of a heat map. */
static int row_is_tensor(const ug_grid *g, int row, int col, const float *x)
{
    ug_image t = {0};
    ug_tensor_to_image(&t, x, g->img, g->img);
    int ok = tile_equals(&g->pix, g->img, row, col, &t);
    ug_image_free(&t);
    return ok;
}

static int row_is_cam(const ug_grid *g, int row, int col, const float *h)
{
    ug_image t = {0};
    if (ug_cam_image(&t, h, g->img / 4, g->img / 4, g->img, NULL))
        return 0;
    int ok = tile_equals(&g->pix, g->img, row, col, &t);
    ug_image_free(&t);
    return ok;
}

static void test_grid_column(void)
{
    enum { S = 32, HS = S / 4 };
    ug_config c = {.ch = 2, .n_res = 1, .img_size = S, .light = 1, .dis_global = 5,
                   .dis_local = 3};
    ug_error err = {{0}};
    ug_model *m = NULL;
    if (ug_model_new(&m, &c, 1, &err)) {
        CHECK(0, "model: %s", err.msg);
        return;
    }
    static float real[3 * S * S], fake[3 * S * S], ident[3 * S * S], cycle[3 * S * S];
    float h_fake[HS * HS], h_ident[HS * HS], h_cycle[HS * HS];
    fill_tensor(real, 3 * S * S, 3);
    for (int d = 0; d < 2; d++) {
        ug_direction dir = d ? UG_B2A : UG_A2B, other = d ? UG_A2B : UG_B2A;
        ug_grid g;
        CHECK(ug_grid_init(&g, 7, 2, S, &err) == 0, "init: %s", err.msg);
        CHECK(ug_grid_column(&g, 1, m, dir, real, &err) == 0, "column: %s", err.msg);
        ug_model_translate(m, dir, real, 1, fake, NULL, h_fake, &err);
        ug_model_translate(m, other, real, 1, ident, NULL, h_ident, &err);
        ug_model_translate(m, other, fake, 1, cycle, NULL, h_cycle, &err);
        CHECK(row_is_tensor(&g, 0, 1, real), "dir %d: row 0 is real", d);
        CHECK(row_is_cam(&g, 1, 1, h_ident), "dir %d: row 1 is CAM(identity)", d);
        CHECK(row_is_tensor(&g, 2, 1, ident), "dir %d: row 2 is identity", d);
        CHECK(row_is_cam(&g, 3, 1, h_fake), "dir %d: row 3 is CAM(fake)", d);
        CHECK(row_is_tensor(&g, 4, 1, fake), "dir %d: row 4 is translate(dir)", d);
        CHECK(row_is_cam(&g, 5, 1, h_cycle), "dir %d: row 5 is CAM(cycle)", d);
        CHECK(row_is_tensor(&g, 6, 1, cycle), "dir %d: row 6 is cycle", d);
        CHECK(tile_is_black(&g.pix, S, 4, 0), "dir %d: column 0 untouched", d);
        ug_grid_free(&g);
    }
    ug_grid g;
    ug_grid_init(&g, 7, 1, 16, &err);
    CHECK(ug_grid_column(&g, 0, m, UG_A2B, real, &err) == -1 && strstr(err.msg, "32"),
          "img mismatch refused: %s", err.msg);
    ug_grid_free(&g);
    ug_model_free(m);

    /* Without CAM in the generators (the ablation) the heat-map rows go. */
    c.no_cam_g = 1;
    if (ug_model_new(&m, &c, 1, &err)) {
        CHECK(0, "model without CAM: %s", err.msg);
        return;
    }
    CHECK(ug_grid_rows(m) == 4, "4 rows without CAM");
    ug_grid_init(&g, 4, 1, S, &err);
    CHECK(ug_grid_column(&g, 0, m, UG_A2B, real, &err) == 0, "column without CAM: %s", err.msg);
    ug_model_translate(m, UG_A2B, real, 1, fake, NULL, NULL, &err);
    ug_model_translate(m, UG_B2A, real, 1, ident, NULL, NULL, &err);
    ug_model_translate(m, UG_B2A, fake, 1, cycle, NULL, NULL, &err);
    CHECK(row_is_tensor(&g, 0, 0, real) && row_is_tensor(&g, 1, 0, ident) &&
              row_is_tensor(&g, 2, 0, fake) && row_is_tensor(&g, 3, 0, cycle),
          "rows real, identity, translation, cycle without CAM");
    ug_grid_free(&g);
    ug_model_free(m);
}

static const char *const kv[] = {"dataset", "selfie2anime", "note", "<script>alert(1)</script>",
                                 "light", "True"};
static const ug_rho_stats rho[] = {
    {"genA2B.UpBlock1_1.norm1", 4, 0.85, 0.7f, 1.0f, {0, 0, 0, 0, 0, 0, 1, 0, 1, 2}},
    {"genA2B.UpBlock2.2", 2, 0.1, 0.0f, 0.3f, {1, 0, 0, 1, 0, 0, 0, 0, 0, 0}}};

static char *report_in(const char *dir, size_t *n, long sample_step)
{
    ug_report_input in = {.title = "selfie2anime & <co>", .result_dir = dir, .step = 120,
                          .total_steps = 1000, .sample_step = sample_step, .config_kv = kv,
                          .n_config = 3, .rho = rho, .n_rho = 2,
                          .main_losses = {"Discriminator_loss", "Generator_loss"}};
    ug_error err = {{0}};
    if (ug_report_write(&in, &err)) {
        CHECK(0, "report: %s", err.msg);
        return NULL;
    }
    char path[600];
    snprintf(path, sizeof path, "%s/index.html", dir);
    return (char *)read_bytes(path, n);
}

/* The most points in any one polyline of the page. */
static int max_polyline_points(const char *html)
{
    int most = 0;
    for (const char *p = html; (p = strstr(p, "<polyline")) != NULL; p++) {
        const char *q = strstr(p, "points=\"") + 8, *e = strchr(q, '"');
        int n = 0;
        for (; q < e; q++)
            n += *q == ',';
        most = n > most ? n : most;
    }
    return most;
}

static void test_log_and_report(void)
{
    char dir[600], path[700];
    path_in(dir, sizeof dir, "run");
    mkdir(dir, 0777);
    size_t n = 0;

    /* No log yet: a page that says so. */
    char *html = report_in(dir, &n, 0);
    CHECK(html && strstr(html, "No log yet") && !strstr(html, "<polyline"), "missing log page");
    CHECK(html && strstr(html, "No samples yet"), "no samples yet");
    free(html);

    /* A log with a NaN row and a malformed row. */
    snprintf(path, sizeof path, "%s/log.csv", dir);
    write_text(path, "step,Discriminator_loss,Generator_loss,G_cam_loss_A,lr,seconds,odd<name>\n"
               "1,2.5,900,600,0.0001,0.5,1\n"
               "2,1.5,nan,300,0.0001,1.0,1\n"
               "3,1.0,400,inf,0.0001,1.5,1\n"
               "4,1.0\n"
               "5,0.9,100,10,0.0001,2.5,1\r\n");
    ug_log log;
    ug_error err = {{0}};
    CHECK(ug_log_read(&log, path, 1000, &err) == 0, "log: %s", err.msg);
    CHECK(log.n_cols == 6 && log.rows == 4 && log.bad_rows == 1, "%d cols, %ld rows, %ld bad",
          log.n_cols, log.rows, log.bad_rows);
    int gi = ug_log_find(&log, "Generator_loss"), ci = ug_log_find(&log, "G_cam_loss_A");
    CHECK(gi == 1 && ci == 2 && ug_log_find(&log, "x") == -1, "columns found");
    CHECK(gi == 1 && log.nonfinite[1] == 1 && log.first_nonfinite_step[1] == 2 &&
              log.cnt[1 * log.cap + 1] == 0 && log.last[1] == 100,
          "NaN skipped in Generator_loss");
    CHECK(ci == 2 && log.nonfinite[2] == 1 && log.mx[2 * log.cap + 2] == -INFINITY,
          "inf skipped");
    CHECK(log.last_step == 5 && log.last[4] == 2.5, "last row read through \\r\\n");
    ug_log_free(&log);

    mkdir(strcat(strcpy(path, dir), "/img"), 0777);
    ug_grid g;
    ug_grid_init(&g, 7, 2, 8, &err);
    snprintf(path, sizeof path, "%s/img/A2B_%07d.png", dir, 5);
    CHECK(ug_grid_save(&g, path, &err) == 0, "sample grid: %s", err.msg);
    ug_grid_free(&g);

    html = report_in(dir, &n, 5);
    CHECK(html != NULL, "report read back");
    if (html) {
        CHECK(strstr(html, "<svg") && strstr(html, "<polyline"), "curves drawn");
        CHECK(!strstr(html, "<script") && strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt;"),
              "config value escaped");
        CHECK(strstr(html, "selfie2anime &amp; &lt;co&gt;") != NULL, "title escaped");
        CHECK(strstr(html, "odd&lt;name&gt;") && !strstr(html, "odd<"), "column name escaped");
        CHECK(!strstr(html, "nan") && !strstr(html, "NaN,") && !strstr(html, "inf,"),
              "no NaN in the drawing");
        CHECK(strstr(html, "non-finite") && strstr(html, "malformed"), "NaN rows reported");
        CHECK(strstr(html, "src=\"img/A2B_0000005.png\"") &&
                  strstr(html, "B2A_0000005.png is missing"),
              "samples linked by relative path, missing one noted");
        CHECK(strstr(html, "genA2B.UpBlock1_1.norm1") && strstr(html, "0.85"), "rho table");
        CHECK(strstr(html, "https://") == NULL && strstr(html, "http://www.w3.org/2000/svg"),
              "nothing external");
    }
    free(html);

    /* A single row: a one-point curve. */
    snprintf(path, sizeof path, "%s/log.csv", dir);
    write_text(path, "step,Discriminator_loss,Generator_loss\n1,2.5,900\n");
    html = report_in(dir, &n, 0);
    CHECK(html && strstr(html, "<polyline") && !strstr(html, "nan"), "one-row log page");
    free(html);

    /* A broken header: still a page. */
    snprintf(path, sizeof path, "%s/log.csv", dir);
    write_text(path, "\x89PNG garbage,,,\n1,2\n");
    html = report_in(dir, &n, 0);
    CHECK(html && strstr(html, "No log yet") && strstr(html, "step"), "broken log page");
    free(html);

    ug_report_input in = {.title = "x", .result_dir = "/nonexistent/dir"};
    CHECK(ug_report_write(&in, &err) == -1 && strstr(err.msg, "/nonexistent/dir/index.html"),
          "unwritable dir: %s", err.msg);
}

/* 200,000 rows of the real column set: stays under 1000 points a curve and
 * a few hundred kilobytes of page. */
static void test_long_log(void)
{
    char dir[600], path[700];
    path_in(dir, sizeof dir, "long");
    mkdir(dir, 0777);
    snprintf(path, sizeof path, "%s/log.csv", dir);
    FILE *fp = fopen(path, "w");
    fputs("step", fp);
    for (int t = 0; t < UG_N_LOSSES; t++)
        fprintf(fp, ",%s", ug_family_ugatit.loss_names[t]);
    fputs(",lr,seconds\n", fp);
    char tails[64][400];
    for (int k = 0; k < 64; k++) {
        int o = 0;
        for (int t = 0; t < UG_N_LOSSES; t++)
            o += snprintf(tails[k] + o, sizeof tails[k] - o, ",%.5g",
                          0.1 + 0.01 * ((k * 7 + t) % 64));
        snprintf(tails[k] + o, sizeof tails[k] - o, ",0.0001");
    }
    clock_t t0 = clock();
    enum { ROWS = 200000 };
    for (long s = 1; s <= ROWS; s++)
        fprintf(fp, "%ld%s,%.2f\n", s, tails[s % 64], s * 0.01);
    fclose(fp);

    ug_log log;
    ug_error err = {{0}};
    clock_t t1 = clock();
    int read_ok = ug_log_read(&log, path, 1000, &err) == 0;
    clock_t t1b = clock();
    CHECK(read_ok, "long log: %s", err.msg);
    CHECK(log.rows == ROWS && log.n_buckets > 500 && log.n_buckets <= 1000 &&
              log.rows_per_bucket == 256,
          "%ld rows in %d buckets of %ld", log.rows, log.n_buckets, log.rows_per_bucket);
    int sc = ug_log_find(&log, "seconds");
    /* seconds = step / 100, so bucket b's mean is its middle step / 100. */
    double want = (0.5 * (1 + 256)) * 0.01;
    CHECK(sc >= 0 && fabs(log.sum[sc * log.cap] / log.cnt[sc * log.cap] - want) < 1e-9 &&
              log.step_lo[0] == 1 && log.step_hi[0] == 256,
          "first bucket mean %g", sc >= 0 ? log.sum[sc * log.cap] / log.cnt[sc * log.cap] : 0);
    ug_log_free(&log);

    size_t n = 0;
    char *html = report_in(dir, &n, 0);
    clock_t t2 = clock();
    CHECK(html && max_polyline_points(html) <= 1000 && max_polyline_points(html) > 400,
          "at most 1000 points a curve (%d)", html ? max_polyline_points(html) : -1);
    CHECK(n > 1000 && n < 600 * 1024, "page is %zu bytes", n);
    printf("200k-row log: written in %.2f s, read %.2f s, report %.2f s, page %zu bytes\n",
           (double)(t1 - t0) / CLOCKS_PER_SEC, (double)(t1b - t1) / CLOCKS_PER_SEC,
           (double)(t2 - t1b) / CLOCKS_PER_SEC, n);
    free(html);
}

int main(void)
{
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 2;
    }
    test_grid_tiles();
    test_grid_column();
    test_log_and_report();
    test_long_log();
    if (getenv("UG_KEEP_TMP"))
        printf("kept %s\n", tmpdir);
    else
        rm_tree(tmpdir);
    return check_summary();
}
