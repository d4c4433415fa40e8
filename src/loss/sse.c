/* Sum of squared errors; the caller divides for MSE (per pixel) or SSE per
 * image. Summed in double so large batches do not lose precision. */
#include "loss/loss.h"

double sse_loss(const float *y, const float *t, size_t count)
{
    double sum = 0.0;
    for (size_t i = 0; i < count; i++) {
        double d = (double)y[i] - (double)t[i];
        sum += d * d;
    }
    return sum;
}

void sse_backward(float *dy, const float *y, const float *t, size_t count, float scale)
{
    float s2 = 2.0f * scale;
    for (size_t i = 0; i < count; i++) dy[i] = s2 * (y[i] - t[i]);
}
