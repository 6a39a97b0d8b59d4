/* The kernels of conv_narrow.c written once for any vector width:
 * conv_narrow.c defines the vector type and operations below, then includes
 * this file once per path. The row kernel: a block of NB vectors of pixels
 * of every output channel stays in registers (CO x NB of them, CO the
 * output channels, a constant in each specialisation) while every input
 * channel, kernel row and tap passes over it: one load of input pixels
 * feeds CO fused multiply-adds. Pixels past the last whole block go in single
 * vectors, the last of them overlapping its neighbour where the row ends
 * inside a vector. The sums start from the bias, or from out where add != 0.
 * The weight gradient's kernel is described at NARROW_DW_BLOCK.
 *
 * The includer defines: WT (the functions' target attribute), VF (a vector
 * of VL floats), V_SET1(x), V_LOADU(p), V_STOREU(p, v), V_FMA(a, b, c)
 * (a b + c, fused), V_LOADR(p) (as V_LOADU, held in a register for its
 * several uses), NARROW_ROW and NARROW_DW (the names of the row and
 * weight-gradient functions made) and NARROW_KB (the weight gradient's taps
 * a pass, 3 or 4: its CO x NARROW_KB sums must fit the path's registers);
 * this file undefines them again. */

#define NB 4
#define NARROW_CAT(a, b) a##b
#define NARROW_NAME(a, b) NARROW_CAT(a, b)
#define NARROW_BLOCK NARROW_NAME(NARROW_ROW, _block)
#define NARROW_DW_BLOCK NARROW_NAME(NARROW_DW, _block)
#define NARROW_SUMS NARROW_NAME(NARROW_ROW, _sums)

/* Sums of NV vectors of pixels from x0 of output row oy, for every output
 * channel: acc holds their start and gets their end. */
static inline __attribute__((always_inline)) WT void NARROW_SUMS(
    VF acc[UG_NARROW_MAX_OUT][NB], const float *in, const float *w, const ug_conv_shape *s,
    int n, int oy, int x0, const int CO, const int NV)
{
    const int Cin = s->Cin, H = s->H, W = s->W, kh = s->kh, kw = s->kw;
    const size_t wco = (size_t)Cin * kh * kw; /* one output channel's weights */
    for (int ci = 0; ci < Cin; ci++) {
        for (int ky = 0; ky < kh; ky++) {
            const float *row = in + (((size_t)n * Cin + ci) * H + oy + ky) * W + x0;
            const float *wk = w + ((size_t)ci * kh + ky) * kw;
            for (int kx = 0; kx < kw; kx++) {
                VF wv[UG_NARROW_MAX_OUT];
#pragma GCC unroll 4
                for (int co = 0; co < CO; co++)
                    wv[co] = V_SET1(wk[co * wco + kx]);
#pragma GCC unroll 4
                for (int j = 0; j < NV; j++) {
                    const VF r = V_LOADR(row + kx + j * VL);
#pragma GCC unroll 4
                    for (int co = 0; co < CO; co++)
                        acc[co][j] = V_FMA(wv[co], r, acc[co][j]);
                }
            }
        }
    }
}

/* Output row oy in blocks of NB vectors, then single vectors; a row that
 * ends inside a vector ends with one more, over its last VL pixels, of
 * which only those not yet written are stored. */
static inline __attribute__((always_inline)) WT void NARROW_BLOCK(
    float *out, const float *in, const float *w, const float *b, const ug_conv_shape *s, int n,
    int oy, int add, const int CO)
{
    const int OH = s->H - s->kh + 1, OW = s->W - s->kw + 1;
    float *o = out + ((size_t)n * CO * OH + oy) * OW; /* channel co's row at o + co OH OW */
    const size_t cs = (size_t)OH * OW;
    VF acc[UG_NARROW_MAX_OUT][NB];
    int x0 = 0;
    for (; x0 + NB * VL <= OW; x0 += NB * VL) {
#pragma GCC unroll 4
        for (int co = 0; co < CO; co++)
#pragma GCC unroll 4
            for (int j = 0; j < NB; j++)
                acc[co][j] = add ? V_LOADU(o + co * cs + x0 + j * VL) : V_SET1(b ? b[co] : 0.0f);
        NARROW_SUMS(acc, in, w, s, n, oy, x0, CO, NB);
#pragma GCC unroll 4
        for (int co = 0; co < CO; co++)
#pragma GCC unroll 4
            for (int j = 0; j < NB; j++)
                V_STOREU(o + co * cs + x0 + j * VL, acc[co][j]);
    }
    for (; x0 < OW; x0 += VL) {
        /* The last vector starts VL before the row's end (OW >= VL). */
        const int xv = x0 + VL <= OW ? x0 : OW - VL;
#pragma GCC unroll 4
        for (int co = 0; co < CO; co++)
            acc[co][0] = add ? V_LOADU(o + co * cs + xv) : V_SET1(b ? b[co] : 0.0f);
        NARROW_SUMS(acc, in, w, s, n, oy, xv, CO, 1);
#pragma GCC unroll 4
        for (int co = 0; co < CO; co++) {
            float lanes[VL];
            V_STOREU(lanes, acc[co][0]);
            for (int l = x0 - xv; l < VL; l++)
                o[co * cs + xv + l] = lanes[l];
        }
    }
}

static WT void NARROW_ROW(float *out, const float *in, const float *w, const float *b,
                          const ug_conv_shape *s, int n, int oy, int add)
{
    switch (s->Cout) { /* the output channels as a constant: the sums stay in registers */
    case 1:
        NARROW_BLOCK(out, in, w, b, s, n, oy, add, 1);
        break;
    case 2:
        NARROW_BLOCK(out, in, w, b, s, n, oy, add, 2);
        break;
    case 3:
        NARROW_BLOCK(out, in, w, b, s, n, oy, add, 3);
        break;
    default:
        NARROW_BLOCK(out, in, w, b, s, n, oy, add, 4);
        break;
    }
}

/* The weight gradient's sums over `rows` rows of pixels for one kernel row:
 * x (input rows, already at that kernel row) against CO dout planes g (rows
 * of OW, gstride floats apart), for taps kx0 to kx0 + NK. The CO x NK sums
 * are vectors over a row's pixels, kept in registers over the rows (a load
 * of dout feeds NK fused multiply-adds, a load of shifted input CO) and in
 * acc (CO x kw vectors) between calls; pixels past the last whole vector of
 * a row go to tail (CO x kw floats) one by one. */
static inline __attribute__((always_inline)) WT void NARROW_DW_BLOCK(
    VF *acc, float *tail, const float *g, size_t gstride, const float *x, int W, int rows, int OW,
    int kw, int kx0, const int CO, const int NK)
{
    VF a[UG_NARROW_MAX_OUT][NARROW_KB];
#pragma GCC unroll 4
    for (int co = 0; co < CO; co++)
#pragma GCC unroll 4
        for (int j = 0; j < NK; j++)
            a[co][j] = acc[co * kw + kx0 + j];
    const int OWV = OW - OW % VL;
    for (int oy = 0; oy < rows; oy++) {
        const float *xr = x + (size_t)oy * W + kx0, *gr = g + (size_t)oy * OW;
        for (int ox = 0; ox < OWV; ox += VL) {
            VF gv[UG_NARROW_MAX_OUT];
#pragma GCC unroll 4
            for (int co = 0; co < CO; co++)
                gv[co] = V_LOADR(gr + co * gstride + ox);
#pragma GCC unroll 4
            for (int j = 0; j < NK; j++) {
                const VF r = V_LOADR(xr + ox + j);
#pragma GCC unroll 4
                for (int co = 0; co < CO; co++)
                    a[co][j] = V_FMA(gv[co], r, a[co][j]);
            }
        }
        for (int ox = OWV; ox < OW; ox++)
            for (int co = 0; co < CO; co++)
                for (int j = 0; j < NK; j++)
                    tail[co * kw + kx0 + j] += gr[co * gstride + ox] * xr[ox + j];
    }
#pragma GCC unroll 4
    for (int co = 0; co < CO; co++)
#pragma GCC unroll 4
        for (int j = 0; j < NK; j++)
            acc[co * kw + kx0 + j] = a[co][j];
}

/* All of one image's sums for one input plane x (H x W) against co_n dout
 * planes g: sums[(ky * co_n + co) * kw + kx] += sum over pixels of
 * g[co][oy][ox] x[oy + ky][ox + kx]. Bands of NARROW_DW_ROWS rows, small
 * enough for the first-level cache, pass through every kernel row and tap
 * before the next band, so dout and input are read from there. */
#define NARROW_DW_ROWS 4
static WT void NARROW_DW(float *sums, const float *g, size_t gstride, const float *x, int W,
                         int OH, int OW, int kh, int kw, int co_n)
{
    VF acc[UG_NARROW_MAX_K][UG_NARROW_MAX_OUT * UG_NARROW_MAX_K];
    float tail[UG_NARROW_MAX_K][UG_NARROW_MAX_OUT * UG_NARROW_MAX_K] = {{0}};
    for (int ky = 0; ky < kh; ky++)
        for (int i = 0; i < co_n * kw; i++)
            acc[ky][i] = V_SET1(0.0f);
    for (int y0 = 0; y0 < OH; y0 += NARROW_DW_ROWS) {
        const int rows = OH - y0 < NARROW_DW_ROWS ? OH - y0 : NARROW_DW_ROWS;
        const float *gb = g + (size_t)y0 * OW;
        for (int ky = 0; ky < kh; ky++) {
            const float *xb = x + (size_t)(y0 + ky) * W;
#define NARROW_DW_CALL(CO, NK)                                                                  \
    NARROW_DW_BLOCK(acc[ky], tail[ky], gb, gstride, xb, W, rows, OW, kw, kx0, CO, NK)
#define NARROW_DW_NK(CO)                                                                        \
    for (int kx0 = 0; kx0 < kw; kx0 += NARROW_KB)                                              \
        switch (kw - kx0 < NARROW_KB ? kw - kx0 : NARROW_KB) {                                 \
        case 1: NARROW_DW_CALL(CO, 1); break;                                                  \
        case 2: NARROW_DW_CALL(CO, 2); break;                                                  \
        case 3: NARROW_DW_CALL(CO, 3); break;                                                  \
        default: NARROW_DW_CALL(CO, NARROW_KB); break;                                         \
        }
            switch (co_n) {
            case 1: NARROW_DW_NK(1) break;
            case 2: NARROW_DW_NK(2) break;
            case 3: NARROW_DW_NK(3) break;
            default: NARROW_DW_NK(4) break;
            }
#undef NARROW_DW_NK
#undef NARROW_DW_CALL
        }
    }
    for (int ky = 0; ky < kh; ky++)
        for (int i = 0; i < co_n * kw; i++) {
            float lanes[VL];
            V_STOREU(lanes, acc[ky][i]);
            float t = tail[ky][i];
            for (int l = 0; l < VL; l++)
                t += lanes[l];
            sums[ky * co_n * kw + i] += t;
        }
}
#undef NARROW_DW_ROWS

#undef NB
#undef NARROW_BLOCK
#undef NARROW_DW_BLOCK
#undef NARROW_SUMS
/* Ready for the next path's definitions. */
#undef WT
#undef VF
#undef VL
#undef V_SET1
#undef V_LOADU
#undef V_LOADR
#undef V_STOREU
#undef V_FMA
#undef NARROW_ROW
#undef NARROW_DW
#undef NARROW_KB
