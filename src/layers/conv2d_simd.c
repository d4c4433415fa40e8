/* 3x3, stride-1 convolutions (pad 0..2: 'same' and 'valid') with SIMD
 * kernels chosen at run time: conv2d.c sends those shapes here.
 *
 * The kernel body at the end of this file is compiled twice by including
 * the file into itself, with GNU C vectors and target attributes for
 * AVX2+FMA (8 floats) and AVX-512 (16 floats); ae_simd() (core/cpu.c)
 * picks one at run time. The portable path (and any other shape) stays
 * with the plain C code of conv2d.c.
 *
 * Layout and method (per image; the batch loop is outside the kernels):
 *  - the input is copied into zero-padded planes (row stride wp = w+2*pad),
 *    so every tap (ky, kx) of output row oy, columns ox.. is one unaligned
 *    vector load at in[(oy+ky)*wp + ox + kx];
 *  - forward: register blocking over output channels. A block of OB output
 *    channels and R output rows keeps OB*R vector accumulators (8 or 16) in
 *    registers across all input channels and taps, each tap being one load
 *    and OB*R fused multiply-adds with broadcast weights, and bias is the
 *    accumulators' start value. Results are stored straight into the dense
 *    NCHW output (masked stores for the row tail): no wide buffer, no copy;
 *  - dx: the same kernel on dy padded by 2-pad with the weights transposed
 *    and flipped (the "full" correlation);
 *  - dw: vector partial sums per (out, in, tap) kept in the workspace over
 *    the whole chunk of images and reduced once at the end (fixed order, so
 *    results are deterministic); the dy rows are loaded with the lanes past
 *    the row end masked to zero;
 *  - db: vector partial sums per output channel, reduced at the end.
 * The workspace is sized for the widest path, so it does not depend on
 * which path runs. */
#ifndef CONV_SIMD_BODY

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/cpu.h"
#include "layers/layers.h"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("fp-contract=fast")
#endif

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#define CONV_SIMD_X86 1
#include <immintrin.h>
#else
#define CONV_SIMD_X86 0
#endif

#define VW_MAX 16
#define SLACK  64 /* floats readable (and zero) past the last padded plane */

static size_t rup(size_t a) { return (a + 15) / 16 * 16; }

typedef struct {
    int wp;          /* padded input row stride                     */
    size_t P;        /* padded input plane                          */
    int q, wd;       /* dy padding for dx (2 - pad), its row stride */
    size_t Pd;       /* padded dy plane                             */
} cgeom;

static cgeom cg(const conv2d_shape_t *s)
{
    cgeom g;
    g.wp = s->w + 2 * s->pad;
    g.P = (size_t)(s->h + 2 * s->pad) * g.wp;
    g.q = 2 - s->pad;
    g.wd = s->wo + 2 * g.q;
    g.Pd = (size_t)(s->ho + 2 * g.q) * g.wd;
    return g;
}

int conv3_simd_applies(const conv2d_shape_t *s);
size_t conv3_simd_workspace(const conv2d_shape_t *s);
void conv3_simd_forward(float *y, float *yrelu, const float *x, const float *weight, const float *bias,
                        int n, const conv2d_shape_t *s, float *ws);
void conv3_simd_backward(float *dx, float *dweight, float *dbias, const float *dy,
                         const float *x, const float *weight, int n, const conv2d_shape_t *s,
                         float *ws);

/* On the portable path the auto-vectorised wide-grid code of conv2d.c is
 * faster than these kernels with 4-float vectors (measured with
 * bench/layer_bench.c: 150 vs 200 us per image for the lesson's convs), so
 * only the AVX2 and AVX-512 paths take these shapes. (The kernel body
 * still compiles with plain 16-byte vectors, should another target want
 * it.) */
int conv3_simd_applies(const conv2d_shape_t *s)
{
    return CONV_SIMD_X86 && s->k == 3 && s->stride == 1 && s->pad >= 0 && s->pad <= 2 &&
           ae_simd() != AE_SIMD_PORTABLE;
}

/* Workspace carve-up: xpad | dyp | wr | dwacc | dbacc */
typedef struct {
    float *xpad, *dyp, *wr, *dwacc, *dbacc;
    size_t nxpad, ndyp;
} cws;

static cws carve(const conv2d_shape_t *s, const cgeom *g, float *ws)
{
    cws c;
    c.nxpad = (size_t)s->cin * g->P + SLACK;
    c.ndyp = (size_t)s->cout * g->Pd + SLACK;
    c.xpad = ws;
    c.dyp = c.xpad + rup(c.nxpad);
    c.wr = c.dyp + rup(c.ndyp);
    c.dwacc = c.wr + rup((size_t)s->cout * s->cin * 9);
    c.dbacc = c.dwacc + rup((size_t)s->cout * s->cin * 9 * VW_MAX);
    return c;
}

size_t conv3_simd_workspace(const conv2d_shape_t *s)
{
    cgeom g = cg(s);
    return rup((size_t)s->cin * g.P + SLACK) + rup((size_t)s->cout * g.Pd + SLACK) +
           rup((size_t)s->cout * s->cin * 9) + rup((size_t)s->cout * s->cin * 9 * VW_MAX) +
           rup((size_t)s->cout * VW_MAX);
}

/* Weights rearranged for the forward kernel: output channels in blocks of
 * 8 while 8 remain, then blocks of 1 (as corr() walks them); block o0 of size ob starts at
 * o0*nin*9 and holds [nin][9][ob]. transposed != 0 builds the dx weights:
 * out channel = conv input channel, in channel = conv output channel,
 * taps flipped. */
static void arrange(float *wr, const float *weight, int cout, int cin, int transposed)
{
    int nout = transposed ? cin : cout, nin = transposed ? cout : cin;
    for (int o0 = 0; o0 < nout;) {
        int ob = nout - o0 >= 8 ? 8 : 1;
        float *blk = wr + (size_t)o0 * nin * 9;
        for (int i = 0; i < nin; i++)
            for (int t = 0; t < 9; t++)
                for (int j = 0; j < ob; j++) {
                    int o = o0 + j;
                    blk[((size_t)i * 9 + t) * ob + j] =
                        transposed ? weight[((size_t)i * cin + o) * 9 + (8 - t)]
                                   : weight[((size_t)o * cin + i) * 9 + t];
                }
        o0 += ob;
    }
}

#if CONV_SIMD_X86
static const int32_t mask_tab[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
#endif

/* ---- the variants ---------------------------------------------------------- */
#define CONV_SIMD_BODY 1

#if CONV_SIMD_X86
#define VW 8
#define SUF(f) f##_avx2
#define TGT __attribute__((target("avx2,fma")))
#define ACCS 8
#define DWOB 1
#define AVX2_MASKS 1
#include __FILE__
#undef AVX2_MASKS
#undef VW
#undef SUF
#undef TGT
#undef ACCS
#undef DWOB

#define VW 16
#define SUF(f) f##_avx512
#define TGT __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma")))
#define ACCS 16
#define DWOB 2
#define AVX512_MASKS 1
#include __FILE__
#undef AVX512_MASKS
#undef VW
#undef SUF
#undef TGT
#undef ACCS
#undef DWOB
#endif

void conv3_simd_forward(float *y, float *yrelu, const float *x, const float *weight, const float *bias,
                        int n, const conv2d_shape_t *s, float *ws)
{
#if CONV_SIMD_X86
    switch (ae_simd()) {
    case AE_SIMD_AVX512: conv3_forward_avx512(y, yrelu, x, weight, bias, n, s, ws); return;
    case AE_SIMD_AVX2: conv3_forward_avx2(y, yrelu, x, weight, bias, n, s, ws); return;
    default: break;
    }
#endif
    (void)y, (void)yrelu, (void)x, (void)weight, (void)bias, (void)n, (void)s, (void)ws;
}

void conv3_simd_backward(float *dx, float *dweight, float *dbias, const float *dy,
                         const float *x, const float *weight, int n, const conv2d_shape_t *s,
                         float *ws)
{
#if CONV_SIMD_X86
    switch (ae_simd()) {
    case AE_SIMD_AVX512:
        conv3_backward_avx512(dx, dweight, dbias, dy, x, weight, n, s, ws);
        return;
    case AE_SIMD_AVX2: conv3_backward_avx2(dx, dweight, dbias, dy, x, weight, n, s, ws); return;
    default: break;
    }
#endif
    (void)dx, (void)dweight, (void)dbias, (void)dy, (void)x, (void)weight, (void)n, (void)s,
        (void)ws;
}

#else /* ======================= kernel body (CONV_SIMD_BODY) ===================== */

typedef float SUF(vf) __attribute__((vector_size(VW * 4)));
typedef float SUF(vfu) __attribute__((vector_size(VW * 4), aligned(4), may_alias));
#define vf SUF(vf)
#define vfu SUF(vfu)
#define AI static inline __attribute__((always_inline)) TGT

AI vf SUF(ld)(const float *p) { return *(const vfu *)p; }
AI void SUF(st)(float *p, vf v) { *(vfu *)p = v; }
typedef int SUF(vi) __attribute__((vector_size(VW * 4)));
/* relu_forward's x > 0 ? x : 0 (NaN and -0 give +0): the same bits */
AI vf SUF(relu)(vf a) { return (vf)((SUF(vi))a & (a > (vf){0})); }
/* scalar - vector broadcasts the scalar (GCC and clang alike) */
AI vf SUF(splat)(float a) { return a - (vf){0}; }

/* n < VW lanes; lanes past n read as zero, and are not written. */
#if defined(AVX512_MASKS)
AI vf SUF(ldt)(const float *p, int n)
{
    return (vf)_mm512_maskz_loadu_ps((__mmask16)((1u << n) - 1), p);
}
AI void SUF(stt)(float *p, vf v, int n)
{
    _mm512_mask_storeu_ps(p, (__mmask16)((1u << n) - 1), (__m512)v);
}
#elif defined(AVX2_MASKS)
AI vf SUF(ldt)(const float *p, int n)
{
    return (vf)_mm256_maskload_ps(p, _mm256_loadu_si256((const __m256i *)(mask_tab + 8 - n)));
}
AI void SUF(stt)(float *p, vf v, int n)
{
    _mm256_maskstore_ps(p, _mm256_loadu_si256((const __m256i *)(mask_tab + 8 - n)), (__m256)v);
}
#else
AI vf SUF(ldt)(const float *p, int n)
{
    vf v = {0};
    for (int l = 0; l < n; l++) v[l] = p[l];
    return v;
}
AI void SUF(stt)(float *p, vf v, int n)
{
    for (int l = 0; l < n; l++) p[l] = v[l];
}
#endif

AI float SUF(hsum)(vf v)
{
    float s = 0.0f;
    for (int l = 0; l < VW; l++) s += v[l];
    return s;
}

/* c planes of h x w (dense) into the interior of planes with row stride ds
 * and plane stride dp; the borders must be zero (the caller zeroes the
 * buffer once per call). Whole vectors are stored, the lanes past a row's
 * end as zeros: they land in the zero border, in the zero slack after the
 * last plane, or in rows and planes that are written afterwards (rows and
 * planes go in increasing order). Unmasked stores are much cheaper than
 * masked ones, and the source is only read within its bounds. */
TGT static void SUF(copy_in)(float *restrict dst, size_t dp, int ds, const float *restrict src,
                             int c, int h, int w)
{
    for (int ci = 0; ci < c; ci++)
        for (int y = 0; y < h; y++) {
            float *d = dst + ci * dp + (size_t)y * ds;
            const float *sr = src + ((size_t)ci * h + y) * w;
            int x = 0;
            for (; x + VW <= w; x += VW) SUF(st)(d + x, SUF(ld)(sr + x));
            if (x < w) SUF(st)(d + x, SUF(ldt)(sr + x, w - x));
        }
}

/* Kernels over rows [oy0, oy1) of dense output planes (plane stride yp,
 * rows of wo), from nin padded input planes `in` (plane stride P, row
 * stride wp). The accumulators are named variables (the R8/R9 macros), not
 * arrays, so that they live in registers.
 *   corr8:   8 output channels, R rows at a time (R = 1 or 2): 8*R sums;
 *            wr [nin][9][8], b 8 biases or NULL;
 *   corr1:   1 output channel, 8 rows at a time (rows % 8 == 0) or 1.   */
#define R8(M) M(0) M(1) M(2) M(3) M(4) M(5) M(6) M(7)
#define R9(M) M(0) M(1) M(2) M(3) M(4) M(5) M(6) M(7) M(8)

AI void SUF(corr8)(float *restrict y, float *restrict yr, size_t yp, const float *restrict in, size_t P, int wp,
                   const float *restrict wr, const float *restrict b, int nin, int oy0, int oy1,
                   int wo, const int R)
{
    for (int oy = oy0; oy < oy1; oy += R)
        for (int ox = 0; ox < wo; ox += VW) {
#define INIT(j) vf a##j = SUF(splat)(b ? b[j] : 0.0f), c##j = a##j;
            R8(INIT)
#undef INIT
            const float *p = in + (size_t)oy * wp + ox;
            const float *w = wr;
            for (int i = 0; i < nin; i++, p += P)
                for (int ky = 0; ky < 3; ky++)
                    for (int kx = 0; kx < 3; kx++, w += 8) {
                        const float *pt = p + (size_t)ky * wp + kx;
                        vf v = SUF(ld)(pt);
                        if (R == 2) {
                            vf u = SUF(ld)(pt + wp);
#define FMA2(j) { vf cw = SUF(splat)(w[j]); a##j += v * cw; c##j += u * cw; }
                            R8(FMA2)
#undef FMA2
                        } else {
#define FMA1(j) a##j += v * SUF(splat)(w[j]);
                            R8(FMA1)
#undef FMA1
                        }
                    }
            int nv = wo - ox < VW ? wo - ox : VW;
            if (y) {
                float *yo = y + (size_t)oy * wo + ox;
                if (nv == VW) {
#define ST(j) SUF(st)(yo + j * yp, a##j); if (R == 2) SUF(st)(yo + j * yp + wo, c##j);
                    R8(ST)
#undef ST
                } else {
#define ST(j) SUF(stt)(yo + j * yp, a##j, nv); if (R == 2) SUF(stt)(yo + j * yp + wo, c##j, nv);
                    R8(ST)
#undef ST
                }
            }
            if (yr) {   /* the ReLU after the conv, from the registers */
                float *ro = yr + (size_t)oy * wo + ox;
                if (nv == VW) {
#define ST(j) SUF(st)(ro + j * yp, SUF(relu)(a##j)); if (R == 2) SUF(st)(ro + j * yp + wo, SUF(relu)(c##j));
                    R8(ST)
#undef ST
                } else {
#define ST(j) SUF(stt)(ro + j * yp, SUF(relu)(a##j), nv); if (R == 2) SUF(stt)(ro + j * yp + wo, SUF(relu)(c##j), nv);
                    R8(ST)
#undef ST
                }
            }
        }
}

AI void SUF(corr1)(float *restrict y, float *restrict yr, const float *restrict in, size_t P, int wp,
                   const float *restrict wr, const float *restrict b, int nin, int oy0, int oy1,
                   int wo, const int R)
{
    for (int oy = oy0; oy < oy1; oy += R)
        for (int ox = 0; ox < wo; ox += VW) {
            vf b0 = SUF(splat)(b ? b[0] : 0.0f);
#define INIT(r) vf a##r = b0;
            R8(INIT)
#undef INIT
            const float *p = in + (size_t)oy * wp + ox;
            const float *w = wr;
            for (int i = 0; i < nin; i++, p += P)
                for (int ky = 0; ky < 3; ky++)
                    for (int kx = 0; kx < 3; kx++, w++) {
                        const float *pt = p + (size_t)ky * wp + kx;
                        vf cw = SUF(splat)(w[0]);
                        if (R == 8) {
#define FMA(r) a##r += SUF(ld)(pt + (size_t)r * wp) * cw;
                            R8(FMA)
#undef FMA
                        } else {
                            a0 += SUF(ld)(pt) * cw;
                        }
                    }
            int nv = wo - ox < VW ? wo - ox : VW;
            if (y) {
                float *yo = y + (size_t)oy * wo + ox;
#define ST(r) if (r < R) { if (nv == VW) SUF(st)(yo + (size_t)r * wo, a##r); else SUF(stt)(yo + (size_t)r * wo, a##r, nv); }
                R8(ST)
#undef ST
            }
            if (yr) {
                float *ro = yr + (size_t)oy * wo + ox;
#define ST(r) if (r < R) { if (nv == VW) SUF(st)(ro + (size_t)r * wo, SUF(relu)(a##r)); else SUF(stt)(ro + (size_t)r * wo, SUF(relu)(a##r), nv); }
                R8(ST)
#undef ST
            }
        }
}

/* y [nout][ho][wo] (dense) = bias + corr(in, weights arranged by arrange()):
 * blocks of 8 output channels while 8 remain, then single channels. */
TGT static void SUF(corr)(float *y, float *yr, const float *in, size_t P, int wp, const float *wr,
                          const float *bias, int nout, int nin, int ho, int wo)
{
    const size_t yp = (size_t)ho * wo;
    for (int o0 = 0; o0 < nout;) {
        int ob = nout - o0 >= 8 ? 8 : 1;
        float *yb = y ? y + (size_t)o0 * yp : NULL, *yrb = yr ? yr + (size_t)o0 * yp : NULL;
        const float *wb = wr + (size_t)o0 * nin * 9;
        const float *bb = bias ? bias + o0 : NULL;
        if (ob == 8) {
            const int R = ACCS / 8;
            int top = ho - ho % R;
            SUF(corr8)(yb, yrb, yp, in, P, wp, wb, bb, nin, 0, top, wo, R);
            if (top < ho) SUF(corr8)(yb, yrb, yp, in, P, wp, wb, bb, nin, top, ho, wo, 1);
        } else {
            int top = ho - ho % 8;
            SUF(corr1)(yb, yrb, in, P, wp, wb, bb, nin, 0, top, wo, 8);
            if (top < ho) SUF(corr1)(yb, yrb, in, P, wp, wb, bb, nin, top, ho, wo, 1);
        }
        o0 += ob;
    }
}

/* Weight-gradient partial sums of OB output channels (dy planes dyp,
 * stride Pd, row stride wd, rows start q in) against one padded input plane
 * xp: acc [OB][9] vectors, at stride 9*VW*cin between output channels. */
AI void SUF(dw_blk)(float *restrict acc, size_t astride, const float *restrict dyp, size_t Pd,
                    int wd, int q, const float *restrict xp, int wp, int ho, int wo, const int OB)
{
    /* Rows in blocks of about 24 vector steps per lane: each block's sums
     * start from zero and are then added to the partial sums in memory, so
     * rounding error grows with the block, not with the plane size. OB is
     * 1 or 2 output channels: accumulators a0..a8 and b0..b8. */
    const int steps = (wo + VW - 1) / VW;
    const int rows_per_block = steps >= 24 ? 1 : 24 / steps;
    for (int y0 = 0; y0 < ho; y0 += rows_per_block) {
        int y1 = y0 + rows_per_block < ho ? y0 + rows_per_block : ho;
#define INIT(t) vf a##t = (vf){0}, b##t = (vf){0};
        R9(INIT)
#undef INIT
        for (int oy = y0; oy < y1; oy++) {
            const float *drow = dyp + (size_t)(oy + q) * wd + q;
            const float *x0 = xp + (size_t)oy * wp, *x1 = x0 + wp, *x2 = x1 + wp;
            for (int ox = 0; ox < wo; ox += VW) {
                int nv = wo - ox < VW ? wo - ox : VW;
                vf d0, d1 = (vf){0};
                if (nv == VW) {
                    d0 = SUF(ld)(drow + ox);
                    if (OB == 2) d1 = SUF(ld)(drow + Pd + ox);
                } else {
                    d0 = SUF(ldt)(drow + ox, nv);
                    if (OB == 2) d1 = SUF(ldt)(drow + Pd + ox, nv);
                }
#define TAP(t, row, kx)                                                      \
    {                                                                        \
        vf v = SUF(ld)(row + ox + kx);                                       \
        a##t += d0 * v;                                                      \
        if (OB == 2) b##t += d1 * v;                                         \
    }
                TAP(0, x0, 0) TAP(1, x0, 1) TAP(2, x0, 2)
                TAP(3, x1, 0) TAP(4, x1, 1) TAP(5, x1, 2)
                TAP(6, x2, 0) TAP(7, x2, 1) TAP(8, x2, 2)
#undef TAP
            }
        }
#define ADD(t)                                                               \
    {                                                                        \
        float *m = acc + t * VW;                                             \
        SUF(st)(m, SUF(ld)(m) + a##t);                                       \
        if (OB == 2) SUF(st)(m + astride, SUF(ld)(m + astride) + b##t);      \
    }
        R9(ADD)
#undef ADD
    }
}

TGT static void SUF(dw_all)(float *dwacc, const float *dyp, size_t Pd, int wd, int q,
                            const float *xpad, size_t P, int wp, int cout, int cin, int ho,
                            int wo)
{
    const size_t astride = (size_t)cin * 9 * VW; /* between output channels */
    for (int i = 0; i < cin; i++) {
        const float *xp = xpad + i * P;
        int o = 0;
        for (; o + DWOB <= cout; o += DWOB)
            SUF(dw_blk)(dwacc + o * astride + (size_t)i * 9 * VW, astride, dyp + o * Pd, Pd, wd,
                        q, xp, wp, ho, wo, DWOB);
        for (; o < cout; o++)
            SUF(dw_blk)(dwacc + o * astride + (size_t)i * 9 * VW, astride, dyp + o * Pd, Pd, wd,
                        q, xp, wp, ho, wo, 1);
    }
}

TGT static void SUF(db_all)(float *dbacc, const float *dy, int cout, size_t plane)
{
    for (int o = 0; o < cout; o++) {
        const float *d = dy + o * plane;
        vf a = SUF(ld)(dbacc + o * VW);
        size_t x = 0;
        for (; x + VW <= plane; x += VW) a += SUF(ld)(d + x);
        if (x < plane) a += SUF(ldt)(d + x, (int)(plane - x));
        SUF(st)(dbacc + o * VW, a);
    }
}

TGT static void SUF(conv3_forward)(float *y, float *yrelu, const float *x, const float *weight,
                                   const float *bias, int n, const conv2d_shape_t *s, float *ws)
{
    const cgeom g = cg(s);
    cws c = carve(s, &g, ws);
    const int cin = s->cin, cout = s->cout, h = s->h, w = s->w, ho = s->ho, wo = s->wo;
    memset(c.xpad, 0, c.nxpad * sizeof(float));
    arrange(c.wr, weight, cout, cin, 0);
    float *interior = c.xpad + (size_t)s->pad * g.wp + s->pad;
    for (int b = 0; b < n; b++) {
        SUF(copy_in)(interior, g.P, g.wp, x + (size_t)b * cin * h * w, cin, h, w);
        size_t yb = (size_t)b * cout * ho * wo;
        SUF(corr)(y ? y + yb : NULL, yrelu ? yrelu + yb : NULL, c.xpad, g.P, g.wp, c.wr, bias, cout, cin, ho, wo);
    }
}

TGT static void SUF(conv3_backward)(float *dx, float *dweight, float *dbias, const float *dy,
                                    const float *x, const float *weight, int n,
                                    const conv2d_shape_t *s, float *ws)
{
    const cgeom g = cg(s);
    cws c = carve(s, &g, ws);
    const int cin = s->cin, cout = s->cout, h = s->h, w = s->w, ho = s->ho, wo = s->wo;
    const size_t nacc = (size_t)cout * cin * 9 * VW;
    memset(c.xpad, 0, c.nxpad * sizeof(float));
    memset(c.dyp, 0, c.ndyp * sizeof(float));
    memset(c.dwacc, 0, nacc * sizeof(float));
    memset(c.dbacc, 0, (size_t)cout * VW * sizeof(float));
    if (dx) arrange(c.wr, weight, cout, cin, 1);
    float *xint = c.xpad + (size_t)s->pad * g.wp + s->pad;
    float *dint = c.dyp + (size_t)g.q * g.wd + g.q;
    const size_t oplane = (size_t)ho * wo;
    for (int b = 0; b < n; b++) {
        const float *dyb = dy + (size_t)b * cout * oplane;
        SUF(copy_in)(xint, g.P, g.wp, x + (size_t)b * cin * h * w, cin, h, w);
        SUF(copy_in)(dint, g.Pd, g.wd, dyb, cout, ho, wo);
        if (dbias) SUF(db_all)(c.dbacc, dyb, cout, oplane);
        SUF(dw_all)(c.dwacc, c.dyp, g.Pd, g.wd, g.q, c.xpad, g.P, g.wp, cout, cin, ho, wo);
        if (dx)
            SUF(corr)(dx + (size_t)b * cin * h * w, NULL, c.dyp, g.Pd, g.wd, c.wr, NULL, cin, cout, h,
                      w);
    }
    for (size_t t = 0; t < (size_t)cout * cin * 9; t++) {
        const float *a = c.dwacc + t * VW;
        float sum = 0.0f;
        for (int l = 0; l < VW; l++) sum += a[l];
        dweight[t] += sum;
    }
    if (dbias)
        for (int o = 0; o < cout; o++) {
            float sum = 0.0f;
            for (int l = 0; l < VW; l++) sum += c.dbacc[o * VW + l];
            dbias[o] += sum;
        }
}

#undef vf
#undef vfu
#undef AI
#undef R8
#undef R9

#endif /* CONV_SIMD_BODY */
