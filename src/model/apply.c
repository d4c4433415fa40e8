/* Using a model: reconstruct, encode, decode, sample, evaluate. The model
 * is only read; every write goes to the caller's workspace (or a temporary
 * one). Images are processed in chunks of APPLY_CHUNK per thread; per-chunk
 * sums are added in chunk order so results do not depend on the thread
 * count. */
#include "model/model.h"
#include "model/ranks.h"
#include "core/error.h"
#include "core/threads.h"
#include "core/rng.h"
#include "data/noise.h"

#include <float.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Fixed seeds for evaluation: every model sees the same corrupted inputs
 * (AE_EVAL_NOISE_SEED, aekit.h) and the same VAE sampling noise, so results
 * compare across runs. */
#define EVAL_SAMPLE_SEED 0x6576616c73616d70ULL

/* The workspace a call runs in: the caller's, checked against m and the
 * thread count, or (ws NULL) a temporary one in *tmp that the caller frees,
 * sized for n images: no more threads than chunks and no more images per
 * thread than n (a picture of 10 images takes a 10-image workspace, not
 * 64 per core). *threads becomes the count to run with; the results do
 * not depend on it (chunks are fixed, sums are added in chunk order). */
static ae_workspace *call_workspace(const ae_model *m, ae_workspace *ws, int n, int *threads,
                                    ae_workspace **tmp, ae_error *err)
{
    *tmp = NULL;
    if (n < 0) { ae_fail(err, "negative image count %d", n); return NULL; }
    int t = threads_resolve(*threads, err);
    if (t < 0) return NULL;
    *threads = t;
    if (ws) return workspace_check(ws, m, t, err) ? NULL : ws;
    int chunks = (n + APPLY_CHUNK - 1) / APPLY_CHUNK;
    if (t > chunks) *threads = t = chunks > 0 ? chunks : 1;
    int per_thread = n < APPLY_CHUNK ? (n > 0 ? n : 1) : APPLY_CHUNK;
    return workspace_new(tmp, m, per_thread, t, 0, err) ? NULL : *tmp;
}

/* A conditional model's calls take labels, one per image and each a class
 * of the model; the others take none. `call` names the function without
 * labels, whose name with _labels takes them. */
static int check_call_labels(const ae_model *m, const int *labels, int n, const char *call, ae_error *err)
{
    if (!m->classes && labels)
        return ae_fail(err, "%s_labels: the model is not conditional (no 'condition' layer): it takes no labels "
                       "(use %s)", call, call);
    if (m->classes && !labels)
        return ae_fail(err, "%s: the model is conditional on %d classes: give each image's label "
                       "(%s_labels)", call, m->classes, call);
    for (int i = 0; labels && i < n; i++)
        if (labels[i] < 0 || labels[i] >= m->classes)
            return ae_fail(err, "%s_labels: label %d (image %d) is not a class of the model (0 to %d)",
                           call, labels[i], i, m->classes - 1);
    return 0;
}

int model_check_labels(const ae_model *m, const ae_dataset *ds, ae_error *err)
{
    if (!m->classes) return 0;
    if (!ds->labels)
        return ae_fail(err, "%s: the model is conditional on %d classes, the data set has no labels",
                       ds->source, m->classes);
    for (int i = 0; i < ds->n; i++)
        if (ds->labels[i] >= m->classes)
            return ae_fail(err, "%s: image %d has label %d, the model is conditional on %d classes (0 to %d): "
                           "give its description 'param classes %d' or more", ds->source, i, ds->labels[i],
                           m->classes, m->classes - 1, ds->nclasses > ds->labels[i] ? ds->nclasses : ds->labels[i] + 1);
    return 0;
}

/* Runs layers [from, to) over n inputs of in_size floats and copies layer
 * to-1's output, deterministically (a VAE uses z = mean). labels: each
 * image's class (checked; NULL for a model that is not conditional). */
static int apply_layers(const ae_model *m, ae_workspace *ws, const float *x, const int *labels, int n,
                        float *out, int from, int to, const char *call, int threads, ae_error *err)
{
    if (check_call_labels(m, labels, n, call, err)) return -1;
    ae_workspace *tmp, *w = call_workspace(m, ws, n, &threads, &tmp, err);
    if (!w) return -1;
    size_t in_size = m->layers[from].in_size;
    size_t out_size = m->layers[to - 1].out_size;
    int nchunks = (n + APPLY_CHUNK - 1) / APPLY_CHUNK;
    #pragma omp parallel for schedule(static) num_threads(threads)
    for (int c = 0; c < nchunks; c++) {
        int t = omp_get_thread_num();
        int s = c * APPLY_CHUNK, cnt = n - s < APPLY_CHUNK ? n - s : APPLY_CHUNK;
        /* the caller's floats into the workspace first: the kernels may read
         * a little past an operand's end (dense_read_slack) */
        float *xin = work_input(w, t);
        memcpy(xin, x + (size_t)s * in_size, (size_t)cnt * in_size * sizeof(float));
        for (int i = 0; labels && i < cnt; i++) model_set_label(m, w, t, i, labels[s + i]);
        const float *y = model_forward_range(m, w, t, xin, cnt, from, to, PASS_MEAN);
        memcpy(out + (size_t)s * out_size, y, (size_t)cnt * out_size * sizeof(float));
    }
    ae_workspace_free(tmp);
    return 0;
}

int ae_model_reconstruct(const ae_model *m, ae_workspace *ws, const float *x, int n, float *y,
                         int threads, ae_error *err)
{
    return apply_layers(m, ws, x, NULL, n, y, 0, m->n_autoencoder, "ae_model_reconstruct", threads, err);
}

int ae_model_encode(const ae_model *m, ae_workspace *ws, const float *x, int n, float *codes,
                    int threads, ae_error *err)
{
    return apply_layers(m, ws, x, NULL, n, codes, 0, m->n_encoder, "ae_model_encode", threads, err);
}

int ae_model_decode(const ae_model *m, ae_workspace *ws, const float *codes, int n, float *y,
                    int threads, ae_error *err)
{
    return apply_layers(m, ws, codes, NULL, n, y, m->n_encoder, m->n_autoencoder, "ae_model_decode", threads, err);
}

int ae_model_class_count(const ae_model *m) { return m->classes; }

int ae_model_reconstruct_labels(const ae_model *m, ae_workspace *ws, const float *x, const int *labels, int n,
                                float *y, int threads, ae_error *err)
{
    if (!labels) return ae_fail(err, "ae_model_reconstruct_labels: no labels given");
    return apply_layers(m, ws, x, labels, n, y, 0, m->n_autoencoder, "ae_model_reconstruct", threads, err);
}

int ae_model_encode_labels(const ae_model *m, ae_workspace *ws, const float *x, const int *labels, int n,
                           float *codes, int threads, ae_error *err)
{
    if (!labels) return ae_fail(err, "ae_model_encode_labels: no labels given");
    return apply_layers(m, ws, x, labels, n, codes, 0, m->n_encoder, "ae_model_encode", threads, err);
}

int ae_model_decode_labels(const ae_model *m, ae_workspace *ws, const float *codes, const int *labels, int n,
                           float *y, int threads, ae_error *err)
{
    if (!labels) return ae_fail(err, "ae_model_decode_labels: no labels given");
    return apply_layers(m, ws, codes, labels, n, y, m->n_encoder, m->n_autoencoder, "ae_model_decode",
                        threads, err);
}

int ae_model_make_input(const ae_model *m, const float *images, int n, float *input, ae_error *err)
{
    if (n < 0) return ae_fail(err, "negative image count %d", n);
    size_t in_size = (size_t)m->in_c * m->in_h * m->in_w;
    if (m->in_h == m->out_h && m->in_w == m->out_w) {
        memcpy(input, images, (size_t)n * in_size * sizeof(float));
        return 0;
    }
    /* super-resolution: the input is the image average-pooled by the scale */
    avgpool2d_forward(input, images, n, m->out_c, m->out_h, m->out_w, m->out_h / m->in_h, 0);
    return 0;
}

int ae_model_latent_gaussian(const ae_model *m, float *mean, float *std, ae_error *err)
{
    const char *keys[2] = { "aekit.latent.mean", "aekit.latent.std" };
    float *dst[2] = { mean, std };
    size_t L = ae_model_latent_size(m);
    for (int k = 0; k < 2; k++) {
        const char *v = ae_model_meta(m, keys[k]);
        if (!v)
            return ae_fail(err, "the model has no fitted latent Gaussian (%s): train it with this "
                           "version of aekit, or fit one with ae_model_fit_latent", keys[k]);
        const char *p = v;
        for (size_t j = 0; j < L; j++) {
            char *end;
            double x = strtod(p, &end);
            if (end == p || !(fabs(x) <= FLT_MAX) || (j + 1 < L && *end != ',')) {
                size_t len = strcspn(p, ",");
                return ae_fail(err, "metadata %s: expected %zu comma-separated finite float numbers, "
                               "number %zu is '%.*s'", keys[k], L, j + 1, (int)(len < 40 ? len : 40), p);
            }
            dst[k][j] = (float)x;
            p = *end == ',' ? end + 1 : end;
        }
        if (*p) return ae_fail(err, "metadata %s: more than %zu numbers", keys[k], L);
    }
    return 0;
}

/* ae_model_sample and ae_model_sample_labels: the codes drawn, then decoded. */
static int sample_codes(const ae_model *m, ae_workspace *ws, const int *labels, int n, uint64_t seed,
                        float *images, int threads, ae_error *err)
{
    if (n < 0) return ae_fail(err, "negative image count %d", n);
    if (check_call_labels(m, labels, n, "ae_model_sample", err)) return -1;
    size_t L = ae_model_latent_size(m);
    float *codes = malloc((size_t)n * L * sizeof(float) + 2 * L * sizeof(float) + 1);
    if (!codes) return ae_fail(err, "out of memory for %d codes", n);
    float *mean = codes + (size_t)n * L, *std = mean + L;
    int prior = ae_model_is_variational(m) || ae_model_is_adversarial(m);
    if (prior) {
        for (size_t j = 0; j < L; j++) { mean[j] = 0.0f; std[j] = 1.0f; }
    } else if (ae_model_latent_gaussian(m, mean, std, err)) {
        free(codes);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        ae_rng r;
        ae_rng_seed(&r, seed ^ (0xa0761d6478bd642fULL * ((uint64_t)i + 1)));
        for (size_t j = 0; j < L; j++) codes[(size_t)i * L + j] = mean[j] + std[j] * ae_rng_normal(&r);
    }
    int rc = apply_layers(m, ws, codes, labels, n, images, m->n_encoder, m->n_autoencoder, "ae_model_sample",
                          threads, err);
    free(codes);
    return rc;
}

int ae_model_sample(const ae_model *m, ae_workspace *ws, int n, uint64_t seed, float *images,
                    int threads, ae_error *err)
{
    return sample_codes(m, ws, NULL, n, seed, images, threads, err);
}

int ae_model_sample_labels(const ae_model *m, ae_workspace *ws, const int *labels, int n, uint64_t seed,
                           float *images, int threads, ae_error *err)
{
    if (!labels) return ae_fail(err, "ae_model_sample_labels: no labels given");
    return sample_codes(m, ws, labels, n, seed, images, threads, err);
}

void model_load_chunk(const ae_model *m, ae_workspace *w, int t, const ae_dataset *ds,
                      const uint32_t *idx, int cnt, const ae_noise *noise, uint64_t noise_seed)
{
    float *target = work_target(w, t), *x = work_input(w, t);
    ae_dataset_batch(ds, idx, cnt, target);
    ae_model_make_input(m, target, cnt, x, NULL);
    for (int i = 0; m->classes && i < cnt; i++) model_set_label(m, w, t, i, ds->labels[idx[i]]);
    /* one seed stream per image index */
    noise_apply_images(noise, x, cnt, (size_t)m->in_c * m->in_h * m->in_w, noise_seed, idx, 0);
}

int ae_model_fit_latent(ae_model *m, ae_workspace *ws, const ae_dataset *ds, int threads, ae_error *err)
{
    return model_fit_latent(m, ws, ds, threads, NULL, err);
}

int model_fit_latent(ae_model *m, ae_workspace *ws, const ae_dataset *ds, int threads, const ae_ranks *ranks,
                     ae_error *err)
{
    if (ds->c != m->out_c || ds->h != m->out_h || ds->w != m->out_w)
        return ae_fail(err, "%s: images are %dx%dx%d, the model produces %dx%dx%d",
                       ds->source, ds->c, ds->h, ds->w, m->out_c, m->out_h, m->out_w);
    if (ds->n < 2) return ae_fail(err, "%s: need at least 2 images to fit a latent Gaussian", ds->source);
    if (model_check_labels(m, ds, err)) return -1;
    ae_workspace *tmp, *w = call_workspace(m, ws, ds->n, &threads, &tmp, err);
    if (!w) return -1;
    size_t L = ae_model_latent_size(m);
    int n = ds->n, nchunks = (n + APPLY_CHUNK - 1) / APPLY_CHUNK;
    /* per-chunk sums in double, added in chunk order */
    double *sums = calloc((size_t)nchunks * 2 * L, sizeof(double));
    if (!sums) {
        ae_workspace_free(tmp);
        return ae_fail(err, "out of memory");
    }
    int c0 = 0, mine = nchunks;   /* this process's chunks */
    if (ranks) thread_share(nchunks, ranks->size, ranks->rank, &c0, &mine);
    #pragma omp parallel for schedule(static) num_threads(threads)
    for (int c = c0; c < c0 + mine; c++) {
        int t = omp_get_thread_num();
        int s = c * APPLY_CHUNK, cnt = n - s < APPLY_CHUNK ? n - s : APPLY_CHUNK;
        uint32_t idx[APPLY_CHUNK];
        for (int i = 0; i < cnt; i++) idx[i] = (uint32_t)(s + i);
        model_load_chunk(m, w, t, ds, idx, cnt, NULL, 0);
        const float *z = model_forward_range(m, w, t, work_input(w, t), cnt, 0, m->n_encoder, PASS_MEAN);
        double *s1 = sums + (size_t)c * 2 * L, *s2 = s1 + L;
        for (int i = 0; i < cnt; i++)
            for (size_t j = 0; j < L; j++) {
                double v = z[(size_t)i * L + j];
                s1[j] += v;
                s2[j] += v * v;
            }
    }
    ae_workspace_free(tmp);
    if (ranks && ranks_gather(ranks, sums, 2 * L * sizeof(double), nchunks, err)) {
        free(sums);
        return -1;
    }
    size_t cap = L * 20 + 16;
    char *mean_s = malloc(cap), *std_s = malloc(cap);
    int rc = -1;
    if (!mean_s || !std_s) { ae_fail(err, "out of memory"); goto done; }
    size_t pm = 0, ps = 0;
    for (size_t j = 0; j < L; j++) {
        double a = 0, b = 0;
        for (int c = 0; c < nchunks; c++) {
            a += sums[(size_t)c * 2 * L + j];
            b += sums[(size_t)c * 2 * L + L + j];
        }
        double mean = a / n, var = b / n - mean * mean;
        pm += (size_t)snprintf(mean_s + pm, cap - pm, "%s%.9g", j ? "," : "", mean);
        ps += (size_t)snprintf(std_s + ps, cap - ps, "%s%.9g", j ? "," : "", sqrt(var > 0 ? var : 0));
    }
    rc = ae_model_set_meta(m, "aekit.latent.mean", mean_s, err) ||
         ae_model_set_meta(m, "aekit.latent.std", std_s, err) ? -1 : 0;
done:
    free(mean_s);
    free(std_s);
    free(sums);
    return rc;
}

int ae_evaluate(const ae_model *m, ae_workspace *ws, const ae_dataset *ds, const ae_noise *noise,
                ae_eval_result *res, int threads, ae_error *err)
{
    return model_evaluate(m, ws, ds, noise, res, NULL, threads, NULL, err);
}

int ae_evaluate_per_image(const ae_model *m, ae_workspace *ws, const ae_dataset *ds, const ae_noise *noise,
                          ae_eval_result *res, float *per_image, int threads, ae_error *err)
{
    return model_evaluate(m, ws, ds, noise, res, per_image, threads, NULL, err);
}

int model_evaluate(const ae_model *m, ae_workspace *ws, const ae_dataset *ds, const ae_noise *noise,
                   ae_eval_result *res, float *per_image, int threads, const ae_ranks *ranks, ae_error *err)
{
    if (ds->c != m->out_c || ds->h != m->out_h || ds->w != m->out_w)
        return ae_fail(err, "%s: images are %dx%dx%d, the model %s %dx%dx%d", ds->source, ds->c, ds->h,
                       ds->w, m->in_h == m->out_h ? "takes" : "produces", m->out_c, m->out_h, m->out_w);
    if (ds->n < 1) return ae_fail(err, "%s: no images to evaluate", ds->source);
    if (model_check_labels(m, ds, err)) return -1;
    ae_workspace *tmp, *w = call_workspace(m, ws, ds->n, &threads, &tmp, err);
    if (!w) return -1;
    int n = ds->n;
    int nchunks = (n + APPLY_CHUNK - 1) / APPLY_CHUNK;
    double *sums = calloc((size_t)nchunks * 3, sizeof(double));
    if (!sums) {
        ae_workspace_free(tmp);
        return ae_fail(err, "out of memory");
    }
    size_t out_size = (size_t)m->out_c * m->out_h * m->out_w;
    pass_mode mode = m->sample_layer >= 0 ? PASS_SAMPLE : PASS_MEAN;

    int c0 = 0, mine = nchunks;   /* this process's chunks */
    if (ranks) thread_share(nchunks, ranks->size, ranks->rank, &c0, &mine);
    #pragma omp parallel for schedule(static) num_threads(threads)
    for (int c = c0; c < c0 + mine; c++) {
        int t = omp_get_thread_num();
        int s = c * APPLY_CHUNK, cnt = n - s < APPLY_CHUNK ? n - s : APPLY_CHUNK;
        uint32_t idx[APPLY_CHUNK];
        for (int i = 0; i < cnt; i++) idx[i] = (uint32_t)(s + i);
        model_load_chunk(m, w, t, ds, idx, cnt, noise, AE_EVAL_NOISE_SEED);
        model_set_noise(w, t, EVAL_SAMPLE_SEED, (uint64_t)s);
        double recon, kl;
        model_recon_chunk(m, w, t, work_input(w, t), work_target(w, t), cnt, 0, 1.0, 0, mode, &recon, &kl);
        if (per_image) model_loss_per_image(m, w, t, work_target(w, t), cnt, per_image + s);
        const float *y = model_activation(m, w, t, m->n_autoencoder - 1, cnt);
        double sse = 0;
        const float *tg = work_target(w, t);
        for (size_t i = 0; i < (size_t)cnt * out_size; i++) {
            double d = (double)y[i] - tg[i];
            sse += d * d;
        }
        sums[3 * c] = recon;
        sums[3 * c + 1] = kl;
        sums[3 * c + 2] = sse;
    }
    if (ranks && ranks_gather(ranks, sums, 3 * sizeof(double), nchunks, err)) {
        free(sums);
        ae_workspace_free(tmp);
        return -1;
    }
    double recon = 0, kl = 0, sse = 0;
    for (int c = 0; c < nchunks; c++) {
        recon += sums[3 * c];
        kl += sums[3 * c + 1];
        sse += sums[3 * c + 2];
    }
    free(sums);
    ae_workspace_free(tmp);
    double denom = model_loss_denominator(m, n);
    res->recon = recon / denom;
    res->kl = kl / denom;
    res->loss = res->recon + res->kl;
    res->mse = sse / ((double)n * out_size);
    res->psnr = res->mse > 0 ? 10.0 * log10(1.0 / res->mse) : res->mse == 0 ? INFINITY : NAN;
    if (isfinite(res->loss) && isfinite(res->mse)) return 0;   /* then recon, kl and psnr are too */
    char bad[256];
    int nbad = ae_model_nonfinite_tensors(m, bad, sizeof bad);
    /* NaN as "nan" (a NaN's sign bit is noise) */
    double loss = isnan(res->loss) ? NAN : res->loss, mse = isnan(res->mse) ? NAN : res->mse;
    if (nbad)
        return ae_fail(err, "%s: the model gives non-finite results (loss %g, mse %g): its weights "
                       "hold NaN or infinite values in %s", ds->source, loss, mse, bad);
    return ae_fail(err, "%s: the model gives non-finite results (loss %g, mse %g) although its weights "
                   "are finite: a layer overflows the float range on these images", ds->source, loss, mse);
}
