/* The training report RESULT_DIR/NAME/index.html: one self-contained page
 * (inline CSS and SVG, no scripts, no external resources) with the
 * configuration, the loss curves drawn from log.csv, the latest sample grids
 * and the learned rho values. Rewritten atomically each time. */
#ifndef UG_REPORT_REPORT_H
#define UG_REPORT_REPORT_H

#include "core/error.h"

typedef struct ug_report_input {
    const char *title;       /* the dataset name */
    const char *result_dir;  /* RESULT_DIR/NAME: holds log.csv and img/, gets index.html */
    long step;               /* steps done */
    long total_steps;        /* steps planned (0: unknown) */
    long sample_step;        /* step of the latest img/A2B_%07d.png; 0: none yet */
    const char *const *config_kv; /* n_config (key, value) pairs: k0, v0, k1, v1, ... */
    int n_config;
    const char *const *rho_names; /* n_rho layers, e.g. "genA2B.UpBlock1_1.norm1.rho" */
    const float *rho_mean, *rho_min, *rho_max; /* over each layer's channels */
    int n_rho;
} ug_report_input;

/* Most points per curve in the main chart; the small ones use fewer. */
#define UG_REPORT_MAX_POINTS 1000

/* Writes result_dir/index.html. A missing or malformed log.csv gives a page
 * that says so in place of the curves; only failing to write is an error. */
int ug_report_write(const ug_report_input *in, ug_error *err);

#endif
