/* Per-layer cost of one training step of the lesson's conv AE, as the model
 * runs it: each layer on a chunk of n images (64 = batch 128 over 2
 * threads), forward then backward, timed in thread CPU time (robust to
 * other load on a shared machine). AEKIT_SIMD picks the conv kernels.
 *
 *   build by hand:
 *   cc -O2 -fopenmp -Iinclude -Isrc bench/layer_bench.c BUILD/libaekit.a -lm ... */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aekit.h"
#include "core/cpu.h"
#include "core/rng.h"
#include "layers/layers.h"

/* weak: the bench also links against builds from before the SIMD dispatch */
#pragma weak ae_simd
#pragma weak ae_simd_name

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static float *buf(size_t n)
{
    float *p = aligned_alloc(64, ((n * sizeof(float)) + 63) / 64 * 64);
    for (size_t i = 0; i < n; i++) p[i] = (float)((i * 2654435761u) % 1000) / 1000.0f - 0.3f;
    return p;
}

typedef struct { const char *name; int cin, h, cout, pad; } conv_t;

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 64, reps = argc > 2 ? atoi(argv[2]) : 200;
    const conv_t convs[] = {
        {"conv1 1->16 28x28", 1, 28, 16, 1},  {"conv2 16->8 14x14", 16, 14, 8, 1},
        {"conv3 8->8 7x7", 8, 7, 8, 1},       {"conv4 8->8 4x4", 8, 4, 8, 1},
        {"conv5 8->8 8x8", 8, 8, 8, 1},       {"conv6 8->16 16x16 valid", 8, 16, 16, 0},
        {"conv7 16->1 28x28", 16, 28, 1, 1},
    };
    printf("simd path: %s, %d images per call, %d reps, thread CPU time\n",
           ae_simd ? ae_simd_name(ae_simd()) : "(no dispatch in this build)", n, reps);
    printf("%-26s %10s %10s %9s\n", "layer", "fwd us/img", "bwd us/img", "GFLOP/s");
    double tot_t = 0, tot_f = 0;
    for (size_t c = 0; c < sizeof convs / sizeof *convs; c++) {
        conv2d_shape_t s = {convs[c].cin, convs[c].h, convs[c].h, convs[c].cout, 3, 1,
                            convs[c].pad, 0, 0};
        conv2d_shape(&s);
        size_t xin = (size_t)n * s.cin * s.h * s.w, yout = (size_t)n * s.cout * s.ho * s.wo;
        float *x = buf(xin), *y = buf(yout), *dy = buf(yout), *dx = buf(xin);
        float *w = buf((size_t)s.cout * s.cin * 9), *b = buf(s.cout);
        float *dw = buf((size_t)s.cout * s.cin * 9), *db = buf(s.cout);
        float *ws = buf(conv2d_workspace(&s, n));
        int first = c == 0; /* the first layer has no input gradient */
        conv2d_forward(y, x, w, b, n, &s, ws);
        double t0 = cpu_now();
        for (int r = 0; r < reps; r++) conv2d_forward(y, x, w, b, n, &s, ws);
        double t1 = cpu_now();
        for (int r = 0; r < reps; r++) conv2d_backward(first ? NULL : dx, dw, db, dy, x, w, n, &s, ws);
        double t2 = cpu_now();
        double fl = 2.0 * s.ho * s.wo * s.cout * s.cin * 9 * (first ? 2 : 3) * n * reps;
        printf("%-26s %10.3f %10.3f %9.1f\n", convs[c].name, (t1 - t0) / reps / n * 1e6,
               (t2 - t1) / reps / n * 1e6, fl / (t2 - t0) * 1e-9);
        tot_t += t2 - t0;
        tot_f += fl;
        free(x); free(y); free(dy); free(dx); free(w); free(b); free(dw); free(db); free(ws);
    }
    printf("%-26s %21.3f %9.1f   (60k images: %.2f s of conv per core)\n", "all convs, us/img",
           tot_t / reps / n * 1e6, tot_f / tot_t * 1e-9, tot_t / reps / n * 60000);

    /* the other layers of the step, same shapes as the model */
    struct { const char *name; int kind, c, h, extra; } other[] = {
        {"relu 16x28x28", 0, 16, 28, 0}, {"maxpool 16x28x28", 1, 16, 28, 0},
        {"relu 8x14x14", 0, 8, 14, 0},   {"maxpool 8x14x14", 1, 8, 14, 0},
        {"relu 8x7x7", 0, 8, 7, 0},      {"maxpool 8x7x7 ceil", 1, 8, 7, 1},
        {"relu 8x4x4", 0, 8, 4, 0},      {"upsample 8x4x4", 2, 8, 4, 0},
        {"relu 8x8x8", 0, 8, 8, 0},      {"upsample 8x8x8", 2, 8, 8, 0},
        {"relu 16x14x14", 0, 16, 14, 0}, {"upsample 16x14x14", 2, 16, 14, 0},
    };
    double tot_o = 0;
    for (size_t i = 0; i < sizeof other / sizeof *other; i++) {
        int c = other[i].c, h = other[i].h;
        size_t nin = (size_t)n * c * h * h, nout = nin * 4;
        float *x = buf(nin), *y = buf(nout), *dy = buf(nout), *dx = buf(nin);
        double t0 = cpu_now();
        for (int r = 0; r < reps; r++) switch (other[i].kind) {
            case 0: relu_forward(y, x, nin); relu_backward(dx, x, y, nin); break;
            case 1: maxpool2d_forward(y, x, n, c, h, h, 2, other[i].extra);
                    maxpool2d_backward(dx, dy, x, n, c, h, h, 2, other[i].extra); break;
            default: upsample2d_forward(y, x, n, c, h, h, 2);
                     upsample2d_backward(dx, dy, n, c, h, h, 2); break;
            }
        double t = cpu_now() - t0;
        printf("%-26s %21.3f\n", other[i].name, t / reps / n * 1e6);
        tot_o += t;
        free(x); free(y); free(dy); free(dx);
    }
    printf("%-26s %21.3f             (60k images: %.2f s per core)\n", "pool/upsample/relu, us/img",
           tot_o / reps / n * 1e6, tot_o / reps / n * 60000);

    /* the denoiser's input noise (gaussian:0,0.5 on 28x28), against one
     * ae_rng_normal call per pixel (the path before rng_normals.c) */
    {
        size_t px = (size_t)n * 784;
        float *x = buf(px), *ref = buf(px);
        ae_noise nz = { AE_NOISE_GAUSSIAN, 0.0f, 0.5f, 0.0f };
        int nreps = reps / 10 > 0 ? reps / 10 : 1;
        double t0 = cpu_now();
        for (int r = 0; r < nreps; r++) ae_noise_apply(&nz, x, n, 784, 42, 0);
        double t1 = cpu_now();
        for (int r = 0; r < nreps; r++)
            for (int i = 0; i < n; i++) {
                ae_rng g;
                ae_rng_seed(&g, 42 ^ (0xd1b54a32d192ed03ULL * ((uint64_t)i + 1)));
                for (size_t j = 0; j < 784; j++) ref[(size_t)i * 784 + j] += 0.5f * ae_rng_normal(&g);
            }
        double t2 = cpu_now();
        printf("%-26s %21.3f   (one ae_rng_normal per pixel: %.3f)\n", "gaussian noise 28x28",
               (t1 - t0) / nreps / n * 1e6, (t2 - t1) / nreps / n * 1e6);
        free(x); free(ref);
    }
    return 0;
}
