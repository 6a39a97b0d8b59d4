/* ugatit serve: a local web page and a JSON endpoint that translate an
 * uploaded photo with a loaded model. serve.c runs the command,
 * serve_http.c answers requests (libmicrohttpd), serve_job.c turns an upload
 * into the JSON answer, serve_page.c holds the page. */
#ifndef UG_CLI_SERVE_H
#define UG_CLI_SERVE_H

#include <pthread.h>
#include <stddef.h>

#include "cli/translator.h"

typedef struct serve_ctx {
    pthread_mutex_t lock; /* the model is not thread-safe: one job at a time */
    translator t;         /* the model and its buffers, used under lock */
    char model_name[256]; /* the checkpoint's file name, for the page */
    int n_dirs;
    ug_direction dirs[2]; /* the generators the checkpoint holds */
    int cam;              /* 1: the generators have CAM attention (a heatmap) */
    size_t max_upload;    /* bytes of one request body */
    size_t max_pixels;    /* of one decoded upload */
    int loopback;         /* listening on loopback: only local Host headers are answered */
} serve_ctx;

/* An answer: HTTP status and a malloc'd JSON body. */
typedef struct serve_reply {
    unsigned status;
    char *json;
} serve_reply;

/* {"model": ..., "img_size": ..., "directions": [...], "cam": ..., limits}. */
int serve_info(serve_ctx *s, serve_reply *r);

/* Decodes the upload (size bytes; name for messages), translates it in
 * every direction the model has, and answers 200 with the photo as the model
 * saw it and each result (and heatmap) as a data: URL of a PNG; a bad upload
 * gets 400 (or 413) and {"error": "NAME: problem"}. -1 only when no answer
 * could be made (out of memory). */
int serve_translate(serve_ctx *s, const unsigned char *data, size_t size, const char *name,
                    serve_reply *r);

/* A reply {"error": msg} with the given status. */
int serve_error(serve_reply *r, unsigned status, const char *msg);

/* The page at /: HTML with its CSS and script inline. */
extern const char serve_page_html[];

/* Starts answering on the listening socket fd (which the daemon then owns:
 * MHD_stop_daemon closes it); returns NULL after printing why. */
struct MHD_Daemon *serve_http_start(serve_ctx *s, int fd);

#endif
