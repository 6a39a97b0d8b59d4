/* SVG line charts of log columns (see chart.h). */
#include "report/chart.h"

#include <math.h>
#include <stdlib.h>

#include "report/html.h"

static const char *const palette[] = {"#1f77b4", "#d62728", "#2ca02c",
                                      "#9467bd", "#ff7f0e", "#8c564b"};
#define N_PALETTE (int)(sizeof palette / sizeof palette[0])

typedef struct point {
    double x, mean, lo, hi;
} point;

/* The plot area and its axes; y0, y1 are in the transformed (log10 or
 * linear) space. */
typedef struct frame {
    double px, py, pw, ph;
    double x0, x1, y0, y1;
    int log;
} frame;

/* Merges the log's buckets of column c into at most max points, skipping
 * groups without a finite value. */
static int gather(const ug_log *log, int c, int max, point *pts)
{
    int g = (log->n_buckets + max - 1) / max, n = 0;
    if (g < 1)
        g = 1;
    for (int b0 = 0; b0 < log->n_buckets; b0 += g) {
        int b1 = b0 + g < log->n_buckets ? b0 + g : log->n_buckets;
        double mn = INFINITY, mx = -INFINITY, sum = 0;
        long cnt = 0;
        for (int b = b0; b < b1; b++) {
            size_t i = (size_t)c * log->cap + b;
            if (log->cnt[i] == 0)
                continue;
            mn = fmin(mn, log->mn[i]);
            mx = fmax(mx, log->mx[i]);
            sum += log->sum[i];
            cnt += log->cnt[i];
        }
        if (cnt > 0)
            pts[n++] = (point){(log->step_lo[b0] + log->step_hi[b1 - 1]) / 2, sum / cnt, mn, mx};
    }
    return n;
}

static double tf(const frame *f, double v)
{
    return f->log ? log10(v) : v;
}

static double sx(const frame *f, double x)
{
    return f->px + (x - f->x0) / (f->x1 - f->x0) * f->pw;
}

/* Clamped a little beyond the plot so that wild values stay short numbers;
 * the clip path hides the excess. */
static double sy(const frame *f, double v)
{
    double t = (tf(f, v) - f->y0) / (f->y1 - f->y0);
    t = t < -1 ? -1 : t > 2 ? 2 : t;
    return f->py + f->ph - t * f->ph;
}

double ug_chart_nice_step(double span, int target)
{
    double raw = span / target, mag = pow(10, floor(log10(raw))), r = raw / mag;
    return (r < 1.5 ? 1 : r < 3 ? 2 : r < 7 ? 5 : 10) * mag;
}

void ug_chart_fmt_step(char *buf, size_t cap, double v)
{
    if (fabs(v) >= 1e6 && fmod(v, 1e5) == 0)
        snprintf(buf, cap, "%gM", v / 1e6);
    else if (fabs(v) >= 1e4 && fmod(v, 1e3) == 0)
        snprintf(buf, cap, "%gk", v / 1e3);
    else
        snprintf(buf, cap, "%g", v);
}

static void y_tick(FILE *fp, const frame *f, double v)
{
    double y = sy(f, v);
    fprintf(fp, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e4e4e4\"/>", f->px,
            y, f->px + f->pw, y);
    fprintf(fp, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n", f->px - 4,
            y + 3.5, v);
}

static void y_axis(FILE *fp, const frame *f)
{
    if (f->log && f->y1 - f->y0 >= 1) {
        /* Decades; with few of them, 2 and 5 times each as well. */
        int k0 = (int)floor(f->y0), k1 = (int)ceil(f->y1), every = (k1 - k0) / 7 + 1;
        int fine = 3 * (f->y1 - f->y0) * 25 <= f->ph; /* about 25 px a tick */
        for (int k = k0; k <= k1; k += every)
            for (int m = 1; m <= 5; m += fine ? (m == 1 ? 1 : 3) : 5) {
                double v = m * pow(10, k), t = log10(v);
                if (t >= f->y0 && t <= f->y1)
                    y_tick(fp, f, v);
            }
        return;
    }
    double lo = f->log ? pow(10, f->y0) : f->y0, hi = f->log ? pow(10, f->y1) : f->y1;
    double step = ug_chart_nice_step(hi - lo, f->ph < 120 ? 3 : 5);
    for (double k = ceil(lo / step); k * step <= hi * (1 + 1e-12) && k < ceil(lo / step) + 20;
         k++) {
        double v = fabs(k) < 0.5 ? 0 : k * step;
        if (!f->log || v > 0)
            y_tick(fp, f, v);
    }
}

static void x_axis(FILE *fp, const frame *f)
{
    double step = fmax(1, ug_chart_nice_step(f->x1 - f->x0, f->pw < 400 ? 3 : 8)); /* whole steps */
    char buf[32];
    for (double k = ceil(f->x0 / step); k * step <= f->x1 && k < ceil(f->x0 / step) + 20; k++) {
        double x = sx(f, k * step);
        ug_chart_fmt_step(buf, sizeof buf, k * step);
        fprintf(fp, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#999\"/>", x,
                f->py + f->ph, x, f->py + f->ph + 4);
        fprintf(fp, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n", x,
                f->py + f->ph + 15, buf);
    }
}

/* Chooses the axes from all points: a log axis for positive values spanning
 * more than 30x, and a y range from the means widened towards the bands by
 * at most a quarter of the means' span on each side. */
static void fit(frame *f, point *const *pts, const int *np, int n, int allow_log)
{
    double x0 = INFINITY, x1 = -INFINITY, lo = INFINITY, hi = -INFINITY;
    for (int s = 0; s < n; s++)
        for (int i = 0; i < np[s]; i++) {
            x0 = fmin(x0, pts[s][i].x);
            x1 = fmax(x1, pts[s][i].x);
            lo = fmin(lo, pts[s][i].lo);
            hi = fmax(hi, pts[s][i].hi);
        }
    f->log = allow_log && lo > 0 && hi / lo > 30;
    double mlo = INFINITY, mhi = -INFINITY, blo = INFINITY, bhi = -INFINITY;
    for (int s = 0; s < n; s++)
        for (int i = 0; i < np[s]; i++) {
            mlo = fmin(mlo, tf(f, pts[s][i].mean));
            mhi = fmax(mhi, tf(f, pts[s][i].mean));
            blo = fmin(blo, tf(f, pts[s][i].lo));
            bhi = fmax(bhi, tf(f, pts[s][i].hi));
        }
    double span = mhi - mlo;
    if (!(span > 1e-9 * fmax(1, fabs(mhi)))) {
        span = f->log ? 1 : mhi != 0 ? fabs(mhi) * 0.2 : 1;
        mlo -= span / 2;
        mhi += span / 2;
    }
    double y0 = fmax(blo, mlo - 0.25 * span), y1 = fmin(bhi, mhi + 0.25 * span);
    y0 = fmin(y0, mlo);
    y1 = fmax(y1, mhi);
    double pad = 0.04 * (y1 - y0);
    f->y0 = y0 - pad;
    f->y1 = y1 + pad;
    if (!f->log && mlo >= 0 && f->y0 < 0 && y0 >= 0)
        f->y0 = 0; /* losses are non-negative: no axis below zero */
    if (x1 <= x0) {
        x0 -= 1;
        x1 += 1;
    }
    f->x0 = x0;
    f->x1 = x1;
}

static void series(FILE *fp, const frame *f, const point *p, int n, const char *color)
{
    fprintf(fp, "<polygon fill=\"%s\" fill-opacity=\"0.18\" stroke=\"none\" points=\"", color);
    for (int i = 0; i < n; i++)
        fprintf(fp, "%.1f,%.1f ", sx(f, p[i].x), sy(f, p[i].hi));
    for (int i = n - 1; i >= 0; i--)
        fprintf(fp, "%.1f,%.1f ", sx(f, p[i].x), sy(f, p[i].lo));
    fprintf(fp, "\"/>\n<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.4\" points=\"",
            color);
    for (int i = 0; i < n; i++)
        fprintf(fp, "%.1f,%.1f ", sx(f, p[i].x), sy(f, p[i].mean));
    fputs("\"/>\n", fp);
    /* A line of a few points is hard to see (of one, invisible): dots too. */
    for (int i = 0; n < 30 && i < n; i++)
        fprintf(fp, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\"/>", sx(f, p[i].x),
                sy(f, p[i].mean), color);
}

static void legend(FILE *fp, const ug_log *log, const int *cols, int n, const frame *f)
{
    double x = f->px + 8, y = f->py + 12;
    for (int s = 0; s < n; s++, y += 14) {
        fprintf(fp, "<rect x=\"%.1f\" y=\"%.1f\" width=\"14\" height=\"3\" fill=\"%s\"/>", x,
                y - 4, palette[s % N_PALETTE]);
        fprintf(fp, "<text x=\"%.1f\" y=\"%.1f\">", x + 18, y);
        ug_html_text(fp, log->names[cols[s]]);
        fputs("</text>\n", fp);
    }
}

int ug_chart_svg(FILE *fp, const ug_log *log, const int *cols, int n, const ug_chart *opt,
                 ug_error *err)
{
    int max = opt->max_points < 2 ? 2 : opt->max_points, total = 0;
    point **pts = calloc((size_t)n + 1, sizeof *pts);
    int *np = calloc((size_t)n + 1, sizeof *np);
    int rc = pts && np ? 0 : ug_fail(err, "chart: out of memory");
    for (int s = 0; rc == 0 && s < n; s++) {
        size_t cap = (size_t)(log->n_buckets < max ? log->n_buckets : max) + 1;
        pts[s] = malloc(cap * sizeof(point));
        if (!pts[s])
            rc = ug_fail(err, "chart: out of memory");
        else
            total += np[s] = gather(log, cols[s], max, pts[s]);
    }
    if (rc == 0) {
        frame f = {.px = 58, .py = opt->title ? 22 : 8};
        f.pw = opt->width - f.px - 10;
        f.ph = opt->height - f.py - 22;
        fprintf(fp, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                    "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"11\">\n",
                opt->width, opt->height, opt->width, opt->height);
        if (opt->title) {
            fputs("<text x=\"4\" y=\"14\" font-weight=\"bold\">", fp);
            ug_html_text(fp, opt->title);
            fputs("</text>\n", fp);
        }
        fprintf(fp, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#fff\" "
                    "stroke=\"#bbb\"/>\n", f.px, f.py, f.pw, f.ph);
        if (total == 0) {
            fprintf(fp, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#888\">no "
                        "finite values</text>\n", f.px + f.pw / 2, f.py + f.ph / 2);
        } else {
            fit(&f, pts, np, n, opt->allow_log);
            y_axis(fp, &f);
            x_axis(fp, &f);
            fprintf(fp, "<clipPath id=\"clip-");
            ug_html_text(fp, opt->id);
            fprintf(fp, "\"><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>"
                        "</clipPath>\n<g clip-path=\"url(#clip-", f.px, f.py, f.pw, f.ph);
            ug_html_text(fp, opt->id);
            fputs(")\">\n", fp);
            for (int s = 0; s < n; s++)
                series(fp, &f, pts[s], np[s], palette[s % N_PALETTE]);
            fputs("</g>\n", fp);
            if (n > 1)
                legend(fp, log, cols, n, &f);
            if (f.log)
                fprintf(fp, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" fill=\"#888\">log "
                            "scale</text>\n", f.px + f.pw - 4, f.py + 12);
        }
        fputs("</svg>\n", fp);
    }
    for (int s = 0; pts && s < n; s++)
        free(pts[s]);
    free(pts);
    free(np);
    return rc;
}
