/* Using a model: reconstruct, encode, evaluate. Images are processed in
 * chunks of APPLY_CHUNK per thread; per-chunk sums are added in chunk order
 * so results do not depend on the thread count. */
#include "model/model.h"
#include "core/error.h"
#include "loss/loss.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#define APPLY_CHUNK 64

static int prepare(ae_model *m, int n, int threads, ae_error *err)
{
    if (n < 0) return ae_fail(err, "negative image count %d", n);
    return work_reserve(m, APPLY_CHUNK, resolve_threads(threads), err);
}

/* Runs layers [0, upto) over n float images and copies layer upto-1's output. */
static int apply_layers(ae_model *m, const float *x, int n, float *out, int upto, int threads, ae_error *err)
{
    if (prepare(m, n, threads, err)) return -1;
    size_t in_size = (size_t)m->in_c * m->in_h * m->in_w;
    size_t out_size = m->layers[upto - 1].out_size;
    int nchunks = (n + APPLY_CHUNK - 1) / APPLY_CHUNK;
    #pragma omp parallel for schedule(static) num_threads(work_threads(m))
    for (int c = 0; c < nchunks; c++) {
        int t = omp_get_thread_num();
        int s = c * APPLY_CHUNK, cnt = n - s < APPLY_CHUNK ? n - s : APPLY_CHUNK;
        const float *y = model_forward_chunk(m, t, x + (size_t)s * in_size, cnt, upto);
        memcpy(out + (size_t)s * out_size, y, (size_t)cnt * out_size * sizeof(float));
    }
    return 0;
}

int ae_model_reconstruct(ae_model *m, const float *x, int n, float *y, int threads, ae_error *err)
{
    return apply_layers(m, x, n, y, m->nlayers, threads, err);
}

int ae_model_encode(ae_model *m, const float *x, int n, float *codes, int threads, ae_error *err)
{
    return apply_layers(m, x, n, codes, m->n_encoder, threads, err);
}

int ae_evaluate(ae_model *m, const ae_dataset *ds, int threads, ae_eval_result *res, ae_error *err)
{
    if (ds->c != m->in_c || ds->h != m->in_h || ds->w != m->in_w)
        return ae_fail(err, "%s: images are %dx%dx%d, the model takes %dx%dx%d",
                       ds->source, ds->c, ds->h, ds->w, m->in_c, m->in_h, m->in_w);
    if (ds->n < 1) return ae_fail(err, "%s: no images to evaluate", ds->source);
    if (prepare(m, ds->n, threads, err)) return -1;
    int n = ds->n;
    int nchunks = (n + APPLY_CHUNK - 1) / APPLY_CHUNK;
    double *sums = calloc((size_t)nchunks * 2, sizeof(double));
    if (!sums) return ae_fail(err, "out of memory");
    int logits = model_logits_layer(m);
    size_t in_size = (size_t)m->in_c * m->in_h * m->in_w;

    #pragma omp parallel for schedule(static) num_threads(work_threads(m))
    for (int c = 0; c < nchunks; c++) {
        int t = omp_get_thread_num();
        int s = c * APPLY_CHUNK, cnt = n - s < APPLY_CHUNK ? n - s : APPLY_CHUNK;
        uint32_t idx[APPLY_CHUNK];
        for (int i = 0; i < cnt; i++) idx[i] = (uint32_t)(s + i);
        float *x = work_input(m, t);
        ae_dataset_batch(ds, idx, cnt, x);
        const float *y = model_forward_chunk(m, t, x, cnt, m->nlayers);
        size_t count = (size_t)cnt * in_size;
        sums[2 * c + 1] = sse_loss(y, x, count);
        if (logits >= 0) {
            const float *z = model_activation(m, t, logits, cnt);
            sums[2 * c] = bce_logits_loss(z, x, count);
        }
    }
    double bce = 0, sse = 0;
    for (int c = 0; c < nchunks; c++) {
        bce += sums[2 * c];
        sse += sums[2 * c + 1];
    }
    free(sums);
    double count = (double)n * in_size;
    res->mse = sse / count;
    res->loss = logits >= 0 ? bce / count : res->mse;
    res->psnr = res->mse > 0 ? 10.0 * log10(1.0 / res->mse) : INFINITY;
    return 0;
}
