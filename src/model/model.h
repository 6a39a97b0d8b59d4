/* The U-GAT-IT model: six networks, the kernel context and the activation
 * arena they run in. Internal view of the public ug_model. */
#ifndef UG_MODEL_H
#define UG_MODEL_H

#include "core/arena.h"
#include "kernels/kctx.h"
#include "nn/net.h"

enum { UG_GEN_A2B, UG_GEN_B2A, UG_DIS_GA, UG_DIS_GB, UG_DIS_LA, UG_DIS_LB, UG_N_NETS };

/* Checkpoint group of each network: "genA2B", ..., "disLB". */
extern const char *const ug_net_group[UG_N_NETS];

struct ug_model {
    ug_config cfg;
    int has_dis;          /* 0 for a generators-only model (translation) */
    ug_net net[UG_N_NETS];
    ug_kctx *k;
    ug_arena arena;
};

/* Builds the networks of cfg (discriminators only if with_dis), parameters
 * zero except the constant initial values. */
int ug_model_build(ug_model **out, const ug_config *c, int with_dis, ug_error *err);

#endif
