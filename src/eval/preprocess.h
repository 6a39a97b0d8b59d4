/* pytorch-fid's image preprocessing for Inception-v3: RGB in [0, 1]
 * (ToTensor), torch.nn.functional.interpolate to 299 x 299 with
 * mode="bilinear", align_corners=False (no antialiasing), then 2x - 1. */
#ifndef UG_EVAL_PREPROCESS_H
#define UG_EVAL_PREPROCESS_H

#include "core/error.h"
#include "io/image.h"

/* One plane sw x sh to dw x dh as F.interpolate(mode="bilinear",
 * align_corners=False) computes it in float32: source coordinate
 * max(0, (d + 0.5) * s / d_size - 0.5), its floor and the next sample
 * (clamped to the edge) weighted by the fraction. */
int ug_resize_bilinear_torch(float *dst, int dw, int dh, const float *src, int sw, int sh,
                             ug_error *err);

/* 3 x 299 x 299 floats in [-1, 1] from an 8-bit RGB image. */
int ug_inception_prepare(float *chw, const ug_image *img, ug_error *err);

#endif
