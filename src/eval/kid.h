/* Kernel Inception Distance: the unbiased estimator of the squared MMD
 * between two sets of feature vectors with the polynomial kernel
 * k(x, y) = (x.y / d + 1)^3, as the KID paper's code, torch-fidelity,
 * clean-fid and TF-GAN compute it (../shared/reference/eval-reference.md,
 * section 1), under one of two protocols for its mean and spread. */
#ifndef UG_EVAL_KID_H
#define UG_EVAL_KID_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

typedef enum {
    /* N random subsets of M rows of each set, drawn without replacement per
     * subset (independently for the two sets and across subsets) from
     * ug_rng(seed); mean and population std (ddof 0) of the N estimates:
     * torch-fidelity's and the KID paper's protocol. */
    UG_KID_SUBSETS,
    /* Consecutive disjoint blocks of at most block_size rows, in the order
     * given; B = ceil(max(m, n) / block_size) blocks per set, the first
     * B - (N mod B) of size N / B and the others one row more (TF-GAN's
     * spread), block b of one set against block b of the other; mean and
     * standard error sqrt(sample variance / B): the U-GAT-IT authors'
     * metric code (TF-GAN, max_block_size 10). */
    UG_KID_BLOCKS,
} ug_kid_protocol;

typedef struct ug_kid_opts {
    ug_kid_protocol protocol;
    int subsets;     /* subsets: how many (default 100) */
    int subset_size; /* subsets: rows per subset; 0: min(1000, m, n) */
    uint64_t seed;   /* subsets: the generator's seed */
    int block_size;  /* blocks: the largest block (default 10) */
} ug_kid_opts;

void ug_kid_opts_default(ug_kid_opts *o);

typedef struct ug_kid_result {
    double mean;
    double std;   /* population std over subsets, or standard error over blocks;
                     NaN for a single block */
    int count;    /* subsets or blocks */
    int size;     /* rows per subset; the largest block */
} ug_kid_result;

/* The unbiased MMD^2 estimate of rows xs[0..m) of X against rows ys[0..n)
 * of Y (row-major, d columns; xs or ys NULL: the first m or n rows in
 * order). m, n >= 2. */
double ug_kid_mmd2(const float *X, const size_t *xs, size_t m, const float *Y,
                   const size_t *ys, size_t n, int d);

/* KID of real X (m x d) against fake Y (n x d) under o. Errors: fewer than
 * 2 rows in a set, a subset larger than a set, blocks of fewer than 2 rows,
 * out of memory. */
int ug_kid(ug_kid_result *r, const float *X, size_t m, const float *Y, size_t n, int d,
           const ug_kid_opts *o, ug_error *err);

#endif
