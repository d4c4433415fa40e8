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
#ifndef AEKIT_ANALYSIS_PCA_H
#define AEKIT_ANALYSIS_PCA_H

#include "aekit.h"
#include "core/rng.h"

typedef struct {
    int     d, k;
    float  *mean;            /* d                                              */
    float  *components;      /* k x d, rows orthonormal, by variance descending */
    double *variance;        /* k eigenvalues of the covariance, descending     */
    double  total_variance;  /* trace of the covariance (sum over all d)        */
} pca_model;

/* Fits mean and top-k components of x [n, d] (row-major). Needs n >= 2 and
 * 1 <= k <= min(d, n - 1): centred, n vectors have at most n - 1 directions
 * of variance. All values finite. threads: 0 = all cores. On failure *p is
 * left zeroed (pca_free on it is harmless). With fewer vectors than
 * dimensions (n < d) the n x n Gram matrix is decomposed instead of the
 * d x d covariance: the same components (when the data has fewer than k
 * directions of variance, e.g. repeated vectors, the rest are directions of
 * zero variance completing an orthonormal set). */
int  pca_fit(pca_model *p, const float *x, long n, int d, int k, int threads, ae_error *err);
/* Memory pca_fit may take for the eigenproblem of its min(n, d) side matrix
 * (about 9,880 x 9,880 at most) and its k x d components: at most this,
 * refused up front. */
#define PCA_MAX_BYTES (4.0 * 1024 * 1024 * 1024)
/* pca_fit's argument checks and its memory limit, without the data: 0, or
 * -1 with the reason (the components possible, or the matrix and the memory
 * it would take). Callers check before they gather the data. */
int  pca_fit_check(long n, int d, int k, ae_error *err);
void pca_free(pca_model *p);

/* codes [n, k] = (x - mean) . components^T */
void pca_encode(const pca_model *p, const float *x, long n, float *codes);
/* x [n, d] = mean + codes . components */
void pca_decode(const pca_model *p, const float *codes, long n, float *x);

/* safetensors with tensors "mean" F32 [d], "components" F32 [k, d],
 * "variance" F64 [k] and __metadata__ {"aekit.kind": "pca",
 * "aekit.pca.total_variance": "<%.17g>"}. Atomic write. Loading accepts
 * "variance" in any float dtype; a missing total variance loads as NaN. */
int  pca_save(const pca_model *p, const char *path, ae_error *err);
int  pca_load(pca_model *p, const char *path, ae_error *err);

/* ---- internal, exposed for tests ------------------------------------------ */

typedef enum { PCA_EIG_AUTO = 0, PCA_EIG_DENSE = 1, PCA_EIG_SUBSPACE = 2 } pca_eig_method;

/* Top-k eigenpairs of the symmetric d x d matrix c (row-major, double):
 * values [k] descending, vectors [k x d] orthonormal rows (sign as above).
 * c is not modified. */
int pca_eig_top(const double *c, int d, int k, pca_eig_method method, int threads,
                double *values, double *vectors, ae_error *err);

/* v [d] = a random unit vector orthogonal to the j rows [j x d] of rows
 * (orthonormal), drawn from rng: 0, or -1 when a fixed number of draws
 * found none (j >= d, or rows not finite). Every draw is bounded. */
int pca_random_direction(double *v, const double *rows, int j, int d, ae_rng *rng);

#endif
