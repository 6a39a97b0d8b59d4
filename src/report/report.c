/* The HTML training report (see report.h). */
#include "report/report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "io/atomic.h"
#include "report/chart.h"
#include "report/csvlog.h"
#include "report/html.h"
#include "report/rhochart.h"

static const char *const style =
    "body{font-family:sans-serif;max-width:1240px;margin:1em auto;padding:0 1em;color:#222}"
    "h1{margin-bottom:.2em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}"
    "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ddd;padding:2px 8px;"
    "text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}"
    ".muted{color:#777}.warn{color:#b00}"
    ".bar{width:320px;height:10px;background:#eee;border:1px solid #ccc;display:inline-block;"
    "vertical-align:middle}.bar span{display:block;height:100%;background:#4a8}"
    ".multiples{display:grid;grid-template-columns:repeat(auto-fill,minmax(300px,1fr));gap:6px}"
    ".rho-pooled{display:flex;flex-wrap:wrap;gap:12px}"
    ".samples{display:flex;margin:.4em 0}.samples ol{display:flex;flex-direction:column;"
    "list-style:none;margin:0;padding:0 6px 0 0;font-size:12px;min-width:7em}"
    ".samples li{flex:1;display:flex;align-items:center;justify-content:flex-end}"
    ".samples img{max-width:100%;height:auto;display:block}.samples a{flex:0 1 auto}\n";

static void header(FILE *fp, const ug_report_input *in)
{
    const char *model = in->model ? in->model : "U-GAT-IT";
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>", fp);
    ug_html_text(fp, model);
    fputs(": ", fp);
    ug_html_text(fp, in->title);
    fprintf(fp, "</title>\n<style>%s</style>\n</head>\n<body>\n<h1>", style);
    ug_html_text(fp, model);
    fputs(": ", fp);
    ug_html_text(fp, in->title);
    fputs("</h1>\n<p>", fp);
    if (in->total_steps > 0) {
        double pct = 100.0 * (double)in->step / (double)in->total_steps;
        pct = pct < 0 ? 0 : pct > 100 ? 100 : pct;
        fprintf(fp, "Step %ld of %ld (%.1f%%) <span class=\"bar\"><span style=\"width:%.1f%%\">"
                    "</span></span>", in->step, in->total_steps, pct, pct);
    } else {
        fprintf(fp, "Step %ld", in->step);
    }
    char when[64] = "";
    time_t now = time(NULL);
    struct tm tm;
    if (localtime_r(&now, &tm))
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
    fprintf(fp, "<br><span class=\"muted\">written %s</span></p>\n", when);
}

static void config_table(FILE *fp, const ug_report_input *in)
{
    fputs("<h2>Configuration</h2>\n", fp);
    if (in->n_config <= 0 || !in->config_kv) {
        fputs("<p class=\"muted\">none given</p>\n", fp);
        return;
    }
    fputs("<table>\n", fp);
    for (int i = 0; i < in->n_config; i++) {
        fputs("<tr><th>", fp);
        ug_html_text(fp, in->config_kv[2 * i]);
        fputs("</th><td>", fp);
        ug_html_text(fp, in->config_kv[2 * i + 1]);
        fputs("</td></tr>\n", fp);
    }
    fputs("</table>\n", fp);
}

/* Notes non-finite values and skipped rows, which usually mean trouble. */
static void log_warnings(FILE *fp, const ug_log *log)
{
    for (int c = 0; c < log->n_cols; c++) {
        if (log->nonfinite[c] == 0)
            continue;
        fputs("<p class=\"warn\">", fp);
        ug_html_text(fp, log->names[c]);
        fprintf(fp, ": %ld non-finite value(s) left out, the first at step %.0f</p>\n",
                log->nonfinite[c], log->first_nonfinite_step[c]);
    }
    if (log->bad_rows)
        fprintf(fp, "<p class=\"warn\">%ld malformed rows of log.csv left out</p>\n",
                log->bad_rows);
}

static int is_main(const ug_report_input *in, const char *name)
{
    for (int i = 0; i < 2; i++)
        if (in->main_losses[i] && strcmp(name, in->main_losses[i]) == 0)
            return 1;
    return 0;
}

/* Reads result_dir/file into log: 1, or 0 when it cannot (why says why),
 * or -1 when out of memory. */
static int read_log(const ug_report_input *in, const char *file, ug_log *log, ug_error *why,
                    ug_error *err)
{
    size_t len = strlen(in->result_dir) + strlen(file) + 2;
    char *path = malloc(len);
    if (!path)
        return ug_fail(err, "report: out of memory");
    snprintf(path, len, "%s/%s", in->result_dir, file);
    int have = ug_log_read(log, path, UG_REPORT_MAX_POINTS, why) == 0;
    free(path);
    return have;
}

static int curves(FILE *fp, const ug_report_input *in, ug_error *err)
{
    fputs("<h2>Losses</h2>\n", fp);
    ug_log log;
    ug_error why;
    int have = read_log(in, "log.csv", &log, &why, err);
    if (have < 0)
        return -1;
    if (!have || log.rows == 0) {
        fputs("<p class=\"muted\">No log yet", fp);
        if (!have) {
            fputs(" (", fp);
            ug_html_text(fp, why.msg);
            fputc(')', fp);
        }
        fputs(".</p>\n", fp);
        if (have)
            ug_log_free(&log);
        return 0;
    }
    fprintf(fp, "<p class=\"muted\">%ld rows of log.csv, steps %.0f to %.0f; each point is the "
                "mean of up to %ld rows, the band their minimum and maximum.</p>\n",
            log.rows, log.step_lo[0], log.last_step, log.rows_per_bucket);
    log_warnings(fp, &log);

    int *cols = malloc((size_t)log.n_cols * sizeof *cols), rc = 0, n_main = 0;
    if (!cols) {
        ug_log_free(&log);
        return ug_fail(err, "report: out of memory");
    }
    for (int c = 0; c < log.n_cols; c++)
        if (is_main(in, log.names[c]))
            cols[n_main++] = c;
    if (n_main > 0) {
        ug_chart ch = {1200, 340, UG_REPORT_MAX_POINTS, 1, NULL, "main"};
        rc = ug_chart_svg(fp, &log, cols, n_main, &ch, err);
    }
    fputs("<h3>Every column</h3>\n<div class=\"multiples\">\n", fp);
    for (int c = 0; rc == 0 && c < log.n_cols; c++) {
        if (strcmp(log.names[c], "seconds") == 0)
            continue;
        /* The title carries the latest value. */
        char num[40], id[24];
        num[0] = '\0';
        if (isfinite(log.last[c]))
            snprintf(num, sizeof num, " = %.4g", log.last[c]);
        size_t nlen = strlen(log.names[c]);
        char *title = malloc(nlen + sizeof num);
        if (!title) {
            rc = ug_fail(err, "report: out of memory");
            break;
        }
        memcpy(title, log.names[c], nlen);
        strcpy(title + nlen, num);
        snprintf(id, sizeof id, "c%d", c);
        ug_chart ch = {300, 170, 250, strcmp(log.names[c], "lr") != 0, title, id};
        rc = ug_chart_svg(fp, &log, &c, 1, &ch, err);
        free(title);
    }
    fputs("</div>\n", fp);
    free(cols);
    ug_log_free(&log);
    return rc;
}

/* KID over the run (kid.csv of ugatit train --kid_freq); nothing without it. */
static int kid_curves(FILE *fp, const ug_report_input *in, ug_error *err)
{
    ug_log log;
    ug_error why;
    int have = read_log(in, "kid.csv", &log, &why, err);
    if (have <= 0)
        return have;
    int cols[2] = {ug_log_find(&log, "kid_A2B"), ug_log_find(&log, "kid_B2A")};
    int sd[2] = {ug_log_find(&log, "kid_A2B_std"), ug_log_find(&log, "kid_B2A_std")}, rc = 0;
    if (log.rows > 0 && cols[0] >= 0 && cols[1] >= 0 && sd[0] >= 0 && sd[1] >= 0) {
        fprintf(fp, "<h2>KID</h2>\n<p>KID x 100 of the test translations against the real "
                    "test images, as <code>ugatit eval</code> measures it (blocks of at most "
                    "10, standard error; lower is better), %ld measurements; at step %.0f:",
                log.rows, log.last_step);
        for (int d = 0; d < 2; d++) {
            fprintf(fp, "%s %s %.2f", d ? "," : "", d ? "B2A" : "A2B", log.last[cols[d]]);
            if (isfinite(log.last[sd[d]])) /* a single block has none */
                fprintf(fp, " &plusmn; %.2f", log.last[sd[d]]);
        }
        fputs(".</p>\n", fp);
        ug_chart ch = {1200, 300, UG_REPORT_MAX_POINTS, 0, NULL, "kid"};
        rc = ug_chart_svg(fp, &log, cols, 2, &ch, err);
    }
    ug_log_free(&log);
    return rc;
}

static int file_exists(const char *dir, const char *rel)
{
    size_t n = strlen(dir) + strlen(rel) + 2;
    char *p = malloc(n);
    if (!p)
        return 0;
    snprintf(p, n, "%s/%s", dir, rel);
    int ok = access(p, R_OK) == 0;
    free(p);
    return ok;
}

static void sample_grid(FILE *fp, const ug_report_input *in, const char *dir, const char *s,
                        const char *t)
{
    char rel[64];
    snprintf(rel, sizeof rel, "img/%s_%07ld.png", dir, in->sample_step);
    fprintf(fp, "<h3>%s</h3>\n", dir);
    if (!file_exists(in->result_dir, rel)) {
        fprintf(fp, "<p class=\"muted\">%s is missing.</p>\n", rel);
        return;
    }
    /* Row labels beside the picture, stretched to its height by flexbox. */
    fprintf(fp, "<div class=\"samples\"><ol><li>real %s</li><li>CAM %s2%s</li><li>%s2%s</li>"
                "<li>CAM %s2%s</li><li>%s2%s</li><li>CAM %s2%s2%s</li><li>%s2%s2%s</li></ol>",
            s, s, s, s, s, s, t, s, t, s, t, s, s, t, s);
    fprintf(fp, "<a href=\"%s\"><img src=\"%s\" alt=\"%s samples at step %ld\"></a></div>\n", rel,
            rel, dir, in->sample_step);
}

static void samples(FILE *fp, const ug_report_input *in)
{
    fputs("<h2>Samples</h2>\n", fp);
    if (in->sample_step <= 0) {
        fputs("<p class=\"muted\">No samples yet.</p>\n", fp);
        return;
    }
    fprintf(fp, "<p class=\"muted\">At step %ld; columns are training images, then test "
                "images. CAM rows: the attention heat map, red high, blue low.</p>\n",
            in->sample_step);
    sample_grid(fp, in, "A2B", "A", "B");
    sample_grid(fp, in, "B2A", "B", "A");
}

/* The whole page into fp. */
static int page(FILE *fp, const ug_report_input *in, ug_error *err)
{
    header(fp, in);
    config_table(fp, in);
    if (curves(fp, in, err) != 0 || kid_curves(fp, in, err) != 0)
        return -1;
    samples(fp, in);
    ug_rho_section(fp, in->rho, in->n_rho, in->rho_history);
    fputs("</body>\n</html>\n", fp);
    return 0;
}

int ug_report_write(const ug_report_input *in, ug_error *err)
{
    if (!in->result_dir)
        return ug_fail(err, "report: no result directory");
    size_t n = strlen(in->result_dir) + 16;
    char *path = malloc(n);
    if (!path)
        return ug_fail(err, "report: out of memory");
    snprintf(path, n, "%s/index.html", in->result_dir);
    /* The page is composed in memory, then written atomically in one piece. */
    char *text = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&text, &len);
    int rc = fp ? page(fp, in, err) : ug_fail(err, "%s: out of memory", path);
    if (fp && fclose(fp) != 0 && rc == 0)
        rc = ug_fail(err, "%s: out of memory", path);
    ug_atomic a;
    if (rc == 0 && (rc = ug_atomic_open(&a, path, err)) == 0) {
        ug_atomic_write(&a, text, len);
        rc = ug_atomic_commit(&a, err);
    }
    free(text);
    free(path);
    return rc;
}
