/* The training loop: shuffled mini-batches, one chunk per thread, gradient
 * sum in fixed thread order, optimiser update, validation after each epoch.
 * Across processes (ae_train_ranks) one chunk per rank and thread, summed
 * in the same order through ranks.c. Everything it needs is allocated
 * before the first step. */
#define _POSIX_C_SOURCE 200809L  /* clock_gettime */
#include "model/model.h"
#include "model/train_state.h"
#include "model/checkpoint.h"
#include "model/ranks.h"
#include "core/error.h"
#include "core/threads.h"
#include "core/rng.h"
#include "optim/optim.h"
#include "loss/loss.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* What to change after a divergence, by the options table's names (as C's
 * ae_train_options and Python's keywords spell them; the CLI shows its
 * flags instead, cli_option_flags). */
#define DIVERGED_FIX "try a lower learning rate (option lr) or gradient clipping (option clip_grad)"

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Updates params [st->lo, st->hi) from gradient g (indexed like params). */
static void optimizer_step(ae_model *m, const ae_train_options *o, optim_state *st, const float *g,
                           int threads)
{
    optim_step(o, st, m->params, g, threads);
}

/* grad[0] += grad[1] + ... + grad[T-1], in that order for every element. */
static void sum_thread_grads(const ae_model *m, ae_workspace *ws, int threads)
{
    if (threads < 2) return;
    float *g0 = work_grad(ws, 0);
    long n = (long)m->nparams;
    /* thread by thread over each element's slice, adding in thread order */
    #pragma omp parallel num_threads(threads) if (n > 65536)
    {
        int k = omp_get_thread_num(), K = omp_get_num_threads();
        long a = n * k / K, b = n * (k + 1) / K;
        for (int t = 1; t < threads; t++) {
            const float *restrict gt = work_grad(ws, t);
            float *restrict d = g0;
            for (long i = a; i < b; i++) d[i] += gt[i];
        }
    }
}

/* The share of a batch of nb images that thread t of this process takes:
 * worker rank * threads + t of size * threads (one process: thread t). */
static void worker_share(const ranks_run *rk, int nb, int threads, int t, int *off, int *cnt)
{
    int size = rk->r ? rk->r->size : 1, rank = rk->r ? rk->r->rank : 0;
    thread_share(nb, size * threads, rank * threads + t, off, cnt);
}

/* ---- divergence and gradient clipping ---------------------------------------- */

/* Names the tensor holding parameter i: "encoder.3.weight (line 5 of the model)". */
static void param_name(const ae_model *m, size_t i, char *buf, size_t size)
{
    char name[64];
    size_t at;
    int k = model_param_tensor(m, i, name, sizeof name, &at);
    if (k < 0) snprintf(buf, size, "parameter %zu", i);
    else if (m->layers[k].line > 0)
        snprintf(buf, size, "%s (line %d of the model description)", name, m->layers[k].line);
    else snprintf(buf, size, "%s", name);
}

static const char *value_text(double x)
{
    return isnan(x) ? "nan" : x > 0 ? "inf" : "-inf";
}

typedef struct {
    int epoch, step;     /* where training is, for messages */
    const char *phase;   /* "" or " (AAE discriminator phase)"... */
} where_t;

/* Stops training (returns -1) when the loss or the gradient g[lo, hi) holds
 * a NaN or an infinity; otherwise clips g's L2 norm to opt->clip_grad. */
static int guard_gradient(const ae_model *m, const ae_train_options *opt, float *g, size_t lo,
                          size_t hi, double loss, where_t w, ae_error *err)
{
    size_t bad = model_first_nonfinite(g, lo, hi);
    if (bad < hi || !isfinite(loss)) {
        char what[512] = "", name[200], lossbuf[64] = "";
        if (bad < hi) {
            param_name(m, bad, name, sizeof name);
            snprintf(what, sizeof what, "%sthe first layer with a non-finite gradient (%s) is %s",
                     isfinite(loss) ? "" : ", and ", value_text(g[bad]), name);
        }
        if (!isfinite(loss)) snprintf(lossbuf, sizeof lossbuf, "loss is %s", value_text(loss));
        return ae_fail(err, "training diverged at epoch %d, step %d%s: %s%s; " DIVERGED_FIX,
                       w.epoch, w.step, w.phase, lossbuf, what);
    }
    if (opt->clip_grad > 0) {
        double ss = 0;
        for (size_t i = lo; i < hi; i++) ss += (double)g[i] * (double)g[i];
        double coef = opt->clip_grad / (sqrt(ss) + 1e-6);
        if (coef < 1) {
            float c = (float)coef;
            for (size_t i = lo; i < hi; i++) g[i] *= c;
        }
    }
    return 0;
}

/* Stops training when an update made parameters [lo, hi) non-finite. */
static int guard_params(const ae_model *m, size_t lo, size_t hi, where_t w, ae_error *err)
{
    size_t bad = model_first_nonfinite(m->params, lo, hi);
    if (bad == hi) return 0;
    char name[200];
    param_name(m, bad, name, sizeof name);
    return ae_fail(err, "training diverged at epoch %d, step %d%s: the update made %s %s; "
                   DIVERGED_FIX, w.epoch, w.step, w.phase, name,
                   value_text(m->params[bad]));
}

/* The three phases of an adversarial autoencoder's step, after the
 * reconstruction phase: train the discriminator on prior samples (real)
 * against the encoder's codes (fake), then train the encoder to make the
 * discriminator call its codes real. Returns the number of correct
 * discriminator decisions on this batch, or -1 when training diverged. */
typedef struct {
    optim_state *disc, *gen;
    uint64_t seed;       /* prior samples */
} aae_ctx;

static long aae_phases(ae_model *m, ae_workspace *ws, const ae_train_options *opt, aae_ctx *a,
                       const ranks_run *rk, int nb, int threads, where_t w, ae_error *err)
{
    int logit = m->nlayers - 2;           /* the discriminator's pre-sigmoid value */
    int L = (int)m->layers[m->n_encoder - 1].out_size;
    float scale = 1.0f / (float)nb;
    long correct[AE_MAX_THREADS] = { 0 };

    /* discriminator: real = N(0, I) samples, fake = codes (no encoder gradient) */
    #pragma omp parallel num_threads(threads)
    {
        int t = omp_get_thread_num();
        int off, cnt;
        worker_share(rk, nb, threads, t, &off, &cnt);
        float *grad = work_grad(ws, t), *lab = work_target(ws, t), *prior = work_eps(ws, t);
        memset(grad, 0, m->nparams * sizeof(float));
        if (cnt) {
            const float *x = work_input(ws, t);
            const float *codes = model_forward_range(m, ws, t, x, cnt, 0, m->n_encoder, PASS_MEAN);
            for (int i = 0; i < cnt; i++) {
                ae_rng r;
                ae_rng_seed(&r, a->seed ^ (0x8ebc6af09c88c6e3ULL * ((uint64_t)(off + i) + 1)));
                ae_rng_normals(&r, prior + (size_t)i * L, (size_t)L);
            }
            for (int pass = 0; pass < 2; pass++) {
                const float *in = pass == 0 ? prior : codes;
                float label = pass == 0 ? 1.0f : 0.0f;
                const float *z = model_forward_range(m, ws, t, in, cnt, m->n_autoencoder, logit + 1, PASS_MEAN);
                for (int i = 0; i < cnt; i++) {
                    lab[i] = label;
                    correct[t] += (z[i] > 0.0f) == (label > 0.5f);
                }
                bce_logits_backward(model_grad_buffer(ws, t), z, lab, (size_t)cnt, scale);
                model_backward_range(m, ws, t, in, cnt, m->n_autoencoder, logit + 1, 0, 0);
            }
        }
    }
    double disc_correct = 0;
    if (rk->r) {   /* the counts ride with the gradients, as doubles (exact) */
        double counts[AE_MAX_THREADS];
        for (int t = 0; t < threads; t++) counts[t] = (double)correct[t];
        if (ranks_sum_grads(rk, ws, threads, a->disc->lo, a->disc->hi, counts, 1, &disc_correct, err))
            return -1;
    } else {
        sum_thread_grads(m, ws, threads);
    }
    where_t wd = w;
    wd.phase = " (AAE discriminator phase)";
    if (guard_gradient(m, opt, work_grad(ws, 0), a->disc->lo, a->disc->hi, 0.0, wd, err)) return -1;
    optimizer_step(m, opt, a->disc, work_grad(ws, 0), threads);
    if (guard_params(m, a->disc->lo, a->disc->hi, wd, err)) return -1;

    /* generator: the encoder learns to make its codes look like prior samples */
    #pragma omp parallel num_threads(threads)
    {
        int t = omp_get_thread_num();
        int off, cnt;
        worker_share(rk, nb, threads, t, &off, &cnt);
        float *grad = work_grad(ws, t), *lab = work_target(ws, t);
        memset(grad, 0, m->nparams * sizeof(float));
        if (cnt) {
            const float *x = work_input(ws, t);
            const float *codes = model_forward_range(m, ws, t, x, cnt, 0, m->n_encoder, PASS_MEAN);
            const float *z = model_forward_range(m, ws, t, codes, cnt, m->n_autoencoder, logit + 1, PASS_MEAN);
            for (int i = 0; i < cnt; i++) lab[i] = 1.0f;
            bce_logits_backward(model_grad_buffer(ws, t), z, lab, (size_t)cnt, scale);
            model_backward_range(m, ws, t, codes, cnt, m->n_autoencoder, logit + 1, 0, 1);
            model_backward_range(m, ws, t, x, cnt, 0, m->n_encoder, 0, 0);
        }
    }
    if (rk->r) {
        if (ranks_sum_grads(rk, ws, threads, a->gen->lo, a->gen->hi, NULL, 0, NULL, err)) return -1;
    } else {
        sum_thread_grads(m, ws, threads);
    }
    where_t wg = w;
    wg.phase = " (AAE generator phase)";
    if (guard_gradient(m, opt, work_grad(ws, 0), a->gen->lo, a->gen->hi, 0.0, wg, err)) return -1;
    optimizer_step(m, opt, a->gen, work_grad(ws, 0), threads);
    if (guard_params(m, a->gen->lo, a->gen->hi, wg, err)) return -1;
    if (rk->r) return (long)disc_correct;
    long total = 0;
    for (int t = 0; t < threads; t++) total += correct[t];
    return total;
}

/* ---- the loop ------------------------------------------------------------------- */

static int check_data(const ae_model *m, const ae_dataset *train, const ae_dataset *val, ae_error *err)
{
    const ae_dataset *sets[2] = { train, val };
    for (int i = 0; i < 2; i++) {
        const ae_dataset *d = sets[i];
        if (!d) continue;
        if (d->c != m->out_c || d->h != m->out_h || d->w != m->out_w)
            return ae_fail(err, "%s: images are %dx%dx%d (channels x height x width), the model %s %dx%dx%d",
                           d->source, d->c, d->h, d->w, m->in_h == m->out_h ? "takes" : "produces",
                           m->out_c, m->out_h, m->out_w);
        if (model_check_labels(m, d, err)) return -1;
    }
    if (train->n < 1) return ae_fail(err, "%s: no training images", train->source);
    return 0;
}

/* Besides the train state, the loop remembers two things between steps:
 * whether the callback stopped the run, and where the checkpoint file
 * stands against the run's position (ckpt_state). The file is written
 *  - after a step whose global count is a multiple of checkpoint_steps,
 *    except on an epoch's last step: then after that epoch's validation,
 *    so that the file holds the epoch's report (CKPT_DUE);
 *  - after an epoch whose number is a multiple of checkpoint_epochs;
 *  - when the callback stops the run before its end, unless the file
 *    already holds that position (CKPT_CURRENT).                        */

typedef enum {
    CKPT_OFF,      /* the run has no checkpoint file                      */
    CKPT_BEHIND,   /* the file (if any) is older than the run's position  */
    CKPT_DUE,      /* to be written after this epoch's validation         */
    CKPT_CURRENT   /* the file holds the run's position                   */
} ckpt_state;

/* Across ranks rank 0 alone writes the file, and every rank learns whether it could. */
static int ckpt_write(ckpt_state *c, const ae_train_state *s, const ae_model *m, const ranks_run *rk,
                      ae_error *err)
{
    if (!rk->r) {
        if (train_state_save(s, m, err)) return -1;
    } else {
        int failed = rk->r->rank == 0 && train_state_save(s, m, err) != 0;
        if (ranks_from_root(rk->r, &failed, err)) return -1;
        if (failed)
            return rk->r->rank == 0 ? -1 : ae_fail(err, "rank 0 could not write the checkpoint %s", s->path);
    }
    *c = CKPT_CURRENT;
    return 0;
}

/* After a step (s->step steps of `steps` done; stopped: the callback asked to stop). */
static int ckpt_after_step(ckpt_state *c, const ae_train_state *s, const ae_model *m, const ranks_run *rk,
                           int steps, int stopped, ae_error *err)
{
    if (*c == CKPT_OFF) return 0;
    *c = CKPT_BEHIND;
    int every = s->opt.checkpoint_steps;
    if (every <= 0 || s->global_step % every != 0) return 0;
    if (s->step == steps && !stopped) {   /* the epoch's validation comes first */
        *c = CKPT_DUE;
        return 0;
    }
    return ckpt_write(c, s, m, rk, err);
}

/* After epoch `epoch`'s report (the position is the next epoch's start). */
static int ckpt_after_epoch(ckpt_state *c, const ae_train_state *s, const ae_model *m, const ranks_run *rk,
                            int epoch, int stopped, ae_error *err)
{
    if (*c == CKPT_OFF) return 0;
    int every = s->opt.checkpoint_epochs;
    int write = *c == CKPT_DUE || stopped || (every > 0 && epoch % every == 0);
    *c = CKPT_BEHIND;
    return write ? ckpt_write(c, s, m, rk, err) : 0;
}

/* When the callback stopped the run before its end: the file lets it go on. */
static int ckpt_at_stop(ckpt_state *c, const ae_train_state *s, const ae_model *m, const ranks_run *rk,
                        ae_error *err)
{
    return *c == CKPT_BEHIND || *c == CKPT_DUE ? ckpt_write(c, s, m, rk, err) : 0;
}

/* Trains from state s in workspace ws until its last epoch, an error, or
 * the callback's stop. */
static int train_epochs(ae_model *m, ae_workspace *ws, const ae_dataset *train, const ae_dataset *val,
                        ae_train_state *s, const ranks_run *rk, ae_progress_fn cb, void *user,
                        ae_error *err)
{
    /* the run's options with each step's learning rate (the schedule's) */
    ae_train_options step_opt = s->opt, reg_opt = s->opt;   /* reg_opt: an AAE's discriminator and generator phases */
    const ae_train_options *opt = &step_opt;
    int threads = s->threads;
    uint32_t n = s->n;
    int B = opt->batch < (int)n ? opt->batch : (int)n;
    int adversarial = s->adversarial;
    aae_ctx aae = { &s->disc, &s->gen, 0 };
    int steps = s->steps;
    pass_mode mode = m->sample_layer >= 0 ? PASS_SAMPLE : PASS_MEAN;
    double thread_loss[AE_MAX_THREADS], thread_kl[AE_MAX_THREADS];
    ckpt_state ckpt = opt->checkpoint ? CKPT_BEHIND : CKPT_OFF;
    int stopped = 0;
    double run_start = now_seconds(), seconds_before = s->seconds;

    while (s->epoch <= opt->epochs && !stopped && !train_state_stopped_early(s)) {
        int epoch = s->epoch;
        if (s->step == 0) {
            ae_rng_shuffle(&s->shuffle_rng, s->order, n);
            s->loss_sum = 0;
            s->seen = s->disc_correct = 0;
            s->epoch_seconds = 0;
        }
        double t0 = now_seconds() - s->epoch_seconds;
        while (s->step < steps && !stopped) {
            int b0 = s->step * B, nb = (int)n - b0 < B ? (int)n - b0 : B;
            where_t w = { epoch, s->step + 1, "" };
            step_opt.lr = lr_schedule_rate(&s->opt, &s->schedule, epoch, s->global_step);
            float scale = (float)(1.0 / model_loss_denominator(m, nb));
            uint64_t step_seed = ae_rng_u64(&s->step_rng);
            const uint32_t *order = s->order;
            uint64_t noise_seed = s->noise_seed;
            #pragma omp parallel num_threads(threads)
            {
                int t = omp_get_thread_num();
                int off, cnt;
                worker_share(rk, nb, threads, t, &off, &cnt);
                if (cnt) model_load_chunk(m, ws, t, train, order + b0 + off, cnt, &opt->noise, noise_seed);
                model_set_noise(ws, t, step_seed, (uint64_t)off);
                double recon;
                thread_loss[t] = model_recon_chunk(m, ws, t, work_input(ws, t), work_target(ws, t), cnt,
                                                   scale, opt->beta, 1, mode, &recon, &thread_kl[t]);
            }
            double loss = 0;
            if (rk->r) {   /* the loss rides with the gradients */
                if (ranks_sum_grads(rk, ws, threads, s->main.lo, s->main.hi, thread_loss, 1, &loss, err))
                    return -1;
            } else {
                for (int t = 0; t < threads; t++) loss += thread_loss[t];
                sum_thread_grads(m, ws, threads);
            }
            loss /= model_loss_denominator(m, nb);
            if (guard_gradient(m, opt, work_grad(ws, 0), s->main.lo, s->main.hi, loss, w, err)) return -1;
            optimizer_step(m, opt, &s->main, work_grad(ws, 0), threads);
            if (guard_params(m, s->main.lo, s->main.hi, w, err)) return -1;
            if (adversarial) {
                aae.seed = step_seed ^ 0x5a5a5a5a5a5a5a5aULL;
                /* the regularisation phases' rate, scaled by the schedule
                 * and warm-up as lr is (a constant schedule: reg_lr itself) */
                reg_opt.lr = s->opt.reg_lr * (step_opt.lr / s->opt.lr);
                long c = aae_phases(m, ws, &reg_opt, &aae, rk, nb, threads, w, err);
                if (c < 0) return -1;
                s->disc_correct += c;
            }
            s->loss_sum += loss * nb;
            s->seen += nb;
            s->step++;
            s->global_step++;
            double tnow = now_seconds();
            s->epoch_seconds = tnow - t0;
            s->seconds = seconds_before + (tnow - run_start);
            if (cb) {
                double sec = s->epoch_seconds;
                ae_progress p = { .epoch = epoch, .epochs = opt->epochs, .step = s->step, .steps = steps,
                                  .train_loss = s->loss_sum / (double)s->seen, .val_loss = NAN, .val_mse = NAN,
                                  .val_recon = NAN, .val_kl = NAN,
                                  .disc_accuracy = adversarial ? (double)s->disc_correct / (2.0 * (double)s->seen) : NAN,
                                  .seconds = sec, .images_per_second = sec > 0 ? (double)s->seen / sec : 0,
                                  .lr = step_opt.lr };
                if (cb(&p, user)) stopped = 1;
            }
            if (rk->r && ranks_from_root(rk->r, &stopped, err)) return -1;   /* rank 0's answer */
            if (ckpt_after_step(&ckpt, s, m, rk, steps, stopped, err)) return -1;
        }
        if (stopped) break;   /* stopped mid-epoch: no validation, no end-of-epoch report */
        double sec = s->epoch_seconds;
        long seen = s->seen ? s->seen : 1;
        ae_progress p = { .epoch = epoch, .epochs = opt->epochs, .step = steps, .steps = steps,
                          .train_loss = s->loss_sum / (double)seen, .val_loss = NAN, .val_mse = NAN,
                          .val_recon = NAN, .val_kl = NAN,
                          .disc_accuracy = adversarial ? (double)s->disc_correct / (2.0 * (double)seen) : NAN,
                          .seconds = sec, .images_per_second = sec > 0 ? (double)s->seen / sec : 0,
                          .end_of_epoch = 1,
                          .lr = lr_schedule_rate(&s->opt, &s->schedule, epoch, s->global_step - 1) };
        if (val) {
            ae_eval_result r;
            ae_error why = {{0}};
            if (model_evaluate(m, ws, val, &opt->noise, &r, NULL, threads, rk->r, &why))
                return ae_fail(err, "validation after epoch %d: %s", epoch, why.msg);
            /* the loss trained on: recon + beta KL (beta 1: r.loss's bits);
             * val_kl stays the KL itself */
            p.val_loss = r.recon + opt->beta * r.kl;
            p.val_mse = r.mse;
            p.val_recon = r.recon;
            p.val_kl = r.kl;
        }
        lr_schedule_end_epoch(&s->schedule, &s->opt, val ? p.val_loss : p.train_loss);
        if (s->epochs_done < opt->epochs) {
            s->history[s->epochs_done++] = p;
            train_state_note_best(s, m->params);
        }
        s->epoch++;
        s->step = 0;
        s->seconds = seconds_before + (now_seconds() - run_start);
        if (cb && cb(&p, user)) stopped = 1;
        if (rk->r && ranks_from_root(rk->r, &stopped, err)) return -1;
        if (ckpt_after_epoch(&ckpt, s, m, rk, epoch, stopped, err)) return -1;
    }
    int finished = s->epoch > opt->epochs || train_state_stopped_early(s);
    if (stopped && !finished && ckpt != CKPT_OFF)
        /* stopped by the callback before the end: the checkpoint lets the
         * run go on later (a stop after the last epoch is a finished run) */
        return ckpt_at_stop(&ckpt, s, m, rk, err);
    /* the run's final state, with its last weights, when it checkpoints at
     * intervals: more epochs extend it (without intervals the checkpoint is
     * only for a stop: a disk with no room for one keeps a finished run) */
    if ((opt->checkpoint_steps > 0 || opt->checkpoint_epochs > 0) && ckpt_at_stop(&ckpt, s, m, rk, err))
        return -1;
    if (s->best_params && s->best_epoch > 0 && s->best_epoch < s->epochs_done)
        memcpy(m->params, s->best_params, m->nparams * sizeof *m->params);
    /* a plain autoencoder remembers where its codes live, so `sample` can
     * draw new ones (a VAE or AAE samples from its prior instead) */
    if (!ae_model_is_variational(m) && !adversarial)
        return model_fit_latent(m, ws, train, threads, rk->r, err);
    return 0;
}

/* Weights that are NaN before the first step are not a divergence to blame on the lr. */
static int check_weights(const ae_model *m, ae_error *err)
{
    char bad[256];
    int nbad = ae_model_nonfinite_tensors(m, bad, sizeof bad);
    if (nbad)
        return ae_fail(err, "the model's weights are not finite before training: %s hold%s NaN or "
                       "infinite values", bad, nbad == 1 ? "s" : "");
    return 0;
}

/* The workspace of a run whose batches are split over `workers` chunks. */
static int run_workspace(ae_workspace **ws, const ae_model *m, const ae_train_state *s, int workers,
                         ae_error *err)
{
    int B = s->opt.batch < (int)s->n ? s->opt.batch : (int)s->n;
    int per_thread, first;
    thread_share(B, workers, 0, &first, &per_thread);   /* worker 0 gets the largest share */
    return workspace_new(ws, m, per_thread, s->threads, 1, err);
}

/* Trains from state s until its last epoch, an error, or the callback's
 * stop, in a workspace allocated for the run (before its first step). */
static int train_loop(ae_model *m, const ae_dataset *train, const ae_dataset *val, ae_train_state *s,
                      ae_progress_fn cb, void *user, ae_error *err)
{
    if (check_weights(m, err)) return -1;
    ae_workspace *ws;
    if (run_workspace(&ws, m, s, s->threads, err)) return -1;
    ranks_run one = { NULL, NULL };
    int rc = train_epochs(m, ws, train, val, s, &one, cb, user, err);
    ae_workspace_free(ws);
    return rc;
}

int ae_train(ae_model *m, const ae_dataset *train, const ae_dataset *val,
             const ae_train_options *opt, ae_progress_fn cb, void *user, ae_error *err)
{
    if (ae_train_options_check(opt, err) || ae_train_options_check_model(opt, m, err) ||
        check_data(m, train, val, err))
        return -1;
    ae_train_state *s;
    /* weights from the seed itself (as ae_model_init); shuffling, VAE noise,
     * input noise and prior samples from streams split off it */
    if (opt->init_weights) ae_model_init(m, opt->seed);
    if (train_state_new(&s, m, train, val, opt, err)) return -1;
    int rc = train_loop(m, train, val, s, cb, user, err);
    ae_train_state_free(s);
    return rc;
}

/* Trains state s across the ranks (ae_train_ranks, ae_train_resume_ranks)
 * from the start check on, which every rank takes part in: `bad` when this
 * rank cannot train (its data, options or memory; local says why, and s
 * may be NULL), and every rank fails with the first such rank's message.
 * check_opt: the options every rank must share. */
static int train_across(ae_model *m, const ae_dataset *train, const ae_dataset *val,
                        const ae_train_options *check_opt, ae_train_state *s, const ae_ranks *ranks,
                        int bad, ae_error *local, ae_progress_fn cb, void *user, ae_error *err)
{
    ae_workspace *ws = NULL;
    ranks_run rk = { ranks, NULL };
    /* the run is one process's with ranks x threads threads, which its
     * checkpoints record: a count past AE_MAX_THREADS could not be resumed */
    if (!bad && (long)ranks->size * s->threads > AE_MAX_THREADS)
        bad = ae_fail(local, "%d processes x %d threads = %ld workers: at most %d (AE_MAX_THREADS), so that a "
                      "checkpoint of the run can be resumed", ranks->size, s->threads,
                      (long)ranks->size * s->threads, AE_MAX_THREADS);
    if (!bad) {
        s->ranks = ranks->size;
        bad = run_workspace(&ws, m, s, ranks->size * s->threads, local) || ranks_msg_new(&rk, local);
    }
    int threads = s ? s->threads : ae_threads_resolve(check_opt->threads);
    int rc = ranks_start_check(ranks, m, train, val, check_opt, threads, bad ? local->msg : NULL, err);
    if (rc == 0) rc = train_epochs(m, ws, train, val, s, &rk, cb, user, err);
    ranks_msg_free(&rk);
    ae_workspace_free(ws);
    return rc;
}

int ae_train_ranks(ae_model *m, const ae_dataset *train, const ae_dataset *val,
                   const ae_train_options *opt, const ae_ranks *ranks,
                   ae_progress_fn cb, void *user, ae_error *err)
{
    if (!ranks || ranks->size == 1) return ae_train(m, train, val, opt, cb, user, err);
    if (ranks_valid(ranks, err)) return -1;
    /* what fails on one rank alone (its data, its memory) is passed to the
     * start check, which every rank takes part in: all fail together */
    ae_error local = {{0}};
    ae_train_state *s = NULL;
    int bad = ae_train_options_check(opt, &local) || ae_train_options_check_model(opt, m, &local) ||
              check_data(m, train, val, &local);
    if (!bad && opt->init_weights) ae_model_init(m, opt->seed);
    if (!bad) bad = train_state_new(&s, m, train, val, opt, &local) || check_weights(m, &local);
    int rc = train_across(m, train, val, opt, s, ranks, bad, &local, cb, user, err);
    ae_train_state_free(s);
    return rc;
}

/* What ae_train_resume checks (the model, options and data sets are the
 * state's run's), and the options a resumed run may change taken from opt;
 * the thread count is left to the caller. */
static int resume_prepare(const ae_model *m, const ae_dataset *train, const ae_dataset *val,
                          const ae_train_options *opt, ae_train_state *s, ae_error *err)
{
    if (ae_train_options_check(opt, err) || ae_train_options_check_model(opt, m, err) ||
        check_data(m, train, val, err))
        return -1;
    const ae_train_options *o = &s->opt;
    if (m->nparams != s->nparams || ae_model_is_adversarial(m) != s->adversarial ||
        (m->classes > 0) != s->conditional)
        return ae_fail(err, "the model (%zu parameters) is not the checkpoint's (%zu parameters)",
                       m->nparams, s->nparams);
    const ae_train_option *r = ae_train_options_resume_conflict(opt, o);
    if (r) {
        char given[128], stored[128];
        ae_train_option_format(r, opt, AE_OPTION_TEXT_EXACT, given, sizeof given);
        ae_train_option_format(r, o, AE_OPTION_TEXT_EXACT, stored, sizeof stored);
        return ae_fail(err, "the options give %s %s, the checkpoint's run was trained with %s "
                       "(a resumed run keeps its settings)", r->name, given, stored);
    }
    if ((uint32_t)train->n != s->n)
        return ae_fail(err, "%s: %d training images, the checkpoint's run trained on %u",
                       train->source, train->n, s->n);
    if (train_data_hash(train) != s->train_hash)
        return ae_fail(err, "%s: the training images are not the checkpoint's run's "
                       "(same count, other pixels)", train->source);
    int val_n = val ? val->n : 0;
    if (val_n != s->val_n)
        return ae_fail(err, "%s: %d validation images, the checkpoint's run validated on %d",
                       val ? val->source : "no validation set", val_n, s->val_n);
    if (train_data_hash(val) != s->val_hash)
        return ae_fail(err, "%s: the validation images are not the checkpoint's run's "
                       "(same count, other pixels)", val ? val->source : "no validation set");
    /* a conditional model learns the labels too (check_data: both sets have them) */
    if (s->conditional && train_data_labels_hash(train) != s->train_labels_hash)
        return ae_fail(err, "%s: the training labels are not the checkpoint's run's "
                       "(same images, other labels)", train->source);
    if (s->conditional && train_data_labels_hash(val) != s->val_labels_hash)
        return ae_fail(err, "%s: the validation labels are not the checkpoint's run's "
                       "(same images, other labels)", val ? val->source : "no validation set");
    /* what may change: the thread count (the caller's), where / how often
     * to checkpoint, the early-stopping patience, and the epochs may grow */
    if (train_state_grow(s, opt->epochs, err)) return -1;
    int nrows;
    const ae_train_option *rows = ae_train_options_table(&nrows);
    for (int i = 0; i < nrows; i++)
        if (rows[i].resume == AE_RESUME_MAY_CHANGE || rows[i].resume == AE_RESUME_MAY_GROW)
            ae_train_option_copy(&rows[i], &s->opt, opt);
    if (!opt->checkpoint) {
        s->opt.checkpoint = NULL;
    } else if (opt->checkpoint != s->path) {
        if (strlen(opt->checkpoint) >= sizeof s->path)
            return ae_fail(err, "%s: path too long", opt->checkpoint);
        snprintf(s->path, sizeof s->path, "%s", opt->checkpoint);
        s->opt.checkpoint = s->path;
    }
    return 0;
}

int ae_train_resume(ae_model *m, const ae_dataset *train, const ae_dataset *val,
                    const ae_train_options *opt, ae_train_state *s,
                    ae_progress_fn cb, void *user, ae_error *err)
{
    if (resume_prepare(m, train, val, opt, s, err)) return -1;
    /* the run's own count is kept even above this machine's cap, so that
     * the resumed run stays bit-identical */
    if (opt->threads != s->threads) s->threads = ae_threads_resolve(opt->threads);
    s->ranks = 1;
    return train_loop(m, train, val, s, cb, user, err);
}

int ae_train_resume_ranks(ae_model *m, const ae_dataset *train, const ae_dataset *val,
                          const ae_train_options *opt, ae_train_state *s, const ae_ranks *ranks,
                          ae_progress_fn cb, void *user, ae_error *err)
{
    if (!ranks || ranks->size == 1) return ae_train_resume(m, train, val, opt, s, cb, user, err);
    if (ranks_valid(ranks, err)) return -1;
    /* every rank checks its own data sets against the checkpoint's run;
     * a rank that cannot go on makes all fail at the start check */
    ae_error local = {{0}};
    int bad = resume_prepare(m, train, val, opt, s, &local) || check_weights(m, &local);
    if (!bad) s->threads = ae_threads_resolve(opt->threads);   /* per rank */
    return train_across(m, train, val, &s->opt, s, ranks, bad, &local, cb, user, err);
}
