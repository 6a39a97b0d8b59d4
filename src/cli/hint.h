/* What translate and test tell ug_model_load about a checkpoint without
 * metadata: --img_size (the side of a light model) and --norm (in or ln,
 * which hold the same tensors). */
#ifndef UG_CLI_HINT_H
#define UG_CLI_HINT_H

#include "cli/args.h"
#include "ugatit.h"

/* The options' table rows. */
#define UG_HINT_OPTS                                                                   \
    {"img_size", "N", "image side of a light model without metadata", "256", 0},        \
    {"norm", "NAME", "decoder norm of a file without metadata that holds in or ln "    \
                     "norms (in|ln)", NULL, 0}

/* Reads the two options into hint; prints a one-line error and returns -1. */
int cli_hint(cli_opt *o, int n, const char *cmd, ug_config *hint);
/* A --norm that the loaded model contradicts is an error (printed, -1). */
int cli_hint_check(cli_opt *o, int n, const char *cmd, const ug_model *m, const char *path);

#endif
