/* Nearest-neighbour upsampling by an integer factor s: every input pixel
 * becomes an s x s block; backward sums each block's gradient. */
#include "layers/layers.h"

/* s = 2 (the lesson's): constant loop bounds the compiler vectorises; the
 * generic loops cost several times more (bench/layer_bench.c). */
static void upsample2_forward(float *y, const float *x, long planes, int h, int w)
{
    int wo = 2 * w;
    for (long r = 0; r < planes * h; r++) {
        const float *restrict xr = x + r * w;
        float *restrict y0 = y + r * 2 * wo, *restrict y1 = y0 + wo;
        for (int ix = 0; ix < w; ix++) {
            float v = xr[ix];
            y0[2 * ix] = v;
            y0[2 * ix + 1] = v;
            y1[2 * ix] = v;
            y1[2 * ix + 1] = v;
        }
    }
}

static void upsample2_backward(float *dx, const float *dy, long planes, int h, int w)
{
    int wo = 2 * w;
    for (long r = 0; r < planes * h; r++) {
        const float *restrict g0 = dy + r * 2 * wo, *restrict g1 = g0 + wo;
        float *restrict dr = dx + r * w;
        /* the generic loop's order: (0,0) (0,1) (1,0) (1,1) */
        for (int ix = 0; ix < w; ix++)
            dr[ix] = ((g0[2 * ix] + g0[2 * ix + 1]) + g1[2 * ix]) + g1[2 * ix + 1];
    }
}

void upsample2d_forward(float *y, const float *x, int n, int c, int h, int w, int s)
{
    if (s == 2) {
        upsample2_forward(y, x, (long)n * c, h, w);
        return;
    }
    int wo = w * s;
    for (long p = 0; p < (long)n * c; p++) {
        const float *xp = x + p * h * w;
        float *yp = y + p * h * s * wo;
        for (int iy = 0; iy < h; iy++) {
            float *row = yp + (long)iy * s * wo;
            for (int ix = 0; ix < w; ix++)
                for (int b = 0; b < s; b++) row[ix * s + b] = xp[iy * w + ix];
            /* the other s-1 output rows repeat the first */
            for (int a = 1; a < s; a++)
                for (int j = 0; j < wo; j++) row[a * wo + j] = row[j];
        }
    }
}

/* upsample2_backward with the ReLU before the upsample folded in: x is
 * the ReLU's output (the upsample's input), so each block's sum passes on
 * where it is positive: relu_backward's select on the same sum. */
static void upsample2_relu_backward(float *dx, const float *dy, const float *x, long planes, int h, int w)
{
    int wo = 2 * w;
    for (long r = 0; r < planes * h; r++) {
        const float *restrict g0 = dy + r * 2 * wo, *restrict g1 = g0 + wo;
        const float *restrict xr = x + r * w;
        float *restrict dr = dx + r * w;
        for (int ix = 0; ix < w; ix++) {
            float sum = ((g0[2 * ix] + g0[2 * ix + 1]) + g1[2 * ix]) + g1[2 * ix + 1];
            dr[ix] = xr[ix] > 0.0f ? sum : 0.0f;
        }
    }
}

void upsample2d_relu_backward(float *dx, const float *dy, const float *x, int n, int c, int h, int w, int s)
{
    if (s == 2) {
        upsample2_relu_backward(dx, dy, x, (long)n * c, h, w);
        return;
    }
    upsample2d_backward(dx, dy, n, c, h, w, s);
    relu_backward(dx, dx, x, (size_t)n * c * h * w);
}

void upsample2d_backward(float *dx, const float *dy, int n, int c, int h, int w, int s)
{
    if (s == 2) {
        upsample2_backward(dx, dy, (long)n * c, h, w);
        return;
    }
    int wo = w * s;
    for (long p = 0; p < (long)n * c; p++) {
        const float *dyp = dy + p * h * s * wo;
        float *dxp = dx + p * h * w;
        for (int iy = 0; iy < h; iy++)
            for (int ix = 0; ix < w; ix++) {
                float sum = 0.0f;
                for (int a = 0; a < s; a++)
                    for (int b = 0; b < s; b++)
                        sum += dyp[(long)(iy * s + a) * wo + ix * s + b];
                dxp[iy * w + ix] = sum;
            }
    }
}
