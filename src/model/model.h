/* A model: its family's networks, the kernel context and the activation
 * arena they run in. Internal view of the public ug_model. */
#ifndef UG_MODEL_H
#define UG_MODEL_H

#include "core/arena.h"
#include "backend/backend.h"
#include "model/family.h"
#include "nn/net.h"

struct ug_model {
    const ug_family *fam;
    ug_config cfg;        /* cfg.family is fam->name */
    unsigned nets;        /* bit i set: network i is present (a translation-only
                             model may hold just its generators, or one) */
    ug_net net[UG_MAX_NETS];
    ug_kctx *k;
    ug_arena arena;
};

/* Every network of a family (ug_model_build's mask for training). */
#define UG_ALL_NETS (~0u)

static inline int ug_model_has(const ug_model *m, int net) { return (m->nets >> net) & 1u; }

/* Whether the model holds the generator of direction d. */
static inline int ug_model_translates(const ug_model *m, ug_direction d)
{
    return ug_model_has(m, m->fam->translate_net[d == UG_B2A]);
}

/* The family's data pipelines. */
static inline const ug_pipeline *ug_model_pipeline(const ug_model *m) { return m->fam->pipeline; }

/* Builds the networks of cfg's family in the mask nets (UG_ALL_NETS to
 * train), parameters zero except the constant initial values. */
int ug_model_build(ug_model **out, const ug_config *c, unsigned nets, ug_error *err);

/* Runs network net in evaluation mode on N images and copies its outputs
 * image, cam_logit and heatmap into the non-NULL destinations; a destination
 * the network has no output for is an error. For the families' translate. */
int ug_model_run(ug_model *m, int net, const float *images, int N, float *out, float *cam_logit,
                 float *heatmap, ug_error *err);

/* Multimodal families (family.h's style hooks): the floats of one style
 * code (0: the family has none), and n codes drawn from N(0, I) by our
 * generator on seed into out (code i the same whatever n > i is); a family
 * without styles is an error naming it. */
int ug_model_style_size(const ug_model *m);
int ug_model_draw_styles(const ug_model *m, uint64_t seed, int n, float *out, ug_error *err);

#endif
