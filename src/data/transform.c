#include "data/transform.h"

#include <stdlib.h>
#include <string.h>

void ug_augment_draw(ug_augment *a, ug_rng *r, int margin)
{
    a->flip = ug_rng_uniform(r) < 0.5;
    a->top = (int)ug_rng_below(r, (uint64_t)margin + 1);
    a->left = (int)ug_rng_below(r, (uint64_t)margin + 1);
}

/* torchvision's CenterCrop offset, int(round(margin / 2.0)): halves to even. */
static int center_offset(int margin)
{
    const int k = margin / 2;
    return margin % 2 && k % 2 ? k + 1 : k;
}

/* Mirrors in place, left-right. */
static void flip_lr(ug_image *im)
{
    for (int y = 0; y < im->h; y++) {
        unsigned char *row = im->rgb + (size_t)y * im->w * 3;
        for (int l = 0, r = im->w - 1; l < r; l++, r--) {
            for (int c = 0; c < 3; c++) {
                unsigned char t = row[3 * l + c];
                row[3 * l + c] = row[3 * r + c];
                row[3 * r + c] = t;
            }
        }
    }
}

/* The crop of a resized image as a planar tensor, pixel by pixel as
 * ug_image_to_tensor computes it. */
static void crop_to_tensor(float *chw, const ug_image *im, int img, int top, int left)
{
    size_t plane = (size_t)img * img;
    for (int y = 0; y < img; y++) {
        const unsigned char *row = im->rgb + ((size_t)(y + top) * im->w + left) * 3;
        for (int x = 0; x < img; x++) {
            for (int c = 0; c < 3; c++) {
                float v = (float)row[3 * x + c] / 255.0f;
                v = v - 0.5f;
                chw[c * plane + (size_t)y * img + x] = v / 0.5f;
            }
        }
    }
}

int ug_transform(float *chw, const ug_image *in, int img, const ug_augment *a, ug_pipeline pipe,
                 ug_error *err)
{
    if (img < 1 || pipe.margin < 0 || pipe.margin > 4096)
        return ug_fail(err, "transform: bad image size %d or margin %d", img, pipe.margin);
    ug_resize_filter filter = pipe.filter;
    ug_image resized = {0};
    if (!a && !pipe.center_crop) {
        if (ug_image_resize(&resized, in, img, img, filter, err) != 0)
            return -1;
        ug_image_to_tensor(chw, &resized);
        ug_image_free(&resized);
        return 0;
    }
    const int centre = center_offset(pipe.margin);
    const ug_augment centred = {0, centre, centre};
    if (!a)
        a = &centred;
    if (a->top < 0 || a->top > pipe.margin || a->left < 0 || a->left > pipe.margin)
        return ug_fail(err, "transform: crop offset (%d, %d) outside 0..%d", a->top, a->left,
                       pipe.margin);
    const ug_image *src = in;
    ug_image flipped = {0};
    if (a->flip) {
        size_t bytes = (size_t)in->w * in->h * 3;
        flipped.rgb = malloc(bytes ? bytes : 1);
        if (!flipped.rgb)
            return ug_fail(err, "transform: out of memory");
        memcpy(flipped.rgb, in->rgb, bytes);
        flipped.w = in->w;
        flipped.h = in->h;
        flip_lr(&flipped);
        src = &flipped;
    }
    int big = img + pipe.margin;
    int rc = ug_image_resize(&resized, src, big, big, filter, err);
    ug_image_free(&flipped);
    if (rc != 0)
        return -1;
    crop_to_tensor(chw, &resized, img, a->top, a->left);
    ug_image_free(&resized);
    return 0;
}
