/* The training loop: shuffled mini-batches, one chunk per thread, gradient
 * sum in fixed thread order, optimiser update, validation after each epoch.
 * Everything it needs is allocated before the first step. */
#include "model/model.h"
#include "core/error.h"
#include "core/rng.h"
#include "optim/optim.h"
#include "loss/loss.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void ae_train_options_default(ae_train_options *o)
{
    memset(o, 0, sizeof *o);
    o->epochs = 25;
    o->batch = 128;
    o->lr = 1e-3;
    o->optimizer = AE_OPT_ADAM;
    o->beta1 = 0.9;
    o->beta2 = 0.999;
    o->eps = 1e-8;
    o->alpha = 0.99;
    o->momentum = 0.9;
    o->seed = 0;
    o->threads = 0;
    o->init_weights = 1;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int check_options(const ae_train_options *o, ae_error *err)
{
    if (o->epochs < 1) return ae_fail(err, "epochs must be at least 1, got %d", o->epochs);
    if (o->batch < 1) return ae_fail(err, "batch size must be at least 1, got %d", o->batch);
    if (!(o->lr > 0) || !isfinite(o->lr)) return ae_fail(err, "learning rate must be positive, got %g", o->lr);
    if (o->optimizer < AE_OPT_ADAM || o->optimizer > AE_OPT_SGD) return ae_fail(err, "unknown optimizer %d", (int)o->optimizer);
    if (!(o->beta1 >= 0 && o->beta1 < 1) || !(o->beta2 >= 0 && o->beta2 < 1))
        return ae_fail(err, "Adam betas must be in [0, 1)");
    if (!(o->eps > 0)) return ae_fail(err, "eps must be positive");
    if (!(o->alpha >= 0 && o->alpha < 1)) return ae_fail(err, "RMSprop alpha must be in [0, 1)");
    if (!(o->momentum >= 0 && o->momentum < 1)) return ae_fail(err, "momentum must be in [0, 1)");
    return 0;
}

/* Optimiser state: up to two arrays of nparams floats. */
typedef struct {
    float *s1, *s2;
    long   t;
} optim_state;

static int optim_alloc(optim_state *st, const ae_train_options *o, size_t nparams)
{
    int n = o->optimizer == AE_OPT_ADAM ? 2 : 1;
    st->s1 = calloc(nparams * n + 1, sizeof(float));
    st->s2 = n == 2 ? st->s1 + nparams : NULL;
    st->t = 0;
    return st->s1 ? 0 : -1;
}

/* Updates params [lo, hi) from gradient g (indexed like params). */
static void optimizer_step(ae_model *m, const ae_train_options *o, optim_state *st, const float *g,
                           size_t lo, size_t hi, int threads)
{
    st->t++;
    size_t n = hi - lo;
    /* each thread updates its own slice: parallel, and the same result for any split */
    #pragma omp parallel num_threads(threads) if (n > 65536)
    {
        int t = omp_get_thread_num(), T = omp_get_num_threads();
        size_t a = lo + n * t / T, b = lo + n * (t + 1) / T;
        float *p = m->params + a;
        switch (o->optimizer) {
        case AE_OPT_ADAM:
            adam_update(p, g + a, st->s1 + a, st->s2 + a, b - a, o->lr, o->beta1, o->beta2, o->eps, st->t);
            break;
        case AE_OPT_RMSPROP:
            rmsprop_update(p, g + a, st->s1 + a, b - a, o->lr, o->alpha, o->eps);
            break;
        case AE_OPT_SGD:
            sgd_update(p, g + a, st->s1 + a, b - a, o->lr, o->momentum);
            break;
        }
    }
}

/* grad[0] += grad[1] + ... + grad[T-1], in that order for every element. */
static void sum_thread_grads(ae_model *m, int threads)
{
    if (threads < 2) return;
    float *g0 = work_grad(m, 0);
    long n = (long)m->nparams;
    #pragma omp parallel for schedule(static) num_threads(threads) if (n > 65536)
    for (long i = 0; i < n; i++) {
        float s = g0[i];
        for (int t = 1; t < threads; t++) s += work_grad(m, t)[i];
        g0[i] = s;
    }
}

/* Where each part's parameters start: encoder [0, enc), decoder [enc, ae),
 * discriminator [ae, nparams). */
static void part_bounds(const ae_model *m, size_t *enc, size_t *ae)
{
    /* parameters are laid out in layer order, so each part is one range */
    *enc = *ae = m->nparams;
    for (int i = m->nlayers - 1; i >= 0; i--) {
        const ae_layer *l = &m->layers[i];
        if (i >= m->n_encoder && i < m->n_autoencoder) *enc = l->w_off;
        if (i >= m->n_autoencoder) *ae = l->w_off;
    }
    if (*enc > *ae) *enc = *ae;
}

/* The three phases of an adversarial autoencoder's step, after the
 * reconstruction phase: train the discriminator on prior samples (real)
 * against the encoder's codes (fake), then train the encoder to make the
 * discriminator call its codes real. Returns the number of correct
 * discriminator decisions on this batch. */
typedef struct {
    optim_state *disc, *gen;
    uint64_t seed;       /* prior samples */
    size_t enc_end, ae_end;
} aae_ctx;

static long aae_phases(ae_model *m, const ae_train_options *opt, aae_ctx *a, const uint32_t *order,
                       int nb, int threads)
{
    int logit = m->nlayers - 2;           /* the discriminator's pre-sigmoid value */
    int L = (int)m->layers[m->n_encoder - 1].out_size;
    float scale = 1.0f / (float)nb;
    long correct[256] = { 0 };
    (void)order;

    /* discriminator: real = N(0, I) samples, fake = codes (no encoder gradient) */
    #pragma omp parallel num_threads(threads)
    {
        int t = omp_get_thread_num();
        int base = nb / threads, rem = nb % threads;
        int cnt = base + (t < rem), off = t * base + (t < rem ? t : rem);
        float *grad = work_grad(m, t), *lab = work_target(m, t), *prior = work_eps(m, t);
        memset(grad, 0, m->nparams * sizeof(float));
        if (cnt) {
            const float *x = work_input(m, t);
            const float *codes = model_forward_range(m, t, x, cnt, 0, m->n_encoder, PASS_MEAN);
            for (int i = 0; i < cnt; i++) {
                ae_rng r;
                ae_rng_seed(&r, a->seed ^ (0x8ebc6af09c88c6e3ULL * ((uint64_t)(off + i) + 1)));
                for (int j = 0; j < L; j++) prior[(size_t)i * L + j] = ae_rng_normal(&r);
            }
            for (int pass = 0; pass < 2; pass++) {
                const float *in = pass == 0 ? prior : codes;
                float label = pass == 0 ? 1.0f : 0.0f;
                const float *z = model_forward_range(m, t, in, cnt, m->n_autoencoder, logit + 1, PASS_MEAN);
                for (int i = 0; i < cnt; i++) {
                    lab[i] = label;
                    correct[t] += (z[i] > 0.0f) == (label > 0.5f);
                }
                bce_logits_backward(model_grad_buffer(m, t), z, lab, (size_t)cnt, scale);
                model_backward_range(m, t, in, cnt, m->n_autoencoder, logit + 1, 0, 0);
            }
        }
    }
    sum_thread_grads(m, threads);
    optimizer_step(m, opt, a->disc, work_grad(m, 0), a->ae_end, m->nparams, threads);

    /* generator: the encoder learns to make its codes look like prior samples */
    #pragma omp parallel num_threads(threads)
    {
        int t = omp_get_thread_num();
        int base = nb / threads, rem = nb % threads;
        int cnt = base + (t < rem);
        float *grad = work_grad(m, t), *lab = work_target(m, t);
        memset(grad, 0, m->nparams * sizeof(float));
        if (cnt) {
            const float *x = work_input(m, t);
            const float *codes = model_forward_range(m, t, x, cnt, 0, m->n_encoder, PASS_MEAN);
            const float *z = model_forward_range(m, t, codes, cnt, m->n_autoencoder, logit + 1, PASS_MEAN);
            for (int i = 0; i < cnt; i++) lab[i] = 1.0f;
            bce_logits_backward(model_grad_buffer(m, t), z, lab, (size_t)cnt, scale);
            model_backward_range(m, t, codes, cnt, m->n_autoencoder, logit + 1, 0, 1);
            model_backward_range(m, t, x, cnt, 0, m->n_encoder, 0, 0);
        }
    }
    sum_thread_grads(m, threads);
    optimizer_step(m, opt, a->gen, work_grad(m, 0), 0, a->enc_end, threads);
    long total = 0;
    for (int t = 0; t < threads; t++) total += correct[t];
    return total;
}

int ae_train(ae_model *m, const ae_dataset *train, const ae_dataset *val,
             const ae_train_options *opt, ae_progress_fn cb, void *user, ae_error *err)
{
    if (check_options(opt, err)) return -1;
    const ae_dataset *sets[2] = { train, val };
    for (int i = 0; i < 2; i++) {
        const ae_dataset *d = sets[i];
        if (!d) continue;
        if (d->c != m->out_c || d->h != m->out_h || d->w != m->out_w)
            return ae_fail(err, "%s: images are %dx%dx%d (channels x height x width), the model %s %dx%dx%d",
                           d->source, d->c, d->h, d->w, m->in_h == m->out_h ? "takes" : "produces",
                           m->out_c, m->out_h, m->out_w);
    }
    if (train->n < 1) return ae_fail(err, "%s: no training images", train->source);

    int threads = resolve_threads(opt->threads);
    int B = opt->batch < train->n ? opt->batch : train->n;
    int per_thread = (B + threads - 1) / threads;
    if (work_reserve(m, per_thread, threads, err)) return -1;

    int adversarial = ae_model_is_adversarial(m);
    uint32_t n = (uint32_t)train->n;
    optim_state st = { 0 }, st_disc = { 0 }, st_gen = { 0 };
    uint32_t *order = malloc(n * sizeof *order);
    int rc = 0, stop = 0;
    if (!order || optim_alloc(&st, opt, m->nparams) ||
        (adversarial && (optim_alloc(&st_disc, opt, m->nparams) || optim_alloc(&st_gen, opt, m->nparams)))) {
        rc = ae_fail(err, "out of memory for optimiser state");
        goto done;
    }
    for (uint32_t i = 0; i < n; i++) order[i] = i;
    size_t enc_end, ae_end;
    part_bounds(m, &enc_end, &ae_end);

    /* weights from the seed itself (as ae_model_init); shuffling, VAE noise,
     * input noise and prior samples from streams split off it */
    if (opt->init_weights) ae_model_init(m, opt->seed);
    ae_rng rng;
    ae_rng_seed(&rng, opt->seed);
    ae_rng shuffle_rng = ae_rng_split(&rng), step_rng = ae_rng_split(&rng);
    uint64_t noise_seed = ae_rng_u64(&rng);
    aae_ctx aae = { &st_disc, &st_gen, 0, enc_end, ae_end };

    int steps = (int)((n + (uint32_t)B - 1) / (uint32_t)B);
    pass_mode mode = m->sample_layer >= 0 ? PASS_SAMPLE : PASS_MEAN;
    double thread_loss[256], thread_kl[256];

    for (int epoch = 1; epoch <= opt->epochs && !stop; epoch++) {
        ae_rng_shuffle(&shuffle_rng, order, n);
        double t0 = now_seconds(), loss_sum = 0;
        long seen = 0, disc_correct = 0;
        for (int s = 0; s < steps && !stop; s++) {
            int b0 = s * B, nb = (int)n - b0 < B ? (int)n - b0 : B;
            float scale = (float)(1.0 / model_loss_denominator(m, nb));
            uint64_t step_seed = ae_rng_u64(&step_rng);
            #pragma omp parallel num_threads(threads)
            {
                int t = omp_get_thread_num();
                int base = nb / threads, rem = nb % threads;
                int cnt = base + (t < rem), off = t * base + (t < rem ? t : rem);
                if (cnt) model_load_chunk(m, t, train, order + b0 + off, cnt, &opt->noise, noise_seed);
                model_set_noise(m, t, step_seed, (uint64_t)off);
                double recon;
                thread_loss[t] = model_recon_chunk(m, t, work_input(m, t), work_target(m, t), cnt, scale,
                                                   1, mode, &recon, &thread_kl[t]);
            }
            double loss = 0;
            for (int t = 0; t < threads; t++) loss += thread_loss[t];
            loss /= model_loss_denominator(m, nb);
            if (!isfinite(loss)) {
                rc = ae_fail(err, "training diverged: loss is %g at epoch %d, step %d (try a lower --lr)",
                             loss, epoch, s + 1);
                goto done;
            }
            sum_thread_grads(m, threads);
            optimizer_step(m, opt, &st, work_grad(m, 0), 0, ae_end, threads);
            if (adversarial) {
                aae.seed = step_seed ^ 0x5a5a5a5a5a5a5a5aULL;
                disc_correct += aae_phases(m, opt, &aae, order + b0, nb, threads);
            }
            loss_sum += loss * nb;
            seen += nb;
            if (cb) {
                double sec = now_seconds() - t0;
                ae_progress p = { .epoch = epoch, .epochs = opt->epochs, .step = s + 1, .steps = steps,
                                  .train_loss = loss_sum / seen, .val_loss = NAN, .val_mse = NAN,
                                  .val_recon = NAN, .val_kl = NAN,
                                  .disc_accuracy = adversarial ? disc_correct / (2.0 * seen) : NAN,
                                  .seconds = sec, .images_per_second = sec > 0 ? seen / sec : 0 };
                if (cb(&p, user)) stop = 1;
            }
        }
        if (stop) break;   /* stopped mid-epoch: no validation, no end-of-epoch report */
        double sec = now_seconds() - t0;
        ae_progress p = { .epoch = epoch, .epochs = opt->epochs, .step = steps, .steps = steps,
                          .train_loss = loss_sum / (seen ? seen : 1), .val_loss = NAN, .val_mse = NAN,
                          .val_recon = NAN, .val_kl = NAN,
                          .disc_accuracy = adversarial ? disc_correct / (2.0 * (seen ? seen : 1)) : NAN,
                          .seconds = sec, .images_per_second = sec > 0 ? seen / sec : 0,
                          .end_of_epoch = 1 };
        if (val) {
            ae_eval_result r;
            if (ae_evaluate_ex(m, val, &opt->noise, threads, &r, err)) { rc = -1; goto done; }
            p.val_loss = r.loss;
            p.val_mse = r.mse;
            p.val_recon = r.recon;
            p.val_kl = r.kl;
        }
        if (cb && cb(&p, user)) stop = 1;
    }
    /* a plain autoencoder remembers where its codes live, so `sample` can
     * draw new ones (a VAE or AAE samples from its prior instead) */
    if (rc == 0 && !ae_model_is_variational(m) && !adversarial)
        rc = ae_model_fit_latent(m, train, threads, err);
done:
    free(st.s1);
    free(st_disc.s1);
    free(st_gen.s1);
    free(order);
    return rc;
}
