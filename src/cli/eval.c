/* ugatit eval: the paper's measurement of a trained model. Both test sets
 * are translated (A2B of testA, B2A of testB, through ug_model_translate,
 * each output rounded to 8 bits as `ugatit translate` writes it) and KID is
 * computed of A2B against the real testB and of B2A against testA: one row
 * of the paper's tables. */
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/hint.h"
#include "cli/kid.h"
#include "cli/measure.h"
#include "core/error.h"

/* A path as a JSON string: quote, backslash and control characters escaped. */
static void json_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        if ((unsigned char)*s < 0x20)
            printf("\\u%04x", (unsigned char)*s);
        else if (*s == '"' || *s == '\\')
            printf("\\%c", *s);
        else
            putchar(*s);
    }
    putchar('"');
}

int cmd_eval(int argc, char **argv)
{
    cli_opt o[] = {
        {"model", "CKPT", "checkpoint (safetensors or the release's .pt)", NULL, 1},
        {"dataset", "NAME|DIR", "dataset/NAME (uses testA and testB), or a folder", NULL, 1},
        UG_HINT_OPTS,
        KID_OPTS("blocks"),
    };
    int n = sizeof o / sizeof o[0];
    int rc = cli_parse(argc, argv, o, n,
                       "usage: ugatit eval --model CKPT --dataset NAME|DIR [--inception FILE] "
                       "[--protocol blocks|subsets] [--json] ...\n\n"
                       "Translates testA to B and testB to A and prints KID x 100 of A2B "
                       "against testB and of\nB2A against testA, as a row of the paper's "
                       "tables (blocks of 10 by default, as the\nauthors measured; see "
                       "ugatit kid).");
    if (rc)
        return rc < 0 ? 2 : 0;
    ug_kid_opts ko;
    ug_config hint;
    int batch, json = cli_find(o, n, "json")->value != NULL;
    if (kid_options(o, n, "eval", &ko, &batch) < 0 || cli_hint(o, n, "eval", &hint) < 0)
        return 2;
    const char *model = cli_find(o, n, "model")->value;
    ug_error err = {{0}};
    ug_model *m = NULL;
    ug_inception *net = NULL;
    ug_measure ms = {0};
    char root[4096];
    ug_kid_result r[2];
    int status = 1;
    if (ug_dataset_resolve(root, sizeof root, cli_find(o, n, "dataset")->value, &err) < 0 ||
        ug_model_load(&m, model, &hint, 0, &err) < 0)
        goto done;
    if (cli_hint_check(o, n, "eval", m, model) < 0) {
        status = 2;
        goto done;
    }
    double t0 = kid_now();
    if (kid_inception(o, n, "eval", &net, &err) < 0 ||
        ug_measure_open(&ms, net, &ko, batch, root, cli_find(o, n, "features-cache")->value,
                        &err) < 0 ||
        ug_measure_model(&ms, m, r, &err) < 0)
        goto done;
    size_t nr[2], nf[2];
    for (int d = 0; d < 2; d++)
        nr[d] = ug_measure_real(&ms, d), nf[d] = ug_measure_fake(&ms, d);
    fprintf(stderr, "ugatit eval: %zu translations and %zu real images (%zu from the features "
                    "cache) measured in %.1f s\n",
            nf[0] + nf[1], nr[0] + nr[1], ms.cached, kid_now() - t0);
    if (json) {
        printf("{\"model\": ");
        json_string(model);
        for (int d = 0; d < 2; d++) {
            printf(", \"%s\": {", d ? "b2a" : "a2b");
            kid_json(stdout, &r[d], &ko, nr[d], nf[d]);
            printf("}");
        }
        printf(", \"inception\": {\"variant\": \"%s\", \"sha256\": \"%s\"}}\n",
               kid_variant(net), ug_inception_sha256(net));
    } else {
        kid_describe(stdout, &ko, net);
        for (int d = 0; d < 2; d++) {
            printf("%s: ", d ? "B2A" : "A2B");
            kid_sizes(stdout, &r[d], &ko, nr[d], nf[d]);
        }
        printf("\n| model | A2B KID x 100 | B2A KID x 100 |\n|---|---|---|\n| %s | ", model);
        kid_print_value(stdout, &r[0], 2);
        printf(" | ");
        kid_print_value(stdout, &r[1], 2);
        printf(" |\n");
        if (r[0].mean < 0 || r[1].mean < 0)
            printf("note: a negative estimate means the two sets are indistinguishable at this "
                   "sample size\n");
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        ug_fail(&err, "cannot write the output");
        goto done;
    }
    status = 0;
done:
    if (status == 1)
        fprintf(stderr, "ugatit eval: %s\n", err.msg);
    ug_measure_close(&ms);
    ug_inception_free(net);
    ug_model_free(m);
    return status;
}
