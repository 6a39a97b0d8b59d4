/* The op families' table entries (each defined in its family's file). */
#ifndef UG_OPS_H
#define UG_OPS_H

#include "backend/backend.h"
#include "nn/op.h"

extern const ug_op_def ug_op_pad, ug_op_up2;                            /* spatial.c */
extern const ug_op_def ug_op_conv;                                      /* conv.c */
extern const ug_op_def ug_op_deconv;                                    /* deconv.c */
extern const ug_op_def ug_op_linear;                                    /* linear.c */
extern const ug_op_def ug_op_inorm, ug_op_linnorm;                      /* norm.c */
extern const ug_op_def ug_op_adain;                                     /* adain.c */
extern const ug_op_def ug_op_bnorm, ug_op_gnorm, ug_op_nvlnorm, ug_op_dlnorm; /* affine_norm.c */
extern const ug_op_def ug_op_relu, ug_op_lrelu, ug_op_tanh, ug_op_sigmoid; /* activation.c */
extern const ug_op_def ug_op_gap, ug_op_gmp, ug_op_maxpool, ug_op_avgpool; /* pool.c */
extern const ug_op_def ug_op_scale, ug_op_concat, ug_op_chsum, ug_op_add, ug_op_mul,
    ug_op_concat_tiled; /* channel.c */

#endif
