/* Reading and writing safetensors files (see safetensors.h). The reader
 * validates the whole header against the file size before it allocates
 * anything large, so a hostile file gives an error, never a crash. */
#include "io/safetensors.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/atomic.h"
#include "io/bytes.h"
#include "io/file.h"

#define MAX_HEADER_BYTES 100000000ull   /* a real header is a few hundred kB */
#define MAX_EXACT_INT 9007199254740992.0 /* 2^53: JSON numbers are doubles */
#define CHUNK_BYTES 65536

enum dtype { DT_F32, DT_F16, DT_BF16, DT_F64 };

/* Where the bytes come from: an open file or a caller's buffer. */
typedef struct source {
    FILE *fp;                 /* NULL for a buffer */
    const unsigned char *buf;
    uint64_t size;
} source;

/* Where a deferred tensor's data lies in the file. */
typedef struct stored {
    uint64_t pos;
    enum dtype dtype;
} stored;

struct ug_st_file {
    size_t n;
    ug_st_tensor *t;  /* names and data are owned (allocated here) */
    size_t *by_name;  /* indices of t sorted by name, for ug_st_find */
    size_t n_meta;
    char **meta;      /* 2 * n_meta strings: key, value, key, value... */
    /* Deferred files only (else NULL): the open file, its path for
     * messages, and where each tensor's data lies in it. */
    source src;
    char *path;
    stored *at;
};

/* n bytes at offset pos of fd: 0, or the errno of a failed read, or -1 if
 * the file ends first. */
static int pread_all(int fd, void *dst, size_t n, uint64_t pos)
{
    for (size_t done = 0; done < n;) {
        ssize_t k = pread(fd, (char *)dst + done, n - done, (off_t)(pos + done));
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return k < 0 ? errno : -1;
        done += (size_t)k;
    }
    return 0;
}

/* Reads n bytes at absolute offset pos; -1 if they are not all there. */
static int src_read(const source *s, uint64_t pos, void *dst, size_t n)
{
    if (pos > s->size || n > s->size - pos)
        return -1;
    if (!s->fp) {
        memcpy(dst, s->buf + pos, n);
        return 0;
    }
    /* pread, not stdio: a deferred file is read long after it was opened,
     * and a stream's buffer would hide that it shrank since. */
    return pread_all(fileno(s->fp), dst, n, pos);
}

/* What the header says about one tensor, before the data is read. */
typedef struct header_tensor {
    const char *name; /* points into the cJSON tree */
    enum dtype dtype;
    int ndim;
    int64_t shape[UG_ST_MAX_DIMS];
    size_t numel;
    uint64_t begin, end;
} header_tensor;

/* ---- small helpers ---------------------------------------------------- */

static uint64_t load_u64_le(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static void store_u64_le(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static size_t dtype_size(enum dtype d)
{
    switch (d) {
    case DT_F32: return 4;
    case DT_F16: return 2;
    case DT_BF16: return 2;
    case DT_F64: return 8;
    }
    return 0;
}

static int parse_dtype(const char *s, enum dtype *d)
{
    static const struct { const char *name; enum dtype d; } table[] = {
        {"F32", DT_F32}, {"F16", DT_F16}, {"BF16", DT_BF16}, {"F64", DT_F64}};
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        if (strcmp(s, table[i].name) == 0) {
            *d = table[i].d;
            return 0;
        }
    }
    return -1;
}

/* A JSON number that is a non-negative integer exactly representable. */
static int json_uint(const cJSON *v, uint64_t *out)
{
    if (!cJSON_IsNumber(v))
        return -1;
    double d = v->valuedouble;
    if (!(d >= 0 && d <= MAX_EXACT_INT) || (double)(uint64_t)d != d)
        return -1;
    *out = (uint64_t)d;
    return 0;
}

/* IEEE half to float, exact (subnormals, infinities and NaN included). */
static float half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h >> 15) << 31;
    uint32_t exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
    if (exp == 0x1f) {
        bits = sign | 0x7f800000u | (man << 13);
    } else if (exp != 0) {
        bits = sign | ((exp + 112) << 23) | (man << 13);
    } else if (man == 0) {
        bits = sign;
    } else { /* subnormal: normalise the mantissa */
        int e = 113;
        while (!(man & 0x400)) {
            man <<= 1;
            e--;
        }
        bits = sign | ((uint32_t)e << 23) | ((man & 0x3ff) << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/* Decodes count little-endian elements of dtype d from raw into dst. */
static void decode(float *dst, const unsigned char *raw, size_t count, enum dtype d)
{
    for (size_t i = 0; i < count; i++) {
        const unsigned char *p = raw + i * dtype_size(d);
        switch (d) {
        case DT_F32: {
            uint32_t b = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                         (uint32_t)p[3] << 24;
            memcpy(&dst[i], &b, 4);
            break;
        }
        case DT_F16:
            dst[i] = half_to_float((uint16_t)(p[0] | p[1] << 8));
            break;
        case DT_BF16: {
            uint32_t b = ((uint32_t)p[0] | (uint32_t)p[1] << 8) << 16;
            memcpy(&dst[i], &b, 4);
            break;
        }
        case DT_F64: {
            uint64_t b = load_u64_le(p);
            double v;
            memcpy(&v, &b, 8);
            dst[i] = (float)v;
            break;
        }
        }
    }
}

void ug_st_decode(float *dst, const unsigned char *raw, size_t count, ug_st_dtype d)
{
    static const enum dtype map[] = {DT_F32, DT_F16, DT_BF16, DT_F64};
    decode(dst, raw, count, map[d]);
}

static int compare_names(const char *a, const char *b) { return strcmp(a, b); }

/* qsort over indices needs the names; carried through a file-less struct. */
typedef struct name_index {
    const char *name;
    size_t index;
} name_index;

static int cmp_name_index(const void *a, const void *b)
{
    const name_index *x = a, *y = b;
    int c = compare_names(x->name, y->name);
    if (c)
        return c;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* Sorts names (with their positions) and reports the first duplicate, or
 * NULL. The caller frees *sorted_out (may be NULL when n == 0). */
static int sort_names(const char *const *names, size_t n, name_index **sorted_out,
                      const char **dup)
{
    *dup = NULL;
    *sorted_out = NULL;
    if (n == 0)
        return 0;
    name_index *s = malloc(n * sizeof *s);
    if (!s)
        return -1;
    for (size_t i = 0; i < n; i++) {
        s[i].name = names[i];
        s[i].index = i;
    }
    qsort(s, n, sizeof *s, cmp_name_index);
    for (size_t i = 1; i < n && !*dup; i++)
        if (strcmp(s[i - 1].name, s[i].name) == 0)
            *dup = s[i].name;
    *sorted_out = s;
    return 0;
}

/* ---- reading ---------------------------------------------------------- */

/* Validates one tensor entry of the header against the data size. */
static int parse_tensor(header_tensor *ht, const cJSON *item, uint64_t data_size,
                        const char *path, ug_error *err)
{
    char nb[128];
    const char *name = ug_printable(nb, sizeof nb, item->string);
    ht->name = item->string;
    if (!cJSON_IsObject(item))
        return ug_fail(err, "%s: tensor '%s': header entry is not a JSON object", path, name);

    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(item, "dtype");
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(item, "shape");
    const cJSON *off = cJSON_GetObjectItemCaseSensitive(item, "data_offsets");
    if (!cJSON_IsString(dt))
        return ug_fail(err, "%s: tensor '%s': missing or non-string \"dtype\"", path, name);
    if (parse_dtype(dt->valuestring, &ht->dtype) != 0) {
        char db[32];
        return ug_fail(err, "%s: tensor '%s': unsupported dtype '%s' (F32, F16, BF16, F64 are read)",
                       path, name, ug_printable(db, sizeof db, dt->valuestring));
    }
    if (!cJSON_IsArray(sh))
        return ug_fail(err, "%s: tensor '%s': missing or non-array \"shape\"", path, name);
    int ndim = cJSON_GetArraySize(sh);
    if (ndim > UG_ST_MAX_DIMS)
        return ug_fail(err, "%s: tensor '%s': %d dimensions, at most %d are supported", path, name,
                       ndim, UG_ST_MAX_DIMS);
    ht->ndim = ndim;
    size_t numel = 1;
    int overflow = 0, d = 0;
    for (const cJSON *e = sh->child; e; e = e->next, d++) {
        uint64_t v;
        if (json_uint(e, &v) != 0)
            return ug_fail(err, "%s: tensor '%s': shape[%d] is not a non-negative integer", path,
                           name, d);
        ht->shape[d] = (int64_t)v;
        if (v != 0 && numel > SIZE_MAX / 8 / v)
            overflow = 1; /* keep scanning: a later 0 makes the tensor empty */
        else
            numel *= (size_t)v;
    }
    if (overflow && numel != 0)
        return ug_fail(err, "%s: tensor '%s': shape is too large", path, name);
    ht->numel = numel;

    if (!cJSON_IsArray(off) || cJSON_GetArraySize(off) != 2)
        return ug_fail(err, "%s: tensor '%s': missing \"data_offsets\" [begin, end]", path, name);
    if (json_uint(off->child, &ht->begin) != 0 || json_uint(off->child->next, &ht->end) != 0)
        return ug_fail(err, "%s: tensor '%s': data_offsets are not non-negative integers", path,
                       name);
    if (ht->begin > ht->end)
        return ug_fail(err, "%s: tensor '%s': data_offsets [%llu, %llu] run backwards", path, name,
                       (unsigned long long)ht->begin, (unsigned long long)ht->end);
    if (ht->end > data_size)
        return ug_fail(err, "%s: tensor '%s': data_offsets [%llu, %llu] exceed the %llu bytes of data",
                       path, name, (unsigned long long)ht->begin, (unsigned long long)ht->end,
                       (unsigned long long)data_size);
    uint64_t want = (uint64_t)numel * dtype_size(ht->dtype);
    if (ht->end - ht->begin != want)
        return ug_fail(err, "%s: tensor '%s': shape needs %llu bytes of %s but data_offsets [%llu, %llu] hold %llu",
                       path, name, (unsigned long long)want, dt->valuestring,
                       (unsigned long long)ht->begin, (unsigned long long)ht->end,
                       (unsigned long long)(ht->end - ht->begin));
    return 0;
}

/* Copies the "__metadata__" string map into f. */
static int parse_metadata(ug_st_file *f, const cJSON *md, const char *path, ug_error *err)
{
    if (!cJSON_IsObject(md))
        return ug_fail(err, "%s: \"__metadata__\" is not a JSON object", path);
    size_t n = (size_t)cJSON_GetArraySize(md);
    if (n == 0)
        return 0;
    f->meta = calloc(2 * n, sizeof *f->meta);
    if (!f->meta)
        return ug_fail(err, "%s: out of memory", path);
    for (const cJSON *e = md->child; e; e = e->next) {
        char kb[128];
        if (!cJSON_IsString(e))
            return ug_fail(err, "%s: \"__metadata__\" value for '%s' is not a string", path,
                           ug_printable(kb, sizeof kb, e->string));
        for (size_t i = 0; i < f->n_meta; i++)
            if (strcmp(f->meta[2 * i], e->string) == 0)
                return ug_fail(err, "%s: \"__metadata__\" key '%s' appears twice", path,
                               ug_printable(kb, sizeof kb, e->string));
        size_t kl = strlen(e->string), vl = strlen(e->valuestring);
        char *k = malloc(kl + 1), *v = malloc(vl + 1);
        if (!k || !v) {
            free(k);
            free(v);
            return ug_fail(err, "%s: out of memory", path);
        }
        memcpy(k, e->string, kl + 1);
        memcpy(v, e->valuestring, vl + 1);
        f->meta[2 * f->n_meta] = k;
        f->meta[2 * f->n_meta + 1] = v;
        f->n_meta++;
    }
    return 0;
}

/* Reads count elements of type d at absolute offset pos as float32. */
static int read_elements(const source *src, uint64_t pos, enum dtype d, size_t count, float *dst)
{
    if (d == DT_F32 && ug_host_is_little_endian())
        return src_read(src, pos, dst, 4 * count);
    unsigned char chunk[CHUNK_BYTES];
    size_t esize = dtype_size(d), per = CHUNK_BYTES / esize;
    for (size_t done = 0; done < count;) {
        size_t k = count - done < per ? count - done : per;
        if (src_read(src, pos + (uint64_t)done * esize, chunk, k * esize) != 0)
            return -1;
        decode(dst + done, chunk, k, d);
        done += k;
    }
    return 0;
}

/* Reads one tensor's bytes at absolute offset pos and decodes them. */
static int read_tensor(ug_st_tensor *t, const header_tensor *ht, const source *src, uint64_t pos,
                       const char *path, ug_error *err)
{
    char nb[128];
    float *dst = malloc((ht->numel ? ht->numel : 1) * sizeof(float));
    if (!dst)
        return ug_fail(err, "%s: tensor '%s': out of memory for %zu floats", path,
                       ug_printable(nb, sizeof nb, ht->name), ht->numel);
    t->data = dst;
    if (read_elements(src, pos, ht->dtype, ht->numel, dst) != 0)
        return ug_fail(err, "%s: tensor '%s': read failed (file truncated while reading?)", path,
                       ug_printable(nb, sizeof nb, ht->name));
    return 0;
}

/* Reads the 8-byte length and the JSON header; returns the parsed tree. */
static int read_header(const source *src, const char *path, cJSON **root, uint64_t *hlen,
                       uint64_t *data_size, ug_error *err)
{
    uint64_t fsize = src->size;
    unsigned char lenbuf[8];
    if (fsize < 8 || src_read(src, 0, lenbuf, 8) != 0)
        return ug_fail(err, "%s: file is %llu bytes, too short for a safetensors header", path,
                       (unsigned long long)fsize);
    uint64_t n = load_u64_le(lenbuf);
    if (n > MAX_HEADER_BYTES)
        return ug_fail(err, "%s: header length %llu is absurd (limit %llu); not a safetensors file?",
                       path, (unsigned long long)n, MAX_HEADER_BYTES);
    if (n > fsize - 8)
        return ug_fail(err, "%s: header length %llu exceeds the %llu bytes after the length field",
                       path, (unsigned long long)n, (unsigned long long)(fsize - 8));
    if (n < 2)
        return ug_fail(err, "%s: header length %llu is too short for a JSON object", path,
                       (unsigned long long)n);
    char *text = malloc((size_t)n + 1);
    if (!text)
        return ug_fail(err, "%s: out of memory for a %llu-byte header", path,
                       (unsigned long long)n);
    if (src_read(src, 8, text, (size_t)n) != 0) {
        free(text);
        return ug_fail(err, "%s: cannot read the %llu-byte header", path, (unsigned long long)n);
    }
    text[n] = '\0';
    const char *end = NULL;
    *root = cJSON_ParseWithLengthOpts(text, (size_t)n, &end, 0);
    size_t stop = end ? (size_t)(end - text) : 0;
    int trailing = 0;
    for (size_t i = stop; *root && i < (size_t)n; i++)
        if (!strchr(" \t\r\n", text[i]) || text[i] == '\0')
            trailing = 1;
    free(text);
    if (!*root)
        return ug_fail(err, "%s: header is not valid JSON (error near byte %zu of %llu)", path,
                       stop, (unsigned long long)n);
    if (trailing || !cJSON_IsObject(*root)) {
        cJSON_Delete(*root);
        *root = NULL;
        return ug_fail(err, "%s: header is not a single JSON object", path);
    }
    *hlen = n;
    *data_size = fsize - 8 - n;
    return 0;
}

/* Parses every header entry into hts (n_tensors of them) and the metadata. */
static int parse_entries(ug_st_file *f, const cJSON *root, header_tensor *hts,
                         uint64_t data_size, const char *path, ug_error *err)
{
    size_t k = 0;
    int seen_meta = 0;
    for (const cJSON *e = root->child; e; e = e->next) {
        if (strcmp(e->string, "__metadata__") == 0) {
            if (seen_meta++)
                return ug_fail(err, "%s: duplicate key \"__metadata__\" in the header", path);
            if (parse_metadata(f, e, path, err) != 0)
                return -1;
        } else if (parse_tensor(&hts[k++], e, data_size, path, err) != 0) {
            return -1;
        }
    }
    return 0;
}

static int cmp_offsets(const void *a, const void *b)
{
    const header_tensor *x = *(const header_tensor *const *)a, *y = *(const header_tensor *const *)b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

/* The format's rule for the data: the tensors' bytes, each byte in exactly
 * one tensor, with no gap and nothing after the last. */
static int check_layout(const header_tensor *hts, size_t n, uint64_t data_size,
                        const char *path, ug_error *err)
{
    const header_tensor **order = malloc((n ? n : 1) * sizeof *order);
    if (!order)
        return ug_fail(err, "%s: out of memory", path);
    for (size_t i = 0; i < n; i++)
        order[i] = &hts[i];
    qsort(order, n, sizeof *order, cmp_offsets);
    char na[128], nb[128];
    uint64_t at = 0;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const header_tensor *h = order[i];
        if (h->begin < at)
            rc = ug_fail(err, "%s: tensors '%s' and '%s' overlap (data_offsets [%llu, %llu] and "
                              "[%llu, %llu])", path, ug_printable(na, sizeof na, order[i - 1]->name),
                         ug_printable(nb, sizeof nb, h->name),
                         (unsigned long long)order[i - 1]->begin,
                         (unsigned long long)order[i - 1]->end, (unsigned long long)h->begin,
                         (unsigned long long)h->end);
        else if (h->begin > at)
            rc = ug_fail(err, "%s: %llu bytes of data before tensor '%s' belong to no tensor",
                         path, (unsigned long long)(h->begin - at),
                         ug_printable(nb, sizeof nb, h->name));
        at = h->end;
    }
    if (rc == 0 && at != data_size)
        rc = ug_fail(err, "%s: %llu bytes after the last tensor's data belong to no tensor", path,
                     (unsigned long long)(data_size - at));
    free(order);
    return rc;
}

/* Builds the by-name index and rejects duplicate names. */
static int index_names(ug_st_file *f, const char *path, ug_error *err)
{
    const char **names = malloc((f->n ? f->n : 1) * sizeof *names);
    if (!names)
        return ug_fail(err, "%s: out of memory", path);
    for (size_t i = 0; i < f->n; i++)
        names[i] = f->t[i].name;
    name_index *sorted;
    const char *dup;
    int rc = sort_names(names, f->n, &sorted, &dup);
    free(names);
    if (rc != 0)
        return ug_fail(err, "%s: out of memory", path);
    if (dup) {
        char nb[128];
        free(sorted);
        return ug_fail(err, "%s: tensor '%s' appears twice in the header", path,
                       ug_printable(nb, sizeof nb, dup));
    }
    f->by_name = malloc((f->n ? f->n : 1) * sizeof *f->by_name);
    if (!f->by_name) {
        free(sorted);
        return ug_fail(err, "%s: out of memory", path);
    }
    for (size_t i = 0; i < f->n; i++)
        f->by_name[i] = sorted[i].index;
    free(sorted);
    return 0;
}

/* The tensors to list: n names, or every tensor when names is NULL; with
 * deferred, their data is left in the file. */
typedef struct selection {
    const char *const *names;
    size_t n;
    int deferred;
} selection;

static int selected(const selection *sel, const char *name)
{
    if (!sel->names)
        return 1;
    for (size_t i = 0; i < sel->n; i++)
        if (strcmp(sel->names[i], name) == 0)
            return 1;
    return 0;
}

/* Fills f from an already-parsed header: validation of every entry first,
 * then the data of the selected ones. */
static int load(ug_st_file *f, const source *src, const cJSON *root, uint64_t hlen,
                uint64_t data_size, const selection *sel, const char *path, ug_error *err)
{
    size_t count = (size_t)cJSON_GetArraySize(root);
    if (cJSON_GetObjectItemCaseSensitive(root, "__metadata__"))
        count--;
    header_tensor *hts = calloc(count ? count : 1, sizeof *hts);
    f->t = calloc(count ? count : 1, sizeof *f->t);
    if (!hts || !f->t) {
        free(hts);
        return ug_fail(err, "%s: out of memory", path);
    }
    int rc = parse_entries(f, root, hts, data_size, path, err);
    if (rc == 0)
        rc = check_layout(hts, count, data_size, path, err);
    if (rc == 0) {
        size_t kept = 0;
        for (size_t i = 0; i < count; i++)
            if (selected(sel, hts[i].name))
                hts[kept++] = hts[i];
        count = kept;
    }
    for (size_t i = 0; rc == 0 && i < count; i++) {
        size_t len = strlen(hts[i].name);
        char *name = malloc(len + 1);
        if (!name) {
            rc = ug_fail(err, "%s: out of memory", path);
            break;
        }
        memcpy(name, hts[i].name, len + 1);
        ug_st_tensor *t = &f->t[i];
        t->name = name;
        t->ndim = hts[i].ndim;
        memcpy(t->shape, hts[i].shape, sizeof t->shape);
        t->numel = hts[i].numel;
        f->n = i + 1;
    }
    if (rc == 0)
        rc = index_names(f, path, err);
    if (rc == 0 && sel->deferred && !(f->at = malloc((count ? count : 1) * sizeof *f->at)))
        rc = ug_fail(err, "%s: out of memory", path);
    for (size_t i = 0; rc == 0 && i < count; i++) {
        uint64_t pos = 8 + hlen + hts[i].begin;
        if (sel->deferred)
            f->at[i] = (stored){pos, hts[i].dtype};
        else
            rc = read_tensor(&f->t[i], &hts[i], src, pos, path, err);
    }
    free(hts);
    return rc;
}

/* Parses a file from src; path names it in messages. */
static int open_source(ug_st_file **out, const source *src, const selection *sel,
                       const char *path, ug_error *err)
{
    cJSON *root = NULL;
    uint64_t hlen = 0, data_size = 0;
    if (read_header(src, path, &root, &hlen, &data_size, err) != 0)
        return -1;
    ug_st_file *f = calloc(1, sizeof *f);
    int rc = f ? load(f, src, root, hlen, data_size, sel, path, err)
               : ug_fail(err, "%s: out of memory", path);
    cJSON_Delete(root);
    if (rc != 0) {
        ug_st_close(f);
        return -1;
    }
    *out = f;
    return 0;
}

static int open_path(ug_st_file **out, const char *path, const selection *sel, ug_error *err)
{
    *out = NULL;
    uint64_t size;
    FILE *fp = ug_fopen_read(path, &size, err);
    if (!fp)
        return -1;
    source src = {fp, NULL, size};
    if (open_source(out, &src, sel, path, err) != 0) {
        fclose(fp);
        return -1;
    }
    if (!sel->deferred) {
        fclose(fp);
        return 0;
    }
    (*out)->src = src;
    if (!((*out)->path = strdup(path))) {
        ug_st_close(*out);
        *out = NULL;
        return ug_fail(err, "%s: out of memory", path);
    }
    return 0;
}

int ug_st_open(ug_st_file **out, const char *path, ug_error *err)
{
    const selection every = {NULL, 0, 0};
    return open_path(out, path, &every, err);
}

int ug_st_open_some(ug_st_file **out, const char *path, const char *const *names, size_t n,
                    ug_error *err)
{
    const selection some = {names, n, 0};
    return open_path(out, path, &some, err);
}

int ug_st_open_deferred(ug_st_file **out, const char *path, ug_error *err)
{
    const selection every = {NULL, 0, 1};
    return open_path(out, path, &every, err);
}

int ug_st_read(const ug_st_file *f, const ug_st_tensor *t, size_t first, size_t count,
               float *dst, ug_error *err)
{
    char nb[128];
    if (first > t->numel || count > t->numel - first)
        return ug_fail(err, "internal: elements [%zu, %zu) of tensor '%s', which has %zu",
                       first, first + count, ug_printable(nb, sizeof nb, t->name), t->numel);
    if (t->data) {
        memcpy(dst, t->data + first, count * sizeof *dst);
        return 0;
    }
    const stored *at = &f->at[t - f->t];
    if (read_elements(&f->src, at->pos + (uint64_t)first * dtype_size(at->dtype), at->dtype,
                      count, dst) != 0)
        return ug_fail(err, "%s: tensor '%s': read failed (file truncated since it was opened?)",
                       f->path, ug_printable(nb, sizeof nb, t->name));
    return 0;
}

int ug_st_open_mem(ug_st_file **out, const void *buf, size_t len, const char *name,
                   ug_error *err)
{
    *out = NULL;
    source src = {NULL, buf, len};
    const selection every = {NULL, 0, 0};
    return open_source(out, &src, &every, name, err);
}

/* ---- building in memory ----------------------------------------------- */

int ug_st_new(ug_st_file **out, ug_error *err)
{
    *out = calloc(1, sizeof **out);
    return *out ? 0 : ug_fail(err, "out of memory");
}

int ug_st_add(ug_st_file *f, const char *name, int ndim, const int64_t *shape, float *data,
              const char *path, ug_error *err)
{
    char nb[128];
    if (ndim < 0 || ndim > UG_ST_MAX_DIMS) {
        free(data);
        return ug_fail(err, "%s: tensor '%s': %d dimensions, at most %d are supported", path,
                       ug_printable(nb, sizeof nb, name), ndim, UG_ST_MAX_DIMS);
    }
    size_t numel = 1;
    for (int d = 0; d < ndim; d++) {
        if (shape[d] < 0 || (shape[d] > 0 && numel > SIZE_MAX / 8 / (uint64_t)shape[d])) {
            free(data);
            return ug_fail(err, "%s: tensor '%s': bad shape[%d] = %lld", path,
                           ug_printable(nb, sizeof nb, name), d, (long long)shape[d]);
        }
        numel *= (size_t)shape[d];
    }
    /* Growing by doubling: the array's capacity is the next power of two. */
    if ((f->n & (f->n - 1)) == 0) {
        size_t cap = f->n ? 2 * f->n : 1;
        ug_st_tensor *t = cap <= SIZE_MAX / sizeof *t ? realloc(f->t, cap * sizeof *t) : NULL;
        if (!t) {
            free(data);
            return ug_fail(err, "%s: out of memory", path);
        }
        f->t = t;
    }
    if (!data && numel > 0)
        return ug_fail(err, "%s: tensor '%s': no data", path, ug_printable(nb, sizeof nb, name));
    size_t len = strlen(name);
    char *copy = malloc(len + 1);
    if (!copy || (!data && !(data = malloc(sizeof(float))))) {
        free(copy);
        free(data);
        return ug_fail(err, "%s: out of memory", path);
    }
    memcpy(copy, name, len + 1);
    ug_st_tensor *t = &f->t[f->n++];
    memset(t, 0, sizeof *t);
    t->name = copy;
    t->ndim = ndim;
    for (int d = 0; d < ndim; d++)
        t->shape[d] = shape[d];
    t->numel = numel;
    t->data = data;
    return 0;
}

int ug_st_finish(ug_st_file *f, const char *path, ug_error *err)
{
    free(f->by_name);
    f->by_name = NULL;
    return index_names(f, path, err);
}

size_t ug_st_count(const ug_st_file *f) { return f->n; }

const ug_st_tensor *ug_st_at(const ug_st_file *f, size_t i) { return i < f->n ? &f->t[i] : NULL; }

const ug_st_tensor *ug_st_find(const ug_st_file *f, const char *name)
{
    size_t lo = 0, hi = f->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const ug_st_tensor *t = &f->t[f->by_name[mid]];
        int c = strcmp(name, t->name);
        if (c == 0)
            return t;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

size_t ug_st_meta_count(const ug_st_file *f) { return f->n_meta; }

const char *ug_st_meta(const ug_st_file *f, const char *key)
{
    for (size_t i = 0; i < f->n_meta; i++)
        if (strcmp(f->meta[2 * i], key) == 0)
            return f->meta[2 * i + 1];
    return NULL;
}

void ug_st_close(ug_st_file *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n; i++) {
        free((char *)f->t[i].name);
        free((float *)f->t[i].data);
    }
    free(f->t);
    free(f->by_name);
    for (size_t i = 0; i < 2 * f->n_meta; i++)
        free(f->meta[i]);
    free(f->meta);
    if (f->src.fp)
        fclose(f->src.fp);
    free(f->path);
    free(f->at);
    free(f);
}

/* ---- writing ---------------------------------------------------------- */

/* Checks the entries before anything is written; counts elements. */
static int check_entries(const ug_st_entry *t, size_t n, const char *const *meta, size_t n_meta,
                         size_t *numel, const char *path, ug_error *err)
{
    char nb[128];
    for (size_t i = 0; i < n; i++) {
        if (!t[i].name || !t[i].name[0] || strcmp(t[i].name, "__metadata__") == 0)
            return ug_fail(err, "%s: tensor %zu has an empty or reserved name", path, i);
        const char *name = ug_printable(nb, sizeof nb, t[i].name);
        if (t[i].ndim < 0 || t[i].ndim > 4)
            return ug_fail(err, "%s: tensor '%s': ndim %d is outside 0..4", path, name, t[i].ndim);
        size_t c = 1;
        for (int d = 0; d < t[i].ndim; d++) {
            int64_t v = t[i].shape[d];
            if (v < 0 || (v > 0 && c > (size_t)(MAX_EXACT_INT / 4) / (uint64_t)v))
                return ug_fail(err, "%s: tensor '%s': bad shape[%d] = %lld", path, name, d,
                               (long long)v);
            c *= (size_t)v;
        }
        if (c > 0 && !t[i].data && !t[i].in_file)
            return ug_fail(err, "%s: tensor '%s': no data", path, name);
        numel[i] = c;
    }
    for (size_t i = 0; i < 2 * n_meta; i++)
        if (!meta[i])
            return ug_fail(err, "%s: metadata pair %zu has a NULL string", path, i / 2);
    const char **names = malloc((n ? n : 1) * sizeof *names);
    if (!names)
        return ug_fail(err, "%s: out of memory", path);
    for (size_t i = 0; i < n; i++)
        names[i] = t[i].name;
    name_index *sorted;
    const char *dup;
    int rc = sort_names(names, n, &sorted, &dup);
    free(names);
    free(sorted);
    if (rc != 0)
        return ug_fail(err, "%s: out of memory", path);
    if (dup)
        return ug_fail(err, "%s: tensor '%s' is given twice", path,
                       ug_printable(nb, sizeof nb, dup));
    return 0;
}

static cJSON *int_array(const uint64_t *v, int n)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; a && i < n; i++) {
        cJSON *num = cJSON_CreateNumber((double)v[i]);
        if (!num || !cJSON_AddItemToArray(a, num)) {
            cJSON_Delete(num);
            cJSON_Delete(a);
            return NULL;
        }
    }
    return a;
}

static int add_tensor_json(cJSON *root, const ug_st_entry *t, uint64_t begin, uint64_t end)
{
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddItemToObject(root, t->name, o)) {
        cJSON_Delete(o);
        return -1;
    }
    uint64_t shape[4], offs[2] = {begin, end};
    for (int d = 0; d < t->ndim; d++)
        shape[d] = (uint64_t)t->shape[d];
    cJSON *s = int_array(shape, t->ndim), *off = int_array(offs, 2);
    int ok = cJSON_AddStringToObject(o, "dtype", "F32") != NULL;
    ok = ok && s && cJSON_AddItemToObject(o, "shape", s);
    if (!ok)
        cJSON_Delete(s);
    ok = ok && off && cJSON_AddItemToObject(o, "data_offsets", off);
    if (!ok)
        cJSON_Delete(off);
    return ok ? 0 : -1;
}

/* The header JSON, unformatted; NULL when out of memory. */
static char *build_header(const ug_st_entry *t, size_t n, const size_t *numel,
                          const char *const *meta, size_t n_meta)
{
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return NULL;
    int ok = 1;
    if (n_meta > 0) {
        cJSON *md = cJSON_AddObjectToObject(root, "__metadata__");
        ok = md != NULL;
        for (size_t i = 0; ok && i < n_meta; i++) {
            cJSON_DeleteItemFromObjectCaseSensitive(md, meta[2 * i]); /* last value wins */
            ok = cJSON_AddStringToObject(md, meta[2 * i], meta[2 * i + 1]) != NULL;
        }
    }
    uint64_t off = 0;
    for (size_t i = 0; ok && i < n; i++) {
        ok = add_tensor_json(root, &t[i], off, off + 4 * (uint64_t)numel[i]) == 0;
        off += 4 * (uint64_t)numel[i];
    }
    char *text = ok ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    return text;
}

/* Writes count floats of e as little-endian F32 through a small buffer;
 * not 0 if reading them from e's file fails (pread_all's). */
static int write_f32(ug_atomic *a, const ug_st_entry *e, size_t count)
{
    unsigned char buf[CHUNK_BYTES];
    float in[CHUNK_BYTES / 4];
    size_t per = CHUNK_BYTES / 4;
    for (size_t done = 0; done < count;) {
        size_t k = count - done < per ? count - done : per;
        if (e->in_file) {
            int rc = pread_all(e->fd, in, 4 * k, e->pos + 4 * (uint64_t)done);
            if (rc != 0)
                return rc;
        }
        const float *x = e->in_file ? in : e->data + done;
        for (size_t i = 0; i < k; i++) {
            uint32_t b;
            memcpy(&b, &x[i], 4);
            buf[4 * i] = (unsigned char)b;
            buf[4 * i + 1] = (unsigned char)(b >> 8);
            buf[4 * i + 2] = (unsigned char)(b >> 16);
            buf[4 * i + 3] = (unsigned char)(b >> 24);
        }
        ug_atomic_write(a, buf, 4 * k); /* a failure is reported by the commit */
        done += k;
    }
    return 0;
}

int ug_st_write(const char *path, const ug_st_entry *t, size_t n, const char *const *meta,
                size_t n_meta, ug_error *err)
{
    size_t *numel = malloc((n ? n : 1) * sizeof *numel);
    if (!numel)
        return ug_fail(err, "%s: out of memory", path);
    if (check_entries(t, n, meta, n_meta, numel, path, err) != 0) {
        free(numel);
        return -1;
    }
    char *header = build_header(t, n, numel, meta, n_meta);
    if (!header) {
        free(numel);
        return ug_fail(err, "%s: out of memory building the header", path);
    }
    size_t hlen = strlen(header);
    size_t padded = (hlen + 7) / 8 * 8; /* keeps the data 8-byte aligned */

    ug_atomic a;
    if (ug_atomic_open(&a, path, err) != 0) {
        free(header);
        free(numel);
        return -1;
    }
    unsigned char lenbuf[8];
    store_u64_le(lenbuf, padded);
    ug_atomic_write(&a, lenbuf, 8);
    ug_atomic_write(&a, header, hlen);
    ug_atomic_write(&a, "       ", padded - hlen);
    for (size_t i = 0; i < n; i++) {
        int rc = write_f32(&a, &t[i], numel[i]);
        if (rc != 0) {
            ug_atomic_abort(&a);
            free(header);
            free(numel);
            return ug_fail(err, "%s: reading tensor '%s' from its file failed: %s", path,
                           t[i].name, rc > 0 ? strerror(rc) : "the file ends before it");
        }
    }
    free(header);
    free(numel);
    return ug_atomic_commit(&a, err);
}
