/* PCA: data with known principal directions (variances 9, 4, 1 along three
 * orthonormal directions in d = 20, plus tiny noise), eigenvalues and
 * components (up to sign), orthonormality and the sign convention,
 * encode/decode (exact with k = d, the dropped variance as residual with
 * k < d), save/load, bad arguments; both eigensolvers against matrices of
 * known spectrum (distinct, repeated, rank-deficient); determinism across
 * thread counts. */
#define _POSIX_C_SOURCE 200809L
#include "aekit.h"
#include "analysis/pca.h"
#include "core/rng.h"
#include "format/safetensors.h"
#include "peak_rss.h"
#include "test.h"

#include <string.h>
#include <unistd.h>

static char dir[64];

static const char *tmp_path(const char *name)
{
    static char buf[4][128];
    static int next;
    char *b = buf[next++ % 4];
    snprintf(b, sizeof buf[0], "%s/%s", dir, name);
    return b;
}

static double dotd(const double *a, const double *b, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

/* Rows of q (m x n) made orthonormal by Gram-Schmidt (twice). */
static void orthonormal_rows(double *q, int m, int n)
{
    for (int rep = 0; rep < 2; rep++)
        for (int j = 0; j < m; j++) {
            double *qj = q + (size_t)j * n;
            for (int i = 0; i < j; i++) {
                double r = dotd(q + (size_t)i * n, qj, n);
                for (int l = 0; l < n; l++) qj[l] -= r * q[(size_t)i * n + l];
            }
            double nrm = sqrt(dotd(qj, qj, n));
            for (int l = 0; l < n; l++) qj[l] /= nrm;
        }
}

/* Largest |c_i . c_j - [i == j]| over the k rows (length d) of c. */
static double orthonormality_error(const float *c, int k, int d)
{
    double worst = 0;
    for (int i = 0; i < k; i++)
        for (int j = 0; j <= i; j++) {
            double s = 0;
            for (int l = 0; l < d; l++) s += (double)c[(size_t)i * d + l] * c[(size_t)j * d + l];
            worst = fmax(worst, fabs(s - (i == j)));
        }
    return worst;
}

/* The entry of largest magnitude (first on ties) is positive. */
static int sign_ok(const float *v, int d)
{
    int at = 0;
    for (int i = 1; i < d; i++)
        if (fabs(v[i]) > fabs(v[at])) at = i;
    return v[at] > 0;
}

enum { N = 2000, D = 20 };

/* x = m + 3 a1 u1 + 2 a2 u2 + a3 u3 + noise, where a1..a3 are centred,
 * mutually orthogonal sample vectors of sample variance exactly 1, and the
 * noise (std 1e-3) is centred and orthogonal to them: the covariance is
 * exactly 9 u1u1' + 4 u2u2' + u3u3' + cov(noise). */
static void make_data(float *x, double u[3][D], double *cov)
{
    ae_rng r;
    ae_rng_seed(&r, 42);
    for (int i = 0; i < 3; i++)
        for (int l = 0; l < D; l++) u[i][l] = ae_rng_normal(&r);
    orthonormal_rows(&u[0][0], 3, D);

    /* Sample-space vectors: the ones vector, a1..a3, then D noise columns. */
    int m = 4 + D;
    double *s = malloc(sizeof(double) * (size_t)m * N);
    for (int i = 0; i < N; i++) s[i] = 1;
    for (size_t i = N; i < (size_t)m * N; i++) s[i] = ae_rng_normal(&r);
    orthonormal_rows(s, 4, N); /* a1..a3 centred, orthogonal */
    for (int j = 4; j < m; j++) { /* noise columns: off the ones and a's only */
        double *nj = s + (size_t)j * N;
        for (int rep = 0; rep < 2; rep++)
            for (int i = 0; i < 4; i++) {
                double rr = dotd(s + (size_t)i * N, nj, N);
                for (int l = 0; l < N; l++) nj[l] -= rr * s[(size_t)i * N + l];
            }
    }
    const double sd[3] = {3, 2, 1}, scale = sqrt(N - 1.0);
    double *xd = malloc(sizeof(double) * N * D);
    for (int n = 0; n < N; n++)
        for (int l = 0; l < D; l++) {
            double v = 0.5 + 0.01 * l; /* the mean */
            for (int i = 0; i < 3; i++) v += sd[i] * scale * s[(size_t)(1 + i) * N + n] * u[i][l];
            v += 1e-3 * s[(size_t)(4 + l) * N + n];
            xd[n * D + l] = v;
            x[n * D + l] = (float)v;
        }
    /* The covariance of the float data, for reference. */
    double mean[D] = {0};
    for (int n = 0; n < N; n++)
        for (int l = 0; l < D; l++) mean[l] += x[n * D + l];
    for (int l = 0; l < D; l++) mean[l] /= N;
    memset(cov, 0, sizeof(double) * D * D);
    for (int n = 0; n < N; n++)
        for (int i = 0; i < D; i++)
            for (int j = 0; j < D; j++)
                cov[i * D + j] += (x[n * D + i] - mean[i]) * (x[n * D + j] - mean[j]) / (N - 1);
    free(xd);
    free(s);
}

static void test_known_directions(void)
{
    float *x = malloc(sizeof(float) * N * D);
    double u[3][D], cov[D * D];
    make_data(x, u, cov);
    double trace = 0;
    for (int i = 0; i < D; i++) trace += cov[i * D + i];

    ae_error err = {{0}};
    ae_pca p;
    CHECK(ae_pca_fit(&p, x, N, D, 3, 2, &err) == 0, "%s", err.msg);
    if (!p.components) {
        free(x);
        return;
    }
    CHECK(p.d == D && p.k == 3, "d %d k %d", p.d, p.k);
    const double want[3] = {9, 4, 1};
    for (int i = 0; i < 3; i++) {
        CHECK_CLOSE(p.variance[i], want[i], 0, 1e-4, "variance %d: %.9f", i, p.variance[i]);
        double c = 0;
        for (int l = 0; l < D; l++) c += p.components[i * D + l] * u[i][l];
        CHECK(fabs(c) > 1 - 1e-6, "component %d . direction = %.9f", i, c);
        CHECK(sign_ok(p.components + i * D, D), "sign of component %d", i);
    }
    CHECK_CLOSE(p.total_variance, trace, 1e-9, 0, "total variance %.12g vs %.12g",
                p.total_variance, trace);
    CHECK(p.total_variance > 14 && p.total_variance < 14.001, "total %.9f", p.total_variance);
    CHECK(orthonormality_error(p.components, 3, D) < 1e-6, "orthonormal");
    for (int l = 0; l < D; l++)
        CHECK_CLOSE(p.mean[l], 0.5 + 0.01 * l, 0, 1e-6, "mean[%d] = %.8f", l, p.mean[l]);

    /* k = 2: codes have the component variances; the residual is the
     * dropped variance. */
    float *codes = malloc(sizeof(float) * N * D), *y = malloc(sizeof(float) * N * D);
    ae_pca p2;
    CHECK(ae_pca_fit(&p2, x, N, D, 2, 1, &err) == 0, "%s", err.msg);
    ae_pca_encode(&p2, x, N, codes);
    for (int j = 0; j < 2; j++) {
        double s = 0, ss = 0;
        for (int n = 0; n < N; n++) {
            s += codes[n * 2 + j];
            ss += (double)codes[n * 2 + j] * codes[n * 2 + j];
        }
        CHECK(fabs(s / N) < 1e-5, "code %d mean %.3g", j, s / N);
        CHECK_CLOSE(ss / (N - 1), p2.variance[j], 1e-5, 0, "code %d variance %.8f", j, ss / (N - 1));
    }
    ae_pca_decode(&p2, codes, N, y);
    double res = 0;
    for (int i = 0; i < N * D; i++) res += ((double)x[i] - y[i]) * ((double)x[i] - y[i]);
    double dropped = p2.total_variance - p2.variance[0] - p2.variance[1];
    CHECK_CLOSE(res / N, dropped * (N - 1) / N, 1e-4, 0, "residual %.9f, dropped variance %.9f",
                res / N, dropped * (N - 1) / N);
    CHECK_CLOSE(dropped, 1, 0, 1e-4, "dropped %.9f", dropped);
    /* Encoding agrees with the definition, computed here in double. */
    double worst = 0;
    for (int n = 0; n < 50; n++)
        for (int j = 0; j < 2; j++) {
            double c = 0;
            for (int l = 0; l < D; l++)
                c += ((double)x[n * D + l] - p2.mean[l]) * p2.components[j * D + l];
            worst = fmax(worst, fabs(c - codes[n * 2 + j]));
        }
    CHECK(worst < 1e-5, "codes differ from the definition by %.3g", worst);
    ae_pca_free(&p2);

    /* k = d: exact reconstruction, all components orthonormal. */
    ae_pca pf;
    CHECK(ae_pca_fit(&pf, x, N, D, D, 2, &err) == 0, "%s", err.msg);
    CHECK(orthonormality_error(pf.components, D, D) < 1e-6, "k = d orthonormal: %.3g",
          orthonormality_error(pf.components, D, D));
    for (int i = 0; i + 1 < D; i++)
        CHECK(pf.variance[i] >= pf.variance[i + 1], "descending at %d", i);
    double vsum = 0;
    for (int i = 0; i < D; i++) vsum += pf.variance[i];
    CHECK_CLOSE(vsum, pf.total_variance, 1e-9, 0, "eigenvalues sum to the trace");
    CHECK(pf.variance[3] < 1e-5 && pf.variance[D - 1] >= 0, "noise eigenvalues %.3g .. %.3g",
          pf.variance[3], pf.variance[D - 1]);
    ae_pca_encode(&pf, x, N, codes);
    ae_pca_decode(&pf, codes, N, y);
    worst = 0;
    for (int i = 0; i < N * D; i++) worst = fmax(worst, fabs((double)x[i] - y[i]));
    CHECK(worst < 1e-5, "k = d reconstruction error %.3g", worst);

    /* Save / load. */
    const char *path = tmp_path("pca.safetensors");
    CHECK(ae_pca_save(&p, path, &err) == 0, "%s", err.msg);
    ae_pca q;
    CHECK(ae_pca_load(&q, path, &err) == 0, "%s", err.msg);
    if (q.components) {
        CHECK(q.d == p.d && q.k == p.k, "loaded shape");
        CHECK(memcmp(q.mean, p.mean, sizeof(float) * D) == 0, "mean round trip");
        CHECK(memcmp(q.components, p.components, sizeof(float) * 3 * D) == 0, "components");
        CHECK(memcmp(q.variance, p.variance, sizeof(double) * 3) == 0, "variance (F64)");
        CHECK(q.total_variance == p.total_variance, "total variance %.17g", q.total_variance);
    }
    st_file f;
    CHECK(st_read(&f, path, &err) == 0, "%s", err.msg);
    CHECK(st_meta(&f, "aekit.kind") && strcmp(st_meta(&f, "aekit.kind"), "pca") == 0, "kind");
    const st_tensor *t = st_find(&f, "components");
    CHECK(t && t->ndim == 2 && t->shape[0] == 3 && t->shape[1] == D, "components shape");
    st_free(&f);
    ae_pca_free(&q);

    ae_pca_free(&pf);
    ae_pca_free(&p);
    free(codes);
    free(y);
    free(x);
}

static void test_bad_input(void)
{
    float x[4 * 3] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    ae_pca p;
    ae_error err = {{0}};
    CHECK(ae_pca_fit(&p, x, 4, 3, 4, 1, &err) == -1, "k > d");
    CHECK(strstr(err.msg, "4 components") != NULL, "message: %s", err.msg);
    CHECK(p.components == NULL && p.mean == NULL && p.k == 0, "model zeroed");
    ae_pca_free(&p);
    CHECK(ae_pca_fit(&p, x, 4, 3, 0, 1, &err) == -1, "k = 0");
    CHECK(ae_pca_fit(&p, x, 1, 3, 1, 1, &err) == -1, "n = 1");
    CHECK(ae_pca_fit(&p, NULL, 4, 3, 1, 1, &err) == -1, "no data");
    CHECK(ae_pca_fit(&p, x, 4, 0, 1, 1, &err) == -1, "d = 0");
    x[7] = NAN;
    CHECK(ae_pca_fit(&p, x, 4, 3, 1, 1, &err) == -1, "NaN");
    CHECK(strstr(err.msg, "value 7 (vector 2, index 1) is not finite") != NULL, "%s", err.msg);
    x[7] = INFINITY;
    CHECK(ae_pca_fit(&p, x, 4, 3, 1, 1, &err) == -1, "infinity");
    x[7] = 7;
    CHECK(ae_pca_fit(&p, x, 4, 3, 3, 1, &err) == 0, "%s", err.msg);
    /* Points on a line: one eigenvalue, the rest zero (not negative). */
    for (int i = 1; i < 3; i++) CHECK(p.variance[i] >= 0 && p.variance[i] < 1e-12, "zero");
    CHECK(orthonormality_error(p.components, 3, 3) < 1e-6, "orthonormal with zero variance");
    ae_pca_free(&p);

    /* Files: not PCA, missing, wrong shapes. */
    CHECK(ae_pca_load(&p, tmp_path("missing.safetensors"), &err) == -1, "missing file");
    CHECK(p.components == NULL, "zeroed after failed load");
    const char *other = tmp_path("other.safetensors");
    float v[6] = {1, 2, 3, 4, 5, 6};
    st_out_tensor t[3] = {
        {.name = "mean", .dtype = ST_F32, .data = v, .ndim = 1, .shape = {3}},
        {.name = "components", .dtype = ST_F32, .data = v, .ndim = 2, .shape = {2, 3}},
        {.name = "variance", .dtype = ST_F32, .data = v, .ndim = 1, .shape = {2}},
    };
    const char *model_meta[] = {"aekit.kind", "model"};
    CHECK(st_write(other, t, 3, model_meta, 1, &err) == 0, "%s", err.msg);
    CHECK(ae_pca_load(&p, other, &err) == -1, "kind model");
    CHECK(strstr(err.msg, "not a PCA file") != NULL, "%s", err.msg);
    const char *pca_meta[] = {"aekit.kind", "pca"};
    CHECK(st_write(other, t, 3, pca_meta, 1, &err) == 0, "%s", err.msg);
    CHECK(ae_pca_load(&p, other, &err) == 0, "F32 variance, no total: %s", err.msg);
    CHECK(p.k == 2 && p.d == 3 && p.variance[1] == 2 && isnan(p.total_variance), "loaded");
    ae_pca_free(&p);
    t[1].shape[0] = 4; /* k > d */
    t[1].shape[1] = 1;
    CHECK(st_write(other, t, 3, pca_meta, 1, &err) == 0, "%s", err.msg);
    CHECK(ae_pca_load(&p, other, &err) == -1, "components [4, 1]");
    t[1].shape[0] = 2;
    t[1].shape[1] = 3;
    t[2].shape[0] = 3; /* variance of the wrong length */
    CHECK(st_write(other, t, 3, pca_meta, 1, &err) == 0, "%s", err.msg);
    CHECK(ae_pca_load(&p, other, &err) == -1, "variance [3]");
    CHECK(strstr(err.msg, "variance") != NULL, "%s", err.msg);
    CHECK(ae_pca_save(&p, tmp_path("no-such-dir/x.safetensors"), &err) == -1, "save empty model");
}

/* c = U diag(lambda) U^T for a random orthogonal U (rows of u). */
static void make_matrix(double *c, double *u, const double *lambda, int d, uint64_t seed)
{
    ae_rng r;
    ae_rng_seed(&r, seed);
    for (int i = 0; i < d * d; i++) u[i] = ae_rng_normal(&r);
    orthonormal_rows(u, d, d);
    for (int i = 0; i < d; i++)
        for (int j = 0; j <= i; j++) {
            double s = 0;
            for (int l = 0; l < d; l++) s += u[l * d + i] * lambda[l] * u[l * d + j];
            c[i * d + j] = c[j * d + i] = s;
        }
}

static void check_eig(const double *c, const double *u, const double *lambda, int d, int k,
                      pca_eig_method method, int distinct, const char *what)
{
    double *val = malloc(sizeof(double) * k), *vec = malloc(sizeof(double) * k * d);
    ae_error err = {{0}};
    CHECK(pca_eig_top(c, d, k, method, 2, val, vec, &err) == 0, "%s: %s", what, err.msg);
    double wv = 0, wd = 0, wo = 0, wr = 0;
    for (int i = 0; i < k; i++) {
        wv = fmax(wv, fabs(val[i] - lambda[i]) / lambda[0]);
        if (distinct) wd = fmax(wd, 1 - fabs(dotd(vec + i * d, u + i * d, d)));
        for (int j = 0; j <= i; j++)
            wo = fmax(wo, fabs(dotd(vec + i * d, vec + j * d, d) - (i == j)));
        for (int a = 0; a < d; a++) { /* residual |C v - lambda v| */
            double s = 0;
            for (int l = 0; l < d; l++) s += c[a * d + l] * vec[i * d + l];
            wr = fmax(wr, fabs(s - val[i] * vec[i * d + a]) / lambda[0]);
        }
        int at = 0;
        for (int l = 1; l < d; l++)
            if (fabs(vec[i * d + l]) > fabs(vec[i * d + at])) at = l;
        CHECK(vec[i * d + at] > 0, "%s: sign of vector %d", what, i);
    }
    CHECK(wv < 1e-11, "%s: eigenvalues off by %.3g", what, wv);
    CHECK(wd < 1e-10, "%s: vectors off by %.3g", what, wd);
    CHECK(wo < 1e-12, "%s: orthonormality %.3g", what, wo);
    CHECK(wr < 1e-9, "%s: residual %.3g", what, wr);
    free(val);
    free(vec);
}

static void test_eigensolvers(void)
{
    enum { E = 150 };
    double *c = malloc(sizeof(double) * E * E), *u = malloc(sizeof(double) * E * E);
    double lambda[E];
    for (int i = 0; i < E; i++) lambda[i] = 100 * pow(0.9, i);
    make_matrix(c, u, lambda, E, 7);
    check_eig(c, u, lambda, E, 10, PCA_EIG_DENSE, 1, "dense, distinct");
    check_eig(c, u, lambda, E, 10, PCA_EIG_SUBSPACE, 1, "subspace, distinct");
    check_eig(c, u, lambda, E, E, PCA_EIG_DENSE, 1, "dense, all");

    /* Repeated eigenvalues: any orthonormal basis of the cluster will do. */
    for (int i = 0; i < E; i++) lambda[i] = i < 5 ? 10 - i : 1;
    make_matrix(c, u, lambda, E, 8);
    check_eig(c, u, lambda, E, 5, PCA_EIG_DENSE, 1, "dense, repeated tail");
    check_eig(c, u, lambda, E, 5, PCA_EIG_SUBSPACE, 1, "subspace, repeated tail");
    check_eig(c, u, lambda, E, 40, PCA_EIG_DENSE, 0, "dense, into the cluster");

    /* Rank 20: the subspace (p = 48) is bigger than the range of C. */
    for (int i = 0; i < E; i++) lambda[i] = i < 20 ? 50.0 / (i + 1) : 0;
    make_matrix(c, u, lambda, E, 9);
    check_eig(c, u, lambda, E, 16, PCA_EIG_SUBSPACE, 1, "subspace, rank 20");
    check_eig(c, u, lambda, E, 16, PCA_EIG_DENSE, 1, "dense, rank 20");

    /* The zero matrix and a diagonal one. */
    memset(c, 0, sizeof(double) * E * E);
    for (int i = 0; i < E; i++) lambda[i] = 0;
    double *val = malloc(sizeof(double) * E), *vec = malloc(sizeof(double) * E * E);
    ae_error err = {{0}};
    CHECK(pca_eig_top(c, E, E, PCA_EIG_DENSE, 1, val, vec, &err) == 0, "zero: %s", err.msg);
    CHECK(val[0] == 0 && val[E - 1] == 0, "zero eigenvalues");
    c[5] = NAN;
    CHECK(pca_eig_top(c, E, 3, PCA_EIG_AUTO, 1, val, vec, &err) == -1, "NaN matrix");
    CHECK(strstr(err.msg, "(0, 5)") != NULL, "%s", err.msg);
    CHECK(pca_eig_top(c, E, E + 1, PCA_EIG_AUTO, 1, val, vec, &err) == -1, "k > d");
    free(val);
    free(vec);
    free(c);
    free(u);
}

/* Same result, bit for bit, with 1 and 2 threads (sizes that take the
 * parallel paths). */
static void test_determinism(void)
{
    enum { E = 400 };
    double *c = malloc(sizeof(double) * E * E), *u = malloc(sizeof(double) * E * E);
    double lambda[E];
    for (int i = 0; i < E; i++) lambda[i] = 10 * pow(0.97, i);
    make_matrix(c, u, lambda, E, 11);
    for (int m = PCA_EIG_DENSE; m <= PCA_EIG_SUBSPACE; m++) {
        double v1[20], v2[20], *e1 = malloc(sizeof(double) * 20 * E), *e2 = malloc(sizeof(double) * 20 * E);
        ae_error err = {{0}};
        CHECK(pca_eig_top(c, E, 20, m, 1, v1, e1, &err) == 0, "%s", err.msg);
        CHECK(pca_eig_top(c, E, 20, m, 2, v2, e2, &err) == 0, "%s", err.msg);
        CHECK(memcmp(v1, v2, sizeof v1) == 0 && memcmp(e1, e2, sizeof(double) * 20 * E) == 0,
              "method %d: threads change the result", m);
        free(e1);
        free(e2);
    }
    free(c);
    free(u);

    enum { NN = 1000, DD = 300 };
    float *x = malloc(sizeof(float) * NN * DD);
    ae_rng r;
    ae_rng_seed(&r, 5);
    for (int i = 0; i < NN * DD; i++) x[i] = ae_rng_uniform(&r) * (float)(1 + (i % DD) % 7);
    for (int n = 0; n < NN; n++) x[n * DD + 17] = 0.25f; /* a constant column */
    ae_pca a, b;
    ae_error err = {{0}};
    CHECK(ae_pca_fit(&a, x, NN, DD, 12, 1, &err) == 0, "%s", err.msg);
    CHECK(ae_pca_fit(&b, x, NN, DD, 12, 2, &err) == 0, "%s", err.msg);
    if (a.components && b.components) {
        CHECK(memcmp(a.components, b.components, sizeof(float) * 12 * DD) == 0 &&
                  memcmp(a.variance, b.variance, sizeof(double) * 12) == 0 &&
                  memcmp(a.mean, b.mean, sizeof(float) * DD) == 0 &&
                  a.total_variance == b.total_variance,
              "pca_fit: threads change the result");
        CHECK(orthonormality_error(a.components, 12, DD) < 1e-6, "orthonormal");
    }
    ae_pca_free(&a);
    ae_pca_free(&b);
    free(x);
}

/* ---- fewer vectors than dimensions: the Gram matrix ------------------------------ */

/* n vectors of dimension d, of decreasing spread along random directions. */
static float *wide_data(long n, int d, uint64_t seed)
{
    float *x = malloc(sizeof(float) * (size_t)n * d);
    ae_rng r;
    ae_rng_seed(&r, seed);
    for (long i = 0; i < n; i++)
        for (int l = 0; l < d; l++)
            x[(size_t)i * d + l] = (float)(0.3 + ae_rng_normal(&r) * (1.0 + (l % 7)) / (1.0 + i));
    return x;
}

/* ae_pca_fit with n < d (the Gram path) against the covariance's dense
 * eigenvectors computed here: the same variances and components (same
 * sign rule), orthonormal. More components than the n - 1 directions the
 * centred data spans are refused (they were arbitrary directions costing
 * k x d: 40,000 components of 18 images of 200 x 200 took 12.8 GB). With
 * repeated vectors (fewer directions than k), the components beyond them
 * have zero variance, are orthonormal and orthogonal to the data. */
static void test_gram(void)
{
    enum { GN = 6, GD = 40 };
    float *x = wide_data(GN, GD, 7);
    double mean[GD] = {0}, *cov = calloc(GD * GD, sizeof(double));
    for (int i = 0; i < GN; i++)
        for (int l = 0; l < GD; l++) mean[l] += x[i * GD + l] / (double)GN;
    for (int i = 0; i < GN; i++)
        for (int a = 0; a < GD; a++)
            for (int b = 0; b < GD; b++)
                cov[a * GD + b] += (x[i * GD + a] - mean[a]) * (x[i * GD + b] - mean[b]) / (GN - 1);
    double ref_val[GD], *ref_vec = malloc(sizeof(double) * GD * GD);
    ae_error err = {{0}};
    CHECK(pca_eig_top(cov, GD, GD, PCA_EIG_DENSE, 1, ref_val, ref_vec, &err) == 0, "%s", err.msg);

    const int ks[] = {4, GN - 1};
    for (int t = 0; t < 2; t++) {
        int k = ks[t];
        ae_pca p;
        CHECK(ae_pca_fit(&p, x, GN, GD, k, 2, &err) == 0, "k %d: %s", k, err.msg);
        if (!p.components) continue;
        double worst_vec = 0, worst_val = 0;
        for (int i = 0; i < k; i++) {
            const float *v = p.components + (size_t)i * GD;
            worst_val = fmax(worst_val, fabs(p.variance[i] - ref_val[i]) / ref_val[0]);
            for (int l = 0; l < GD; l++)
                worst_vec = fmax(worst_vec, fabs(v[l] - ref_vec[(size_t)i * GD + l]));
            CHECK(sign_ok(v, GD), "k %d: sign of component %d", k, i);
        }
        CHECK(worst_val < 1e-9, "k %d: variances off by %.3g of the largest", k, worst_val);
        CHECK(worst_vec < 1e-5, "k %d: components off by %.3g", k, worst_vec);
        CHECK(orthonormality_error(p.components, k, GD) < 1e-6, "k %d: orthonormal (%.3g)", k,
              orthonormality_error(p.components, k, GD));
        double trace = 0;
        for (int l = 0; l < GD; l++) trace += cov[l * GD + l];
        CHECK_CLOSE(p.total_variance, trace, 1e-9, 0, "k %d: total variance %g vs %g", k,
                    p.total_variance, trace);
        if (k >= GN - 1) { /* the whole span kept: exact reconstruction */
            float codes[GN * GD], y[GN * GD];
            ae_pca_encode(&p, x, GN, codes);
            ae_pca_decode(&p, codes, GN, y);
            CHECK(test_max_rel(y, x, GN * GD, 1e-3) < 1e-4, "k %d: reconstruction", k);
        }
        ae_pca_free(&p);
    }
    for (int k = GN; k <= GD; k += GD - GN) {
        ae_pca p;
        CHECK(ae_pca_fit(&p, x, GN, GD, k, 2, &err) == -1 && p.components == NULL &&
                  strstr(err.msg, "at most 5 directions") && strstr(err.msg, "1 to 5 possible"),
              "k %d from %d vectors refused: %s", k, GN, err.msg);
        ae_pca_free(&p);
    }

    /* vectors 3..5 repeat vector 0: the centred data spans 2 directions */
    for (int i = 3; i < GN; i++) memcpy(x + i * GD, x, sizeof(float) * GD);
    ae_pca p;
    int k = GN - 1;
    CHECK(ae_pca_fit(&p, x, GN, GD, k, 2, &err) == 0, "repeated vectors: %s", err.msg);
    if (p.components) {
        for (int l = 0; l < GD; l++) {
            mean[l] = 0;
            for (int i = 0; i < GN; i++) mean[l] += x[i * GD + l] / (double)GN;
        }
        double worst_span = 0;
        for (int i = 2; i < k; i++) {
            CHECK(p.variance[i] < 1e-9 * p.variance[0], "repeated vectors: variance %d is %.3g", i,
                  p.variance[i]);
            for (int n = 0; n < GN; n++) {
                double s = 0;
                for (int l = 0; l < GD; l++) s += (x[n * GD + l] - mean[l]) * p.components[i * GD + l];
                worst_span = fmax(worst_span, fabs(s));
            }
        }
        CHECK(worst_span < 1e-4, "repeated vectors: zero-variance components meet the data (%.3g)",
              worst_span);
        CHECK(orthonormality_error(p.components, k, GD) < 1e-6, "repeated vectors: orthonormal (%.3g)",
              orthonormality_error(p.components, k, GD));
    }
    ae_pca_free(&p);
    free(x);
    free(cov);
    free(ref_vec);
}

/* pca_random_direction: a unit vector orthogonal to the rows while there is
 * room; a clean -1 after its fixed number of draws when there is none (a
 * full basis), where the loop it replaced drew forever. */
static void test_random_direction(void)
{
    enum { RD = 5 };
    double rows[RD * RD] = {0}, v[RD];
    for (int i = 0; i < RD; i++) rows[i * RD + i] = 1;
    ae_rng r;
    ae_rng_seed(&r, 9);
    CHECK(pca_random_direction(v, rows, RD - 1, RD, &r) == 0, "room for one direction");
    double worst = fabs(dotd(v, v, RD) - 1);
    for (int i = 0; i < RD - 1; i++) worst = fmax(worst, fabs(dotd(v, rows + i * RD, RD)));
    CHECK(worst < 1e-12, "a unit vector orthogonal to the rows (off by %.3g)", worst);
    CHECK(pca_random_direction(v, rows, RD, RD, &r) == -1, "no room: refused, not drawn forever");
    rows[0] = NAN;
    CHECK(pca_random_direction(v, rows, 1, RD, &r) == -1, "rows not finite: refused");
}

typedef struct {
    long  n;
    int   d, k;
    float *x;
} fit_job;

static int fit_measured(void *arg, char *msg, size_t size)
{
    fit_job *job = arg;
    ae_pca p;
    ae_error err = {{0}};
    int rc = ae_pca_fit(&p, job->x, job->n, job->d, job->k, 1, &err);
    snprintf(msg, size, "%s", err.msg);
    ae_pca_free(&p);
    return rc == 0 ? 0 : 1;
}

/* Memory: 18 images of 80 x 80 pixels take an 18 x 18 Gram matrix, not a
 * 6400 x 6400 covariance (330 MB); a matrix beyond AE_PCA_MAX_BYTES is refused
 * from the sizes alone, before the data is read. Bounds on memory, never
 * on time. */
static void test_memory(void)
{
    enum { MAX_PEAK_KIB = 100 * 1024 };
    long peak = 0;
    char msg[1024];
    fit_job job = {18, 80 * 80, 4, wide_data(18, 80 * 80, 3)};
    int rc = run_measured(fit_measured, &job, &peak, msg, sizeof msg);
    CHECK(rc == 0, "18 images of 6400 pixels: %s", msg);
    CHECK(peak < MAX_PEAK_KIB, "18 x 6400: memory %ld KiB (bound %d)", peak, MAX_PEAK_KIB);
    free(job.x);

    ae_error err = {{0}};
    CHECK(ae_pca_fit_check(60000, 784, 16, &err) == 0, "MNIST's size: %s", err.msg);
    CHECK(ae_pca_fit_check(18, 40000, 16, &err) == 0, "18 images of 200 x 200: %s", err.msg);
    CHECK(ae_pca_fit_check(60000, 40000, 16, &err) == -1 && strstr(err.msg, "40000 x 40000 covariance") &&
              strstr(err.msg, "GiB"), "a 40000 x 40000 covariance refused: %s", err.msg);
    CHECK(ae_pca_fit_check(30000, 40000, 16, &err) == -1 && strstr(err.msg, "30000 x 30000 Gram matrix"),
          "a 30000 x 30000 Gram matrix refused: %s", err.msg);
    /* the components count, and no more of them than directions of variance */
    CHECK(ae_pca_fit_check(18, 40000, 17, &err) == 0, "17 components of 18 images: %s", err.msg);
    CHECK(ae_pca_fit_check(18, 40000, 40000, &err) == -1 && strstr(err.msg, "from 18 vectors") &&
              strstr(err.msg, "1 to 17 possible"), "40000 components of 18 images refused: %s", err.msg);
    CHECK(ae_pca_fit_check(2000, 3 * 4096 * 4096, 1000, &err) == -1 &&
              strstr(err.msg, "1000 components of 50331648 values (562.5 GiB)"),
          "1000 components of 3 x 4096 x 4096 refused: %s", err.msg);
    /* refused before x is read: 16 values stand for 20000 x 20000 */
    float tiny[16] = {0};
    fit_job huge = {20000, 20000, 2, tiny};
    rc = run_measured(fit_measured, &huge, &peak, msg, sizeof msg);
    CHECK(rc == 1 && strstr(msg, "20000 x 20000 covariance"), "20000 x 20000 refused up front "
          "(exit %d): %s", rc, msg);
    CHECK(peak < MAX_PEAK_KIB, "refusal: memory %ld KiB (bound %d)", peak, MAX_PEAK_KIB);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/aekit_test_pca_XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 2;
    }
    test_memory(); /* first, while this process is small */
    test_known_directions();
    test_gram();
    test_random_direction();
    test_bad_input();
    test_eigensolvers();
    test_determinism();
    remove(tmp_path("pca.safetensors"));
    remove(tmp_path("other.safetensors"));
    rmdir(dir);
    TEST_DONE();
}
