/* The U-GAT-IT model: six networks, the kernel context and the activation
 * arena they run in. Internal view of the public ug_model. */
#ifndef UG_MODEL_H
#define UG_MODEL_H

#include "core/arena.h"
#include "backend/backend.h"
#include "nn/net.h"

enum { UG_GEN_A2B, UG_GEN_B2A, UG_DIS_GA, UG_DIS_GB, UG_DIS_LA, UG_DIS_LB, UG_N_NETS };

/* Checkpoint group of each network: "genA2B", ..., "disLB". */
extern const char *const ug_net_group[UG_N_NETS];

struct ug_model {
    ug_config cfg;
    unsigned nets;        /* bit i set: network i is present (a translation-only
                             model may hold just its generators, or one) */
    ug_net net[UG_N_NETS];
    ug_kctx *k;
    ug_arena arena;
};

#define UG_ALL_NETS ((1u << UG_N_NETS) - 1)
#define UG_GENERATORS ((1u << UG_GEN_A2B) | (1u << UG_GEN_B2A))

static inline int ug_model_has(const ug_model *m, int net) { return (m->nets >> net) & 1u; }

/* Builds the networks of cfg in the mask nets (UG_ALL_NETS to train),
 * parameters zero except the constant initial values. */
int ug_model_build(ug_model **out, const ug_config *c, unsigned nets, ug_error *err);

#endif
