/* Checkpoints: a model file (safetensors, docs/file-formats.md) with the
 * training state added as tensors and metadata named aekit.checkpoint.*:
 *
 *   aekit.checkpoint.order           I32 [n]     this epoch's shuffled order
 *   aekit.checkpoint.rng             I64 [9]     shuffling and step streams
 *                                                (xoshiro256** state, 4 words
 *                                                each), the input-noise seed
 *   aekit.checkpoint.optim.NAME      F32 [count] optimiser buffers, PyTorch's
 *                                                names (the optimiser table,
 *                                                optim.c: exp_avg, exp_avg_sq
 *                                                for Adam...); an AAE adds
 *                                                optim_disc.* and optim_gen.*
 *   aekit.checkpoint.history         F64 [epochs done, 9] end-of-epoch reports
 *                                                (the metric table,
 *                                                epoch_metrics.c)
 *   aekit.checkpoint.best_weights    F32 [parameters] keep best, after the
 *                                                first epoch: the best
 *                                                epoch's weights (which
 *                                                epoch: ae_best_epoch of the
 *                                                history's losses)
 *
 * and metadata for the position (epoch, step, ...), the running sums of the
 * epoch, the learning-rate schedule's state (lr_schedule.h: plateau's rate,
 * best loss, +inf before the first epoch, and epochs since it), the data
 * it trains on (sizes and hashes: pixels, and a conditional model's labels)
 * and the options (aekit.checkpoint.opt.NAME,
 * one per row of the options table, train_options.c, in its order). Doubles are written with 17
 * significant digits, which read back to the same bits.                    */
#define _POSIX_C_SOURCE 200809L
#include "model/checkpoint.h"
#include "model/model.h"
#include "model/model_file.h"
#include "model/train_state.h"
#include "optim/optim.h"
#include "core/error.h"
#include "aekit/epoch_metrics.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CK CHECKPOINT_PREFIX
#define FORMAT "3"   /* 3: early stopping and keep (their options, the best weights),
                        beta, reg_lr; a conditional model's labels hashes */
#define FORMAT_OLD "2" /* read too: it lacks the options of rows AE_OPTION_SINCE_FORMAT_3,
                          which take their defaults (how its runs trained; but an
                          AAE's ran at lr, not reg_lr's default: refused) */
#define STATE_META 23                  /* the position, sums, counters, data */
#define MAX_META (STATE_META + AE_MAX_TRAIN_OPTIONS)   /* and the options (rows) */

typedef struct {
    const char *keys[MAX_META];
    char        keybuf[MAX_META][96];
    char        vals[MAX_META][96];
    int         n;
} meta_list;

static void put(meta_list *l, const char *key, const char *fmt, ...) AE_PRINTF(3, 4);

static void put(meta_list *l, const char *key, const char *fmt, ...)
{
    if (l->n >= MAX_META) return;   /* cannot happen: STATE_META puts, then the rows */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(l->vals[l->n], sizeof l->vals[l->n], fmt, ap);
    va_end(ap);
    l->keys[l->n++] = key;
}

int train_state_save(const ae_train_state *s, const ae_model *m, ae_error *err)
{
    const ae_train_options *o = &s->opt;
    st_out_tensor t[4 + TRAIN_OPTIM_STATES * OPTIM_MAX_BUFFERS];   /* order, rng, history, best, buffers */
    char names[TRAIN_OPTIM_STATES * OPTIM_MAX_BUFFERS][96];
    int k = 0, nn = 0;
    uint64_t rng[9];
    memcpy(rng, s->shuffle_rng.s, 4 * sizeof(uint64_t));
    memcpy(rng + 4, s->step_rng.s, 4 * sizeof(uint64_t));
    rng[8] = s->noise_seed;
    t[k++] = (st_out_tensor){ CK "order", ST_I32, s->order, 1, { (int64_t)s->n } };
    t[k++] = (st_out_tensor){ CK "rng", ST_I64, rng, 1, { 9 } };

    optim_state *states[TRAIN_OPTIM_STATES];
    int nstates = train_state_optims((ae_train_state *)s, states);
    const optim_kind *kind = optim_kind_of(o->optimizer);
    for (int i = 0; i < nstates; i++) {
        const optim_state *st = states[i];
        for (int j = 0; j < kind->nbuf; j++) {
            snprintf(names[nn], sizeof names[nn], CK "%s.%s", train_optim_prefixes[i], kind->buf_names[j]);
            t[k++] = (st_out_tensor){ names[nn], ST_F32, st->buf[j] + st->lo, 1,
                                      { (int64_t)(st->hi - st->lo) } };
            nn++;
        }
    }
    double *hist = malloc(((size_t)s->epochs_done * AE_EPOCH_METRICS + 1) * sizeof *hist);
    if (!hist) return ae_fail(err, "%s: out of memory", s->path);
    for (int e = 0; e < s->epochs_done; e++) {
        for (int c = 0; c < AE_EPOCH_METRICS; c++)
            hist[(size_t)e * AE_EPOCH_METRICS + c] = ae_epoch_metric_get(c, &s->history[e]);
    }
    t[k++] = (st_out_tensor){ CK "history", ST_F64, hist, 2, { s->epochs_done, AE_EPOCH_METRICS } };
    if (s->best_params && s->best_epoch > 0)
        t[k++] = (st_out_tensor){ CK "best_weights", ST_F32, s->best_params, 1, { (int64_t)s->nparams } };

    meta_list l = { .n = 0 };
    put(&l, CK "format", "%s", FORMAT);
    put(&l, CK "epoch", "%d", s->epoch);
    put(&l, CK "step", "%d", s->step);
    put(&l, CK "steps", "%d", s->steps);
    put(&l, CK "global_step", "%ld", s->global_step);
    put(&l, CK "loss_sum", "%.17g", s->loss_sum);
    put(&l, CK "seen", "%ld", s->seen);
    put(&l, CK "disc_correct", "%ld", s->disc_correct);
    put(&l, CK "epoch_seconds", "%.17g", s->epoch_seconds);
    put(&l, CK "seconds", "%.17g", s->seconds);
    put(&l, CK "optim_t", "%ld", s->main.t);
    put(&l, CK "optim_disc_t", "%ld", s->disc.t);
    put(&l, CK "optim_gen_t", "%ld", s->gen.t);
    /* the batch split: one process with this many threads goes on bit-identically */
    put(&l, CK "threads", "%d", s->threads * s->ranks);
    put(&l, CK "train_images", "%" PRIu32, s->n);
    put(&l, CK "val_images", "%d", s->val_n);
    put(&l, CK "train_hash", "%016" PRIx64, s->train_hash);
    put(&l, CK "val_hash", "%016" PRIx64, s->val_hash);
    if (s->conditional) {   /* only then: other models' checkpoints stay as they were */
        put(&l, CK "train_labels_hash", "%016" PRIx64, s->train_labels_hash);
        put(&l, CK "val_labels_hash", "%016" PRIx64, s->val_labels_hash);
    }
    put(&l, CK "schedule_lr", "%.17g", s->schedule.lr);
    put(&l, CK "schedule_best", "%.17g", s->schedule.best);
    put(&l, CK "schedule_bad_epochs", "%d", s->schedule.bad_epochs);
    int nrows;
    const ae_train_option *rows = ae_train_options_table(&nrows);
    if (nrows > MAX_META - STATE_META) return ae_fail(err, "%s: too many options to store", s->path);
    for (int i = 0; i < nrows; i++) {
        if (rows[i].flags & AE_OPTION_NO_CHECKPOINT) continue;
        snprintf(l.keybuf[l.n], sizeof l.keybuf[l.n], CK "opt.%s", rows[i].name);
        ae_train_option_format(&rows[i], o, AE_OPTION_TEXT_EXACT, l.vals[l.n], sizeof l.vals[l.n]);
        l.keys[l.n] = l.keybuf[l.n];
        l.n++;
    }
    const char *meta[2 * MAX_META];
    for (int i = 0; i < l.n; i++) {
        meta[2 * i] = l.keys[i];
        meta[2 * i + 1] = l.vals[i];
    }
    int rc = model_save_with(m, s->path, t, k, meta, l.n, err);
    free(hist);
    return rc;
}

/* ---- reading ------------------------------------------------------------------ */

static const char *need(const st_file *f, const char *key, ae_error *err)
{
    const char *v = st_meta(f, key);
    if (!v) ae_fail(err, "%s: checkpoint metadata \"%s\" is missing", f->path, key);
    return v;
}

static int get_long(const st_file *f, const char *key, long lo, long hi, long *out, ae_error *err)
{
    const char *v = need(f, key, err);
    if (!v) return -1;
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || end == v || *end || x < lo || x > hi)
        return ae_fail(err, "%s: checkpoint metadata \"%s\" is '%.40s', expected an integer from %ld to %ld",
                       f->path, key, v, lo, hi);
    *out = x;
    return 0;
}

static int get_int(const st_file *f, const char *key, int lo, int hi, int *out, ae_error *err)
{
    long x;
    if (get_long(f, key, lo, hi, &x, err)) return -1;
    *out = (int)x;
    return 0;
}

static int get_double(const st_file *f, const char *key, double *out, ae_error *err)
{
    const char *v = need(f, key, err);
    if (!v) return -1;
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (end == v || *end || !isfinite(x))
        return ae_fail(err, "%s: checkpoint metadata \"%s\" is '%.40s', expected a finite number",
                       f->path, key, v);
    *out = x;
    return 0;
}

static int get_u64(const st_file *f, const char *key, int base, uint64_t *out, ae_error *err)
{
    const char *v = need(f, key, err);
    if (!v) return -1;
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, base);
    if (errno || end == v || *end || v[0] == '-')
        return ae_fail(err, "%s: checkpoint metadata \"%s\" is '%.40s', expected an unsigned integer",
                       f->path, key, v);
    *out = (uint64_t)x;
    return 0;
}

/* Copies tensor `name` (dtype dt, `count` values of `size` bytes) into dst. */
static int get_tensor(const st_file *f, const char *name, st_dtype dt, void *dst, size_t count,
                      size_t size, ae_error *err)
{
    const st_tensor *t = st_find(f, name);
    if (!t) return ae_fail(err, "%s: checkpoint tensor \"%s\" is missing", f->path, name);
    if (t->dtype != dt || t->numel != count)
        return ae_fail(err, "%s: checkpoint tensor \"%s\" has the wrong dtype or %zu values (expected %zu)",
                       f->path, name, t->numel, count);
    if (count) memcpy(dst, f->data + t->begin, count * size);
    return 0;
}

/* The options; `old`: a FORMAT_OLD file, which lacks the options added
 * since (AE_OPTION_SINCE_FORMAT_3): they take their defaults. */
static int read_options(const st_file *f, int old, ae_train_options *o, ae_error *err)
{
    ae_train_options_default(o);
    int nrows;
    const ae_train_option *rows = ae_train_options_table(&nrows);
    for (int i = 0; i < nrows; i++) {
        if (rows[i].flags & AE_OPTION_NO_CHECKPOINT) continue;
        char key[128];
        snprintf(key, sizeof key, CK "opt.%s", rows[i].name);
        if (old && (rows[i].flags & AE_OPTION_SINCE_FORMAT_3) && !st_meta(f, key)) continue;
        const char *v = need(f, key, err);
        if (!v) return -1;
        ae_error why = {{0}};
        if (ae_train_option_parse(&rows[i], v, AE_OPTION_TEXT_EXACT, o, &why))
            return ae_fail(err, "%s: checkpoint metadata \"%s\": %s", f->path, key, why.msg);
    }
    /* the thread count the run used (the state's, not the option's 0 = all cores) */
    if (get_int(f, CK "threads", 1, AE_MAX_THREADS, &o->threads, err)) return -1;
    o->checkpoint = f->path;
    ae_error why = {{0}};
    if (ae_train_options_check(o, &why))
        return ae_fail(err, "%s: checkpoint options are invalid: %s", f->path, why.msg);
    return 0;
}

static int get_seconds(const st_file *f, const char *key, double *out, ae_error *err)
{
    if (get_double(f, key, out, err)) return -1;
    if (!(*out >= 0))
        return ae_fail(err, "%s: checkpoint metadata \"%s\" is %.17g, expected a time >= 0 seconds",
                       f->path, key, *out);
    return 0;
}

/* The schedule's state: its best loss may be +inf (no epoch yet). */
static int get_schedule(const st_file *f, lr_schedule_state *st, ae_error *err)
{
    const char *best = need(f, CK "schedule_best", err);
    if (!best || get_double(f, CK "schedule_lr", &st->lr, err) ||
        get_int(f, CK "schedule_bad_epochs", 0, INT_MAX, &st->bad_epochs, err))
        return -1;
    char *end;
    st->best = strtod(best, &end);
    if (end == best || *end || !lr_schedule_state_valid(st))
        return ae_fail(err, "%s: checkpoint metadata \"" CK "schedule_lr\" / \"" CK "schedule_best\" "
                       "(%.17g, '%.40s') are not a schedule's state: a rate above 0, a loss or inf",
                       f->path, st->lr, best);
    return 0;
}

/* A counter the position fixes: `value` must be `expected`. */
static int counter_is(const st_file *f, const char *key, long value, long expected, const char *why,
                      ae_error *err)
{
    if (value == expected) return 0;
    return ae_fail(err, "%s: checkpoint metadata \"%s\" is %ld, expected %ld (%s)", f->path, key,
                   value, expected, why);
}

/* What a run can write into an optimiser buffer: finite values (one that
 * is not makes the parameter non-finite, and the run stops unsaved), but a
 * mean of squares (Adam's exp_avg_sq, RMSprop's square_avg; its square root
 * divides the step) holds values >= 0, and +inf once a square overflowed
 * (that parameter then stays put). */
static int check_buffer(const st_file *f, const char *name, const float *x, size_t n, int squares,
                        ae_error *err)
{
    for (size_t i = 0; i < n; i++)
        if (squares ? !(x[i] >= 0) : !isfinite(x[i]))
            return ae_fail(err, "%s: checkpoint tensor \"%s\" holds %g at index %zu, expected %s",
                           f->path, name, (double)x[i], i,
                           squares ? "values >= 0 (a mean of squares)" : "finite values");
    return 0;
}

/* Training stops before it writes a non-finite weight. */
static int check_finite_weights(const ae_model *m, const char *path, ae_error *err)
{
    size_t bad = model_first_nonfinite(m->params, 0, m->nparams), at = 0;
    if (bad == m->nparams) return 0;
    char name[64] = "?";
    model_param_tensor(m, bad, name, sizeof name, &at);
    return ae_fail(err, "%s: checkpoint tensor \"%s\" holds %g at index %zu, expected finite weights",
                   path, name, (double)m->params[bad], at);
}

/* A conditional model's run stores its data sets' labels hashes, any
 * other run none. */
static int get_labels_hashes(const st_file *f, ae_train_state *s, ae_error *err)
{
    static const char *const keys[2] = { CK "train_labels_hash", CK "val_labels_hash" };
    uint64_t *hashes[2] = { &s->train_labels_hash, &s->val_labels_hash };
    for (int i = 0; i < 2; i++) {
        if (!s->conditional) {
            if (st_meta(f, keys[i]))
                return ae_fail(err, "%s: checkpoint metadata \"%s\" for a model that is not conditional "
                               "(no `param classes`)", f->path, keys[i]);
        } else if (get_u64(f, keys[i], 16, hashes[i], err)) {
            return -1;
        }
    }
    if (s->val_n == 0 && s->val_labels_hash != 0)
        return ae_fail(err, "%s: checkpoint metadata \"" CK "val_labels_hash\" is %016" PRIx64 ", expected 0 "
                       "(\"" CK "val_images\" is 0)", f->path, s->val_labels_hash);
    return 0;
}

static int read_state(const st_file *f, ae_train_state *s, ae_error *err)
{
    long n;
    int epochs = s->opt.epochs;
    if (get_int(f, CK "epoch", 1, epochs == INT_MAX ? INT_MAX : epochs + 1, &s->epoch, err) ||
        get_int(f, CK "step", 0, s->steps, &s->step, err) ||
        get_long(f, CK "global_step", 0, LONG_MAX, &s->global_step, err) ||
        get_double(f, CK "loss_sum", &s->loss_sum, err) ||
        get_long(f, CK "seen", 0, (long)s->n, &s->seen, err) ||
        get_long(f, CK "disc_correct", 0, 2 * (long)s->n, &s->disc_correct, err) ||
        get_seconds(f, CK "epoch_seconds", &s->epoch_seconds, err) ||
        get_seconds(f, CK "seconds", &s->seconds, err) ||
        get_long(f, CK "optim_t", 0, LONG_MAX, &s->main.t, err) ||
        get_long(f, CK "optim_disc_t", 0, LONG_MAX, &s->disc.t, err) ||
        get_long(f, CK "optim_gen_t", 0, LONG_MAX, &s->gen.t, err) ||
        get_int(f, CK "val_images", 0, INT_MAX, &s->val_n, err) ||
        get_u64(f, CK "train_hash", 16, &s->train_hash, err) ||
        get_u64(f, CK "val_hash", 16, &s->val_hash, err) ||
        get_long(f, CK "steps", 1, INT_MAX, &n, err) ||
        get_schedule(f, &s->schedule, err))
        return -1;
    if (s->val_n == 0 && s->val_hash != 0)   /* the hash of no data set is 0 */
        return ae_fail(err, "%s: checkpoint metadata \"" CK "val_hash\" is %016" PRIx64 ", expected 0 "
                       "(\"" CK "val_images\" is 0)", f->path, s->val_hash);
    if (get_labels_hashes(f, s, err)) return -1;
    if (n != s->steps)
        return ae_fail(err, "%s: checkpoint says %ld steps per epoch, its options and %u images make %d",
                       f->path, n, s->n, s->steps);
    if (s->epoch == epochs + 1 && s->step != 0)
        return ae_fail(err, "%s: checkpoint position (epoch %d, step %d) is past the last epoch",
                       f->path, s->epoch, s->step);
    /* the counters a run writes follow from its position: one optimiser
     * update per step (and per AAE phase); `seen` counts this epoch's images
     * (at step 0 the loop resets it and the sums) */
    long done = (long)(s->epoch - 1) * s->steps + s->step;
    uint32_t B = (uint32_t)s->opt.batch < s->n ? (uint32_t)s->opt.batch : s->n;
    long images = (uint64_t)s->step * B < s->n ? (long)s->step * B : (long)s->n;
    if (counter_is(f, CK "global_step", s->global_step, done, "the steps done by its position", err) ||
        counter_is(f, CK "optim_t", s->main.t, done, "one update per step done", err) ||
        counter_is(f, CK "optim_disc_t", s->disc.t, s->adversarial ? done : 0,
                   s->adversarial ? "one update per step done" : "not an adversarial model", err) ||
        counter_is(f, CK "optim_gen_t", s->gen.t, s->adversarial ? done : 0,
                   s->adversarial ? "one update per step done" : "not an adversarial model", err) ||
        (s->step > 0 && counter_is(f, CK "seen", s->seen, images, "the images of its steps this epoch", err)))
        return -1;
    if (s->disc_correct > (s->adversarial ? 2 * s->seen : 0))
        return ae_fail(err, "%s: checkpoint metadata \"" CK "disc_correct\" is %ld, more than the %ld "
                       "discriminator decisions on %ld images", f->path, s->disc_correct,
                       s->adversarial ? 2 * s->seen : 0, s->seen);

    uint64_t rng[9];
    if (get_tensor(f, CK "order", ST_I32, s->order, s->n, 4, err) ||
        get_tensor(f, CK "rng", ST_I64, rng, 9, 8, err))
        return -1;
    memcpy(s->shuffle_rng.s, rng, 4 * sizeof(uint64_t));
    memcpy(s->step_rng.s, rng + 4, 4 * sizeof(uint64_t));
    s->noise_seed = rng[8];
    for (int i = 0; i < 2; i++)
        if (!ae_rng_valid(i ? &s->step_rng : &s->shuffle_rng))
            return ae_fail(err, "%s: checkpoint tensor \"" CK "rng\" holds an all-zero %s state "
                           "(values %d-%d), which xoshiro256** never reaches", f->path,
                           i ? "step stream" : "shuffling", 4 * i, 4 * i + 3);
    /* the order indexes the data set: it must be a permutation of 0..n-1 */
    uint8_t *seen = calloc(s->n, 1);
    if (!seen) return ae_fail(err, "%s: out of memory", f->path);
    for (uint32_t i = 0; i < s->n; i++) {
        uint32_t v = s->order[i];
        if (v >= s->n || seen[v]) {
            free(seen);
            return ae_fail(err, "%s: checkpoint tensor \"" CK "order\" is not a permutation of the "
                           "%u training images", f->path, s->n);
        }
        seen[v] = 1;
    }
    free(seen);

    optim_state *states[TRAIN_OPTIM_STATES];
    int nstates = train_state_optims(s, states);
    const optim_kind *kind = optim_kind_of(s->opt.optimizer);
    for (int i = 0; i < nstates; i++) {
        optim_state *st = states[i];
        for (int j = 0; j < kind->nbuf; j++) {
            char name[96];
            snprintf(name, sizeof name, CK "%s.%s", train_optim_prefixes[i], kind->buf_names[j]);
            float *buf = st->buf[j] + st->lo;
            if (get_tensor(f, name, ST_F32, buf, st->hi - st->lo, 4, err) ||
                check_buffer(f, name, buf, st->hi - st->lo, kind->buf_squares[j], err))
                return -1;
        }
    }

    const st_tensor *h = st_find(f, CK "history");
    if (!h) return ae_fail(err, "%s: checkpoint tensor \"" CK "history\" is missing", f->path);
    if (h->dtype != ST_F64 || h->ndim != 2 || h->shape[1] != AE_EPOCH_METRICS || h->shape[0] != s->epoch - 1)
        return ae_fail(err, "%s: checkpoint tensor \"" CK "history\" should be F64 [%d, %d] "
                       "(one row per finished epoch)", f->path, s->epoch - 1, AE_EPOCH_METRICS);
    s->epochs_done = s->epoch - 1;
    for (int e = 0; e < s->epochs_done; e++) {
        double row[AE_EPOCH_METRICS];
        memcpy(row, f->data + h->begin + (size_t)e * sizeof row, sizeof row);
        /* what an epoch's report always has (the validation columns may be
         * anything: NaN without a validation set) */
        double loss = row[AE_EPOCH_TRAIN_LOSS], acc = row[AE_EPOCH_DISC_ACCURACY];
        double secs = row[AE_EPOCH_SECONDS], speed = row[AE_EPOCH_IMAGES_PER_SECOND];
        if (!isfinite(loss) || !((acc >= 0 && acc <= 1) || isnan(acc)) ||
            !(secs >= 0) || !isfinite(secs) || !(speed >= 0) || !isfinite(speed))
            return ae_fail(err, "%s: checkpoint tensor \"" CK "history\" row %d (epoch %d) is not an "
                           "epoch's report: train loss %g, discriminator accuracy %g, %g seconds, "
                           "%g images/s", f->path, e, e + 1, loss, acc, secs, speed);
        s->history[e] = (ae_progress){ .epoch = e + 1, .epochs = epochs, .step = s->steps,
                                       .steps = s->steps, .end_of_epoch = 1 };
        for (int c = 0; c < AE_EPOCH_METRICS; c++) ae_epoch_metric_set(c, &s->history[e], row[c]);
    }
    /* the best epoch follows from the history; keep best has its weights */
    double *loss = malloc(((size_t)s->epochs_done + 1) * sizeof *loss);
    if (!loss) return ae_fail(err, "%s: out of memory", f->path);
    for (int e = 1; e <= s->epochs_done; e++) loss[e - 1] = train_state_epoch_loss(s, e);
    s->best_epoch = ae_best_epoch(loss, s->epochs_done);
    free(loss);
    if (s->best_params && s->best_epoch > 0 &&
        (get_tensor(f, CK "best_weights", ST_F32, s->best_params, s->nparams, 4, err) ||
         check_buffer(f, CK "best_weights", s->best_params, s->nparams, 0, err)))
        return -1;
    return 0;
}

/* The checkpoint of a file whose header f holds (model_from_st reads its data). */
static int load_from_header(st_file f, const char *path, ae_model **model, ae_train_options *opt,
                            ae_train_state **state, ae_error *err)
{
    ae_model *m = NULL;
    ae_train_state *s = NULL;
    ae_train_options o;
    long n;
    const char *format = st_meta(&f, CK "format");
    if (!format) {
        ae_fail(err, "%s: not a checkpoint (no " CK "format in its metadata)", path);
        goto fail;
    }
    if (strcmp(format, FORMAT) != 0 && strcmp(format, FORMAT_OLD) != 0) {
        ae_fail(err, "%s: checkpoint format '%.20s'; this aekit reads formats " FORMAT_OLD " and " FORMAT,
                path, format);
        goto fail;
    }
    /* what the header decides comes before model_from_st reads the data:
     * the options (read_options checks them) and the sizes the state is
     * allocated with, which the file must back */
    int old = strcmp(format, FORMAT_OLD) == 0;
    if (read_options(&f, old, &o, err) ||
        get_long(&f, CK "train_images", 1, INT_MAX, &n, err))
        goto fail;
    const st_tensor *order = st_find(&f, CK "order");
    if (!order || order->numel != (size_t)n) {
        ae_fail(err, "%s: checkpoint tensor \"" CK "order\" is missing or does not hold the "
                "%ld training images of its metadata", path, n);
        goto fail;
    }
    if (model_from_st(&f, path, NULL, 0, &m, err) || check_finite_weights(m, path, err)) goto fail;
    /* reg_lr's default is not how a format 2 AAE trained: at lr */
    if (old && ae_model_is_adversarial(m)) {
        ae_fail(err, "%s: checkpoint format " FORMAT_OLD " of an AAE, whose discriminator and generator "
                "phases ran at lr: this aekit runs them at \"" CK "opt.reg_lr\", which the file lacks; "
                "finish the run with the aekit that started it", path);
        goto fail;
    }
    o.checkpoint = path;
    if (train_state_alloc(&s, m, &o, (uint32_t)n, err) || read_state(&f, s, err)) goto fail;
    s->threads = o.threads;
    st_free(&f);
    *opt = s->opt;
    *model = m;
    *state = s;
    return 0;
fail:
    ae_train_state_free(s);
    ae_model_free(m);
    st_free(&f);
    return -1;
}

int ae_checkpoint_load(const char *path, ae_model **model, ae_train_options *opt,
                       ae_train_state **state, ae_error *err)
{
    *model = NULL;
    *state = NULL;
    st_file f;
    if (st_read_header(&f, path, err)) return -1;
    return load_from_header(f, path, model, opt, state, err);
}

int checkpoint_load_memory(const void *bytes, size_t size, const char *path, ae_model **model,
                           ae_train_options *opt, ae_train_state **state, ae_error *err)
{
    *model = NULL;
    *state = NULL;
    st_file f;
    if (st_read_header_memory(&f, bytes, size, path, err)) return -1;
    return load_from_header(f, path, model, opt, state, err);
}
