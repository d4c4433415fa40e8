/* PCA's numerics (internals in src/analysis/pca.h): a blocked
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

/* Element (l, i) of o as a double. */
static double elem(const pca_operand *o, long l, long i)
{
    size_t at = o->wide ? (size_t)i * o->ld + (size_t)l : (size_t)l * o->ld + (size_t)i;
    double v = o->f ? (double)o->f[at] : o->d[at];
    return o->mean ? v - o->mean[o->wide ? l : i] : v;
}

/* dst[(c / MR * kc + l) * MR + c % MR] = element (l0 + l, i0 + c), c < ni;
 * zero for ni <= c < ni rounded up to MR. Full groups of MR take the fast
 * loops, a last partial group the general one. */
static void pack(const pca_operand *o, long i0, int ni, long l0, int kc, double *restrict dst)
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

static void store(const pca_product_out *o, long i, long j, double v)
{
    size_t at = (size_t)i * o->ld + (size_t)j;
    if (o->od) o->od[at] = v;
    else o->of[at] = (float)v;
}

/* out[i][j] = alpha * sum_{l<K} A(l, i) B(l, j) (+ bias[j]), i < m, j < n.
 * sym: B is A (m == n); blocks above the diagonal are computed and mirrored.
 * Returns -1 only when out of memory. */
int pca_product(long m, long n, long K, const pca_operand *A, const pca_operand *B, int sym,
                   const pca_product_out *o, int threads)
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

static int subspace_size(int d, int k)
{
    long p = 2L * k + 16;
    return p > d ? d : (int)p;
}

double pca_dot(const double *a, const double *b, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

static void axpy(double alpha, const double *x, double *y, int n)
{
    for (int i = 0; i < n; i++) y[i] += alpha * x[i];
}


int pca_random_direction(double *v, const double *rows, int j, int d, ae_rng *rng)
{
    for (int tries = 0; tries < RANDOM_DIRECTION_TRIES; tries++) {
        for (int l = 0; l < d; l++) v[l] = ae_rng_normal(rng);
        for (int rep = 0; rep < 2; rep++)
            for (int i = 0; i < j; i++) {
                const double *ri = rows + (size_t)i * d;
                axpy(-pca_dot(ri, v, d), ri, v, d);
            }
        double nrm = sqrt(pca_dot(v, v, d));
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
        for (int j = 0; j < p; j++) norms[j] = sqrt(pca_dot(q + (size_t)j * d, q + (size_t)j * d, d));
        for (int b0 = 0; b0 < p; b0 += 32) {
            int b1 = b0 + 32 < p ? b0 + 32 : p;
            for (int j = b0; j < b1; j++) {
                double *qj = q + (size_t)j * d;
                double nrm = sqrt(pca_dot(qj, qj, d));
                if (!(nrm > 1e-10 * norms[j]) || !(nrm > 0) || !isfinite(nrm)) {
                    if (pca_random_direction(qj, q, j, d, rng) != 0) return -1;
                } else {
                    for (int l = 0; l < d; l++) qj[l] /= nrm;
                }
                for (int i = j + 1; i < b1; i++) {
                    double *qi = q + (size_t)i * d;
                    axpy(-pca_dot(qj, qi, d), qj, qi, d);
                }
            }
            #pragma omp parallel for schedule(static) num_threads(threads) if ((long)(p - b1) * d > 20000)
            for (int i = b1; i < p; i++) {
                double *qi = q + (size_t)i * d;
                for (int j = b0; j < b1; j++) {
                    const double *qj = q + (size_t)j * d;
                    axpy(-pca_dot(qj, qi, d), qj, qi, d);
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

    const pca_operand Ct = {.d = c, .ld = (size_t)d, .wide = 0};
    for (int iter = 1;; iter++) {
        const pca_operand Qw = {.d = q, .ld = (size_t)d, .wide = 1};
        /* y = q C (rows: C q_j), h = q y^T */
        pca_product_out oy = {.od = y, .ld = (size_t)d, .alpha = 1};
        if (pca_product(p, d, d, &Qw, &Ct, 0, &oy, threads) != 0) goto done;
        const pca_operand Yw = {.d = y, .ld = (size_t)d, .wide = 1};
        pca_product_out oh = {.od = h, .ld = (size_t)p, .alpha = 1};
        if (pca_product(p, p, d, &Qw, &Yw, 0, &oh, threads) != 0) goto done;
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
        const pca_operand Ww = {.d = w, .ld = (size_t)p, .wide = 1};
        const pca_operand Qt = {.d = q, .ld = (size_t)d, .wide = 0};
        const pca_operand Yt = {.d = y, .ld = (size_t)d, .wide = 0};
        pca_product_out ot = {.od = t, .ld = (size_t)d, .alpha = 1};
        pca_product_out oyt = {.od = yt, .ld = (size_t)d, .alpha = 1};
        if (pca_product(p, d, p, &Ww, &Qt, 0, &ot, threads) != 0 ||
            pca_product(p, d, p, &Ww, &Yt, 0, &oyt, threads) != 0)
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

void pca_fix_sign(double *v, int d)
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
    for (int i = 0; i < k; i++) pca_fix_sign(vectors + (size_t)i * d, d);
    return 0;
}
