/* What a training run shows a person: the release's sample grids
 * (img/A2B_%07d.png, img/B2A_%07d.png: 5 training and 5 test images, 7 rows
 * each) and the HTML report index.html. */
#ifndef UG_CLI_SAMPLES_H
#define UG_CLI_SAMPLES_H

#include "cli/results.h"
#include "data/dataset.h"
#include "ugatit.h"

#define UG_SAMPLES_PER_SET 5

typedef struct ug_samples {
    int n;       /* columns: training samples, then test samples */
    int img;
    float *a, *b; /* n x 3 x img x img each, test transform */
} ug_samples;

/* Picks up to 5 training and 5 test images of each domain, spread evenly
 * over the sorted lists (the same ones every time, so the grids show
 * progress); test folders may be missing. */
int ug_samples_load(ug_samples *s, const char *dataset_root, const ug_filelist *train_a,
                    const ug_filelist *train_b, int img, ug_pipeline pipe,
                    ug_error *err);
void ug_samples_free(ug_samples *s);

/* Writes img/A2B_%07d.png and img/B2A_%07d.png under root. */
int ug_samples_write(const ug_samples *s, ug_model *m, const char *root, long step,
                     ug_error *err);

/* Rewrites root/index.html: loss curves from log.csv, the latest grids, the
 * configuration and the learned rho values, with their layer means over the
 * checkpoints in root/model. */
int ug_write_report(const ug_results *r, const char *dataset_root, ug_model *m,
                    const ug_trainer *t, long step, ug_error *err);

#endif
