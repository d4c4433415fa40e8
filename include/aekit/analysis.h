/* aekit analysis: principal component analysis and quality measures of
 * reconstructions and codes. */
#ifndef AEKIT_ANALYSIS_H
#define AEKIT_ANALYSIS_H

#include <stddef.h>
#include <stdint.h>
#include "aekit.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- PCA ---------------------------------------------------------------- */

/* Principal component analysis of n vectors of dimension d (e.g. 60,000
 * MNIST images as 784 floats): the mean, the covariance (sample covariance,
 * divided by n - 1, summed in double) and its top-k eigenvectors; with fewer
 * vectors than dimensions, the same from the n x n Gram matrix.
 *
 * The eigenvectors come from a dense symmetric solver (Householder
 * tridiagonalisation + implicit QL) for moderate d, and from block subspace
 * iteration with Rayleigh-Ritz for large d with k well below d (CIFAR's
 * 3072 with k = 128). Results are deterministic: the same input gives
 * bit-identical output for any thread count.
 *
 * Sign convention: each component's entry of largest magnitude is positive
 * (the first such entry on ties).                                          */

typedef struct {
    int     d, k;
    float  *mean;            /* d                                              */
    float  *components;      /* k x d, rows orthonormal, by variance descending */
    double *variance;        /* k eigenvalues of the covariance, descending     */
    double  total_variance;  /* trace of the covariance (sum over all d)        */
} ae_pca;

/* Fits mean and top-k components of x [n, d] (row-major). Needs n >= 2 and
 * 1 <= k <= min(d, n - 1): centred, n vectors have at most n - 1 directions
 * of variance. All values finite. threads: 0 = all cores. On failure *p is
 * left zeroed (ae_pca_free on it is harmless). With fewer vectors than
 * dimensions (n < d) the n x n Gram matrix is decomposed instead of the
 * d x d covariance: the same components (when the data has fewer than k
 * directions of variance, e.g. repeated vectors, the rest are directions of
 * zero variance completing an orthonormal set). */
int  ae_pca_fit(ae_pca *p, const float *x, long n, int d, int k, int threads, ae_error *err);
/* Memory ae_pca_fit may take for the eigenproblem of its min(n, d) side matrix
 * (about 9,880 x 9,880 at most) and its k x d components: at most this,
 * refused up front. */
#define AE_PCA_MAX_BYTES (4.0 * 1024 * 1024 * 1024)
/* ae_pca_fit's argument checks and its memory limit, without the data: 0, or
 * -1 with the reason (the components possible, or the matrix and the memory
 * it would take). Callers check before they gather the data. */
int  ae_pca_fit_check(long n, int d, int k, ae_error *err);
void ae_pca_free(ae_pca *p);

/* codes [n, k] = (x - mean) . components^T */
void ae_pca_encode(const ae_pca *p, const float *x, long n, float *codes);
/* x [n, d] = mean + codes . components */
void ae_pca_decode(const ae_pca *p, const float *codes, long n, float *x);

/* safetensors with tensors "mean" F32 [d], "components" F32 [k, d],
 * "variance" F64 [k] and __metadata__ {"aekit.kind": "pca",
 * "aekit.pca.total_variance": "<%.17g>"}. Atomic write. Loading accepts
 * "variance" in any float dtype; a missing total variance loads as NaN. */
int  ae_pca_save(const ae_pca *p, const char *path, ae_error *err);
int  ae_pca_load(ae_pca *p, const char *path, ae_error *err);

/* ---- metrics ------------------------------------------------------------ */

/* Quality measures of reconstructions and codes, over a whole data set:
 * mean squared error, PSNR, SSIM, and k-nearest-neighbour accuracy of
 * codes (how well a code keeps the class). All deterministic: the same
 * input gives the same number for any thread count.                     */

/* Mean of (a - b)^2 over count floats, summed in double. NaN when count is
 * 0 or a pointer is NULL. */
double ae_metric_mse(const float *a, const float *b, size_t count);

/* 10 log10(1 / mse): PSNR in dB for pixels in [0, 1]. +inf for mse 0, NaN
 * for a negative or NaN mse. */
double ae_metric_psnr(double mse);

/* Mean SSIM of images a and b [n, c, h, w] (pixels in [0, 1]) over all
 * images and channels: Wang et al. 2004 with an 11 x 11 Gaussian window
 * (sigma 1.5, truncated at 3.5 sigma as scipy does), K1 = 0.01, K2 = 0.03,
 * data range 1 and population (not sample) covariances, averaged over the
 * positions where the window lies inside the image — what
 * skimage.metrics.structural_similarity(a, b, gaussian_weights=True,
 * sigma=1.5, use_sample_covariance=False, data_range=1) returns per image
 * and channel. NaN when h or w is below 11, a size is not positive, a
 * pointer is NULL, or memory runs out. Threaded over images. */
double ae_metric_ssim(const float *a, const float *b, int n, int c, int h, int w);

/* Classifies each test vector by majority vote of its k nearest training
 * vectors (squared Euclidean distance; among equal distances the lower
 * training index is nearer); a tie of the vote goes to the tied class of
 * the nearest neighbour. *accuracy = fraction of test labels matched.
 * Vectors are rows of dim floats. threads: 0 = all cores. Distances are
 * |a|^2 + |b|^2 - 2 a.b with the norms in double and the dot products
 * summed in float (in fixed order). */
int ae_knn_accuracy(const float *train, const uint8_t *train_labels, long ntrain,
                    const float *test, const uint8_t *test_labels, long ntest, int dim, int k,
                    int threads, double *accuracy, ae_error *err);

#ifdef __cplusplus
}
#endif

#endif
