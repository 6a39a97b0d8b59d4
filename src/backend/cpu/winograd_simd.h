/* The Winograd kernels of winograd_kern.h written once for any vector
 * width: winograd_plain.c, winograd_avx2.c and winograd_avx512.c each define
 * the vector type and operations below, then include this file, which makes
 * their table WINO_TABLE. The transforms are those of F(4x4, 3x3) with
 * interpolation points 0, +-p, +-q and infinity, p = 5/8 and q = 3/2
 * (Toom-Cook; oneDNN's choice too): four to five times more exact in fp32
 * than the textbook points 0, +-1, +-2 (on the residual blocks' shape 4e-7
 * of the sum of |terms| against 2e-6), and every entry of A and B a short
 * binary fraction:
 *   B^T = [p2q2 0 -s 0 1 0; 0 -pq2 -q2 p 1 0; 0 pq2 -q2 -p 1 0;
 *          0 -qp2 -p2 q 1 0; 0 qp2 -p2 -q 1 0; 0 p2q2 0 -s 0 1]
 *   A^T = [1 1 1 1 1 0; 0 p -p q -q 0; 0 p2 p2 q2 q2 0; 0 p3 -p3 q3 -q3 1]
 *   G = [1/f0 0 0; (1 p p2)/fp; (1 -p p2)/fp; (1 q q2)/fq; (1 -q q2)/fq; 0 0 1]
 * with p2 = p^2 (and so on), s = p2 + q2, f0 = p2 q2, fp = 2 p2 (p2 - q2),
 * fq = 2 q2 (q2 - p2).
 * Vectors run across channels: the tile transforms read and write images in
 * the blocked layout of winograd_kern.h (a pixel's VL channels contiguous),
 * so that a tile's pixel of VL channels is one load and its 36 transformed
 * values VL contiguous floats of V or M; the weights' transforms take VL
 * output channels at a time.
 *
 * The includer defines: WT (the functions' target attribute), VF (a vector
 * of VL floats, with + - * and scalar operands), V_ZERO(), V_SET1(x),
 * V_LOADU(p), V_STOREU(p, v), V_FMA(a, b, c) (a b + c, fused), V_GATHER(p, s, n)
 * (lane l < n p[l s], the rest zero; 0 < n <= VL), RMAX x NV
 * (the register block of the matrix product: rows by vectors) and
 * WINO_TABLE.
 *
 * The right-hand matrices of the products (U, dM) are stored in column
 * blocks of BW = NV VL, each block's rows contiguous (see winograd_kern.h),
 * so that the product reads them in order. */

#define BW (NV * VL)

/* Offset of element (row j, column k) in a matrix of column blocks of rows rows. */
static inline size_t bofs(int rows, int j, int k)
{
    return (size_t)(k / BW) * rows * BW + (size_t)j * BW + k % BW;
}

#define P1 0.625f
#define P2 0.390625f
#define P3 0.244140625f
#define Q1 1.5f
#define Q2 2.25f
#define Q3 3.375f
#define PQ2 1.40625f      /* p q2 */
#define QP2 0.5859375f    /* q p2 */
#define P2Q2 0.87890625f  /* f0 */
#define SUM2 2.640625f    /* p2 + q2 */
#define IF0 1.1377778f    /* 1 / f0 */
#define IFP -0.68840336f  /* 1 / fp */
#define IFQ 0.11951447f   /* 1 / fq */

/* d <- B^T d over six values at stride s. */
static inline WT void tf_in6(VF *d, int s)
{
    const VF d0 = d[0], d1 = d[s], d2 = d[2 * s], d3 = d[3 * s], d4 = d[4 * s], d5 = d[5 * s];
    const VF ep = d4 - Q2 * d2, op = PQ2 * d1 - P1 * d3;
    const VF eq = d4 - P2 * d2, oq = Q1 * d3 - QP2 * d1;
    d[0] = P2Q2 * d0 - SUM2 * d2 + d4;
    d[s] = ep - op;
    d[2 * s] = ep + op;
    d[3 * s] = eq + oq;
    d[4 * s] = eq - oq;
    d[5 * s] = P2Q2 * d1 - SUM2 * d3 + d5;
}

/* y (four values at stride ys) = A^T m (six at stride ms). */
static inline WT void tf_out6(VF *y, int ys, const VF *m, int ms)
{
    const VF a = m[ms] + m[2 * ms], b = m[ms] - m[2 * ms];
    const VF c = m[3 * ms] + m[4 * ms], e = m[3 * ms] - m[4 * ms];
    y[0] = m[0] + a + c;
    y[ys] = P1 * b + Q1 * e;
    y[2 * ys] = P2 * a + Q2 * c;
    y[3 * ys] = P3 * b + Q3 * e + m[5 * ms];
}

/* m (six values at stride ms) = A y (four at stride ys): the transpose of tf_out6. */
static inline WT void tf_dy4(VF *m, int ms, const VF *y, int ys)
{
    const VF y0 = y[0], y1 = y[ys], y2 = y[2 * ys], y3 = y[3 * ys];
    const VF ep = y0 + P2 * y2, op = P1 * y1 + P3 * y3;
    const VF eq = y0 + Q2 * y2, oq = Q1 * y1 + Q3 * y3;
    m[0] = y0;
    m[ms] = ep + op;
    m[2 * ms] = ep - op;
    m[3 * ms] = eq + oq;
    m[4 * ms] = eq - oq;
    m[5 * ms] = y3;
}

/* u (six values at stride us) = G (g0 g1 g2). */
static inline WT void tf_w3(VF *u, int us, VF g0, VF g1, VF g2)
{
    const VF ep = g0 + P2 * g2, op = P1 * g1, eq = g0 + Q2 * g2, oq = Q1 * g1;
    u[0] = IF0 * g0;
    u[us] = IFP * (ep + op);
    u[2 * us] = IFP * (ep - op);
    u[3 * us] = IFQ * (eq + oq);
    u[4 * us] = IFQ * (eq - oq);
    u[5 * us] = g2;
}

/* g (three values at stride gs) = G^T u (six at stride us): the transpose of tf_w3. */
static inline WT void tf_dw6(VF *g, int gs, const VF *u, int us)
{
    const VF sp = IFP * (u[us] + u[2 * us]), dp = IFP * (u[us] - u[2 * us]);
    const VF sq = IFQ * (u[3 * us] + u[4 * us]), dq = IFQ * (u[3 * us] - u[4 * us]);
    g[0] = IF0 * u[0] + sp + sq;
    g[gs] = P1 * dp + Q1 * dq;
    g[2 * gs] = P2 * sp + Q2 * sq + u[5 * us];
}

static WT void wino_weights(float *U, const float *w, int C, int K, int Kp, int flip, int k0,
                            int k1)
{
    const size_t xs = ug_wino_slice((size_t)C * Kp);
    const int step = flip ? 9 : 9 * C; /* from output channel k to k + 1 */
    for (int k = k0; k < k1; k += VL) {
        /* Lanes past K read nothing and transform zeros. */
        const int nk = K - k < 0 ? 0 : K - k < VL ? K - k : VL;
        for (int c = 0; c < C; c++) {
            const float *p = flip ? w + ((size_t)c * K + k) * 9 : w + ((size_t)k * C + c) * 9;
            VF g[9], r[18], u[36];
            for (int q = 0; q < 9; q++) /* tap q of VL output channels */
                g[q] = nk ? V_GATHER(p + (flip ? 8 - q : q), step, nk) : V_ZERO();
            for (int j = 0; j < 3; j++) /* columns: r is 6 x 3 */
                tf_w3(r + j, 3, g[j], g[3 + j], g[6 + j]);
            for (int i = 0; i < 6; i++)
                tf_w3(u + 6 * i, 1, r[3 * i], r[3 * i + 1], r[3 * i + 2]);
            float *u0 = U + bofs(C, c, k);
            for (int xi = 0; xi < 36; xi++)
                V_STOREU(u0 + xi * xs, u[xi]);
        }
    }
}

static WT void wino_dweights(float *dw, const float *dU, int C, int K, int Kp, int c0, int c1)
{
    const size_t xs = ug_wino_slice((size_t)C * Kp);
    for (int c = c0; c < c1; c++)
        for (int k = 0; k < K; k += VL) {
            const int nk = K - k < VL ? K - k : VL;
            const size_t at = (size_t)c * Kp + k;
            VF x[36], r[18], d[9];
            for (int xi = 0; xi < 36; xi++)
                x[xi] = V_LOADU(dU + at + xi * xs);
            for (int i = 0; i < 6; i++)
                tf_dw6(r + 3 * i, 1, x + 6 * i, 1); /* rows: r is 6 x 3 */
            for (int j = 0; j < 3; j++)
                tf_dw6(d + j, 3, r + j, 3);
            float buf[9][VL];
            for (int q = 0; q < 9; q++)
                V_STOREU(buf[q], d[q]);
            for (int l = 0; l < nk; l++) {
                float *o = dw + ((size_t)(k + l) * C + c) * 9;
                for (int q = 0; q < 9; q++)
                    o[q] += buf[q][l];
            }
        }
}

/* Tile t's image and the corner of its output in that image's plane. */
static inline WT void tile_pos(const ug_wino_geom *g, int t, int *n, int *oy, int *ox)
{
    const int per = g->ty * g->tx, r = t % per;
    *n = t / per;
    *oy = 4 * (r / g->tx);
    *ox = 4 * (r % g->tx);
}

/* Pixel (y, x) of channels c .. c + VL - 1 of image n in an image of C
 * channels of H x W blocked by lb (c a multiple of VL, and VL of lb). */
static inline WT const float *blk_at(const float *b, int lb, int C, int H, int W, int n, int c,
                                     int y, int x)
{
    const int CB = (C + lb - 1) / lb;
    return b + ((((size_t)n * CB + c / lb) * H + y) * W + x) * lb + c % lb;
}

static WT void wino_to_blocked(float *dst, const float *src, int C, size_t P, int n, int cb)
{
    const int CB = (C + VL - 1) / VL, nl = C - cb * VL < VL ? C - cb * VL : VL;
    float *d = dst + ((size_t)n * CB + cb) * P * VL;
    const float *s = src + ((size_t)n * C + (size_t)cb * VL) * P;
    /* In runs of pixels whose blocked copy stays in the L1 cache. */
    for (size_t p0 = 0; p0 < P; p0 += 64) {
        const size_t p1 = P - p0 < 64 ? P : p0 + 64;
        for (int l = 0; l < VL; l++)
            for (size_t p = p0; p < p1; p++)
                d[p * VL + l] = l < nl ? s[l * P + p] : 0.0f;
    }
}

static WT void wino_from_blocked(float *dst, const float *src, const float *bias, int C,
                                 size_t P, int n, int cb, int acc)
{
    const int CB = (C + VL - 1) / VL, nl = C - cb * VL < VL ? C - cb * VL : VL;
    const float *s = src + ((size_t)n * CB + cb) * P * VL;
    float *d = dst + ((size_t)n * C + (size_t)cb * VL) * P;
    for (size_t p0 = 0; p0 < P; p0 += 64) {
        const size_t p1 = P - p0 < 64 ? P : p0 + 64;
        for (int l = 0; l < nl; l++) {
            const float b = bias ? bias[cb * VL + l] : 0.0f;
            float *o = d + l * P;
            if (acc)
                for (size_t p = p0; p < p1; p++)
                    o[p] += s[p * VL + l] + b;
            else
                for (size_t p = p0; p < p1; p++)
                    o[p] = s[p * VL + l] + b;
        }
    }
}

static WT void wino_input(float *V, const float *in, const ug_wino_geom *g, int t0, int nt)
{
    const size_t xs = ug_wino_slice((size_t)g->TB * g->Cp);
    /* Channels outer: the rows under a call's tiles for VL channels stay in
     * the L1 cache while its tiles, which share columns, read them. */
    for (int c = 0; c < g->C; c += VL) {
        for (int t = 0; t < nt; t++) {
            int n, y0, x0;
            tile_pos(g, t0 + t, &n, &y0, &x0);
            y0 -= g->pt, x0 -= g->pl;
            const float *plane = blk_at(in, g->lbi, g->C, g->H, g->W, n, c, 0, 0);
            /* Pixel (y0 + i, x0 + j) at plane + (at + (i W + j) lb), read only
             * where it is inside the plane (the offset summed first: plane + at
             * alone may lie outside it). */
            const ptrdiff_t rs = (ptrdiff_t)g->W * g->lbi, at = (ptrdiff_t)y0 * rs + x0 * g->lbi;
            VF d[36];
            /* Tiles wholly inside (most of them) without the tests. */
            if (y0 >= 0 && y0 + 6 <= g->H && x0 >= 0 && x0 + 6 <= g->W) {
                for (int i = 0; i < 6; i++)
                    for (int j = 0; j < 6; j++)
                        d[6 * i + j] = V_LOADU(plane + (at + i * rs + j * g->lbi));
            } else {
                for (int i = 0; i < 6; i++)
                    for (int j = 0; j < 6; j++)
                        d[6 * i + j] = y0 + i >= 0 && y0 + i < g->H && x0 + j >= 0 &&
                                               x0 + j < g->W
                                           ? V_LOADU(plane + (at + i * rs + j * g->lbi))
                                           : V_ZERO();
            }
            for (int j = 0; j < 6; j++)
                tf_in6(d + j, 6);
            for (int i = 0; i < 6; i++)
                tf_in6(d + 6 * i, 1);
            float *v = V + (size_t)t * g->Cp + c;
            for (int xi = 0; xi < 36; xi++)
                V_STOREU(v + xi * xs, d[xi]);
        }
    }
}

static WT void wino_output(float *out, const float *M, const float *bias, const ug_wino_geom *g,
                           int t0, int nt)
{
    const size_t xs = ug_wino_slice((size_t)g->TB * g->Kp);
    for (int k = 0; k < g->K; k += VL) { /* channels outer, as in wino_input */
        for (int t = 0; t < nt; t++) {
            int n, oy, ox;
            tile_pos(g, t0 + t, &n, &oy, &ox);
            const int hi = g->OH - oy < 4 ? g->OH - oy : 4, wi = g->OW - ox < 4 ? g->OW - ox : 4;
            const float *m0 = M + (size_t)t * g->Kp + k;
            VF m[36], r[24], y[16];
            for (int xi = 0; xi < 36; xi++)
                m[xi] = V_LOADU(m0 + xi * xs);
            for (int i = 0; i < 6; i++)
                tf_out6(r + 4 * i, 1, m + 6 * i, 1);
            for (int j = 0; j < 4; j++)
                tf_out6(y + j, 4, r + j, 4);
            if (bias) {
                const VF bv = V_LOADU(bias + k);
                for (int i = 0; i < 16; i++)
                    y[i] = y[i] + bv;
            }
            float *o = (float *)blk_at(out, g->lbo, g->K, g->OH, g->OW, n, k, oy, ox);
            const ptrdiff_t rs = (ptrdiff_t)g->OW * g->lbo;
            for (int i = 0; i < hi; i++)
                for (int j = 0; j < wi; j++)
                    V_STOREU(o + i * rs + j * g->lbo, y[4 * i + j]);
        }
    }
}

static WT void wino_dout(float *dM, const float *dy, const ug_wino_geom *g, int t0, int nt)
{
    for (int k = 0; k < g->K; k += VL) { /* channels outer, as in wino_input */
        for (int t = 0; t < nt; t++) {
            int n, oy, ox;
            tile_pos(g, t0 + t, &n, &oy, &ox);
            const float *p = blk_at(dy, g->lbo, g->K, g->OH, g->OW, n, k, oy, ox);
            const ptrdiff_t rs = (ptrdiff_t)g->OW * g->lbo;
            VF y[16], r[24], m[36];
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++)
                    y[4 * i + j] = oy + i < g->OH && ox + j < g->OW
                                       ? V_LOADU(p + i * rs + j * g->lbo)
                                       : V_ZERO();
            for (int i = 0; i < 4; i++)
                tf_dy4(r + 6 * i, 1, y + 4 * i, 1);
            for (int j = 0; j < 6; j++)
                tf_dy4(m + j, 6, r + j, 6);
            const size_t xs = ug_wino_slice((size_t)g->TB * g->Kp);
            float *d = dM + bofs(g->TB, t, k);
            for (int xi = 0; xi < 36; xi++)
                V_STOREU(d + xi * xs, m[xi]);
        }
    }
}

/* One R x nv block of the product (R <= RMAX, nv <= NV) over J, its sums in
 * registers; row r's value for j is a[r a_rs + j a_js] (a packed panel:
 * a_rs 1, a_js RMAX). */
static inline __attribute__((always_inline)) WT void
gemm_block(float *Cm, ptrdiff_t c_rs, const float *a, ptrdiff_t a_rs, ptrdiff_t a_js,
           const float *B, int R, int nv, int J, int accumulate)
{
    VF acc[RMAX][NV];
#pragma GCC unroll 16
    for (int r = 0; r < RMAX; r++)
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++)
            acc[r][v] = accumulate && r < R && v < nv ? V_LOADU(Cm + r * c_rs + v * VL) : V_ZERO();
    for (int j = 0; j < J; j++) {
        const float *b = B + j * BW;
        VF bv[NV];
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++)
            bv[v] = v < nv ? V_LOADU(b + v * VL) : V_ZERO();
#pragma GCC unroll 16
        for (int r = 0; r < RMAX; r++) {
            if (r >= R)
                break;
            const VF av = V_SET1(a[r * a_rs + j * a_js]);
#pragma GCC unroll 4
            for (int v = 0; v < NV; v++)
                if (v < nv)
                    acc[r][v] = V_FMA(av, bv[v], acc[r][v]);
        }
    }
#pragma GCC unroll 16
    for (int r = 0; r < RMAX; r++)
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++)
            if (r < R && v < nv)
                V_STOREU(Cm + r * c_rs + v * VL, acc[r][v]);
}

/* The full RMAX x NV block as functions of their own: the sizes are
 * constants, so every loop of gemm_block unrolls without a test. (Called
 * from beside gemm_block with R = RMAX and nv = NV inline, the compiler
 * merges the two calls into the one that tests R and nv.) gemm_full reads a
 * packed panel, gemm_full_rows A in place with rows a_rs apart: the
 * forward's V, whose rows are the tiles, needs no panel. */
static __attribute__((noinline)) WT void gemm_full(float *Cm, ptrdiff_t c_rs, const float *a,
                                                   const float *B, int J, int accumulate)
{
    gemm_block(Cm, c_rs, a, 1, RMAX, B, RMAX, NV, J, accumulate);
}

static __attribute__((noinline)) WT void gemm_full_rows(float *Cm, ptrdiff_t c_rs, const float *a,
                                                        ptrdiff_t a_rs, const float *B, int J,
                                                        int accumulate)
{
    gemm_block(Cm, c_rs, a, a_rs, 1, B, RMAX, NV, J, accumulate);
}

/* Sums over j are taken in chunks of JC; the panels of A for up to SG row
 * strips of RMAX are packed together (at most 16 K floats), and each column
 * block of B, read once from memory, serves all of them from the L1 cache. */
#define JC 256
#define SG (16384 / (JC * RMAX))

static WT void wino_gemm(float *Cm, ptrdiff_t c_rs, const float *A, ptrdiff_t a_rs,
                         ptrdiff_t a_js, const float *B, int b_rows, int rows, int J, int cols,
                         int accumulate)
{
    if (a_js == 1 && rows >= RMAX && cols % BW == 0) {
        const int full = rows / RMAX * RMAX;
        for (int k = 0; k < cols; k += BW)
            for (int r = 0; r < full; r += RMAX)
                gemm_full_rows(Cm + r * c_rs + k, c_rs, A + r * a_rs, a_rs, B + bofs(b_rows, 0, k),
                               J, accumulate);
        if (full == rows)
            return;
        Cm += full * c_rs, A += full * a_rs, rows -= full;
    }
    float panel[SG * JC * RMAX];
    for (int r0 = 0; r0 < rows; r0 += SG * RMAX) {
        const int r1 = rows - r0 < SG * RMAX ? rows : r0 + SG * RMAX;
        for (int j0 = 0; j0 < J; j0 += JC) {
            const int nj = J - j0 < JC ? J - j0 : JC;
            /* Strip s's panel: row r0 + s RMAX + q's value for j at s JC RMAX + j RMAX + q. */
            for (int r = r0; r < r1; r += RMAX) {
                const int R = r1 - r < RMAX ? r1 - r : RMAX;
                const float *a = A + r * a_rs + j0 * a_js;
                float *pa = panel + (size_t)(r - r0) / RMAX * JC * RMAX;
                for (int j = 0; j < nj; j++)
                    for (int q = 0; q < R; q++)
                        pa[j * RMAX + q] = a[q * a_rs + j * a_js];
            }
            const int acc = accumulate || j0 > 0;
            for (int k = 0; k < cols; k += NV * VL) {
                const int nv = (cols - k) / VL < NV ? (cols - k) / VL : NV;
                const float *b = B + bofs(b_rows, j0, k);
                for (int r = r0; r < r1; r += RMAX) {
                    const int R = r1 - r < RMAX ? r1 - r : RMAX;
                    const float *pa = panel + (size_t)(r - r0) / RMAX * JC * RMAX;
                    float *c = Cm + r * c_rs + k;
                    if (R == RMAX && nv == NV)
                        gemm_full(c, c_rs, pa, b, nj, acc);
                    else
                        gemm_block(c, c_rs, pa, 1, RMAX, b, R, nv, nj, acc);
                }
            }
        }
    }
}

const ug_wino_kernels WINO_TABLE = {VL,         BW,               wino_to_blocked, wino_from_blocked,
                                    wino_weights, wino_dweights,   wino_input,
                                    wino_output,  wino_dout,       wino_gemm};
