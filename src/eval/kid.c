/* KID (see kid.h). Sums are in double; for the subsets protocol the kernel
 * values of every pair are computed once (8 (m^2 + n^2 + mn) bytes) and the
 * subsets only add them up, since 100 subsets of 1000 would otherwise redo
 * the same dot products a hundred times. */
#include "eval/kid.h"

#include <math.h>
#include <stdlib.h>

#include "core/rng.h"

/* An arbitrary fixed stream, so that a seed means the same draws everywhere. */
#define KID_STREAM 0x4b4944u

void ug_kid_opts_default(ug_kid_opts *o)
{
    *o = (ug_kid_opts){.protocol = UG_KID_SUBSETS, .subsets = 100, .subset_size = 0,
                       .seed = 0, .block_size = 10};
}

static double kern(const float *a, const float *b, int d)
{
    double s = 0;
    for (int k = 0; k < d; k++)
        s += (double)a[k] * (double)b[k];
    double t = s / d + 1;
    return t * t * t;
}

static size_t at(const size_t *idx, size_t i) { return idx ? idx[i] : i; }

/* The estimator from the three sums (section 1.1 of the notes). */
static double combine(double sxx, double syy, double sxy, size_t m, size_t n)
{
    double dm = (double)m, dn = (double)n;
    return sxx / (dm * (dm - 1)) + syy / (dn * (dn - 1)) - 2 * sxy / (dm * dn);
}

double ug_kid_mmd2(const float *X, const size_t *xs, size_t m, const float *Y,
                   const size_t *ys, size_t n, int d)
{
    double sxx = 0, syy = 0, sxy = 0;
    for (size_t i = 0; i < m; i++)
        for (size_t j = i + 1; j < m; j++)
            sxx += 2 * kern(X + at(xs, i) * d, X + at(xs, j) * d, d);
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            syy += 2 * kern(Y + at(ys, i) * d, Y + at(ys, j) * d, d);
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++)
            sxy += kern(X + at(xs, i) * d, Y + at(ys, j) * d, d);
    return combine(sxx, syy, sxy, m, n);
}

/* K[i * cols + j] = k(A_i, B_j); upper != 0 (A is B): only j > i is filled. */
static void gram(double *K, const float *A, size_t rows, const float *B, size_t cols, int d,
                 int upper)
{
#pragma omp parallel for schedule(dynamic, 8)
    for (long i = 0; i < (long)rows; i++)
        for (size_t j = upper ? (size_t)i + 1 : 0; j < cols; j++)
            K[(size_t)i * cols + j] = kern(A + (size_t)i * d, B + j * d, d);
}

/* Off-diagonal sum over the rows idx[0..k) of a square Gram matrix of side
 * n whose upper triangle is filled. */
static double offdiag(const double *K, size_t n, const size_t *idx, size_t k)
{
    double s = 0;
    for (size_t a = 0; a < k; a++)
        for (size_t b = 0; b < k; b++) {
            size_t i = idx[a], j = idx[b];
            if (i < j)
                s += 2 * K[i * n + j];
        }
    return s;
}

/* The first k entries of a fresh permutation of 0..n-1 (partial Fisher-Yates). */
static void draw(size_t *idx, size_t n, size_t k, ug_rng *r)
{
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    for (size_t i = 0; i < k; i++) {
        size_t j = i + ug_rng_below(r, (uint32_t)(n - i)), t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
}

static int subsets(ug_kid_result *r, const float *X, size_t m, const float *Y, size_t n,
                   int d, const ug_kid_opts *o, ug_error *err)
{
    size_t M = (size_t)o->subset_size;
    if (o->subset_size <= 0) {
        M = m < n ? m : n;
        M = M < 1000 ? M : 1000;
    }
    if (o->subsets < 1)
        return ug_fail(err, "KID needs at least 1 subset (got %d)", o->subsets);
    if (M < 2)
        return ug_fail(err, "KID subsets need at least 2 images (got a subset size of %zu)", M);
    if (M > m || M > n)
        return ug_fail(err, "KID subset size %zu is larger than the %s set (%zu images)", M,
                       M > m ? "real" : "fake", M > m ? m : n);
    if (m > UINT32_MAX || n > UINT32_MAX)
        return ug_fail(err, "KID: too many images (%zu and %zu)", m, n);
    double *kxx = malloc(m * m * sizeof *kxx), *kyy = malloc(n * n * sizeof *kyy);
    double *kxy = malloc(m * n * sizeof *kxy), *est = malloc(o->subsets * sizeof *est);
    size_t *xs = malloc(m * sizeof *xs), *ys = malloc(n * sizeof *ys);
    int rc = -1;
    if (!kxx || !kyy || !kxy || !est || !xs || !ys) {
        ug_fail(err, "KID: out of memory for the kernel matrices of %zu and %zu images", m, n);
        goto done;
    }
    gram(kxx, X, m, X, m, d, 1);
    gram(kyy, Y, n, Y, n, d, 1);
    gram(kxy, X, m, Y, n, d, 0);
    ug_rng rng;
    ug_rng_seed(&rng, o->seed, KID_STREAM);
    double sum = 0;
    for (int s = 0; s < o->subsets; s++) {
        draw(xs, m, M, &rng);
        draw(ys, n, M, &rng);
        double sxy = 0;
        for (size_t a = 0; a < M; a++)
            for (size_t b = 0; b < M; b++)
                sxy += kxy[xs[a] * n + ys[b]];
        est[s] = combine(offdiag(kxx, m, xs, M), offdiag(kyy, n, ys, M), sxy, M, M);
        sum += est[s];
    }
    double mean = sum / o->subsets, var = 0;
    for (int s = 0; s < o->subsets; s++)
        var += (est[s] - mean) * (est[s] - mean);
    *r = (ug_kid_result){mean, sqrt(var / o->subsets), o->subsets, (int)M};
    rc = 0;
done:
    free(kxx), free(kyy), free(kxy), free(est), free(xs), free(ys);
    return rc;
}

/* Where block b of B starts in a set of N rows: the first B - N % B blocks
 * have N / B rows, the others one more. */
static size_t block_start(size_t N, size_t B, size_t b)
{
    size_t v = N / B, small = B - N % B;
    return b * v + (b > small ? b - small : 0);
}

static int blocks(ug_kid_result *r, const float *X, size_t m, const float *Y, size_t n, int d,
                  const ug_kid_opts *o, ug_error *err)
{
    if (o->block_size < 2)
        return ug_fail(err, "KID blocks need at least 2 images each (got a block size of %d)",
                       o->block_size);
    size_t bs = (size_t)o->block_size, N = m > n ? m : n, B = (N + bs - 1) / bs;
    if (m / B < 2 || n / B < 2)
        return ug_fail(err, "KID blocks: %zu blocks of at most %zu images leave fewer than 2 "
                            "images per block of the %s set (%zu images)",
                       B, bs, m / B < 2 ? "real" : "fake", m / B < 2 ? m : n);
    double *est = malloc(B * sizeof *est), sum = 0;
    if (!est)
        return ug_fail(err, "KID: out of memory");
    for (size_t b = 0; b < B; b++) {
        size_t x0 = block_start(m, B, b), x1 = block_start(m, B, b + 1);
        size_t y0 = block_start(n, B, b), y1 = block_start(n, B, b + 1);
        est[b] = ug_kid_mmd2(X + x0 * d, NULL, x1 - x0, Y + y0 * d, NULL, y1 - y0, d);
        sum += est[b];
    }
    double mean = sum / (double)B, var = 0;
    for (size_t b = 0; b < B; b++)
        var += (est[b] - mean) * (est[b] - mean);
    /* TF-GAN divides by B - 1 and gets NaN for a single block; so do we. */
    double se = B > 1 ? sqrt(var / (double)(B - 1) / (double)B) : NAN;
    *r = (ug_kid_result){mean, se, (int)B, (int)((N + B - 1) / B)};
    free(est);
    return 0;
}

int ug_kid(ug_kid_result *r, const float *X, size_t m, const float *Y, size_t n, int d,
           const ug_kid_opts *o, ug_error *err)
{
    if (m < 2 || n < 2)
        return ug_fail(err, "KID needs at least 2 images in each set (%s has %zu)",
                       m < 2 ? "real" : "fake", m < 2 ? m : n);
    if (d < 1)
        return ug_fail(err, "KID: features of dimension %d", d);
    return o->protocol == UG_KID_BLOCKS ? blocks(r, X, m, Y, n, d, o, err)
                                        : subsets(r, X, m, Y, n, d, o, err);
}
