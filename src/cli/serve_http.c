/* The HTTP side of `ugatit serve` (libmicrohttpd, a thread per connection):
 * GET / (the page), GET /api/info, POST /api/translate with the image as
 * the raw body or as the file field of a multipart form. A body over the
 * limit is read and dropped, never kept, and answered 413. */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/serve.h"

#define MAX_CONNECTIONS 32  /* a thread each; more are refused until one ends */
#define CONNECTION_TIMEOUT 60 /* seconds of silence before a connection is dropped */

typedef struct request {
    int upload;                   /* POST /api/translate */
    struct MHD_PostProcessor *pp; /* multipart bodies */
    char field[64];               /* the multipart field holding the image */
    unsigned char *body;          /* the image so far */
    size_t n, cap;
    size_t seen;                  /* bytes of body received, kept or not */
    int oom;
    char name[96];                /* the file's name, for messages */
} request;

/* Keeps a printable file name: control bytes become '?', long ones are cut. */
static void set_name(request *rq, const char *name)
{
    snprintf(rq->name, sizeof rq->name, "%s", name && *name ? name : "upload");
    for (char *p = rq->name; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
}

static void append(request *rq, size_t max, const char *data, size_t n)
{
    if (rq->oom || n == 0)
        return;
    if (n > rq->cap - rq->n) {
        size_t cap = rq->cap ? rq->cap : 1 << 16;
        while (cap - rq->n < n)
            cap *= 2;
        cap = cap < max ? cap : max; /* seen <= max, so this still fits */
        unsigned char *bigger = realloc(rq->body, cap);
        if (!bigger) {
            rq->oom = 1;
            return;
        }
        rq->body = bigger;
        rq->cap = cap;
    }
    memcpy(rq->body + rq->n, data, n);
    rq->n += n;
}

static enum MHD_Result on_field(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *filename, const char *content_type,
                                const char *transfer_encoding, const char *data, uint64_t off,
                                size_t size)
{
    request *rq = cls;
    (void)kind, (void)content_type, (void)transfer_encoding;
    if (!rq->field[0]) {
        /* The field named "image", or else the first that carries a file. */
        if (!key || (!filename && strcmp(key, "image") != 0))
            return MHD_YES;
        snprintf(rq->field, sizeof rq->field, "%s", key);
        set_name(rq, filename);
    }
    /* Only the chosen field, and only its first occurrence. */
    if (key && strcmp(key, rq->field) == 0 && off == rq->n)
        append(rq, (size_t)-1, data, size);
    return MHD_YES;
}

static void take(request *rq, size_t max, const char *data, size_t n)
{
    rq->seen += n;
    if (rq->seen > max) { /* too large: drop what was kept, and what follows */
        free(rq->body);
        rq->body = NULL;
        rq->n = rq->cap = 0;
        return;
    }
    if (rq->pp)
        MHD_post_process(rq->pp, data, n);
    else
        append(rq, max, data, n);
}

static enum MHD_Result send_body(struct MHD_Connection *c, unsigned status, const char *type,
                                 char *body, size_t n, int owned)
{
    struct MHD_Response *r =
        owned ? MHD_create_response_from_buffer_with_free_callback(n, body, free)
              : MHD_create_response_from_buffer(n, body, MHD_RESPMEM_PERSISTENT);
    if (!r) {
        if (owned)
            free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD, POST");
    enum MHD_Result ok = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result send_reply(struct MHD_Connection *c, int rc, serve_reply *r)
{
    if (rc < 0) {
        static char oom[] = "{\"error\":\"the server is out of memory\"}";
        return send_body(c, 500, "application/json", oom, sizeof oom - 1, 0);
    }
    return send_body(c, r->status, "application/json", r->json, strlen(r->json), 1);
}

static enum MHD_Result send_error(struct MHD_Connection *c, unsigned status, const char *msg)
{
    serve_reply r;
    return send_reply(c, serve_error(&r, status, msg), &r);
}

/* The whole request is in: answer it. */
static enum MHD_Result answer(serve_ctx *s, struct MHD_Connection *c, const char *url,
                              const char *method, request *rq)
{
    int get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    serve_reply r;
    char msg[256];
    if (rq->upload) {
        if (rq->seen > s->max_upload) {
            snprintf(msg, sizeof msg, "%s: %zu bytes, more than the server takes (%zu MB)",
                     rq->name, rq->seen, s->max_upload >> 20);
            printf("translate %s: 413 %s\n", rq->name, msg);
            return send_error(c, 413, msg);
        }
        if (rq->oom)
            return send_error(c, 500, "the server is out of memory");
        if (rq->pp && !rq->field[0])
            return send_error(c, 400, "the form has no file (send the image as the field 'image')");
        return send_reply(c, serve_translate(s, rq->body, rq->n, rq->name, &r), &r);
    }
    if (strcmp(url, "/") == 0 || strcmp(url, "/index.html") == 0) {
        if (get)
            return send_body(c, 200, "text/html; charset=utf-8", (char *)serve_page_html,
                             strlen(serve_page_html), 0);
    } else if (strcmp(url, "/api/info") == 0) {
        if (get)
            return send_reply(c, serve_info(s, &r), &r);
    } else if (strcmp(url, "/api/translate") != 0) {
        snprintf(msg, sizeof msg, "%.200s: no such page (try / or /api/info)", url);
        return send_error(c, 404, msg);
    }
    snprintf(msg, sizeof msg, "%.200s does not take %.20s", url, method);
    return send_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, msg);
}

/* Whether a Host header names this machine's loopback ("127.0.0.1:8080",
 * "localhost", "[::1]:8080"). A server on loopback answers no other: a web
 * page whose name was pointed at 127.0.0.1 (DNS rebinding) cannot use it. */
static int host_is_local(const char *host)
{
    char name[64];
    if (host[0] == '[') {
        const char *end = strchr(host, ']');
        return end && end - host == 4 && strncmp(host, "[::1]", 5) == 0;
    }
    size_t n = strcspn(host, ":");
    if (n >= sizeof name)
        return 0;
    memcpy(name, host, n);
    name[n] = 0;
    struct in_addr a;
    return strcasecmp(name, "localhost") == 0 ||
           (inet_pton(AF_INET, name, &a) == 1 && (ntohl(a.s_addr) >> 24) == 127);
}

/* The first call of a request: set up its state from the headers. */
static int start(struct MHD_Connection *c, const char *url, const char *method, request *rq)
{
    if (strcmp(method, "POST") != 0 || strcmp(url, "/api/translate") != 0)
        return 0;
    rq->upload = 1;
    const char *name = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Filename");
    if (name) {
        char buf[sizeof rq->name * 3];
        snprintf(buf, sizeof buf, "%s", name);
        MHD_http_unescape(buf); /* the page sends it URI-encoded */
        set_name(rq, buf);
    } else {
        set_name(rq, NULL);
    }
    const char *type = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                   MHD_HTTP_HEADER_CONTENT_TYPE);
    if (type && strncasecmp(type, "multipart/form-data", 19) == 0) {
        rq->pp = MHD_create_post_processor(c, 32 * 1024, on_field, rq);
        if (!rq->pp)
            return -1;
    }
    return 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **req_cls)
{
    serve_ctx *s = cls;
    request *rq = *req_cls;
    (void)version;
    if (!rq) {
        rq = calloc(1, sizeof *rq);
        if (!rq)
            return MHD_NO;
        *req_cls = rq;
        const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
        if (s->loopback && host && !host_is_local(host)) {
            char msg[200];
            snprintf(msg, sizeof msg, "Host '%.64s' is not this server, which answers on "
                                      "loopback only (open 127.0.0.1 or localhost)", host);
            return send_error(c, 403, msg);
        }
        if (start(c, url, method, rq) < 0)
            return send_error(c, 400, "a multipart upload without a valid boundary");
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (rq->upload) /* any other request's body is ignored */
            take(rq, s->max_upload, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    return answer(s, c, url, method, rq);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    request *rq = *req_cls;
    (void)cls, (void)c, (void)toe;
    if (!rq)
        return;
    if (rq->pp)
        MHD_destroy_post_processor(rq->pp);
    free(rq->body);
    free(rq);
    *req_cls = NULL;
}

struct MHD_Daemon *serve_http_start(serve_ctx *s, int fd)
{
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG, 0,
        NULL, NULL, on_request, s, MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)MAX_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONNECTION_TIMEOUT,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_END);
    if (!d)
        fprintf(stderr, "ugatit serve: libmicrohttpd did not start (see above)\n");
    return d;
}
