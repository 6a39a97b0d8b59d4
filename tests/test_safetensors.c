/* Tests for src/io/safetensors.c: a write/read round trip, the dtypes that
 * are converted on reading, and the refusal of broken or hostile files. */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "files.h"
#include "io/safetensors.h"

static char tmpdir[] = "/tmp/ug_st_test_XXXXXX";

static void path_in_tmp(char *buf, size_t cap, const char *name)
{
    snprintf(buf, cap, "%s/%s", tmpdir, name);
}

/* A file with the given header length field, header text and data. */
static void write_st(const char *path, uint64_t hlen, const char *header, const void *data,
                     size_t data_len)
{
    size_t htext = strlen(header);
    size_t total = 8 + htext + data_len;
    unsigned char *buf = malloc(total);
    for (int i = 0; i < 8; i++)
        buf[i] = (unsigned char)(hlen >> (8 * i));
    memcpy(buf + 8, header, htext);
    if (data_len)
        memcpy(buf + 8 + htext, data, data_len);
    write_bytes(path, buf, total);
    free(buf);
}

static void write_st_auto(const char *path, const char *header, const void *data, size_t n)
{
    write_st(path, strlen(header), header, data, n);
}

/* Expects ug_st_open to fail with a message naming the file and containing
 * the fragment. */
static void expect_refusal(const char *path, const char *fragment, const char *what)
{
    ug_st_file *f = (ug_st_file *)1;
    ug_error err = {""};
    int rc = ug_st_open(&f, path, &err);
    CHECK(rc == -1, "%s: accepted", what);
    CHECK(f == NULL, "%s: *out not cleared", what);
    CHECK(strstr(err.msg, path) != NULL, "%s: message does not name the file: %s", what, err.msg);
    CHECK(strstr(err.msg, fragment) != NULL, "%s: message lacks '%s': %s", what, fragment,
          err.msg);
    CHECK(strchr(err.msg, '\n') == NULL, "%s: message is not one line", what);
    if (rc == 0)
        ug_st_close(f);
}

static int count_dir_entries(void)
{
    DIR *d = opendir(tmpdir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    if (d)
        closedir(d);
    return n;
}

static void test_round_trip(void)
{
    char path[512];
    path_in_tmp(path, sizeof path, "model.safetensors");
    float a[6] = {1, -2, 3.5f, 1e-30f, -0.0f, 65504};
    float b[4] = {0.1f, 0.2f, 0.3f, 0.4f};
    float c[1] = {42};
    float d[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    ug_st_entry t[] = {
        {.name = "genA2B.FC.0.weight", .ndim = 2, .shape = {2, 3}, .data = a},
        {.name = "b", .ndim = 1, .shape = {4}, .data = b},
        {.name = "scalar", .ndim = 0, .shape = {0}, .data = c},
        {.name = "empty", .ndim = 2, .shape = {0, 5}, .data = NULL},
        {.name = "d \"quoted\"", .ndim = 4, .shape = {1, 2, 2, 2}, .data = d},
    };
    const char *meta[] = {"format", "pt", "step", "1000"};
    ug_error err = {""};
    int before = count_dir_entries();
    CHECK(ug_st_write(path, t, 5, meta, 2, &err) == 0, "write: %s", err.msg);
    CHECK(count_dir_entries() == before + 1, "temporary file left behind");

    size_t n;
    unsigned char *raw = read_bytes(path, &n);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--)
        hlen = hlen << 8 | raw[i];
    CHECK(hlen % 8 == 0, "header length %llu is not a multiple of 8", (unsigned long long)hlen);
    CHECK(n == 8 + hlen + 4 * (6 + 4 + 1 + 8), "file size %zu", n);
    /* The data follows contiguously, in order, as little-endian F32. */
    size_t pos = 8 + hlen;
    const float *all[] = {a, b, c, d};
    size_t counts[] = {6, 4, 1, 8};
    for (int k = 0; k < 4; k++) {
        for (size_t i = 0; i < counts[k]; i++, pos += 4) {
            uint32_t bits;
            memcpy(&bits, &all[k][i], 4);
            uint32_t got = (uint32_t)raw[pos] | (uint32_t)raw[pos + 1] << 8 |
                           (uint32_t)raw[pos + 2] << 16 | (uint32_t)raw[pos + 3] << 24;
            CHECK(got == bits, "tensor %d element %zu stored wrongly", k, i);
        }
    }
    free(raw);

    ug_st_file *f = NULL;
    CHECK(ug_st_open(&f, path, &err) == 0, "open: %s", err.msg);
    if (!f)
        return;
    CHECK(ug_st_count(f) == 5, "count %zu", ug_st_count(f));
    for (size_t i = 0; i < 5 && i < ug_st_count(f); i++) {
        const ug_st_tensor *r = ug_st_at(f, i);
        size_t numel = 1;
        CHECK(strcmp(r->name, t[i].name) == 0, "tensor %zu is '%s'", i, r->name);
        CHECK(r->ndim == t[i].ndim, "tensor %zu ndim %d", i, r->ndim);
        for (int dd = 0; dd < t[i].ndim; dd++) {
            CHECK(r->shape[dd] == t[i].shape[dd], "tensor %zu shape[%d]", i, dd);
            numel *= (size_t)t[i].shape[dd];
        }
        CHECK(r->numel == numel, "tensor %zu numel %zu", i, r->numel);
        CHECK(r->data != NULL, "tensor %zu has NULL data", i);
        if (numel)
            CHECK(memcmp(r->data, t[i].data, numel * 4) == 0, "tensor %zu data differ", i);
        CHECK(((uintptr_t)r->data & 3) == 0, "tensor %zu data misaligned", i);
        CHECK(ug_st_find(f, t[i].name) == r, "find '%s'", t[i].name);
    }
    CHECK(ug_st_at(f, 5) == NULL, "at(5) should be NULL");
    CHECK(ug_st_find(f, "nope") == NULL, "find of a missing name");
    CHECK(ug_st_meta(f, "format") && strcmp(ug_st_meta(f, "format"), "pt") == 0, "meta format");
    CHECK(ug_st_meta(f, "step") && strcmp(ug_st_meta(f, "step"), "1000") == 0, "meta step");
    CHECK(ug_st_meta(f, "missing") == NULL, "meta missing");
    ug_st_close(f);

    /* Overwriting replaces the file atomically and leaves nothing behind. */
    CHECK(ug_st_write(path, t, 1, NULL, 0, &err) == 0, "rewrite: %s", err.msg);
    CHECK(count_dir_entries() == before + 1, "temporary file left behind on rewrite");
    CHECK(ug_st_open(&f, path, &err) == 0, "reopen: %s", err.msg);
    if (f) {
        CHECK(ug_st_count(f) == 1, "rewritten count %zu", ug_st_count(f));
        CHECK(ug_st_meta(f, "format") == NULL, "no metadata after rewrite");
        ug_st_close(f);
    }
    unlink(path);
}

static void test_write_refusals(void)
{
    char path[512];
    ug_error err = {""};
    float x[2] = {1, 2};
    ug_st_entry dup[] = {{.name = "w", .ndim = 1, .shape = {2}, .data = x},
                         {.name = "w", .ndim = 1, .shape = {2}, .data = x}};
    path_in_tmp(path, sizeof path, "dup.safetensors");
    CHECK(ug_st_write(path, dup, 2, NULL, 0, &err) == -1, "duplicate names written");
    CHECK(strstr(err.msg, path) != NULL, "message: %s", err.msg);
    CHECK(access(path, F_OK) != 0, "file created despite the error");

    ug_st_entry neg[] = {{.name = "w", .ndim = 1, .shape = {-2}, .data = x}};
    CHECK(ug_st_write(path, neg, 1, NULL, 0, &err) == -1, "negative shape written");

    const char *nodir = "/nonexistent-dir-ugatit/x.safetensors";
    CHECK(ug_st_write(nodir, dup, 1, NULL, 0, &err) == -1, "write into a missing directory");
    CHECK(strstr(err.msg, nodir) != NULL, "message: %s", err.msg);
    CHECK(count_dir_entries() == 0, "files left behind");
}

/* Tensors read from an open file as they are written (in_file): the same
 * file as from memory, past the writer's buffer and from an offset; a file
 * that ends first is an error naming the tensor, and leaves nothing. */
static void test_write_from_file(void)
{
    enum { N = 40000 }; /* more than one 64 kB buffer */
    char src[512], a[512], b[512];
    ug_error err = {""};
    float *x = malloc((N + 3) * sizeof *x);
    for (int i = 0; i < N + 3; i++)
        x[i] = (float)i * 0.25f - 7.0f;
    path_in_tmp(src, sizeof src, "floats.bin");
    path_in_tmp(a, sizeof a, "mem.safetensors");
    path_in_tmp(b, sizeof b, "file.safetensors");
    FILE *f = fopen(src, "wb");
    CHECK(f && fwrite(x, sizeof *x, N + 3, f) == N + 3 && fclose(f) == 0, "write %s", src);
    int fd = open(src, O_RDONLY);
    ug_st_entry mem[] = {{.name = "w", .ndim = 1, .shape = {N}, .data = x + 3},
                         {.name = "s", .ndim = 0, .shape = {0}, .data = x}};
    ug_st_entry file[] = {{.name = "w", .ndim = 1, .shape = {N}, .in_file = 1, .fd = fd,
                           .pos = 3 * sizeof *x},
                          {.name = "s", .ndim = 0, .shape = {0}, .in_file = 1, .fd = fd}};
    CHECK(ug_st_write(a, mem, 2, NULL, 0, &err) == 0, "%s", err.msg);
    CHECK(ug_st_write(b, file, 2, NULL, 0, &err) == 0, "%s", err.msg);
    size_t na = 0, nb = 0;
    unsigned char *ba = read_bytes(a, &na), *bb = read_bytes(b, &nb);
    CHECK(ba && bb && na == nb && memcmp(ba, bb, na) == 0, "written from a file: other bytes");
    free(ba);
    free(bb);
    unlink(a);
    file[0].pos = 4 * sizeof *x; /* one float past the end */
    CHECK(ug_st_write(b, file, 2, NULL, 0, &err) == -1 && strstr(err.msg, b) &&
              strstr(err.msg, "tensor 'w'") && strstr(err.msg, "ends before"),
          "a short source: %s", err.msg);
    CHECK(access(b, F_OK) == 0, "the earlier file was removed");
    unlink(b);
    close(fd);
    unlink(src);
    CHECK(count_dir_entries() == 0, "files left behind");
    free(x);
}

static void test_dtypes(void)
{
    char path[512];
    path_in_tmp(path, sizeof path, "dtypes.safetensors");
    /* F16: 1.0, -2.0, 65504, smallest subnormal; BF16: 1.0, -3.0;
     * F64: 0.1, -1e300 (overflows to -inf in float32). */
    unsigned char data[8 + 4 + 16];
    const uint16_t f16[4] = {0x3c00, 0xc000, 0x7bff, 0x0001};
    const uint16_t bf16[2] = {0x3f80, 0xc040};
    const double f64[2] = {0.1, -1e300};
    for (int i = 0; i < 4; i++) {
        data[2 * i] = (unsigned char)f16[i];
        data[2 * i + 1] = (unsigned char)(f16[i] >> 8);
    }
    for (int i = 0; i < 2; i++) {
        data[8 + 2 * i] = (unsigned char)bf16[i];
        data[8 + 2 * i + 1] = (unsigned char)(bf16[i] >> 8);
    }
    for (int i = 0; i < 2; i++) {
        uint64_t bits;
        memcpy(&bits, &f64[i], 8);
        for (int k = 0; k < 8; k++)
            data[12 + 8 * i + k] = (unsigned char)(bits >> (8 * k));
    }
    write_st_auto(path,
                  "{\"h\":{\"dtype\":\"F16\",\"shape\":[2,2],\"data_offsets\":[0,8]},"
                  "\"bf\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[8,12]},"
                  "\"d\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[12,28]}}   ",
                  data, sizeof data);
    ug_st_file *f = NULL;
    ug_error err = {""};
    CHECK(ug_st_open(&f, path, &err) == 0, "open: %s", err.msg);
    if (!f)
        return;
    const ug_st_tensor *h = ug_st_find(f, "h"), *bf = ug_st_find(f, "bf"), *d = ug_st_find(f, "d");
    CHECK(h && bf && d, "tensors missing");
    if (h && bf && d) {
        CHECK(h->data[0] == 1.0f && h->data[1] == -2.0f && h->data[2] == 65504.0f,
              "F16 values %g %g %g", h->data[0], h->data[1], h->data[2]);
        CHECK(h->data[3] == ldexpf(1.0f, -24), "F16 subnormal %g", h->data[3]);
        CHECK(bf->data[0] == 1.0f && bf->data[1] == -3.0f, "BF16 values");
        CHECK(d->data[0] == 0.1f && isinf(d->data[1]) && d->data[1] < 0, "F64 values");
        CHECK(((uintptr_t)bf->data & 3) == 0, "BF16 data misaligned");
    }
    /* Deferred: the same values read in parts from the file, and a read
     * after the file shrank is an error naming it. */
    ug_st_file *g = NULL;
    CHECK(ug_st_open_deferred(&g, path, &err) == 0, "open deferred: %s", err.msg);
    for (size_t i = 0; g && f && i < ug_st_count(f); i++) {
        const ug_st_tensor *a = ug_st_at(f, i), *b = ug_st_find(g, a->name);
        CHECK(b && !b->data && b->numel == a->numel, "deferred tensor '%s'", a->name);
        for (size_t first = 0; b && first < a->numel; first++) {
            float part[4] = {0};
            size_t count = a->numel - first;
            CHECK(ug_st_read(g, b, first, count, part, &err) == 0, "read: %s", err.msg);
            CHECK(memcmp(part, a->data + first, count * sizeof *part) == 0,
                  "'%s' from element %zu differs from the eager read", a->name, first);
        }
        float one[4];
        CHECK(b && ug_st_read(g, b, a->numel, 1, one, &err) < 0, "read past the end accepted");
    }
    if (g) {
        struct stat st;
        CHECK(stat(path, &st) == 0 && truncate(path, st.st_size - 8) == 0, "truncate");
        float two[2];
        CHECK(ug_st_read(g, ug_st_find(g, "d"), 0, 2, two, &err) < 0 &&
                  strstr(err.msg, path) && strstr(err.msg, "'d'"),
              "read from a truncated file: %s", err.msg);
        ug_st_close(g);
    }
    ug_st_close(f);
    unlink(path);
}

static void test_refusals(void)
{
    char path[512];
    float x[4] = {1, 2, 3, 4};
    const char *ok = "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}";

    path_in_tmp(path, sizeof path, "refuse.safetensors");

    /* Sanity: the well-formed version opens. */
    write_st_auto(path, ok, x, sizeof x);
    ug_st_file *f = NULL;
    ug_error err = {""};
    CHECK(ug_st_open(&f, path, &err) == 0, "well-formed file refused: %s", err.msg);
    ug_st_close(f);

    /* Truncated: the last tensor's bytes are cut. */
    write_st_auto(path, ok, x, 10);
    expect_refusal(path, "exceed", "truncated data");

    write_bytes(path, "\x10\0\0", 3);
    expect_refusal(path, "too short", "file shorter than the length field");

    write_st(path, 1000, ok, x, sizeof x);
    expect_refusal(path, "exceeds", "header length beyond the file");

    write_st(path, 0xffffffffffull, ok, x, sizeof x);
    expect_refusal(path, "absurd", "absurd header length");

    write_st_auto(path, "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]", x,
                  sizeof x);
    expect_refusal(path, "JSON", "bad JSON");

    write_st_auto(path, "[1, 2]", NULL, 0);
    expect_refusal(path, "JSON object", "header not an object");

    write_st_auto(path, "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}} x",
                  x, sizeof x);
    expect_refusal(path, "JSON", "trailing garbage after the header");

    write_st_auto(path, "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[16,32]}}", x,
                  sizeof x);
    expect_refusal(path, "exceed the 16 bytes of data", "tensor data beyond the file");

    write_st_auto(path, "{\"w\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[0,16]}}", x,
                  sizeof x);
    expect_refusal(path, "dtype 'I64'", "unsupported dtype");

    write_st_auto(path, "{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,16]}}", x,
                  sizeof x);
    expect_refusal(path, "tensor 'w'", "shape/size mismatch");

    write_st_auto(path,
                  "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                  "\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}",
                  x, sizeof x);
    expect_refusal(path, "twice", "duplicate key");

    write_st_auto(path, "{\"w\":{\"dtype\":\"F32\",\"shape\":[-4],\"data_offsets\":[0,16]}}", x,
                  sizeof x);
    expect_refusal(path, "shape[0]", "negative shape");

    write_st_auto(path,
                  "{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,16],"
                  "\"data_offsets\":[0,16]}}",
                  x, sizeof x);
    expect_refusal(path, "tensor 'w'", "huge shape");

    write_st_auto(path, "{\"w\":{\"dtype\":\"F32\",\"shape\":[4]}}", x, sizeof x);
    expect_refusal(path, "data_offsets", "missing data_offsets");

    write_st_auto(path, "{\"w\":{\"shape\":[4],\"data_offsets\":[0,16]}}", x, sizeof x);
    expect_refusal(path, "dtype", "missing dtype");

    write_st_auto(path, "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[8,0]}}", x,
                  sizeof x);
    expect_refusal(path, "backwards", "reversed offsets");

    write_st_auto(path, "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0.5,16]}}", x,
                  sizeof x);
    expect_refusal(path, "data_offsets", "fractional offsets");

    write_st_auto(path, "{\"__metadata__\":{\"a\":1}}", NULL, 0);
    expect_refusal(path, "__metadata__", "non-string metadata");

    write_st_auto(path, "{\"w\\u0000\\n\":{\"dtype\":\"X\",\"shape\":[4],\"data_offsets\":[0,16]}}",
                  x, sizeof x);
    expect_refusal(path, "dtype", "control characters in a name");

    /* Valid header followed by a truncated copy of a real file. */
    char big[512];
    path_in_tmp(big, sizeof big, "cut.safetensors");
    float y[100] = {0};
    ug_st_entry e[] = {{.name = "a", .ndim = 1, .shape = {100}, .data = y}};
    CHECK(ug_st_write(big, e, 1, NULL, 0, &err) == 0, "write: %s", err.msg);
    size_t n;
    unsigned char *raw = read_bytes(big, &n);
    write_bytes(big, raw, n - 1);
    expect_refusal(big, "exceed", "file cut by one byte");
    write_bytes(big, raw, 20);
    expect_refusal(big, "exceeds", "file cut inside the header");
    free(raw);

    expect_refusal(tmpdir, "not a regular file", "a directory");
    char missing[512];
    path_in_tmp(missing, sizeof missing, "missing.safetensors");
    expect_refusal(missing, "cannot open", "a missing file");
    unlink(big);
    unlink(path);
}

/* Every data byte belongs to exactly one tensor: overlapping offsets, a gap
 * and bytes after the last tensor are refused; tensors stored in another
 * order than the header's are fine. */
static void test_layout(void)
{
    char path[512];
    path_in_tmp(path, sizeof path, "layout.safetensors");
    float x[5] = {1, 2, 3, 4, 5};
    write_st_auto(path,
                  "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                  "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
                  x, 12);
    expect_refusal(path, "tensors 'a' and 'b' overlap", "overlapping tensors");
    write_st_auto(path,
                  "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                  "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
                  x, 8);
    expect_refusal(path, "overlap", "two tensors on the same bytes");
    write_st_auto(path,
                  "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                  "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[12,20]}}",
                  x, 20);
    expect_refusal(path, "4 bytes of data before tensor 'b' belong to no tensor", "a gap");
    write_st_auto(path, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
                  x, 12);
    expect_refusal(path, "before tensor 'a'", "a gap at the start");
    write_st_auto(path, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
                  x, 12);
    expect_refusal(path, "4 bytes after the last tensor", "trailing bytes");
    write_st_auto(path, "{}", x, 4);
    expect_refusal(path, "after the last tensor", "data without tensors");

    write_st_auto(path,
                  "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]},"
                  "\"e\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,8]},"
                  "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
                  x, 16);
    ug_st_file *f = NULL;
    ug_error err;
    CHECK(ug_st_open(&f, path, &err) == 0, "tensors out of header order: %s", err.msg);
    if (f) {
        CHECK(ug_st_find(f, "a")->data[0] == 3 && ug_st_find(f, "b")->data[1] == 2,
              "tensors out of header order read wrongly");
        ug_st_close(f);
    }
    unlink(path);
}

/* A FIFO is refused, not waited on. */
static void test_fifo(void)
{
    char path[512];
    path_in_tmp(path, sizeof path, "fifo.safetensors");
    CHECK(mkfifo(path, 0600) == 0, "mkfifo %s", path);
    alarm(60); /* a reader that waits on the FIFO fails here instead of hanging */
    expect_refusal(path, "is a FIFO, not a regular file", "a FIFO");
    alarm(0);
    unlink(path);
}

int main(void)
{
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 2;
    }
    test_round_trip();
    test_write_refusals();
    test_write_from_file();
    test_dtypes();
    test_refusals();
    test_fifo();
    test_layout();
    CHECK(count_dir_entries() == 0, "files left in %s", tmpdir);
    rmdir(tmpdir);
    return check_summary();
}
