/* 8-bit RGB images: PNG/JPEG loading (like PIL's Image.open(...).convert('RGB')),
 * atomic PNG saving, Pillow-exact bilinear resizing, conversion to and from
 * the network's [-1, 1] planar tensors, and the release's CAM heat-map picture. */
#ifndef UG_IO_IMAGE_H
#define UG_IO_IMAGE_H

#include <stddef.h>

#include "core/error.h"

typedef struct ug_image {
    int w, h;
    unsigned char *rgb; /* w * h * 3 bytes, RGB interleaved, row-major */
} ug_image;

/* Loads a PNG or JPEG (told apart by their magic bytes, not the extension).
 * Grey, grey+alpha, RGBA, palette and 16-bit PNGs become 8-bit RGB, alpha
 * dropped; CMYK and YCCK JPEGs are converted as PIL does. On failure img is
 * left empty and the message names the file. */
int ug_image_load(ug_image *img, const char *path, ug_error *err);

/* The same from size bytes in memory; name is for messages. Pictures of more
 * than max_pixels pixels (0: the file loader's own limit of 2^27) are refused
 * from their header, before any pixel memory is allocated. */
int ug_image_decode(ug_image *img, const unsigned char *data, size_t size, size_t max_pixels,
                    const char *name, ug_error *err);

/* Writes an 8-bit RGB PNG, replacing path atomically (see io/atomic.h). */
int ug_image_save_png(const char *path, const ug_image *img, ug_error *err);

/* The same PNG into a malloc'd buffer (*png, *size bytes; free it). */
int ug_image_encode_png(const ug_image *img, unsigned char **png, size_t *size, const char *name,
                        ug_error *err);

/* Frees the pixels and zeroes the struct; safe on a zeroed struct. */
void ug_image_free(ug_image *img);

/* Pillow's resampling filters (U-GAT-IT's pipeline uses the first,
 * CycleGAN's the second). */
typedef enum { UG_RESIZE_BILINEAR, UG_RESIZE_BICUBIC } ug_resize_filter;

/* Resizes to w x h exactly as Pillow's Image.resize(size, Image.BILINEAR or
 * Image.BICUBIC) (Pillow >= 7: antialiased filter, fixed-point 8-bit passes,
 * the horizontal one first). *out is overwritten, not freed, and must not
 * alias in. */
int ug_image_resize(ug_image *out, const ug_image *in, int w, int h, ug_resize_filter filter,
                    ug_error *err);

/* 3 x h x w planar floats in [-1, 1]: torchvision's ToTensor followed by
 * Normalize(0.5, 0.5) in float32, i.e. (x / 255 - 0.5) / 0.5. */
void ug_image_to_tensor(float *chw, const ug_image *img);

/* Allocates img->rgb (returns -1 when out of memory) and fills it from a
 * 3 x h x w planar tensor: round((y * 0.5 + 0.5) * 255) computed in float32,
 * clamped to [0, 255], as cv2.imwrite of the release's denorm(x) * 255. */
int ug_tensor_to_image(ug_image *img, const float *chw, int w, int h);

/* The release's CAM picture of an hh x hw heat map, as an RGB size x size
 * image: min-max scaled to uint8 (truncating), cv2.resize INTER_LINEAR to
 * size x size, then OpenCV's COLORMAP_JET, converted to RGB so that high
 * attention is red and low is blue. */
int ug_cam_image(ug_image *out, const float *heatmap, int hh, int hw, int size, ug_error *err);

/* OpenCV's COLORMAP_JET entry for v, as RGB. */
void ug_jet_rgb(unsigned char v, unsigned char rgb[3]);

/* cv2.resize(src, (dw, dh), interpolation=INTER_LINEAR) for one 8-bit
 * channel; dst holds dw * dh bytes. */
int ug_resize_linear_cv_u8(unsigned char *dst, int dw, int dh, const unsigned char *src, int sw,
                           int sh, ug_error *err);

#endif
