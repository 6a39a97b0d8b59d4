/* The training report RESULT_DIR/NAME/index.html: one self-contained page
 * (inline CSS and SVG, no scripts, no external resources) with the
 * configuration, the loss curves drawn from log.csv, KID over the run from
 * kid.csv (ugatit train --kid_freq), the latest sample grids
 * and the learned rho values (rhochart.h). Rewritten atomically each time. */
#ifndef UG_REPORT_REPORT_H
#define UG_REPORT_REPORT_H

#include "core/error.h"
#include "report/rho.h"

typedef struct ug_report_input {
    const char *title;       /* the dataset name */
    const char *result_dir;  /* RESULT_DIR/NAME: holds log.csv and img/, gets index.html */
    long step;               /* steps done */
    long total_steps;        /* steps planned (0: unknown) */
    long sample_step;        /* step of the latest img/A2B_%07d.png; 0: none yet */
    const char *const *config_kv; /* n_config (key, value) pairs: k0, v0, k1, v1, ... */
    int n_config;
    const ug_rho_stats *rho; /* n_rho layers of both generators (ug_rho_stats_model) */
    int n_rho;
    const ug_rho_history *rho_history; /* the layer means over the run; may be NULL */
    /* The log columns of the main chart (the family's discriminator and
     * generator totals, ug_trainer_total_losses); NULL: none. */
    const char *main_losses[2];
    const char *model; /* the title's model ("CycleGAN"); NULL: U-GAT-IT */
} ug_report_input;

/* Most points per curve in the main chart; the small ones use fewer. */
#define UG_REPORT_MAX_POINTS 1000

/* Writes result_dir/index.html. A missing or malformed log.csv gives a page
 * that says so in place of the curves; only failing to write is an error. */
int ug_report_write(const ug_report_input *in, ug_error *err);

#endif
