/* Fully connected layer, PyTorch nn.Linear layout: weight [out, in].
 *   forward   y[i][o]  = b[o] + sum_j x[i][j] W[o][j]      (dot products)
 *   backward  dx[i][j] = sum_o dy[i][o] W[o][j]            (row axpys)
 *             dW[o][j] += sum_i dy[i][o] x[i][j]           (row axpys)
 *             db[o]   += sum_i dy[i][o]
 * Every inner loop runs over a contiguous row. Dot products keep LANES
 * partial sums so the compiler can vectorise them without -ffast-math, and
 * four rows are handled together so each loaded row is used four times.
 *
 * That plain C code is the portable path. Built with BLIS (AEKIT_BLAS,
 * the default) and on a CPU with a SIMD path (core/cpu.h), the three
 * products are sgemm calls instead: BLIS picks its kernels for the CPU at
 * run time and is several times faster on the VAE's 784x512 layer
 * (bench/dense_bench.c). aekit threads over the batch itself, so each call
 * asks BLIS for one thread through its own run-time object (rntm): no
 * thread pool, and nothing global is set, which in a host program would
 * change its own BLIS calls too. Threads call BLIS at the same time; BLIS
 * is safe to call so (OpenBLAS's serial build is not: tests/test_dense_threads.c).
 * Its typed API (bli_sgemm_ex) takes strides, so the row-major products
 * need no transposed copies. */
#define _POSIX_C_SOURCE 200809L  /* blis.h: pthread barriers */
#include "layers/layers.h"
#include "core/cpu.h"

#ifdef AEKIT_HAVE_BLAS
#include <blis.h>

static int use_blas(void) { return ae_simd() != AE_SIMD_PORTABLE; }

/* Row-major c[m x n] = a[m x k] b[k x n] + beta c, where a and b are each
 * stored as given or transposed (trans_a, trans_b), with row lengths lda,
 * ldb, ldc. */
static void sgemm(int trans_a, int trans_b, int m, int n, int k, const float *a, int lda,
                  const float *b, int ldb, float beta, float *c, int ldc)
{
    float one = 1.0f;
    rntm_t rntm;
    bli_rntm_init(&rntm);
    bli_rntm_set_num_threads(1, &rntm);
    /* BLIS reads but never writes a and b */
    bli_sgemm_ex(trans_a ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE,
                 trans_b ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE, m, n, k, &one, (float *)a, lda, 1,
                 (float *)b, ldb, 1, &beta, c, ldc, 1, NULL, &rntm);
}
#endif

#define LANES 16

/* y0..y3 = dot(a0..a3, b) over n floats. */
static void dot4(float out[4], const float *restrict a0, const float *restrict a1,
                 const float *restrict a2, const float *restrict a3,
                 const float *restrict b, int n)
{
    float s0[LANES] = {0}, s1[LANES] = {0}, s2[LANES] = {0}, s3[LANES] = {0};
    int j = 0;
    for (; j + LANES <= n; j += LANES)
        for (int l = 0; l < LANES; l++) {
            float bv = b[j + l];
            s0[l] += a0[j + l] * bv;
            s1[l] += a1[j + l] * bv;
            s2[l] += a2[j + l] * bv;
            s3[l] += a3[j + l] * bv;
        }
    float t0 = 0, t1 = 0, t2 = 0, t3 = 0;
    for (; j < n; j++) {
        t0 += a0[j] * b[j];
        t1 += a1[j] * b[j];
        t2 += a2[j] * b[j];
        t3 += a3[j] * b[j];
    }
    for (int l = 0; l < LANES; l++) {
        t0 += s0[l];
        t1 += s1[l];
        t2 += s2[l];
        t3 += s3[l];
    }
    out[0] = t0, out[1] = t1, out[2] = t2, out[3] = t3;
}

static float dot1(const float *restrict a, const float *restrict b, int n)
{
    float s[LANES] = {0};
    int j = 0;
    for (; j + LANES <= n; j += LANES)
        for (int l = 0; l < LANES; l++) s[l] += a[j + l] * b[j + l];
    float t = 0;
    for (; j < n; j++) t += a[j] * b[j];
    for (int l = 0; l < LANES; l++) t += s[l];
    return t;
}

void dense_forward(float *y, const float *x, const float *weight, const float *bias,
                   int n, int in, int out)
{
#ifdef AEKIT_HAVE_BLAS
    if (use_blas()) {
        for (int r = 0; r < n; r++)
            for (int o = 0; o < out; o++) y[(long)r * out + o] = bias ? bias[o] : 0.0f;
        sgemm(0, 1, n, out, in, x, in, weight, in, 1.0f, y, out);
        return;
    }
#endif
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        const float *x0 = x + (long)i * in;
        for (int o = 0; o < out; o++) {
            float d[4];
            dot4(d, x0, x0 + in, x0 + 2 * in, x0 + 3 * in, weight + (long)o * in, in);
            float b = bias ? bias[o] : 0.0f;
            for (int r = 0; r < 4; r++) y[(long)(i + r) * out + o] = d[r] + b;
        }
    }
    for (; i < n; i++)
        for (int o = 0; o < out; o++)
            y[(long)i * out + o] = dot1(x + (long)i * in, weight + (long)o * in, in) +
                                   (bias ? bias[o] : 0.0f);
}

/* acc[j] += c0 r0[j] + c1 r1[j] + c2 r2[j] + c3 r3[j]: one load/store of acc
 * per four multiply-adds. */
static void axpy4(float *restrict acc, float c0, const float *restrict r0, float c1,
                  const float *restrict r1, float c2, const float *restrict r2, float c3,
                  const float *restrict r3, int n)
{
    for (int j = 0; j < n; j++) acc[j] += c0 * r0[j] + c1 * r1[j] + c2 * r2[j] + c3 * r3[j];
}

static void axpy1(float *restrict acc, float c, const float *restrict r, int n)
{
    for (int j = 0; j < n; j++) acc[j] += c * r[j];
}

void dense_backward(float *dx, float *dweight, float *dbias, const float *dy,
                    const float *x, const float *weight, int n, int in, int out)
{
#ifdef AEKIT_HAVE_BLAS
    if (use_blas()) {
        if (dx)
            sgemm(0, 0, n, in, out, dy, out, weight, in, 0.0f, dx, in);
        sgemm(1, 0, out, in, n, dy, out, x, in, 1.0f, dweight, in);
        if (dbias)
            for (int o = 0; o < out; o++) {
                float s = 0.0f;
                for (int r = 0; r < n; r++) s += dy[(long)r * out + o];
                dbias[o] += s;
            }
        return;
    }
#endif
    if (dx) {
        for (int i = 0; i < n; i++) {
            float *dxi = dx + (long)i * in;
            const float *dyi = dy + (long)i * out;
            for (int j = 0; j < in; j++) dxi[j] = 0.0f;
            int o = 0;
            for (; o + 4 <= out; o += 4) {
                const float *w0 = weight + (long)o * in;
                axpy4(dxi, dyi[o], w0, dyi[o + 1], w0 + in, dyi[o + 2], w0 + 2 * in,
                      dyi[o + 3], w0 + 3 * in, in);
            }
            for (; o < out; o++) axpy1(dxi, dyi[o], weight + (long)o * in, in);
        }
    }
    for (int o = 0; o < out; o++) {
        float *dwo = dweight + (long)o * in;
        int i = 0;
        for (; i + 4 <= n; i += 4) {
            const float *x0 = x + (long)i * in;
            axpy4(dwo, dy[(long)i * out + o], x0, dy[(long)(i + 1) * out + o], x0 + in,
                  dy[(long)(i + 2) * out + o], x0 + 2 * in, dy[(long)(i + 3) * out + o],
                  x0 + 3 * in, in);
        }
        for (; i < n; i++) axpy1(dwo, dy[(long)i * out + o], x + (long)i * in, in);
        if (dbias) {
            float s = 0.0f;
            for (int r = 0; r < n; r++) s += dy[(long)r * out + o];
            dbias[o] += s;
        }
    }
}
