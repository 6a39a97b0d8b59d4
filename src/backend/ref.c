/* The reference backend: every kernel its plain C reference, each in its op
 * family's file under src/ops, over host memory. Tests hold every other
 * backend's kernels to these. */
#include "backend/host.h"

const ug_backend ug_backend_ref = {
    .name = "ref",
    UG_HOST_MEMORY,
    .ctx_init = NULL,
    .ctx_free = NULL,
#define UG_BE_R(type, name, params, args) .name = ug_##name##_ref,
#define UG_BE_V(name, params, args) .name = ug_##name##_ref,
    UG_KERNELS(UG_BE_R, UG_BE_V)
#undef UG_BE_R
#undef UG_BE_V
};
