/* Line charts of log columns as inline SVG: per column a mean line and a
 * shaded min-max band over each group of steps, with a log-scale y axis when
 * the values are positive and span a wide range (the cam loss dwarfs the
 * others), and a y range chosen from the means so that a few spikes do not
 * flatten the curve (the band is clipped instead). */
#ifndef UG_REPORT_CHART_H
#define UG_REPORT_CHART_H

#include <stdio.h>

#include "report/csvlog.h"

typedef struct ug_chart {
    int width, height;  /* pixels */
    int max_points;     /* per curve; buckets are merged down to this */
    int allow_log;      /* 0: always a linear y axis (e.g. the learning rate) */
    const char *title;  /* may be NULL */
    const char *id;     /* unique in the page, for the clip path */
} ug_chart;

/* Writes one <svg> element with columns cols[0..n) of log. */
int ug_chart_svg(FILE *fp, const ug_log *log, const int *cols, int n, const ug_chart *opt,
                 ug_error *err);

/* 1, 2 or 5 times a power of ten, giving about target intervals of span. */
double ug_chart_nice_step(double span, int target);
/* A step number, shortened: 250k, 1M. */
void ug_chart_fmt_step(char *buf, size_t cap, double v);

#endif
