#include "data/shapes.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/rng.h"
#include "io/image.h"

#define SUPERSAMPLE 4 /* per axis, for the disc's antialiased edge */

int ug_shapes_test_count(int n)
{
    return n / 5 > 5 ? n / 5 : 5;
}

void ug_shape_params(ug_shape *s, uint64_t seed, int split, int i, int size)
{
    ug_rng r;
    /* One stream per image, so image i does not depend on n. */
    ug_rng_seed(&r, seed ^ ((uint64_t)(unsigned)i << 1 | (uint64_t)(split & 1)),
                0x5ea9e5u + (uint64_t)(unsigned)i * 2 + (uint64_t)(split & 1));
    /* A black background and a shape colour whose brightest channel is 255.
     * The generator's first instance norm removes each image's mean colour,
     * so it can only see the direction of fg - bg in RGB; with a fixed
     * background and full value that direction names the colour exactly, and
     * the translation can keep it (random backgrounds cannot be kept). */
    for (int c = 0; c < 3; c++) {
        s->bg[c] = 0;
        s->fg[c] = (unsigned char)ug_rng_below(&r, 256);
    }
    s->fg[ug_rng_below(&r, 3)] = 255;
    int lo = size * 3 / 10, hi = size * 7 / 10;
    if (lo < 2)
        lo = 2;
    if (hi > size - 2)
        hi = size - 2;
    if (hi < lo)
        hi = lo;
    s->side = lo + (int)ug_rng_below(&r, (uint32_t)(hi - lo + 1));
    int room = size - s->side - 2; /* free places for x0 in 1..size - side - 1 */
    s->x0 = 1 + (room > 0 ? (int)ug_rng_below(&r, (uint32_t)room + 1) : 0);
    s->y0 = 1 + (room > 0 ? (int)ug_rng_below(&r, (uint32_t)room + 1) : 0);
}

/* disc != 0: the disc, antialiased by supersampling; else the square. */
static void render(unsigned char *rgb, int size, const ug_shape *s, int disc)
{
    double r = s->side / 2.0, cx = s->x0 + r, cy = s->y0 + r;
    const int ss = SUPERSAMPLE, total = SUPERSAMPLE * SUPERSAMPLE;
    for (int y = 0; y < size; y++) {
        for (int x = 0; x < size; x++) {
            int cover = 0;
            if (!disc) {
                int in = x >= s->x0 && x < s->x0 + s->side && y >= s->y0 && y < s->y0 + s->side;
                cover = in ? total : 0;
            } else {
                for (int sy = 0; sy < ss; sy++) {
                    for (int sx = 0; sx < ss; sx++) {
                        double px = x + (sx + 0.5) / ss - cx, py = y + (sy + 0.5) / ss - cy;
                        cover += px * px + py * py <= r * r;
                    }
                }
            }
            unsigned char *p = rgb + ((size_t)y * size + x) * 3;
            for (int c = 0; c < 3; c++)
                p[c] = (unsigned char)((s->bg[c] * (total - cover) + s->fg[c] * cover +
                                        total / 2) / total);
        }
    }
}

/* mkdir -p. */
static int make_dirs(const char *path, ug_error *err)
{
    size_t len = strlen(path);
    char *p = malloc(len + 1);
    if (!p)
        return ug_fail(err, "%s: out of memory", path);
    memcpy(p, path, len + 1);
    int rc = 0;
    for (size_t i = 1; i <= len && rc == 0; i++) {
        if (p[i] != '/' && p[i] != '\0')
            continue;
        char keep = p[i];
        p[i] = '\0';
        struct stat st;
        if (mkdir(p, 0777) != 0 && !(errno == EEXIST && stat(p, &st) == 0 && S_ISDIR(st.st_mode)))
            rc = ug_fail(err, "%s: cannot create folder: %s", p, strerror(errno));
        p[i] = keep;
    }
    free(p);
    return rc;
}

int ug_make_shapes(const char *out_dir, int n, int size, uint64_t seed, ug_error *err)
{
    if (n < 1 || n > 1000000)
        return ug_fail(err, "shapes: image count %d outside 1..1000000", n);
    if (size < UG_SHAPES_MIN_SIZE || size > 4096)
        return ug_fail(err, "shapes: image size %d outside %d..4096", size, UG_SHAPES_MIN_SIZE);
    static const char *const sub[4] = {"trainA", "trainB", "testA", "testB"};
    int counts[2] = {n, ug_shapes_test_count(n)};
    /* Names sort in index order: four digits, six beyond 10000 images. */
    int wide = counts[0] > 10000;
    ug_image im = {size, size, malloc((size_t)size * size * 3)};
    if (!im.rgb)
        return ug_fail(err, "shapes: out of memory");
    size_t cap = strlen(out_dir) + 32;
    char *path = malloc(cap);
    int rc = path ? 0 : ug_fail(err, "shapes: out of memory");
    for (int f = 0; f < 4 && rc == 0; f++) {
        snprintf(path, cap, "%s/%s", out_dir, sub[f]);
        rc = make_dirs(path, err);
    }
    for (int split = 0; split < 2 && rc == 0; split++) {
        for (int i = 0; i < counts[split] && rc == 0; i++) {
            ug_shape s;
            ug_shape_params(&s, seed, split, i, size);
            for (int dom = 0; dom < 2 && rc == 0; dom++) {
                render(im.rgb, size, &s, dom == 0);
                snprintf(path, cap, wide ? "%s/%s/%06d.png" : "%s/%s/%04d.png", out_dir,
                         sub[split * 2 + dom], i);
                rc = ug_image_save_png(path, &im, err);
            }
        }
    }
    free(path);
    ug_image_free(&im);
    return rc;
}
