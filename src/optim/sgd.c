/* SGD with momentum, following torch.optim.SGD (1.13; dampening 0, not
 * Nesterov): buf = momentum*buf + g (PyTorch starts buf at g, which is the
 * same thing from a zeroed buffer); p -= lr * buf. */
#include "optim/optim.h"

void sgd_update(float *p, const float *g, float *buf, size_t count,
                double lr_d, double momentum_d)
{
    float lr = (float)lr_d, momentum = (float)momentum_d;
    if (momentum == 0.0f) {
        for (size_t i = 0; i < count; i++) p[i] = p[i] - lr * g[i];
        return;
    }
    for (size_t i = 0; i < count; i++) {
        float b = buf[i] * momentum + g[i];
        buf[i] = b;
        p[i] = p[i] - lr * b;
    }
}
