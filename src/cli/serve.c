/* ugatit serve: loads a model, listens (loopback by default) and answers
 * until SIGINT or SIGTERM; see serve.h for the parts. */
#define _DEFAULT_SOURCE /* getaddrinfo's flags and struct addrinfo */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/hint.h"
#include "cli/serve.h"

/* Binds and listens on host:port; the descriptor, or -1 after printing why.
 * *bound receives the address (with the port the kernel chose for port 0). */
static int listen_on(const char *host, const char *port, struct sockaddr_storage *bound)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV}, *ai;
    int e = getaddrinfo(host, port, &hints, &ai);
    if (e) {
        fprintf(stderr, "ugatit serve: --host %s: %s\n", host, gai_strerror(e));
        return -1;
    }
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol), one = 1;
    socklen_t len = sizeof *bound;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 64) < 0 ||
        getsockname(fd, (struct sockaddr *)bound, &len) < 0) {
        fprintf(stderr, "ugatit serve: cannot listen on %s port %s: %s\n", host, port,
                strerror(errno));
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    return fd;
}

/* "http://127.0.0.1:8080/" for a bound address; returns whether it is loopback. */
static int describe(const struct sockaddr_storage *a, char *url, size_t n)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    if (a->ss_family == AF_INET6) {
        const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)a;
        inet_ntop(AF_INET6, &v6->sin6_addr, ip, sizeof ip);
        snprintf(url, n, "http://[%s]:%u/", ip, ntohs(v6->sin6_port));
        return IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr);
    }
    const struct sockaddr_in *v4 = (const struct sockaddr_in *)a;
    inet_ntop(AF_INET, &v4->sin_addr, ip, sizeof ip);
    snprintf(url, n, "http://%s:%u/", ip, ntohs(v4->sin_port));
    return (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
}

/* Runs each generator once on a grey picture: a broken model fails here
 * rather than on the first upload, which is then as fast as the others
 * (oneDNN's primitives are made). A2B must work; B2A is offered when it does
 * (a checkpoint may hold genA2B only), and why not is kept in no_b2a. */
static int prepare(serve_ctx *s, ug_model *m, long threads, char *no_b2a, size_t n,
                   ug_error *err)
{
    if (translator_init(&s->t, m, threads, err) < 0)
        return -1;
    /* Attention where the family's samples show it (not CycleGAN's, nor U-GAT-IT without CAM). */
    const ug_sample_row *rows;
    int n_rows = ug_model_sample_rows(m, &rows);
    s->cam = 0;
    for (int i = 0; i < n_rows; i++)
        s->cam |= rows[i].kind == UG_ROW_HEATMAP;
    unsigned char grey[3 * 16 * 16];
    memset(grey, 128, sizeof grey);
    ug_image in = {.w = 16, .h = 16, .rgb = grey}, out, cam;
    const ug_direction dirs[2] = {UG_A2B, UG_B2A};
    for (int i = 0; i < 2; i++) {
        ug_error e;
        if (translator_run(&s->t, dirs[i], &in, "warm-up", NULL, &out, s->cam ? &cam : NULL,
                           &e) < 0) {
            if (i == 0) {
                *err = e;
                return -1;
            }
            snprintf(no_b2a, n, "%s", e.msg);
            continue;
        }
        s->dirs[s->n_dirs++] = dirs[i];
        ug_image_free(&out);
        if (s->cam)
            ug_image_free(&cam);
    }
    return 0;
}

int cmd_serve(int argc, char **argv)
{
    cli_opt o[] = {
        {"model", "CKPT", "checkpoint (.safetensors or the release's .pt)", NULL, 1},
        {"host", "ADDR", "address to listen on (0.0.0.0 or :: reach beyond this machine)",
         "127.0.0.1", 0},
        {"port", "N", "TCP port (0: any free one, printed)", "8080", 0},
        {"threads", "N", "threads of a translation (0: as many as the cores other processes "
                         "leave free)", "0", 0},
        {"max_upload", "MB", "largest request body accepted (413 above it)", "20", 0},
        {"max_pixels", "N", "largest decoded picture, in pixels (checked from its header)",
         "40000000", 0},
        UG_HINT_OPTS,
    };
    int n = sizeof o / sizeof o[0];
    int rc = cli_parse(argc, argv, o, n,
                       "usage: ugatit serve --model CKPT [--host 127.0.0.1] [--port 8080] "
                       "[--threads N]\n"
                       "                   [--max_upload MB] [--max_pixels N]\n\n"
                       "A web page at / where a photo dropped or picked is translated in each "
                       "direction the model has,\nwith its attention heatmap. For scripts:\n"
                       "  POST /api/translate   the image as the body (or the form field "
                       "'image'); answers JSON:\n"
                       "                        {\"input\", \"results\": [{\"direction\", "
                       "\"image\", \"heatmap\"}], ...}\n"
                       "                        with PNG data: URLs, or {\"error\": MESSAGE} "
                       "with status 400, 413 or 500\n"
                       "  GET /api/info         the model's directions, image size and the "
                       "limits\n"
                       "Translations run one at a time (others wait). Stops on Ctrl-C or "
                       "SIGTERM.");
    if (rc)
        return rc < 0 ? 2 : 0;
    setvbuf(stdout, NULL, _IOLBF, 0); /* a line per request, for logs and tests */
    long port, threads, max_upload, max_pixels;
    ug_config hint;
    if (cli_hint(o, n, "serve", &hint) < 0 || cli_int(o, n, "port", 0, 65535, &port) < 0 ||
        cli_int(o, n, "threads", 0, 1024, &threads) < 0 ||
        cli_int(o, n, "max_upload", 1, 1024, &max_upload) < 0 ||
        cli_int(o, n, "max_pixels", 1, 1L << 27, &max_pixels) < 0)
        return 2;
    /* SIGINT and SIGTERM are taken by sigwait below: blocked before any
     * thread starts (OpenMP's, oneDNN's, the daemon's), so that every thread
     * inherits the mask and none dies of them. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN); /* a client gone mid-answer is not our death */

    const char *model = cli_find(o, n, "model")->value;
    serve_ctx s = {.max_upload = (size_t)max_upload << 20, .max_pixels = (size_t)max_pixels};
    const char *base = strrchr(model, '/');
    snprintf(s.model_name, sizeof s.model_name, "%s", base ? base + 1 : model);
    ug_error err = {{0}};
    ug_model *m = NULL;
    if (ug_model_load(&m, model, &hint, 0, &err) < 0) {
        fprintf(stderr, "ugatit serve: %s\n", err.msg);
        return 1;
    }
    if (cli_hint_check(o, n, "serve", m, model) < 0) {
        ug_model_free(m);
        return 2;
    }
    int status = 1;
    struct MHD_Daemon *d = NULL;
    pthread_mutex_init(&s.lock, NULL);
    char no_b2a[sizeof err.msg] = "";
    if (prepare(&s, m, threads, no_b2a, sizeof no_b2a, &err) < 0) {
        fprintf(stderr, "ugatit serve: %s: %s\n", model, err.msg);
        goto done;
    }
    struct sockaddr_storage bound;
    int fd = listen_on(cli_find(o, n, "host")->value, cli_find(o, n, "port")->value, &bound);
    if (fd < 0)
        goto done;
    char url[128];
    s.loopback = describe(&bound, url, sizeof url);
    d = serve_http_start(&s, fd);
    if (!d) {
        close(fd);
        goto done;
    }
    printf("serving %s (model %s, img %d, %s%s%s%s%s%s); Ctrl-C stops\n", url, s.model_name,
           s.t.S, s.n_dirs == 2 ? "A2B and B2A" : "A2B only", s.n_dirs == 2 ? "" : " (B2A: ",
           no_b2a, s.n_dirs == 2 ? "" : ")", s.cam ? ", with attention" : "",
           s.loopback ? "" : "; reachable from other machines, without any authentication");
    int sig;
    sigwait(&stop, &sig);
    printf("stopping (%s)\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    status = 0;
done:
    if (d)
        MHD_stop_daemon(d);
    pthread_mutex_destroy(&s.lock);
    translator_free(&s.t);
    ug_model_free(m);
    return status;
}
