/* 2-d convolution (cross-correlation, as in PyTorch), NCHW, OIHW weights.
 *
 * Fast path (stride 1, pad <= k-1, which covers 'same' and 'valid'):
 * each input image is copied into zero-padded planes of width wp = w+2*pad,
 * and the output is computed on a "wide" grid of ho rows by wp columns, so
 * that output position x (= oy*wp + ox) reads input position x + ky*wp + kx
 * for tap (ky, kx). Every tap is then a shift of one long contiguous run:
 * no bounds checks, no per-row loop, and the compiler vectorises the run.
 * The last k-1 columns of each wide row are junk and are cropped away.
 *
 *   forward:  y = corr(xpad, w)                        (corr_wide)
 *   dx:       dx = corr(dy padded by k-1-pad, w flipped and transposed)
 *             -- the "full" correlation, the same kernel again
 *   dw:       dw[t] += dot(dy_wide, xpad shifted by tap t)  (dw_wide)
 *   db:       db += sum dy
 *
 * Other strides (and pad > k-1) take a plain direct path over the same
 * padded planes: dx scattered into a padded gradient plane, then cropped.
 *
 * Workspace is per image (images are processed one at a time), so its size
 * does not depend on n. */
#include <string.h>

#include "layers/layers.h"

/* The inner loops are sums of products; GCC in ISO C mode (-std=c11) does
 * not fuse them into FMA instructions unless asked, which halves their
 * speed on FMA hardware. (Clang fuses within an expression by default.) */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("fp-contract=fast")
#endif
/* Clang warns when an `omp simd` loop is left scalar, as it is under the
 * sanitizers; that is harmless here. */
#if defined(__clang__)
#pragma clang diagnostic ignored "-Wpass-failed"
#endif

/* 3x3 stride-1 shapes (the lesson's) go to the SIMD kernels of
 * conv2d_simd.c, chosen at run time; the code here handles the rest. */
int conv3_simd_applies(const conv2d_shape_t *s);
size_t conv3_simd_workspace(const conv2d_shape_t *s);
/* yrelu: NULL, or where relu_forward(y) goes too (from the registers) */
void conv3_simd_forward(float *y, float *yrelu, const float *x, const float *weight, const float *bias,
                        int n, const conv2d_shape_t *s, float *ws);
void conv3_simd_backward(float *dx, float *dweight, float *dbias, const float *dy,
                         const float *x, const float *weight, int n, const conv2d_shape_t *s,
                         float *ws);

#define ALIGN 16  /* sub-buffers start 64 bytes apart (aligned if ws is) */

static size_t round_up(size_t a, size_t m) { return (a + m - 1) / m * m; }

int conv2d_shape(conv2d_shape_t *s)
{
    s->ho = s->wo = 0;
    if (s->cin < 1 || s->cout < 1 || s->h < 1 || s->w < 1 || s->k < 1 || s->stride < 1 ||
        s->pad < 0)
        return -1;
    int hn = s->h + 2 * s->pad - s->k, wn = s->w + 2 * s->pad - s->k;
    if (hn < 0 || wn < 0) return -1;
    s->ho = hn / s->stride + 1;
    s->wo = wn / s->stride + 1;
    return 0;
}

static int fast_path(const conv2d_shape_t *s) { return s->stride == 1 && s->pad <= s->k - 1; }

/* Sizes of the buffers carved out of the workspace. */
typedef struct {
    int hp, wp;     /* padded input plane                                 */
    size_t P;       /* floats per padded input plane                      */
    size_t L;       /* wide output run: ho * wp                           */
    int hd, wd;     /* dy padded by q = k-1-pad for the dx correlation    */
    size_t Pd, Lx;  /* floats per padded dy plane; wide dx run h * wd     */
    size_t slack;   /* zeros after the last plane for over-running reads  */
} geom_t;

static geom_t geometry(const conv2d_shape_t *s)
{
    geom_t g;
    g.hp = s->h + 2 * s->pad;
    g.wp = s->w + 2 * s->pad;
    g.P = (size_t)g.hp * g.wp;
    g.L = (size_t)s->ho * g.wp;
    int q = s->k - 1 - s->pad;
    g.hd = s->ho + 2 * q;
    g.wd = s->wo + 2 * q;
    g.Pd = (size_t)g.hd * g.wd;
    g.Lx = (size_t)s->h * g.wd;
    g.slack = 16 + (size_t)s->k; /* reads run up to k-1 past a plane */
    return g;
}

size_t conv2d_workspace(const conv2d_shape_t *s, int n)
{
    (void)n; /* per-image scratch, reused across the batch */
    geom_t g = geometry(s);
    size_t kk = (size_t)s->k * s->k;
    size_t xpad = round_up((size_t)s->cin * g.P + g.slack, ALIGN);
    if (!fast_path(s)) {
        /* forward: xpad; backward: xpad + dx gradient planes */
        return 2 * xpad;
    }
    size_t fwd = xpad + round_up((size_t)s->cout * g.L, ALIGN);
    size_t bwd = xpad + round_up((size_t)s->cout * g.L + g.slack, ALIGN) /* dy_wide */
               + round_up((size_t)s->cout * g.Pd + g.slack, ALIGN)        /* dy_pad  */
               + round_up((size_t)s->cin * g.Lx, ALIGN)                   /* dx_wide */
               + round_up((size_t)s->cout * s->cin * kk, ALIGN);          /* w flipped */
    size_t need = fwd > bwd ? fwd : bwd;
    /* enough for either path, whichever runs */
    size_t simd = s->k == 3 && s->pad <= 2 ? conv3_simd_workspace(s) : 0;
    return need > simd ? need : simd;
}

/* Copies c dense planes of h x w into the interior of strided planes (row
 * stride ds, plane stride dp). The borders are zeroed once per call, not
 * per image: every image writes the same interior. Plain loops rather than
 * memcpy: the rows are a few dozen floats, too short for a call.         */
static void copy_in(float *restrict dst, size_t dp, size_t ds, const float *restrict src, int c,
                    int h, int w)
{
    for (int ci = 0; ci < c; ci++)
        for (int y = 0; y < h; y++) {
            float *restrict d = dst + ci * dp + (size_t)y * ds;
            const float *restrict sr = src + ((size_t)ci * h + y) * w;
            for (int x = 0; x < w; x++) d[x] = sr[x];
        }
}

/* The reverse: the h x w interior of strided planes into dense planes. */
static void copy_out(float *restrict dst, const float *restrict src, size_t sp, size_t ss, int c,
                     int h, int w)
{
    for (int ci = 0; ci < c; ci++)
        for (int y = 0; y < h; y++) {
            float *restrict d = dst + ((size_t)ci * h + y) * w;
            const float *restrict sr = src + ci * sp + (size_t)y * ss;
            for (int x = 0; x < w; x++) d[x] = sr[x];
        }
}

static float sum_k(const float *restrict d, size_t n)
{
    float s = 0.0f;
#ifdef _OPENMP
#pragma omp simd reduction(+ : s)
#endif
    for (size_t i = 0; i < n; i++) s += d[i];
    return s;
}

/* ---- k = 3 inner kernels ---------------------------------------------------
 * Separate functions so that `restrict` is on parameters, where every
 * compiler (LLVM in particular) honours it. q0, q1, q2 point at an input
 * plane shifted by 0, 1, 2 columns, r1 and r2 are one and two rows; tap
 * (ky, kx) of output position x reads q_kx[x + ky*wp]. (Three pointers
 * rather than p[x+1], p[x+2]: from those, LLVM makes loop-carried copies of
 * earlier loads that it then cannot vectorise.)
 * TAP3(c) is the nine-tap sum with weights c[0..8] at position x, as three
 * row sums (three short dependency chains instead of one long one).      */
#define TAP3(c)                                                                  \
    ((c[0] * q0[x] + c[1] * q1[x] + c[2] * q2[x]) +                              \
     (c[3] * q0[x + r1] + c[4] * q1[x + r1] + c[5] * q2[x + r1]) +               \
     (c[6] * q0[x + r2] + c[7] * q1[x + r2] + c[8] * q2[x + r2]))

/* Four output planes at once: per vector of x, 9 input loads and 4 output
 * load/stores feed 36 multiply-adds, and the weights stay in registers.
 * first != 0 starts the planes from the biases b[0..3] instead of adding. */
static void corr3_x4(float *restrict y0, float *restrict y1, float *restrict y2,
                     float *restrict y3, const float *restrict q0, const float *restrict q1,
                     const float *restrict q2, size_t r1, const float *restrict wa,
                     const float *restrict wb, const float *restrict wc,
                     const float *restrict wd, const float *restrict b, int first, size_t L)
{
    const size_t r2 = 2 * r1;
    if (first) {
        const float b0 = b[0], b1 = b[1], b2 = b[2], b3 = b[3];
        for (size_t x = 0; x < L; x++) {
            y0[x] = b0 + TAP3(wa);
            y1[x] = b1 + TAP3(wb);
            y2[x] = b2 + TAP3(wc);
            y3[x] = b3 + TAP3(wd);
        }
    } else {
        for (size_t x = 0; x < L; x++) {
            y0[x] += TAP3(wa);
            y1[x] += TAP3(wb);
            y2[x] += TAP3(wc);
            y3[x] += TAP3(wd);
        }
    }
}

static void corr3_x1(float *restrict y0, const float *restrict q0, const float *restrict q1,
                     const float *restrict q2, size_t r1, const float *restrict wa, float b0,
                     int first, size_t L)
{
    const size_t r2 = 2 * r1;
    if (first)
        for (size_t x = 0; x < L; x++) y0[x] = b0 + TAP3(wa);
    else
        for (size_t x = 0; x < L; x++) y0[x] += TAP3(wa);
}

/* Weight gradient of two output channels against one input plane: 18 dot
 * products in one pass, 11 loads per 18 multiply-adds. These sums are
 * reductions, which a compiler vectorises only when told that reordering
 * them is fine: hence `omp simd reduction` (the library builds with
 * OpenMP; without it the loop is correct but scalar).                    */
static void dw3_x2_block(float *restrict ga, float *restrict gb, const float *restrict da,
                         const float *restrict db, const float *restrict q0,
                         const float *restrict q1, const float *restrict q2, size_t r1, size_t L)
{
    const size_t r2 = 2 * r1;
    float a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0, a8 = 0;
    float b0 = 0, b1 = 0, b2 = 0, b3 = 0, b4 = 0, b5 = 0, b6 = 0, b7 = 0, b8 = 0;
#ifdef _OPENMP
#pragma omp simd reduction(+ : a0, a1, a2, a3, a4, a5, a6, a7, a8, b0, b1, b2, b3, b4, b5, b6, b7, b8)
#endif
    for (size_t x = 0; x < L; x++) {
        float u = da[x], v = db[x];
        float v0 = q0[x], v1 = q1[x], v2 = q2[x];
        float v3 = q0[x + r1], v4 = q1[x + r1], v5 = q2[x + r1];
        float v6 = q0[x + r2], v7 = q1[x + r2], v8 = q2[x + r2];
        a0 += u * v0; a1 += u * v1; a2 += u * v2;
        a3 += u * v3; a4 += u * v4; a5 += u * v5;
        a6 += u * v6; a7 += u * v7; a8 += u * v8;
        b0 += v * v0; b1 += v * v1; b2 += v * v2;
        b3 += v * v3; b4 += v * v4; b5 += v * v5;
        b6 += v * v6; b7 += v * v7; b8 += v * v8;
    }
    ga[0] += a0; ga[1] += a1; ga[2] += a2; ga[3] += a3; ga[4] += a4;
    ga[5] += a5; ga[6] += a6; ga[7] += a7; ga[8] += a8;
    gb[0] += b0; gb[1] += b1; gb[2] += b2; gb[3] += b3; gb[4] += b4;
    gb[5] += b5; gb[6] += b6; gb[7] += b7; gb[8] += b8;
}

/* Sums run in blocks of DW_BLOCK columns, each block's partial sum added
 * to the gradient: the rounding error then grows with the block length, not
 * with the plane size (a 28x28 plane is 840 wide-grid columns), which keeps
 * weight gradients within 1e-4 of PyTorch's float64 reference whether or
 * not the compiler vectorises the reduction. */
#define DW_BLOCK 128

static void dw3_x2(float *restrict ga, float *restrict gb, const float *restrict da,
                   const float *restrict db, const float *restrict q0,
                   const float *restrict q1, const float *restrict q2, size_t r1, size_t L)
{
    for (size_t x = 0; x < L; x += DW_BLOCK) {
        size_t n = L - x < DW_BLOCK ? L - x : DW_BLOCK;
        dw3_x2_block(ga, gb, da + x, db + x, q0 + x, q1 + x, q2 + x, r1, n);
    }
}

static void dw3_x1_block(float *restrict ga, const float *restrict da, const float *restrict q0,
                         const float *restrict q1, const float *restrict q2, size_t r1, size_t L)
{
    const size_t r2 = 2 * r1;
    float a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0, a8 = 0;
#ifdef _OPENMP
#pragma omp simd reduction(+ : a0, a1, a2, a3, a4, a5, a6, a7, a8)
#endif
    for (size_t x = 0; x < L; x++) {
        float u = da[x];
        a0 += u * q0[x]; a1 += u * q1[x]; a2 += u * q2[x];
        a3 += u * q0[x + r1]; a4 += u * q1[x + r1]; a5 += u * q2[x + r1];
        a6 += u * q0[x + r2]; a7 += u * q1[x + r2]; a8 += u * q2[x + r2];
    }
    ga[0] += a0; ga[1] += a1; ga[2] += a2; ga[3] += a3; ga[4] += a4;
    ga[5] += a5; ga[6] += a6; ga[7] += a7; ga[8] += a8;
}

static void dw3_x1(float *restrict ga, const float *restrict da, const float *restrict q0,
                   const float *restrict q1, const float *restrict q2, size_t r1, size_t L)
{
    for (size_t x = 0; x < L; x += DW_BLOCK) {
        size_t n = L - x < DW_BLOCK ? L - x : DW_BLOCK;
        dw3_x1_block(ga, da + x, q0 + x, q1 + x, q2 + x, r1, n);
    }
}

/* Any k: one shifted multiply-add (or dot product) per tap. */
static void axpy_k(float *restrict y, const float *restrict p, float c, size_t L)
{
    for (size_t x = 0; x < L; x++) y[x] += c * p[x];
}

static float dot_k(const float *restrict d, const float *restrict p, size_t L)
{
    float total = 0.0f;
    for (size_t x0 = 0; x0 < L; x0 += DW_BLOCK) {
        size_t end = L - x0 < DW_BLOCK ? L : x0 + DW_BLOCK;
        float s = 0.0f;
#ifdef _OPENMP
#pragma omp simd reduction(+ : s)
#endif
        for (size_t x = x0; x < end; x++) s += d[x] * p[x];
        total += s;
    }
    return total;
}

/* The fast-path kernel, on wide grids:
 *   out[o*L + x] = bias[o] + sum_i sum_(ky,kx) w[(o*nin + i)*k*k + ky*k + kx]
 *                                               * in[i*P + ky*wp + kx + x]
 * for x in [0, L). `in` must be readable k floats past its last plane.
 * The output planes (a few KB each) stay in L1 across the input planes. */
static void corr_wide(float *out, const float *in, const float *w, const float *bias,
                      int nout, int nin, int k, int wp, size_t P, size_t L)
{
    const size_t kk = (size_t)k * k;
    if (k != 3) {
        for (int o = 0; o < nout; o++) {
            float *y = out + (size_t)o * L;
            float b = bias ? bias[o] : 0.0f;
            for (size_t x = 0; x < L; x++) y[x] = b;
            for (int i = 0; i < nin; i++)
                for (size_t t = 0; t < kk; t++)
                    axpy_k(y, in + i * P + (t / k) * wp + t % k,
                           w[((size_t)o * nin + i) * kk + t], L);
        }
        return;
    }
    const float zero[4] = {0, 0, 0, 0};
    int o = 0;
    for (; o + 4 <= nout; o += 4) {
        float *y = out + (size_t)o * L;
        const float *b = bias ? bias + o : zero;
        for (int i = 0; i < nin; i++) {
            const float *wa = w + ((size_t)o * nin + i) * 9, *ws = (size_t)nin * 9 + wa;
            const float *p = in + i * P;
            corr3_x4(y, y + L, y + 2 * L, y + 3 * L, p, p + 1, p + 2, (size_t)wp, wa, ws,
                     ws + (size_t)nin * 9, ws + (size_t)nin * 18, b, i == 0, L);
        }
    }
    for (; o < nout; o++)
        for (int i = 0; i < nin; i++) {
            const float *p = in + i * P;
            corr3_x1(out + (size_t)o * L, p, p + 1, p + 2, (size_t)wp,
                     w + ((size_t)o * nin + i) * 9, bias ? bias[o] : 0.0f, i == 0, L);
        }
}

/* The fast-path weight gradient:
 *   dw[(o*nin + i)*k*k + ky*k + kx] += sum_x dyw[o*L + x] * in[i*P + ky*wp + kx + x]
 * over x in [0, L); dyw is zero in the junk columns, so the sum covers
 * exactly the valid output positions. */
static void dw_wide(float *dw, const float *dyw, const float *in, int nout, int nin, int k,
                    int wp, size_t P, size_t L)
{
    const size_t kk = (size_t)k * k;
    if (k != 3) {
        for (int o = 0; o < nout; o++)
            for (int i = 0; i < nin; i++)
                for (size_t t = 0; t < kk; t++)
                    dw[((size_t)o * nin + i) * kk + t] +=
                        dot_k(dyw + (size_t)o * L, in + i * P + (t / k) * wp + t % k, L);
        return;
    }
    int o = 0;
    for (; o + 2 <= nout; o += 2)
        for (int i = 0; i < nin; i++) {
            float *ga = dw + ((size_t)o * nin + i) * 9;
            const float *p = in + i * P;
            dw3_x2(ga, ga + (size_t)nin * 9, dyw + (size_t)o * L, dyw + (size_t)(o + 1) * L, p,
                   p + 1, p + 2, (size_t)wp, L);
        }
    for (; o < nout; o++)
        for (int i = 0; i < nin; i++) {
            const float *p = in + i * P;
            dw3_x1(dw + ((size_t)o * nin + i) * 9, dyw + (size_t)o * L, p, p + 1, p + 2,
                   (size_t)wp, L);
        }
}

void conv2d_forward(float *y, const float *x, const float *weight, const float *bias,
                    int n, const conv2d_shape_t *s, float *ws)
{
    conv2d_relu_forward(y, NULL, x, weight, bias, n, s, ws);
}

void conv2d_relu_forward(float *y, float *yrelu, const float *x, const float *weight, const float *bias,
                         int n, const conv2d_shape_t *s, float *ws)
{
    if (conv3_simd_applies(s)) {
        conv3_simd_forward(y, yrelu, x, weight, bias, n, s, ws);
        return;
    }
    const geom_t g = geometry(s);
    const int cin = s->cin, cout = s->cout, k = s->k, h = s->h, w = s->w;
    const int ho = s->ho, wo = s->wo, pad = s->pad;
    const size_t kk = (size_t)k * k;
    float *xpad = ws;
    float *ywide = ws + round_up((size_t)cin * g.P + g.slack, ALIGN);
    memset(xpad, 0, ((size_t)cin * g.P + g.slack) * sizeof(float));
    const size_t osz = (size_t)cout * ho * wo;
    for (int b = 0; b < n; b++) {
        const float *xb = x + (size_t)b * cin * h * w;
        /* no y: the conv's output goes where the ReLU's does, then in place */
        float *yb = y ? y + (size_t)b * osz : yrelu + (size_t)b * osz;
        copy_in(xpad + (size_t)pad * g.wp + pad, g.P, g.wp, xb, cin, h, w);
        if (fast_path(s)) {
            corr_wide(ywide, xpad, weight, bias, cout, cin, k, g.wp, g.P, g.L);
            copy_out(yb, ywide, g.L, g.wp, cout, ho, wo);
            if (yrelu) relu_forward(yrelu + (size_t)b * osz, yb, osz);
            continue;
        }
        /* direct path for stride > 1 */
        const int st = s->stride;
        for (int o = 0; o < cout; o++) {
            float *yo = yb + (size_t)o * ho * wo;
            float b0 = bias ? bias[o] : 0.0f;
            for (int j = 0; j < ho * wo; j++) yo[j] = b0;
            for (int i = 0; i < cin; i++)
                for (int ky = 0; ky < k; ky++)
                    for (int kx = 0; kx < k; kx++) {
                        float c = weight[((size_t)o * cin + i) * kk + (size_t)ky * k + kx];
                        for (int oy = 0; oy < ho; oy++) {
                            const float *p = xpad + i * g.P + (size_t)(oy * st + ky) * g.wp + kx;
                            float *yr = yo + (size_t)oy * wo;
                            for (int ox = 0; ox < wo; ox++) yr[ox] += c * p[(size_t)ox * st];
                        }
                    }
        }
        if (yrelu) relu_forward(yrelu + (size_t)b * osz, yb, osz);
    }
}

void conv2d_backward(float *dx, float *dweight, float *dbias, const float *dy,
                     const float *x, const float *weight,
                     int n, const conv2d_shape_t *s, float *ws)
{
    if (conv3_simd_applies(s)) {
        conv3_simd_backward(dx, dweight, dbias, dy, x, weight, n, s, ws);
        return;
    }
    const geom_t g = geometry(s);
    const int cin = s->cin, cout = s->cout, k = s->k, h = s->h, w = s->w;
    const int ho = s->ho, wo = s->wo, pad = s->pad;
    const size_t kk = (size_t)k * k;
    float *xpad = ws;
    float *rest = ws + round_up((size_t)cin * g.P + g.slack, ALIGN);
    memset(xpad, 0, ((size_t)cin * g.P + g.slack) * sizeof(float));

    if (dbias)
        for (int b = 0; b < n; b++)
            for (int o = 0; o < cout; o++)
                dbias[o] += sum_k(dy + ((size_t)b * cout + o) * ho * wo, (size_t)ho * wo);

    if (fast_path(s)) {
        float *dyw = rest;
        float *dyp = dyw + round_up((size_t)cout * g.L + g.slack, ALIGN);
        float *dxw = dyp + round_up((size_t)cout * g.Pd + g.slack, ALIGN);
        float *wf = dxw + round_up((size_t)cin * g.Lx, ALIGN);
        const int q = k - 1 - pad;
        /* dy_wide: dy on rows of wp with zero junk columns, plane stride L */
        memset(dyw, 0, ((size_t)cout * g.L + g.slack) * sizeof(float));
        if (dx) {
            /* dy padded by q on every side, for the full correlation */
            memset(dyp, 0, ((size_t)cout * g.Pd + g.slack) * sizeof(float));
            /* wf[i][o][t] = w[o][i][kk-1-t]: transposed, flipped both ways */
            for (int o = 0; o < cout; o++)
                for (int i = 0; i < cin; i++)
                    for (size_t t = 0; t < kk; t++)
                        wf[((size_t)i * cout + o) * kk + t] =
                            weight[((size_t)o * cin + i) * kk + (kk - 1 - t)];
        }
        for (int b = 0; b < n; b++) {
            const float *dyb = dy + (size_t)b * cout * ho * wo;
            copy_in(xpad + (size_t)pad * g.wp + pad, g.P, g.wp, x + (size_t)b * cin * h * w, cin,
                    h, w);
            copy_in(dyw, g.L, g.wp, dyb, cout, ho, wo);
            dw_wide(dweight, dyw, xpad, cout, cin, k, g.wp, g.P, g.L);
            if (dx) {
                copy_in(dyp + (size_t)q * g.wd + q, g.Pd, g.wd, dyb, cout, ho, wo);
                corr_wide(dxw, dyp, wf, NULL, cin, cout, k, g.wd, g.Pd, g.Lx);
                copy_out(dx + (size_t)b * cin * h * w, dxw, g.Lx, g.wd, cin, h, w);
            }
        }
        return;
    }

    /* direct path for stride > 1 (or pad > k-1): dx is scattered into a
     * padded gradient plane, whose interior is then the input gradient */
    const int st = s->stride;
    float *dxpad = rest;
    for (int b = 0; b < n; b++) {
        const float *dyb = dy + (size_t)b * cout * ho * wo;
        copy_in(xpad + (size_t)pad * g.wp + pad, g.P, g.wp, x + (size_t)b * cin * h * w, cin, h,
                w);
        if (dx) memset(dxpad, 0, (size_t)cin * g.P * sizeof(float));
        for (int o = 0; o < cout; o++) {
            const float *d = dyb + (size_t)o * ho * wo;
            for (int i = 0; i < cin; i++)
                for (int ky = 0; ky < k; ky++)
                    for (int kx = 0; kx < k; kx++) {
                        size_t t = ((size_t)o * cin + i) * kk + (size_t)ky * k + kx;
                        float c = weight[t], sum = 0.0f;
                        for (int oy = 0; oy < ho; oy++) {
                            size_t r = i * g.P + (size_t)(oy * st + ky) * g.wp + kx;
                            const float *p = xpad + r;
                            const float *dr = d + (size_t)oy * wo;
                            for (int ox = 0; ox < wo; ox++) sum += dr[ox] * p[(size_t)ox * st];
                            if (dx) {
                                float *gp = dxpad + r;
                                for (int ox = 0; ox < wo; ox++) gp[(size_t)ox * st] += c * dr[ox];
                            }
                        }
                        dweight[t] += sum;
                    }
        }
        if (dx)
            copy_out(dx + (size_t)b * cin * h * w, dxpad + (size_t)pad * g.wp + pad, g.P, g.wp,
                     cin, h, w);
    }
}
