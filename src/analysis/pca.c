/* PCA (aekit/analysis.h): fitting the top-k components (from the covariance
 * or, for fewer images than dimensions, the Gram matrix), encoding,
 * decoding and the safetensors file. The numerics (matrix product,
 * eigensolvers) are pca_solver.c's (src/analysis/pca.h). */
#include "analysis/pca.h"
#include "core/error.h"
#include "core/threads.h"
#include "format/safetensors.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    const pca_operand Xw = {.f = x, .mean = mean, .ld = (size_t)d, .wide = 1};
    pca_product_out og = {.od = g, .ld = N, .alpha = 1.0 / (double)(n - 1)};
    if (pca_product(n, n, d, &Xw, &Xw, 1, &og, threads) != 0) {
        ae_fail(err, "pca: out of memory");
        goto done;
    }
    *total = 0;
    for (size_t i = 0; i < N; i++) *total += g[i * N + i];
    if (pca_eig_top(g, (int)n, kg, PCA_EIG_AUTO, threads, values, u, err) != 0) goto done;

    const pca_operand U = {.d = u, .ld = N, .wide = 1};
    const pca_operand Xt = {.f = x, .mean = mean, .ld = (size_t)d, .wide = 0};
    pca_product_out ov = {.od = vecs, .ld = (size_t)d, .alpha = 1};
    if (pca_product(kg, d, n, &U, &Xt, 0, &ov, threads) != 0) {
        ae_fail(err, "pca: out of memory");
        goto done;
    }
    /* Eigenvalues at rounding level (the centring's zero among them) have
     * no direction worth the name: completed like those beyond n. */
    int r = 0;
    while (r < kg && values[r] > 1e-12 * values[0]) r++;
    for (int i = 0; i < r; i++) {
        double *v = vecs + (size_t)i * d, nrm = sqrt(pca_dot(v, v, d));
        for (int l = 0; l < d; l++) v[l] /= nrm;
    }
    for (int i = r; i < k; i++) values[i] = 0;
    if (complete_basis(vecs, r, k, d) != 0) {
        ae_fail(err, "pca: no direction orthogonal to the components found in %d random draws "
                "(dimension %d)", RANDOM_DIRECTION_TRIES, d);
        goto done;
    }
    for (int i = 0; i < k; i++) pca_fix_sign(vecs + (size_t)i * d, d);
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
        const pca_operand X = {.f = x, .mean = mean, .ld = (size_t)d, .wide = 0};
        pca_product_out oc = {.od = cov, .ld = (size_t)d, .alpha = 1.0 / (double)(n - 1)};
        if (pca_product(d, d, n, &X, &X, 1, &oc, threads) != 0) {
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
        const pca_operand X = {.f = x, .mean = mean, .ld = (size_t)d, .wide = 1};
        const pca_operand P = {.f = p->components, .ld = (size_t)d, .wide = 1};
        pca_product_out o = {.of = codes, .ld = (size_t)k, .alpha = 1};
        int rc = pca_product(n, k, d, &X, &P, 0, &o, ae_threads_resolve(0));
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
        const pca_operand Z = {.f = codes, .ld = (size_t)k, .wide = 1};
        const pca_operand P = {.f = p->components, .ld = (size_t)d, .wide = 0};
        pca_product_out o = {.of = x, .ld = (size_t)d, .alpha = 1, .bias = mean};
        int rc = pca_product(n, d, k, &Z, &P, 0, &o, ae_threads_resolve(0));
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
