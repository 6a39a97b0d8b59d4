/* The official torchvision pipelines on decoded RGB images, one description
 * per model family (ug_pipeline) and one implementation:
 * Training: RandomHorizontalFlip(), a resize to img + margin (both sides, or
 * the shorter side with the aspect kept) or to a fixed side, RandomCrop(img),
 * ToTensor(), Normalize(0.5, 0.5).
 * Test: Resize((img + test_margin, img + test_margin)) or to the fixed side,
 * CenterCrop(img), ToTensor(), Normalize(0.5, 0.5).
 * Resizing is Pillow's, with the family's filter. Where an official pipeline
 * flips after the crop, its image is the flip before the resize with the crop
 * mirrored, and our draws are our own anyway. */
#ifndef UG_DATA_TRANSFORM_H
#define UG_DATA_TRANSFORM_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/rng.h"
#include "io/image.h"

/* How a family's official loader walks a domain: a permutation of `span`
 * indices (taken modulo the domain's files) of which the first `epoch` are
 * used before the next permutation, or an independent uniform draw of a file
 * for every sample (Python's random.randint). */
typedef struct ug_sampling {
    uint64_t span, epoch;
    int uniform;
} ug_sampling;

/* A model family's data pipelines. */
typedef struct ug_pipeline {
    ug_resize_filter filter; /* Pillow's filter of every resize */
    int margin;              /* training resize to img + margin, then a random img crop */
    int keep_aspect;         /* 1: that resize is of the shorter side, the aspect kept */
    int test_margin;         /* test resize to img + test_margin, then the centre img crop */
    int side;                /* else both resizes to side x side at any img (at most side) */
    /* Domain d's walk, given both domains' file counts n; NULL: each domain a
     * new permutation of its own files every pass (two shuffled loaders). */
    void (*sampling)(int d, const size_t n[2], ug_sampling *s);
} ug_pipeline;

/* U-GAT-IT's release: bilinear, 286 for a 256 crop, square; test at img. */
extern const ug_pipeline ug_pipeline_release;

/* The random choices of one training transform. */
typedef struct ug_augment {
    int flip;   /* 1: mirror left-right before resizing */
    int top;    /* crop offset in rows of the resized image */
    int left;   /* crop offset in columns */
} ug_augment;

/* The size (w, h) an image of w0 x h0 has after the training resize. */
void ug_train_resize(const ug_pipeline *p, int img, int w0, int h0, int *w, int *h);

/* Draws flip (p = 0.5), then top in 0..max_top, then left in 0..max_left,
 * the order torchvision draws them in. */
void ug_augment_draw(ug_augment *a, ug_rng *r, int max_top, int max_left);

/* Transforms in into chw (3 x img x img floats in [-1, 1]): the training
 * pipeline of p with the choices in a, or its test pipeline when a is NULL. */
int ug_transform(float *chw, const ug_image *in, int img, const ug_augment *a,
                 const ug_pipeline *p, ug_error *err);

#endif
