/* Reading the legacy torch.save format (see pt.h): five pickles back to back,
 * then the storages in the order of the last one, each an int64 element count
 * and its elements. Every pickle goes through the restricted unpickler, and
 * every storage's place is found and checked against the file's length, and
 * every tensor against its storage, before any tensor is allocated. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/bytes.h"
#include "io/file.h"
#include "io/pt.h"

#define VERSION 1001          /* torch's PROTOCOL_VERSION of this format */
#define FIRST_WINDOW (64u << 10) /* a file's pickles are read in growing windows */
#define READ_CHUNK (1u << 30)

/* The magic number 0x1950a86a20f9469cfc6c as LONG1 writes it. */
static const unsigned char magic[12] = {0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46,
                                        0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};

/* The length of the magic number's pickle at b, or 0 if it is not one:
 * protocols 2 and 3 write PROTO, LONG1, STOP; 4 and 5 put a FRAME first. */
static size_t magic_len(const unsigned char *b, size_t n)
{
    static const unsigned char frame[9] = {0x95, 13, 0, 0, 0, 0, 0, 0, 0};
    if (n < 2 || b[0] != 0x80 || b[1] < 2 || b[1] > 5)
        return 0;
    size_t at = 2;
    if (b[1] >= 4) {
        if (n < at + sizeof frame || memcmp(b + at, frame, sizeof frame) != 0)
            return 0;
        at += sizeof frame;
    }
    if (n < at + sizeof magic + 1 || memcmp(b + at, magic, sizeof magic) != 0 ||
        b[at + sizeof magic] != '.')
        return 0;
    return at + sizeof magic + 1;
}

int ug_pt_is_legacy(const unsigned char *b, size_t n)
{
    if (n < 4 || b[0] != 0x80)
        return 0;
    if (b[1] == 2 || b[1] == 3)
        return b[2] == magic[0] && b[3] == magic[1];
    return (b[1] == 4 || b[1] == 5) && b[2] == 0x95 && b[3] == 13;
}

/* A file (pread on fd) or a buffer, and what a load needs to know. */
typedef struct source {
    int fd;                   /* -1 for a buffer */
    const unsigned char *buf;
    uint64_t size;
    const char *name;         /* for messages */
    const ug_pt_limits *lim;
} source;

/* Reads n bytes at pos, or says why not. */
static int src_read(const source *s, uint64_t pos, void *dst, uint64_t n, ug_error *err)
{
    if (pos > s->size || n > s->size - pos)
        return ug_fail(err, "%s: the file ends at byte %llu, before byte %llu", s->name,
                       (unsigned long long)s->size, (unsigned long long)(pos + n));
    if (s->fd < 0) {
        memcpy(dst, s->buf + pos, (size_t)n);
        return 0;
    }
    unsigned char *p = dst;
    while (n > 0) {
        size_t want = n < READ_CHUNK ? (size_t)n : READ_CHUNK;
        ssize_t got = pread(s->fd, p, want, (off_t)pos);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return ug_fail(err, "%s: cannot read at byte %llu: %s", s->name,
                           (unsigned long long)pos, got < 0 ? strerror(errno) : "the file shrank");
        p += got;
        pos += (uint64_t)got;
        n -= (uint64_t)got;
    }
    return 0;
}

/* Unpickles the pickle that starts at *pos and moves *pos past it. Its
 * length is known only once it is read, so a file is read in windows that
 * grow until it fits, up to the pickle limit. */
static int pickle_at(const source *s, uint64_t *pos, const char *what, ug_pickle **pk,
                     ug_error *err)
{
    uint64_t rest = s->size - *pos, cap = s->lim->max_pickle_bytes;
    if (cap > rest)
        cap = rest;
    uint64_t win = s->fd < 0 || cap < FIRST_WINDOW ? cap : FIRST_WINDOW;
    char name[512];
    snprintf(name, sizeof name, "%s: %s (from byte %llu)", s->name, what,
             (unsigned long long)*pos);
    ug_pk_limits pl = {s->lim->max_objects, s->lim->max_depth};
    for (;;) {
        const unsigned char *p = s->buf + (s->fd < 0 ? *pos : 0);
        unsigned char *own = NULL;
        if (s->fd >= 0) {
            if (!(own = malloc(win ? (size_t)win : 1)))
                return ug_fail(err, "%s: out of memory", name);
            if (src_read(s, *pos, own, win, err) < 0) {
                free(own);
                return -1;
            }
            p = own;
        }
        size_t used;
        int rc = ug_pk_load_prefix(pk, p, (size_t)win, &pl, name, &used, err);
        free(own);
        if (rc == 0) {
            *pos += used;
            return 0;
        }
        if (rc == -2 && win == cap && cap < rest)
            return ug_fail(err, "%s: longer than the limit of %zu bytes", name,
                           s->lim->max_pickle_bytes);
        if (rc != -2 || win == cap)
            return -1;
        win = win > cap / 8 ? cap : 8 * win;
    }
}

/* The header: magic number, format version, and a little-endian writer. */
static int read_header(const source *s, uint64_t *pos, ug_error *err)
{
    unsigned char b[32];
    size_t n = s->size < sizeof b ? (size_t)s->size : sizeof b;
    if (src_read(s, 0, b, n, err) < 0)
        return -1;
    if (!(*pos = magic_len(b, n)))
        return ug_fail(err, "%s: no torch.save magic number at the start; not a legacy .pt file",
                       s->name);
    ug_pickle *pk;
    if (pickle_at(s, pos, "version pickle", &pk, err) < 0)
        return -1;
    const ug_pk_obj *v = ug_pk_root(pk);
    ug_pk_type type = v->type;
    long long got = (long long)v->i;
    ug_pk_free(pk);
    if (type != UG_PK_INT)
        return ug_fail(err, "%s: the format version is a %s, not an int", s->name,
                       ug_pk_type_name(type));
    if (got != VERSION)
        return ug_fail(err, "%s: format version %lld, expected %d", s->name, got, VERSION);
    if (pickle_at(s, pos, "system info pickle", &pk, err) < 0)
        return -1;
    const ug_pk_obj *d = ug_pk_root(pk);
    int big = 0;
    for (size_t k = 0; d->type == UG_PK_DICT && 2 * k < d->n; k++)
        big |= d->items[2 * k]->type == UG_PK_STR &&
               strcmp(d->items[2 * k]->s, "little_endian") == 0 &&
               d->items[2 * k + 1]->type == UG_PK_BOOL && d->items[2 * k + 1]->i == 0;
    int ok = d->type == UG_PK_DICT;
    ug_pk_free(pk);
    if (!ok)
        return ug_fail(err, "%s: the system info is not a dict", s->name);
    if (big)
        return ug_fail(err, "%s: written on a big-endian machine, which is not supported",
                       s->name);
    return 0;
}

/* One storage: the first persistent id naming it, and where its elements are. */
typedef struct stored {
    const ug_pk_obj *s;
    uint64_t at; /* file offset of the elements; 0 until its count is read */
} stored;

static int by_key(const void *a, const void *b)
{
    return strcmp(((const stored *)a)->s->s, ((const stored *)b)->s->s);
}

static stored *find(stored *st, size_t n, const char *key)
{
    ug_pk_obj probe = {.s = (char *)key};
    stored k = {&probe, 0};
    return bsearch(&k, st, n, sizeof *st, by_key);
}

/* The distinct storages the tensors use, sorted by key; *n of them. */
static int distinct(const source *s, const ug_pt_item *items, size_t n_items, stored **out,
                    size_t *n, ug_error *err)
{
    stored *st = malloc(n_items * sizeof *st);
    if (!(*out = st))
        return ug_fail(err, "%s: out of memory", s->name);
    for (size_t i = 0; i < n_items; i++)
        st[i] = (stored){items[i].tensor->storage, 0};
    qsort(st, n_items, sizeof *st, by_key);
    *n = 0;
    for (size_t i = 0; i < n_items; i++) {
        if (*n && by_key(&st[*n - 1], &st[i]) == 0) {
            const ug_pk_obj *a = st[*n - 1].s, *b = st[i].s;
            char kb[128];
            if (a->dtype != b->dtype || a->i != b->i)
                return ug_fail(err, "%s: storage '%s' is declared with two types or sizes",
                               s->name, ug_printable(kb, sizeof kb, a->s));
            continue;
        }
        st[(*n)++] = st[i];
    }
    return 0;
}

/* Walks the storage section in the order of the key list, finding each
 * storage's elements; the section must end with the file. */
static int place(const source *s, const ug_pk_obj *keys, uint64_t pos, stored *st, size_t n,
                 ug_error *err)
{
    char kb[128];
    if (keys->type != UG_PK_LIST)
        return ug_fail(err, "%s: the storage key list is a %s", s->name,
                       ug_pk_type_name(keys->type));
    if (keys->n > s->lim->max_entries)
        return ug_fail(err, "%s: %zu storages, more than the limit of %zu", s->name, keys->n,
                       s->lim->max_entries);
    for (size_t k = 0; k < keys->n; k++) {
        const ug_pk_obj *key = keys->items[k];
        if (key->type != UG_PK_STR)
            return ug_fail(err, "%s: storage key %zu is a %s, not a str", s->name, k,
                           ug_pk_type_name(key->type));
        const char *shown = ug_printable(kb, sizeof kb, key->s);
        stored *x = find(st, n, key->s);
        if (!x)
            return ug_fail(err, "%s: the storage list names '%s', which no tensor uses", s->name,
                           shown);
        if (x->at)
            return ug_fail(err, "%s: storage '%s' is listed twice", s->name, shown);
        unsigned char c[8];
        if (s->size - pos < 8)
            return ug_fail(err, "%s: the file ends at byte %llu, inside the storages (at '%s')",
                           s->name, (unsigned long long)s->size, shown);
        if (src_read(s, pos, c, 8, err) < 0)
            return -1;
        uint64_t count = 0;
        for (int b = 7; b >= 0; b--)
            count = (count << 8) | c[b];
        if (count != (uint64_t)x->s->i)
            return ug_fail(err, "%s: storage '%s' holds %llu elements, but %lld were declared",
                           s->name, shown, (unsigned long long)count, (long long)x->s->i);
        pos += 8;
        uint64_t esize = ug_pk_dtype_size(x->s->dtype);
        if (count > (s->size - pos) / esize)
            return ug_fail(err, "%s: storage '%s': %llu elements of %llu bytes run past the end "
                                "of the file (at byte %llu)", s->name, shown,
                           (unsigned long long)count, (unsigned long long)esize,
                           (unsigned long long)pos);
        x->at = pos;
        pos += count * esize;
    }
    for (size_t i = 0; i < n; i++)
        if (!st[i].at)
            return ug_fail(err, "%s: storage '%s' is not in the storage list", s->name,
                           ug_printable(kb, sizeof kb, st[i].s->s));
    if (pos != s->size)
        return ug_fail(err, "%s: %llu bytes after the last storage", s->name,
                       (unsigned long long)(s->size - pos));
    return 0;
}

/* Reads a checked tensor's elements into a new float array. */
static int load_tensor(const source *s, const ug_pt_item *it, const stored *x, uint64_t numel,
                       float **out, ug_error *err)
{
    *out = NULL;
    if (numel == 0)
        return 0;
    const ug_pk_obj *t = it->tensor;
    size_t esize = ug_pk_dtype_size(t->storage->dtype);
    uint64_t at = x->at + (uint64_t)t->offset * esize, bytes = numel * esize;
    char nb[128];
    float *dst = malloc((size_t)numel * sizeof *dst);
    if (!dst)
        return ug_fail(err, "%s: tensor '%s': out of memory", s->name,
                       ug_printable(nb, sizeof nb, it->name));
    /* float32 goes straight into the result. */
    if (t->storage->dtype == UG_PK_F32 && ug_host_is_little_endian()) {
        if (src_read(s, at, dst, bytes, err) < 0) {
            free(dst);
            return -1;
        }
        *out = dst;
        return 0;
    }
    unsigned char *raw = malloc((size_t)bytes);
    if (!raw || src_read(s, at, raw, bytes, err) < 0) {
        if (!raw)
            ug_fail(err, "%s: tensor '%s': out of memory", s->name,
                    ug_printable(nb, sizeof nb, it->name));
        free(raw);
        free(dst);
        return -1;
    }
    ug_pt_decode(dst, raw, (size_t)numel, t->storage->dtype);
    free(raw);
    *out = dst;
    return 0;
}

static int build(const source *s, const ug_pt_item *items, size_t n, stored *st, size_t n_st,
                 ug_st_file **out, ug_error *err)
{
    uint64_t max = s->lim->max_tensor_bytes, total = 0;
    if (!max) /* f16 doubles in float32; 8x leaves room, as in the zip reader */
        max = s->size > (UINT64_MAX - (1u << 20)) / 8 ? UINT64_MAX : 8 * s->size + (1u << 20);
    uint64_t *numel = malloc(n * sizeof *numel);
    if (!numel)
        return ug_fail(err, "%s: out of memory", s->name);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = ug_pt_check_tensor(&items[i], max, &total, &numel[i], s->name, err);
    ug_st_file *f = NULL;
    if (rc == 0)
        rc = ug_st_new(&f, err);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const ug_pk_obj *t = items[i].tensor;
        float *data;
        rc = load_tensor(s, &items[i], find(st, n_st, t->storage->s), numel[i], &data, err);
        if (rc == 0)
            rc = ug_st_add(f, items[i].name, t->ndim, t->size, data, s->name, err);
    }
    if (rc == 0)
        rc = ug_st_finish(f, s->name, err);
    free(numel);
    if (rc != 0) {
        ug_st_close(f);
        return -1;
    }
    *out = f;
    return 0;
}

static int read_legacy(const source *s, ug_st_file **out, ug_error *err)
{
    uint64_t pos;
    ug_pickle *obj = NULL, *keys = NULL;
    ug_pt_item *items = NULL;
    stored *st = NULL;
    size_t n = 0, n_st = 0;
    int rc = read_header(s, &pos, err);
    if (rc == 0)
        rc = pickle_at(s, &pos, "object pickle", &obj, err);
    if (rc == 0)
        rc = ug_pt_flatten(ug_pk_root(obj), &items, &n, s->name, s->lim->single_group, err);
    if (rc == 0)
        rc = pickle_at(s, &pos, "storage key pickle", &keys, err);
    if (rc == 0)
        rc = distinct(s, items, n, &st, &n_st, err);
    if (rc == 0)
        rc = place(s, ug_pk_root(keys), pos, st, n_st, err);
    if (rc == 0)
        rc = build(s, items, n, st, n_st, out, err);
    free(st);
    ug_pt_items_free(items, n);
    ug_pk_free(keys);
    ug_pk_free(obj);
    return rc;
}

int ug_pt_legacy_open_mem(ug_st_file **out, const void *buf, size_t len, const char *name,
                          const ug_pt_limits *lim, ug_error *err)
{
    *out = NULL;
    ug_pt_limits def;
    if (!lim) {
        ug_pt_limits_default(&def);
        lim = &def;
    }
    source s = {-1, len ? buf : (const unsigned char *)"", len, name, lim};
    return read_legacy(&s, out, err);
}

int ug_pt_legacy_open(ug_st_file **out, const char *path, const char *single_group,
                      ug_error *err)
{
    *out = NULL;
    ug_pt_limits lim;
    ug_pt_limits_default(&lim);
    lim.single_group = single_group;
    source s = {-1, (const unsigned char *)"", 0, path, &lim};
    if ((s.fd = ug_open_read(path, &s.size, err)) < 0)
        return -1;
    int rc = read_legacy(&s, out, err);
    close(s.fd);
    return rc;
}
