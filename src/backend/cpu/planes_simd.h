/* The kernels of planes.h written once: planes.c defines WT (the functions'
 * target attribute) and PLANES_TABLE (the name of the table made), then
 * includes this file once per path; the compilers vectorise the loops for
 * that path's vectors. This file undefines both again. */

#define PLANES_CAT(a, b) a##b
#define PLANES_NAME(a, b) PLANES_CAT(a, b)
#define P_MOMENTS PLANES_NAME(PLANES_TABLE, _moments)
#define P_SUM PLANES_NAME(PLANES_TABLE, _sum)
#define P_AFFINE PLANES_NAME(PLANES_TABLE, _affine)
#define P_INSTNORM_GRAD PLANES_NAME(PLANES_TABLE, _instnorm_grad)
#define P_MOMENTS_BLOCKED PLANES_NAME(PLANES_TABLE, _moments_blocked)
#define P_AFFINE_BLOCKED PLANES_NAME(PLANES_TABLE, _affine_blocked)
#define P_DOTS PLANES_NAME(PLANES_TABLE, _dots)
#define P_DOTS_DOUBLE PLANES_NAME(PLANES_TABLE, _dots_double)
#define P_AXPYS_DOUBLE PLANES_NAME(PLANES_TABLE, _axpys_double)

static WT double P_SUM(const float *x, int n)
{
    double s = 0;
#pragma omp simd reduction(+ : s)
    for (int i = 0; i < n; i++)
        s += x[i];
    return s;
}

static WT void P_MOMENTS(const float *x, int n, double *mean, double *sumsq)
{
    const double m = P_SUM(x, n) / n;
    double ss = 0;
#pragma omp simd reduction(+ : ss)
    for (int i = 0; i < n; i++) {
        const double d = x[i] - m;
        ss += d * d;
    }
    *mean = m;
    *sumsq = ss;
}

static WT void P_AFFINE(float *y, const float *x, int n, double sub, double mul, double add,
                        int relu)
{
#pragma omp simd
    for (int i = 0; i < n; i++) {
        const float v = (float)((x[i] - sub) * mul + add);
        y[i] = relu && v < 0 ? 0 : v;
    }
}

static WT void P_INSTNORM_GRAD(float *dx, const float *dy, const float *x, int n, double m,
                               double r, int acc)
{
    double sdy = 0, sdyx = 0;
#pragma omp simd reduction(+ : sdy, sdyx)
    for (int i = 0; i < n; i++) {
        sdy += dy[i];
        sdyx += dy[i] * ((x[i] - m) * r);
    }
    const double mdy = sdy / n, mdyx = sdyx / n;
    /* One loop per acc: the compilers vectorise no load under a condition. */
    if (acc) {
#pragma omp simd
        for (int i = 0; i < n; i++)
            dx[i] += (float)(r * (dy[i] - mdy - (x[i] - m) * r * mdyx));
    } else {
#pragma omp simd
        for (int i = 0; i < n; i++)
            dx[i] = (float)(r * (dy[i] - mdy - (x[i] - m) * r * mdyx));
    }
}

/* The same two over UG_BLOCK interleaved planes: a lane per plane. The
 * moments' lane loops unroll whole, so that the compilers keep the
 * UG_BLOCK sums in registers (as loops of their own, vectorised, they
 * stored and loaded the sums again at every pixel). */
static WT void P_MOMENTS_BLOCKED(const float *x, int n, double *mean, double *sumsq)
{
    double s[UG_BLOCK] = {0}, ss[UG_BLOCK] = {0};
    for (int i = 0; i < n; i++)
#pragma GCC unroll 16
        for (int l = 0; l < UG_BLOCK; l++)
            s[l] += x[(size_t)i * UG_BLOCK + l];
    for (int l = 0; l < UG_BLOCK; l++)
        mean[l] = s[l] / n;
    for (int i = 0; i < n; i++)
#pragma GCC unroll 16
        for (int l = 0; l < UG_BLOCK; l++) {
            const double d = x[(size_t)i * UG_BLOCK + l] - mean[l];
            ss[l] += d * d;
        }
    for (int l = 0; l < UG_BLOCK; l++)
        sumsq[l] = ss[l];
}

static WT void P_AFFINE_BLOCKED(float *y, const float *x, int n, const double *sub,
                                const double *mul, const double *add, int relu)
{
    for (int i = 0; i < n; i++)
#pragma omp simd
        for (int l = 0; l < UG_BLOCK; l++) {
            const size_t e = (size_t)i * UG_BLOCK + l;
            const float v = (float)((x[e] - sub[l]) * mul[l] + add[l]);
            y[e] = relu && v < 0 ? 0 : v;
        }
}

/* Four rows at a time share each load of x. */
static WT void P_DOTS(float *acc, const float *w, size_t ld, const float *x, int n, int rows)
{
    if (rows == 4) {
        const float *w0 = w, *w1 = w + ld, *w2 = w + 2 * ld, *w3 = w + 3 * ld;
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
#pragma omp simd reduction(+ : s0, s1, s2, s3)
        for (int i = 0; i < n; i++) {
            s0 += w0[i] * x[i];
            s1 += w1[i] * x[i];
            s2 += w2[i] * x[i];
            s3 += w3[i] * x[i];
        }
        acc[0] += s0, acc[1] += s1, acc[2] += s2, acc[3] += s3;
        return;
    }
    for (int r = 0; r < rows; r++) {
        const float *wr = w + (size_t)r * ld;
        float s = 0;
#pragma omp simd reduction(+ : s)
        for (int i = 0; i < n; i++)
            s += wr[i] * x[i];
        acc[r] += s;
    }
}

static WT void P_DOTS_DOUBLE(double *y, const float *w, size_t ld, const float *x, int n,
                             int rows)
{
    if (rows == 4) { /* four independent sums: the adds' latency overlaps */
        const float *w0 = w, *w1 = w + ld, *w2 = w + 2 * ld, *w3 = w + 3 * ld;
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
#pragma omp simd reduction(+ : s0, s1, s2, s3)
        for (int i = 0; i < n; i++) {
            s0 += (double)w0[i] * x[i];
            s1 += (double)w1[i] * x[i];
            s2 += (double)w2[i] * x[i];
            s3 += (double)w3[i] * x[i];
        }
        y[0] = s0, y[1] = s1, y[2] = s2, y[3] = s3;
        return;
    }
    for (int r = 0; r < rows; r++) {
        const float *wr = w + (size_t)r * ld;
        double s = 0;
#pragma omp simd reduction(+ : s)
        for (int i = 0; i < n; i++)
            s += (double)wr[i] * x[i];
        y[r] = s;
    }
}

static WT void P_AXPYS_DOUBLE(double *acc, const float *w, size_t ld, const float *u, int n,
                              int rows)
{
    if (rows == 4) {
        const float *w0 = w, *w1 = w + ld, *w2 = w + 2 * ld, *w3 = w + 3 * ld;
        const double u0 = u[0], u1 = u[1], u2 = u[2], u3 = u[3];
#pragma omp simd
        for (int c = 0; c < n; c++) {
            double a = acc[c];
            a += (double)w0[c] * u0;
            a += (double)w1[c] * u1;
            a += (double)w2[c] * u2;
            a += (double)w3[c] * u3;
            acc[c] = a;
        }
        return;
    }
    for (int r = 0; r < rows; r++) {
        const float *wr = w + (size_t)r * ld;
        const double ur = u[r];
#pragma omp simd
        for (int c = 0; c < n; c++)
            acc[c] += (double)wr[c] * ur;
    }
}

static const ug_planes_kernels PLANES_TABLE = {
    P_MOMENTS,        P_SUM,  P_AFFINE,      P_INSTNORM_GRAD, P_MOMENTS_BLOCKED,
    P_AFFINE_BLOCKED, P_DOTS, P_DOTS_DOUBLE, P_AXPYS_DOUBLE};

#undef P_MOMENTS
#undef P_SUM
#undef P_AFFINE
#undef P_INSTNORM_GRAD
#undef P_MOMENTS_BLOCKED
#undef P_AFFINE_BLOCKED
#undef P_DOTS
#undef P_DOTS_DOUBLE
#undef P_AXPYS_DOUBLE
#undef PLANES_NAME
#undef PLANES_CAT
#undef WT
#undef PLANES_TABLE
