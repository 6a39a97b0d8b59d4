/* Streaming, bucketed reading of log.csv (see csvlog.h). */
#include "report/csvlog.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/file.h"

void ug_log_free(ug_log *log)
{
    if (log->names)
        for (int c = 0; c < log->n_cols; c++)
            free(log->names[c]);
    free(log->names);
    free(log->step_lo);
    free(log->step_hi);
    free(log->mn);
    free(log->mx);
    free(log->sum);
    free(log->cnt);
    free(log->last);
    free(log->nonfinite);
    free(log->first_nonfinite_step);
    memset(log, 0, sizeof *log);
}

int ug_log_find(const ug_log *log, const char *name)
{
    for (int c = 0; c < log->n_cols; c++)
        if (strcmp(log->names[c], name) == 0)
            return c;
    return -1;
}

/* Cuts the next comma-separated field out of *p (in place), trimmed of
 * blanks; NULL after the last one. */
static char *next_field(char **p)
{
    char *s = *p;
    if (!s)
        return NULL;
    char *comma = strchr(s, ',');
    if (comma) {
        *comma = '\0';
        *p = comma + 1;
    } else {
        *p = NULL;
    }
    while (*s == ' ' || *s == '\t')
        s++;
    char *e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
        *--e = '\0';
    return s;
}

static double parse_number(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    return end == s || *end ? NAN : v;
}

static void clear_buckets(ug_log *log, int from)
{
    for (int c = 0; c < log->n_cols; c++)
        for (int b = from; b < log->cap; b++) {
            size_t i = (size_t)c * log->cap + b;
            log->mn[i] = INFINITY;
            log->mx[i] = -INFINITY;
            log->sum[i] = 0;
            log->cnt[i] = 0;
        }
}

/* Halves the number of buckets by merging neighbours. */
static void merge_pairs(ug_log *log)
{
    int n = (log->n_buckets + 1) / 2;
    for (int k = 0; k < n; k++) {
        int a = 2 * k, b = 2 * k + 1;
        log->step_lo[k] = log->step_lo[a];
        log->step_hi[k] = b < log->n_buckets ? log->step_hi[b] : log->step_hi[a];
        for (int c = 0; c < log->n_cols; c++) {
            size_t o = (size_t)c * log->cap, i = o + k, ia = o + a, ib = o + b;
            double mn = log->mn[ia], mx = log->mx[ia], sum = log->sum[ia];
            long cnt = log->cnt[ia];
            if (b < log->n_buckets) {
                mn = fmin(mn, log->mn[ib]);
                mx = fmax(mx, log->mx[ib]);
                sum += log->sum[ib];
                cnt += log->cnt[ib];
            }
            log->mn[i] = mn;
            log->mx[i] = mx;
            log->sum[i] = sum;
            log->cnt[i] = cnt;
        }
    }
    log->n_buckets = n;
    log->rows_per_bucket *= 2;
    clear_buckets(log, n);
}

static int setup(ug_log *log, char *header, int max_points, const char *path, ug_error *err)
{
    char *p = header, *f = next_field(&p);
    if (!f || strcmp(f, "step") != 0)
        return ug_fail(err, "%s: the header does not start with \"step\"", path);
    int n = 0;
    for (char *q = p; q; q = strchr(q, ','), q = q ? q + 1 : NULL)
        n++;
    if (n == 0)
        return ug_fail(err, "%s: no columns besides step", path);
    if (n > 4096) /* not a training log; refuse before allocating per column */
        return ug_fail(err, "%s: %d columns is too many", path, n);
    log->cap = max_points + (max_points & 1);
    log->names = calloc((size_t)n, sizeof *log->names);
    size_t nb = (size_t)log->cap, nv = (size_t)n * nb;
    log->step_lo = malloc(nb * sizeof(double));
    log->step_hi = malloc(nb * sizeof(double));
    log->mn = malloc(nv * sizeof(double));
    log->mx = malloc(nv * sizeof(double));
    log->sum = malloc(nv * sizeof(double));
    log->cnt = malloc(nv * sizeof(long));
    log->last = malloc((size_t)n * sizeof(double));
    log->nonfinite = calloc((size_t)n, sizeof(long));
    log->first_nonfinite_step = malloc((size_t)n * sizeof(double));
    if (!log->names || !log->step_lo || !log->step_hi || !log->mn || !log->mx || !log->sum ||
        !log->cnt || !log->last || !log->nonfinite || !log->first_nonfinite_step)
        return ug_fail(err, "%s: out of memory", path);
    for (int c = 0; c < n; c++) {
        f = next_field(&p);
        log->names[c] = malloc(strlen(f) + 1);
        if (!log->names[c])
            return ug_fail(err, "%s: out of memory", path);
        strcpy(log->names[c], f);
        log->n_cols = c + 1; /* so that ug_log_free frees what exists */
        log->last[c] = NAN;
        log->first_nonfinite_step[c] = NAN;
    }
    log->rows_per_bucket = 1;
    clear_buckets(log, 0);
    return 0;
}

/* Adds one data line; returns 0, or 1 when the row is skipped. */
static int add_row(ug_log *log, char *line, double *vals)
{
    char *p = line, *f = next_field(&p);
    if (!f || !*f)
        return 0; /* a blank line is not an error */
    double step = parse_number(f);
    int n = 0;
    while ((f = next_field(&p)) != NULL) {
        if (n == log->n_cols)
            return 1;
        vals[n++] = parse_number(f);
    }
    if (n != log->n_cols || !isfinite(step))
        return 1;

    long r = log->rows++;
    int b;
    while ((b = (int)(r / log->rows_per_bucket)) >= log->cap)
        merge_pairs(log);
    if (b >= log->n_buckets) {
        log->n_buckets = b + 1;
        log->step_lo[b] = step;
    }
    log->step_hi[b] = step;
    log->last_step = step;
    for (int c = 0; c < n; c++) {
        double v = vals[c];
        if (!isfinite(v)) {
            if (log->nonfinite[c]++ == 0)
                log->first_nonfinite_step[c] = step;
            continue;
        }
        size_t i = (size_t)c * log->cap + b;
        log->mn[i] = fmin(log->mn[i], v);
        log->mx[i] = fmax(log->mx[i], v);
        log->sum[i] += v;
        log->cnt[i]++;
        log->last[c] = v;
    }
    return 0;
}

int ug_log_read(ug_log *log, const char *path, int max_points, ug_error *err)
{
    memset(log, 0, sizeof *log);
    if (max_points < 2 || max_points > (1 << 20))
        return ug_fail(err, "%s: bad number of points %d", path, max_points);
    FILE *fp = ug_fopen_read(path, NULL, err);
    if (!fp)
        return -1;
    char *line = NULL;
    size_t cap = 0;
    double *vals = NULL;
    int rc = 0;
    if (getline(&line, &cap, fp) < 0)
        rc = ug_fail(err, "%s: empty", path);
    if (rc == 0)
        rc = setup(log, line, max_points, path, err);
    if (rc == 0 && !(vals = malloc((size_t)log->n_cols * sizeof *vals)))
        rc = ug_fail(err, "%s: out of memory", path);
    while (rc == 0 && getline(&line, &cap, fp) >= 0)
        log->bad_rows += add_row(log, line, vals);
    if (rc == 0 && ferror(fp))
        rc = ug_fail(err, "%s: read error", path);
    free(vals);
    free(line);
    fclose(fp);
    if (rc != 0)
        ug_log_free(log);
    return rc;
}
