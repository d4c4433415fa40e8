/* PCA internals: what pca.c (fit, encode, decode, files) takes from
 * pca_solver.c (matrix product, eigensolvers), and what the tests reach;
 * the API is in aekit/analysis.h. */
#ifndef AEKIT_ANALYSIS_PCA_H
#define AEKIT_ANALYSIS_PCA_H

#include "aekit.h"
#include "aekit/analysis.h"
#include "core/rng.h"


/* Matrix products (pca_solver.c): out[i][j] = alpha * sum_{l<K} A(l, i)
 * B(l, j) (+ bias[j]), i < m, j < n. An operand is a float or double array
 * read "tall" (element (l, i) at src[l*ld + i]) or "wide" (at src[i*ld + l]).
 * sym: B is A (m == n), blocks above the diagonal are mirrored. The order
 * of every sum is fixed: the result does not depend on threads. Returns -1
 * only when out of memory. */
typedef struct {
    const float  *f;    /* the source, float ...                               */
    const double *d;    /* ... or double                                       */
    const double *mean; /* subtracted; indexed by the source's column; or NULL */
    size_t        ld;   /* source row stride                                   */
    int           wide; /* element (l, i): 0 = src[l*ld + i], 1 = src[i*ld + l] */
} pca_operand;

typedef struct {
    double       *od;    /* output, double ...                 */
    float        *of;    /* ... or float                       */
    size_t        ld;
    double        alpha; /* scales the sums                    */
    const double *bias;  /* added to output column j, or NULL  */
} pca_product_out;

int pca_product(long m, long n, long K, const pca_operand *A, const pca_operand *B, int sym,
                const pca_product_out *o, int threads);
double pca_dot(const double *a, const double *b, int n);
/* Makes the largest-magnitude entry of v [d] positive (a fixed sign per eigenvector). */
void pca_fix_sign(double *v, int d);

/* The seed of the subspace iteration's starting block and of the random
 * directions that complete a basis: fixed, so a fit is reproducible. */
#define SUBSPACE_SEED 0x50ca5eedULL

typedef enum { PCA_EIG_AUTO = 0, PCA_EIG_DENSE = 1, PCA_EIG_SUBSPACE = 2 } pca_eig_method;

/* Top-k eigenpairs of the symmetric d x d matrix c (row-major, double):
 * values [k] descending, vectors [k x d] orthonormal rows (sign as above).
 * c is not modified. */
int pca_eig_top(const double *c, int d, int k, pca_eig_method method, int threads,
                double *values, double *vectors, ae_error *err);

/* v [d] = a random unit vector orthogonal to the j rows [j x d] of rows
 * (orthonormal), drawn from rng: 0, or -1 when RANDOM_DIRECTION_TRIES draws
 * found none (j >= d, or rows not finite). Every draw is bounded. */
#define RANDOM_DIRECTION_TRIES 8
int pca_random_direction(double *v, const double *rows, int j, int d, ae_rng *rng);

#endif
