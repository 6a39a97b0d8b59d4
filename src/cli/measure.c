/* KID of a model's translations of the test sets (see measure.h). */
#include "cli/measure.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "eval/preprocess.h"
#include "io/image.h"
#include "model/model.h"

/* Direction d translates test[d] and compares with the real test[1 - d]. */
size_t ug_measure_real(const ug_measure *ms, int d) { return ms->test[1 - d].n; }
size_t ug_measure_fake(const ug_measure *ms, int d) { return ms->test[d].n; }

int ug_measure_open(ug_measure *ms, ug_inception *net, const ug_kid_opts *ko, int batch,
                    const char *root, const char *cache, ug_error *err)
{
    memset(ms, 0, sizeof *ms);
    ms->net = net, ms->ko = *ko, ms->batch = batch;
    static const char *const sets[2] = {"testA", "testB"};
    char path[4096];
    for (int s = 0; s < 2; s++) {
        ug_filelist *l = &ms->test[s];
        size_t cached;
        if (ug_dataset_subdir(path, sizeof path, root, sets[s], err) < 0 ||
            ug_dataset_list(l, path, err) < 0)
            return -1;
        if (l->n < 2)
            return ug_fail(err, "%s: KID needs at least 2 images in each set (found %zu)",
                           l->dir, l->n);
        ms->real[s] = malloc(l->n * UG_INCEPTION_DIM * sizeof *ms->real[s]);
        if (!ms->real[s])
            return ug_fail(err, "out of memory for the features of %zu images", l->n);
        if (ug_inception_files(net, ms->real[s], (const char *const *)l->paths, l->n, batch,
                               cache, &cached, err) < 0)
            return -1;
        ms->cached += cached;
    }
    return 0;
}

/* Features of m's dir translations of the images in paths[0..n). */
static int fake_features(const ug_measure *ms, ug_model *m, ug_direction dir, char **paths,
                         size_t n, float *feat, ug_error *err)
{
    const int S = ug_model_config(m)->img_size, P = UG_INCEPTION_SIZE, B = ms->batch;
    const size_t in = (size_t)3 * S * S, per = (size_t)3 * P * P;
    float *x = malloc((size_t)B * in * sizeof *x);
    float *y = malloc((size_t)B * in * sizeof *y);
    float *z = malloc((size_t)B * per * sizeof *z);
    int rc = 0;
    if (!x || !y || !z)
        rc = ug_fail(err, "out of memory for a batch of %d images", B);
    for (size_t i = 0; i < n && rc == 0; i += (size_t)B) {
        int k = n - i < (size_t)B ? (int)(n - i) : B;
        for (int j = 0; j < k && rc == 0; j++)
            rc = ug_load_test_image(x + j * in, paths[i + j], S, ug_model_pipeline(m), err);
        if (rc == 0)
            rc = ug_model_translate(m, dir, x, k, y, NULL, NULL, err);
        for (int j = 0; j < k && rc == 0; j++) {
            ug_image img = {0};
            if (ug_tensor_to_image(&img, y + j * in, S, S) < 0)
                rc = ug_fail(err, "out of memory");
            else
                rc = ug_inception_prepare(z + j * per, &img, err);
            ug_image_free(&img);
        }
        if (rc == 0)
            rc = ug_inception_features(ms->net, feat + i * UG_INCEPTION_DIM, z, k, err);
    }
    free(x);
    free(y);
    free(z);
    return rc;
}

int ug_measure_model(ug_measure *ms, ug_model *m, ug_kid_result r[2], ug_error *err)
{
    static const ug_direction dirs[2] = {UG_A2B, UG_B2A};
    for (int d = 0; d < 2; d++) {
        const ug_filelist *src = &ms->test[d];
        float *fake = malloc(src->n * UG_INCEPTION_DIM * sizeof *fake);
        int rc = !fake ? ug_fail(err, "out of memory for the features of %zu images", src->n)
                 : fake_features(ms, m, dirs[d], src->paths, src->n, fake, err) < 0 ||
                         ug_kid(&r[d], ms->real[1 - d], ms->test[1 - d].n, fake, src->n,
                                UG_INCEPTION_DIM, &ms->ko, err) < 0
                     ? -1
                     : 0;
        free(fake);
        if (rc < 0)
            return -1;
    }
    return 0;
}

void ug_measure_close(ug_measure *ms)
{
    for (int s = 0; s < 2; s++) {
        ug_filelist_free(&ms->test[s]);
        free(ms->real[s]);
    }
    memset(ms, 0, sizeof *ms);
}
