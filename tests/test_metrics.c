/* Metrics: MSE and PSNR by hand; SSIM against a reference computed
 * independently in numpy; k-NN on hand-made sets (distance ties, vote ties)
 * and against a brute-force reference on random data. */
#define _POSIX_C_SOURCE 200809L
#include "aekit.h"
#include "aekit/analysis.h"
#include "core/rng.h"
#include "test.h"

#include <string.h>

static void test_mse_psnr(void)
{
    const float a[4] = {0, 0.5f, 1, 0.25f}, b[4] = {0, 0, 0.5f, 0.75f};
    CHECK(ae_metric_mse(a, b, 4) == 0.1875, "mse %.17g", ae_metric_mse(a, b, 4));
    CHECK(ae_metric_mse(a, a, 4) == 0, "mse of identical");
    CHECK(isnan(ae_metric_mse(a, b, 0)), "mse of nothing");
    CHECK(isnan(ae_metric_mse(NULL, b, 4)), "mse of NULL");
    CHECK_CLOSE(ae_metric_psnr(0.1875), 7.2699872793626, 1e-12, 0, "psnr %.15f", ae_metric_psnr(0.1875));
    CHECK_CLOSE(ae_metric_psnr(0.01), 20, 1e-12, 0, "psnr of 0.01");
    CHECK(isinf(ae_metric_psnr(0)) && ae_metric_psnr(0) > 0, "psnr of 0 is +inf");
    CHECK(isnan(ae_metric_psnr(-1)) && isnan(ae_metric_psnr(NAN)), "psnr of bad mse");

    /* Big arrays (threaded, fixed split) agree with a plain double sum. */
    size_t n = 3000017;
    float *x = malloc(sizeof(float) * n), *y = malloc(sizeof(float) * n);
    ae_rng r;
    ae_rng_seed(&r, 1);
    double s = 0;
    for (size_t i = 0; i < n; i++) {
        x[i] = ae_rng_uniform(&r);
        y[i] = ae_rng_uniform(&r);
        s += ((double)x[i] - y[i]) * ((double)x[i] - y[i]);
    }
    double m = ae_metric_mse(x, y, n);
    CHECK_CLOSE(m, s / n, 1e-12, 0, "big mse %.17g vs %.17g", m, s / n);
    CHECK_CLOSE(m, 1.0 / 6, 2e-3, 0, "uniform: E(x-y)^2 = 1/6, got %.6f", m);
    CHECK(ae_metric_mse(x, y, n) == m, "repeatable");
    free(x);
    free(y);
}

/* The pair made in numpy by the script in the comment of test_ssim. */
static void make_pair(float *a, float *b, int N, int C, int H, int W)
{
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++)
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++) {
                    size_t i = (((size_t)n * C + c) * H + y) * W + x;
                    a[i] = (float)(0.5 + 0.4 * sin(0.3 * x + 0.2 * y + n + 0.7 * c));
                    double v = (double)a[i] + 0.15 * cos(1.3 * x - 0.7 * y + c) - 0.05 * n;
                    b[i] = (float)(v < 0 ? 0 : v > 1 ? 1 : v);
                }
}

/* Reference values: an independent numpy implementation of
 * skimage.metrics.structural_similarity(X, Y, gaussian_weights=True,
 * sigma=1.5, use_sample_covariance=False, data_range=1) (skimage itself is
 * not installed here): the five moments filtered over the full image with
 * scipy's 'reflect' boundary (np.pad mode='symmetric'), a separable
 * Gaussian of radius int(3.5 * 1.5 + 0.5) = 5 normalised to sum 1, the SSIM
 * map with C1 = 0.01^2 and C2 = 0.03^2, cropped by 5 on each side and
 * averaged; float64 throughout:
 *
 *   n, c, y, x = np.meshgrid(arange(2), arange(2), arange(16), arange(20), indexing='ij')
 *   a = (0.5 + 0.4 * sin(0.3x + 0.2y + n + 0.7c)).astype(float32)
 *   b = clip(a.astype(float64) + 0.15 cos(1.3x - 0.7y + c) - 0.05n, 0, 1).astype(float32)
 *   per (n, c): 0.738760887367044, 0.7416182074869285, 0.7411651162527153,
 *   0.747036562497719; mean 0.742145193401102
 *
 *   yy, xx = mgrid[0:28, 0:28]
 *   p = exp(-((xx-13)^2 + (yy-14)^2) / 30).astype(float32)
 *   q = (0.8 exp(-((xx-15)^2 + (yy-13)^2) / 25)).astype(float32)
 *   ssim(p, q) = 0.639512422523304                                        */
static void test_ssim(void)
{
    enum { N = 2, C = 2, H = 16, W = 20 };
    float *a = malloc(sizeof(float) * N * C * H * W), *b = malloc(sizeof(float) * N * C * H * W);
    make_pair(a, b, N, C, H, W);
    double s = ae_metric_ssim(a, b, N, C, H, W);
    CHECK_CLOSE(s, 0.742145193401102, 0, 1e-9, "ssim %.15f", s);
    s = ae_metric_ssim(a, b, 1, 1, H, W);
    CHECK_CLOSE(s, 0.738760887367044, 0, 1e-9, "ssim of plane 0: %.15f", s);
    s = ae_metric_ssim(a + 3 * H * W, b + 3 * H * W, 1, 1, H, W);
    CHECK_CLOSE(s, 0.747036562497719, 0, 1e-9, "ssim of plane 3: %.15f", s);
    s = ae_metric_ssim(a, b, 1, C, H, W); /* one image, two channels */
    CHECK_CLOSE(s, (0.738760887367044 + 0.7416182074869285) / 2, 0, 1e-9, "2 channels %.15f", s);
    CHECK(ae_metric_ssim(a, a, N, C, H, W) == 1, "identical images: %.17g",
          ae_metric_ssim(a, a, N, C, H, W));
    CHECK(ae_metric_ssim(a, b, N, C, H, W) == ae_metric_ssim(a, b, N, C, H, W), "repeatable");

    float p[28 * 28], q[28 * 28];
    for (int y = 0; y < 28; y++)
        for (int x = 0; x < 28; x++) {
            p[y * 28 + x] = (float)exp(-((x - 13.0) * (x - 13.0) + (y - 14.0) * (y - 14.0)) / 30.0);
            q[y * 28 + x] =
                (float)(0.8 * exp(-((x - 15.0) * (x - 15.0) + (y - 13.0) * (y - 13.0)) / 25.0));
        }
    s = ae_metric_ssim(p, q, 1, 1, 28, 28);
    CHECK_CLOSE(s, 0.639512422523304, 0, 1e-9, "blobs %.15f", s);
    CHECK(ae_metric_ssim(p, p, 1, 1, 28, 28) == 1, "identical blob");

    /* Many images: threaded, same value as each image's mean. */
    int many = 300;
    float *ma = malloc(sizeof(float) * many * 784), *mb = malloc(sizeof(float) * many * 784);
    for (int i = 0; i < many; i++) {
        memcpy(ma + i * 784, i % 2 ? p : q, sizeof p);
        memcpy(mb + i * 784, i % 2 ? q : p, sizeof p);
    }
    s = ae_metric_ssim(ma, mb, many, 1, 28, 28);
    CHECK_CLOSE(s, 0.639512422523304, 0, 1e-9, "300 images %.15f", s);
    free(ma);
    free(mb);

    CHECK(isnan(ae_metric_ssim(a, b, 1, 1, 10, 20)), "h < 11");
    CHECK(isnan(ae_metric_ssim(a, b, 1, 1, 20, 10)), "w < 11");
    CHECK(isnan(ae_metric_ssim(a, b, 0, 1, H, W)), "n = 0");
    CHECK(isnan(ae_metric_ssim(NULL, b, 1, 1, H, W)), "NULL");
    CHECK(!isnan(ae_metric_ssim(a, b, 1, 1, 11, 11)), "11 x 11: a single window");
    free(a);
    free(b);
}

static double knn(const float *tr, const uint8_t *tl, long ntr, const float *te,
                  const uint8_t *tel, long nte, int dim, int k, int threads)
{
    double acc = -1;
    ae_error err = {{0}};
    int rc = ae_knn_accuracy(tr, tl, ntr, te, tel, nte, dim, k, threads, &acc, &err);
    CHECK(rc == 0, "knn: %s", err.msg);
    return acc;
}

/* Plain reference: all distances in double, full sort by (distance, index). */
static int ref_predict(const float *tr, const uint8_t *tl, long ntr, const float *q, int dim,
                       int k)
{
    double *d = malloc(sizeof(double) * ntr);
    long *idx = malloc(sizeof(long) * ntr);
    for (long j = 0; j < ntr; j++) {
        double s = 0;
        for (int l = 0; l < dim; l++) s += ((double)q[l] - tr[j * dim + l]) * ((double)q[l] - tr[j * dim + l]);
        d[j] = s;
        idx[j] = j;
    }
    for (int a = 0; a < k; a++) /* selection of the k smallest */
        for (long b = a + 1; b < ntr; b++)
            if (d[b] < d[a] || (d[b] == d[a] && idx[b] < idx[a])) {
                double t = d[a];
                d[a] = d[b];
                d[b] = t;
                long ti = idx[a];
                idx[a] = idx[b];
                idx[b] = ti;
            }
    int count[256] = {0}, best = 0, label = -1;
    for (int a = 0; a < k; a++)
        if (++count[tl[idx[a]]] > best) best = count[tl[idx[a]]];
    for (int a = 0; a < k && label < 0; a++)
        if (count[tl[idx[a]]] == best) label = tl[idx[a]];
    free(d);
    free(idx);
    return label;
}

static void test_knn(void)
{
    /* Vote tie (k = 2, one neighbour of each class): the nearest wins. A
     * rule "smallest label" or "first in the training set" would get the
     * second test point wrong. */
    const float tr[2 * 2] = {0, 0, 3, 0};
    const uint8_t tl[2] = {0, 1};
    const float te[2 * 2] = {1, 0, 2, 0};
    const uint8_t tel[2] = {0, 1};
    CHECK(knn(tr, tl, 2, te, tel, 2, 2, 2, 1) == 1.0, "vote tie -> nearest");
    const uint8_t wrong[2] = {1, 0};
    CHECK(knn(tr, tl, 2, te, wrong, 2, 2, 2, 1) == 0.0, "vote tie, wrong labels");
    CHECK(knn(tr, tl, 2, te, tel, 2, 2, 1, 1) == 1.0, "k = 1");

    /* Distance tie: equal distances, the lower training index is nearer. */
    const float tr2[3 * 2] = {1, 0, -1, 0, 0, 5};
    const uint8_t tl2[3] = {5, 7, 7};
    const float te2[1 * 2] = {0, 0};
    const uint8_t want5[1] = {5}, want7[1] = {7};
    CHECK(knn(tr2, tl2, 3, te2, want5, 1, 2, 1, 1) == 1.0, "distance tie -> lower index");
    /* k = 2: {5, 7} tie, nearest (index 0) is 5; k = 3: 7 has two votes. */
    CHECK(knn(tr2, tl2, 3, te2, want5, 1, 2, 2, 1) == 1.0, "k = 2");
    CHECK(knn(tr2, tl2, 3, te2, want7, 1, 2, 3, 1) == 1.0, "k = 3 majority");

    /* k = 4 with votes 2:2 in the order 2, 3, 3, 2 and a 5th far away. */
    const float tr3[5 * 1] = {1, 2, -3, -4, 100};
    const uint8_t tl3[5] = {2, 3, 3, 2, 3};
    const float te3[1] = {0};
    const uint8_t want2[1] = {2};
    CHECK(knn(tr3, tl3, 5, te3, want2, 1, 1, 4, 1) == 1.0, "2:2 tie -> nearest's class");
    CHECK(knn(tr3, tl3, 5, te3, want2, 1, 1, 5, 1) == 0.0, "k = 5: class 3 wins 3:2");

    /* Random data against the reference: chunks of the training set, test
     * blocks, dimensions not multiples of the tiles. */
    enum { NTR = 700, NTE = 77, DIM = 13 };
    float *a = malloc(sizeof(float) * NTR * DIM), *b = malloc(sizeof(float) * NTE * DIM);
    uint8_t la[NTR], lb[NTE];
    ae_rng r;
    ae_rng_seed(&r, 3);
    for (int i = 0; i < NTR; i++) {
        la[i] = (uint8_t)ae_rng_below(&r, 4);
        for (int l = 0; l < DIM; l++) a[i * DIM + l] = ae_rng_normal(&r) + (l == la[i] ? 1.5f : 0);
    }
    for (int i = 0; i < NTE; i++) {
        lb[i] = (uint8_t)ae_rng_below(&r, 4);
        for (int l = 0; l < DIM; l++) b[i * DIM + l] = ae_rng_normal(&r) + (l == lb[i] ? 1.5f : 0);
    }
    int ks[3] = {1, 5, 8};
    for (int t = 0; t < 3; t++) {
        int correct = 0;
        for (int i = 0; i < NTE; i++)
            correct += ref_predict(a, la, NTR, b + i * DIM, DIM, ks[t]) == lb[i];
        double want = (double)correct / NTE;
        double got1 = knn(a, la, NTR, b, lb, NTE, DIM, ks[t], 1);
        double got2 = knn(a, la, NTR, b, lb, NTE, DIM, ks[t], 2);
        CHECK(got1 == want && got2 == want, "k = %d: %.4f / %.4f, reference %.4f", ks[t], got1,
              got2, want);
        CHECK(want > 0.4 && want < 1, "k = %d: a non-trivial accuracy %.3f", ks[t], want);
    }

    double acc;
    ae_error err = {{0}};
    CHECK(ae_knn_accuracy(a, la, NTR, b, lb, NTE, DIM, 0, 1, &acc, &err) == -1, "k = 0");
    CHECK(ae_knn_accuracy(a, la, 3, b, lb, NTE, DIM, 4, 1, &acc, &err) == -1, "k > ntrain");
    CHECK(strstr(err.msg, "k = 4") != NULL, "%s", err.msg);
    CHECK(ae_knn_accuracy(a, NULL, NTR, b, lb, NTE, DIM, 1, 1, &acc, &err) == -1, "no labels");
    CHECK(ae_knn_accuracy(a, la, NTR, b, lb, 0, DIM, 1, 1, &acc, &err) == -1, "no test vectors");
    b[5 * DIM + 2] = NAN;
    CHECK(ae_knn_accuracy(a, la, NTR, b, lb, NTE, DIM, 1, 1, &acc, &err) == -1, "NaN");
    CHECK(strstr(err.msg, "test vector 5, index 2") != NULL, "%s", err.msg);
    free(a);
    free(b);
}

int main(void)
{
    test_mse_psnr();
    test_ssim();
    test_knn();
    TEST_DONE();
}
