/* Reads a training log (log.csv: a header "step,<names...>", then one row of
 * numbers per step) in one streaming pass into at most max_points buckets of
 * consecutive rows, keeping per column and bucket the min, max and mean of
 * the finite values. Buckets double in width as rows arrive, so memory stays
 * fixed whatever the length of the log. */
#ifndef UG_REPORT_CSVLOG_H
#define UG_REPORT_CSVLOG_H

#include "core/error.h"

typedef struct ug_log {
    int n_cols;          /* value columns, the step column not counted */
    char **names;        /* n_cols names */
    int cap;             /* buckets allocated (even) */
    int n_buckets;       /* buckets in use */
    long rows;           /* rows accepted */
    long rows_per_bucket;
    long bad_rows;       /* rows skipped: wrong field count or no step */
    double *step_lo, *step_hi; /* per bucket: first and last step seen */
    /* per column c and bucket b, at [c * cap + b]; cnt counts finite values */
    double *mn, *mx, *sum;
    long *cnt;
    double last_step;    /* step of the last accepted row */
    double *last;        /* per column: its last finite value (NaN if none) */
    long *nonfinite;     /* per column: values skipped as NaN/inf */
    double *first_nonfinite_step; /* per column */
} ug_log;

/* Reads path; max_points >= 2. On failure (missing file, no "step" header)
 * log is left empty and the message names the file. */
int ug_log_read(ug_log *log, const char *path, int max_points, ug_error *err);

/* Frees everything and zeroes the struct; safe on a zeroed struct. */
void ug_log_free(ug_log *log);

/* The index of the column called name, or -1. */
int ug_log_find(const ug_log *log, const char *name);

#endif
