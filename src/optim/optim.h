/* Optimisers: one update over a flat parameter array, using PyTorch's update
 * rules (torch.optim 1.13) so that parity fixtures match step for step.
 * State arrays (m, v, ...) are zero-initialised by the caller.
 * Hyperparameters are doubles, as PyTorch's Python floats are: 1 - 0.999f
 * is not 0.001, and the difference shows in parity tests.                 */
#ifndef AEKIT_OPTIM_H
#define AEKIT_OPTIM_H

#include <stddef.h>

/* Adam (Kingma & Ba), bias-corrected; step t counts from 1.
 * m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;
 * p -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps)                    */
void adam_update(float *p, const float *g, float *m, float *v, size_t count,
                 double lr, double beta1, double beta2, double eps, long t);

/* RMSprop (PyTorch form, no momentum, not centred):
 * s = alpha s + (1-alpha) g^2;  p -= lr * g / (sqrt(s) + eps)              */
void rmsprop_update(float *p, const float *g, float *s, size_t count,
                    double lr, double alpha, double eps);

/* SGD with momentum (PyTorch form, dampening 0, not Nesterov):
 * buf = momentum buf + g;  p -= lr * buf. momentum 0 is plain SGD.         */
void sgd_update(float *p, const float *g, float *buf, size_t count,
                double lr, double momentum);

#endif
