/* The row kernel of conv_narrow.c written once for any vector width:
 * conv_narrow.c defines the vector type and operations below, then includes
 * this file once per path. A block of NB vectors of pixels of every output
 * channel stays in registers (CO x NB of them, CO the output channels, a
 * constant in each specialisation) while every input channel, kernel row and
 * tap passes over it: one load of input pixels feeds CO fused multiply-adds.
 * Pixels past the last whole block are summed one by one. The sums start
 * from the bias, or from out where add != 0.
 *
 * The includer defines: WT (the functions' target attribute), VF (a vector
 * of VL floats), V_SET1(x), V_LOADU(p), V_STOREU(p, v), V_FMA(a, b, c)
 * (a b + c, fused) and NARROW_ROW (the name of the row function made);
 * this file undefines them again. */

#define NB 4
#define NARROW_CAT(a, b) a##b
#define NARROW_NAME(a, b) NARROW_CAT(a, b)
#define NARROW_BLOCK NARROW_NAME(NARROW_ROW, _block)

static inline __attribute__((always_inline)) WT void NARROW_BLOCK(
    float *out, const float *in, const float *w, const float *b, const ug_conv_shape *s, int n,
    int oy, int add, const int CO)
{
    const int Cin = s->Cin, H = s->H, W = s->W, kh = s->kh, kw = s->kw;
    const int OH = H - kh + 1, OW = W - kw + 1;
    const size_t wco = (size_t)Cin * kh * kw; /* one output channel's weights */
    int x0 = 0;
    for (; x0 + NB * VL <= OW; x0 += NB * VL) {
        VF acc[UG_NARROW_MAX_OUT][NB];
#pragma GCC unroll 4
        for (int co = 0; co < CO; co++)
#pragma GCC unroll 4
            for (int j = 0; j < NB; j++)
                acc[co][j] = add ? V_LOADU(out + (((size_t)n * CO + co) * OH + oy) * OW + x0 +
                                           j * VL)
                                 : V_SET1(b ? b[co] : 0.0f);
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
                    for (int j = 0; j < NB; j++) {
                        const VF r = V_LOADU(row + kx + j * VL);
#pragma GCC unroll 4
                        for (int co = 0; co < CO; co++)
                            acc[co][j] = V_FMA(wv[co], r, acc[co][j]);
                    }
                }
            }
        }
#pragma GCC unroll 4
        for (int co = 0; co < CO; co++)
#pragma GCC unroll 4
            for (int j = 0; j < NB; j++)
                V_STOREU(out + (((size_t)n * CO + co) * OH + oy) * OW + x0 + j * VL, acc[co][j]);
    }
    for (int co = 0; co < CO; co++)
        for (int x = x0; x < OW; x++) {
            float *o = out + (((size_t)n * CO + co) * OH + oy) * OW + x;
            float sum = add ? *o : b ? b[co] : 0.0f;
            for (int ci = 0; ci < Cin; ci++)
                for (int ky = 0; ky < kh; ky++)
                    for (int kx = 0; kx < kw; kx++)
                        sum += w[co * wco + ((size_t)ci * kh + ky) * kw + kx] *
                               in[(((size_t)n * Cin + ci) * H + oy + ky) * W + x + kx];
            *o = sum;
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

#undef NB
#undef NARROW_BLOCK
/* Ready for the next path's definitions. */
#undef WT
#undef VF
#undef VL
#undef V_SET1
#undef V_LOADU
#undef V_STOREU
#undef V_FMA
#undef NARROW_ROW
