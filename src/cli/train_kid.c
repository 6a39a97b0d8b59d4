/* KID during training (see train_kid.h). */
#include "cli/train_kid.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "cli/kid.h"
#include "core/error.h"

#define KID_HEADER "step,kid_A2B,kid_A2B_std,kid_B2A,kid_B2A_std\n"

int train_kid_open(train_kid *k, long freq, cli_opt *o, int n, const char *dataset_root,
                   const ug_results *r, long start, ug_error *err)
{
    memset(k, 0, sizeof *k);
    k->freq = freq;
    snprintf(k->path, sizeof k->path, "%s/kid.csv", r->root);
    if (freq == 0) {
        /* An earlier run's rows after start would stand for steps redone. */
        if (access(k->path, F_OK) != 0)
            return 0;
        if (start == 0)
            return remove(k->path) == 0 ? 0 : ug_fail(err, "%s: %s", k->path, strerror(errno));
        if (ug_csv_open(&k->log, k->path, KID_HEADER, start, err) < 0)
            return -1;
        fclose(k->log);
        k->log = NULL;
        return 0;
    }
    ug_kid_opts ko;
    ug_kid_opts_default(&ko);
    ko.protocol = UG_KID_BLOCKS;
    double t0 = kid_now();
    if (kid_inception(o, n, "train", &k->net, err) < 0 ||
        ug_measure_open(&k->ms, k->net, &ko, 8, dataset_root, NULL, err) < 0 ||
        ug_csv_open(&k->log, k->path, KID_HEADER, start, err) < 0)
        return -1;
    printf("KID every %ld steps on %zu + %zu test images (their features: %.1f s)\n", freq,
           k->ms.test[0].n, k->ms.test[1].n, kid_now() - t0);
    return 0;
}

int train_kid_due(const train_kid *k, long step, long total)
{
    return k->freq > 0 && (step % k->freq == 0 || step == total);
}

int train_kid_measure(train_kid *k, ug_model *m, long step, ug_error *err)
{
    ug_kid_result r[2];
    double t0 = kid_now();
    if (ug_measure_model(&k->ms, m, r, err) < 0)
        return -1;
    fprintf(k->log, "%ld,%.9g,%.9g,%.9g,%.9g\n", step, 100 * r[0].mean, 100 * r[0].std,
            100 * r[1].mean, 100 * r[1].std);
    fflush(k->log);
    printf("step %ld: KID x 100 A2B ", step);
    kid_print_value(stdout, &r[0], 2);
    printf(", B2A ");
    kid_print_value(stdout, &r[1], 2);
    printf(" (%.1f s)\n", kid_now() - t0);
    fflush(stdout);
    return ferror(k->log) ? ug_fail(err, "%s: cannot write", k->path) : 0;
}

void train_kid_close(train_kid *k)
{
    if (k->log)
        fclose(k->log);
    ug_measure_close(&k->ms);
    ug_inception_free(k->net);
    memset(k, 0, sizeof *k);
}
