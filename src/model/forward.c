/* Forward and backward passes over a chunk of images on one thread, and the
 * working memory they use. A batch is split into one contiguous chunk per
 * thread; each thread runs the whole network on its chunk with its own
 * activations and its own parameter-gradient buffer, so threads never
 * share writes. Gradients are summed across threads in a fixed order
 * afterwards, which keeps runs bit-identical for a given thread count. */
#include "model/model.h"
#include "model/layer_kinds.h"
#include "core/error.h"
#include "core/rng.h"
#include "core/threads.h"
#include "loss/loss.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

#define TRAIN_SLICE 16  /* images per forward/backward pass in training */

/* What a model needs from a workspace, per thread: the sizes its buffers
 * are cut to. Two models with the same needs can share workspaces. */
typedef struct {
    size_t in_size, out_size, latent;   /* floats per image */
    size_t act, max_act;                /* all layers' outputs; the largest layer */
    size_t scratch;                     /* kernel scratch for per_thread images */
    size_t nparams;
    size_t classes;                     /* one-hot label values per image */
} work_needs;

struct ae_workspace {
    int    per_thread, threads, gradients;
    work_needs needs;    /* of the model it was made for */
    float *mem;          /* one allocation for everything below */
    float **xin;         /* per thread: input images (per_thread * in_size) */
    float **target;      /* per thread: target images (per_thread * out_size) */
    float **eps;         /* per thread: VAE sampling noise (per_thread * latent) */
    float **onehot;      /* per thread: one-hot labels (per_thread * classes) */
    int      *label_first;/* per thread: the image of the chunk the pass starts at */
    uint64_t *noise_seed, *noise_first;  /* per thread: model_set_noise()  */
    int      *eps_used;   /* per thread: the last forward sampled with eps  */
    float **act;         /* per thread: every layer's output             */
    float **ga, **gb;    /* per thread: ping-pong activation gradients (training) */
    float **ws;          /* per thread: kernel scratch                   */
    float **grad;        /* per thread: parameter gradients (training: nparams) */
};

static work_needs needs_of(const ae_model *m, int per_thread)
{
    work_needs n = { 0 };
    n.in_size = (size_t)m->in_c * m->in_h * m->in_w;
    n.out_size = (size_t)m->out_c * m->out_h * m->out_w;
    n.latent = m->layers[m->n_encoder - 1].out_size;
    n.act = m->act_per_image;
    n.max_act = m->max_act;
    for (int i = 0; i < m->nlayers; i++)
        if (m->layers[i].kind == L_CONV) {
            size_t s = conv2d_workspace(&m->layers[i].conv, per_thread);
            if (s > n.scratch) n.scratch = s;
        }
    n.nparams = m->nparams;
    n.classes = (size_t)m->classes;
    return n;
}

void ae_workspace_free(ae_workspace *w)
{
    if (!w) return;
    free(w->mem);
    free(w->xin);
    free(w->noise_seed);
    free(w);
}

static size_t round16(size_t n) { return (n + 15) & ~(size_t)15; } /* 64-byte multiples */

int workspace_new(ae_workspace **out, const ae_model *m, int per_thread, int threads, int gradients,
                  ae_error *err)
{
    *out = NULL;
    /* every workspace can also run the inference calls, chunk by chunk */
    if (per_thread < APPLY_CHUNK) per_thread = APPLY_CHUNK;
    work_needs need = needs_of(m, per_thread);
    /* the input buffer also takes a decoder's input (the latent): the
     * inference calls copy a caller's images or codes into it */
    size_t n_x = round16((need.in_size > need.latent ? need.in_size : need.latent) * per_thread);
    size_t n_t = round16(need.out_size * per_thread);
    size_t n_e = round16(need.latent * per_thread);   /* VAE eps, AAE prior samples */
    size_t n_c = round16(need.classes * per_thread);  /* 0 but for conditional models */
    size_t n_act = round16(need.act * per_thread);
    size_t n_g = gradients ? round16(need.max_act * per_thread) : 0;
    size_t n_ws = round16(need.scratch);
    size_t n_grad = gradients ? round16(need.nparams) : 0;
    size_t per = n_x + n_t + n_e + n_c + n_act + 2 * n_g + n_ws + n_grad;

    ae_workspace *w = calloc(1, sizeof *w);
    float **ptrs = calloc((size_t)threads * 9, sizeof(float *));
    uint64_t *seeds = calloc((size_t)threads * 4, sizeof(uint64_t));
    size_t total = per * threads + round16(model_read_slack(m));   /* slack after the last buffer */
    float *mem = aligned_alloc(64, total * sizeof(float));
    if (!w || !ptrs || !mem || !seeds) {
        free(w); free(ptrs); free(mem); free(seeds);
        return ae_fail(err, "out of memory for working buffers (%zu MiB)",
                       per * threads * sizeof(float) >> 20);
    }
    memset(mem, 0, total * sizeof(float));
    w->per_thread = per_thread;
    w->threads = threads;
    w->gradients = gradients;
    w->needs = need;
    w->mem = mem;
    w->xin = ptrs;
    w->act = ptrs + threads;
    w->ga = ptrs + 2 * threads;
    w->gb = ptrs + 3 * threads;
    w->ws = ptrs + 4 * threads;
    w->grad = ptrs + 5 * threads;
    w->target = ptrs + 6 * threads;
    w->eps = ptrs + 7 * threads;
    w->onehot = ptrs + 8 * threads;
    w->noise_seed = seeds;
    w->noise_first = seeds + threads;
    w->eps_used = (int *)(seeds + 2 * threads);
    w->label_first = (int *)(seeds + 3 * threads);
    for (int t = 0; t < threads; t++) {
        float *p = mem + per * t;
        w->xin[t] = p;  p += n_x;
        w->target[t] = p; p += n_t;
        w->eps[t] = p;  p += n_e;
        w->onehot[t] = p; p += n_c;
        w->act[t] = p;  p += n_act;
        w->ws[t] = p;   p += n_ws;
        if (gradients) {
            w->ga[t] = p;   p += n_g;
            w->gb[t] = p;   p += n_g;
            w->grad[t] = p;
        }
    }
    *out = w;
    return 0;
}

int ae_workspace_new(ae_workspace **out, const ae_model *m, int threads, ae_error *err)
{
    *out = NULL;
    int t = threads_resolve(threads, err);
    return t < 0 ? -1 : workspace_new(out, m, APPLY_CHUNK, t, 0, err);
}

int workspace_check(const ae_workspace *w, const ae_model *m, int threads, ae_error *err)
{
    work_needs need = needs_of(m, w->per_thread);
    if (memcmp(&need, &w->needs, sizeof need) != 0)
        return ae_fail(err, "the workspace was made for a model of another shape (%zu parameters, "
                       "%zu activations per image), this model has %zu and %zu: make one with "
                       "ae_workspace_new for it", w->needs.nparams, w->needs.act, need.nparams, need.act);
    if (threads > w->threads)
        return ae_fail(err, "the workspace has buffers for %d thread%s, the call asks for %d",
                       w->threads, w->threads == 1 ? "" : "s", threads);
    return 0;
}

int work_threads(const ae_workspace *w) { return w->threads; }
float *work_grad(ae_workspace *w, int t) { return w->grad[t]; }
float *work_input(ae_workspace *w, int t) { return w->xin[t]; }
float *work_target(ae_workspace *w, int t) { return w->target[t]; }
float *work_eps(ae_workspace *w, int t) { return w->eps[t]; }
float *model_grad_buffer(ae_workspace *w, int t) { return w->ga[t]; }

void model_set_noise(ae_workspace *w, int t, uint64_t seed, uint64_t first_id)
{
    w->noise_seed[t] = seed;
    w->noise_first[t] = first_id;
}

void model_set_label(const ae_model *m, ae_workspace *w, int t, int i, int label)
{
    float *row = w->onehot[t] + (size_t)i * m->classes;
    for (int k = 0; k < m->classes; k++) row[k] = k == label ? 1.0f : 0.0f;
}

/* Standard-normal eps for n images of L values, image i from (seed, first+i). */
static void fill_eps(float *eps, int n, int L, uint64_t seed, uint64_t first)
{
    for (int i = 0; i < n; i++) {
        ae_rng r;
        ae_rng_seed(&r, seed ^ (0x9e3779b97f4a7c15ULL * (first + (uint64_t)i + 1)));
        ae_rng_normals(&r, eps + (size_t)i * L, (size_t)L);
    }
}

static void layer_forward(const ae_model *m, const ae_layer *l, const float *x, float *y, int n,
                          float *ws, const float *eps)
{
    const float *W = m->params + l->w_off;
    const float *B = l->b_count ? m->params + l->b_off : NULL;
    layer_kinds[l->kind].forward(l, W, B, x, y, n, ws, eps);
}

/* dx may be NULL (first layer): only parameter gradients are wanted. */
static void layer_backward(const ae_model *m, const ae_layer *l, float *dx, const float *dy,
                           const float *x, const float *y, int n, float *grad, float *ws,
                           const float *eps, float kl_scale)
{
    const float *W = m->params + l->w_off;
    float *dW = grad + l->w_off;
    float *dB = l->b_count ? grad + l->b_off : NULL;
    if (!dx && !l->w_count) return;
    layer_kinds[l->kind].backward(l, W, dW, dB, dx, dy, x, y, n, ws, eps, kl_scale);
}

const float *model_activation(const ae_model *m, const ae_workspace *w, int t, int layer, int n)
{
    return w->act[t] + m->layers[layer].act_off * n;
}

const float *model_forward_range(const ae_model *m, ae_workspace *w, int t, const float *x, int n,
                                 int from, int to, pass_mode mode)
{
    const float *in = x;
    for (int i = from; i < to; i++) {
        const ae_layer *l = &m->layers[i];
        float *out = w->act[t] + l->act_off * n;
        const float *eps = NULL;
        if (l->kind == L_SAMPLE) {
            w->eps_used[t] = mode == PASS_SAMPLE;
            if (mode == PASS_SAMPLE) {
                fill_eps(w->eps[t], n, l->out_c, w->noise_seed[t], w->noise_first[t]);
                eps = w->eps[t];
            }
        } else if (l->kind == L_CONDITION) {
            eps = w->onehot[t] + (size_t)w->label_first[t] * m->classes;
        }
        if (l->kind == L_CONV && i + 1 < to && m->layers[i + 1].kind == L_RELU) {
            /* conv -> relu: the conv's kernel writes the ReLU's output only,
             * the same values as the two layers one after the other without
             * writing and reading back megabytes of conv output. Nothing
             * reads the conv's own output then (the ReLU's backward reads
             * its output, the conv's its input), so its buffer is left as is. */
            float *rout = w->act[t] + m->layers[i + 1].act_off * n;
            conv2d_relu_forward(NULL, rout, in, m->params + l->w_off, l->b_count ? m->params + l->b_off : NULL,
                                n, &l->conv, w->ws[t]);
            in = rout;
            i++;   /* the ReLU is done */
            continue;
        }
        layer_forward(m, l, in, out, n, w->ws[t], eps);
        in = out;
    }
    return in;
}

float *model_backward_range(const ae_model *m, ae_workspace *w, int t, const float *x, int n,
                            int from, int to, float kl_scale, int want_dx)
{
    float *g = w->ga[t], *g_next = w->gb[t];
    for (int i = to - 1; i >= from; i--) {
        const ae_layer *l = &m->layers[i];
        const float *xin = i > from ? w->act[t] + m->layers[i - 1].act_off * n : x;
        const float *y = w->act[t] + l->act_off * n;
        if (l->kind == L_UPSAMPLE && i > from && m->layers[i - 1].kind == L_RELU) {
            /* conv -> relu -> upsample: likewise */
            float *dx = (i - 1 > from || want_dx) ? g_next : NULL;
            if (dx) upsample2d_relu_backward(dx, g, xin, n, l->in_c, l->in_h, l->in_w, l->scale);
            float *tmp = g; g = g_next; g_next = tmp;
            i--;
            continue;
        }
        if (l->kind == L_MAXPOOL && i > from && m->layers[i - 1].kind == L_RELU) {
            /* conv -> relu -> maxpool: both backwards in one pass over
             * the ReLU's output (the pool's input) */
            float *dx = (i - 1 > from || want_dx) ? g_next : NULL;
            if (dx)
                maxpool2d_relu_backward(dx, g, xin, n, l->in_c, l->in_h, l->in_w, l->k, l->ceil_mode);
            float *tmp = g; g = g_next; g_next = tmp;
            i--;   /* the ReLU is done */
            continue;
        }
        float *dx = (i > from || want_dx) ? g_next : NULL;
        layer_backward(m, l, dx, g, xin, y, n, w->grad[t], w->ws[t],
                       w->eps_used[t] ? w->eps[t] : NULL, kl_scale);
        float *tmp = g; g = g_next; g_next = tmp;
    }
    /* the two buffers swapped once per layer: `g` now holds the input gradient */
    if (!want_dx) return NULL;
    /* keep the contract that the top gradient lives in ga: move it there */
    if (g != w->ga[t]) {
        memcpy(w->ga[t], g, (size_t)n * m->layers[from].in_size * sizeof(float));
        g = w->ga[t];
    }
    return g;
}

double model_loss_denominator(const ae_model *m, long n)
{
    size_t out_size = (size_t)m->out_c * m->out_h * m->out_w;
    return (m->loss == AE_LOSS_BCE || m->loss == AE_LOSS_MSE) ? (double)n * out_size : (double)n;
}

/* The layer the loss reads: the logits for BCE (the final sigmoid's
 * input), else the output. */
static int loss_layer(const ae_model *m)
{
    int logits = model_logits_layer(m);
    return logits >= 0 ? logits : m->n_autoencoder - 1;
}

/* One forward + loss + backward over n images (grads accumulate). */
static double recon_pass(const ae_model *m, ae_workspace *w, int t, const float *x,
                         const float *target, int n, float scale, double kl_weight, int train,
                         pass_mode mode, double *recon, double *kl)
{
    int logits = model_logits_layer(m);
    int last = loss_layer(m);
    /* the final sigmoid is skipped when training: BCE is computed from its
     * input, the logits (evaluation runs it too, for the MSE of the output) */
    const float *out = model_forward_range(m, w, t, x, n, 0, train ? last + 1 : m->n_autoencoder, mode);
    if (!train && logits >= 0) out = model_activation(m, w, t, logits, n);
    size_t count = (size_t)n * m->layers[last].out_size;
    float *g = train ? model_grad_buffer(w, t) : NULL;
    if (logits >= 0) {
        *recon = bce_logits_loss(out, target, count);
        if (train) bce_logits_backward(g, out, target, count, scale);
    } else {
        *recon = sse_loss(out, target, count);
        if (train) sse_backward(g, out, target, count, scale);
    }
    *kl = 0;
    if (m->sample_layer >= 0)
        *kl = sample_kl(model_activation(m, w, t, m->sample_layer - 1, n), n,
                        m->layers[m->sample_layer].out_c);
    if (train) {
        /* the KL term's gradient: scale * weight * dKL/dh, added by the
         * sampling layer (weight 1: scale itself, the same bits) */
        model_backward_range(m, w, t, x, n, 0, last + 1, scale * (float)kl_weight, 0);
    }
    return *recon + kl_weight * *kl;
}

void model_loss_per_image(const ae_model *m, const ae_workspace *w, int t, const float *target, int n,
                          float *loss)
{
    int last = loss_layer(m), bce = model_logits_layer(m) >= 0;
    const float *out = model_activation(m, w, t, last, n);
    size_t size = m->layers[last].out_size;
    const float *h = m->sample_layer >= 0 ? model_activation(m, w, t, m->sample_layer - 1, n) : NULL;
    int L = h ? m->layers[m->sample_layer].out_c : 0;
    double denom = model_loss_denominator(m, 1);
    for (int i = 0; i < n; i++) {
        const float *y = out + (size_t)i * size, *tg = target + (size_t)i * size;
        double recon = bce ? bce_logits_loss(y, tg, size) : sse_loss(y, tg, size);
        double kl = h ? sample_kl(h + (size_t)i * 2 * L, 1, L) : 0.0;
        loss[i] = (float)((recon + kl) / denom);
    }
}

double model_recon_chunk(const ae_model *m, ae_workspace *w, int t, const float *x,
                         const float *target, int n, float scale, double kl_weight, int train,
                         pass_mode mode, double *recon, double *kl)
{
    *recon = *kl = 0;
    if (train) memset(w->grad[t], 0, m->nparams * sizeof(float));
    if (n <= 0) return 0.0;
    if (!train) return recon_pass(m, w, t, x, target, n, scale, kl_weight, 0, mode, recon, kl);
    /* Training runs the thread's chunk in slices of TRAIN_SLICE images, each
     * forward then backward: a slice's activations (about 4 MB for 16 conv
     * AE images) stay in the core's cache between the two passes, where a
     * whole 64-image chunk would go out to L3 and back
     * (bench/layer_bench.c). Parameter gradients accumulate over the
     * slices; each image keeps its own sampling noise. */
    size_t in_size = (size_t)m->in_c * m->in_h * m->in_w;
    size_t out_size = (size_t)m->out_c * m->out_h * m->out_w;
    uint64_t first = w->noise_first[t];
    double total = 0;
    for (int i = 0; i < n; i += TRAIN_SLICE) {
        int c = n - i < TRAIN_SLICE ? n - i : TRAIN_SLICE;
        double r, k;
        w->noise_first[t] = first + (uint64_t)i;
        w->label_first[t] = i;
        total += recon_pass(m, w, t, x + (size_t)i * in_size, target + (size_t)i * out_size, c, scale,
                            kl_weight, 1, mode, &r, &k);
        *recon += r;
        *kl += k;
    }
    w->noise_first[t] = first;
    w->label_first[t] = 0;
    return total;
}
