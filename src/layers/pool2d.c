/* 2-d pooling with a k x k window and stride k (non-overlapping windows).
 * ceil_mode keeps the partial window at the bottom/right edge; a partial
 * window only covers the pixels inside the image, so max ignores the rest
 * and avg divides by the number of pixels covered. */
#include "layers/layers.h"

int pool2d_out(int h, int k, int ceil_mode)
{
    return ceil_mode ? (h + k - 1) / k : h / k;
}

static inline int imin(int a, int b) { return a < b ? a : b; }

/* 2x2 windows over even h and w (the lesson's 28 -> 14 -> 7): no edge
 * cases, branch-free selects the compiler vectorises. The generic loops
 * below cost 3-4x more here (bench/layer_bench.c). */
static int pool2_even(int h, int w, int k) { return k == 2 && h % 2 == 0 && w % 2 == 0; }

static void maxpool2_forward(float *y, const float *x, long planes, int h, int w)
{
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

/* The same first-maximum-in-row-major-order rule as the generic backward:
 * the better of each row (first on ties), then row 1 only if strictly
 * greater. Every input pixel is in one window, so dx needs no zeroing. */
static void maxpool2_backward(float *dx, const float *dy, const float *x, long planes, int h, int w,
                              int relu)
{
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
