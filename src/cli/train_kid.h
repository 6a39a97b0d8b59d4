/* ugatit train --kid_freq N: KID of the model being trained, measured as
 * `ugatit eval` measures a checkpoint (both test sets, the blocks protocol
 * with blocks of 10), every N steps and at the last one, one row per
 * measurement in RESULT_DIR/NAME/kid.csv (step, then KID x 100 and its
 * standard error per direction), which the report draws. */
#ifndef UG_CLI_TRAIN_KID_H
#define UG_CLI_TRAIN_KID_H

#include <stdio.h>

#include "cli/args.h"
#include "cli/measure.h"
#include "cli/results.h"

typedef struct train_kid {
    long freq; /* 0: off */
    ug_inception *net;
    ug_measure ms;
    FILE *log;
    char path[UG_PATH_MAX + 16]; /* kid.csv */
} train_kid;

/* With freq > 0: loads the weights (--inception of o, or the environment),
 * the test sets and their features, and opens kid.csv keeping the rows up
 * to step start. With freq 0 the rows after start of an earlier kid.csv go
 * (all of them for a new run), as log.csv's do. */
int train_kid_open(train_kid *k, long freq, cli_opt *o, int n, const char *dataset_root,
                   const ug_results *r, long start, ug_error *err);

/* Whether step is one to measure at (of a run of total steps). */
int train_kid_due(const train_kid *k, long step, long total);

/* Measures m, appends the row for step and prints it. */
int train_kid_measure(train_kid *k, ug_model *m, long step, ug_error *err);

void train_kid_close(train_kid *k);

#endif
