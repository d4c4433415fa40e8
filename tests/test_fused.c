/* Fused kernels against the unfused layers they replace, bit for bit:
 * maxpool2d_relu_backward == relu_backward(maxpool2d_backward(...)), on the
 * 2x2 fast path (even sizes) and the generic path (odd sizes, ceil mode),
 * with ties, zeros and negative maxima in the input. */
#include <stdlib.h>
#include <string.h>

#include "layers/layers.h"
#include "test.h"

static float value(unsigned *s)
{
    *s = *s * 1664525u + 1013904223u;
    int v = (int)(*s >> 24) % 7 - 3;          /* -3..3: ties and zeros are common */
    return v <= 0 ? 0.0f : 0.25f * (float)v;  /* a ReLU output: >= 0 */
}

static void case_pool(int n, int c, int h, int w, int ceil_mode, unsigned seed)
{
    int ho = pool2d_out(h, 2, ceil_mode), wo = pool2d_out(w, 2, ceil_mode);
    size_t nin = (size_t)n * c * h * w, nout = (size_t)n * c * ho * wo;
    float *x = malloc(nin * sizeof *x), *dy = malloc(nout * sizeof *dy);
    float *ref = malloc(nin * sizeof *ref), *got = malloc(nin * sizeof *got);
    for (size_t i = 0; i < nin; i++) x[i] = value(&seed);
    for (size_t i = 0; i < nout; i++) dy[i] = 0.1f * (float)((int)(i % 13) - 6);
    maxpool2d_backward(ref, dy, x, n, c, h, w, 2, ceil_mode);
    relu_backward(ref, ref, x, nin);
    memset(got, 0xff, nin * sizeof *got);   /* NaN: every element must be written */
    maxpool2d_relu_backward(got, dy, x, n, c, h, w, 2, ceil_mode);
    CHECK(memcmp(ref, got, nin * sizeof *got) == 0,
          "maxpool2d_relu_backward %dx%dx%dx%d ceil %d equals maxpool then relu backward", n, c, h, w,
          ceil_mode);
    free(x); free(dy); free(ref); free(got);
}

int main(void)
{
    case_pool(3, 16, 28, 28, 0, 1u);   /* the lesson's 28 -> 14 (fast path) */
    case_pool(3, 8, 14, 14, 0, 2u);    /* 14 -> 7 (fast path) */
    case_pool(3, 8, 7, 7, 1, 3u);      /* 7 -> 4, ceil (generic path) */
    case_pool(2, 4, 9, 6, 0, 4u);      /* odd height, floor (generic path) */
    TEST_DONE();
}
