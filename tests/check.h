/* A minimal test harness: CHECK records a failure and goes on; the program
 * ends with check_summary(), which prints "N passed, N failed" and returns the
 * exit status. */
#ifndef UG_CHECK_H
#define UG_CHECK_H

#include <math.h>
#include <stdio.h>
#include <sys/stat.h>

static int check_passed, check_failed;

#define CHECK(cond, ...)                                                                 \
    do {                                                                                 \
        if (cond) {                                                                      \
            check_passed++;                                                              \
        } else {                                                                         \
            check_failed++;                                                              \
            fprintf(stderr, "%s:%d: FAIL: ", __FILE__, __LINE__);                         \
            fprintf(stderr, __VA_ARGS__);                                                \
            fputc('\n', stderr);                                                         \
        }                                                                                \
    } while (0)

static inline int check_summary(void)
{
    printf("%d passed, %d failed\n", check_passed, check_failed);
    return check_failed ? 1 : 0;
}

/* The sample images the tests read: shared/ beside the clone (UGATIT_SHARED,
 * the CMake cache entry UGATIT_SHARED_DIR). A test that reads them calls
 * check_samples() first and ends with status 1 when it returns 0, after its
 * one-line message saying what is missing and where it was looked for. */
#define CHECK_SAMPLES UGATIT_SHARED "/data/selfie2anime-sample"

static inline int check_samples(const char *test)
{
    struct stat st;
    if (stat(CHECK_SAMPLES, &st) == 0 && S_ISDIR(st.st_mode))
        return 1;
    fprintf(stderr,
            "%s: needs the sample data: ../shared/data/selfie2anime-sample beside the clone "
            "(not found at %s)\n",
            test, CHECK_SAMPLES);
    return 0;
}

/* Largest |a[i] - b[i]|. */
static inline double check_max_abs_diff(const float *a, const float *b, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (d > m || d != d)
            m = d != d ? INFINITY : d;
    }
    return m;
}

/* ||x||. */
static inline double check_norm2(const float *x, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (double)x[i] * x[i];
    return sqrt(s);
}

/* ||a - b|| / ||b|| (0 when both are zero). */
static inline double check_rel_l2(const float *a, const float *b, size_t n)
{
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)a[i] - (double)b[i];
        num += d * d;
        den += (double)b[i] * b[i];
    }
    if (den == 0)
        return num == 0 ? 0 : INFINITY;
    return sqrt(num / den);
}

#endif
