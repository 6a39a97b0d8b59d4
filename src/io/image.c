/* PNG/JPEG loading and PNG saving with libpng and libjpeg-turbo, plus the
 * tensor conversions (see image.h). Library errors come back through
 * setjmp/longjmp; the setjmp calls sit in small "inner" functions whose
 * callers own all state, so nothing modified after setjmp is read back from
 * a local of the function that called setjmp. */
#include "io/image.h"

#include <math.h>
#include <png.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* jpeglib.h needs size_t and FILE first. */
#include <jerror.h>
#include <jpeglib.h>

#include "io/atomic.h"
#include "io/file.h"

#define MAX_FILE_BYTES (512u << 20)
#define MAX_PIXELS (1u << 27) /* 134M pixels, 400 MB of RGB: beyond any use here */

void ug_image_free(ug_image *img)
{
    if (!img)
        return;
    free(img->rgb);
    img->rgb = NULL;
    img->w = img->h = 0;
}

/* Reads a whole file into a malloc'd buffer. */
static int slurp(const char *path, unsigned char **data, size_t *size, ug_error *err)
{
    FILE *fp = ug_fopen_read(path, NULL, err);
    if (!fp)
        return -1;
    size_t cap = 1 << 16, n = 0;
    unsigned char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, fp);
        if (n < cap)
            break;
        if (cap >= MAX_FILE_BYTES) {
            free(buf);
            fclose(fp);
            return ug_fail(err, "%s: larger than %u MB, not an image this program reads", path,
                           MAX_FILE_BYTES >> 20);
        }
        unsigned char *bigger = realloc(buf, cap * 2);
        if (!bigger)
            free(buf);
        buf = bigger;
        cap *= 2;
    }
    int bad = !buf || ferror(fp);
    fclose(fp);
    if (bad) {
        free(buf);
        return ug_fail(err, "%s: %s", path, buf ? "read error" : "out of memory");
    }
    *data = buf;
    *size = n;
    return 0;
}

/* Checked from the header, before any pixel memory is allocated, so that a
 * small file declaring a huge picture (a decompression bomb) costs nothing. */
static int check_dims(unsigned long w, unsigned long h, size_t max_pixels, const char *path,
                      const char *kind, ug_error *err)
{
    if (w == 0 || h == 0)
        return ug_fail(err, "%s: %s of %lux%lu pixels is empty", path, kind, w, h);
    if (w > max_pixels || h > max_pixels || w * h > max_pixels)
        return ug_fail(err, "%s: %s of %lux%lu pixels is larger than the limit of %zu pixels",
                       path, kind, w, h, max_pixels);
    return 0;
}

/* ---- PNG reading ------------------------------------------------------ */

typedef struct png_job {
    const unsigned char *data;
    size_t size, pos;
    char msg[256];
    size_t max_pixels;
    int w, h;
    unsigned char *rgb;
    png_bytep *rows;
} png_job;

static void png_on_error(png_structp png, png_const_charp msg)
{
    png_job *job = png_get_error_ptr(png);
    snprintf(job->msg, sizeof job->msg, "%s", msg);
    png_longjmp(png, 1);
}

static void png_on_warning(png_structp png, png_const_charp msg)
{
    (void)png; /* PIL ignores these too (e.g. "known incorrect sRGB profile") */
    (void)msg;
}

static void png_read_mem(png_structp png, png_bytep out, size_t n)
{
    png_job *job = png_get_io_ptr(png);
    if (n > job->size - job->pos)
        png_error(png, "file is truncated");
    memcpy(out, job->data + job->pos, n);
    job->pos += n;
}

/* Asks libpng for 8-bit RGB whatever the stored format. */
static void png_request_rgb8(png_structp png, int depth, int ctype)
{
    if (depth == 16)
        png_set_strip_16(png); /* keeps the high byte, as PIL does for RGB;16 */
    if (ctype == PNG_COLOR_TYPE_PALETTE)
        png_set_palette_to_rgb(png);
    if (ctype == PNG_COLOR_TYPE_GRAY && depth < 8)
        png_set_expand_gray_1_2_4_to_8(png);
    if (ctype & PNG_COLOR_MASK_ALPHA)
        png_set_strip_alpha(png);
    if (ctype == PNG_COLOR_TYPE_GRAY || ctype == PNG_COLOR_TYPE_GRAY_ALPHA)
        png_set_gray_to_rgb(png);
    png_set_interlace_handling(png);
}

static int png_decode_inner(png_job *job, png_structp png, png_infop info, const char *path,
                            ug_error *err)
{
    if (setjmp(png_jmpbuf(png)))
        return ug_fail(err, "%s: corrupt or truncated PNG (%s)", path, job->msg);
    png_set_read_fn(png, job, png_read_mem);
    png_read_info(png, info);
    png_uint_32 w, h;
    int depth, ctype, interlace;
    png_get_IHDR(png, info, &w, &h, &depth, &ctype, &interlace, NULL, NULL);
    if (check_dims(w, h, job->max_pixels, path, "PNG", err) != 0)
        return -1;
    png_request_rgb8(png, depth, ctype);
    png_read_update_info(png, info);
    if (png_get_rowbytes(png, info) != (size_t)w * 3)
        return ug_fail(err, "%s: PNG format (depth %d, colour type %d) not convertible to RGB",
                       path, depth, ctype);
    job->w = (int)w;
    job->h = (int)h;
    job->rgb = malloc((size_t)w * h * 3);
    job->rows = malloc((size_t)h * sizeof *job->rows);
    if (!job->rgb || !job->rows)
        return ug_fail(err, "%s: out of memory for a %ux%u image", path, (unsigned)w, (unsigned)h);
    for (png_uint_32 y = 0; y < h; y++)
        job->rows[y] = job->rgb + (size_t)y * w * 3;
    png_read_image(png, job->rows);
    /* No png_read_end: like PIL, what follows the pixels does not matter. */
    return 0;
}

static int load_png(ug_image *img, const unsigned char *data, size_t size, size_t max_pixels,
                    const char *path, ug_error *err)
{
    png_job job = {.data = data, .size = size, .max_pixels = max_pixels};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &job, png_on_error,
                                             png_on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    int rc = info ? png_decode_inner(&job, png, info, path, err)
                  : ug_fail(err, "%s: out of memory", path);
    png_destroy_read_struct(png ? &png : NULL, info ? &info : NULL, NULL);
    free(job.rows);
    if (rc != 0) {
        free(job.rgb);
        return -1;
    }
    img->w = job.w;
    img->h = job.h;
    img->rgb = job.rgb;
    return 0;
}

/* ---- JPEG reading ----------------------------------------------------- */

typedef struct jpeg_job {
    struct jpeg_error_mgr mgr; /* first, so the error manager pointer is the job */
    jmp_buf jump;
    char msg[JMSG_LENGTH_MAX];
    int refused; /* msg says why we stopped, not what libjpeg found */
    struct jpeg_progress_mgr progress;
    struct jpeg_decompress_struct cinfo;
    unsigned char *rgb;
    unsigned char *cmyk_row; /* one row as decoded, for CMYK and YCCK files */
} jpeg_job;

static void jpeg_on_error(j_common_ptr c)
{
    jpeg_job *job = (jpeg_job *)c->err;
    c->err->format_message(c, job->msg);
    longjmp(job->jump, 1);
}

/* Warnings are ignored, except running out of data: libjpeg would pad the
 * picture with grey, where PIL reports a truncated file. */
static void jpeg_on_message(j_common_ptr c, int level)
{
    if (level < 0 && c->err->msg_code == JWRN_JPEG_EOF)
        jpeg_on_error(c);
}

/* A progressive JPEG may hold thousands of tiny scans, each a full pass over
 * the coefficients: minutes of work from a small file. Real encoders write
 * about 10; libjpeg-turbo's own tools suggest a cap like this one. */
#define MAX_JPEG_SCANS 500

static void jpeg_on_progress(j_common_ptr c)
{
    j_decompress_ptr d = (j_decompress_ptr)c;
    if (d->input_scan_number > MAX_JPEG_SCANS) {
        jpeg_job *job = (jpeg_job *)c->err;
        snprintf(job->msg, sizeof job->msg, "more than %d scans", MAX_JPEG_SCANS);
        job->refused = 1;
        longjmp(job->jump, 1);
    }
}

/* a * b / 255 rounded, as Pillow's MULDIV255 (a, b in 0..255). */
static int muldiv255(int a, int b)
{
    int t = a * b + 128;
    return ((t >> 8) + t) >> 8;
}

/* PIL's convert('RGB') of a CMYK JPEG row as libjpeg decodes it: PIL takes
 * every 4-channel JPEG to hold Adobe's inverted CMYK (ink = 255 - stored),
 * then R = (255 - K) - C * (255 - K) / 255, likewise G from M, B from Y. */
static void cmyk_to_rgb(unsigned char *rgb, const unsigned char *stored, size_t w)
{
    for (size_t i = 0; i < w; i++) {
        int nk = stored[4 * i + 3]; /* 255 - K */
        for (int c = 0; c < 3; c++)
            rgb[3 * i + c] = (unsigned char)(nk - muldiv255(255 - stored[4 * i + c], nk));
    }
}

static int jpeg_decode_inner(jpeg_job *job, const unsigned char *data, size_t size,
                             size_t max_pixels, const char *path, ug_error *err)
{
    struct jpeg_decompress_struct *ci = &job->cinfo;
    if (setjmp(job->jump))
        return job->refused ? ug_fail(err, "%s: JPEG refused: %s", path, job->msg)
                            : ug_fail(err, "%s: corrupt or truncated JPEG (%s)", path, job->msg);
    jpeg_mem_src(ci, data, (unsigned long)size);
    jpeg_read_header(ci, TRUE);
    if (check_dims(ci->image_width, ci->image_height, max_pixels, path, "JPEG", err) != 0)
        return -1;
    /* libjpeg converts grey and YCbCr to RGB, and YCCK to CMYK. */
    int cmyk = ci->jpeg_color_space == JCS_CMYK || ci->jpeg_color_space == JCS_YCCK;
    ci->out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
    jpeg_start_decompress(ci);
    if (ci->output_components != (cmyk ? 4 : 3))
        return ug_fail(err, "%s: JPEG did not decode to %d channels", path, cmyk ? 4 : 3);
    size_t stride = (size_t)ci->output_width * 3;
    job->rgb = malloc(stride * ci->output_height);
    job->cmyk_row = cmyk ? malloc((size_t)ci->output_width * 4) : NULL;
    if (!job->rgb || (cmyk && !job->cmyk_row))
        return ug_fail(err, "%s: out of memory", path);
    while (ci->output_scanline < ci->output_height) {
        unsigned char *out = job->rgb + stride * ci->output_scanline;
        JSAMPROW row = cmyk ? job->cmyk_row : out;
        jpeg_read_scanlines(ci, &row, 1);
        if (cmyk)
            cmyk_to_rgb(out, job->cmyk_row, ci->output_width);
    }
    return 0;
}

static int load_jpeg(ug_image *img, const unsigned char *data, size_t size, size_t max_pixels,
                     const char *path, ug_error *err)
{
    jpeg_job *job = calloc(1, sizeof *job);
    if (!job)
        return ug_fail(err, "%s: out of memory", path);
    job->cinfo.err = jpeg_std_error(&job->mgr);
    job->mgr.error_exit = jpeg_on_error;
    job->mgr.emit_message = jpeg_on_message;
    int rc;
    if (setjmp(job->jump)) { /* jpeg_create_decompress itself can fail */
        rc = ug_fail(err, "%s: JPEG decoder: %s", path, job->msg);
    } else {
        jpeg_create_decompress(&job->cinfo);
        job->progress.progress_monitor = jpeg_on_progress;
        job->cinfo.progress = &job->progress;
        rc = jpeg_decode_inner(job, data, size, max_pixels, path, err);
    }
    if (rc == 0) {
        img->w = (int)job->cinfo.output_width;
        img->h = (int)job->cinfo.output_height;
        img->rgb = job->rgb;
    } else {
        free(job->rgb);
    }
    jpeg_destroy_decompress(&job->cinfo);
    free(job->cmyk_row);
    free(job);
    return rc;
}

/* ---- loading ---------------------------------------------------------- */

int ug_image_decode(ug_image *img, const unsigned char *data, size_t size, size_t max_pixels,
                    const char *name, ug_error *err)
{
    static const unsigned char png_magic[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    static const unsigned char jpeg_magic[3] = {0xff, 0xd8, 0xff};
    img->w = img->h = 0;
    img->rgb = NULL;
    if (max_pixels == 0 || max_pixels > MAX_PIXELS)
        max_pixels = MAX_PIXELS;
    if (size >= 8 && memcmp(data, png_magic, 8) == 0)
        return load_png(img, data, size, max_pixels, name, err);
    if (size >= 3 && memcmp(data, jpeg_magic, 3) == 0)
        return load_jpeg(img, data, size, max_pixels, name, err);
    return ug_fail(err, "%s: %s", name, size ? "not a PNG or JPEG image" : "empty file");
}

int ug_image_load(ug_image *img, const char *path, ug_error *err)
{
    img->w = img->h = 0;
    img->rgb = NULL;
    unsigned char *data = NULL;
    size_t size = 0;
    if (slurp(path, &data, &size, err) != 0)
        return -1;
    int rc = ug_image_decode(img, data, size, MAX_PIXELS, path, err);
    free(data);
    return rc;
}

/* ---- PNG writing ------------------------------------------------------ */

typedef struct png_out {
    char msg[256];
    png_bytep *rows;
} png_out;

static void png_out_error(png_structp png, png_const_charp msg)
{
    png_out *o = png_get_error_ptr(png);
    snprintf(o->msg, sizeof o->msg, "%s", msg);
    png_longjmp(png, 1);
}

static void png_write_atomic(png_structp png, png_bytep data, size_t n)
{
    ug_atomic_write(png_get_io_ptr(png), data, n); /* a failure is reported by the commit */
}

/* A growing buffer; on a failed allocation it is freed and stays NULL. */
typedef struct png_mem {
    unsigned char *data;
    size_t n, cap;
    int failed;
} png_mem;

static void png_write_mem(png_structp png, png_bytep data, size_t n)
{
    png_mem *m = png_get_io_ptr(png);
    if (m->failed)
        return;
    if (n > m->cap - m->n) {
        size_t cap = m->cap ? m->cap : 1 << 16;
        while (cap - m->n < n)
            cap *= 2;
        unsigned char *bigger = realloc(m->data, cap);
        if (!bigger) {
            m->failed = 1; /* reported once the encoder returns */
            return;
        }
        m->data = bigger;
        m->cap = cap;
    }
    memcpy(m->data + m->n, data, n);
    m->n += n;
}

static void png_flush_nothing(png_structp png)
{
    (void)png; /* both sinks write through */
}

static int png_write_inner(png_out *o, png_structp png, png_infop info, png_rw_ptr sink,
                           void *io, const ug_image *img, const char *path, ug_error *err)
{
    if (setjmp(png_jmpbuf(png)))
        return ug_fail(err, "%s: PNG encoder: %s", path, o->msg);
    png_set_write_fn(png, io, sink, png_flush_nothing);
    png_set_IHDR(png, info, (png_uint_32)img->w, (png_uint_32)img->h, 8, PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    png_write_image(png, o->rows);
    png_write_end(png, NULL);
    return 0;
}

/* Encodes img as an 8-bit RGB PNG through sink(io). */
static int png_encode(const ug_image *img, png_rw_ptr sink, void *io, const char *path,
                      ug_error *err)
{
    if (!img->rgb || img->w <= 0 || img->h <= 0 ||
        (unsigned long)img->w * (unsigned long)img->h > MAX_PIXELS)
        return ug_fail(err, "%s: cannot save an empty or oversized %dx%d image", path, img->w,
                       img->h);
    png_out o = {.msg = ""};
    o.rows = malloc((size_t)img->h * sizeof *o.rows);
    if (!o.rows)
        return ug_fail(err, "%s: out of memory", path);
    for (int y = 0; y < img->h; y++)
        o.rows[y] = img->rgb + (size_t)y * img->w * 3;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &o, png_out_error,
                                              png_on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    int rc = info ? png_write_inner(&o, png, info, sink, io, img, path, err)
                  : ug_fail(err, "%s: out of memory", path);
    png_destroy_write_struct(png ? &png : NULL, info ? &info : NULL);
    free(o.rows);
    return rc;
}

int ug_image_save_png(const char *path, const ug_image *img, ug_error *err)
{
    ug_atomic a;
    if (ug_atomic_open(&a, path, err) != 0)
        return -1;
    if (png_encode(img, png_write_atomic, &a, path, err) != 0) {
        ug_atomic_abort(&a);
        return -1;
    }
    return ug_atomic_commit(&a, err);
}

int ug_image_encode_png(const ug_image *img, unsigned char **png, size_t *size, const char *name,
                        ug_error *err)
{
    png_mem m = {0};
    int rc = png_encode(img, png_write_mem, &m, name, err);
    if (rc == 0 && m.failed)
        rc = ug_fail(err, "%s: out of memory for the PNG", name);
    if (rc != 0) {
        free(m.data);
        return -1;
    }
    *png = m.data;
    *size = m.n;
    return 0;
}

/* ---- tensors ---------------------------------------------------------- */

void ug_image_to_tensor(float *chw, const ug_image *img)
{
    size_t plane = (size_t)img->w * img->h;
    for (size_t i = 0; i < plane; i++) {
        for (int c = 0; c < 3; c++) {
            /* Separate float32 steps, as torch does them: x / 255, - 0.5, / 0.5. */
            float v = (float)img->rgb[3 * i + c] / 255.0f;
            v = v - 0.5f;
            chw[c * plane + i] = v / 0.5f;
        }
    }
}

/* cv2's saturate_cast<uchar>(float): round half to even, clamp, NaN -> 0. */
static unsigned char saturate_u8(float v)
{
    if (!(v > 0.0f))
        return 0;
    if (v >= 255.0f)
        return 255;
    return (unsigned char)rintf(v);
}

int ug_tensor_to_image(ug_image *img, const float *chw, int w, int h)
{
    size_t plane = (size_t)w * h;
    img->w = w;
    img->h = h;
    img->rgb = malloc(plane > 0 ? plane * 3 : 1);
    if (!img->rgb) {
        img->w = img->h = 0;
        return -1;
    }
    for (size_t i = 0; i < plane; i++) {
        for (int c = 0; c < 3; c++) {
            float v = chw[c * plane + i] * 0.5f; /* denorm: x * 0.5 + 0.5 */
            v = v + 0.5f;
            v = v * 255.0f;
            img->rgb[3 * i + c] = saturate_u8(v);
        }
    }
    return 0;
}
