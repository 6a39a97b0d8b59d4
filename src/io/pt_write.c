/* Writing .pt files as torch.save does (see pt.h): a pickle (protocol 2)
 * of {group: OrderedDict(name: tensor)}, or of one OrderedDict, whose tensors are rebuilt by
 * torch._utils._rebuild_tensor_v2 from persistent storage ids, and one raw
 * little-endian float32 storage per tensor, in a zip of stored entries built
 * in memory by libzip and then written through ug_atomic. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

#include "io/atomic.h"
#include "io/bytes.h"
#include "io/pt.h"

#define ARCHIVE "archive"
#define COPY_CHUNK 65536

/* ---- the pickle ------------------------------------------------------- */

typedef struct bytes {
    unsigned char *p;
    size_t n, cap;
    int failed;
} bytes;

static void put(bytes *b, const void *x, size_t n)
{
    if (b->failed)
        return;
    if (n > b->cap - b->n) {
        size_t cap = b->cap ? b->cap : 4096;
        while (n > cap - b->n)
            cap *= 2;
        unsigned char *p = realloc(b->p, cap);
        if (!p) {
            b->failed = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, x, n);
    b->n += n;
}

static void op(bytes *b, unsigned char c) { put(b, &c, 1); }

static void put_le(bytes *b, uint64_t v, int n)
{
    unsigned char x[8];
    for (int i = 0; i < n; i++)
        x[i] = (unsigned char)(v >> (8 * i));
    put(b, x, (size_t)n);
}

/* The shortest form the pickler would use for a non-negative int. */
static void put_int(bytes *b, uint64_t v)
{
    if (v < 256) {
        op(b, 'K');
        put_le(b, v, 1);
    } else if (v < 65536) {
        op(b, 'M');
        put_le(b, v, 2);
    } else if (v < 0x80000000u) {
        op(b, 'J');
        put_le(b, v, 4);
    } else { /* LONG1: little-endian two's complement; 8 bytes hold any int64 */
        int n = 1;
        while (n < 8 && (v >> (8 * n - 1)) != 0)
            n++;
        op(b, 0x8a);
        put_le(b, (uint64_t)n, 1);
        put_le(b, v, n);
    }
}

static void put_str(bytes *b, const char *s, size_t n)
{
    op(b, 'X');
    put_le(b, n, 4);
    put(b, s, n);
}

/* Memo entries for the repeated globals and strings: stored on first use
 * (numbered 0, 1, 2, ... in that order, as the pickler does) and fetched
 * after. defined[slot] is the memo index + 1, or 0; defined[N_MEMO] counts. */
enum { M_ORDERED_DICT, M_REBUILD, M_FLOAT_STORAGE, M_STORAGE_STR, M_CPU, N_MEMO };

static void memo_or_put(bytes *b, int *defined, int slot, const char *text)
{
    if (defined[slot]) {
        op(b, 'h');
        put_le(b, (uint64_t)(defined[slot] - 1), 1);
        return;
    }
    if (text[0] == 'c') { /* a GLOBAL */
        put(b, text, strlen(text));
    } else {
        put_str(b, text + 1, strlen(text + 1));
    }
    op(b, 'q');
    put_le(b, (uint64_t)defined[N_MEMO], 1);
    defined[slot] = ++defined[N_MEMO];
}

static const char *memo_text[N_MEMO] = {
    "ccollections\nOrderedDict\n", "ctorch._utils\n_rebuild_tensor_v2\n",
    "ctorch\nFloatStorage\n", "Xstorage", "Xcpu"};

/* An empty OrderedDict(): GLOBAL, EMPTY_TUPLE, REDUCE. */
static void empty_ordered_dict(bytes *b, int *defined)
{
    memo_or_put(b, defined, M_ORDERED_DICT, memo_text[M_ORDERED_DICT]);
    op(b, ')');
    op(b, 'R');
}

static void int_tuple(bytes *b, const int64_t *v, int n)
{
    if (n == 0) {
        op(b, ')');
        return;
    }
    op(b, '(');
    for (int i = 0; i < n; i++)
        put_int(b, (uint64_t)v[i]);
    op(b, 't');
}

static void put_tensor(bytes *b, int *defined, const ug_st_entry *t, size_t key, size_t numel)
{
    char k[32];
    int64_t stride[4];
    int64_t s = 1;
    for (int d = t->ndim - 1; d >= 0; d--) {
        stride[d] = s;
        s *= t->shape[d];
    }
    memo_or_put(b, defined, M_REBUILD, memo_text[M_REBUILD]);
    op(b, '(');
    op(b, '(');
    memo_or_put(b, defined, M_STORAGE_STR, memo_text[M_STORAGE_STR]);
    memo_or_put(b, defined, M_FLOAT_STORAGE, memo_text[M_FLOAT_STORAGE]);
    int kl = snprintf(k, sizeof k, "%zu", key);
    put_str(b, k, (size_t)kl);
    memo_or_put(b, defined, M_CPU, memo_text[M_CPU]);
    put_int(b, numel);
    op(b, 't');
    op(b, 'Q');       /* BINPERSID */
    put_int(b, 0);    /* storage offset */
    int_tuple(b, t->shape, t->ndim);
    int_tuple(b, stride, t->ndim);
    op(b, 0x89);      /* requires_grad False */
    empty_ordered_dict(b, defined); /* backward hooks */
    op(b, 't');
    op(b, 'R');
}

/* ---- grouping and checks --------------------------------------------- */

/* Group of each tensor (index of its first tensor's group; 0 for all in a
 * bare state_dict) and element counts. */
static int plan_groups(const ug_st_entry *t, size_t n, int bare, size_t *group, size_t *numel,
                       const char *path, ug_error *err)
{
    for (size_t i = 0; i < n; i++) {
        const char *dot = t[i].name ? strchr(t[i].name, '.') : NULL;
        if (!bare && (!dot || dot == t[i].name || !dot[1]))
            return ug_fail(err, "%s: tensor '%s' is not named GROUP.NAME", path,
                           t[i].name ? t[i].name : "(null)");
        if (bare && (!t[i].name || !t[i].name[0]))
            return ug_fail(err, "%s: a tensor without a name", path);
        size_t gl = bare ? 0 : (size_t)(dot - t[i].name);
        group[i] = bare ? 0 : i;
        for (size_t j = 0; j < i && !bare; j++)
            if (group[j] == j && strncmp(t[j].name, t[i].name, gl + 1) == 0) {
                group[i] = j;
                break;
            }
        if (t[i].ndim < 0 || t[i].ndim > 4)
            return ug_fail(err, "%s: tensor '%s': ndim %d is outside 0..4", path, t[i].name,
                           t[i].ndim);
        size_t c = 1;
        for (int d = 0; d < t[i].ndim; d++) {
            int64_t v = t[i].shape[d];
            if (v < 0 || (v > 0 && c > (SIZE_MAX / 8) / (uint64_t)v))
                return ug_fail(err, "%s: tensor '%s': bad shape[%d] = %lld", path, t[i].name, d,
                               (long long)v);
            c *= (size_t)v;
        }
        if (c > 0 && !t[i].data)
            return ug_fail(err, "%s: tensor '%s': no data", path, t[i].name);
        numel[i] = c;
    }
    return 0;
}

static int build_pickle(bytes *b, const ug_st_entry *t, size_t n, const size_t *group,
                        const size_t *numel)
{
    int defined[N_MEMO + 1] = {0};
    op(b, 0x80);
    op(b, 2);
    if (!group) {
        /* A bare state_dict: the names as they are. */
        empty_ordered_dict(b, defined);
        op(b, '(');
        for (size_t i = 0; i < n; i++) {
            put_str(b, t[i].name, strlen(t[i].name));
            put_tensor(b, defined, &t[i], i, numel[i]);
        }
        op(b, 'u');
        op(b, '.');
        return b->failed ? -1 : 0;
    }
    op(b, '}');
    op(b, '(');
    for (size_t g = 0; g < n; g++) {
        if (group[g] != g)
            continue;
        const char *dot = strchr(t[g].name, '.');
        put_str(b, t[g].name, (size_t)(dot - t[g].name));
        empty_ordered_dict(b, defined);
        op(b, '(');
        for (size_t i = g; i < n; i++) {
            if (group[i] != g)
                continue;
            const char *key = strchr(t[i].name, '.') + 1;
            put_str(b, key, strlen(key));
            put_tensor(b, defined, &t[i], i, numel[i]);
        }
        op(b, 'u');
    }
    op(b, 'u');
    op(b, '.');
    return b->failed ? -1 : 0;
}

/* Adds a stored entry with a fixed time (reproducible output); data is borrowed. */
/* ---- the zip ---------------------------------------------------------- */

static int add_entry(zip_t *za, const char *name, const void *data, size_t len)
{
    zip_source_t *s = zip_source_buffer(za, len ? data : NULL, len, 0);
    if (!s)
        return -1;
    zip_int64_t idx = zip_file_add(za, name, s, ZIP_FL_ENC_UTF_8);
    if (idx < 0) {
        zip_source_free(s);
        return -1;
    }
    if (zip_set_file_compression(za, (zip_uint64_t)idx, ZIP_CM_STORE, 0) != 0 ||
        zip_file_set_dostime(za, (zip_uint64_t)idx, 0, 0x21, 0) != 0) /* 1980-01-01 */
        return -1;
    return 0;
}

/* Copies the finished in-memory archive into the atomic file. */
static int copy_out(zip_source_t *src, ug_atomic *a)
{
    if (zip_source_open(src) != 0)
        return -1;
    unsigned char chunk[COPY_CHUNK];
    zip_int64_t got;
    while ((got = zip_source_read(src, chunk, sizeof chunk)) > 0)
        ug_atomic_write(a, chunk, (size_t)got); /* a failure is reported by the commit */
    zip_source_close(src);
    return got < 0 ? -1 : 0;
}

/* Builds the archive in src: data.pkl, data/N, version (torch's order). */
static int build_zip(zip_source_t *src, const bytes *pkl, const ug_st_entry *t, size_t n,
                     const size_t *numel, float **swapped, const char *path, ug_error *err)
{
    zip_error_t ze;
    zip_error_init(&ze);
    zip_t *za = zip_open_from_source(src, ZIP_TRUNCATE, &ze);
    if (!za) {
        ug_fail(err, "%s: cannot create the zip archive: %s", path, zip_error_strerror(&ze));
        zip_error_fini(&ze);
        return -1;
    }
    zip_error_fini(&ze);
    int ok = add_entry(za, ARCHIVE "/data.pkl", pkl->p, pkl->n) == 0;
    for (size_t i = 0; ok && i < n; i++) {
        char name[64];
        snprintf(name, sizeof name, ARCHIVE "/data/%zu", i);
        ok = add_entry(za, name, swapped ? swapped[i] : t[i].data, numel[i] * 4) == 0;
    }
    ok = ok && add_entry(za, ARCHIVE "/version", "3\n", 2) == 0;
    if (!ok || zip_close(za) != 0) {
        ug_fail(err, "%s: cannot build the zip archive: %s", path, zip_strerror(za));
        zip_discard(za);
        return -1;
    }
    return 0;
}

/* Little-endian copies of every tensor, for a big-endian host. */
static float **swap_all(const ug_st_entry *t, size_t n, const size_t *numel)
{
    float **s = calloc(n ? n : 1, sizeof *s);
    for (size_t i = 0; s && i < n; i++) {
        if (!(s[i] = malloc(numel[i] ? numel[i] * 4 : 1)))
            return s; /* the caller frees; a NULL entry marks the failure */
        for (size_t j = 0; j < numel[i]; j++) {
            uint32_t v;
            unsigned char le[4];
            memcpy(&v, &t[i].data[j], 4);
            for (int k = 0; k < 4; k++)
                le[k] = (unsigned char)(v >> (8 * k));
            memcpy(&s[i][j], le, 4);
        }
    }
    return s;
}

static int write_pt(const char *path, const ug_st_entry *t, size_t n, int bare, ug_error *err)
{
    size_t *group = malloc((n ? n : 1) * sizeof *group);
    size_t *numel = malloc((n ? n : 1) * sizeof *numel);
    float **swapped = NULL;
    bytes pkl = {0};
    zip_source_t *src = NULL;
    int rc = -1;
    if (!group || !numel) {
        ug_fail(err, "%s: out of memory", path);
        goto done;
    }
    if (plan_groups(t, n, bare, group, numel, path, err) < 0)
        goto done;
    if (build_pickle(&pkl, t, n, bare ? NULL : group, numel) < 0) {
        ug_fail(err, "%s: out of memory building data.pkl", path);
        goto done;
    }
    if (!ug_host_is_little_endian()) {
        swapped = swap_all(t, n, numel);
        for (size_t i = 0; i < n || !swapped; i++)
            if (!swapped || !swapped[i]) {
                ug_fail(err, "%s: out of memory", path);
                goto done;
            }
    }
    zip_error_t ze;
    zip_error_init(&ze);
    src = zip_source_buffer_create(NULL, 0, 0, &ze);
    zip_error_fini(&ze);
    if (!src) {
        ug_fail(err, "%s: out of memory", path);
        goto done;
    }
    zip_source_keep(src); /* survives zip_close, which writes the archive into it */
    if (build_zip(src, &pkl, t, n, numel, swapped, path, err) < 0)
        goto done;
    ug_atomic a;
    if (ug_atomic_open(&a, path, err) < 0)
        goto done;
    if (copy_out(src, &a) < 0) {
        ug_atomic_abort(&a);
        ug_fail(err, "%s: cannot read back the zip archive", path);
        goto done;
    }
    rc = ug_atomic_commit(&a, err);
done:
    if (src)
        zip_source_free(src);
    if (swapped)
        for (size_t i = 0; i < n; i++)
            free(swapped[i]);
    free(swapped);
    free(pkl.p);
    free(group);
    free(numel);
    return rc;
}

int ug_pt_write(const char *path, const ug_st_entry *t, size_t n, ug_error *err)
{
    return write_pt(path, t, n, 0, err);
}

int ug_pt_write_state_dict(const char *path, const ug_st_entry *t, size_t n, ug_error *err)
{
    return write_pt(path, t, n, 1, err);
}
