/* PCA (aekit/analysis.h; internals in src/analysis/pca.h): a blocked
 * matrix product for the covariance and the subspace products, a dense
 * symmetric eigensolver and block subspace iteration.
 *
 * Matrix products: out[i][j] = sum_l A(l, i) B(l, j), where an operand is a
 * float or double array read either "tall" (element (l, i) at src[l*ld + i],
 * e.g. the data matrix for the covariance) or "wide" (at src[i*ld + l]).
 * Output blocks of 128 x 128 are each computed by one thread: panels of 256
 * steps are packed into double, 4-interleaved, and a 4 x 4 register kernel
 * runs over them. The order of every sum is fixed, so the result does not
 * depend on the number of threads.
 *
 * Eigensolver: Householder tridiagonalisation and the implicit QL method
 * with eigenvectors (EISPACK's tred2/tql2 in the form of the public-domain
 * JAMA library), on column-major storage so that every inner loop is
 * contiguous; the rotations of one QL sweep are recorded and applied to the
 * eigenvector matrix in parallel, column chunk by column chunk.
 *
 * Subspace iteration (large d, k well below d): p = 2k + 16 orthonormal
 * vectors (modified Gram-Schmidt, twice), Y = C Q, Rayleigh-Ritz on the
 * p x p matrix Q C Q^T with the dense solver, until every one of the top k
 * Ritz pairs has a residual |C v - theta v| below 1e-9 of the largest
 * eigenvalue. Starts from a fixed-seed random block. */
#include "analysis/pca.h"
#include "core/error.h"
#include "core/rng.h"
#include "core/threads.h"
#include "format/safetensors.h"

#include <float.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MR 4    /* register tile: MR x MR outputs          */
#define MB 128  /* output block side (multiple of MR)      */
#define KC 256  /* steps per packed panel                  */

static long lmin(long a, long b) { return a < b ? a : b; }

/* ---- blocked matrix product ------------------------------------------------ */

typedef struct {
    const float  *f;    /* the source, float ...                               */
    const double *d;    /* ... or double                                       */
    const double *mean; /* subtracted; indexed by the source's column; or NULL */
    size_t        ld;   /* source row stride                                   */
    int           wide; /* element (l, i): 0 = src[l*ld + i], 1 = src[i*ld + l] */
} operand;

typedef struct {
    double       *od;    /* output, double ...                 */
    float        *of;    /* ... or float                       */
    size_t        ld;
    double        alpha; /* scales the sums                    */
    const double *bias;  /* added to output column j, or NULL  */
} product_out;

/* Element (l, i) of o as a double. */
static double elem(const operand *o, long l, long i)
{
    size_t at = o->wide ? (size_t)i * o->ld + (size_t)l : (size_t)l * o->ld + (size_t)i;
    double v = o->f ? (double)o->f[at] : o->d[at];
    return o->mean ? v - o->mean[o->wide ? l : i] : v;
}

/* dst[(c / MR * kc + l) * MR + c % MR] = element (l0 + l, i0 + c), c < ni;
 * zero for ni <= c < ni rounded up to MR. Full groups of MR take the fast
 * loops, a last partial group the general one. */
static void pack(const operand *o, long i0, int ni, long l0, int kc, double *restrict dst)
{
    int full = ni / MR * MR;
    const double *mu = o->mean;
    if (!o->wide) {
        for (int l = 0; l < kc; l++) {
            size_t row = (size_t)(l0 + l) * o->ld + (size_t)i0;
            double *out = dst + (size_t)l * MR;
            if (o->f && mu) {
                const float *src = o->f + row;
                for (int c = 0; c < full; c += MR)
                    for (int r = 0; r < MR; r++)
                        out[(size_t)c * kc + r] = (double)src[c + r] - mu[i0 + c + r];
            } else if (o->f) {
                const float *src = o->f + row;
                for (int c = 0; c < full; c += MR)
                    for (int r = 0; r < MR; r++) out[(size_t)c * kc + r] = src[c + r];
            } else {
                const double *src = o->d + row;
                for (int c = 0; c < full; c += MR)
                    for (int r = 0; r < MR; r++)
                        out[(size_t)c * kc + r] = src[c + r] - (mu ? mu[i0 + c + r] : 0);
            }
        }
    } else {
        for (int c = 0; c < full; c += MR) {
            double *out = dst + (size_t)c * kc;
            size_t row = (size_t)(i0 + c) * o->ld + (size_t)l0;
            if (o->f) {
                const float *s0 = o->f + row, *s1 = s0 + o->ld, *s2 = s1 + o->ld, *s3 = s2 + o->ld;
                for (int l = 0; l < kc; l++) {
                    double m = mu ? mu[l0 + l] : 0;
                    out[l * MR + 0] = (double)s0[l] - m;
                    out[l * MR + 1] = (double)s1[l] - m;
                    out[l * MR + 2] = (double)s2[l] - m;
                    out[l * MR + 3] = (double)s3[l] - m;
                }
            } else {
                const double *s0 = o->d + row, *s1 = s0 + o->ld, *s2 = s1 + o->ld, *s3 = s2 + o->ld;
                for (int l = 0; l < kc; l++) {
                    double m = mu ? mu[l0 + l] : 0;
                    out[l * MR + 0] = s0[l] - m;
                    out[l * MR + 1] = s1[l] - m;
                    out[l * MR + 2] = s2[l] - m;
                    out[l * MR + 3] = s3[l] - m;
                }
            }
        }
    }
    if (full < ni || ni % MR) {
        double *out = dst + (size_t)full * kc;
        for (int l = 0; l < kc; l++)
            for (int r = 0; r < MR; r++)
                out[l * MR + r] = full + r < ni ? elem(o, l0 + l, i0 + full + r) : 0;
    }
}

/* c[r][s] += sum_l a[l][r] b[l][s] over one packed panel pair. */
static void kernel(const double *restrict a, const double *restrict b, int kc,
                   double *restrict c, int ldc)
{
    double acc[MR][MR] = {{0}};
    for (int l = 0; l < kc; l++)
        for (int r = 0; r < MR; r++)
            for (int s = 0; s < MR; s++) acc[r][s] += a[l * MR + r] * b[l * MR + s];
    for (int r = 0; r < MR; r++)
        for (int s = 0; s < MR; s++) c[r * ldc + s] += acc[r][s];
}

static void store(const product_out *o, long i, long j, double v)
{
    size_t at = (size_t)i * o->ld + (size_t)j;
    if (o->od) o->od[at] = v;
    else o->of[at] = (float)v;
}

/* out[i][j] = alpha * sum_{l<K} A(l, i) B(l, j) (+ bias[j]), i < m, j < n.
 * sym: B is A (m == n); blocks above the diagonal are computed and mirrored.
 * Returns -1 only when out of memory. */
static int product(long m, long n, long K, const operand *A, const operand *B, int sym,
                   const product_out *o, int threads)
{
    long bm = (m + MB - 1) / MB, bn = (n + MB - 1) / MB;
    long nblocks = sym ? bm * (bm + 1) / 2 : bm * bn;
    size_t per = (size_t)MB * KC * 2 + (size_t)MB * MB;
    double work_flops = (double)m * (double)n * (double)K;
    if (work_flops < 4e6 || nblocks < 2) threads = 1;
    double *work = malloc(sizeof(double) * per * (size_t)threads);
    if (!work) return -1;

    #pragma omp parallel for schedule(dynamic, 1) num_threads(threads) if (threads > 1)
    for (long blk = 0; blk < nblocks; blk++) {
        long bi = 0, bj, rest = blk;
        if (sym) {
            while (rest >= bm - bi) rest -= bm - bi++;
            bj = bi + rest;
        } else {
            bi = blk / bn;
            bj = blk % bn;
        }
        double *ap = work + per * (size_t)omp_get_thread_num();
        double *bp = ap + (size_t)MB * KC, *cb = bp + (size_t)MB * KC;
        long i0 = bi * MB, j0 = bj * MB;
        int ni = (int)lmin(MB, m - i0), nj = (int)lmin(MB, n - j0);
        memset(cb, 0, sizeof(double) * MB * MB);
        for (long l0 = 0; l0 < K; l0 += KC) {
            int kc = (int)lmin(KC, K - l0);
            pack(A, i0, ni, l0, kc, ap);
            const double *bq = ap;
            if (!(sym && bi == bj)) {
                pack(B, j0, nj, l0, kc, bp);
                bq = bp;
            }
            for (int ti = 0; ti < ni; ti += MR)
                for (int tj = bq == ap ? ti : 0; tj < nj; tj += MR) /* diagonal: upper tiles */
                    kernel(ap + (size_t)ti * kc, bq + (size_t)tj * kc, kc, cb + ti * MB + tj, MB);
        }
        if (sym && bi == bj)
            for (int i = 0; i < ni; i++)
                for (int j = 0; j < i; j++) cb[i * MB + j] = cb[j * MB + i];
        for (int i = 0; i < ni; i++)
            for (int j = 0; j < nj; j++) {
                double v = o->alpha * cb[i * MB + j] + (o->bias ? o->bias[j0 + j] : 0);
                store(o, i0 + i, j0 + j, v);
                if (sym && bi != bj) store(o, j0 + j, i0 + i, v);
            }
    }
    free(work);
    return 0;
}

/* ---- dense symmetric eigensolver ------------------------------------------- */

#define MAX_QL_ITER 100

typedef struct {
    int    i;    /* rotates eigenvector rows i and i + 1 */
    double c, s;
} rotation;

static void apply_rotations(double *u, int n, const rotation *rot, size_t nrot, int threads)
{
    #pragma omp parallel for schedule(static) num_threads(threads) if (nrot * (size_t)n > 100000)
    for (int k0 = 0; k0 < n; k0 += 64) {
        int k1 = k0 + 64 < n ? k0 + 64 : n;
        for (size_t t = 0; t < nrot; t++) {
            double c = rot[t].c, s = rot[t].s;
            double *a = u + (size_t)rot[t].i * n, *b = a + n;
            for (int k = k0; k < k1; k++) {
                double h = b[k];
                b[k] = s * a[k] + c * h;
                a[k] = c * a[k] - s * h;
            }
        }
    }
}

/* u (n x n): on entry a symmetric matrix; on return row j holds the
 * eigenvector of w[j], eigenvalues ascending. -1: out of memory, -2: QL did
 * not converge. */
static int eig_dense(double *u, int n, double *w, int threads)
{
    size_t N = (size_t)n;
    size_t packed = N * (N - 1) / 2, cap = N * N > 65536 ? N * N : 65536;
    double *d = w, *e = malloc(sizeof(double) * N * 2);
    double *hv = malloc(sizeof(double) * (packed ? packed : 1));
    rotation *rot = malloc(sizeof(rotation) * cap);
    int rc = -1;
    if (!e || !hv || !rot) goto done;
    double *hs = e + N;
#define V(r, c) u[(size_t)(c) * N + (size_t)(r)]

    /* tred2: Householder reduction to tridiagonal form. The active block
     * (indices < i) is kept as a full symmetric matrix so that both the
     * product with the Householder vector and the rank-2 update run over
     * contiguous columns, one column per thread. */
    for (int j = 0; j < n; j++) d[j] = V(n - 1, j);
    for (int i = n - 1; i > 0; i--) {
        double scale = 0, h = 0;
        for (int k = 0; k < i; k++) scale += fabs(d[k]);
        if (scale == 0) {
            e[i] = d[i - 1];
            for (int j = 0; j < i; j++) {
                d[j] = V(i - 1, j);
                V(i, j) = 0;
                V(j, i) = 0;
            }
        } else {
            for (int k = 0; k < i; k++) {
                d[k] /= scale;
                h += d[k] * d[k];
            }
            double f = d[i - 1], g = sqrt(h);
            if (f > 0) g = -g;
            e[i] = scale * g;
            h -= f * g;
            d[i - 1] = f - g;
            #pragma omp parallel for schedule(static) num_threads(threads) if (i >= 1024)
            for (int j = 0; j < i; j++) {
                const double *col = &V(0, j);
                double s = 0;
                for (int k = 0; k < i; k++) s += col[k] * d[k];
                e[j] = s;
            }
            for (int j = 0; j < i; j++) V(j, i) = d[j];
            f = 0;
            for (int j = 0; j < i; j++) {
                e[j] /= h;
                f += e[j] * d[j];
            }
            double hh = f / (h + h);
            for (int j = 0; j < i; j++) e[j] -= hh * d[j];
            #pragma omp parallel for schedule(static) num_threads(threads) if (i >= 1024)
            for (int j = 0; j < i; j++) {
                double *col = &V(0, j), fj = d[j], gj = e[j];
                for (int k = 0; k < i; k++) col[k] -= fj * e[k] + gj * d[k];
            }
            for (int j = 0; j < i; j++) {
                d[j] = V(i - 1, j);
                V(i, j) = 0;
            }
        }
        d[i] = h;
    }

    /* Accumulate the transformations. Column j of the orthogonal matrix
     * starts as e_j and receives reflectors j .. n-2 in turn (reflector i:
     * column i+1 above the diagonal, scaled by hs[i]), so columns are
     * independent: the reflectors are copied out, then one parallel pass. */
    for (int i = 0; i < n - 1; i++) {
        memcpy(hv + (size_t)i * (i + 1) / 2, &V(0, i + 1), sizeof(double) * (size_t)(i + 1));
        hs[i] = d[i + 1];
    }
    for (int j = 0; j < n; j++) d[j] = V(j, j); /* the tridiagonal's diagonal */
    memset(u, 0, sizeof(double) * N * N);
    #pragma omp parallel for schedule(dynamic, 1) num_threads(threads) if (n >= 128)
    for (int j0 = 0; j0 < n; j0 += 8) {
        int j1 = j0 + 8 < n ? j0 + 8 : n;
        for (int j = j0; j < j1; j++) V(j, j) = 1;
        for (int i = j0; i < n - 1; i++) {
            double h = hs[i];
            if (h == 0) continue;
            const double *v = hv + (size_t)i * (i + 1) / 2;
            for (int j = j0; j < j1 && j <= i; j++) {
                double *col = &V(0, j), g = 0;
                for (int k = 0; k <= i; k++) g += v[k] * col[k];
                for (int k = 0; k <= i; k++) col[k] -= g * (v[k] / h);
            }
        }
    }
#undef V

    /* tql2: implicit QL on the tridiagonal matrix (d, e). The rotations only
     * depend on d and e, so they are recorded and applied to the
     * eigenvector rows later, in order, one column chunk per thread. */
    for (int i = 1; i < n; i++) e[i - 1] = e[i];
    e[n - 1] = 0;
    size_t nrot = 0;
    double f = 0, tst1 = 0;
    for (int l = 0; l < n; l++) {
        tst1 = fmax(tst1, fabs(d[l]) + fabs(e[l]));
        int m = l;
        while (m < n - 1 && !(fabs(e[m]) <= DBL_EPSILON * tst1)) m++;
        if (m > l) {
            int iter = 0;
            do {
                if (++iter > MAX_QL_ITER) {
                    rc = -2;
                    goto done;
                }
                if (nrot + (size_t)(m - l) > cap) {
                    apply_rotations(u, n, rot, nrot, threads);
                    nrot = 0;
                }
                double g = d[l];
                double p = (d[l + 1] - g) / (2 * e[l]);
                double r = hypot(p, 1);
                if (p < 0) r = -r;
                d[l] = e[l] / (p + r);
                d[l + 1] = e[l] * (p + r);
                double dl1 = d[l + 1], h = g - d[l];
                for (int i = l + 2; i < n; i++) d[i] -= h;
                f += h;
                p = d[m];
                double c = 1, c2 = 1, c3 = 1, el1 = e[l + 1], s = 0, s2 = 0;
                for (int i = m - 1; i >= l; i--) {
                    c3 = c2;
                    c2 = c;
                    s2 = s;
                    g = c * e[i];
                    h = c * p;
                    r = hypot(p, e[i]);
                    e[i + 1] = s * r;
                    s = e[i] / r;
                    c = p / r;
                    p = c * d[i] - s * g;
                    d[i + 1] = h + s * (c * g + s * d[i]);
                    rot[nrot++] = (rotation){.i = i, .c = c, .s = s};
                }
                p = -s * s2 * c3 * el1 * e[l] / dl1;
                e[l] = s * p;
                d[l] = c * p;
            } while (fabs(e[l]) > DBL_EPSILON * tst1);
        }
        d[l] += f;
        e[l] = 0;
    }
    apply_rotations(u, n, rot, nrot, threads);

    /* Ascending order: selection sort on values, swapping rows (n swaps). */
    for (int i = 0; i < n - 1; i++) {
        int kmin = i;
        for (int j = i + 1; j < n; j++)
            if (d[j] < d[kmin]) kmin = j;
        if (kmin != i) {
            double t = d[i];
            d[i] = d[kmin];
            d[kmin] = t;
            double *a = u + (size_t)i * N, *b = u + (size_t)kmin * N;
            for (int k = 0; k < n; k++) {
                t = a[k];
                a[k] = b[k];
                b[k] = t;
            }
        }
    }
    rc = 0;
done:
    free(e);
    free(hv);
    free(rot);
    return rc;
}

/* ---- subspace iteration ------------------------------------------------------ */

#define SUBSPACE_TOL 1e-9
#define SUBSPACE_MAX_ITER 500
#define SUBSPACE_SEED 0x50ca5eedULL

static int subspace_size(int d, int k)
{
    long p = 2L * k + 16;
    return p > d ? d : (int)p;
}

static double dot(const double *a, const double *b, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

static void axpy(double alpha, const double *x, double *y, int n)
{
    for (int i = 0; i < n; i++) y[i] += alpha * x[i];
}

#define RANDOM_DIRECTION_TRIES 8

int pca_random_direction(double *v, const double *rows, int j, int d, ae_rng *rng)
{
    for (int tries = 0; tries < RANDOM_DIRECTION_TRIES; tries++) {
        for (int l = 0; l < d; l++) v[l] = ae_rng_normal(rng);
        for (int rep = 0; rep < 2; rep++)
            for (int i = 0; i < j; i++) {
                const double *ri = rows + (size_t)i * d;
                axpy(-dot(ri, v, d), ri, v, d);
            }
        double nrm = sqrt(dot(v, v, d));
        if (nrm > 1e-6 && isfinite(nrm)) {
            for (int l = 0; l < d; l++) v[l] /= nrm;
            return 0;
        }
    }
    return -1;
}

/* Orthonormalises the p rows of q (length d) by modified Gram-Schmidt, two
 * passes. A row that is (numerically) in the span of the earlier ones is
 * replaced by a random unit vector orthogonal to them. Rows are taken in
 * blocks of 32: inside a block serially, then the block's projections are
 * removed from all later rows in parallel (each row in the same order as
 * plain MGS, so the arithmetic is the same). -1: no random direction found
 * (pca_random_direction). */
static int orthonormalize(double *q, int p, int d, double *norms, ae_rng *rng, int threads)
{
    for (int pass = 0; pass < 2; pass++) {
        #pragma omp parallel for schedule(static) num_threads(threads) if ((long)p * d > 100000)
        for (int j = 0; j < p; j++) norms[j] = sqrt(dot(q + (size_t)j * d, q + (size_t)j * d, d));
        for (int b0 = 0; b0 < p; b0 += 32) {
            int b1 = b0 + 32 < p ? b0 + 32 : p;
            for (int j = b0; j < b1; j++) {
                double *qj = q + (size_t)j * d;
                double nrm = sqrt(dot(qj, qj, d));
                if (!(nrm > 1e-10 * norms[j]) || !(nrm > 0) || !isfinite(nrm)) {
                    if (pca_random_direction(qj, q, j, d, rng) != 0) return -1;
                } else {
                    for (int l = 0; l < d; l++) qj[l] /= nrm;
                }
                for (int i = j + 1; i < b1; i++) {
                    double *qi = q + (size_t)i * d;
                    axpy(-dot(qj, qi, d), qj, qi, d);
                }
            }
            #pragma omp parallel for schedule(static) num_threads(threads) if ((long)(p - b1) * d > 20000)
            for (int i = b1; i < p; i++) {
                double *qi = q + (size_t)i * d;
                for (int j = b0; j < b1; j++) {
                    const double *qj = q + (size_t)j * d;
                    axpy(-dot(qj, qi, d), qj, qi, d);
                }
            }
        }
    }
    return 0;
}

/* 0: converged; 1: not converged within max_iter (values and vectors hold
 * the last Ritz pairs); -1: out of memory; -2: the small solver failed;
 * -3: no random direction to replace a dependent vector. */
static int eig_subspace(const double *c, int d, int k, int max_iter, int threads,
                        double *values, double *vectors)
{
    int p = subspace_size(d, k);
    size_t pd = (size_t)p * d, pp = (size_t)p * p;
    double *q = malloc(sizeof(double) * pd), *y = malloc(sizeof(double) * pd);
    double *t = malloc(sizeof(double) * pd), *yt = malloc(sizeof(double) * pd);
    double *h = malloc(sizeof(double) * pp), *w = malloc(sizeof(double) * pp);
    double *theta = malloc(sizeof(double) * (size_t)p), *norms = malloc(sizeof(double) * (size_t)p);
    int rc = -1;
    if (!q || !y || !t || !yt || !h || !w || !theta || !norms) goto done;

    ae_rng rng;
    ae_rng_seed(&rng, SUBSPACE_SEED);
    for (size_t i = 0; i < pd; i++) q[i] = ae_rng_normal(&rng);
    if (orthonormalize(q, p, d, norms, &rng, threads) != 0) {
        rc = -3;
        goto done;
    }

    const operand Ct = {.d = c, .ld = (size_t)d, .wide = 0};
    for (int iter = 1;; iter++) {
        const operand Qw = {.d = q, .ld = (size_t)d, .wide = 1};
        /* y = q C (rows: C q_j), h = q y^T */
        product_out oy = {.od = y, .ld = (size_t)d, .alpha = 1};
        if (product(p, d, d, &Qw, &Ct, 0, &oy, threads) != 0) goto done;
        const operand Yw = {.d = y, .ld = (size_t)d, .wide = 1};
        product_out oh = {.od = h, .ld = (size_t)p, .alpha = 1};
        if (product(p, p, d, &Qw, &Yw, 0, &oh, threads) != 0) goto done;
        for (int i = 0; i < p; i++)
            for (int j = 0; j < i; j++) {
                double v = (h[(size_t)i * p + j] + h[(size_t)j * p + i]) / 2;
                h[(size_t)i * p + j] = h[(size_t)j * p + i] = v;
            }
        int e = eig_dense(h, p, theta, threads);
        if (e != 0) {
            rc = e;
            goto done;
        }
        /* w: eigenvectors of h, descending; t = w q (Ritz vectors), yt = w y */
        for (int i = 0; i < p; i++) {
            memcpy(w + (size_t)i * p, h + (size_t)(p - 1 - i) * p, sizeof(double) * (size_t)p);
            norms[i] = theta[p - 1 - i];
        }
        memcpy(theta, norms, sizeof(double) * (size_t)p);
        const operand Ww = {.d = w, .ld = (size_t)p, .wide = 1};
        const operand Qt = {.d = q, .ld = (size_t)d, .wide = 0};
        const operand Yt = {.d = y, .ld = (size_t)d, .wide = 0};
        product_out ot = {.od = t, .ld = (size_t)d, .alpha = 1};
        product_out oyt = {.od = yt, .ld = (size_t)d, .alpha = 1};
        if (product(p, d, p, &Ww, &Qt, 0, &ot, threads) != 0 ||
            product(p, d, p, &Ww, &Yt, 0, &oyt, threads) != 0)
            goto done;
        double worst = 0, scale = fmax(fabs(theta[0]), DBL_MIN);
        for (int i = 0; i < k; i++) {
            const double *ti = t + (size_t)i * d, *yi = yt + (size_t)i * d;
            double r = 0;
            for (int l = 0; l < d; l++) {
                double v = yi[l] - theta[i] * ti[l];
                r += v * v;
            }
            worst = fmax(worst, sqrt(r));
        }
        if (worst <= SUBSPACE_TOL * scale || iter >= max_iter) {
            memcpy(values, theta, sizeof(double) * (size_t)k);
            memcpy(vectors, t, sizeof(double) * (size_t)k * d);
            rc = worst <= SUBSPACE_TOL * scale ? 0 : 1;
            goto done;
        }
        double *swap = q; /* next block: C times the Ritz vectors */
        q = yt;
        yt = swap;
        if (orthonormalize(q, p, d, norms, &rng, threads) != 0) {
            rc = -3;
            goto done;
        }
    }
done:
    free(q);
    free(y);
    free(t);
    free(yt);
    free(h);
    free(w);
    free(theta);
    free(norms);
    return rc;
}

/* ---- eigenpairs ---------------------------------------------------------------- */

static void fix_sign(double *v, int d)
{
    int at = 0;
    for (int i = 1; i < d; i++)
        if (fabs(v[i]) > fabs(v[at])) at = i;
    if (v[at] < 0)
        for (int i = 0; i < d; i++) v[i] = -v[i];
}

int pca_eig_top(const double *c, int d, int k, pca_eig_method method, int threads,
                double *values, double *vectors, ae_error *err)
{
    if (!c || !values || !vectors) return ae_fail(err, "eigenvectors: no matrix or output");
    if (d < 1 || k < 1 || k > d)
        return ae_fail(err, "eigenvectors: k = %d for a %d x %d matrix (1 <= k <= d needed)", k,
                       d, d);
    size_t dd = (size_t)d * d;
    for (size_t i = 0; i < dd; i++)
        if (!isfinite(c[i]))
            return ae_fail(err, "eigenvectors: matrix entry (%zu, %zu) is not finite",
                           i / (size_t)d, i % (size_t)d);
    if ((threads = threads_resolve(threads, err)) < 0) return -1;
    int rc = 1;
    if (method == PCA_EIG_SUBSPACE) {
        rc = eig_subspace(c, d, k, SUBSPACE_MAX_ITER, threads, values, vectors);
        if (rc == 1) rc = 0; /* asked for: the last Ritz pairs */
    } else if (method == PCA_EIG_AUTO && d > 1024 && 3L * subspace_size(d, k) <= d) {
        /* Subspace iteration pays off when p << d and the spectrum falls off
         * after k; it gets about the time the dense solver would take
         * (measured: the dense solver costs about as much as 15 d^3 flops
         * of the products), then the dense solver takes over. */
        double p = subspace_size(d, k), per = 2.0 * d * d * p + 8.0 * p * p * d;
        double budget = 15.0 * d * d * (double)d / per;
        rc = eig_subspace(c, d, k, budget < 20 ? 20 : budget > 1000 ? 1000 : (int)budget,
                          threads, values, vectors);
    }
    if (rc == 1) {
        double *u = malloc(sizeof(double) * dd), *w = malloc(sizeof(double) * (size_t)d);
        rc = -1;
        if (u && w) {
            memcpy(u, c, sizeof(double) * dd);
            rc = eig_dense(u, d, w, threads);
            for (int i = 0; rc == 0 && i < k; i++) { /* descending */
                values[i] = w[d - 1 - i];
                memcpy(vectors + (size_t)i * d, u + (size_t)(d - 1 - i) * d, sizeof(double) * d);
            }
        }
        free(u);
        free(w);
    }
    if (rc == -2) return ae_fail(err, "eigenvectors: QL iteration did not converge (d = %d)", d);
    if (rc == -3)
        return ae_fail(err, "eigenvectors: no direction orthogonal to the subspace found in %d "
                       "random draws (d = %d)", RANDOM_DIRECTION_TRIES, d);
    if (rc != 0) return ae_fail(err, "eigenvectors: out of memory (d = %d, k = %d)", d, k);
    for (int i = 0; i < k; i++) fix_sign(vectors + (size_t)i * d, d);
    return 0;
}

/* ---- fit ---------------------------------------------------------------------- */

void ae_pca_free(ae_pca *p)
{
    if (!p) return;
    free(p->mean);
    free(p->components);
    free(p->variance);
    memset(p, 0, sizeof *p);
}

static int alloc_model(ae_pca *p, int d, int k)
{
    memset(p, 0, sizeof *p);
    p->d = d;
    p->k = k;
    p->mean = malloc(sizeof(float) * (size_t)d);
    p->components = malloc(sizeof(float) * (size_t)k * d);
    p->variance = malloc(sizeof(double) * (size_t)k);
    if (!p->mean || !p->components || !p->variance) {
        ae_pca_free(p);
        return -1;
    }
    return 0;
}

/* Bytes the eigenproblem of an m x m matrix takes at most: the matrix, the
 * dense solver's copy of it, its Householder vectors (half a matrix) and
 * its rotation buffer (24-byte entries, one per matrix entry). */
static double eig_bytes(long m)
{
    return 44.0 * (double)m * (double)m;
}

/* Bytes of k components of dimension d: computed in double, kept in float. */
static double component_bytes(int k, int d)
{
    return (double)k * (double)d * (sizeof(double) + sizeof(float));
}

/* The side of the matrix ae_pca_fit decomposes: the d x d covariance, or the
 * n x n Gram matrix of the centred vectors when there are fewer vectors
 * than dimensions (their covariance has rank at most n - 1). */
static long matrix_side(long n, int d)
{
    return n < d ? n : d;
}

int ae_pca_fit_check(long n, int d, int k, ae_error *err)
{
    if (d < 1) return ae_fail(err, "pca: dimension %d (must be at least 1)", d);
    if (n < 2) return ae_fail(err, "pca: %ld vectors (at least 2 needed)", n);
    if (k < 1 || k > d)
        return ae_fail(err, "pca: %d components requested for dimension %d (1 to %d possible)",
                       k, d, d);
    /* Centred, n vectors span at most n - 1 directions: components beyond
     * would be arbitrary directions of zero variance (and cost k x d). */
    if (k > n - 1)
        return ae_fail(err, "pca: %d components requested from %ld vectors, whose variance lies "
                       "in at most %ld direction%s (n - 1 after centring): 1 to %ld possible",
                       k, n, n - 1, n == 2 ? "" : "s", n - 1);
    if ((size_t)n > SIZE_MAX / sizeof(float) / (size_t)d)
        return ae_fail(err, "pca: %ld x %d values overflow the address space", n, d);
    long m = matrix_side(n, d);
    const char *matrix = n < d ? "Gram matrix" : "covariance";
    if (eig_bytes(m) > AE_PCA_MAX_BYTES) {
        long most = (long)sqrt(AE_PCA_MAX_BYTES / eig_bytes(1));
        return ae_fail(err, "pca: %ld vectors of %d values: the %ld x %ld %s and its "
                       "eigenvectors would take %.1f GiB, more than the %.0f GiB limit (a side "
                       "of at most %ld: fewer values per vector, or fewer vectors than values)",
                       n, d, m, m, matrix, eig_bytes(m) / (1 << 30), AE_PCA_MAX_BYTES / (1 << 30),
                       most);
    }
    double bytes = eig_bytes(m) + component_bytes(k, d);
    if (bytes > AE_PCA_MAX_BYTES)
        return ae_fail(err, "pca: %d components of %d values (%.1f GiB) and the %ld x %ld %s "
                       "would take %.1f GiB, more than the %.0f GiB limit (fewer components, or "
                       "fewer values per vector)", k, d, component_bytes(k, d) / (1 << 30), m, m,
                       matrix, bytes / (1 << 30), AE_PCA_MAX_BYTES / (1 << 30));
    return 0;
}

/* Rows r..k-1 of v (k x d) become unit vectors orthogonal to all earlier
 * rows: directions of zero variance, which any orthonormal completion
 * represents (drawn from a fixed seed, so results are reproducible). k is
 * below n (ae_pca_fit_check), so this costs at most what the Gram matrix did.
 * -1: no random direction found (pca_random_direction). */
static int complete_basis(double *v, int r, int k, int d)
{
    ae_rng rng;
    ae_rng_seed(&rng, SUBSPACE_SEED);
    for (int j = r; j < k; j++)
        if (pca_random_direction(v + (size_t)j * d, v, j, d, &rng) != 0) return -1;
    return 0;
}

/* Fewer vectors than dimensions: the eigenvectors u of the n x n Gram
 * matrix G = Xc Xc^T / (n - 1) give the covariance's, v = Xc^T u / |Xc^T u|,
 * with the same eigenvalues; the n x n problem replaces a d x d one (18
 * images of 200 x 200 pixels: 18 x 18 instead of 40,000 x 40,000). Rows
 * beyond the rank (eigenvalue 0) are completed to an orthonormal set. */
static int top_from_gram(const float *x, const double *mean, long n, int d, int k, int threads,
                         double *values, double *vecs, double *total, ae_error *err)
{
    size_t N = (size_t)n;
    int kg = k < n ? k : (int)n; /* eigenpairs G has */
    double *g = malloc(sizeof(double) * N * N), *u = malloc(sizeof(double) * (size_t)kg * N);
    int rc = -1;
    if (!g || !u) {
        ae_fail(err, "pca: out of memory for a %ld x %ld Gram matrix", n, n);
        goto done;
    }
    const operand Xw = {.f = x, .mean = mean, .ld = (size_t)d, .wide = 1};
    product_out og = {.od = g, .ld = N, .alpha = 1.0 / (double)(n - 1)};
    if (product(n, n, d, &Xw, &Xw, 1, &og, threads) != 0) {
        ae_fail(err, "pca: out of memory");
        goto done;
    }
    *total = 0;
    for (size_t i = 0; i < N; i++) *total += g[i * N + i];
    if (pca_eig_top(g, (int)n, kg, PCA_EIG_AUTO, threads, values, u, err) != 0) goto done;

    const operand U = {.d = u, .ld = N, .wide = 1};
    const operand Xt = {.f = x, .mean = mean, .ld = (size_t)d, .wide = 0};
    product_out ov = {.od = vecs, .ld = (size_t)d, .alpha = 1};
    if (product(kg, d, n, &U, &Xt, 0, &ov, threads) != 0) {
        ae_fail(err, "pca: out of memory");
        goto done;
    }
    /* Eigenvalues at rounding level (the centring's zero among them) have
     * no direction worth the name: completed like those beyond n. */
    int r = 0;
    while (r < kg && values[r] > 1e-12 * values[0]) r++;
    for (int i = 0; i < r; i++) {
        double *v = vecs + (size_t)i * d, nrm = sqrt(dot(v, v, d));
        for (int l = 0; l < d; l++) v[l] /= nrm;
    }
    for (int i = r; i < k; i++) values[i] = 0;
    if (complete_basis(vecs, r, k, d) != 0) {
        ae_fail(err, "pca: no direction orthogonal to the components found in %d random draws "
                "(dimension %d)", RANDOM_DIRECTION_TRIES, d);
        goto done;
    }
    for (int i = 0; i < k; i++) fix_sign(vecs + (size_t)i * d, d);
    rc = 0;
done:
    free(g);
    free(u);
    return rc;
}

int ae_pca_fit(ae_pca *p, const float *x, long n, int d, int k, int threads, ae_error *err)
{
    if (!p) return ae_fail(err, "pca: no model to fill");
    memset(p, 0, sizeof *p);
    if (!x) return ae_fail(err, "pca: no data");
    if (ae_pca_fit_check(n, d, k, err) != 0) return -1;
    if ((threads = threads_resolve(threads, err)) < 0) return -1;

    /* Mean in double; one thread per column block (fixed summation order). */
    int gram = n < d;
    double *mean = calloc((size_t)d, sizeof(double));
    double *cov = gram ? NULL : malloc(sizeof(double) * (size_t)d * d);
    double *vecs = malloc(sizeof(double) * (size_t)k * d);
    long bad = -1;
    int rc = -1;
    if (!mean || (!gram && !cov) || !vecs) {
        ae_fail(err, "pca: out of memory for a %d x %d covariance", d, d);
        goto done;
    }
    #pragma omp parallel for schedule(static) num_threads(threads) if ((double)n * d > 1e6)
    for (int c0 = 0; c0 < d; c0 += 64) {
        int c1 = c0 + 64 < d ? c0 + 64 : d;
        for (long r = 0; r < n; r++) {
            const float *row = x + (size_t)r * d;
            for (int c = c0; c < c1; c++) mean[c] += row[c];
        }
    }
    for (int c = 0; c < d; c++) {
        if (!isfinite(mean[c])) { /* some value in the column is NaN or infinite */
            for (long r = 0; r < n && bad < 0; r++)
                if (!isfinite(x[(size_t)r * d + c])) bad = r * d + c;
            if (bad < 0) bad = c; /* overflow of the sum itself */
            ae_fail(err, "pca: value %ld (vector %ld, index %ld) is not finite", bad, bad / d,
                    bad % d);
            goto done;
        }
        mean[c] /= (double)n;
    }

    if (alloc_model(p, d, k) != 0) {
        ae_fail(err, "pca: out of memory for %d components of dimension %d", k, d);
        goto done;
    }
    double total = 0;
    if (gram) {
        if (top_from_gram(x, mean, n, d, k, threads, p->variance, vecs, &total, err) != 0) {
            ae_pca_free(p);
            goto done;
        }
    } else {
        const operand X = {.f = x, .mean = mean, .ld = (size_t)d, .wide = 0};
        product_out oc = {.od = cov, .ld = (size_t)d, .alpha = 1.0 / (double)(n - 1)};
        if (product(d, d, n, &X, &X, 1, &oc, threads) != 0) {
            ae_fail(err, "pca: out of memory");
            ae_pca_free(p);
            goto done;
        }
        for (int c = 0; c < d; c++) total += cov[(size_t)c * d + c];
        if (pca_eig_top(cov, d, k, PCA_EIG_AUTO, threads, p->variance, vecs, err) != 0) {
            ae_pca_free(p);
            goto done;
        }
    }
    for (int c = 0; c < d; c++) p->mean[c] = (float)mean[c];
    for (size_t i = 0; i < (size_t)k * d; i++) p->components[i] = (float)vecs[i];
    for (int i = 0; i < k; i++)
        if (p->variance[i] < 0) p->variance[i] = 0; /* rounding of a zero eigenvalue */
    p->total_variance = total;
    rc = 0;
done:
    free(mean);
    free(cov);
    free(vecs);
    return rc;
}

/* ---- encode / decode ------------------------------------------------------------ */

void ae_pca_encode(const ae_pca *p, const float *x, long n, float *codes)
{
    if (!p || !x || !codes || n <= 0) return;
    int d = p->d, k = p->k;
    double *mean = malloc(sizeof(double) * (size_t)d);
    if (mean) {
        for (int c = 0; c < d; c++) mean[c] = p->mean[c];
        const operand X = {.f = x, .mean = mean, .ld = (size_t)d, .wide = 1};
        const operand P = {.f = p->components, .ld = (size_t)d, .wide = 1};
        product_out o = {.of = codes, .ld = (size_t)k, .alpha = 1};
        int rc = product(n, k, d, &X, &P, 0, &o, ae_threads_resolve(0));
        free(mean);
        if (rc == 0) return;
    }
    /* Out of memory: the plain loop needs none. */
    #pragma omp parallel for schedule(static)
    for (long s = 0; s < n; s++)
        for (int j = 0; j < k; j++) {
            double acc = 0;
            for (int c = 0; c < d; c++)
                acc += ((double)x[(size_t)s * d + c] - p->mean[c]) *
                       p->components[(size_t)j * d + c];
            codes[(size_t)s * k + j] = (float)acc;
        }
}

void ae_pca_decode(const ae_pca *p, const float *codes, long n, float *x)
{
    if (!p || !codes || !x || n <= 0) return;
    int d = p->d, k = p->k;
    double *mean = malloc(sizeof(double) * (size_t)d);
    if (mean) {
        for (int c = 0; c < d; c++) mean[c] = p->mean[c];
        const operand Z = {.f = codes, .ld = (size_t)k, .wide = 1};
        const operand P = {.f = p->components, .ld = (size_t)d, .wide = 0};
        product_out o = {.of = x, .ld = (size_t)d, .alpha = 1, .bias = mean};
        int rc = product(n, d, k, &Z, &P, 0, &o, ae_threads_resolve(0));
        free(mean);
        if (rc == 0) return;
    }
    #pragma omp parallel for schedule(static)
    for (long s = 0; s < n; s++)
        for (int c = 0; c < d; c++) {
            double acc = 0;
            for (int j = 0; j < k; j++)
                acc += (double)codes[(size_t)s * k + j] * p->components[(size_t)j * d + c];
            x[(size_t)s * d + c] = (float)(acc + p->mean[c]);
        }
}

/* ---- files ---------------------------------------------------------------------- */

int ae_pca_save(const ae_pca *p, const char *path, ae_error *err)
{
    if (!path) return ae_fail(err, "pca: no output path");
    if (!p || !p->mean || !p->components || !p->variance || p->d < 1 || p->k < 1 || p->k > p->d)
        return ae_fail(err, "%s: no fitted PCA model to save", path);
    char total[64];
    snprintf(total, sizeof total, "%.17g", p->total_variance);
    const char *meta[] = {"aekit.kind", "pca", "aekit.pca.total_variance", total};
    st_out_tensor t[3] = {
        {.name = "mean", .dtype = ST_F32, .data = p->mean, .ndim = 1, .shape = {p->d}},
        {.name = "components", .dtype = ST_F32, .data = p->components, .ndim = 2,
         .shape = {p->k, p->d}},
        {.name = "variance", .dtype = ST_F64, .data = p->variance, .ndim = 1, .shape = {p->k}},
    };
    return st_write(path, t, 3, meta, 2, err);
}

int ae_pca_load(ae_pca *p, const char *path, ae_error *err)
{
    if (!p) return ae_fail(err, "pca: no model to fill");
    memset(p, 0, sizeof *p);
    if (!path) return ae_fail(err, "pca: no input path");
    st_file f;
    if (st_read_header(&f, path, err) != 0) return -1; /* the data once kind and shape fit */
    int rc = -1;
    const char *kind = st_meta(&f, "aekit.kind");
    const st_tensor *comp = st_find(&f, "components");
    if (!kind || strcmp(kind, "pca") != 0) {
        ae_fail(err, "%s: not a PCA file (metadata aekit.kind is %s%s%s, expected \"pca\")", path,
                kind ? "\"" : "", kind ? kind : "absent", kind ? "\"" : "");
        goto done;
    }
    if (!comp || comp->ndim != 2 || comp->shape[0] < 1 || comp->shape[1] < 1 ||
        comp->shape[0] > comp->shape[1] || comp->shape[1] > 1000000000) {
        ae_fail(err, "%s: tensor \"components\" missing or not of shape [k, d] with 1 <= k <= d",
                path);
        goto done;
    }
    int k = (int)comp->shape[0], d = (int)comp->shape[1];
    if (st_read_data(&f, err) != 0) goto done;
    if (alloc_model(p, d, k) != 0) {
        ae_fail(err, "%s: out of memory for %d components of dimension %d", path, k, d);
        goto done;
    }
    if (st_get_f32(&f, "mean", p->mean, (size_t)d, err) != 0 ||
        st_get_f32(&f, "components", p->components, (size_t)k * d, err) != 0)
        goto done;
    const st_tensor *var = st_find(&f, "variance");
    if (var && var->dtype == ST_F64 && var->numel == (size_t)k) {
        memcpy(p->variance, f.data + var->begin, sizeof(double) * (size_t)k);
    } else {
        float *tmp = malloc(sizeof(float) * (size_t)k);
        if (!tmp) {
            ae_fail(err, "%s: out of memory", path);
            goto done;
        }
        int r = st_get_f32(&f, "variance", tmp, (size_t)k, err);
        for (int i = 0; r == 0 && i < k; i++) p->variance[i] = tmp[i];
        free(tmp);
        if (r != 0) goto done;
    }
    for (size_t i = 0; i < (size_t)k * d; i++)
        if (!isfinite(p->components[i])) {
            ae_fail(err, "%s: components[%zu][%zu] is not finite", path, i / (size_t)d,
                    i % (size_t)d);
            goto done;
        }
    for (int i = 0; i < d; i++)
        if (!isfinite(p->mean[i])) {
            ae_fail(err, "%s: mean[%d] is not finite", path, i);
            goto done;
        }
    p->total_variance = NAN;
    const char *tv = st_meta(&f, "aekit.pca.total_variance");
    if (tv) {
        char *end;
        double v = strtod(tv, &end);
        if (end == tv || *end) {
            ae_fail(err, "%s: metadata aekit.pca.total_variance \"%.40s\" is not a number", path,
                    tv);
            goto done;
        }
        p->total_variance = v;
    }
    rc = 0;
done:
    if (rc != 0) ae_pca_free(p);
    st_free(&f);
    return rc;
}
