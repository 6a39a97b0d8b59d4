/* One picture through a generator, as `translate` and `serve` both do it:
 * the release's test transform (Pillow bilinear resize to the model's side,
 * then [-1, 1]), the generator in evaluation mode, and the output (and, on
 * request, the JET attention picture) as 8-bit RGB at the model's side. */
#ifndef UG_CLI_TRANSLATOR_H
#define UG_CLI_TRANSLATOR_H

#include "core/threads.h"
#include "io/image.h"
#include "ugatit.h"

typedef struct translator {
    ug_model *m; /* borrowed */
    int S;       /* the model's img_size */
    float *in, *out, *heat;
    ug_threads threads; /* set again before every translation */
} translator;

/* Allocates the buffers for m's image size; threads is --threads. */
int translator_init(translator *t, ug_model *m, long threads, ug_error *err);
void translator_free(translator *t);

/* Translates photo (any size) into *out, and the heatmap picture into *cam
 * when cam is not NULL; name prefixes errors. style: a style code of a
 * multimodal family (family.h), or NULL for the family's own translation.
 * Uses the model: one call at a time per model (see include/ugatit.h). */
int translator_run(translator *t, ug_direction dir, const ug_image *photo, const char *name,
                   const float *style, ug_image *out, ug_image *cam, ug_error *err);

/* The style code of photo, an example of dir's target domain (a multimodal
 * family's style encoder), into style. */
int translator_style(translator *t, ug_direction dir, const ug_image *photo, const char *name,
                     float *style, ug_error *err);

/* The photo as the generator saw it (after the last translator_run). */
int translator_input(const translator *t, ug_image *out, ug_error *err);

#endif
