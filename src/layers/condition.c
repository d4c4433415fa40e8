/* Conditioning layer: the image's class label, one-hot, appended to the
 * input as extra channels (a flat input gets `classes` more values; an
 * image gets `classes` constant planes). */
#include <string.h>

#include "layers/layers.h"

void condition_forward(float *y, const float *x, const float *onehot, int n, int c, size_t plane, int classes)
{
    size_t in = (size_t)c * plane, out = in + (size_t)classes * plane;
    for (int i = 0; i < n; i++) {
        float *yi = y + (size_t)i * out;
        memcpy(yi, x + (size_t)i * in, in * sizeof(float));
        for (int k = 0; k < classes; k++) {
            float v = onehot[(size_t)i * classes + k], *p = yi + in + (size_t)k * plane;
            for (size_t j = 0; j < plane; j++) p[j] = v;
        }
    }
}

void condition_backward(float *dx, const float *dy, int n, int c, size_t plane, int classes)
{
    size_t in = (size_t)c * plane, out = in + (size_t)classes * plane;
    for (int i = 0; i < n; i++) memcpy(dx + (size_t)i * in, dy + (size_t)i * out, in * sizeof(float));
}
