/* Command-line options of the form --name VALUE (or --name=VALUE), declared
 * as a table per command, with --help generated from the table. */
#ifndef UG_CLI_ARGS_H
#define UG_CLI_ARGS_H

typedef struct cli_opt {
    const char *name;    /* without the leading dashes */
    const char *metavar; /* shown in --help; NULL: a flag without a value, "true" when given */
    const char *help;
    const char *value;   /* default on input (NULL: none), the given value after parsing */
    int required;
} cli_opt;

/* Parses argv[1..] (argv[0] is the command name). Returns 0 to go on, 1 when
 * --help was printed, -1 after printing a one-line error. */
int cli_parse(int argc, char **argv, cli_opt *opts, int n, const char *usage);

cli_opt *cli_find(cli_opt *opts, int n, const char *name);

/* Strict conversions of an option's value; print a one-line error and return -1. */
int cli_int(cli_opt *opts, int n, const char *name, long min, long max, long *out);
int cli_double(cli_opt *opts, int n, const char *name, double min, double max, double *out);
int cli_bool(cli_opt *opts, int n, const char *name, int *out);

#endif
