/* Element-wise activations. Backward takes the forward output y and may run
 * in place (dx == dy), so dx and dy are not restrict. */
#include <math.h>

#include "layers/layers.h"

void relu_forward(float *y, const float *x, size_t count)
{
    for (size_t i = 0; i < count; i++) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

void relu_backward(float *dx, const float *dy, const float *y, size_t count)
{
    for (size_t i = 0; i < count; i++) dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}

void leaky_relu_forward(float *y, const float *x, size_t count, float slope)
{
    for (size_t i = 0; i < count; i++) y[i] = x[i] > 0.0f ? x[i] : slope * x[i];
}

/* For slope > 0, y > 0 exactly when x > 0, so y identifies the branch. */
void leaky_relu_backward(float *dx, const float *dy, const float *y, size_t count, float slope)
{
    for (size_t i = 0; i < count; i++) dx[i] = y[i] > 0.0f ? dy[i] : slope * dy[i];
}

/* exp of a non-positive argument only, so large |x| never overflows. */
void sigmoid_forward(float *y, const float *x, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        float e = expf(-fabsf(x[i]));
        y[i] = x[i] >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);
    }
}

void sigmoid_backward(float *dx, const float *dy, const float *y, size_t count)
{
    for (size_t i = 0; i < count; i++) dx[i] = dy[i] * y[i] * (1.0f - y[i]);
}

void tanh_forward(float *y, const float *x, size_t count)
{
    for (size_t i = 0; i < count; i++) y[i] = tanhf(x[i]);
}

void tanh_backward(float *dx, const float *dy, const float *y, size_t count)
{
    for (size_t i = 0; i < count; i++) dx[i] = dy[i] * (1.0f - y[i] * y[i]);
}
