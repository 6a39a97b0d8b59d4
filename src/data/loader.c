/* The loader's thread fills a ring of UG_LOADER_DEPTH batch slots; the
 * caller copies them out in order. A slot belongs to the thread between
 * "produced" and "consumed + DEPTH" and to the caller otherwise, so the
 * floats are copied without the lock held. */
#include "data/loader.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "data/transform.h"
#include "io/image.h"

typedef struct domain {
    ug_filelist files;
    size_t *perm;        /* the permutation of epoch perm_epoch */
    uint64_t perm_epoch;
    int have_perm;
    unsigned char *bad;  /* files known not to decode */
} domain;

typedef struct slot {
    float *a, *b;
    int rc;
    ug_error err;
} slot;

struct ug_loader {
    int batch, img, augment;
    ug_pipeline pipe;
    int global_batch, offset; /* this rank's share of a global batch */
    uint64_t seed;
    ug_warn_fn warn;
    void *warn_ctx;
    size_t sample; /* floats per image */
    domain dom[2];
    slot slots[UG_LOADER_DEPTH];

    pthread_t thread;
    int running;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* any change of produced, consumed or done */
    atomic_int stop;
    long first_step, next_step;
    unsigned long produced, consumed; /* since the last start */
    int done;                         /* the thread has returned */
    size_t skipped;
};

/* splitmix64's finaliser: a bijective mix, so distinct keys stay distinct. */
static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

enum { STREAM_PERM = 1, STREAM_AUGMENT = 2 };

/* A generator that is a function of (seed, what, domain, a, b) only. */
static void keyed_rng(ug_rng *r, uint64_t seed, int what, int d, uint64_t a, uint64_t b)
{
    uint64_t h = mix(seed);
    h = mix(h ^ (uint64_t)(what * 2 + d));
    h = mix(h ^ a);
    h = mix(h ^ b);
    ug_rng_seed(r, h, (uint64_t)(what * 2 + d));
}

static void make_perm(ug_loader *l, int d, uint64_t epoch)
{
    domain *dm = &l->dom[d];
    if (dm->have_perm && dm->perm_epoch == epoch)
        return;
    size_t n = dm->files.n;
    ug_rng r;
    keyed_rng(&r, l->seed, STREAM_PERM, d, epoch, 0);
    for (size_t i = 0; i < n; i++)
        dm->perm[i] = i;
    for (size_t i = n - 1; i > 0; i--) { /* Fisher-Yates */
        size_t j = ug_rng_below(&r, (uint32_t)(i + 1));
        size_t t = dm->perm[i];
        dm->perm[i] = dm->perm[j];
        dm->perm[j] = t;
    }
    dm->perm_epoch = epoch;
    dm->have_perm = 1;
}

static void skip_file(ug_loader *l, int d, size_t idx, const ug_error *why)
{
    l->dom[d].bad[idx] = 1;
    pthread_mutex_lock(&l->mu);
    l->skipped++;
    pthread_mutex_unlock(&l->mu);
    if (l->warn) {
        char msg[sizeof why->msg + 64];
        snprintf(msg, sizeof msg, "skipped unreadable image: %s", why->msg);
        l->warn(l->warn_ctx, msg);
    }
}

/* Sample i of step `step` of domain d into out. */
static int load_sample(ug_loader *l, int d, long step, int i, float *out, ug_error *err)
{
    domain *dm = &l->dom[d];
    size_t n = dm->files.n;
    uint64_t j = (uint64_t)l->offset + (uint64_t)i; /* in the global batch */
    uint64_t k = (uint64_t)step * (uint64_t)l->global_batch + j;
    make_perm(l, d, k / n);
    size_t pos = (size_t)(k % n);
    /* An undecodable file is replaced by the next one of the same
     * permutation: a choice that depends only on the files, so resuming
     * still reproduces it. */
    for (size_t t = 0; t < n; t++) {
        size_t idx = dm->perm[(pos + t) % n];
        if (dm->bad[idx])
            continue;
        ug_image im;
        ug_error why;
        if (ug_image_load(&im, dm->files.paths[idx], &why) != 0) {
            skip_file(l, d, idx, &why);
            continue;
        }
        ug_augment aug, *ap = NULL;
        if (l->augment) {
            ug_rng r;
            keyed_rng(&r, l->seed, STREAM_AUGMENT, d, (uint64_t)step, j);
            ug_augment_draw(&aug, &r, l->pipe.margin);
            ap = &aug;
        }
        int rc = ug_transform(out, &im, l->img, ap, l->pipe, err);
        ug_image_free(&im);
        return rc != 0 ? ug_error_prefix(err, "%s", dm->files.paths[idx]) : 0;
    }
    return ug_fail(err, "%s: no readable images (all %zu failed to decode)", dm->files.dir, n);
}

/* 1 when stopped part-way, else 0 or -1 with err set. */
static int fill(ug_loader *l, long step, slot *s, ug_error *err)
{
    for (int d = 0; d < 2; d++) {
        float *dst = d == 0 ? s->a : s->b;
        for (int i = 0; i < l->batch; i++) {
            if (atomic_load(&l->stop))
                return 1;
            if (load_sample(l, d, step, i, dst + (size_t)i * l->sample, err) != 0)
                return -1;
        }
    }
    return 0;
}

static void *worker(void *arg)
{
    ug_loader *l = arg;
    for (;;) {
        pthread_mutex_lock(&l->mu);
        while (!atomic_load(&l->stop) && l->produced - l->consumed == UG_LOADER_DEPTH)
            pthread_cond_wait(&l->cv, &l->mu);
        unsigned long n = l->produced;
        pthread_mutex_unlock(&l->mu);
        if (atomic_load(&l->stop))
            break;
        slot *s = &l->slots[n % UG_LOADER_DEPTH];
        s->rc = fill(l, l->first_step + (long)n, s, &s->err);
        if (s->rc > 0)
            break;
        pthread_mutex_lock(&l->mu);
        l->produced++;
        pthread_cond_broadcast(&l->cv);
        pthread_mutex_unlock(&l->mu);
        if (s->rc != 0)
            break; /* the error stays in its slot for every later next() */
    }
    pthread_mutex_lock(&l->mu);
    l->done = 1;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

static void stop_thread(ug_loader *l)
{
    if (!l->running)
        return;
    atomic_store(&l->stop, 1);
    pthread_mutex_lock(&l->mu);
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
    pthread_join(l->thread, NULL);
    l->running = 0;
}

/* The loader's memory (its file lists and buffers), and the loader. */
static void free_loader(ug_loader *l)
{
    for (int d = 0; d < 2; d++) {
        ug_filelist_free(&l->dom[d].files);
        free(l->dom[d].perm);
        free(l->dom[d].bad);
    }
    for (int i = 0; i < UG_LOADER_DEPTH; i++) {
        free(l->slots[i].a);
        free(l->slots[i].b);
    }
    free(l);
}

int ug_loader_new(ug_loader **out, const ug_loader_config *c, ug_error *err)
{
    *out = NULL;
    if (c->batch < 1 || c->img < 1)
        return ug_fail(err, "loader: bad batch size %d or image size %d", c->batch, c->img);
    if (c->global_batch && (c->offset < 0 || c->offset + c->batch > c->global_batch))
        return ug_fail(err, "loader: a share of %d images at %d does not fit a global batch "
                            "of %d", c->batch, c->offset, c->global_batch);
    const ug_filelist *lists[2] = {c->a, c->b};
    for (int d = 0; d < 2; d++) {
        if (!lists[d] || lists[d]->n == 0)
            return ug_fail(err, "loader: domain %c has no files", "AB"[d]);
        if (lists[d]->n > UINT32_MAX)
            return ug_fail(err, "%s: too many files", lists[d]->dir);
    }
    ug_loader *l = calloc(1, sizeof *l);
    if (!l)
        return ug_fail(err, "loader: out of memory");
    l->batch = c->batch;
    l->global_batch = c->global_batch ? c->global_batch : c->batch;
    l->offset = c->global_batch ? c->offset : 0;
    l->img = c->img;
    l->augment = c->augment;
    l->pipe = c->pipe;
    l->seed = c->seed;
    l->warn = c->warn;
    l->warn_ctx = c->warn_ctx;
    l->sample = (size_t)3 * c->img * c->img;
    atomic_init(&l->stop, 0);
    int rc = 0;
    for (int d = 0; d < 2 && rc == 0; d++) {
        rc = ug_filelist_copy(&l->dom[d].files, lists[d], err);
        if (rc == 0) {
            l->dom[d].perm = malloc(lists[d]->n * sizeof *l->dom[d].perm);
            l->dom[d].bad = calloc(lists[d]->n, 1);
            if (!l->dom[d].perm || !l->dom[d].bad)
                rc = ug_fail(err, "loader: out of memory");
        }
    }
    size_t batch_floats = (size_t)c->batch * l->sample;
    for (int i = 0; i < UG_LOADER_DEPTH && rc == 0; i++) {
        l->slots[i].a = malloc(batch_floats * sizeof(float));
        l->slots[i].b = malloc(batch_floats * sizeof(float));
        if (!l->slots[i].a || !l->slots[i].b)
            rc = ug_fail(err, "loader: out of memory for %d batches", UG_LOADER_DEPTH);
    }
    if (rc == 0) {
        if (pthread_mutex_init(&l->mu, NULL) != 0) {
            rc = ug_fail(err, "loader: cannot create a mutex");
        } else if (pthread_cond_init(&l->cv, NULL) != 0) {
            pthread_mutex_destroy(&l->mu);
            rc = ug_fail(err, "loader: cannot create a condition variable");
        }
    }
    if (rc != 0) {
        free_loader(l);
        return -1;
    }
    *out = l;
    return 0;
}

int ug_loader_start(ug_loader *l, long first_step, ug_error *err)
{
    if (first_step < 0)
        return ug_fail(err, "loader: negative step %ld", first_step);
    stop_thread(l);
    atomic_store(&l->stop, 0);
    l->first_step = l->next_step = first_step;
    l->produced = l->consumed = 0;
    l->done = 0;
    if (pthread_create(&l->thread, NULL, worker, l) != 0)
        return ug_fail(err, "loader: cannot start its thread");
    l->running = 1;
    return 0;
}

int ug_loader_next(ug_loader *l, float *A, float *B, ug_error *err)
{
    if (!l->running && ug_loader_start(l, l->next_step, err) != 0)
        return -1;
    pthread_mutex_lock(&l->mu);
    while (l->produced == l->consumed && !l->done)
        pthread_cond_wait(&l->cv, &l->mu);
    int empty = l->produced == l->consumed;
    unsigned long n = l->consumed;
    pthread_mutex_unlock(&l->mu);
    if (empty)
        return ug_fail(err, "loader: its thread stopped");
    const slot *s = &l->slots[n % UG_LOADER_DEPTH];
    if (s->rc != 0) {
        if (err)
            *err = s->err;
        return -1;
    }
    size_t bytes = (size_t)l->batch * l->sample * sizeof(float);
    memcpy(A, s->a, bytes);
    memcpy(B, s->b, bytes);
    pthread_mutex_lock(&l->mu);
    l->consumed++;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
    l->next_step++;
    return 0;
}

long ug_loader_step(const ug_loader *l)
{
    return l->next_step;
}

size_t ug_loader_skipped(ug_loader *l)
{
    pthread_mutex_lock(&l->mu);
    size_t n = l->skipped;
    pthread_mutex_unlock(&l->mu);
    return n;
}

void ug_loader_free(ug_loader *l)
{
    if (!l)
        return;
    stop_thread(l);
    pthread_cond_destroy(&l->cv);
    pthread_mutex_destroy(&l->mu);
    free_loader(l);
}
