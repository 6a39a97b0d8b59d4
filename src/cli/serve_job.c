/* The JSON answers of `ugatit serve`: the model's description, and an upload
 * translated in every direction the model has, PNGs as data: URLs (cJSON). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/serve.h"
#include "core/error.h"

static const char *dir_name(ug_direction d) { return d == UG_B2A ? "B2A" : "A2B"; }

/* cJSON's output as the reply; -1 when it could not be made. */
static int reply_json(serve_reply *r, unsigned status, cJSON *doc)
{
    r->status = status;
    r->json = doc ? cJSON_PrintUnformatted(doc) : NULL;
    cJSON_Delete(doc);
    return r->json ? 0 : -1;
}

int serve_error(serve_reply *r, unsigned status, const char *msg)
{
    cJSON *doc = cJSON_CreateObject();
    if (doc && !cJSON_AddStringToObject(doc, "error", msg)) {
        cJSON_Delete(doc);
        doc = NULL;
    }
    return reply_json(r, status, doc);
}

int serve_info(serve_ctx *s, serve_reply *r)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON *dirs = doc ? cJSON_AddArrayToObject(doc, "directions") : NULL;
    int ok = dirs && cJSON_AddStringToObject(doc, "model", s->model_name) &&
             cJSON_AddNumberToObject(doc, "img_size", s->t.S) &&
             cJSON_AddBoolToObject(doc, "cam", s->cam) &&
             cJSON_AddNumberToObject(doc, "max_upload_bytes", (double)s->max_upload) &&
             cJSON_AddNumberToObject(doc, "max_pixels", (double)s->max_pixels);
    for (int i = 0; ok && i < s->n_dirs; i++)
        ok = cJSON_AddItemToArray(dirs, cJSON_CreateString(dir_name(s->dirs[i])));
    if (!ok) {
        cJSON_Delete(doc);
        doc = NULL;
    }
    return reply_json(r, 200, doc);
}

/* "data:image/png;base64,..." of n bytes, malloc'd (NULL: out of memory). */
static char *png_data_url(const unsigned char *png, size_t n)
{
    static const char prefix[] = "data:image/png;base64,";
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *url = malloc(sizeof prefix + (n + 2) / 3 * 4);
    if (!url)
        return NULL;
    char *o = url + sizeof prefix - 1;
    memcpy(url, prefix, sizeof prefix - 1);
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)png[i] << 16 | (i + 1 < n ? (unsigned)png[i + 1] << 8 : 0) |
                     (i + 2 < n ? png[i + 2] : 0);
        *o++ = abc[v >> 18];
        *o++ = abc[(v >> 12) & 63];
        *o++ = i + 1 < n ? abc[(v >> 6) & 63] : '=';
        *o++ = i + 2 < n ? abc[v & 63] : '=';
    }
    *o = 0;
    return url;
}

/* obj[key] = img as a PNG data: URL. */
static int add_png(cJSON *obj, const char *key, const ug_image *img, ug_error *err)
{
    unsigned char *png;
    size_t n;
    if (ug_image_encode_png(img, &png, &n, key, err) < 0)
        return -1;
    char *url = png_data_url(png, n);
    free(png);
    int ok = url && cJSON_AddStringToObject(obj, key, url);
    free(url);
    return ok ? 0 : ug_fail(err, "%s: out of memory", key);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Decode, translate and turn back into pictures, holding the model's lock:
 * one upload's pixels in memory at a time, however many requests wait.
 * Returns 400 for a bad upload, 500 for a failure of ours, 0 on success. */
static unsigned run_locked(serve_ctx *s, const unsigned char *data, size_t size, const char *name,
                           ug_image *photo, ug_image *input, ug_image out[2], ug_image cam[2],
                           ug_error *err)
{
    pthread_mutex_lock(&s->lock);
    unsigned status = 0;
    if (ug_image_decode(photo, data, size, s->max_pixels, name, err) < 0)
        status = 400;
    for (int i = 0; !status && i < s->n_dirs; i++)
        if (translator_run(&s->t, s->dirs[i], photo, name, NULL, &out[i], s->cam ? &cam[i] : NULL,
                           err) < 0)
            status = 500;
    if (!status && translator_input(&s->t, input, err) < 0)
        status = 500;
    pthread_mutex_unlock(&s->lock);
    return status;
}

int serve_translate(serve_ctx *s, const unsigned char *data, size_t size, const char *name,
                    serve_reply *r)
{
    ug_image photo = {0}, input = {0}, out[2] = {{0}}, cam[2] = {{0}};
    ug_error err = {{0}};
    double t0 = now_ms();
    unsigned status = run_locked(s, data, size, name, &photo, &input, out, cam, &err);
    double ms = now_ms() - t0;
    cJSON *doc = status ? NULL : cJSON_CreateObject();
    cJSON *results = doc ? cJSON_AddArrayToObject(doc, "results") : NULL;
    if (!status && !(results && cJSON_AddStringToObject(doc, "name", name) &&
                     cJSON_AddNumberToObject(doc, "width", photo.w) &&
                     cJSON_AddNumberToObject(doc, "height", photo.h) &&
                     cJSON_AddNumberToObject(doc, "img_size", s->t.S) &&
                     cJSON_AddNumberToObject(doc, "ms", (int)(ms + 0.5))))
        status = 500, ug_fail(&err, "out of memory");
    if (!status && add_png(doc, "input", &input, &err) < 0)
        status = 500;
    for (int i = 0; !status && i < s->n_dirs; i++) {
        cJSON *one = cJSON_CreateObject();
        if (!one || !cJSON_AddItemToArray(results, one) ||
            !cJSON_AddStringToObject(one, "direction", dir_name(s->dirs[i]))) {
            cJSON_Delete(one);
            status = 500, ug_fail(&err, "out of memory");
        } else if (add_png(one, "image", &out[i], &err) < 0 ||
                   (s->cam && add_png(one, "heatmap", &cam[i], &err) < 0)) {
            status = 500;
        }
    }
    int w = photo.w, h = photo.h;
    ug_image_free(&photo);
    ug_image_free(&input);
    for (int i = 0; i < 2; i++) {
        ug_image_free(&out[i]);
        ug_image_free(&cam[i]);
    }
    if (status) {
        cJSON_Delete(doc);
        printf("translate %s: %u %s\n", name, status, err.msg);
        return serve_error(r, status, err.msg);
    }
    printf("translate %s: 200 (%dx%d, %.0f ms)\n", name, w, h, ms);
    return reply_json(r, 200, doc);
}
