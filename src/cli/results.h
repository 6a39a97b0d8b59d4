/* The result folder of a training run, laid out like the release's:
 * RESULT_DIR/NAME/{model,img,test}, model/NAME_params_%07d.safetensors,
 * log.csv with one row per step, index.html. */
#ifndef UG_CLI_RESULTS_H
#define UG_CLI_RESULTS_H

#include <stdio.h>

#include "ugatit.h"

#define UG_PATH_MAX 4096

typedef struct ug_results {
    char root[UG_PATH_MAX];  /* RESULT_DIR/NAME */
    char name[256];          /* NAME */
} ug_results;

/* Fills the paths and creates root, model/, img/ and test/. */
int ug_results_init(ug_results *r, const char *result_dir, const char *name, ug_error *err);
/* mkdir -p. */
int ug_mkdirs(const char *path, ug_error *err);

/* Locks the result folder for this process (flock on RESULT_DIR/NAME/.lock,
 * which holds its pid) until ug_results_unlock(*fd); fails at once, naming
 * the folder and the holder's pid, when another run holds it. */
int ug_results_lock(const ug_results *r, int *fd, ug_error *err);
void ug_results_unlock(int fd);

/* Removes from dir the temporaries of atomic writes ("NAME.tmp.PID", see
 * io/atomic.c) whose process is gone (a run killed by SIGKILL leaves them),
 * and says so on stdout; those of live processes stay. */
void ug_remove_stale_temporaries(const char *dir);

/* RESULT_DIR/NAME/model/NAME_params_%07d.safetensors */
void ug_results_checkpoint(const ug_results *r, long step, char *out, size_t n);
/* The checkpoint with the highest step in dir (NAME_params_%07d.safetensors or
 * .pt); returns 0 and fills out and *step, or 1 when there is none. */
int ug_find_newest_checkpoint(const char *model_dir, const char *name, char *out, size_t n,
                              long *step, ug_error *err);

/* A CSV file of rows "step,...", opened to append: header is written anew
 * and the rows up to keep_step are kept, later ones dropped (a resumed run
 * rewrites the steps it repeats), atomically. */
int ug_csv_open(FILE **out, const char *path, const char *header, long keep_step,
                ug_error *err);

/* log.csv (ug_csv_open): one row per step (step, every loss term of the
 * family, lr, seconds). */
int ug_log_open(FILE **out, const ug_results *r, const ug_trainer *t, long keep_step,
                ug_error *err);
void ug_log_row(FILE *f, long step, const float *losses, int n_losses, double lr,
                double seconds);

#endif
