/* The release's torchvision pipelines on decoded RGB images.
 * Training: RandomHorizontalFlip(), Resize((img + 30, img + 30)),
 * RandomCrop(img), ToTensor(), Normalize(0.5, 0.5).
 * Test: Resize((img, img)), ToTensor(), Normalize(0.5, 0.5).
 * DRIT's: a margin of 40 (Resize 256, crop 216) and a test transform of
 * Resize((img + 40, img + 40)), CenterCrop(img).
 * Resizing is Pillow's, with the model family's filter: U-GAT-IT's bilinear,
 * or CycleGAN's bicubic (its resize_and_crop: 286 for a 256 crop, the same
 * margin; its flip after the crop is the same image as a flip before the
 * resize with the crop mirrored, and our draws are our own anyway). */
#ifndef UG_DATA_TRANSFORM_H
#define UG_DATA_TRANSFORM_H

#include "core/error.h"
#include "core/rng.h"
#include "io/image.h"

/* How much larger the training resize is than the crop (the release's). */
#define UG_CROP_MARGIN 30

/* A model family's pipeline: the resizes' filter, how much larger the
 * training resize is than the crop, and whether the test transform resizes
 * to img + margin and crops the centre (1) or resizes to img (0). */
typedef struct ug_pipeline {
    ug_resize_filter filter;
    int margin;
    int center_crop;
} ug_pipeline;
/* The release's pipeline with filter f. */
#define UG_PIPELINE(f) ((ug_pipeline){(f), UG_CROP_MARGIN, 0})

/* The random choices of one training transform. */
typedef struct ug_augment {
    int flip;   /* 1: mirror left-right before resizing */
    int top;    /* crop offset in rows, 0..margin */
    int left;   /* crop offset in columns, 0..margin */
} ug_augment;

/* Draws flip (p = 0.5), then top, then left (uniform in 0..margin), the
 * order torchvision draws them in. */
void ug_augment_draw(ug_augment *a, ug_rng *r, int margin);

/* Transforms in into chw (3 x img x img floats in [-1, 1]): the training
 * pipeline with the choices in a, or the test pipeline when a is NULL. */
int ug_transform(float *chw, const ug_image *in, int img, const ug_augment *a, ug_pipeline pipe,
                 ug_error *err);

#endif
