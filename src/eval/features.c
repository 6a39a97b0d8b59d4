/* Inception features of image files, a batch at a time (see inception.h). */
#include <stdlib.h>

#include "eval/inception.h"
#include "eval/preprocess.h"
#include "io/image.h"

int ug_inception_files(ug_inception *m, float *features, const char *const *paths, size_t n,
                       int batch, ug_error *err)
{
    const size_t S = UG_INCEPTION_SIZE, per = 3 * S * S;
    if (batch < 1)
        return ug_fail(err, "internal: Inception batch of %d", batch);
    float *x = malloc((size_t)batch * per * sizeof *x);
    if (!x)
        return ug_fail(err, "out of memory for a batch of %d images", batch);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i += (size_t)batch) {
        int k = n - i < (size_t)batch ? (int)(n - i) : batch;
        for (int j = 0; j < k && rc == 0; j++) {
            ug_image img = {0};
            rc = ug_image_load(&img, paths[i + j], err) < 0 ||
                         ug_inception_prepare(x + (size_t)j * per, &img, err) < 0
                     ? -1
                     : 0;
            ug_image_free(&img);
        }
        if (rc == 0)
            rc = ug_inception_features(m, features + i * UG_INCEPTION_DIM, x, k, err);
    }
    free(x);
    return rc;
}
