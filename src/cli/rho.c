/* ugatit rho: the learned rho of a checkpoint's generators, per layer its
 * mean, minimum, maximum and a histogram of 10 bins (src/report/rho.h), as
 * an aligned table or as CSV. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "core/error.h"
#include "report/rho.h"

static void print_csv(const ug_rho_stats *s, int n)
{
    printf("layer,mean,min,max");
    for (int b = 0; b < UG_RHO_BINS; b++)
        printf(",h%d", b);
    printf("\n");
    for (int i = 0; i < n; i++) {
        printf("%s,%.9g,%.9g,%.9g", s[i].name, s[i].mean, s[i].min, s[i].max);
        for (int b = 0; b < UG_RHO_BINS; b++)
            printf(",%d", s[i].hist[b]);
        printf("\n");
    }
}

/* Length of the generator part of a layer name ("genA2B"). */
static int gen_len(const char *name)
{
    const char *dot = strchr(name, '.');
    return dot ? (int)(dot - name) : (int)strlen(name);
}

static void print_table(const char *path, const ug_rho_stats *s, int n)
{
    int w = 5;
    for (int i = 0; i < n; i++)
        w = (int)strlen(s[i].name) > w ? (int)strlen(s[i].name) : w;
    printf("%s: %d rho layers; h0 .. h9 count the channels in [0, 0.1), [0.1, 0.2), ..., "
           "[0.9, 1]\n", path, n);
    for (int i = 0; i < n; i++) {
        if (i == 0 || gen_len(s[i].name) != gen_len(s[i - 1].name) ||
            strncmp(s[i].name, s[i - 1].name, (size_t)gen_len(s[i].name)) != 0) {
            printf("\n%.*s\n%-*s %8s %11s %11s %11s", gen_len(s[i].name), s[i].name, w, "layer",
                   "channels", "mean", "min", "max");
            for (int b = 0; b < UG_RHO_BINS; b++)
                printf(" %5s%d", "h", b);
            printf("\n");
        }
        printf("%-*s %8d %11.6g %11.6g %11.6g", w, s[i].name, s[i].channels, s[i].mean,
               s[i].min, s[i].max);
        for (int b = 0; b < UG_RHO_BINS; b++)
            printf(" %6d", s[i].hist[b]);
        printf("\n");
    }
}

int cmd_rho(int argc, char **argv)
{
    cli_opt o[] = {
        {"model", "CKPT", "checkpoint: safetensors or the release's .pt, generators only too",
         NULL, 1},
        {"csv", NULL, "print CSV: layer,mean,min,max,h0,...,h9", NULL, 0},
    };
    int n = sizeof o / sizeof o[0];
    int rc = cli_parse(argc, argv, o, n,
                       "usage: ugatit rho --model CKPT [--csv]\n\n"
                       "Prints the learned rho of both generators (per channel, instance (1) "
                       "versus layer (0)\nnormalisation in adaILN and ILN): per layer the mean, "
                       "minimum, maximum and the\nchannels in each of 10 bins of width 0.1; bin k "
                       "holds k/10 <= rho < (k+1)/10 for the\nvalue as stored (float), and 1 is "
                       "in the last bin.");
    if (rc)
        return rc < 0 ? 2 : 0;
    const char *path = cli_find(o, n, "model")->value;
    ug_error err = {{0}};
    ug_model *m = NULL;
    ug_rho_stats *stats = NULL;
    int n_rho, status = 1;
    if (ug_model_load(&m, path, NULL, 0, &err) < 0 ||
        ug_rho_stats_model(&stats, &n_rho, m, &err) < 0)
        goto done;
    if (cli_find(o, n, "csv")->value)
        print_csv(stats, n_rho);
    else
        print_table(path, stats, n_rho);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        ug_fail(&err, "cannot write the output");
        goto done;
    }
    status = 0;
done:
    if (status)
        fprintf(stderr, "ugatit rho: %s\n", err.msg);
    free(stats);
    ug_model_free(m);
    return status;
}
