/* Cost of the dense VAE's widest layer (784 -> 512) in one training step:
 * forward, dx and dW on a chunk of 64 images (batch 128 over 2 threads),
 * in one thread. Run it once per path to compare the portable C code with
 * the BLIS sgemm path the library uses on SIMD CPUs:
 *
 *   AEKIT_SIMD=portable ./dense_bench ; ./dense_bench
 *
 * linked, as aekit is, with BLIS's serial build (CMakeLists.txt):
 *
 *   S=/usr/lib/x86_64-linux-gnu/blis-serial
 *   cc -O2 -fopenmp -Iinclude -Isrc bench/dense_bench.c BUILD/libaekit.a \
 *      -L$S -Wl,-rpath,$S -lblis -lm */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/cpu.h"
#include "layers/layers.h"

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

int main(void)
{
    const int n = 64, in = 784, out = 512, reps = 200;
    float *x = malloc(sizeof(float) * n * in), *w = malloc(sizeof(float) * in * out);
    float *b = calloc(out, sizeof(float)), *y = malloc(sizeof(float) * n * out);
    float *dy = malloc(sizeof(float) * n * out), *dx = malloc(sizeof(float) * n * in);
    float *dw = calloc((size_t)in * out, sizeof(float)), *db = calloc(out, sizeof(float));
    srand(1);
    for (int i = 0; i < n * in; i++) x[i] = rand() / (float)RAND_MAX;
    for (int i = 0; i < in * out; i++) w[i] = rand() / (float)RAND_MAX - 0.5f;
    for (int i = 0; i < n * out; i++) dy[i] = rand() / (float)RAND_MAX - 0.5f;
    dense_forward(y, x, w, b, n, in, out); /* warm-up */
    double t = cpu_now();
    for (int r = 0; r < reps; r++) {
        dense_forward(y, x, w, b, n, in, out);
        dense_backward(dx, dw, db, dy, x, w, n, in, out);
    }
    t = cpu_now() - t;
    double flop = 3.0 * 2 * n * in * out * reps;
    printf("dense %dx%d, n=%d, path %s: %.3f ms/step, %.1f GFLOP/s\n", in, out, n,
           ae_simd_name(ae_simd()), 1e3 * t / reps, flop / t / 1e9);
    free(x); free(w); free(b); free(y); free(dy); free(dx); free(dw); free(db);
    return 0;
}
