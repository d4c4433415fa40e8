/* Nearest-neighbour upsampling by an integer factor s: every input pixel
 * becomes an s x s block; backward sums each block's gradient. */
#include "layers/layers.h"

void upsample2d_forward(float *y, const float *x, int n, int c, int h, int w, int s)
{
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

void upsample2d_backward(float *dx, const float *dy, int n, int c, int h, int w, int s)
{
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
