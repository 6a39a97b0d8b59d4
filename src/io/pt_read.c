/* Reading .pt files (see pt.h): the zip through libzip, the pickle through
 * the restricted unpickler, then every tensor checked against its storage
 * (size, stride, offset, bytes) before anything large is allocated. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zip.h>

#include "io/bytes.h"
#include "io/file.h"
#include "io/pt.h"

#define MAX_NAME 4096      /* zip entry names we build */
#define READ_CHUNK (1u << 30)

void ug_pt_limits_default(ug_pt_limits *lim)
{
    lim->max_pickle_bytes = 64u << 20; /* a release checkpoint's is ~50 kB */
    lim->max_objects = 1u << 20;
    lim->max_depth = 32;
    lim->max_entries = 1u << 16;
    lim->max_tensor_bytes = 0;
    lim->single_group = NULL;
}

/* One open archive and what a load needs to know about it. */
typedef struct archive {
    zip_t *za;
    const char *name;   /* for messages */
    char prefix[MAX_NAME];  /* raw, for lookups */
    char shown[128];        /* printable, for messages */
    const ug_pt_limits *lim;
    uint64_t max_tensor_bytes;
} archive;

/* The index of PREFIX/rel, or -1. */
static zip_int64_t locate(const archive *a, const char *rel)
{
    char full[2 * MAX_NAME];
    snprintf(full, sizeof full, "%s/%s", a->prefix, rel);
    return zip_name_locate(a->za, full, ZIP_FL_ENC_RAW);
}

static int entry_size(const archive *a, zip_int64_t idx, uint64_t *size, ug_error *err)
{
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(a->za, (zip_uint64_t)idx, ZIP_FL_ENC_RAW, &st) != 0 ||
        !(st.valid & ZIP_STAT_SIZE))
        return ug_fail(err, "%s: cannot stat zip entry %lld: %s", a->name, (long long)idx,
                       zip_strerror(a->za));
    *size = st.size;
    return 0;
}

/* Reads exactly size bytes of entry idx (decompressed, CRC-checked). */
static int read_entry(const archive *a, zip_int64_t idx, void *dst, uint64_t size,
                      const char *what, ug_error *err)
{
    zip_file_t *zf = zip_fopen_index(a->za, (zip_uint64_t)idx, 0);
    if (!zf)
        return ug_fail(err, "%s: %s: cannot open: %s", a->name, what, zip_strerror(a->za));
    uint64_t done = 0;
    int rc = 0;
    while (done < size) {
        uint64_t want = size - done < READ_CHUNK ? size - done : READ_CHUNK;
        zip_int64_t got = zip_fread(zf, (char *)dst + done, want);
        if (got <= 0) {
            rc = ug_fail(err, "%s: %s: %s after %llu of %llu bytes", a->name, what,
                         got < 0 ? zip_error_strerror(zip_file_get_error(zf)) : "ends",
                         (unsigned long long)done, (unsigned long long)size);
            break;
        }
        done += (uint64_t)got;
    }
    char extra;
    if (rc == 0 && zip_fread(zf, &extra, 1) != 0)
        rc = ug_fail(err, "%s: %s: longer than its declared %llu bytes or corrupt", a->name, what,
                     (unsigned long long)size);
    int close_rc = zip_fclose(zf);
    if (rc == 0 && close_rc != 0) {
        zip_error_t ze;
        zip_error_init_with_code(&ze, close_rc);
        rc = ug_fail(err, "%s: %s: %s", a->name, what, zip_error_strerror(&ze));
        zip_error_fini(&ze);
    }
    return rc;
}

/* Reads a small text record (version, byteorder) into buf; 0 if absent. */
static int read_small(const archive *a, const char *rel, char *buf, size_t cap, int *found,
                      ug_error *err)
{
    *found = 0;
    zip_int64_t idx = locate(a, rel);
    if (idx < 0)
        return 0;
    uint64_t size;
    if (entry_size(a, idx, &size, err) < 0)
        return -1;
    if (size >= cap)
        return ug_fail(err, "%s: %s/%s is %llu bytes, too long", a->name, a->shown, rel,
                       (unsigned long long)size);
    if (read_entry(a, idx, buf, size, rel, err) < 0)
        return -1;
    buf[size] = '\0';
    *found = 1;
    return 0;
}

/* The top folder every entry shares, as torch writes it; version and byte order. */
static int check_layout(archive *a, ug_error *err)
{
    zip_int64_t n = zip_get_num_entries(a->za, 0);
    if (n <= 0)
        return ug_fail(err, "%s: the zip archive is empty", a->name);
    if ((uint64_t)n > a->lim->max_entries)
        return ug_fail(err, "%s: %lld zip entries, more than the limit of %zu", a->name,
                       (long long)n, a->lim->max_entries);
    const char *first = zip_get_name(a->za, 0, ZIP_FL_ENC_RAW);
    const char *slash = first ? strchr(first, '/') : NULL;
    if (!slash || slash == first || (size_t)(slash - first) >= MAX_NAME)
        return ug_fail(err, "%s: zip entries are not inside one top folder; not a torch.save file",
                       a->name);
    size_t pl = (size_t)(slash - first);
    memcpy(a->prefix, first, pl);
    a->prefix[pl] = '\0';
    ug_printable(a->shown, sizeof a->shown, a->prefix);
    for (zip_int64_t i = 1; i < n; i++) {
        const char *e = zip_get_name(a->za, (zip_uint64_t)i, ZIP_FL_ENC_RAW);
        if (!e || strncmp(e, first, pl + 1) != 0) {
            char b[128];
            return ug_fail(err, "%s: zip entry '%s' is outside the top folder '%s'", a->name,
                           e ? ug_printable(b, sizeof b, e) : "?", a->shown);
        }
    }
    char text[32];
    int found;
    if (read_small(a, "byteorder", text, sizeof text, &found, err) < 0)
        return -1;
    if (found && strcmp(text, "little") != 0)
        return ug_fail(err, "%s: byte order '%s' is not supported (little-endian only)", a->name,
                       ug_printable(text, sizeof text, text));
    if (read_small(a, ".data/version", text, sizeof text, &found, err) < 0 ||
        (!found && read_small(a, "version", text, sizeof text, &found, err) < 0))
        return -1;
    char *end;
    long v = found ? strtol(text, &end, 10) : 0;
    if (!found || end == text || (*end && strcmp(end, "\n") != 0) || v < 1)
        return ug_fail(err, "%s: %s/version is missing or not a positive integer; not a "
                            "torch.save file?", a->name, a->shown);
    return 0;
}

static int load_pickle(const archive *a, ug_pickle **pk, ug_error *err)
{
    zip_int64_t idx = locate(a, "data.pkl");
    if (idx < 0)
        return ug_fail(err, "%s: no %s/data.pkl in the archive", a->name, a->shown);
    uint64_t size;
    if (entry_size(a, idx, &size, err) < 0)
        return -1;
    if (size > a->lim->max_pickle_bytes)
        return ug_fail(err, "%s: data.pkl is %llu bytes, more than the limit of %zu", a->name,
                       (unsigned long long)size, a->lim->max_pickle_bytes);
    unsigned char *buf = malloc(size ? (size_t)size : 1);
    if (!buf)
        return ug_fail(err, "%s: out of memory for data.pkl", a->name);
    int rc = read_entry(a, idx, buf, size, "data.pkl", err);
    if (rc == 0) {
        char name[512];
        snprintf(name, sizeof name, "%s: data.pkl", a->name);
        ug_pk_limits pl = {a->lim->max_objects, a->lim->max_depth};
        rc = ug_pk_load(pk, buf, (size_t)size, &pl, name, err);
    }
    free(buf);
    return rc;
}

/* What a tensor needs from its storage, found and checked in the first pass. */
typedef struct plan {
    zip_int64_t entry;
    uint64_t storage_bytes, numel;
} plan;

/* Checks one tensor against its storage entry; nothing is allocated. */
static int check_tensor(const archive *a, const ug_pt_item *it, plan *p, uint64_t *total,
                        ug_error *err)
{
    char nb[128], kb[128];
    const char *tn = ug_printable(nb, sizeof nb, it->name);
    const ug_pk_obj *s = it->tensor->storage;
    if (strlen(s->s) >= MAX_NAME - 8)
        return ug_fail(err, "%s: tensor '%s': storage key is too long", a->name, tn);
    char rel[MAX_NAME];
    snprintf(rel, sizeof rel, "data/%s", s->s);
    p->entry = locate(a, rel);
    if (p->entry < 0)
        return ug_fail(err, "%s: tensor '%s': storage %s/data/%s is missing", a->name, tn,
                       a->shown, ug_printable(kb, sizeof kb, s->s));
    if (ug_pt_check_tensor(it, a->max_tensor_bytes, total, &p->numel, a->name, err) < 0)
        return -1;
    uint64_t esize = ug_pk_dtype_size(s->dtype), have;
    if (entry_size(a, p->entry, &have, err) < 0)
        return -1;
    p->storage_bytes = (uint64_t)s->i * esize;
    if (have != p->storage_bytes)
        return ug_fail(err, "%s: tensor '%s': storage %s holds %llu bytes, but %lld elements of "
                            "%llu bytes were declared",
                       a->name, tn, ug_printable(kb, sizeof kb, s->s), (unsigned long long)have,
                       (long long)s->i, (unsigned long long)esize);
    return 0;
}

/* Reads one checked tensor into a new float array. */
static int load_tensor(const archive *a, const ug_pt_item *it, const plan *p, float **out,
                       ug_error *err)
{
    const ug_pk_obj *t = it->tensor, *s = t->storage;
    char what[320], nb[128], kb[128];
    snprintf(what, sizeof what, "tensor '%s': storage data/%s",
             ug_printable(nb, sizeof nb, it->name), ug_printable(kb, sizeof kb, s->s));
    *out = NULL;
    if (p->numel == 0)
        return 0;
    float *dst = malloc((size_t)p->numel * sizeof *dst);
    if (!dst)
        return ug_fail(err, "%s: %s: out of memory", a->name, what);
    /* The common case goes straight into the result: one copy, no staging. */
    if (s->dtype == UG_PK_F32 && ug_host_is_little_endian() && t->offset == 0 &&
        p->numel == (uint64_t)s->i) {
        if (read_entry(a, p->entry, dst, p->storage_bytes, what, err) < 0) {
            free(dst);
            return -1;
        }
        *out = dst;
        return 0;
    }
    unsigned char *raw = malloc((size_t)p->storage_bytes);
    if (!raw || read_entry(a, p->entry, raw, p->storage_bytes, what, err) < 0) {
        if (!raw)
            ug_fail(err, "%s: %s: out of memory", a->name, what);
        free(raw);
        free(dst);
        return -1;
    }
    size_t esize = ug_pk_dtype_size(s->dtype);
    ug_pt_decode(dst, raw + (size_t)t->offset * esize, (size_t)p->numel, s->dtype);
    free(raw);
    *out = dst;
    return 0;
}

static int build(const archive *a, const ug_pt_item *items, size_t n, ug_st_file **out,
                 ug_error *err)
{
    plan *plans = calloc(n, sizeof *plans);
    if (!plans)
        return ug_fail(err, "%s: out of memory", a->name);
    uint64_t total = 0;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = check_tensor(a, &items[i], &plans[i], &total, err);
    ug_st_file *f = NULL;
    if (rc == 0)
        rc = ug_st_new(&f, err);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        float *data;
        int64_t shape[UG_PK_MAX_DIMS];
        const ug_pk_obj *t = items[i].tensor;
        memcpy(shape, t->size, sizeof shape);
        rc = load_tensor(a, &items[i], &plans[i], &data, err);
        if (rc == 0)
            rc = ug_st_add(f, items[i].name, t->ndim, shape, data, a->name, err);
    }
    if (rc == 0)
        rc = ug_st_finish(f, a->name, err);
    free(plans);
    if (rc != 0) {
        ug_st_close(f);
        return -1;
    }
    *out = f;
    return 0;
}

/* Everything after the zip is open. */
static int read_archive(zip_t *za, uint64_t archive_bytes, const char *name,
                        const ug_pt_limits *lim, ug_st_file **out, ug_error *err)
{
    archive a = {za, name, "", "", lim, lim->max_tensor_bytes};
    if (!a.max_tensor_bytes) /* f16 doubles in float32; 8x leaves room, a zip bomb does not fit */
        a.max_tensor_bytes = archive_bytes > (UINT64_MAX - (1u << 20)) / 8
                                 ? UINT64_MAX : 8 * archive_bytes + (1u << 20);
    ug_pickle *pk = NULL;
    ug_pt_item *items = NULL;
    size_t n = 0;
    int rc = check_layout(&a, err);
    if (rc == 0)
        rc = load_pickle(&a, &pk, err);
    if (rc == 0) {
        char pname[512];
        snprintf(pname, sizeof pname, "%s: data.pkl", name);
        rc = ug_pt_flatten(ug_pk_root(pk), &items, &n, pname, lim->single_group, err);
    }
    if (rc == 0)
        rc = build(&a, items, n, out, err);
    ug_pt_items_free(items, n);
    ug_pk_free(pk);
    return rc;
}

static int zip_failed(zip_error_t *ze, const char *name, ug_error *err)
{
    ug_fail(err, "%s: not a readable zip archive: %s", name, zip_error_strerror(ze));
    zip_error_fini(ze);
    return -1;
}

int ug_pt_open_mem(ug_st_file **out, const void *buf, size_t len, const char *name,
                   const ug_pt_limits *lim, ug_error *err)
{
    *out = NULL;
    ug_pt_limits def;
    if (!lim) {
        ug_pt_limits_default(&def);
        lim = &def;
    }
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *src = zip_source_buffer_create(len ? buf : NULL, len, 0, &ze);
    if (!src)
        return zip_failed(&ze, name, err);
    zip_t *za = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &ze);
    if (!za) {
        zip_source_free(src);
        return zip_failed(&ze, name, err);
    }
    zip_error_fini(&ze);
    int rc = read_archive(za, len, name, lim, out, err);
    zip_discard(za); /* read-only: nothing to write back; frees the source */
    return rc;
}

int ug_pt_open(ug_st_file **out, const char *path, const char *single_group, ug_error *err)
{
    *out = NULL;
    uint64_t size;
    int fd = ug_open_read(path, &size, err);
    if (fd < 0)
        return -1;
    int code = 0;
    zip_t *za = zip_fdopen(fd, ZIP_RDONLY | ZIP_CHECKCONS, &code); /* closes fd on success */
    if (!za) {
        close(fd);
        zip_error_t ze;
        zip_error_init_with_code(&ze, code);
        return zip_failed(&ze, path, err);
    }
    ug_pt_limits lim;
    ug_pt_limits_default(&lim);
    lim.single_group = single_group;
    int rc = read_archive(za, size, path, &lim, out, err);
    zip_discard(za);
    return rc;
}
