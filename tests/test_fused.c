/* Fused kernels against the unfused layers they replace, bit for bit:
 * maxpool2d_relu_backward == relu_backward(maxpool2d_backward(...)), on the
 * 2x2 fast path (even sizes) and the generic path (odd sizes, ceil mode),
 * with ties, zeros and negative maxima in the input. The 2x2 fast path
 * (vectorised on AVX-512), forward and backward, also against the rule
 * written out here, for every even width up to 72 (full and partial
 * 16-window chunks). upsample2d_relu_backward ==
 * relu_backward(upsample2d_backward(...)) for factor 2 (its own loop) and
 * 3 (the two calls). conv2d_relu_forward == relu_forward(conv2d_forward(...))
 * on the SIMD kernels' shapes (3x3 stride 1, pads 0-2, channel counts that
 * use the 8-channel blocks, single channels and row tails) and the generic
 * code's (5x5, stride 2), with and without the conv's own output, on
 * whichever SIMD path AEKIT_SIMD picks (the suite runs all three). */
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

/* The 2x2 rule, one window at a time: the first maximum in row-major order
 * (strict '>'), its gradient through a ReLU when `relu` (only where the
 * maximum is positive), every other pixel 0. */
static void pool2_reference(float *dx, const float *dy, const float *x, long planes, int h, int w, int relu)
{
    int ho = h / 2, wo = w / 2;
    for (long p = 0; p < planes; p++)
        for (int oy = 0; oy < ho; oy++)
            for (int ox = 0; ox < wo; ox++) {
                const float *xp = x + p * h * w;
                int idx[4] = { (2 * oy) * w + 2 * ox, (2 * oy) * w + 2 * ox + 1, (2 * oy + 1) * w + 2 * ox,
                               (2 * oy + 1) * w + 2 * ox + 1 };
                /* the better of each row (first on ties), row 1 only if strictly greater */
                int top = xp[idx[1]] > xp[idx[0]] ? idx[1] : idx[0];
                int bottom = xp[idx[3]] > xp[idx[2]] ? idx[3] : idx[2];
                int arg = xp[bottom] > xp[top] ? bottom : top;
                float g = dy[(p * ho + oy) * wo + ox];
                if (relu && !(xp[arg] > 0.0f)) g = 0.0f;
                for (int k = 0; k < 4; k++) dx[p * h * w + idx[k]] = idx[k] == arg ? g : 0.0f;
            }
}

static void case_pool2_rule(int planes, int h, int w, unsigned seed)
{
    size_t nin = (size_t)planes * h * w, nout = nin / 4;
    float *x = malloc(nin * sizeof *x), *dy = malloc(nout * sizeof *dy);
    float *ref = malloc(nin * sizeof *ref), *got = malloc(nin * sizeof *got);
    for (size_t i = 0; i < nin; i++) x[i] = value(&seed) - 0.5f;   /* negative maxima too */
    for (size_t i = 0; i < nout; i++) dy[i] = 0.1f * (float)((int)(i % 13) - 6);
    /* forward: each window's maximum (the first on ties, as the backward) */
    for (long p = 0; p < planes; p++)
        for (int oy = 0; oy < h / 2; oy++)
            for (int ox = 0; ox < w / 2; ox++) {
                const float *r0 = x + (p * h + 2 * oy) * w + 2 * ox, *r1 = r0 + w;
                float m0 = r0[1] > r0[0] ? r0[1] : r0[0], m1 = r1[1] > r1[0] ? r1[1] : r1[0];
                ref[(p * (h / 2) + oy) * (w / 2) + ox] = m1 > m0 ? m1 : m0;
            }
    memset(got, 0xff, nin * sizeof *got);
    maxpool2d_forward(got, x, planes, 1, h, w, 2, 0);
    CHECK(memcmp(ref, got, nout * sizeof *got) == 0 && got[nout] != got[nout],
          "2x2 max-pool forward %dx%dx%d follows the rule and writes nothing past its output", planes, h, w);
    for (int relu = 0; relu < 2; relu++) {
        pool2_reference(ref, dy, x, planes, h, w, relu);
        memset(got, 0xff, nin * sizeof *got);
        if (relu) maxpool2d_relu_backward(got, dy, x, planes, 1, h, w, 2, 0);
        else maxpool2d_backward(got, dy, x, planes, 1, h, w, 2, 0);
        CHECK(memcmp(ref, got, nin * sizeof *got) == 0, "2x2 max-pool backward%s %dx%dx%d follows the rule",
              relu ? " + relu" : "", planes, h, w);
    }
    free(x); free(dy); free(ref); free(got);
}

static void case_upsample(int n, int c, int h, int w, int s, unsigned seed)
{
    size_t nin = (size_t)n * c * h * w, nout = nin * (size_t)s * s;
    float *x = malloc(nin * sizeof *x), *dy = malloc(nout * sizeof *dy);
    float *ref = malloc(nin * sizeof *ref), *got = malloc(nin * sizeof *got);
    for (size_t i = 0; i < nin; i++) x[i] = value(&seed);
    for (size_t i = 0; i < nout; i++) dy[i] = 0.1f * (float)((int)(i % 13) - 6) + 1e-3f * (float)(i % 7);
    upsample2d_backward(ref, dy, n, c, h, w, s);
    relu_backward(ref, ref, x, nin);
    memset(got, 0xff, nin * sizeof *got);   /* NaN: every element must be written */
    upsample2d_relu_backward(got, dy, x, n, c, h, w, s);
    CHECK(memcmp(ref, got, nin * sizeof *got) == 0,
          "upsample2d_relu_backward %dx%dx%dx%d x%d equals upsample then relu backward", n, c, h, w, s);
    free(x); free(dy); free(ref); free(got);
}

static void case_conv_relu(int n, int cin, int h, int w, int cout, int k, int stride, int pad, unsigned seed)
{
    conv2d_shape_t s = { cin, h, w, cout, k, stride, pad, 0, 0 };
    CHECK(conv2d_shape(&s) == 0, "conv shape");
    size_t nin = (size_t)n * cin * h * w, nout = (size_t)n * cout * s.ho * s.wo;
    size_t nw = (size_t)cout * cin * k * k;
    float *x = malloc(nin * sizeof *x), *wt = malloc(nw * sizeof *wt), *b = malloc(cout * sizeof *b);
    float *y = malloc(nout * sizeof *y), *ref = malloc(nout * sizeof *ref);
    float *y2 = malloc(nout * sizeof *y2), *got = malloc(nout * sizeof *got), *got2 = malloc(nout * sizeof *got2);
    float *ws = malloc(conv2d_workspace(&s, n) * sizeof *ws);
    for (size_t i = 0; i < nin; i++) x[i] = value(&seed) - 0.3f;
    for (size_t i = 0; i < nw; i++) wt[i] = 0.2f * (float)((int)((i * 7 + seed) % 11) - 5);
    for (int o = 0; o < cout; o++) b[o] = 0.05f * (float)(o % 5 - 2);
    conv2d_forward(y, x, wt, b, n, &s, ws);
    relu_forward(ref, y, nout);
    memset(y2, 0xff, nout * sizeof *y2);
    memset(got, 0xff, nout * sizeof *got);
    conv2d_relu_forward(y2, got, x, wt, b, n, &s, ws);
    CHECK(memcmp(y, y2, nout * sizeof *y) == 0 && memcmp(ref, got, nout * sizeof *got) == 0,
          "conv2d_relu_forward %dx%dx%dx%d -> %d k%d s%d p%d equals conv then relu", n, cin, h, w, cout, k,
          stride, pad);
    memset(got2, 0xff, nout * sizeof *got2);
    conv2d_relu_forward(NULL, got2, x, wt, b, n, &s, ws);
    CHECK(memcmp(ref, got2, nout * sizeof *got2) == 0,
          "conv2d_relu_forward without the conv's output %dx%dx%dx%d -> %d k%d s%d p%d", n, cin, h, w, cout,
          k, stride, pad);
    free(x); free(wt); free(b); free(y); free(ref); free(y2); free(got); free(got2); free(ws);
}

int main(void)
{
    for (int w = 2; w <= 72; w += 2) case_pool2_rule(3, 4, w, 10u + (unsigned)w);
    case_pool(3, 16, 28, 28, 0, 1u);   /* the lesson's 28 -> 14 (fast path) */
    case_pool(3, 8, 14, 14, 0, 2u);    /* 14 -> 7 (fast path) */
    case_pool(3, 8, 7, 7, 1, 3u);      /* 7 -> 4, ceil (generic path) */
    case_pool(2, 4, 9, 6, 0, 4u);      /* odd height, floor (generic path) */
    case_upsample(3, 8, 4, 4, 2, 5u);  /* the lesson's decoder: 4 -> 8, 8 -> 16, 14 -> 28 */
    case_upsample(3, 8, 8, 8, 2, 6u);
    case_upsample(3, 16, 14, 14, 2, 7u);
    case_upsample(2, 3, 5, 7, 3, 8u);  /* factor 3: the generic loops */
    case_conv_relu(3, 1, 28, 28, 16, 3, 1, 1, 9u);   /* the lesson's conv AE */
    case_conv_relu(3, 16, 14, 14, 8, 3, 1, 1, 10u);
    case_conv_relu(2, 8, 7, 7, 8, 3, 1, 1, 11u);
    case_conv_relu(2, 8, 16, 16, 16, 3, 1, 0, 12u);  /* valid */
    case_conv_relu(2, 3, 9, 21, 11, 3, 1, 2, 13u);   /* 8 + 3 single channels, pad 2, odd sizes */
    case_conv_relu(2, 3, 11, 13, 4, 5, 2, 2, 14u);   /* 5x5 stride 2: the generic code */
    TEST_DONE();
}
