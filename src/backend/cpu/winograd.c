/* Our Winograd F(4x4, 3x3) convolution (winograd.h): the choice of code
 * path and the driver. One parallel region per pass: the weight transforms
 * and the copies of the images into the blocked layout, then the tiles in
 * chunks, all threads on each of a chunk's steps (the tile transforms, then
 * the 36 matrix products, then for the forward the output transforms),
 * then the copy out of the blocked layout; the kernels are
 * winograd_kern.h's.
 *
 * Backward data is the forward convolution of dout with the weights turned
 * 180 degrees and Cin, Cout swapped, under padding 2 - p. Backward weights
 * runs the forward's linear map backwards: dU[xi] = V[xi]^T dM[xi] summed
 * over tiles, dM the transposed output transform of dout, and
 * dw = G^T dU G. */
#include <omp.h>

#include <dnnl.h>

#include "backend/cpu/cpu.h"
#include "backend/cpu/winograd.h"
#include "backend/cpu/winograd_kern.h"

int ug_wino_isa_supported(ug_wino_isa isa)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (isa == UG_WINO_AVX512)
        return __builtin_cpu_supports("avx512f");
    if (isa == UG_WINO_AVX2)
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
    return isa == UG_WINO_PLAIN;
}

ug_wino_isa ug_wino_isa_best(void)
{
    /* oneDNN's effective ISA is the CPU's under ONEDNN_MAX_CPU_ISA; every
     * value at or above an ISA has all of its bits. */
    const unsigned e = (unsigned)dnnl_get_effective_cpu_isa();
    const unsigned avx512 = (unsigned)dnnl_cpu_isa_avx512_core, avx2 = (unsigned)dnnl_cpu_isa_avx2;
    if ((e & avx512) == avx512 && ug_wino_isa_supported(UG_WINO_AVX512))
        return UG_WINO_AVX512;
    if ((e & avx2) == avx2 && ug_wino_isa_supported(UG_WINO_AVX2))
        return UG_WINO_AVX2;
    return UG_WINO_PLAIN;
}

const char *ug_wino_isa_name(ug_wino_isa isa)
{
    return isa == UG_WINO_AVX512 ? "avx512" : isa == UG_WINO_AVX2 ? "avx2" : "plain";
}

int ug_wino_applies(const ug_conv_shape *s)
{
    return s->kh == 3 && s->kw == 3 && s->stride == 1;
}

int ug_wino_blocked_ok(const ug_conv_shape *s)
{
    return (!s->blocked_in || s->Cin % UG_BLOCK == 0) &&
           (!s->blocked_out || s->Cout % UG_BLOCK == 0);
}

static const ug_wino_kernels *kernels_of(ug_wino_isa isa)
{
#if defined(__x86_64__) || defined(__i386__)
    if (isa == UG_WINO_AVX512)
        return &ug_wino_kernels_avx512;
    if (isa == UG_WINO_AVX2)
        return &ug_wino_kernels_avx2;
#endif
    (void)isa;
    return &ug_wino_kernels_plain;
}

static int round_up(int x, int m)
{
    return (x + m - 1) / m * m;
}

/* The transforms take a chunk's tiles in shares of BLOCK_STEP, so that the
 * matrix products' row strips (6 tiles on AVX2, 12 on AVX-512) are whole in
 * all but a chunk's last share; chunks are multiples of BLOCK_STEP times the
 * threads, so that every thread has shares. */
#define BLOCK_STEP 12

/* Tiles per chunk: its V and M (or dM) within about budget bytes where
 * that leaves every thread a share, the chunks of one pass as even as that
 * allows. */
static int chunk_tiles(const ug_wino_geom *g, int tiles, int nth, size_t budget)
{
    const size_t per_tile = 36 * sizeof(float) * (size_t)(g->Cp + g->Kp);
    const int step = BLOCK_STEP * nth;
    int most = (int)(budget / per_tile) / step * step;
    most = most < step ? step : most;
    const int nchunks = (tiles + most - 1) / most;
    return round_up((tiles + nchunks - 1) / nchunks, step);
}

/* The 36 products of a chunk go to the threads as work items of *rows rows
 * of n: whole slices, or parts of them (returned: how many) where 36 items
 * would leave threads idle. */
static int row_parts(int n, int nth, int *rows)
{
    const int parts = (8 * nth + 35) / 36;
    *rows = round_up((n + parts - 1) / parts, BLOCK_STEP);
    return (n + *rows - 1) / *rows;
}

static ug_wino_geom geometry(int C, int H, int W, int K, int OH, int OW, int pt, int pl)
{
    ug_wino_geom g = {.C = C, .H = H, .W = W, .K = K, .OH = OH, .OW = OW, .pt = pt, .pl = pl,
                      .ty = (OH + 3) / 4, .tx = (OW + 3) / 4, .Cp = round_up(C, UG_WINO_PAD),
                      .Kp = round_up(K, UG_WINO_PAD)};
    return g;
}

/* Bytes of a chunk's V and M (or dM). Measured on the residual blocks'
 * shape on an Intel Xeon with 2 MB of L2 cache per core: the forward's 1.2
 * MB was slower and 4 MB no faster; the weight gradient's is larger, as
 * each chunk reads and writes all of dU (2 MB was slower, 12 MB no faster). */
#define FWD_BUDGET (2u << 20)
#define WGT_BUDGET (6u << 20)

/* out (K x OH x OW per image) = (acc ? out : 0) + conv(in, w) + b in
 * geometry g, for N images; flip as for the weights kernel. in and out are
 * plain, or blocked by UG_BLOCK where bin, bout (then acc is 0): blocked
 * ones are read or written in place, plain ones through copies in the
 * path's blocked layout. The tiles go in chunks, each in three steps with
 * all threads: the input transforms of the chunk, the 36 matrix products
 * (each reads its slice of U once from memory and keeps it in the L2 cache
 * over all the chunk's tiles), the output transforms. */
static int run_forward(ug_kctx *k, ug_wino_isa isa, float *out, const float *in, const float *w,
                       int flip, const float *b, ug_wino_geom g, int N, int acc, int bin,
                       int bout, ug_error *err)
{
    const ug_wino_kernels *kt = kernels_of(isa);
    const int tiles = N * g.ty * g.tx, nth = omp_get_max_threads(), vl = kt->vl;
    const int CB = (g.C + vl - 1) / vl, KB = (g.K + vl - 1) / vl;
    const size_t P = (size_t)g.H * g.W, OP = (size_t)g.OH * g.OW;
    g.TB = chunk_tiles(&g, tiles, nth, FWD_BUDGET);
    int rows;
    const int nparts = row_parts(g.TB, nth, &rows);
    g.lbi = bin ? UG_BLOCK : vl, g.lbo = bout ? UG_BLOCK : vl;
    /* The transformed weights, the copies of plain input and output in the
     * blocked layout, then the chunk's V and M. */
    const size_t us = ug_wino_slice((size_t)g.C * g.Kp), vs = ug_wino_slice((size_t)g.TB * g.Cp),
                 ms = ug_wino_slice((size_t)g.TB * g.Kp);
    const size_t nU = 36 * us, nI = bin ? 0 : (size_t)N * CB * P * vl,
                 nO = bout ? 0 : (size_t)N * KB * OP * vl, nV = 36 * vs;
    float *U = ug_cpu_conv_scratch(k, nU + nI + nO + nV + 36 * ms, err);
    if (!U)
        return -1;
    float *V = U + nU + nI + nO, *M = V + nV;
    const float *ib = bin ? in : U + nU;
    float *ob = bout ? out : U + nU + nI;
#pragma omp parallel num_threads(nth)
    {
#pragma omp for schedule(static) nowait
        for (int kb = 0; kb < g.Kp / UG_WINO_PAD; kb++)
            kt->weights(U, w, g.C, g.K, g.Kp, flip, kb * UG_WINO_PAD, (kb + 1) * UG_WINO_PAD);
#pragma omp for schedule(static)
        for (int sl = 0; sl < (bin ? 0 : N * CB); sl++)
            kt->to_blocked(U + nU, in, g.C, P, sl / CB, sl % CB);
        for (int c0 = 0; c0 < tiles; c0 += g.TB) {
            const int nc = tiles - c0 < g.TB ? tiles - c0 : g.TB;
#pragma omp for schedule(static)
            for (int s = 0; s < nc; s += BLOCK_STEP)
                kt->input(V + (size_t)s * g.Cp, ib, &g, c0 + s,
                          nc - s < BLOCK_STEP ? nc - s : BLOCK_STEP);
#pragma omp for schedule(static)
            for (int it = 0; it < 36 * nparts; it++) {
                const int xi = it / nparts, r0 = it % nparts * rows;
                if (r0 < nc)
                    kt->gemm(M + xi * ms + (size_t)r0 * g.Kp, g.Kp,
                             V + xi * vs + (size_t)r0 * g.Cp, g.Cp, 1, U + xi * us, g.C,
                             nc - r0 < rows ? nc - r0 : rows, g.C, g.Kp, 0);
            }
#pragma omp for schedule(static)
            for (int s = 0; s < nc; s += BLOCK_STEP)
                kt->output(ob, M + (size_t)s * g.Kp, bout ? b : NULL, &g, c0 + s,
                           nc - s < BLOCK_STEP ? nc - s : BLOCK_STEP);
        }
#pragma omp for schedule(static)
        for (int sl = 0; sl < (bout ? 0 : N * KB); sl++)
            kt->from_blocked(out, ob, b, g.K, OP, sl / KB, sl % KB, acc);
    }
    return 0;
}

int ug_wino_forward(ug_kctx *k, ug_wino_isa isa, float *out, const float *in, const float *w,
                    const float *b, const ug_conv_shape *s, ug_error *err)
{
    if (ug_conv_check(s, err))
        return -1;
    ug_wino_geom g = geometry(s->Cin, s->H, s->W, s->Cout, ug_conv_out_h(s), ug_conv_out_w(s),
                              s->pad[0], s->pad[2]);
    if (!ug_wino_blocked_ok(s))
        return ug_fail(err, "Winograd convolution: a blocked image needs channels in "
                            "multiples of %d, not %d -> %d", UG_BLOCK, s->Cin, s->Cout);
    return run_forward(k, isa, out, in, w, 0, b, g, s->N, 0, s->blocked_in, s->blocked_out, err);
}

int ug_wino_backward_data(ug_kctx *k, ug_wino_isa isa, float *din, const float *dout,
                          const float *w, const ug_conv_shape *s, int acc, ug_error *err)
{
    if (ug_conv_check(s, err))
        return -1;
    ug_wino_geom g = geometry(s->Cout, ug_conv_out_h(s), ug_conv_out_w(s), s->Cin, s->H, s->W,
                              2 - s->pad[0], 2 - s->pad[2]);
    return run_forward(k, isa, din, dout, w, 1, NULL, g, s->N, acc, 0, 0, err);
}

int ug_wino_backward_weights(ug_kctx *k, ug_wino_isa isa, float *dw, const float *dout,
                             const float *in, const ug_conv_shape *s, ug_error *err)
{
    if (ug_conv_check(s, err))
        return -1;
    const ug_wino_kernels *kt = kernels_of(isa);
    ug_wino_geom g = geometry(s->Cin, s->H, s->W, s->Cout, ug_conv_out_h(s), ug_conv_out_w(s),
                              s->pad[0], s->pad[2]);
    const int N = s->N, tiles = N * g.ty * g.tx, nth = omp_get_max_threads(), vl = kt->vl;
    const int CB = (g.C + vl - 1) / vl, KB = (g.K + vl - 1) / vl;
    const size_t P = (size_t)g.H * g.W, OP = (size_t)g.OH * g.OW;
    g.TB = chunk_tiles(&g, tiles, nth, WGT_BUDGET);
    g.lbi = g.lbo = vl;
    int rows;
    const int nparts = row_parts(g.C, nth, &rows);
    /* in and dout in the blocked layout, the sums dU[36][C][Kp] over the
     * chunks, then the chunk's V and dM. */
    const size_t nI = (size_t)N * CB * P * vl, nD = (size_t)N * KB * OP * vl,
                 us = ug_wino_slice((size_t)g.C * g.Kp), vs = ug_wino_slice((size_t)g.TB * g.Cp),
                 ms = ug_wino_slice((size_t)g.TB * g.Kp), nU = 36 * us, nV = 36 * vs;
    float *ib = ug_cpu_conv_scratch(k, nI + nD + nU + nV + 36 * ms, err);
    if (!ib)
        return -1;
    float *db = ib + nI, *dU = db + nD, *V = dU + nU, *dM = V + nV;
#pragma omp parallel num_threads(nth)
    {
#pragma omp for schedule(static) nowait
        for (int sl = 0; sl < N * CB; sl++)
            kt->to_blocked(ib, in, g.C, P, sl / CB, sl % CB);
#pragma omp for schedule(static)
        for (int sl = 0; sl < N * KB; sl++)
            kt->to_blocked(db, dout, g.K, OP, sl / KB, sl % KB);
        for (int c0 = 0; c0 < tiles; c0 += g.TB) {
            const int nc = tiles - c0 < g.TB ? tiles - c0 : g.TB;
#pragma omp for schedule(static)
            for (int t = 0; t < nc; t += BLOCK_STEP) {
                const int nt = nc - t < BLOCK_STEP ? nc - t : BLOCK_STEP;
                kt->input(V + (size_t)t * g.Cp, ib, &g, c0 + t, nt);
                kt->dout(dM + (size_t)t * kt->bw, db, &g, c0 + t, nt);
            }
            /* dU[xi] (+)= V[xi]^T dM[xi], rows (input channels) in parts. */
#pragma omp for schedule(static)
            for (int it = 0; it < 36 * nparts; it++) {
                const int xi = it / nparts, r0 = it % nparts * rows;
                kt->gemm(dU + xi * us + (size_t)r0 * g.Kp, g.Kp, V + xi * vs + r0, 1, g.Cp,
                         dM + xi * ms, g.TB, g.C - r0 < rows ? g.C - r0 : rows, nc, g.Kp,
                         c0 > 0);
            }
        }
#pragma omp for schedule(static)
        for (int c = 0; c < g.C; c++)
            kt->dweights(dw, dU, g.C, g.K, g.Kp, c, c + 1);
    }
    return 0;
}
