/* Option parsing for the ugatit commands (see args.h). */
#include "cli/args.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

cli_opt *cli_find(cli_opt *opts, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(opts[i].name, name) == 0)
            return &opts[i];
    return NULL;
}

static void print_help(const cli_opt *opts, int n, const char *usage)
{
    printf("%s\n\noptions:\n", usage);
    for (int i = 0; i < n; i++) {
        char left[64];
        snprintf(left, sizeof left, "--%s%s%s", opts[i].name, opts[i].metavar ? " " : "",
                 opts[i].metavar ? opts[i].metavar : "");
        printf("  %-26s %s", left, opts[i].help);
        if (opts[i].value)
            printf(" (default %s)", opts[i].value);
        else if (opts[i].required)
            printf(" (required)");
        printf("\n");
    }
    printf("  %-26s %s\n", "--help", "show this help");
}

int cli_parse(int argc, char **argv, cli_opt *opts, int n, const char *usage)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            print_help(opts, n, usage);
            return 1;
        }
        if (strncmp(arg, "--", 2) != 0) {
            fprintf(stderr, "ugatit %s: unexpected argument '%s' (see --help)\n", argv[0], arg);
            return -1;
        }
        char name[64];
        const char *eq = strchr(arg + 2, '='), *value;
        size_t len = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
        snprintf(name, sizeof name, "%.*s", (int)len, arg + 2);
        cli_opt *o = cli_find(opts, n, name);
        if (!o) {
            fprintf(stderr, "ugatit %s: unknown option '--%s' (see --help)\n", argv[0], name);
            return -1;
        }
        if (!o->metavar) {
            if (eq) {
                fprintf(stderr, "ugatit %s: option '--%s' takes no value\n", argv[0], name);
                return -1;
            }
            value = "true";
        } else if (eq) {
            value = eq + 1;
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            fprintf(stderr, "ugatit %s: option '--%s' needs a value\n", argv[0], name);
            return -1;
        }
        o->value = value;
    }
    for (int i = 0; i < n; i++) {
        if (opts[i].required && !opts[i].value) {
            fprintf(stderr, "ugatit %s: missing required option '--%s' (see --help)\n", argv[0],
                    opts[i].name);
            return -1;
        }
    }
    return 0;
}

int cli_int(cli_opt *opts, int n, const char *name, long min, long max, long *out)
{
    const char *s = cli_find(opts, n, name)->value;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max) {
        fprintf(stderr, "ugatit: --%s must be an integer from %ld to %ld (got '%s')\n", name, min,
                max, s);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_double(cli_opt *opts, int n, const char *name, double min, double max, double *out)
{
    const char *s = cli_find(opts, n, name)->value;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v < min || v > max) {
        fprintf(stderr, "ugatit: --%s must be a number from %g to %g (got '%s')\n", name, min, max,
                s);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_bool(cli_opt *opts, int n, const char *name, int *out)
{
    const char *s = cli_find(opts, n, name)->value;
    if (strcmp(s, "true") == 0 || strcmp(s, "1") == 0) {
        *out = 1;
        return 0;
    }
    if (strcmp(s, "false") == 0 || strcmp(s, "0") == 0) {
        *out = 0;
        return 0;
    }
    fprintf(stderr, "ugatit: --%s must be true or false (got '%s')\n", name, s);
    return -1;
}
