/* Summaries of the learned rho for people (ugatit rho and the report): per
 * layer the mean, minimum, maximum and a histogram of 10 bins of width 0.1
 * over [0, 1]; and how the layer means moved over a training run, read from
 * its checkpoints. */
#ifndef UG_REPORT_RHO_H
#define UG_REPORT_RHO_H

#include "ugatit.h"

#define UG_RHO_BINS 10

/* The bin of a value v: floor(10 v), computed exactly (a float times 10 is
 * exact in double), so bin k holds k/10 <= v < (k+1)/10 for the value as
 * stored: 0.1f (0.100000001) is in bin 1, 0.7f (0.699999988) in bin 6.
 * 1.0 is in bin 9, values above 1 too, values below 0 in bin 0; NaN in
 * none (-1). */
int ug_rho_bin(float v);

typedef struct ug_rho_stats {
    char name[128];        /* the layer's module path, "genA2B.UpBlock1_1.norm1" */
    int channels;
    double mean;           /* summed in double; NaN if a value is */
    float min, max;        /* over the values that are not NaN (NaN if none is) */
    int hist[UG_RHO_BINS]; /* channels per bin (ug_rho_bin) */
} ug_rho_stats;

void ug_rho_summarise(ug_rho_stats *s, const ug_rho_layer *layer);

/* The statistics of every rho layer of m: *out (malloc'd, *n of them). */
int ug_rho_stats_model(ug_rho_stats **out, int *n, const ug_model *m, ug_error *err);

typedef struct ug_rho_history {
    int n_layers;        /* as ug_model_rho_count */
    int n_points;
    long *steps;         /* n_points, ascending */
    double *mean;        /* layer i's mean at point p: mean[p * n_layers + i] */
    int n_skipped;       /* checkpoints that could not be read */
    ug_error first_skip; /* why the first of them could not */
} ug_rho_history;

/* The layer means of m's rho over its training run: one point per
 * checkpoint model_dir/NAME_params_%07d.safetensors with a step below step
 * (reading only its rho tensors), then m itself at step. A checkpoint that
 * cannot be read (another configuration, a damaged file) is passed over and
 * counted; a missing folder has none. */
int ug_rho_history_read(ug_rho_history *h, const ug_model *m, const char *model_dir,
                        const char *name, long step, ug_error *err);
/* Frees everything and zeroes the struct; safe on a zeroed struct. */
void ug_rho_history_free(ug_rho_history *h);

#endif
