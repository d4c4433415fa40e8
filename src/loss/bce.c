/* Binary cross-entropy from logits, in the form that never takes log(0)
 * and never overflows exp:  max(z,0) - z t + log1p(exp(-|z|)). */
#include <math.h>

#include "loss/loss.h"

double bce_logits_loss(const float *z, const float *t, size_t count)
{
    double sum = 0.0;
    for (size_t i = 0; i < count; i++) {
        double zi = z[i], ti = t[i];
        sum += (zi > 0.0 ? zi : 0.0) - zi * ti + log1p(exp(-fabs(zi)));
    }
    return sum;
}

void bce_logits_backward(float *dz, const float *z, const float *t, size_t count, float scale)
{
    for (size_t i = 0; i < count; i++) {
        /* sigmoid through exp(-|z|) only, stable for any z */
        float e = expf(-fabsf(z[i]));
        float s = z[i] >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);
        dz[i] = scale * (s - t[i]);
    }
}
