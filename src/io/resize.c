/* Two resamplers that must match their Python counterparts bit for bit:
 *  - Pillow's Image.resize(BILINEAR or BICUBIC) (antialiased, support-scaled
 *    triangle or cubic filters with 22-bit fixed-point coefficients), used
 *    by the training/test transforms;
 *  - OpenCV's cv2.resize(INTER_LINEAR) on 8-bit data (half-pixel centres,
 *    no antialias, 11-bit coefficients), used for the CAM pictures. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "io/image.h"

/* ---- Pillow ------------------------------------------------------------ */

#define PIL_PRECISION_BITS (32 - 8 - 2)

/* Per output position: the first input index, the tap count, and ksize
 * fixed-point weights. */
typedef struct pil_coeffs {
    int ksize;
    int *bounds;  /* 2 per output: first input, number of taps */
    int32_t *k;   /* ksize per output */
} pil_coeffs;

static double triangle(double x)
{
    if (x < 0.0)
        x = -x;
    return x < 1.0 ? 1.0 - x : 0.0;
}

/* Pillow's cubic (Keys, a = -0.5), in its arithmetic order. */
static double cubic(double x)
{
    const double a = -0.5;
    if (x < 0.0)
        x = -x;
    if (x < 1.0)
        return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
    if (x < 2.0)
        return (((x - 5) * x + 8) * x - 4) * a;
    return 0.0;
}

/* A filter and its support (Pillow's struct filter). */
typedef struct pil_filter {
    double (*f)(double x);
    double support;
} pil_filter;

static const pil_filter pil_filters[] = {
    [UG_RESIZE_BILINEAR] = {triangle, 1.0},
    [UG_RESIZE_BICUBIC] = {cubic, 2.0},
};

/* Pillow's precompute_coeffs + normalize_coeffs_8bpc for the box [0, in). */
static int pil_precompute(pil_coeffs *c, int in_size, int out_size, const pil_filter *flt)
{
    double scale = (double)in_size / out_size;
    double filterscale = scale < 1.0 ? 1.0 : scale;
    double support = flt->support * filterscale;
    int ksize = (int)ceil(support) * 2 + 1;
    c->ksize = ksize;
    c->bounds = malloc((size_t)out_size * 2 * sizeof *c->bounds);
    c->k = calloc((size_t)out_size * ksize, sizeof *c->k);
    double *w = malloc((size_t)ksize * sizeof *w);
    if (!c->bounds || !c->k || !w) {
        free(w);
        return -1;
    }
    for (int xx = 0; xx < out_size; xx++) {
        double center = (xx + 0.5) * scale;
        double ss = 1.0 / filterscale;
        int xmin = (int)(center - support + 0.5); /* truncation, as Pillow */
        int xmax = (int)(center + support + 0.5);
        if (xmin < 0)
            xmin = 0;
        if (xmax > in_size)
            xmax = in_size;
        xmax -= xmin;
        double total = 0.0;
        for (int x = 0; x < xmax; x++) {
            w[x] = flt->f((x + xmin - center + 0.5) * ss);
            total += w[x];
        }
        for (int x = 0; x < xmax; x++) {
            double v = total != 0.0 ? w[x] / total : w[x];
            double fixed = v * (1 << PIL_PRECISION_BITS);
            c->k[(size_t)xx * ksize + x] = (int32_t)(v < 0 ? -0.5 + fixed : 0.5 + fixed);
        }
        c->bounds[2 * xx] = xmin;
        c->bounds[2 * xx + 1] = xmax;
    }
    free(w);
    return 0;
}

static void pil_free(pil_coeffs *c)
{
    free(c->bounds);
    free(c->k);
}

static unsigned char pil_clip8(int v)
{
    if (v >= (1 << PIL_PRECISION_BITS << 8))
        return 255;
    if (v <= 0)
        return 0;
    return (unsigned char)(v >> PIL_PRECISION_BITS);
}

/* Horizontal pass: rows [0, h) of in (width iw) into out (width ow). */
static void pil_horizontal(unsigned char *out, int ow, const unsigned char *in, int iw, int h,
                           const pil_coeffs *c)
{
    for (int y = 0; y < h; y++) {
        const unsigned char *row = in + (size_t)y * iw * 3;
        for (int xx = 0; xx < ow; xx++) {
            int xmin = c->bounds[2 * xx], n = c->bounds[2 * xx + 1];
            const int32_t *k = c->k + (size_t)xx * c->ksize;
            int s[3] = {1 << (PIL_PRECISION_BITS - 1), 1 << (PIL_PRECISION_BITS - 1),
                        1 << (PIL_PRECISION_BITS - 1)};
            for (int x = 0; x < n; x++)
                for (int ch = 0; ch < 3; ch++)
                    s[ch] += row[(size_t)(x + xmin) * 3 + ch] * k[x];
            for (int ch = 0; ch < 3; ch++)
                out[((size_t)y * ow + xx) * 3 + ch] = pil_clip8(s[ch]);
        }
    }
}

/* Vertical pass: in (w x ih) into out (w x oh). */
static void pil_vertical(unsigned char *out, int oh, const unsigned char *in, int w,
                         const pil_coeffs *c)
{
    size_t stride = (size_t)w * 3;
    for (int yy = 0; yy < oh; yy++) {
        int ymin = c->bounds[2 * yy], n = c->bounds[2 * yy + 1];
        const int32_t *k = c->k + (size_t)yy * c->ksize;
        for (size_t i = 0; i < stride; i++) {
            int s = 1 << (PIL_PRECISION_BITS - 1);
            for (int y = 0; y < n; y++)
                s += in[(size_t)(y + ymin) * stride + i] * k[y];
            out[(size_t)yy * stride + i] = pil_clip8(s);
        }
    }
}

int ug_image_resize(ug_image *out, const ug_image *in, int w, int h, ug_resize_filter filter,
                    ug_error *err)
{
    out->w = out->h = 0;
    out->rgb = NULL;
    if (w <= 0 || h <= 0 || (size_t)w * (size_t)h > ((size_t)1 << 28) || !in->rgb)
        return ug_fail(err, "resize: bad size %dx%d -> %dx%d", in->w, in->h, w, h);
    if ((int)filter < 0 || filter > UG_RESIZE_BICUBIC)
        return ug_fail(err, "resize: unknown filter %d", (int)filter);
    const pil_filter *flt = &pil_filters[filter];
    pil_coeffs ch = {0}, cv = {0};
    /* Pillow skips a pass whose size does not change (it would be exact). */
    int need_h = w != in->w, need_v = h != in->h;
    unsigned char *tmp = NULL, *dst = malloc((size_t)w * h * 3);
    int rc = dst ? 0 : -1;
    if (rc == 0 && need_h)
        rc = pil_precompute(&ch, in->w, w, flt);
    if (rc == 0 && need_v)
        rc = pil_precompute(&cv, in->h, h, flt);
    if (rc == 0 && need_h && need_v) {
        tmp = malloc((size_t)w * in->h * 3);
        rc = tmp ? 0 : -1;
    }
    if (rc == 0) {
        if (need_h && need_v) {
            pil_horizontal(tmp, w, in->rgb, in->w, in->h, &ch);
            pil_vertical(dst, h, tmp, w, &cv);
        } else if (need_h) {
            pil_horizontal(dst, w, in->rgb, in->w, in->h, &ch);
        } else if (need_v) {
            pil_vertical(dst, h, in->rgb, w, &cv);
        } else {
            memcpy(dst, in->rgb, (size_t)w * h * 3);
        }
    }
    pil_free(&ch);
    pil_free(&cv);
    free(tmp);
    if (rc != 0) {
        free(dst);
        return ug_fail(err, "resize: out of memory for %dx%d", w, h);
    }
    out->w = w;
    out->h = h;
    out->rgb = dst;
    return 0;
}

/* ---- OpenCV ------------------------------------------------------------ */

#define CV_COEF_BITS 11
#define CV_COEF_ONE (1 << CV_COEF_BITS)

/* cvRound of a float: round half to even (what the SSE conversion does). */
static int cv_round(float v) { return (int)rintf(v); }

/* For each output index: the left source index and its two 11-bit weights,
 * from OpenCV's fx = (dx + 0.5) * scale - 0.5 with border clamping. */
static void cv_linear_taps(int *ofs, short *alpha, int dsize, int ssize)
{
    double scale = (double)ssize / dsize;
    for (int dx = 0; dx < dsize; dx++) {
        float fx = (float)((dx + 0.5) * scale - 0.5);
        int sx = (int)floorf(fx);
        fx -= (float)sx;
        if (sx < 0) {
            fx = 0;
            sx = 0;
        }
        if (sx >= ssize - 1) {
            fx = 0;
            sx = ssize - 1;
        }
        ofs[dx] = sx;
        alpha[2 * dx] = (short)cv_round((1.f - fx) * CV_COEF_ONE);
        alpha[2 * dx + 1] = (short)cv_round(fx * CV_COEF_ONE);
    }
}

/* INTER_AREA's fast path for an exact 2x reduction, which OpenCV takes for
 * INTER_LINEAR too: the rounded mean of each 2x2 block. */
static void cv_half(unsigned char *dst, int dw, int dh, const unsigned char *src, int sw)
{
    for (int y = 0; y < dh; y++)
        for (int x = 0; x < dw; x++) {
            const unsigned char *p = src + (size_t)2 * y * sw + 2 * x;
            dst[(size_t)y * dw + x] = (unsigned char)((p[0] + p[1] + p[sw] + p[sw + 1] + 2) >> 2);
        }
}

int ug_resize_linear_cv_u8(unsigned char *dst, int dw, int dh, const unsigned char *src, int sw,
                           int sh, ug_error *err)
{
    if (dw <= 0 || dh <= 0 || sw <= 0 || sh <= 0)
        return ug_fail(err, "resize: bad size %dx%d -> %dx%d", sw, sh, dw, dh);
    if (dw * 2 == sw && dh * 2 == sh) {
        cv_half(dst, dw, dh, src, sw);
        return 0;
    }
    int *xofs = malloc((size_t)dw * sizeof *xofs), *yofs = malloc((size_t)dh * sizeof *yofs);
    short *xa = malloc((size_t)dw * 2 * sizeof *xa), *ya = malloc((size_t)dh * 2 * sizeof *ya);
    int *rows = malloc((size_t)sh * dw * sizeof *rows);
    int ok = xofs && yofs && xa && ya && rows;
    if (ok) {
        cv_linear_taps(xofs, xa, dw, sw);
        cv_linear_taps(yofs, ya, dh, sh);
        /* Horizontal pass: every source row, kept at 11-bit scale. */
        for (int y = 0; y < sh; y++)
            for (int x = 0; x < dw; x++) {
                int sx = xofs[x], sx1 = sx + 1 < sw ? sx + 1 : sx;
                const unsigned char *r = src + (size_t)y * sw;
                rows[(size_t)y * dw + x] = r[sx] * xa[2 * x] + r[sx1] * xa[2 * x + 1];
            }
        /* Vertical pass with OpenCV's SIMD rounding: products of (row >> 4)
         * and the weight keep their high 16 bits, then (sum + 2) >> 2. */
        for (int y = 0; y < dh; y++) {
            int sy = yofs[y], sy1 = sy + 1 < sh ? sy + 1 : sy;
            int b0 = ya[2 * y], b1 = ya[2 * y + 1];
            for (int x = 0; x < dw; x++) {
                int s0 = rows[(size_t)sy * dw + x] >> 4, s1 = rows[(size_t)sy1 * dw + x] >> 4;
                int v = (((b0 * s0) >> 16) + ((b1 * s1) >> 16) + 2) >> 2;
                dst[(size_t)y * dw + x] = (unsigned char)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
        }
    }
    free(xofs);
    free(yofs);
    free(xa);
    free(ya);
    free(rows);
    return ok ? 0 : ug_fail(err, "resize: out of memory for %dx%d", dw, dh);
}
