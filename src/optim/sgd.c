/* SGD with momentum, following torch.optim.SGD (1.13; dampening 0, not
 * Nesterov): buf = momentum*buf + g (PyTorch starts buf at g, which is the
 * same thing from a zeroed buffer); p -= lr * buf. Weight decay is
 * PyTorch's L2, d_p = d_p.add(param, alpha=weight_decay), first. */
#include "optim/optim.h"

void sgd_update(float *p, const float *g, float *buf, size_t count,
                double lr_d, double momentum_d, double weight_decay)
{
    float lr = (float)lr_d, momentum = (float)momentum_d, wd = (float)weight_decay;
    if (momentum == 0.0f) {
        for (size_t i = 0; i < count; i++) {
            float gi = wd != 0.0f ? g[i] + wd * p[i] : g[i];
            p[i] = p[i] - lr * gi;
        }
        return;
    }
    for (size_t i = 0; i < count; i++) {
        float gi = wd != 0.0f ? g[i] + wd * p[i] : g[i];
        float b = buf[i] * momentum + gi;
        buf[i] = b;
        p[i] = p[i] - lr * b;
    }
}
