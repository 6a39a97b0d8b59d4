/* The release's CAM picture (utils.cam in the PyTorch U-GAT-IT): min-max
 * scaling to uint8, cv2.resize, then cv2.applyColorMap(COLORMAP_JET). */
#include <math.h>
#include <stdlib.h>

#include "io/image.h"

/* OpenCV's JET base map is 256 samples of the piecewise-linear "jet" curves,
 * clamp(1.5 - |4x - c|) with c = 3 (red), 2 (green), 1 (blue), at x = i/255. */
static float jet_base(int i, double c)
{
    double v = 1.5 - fabs(4.0 * (i / 255.0) - c);
    return (float)(v < 0 ? 0 : v > 1 ? 1 : v);
}

/* OpenCV then resamples the base map onto linspace(0, 1, 256) in float32
 * (an identity up to rounding) and converts it with saturate_cast(v * 255);
 * this reproduces that arithmetic, rounding included. */
static unsigned char jet_channel(int i, double c)
{
    float step = 1.0f / 255.0f;
    float x = 0.0f + (float)i * step;
    float y = jet_base(i, c);
    if (i > 0) {
        float x0 = 0.0f + (float)(i - 1) * step, y0 = jet_base(i - 1, c);
        float dy = y - y0, dx = x - x0;
        float t = (x - x0) * dy;
        y = y0 + t / dx;
    }
    float v = rintf(y * 255.0f);
    return (unsigned char)(v < 0 ? 0 : v > 255 ? 255 : v);
}

void ug_jet_rgb(unsigned char v, unsigned char rgb[3])
{
    rgb[0] = jet_channel(v, 3.0);
    rgb[1] = jet_channel(v, 2.0);
    rgb[2] = jet_channel(v, 1.0);
}

/* np.uint8(255 * ((x - min) / max(x - min))) in float32; NaN (a flat or
 * non-finite map) becomes 0 as numpy's cast does on x86. */
static void scale_to_u8(unsigned char *dst, const float *x, size_t n)
{
    float lo = x[0];
    for (size_t i = 1; i < n; i++)
        lo = (x[i] < lo || x[i] != x[i]) && lo == lo ? x[i] : lo;
    float hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        float d = x[i] - lo;
        hi = (d > hi || d != d) && hi == hi ? d : hi;
    }
    for (size_t i = 0; i < n; i++) {
        float c = (x[i] - lo) / hi;
        float v = 255.0f * c;
        dst[i] = v >= 0.0f && v < 256.0f ? (unsigned char)v : 0;
    }
}

int ug_cam_image(ug_image *out, const float *heatmap, int hh, int hw, int size, ug_error *err)
{
    out->w = out->h = 0;
    out->rgb = NULL;
    if (hh <= 0 || hw <= 0 || size <= 0 || size > 16384 || (size_t)hh * (size_t)hw > (1u << 28))
        return ug_fail(err, "cam: bad sizes (heat map %dx%d, picture %d)", hw, hh, size);
    size_t n = (size_t)size * size;
    unsigned char *small = malloc((size_t)hh * hw), *big = malloc(n);
    unsigned char *rgb = malloc(n * 3);
    int rc = small && big && rgb ? 0 : ug_fail(err, "cam: out of memory");
    if (rc == 0) {
        scale_to_u8(small, heatmap, (size_t)hh * hw);
        rc = ug_resize_linear_cv_u8(big, size, size, small, hw, hh, err);
    }
    if (rc == 0) {
        unsigned char lut[256][3];
        for (int v = 0; v < 256; v++)
            ug_jet_rgb((unsigned char)v, lut[v]);
        for (size_t i = 0; i < n; i++)
            for (int c = 0; c < 3; c++)
                rgb[3 * i + c] = lut[big[i]][c];
    }
    free(small);
    free(big);
    if (rc != 0) {
        free(rgb);
        return -1;
    }
    out->w = out->h = size;
    out->rgb = rgb;
    return 0;
}
