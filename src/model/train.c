/* The training loop: shuffled mini-batches, one chunk per thread, gradient
 * sum in fixed thread order, optimiser update, validation after each epoch.
 * Everything it needs is allocated before the first step. */
#include "model/model.h"
#include "core/error.h"
#include "core/rng.h"
#include "optim/optim.h"

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

static void optimizer_step(ae_model *m, const ae_train_options *o, optim_state *st, const float *g, int threads)
{
    st->t++;
    size_t n = m->nparams;
    /* each thread updates its own slice: parallel, and the same result for any split */
    #pragma omp parallel num_threads(threads) if (n > 65536)
    {
        int t = omp_get_thread_num(), T = omp_get_num_threads();
        size_t lo = n * t / T, hi = n * (t + 1) / T;
        float *p = m->params + lo;
        switch (o->optimizer) {
        case AE_OPT_ADAM:
            adam_update(p, g + lo, st->s1 + lo, st->s2 + lo, hi - lo, o->lr, o->beta1, o->beta2, o->eps, st->t);
            break;
        case AE_OPT_RMSPROP:
            rmsprop_update(p, g + lo, st->s1 + lo, hi - lo, o->lr, o->alpha, o->eps);
            break;
        case AE_OPT_SGD:
            sgd_update(p, g + lo, st->s1 + lo, hi - lo, o->lr, o->momentum);
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

int ae_train(ae_model *m, const ae_dataset *train, const ae_dataset *val,
             const ae_train_options *opt, ae_progress_fn cb, void *user, ae_error *err)
{
    if (check_options(opt, err)) return -1;
    const ae_dataset *sets[2] = { train, val };
    for (int i = 0; i < 2; i++) {
        const ae_dataset *d = sets[i];
        if (!d) continue;
        if (d->c != m->in_c || d->h != m->in_h || d->w != m->in_w)
            return ae_fail(err, "%s: images are %dx%dx%d (channels x height x width), the model takes %dx%dx%d",
                           d->source, d->c, d->h, d->w, m->in_c, m->in_h, m->in_w);
    }
    if (train->n < 1) return ae_fail(err, "%s: no training images", train->source);

    int threads = resolve_threads(opt->threads);
    int B = opt->batch < train->n ? opt->batch : train->n;
    int per_thread = (B + threads - 1) / threads;
    if (work_reserve(m, per_thread, threads, err)) return -1;

    uint32_t n = (uint32_t)train->n;
    optim_state st = { 0 };
    int nstate = opt->optimizer == AE_OPT_ADAM ? 2 : 1;
    float *state = calloc(m->nparams * nstate + 1, sizeof(float));
    uint32_t *order = malloc(n * sizeof *order);
    if (!state || !order) {
        free(state); free(order);
        return ae_fail(err, "out of memory for optimiser state");
    }
    st.s1 = state;
    st.s2 = nstate == 2 ? state + m->nparams : NULL;
    for (uint32_t i = 0; i < n; i++) order[i] = i;

    /* weights from the seed itself (as ae_model_init), batches from a stream split off it */
    if (opt->init_weights) ae_model_init(m, opt->seed);
    ae_rng rng;
    ae_rng_seed(&rng, opt->seed);
    ae_rng shuffle_rng = ae_rng_split(&rng);

    size_t out_size = m->layers[m->nlayers - 1].out_size;
    int steps = (int)((n + (uint32_t)B - 1) / (uint32_t)B);
    double thread_loss[256];
    int rc = 0, stop = 0;

    for (int epoch = 1; epoch <= opt->epochs && !stop; epoch++) {
        ae_rng_shuffle(&shuffle_rng, order, n);
        double t0 = now_seconds(), loss_sum = 0;
        long seen = 0;
        for (int s = 0; s < steps && !stop; s++) {
            int b0 = s * B, nb = (int)n - b0 < B ? (int)n - b0 : B;
            float scale = (float)(1.0 / ((double)nb * out_size));
            #pragma omp parallel num_threads(threads)
            {
                int t = omp_get_thread_num();
                int base = nb / threads, rem = nb % threads;
                int cnt = base + (t < rem), off = t * base + (t < rem ? t : rem);
                float *x = work_input(m, t);
                if (cnt) ae_dataset_batch(train, order + b0 + off, cnt, x);
                thread_loss[t] = model_train_chunk(m, t, x, x, cnt, scale);
            }
            double loss = 0;
            for (int t = 0; t < threads; t++) loss += thread_loss[t];
            loss /= (double)nb * out_size;
            if (!isfinite(loss)) {
                rc = ae_fail(err, "training diverged: loss is %g at epoch %d, step %d (try a lower --lr)",
                             loss, epoch, s + 1);
                goto done;
            }
            sum_thread_grads(m, threads);
            optimizer_step(m, opt, &st, work_grad(m, 0), threads);
            loss_sum += loss * nb;
            seen += nb;
            if (cb) {
                double sec = now_seconds() - t0;
                ae_progress p = { .epoch = epoch, .epochs = opt->epochs, .step = s + 1, .steps = steps,
                                  .train_loss = loss_sum / seen, .val_loss = NAN, .val_mse = NAN,
                                  .seconds = sec, .images_per_second = sec > 0 ? seen / sec : 0 };
                if (cb(&p, user)) stop = 1;
            }
        }
        if (stop) break;   /* stopped mid-epoch: no validation, no end-of-epoch report */
        double sec = now_seconds() - t0;
        ae_progress p = { .epoch = epoch, .epochs = opt->epochs, .step = steps, .steps = steps,
                          .train_loss = loss_sum / (seen ? seen : 1), .val_loss = NAN, .val_mse = NAN,
                          .seconds = sec, .images_per_second = sec > 0 ? seen / sec : 0,
                          .end_of_epoch = 1 };
        if (val) {
            ae_eval_result r;
            if (ae_evaluate(m, val, threads, &r, err)) { rc = -1; goto done; }
            p.val_loss = r.loss;
            p.val_mse = r.mse;
        }
        if (cb && cb(&p, user)) stop = 1;
    }
done:
    free(state);
    free(order);
    return rc;
}
