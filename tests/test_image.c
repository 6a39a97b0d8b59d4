/* Tests for src/io/image.c, resize.c and colormap.c: loading the sample PNG
 * and JPEG, PNG save/reload, PNG colour-type conversion, refusal of broken
 * files, Pillow-exact bilinear resizing (against fixtures made by
 * tools/make_resize_fixture.py), tensor conversion and the CAM picture. */
#include <math.h>
#include <png.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
/* jpeglib.h needs size_t and FILE first. */
#include <jpeglib.h>

#include "check.h"
#include "files.h"
#include "io/image.h"

#define SAMPLES CHECK_SAMPLES
#define JPEG_SAMPLE SAMPLES "/testA/female_2321.jpg"
#define PNG_SAMPLE SAMPLES "/testB/3414.png"

static char tmpdir[] = "/tmp/ug_image_test_XXXXXX";

static void tmp_path(char *buf, size_t cap, const char *name)
{
    snprintf(buf, cap, "%s/%s", tmpdir, name);
}

/* A PNG of any colour type written directly with libpng. rows holds h rows
 * of png_get_rowbytes bytes each. */
static void write_png(const char *path, int w, int h, int ctype, int depth,
                      const unsigned char *data, const png_color *palette, int n_palette)
{
    FILE *fp = fopen(path, "wb");
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    if (setjmp(png_jmpbuf(png))) {
        fprintf(stderr, "libpng failed writing %s\n", path);
        exit(2);
    }
    png_init_io(png, fp);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, depth, ctype, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (palette)
        png_set_PLTE(png, info, palette, n_palette);
    png_write_info(png, info);
    size_t rowbytes = png_get_rowbytes(png, info);
    for (int y = 0; y < h; y++)
        png_write_row(png, data + (size_t)y * rowbytes);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    fclose(fp);
}

static int max_diff(const unsigned char *a, const unsigned char *b, size_t n, size_t *count)
{
    int m = 0;
    *count = 0;
    for (size_t i = 0; i < n; i++) {
        int d = abs((int)a[i] - (int)b[i]);
        if (d)
            (*count)++;
        if (d > m)
            m = d;
    }
    return m;
}

static void test_load_and_save(void)
{
    ug_image jpg = {0}, png = {0}, back = {0};
    ug_error err = {""};
    CHECK(ug_image_load(&jpg, JPEG_SAMPLE, &err) == 0, "load JPEG: %s", err.msg);
    CHECK(jpg.w == 256 && jpg.h == 256 && jpg.rgb, "JPEG is %dx%d", jpg.w, jpg.h);
    CHECK(ug_image_load(&png, PNG_SAMPLE, &err) == 0, "load PNG: %s", err.msg);
    CHECK(png.w == 256 && png.h == 256 && png.rgb, "PNG is %dx%d", png.w, png.h);

    char path[512];
    tmp_path(path, sizeof path, "saved.png");
    CHECK(ug_image_save_png(path, &jpg, &err) == 0, "save: %s", err.msg);
    CHECK(ug_image_load(&back, path, &err) == 0, "reload: %s", err.msg);
    CHECK(back.w == jpg.w && back.h == jpg.h && back.rgb &&
              memcmp(back.rgb, jpg.rgb, (size_t)jpg.w * jpg.h * 3) == 0,
          "saved PNG differs from what was saved");
    ug_image_free(&back);
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    CHECK(access(tmp, F_OK) != 0, "temporary file left behind");
    unlink(path);

    /* Saving into a missing directory fails and names the path. */
    const char *bad = "/nonexistent-dir-ugatit/out.png";
    CHECK(ug_image_save_png(bad, &jpg, &err) == -1, "save into a missing directory");
    CHECK(strstr(err.msg, bad) != NULL, "message: %s", err.msg);

    ug_image_free(&jpg);
    ug_image_free(&png);
    ug_image_free(&png); /* freeing twice is harmless */
}

/* Grey, grey+alpha, RGBA, palette, 16-bit and 1-bit PNGs all come back as
 * the RGB PIL's convert('RGB') gives. */
static void test_png_conversions(void)
{
    char path[512];
    tmp_path(path, sizeof path, "kinds.png");
    ug_image img = {0};
    ug_error err = {""};

    const unsigned char grey[4] = {0, 100, 200, 255};
    write_png(path, 2, 2, PNG_COLOR_TYPE_GRAY, 8, grey, NULL, 0);
    CHECK(ug_image_load(&img, path, &err) == 0, "grey: %s", err.msg);
    for (int i = 0; i < 4 && img.rgb; i++)
        CHECK(img.rgb[3 * i] == grey[i] && img.rgb[3 * i + 1] == grey[i] &&
                  img.rgb[3 * i + 2] == grey[i],
              "grey pixel %d", i);
    ug_image_free(&img);

    const unsigned char ga[8] = {10, 0, 20, 255, 30, 128, 40, 7};
    write_png(path, 2, 2, PNG_COLOR_TYPE_GRAY_ALPHA, 8, ga, NULL, 0);
    CHECK(ug_image_load(&img, path, &err) == 0, "grey+alpha: %s", err.msg);
    for (int i = 0; i < 4 && img.rgb; i++)
        CHECK(img.rgb[3 * i] == ga[2 * i] && img.rgb[3 * i + 2] == ga[2 * i],
              "grey+alpha pixel %d (alpha must be dropped, not blended)", i);
    ug_image_free(&img);

    const unsigned char rgba[16] = {1, 2, 3, 0, 4, 5, 6, 50, 7, 8, 9, 100, 10, 11, 12, 255};
    write_png(path, 2, 2, PNG_COLOR_TYPE_RGB_ALPHA, 8, rgba, NULL, 0);
    CHECK(ug_image_load(&img, path, &err) == 0, "RGBA: %s", err.msg);
    for (int i = 0; i < 4 && img.rgb; i++)
        CHECK(memcmp(img.rgb + 3 * i, rgba + 4 * i, 3) == 0, "RGBA pixel %d", i);
    ug_image_free(&img);

    const png_color pal[3] = {{255, 0, 0}, {0, 255, 0}, {10, 20, 30}};
    const unsigned char idx[4] = {2, 0, 1, 2};
    write_png(path, 2, 2, PNG_COLOR_TYPE_PALETTE, 8, idx, pal, 3);
    CHECK(ug_image_load(&img, path, &err) == 0, "palette: %s", err.msg);
    for (int i = 0; i < 4 && img.rgb; i++)
        CHECK(img.rgb[3 * i] == pal[idx[i]].red && img.rgb[3 * i + 1] == pal[idx[i]].green &&
                  img.rgb[3 * i + 2] == pal[idx[i]].blue,
              "palette pixel %d", i);
    ug_image_free(&img);

    /* 16-bit RGB, big-endian samples: the high byte is kept. */
    unsigned char rgb16[24];
    for (int i = 0; i < 12; i++) {
        rgb16[2 * i] = (unsigned char)(i * 20);
        rgb16[2 * i + 1] = 0xff;
    }
    write_png(path, 2, 2, PNG_COLOR_TYPE_RGB, 16, rgb16, NULL, 0);
    CHECK(ug_image_load(&img, path, &err) == 0, "16-bit: %s", err.msg);
    for (int i = 0; i < 12 && img.rgb; i++)
        CHECK(img.rgb[i] == i * 20, "16-bit sample %d is %d", i, img.rgb[i]);
    ug_image_free(&img);

    const unsigned char bits[2] = {0x80, 0x40}; /* 1-bit grey, 2x2: 1 0 / 0 1 */
    write_png(path, 2, 2, PNG_COLOR_TYPE_GRAY, 1, bits, NULL, 0);
    CHECK(ug_image_load(&img, path, &err) == 0, "1-bit: %s", err.msg);
    if (img.rgb)
        CHECK(img.rgb[0] == 255 && img.rgb[3] == 0 && img.rgb[6] == 0 && img.rgb[9] == 255,
              "1-bit pixels %d %d %d %d", img.rgb[0], img.rgb[3], img.rgb[6], img.rgb[9]);
    ug_image_free(&img);
    unlink(path);
}

static void expect_load_refusal(const char *path, const char *what)
{
    ug_image img = {1, 1, (unsigned char *)1};
    ug_error err = {""};
    CHECK(ug_image_load(&img, path, &err) == -1, "%s: accepted", what);
    CHECK(img.rgb == NULL && img.w == 0, "%s: image not left empty", what);
    CHECK(strstr(err.msg, path) != NULL, "%s: message does not name the file: %s", what, err.msg);
    CHECK(strchr(err.msg, '\n') == NULL, "%s: message is not one line", what);
}

static void test_refusals(void)
{
    char path[512];
    size_t n;
    tmp_path(path, sizeof path, "broken.jpg");
    unsigned char *jpg = read_bytes(JPEG_SAMPLE, &n);
    CHECK(jpg != NULL, "cannot read %s", JPEG_SAMPLE);
    if (jpg) {
        write_bytes(path, jpg, n / 2);
        expect_load_refusal(path, "truncated JPEG");
        write_bytes(path, jpg, 200);
        expect_load_refusal(path, "JPEG cut inside its header");
        free(jpg);
    }
    tmp_path(path, sizeof path, "broken.png");
    unsigned char *png = read_bytes(PNG_SAMPLE, &n);
    CHECK(png != NULL, "cannot read %s", PNG_SAMPLE);
    if (png) {
        write_bytes(path, png, n / 2);
        expect_load_refusal(path, "truncated PNG");
        write_bytes(path, png, 30);
        expect_load_refusal(path, "PNG cut inside IHDR");
        png[n / 2] ^= 0x55; /* a flipped byte inside IDAT: CRC or zlib error */
        write_bytes(path, png, n);
        expect_load_refusal(path, "corrupt PNG");
        free(png);
    }
    tmp_path(path, sizeof path, "notes.png");
    write_bytes(path, "just some text\n", 15);
    expect_load_refusal(path, "text file");
    write_bytes(path, "", 0);
    expect_load_refusal(path, "empty file");
    unlink(path);
    tmp_path(path, sizeof path, "broken.jpg");
    unlink(path);
    tmp_path(path, sizeof path, "broken.png");
    unlink(path);
    tmp_path(path, sizeof path, "missing.png");
    expect_load_refusal(path, "missing file");
}

static void compare_with_fixture(const char *src, const char *fixture, int w, int h,
                                 ug_resize_filter filter)
{
    ug_image in = {0}, out = {0};
    ug_error err = {""};
    size_t n = 0;
    unsigned char *want = read_bytes(fixture, &n);
    CHECK(want && n == (size_t)w * h * 3, "fixture %s missing or wrong size", fixture);
    CHECK(ug_image_load(&in, src, &err) == 0, "load: %s", err.msg);
    CHECK(ug_image_resize(&out, &in, w, h, filter, &err) == 0, "resize: %s", err.msg);
    if (want && out.rgb && n == (size_t)w * h * 3) {
        size_t count;
        int m = max_diff(out.rgb, want, n, &count);
        CHECK(m <= 1, "%s: resize differs from PIL by up to %d levels", fixture, m);
        CHECK(count == 0, "%s: %zu samples differ from PIL (max %d)", fixture, count, m);
    }
    free(want);
    ug_image_free(&in);
    ug_image_free(&out);
}

static void test_resize(void)
{
    compare_with_fixture(JPEG_SAMPLE, UGATIT_FIXTURES "/resize_female_2321_96.rgb", 96, 96,
                         UG_RESIZE_BILINEAR);
    compare_with_fixture(PNG_SAMPLE, UGATIT_FIXTURES "/resize_3414_96.rgb", 96, 96,
                         UG_RESIZE_BILINEAR);
    compare_with_fixture(PNG_SAMPLE, UGATIT_FIXTURES "/resize_3414_333x201.rgb", 333, 201,
                         UG_RESIZE_BILINEAR);
    compare_with_fixture(PNG_SAMPLE, UGATIT_FIXTURES "/resize_bicubic_3414_286.rgb", 286, 286,
                         UG_RESIZE_BICUBIC);
    compare_with_fixture(JPEG_SAMPLE, UGATIT_FIXTURES "/resize_bicubic_female_2321_77x51.rgb",
                         77, 51, UG_RESIZE_BICUBIC);

    /* Upscaling a constant image keeps it constant; same size is a copy. */
    ug_image flat = {7, 5, malloc(7 * 5 * 3)}, up = {0}, same = {0};
    memset(flat.rgb, 77, 7 * 5 * 3);
    ug_error err = {""};
    CHECK(ug_image_resize(&up, &flat, 256, 300, UG_RESIZE_BILINEAR, &err) == 0, "upscale: %s",
          err.msg);
    int all = up.rgb != NULL;
    for (size_t i = 0; up.rgb && i < (size_t)256 * 300 * 3; i++)
        all &= up.rgb[i] == 77;
    CHECK(all, "upscaled constant image is not constant");
    CHECK(ug_image_resize(&same, &flat, 7, 5, UG_RESIZE_BILINEAR, &err) == 0 && same.rgb &&
              memcmp(same.rgb, flat.rgb, 7 * 5 * 3) == 0,
          "same-size resize is not a copy");
    ug_image_free(&up);
    CHECK(ug_image_resize(&up, &flat, 0, 5, UG_RESIZE_BILINEAR, &err) == -1, "zero width accepted");
    ug_image_free(&flat);
    ug_image_free(&same);

    /* Upscaling the sample 96 -> 256 runs and stays in range of its input. */
    ug_image in = {0}, small = {0}, big = {0};
    CHECK(ug_image_load(&in, JPEG_SAMPLE, &err) == 0, "load: %s", err.msg);
    CHECK(ug_image_resize(&small, &in, 96, 96, UG_RESIZE_BILINEAR, &err) == 0, "down: %s", err.msg);
    CHECK(ug_image_resize(&big, &small, 256, 256, UG_RESIZE_BILINEAR, &err) == 0, "up: %s",
          err.msg);
    CHECK(big.w == 256 && big.h == 256, "upscaled size %dx%d", big.w, big.h);
    if (big.rgb && in.rgb) {
        double sum = 0;
        for (size_t i = 0; i < (size_t)256 * 256 * 3; i++)
            sum += abs((int)big.rgb[i] - (int)in.rgb[i]);
        CHECK(sum / (256.0 * 256 * 3) < 12, "round trip 256->96->256 mean error %.2f",
              sum / (256.0 * 256 * 3));
    }
    ug_image_free(&in);
    ug_image_free(&small);
    ug_image_free(&big);
}

static void test_tensors(void)
{
    ug_image img = {0}, back = {0};
    ug_error err = {""};
    CHECK(ug_image_load(&img, PNG_SAMPLE, &err) == 0, "load: %s", err.msg);
    if (!img.rgb)
        return;
    size_t plane = (size_t)img.w * img.h;
    float *t = malloc(plane * 3 * sizeof *t);
    ug_image_to_tensor(t, &img);
    /* Planar layout and scaling: pixel 5, green channel. */
    CHECK(fabsf(t[plane + 5] - (img.rgb[5 * 3 + 1] / 127.5f - 1.0f)) < 1e-6f, "tensor value");
    CHECK(ug_tensor_to_image(&back, t, img.w, img.h) == 0, "tensor_to_image");
    CHECK(back.rgb && memcmp(back.rgb, img.rgb, plane * 3) == 0,
          "image -> tensor -> image is not the identity");
    ug_image_free(&back);

    float v[3] = {-1.0f, 1.0f, 0.0f};
    float edge[3] = {-5.0f, 5.0f, NAN};
    CHECK(ug_tensor_to_image(&back, v, 1, 1) == 0, "1x1");
    if (back.rgb)
        CHECK(back.rgb[0] == 0 && back.rgb[1] == 255 && back.rgb[2] == 128,
              "-1, 1, 0 -> %d %d %d (0 -> 127.5 rounds half to even: 128)", back.rgb[0],
              back.rgb[1], back.rgb[2]);
    ug_image_free(&back);
    CHECK(ug_tensor_to_image(&back, edge, 1, 1) == 0, "1x1");
    if (back.rgb)
        CHECK(back.rgb[0] == 0 && back.rgb[1] == 255 && back.rgb[2] == 0, "clamping and NaN");
    ug_image_free(&back);
    free(t);
    ug_image_free(&img);
}

static void test_cam(void)
{
    unsigned char c[3];
    ug_jet_rgb(0, c);
    CHECK(c[0] == 0 && c[1] == 0 && c[2] == 128, "JET(0) = %d %d %d, want dark blue", c[0], c[1],
          c[2]);
    ug_jet_rgb(255, c);
    CHECK(c[0] == 128 && c[1] == 0 && c[2] == 0, "JET(255) = %d %d %d, want dark red", c[0], c[1],
          c[2]);
    ug_jet_rgb(128, c);
    CHECK(c[1] == 255 && c[0] > 100 && c[0] < 160 && c[2] > 100 && c[2] < 160,
          "JET(128) = %d %d %d, want green-ish", c[0], c[1], c[2]);
    /* Monotone pieces: blue rises to full by 32, red is 0 up to 96. */
    ug_jet_rgb(32, c);
    CHECK(c[2] == 255 && c[0] == 0, "JET(32) = %d %d %d", c[0], c[1], c[2]);
    ug_jet_rgb(96, c);
    CHECK(c[0] <= 2 && c[1] == 255 && c[2] >= 253, "JET(96) = %d %d %d", c[0], c[1], c[2]);

    /* cv2.resize INTER_LINEAR on [0, 255] to 4 wide gives 0 64 191 255. */
    const unsigned char src[4] = {0, 255, 0, 255};
    unsigned char dst[16];
    ug_error err = {""};
    CHECK(ug_resize_linear_cv_u8(dst, 4, 4, src, 2, 2, &err) == 0, "cv resize: %s", err.msg);
    CHECK(dst[0] == 0 && dst[1] == 64 && dst[2] == 191 && dst[3] == 255 && dst[12] == 0 &&
              dst[15] == 255,
          "cv resize row %d %d %d %d", dst[0], dst[1], dst[2], dst[3]);
    const unsigned char quad[16] = {0, 4, 8, 8, 0, 0, 8, 8, 1, 1, 2, 2, 1, 1, 2, 3};
    unsigned char half[4];
    CHECK(ug_resize_linear_cv_u8(half, 2, 2, quad, 4, 4, &err) == 0, "cv halve");
    CHECK(half[0] == 1 && half[1] == 8 && half[2] == 1 && half[3] == 2, "cv halve %d %d %d %d",
          half[0], half[1], half[2], half[3]);

    /* A 4x4 heat map rising to the right: left blue, right red. */
    float heat[16];
    for (int i = 0; i < 16; i++)
        heat[i] = (float)(i % 4) * 0.3f - 2.0f;
    ug_image cam = {0};
    CHECK(ug_cam_image(&cam, heat, 4, 4, 16, &err) == 0, "cam: %s", err.msg);
    CHECK(cam.w == 16 && cam.h == 16 && cam.rgb, "cam size %dx%d", cam.w, cam.h);
    if (cam.rgb) {
        const unsigned char *left = cam.rgb + 3 * (8 * 16 + 0);
        const unsigned char *right = cam.rgb + 3 * (8 * 16 + 15);
        CHECK(left[0] == 0 && left[1] == 0 && left[2] == 128, "cam left %d %d %d", left[0],
              left[1], left[2]);
        CHECK(right[0] == 128 && right[1] == 0 && right[2] == 0, "cam right %d %d %d", right[0],
              right[1], right[2]);
    }
    ug_image_free(&cam);

    /* A flat map is all JET(0), as the release's NaN -> 0 gives. */
    float flat[4] = {3, 3, 3, 3};
    CHECK(ug_cam_image(&cam, flat, 2, 2, 8, &err) == 0, "flat cam: %s", err.msg);
    int all = cam.rgb != NULL;
    for (int i = 0; cam.rgb && i < 64; i++)
        all &= cam.rgb[3 * i] == 0 && cam.rgb[3 * i + 1] == 0 && cam.rgb[3 * i + 2] == 128;
    CHECK(all, "flat heat map is not uniformly dark blue");
    ug_image_free(&cam);
    CHECK(ug_cam_image(&cam, flat, 2, 2, 0, &err) == -1, "size 0 accepted");
}

/* A 16x16 4-channel JPEG of four flat 8x8 blocks (quality 100), stored as
 * CMYK or YCCK (libjpeg converts the stored CMYK values to YCCK itself). */
static void write_cmyk_jpeg(const char *path, J_COLOR_SPACE stored,
                            const unsigned char colours[4][4])
{
    unsigned char px[16 * 16 * 4];
    for (int y = 0; y < 16; y++)
        for (int x = 0; x < 16; x++)
            memcpy(px + 4 * (16 * y + x), colours[2 * (y / 8) + x / 8], 4);
    struct jpeg_compress_struct ci;
    struct jpeg_error_mgr jerr;
    ci.err = jpeg_std_error(&jerr);
    jpeg_create_compress(&ci);
    unsigned char *mem = NULL;
    unsigned long size = 0;
    jpeg_mem_dest(&ci, &mem, &size);
    ci.image_width = ci.image_height = 16;
    ci.input_components = 4;
    ci.in_color_space = JCS_CMYK;
    jpeg_set_defaults(&ci);
    jpeg_set_colorspace(&ci, stored);
    for (int c = 0; c < 4; c++) /* no chroma subsampling: the blocks stay flat */
        ci.comp_info[c].h_samp_factor = ci.comp_info[c].v_samp_factor = 1;
    jpeg_set_quality(&ci, 100, TRUE);
    jpeg_start_compress(&ci, TRUE);
    while (ci.next_scanline < 16) {
        JSAMPROW row = px + 4 * 16 * ci.next_scanline;
        jpeg_write_scanlines(&ci, &row, 1);
    }
    jpeg_finish_compress(&ci);
    jpeg_destroy_compress(&ci);
    write_bytes(path, mem, size);
    free(mem);
}

/* CMYK and YCCK JPEGs load as PIL's convert('RGB') gives them: the stored
 * values taken as inverted (Adobe) CMYK, R = (255 - K)(255 - C) / 255. */
static void test_cmyk_jpeg(void)
{
    /* stored C, M, Y, K per block */
    static const unsigned char colours[4][4] = {
        {255, 255, 255, 255}, {200, 100, 30, 255}, {255, 128, 0, 128}, {60, 180, 240, 200}};
    const J_COLOR_SPACE spaces[2] = {JCS_CMYK, JCS_YCCK};
    for (int s = 0; s < 2; s++) {
        char path[512];
        tmp_path(path, sizeof path, s ? "ycck.jpg" : "cmyk.jpg");
        write_cmyk_jpeg(path, spaces[s], colours);
        ug_image img = {0};
        ug_error err;
        CHECK(ug_image_load(&img, path, &err) == 0, "%s", err.msg);
        int worst = 0;
        for (int y = 0; img.rgb && y < 16; y++) {
            for (int x = 0; x < 16; x++) {
                const unsigned char *k = colours[2 * (y / 8) + x / 8];
                for (int c = 0; c < 3; c++) {
                    int want = (int)lround(k[3] * k[c] / 255.0);
                    int d = abs(img.rgb[3 * (16 * y + x) + c] - want);
                    worst = d > worst ? d : worst;
                }
            }
        }
        CHECK(img.rgb && img.w == 16 && img.h == 16 && worst <= 3,
              "%s: %dx%d, pixels off by up to %d levels", path, img.w, img.h, worst);
        ug_image_free(&img);
        unlink(path);
    }
}

/* A 16x16 grey progressive JPEG of 1 + 63 * passes scans: the DC, then each
 * AC coefficient in its own scan, first its high bits (Al = passes - 1),
 * then one more bit per pass. Real encoders write about 10 scans. */
static unsigned char *progressive_jpeg(int passes, unsigned long *size)
{
    unsigned char px[16 * 16];
    for (int i = 0; i < 16 * 16; i++)
        px[i] = (unsigned char)(i * 7);
    static jpeg_scan_info scans[1 + 63 * 14]; /* Al is at most 13 */
    int n = 0;
    scans[n++] = (jpeg_scan_info){.comps_in_scan = 1, .Ss = 0, .Se = 0, .Ah = 0, .Al = 0};
    for (int pass = 0; pass < passes; pass++)
        for (int k = 1; k <= 63; k++)
            scans[n++] = (jpeg_scan_info){.comps_in_scan = 1, .Ss = k, .Se = k,
                                          .Ah = pass ? passes - pass : 0,
                                          .Al = passes - 1 - pass};
    struct jpeg_compress_struct ci;
    struct jpeg_error_mgr jerr;
    ci.err = jpeg_std_error(&jerr);
    jpeg_create_compress(&ci);
    unsigned char *mem = NULL;
    jpeg_mem_dest(&ci, &mem, size);
    ci.image_width = ci.image_height = 16;
    ci.input_components = 1;
    ci.in_color_space = JCS_GRAYSCALE;
    jpeg_set_defaults(&ci);
    ci.scan_info = scans;
    ci.num_scans = n;
    jpeg_start_compress(&ci, TRUE);
    while (ci.next_scanline < 16) {
        JSAMPROW row = px + 16 * ci.next_scanline;
        jpeg_write_scanlines(&ci, &row, 1);
    }
    jpeg_finish_compress(&ci);
    jpeg_destroy_compress(&ci);
    return mem;
}

/* Decoding from memory (what `ugatit serve` does with an upload) gives what
 * loading the file gives; the pixel limit is checked from the header, and a
 * progressive JPEG of too many scans is refused; PNGs encoded to memory
 * decode back to the same pixels. */
static void test_memory(void)
{
    const char *files[2] = {JPEG_SAMPLE, PNG_SAMPLE};
    for (int f = 0; f < 2; f++) {
        size_t n;
        unsigned char *data = read_bytes(files[f], &n);
        ug_image a = {0}, b = {0}, c = {1, 1, (unsigned char *)1}, d = {0};
        ug_error err = {""};
        CHECK(data && ug_image_load(&a, files[f], &err) == 0, "%s: %s", files[f], err.msg);
        CHECK(ug_image_decode(&b, data, n, 256 * 256, "upload", &err) == 0, "%s", err.msg);
        CHECK(a.rgb && b.rgb && a.w == b.w && a.h == b.h &&
                  memcmp(a.rgb, b.rgb, (size_t)a.w * a.h * 3) == 0,
              "%s: decoded from memory differs", files[f]);
        CHECK(ug_image_decode(&c, data, n, 256 * 256 - 1, "upload", &err) == -1 && !c.rgb &&
                  c.w == 0 && strstr(err.msg, "upload: ") == err.msg &&
                  strstr(err.msg, "of 256x256 pixels is larger than the limit of 65535 pixels"),
              "%s over the limit: %s", files[f], err.msg);
        unsigned char *png = NULL;
        size_t png_n = 0;
        CHECK(ug_image_encode_png(&a, &png, &png_n, "out", &err) == 0, "%s", err.msg);
        CHECK(png && ug_image_decode(&d, png, png_n, 0, "out", &err) == 0 && d.rgb &&
                  d.w == a.w && memcmp(d.rgb, a.rgb, (size_t)a.w * a.h * 3) == 0,
              "%s: PNG from memory does not decode to the same pixels", files[f]);
        free(png);
        free(data);
        ug_image_free(&a);
        ug_image_free(&b);
        ug_image_free(&d);
    }
    unsigned long size;
    unsigned char *ok = progressive_jpeg(2, &size); /* 127 scans */
    ug_image img = {0};
    ug_error err = {""};
    CHECK(ug_image_decode(&img, ok, size, 0, "p127.jpg", &err) == 0 && img.w == 16,
          "127 scans: %s", err.msg);
    ug_image_free(&img);
    free(ok);
    unsigned char *many = progressive_jpeg(8, &size); /* 505 scans */
    CHECK(ug_image_decode(&img, many, size, 0, "p505.jpg", &err) == -1 && !img.rgb &&
              strcmp(err.msg, "p505.jpg: JPEG refused: more than 500 scans") == 0,
          "505 scans: %s", err.msg);
    ug_image_free(&img);
    free(many);
}

int main(void)
{
    if (!check_samples("test_image"))
        return 1;
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 2;
    }
    test_load_and_save();
    test_png_conversions();
    test_refusals();
    test_cmyk_jpeg();
    test_memory();
    test_resize();
    test_tensors();
    test_cam();
    rmdir(tmpdir);
    return check_summary();
}
