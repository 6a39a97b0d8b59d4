/* The report's rho section (see rhochart.h). */
#include "report/rhochart.h"

#include <math.h>
#include <string.h>

#include "report/chart.h"
#include "report/html.h"

enum { RESIDUAL, UPSAMPLING, OTHER, N_KINDS };

static const char *const kind_title[N_KINDS] = {"residual blocks UpBlock1_*",
                                                "up-sampling UpBlock2.*", "other layers"};

/* Where a layer sits in the decoder, from its module path. */
static int kind_of(const char *name)
{
    if (strstr(name, ".UpBlock1_"))
        return RESIDUAL;
    return strstr(name, ".UpBlock2.") ? UPSAMPLING : OTHER;
}

/* Length of the generator part of a name ("genA2B" of "genA2B.UpBlock2.2"). */
static size_t gen_len(const char *name)
{
    const char *dot = strchr(name, '.');
    return dot ? (size_t)(dot - name) : strlen(name);
}

/* A colour per layer: blues for residual blocks, oranges for up-sampling,
 * darker to lighter along the decoder. */
static void layer_color(char *buf, size_t cap, int kind, int rank, int count)
{
    static const double from[N_KINDS][3] = {{8, 48, 107}, {127, 39, 4}, {40, 40, 40}};
    static const double to[N_KINDS][3] = {{66, 146, 198}, {253, 141, 60}, {150, 150, 150}};
    double t = count > 1 ? (double)rank / (count - 1) : 0;
    snprintf(buf, cap, "#%02x%02x%02x", (int)(from[kind][0] + t * (to[kind][0] - from[kind][0])),
             (int)(from[kind][1] + t * (to[kind][1] - from[kind][1])),
             (int)(from[kind][2] + t * (to[kind][2] - from[kind][2])));
}

/* One histogram of counts over the bins of [0, 1], w x h pixels, with axes
 * unless tiny. */
static void histogram(FILE *fp, const long *count, int w, int h, const char *title,
                      const char *color, int tiny)
{
    double px = tiny ? 0 : 40, py = tiny ? 0 : 22, pw = w - px - (tiny ? 0 : 10);
    double ph = h - py - (tiny ? 0 : 22), top = 1;
    for (int b = 0; b < UG_RHO_BINS; b++)
        top = count[b] > top ? (double)count[b] : top;
    fprintf(fp, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"11\">", w, h, w, h);
    if (!tiny) {
        fputs("<text x=\"4\" y=\"14\" font-weight=\"bold\">", fp);
        ug_html_text(fp, title);
        fprintf(fp, "</text>\n<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                    "fill=\"#fff\" stroke=\"#bbb\"/>\n", px, py, pw, ph);
        /* Whole counts: 0, about half the highest bar, the highest bar. */
        const double ticks[3] = {0, floor(top / 2), top};
        for (int k = 0; k < 3; k++) {
            double y = py + ph - ticks[k] / top * ph;
            if (k == 1 && (ticks[1] == 0 || ticks[1] == top))
                continue;
            fprintf(fp, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                        "stroke=\"#e4e4e4\"/><text x=\"%.1f\" y=\"%.1f\" "
                        "text-anchor=\"end\">%.0f</text>", px, y, px + pw, y, px - 4, y + 3.5,
                    ticks[k]);
        }
        for (int k = 0; k <= 10; k += 2)
            fprintf(fp, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%g</text>",
                    px + k / 10.0 * pw, py + ph + 15, k / 10.0);
        fputc('\n', fp);
    }
    for (int b = 0; b < UG_RHO_BINS; b++) {
        double bh = count[b] / top * ph, bw = pw / UG_RHO_BINS;
        fprintf(fp, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">"
                    "<title>[%.1f, %.1f%s: %ld</title></rect>",
                px + b * bw + 0.5, py + ph - bh, bw - 1, bh, color, b / 10.0,
                (b + 1) / 10.0, b == UG_RHO_BINS - 1 ? "]" : ")", count[b]);
    }
    fputs("</svg>\n", fp);
}

/* The pooled histograms of one generator's layers [lo, hi), per kind. */
static void pooled(FILE *fp, const ug_rho_stats *s, int lo, int hi)
{
    fputs("<div class=\"rho-pooled\">\n", fp);
    for (int kind = 0; kind < N_KINDS; kind++) {
        long count[UG_RHO_BINS] = {0}, channels = 0;
        int layers = 0;
        for (int i = lo; i < hi; i++) {
            if (kind_of(s[i].name) != kind)
                continue;
            layers++;
            channels += s[i].channels;
            for (int b = 0; b < UG_RHO_BINS; b++)
                count[b] += s[i].hist[b];
        }
        if (layers == 0)
            continue;
        char title[160], color[8];
        snprintf(title, sizeof title, "%s: %d layer%s, %ld channels", kind_title[kind], layers,
                 layers == 1 ? "" : "s", channels);
        layer_color(color, sizeof color, kind, 0, 1);
        fprintf(fp, "<div>");
        histogram(fp, count, 380, 180, title, color, 0);
        fprintf(fp, "</div>\n");
    }
    fputs("</div>\n", fp);
}

/* Each layer's mean over the run, layers [lo, hi) of h; y from 0 to 1. */
static void over_training(FILE *fp, const ug_rho_stats *s, int lo, int hi,
                          const ug_rho_history *h)
{
    const double w = 1200, px = 40, py = 22, pw = w - px - 250;
    const double ph = fmax(180, 16.0 * (hi - lo) + 10), ht = py + ph + 22;
    double x0 = (double)h->steps[0], x1 = (double)h->steps[h->n_points - 1];
    if (x1 <= x0)
        x1 = x0 + 1;
    fprintf(fp, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
                "viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"11\">\n"
                "<text x=\"4\" y=\"14\" font-weight=\"bold\">mean rho per layer over training"
                "</text>\n<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#fff\" "
                "stroke=\"#bbb\"/>\n", w, ht, w, ht, px, py, pw, ph);
    for (int k = 0; k <= 4; k++) {
        double y = py + ph - k / 4.0 * ph;
        fprintf(fp, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e4e4e4\"/>"
                    "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n", px, y, px + pw,
                y, px - 4, y + 3.5, k / 4.0);
    }
    double step = fmax(1, ug_chart_nice_step(x1 - x0, 8));
    char buf[32];
    for (double k = ceil(x0 / step); k * step <= x1 && k < ceil(x0 / step) + 20; k++) {
        double x = px + (k * step - x0) / (x1 - x0) * pw;
        ug_chart_fmt_step(buf, sizeof buf, k * step);
        fprintf(fp, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>", x,
                py + ph + 15, buf);
    }
    int count[N_KINDS] = {0}, rank[N_KINDS] = {0};
    for (int i = lo; i < hi; i++)
        count[kind_of(s[i].name)]++;
    for (int i = lo; i < hi; i++) {
        int kind = kind_of(s[i].name);
        char color[8];
        layer_color(color, sizeof color, kind, rank[kind]++, count[kind]);
        fprintf(fp, "<g stroke=\"%s\" fill=\"%s\"><title>", color, color);
        ug_html_text(fp, s[i].name);
        fputs("</title><polyline fill=\"none\" stroke-width=\"1.4\" points=\"", fp);
        for (int p = 0; p < h->n_points; p++) {
            double v = h->mean[(size_t)p * h->n_layers + i];
            if (isfinite(v))
                fprintf(fp, "%.1f,%.1f ", px + (h->steps[p] - x0) / (x1 - x0) * pw,
                        py + ph - fmin(fmax(v, 0), 1) * ph);
        }
        fputs("\"/>", fp);
        for (int p = 0; h->n_points < 30 && p < h->n_points; p++) {
            double v = h->mean[(size_t)p * h->n_layers + i];
            if (isfinite(v))
                fprintf(fp, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2\"/>",
                        px + (h->steps[p] - x0) / (x1 - x0) * pw,
                        py + ph - fmin(fmax(v, 0), 1) * ph);
        }
        double ly = py + 12 + 16.0 * (i - lo);
        fprintf(fp, "</g>\n<rect x=\"%.1f\" y=\"%.1f\" width=\"14\" height=\"3\" fill=\"%s\"/>"
                    "<text x=\"%.1f\" y=\"%.1f\">", px + pw + 10, ly - 4, color, px + pw + 28, ly);
        ug_html_text(fp, s[i].name + gen_len(s[i].name) + 1);
        fputs(" = ", fp);
        ug_html_number(fp, h->mean[(size_t)(h->n_points - 1) * h->n_layers + i]);
        fputs("</text>\n", fp);
    }
    fputs("</svg>\n", fp);
}

/* A 0..1 scale with the min-max range as a bar and the mean as a tick. */
static void range_bar(FILE *fp, double mean, double mn, double mx)
{
    const double w = 200;
    double a = fmin(fmax(mn, 0), 1) * w, b = fmin(fmax(mx, 0), 1) * w;
    double m = fmin(fmax(mean, 0), 1) * w;
    if (!isfinite(a) || !isfinite(b) || !isfinite(m)) {
        fputs("<span class=\"warn\">not finite</span>", fp);
        return;
    }
    fprintf(fp, "<svg width=\"210\" height=\"14\" viewBox=\"-5 0 210 14\">"
                "<line x1=\"0\" y1=\"7\" x2=\"%.0f\" y2=\"7\" stroke=\"#ccc\"/>"
                "<rect x=\"%.1f\" y=\"3\" width=\"%.1f\" height=\"8\" fill=\"#9cc3e6\"/>"
                "<rect x=\"%.1f\" y=\"1\" width=\"2\" height=\"12\" fill=\"#1f4e79\"/></svg>",
            w, a, fmax(b - a, 1), m - 1);
}

static void table(FILE *fp, const ug_rho_stats *s, int lo, int hi)
{
    fputs("<table>\n<tr><th>layer</th><th>channels</th><th>mean</th><th>min</th><th>max</th>"
          "<th>histogram</th><th>0 &#8230; 1</th></tr>\n", fp);
    for (int i = lo; i < hi; i++) {
        fputs("<tr><td>", fp);
        ug_html_text(fp, s[i].name);
        fprintf(fp, "</td><td class=\"n\">%d", s[i].channels);
        const double v[3] = {s[i].mean, s[i].min, s[i].max};
        for (int k = 0; k < 3; k++) {
            fputs("</td><td class=\"n\">", fp);
            ug_html_number(fp, v[k]);
        }
        long count[UG_RHO_BINS];
        for (int b = 0; b < UG_RHO_BINS; b++)
            count[b] = s[i].hist[b];
        char color[8];
        layer_color(color, sizeof color, kind_of(s[i].name), 0, 1);
        fputs("</td><td>", fp);
        histogram(fp, count, 80, 16, NULL, color, 1);
        fputs("</td><td>", fp);
        range_bar(fp, v[0], v[1], v[2]);
        fputs("</td></tr>\n", fp);
    }
    fputs("</table>\n", fp);
}

void ug_rho_section(FILE *fp, const ug_rho_stats *stats, int n, const ug_rho_history *h)
{
    fputs("<h2>Learned rho</h2>\n", fp);
    if (n <= 0 || !stats) {
        fputs("<p class=\"muted\">none given</p>\n", fp);
        return;
    }
    fputs("<p class=\"muted\">rho mixes instance (1) and layer (0) normalisation, per channel, "
          "in the decoder's adaILN (residual blocks) and ILN (up-sampling) layers; training "
          "clamps it to [0, 1]. Histograms count channels in bins of width 0.1: bin k holds "
          "k/10 &#8804; rho &lt; (k+1)/10, the last one 1 as well. Range bars span 0 to 1, shaded "
          "from the minimum to the maximum over channels, the tick at the mean.</p>\n", fp);
    if (h && h->n_skipped) {
        fprintf(fp, "<p class=\"warn\">%d checkpoint%s left out of the chart over training: ",
                h->n_skipped, h->n_skipped == 1 ? "" : "s");
        ug_html_text(fp, h->first_skip.msg);
        fputs(h->n_skipped > 1 ? " (the first)</p>\n" : "</p>\n", fp);
    }
    for (int lo = 0, hi; lo < n; lo = hi) {
        char gen[sizeof stats->name];
        snprintf(gen, sizeof gen, "%.*s", (int)gen_len(stats[lo].name), stats[lo].name);
        hi = lo + 1;
        while (hi < n && gen_len(stats[hi].name) == strlen(gen) &&
               strncmp(stats[hi].name, gen, strlen(gen)) == 0)
            hi++;
        fputs("<h3>", fp);
        ug_html_text(fp, gen);
        fputs("</h3>\n", fp);
        pooled(fp, stats, lo, hi);
        if (h && h->n_layers == n && h->n_points > 1) {
            fprintf(fp, "<p class=\"muted\">From %d checkpoint%s of this run, steps %ld to "
                        "%ld, and the model now at step %ld.</p>\n", h->n_points - 1,
                    h->n_points == 2 ? "" : "s", h->steps[0], h->steps[h->n_points - 2],
                    h->steps[h->n_points - 1]);
            over_training(fp, stats, lo, hi, h);
        } else if (h) {
            fputs("<p class=\"muted\">No earlier checkpoint of this run yet: the chart over "
                  "training starts with the first one saved.</p>\n", fp);
        }
        table(fp, stats, lo, hi);
    }
}
