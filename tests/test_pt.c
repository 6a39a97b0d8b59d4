/* Tests for the PyTorch .pt reader and writer (src/io/pt*.c, pickle.c,
 * tensor_file.c) and `ugatit convert`: the committed fixtures written by
 * torch.save (tools/make_pt_fixtures.py) load bit for bit like their
 * safetensors twins, the legacy (pre-1.6) files like their zip twins,
 * translate gives the same PNG from either, conversions round-trip, and
 * broken or hostile files and pickles are refused. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "files.h"
#include "io/pickle.h"
#include "io/pt.h"
#include "io/safetensors.h"
#include "io/tensor_file.h"

#define PT UGATIT_FIXTURES "/pt/"
#define SAMPLE CHECK_SAMPLES "/testA/female_2321.jpg"

static char tmpdir[] = "/tmp/ug_pt_test_XXXXXX";

static void in_tmp(char *buf, size_t cap, const char *name)
{
    snprintf(buf, cap, "%s/%s", tmpdir, name);
}

/* Same names in the same order, shapes, and bit-identical data. */
static void expect_same(const ug_st_file *a, const ug_st_file *b, const char *what)
{
    CHECK(ug_st_count(a) == ug_st_count(b), "%s: %zu vs %zu tensors", what, ug_st_count(a),
          ug_st_count(b));
    for (size_t i = 0; i < ug_st_count(a) && i < ug_st_count(b); i++) {
        const ug_st_tensor *x = ug_st_at(a, i), *y = ug_st_at(b, i);
        /* ugatit_ref.save_safetensors stores a 0-dim tensor with shape [1]. */
        int scalar = x->ndim == 0 && y->ndim == 1 && y->shape[0] == 1;
        int same = strcmp(x->name, y->name) == 0 && (x->ndim == y->ndim || scalar) &&
                   x->numel == y->numel;
        for (int d = 0; same && !scalar && d < x->ndim; d++)
            same = x->shape[d] == y->shape[d];
        CHECK(same, "%s: tensor %zu: '%s' vs '%s' (name, shape)", what, i, x->name, y->name);
        if (same)
            CHECK(memcmp(x->data, y->data, x->numel * sizeof(float)) == 0,
                  "%s: tensor '%s' differs", what, x->name);
        CHECK(ug_st_find(a, x->name) == x, "%s: find '%s'", what, x->name);
    }
}

static void expect_twin(const char *stem)
{
    char pt[512], st[512];
    snprintf(pt, sizeof pt, PT "%s.pt", stem);
    snprintf(st, sizeof st, PT "%s.safetensors", stem);
    ug_st_file *a = NULL, *b = NULL, *c = NULL;
    ug_error err = {""};
    CHECK(ug_tensor_file_open(&a, pt, "genA2B", &err) == 0, "%s: %s", pt, err.msg);
    CHECK(ug_tensor_file_open(&b, st, "genA2B", &err) == 0, "%s: %s", st, err.msg);
    size_t n;
    unsigned char *bytes = read_bytes(pt, &n);
    ug_pt_limits lim;
    ug_pt_limits_default(&lim);
    lim.single_group = "genA2B";
    CHECK(ug_pt_open_mem(&c, bytes, n, pt, &lim, &err) == 0, "%s (memory): %s", pt, err.msg);
    if (a && b)
        expect_same(a, b, stem);
    if (a && c)
        expect_same(a, c, stem);
    ug_st_close(a);
    ug_st_close(b);
    ug_st_close(c);
    free(bytes);
}

static void test_fixtures(void)
{
    expect_twin("light96_params_0000001");
    expect_twin("full32");
    expect_twin("gen_only");
    expect_twin("dtypes");

    ug_st_file *f = NULL;
    ug_error err = {""};
    CHECK(ug_tensor_file_open(&f, PT "light96_params_0000001.pt", "genA2B", &err) == 0, "%s", err.msg);
    if (f) {
        const char *groups[] = {"genA2B", "genB2A", "disGA", "disGB", "disLA", "disLB"};
        for (int g = 0; g < 6; g++) {
            char name[128];
            snprintf(name, sizeof name, "%s.%s", groups[g],
                     g < 2 ? "DownBlock.1.weight" : "model.1.weight_u");
            CHECK(ug_st_find(f, name) != NULL, "light96: no '%s'", name);
        }
        CHECK(ug_st_meta_count(f) == 0, "a .pt has no metadata");
        ug_st_close(f);
    }
    CHECK(ug_tensor_file_open(&f, PT "gen_only.pt", "genA2B", &err) == 0, "%s", err.msg);
    if (f) {
        CHECK(ug_st_find(f, "genA2B.DownBlock.1.weight") != NULL, "gen_only: genA2B. prefix");
        CHECK(ug_st_find(f, "genB2A.DownBlock.1.weight") == NULL, "gen_only: no genB2A");
        ug_st_close(f);
    }
    /* Without a network to put a single state_dict under, it is refused. */
    CHECK(ug_tensor_file_open(&f, PT "gen_only.pt", NULL, &err) < 0 &&
              strstr(err.msg, "a single state_dict, and no network it would belong to"),
          "a single state_dict without a group: %s", err.msg);
    CHECK(ug_tensor_file_open(&f, PT "dtypes.pt", "genA2B", &err) == 0, "%s", err.msg);
    if (f) {
        const ug_st_tensor *t = ug_st_find(f, "genA2B.scalar");
        CHECK(t && t->ndim == 0 && t->numel == 1 && t->data[0] == 2.5f, "0-dim tensor");
        t = ug_st_find(f, "genA2B.empty");
        CHECK(t && t->ndim == 2 && t->numel == 0, "empty tensor");
        t = ug_st_find(f, "genA2B.row");
        CHECK(t && t->ndim == 1 && t->shape[0] == 4, "view with an offset");
        ug_st_close(f);
    }
}

/* A legacy file loads, from its path and from memory, as its zip twin does. */
static void expect_legacy_twin(const char *stem, const char *zip_stem)
{
    char legacy[512], zip[512];
    snprintf(legacy, sizeof legacy, PT "%s_legacy.pt", stem);
    snprintf(zip, sizeof zip, PT "%s.pt", zip_stem);
    ug_st_file *a = NULL, *b = NULL, *c = NULL;
    ug_error err = {""};
    CHECK(ug_tensor_file_is_pt(legacy, NULL) == 1, "%s: not told to be a .pt", legacy);
    CHECK(ug_tensor_file_open(&a, legacy, "genA2B", &err) == 0, "%s: %s", legacy, err.msg);
    CHECK(ug_tensor_file_open(&b, zip, "genA2B", &err) == 0, "%s: %s", zip, err.msg);
    size_t n;
    unsigned char *bytes = read_bytes(legacy, &n);
    ug_pt_limits lim;
    ug_pt_limits_default(&lim);
    lim.single_group = "genA2B";
    CHECK(ug_pt_legacy_open_mem(&c, bytes, n, legacy, &lim, &err) == 0, "%s (memory): %s",
          legacy, err.msg);
    if (a && b)
        expect_same(a, b, stem);
    if (a && c)
        expect_same(a, c, stem);
    ug_st_close(a);
    ug_st_close(b);
    ug_st_close(c);
    free(bytes);
}

static void test_legacy(void)
{
    expect_legacy_twin("gen_only", "gen_only");
    expect_legacy_twin("dtypes", "dtypes");
    expect_legacy_twin("mixed", "mixed");
    expect_legacy_twin("mixed_proto4", "mixed");

    ug_st_file *f = NULL;
    ug_error err = {""};
    CHECK(ug_tensor_file_open(&f, PT "mixed_legacy.pt", NULL, &err) == 0, "%s", err.msg);
    if (f) {
        /* One storage shared by two groups, whole and as a row; int64 to float. */
        const ug_st_tensor *w = ug_st_find(f, "genA2B.w"), *row = ug_st_find(f, "genA2B.row"),
                           *again = ug_st_find(f, "disGA.w_again"),
                           *nbt = ug_st_find(f, "genA2B.bn.num_batches_tracked");
        CHECK(w && w->numel == 6 && w->data[5] == 5, "mixed: w");
        CHECK(row && row->numel == 3 && row->data[0] == 3 && row->data[2] == 5, "mixed: row");
        CHECK(again && w && memcmp(again->data, w->data, 6 * sizeof(float)) == 0, "mixed: shared");
        CHECK(nbt && nbt->ndim == 0 && nbt->data[0] == 7, "mixed: num_batches_tracked");
        ug_st_close(f);
    }
    CHECK(ug_tensor_file_open(&f, PT "gen_only_legacy.pt", NULL, &err) < 0 &&
              strstr(err.msg, "a single state_dict, and no network it would belong to"),
          "a legacy single state_dict without a group: %s", err.msg);
}

/* Runs the CLI; returns its exit status. */
static int run_cli(const char *args)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "'%s' %s 2>%s/stderr.txt", UGATIT_CLI, args, tmpdir);
    int rc = system(cmd);
    return rc == -1 ? -1 : WEXITSTATUS(rc);
}

static int same_file(const char *a, const char *b)
{
    size_t na, nb;
    unsigned char *x = read_bytes(a, &na), *y = read_bytes(b, &nb);
    int same = x && y && na == nb && memcmp(x, y, na) == 0;
    free(x);
    free(y);
    return same;
}

static void test_translate(void)
{
    const char *cases[][2] = {{"light96_params_0000001", "--img_size 96"}, {"full32", ""},
                              {"gen_only", "--img_size 96"}};
    for (int i = 0; i < 3; i++) {
        char args[2048], png_pt[512], png_st[512];
        in_tmp(png_pt, sizeof png_pt, "from_pt.png");
        in_tmp(png_st, sizeof png_st, "from_st.png");
        snprintf(args, sizeof args, "translate --model '" PT "%s.pt' --input '%s' --output '%s' %s",
                 cases[i][0], SAMPLE, png_pt, cases[i][1]);
        CHECK(run_cli(args) == 0, "translate with %s.pt failed", cases[i][0]);
        snprintf(args, sizeof args,
                 "translate --model '" PT "%s.safetensors' --input '%s' --output '%s' %s",
                 cases[i][0], SAMPLE, png_st, cases[i][1]);
        CHECK(run_cli(args) == 0, "translate with %s.safetensors failed", cases[i][0]);
        CHECK(same_file(png_pt, png_st), "%s: the PNGs from .pt and .safetensors differ",
              cases[i][0]);
        unlink(png_pt);
        unlink(png_st);
    }
    /* The legacy twin of gen_only translates as its safetensors twin does. */
    char args[2048], png[512], png_st[512];
    in_tmp(png, sizeof png, "from_legacy.png");
    in_tmp(png_st, sizeof png_st, "from_st.png");
    const char *models[] = {"gen_only_legacy.pt", "gen_only.safetensors"}, *outs[] = {png, png_st};
    for (int i = 0; i < 2; i++) {
        snprintf(args, sizeof args, "translate --model '" PT "%s' --input '%s' --output '%s' "
                 "--img_size 96", models[i], SAMPLE, outs[i]);
        CHECK(run_cli(args) == 0, "translate with %s failed", models[i]);
    }
    CHECK(same_file(png, png_st), "the PNGs from the legacy .pt and .safetensors differ");
    unlink(png);
    unlink(png_st);
    /* A generator-only file has no B2A generator: a clear error, not a crash. */
    in_tmp(png, sizeof png, "b2a.png");
    snprintf(args, sizeof args, "translate --model '" PT "gen_only.pt' --input '%s' --output '%s' "
             "--img_size 96 --direction B2A", SAMPLE, png);
    CHECK(run_cli(args) == 1, "B2A with a generator-only file did not fail cleanly");
}

static void test_convert(void)
{
    char st1[512], pt2[512], st2[512], args[2048];
    in_tmp(st1, sizeof st1, "a.safetensors");
    in_tmp(pt2, sizeof pt2, "b.pt");
    in_tmp(st2, sizeof st2, "c.safetensors");
    snprintf(args, sizeof args, "convert '" PT "light96_params_0000001.pt' '%s'", st1);
    CHECK(run_cli(args) == 0, "convert pt -> safetensors");
    snprintf(args, sizeof args, "convert '%s' '%s'", st1, pt2);
    CHECK(run_cli(args) == 0, "convert safetensors -> pt");
    snprintf(args, sizeof args, "convert '%s' '%s'", pt2, st2);
    CHECK(run_cli(args) == 0, "convert pt -> safetensors again");
    CHECK(same_file(st1, st2), "pt -> st -> pt -> st is not stable");
    CHECK(ug_tensor_file_is_pt(pt2, NULL) == 1, "convert wrote no zip");

    ug_st_file *orig = NULL, *back = NULL;
    ug_error err = {""};
    CHECK(ug_tensor_file_open(&orig, PT "light96_params_0000001.pt", "genA2B", &err) == 0, "%s", err.msg);
    CHECK(ug_tensor_file_open(&back, pt2, "genA2B", &err) == 0, "%s", err.msg);
    if (orig && back)
        expect_same(orig, back, "round trip");
    ug_st_close(orig);
    ug_st_close(back);

    snprintf(args, sizeof args, "convert '%s' '%s/x.bin'", st1, tmpdir);
    CHECK(run_cli(args) == 2, "convert to an unknown extension accepted");
    snprintf(args, sizeof args, "convert '" PT "bad_posix_system.pt' '%s'", st1);
    CHECK(run_cli(args) == 1, "convert of a hostile file accepted");
    CHECK(same_file(st1, st2), "a failed convert touched the output");
    unlink(st1);
    unlink(pt2);
    unlink(st2);
}

/* The writer with the awkward shapes, through the reader. */
static void test_write_read(void)
{
    float a[6] = {1, -2, 3.5f, 0, 1e-30f, -0.0f}, s = 7;
    ug_st_entry e[] = {
        {.name = "g1.a", .ndim = 2, .shape = {2, 3}, .data = a},
        {.name = "g2.s", .ndim = 0, .shape = {0}, .data = &s},
        {.name = "g1.empty", .ndim = 2, .shape = {0, 5}, .data = NULL},
        {.name = "g2.sub.name", .ndim = 1, .shape = {6}, .data = a},
    };
    char path[512];
    in_tmp(path, sizeof path, "w.pt");
    ug_error err = {""};
    CHECK(ug_pt_write(path, e, 4, &err) == 0, "%s", err.msg);
    ug_st_file *f = NULL;
    CHECK(ug_tensor_file_open(&f, path, "genA2B", &err) == 0, "%s", err.msg);
    if (f) {
        /* Grouped by first appearance: g1's tensors, then g2's. */
        const char *order[] = {"g1.a", "g1.empty", "g2.s", "g2.sub.name"};
        for (size_t i = 0; i < 4 && i < ug_st_count(f); i++)
            CHECK(strcmp(ug_st_at(f, i)->name, order[i]) == 0, "order %zu: %s", i,
                  ug_st_at(f, i)->name);
        const ug_st_tensor *t = ug_st_find(f, "g1.a");
        CHECK(t && t->numel == 6 && memcmp(t->data, a, sizeof a) == 0, "g1.a");
        t = ug_st_find(f, "g2.s");
        CHECK(t && t->ndim == 0 && t->data[0] == 7, "g2.s");
        t = ug_st_find(f, "g1.empty");
        CHECK(t && t->numel == 0 && t->shape[1] == 5, "g1.empty");
        ug_st_close(f);
    }
    ug_st_entry bad = {.name = "nogroup", .ndim = 1, .shape = {6}, .data = a};
    err.msg[0] = '\0';
    CHECK(ug_pt_write(path, &bad, 1, &err) == -1 && strstr(err.msg, "GROUP.NAME"),
          "a name without a group: %s", err.msg);
    unlink(path);
}

static void expect_refused(const char *path, const char *fragment)
{
    ug_st_file *f = (ug_st_file *)1;
    ug_error err = {""};
    int rc = ug_tensor_file_open(&f, path, "genA2B", &err);
    CHECK(rc == -1 && f == NULL, "%s: accepted", path);
    CHECK(strstr(err.msg, path) != NULL, "%s: message does not name the file: %s", path, err.msg);
    CHECK(strstr(err.msg, fragment) != NULL, "%s: message lacks '%s': %s", path, fragment,
          err.msg);
    CHECK(strchr(err.msg, '\n') == NULL, "%s: message is not one line", path);
    if (rc == 0)
        ug_st_close(f);
}

static void test_hostile_files(void)
{
    static const char *cases[][2] = {
        {"bad_truncated.pt", "not a readable zip archive"},
        {"bad_storage_size.pt", "holds 24 bytes, but 7 elements"},
        {"bad_posix_system.pt", "data.pkl: global 'posix system' is not allowed"},
        {"bad_builtins_eval.pt", "global '__builtin__ eval' is not allowed"},
        {"bad_deep.pt", "open MARKs"},
        {"bad_deep_tuples.pt", "nested deeper than"},
        {"bad_huge_size.pt", "size is too large"},
        {"bad_huge_storage.pt", "is absurd"},
        {"bad_opcode.pt", "opcode 0x69 (INST) is not allowed"},
        {"bad_stride.pt", "only contiguous tensors"},
        {"bad_transposed.pt", "only contiguous tensors"},
        {"bad_offset.pt", "exceed the storage"},
        {"bad_missing_storage.pt", "archive/data/7 is missing"},
        {"bad_int_storage.pt", "global 'torch IntStorage' is not allowed"},
        {"bad_no_version.pt", "version is missing"},
        {"bad_legacy_magic.pt", "no torch.save magic number"},
        {"bad_legacy_version.pt", "format version 1002, expected 1001"},
        {"bad_legacy_big_endian.pt", "big-endian"},
        {"bad_legacy_posix_system.pt",
         "object pickle (from byte 137): global 'posix system' is not allowed"},
        {"bad_legacy_int_storage.pt", "global 'torch IntStorage' is not allowed"},
        {"bad_legacy_view.pt", "a view of a storage"},
        {"bad_legacy_count.pt", "storage '0' holds 7 elements, but 6 were declared"},
        {"bad_legacy_huge_count.pt", "run past the end of the file"},
        {"bad_legacy_missing_key.pt", "storage '1' is not in the storage list"},
        {"bad_legacy_unused_key.pt", "names '1', which no tensor uses"},
        {"bad_legacy_twice.pt", "storage '0' is listed twice"},
        {"bad_legacy_offset.pt", "exceed the storage"},
        {"bad_legacy_tail.pt", "1 bytes after the last storage"},
        {"bad_legacy_keys.pt", "the storage key list is a dict"},
        {"bad_legacy_two_sizes.pt", "storage '0' is declared with two types or sizes"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[512];
        snprintf(path, sizeof path, PT "%s", cases[i][0]);
        expect_refused(path, cases[i][1]);
    }
    char path[512];
    in_tmp(path, sizeof path, "magic_only.pt");
    write_bytes(path, "\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.", 15);
    expect_refused(path, "version pickle (from byte 15): the pickle ends without STOP");
    in_tmp(path, sizeof path, "empty.pt");
    write_bytes(path, "PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 22);
    expect_refused(path, "empty");
    unlink(path);

    /* The memory limit is checked before anything large is allocated. */
    size_t n;
    unsigned char *bytes = read_bytes(PT "light96_params_0000001.pt", &n);
    ug_pt_limits lim;
    ug_pt_limits_default(&lim);
    lim.max_tensor_bytes = 100000;
    ug_st_file *f = NULL;
    ug_error err = {""};
    CHECK(ug_pt_open_mem(&f, bytes, n, "mem.pt", &lim, &err) == -1 && strstr(err.msg, "limit"),
          "tensor byte limit: %s", err.msg);
    ug_pt_limits_default(&lim);
    lim.max_objects = 100;
    CHECK(ug_pt_open_mem(&f, bytes, n, "mem.pt", &lim, &err) == -1 &&
              strstr(err.msg, "more than 100 objects"), "object limit: %s", err.msg);
    ug_pt_limits_default(&lim);
    lim.max_pickle_bytes = 1000;
    CHECK(ug_pt_open_mem(&f, bytes, n, "mem.pt", &lim, &err) == -1 &&
              strstr(err.msg, "data.pkl is"), "pickle size limit: %s", err.msg);
    /* Every truncation of a real file is an error, never a crash. */
    for (size_t cut = 0; cut < n; cut += n / 97 + 1) {
        f = NULL;
        int rc = ug_pt_open_mem(&f, bytes, cut, "cut.pt", NULL, &err);
        CHECK(rc == -1 && f == NULL, "truncated at %zu accepted", cut);
    }
    free(bytes);
}

/* A legacy file of n tensors "t0000"... of one 6-float storage: its object
 * pickle is about 130 n bytes. *len receives its size. */
static unsigned char *legacy_file(int n, size_t *len)
{
    static const char head[] =
        "\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19." /* magic */
        "\x80\x02M\xe9\x03." /* 1001 */
        "\x80\x02}." /* system info */
        "\x80\x02}(X\x06\0\0\0genA2Bccollections\nOrderedDict\n)R(";
    static const char tensor[] =
        "ctorch._utils\n_rebuild_tensor_v2\n((X\x07\0\0\0storagectorch\nFloatStorage\n"
        "X\x01\0\0\0" "0X\x03\0\0\0cpuK\x06NtQK\0K\x06\x85K\x01\x85\x89}tR";
    static const char tail[] = "uu.\x80\x02]X\x01\0\0\0" "0a.\x06\0\0\0\0\0\0\0";
    size_t cap = sizeof head + (size_t)n * (sizeof tensor + 16) + sizeof tail + 24;
    unsigned char *b = malloc(cap), *p = b;
    memcpy(p, head, sizeof head - 1);
    p += sizeof head - 1;
    for (int i = 0; i < n; i++) {
        char name[16];
        snprintf(name, sizeof name, "t%04d", i);
        *p++ = 'X';
        memcpy(p, "\x05\0\0\0", 4);
        memcpy(p + 4, name, 5);
        p += 9;
        memcpy(p, tensor, sizeof tensor - 1);
        p += sizeof tensor - 1;
    }
    memcpy(p, tail, sizeof tail - 1);
    p += sizeof tail - 1;
    for (int i = 0; i < 6; i++, p += 4) {
        float v = (float)i;
        memcpy(p, &v, 4);
    }
    *len = (size_t)(p - b);
    return b;
}

static void test_legacy_hostile(void)
{
    /* A pickle longer than the first window a file is read in (64 KiB). */
    size_t n;
    unsigned char *bytes = legacy_file(800, &n);
    char path[512];
    in_tmp(path, sizeof path, "many.pt");
    write_bytes(path, bytes, n);
    ug_st_file *f = NULL, *g = NULL;
    ug_error err = {""};
    CHECK(n > 70000, "many.pt is only %zu bytes", n);
    CHECK(ug_tensor_file_open(&f, path, "genA2B", &err) == 0, "many.pt: %s", err.msg);
    CHECK(ug_pt_legacy_open_mem(&g, bytes, n, "many.pt", NULL, &err) == 0, "many.pt: %s",
          err.msg);
    if (f && g) {
        expect_same(f, g, "many.pt");
        const ug_st_tensor *t = ug_st_find(f, "genA2B.t0799");
        CHECK(ug_st_count(f) == 800 && t && t->numel == 6 && t->data[5] == 5, "many.pt: t0799");
    }
    ug_st_close(f);
    ug_st_close(g);

    /* The limits, each checked before anything large is allocated. */
    ug_pt_limits lim;
    ug_pt_limits_default(&lim);
    lim.max_pickle_bytes = 60000;
    CHECK(ug_pt_legacy_open_mem(&f, bytes, n, "mem.pt", &lim, &err) == -1 &&
              strstr(err.msg, "mem.pt: object pickle (from byte 25): longer than the limit of "
                              "60000 bytes"), "pickle size limit: %s", err.msg);
    ug_pt_limits_default(&lim);
    lim.max_objects = 1000;
    CHECK(ug_pt_legacy_open_mem(&f, bytes, n, "mem.pt", &lim, &err) == -1 &&
              strstr(err.msg, "more than 1000 objects"), "object limit: %s", err.msg);
    ug_pt_limits_default(&lim);
    lim.max_tensor_bytes = 800 * 24 - 1;
    CHECK(ug_pt_legacy_open_mem(&f, bytes, n, "mem.pt", &lim, &err) == -1 &&
              strstr(err.msg, "limit of 19199 bytes"), "tensor byte limit: %s", err.msg);
    ug_pt_limits_default(&lim);
    lim.max_entries = 0;
    CHECK(ug_pt_legacy_open_mem(&f, bytes, n, "mem.pt", &lim, &err) == -1 &&
              strstr(err.msg, "1 storages, more than the limit of 0"), "storage limit: %s",
          err.msg);
    free(bytes);

    /* Every truncation of a real file is refused, from memory and from a file. */
    bytes = read_bytes(PT "gen_only_legacy.pt", &n);
    for (size_t cut = 0; cut < n; cut += n / 389 + 1) {
        f = NULL;
        int rc = ug_pt_legacy_open_mem(&f, bytes, cut, "cut.pt", NULL, &err);
        CHECK(rc == -1 && f == NULL && strncmp(err.msg, "cut.pt: ", 8) == 0 &&
                  !strchr(err.msg, '\n'), "truncated at %zu: %s", cut, err.msg);
    }
    size_t cuts[] = {4, 15, 21, 200, n / 2, n - 25000, n - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        in_tmp(path, sizeof path, "cut.pt");
        write_bytes(path, bytes, cuts[i]);
        f = NULL;
        CHECK(ug_tensor_file_open(&f, path, "genA2B", &err) == -1 && f == NULL &&
                  strstr(err.msg, path) == err.msg, "file truncated at %zu: %s", cuts[i],
              err.msg);
    }
    unlink(path);
    in_tmp(path, sizeof path, "many.pt");
    unlink(path);
    free(bytes);
}

/* Pickles straight into the unpickler and the flattener. */
static int load_pickle(const char *bytes, size_t n, ug_error *err)
{
    ug_pk_limits lim = {10000, 32};
    ug_pickle *p = NULL;
    if (ug_pk_load(&p, (const unsigned char *)bytes, n, &lim, "p", err) < 0)
        return -1;
    ug_pt_item *items;
    size_t count;
    int rc = ug_pt_flatten(ug_pk_root(p), &items, &count, "p", "genA2B", err);
    ug_pt_items_free(items, count);
    ug_pk_free(p);
    return rc;
}

#define TENSOR_ARGS "((X\x07\0\0\0storagectorch\nFloatStorage\nX\x01\0\0\0" "0X\x03\0\0\0cpuK\x06tQK\0K\x06\x85K\x01\x85\x89"

static void test_hostile_pickles(void)
{
    static const struct { const char *bytes; size_t n; const char *fragment; } cases[] = {
#define P(s, frag) {s, sizeof s - 1, frag}
        P("", "ends without STOP"),
        P("\x80\x01}.", "protocol 1"),
        P("\x80\x02}q\x05.", "skips ahead"),
        P("\x80\x02}j\x00\x00\x00\x10.", "is not set"),
        P("\x80\x02X\xff\xff\xff\x7f", "pickle ends"),
        P("\x80\x02X\x03\0\0\0a\0b.", "NUL byte"),
        P("\x80\x02}}.", "2 objects on the stack"),
        P("\x80\x02}.x", "1 bytes after STOP"),
        P("\x80\x02}(.", "open MARK"),
        P("\x80\x02.", "0 objects"),
        P("\x80\x02}(X\x01\0\0\0au.", "odd number"),
        P("\x80\x02}K\x01K\x02s.", "key of the dict is a int, not a name"),
        P("\x80\x02}G?\xf0\0\0\0\0\0\0K\x02s.", "dict key is a float, not a str or an int"),
        P("\x80\x02)K\x01K\x02s.", "SETITEM(S) on a tuple"),
        P("\x80\x02s.", "SETITEM needs"),
        P("\x80\x02u.", "without a MARK"),
        P("\x80\x02R.", "empty stack"),
        P("\x80\x02\x95\xff\0\0\0\0\0\0\0}.", "FRAME is longer"),
        P("\x80\x02\x8a\x09\0\0\0\0\0\0\0\0\0.", "larger than 64 bits"),
        P("\x80\x02\x93.", "STACK_GLOBAL"),
        P("\x80\x04\x8c\x05posix\x8c\x06system\x93.", "global 'posix system' is not allowed"),
        P("\x80\x04\x8c\x05posixK\x01\x93.", "STACK_GLOBAL of a str and a int"),
        P("\x80\x02\x94.", "empty stack"),
        P("\x80\x02\xff.", "0xff (unknown)"),
        P("\x80\x02" "cbuiltins\ngetattr\n.", "global 'builtins getattr' is not allowed"),
        P("\x80\x02" "cos\nsys", "two newline-terminated names"),
        P("\x80\x02" "ctorch\nFloatStorage\n)R.", "calling 'torch FloatStorage' is not allowed"),
        P("\x80\x02" "ccollections\nOrderedDict\nK\x01\x85R.", "OrderedDict called with arguments"),
        P("\x80\x02X\x01\0\0\0a)R.", "REDUCE calls a str"),
        P("\x80\x02)}b.", "BUILD on a tuple"),
        P("\x80\x02" "ccollections\nOrderedDict\n)RK\x01" "b.", "BUILD with a int state"),
        P("\x80\x02(X\x07\0\0\0storageK\x01t\x85Q.", "persistent id is not"),
        P("\x80\x02K\x01Q.", "persistent id is not"),
        P("\x80\x02(X\x07\0\0\0storageccollections\nOrderedDict\nK\0K\0K\0tQ.",
          "not a storage class"),
        P("\x80\x02}(X\x01\0\0\0wctorch._utils\n_rebuild_tensor_v2\n" TENSOR_ARGS
          "}(X\x01\0\0\0hK\x01utRu.", "backward hooks"),
        P("\x80\x02}(X\x01\0\0\0wctorch._utils\n_rebuild_tensor_v2\n(K\x01K\0)))tRu.",
          "6 or 7 expected"),
        P("\x80\x02K\x01.", "holds a int"),
        P("\x80\x02}.", "no tensors"),
        P("\x80\x02}(X\x01\0\0\0gK\x01u.", "no tensors"), /* a counter, skipped */
        P("\x80\x02}(X\x01\0\0\0g}(X\x01\0\0\0xK\x01uu.", "'g.x' is a int"),
        P("\x80\x02}q\0(X\x01\0\0\0gh\0u.", "'g.g' is a dict"),
        P("\x80\x02}q\0X\x01\0\0\0ah\0sX\x01\0\0\0ah\0sX\x01\0\0\0ah\0sX\x01\0\0\0ah\0s"
          "X\x01\0\0\0ah\0sX\x01\0\0\0ah\0sX\x01\0\0\0ah\0sX\x01\0\0\0ah\0sX\x01\0\0\0ah\0s"
          "X\x01\0\0\0ah\0sX\x01\0\0\0ah\0sX\x01\0\0\0ah\0sX\x01\0\0\0ah\0sX\x01\0\0\0ah\0s"
          "X\x01\0\0\0ah\0sX\x01\0\0\0ah\0sX\x01\0\0\0ah\0sX\x01\0\0\0ah\0sX\x01\0\0\0ah\0s"
          "X\x01\0\0\0ah\0sX\x01\0\0\0ah\0sX\x01\0\0\0ah\0sX\x01\0\0\0ah\0sX\x01\0\0\0ah\0s"
          "X\x01\0\0\0ah\0sX\x01\0\0\0ah\0sX\x01\0\0\0ah\0sX\x01\0\0\0ah\0sX\x01\0\0\0ah\0s"
          "X\x01\0\0\0ah\0sX\x01\0\0\0ah\0sX\x01\0\0\0ah\0sX\x01\0\0\0ah\0s.",
          "nested deeper"),
#undef P
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ug_error err = {""};
        int rc = load_pickle(cases[i].bytes, cases[i].n, &err);
        CHECK(rc == -1, "pickle %zu accepted", i);
        CHECK(strstr(err.msg, cases[i].fragment) != NULL, "pickle %zu: lacks '%s': %s", i,
              cases[i].fragment, err.msg);
        CHECK(strncmp(err.msg, "p: ", 3) == 0 && !strchr(err.msg, '\n'),
              "pickle %zu: message form: %s", i, err.msg);
    }
    /* A good one: protocol 4 with a FRAME, a tensor with the 7th (metadata) argument. */
    static const char good[] = "\x80\x04\x95\x05\0\0\0\0\0\0\0}(X\x01\0\0\0w"
                               "ctorch._utils\n_rebuild_tensor_v2\n" TENSOR_ARGS
                               "ccollections\nOrderedDict\n)RNtRu.";
    ug_error err = {""};
    CHECK(load_pickle(good, sizeof good - 1, &err) == 0, "good pickle: %s", err.msg);

    /* Lists, as the legacy format's key list; a pickle that more bytes follow. */
    static const char list[] = "\x80\x02]q\0(X\x01\0\0\0aX\x01\0\0\0be]aK\x01" "a.rest";
    ug_pk_limits lim = {100, 8};
    ug_pickle *p = NULL;
    size_t used = 0;
    CHECK(ug_pk_load_prefix(&p, (const unsigned char *)list, sizeof list - 1, &lim, "p", &used,
                            &err) == 0 && used == sizeof list - 5, "list: %s", err.msg);
    if (p) {
        const ug_pk_obj *r = ug_pk_root(p);
        CHECK(r->type == UG_PK_LIST && r->n == 4 && strcmp(r->items[1]->s, "b") == 0 &&
                  r->items[2]->type == UG_PK_LIST && r->items[3]->i == 1, "list contents");
        ug_pk_free(p);
    }
    CHECK(ug_pk_load_prefix(&p, (const unsigned char *)list, 12, &lim, "p", &used, &err) == -2 &&
              p == NULL, "a cut pickle is not told apart: %s", err.msg);
    CHECK(ug_pk_load_prefix(&p, (const unsigned char *)"\x80\x02}K\x01" "a.", 6, &lim, "p", &used,
                            &err) == -1 && strstr(err.msg, "APPEND on a dict"), "APPEND: %s",
          err.msg);
    CHECK(ug_pk_load_prefix(&p, (const unsigned char *)"\x80\x02K\x01(e.", 6, &lim, "p", &used,
                            &err) == -1 && strstr(err.msg, "APPENDS on a int"), "APPENDS: %s",
          err.msg);
}

static void test_builder(void)
{
    ug_st_file *f = NULL;
    ug_error err = {""};
    CHECK(ug_st_new(&f, &err) == 0, "new");
    int64_t shape[1] = {2};
    float *a = malloc(2 * sizeof *a), *b = malloc(2 * sizeof *b);
    CHECK(ug_st_add(f, "x", 1, shape, a, "mem", &err) == 0, "add x");
    CHECK(ug_st_add(f, "x", 1, shape, b, "mem", &err) == 0, "add x again");
    CHECK(ug_st_finish(f, "mem", &err) == -1 && strstr(err.msg, "'x' appears twice"),
          "duplicate: %s", err.msg);
    ug_st_close(f);
    /* safetensors from memory, as the fuzzer reads it */
    size_t n;
    unsigned char *bytes = read_bytes(PT "gen_only.safetensors", &n);
    ug_st_file *g = NULL, *h = NULL;
    CHECK(ug_st_open_mem(&g, bytes, n, "mem", &err) == 0, "%s", err.msg);
    CHECK(ug_st_open(&h, PT "gen_only.safetensors", &err) == 0, "%s", err.msg);
    if (g && h)
        expect_same(g, h, "safetensors from memory");
    CHECK(ug_st_open_mem(&f, bytes, n - 1, "mem", &err) == -1, "truncated buffer accepted");
    ug_st_close(g);
    ug_st_close(h);
    free(bytes);
}

int main(void)
{
    if (!check_samples("test_pt"))
        return 1;
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 2;
    }
    test_fixtures();
    test_legacy();
    test_write_read();
    test_hostile_files();
    test_legacy_hostile();
    test_hostile_pickles();
    test_builder();
    test_convert();
    test_translate();
    char path[512];
    in_tmp(path, sizeof path, "stderr.txt");
    unlink(path);
    rmdir(tmpdir);
    return check_summary();
}
