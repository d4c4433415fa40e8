/* Losses. Each returns the SUM of per-element losses over `count` floats as a
 * double (the caller divides by what "mean" means for it: pixels in the batch
 * for BCE/MSE, images for SSE), and a backward that writes
 * dz = scale * d(sum)/dz, so the caller passes scale = 1/denominator.
 * Splitting the sum from the mean lets threads each handle a chunk of the
 * batch and add their sums.                                               */
#ifndef AEKIT_LOSS_H
#define AEKIT_LOSS_H

#include <stddef.h>

/* Binary cross-entropy computed from logits z (the pre-sigmoid values), the
 * numerically stable form  max(z,0) - z*t + log(1 + exp(-|z|)),  targets t in
 * [0,1]. Equals BCE(sigmoid(z), t) without ever taking log(0).
 * Gradient: scale * (sigmoid(z) - t).                                      */
double bce_logits_loss(const float *z, const float *t, size_t count);
void   bce_logits_backward(float *dz, const float *z, const float *t, size_t count, float scale);

/* Squared error sum (y - t)^2. Gradient: scale * 2 (y - t).
 * MSE = sum / count; SSE per image = sum / images.                         */
double sse_loss(const float *y, const float *t, size_t count);
void   sse_backward(float *dy, const float *y, const float *t, size_t count, float scale);

#endif
