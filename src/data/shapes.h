/* The built-in demo dataset: domain A holds one filled disc per image,
 * domain B one filled square, each on a black background. Image i of a split
 * has the same colours and place in both domains (the square is the disc's
 * bounding box), so B_i is the ideal translation of A_i; the loader shuffles
 * the domains independently, so training still sees unpaired data. */
#ifndef UG_DATA_SHAPES_H
#define UG_DATA_SHAPES_H

#include <stdint.h>

#include "core/error.h"

/* The smallest image side ug_make_shapes accepts. */
#define UG_SHAPES_MIN_SIZE 8

typedef struct ug_shape {
    unsigned char bg[3], fg[3]; /* background and shape colours, RGB */
    int x0, y0, side;           /* the square: columns x0..x0+side-1, rows y0..y0+side-1;
                                   the disc: centre (x0 + side/2, y0 + side/2) in pixel-
                                   corner coordinates, radius side/2 */
} ug_shape;

/* Test images per domain for n training images: max(n / 5, 5). */
int ug_shapes_test_count(int n);

/* The shape of image i of a split (0 train, 1 test): side between 30% and
 * 70% of size, at least one background pixel on each side, a black
 * background and a colour whose brightest channel is 255. */
void ug_shape_params(ug_shape *s, uint64_t seed, int split, int i, int size);

/* Writes out_dir/{trainA,trainB,testA,testB}/NNNN.png (numbered from 0,
 * four digits, six when n > 10000; n at most 1000000): n training and ug_shapes_test_count(n) test images
 * per domain, size x size. Folders are created as needed; existing files
 * of the same names are replaced, others are left alone. */
int ug_make_shapes(const char *out_dir, int n, int size, uint64_t seed, ug_error *err);

#endif
