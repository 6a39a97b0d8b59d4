/* See translator.h. */
#include "cli/translator.h"

#include <stdlib.h>

#include "core/error.h"
#include "data/transform.h"
#include "model/model.h"

int translator_init(translator *t, ug_model *m, long threads, ug_error *err)
{
    int S = ug_model_config(m)->img_size;
    size_t numel = (size_t)3 * S * S;
    *t = (translator){.m = m, .S = S};
    ug_threads_init(&t->threads, threads);
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
                   const float *style, ug_image *out, ug_image *cam, ug_error *err)
{
    *out = (ug_image){0};
    if (cam)
        *cam = (ug_image){0};
    ug_threads_update(&t->threads);
    if (ug_transform(t->in, photo, t->S, NULL, ug_model_pipeline(t->m), err) < 0)
        return ug_error_prefix(err, "%s", name);
    if (style ? t->m->fam->translate_style(t->m, dir, t->in, 1, style, t->out, err)
              : ug_model_translate(t->m, dir, t->in, 1, t->out, NULL, cam ? t->heat : NULL, err))
        return -1;
    if (ug_tensor_to_image(out, t->out, t->S, t->S) < 0)
        return ug_fail(err, "%s: out of memory", name);
    if (cam && ug_cam_image(cam, t->heat, t->S / 4, t->S / 4, t->S, err) < 0) {
        ug_image_free(out);
        return -1;
    }
    return 0;
}

int translator_style(translator *t, ug_direction dir, const ug_image *photo, const char *name,
                     float *style, ug_error *err)
{
    if (!t->m->fam->encode_style)
        return ug_fail(err, "a %s model has no style codes", t->m->fam->title);
    ug_threads_update(&t->threads);
    if (ug_transform(t->in, photo, t->S, NULL, ug_model_pipeline(t->m), err) < 0)
        return ug_error_prefix(err, "%s", name);
    return t->m->fam->encode_style(t->m, dir, t->in, 1, style, err) < 0
               ? ug_error_prefix(err, "%s", name)
               : 0;
}

int translator_input(const translator *t, ug_image *out, ug_error *err)
{
    if (ug_tensor_to_image(out, t->in, t->S, t->S) < 0)
        return ug_fail(err, "out of memory");
    return 0;
}
