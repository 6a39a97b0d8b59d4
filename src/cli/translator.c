/* See translator.h. */
#include "cli/translator.h"

#include <stdlib.h>

#include "core/error.h"
#include "data/transform.h"
#include "model/model.h"

int translator_init(translator *t, ug_model *m, ug_error *err)
{
    int S = ug_model_config(m)->img_size;
    size_t numel = (size_t)3 * S * S;
    *t = (translator){.m = m, .S = S};
    t->in = malloc(numel * sizeof *t->in);
    t->out = malloc(numel * sizeof *t->out);
    t->heat = malloc((size_t)(S / 4) * (S / 4) * sizeof *t->heat);
    if (!t->in || !t->out || !t->heat) {
        translator_free(t);
        return ug_fail(err, "out of memory");
    }
    return 0;
}

void translator_free(translator *t)
{
    free(t->in);
    free(t->out);
    free(t->heat);
    *t = (translator){0};
}

int translator_run(translator *t, ug_direction dir, const ug_image *photo, const char *name,
                   ug_image *out, ug_image *cam, ug_error *err)
{
    *out = (ug_image){0};
    if (cam)
        *cam = (ug_image){0};
    if (ug_transform(t->in, photo, t->S, NULL, ug_model_pipeline(t->m), err) < 0)
        return ug_error_prefix(err, "%s", name);
    if (ug_model_translate(t->m, dir, t->in, 1, t->out, NULL, cam ? t->heat : NULL, err) < 0)
        return -1;
    if (ug_tensor_to_image(out, t->out, t->S, t->S) < 0)
        return ug_fail(err, "%s: out of memory", name);
    if (cam && ug_cam_image(cam, t->heat, t->S / 4, t->S / 4, t->S, err) < 0) {
        ug_image_free(out);
        return -1;
    }
    return 0;
}

int translator_input(const translator *t, ug_image *out, ug_error *err)
{
    if (ug_tensor_to_image(out, t->in, t->S, t->S) < 0)
        return ug_fail(err, "out of memory");
    return 0;
}
