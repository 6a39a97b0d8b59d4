/* Private to src/backend/cpu: the mean and centred sum of squares of one plane,
 * shared by the normalisations. */
#ifndef UG_MOMENTS_H
#define UG_MOMENTS_H

/* Two passes in double, the mean first, then the squares about it; the simd
 * reductions sum in several lanes (the order is free). */
static inline void ug_plane_moments(const float *x, int n, double *mean, double *sumsq)
{
    double s = 0;
#pragma omp simd reduction(+ : s)
    for (int i = 0; i < n; i++)
        s += x[i];
    const double m = s / n;
    double ss = 0;
#pragma omp simd reduction(+ : ss)
    for (int i = 0; i < n; i++) {
        const double d = x[i] - m;
        ss += d * d;
    }
    *mean = m;
    *sumsq = ss;
}

#endif
