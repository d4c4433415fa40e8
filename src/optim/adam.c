/* Adam, following torch.optim.Adam (1.13, single-tensor path) operation by
 * operation so that float results track PyTorch's:
 *   m = m*b1 + (1-b1)*g;  v = v*b2 + ((1-b2)*g)*g
 *   bc1 = 1 - b1^t, bc2 = 1 - b2^t      (double, like Python floats)
 *   step_size = lr / bc1                (double, then float)
 *   denom = sqrt(v) / sqrt(bc2) + eps   (float)
 *   p -= step_size * m / denom          (float, in this order)
 *
 * With weight decay, torch.optim.AdamW (1.13) first decays the weights,
 * param.mul_(1 - lr * weight_decay): the factor in double, then float.
 *
 * PyTorch's vectorised add_ fuses the m update into one FMA; here it is two
 * roundings (in ISO C mode GCC does not fuse), a difference of at most an
 * ulp of m. */
#include <math.h>

#include "optim/optim.h"

void adam_update(float *p, const float *g, float *m, float *v, size_t count,
                 double lr, double beta1, double beta2, double eps, long t, double weight_decay)
{
    if (weight_decay != 0) {
        float decay = (float)(1.0 - lr * weight_decay);
        for (size_t i = 0; i < count; i++) p[i] = p[i] * decay;
    }
    double bc1 = 1.0 - pow(beta1, (double)t);
    double bc2 = 1.0 - pow(beta2, (double)t);
    /* scalars reach PyTorch's float kernels rounded to float */
    float step_size = (float)(lr / bc1);
    float bc2_sqrt = (float)sqrt(bc2);
    float b1 = (float)beta1, b2 = (float)beta2, e = (float)eps;
    float c1 = (float)(1.0 - beta1), c2 = (float)(1.0 - beta2);
    for (size_t i = 0; i < count; i++) {
        float gi = g[i];
        float mi = m[i] * b1;
        mi = mi + c1 * gi;
        float vi = v[i] * b2;
        vi = vi + c2 * gi * gi;
        float denom = sqrtf(vi) / bc2_sqrt + e;
        p[i] = p[i] - step_size * mi / denom;
        m[i] = mi;
        v[i] = vi;
    }
}
