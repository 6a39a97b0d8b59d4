/* Sample grids and the report of a training run (see samples.h). */
#include "cli/samples.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "model/model.h"
#include "report/grid.h"
#include "report/report.h"

/* Loads up to UG_SAMPLES_PER_SET images of list, evenly spread, into dst;
 * an undecodable file is passed over (the loader warns about it) for the
 * next one. Returns how many were loaded. */
static int load_spread(float *dst, const ug_filelist *list, int img, ug_pipeline pipe)
{
    size_t want = list->n < UG_SAMPLES_PER_SET ? list->n : UG_SAMPLES_PER_SET;
    size_t plane = (size_t)3 * img * img, got = 0, k = 0;
    ug_error ignored;
    for (size_t i = 0; i < want; i++) {
        size_t start = i * list->n / want;
        for (k = k > start ? k : start; k < list->n; k++)
            if (ug_load_test_image(dst + got * plane, list->paths[k], img, pipe, &ignored) == 0)
                break;
        if (k == list->n)
            break;
        got++;
        k++;
    }
    return (int)got;
}

/* The test list of one domain, or an empty list when the folder is missing. */
static int load_test_list(ug_filelist *out, const char *root, const char *sub, ug_error *err)
{
    char dir[UG_PATH_MAX];
    if (ug_dataset_subdir(dir, sizeof dir, root, sub, err) < 0)
        return -1;
    ug_error ignored;
    if (ug_dataset_list(out, dir, &ignored) < 0)
        memset(out, 0, sizeof *out);
    return 0;
}

int ug_samples_load(ug_samples *s, const char *dataset_root, const ug_filelist *train_a,
                    const ug_filelist *train_b, int img, ug_pipeline pipe,
                    ug_error *err)
{
    memset(s, 0, sizeof *s);
    ug_filelist test_a = {0}, test_b = {0};
    size_t plane = (size_t)3 * img * img;
    int rc = -1;
    s->img = img;
    s->a = malloc(2 * UG_SAMPLES_PER_SET * plane * sizeof(float));
    s->b = malloc(2 * UG_SAMPLES_PER_SET * plane * sizeof(float));
    if (!s->a || !s->b) {
        ug_fail(err, "out of memory for the sample images");
        goto done;
    }
    if (load_test_list(&test_a, dataset_root, "testA", err) < 0 ||
        load_test_list(&test_b, dataset_root, "testB", err) < 0)
        goto done;
    /* Both grids get the same number of columns per set. */
    int ta = load_spread(s->a, train_a, img, pipe), tb = load_spread(s->b, train_b, img, pipe);
    int na = test_a.n ? load_spread(s->a + (size_t)ta * plane, &test_a, img, pipe) : 0;
    int nb = test_b.n ? load_spread(s->b + (size_t)tb * plane, &test_b, img, pipe) : 0;
    s->n = ta + na < tb + nb ? ta + na : tb + nb;
    if (s->n == 0) {
        ug_fail(err, "%s: no readable sample images", dataset_root);
        goto done;
    }
    rc = 0;
done:
    ug_filelist_free(&test_a);
    ug_filelist_free(&test_b);
    if (rc < 0)
        ug_samples_free(s);
    return rc;
}

void ug_samples_free(ug_samples *s)
{
    free(s->a);
    free(s->b);
    memset(s, 0, sizeof *s);
}

static int write_grid(const ug_samples *s, ug_model *m, ug_direction dir, const char *path,
                      ug_error *err)
{
    ug_grid g;
    const float *src = dir == UG_A2B ? s->a : s->b;
    size_t plane = (size_t)3 * s->img * s->img;
    if (ug_grid_init(&g, ug_grid_rows(m), s->n, s->img, err) < 0)
        return -1;
    int rc = 0;
    for (int i = 0; i < s->n && rc == 0; i++)
        rc = ug_grid_column(&g, i, m, dir, src + (size_t)i * plane, err);
    if (rc == 0)
        rc = ug_grid_save(&g, path, err);
    ug_grid_free(&g);
    return rc;
}

int ug_samples_write(const ug_samples *s, ug_model *m, const char *root, long step,
                     ug_error *err)
{
    char path[UG_PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/img/A2B_%07ld.png", root, step);
    if (write_grid(s, m, UG_A2B, path, err) < 0)
        return -1;
    snprintf(path, sizeof path, "%s/img/B2A_%07ld.png", root, step);
    return write_grid(s, m, UG_B2A, path, err);
}

int ug_write_report(const ug_results *r, const char *dataset_root, ug_model *m,
                    const ug_trainer *t, long step, ug_error *err)
{
    const ug_train_config *tc = ug_trainer_config(t);
    /* The family's lines, then the training configuration's. */
    char family[24][2][64], v[6][96];
    int n_family = ug_model_describe(m, family, 24);
    snprintf(v[0], sizeof v[0], "%d", tc->batch_size);
    snprintf(v[1], sizeof v[1], "%ld", tc->iteration);
    snprintf(v[2], sizeof v[2], "%g (now %.3g)", tc->lr, ug_trainer_lr(t));
    snprintf(v[3], sizeof v[3], "%g", tc->weight_decay);
    snprintf(v[4], sizeof v[4], "adv %g, cycle %g, identity %g, cam %g", tc->adv_weight,
             tc->cycle_weight, tc->identity_weight, tc->cam_weight);
    snprintf(v[5], sizeof v[5], "%s", tc->decay_flag ? "true" : "false");
    const char *train_keys[6] = {"batch_size", "iteration", "lr", "weight_decay",
                                 "loss weights", "decay_flag"};
    const char *kv[2 * (2 + 24 + 6)] = {"dataset", dataset_root, "family", ug_model_family(m)};
    int n = 2;
    for (int i = 0; i < n_family; i++, n++) {
        kv[2 * n] = family[i][0];
        kv[2 * n + 1] = family[i][1];
    }
    for (int i = 0; i < 6; i++, n++) {
        kv[2 * n] = train_keys[i];
        kv[2 * n + 1] = v[i];
    }
    char model_dir[UG_PATH_MAX + 8];
    snprintf(model_dir, sizeof model_dir, "%s/model", r->root);
    ug_rho_stats *rho = NULL;
    ug_rho_history history = {0};
    int n_rho, rc = -1;
    if (ug_rho_stats_model(&rho, &n_rho, m, err) == 0 &&
        ug_rho_history_read(&history, m, model_dir, r->name, step, err) == 0) {
        int d_loss, g_loss;
        ug_trainer_total_losses(t, &d_loss, &g_loss);
        ug_report_input in = {r->name, r->root, step, tc->iteration, step, kv, n, rho, n_rho,
                              &history, {ug_trainer_loss_name(t, d_loss),
                                         ug_trainer_loss_name(t, g_loss)}, m->fam->title};
        rc = ug_report_write(&in, err);
    }
    free(rho);
    ug_rho_history_free(&history);
    return rc;
}
