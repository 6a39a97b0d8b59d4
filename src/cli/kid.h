/* What ugatit kid and ugatit eval share: the estimator's and the network's
 * options, loading the weights with the hash warning, printing a result. */
#ifndef UG_CLI_KID_H
#define UG_CLI_KID_H

#include <stdio.h>

#include "cli/args.h"
#include "eval/inception.h"
#include "eval/kid.h"

/* The options' table rows; PROTOCOL is the default protocol. */
#define KID_OPTS(PROTOCOL)                                                                   \
    {"inception", "FILE", "Inception-v3 weights (pytorch-fid's pt_inception-2015-12-05-"    \
                          "6726825d.pth; default $" UG_INCEPTION_ENV ")", NULL, 0},          \
    {"protocol", "NAME", "subsets (torch-fidelity's) or blocks (the U-GAT-IT authors')",    \
     PROTOCOL, 0},                                                                           \
    {"subsets", "N", "subsets: how many", "100", 0},                                         \
    {"subset_size", "M", "subsets: images per subset (0: min(1000, n_real, n_fake))", "0",  \
     0},                                                                                     \
    {"seed", "S", "subsets: seed of the draws", "0", 0},                                     \
    {"block_size", "B", "blocks: the largest block", "10", 0},                               \
    {"batch", "N", "images per forward pass", "8", 0},                                       \
    {"features-cache", "DIR", "keep image files' features in DIR and reuse them (keyed by "  \
                              "file size, time and the weights' hash)", NULL, 0},            \
    {"json", NULL, "print one JSON object instead", NULL, 0}

/* Reads the options into ko and *batch; prints a one-line error and returns -1. */
int kid_options(cli_opt *o, int n, const char *cmd, ug_kid_opts *ko, int *batch);

/* Finds and loads the weights (--inception or the environment); warns on
 * stderr when they are not pytorch-fid's. */
int kid_inception(cli_opt *o, int n, const char *cmd, ug_inception **net, ug_error *err);

/* The lines before a result: protocol and network. */
void kid_describe(FILE *f, const ug_kid_opts *ko, const ug_inception *net);

/* "MEAN ± STD" x 100 with the given decimals. */
void kid_print_value(FILE *f, const ug_kid_result *r, int decimals);

/* A JSON number, or null where it is not finite (the std of a single block). */
void kid_json_num(FILE *f, double v);

/* The sets' sizes and the subsets or blocks used, one line. */
void kid_sizes(FILE *f, const ug_kid_result *r, const ug_kid_opts *ko, size_t m, size_t n);

/* "fid" or "torchvision". */
const char *kid_variant(const ug_inception *net);

/* The members "protocol": ..., "n_real": ..., "n_fake": ..., "kid_x100": {...}, ...
 * of a JSON object, without its braces. */
void kid_json(FILE *f, const ug_kid_result *r, const ug_kid_opts *ko, size_t m, size_t n);

/* Wall-clock seconds, for the images-per-second line. */
double kid_now(void);

#endif
