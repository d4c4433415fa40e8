/* Metrics (aekit/analysis.h).
 *
 * SSIM: per image and channel, the five local moments (x, y, x^2, y^2, xy)
 * are filtered with the separable Gaussian window on the valid region only
 * (vertical pass, then horizontal), in double, and the SSIM map is averaged;
 * per-plane means are summed in plane order.
 *
 * k-NN: the test set is cut into blocks, one block per task; each task runs
 * over the training set in chunks of 256 vectors, packs the chunk 8
 * vectors wide and computes 4 x 8 dot products at a time in a register
 * kernel, then keeps each test vector's k nearest in a sorted list. */
#include "aekit/analysis.h"
#include "core/error.h"
#include "core/threads.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* ---- MSE / PSNR ---------------------------------------------------------------- */

#define MSE_PARTS 256 /* fixed split: the sum does not depend on the threads */

double ae_metric_mse(const float *a, const float *b, size_t count)
{
    if (!a || !b || count == 0) return NAN;
    double part[MSE_PARTS];
    size_t step = (count + MSE_PARTS - 1) / MSE_PARTS;
    #pragma omp parallel for schedule(static) if (count > 1000000)
    for (int p = 0; p < MSE_PARTS; p++) {
        size_t i0 = (size_t)p * step, i1 = i0 + step < count ? i0 + step : count;
        double s = 0;
        for (size_t i = i0; i < i1; i++) {
            double d = (double)a[i] - (double)b[i];
            s += d * d;
        }
        part[p] = s;
    }
    double s = 0;
    for (int p = 0; p < MSE_PARTS; p++) s += part[p];
    return s / (double)count;
}

double ae_metric_psnr(double mse)
{
    if (!(mse >= 0)) return NAN;
    if (mse == 0) return INFINITY;
    return 10 * log10(1 / mse);
}

/* ---- SSIM ------------------------------------------------------------------------ */

#define SSIM_RADIUS 5 /* int(3.5 * 1.5 + 0.5): scipy's truncation */
#define SSIM_WIN (2 * SSIM_RADIUS + 1)
#define SSIM_SIGMA 1.5
#define SSIM_C1 (0.01 * 0.01)
#define SSIM_C2 (0.03 * 0.03)

/* Mean SSIM over the valid region of one plane; work holds 5 * (h - 10) * w
 * doubles. */
static double ssim_plane(const float *x, const float *y, int h, int w, const double *g,
                         double *work)
{
    int ho = h - SSIM_WIN + 1, wo = w - SSIM_WIN + 1;
    size_t plane = (size_t)ho * w;
    double *vx = work, *vy = vx + plane, *vxx = vy + plane, *vyy = vxx + plane, *vxy = vyy + plane;
    for (int r = 0; r < ho; r++) {
        double *ox = vx + (size_t)r * w, *oy = vy + (size_t)r * w, *oxx = vxx + (size_t)r * w;
        double *oyy = vyy + (size_t)r * w, *oxy = vxy + (size_t)r * w;
        for (int c = 0; c < w; c++) ox[c] = oy[c] = oxx[c] = oyy[c] = oxy[c] = 0;
        for (int i = 0; i < SSIM_WIN; i++) {
            const float *rx = x + (size_t)(r + i) * w, *ry = y + (size_t)(r + i) * w;
            double gi = g[i];
            for (int c = 0; c < w; c++) {
                double a = rx[c], b = ry[c];
                ox[c] += gi * a;
                oy[c] += gi * b;
                oxx[c] += gi * (a * a);
                oyy[c] += gi * (b * b);
                oxy[c] += gi * (a * b);
            }
        }
    }
    double sum = 0;
    for (int r = 0; r < ho; r++) {
        const double *ix = vx + (size_t)r * w, *iy = vy + (size_t)r * w;
        const double *ixx = vxx + (size_t)r * w, *iyy = vyy + (size_t)r * w;
        const double *ixy = vxy + (size_t)r * w;
        for (int c = 0; c < wo; c++) {
            double ux = 0, uy = 0, uxx = 0, uyy = 0, uxy = 0;
            for (int j = 0; j < SSIM_WIN; j++) {
                double gj = g[j];
                ux += gj * ix[c + j];
                uy += gj * iy[c + j];
                uxx += gj * ixx[c + j];
                uyy += gj * iyy[c + j];
                uxy += gj * ixy[c + j];
            }
            double sx = uxx - ux * ux, sy = uyy - uy * uy, sxy = uxy - ux * uy;
            sum += ((2 * ux * uy + SSIM_C1) * (2 * sxy + SSIM_C2)) /
                   ((ux * ux + uy * uy + SSIM_C1) * (sx + sy + SSIM_C2));
        }
    }
    return sum / ((double)ho * wo);
}

double ae_metric_ssim(const float *a, const float *b, int n, int c, int h, int w)
{
    if (!a || !b || n < 1 || c < 1 || h < SSIM_WIN || w < SSIM_WIN) return NAN;
    double g[SSIM_WIN], gs = 0;
    for (int i = 0; i < SSIM_WIN; i++) {
        double t = i - SSIM_RADIUS;
        g[i] = exp(-0.5 * t * t / (SSIM_SIGMA * SSIM_SIGMA));
        gs += g[i];
    }
    for (int i = 0; i < SSIM_WIN; i++) g[i] /= gs;

    long planes = (long)n * c;
    size_t hw = (size_t)h * w, work = (size_t)5 * (h - SSIM_WIN + 1) * w;
    double *mean = malloc(sizeof(double) * (size_t)planes);
    if (!mean) return NAN;
    int failed = 0;
    #pragma omp parallel if (planes > 1 && (double)planes * hw > 20000)
    {
        double *buf = malloc(sizeof(double) * work);
        if (!buf) {
            #pragma omp atomic write
            failed = 1;
        }
        #pragma omp for schedule(static)
        for (long p = 0; p < planes; p++)
            mean[p] = buf ? ssim_plane(a + (size_t)p * hw, b + (size_t)p * hw, h, w, g, buf) : NAN;
        free(buf);
    }
    double s = 0;
    for (long p = 0; p < planes; p++) s += mean[p];
    free(mean);
    return failed ? NAN : s / (double)planes;
}

/* ---- k nearest neighbours ---------------------------------------------------------- */

#define KNN_MR 4   /* test vectors per register tile   */
#define KNN_NR 8   /* training vectors per register tile */
#define KNN_NB 256 /* training vectors per packed chunk  */

/* dst[(v / R * dim + l) * R + v % R] = rows[v][l] for v < nv, zero after. */
static void knn_pack(const float *rows, int nv, int dim, int R, float *restrict dst)
{
    int nt = (nv + R - 1) / R;
    for (int t = 0; t < nt; t++)
        for (int r = 0; r < R; r++) {
            int v = t * R + r;
            float *out = dst + (size_t)t * dim * R + r;
            if (v < nv) {
                const float *src = rows + (size_t)v * dim;
                for (int l = 0; l < dim; l++) out[(size_t)l * R] = src[l];
            } else {
                for (int l = 0; l < dim; l++) out[(size_t)l * R] = 0;
            }
        }
}

static void knn_kernel(const float *restrict a, const float *restrict b, int dim,
                       float out[KNN_MR][KNN_NR])
{
    float acc[KNN_MR][KNN_NR] = {{0}};
    for (int l = 0; l < dim; l++)
        for (int r = 0; r < KNN_MR; r++)
            for (int s = 0; s < KNN_NR; s++) acc[r][s] += a[l * KNN_MR + r] * b[l * KNN_NR + s];
    memcpy(out, acc, sizeof acc);
}

/* Inserts (dist, idx) into the sorted list of k if it is nearer than the
 * last; training indices arrive in increasing order, so an equal distance
 * never displaces an earlier index. */
static void knn_insert(double *kd, long *ki, int k, double dist, long idx)
{
    if (!(dist < kd[k - 1])) return;
    int j = k - 1;
    while (j > 0 && kd[j - 1] > dist) {
        kd[j] = kd[j - 1];
        ki[j] = ki[j - 1];
        j--;
    }
    kd[j] = dist;
    ki[j] = idx;
}

static int knn_vote(const long *ki, int k, const uint8_t *labels)
{
    int count[256] = {0}, best = 0;
    for (int j = 0; j < k; j++)
        if (ki[j] >= 0 && ++count[labels[ki[j]]] > best) best = count[labels[ki[j]]];
    for (int j = 0; j < k; j++) /* nearest neighbour among the tied classes */
        if (ki[j] >= 0 && count[labels[ki[j]]] == best) return labels[ki[j]];
    return -1;
}

static long find_nonfinite(const float *x, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (!isfinite(x[i])) return (long)i;
    return -1;
}

int ae_knn_accuracy(const float *train, const uint8_t *train_labels, long ntrain,
                 const float *test, const uint8_t *test_labels, long ntest, int dim, int k,
                 int threads, double *accuracy, ae_error *err)
{
    if (!train || !train_labels || !test || !test_labels || !accuracy)
        return ae_fail(err, "knn: missing vectors, labels or result");
    if (ntrain < 1 || ntest < 1 || dim < 1)
        return ae_fail(err, "knn: %ld training and %ld test vectors of dimension %d "
                            "(all must be positive)", ntrain, ntest, dim);
    if (k < 1 || k > ntrain || k > 10000)
        return ae_fail(err, "knn: k = %d (1 to %ld possible)", k, ntrain < 10000 ? ntrain : 10000);
    if ((size_t)ntrain > SIZE_MAX / sizeof(float) / (size_t)dim ||
        (size_t)ntest > SIZE_MAX / sizeof(float) / (size_t)dim)
        return ae_fail(err, "knn: vector arrays too large");
    long bad = find_nonfinite(train, (size_t)ntrain * dim);
    if (bad >= 0)
        return ae_fail(err, "knn: training vector %ld, index %ld is not finite", bad / dim,
                       bad % dim);
    if ((bad = find_nonfinite(test, (size_t)ntest * dim)) >= 0)
        return ae_fail(err, "knn: test vector %ld, index %ld is not finite", bad / dim, bad % dim);
    if ((threads = threads_resolve(threads, err)) < 0) return -1;

    /* Test block size: enough blocks for the threads, at most 256. */
    long tb = ntest / (4L * threads);
    tb = tb < 16 ? 16 : tb > 256 ? 256 : tb;
    tb = (tb + KNN_MR - 1) / KNN_MR * KNN_MR;
    long nblocks = (ntest + tb - 1) / tb;
    if (nblocks < 2) threads = 1;

    double *tnorm = malloc(sizeof(double) * (size_t)ntrain);
    size_t per_thread = (size_t)tb * dim + (size_t)KNN_NB * dim; /* floats */
    size_t lists = (size_t)tb * k;
    float *fbuf = malloc(sizeof(float) * per_thread * (size_t)threads);
    double *dbuf = malloc(sizeof(double) * (lists + (size_t)tb) * (size_t)threads);
    long *ibuf = malloc(sizeof(long) * lists * (size_t)threads);
    if (!tnorm || !fbuf || !dbuf || !ibuf) {
        free(tnorm);
        free(fbuf);
        free(dbuf);
        free(ibuf);
        return ae_fail(err, "knn: out of memory (%ld test vectors of dimension %d, k = %d)",
                       ntest, dim, k);
    }
    #pragma omp parallel for schedule(static) num_threads(threads)
    for (long j = 0; j < ntrain; j++) {
        const float *v = train + (size_t)j * dim;
        double s = 0;
        for (int l = 0; l < dim; l++) s += (double)v[l] * v[l];
        tnorm[j] = s;
    }

    long correct = 0;
    #pragma omp parallel for schedule(dynamic, 1) num_threads(threads) reduction(+ : correct)
    for (long blk = 0; blk < nblocks; blk++) {
        int t = omp_get_thread_num();
        float *ap = fbuf + per_thread * (size_t)t, *bp = ap + (size_t)tb * dim;
        double *kd = dbuf + (lists + (size_t)tb) * (size_t)t, *qnorm = kd + lists;
        long *ki = ibuf + lists * (size_t)t;
        long i0 = blk * tb;
        int ni = (int)(ntest - i0 < tb ? ntest - i0 : tb);
        knn_pack(test + (size_t)i0 * dim, ni, dim, KNN_MR, ap);
        for (int i = 0; i < ni; i++) {
            const float *v = test + (size_t)(i0 + i) * dim;
            double s = 0;
            for (int l = 0; l < dim; l++) s += (double)v[l] * v[l];
            qnorm[i] = s;
        }
        for (size_t j = 0; j < (size_t)ni * k; j++) {
            kd[j] = INFINITY;
            ki[j] = -1;
        }
        for (long j0 = 0; j0 < ntrain; j0 += KNN_NB) {
            int nj = (int)(ntrain - j0 < KNN_NB ? ntrain - j0 : KNN_NB);
            knn_pack(train + (size_t)j0 * dim, nj, dim, KNN_NR, bp);
            for (int ti = 0; ti < ni; ti += KNN_MR)
                for (int tj = 0; tj < nj; tj += KNN_NR) {
                    float dots[KNN_MR][KNN_NR];
                    knn_kernel(ap + (size_t)ti * dim, bp + (size_t)tj * dim, dim, dots);
                    for (int r = 0; r < KNN_MR && ti + r < ni; r++) {
                        double *d = kd + (size_t)(ti + r) * k;
                        long *id = ki + (size_t)(ti + r) * k;
                        for (int s = 0; s < KNN_NR && tj + s < nj; s++) {
                            long j = j0 + tj + s;
                            double dist = qnorm[ti + r] + tnorm[j] - 2.0 * (double)dots[r][s];
                            knn_insert(d, id, k, dist, j);
                        }
                    }
                }
        }
        for (int i = 0; i < ni; i++)
            if (knn_vote(ki + (size_t)i * k, k, train_labels) == test_labels[i0 + i]) correct++;
    }
    free(tnorm);
    free(fbuf);
    free(dbuf);
    free(ibuf);
    *accuracy = (double)correct / (double)ntest;
    return 0;
}
