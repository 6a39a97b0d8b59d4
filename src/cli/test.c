/* ugatit test: like the release's test phase, one strip per test image
 * (the model family's sample rows: U-GAT-IT's real, CAM, identity, CAM,
 * translation, CAM, cycle) written to RESULT_DIR/NAME/test/A2B_%d.png and
 * B2A_%d.png. */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/hint.h"
#include "cli/results.h"
#include "core/error.h"
#include "data/dataset.h"
#include "model/model.h"
#include "report/grid.h"

/* One strip per image of root/sub. */
static int test_direction(ug_model *m, const char *root, const char *sub, ug_direction dir,
                          const char *out_dir, int *count, ug_error *err)
{
    int img = ug_model_config(m)->img_size;
    char path[UG_PATH_MAX + 64];
    ug_filelist list = {0};
    ug_grid g = {0};
    float *x = malloc((size_t)3 * img * img * sizeof *x);
    int rc = -1;
    if (!x) {
        ug_fail(err, "out of memory");
        goto done;
    }
    if (ug_dataset_subdir(path, sizeof path, root, sub, err) < 0 ||
        ug_dataset_list(&list, path, err) < 0 || ug_grid_init(&g, ug_grid_rows(m), 1, img, err) < 0)
        goto done;
    for (size_t i = 0; i < list.n; i++) {
        if (ug_load_test_image(x, list.paths[i], img, ug_model_pipeline(m), err) < 0 ||
            ug_grid_column(&g, 0, m, dir, x, err) < 0)
            goto done;
        snprintf(path, sizeof path, "%s/%s_%zu.png", out_dir, dir == UG_A2B ? "A2B" : "B2A",
                 i + 1);
        if (ug_grid_save(&g, path, err) < 0)
            goto done;
    }
    *count = (int)list.n;
    rc = 0;
done:
    ug_grid_free(&g);
    ug_filelist_free(&list);
    free(x);
    return rc;
}

int cmd_test(int argc, char **argv)
{
    cli_opt o[] = {
        {"dataset", "NAME|DIR", "dataset/NAME (uses testA and testB), or a folder", NULL, 1},
        {"result_dir", "DIR", "strips go to DIR/NAME/test", "results", 0},
        {"model", "CKPT", "checkpoint (default: the newest in DIR/NAME/model)", NULL, 0},
        UG_HINT_OPTS,
        {"threads", "N", "threads (0: all cores)", "0", 0},
    };
    int n = sizeof o / sizeof o[0];
    int rc = cli_parse(argc, argv, o, n,
                       "usage: ugatit test --dataset NAME|DIR [--result_dir DIR] [--model CKPT]\n\n"
                       "Writes a strip per test image: for U-GAT-IT 7 rows (real, CAM, "
                       "identity, CAM,\ntranslation, CAM, cycle; 4 without CAM), for CycleGAN "
                       "and UNIT 3 (real, translation,\ncycle).");
    if (rc)
        return rc < 0 ? 2 : 0;
    long threads;
    ug_config hint;
    if (cli_hint(o, n, "test", &hint) < 0 || cli_int(o, n, "threads", 0, 1024, &threads) < 0)
        return 2;
    if (threads > 0)
        omp_set_num_threads((int)threads);

    ug_error err = {{0}};
    ug_results r;
    ug_model *m = NULL;
    char root[UG_PATH_MAX], name[256], ckpt[UG_PATH_MAX + 300], out_dir[UG_PATH_MAX + 8];
    const char *model = cli_find(o, n, "model")->value;
    int status = 1, na = 0, nb = 0;
    if (ug_dataset_resolve(root, sizeof root, cli_find(o, n, "dataset")->value, &err) < 0)
        goto done;
    ug_dataset_name(name, sizeof name, root);
    if (ug_results_init(&r, cli_find(o, n, "result_dir")->value, name, &err) < 0)
        goto done;
    if (!model) {
        char dir[UG_PATH_MAX + 8];
        long step;
        snprintf(dir, sizeof dir, "%s/model", r.root);
        rc = ug_find_newest_checkpoint(dir, r.name, ckpt, sizeof ckpt, &step, &err);
        if (rc < 0)
            goto done;
        if (rc > 0) {
            ug_fail(&err, "%s: no checkpoint to test (train first, or give --model)", dir);
            goto done;
        }
        model = ckpt;
    }
    snprintf(out_dir, sizeof out_dir, "%s/test", r.root);
    ug_remove_stale_temporaries(out_dir);
    if (ug_model_load(&m, model, &hint, 0, &err) < 0)
        goto done;
    if (cli_hint_check(o, n, "test", m, model) < 0) {
        ug_model_free(m);
        return 2;
    }
    if (test_direction(m, root, "testA", UG_A2B, out_dir, &na, &err) < 0 ||
        test_direction(m, root, "testB", UG_B2A, out_dir, &nb, &err) < 0)
        goto done;
    printf("tested %s: %d A2B and %d B2A strips in %s\n", model, na, nb, out_dir);
    status = 0;
done:
    if (status)
        fprintf(stderr, "ugatit test: %s\n", err.msg);
    ug_model_free(m);
    return status;
}
