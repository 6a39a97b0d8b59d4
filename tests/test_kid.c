/* KID (src/eval/kid.c): the worked d = 2 examples of the reference notes
 * (section 1.4) exactly, X against itself negative, both protocols against
 * numpy on committed feature sets (tools/make_kid_fixtures.py), and the
 * errors for sets too small. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "eval/kid.h"
#include "files.h"

#define D 16

static int close_to(double a, double b, double rel)
{
    return fabs(a - b) <= rel * fabs(b) + 1e-15;
}

static void worked_examples(void)
{
    /* Check A: 309/4; Check C: X against itself, -14/9. */
    const float X[] = {1, 0, 0, 1, 1, 1}, Y[] = {2, 2, 3, 1, 1, 3};
    double a = ug_kid_mmd2(X, NULL, 3, Y, NULL, 3, 2);
    CHECK(close_to(a, 309.0 / 4, 1e-12), "check A: %.17g, not 77.25", a);
    double c = ug_kid_mmd2(X, NULL, 3, X, NULL, 3, 2);
    CHECK(close_to(c, -14.0 / 9, 1e-12), "check C: %.17g, not -14/9", c);

    /* Check B: blocks of 2, mean 49.5, standard error 59. */
    const float R[] = {1, 0, 0, 1, 1, 1, 0, 0}, F[] = {2, 2, 3, 1, 1, 3, 2, 0};
    ug_kid_opts o;
    ug_kid_opts_default(&o);
    o.protocol = UG_KID_BLOCKS, o.block_size = 2;
    ug_kid_result r;
    ug_error err = {{0}};
    CHECK(ug_kid(&r, R, 4, F, 4, 2, &o, &err) == 0, "check B: %s", err.msg);
    CHECK(close_to(r.mean, 49.5, 1e-12) && close_to(r.std, 59.0, 1e-12) && r.count == 2 &&
              r.size == 2,
          "check B: %.17g +- %.17g over %d blocks of %d", r.mean, r.std, r.count, r.size);

    /* The subsets protocol on Check A's sets, subsets of all 3: every subset
     * is the whole set, so the mean is 309/4 and the std 0. */
    o.protocol = UG_KID_SUBSETS, o.subsets = 5, o.subset_size = 0;
    CHECK(ug_kid(&r, X, 3, Y, 3, 2, &o, &err) == 0, "%s", err.msg);
    CHECK(close_to(r.mean, 309.0 / 4, 1e-12) && fabs(r.std) < 1e-12 && r.size == 3,
          "subsets of the whole set: %.17g +- %.17g", r.mean, r.std);
    o.subset_size = 3;
    CHECK(ug_kid(&r, X, 3, X, 3, 2, &o, &err) == 0 && close_to(r.mean, -14.0 / 9, 1e-12),
          "X against itself under subsets: %.17g", r.mean);
}

static float *load(const char *name, size_t *rows)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", UGATIT_FIXTURES, name);
    size_t n;
    unsigned char *b = read_bytes(path, &n);
    if (!b || n % (4 * D)) {
        fprintf(stderr, "test_kid: cannot read %s\n", path);
        exit(1);
    }
    float *f = malloc(n);
    memcpy(f, b, n); /* the fixtures are little-endian, as this machine */
    free(b);
    *rows = n / (4 * D);
    return f;
}

static void against_numpy(void)
{
    size_t m, n;
    float *X = load("kid_real.f32", &m), *Y = load("kid_fake.f32", &n);
    char path[512];
    snprintf(path, sizeof path, "%s/kid_expected.txt", UGATIT_FIXTURES);
    FILE *f = fopen(path, "r");
    CHECK(f != NULL, "cannot open %s", path);
    char name[64], proto[16];
    int subsets, size, seed, bs, cases = 0;
    double mean, std;
    while (f && fscanf(f, "%63s %15s %d %d %d %d %lf %lf", name, proto, &subsets, &size, &seed,
                       &bs, &mean, &std) == 8) {
        cases++;
        if (strcmp(proto, "whole") == 0) {
            double v = ug_kid_mmd2(X, NULL, m, Y, NULL, n, D);
            CHECK(close_to(v, mean, 1e-10), "%s: %.17g, numpy %.17g", name, v, mean);
            continue;
        }
        ug_kid_opts o;
        ug_kid_opts_default(&o);
        o.protocol = strcmp(proto, "blocks") == 0 ? UG_KID_BLOCKS : UG_KID_SUBSETS;
        if (o.protocol == UG_KID_SUBSETS)
            o.subsets = subsets, o.seed = (uint64_t)seed, o.subset_size = size == 23 ? 0 : size;
        o.block_size = bs;
        ug_kid_result r;
        ug_error err = {{0}};
        CHECK(ug_kid(&r, X, m, Y, n, D, &o, &err) == 0, "%s: %s", name, err.msg);
        CHECK(close_to(r.mean, mean, 1e-10) && close_to(r.std, std, 1e-9),
              "%s: %.17g +- %.17g, numpy %.17g +- %.17g", name, r.mean, r.std, mean, std);
    }
    CHECK(cases == 5, "%d cases in %s, not 5", cases, path);
    if (f)
        fclose(f);
    free(X);
    free(Y);
}

static void errors(void)
{
    const float X[] = {1, 0, 0, 1, 1, 1};
    ug_kid_opts o;
    ug_kid_opts_default(&o);
    ug_kid_result r;
    ug_error err = {{0}};
    CHECK(ug_kid(&r, X, 1, X, 3, 2, &o, &err) < 0 && strstr(err.msg, "at least 2 images") &&
              strstr(err.msg, "real"),
          "one real image: '%s'", err.msg);
    CHECK(ug_kid(&r, X, 3, X, 1, 2, &o, &err) < 0 && strstr(err.msg, "fake"),
          "one fake image: '%s'", err.msg);
    o.subset_size = 4;
    CHECK(ug_kid(&r, X, 3, X, 3, 2, &o, &err) < 0 && strstr(err.msg, "larger than"),
          "subset larger than the set: '%s'", err.msg);
    /* 3 real against 30 fake in blocks of 10: 3 blocks, one real image each. */
    float *Y = calloc(60, sizeof *Y);
    o.protocol = UG_KID_BLOCKS;
    CHECK(ug_kid(&r, X, 3, Y, 30, 2, &o, &err) < 0 && strstr(err.msg, "fewer than 2"),
          "blocks of one image: '%s'", err.msg);
    free(Y);
    /* A single block has no standard error: NaN, as TF-GAN. */
    CHECK(ug_kid(&r, X, 3, X, 3, 2, &o, &err) == 0 && r.count == 1 && isnan(r.std),
          "one block: %d blocks, std %g", r.count, r.std);
}

int main(void)
{
    worked_examples();
    against_numpy();
    errors();
    return check_summary();
}
