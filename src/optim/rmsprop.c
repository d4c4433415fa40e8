/* RMSprop, following torch.optim.RMSprop (1.13; no momentum, not centred):
 *   s = s*alpha + ((1-alpha)*g)*g;  p -= lr * g / (sqrt(s) + eps)
 * Scalars are rounded to float as PyTorch's float kernels do; 1 - alpha is
 * taken in double first, as in Python. Weight decay is PyTorch's L2,
 * grad = grad.add(param, alpha=weight_decay), before the rest. */
#include <math.h>

#include "optim/optim.h"

void rmsprop_update(float *p, const float *g, float *s, size_t count,
                    double lr, double alpha, double eps, double weight_decay)
{
    float c = (float)(1.0 - alpha), a = (float)alpha, e = (float)eps, l = (float)lr, wd = (float)weight_decay;
    for (size_t i = 0; i < count; i++) {
        float gi = wd != 0.0f ? g[i] + wd * p[i] : g[i];
        float si = s[i] * a;
        si = si + c * gi * gi;
        float avg = sqrtf(si) + e;
        p[i] = p[i] - l * gi / avg;
        s[i] = si;
    }
}
