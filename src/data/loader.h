/* The training data loader: batches of domain A and domain B images, each
 * domain shuffled independently and reshuffled every epoch (an epoch being
 * one pass over that domain's files), with the release's training transform.
 *
 * Everything random is a function of the seed and the step number, so a run
 * resumed at step s gets exactly the batches an uninterrupted run would have:
 * sample k = s * batch + i of a domain with n files is element k % n of the
 * permutation of epoch k / n, which is drawn from (seed, domain, epoch); the
 * flip and crop of that sample are drawn from (seed, domain, s, i).
 *
 * A rank of a data-parallel run (global_batch > 0) loads its share of a
 * global batch: sample i of its step s is the (offset + i)-th of the batch
 * that a single process with batch global_batch draws, k = s * global_batch
 * + offset + i, augmented from (seed, domain, s, offset + i). So K ranks of
 * batch B at offsets r * B see what one process of batch K * B sees.
 *
 * A background thread decodes and transforms up to UG_LOADER_DEPTH batches
 * ahead of the caller. */
#ifndef UG_DATA_LOADER_H
#define UG_DATA_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "data/dataset.h"
#include "io/image.h"

#define UG_LOADER_DEPTH 3

/* Receives one-line warnings (a file skipped). Called from the loader's
 * thread, so it must be safe to call concurrently with the caller's code. */
typedef void (*ug_warn_fn)(void *ctx, const char *msg);

typedef struct ug_loader_config {
    const ug_filelist *a, *b; /* the two domains; the loader keeps copies */
    int batch;                /* images per domain per step, >= 1 */
    int img;                  /* side of the output images, >= 1 */
    int augment;              /* 0: the test transform (no flip, no crop) */
    uint64_t seed;
    ug_warn_fn warn;          /* may be NULL: warnings are dropped */
    void *warn_ctx;
    int global_batch;         /* 0: batch (one process); else >= offset + batch */
    int offset;               /* this rank's first sample in the global batch */
    ug_pipeline pipe;         /* the transforms (the model family's) */
} ug_loader_config;

typedef struct ug_loader ug_loader;

/* A loader positioned at step 0; its thread starts on the first
 * ug_loader_start or ug_loader_next. */
int ug_loader_new(ug_loader **out, const ug_loader_config *c, ug_error *err);

/* (Re)positions the loader so that the next batch is that of step
 * first_step (>= 0), discarding batches prepared ahead. */
int ug_loader_start(ug_loader *l, long first_step, ug_error *err);

/* Copies the next batch into A and B (batch x 3 x img x img floats each),
 * waiting for it if needed, and advances one step. A file that cannot be
 * decoded is skipped (a warning naming it, once per file) and replaced by the
 * next file of the same permutation; when every file of a domain fails the
 * error names its folder, and so does every later call until a restart. */
int ug_loader_next(ug_loader *l, float *A, float *B, ug_error *err);

/* The step whose batch ug_loader_next returns next. */
long ug_loader_step(const ug_loader *l);

/* Files skipped as undecodable so far (each counted once). */
size_t ug_loader_skipped(ug_loader *l);

/* Stops and joins the thread, frees everything; safe on NULL. */
void ug_loader_free(ug_loader *l);

#endif
