#include "data/transform.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const ug_pipeline ug_pipeline_release = {.filter = UG_RESIZE_BILINEAR, .margin = 30};

void ug_train_resize(const ug_pipeline *p, int img, int w0, int h0, int *w, int *h)
{
    int side = p->side ? p->side : img + p->margin;
    *w = *h = side;
    /* torchvision's Resize(int): the shorter side to `side`, the longer one
     * scaled and truncated. */
    if (p->keep_aspect && w0 > 0 && h0 > 0) {
        if (w0 <= h0)
            *h = (int)((double)side * h0 / w0);
        else
            *w = (int)((double)side * w0 / h0);
    }
}

void ug_augment_draw(ug_augment *a, ug_rng *r, int max_top, int max_left)
{
    a->flip = ug_rng_uniform(r) < 0.5;
    a->top = (int)ug_rng_below(r, (uint32_t)max_top + 1);
    a->left = (int)ug_rng_below(r, (uint32_t)max_left + 1);
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

int ug_transform(float *chw, const ug_image *in, int img, const ug_augment *a,
                 const ug_pipeline *p, ug_error *err)
{
    if (img < 1 || p->margin < 0 || p->test_margin < 0)
        return ug_fail(err, "transform: bad image size %d or margins %d, %d", img, p->margin,
                       p->test_margin);
    if (p->side && img > p->side)
        return ug_fail(err, "transform: a %d crop of images resized to %d", img, p->side);
    ug_image resized = {0};
    if (!a) {
        int side = p->side ? p->side : img + p->test_margin;
        if (ug_image_resize(&resized, in, side, side, p->filter, err) != 0)
            return -1;
        /* torchvision's CenterCrop: offsets rounded half to even, as
         * Python's round() does. */
        int off = (int)nearbyint((side - img) / 2.0);
        crop_to_tensor(chw, &resized, img, off, off);
        ug_image_free(&resized);
        return 0;
    }
    int w, h;
    ug_train_resize(p, img, in->w, in->h, &w, &h);
    if (a->top < 0 || a->top > h - img || a->left < 0 || a->left > w - img)
        return ug_fail(err, "transform: crop offset (%d, %d) outside 0..%d, 0..%d", a->top,
                       a->left, h - img, w - img);
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
    int rc = ug_image_resize(&resized, src, w, h, p->filter, err);
    ug_image_free(&flipped);
    if (rc != 0)
        return -1;
    crop_to_tensor(chw, &resized, img, a->top, a->left);
    ug_image_free(&resized);
    return 0;
}
