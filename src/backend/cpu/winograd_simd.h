/* The Winograd kernels of winograd_kern.h written once for any vector
 * width: winograd_plain.c, winograd_avx2.c and winograd_avx512.c each define
 * the vector type and operations below, then include this file, which makes
 * their table WINO_TABLE. The transforms are those of F(4x4, 3x3) with
 * interpolation points 0, 1, -1, 2, -2 and infinity (Lavin and Gray):
 *   B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0;
 *          0 2 -1 -2 1 0; 0 4 0 -5 0 1]
 *   A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]
 * (G, for the weights, is in winograd.c.) Vectors run across channels: a
 * tile's pixels of VL channels are one gather, its 36 transformed values VL
 * contiguous floats of V or M.
 *
 * The includer defines: WT (the functions' target attribute), VF (a vector
 * of VL floats, with + - * and scalar operands), VI (gather offsets),
 * V_ZERO(), V_SET1(x), V_LOADU(p), V_STOREU(p, v), V_FMA(a, b, c) (a b + c,
 * fused), V_INDEX(stride) (offsets of lanes l * stride), V_GATHER(p, idx, n)
 * (lanes l < n from p + idx[l], zero above), RMAX x NV (the register block
 * of the matrix product: rows by vectors) and WINO_TABLE. */

/* d <- B^T d over six values at stride s. */
static inline WT void tf_in6(VF *d, int s)
{
    const VF d0 = d[0], d1 = d[s], d2 = d[2 * s], d3 = d[3 * s], d4 = d[4 * s], d5 = d[5 * s];
    d[0] = 4.0f * d0 - 5.0f * d2 + d4;
    d[s] = d3 + d4 - 4.0f * (d1 + d2);
    d[2 * s] = d4 - d3 + 4.0f * (d1 - d2);
    d[3 * s] = d4 - d2 + 2.0f * (d3 - d1);
    d[4 * s] = d4 - d2 - 2.0f * (d3 - d1);
    d[5 * s] = 4.0f * d1 - 5.0f * d3 + d5;
}

/* y (four values at stride ys) = A^T m (six at stride ms). */
static inline WT void tf_out6(VF *y, int ys, const VF *m, int ms)
{
    const VF a = m[ms] + m[2 * ms], b = m[ms] - m[2 * ms];
    const VF c = m[3 * ms] + m[4 * ms], e = m[3 * ms] - m[4 * ms];
    y[0] = m[0] + a + c;
    y[ys] = b + 2.0f * e;
    y[2 * ys] = a + 4.0f * c;
    y[3 * ys] = b + 8.0f * e + m[5 * ms];
}

/* m (six values at stride ms) = A y (four at stride ys): the transpose of tf_out6. */
static inline WT void tf_dy4(VF *m, int ms, const VF *y, int ys)
{
    const VF y0 = y[0], y1 = y[ys], y2 = y[2 * ys], y3 = y[3 * ys];
    const VF e = y0 + y2, o = y1 + y3, e4 = y0 + 4.0f * y2, o8 = 2.0f * y1 + 8.0f * y3;
    m[0] = y0;
    m[ms] = e + o;
    m[2 * ms] = e - o;
    m[3 * ms] = e4 + o8;
    m[4 * ms] = e4 - o8;
    m[5 * ms] = y3;
}

/* Tile t's image and the corner of its output in that image's plane. */
static inline WT void tile_pos(const ug_wino_geom *g, int t, int *n, int *oy, int *ox)
{
    const int per = g->ty * g->tx, r = t % per;
    *n = t / per;
    *oy = 4 * (r / g->tx);
    *ox = 4 * (r % g->tx);
}

static WT void wino_input(float *V, const float *in, const ug_wino_geom *g, int t0, int nt)
{
    const size_t HW = (size_t)g->H * g->W, xs = (size_t)g->TB * g->Cp;
    const VI idx = V_INDEX((int)HW);
    for (int t = 0; t < nt; t++) {
        int n, y0, x0;
        tile_pos(g, t0 + t, &n, &y0, &x0);
        y0 -= g->pt, x0 -= g->pl;
        for (int c = 0; c < g->C; c += VL) {
            const int nc = g->C - c < VL ? g->C - c : VL;
            const float *p = in + ((size_t)n * g->C + c) * HW;
            VF d[36];
            for (int i = 0; i < 6; i++) {
                const int y = y0 + i;
                for (int j = 0; j < 6; j++) {
                    const int x = x0 + j;
                    d[6 * i + j] = y >= 0 && y < g->H && x >= 0 && x < g->W
                                       ? V_GATHER(p + (size_t)y * g->W + x, idx, nc)
                                       : V_ZERO();
                }
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
                           int t0, int nt, int acc)
{
    const size_t OHW = (size_t)g->OH * g->OW, xs = (size_t)g->TB * g->Kp;
    for (int t = 0; t < nt; t++) {
        int n, oy, ox;
        tile_pos(g, t0 + t, &n, &oy, &ox);
        const int hi = g->OH - oy < 4 ? g->OH - oy : 4, wi = g->OW - ox < 4 ? g->OW - ox : 4;
        for (int k = 0; k < g->K; k += VL) {
            const int nk = g->K - k < VL ? g->K - k : VL;
            const float *m0 = M + (size_t)t * g->Kp + k;
            VF m[36], r[24], y[16];
            for (int xi = 0; xi < 36; xi++)
                m[xi] = V_LOADU(m0 + xi * xs);
            for (int i = 0; i < 6; i++)
                tf_out6(r + 4 * i, 1, m + 6 * i, 1);
            for (int j = 0; j < 4; j++)
                tf_out6(y + j, 4, r + j, 4);
            /* Out to the planes of the nk channels, one scalar at a time. */
            float buf[16][VL];
            for (int q = 0; q < 16; q++)
                V_STOREU(buf[q], y[q]);
            for (int l = 0; l < nk; l++) {
                const float bk = bias ? bias[k + l] : 0.0f;
                float *o = out + ((size_t)n * g->K + k + l) * OHW + (size_t)oy * g->OW + ox;
                for (int i = 0; i < hi; i++)
                    for (int j = 0; j < wi; j++) {
                        float *p = o + (size_t)i * g->OW + j;
                        *p = (acc ? *p : 0.0f) + buf[4 * i + j][l] + bk;
                    }
            }
        }
    }
}

static WT void wino_dout(float *dM, const float *dy, const ug_wino_geom *g, int t0, int nt)
{
    const size_t OHW = (size_t)g->OH * g->OW, xs = (size_t)g->TB * g->Kp;
    const VI idx = V_INDEX((int)OHW);
    for (int t = 0; t < nt; t++) {
        int n, oy, ox;
        tile_pos(g, t0 + t, &n, &oy, &ox);
        for (int k = 0; k < g->K; k += VL) {
            const int nk = g->K - k < VL ? g->K - k : VL;
            const float *p = dy + ((size_t)n * g->K + k) * OHW;
            VF y[16], r[24], m[36];
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++)
                    y[4 * i + j] = oy + i < g->OH && ox + j < g->OW
                                       ? V_GATHER(p + (size_t)(oy + i) * g->OW + ox + j, idx, nk)
                                       : V_ZERO();
            for (int i = 0; i < 4; i++)
                tf_dy4(r + 6 * i, 1, y + 4 * i, 1);
            for (int j = 0; j < 6; j++)
                tf_dy4(m + j, 6, r + j, 6);
            float *d = dM + (size_t)t * g->Kp + k;
            for (int xi = 0; xi < 36; xi++)
                V_STOREU(d + xi * xs, m[xi]);
        }
    }
}

/* One R x nv block of the product (R <= RMAX, nv <= NV), its sums in
 * registers over the whole of J. */
static inline __attribute__((always_inline)) WT void
gemm_block(float *Cm, ptrdiff_t c_rs, const float *A, ptrdiff_t a_rs, ptrdiff_t a_js,
           const float *B, ptrdiff_t b_js, int R, int nv, int J, int accumulate)
{
    VF acc[RMAX][NV];
#pragma GCC unroll 16
    for (int r = 0; r < RMAX; r++)
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++)
            acc[r][v] = accumulate && r < R && v < nv ? V_LOADU(Cm + r * c_rs + v * VL) : V_ZERO();
    for (int j = 0; j < J; j++) {
        const float *b = B + j * b_js, *a = A + j * a_js;
        VF bv[NV];
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++)
            bv[v] = v < nv ? V_LOADU(b + v * VL) : V_ZERO();
#pragma GCC unroll 16
        for (int r = 0; r < RMAX; r++) {
            if (r >= R)
                break;
            const VF av = V_SET1(a[r * a_rs]);
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

static WT void wino_gemm(float *Cm, ptrdiff_t c_rs, const float *A, ptrdiff_t a_rs,
                         ptrdiff_t a_js, const float *B, ptrdiff_t b_js, int rows, int J, int cols,
                         int accumulate)
{
    for (int k = 0; k < cols; k += NV * VL) {
        const int nv = (cols - k) / VL < NV ? (cols - k) / VL : NV;
        for (int r = 0; r < rows; r += RMAX) {
            const int R = rows - r < RMAX ? rows - r : RMAX;
            float *c = Cm + r * c_rs + k;
            const float *a = A + r * a_rs, *b = B + k;
            /* Full blocks get the constant sizes, so their loops unroll. */
            if (R == RMAX && nv == NV)
                gemm_block(c, c_rs, a, a_rs, a_js, b, b_js, RMAX, NV, J, accumulate);
            else
                gemm_block(c, c_rs, a, a_rs, a_js, b, b_js, R, nv, J, accumulate);
        }
    }
}

const ug_wino_kernels WINO_TABLE = {wino_input, wino_output, wino_dout, wino_gemm};
