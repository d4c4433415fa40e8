/* PCA internals, exposed for tests; the API is in aekit/analysis.h. */
#ifndef AEKIT_ANALYSIS_PCA_H
#define AEKIT_ANALYSIS_PCA_H

#include "aekit.h"
#include "aekit/analysis.h"
#include "core/rng.h"


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
