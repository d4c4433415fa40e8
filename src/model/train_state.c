/* The state of a training run: allocation, a fresh start from the seed,
 * and where it stands. train.c advances it, checkpoint.c stores and reads
 * it. */
#include "model/train_state.h"
#include "model/model.h"
#include "core/error.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const train_optim_prefixes[TRAIN_OPTIM_STATES] = { "optim", "optim_disc", "optim_gen" };

int train_state_optims(ae_train_state *s, optim_state *states[TRAIN_OPTIM_STATES])
{
    states[0] = &s->main;
    states[1] = &s->disc;
    states[2] = &s->gen;
    return s->adversarial ? 3 : 1;
}

uint64_t train_data_hash(const ae_dataset *ds)
{
    if (!ds) return 0;
    size_t bytes = (size_t)ds->n * (size_t)ds->c * (size_t)ds->h * (size_t)ds->w, i = 0;
    uint64_t h = 0xcbf29ce484222325ULL;            /* FNV-1a, 8 bytes at a time */
    for (; i + 8 <= bytes; i += 8) {
        uint64_t v;
        memcpy(&v, ds->pixels + i, 8);
        h = (h ^ v) * 0x100000001b3ULL;
    }
    for (; i < bytes; i++) h = (h ^ ds->pixels[i]) * 0x100000001b3ULL;
    return h ^ (uint64_t)bytes;
}

uint64_t train_data_labels_hash(const ae_dataset *ds)
{
    if (!ds || !ds->labels) return 0;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (int i = 0; i < ds->n; i++) h = (h ^ ds->labels[i]) * 0x100000001b3ULL;
    return h;
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

int train_state_alloc(ae_train_state **out, const ae_model *m, const ae_train_options *opt,
                      uint32_t n, ae_error *err)
{
    *out = NULL;
    if (n < 1) return ae_fail(err, "no training images");
    ae_train_state *s = calloc(1, sizeof *s);
    if (!s) return ae_fail(err, "out of memory for the training state");
    s->opt = *opt;
    s->opt.checkpoint = NULL;
    if (opt->checkpoint) {
        if (strlen(opt->checkpoint) >= sizeof s->path) {
            free(s);
            return ae_fail(err, "%s: path too long", opt->checkpoint);
        }
        snprintf(s->path, sizeof s->path, "%s", opt->checkpoint);
        s->opt.checkpoint = s->path;
    }
    s->threads = ae_threads_resolve(opt->threads);
    s->ranks = 1;
    s->n = n;
    s->nparams = m->nparams;
    s->adversarial = ae_model_is_adversarial(m);
    s->conditional = m->classes > 0;
    int B = opt->batch < (int)n ? opt->batch : (int)n;
    s->steps = (int)((n + (uint32_t)B - 1) / (uint32_t)B);
    s->epoch = 1;
    size_t enc_end, ae_end;
    part_bounds(m, &enc_end, &ae_end);
    s->order = malloc(n * sizeof *s->order);
    s->history = calloc((size_t)opt->epochs, sizeof *s->history);
    if (opt->keep == AE_KEEP_BEST) s->best_params = malloc(m->nparams * sizeof *s->best_params);
    if (!s->order || !s->history || (opt->keep == AE_KEEP_BEST && !s->best_params) || optim_state_alloc(&s->main, opt->optimizer, m->nparams, 0, ae_end) ||
        (s->adversarial && (optim_state_alloc(&s->disc, opt->optimizer, m->nparams, ae_end, m->nparams) ||
                            optim_state_alloc(&s->gen, opt->optimizer, m->nparams, 0, enc_end)))) {
        ae_train_state_free(s);
        return ae_fail(err, "out of memory for the training state (optimiser)");
    }
    *out = s;
    return 0;
}

int train_state_new(ae_train_state **out, const ae_model *m, const ae_dataset *train,
                    const ae_dataset *val, const ae_train_options *opt, ae_error *err)
{
    ae_train_state *s;
    if (train_state_alloc(&s, m, opt, (uint32_t)train->n, err)) return -1;
    for (uint32_t i = 0; i < s->n; i++) s->order[i] = i;
    ae_rng rng;
    ae_rng_seed(&rng, opt->seed);
    s->shuffle_rng = ae_rng_split(&rng);
    s->step_rng = ae_rng_split(&rng);
    s->noise_seed = ae_rng_u64(&rng);
    s->val_n = val ? val->n : 0;
    lr_schedule_start(&s->schedule, opt);
    if (opt->checkpoint) {     /* a resumed run checks it has the same data */
        s->train_hash = train_data_hash(train);
        s->val_hash = train_data_hash(val);
        if (s->conditional) {
            s->train_labels_hash = train_data_labels_hash(train);
            s->val_labels_hash = train_data_labels_hash(val);
        }
    }
    *out = s;
    return 0;
}

void ae_train_state_free(ae_train_state *s)
{
    if (!s) return;
    optim_state_free(&s->main);
    optim_state_free(&s->disc);
    optim_state_free(&s->gen);
    free(s->order);
    free(s->history);
    free(s->best_params);
    free(s);
}

int ae_best_epoch(const double *loss, int epochs)
{
    int best = 0;
    for (int e = 1; e <= epochs; e++)
        if (loss[e - 1] < (best ? loss[best - 1] : INFINITY)) best = e;   /* strictly lower; NaN never */
    return best;
}

double train_state_epoch_loss(const ae_train_state *s, int e)
{
    return s->val_n > 0 ? s->history[e - 1].val_loss : s->history[e - 1].train_loss;
}

void train_state_note_best(ae_train_state *s, const float *params)
{
    int e = s->epochs_done;
    double loss = train_state_epoch_loss(s, e);
    double best = s->best_epoch ? train_state_epoch_loss(s, s->best_epoch) : INFINITY;
    if (!(loss < best)) return;             /* the rule of ae_best_epoch */
    s->best_epoch = e;
    if (s->best_params) memcpy(s->best_params, params, s->nparams * sizeof *s->best_params);
}

static int stopped_early(const ae_train_state *s, int patience)
{
    return patience > 0 && s->epochs_done - s->best_epoch >= patience;
}

int train_state_stopped_early(const ae_train_state *s) { return stopped_early(s, s->opt.early_stop); }

int ae_train_state_finished(const ae_train_state *s, const ae_train_options *opt)
{
    const ae_train_options *o = opt ? opt : &s->opt;
    return s->epoch > o->epochs || stopped_early(s, o->early_stop);
}

int ae_train_state_best_epoch(const ae_train_state *s) { return s->best_epoch; }

int train_state_grow(ae_train_state *s, int epochs, ae_error *err)
{
    if (epochs <= s->opt.epochs) return 0;
    ae_progress *h = realloc(s->history, (size_t)epochs * sizeof *h);
    if (!h) return ae_fail(err, "out of memory for %d epochs' reports", epochs);
    s->history = h;
    return 0;
}

void ae_train_state_position(const ae_train_state *s, ae_train_position *out)
{
    out->epoch = s->epoch;
    out->step = s->step;
    out->steps = s->steps;
    out->epochs_done = s->epochs_done;
    out->history = s->history;
    out->seconds = s->seconds;
    out->train_images = (int)s->n;
    out->val_images = s->val_n;
}
