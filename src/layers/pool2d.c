/* 2-d pooling with a k x k window and stride k (non-overlapping windows).
 * ceil_mode keeps the partial window at the bottom/right edge; a partial
 * window only covers the pixels inside the image, so max ignores the rest
 * and avg divides by the number of pixels covered. */
#include "core/cpu.h"
#include "layers/layers.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define POOL_AVX512 1
#endif

int pool2d_out(int h, int k, int ceil_mode)
{
    return ceil_mode ? (h + k - 1) / k : h / k;
}

static inline int imin(int a, int b) { return a < b ? a : b; }

/* 2x2 windows over even h and w (the lesson's 28 -> 14 -> 7): no edge
 * cases, branch-free selects (on AVX-512 vectorised by hand: the compiler
 * does not vectorise the stride-2 accesses). The generic loops below cost
 * 3-4x more here (bench/layer_bench.c). */
static int pool2_even(int h, int w, int k) { return k == 2 && h % 2 == 0 && w % 2 == 0; }

#ifdef POOL_AVX512
#define TGT_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq")))

/* cnt <= 16 windows of the row pair r0, r1, from column 0 of each: the
 * top row's left and right pixels (a, b) and the bottom row's (c, d),
 * split from the interleaved columns with permutes; lanes past cnt are 0.
 * lo, hi: the masks of the pair's first and second 16 floats. */
typedef struct { __m512 a, b, c, d; __mmask16 lo, hi; } pool2_chunk;

TGT_AVX512 static inline pool2_chunk pool2_chunk_load(const float *r0, const float *r1, int cnt)
{
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    int lo_n = 2 * cnt < 16 ? 2 * cnt : 16, hi_n = 2 * cnt - lo_n;
    pool2_chunk q;
    q.lo = (__mmask16)((1u << lo_n) - 1);
    q.hi = (__mmask16)((1u << hi_n) - 1);
    __m512 x0l = _mm512_maskz_loadu_ps(q.lo, r0), x0h = _mm512_maskz_loadu_ps(q.hi, r0 + 16);
    __m512 x1l = _mm512_maskz_loadu_ps(q.lo, r1), x1h = _mm512_maskz_loadu_ps(q.hi, r1 + 16);
    q.a = _mm512_permutex2var_ps(x0l, even, x0h);
    q.b = _mm512_permutex2var_ps(x0l, odd, x0h);
    q.c = _mm512_permutex2var_ps(x1l, even, x1h);
    q.d = _mm512_permutex2var_ps(x1l, odd, x1h);
    return q;
}

/* maxpool2_forward 16 windows at a time (the same comparisons: the same
 * bits). */
TGT_AVX512 static void maxpool2_forward_avx512(float *y, const float *x, long planes, int h, int w)
{
    int ho = h / 2, wo = w / 2;
    for (long p = 0; p < planes; p++)
        for (int oy = 0; oy < ho; oy++) {
            const float *r0 = x + (p * h + 2 * oy) * w, *r1 = r0 + w;
            float *yr = y + (p * ho + oy) * wo;
            for (int ox = 0; ox < wo; ox += 16) {
                int cnt = wo - ox < 16 ? wo - ox : 16;
                pool2_chunk q = pool2_chunk_load(r0 + 2 * ox, r1 + 2 * ox, cnt);
                __m512 m0 = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(q.b, q.a, _CMP_GT_OQ), q.a, q.b);
                __m512 m1 = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(q.d, q.c, _CMP_GT_OQ), q.c, q.d);
                _mm512_mask_storeu_ps(yr + ox, (__mmask16)((1u << cnt) - 1),
                                      _mm512_mask_blend_ps(_mm512_cmp_ps_mask(m1, m0, _CMP_GT_OQ), m0, m1));
            }
        }
}
#endif

static void maxpool2_forward(float *y, const float *x, long planes, int h, int w)
{
#ifdef POOL_AVX512
    if (ae_simd() == AE_SIMD_AVX512) {
        maxpool2_forward_avx512(y, x, planes, h, w);
        return;
    }
#endif
    int ho = h / 2, wo = w / 2;
    for (long p = 0; p < planes; p++)
        for (int oy = 0; oy < ho; oy++) {
            const float *restrict r0 = x + (p * h + 2 * oy) * w, *restrict r1 = r0 + w;
            float *restrict yr = y + (p * ho + oy) * wo;
            for (int ox = 0; ox < wo; ox++) {
                float a = r0[2 * ox], b = r0[2 * ox + 1], c = r1[2 * ox], d = r1[2 * ox + 1];
                float m0 = b > a ? b : a, m1 = d > c ? d : c;
                yr[ox] = m1 > m0 ? m1 : m0;
            }
        }
}

#ifdef POOL_AVX512
/* maxpool2_backward's rule, 16 windows at a time: the even and odd columns
 * of a row pair are split apart with permutes, the same comparisons pick
 * the window's maximum, and the gradient goes back through masked moves
 * (selects only: the same bits as the scalar loop). The scalar loop does
 * not vectorise (stride-2 stores): it was 19% of a conv AE's step. */
TGT_AVX512 static void maxpool2_backward_avx512(float *dx, const float *dy, const float *x, long planes,
                                                int h, int w, int relu)
{
    const __m512i inter_lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i inter_hi = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    const __m512 zero = _mm512_setzero_ps();
    int ho = h / 2, wo = w / 2;
    for (long p = 0; p < planes; p++)
        for (int oy = 0; oy < ho; oy++) {
            const float *r0 = x + (p * h + 2 * oy) * w, *r1 = r0 + w;
            float *d0 = dx + (p * h + 2 * oy) * w, *d1 = d0 + w;
            const float *g = dy + (p * ho + oy) * wo;
            for (int ox = 0; ox < wo; ox += 16) {
                int cnt = wo - ox < 16 ? wo - ox : 16;     /* windows in this chunk */
                __mmask16 m = (__mmask16)((1u << cnt) - 1);
                pool2_chunk q = pool2_chunk_load(r0 + 2 * ox, r1 + 2 * ox, cnt);
                __mmask16 pb = _mm512_cmp_ps_mask(q.b, q.a, _CMP_GT_OQ);
                __mmask16 pd = _mm512_cmp_ps_mask(q.d, q.c, _CMP_GT_OQ);
                __m512 m0 = _mm512_mask_blend_ps(pb, q.a, q.b), m1 = _mm512_mask_blend_ps(pd, q.c, q.d);
                __mmask16 row1 = _mm512_cmp_ps_mask(m1, m0, _CMP_GT_OQ);
                __m512 gv = _mm512_maskz_loadu_ps(m, g + ox);
                if (relu) {
                    __m512 mx = _mm512_mask_blend_ps(row1, m0, m1);
                    gv = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(mx, zero, _CMP_GT_OQ), gv);
                }
                __m512 ga = _mm512_maskz_mov_ps((__mmask16)(~row1 & ~pb), gv);
                __m512 gb = _mm512_maskz_mov_ps((__mmask16)(~row1 & pb), gv);
                __m512 gc = _mm512_maskz_mov_ps((__mmask16)(row1 & ~pd), gv);
                __m512 gd = _mm512_maskz_mov_ps((__mmask16)(row1 & pd), gv);
                _mm512_mask_storeu_ps(d0 + 2 * ox, q.lo, _mm512_permutex2var_ps(ga, inter_lo, gb));
                _mm512_mask_storeu_ps(d0 + 2 * ox + 16, q.hi, _mm512_permutex2var_ps(ga, inter_hi, gb));
                _mm512_mask_storeu_ps(d1 + 2 * ox, q.lo, _mm512_permutex2var_ps(gc, inter_lo, gd));
                _mm512_mask_storeu_ps(d1 + 2 * ox + 16, q.hi, _mm512_permutex2var_ps(gc, inter_hi, gd));
            }
        }
}
#endif

/* The same first-maximum-in-row-major-order rule as the generic backward:
 * the better of each row (first on ties), then row 1 only if strictly
 * greater. Every input pixel is in one window, so dx needs no zeroing. */
static void maxpool2_backward(float *dx, const float *dy, const float *x, long planes, int h, int w,
                              int relu)
{
#ifdef POOL_AVX512
    if (ae_simd() == AE_SIMD_AVX512) {
        maxpool2_backward_avx512(dx, dy, x, planes, h, w, relu);
        return;
    }
#endif
    int ho = h / 2, wo = w / 2;
    for (long p = 0; p < planes; p++)
        for (int oy = 0; oy < ho; oy++) {
            const float *restrict r0 = x + (p * h + 2 * oy) * w, *restrict r1 = r0 + w;
            float *restrict d0 = dx + (p * h + 2 * oy) * w, *restrict d1 = d0 + w;
            const float *restrict g = dy + (p * ho + oy) * wo;
            for (int ox = 0; ox < wo; ox++) {
                float a = r0[2 * ox], b = r0[2 * ox + 1], c = r1[2 * ox], d = r1[2 * ox + 1];
                int pb = b > a, pd = d > c;
                float m0 = pb ? b : a, m1 = pd ? d : c;
                int row1 = m1 > m0;
                float gv = g[ox];
                if (relu && !((row1 ? m1 : m0) > 0.0f)) gv = 0.0f;
                d0[2 * ox] = !row1 && !pb ? gv : 0.0f;
                d0[2 * ox + 1] = !row1 && pb ? gv : 0.0f;
                d1[2 * ox] = row1 && !pd ? gv : 0.0f;
                d1[2 * ox + 1] = row1 && pd ? gv : 0.0f;
            }
        }
}

void maxpool2d_forward(float *y, const float *x, int n, int c, int h, int w,
                       int k, int ceil_mode)
{
    if (pool2_even(h, w, k)) {
        maxpool2_forward(y, x, (long)n * c, h, w);
        return;
    }
    int ho = pool2d_out(h, k, ceil_mode), wo = pool2d_out(w, k, ceil_mode);
    for (long p = 0; p < (long)n * c; p++) {
        const float *xp = x + p * h * w;
        float *yp = y + p * ho * wo;
        for (int oy = 0; oy < ho; oy++) {
            int y0 = oy * k, y1 = imin(y0 + k, h);
            for (int ox = 0; ox < wo; ox++) {
                int x0 = ox * k, x1 = imin(x0 + k, w);
                float best = xp[y0 * w + x0];
                for (int iy = y0; iy < y1; iy++)
                    for (int ix = x0; ix < x1; ix++)
                        if (xp[iy * w + ix] > best) best = xp[iy * w + ix];
                yp[oy * wo + ox] = best;
            }
        }
    }
}

void maxpool2d_backward(float *dx, const float *dy, const float *x,
                        int n, int c, int h, int w, int k, int ceil_mode)
{
    if (pool2_even(h, w, k)) {
        maxpool2_backward(dx, dy, x, (long)n * c, h, w, 0);
        return;
    }
    int ho = pool2d_out(h, k, ceil_mode), wo = pool2d_out(w, k, ceil_mode);
    for (long p = 0; p < (long)n * c; p++) {
        const float *xp = x + p * h * w;
        const float *dyp = dy + p * ho * wo;
        float *dxp = dx + p * h * w;
        /* pixels outside every window (floor mode) get no gradient */
        for (int i = 0; i < h * w; i++) dxp[i] = 0.0f;
        for (int oy = 0; oy < ho; oy++) {
            int y0 = oy * k, y1 = imin(y0 + k, h);
            for (int ox = 0; ox < wo; ox++) {
                int x0 = ox * k, x1 = imin(x0 + k, w);
                /* strict '>' keeps the first maximum in row-major order */
                int arg = y0 * w + x0;
                for (int iy = y0; iy < y1; iy++)
                    for (int ix = x0; ix < x1; ix++)
                        if (xp[iy * w + ix] > xp[arg]) arg = iy * w + ix;
                dxp[arg] += dyp[oy * wo + ox];
            }
        }
    }
}

void avgpool2d_forward(float *y, const float *x, int n, int c, int h, int w,
                       int k, int ceil_mode)
{
    int ho = pool2d_out(h, k, ceil_mode), wo = pool2d_out(w, k, ceil_mode);
    for (long p = 0; p < (long)n * c; p++) {
        const float *xp = x + p * h * w;
        float *yp = y + p * ho * wo;
        for (int oy = 0; oy < ho; oy++) {
            int y0 = oy * k, y1 = imin(y0 + k, h);
            for (int ox = 0; ox < wo; ox++) {
                int x0 = ox * k, x1 = imin(x0 + k, w);
                float sum = 0.0f;
                for (int iy = y0; iy < y1; iy++)
                    for (int ix = x0; ix < x1; ix++) sum += xp[iy * w + ix];
                yp[oy * wo + ox] = sum / (float)((y1 - y0) * (x1 - x0));
            }
        }
    }
}

void avgpool2d_backward(float *dx, const float *dy,
                        int n, int c, int h, int w, int k, int ceil_mode)
{
    int ho = pool2d_out(h, k, ceil_mode), wo = pool2d_out(w, k, ceil_mode);
    for (long p = 0; p < (long)n * c; p++) {
        const float *dyp = dy + p * ho * wo;
        float *dxp = dx + p * h * w;
        for (int i = 0; i < h * w; i++) dxp[i] = 0.0f;
        for (int oy = 0; oy < ho; oy++) {
            int y0 = oy * k, y1 = imin(y0 + k, h);
            for (int ox = 0; ox < wo; ox++) {
                int x0 = ox * k, x1 = imin(x0 + k, w);
                float g = dyp[oy * wo + ox] / (float)((y1 - y0) * (x1 - x0));
                for (int iy = y0; iy < y1; iy++)
                    for (int ix = x0; ix < x1; ix++) dxp[iy * w + ix] += g;
            }
        }
    }
}

/* ReLU's backward folded into the max-pool's that follows it: x is the
 * ReLU's output, so the ReLU passes the pooled gradient on exactly where the
 * window's maximum is positive. The same values as the two backwards one
 * after the other, without a pass over the ReLU's output. */
void maxpool2d_relu_backward(float *dx, const float *dy, const float *x,
                             int n, int c, int h, int w, int k, int ceil_mode)
{
    if (pool2_even(h, w, k)) {
        maxpool2_backward(dx, dy, x, (long)n * c, h, w, 1);
        return;
    }
    maxpool2d_backward(dx, dy, x, n, c, h, w, k, ceil_mode);
    relu_backward(dx, dx, x, (size_t)n * c * h * w);
}
