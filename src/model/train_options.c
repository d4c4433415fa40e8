/* The training options in one table: one row per field of
 * ae_train_options. Defaults, checks, the command line's flags and help,
 * checkpoint and metadata texts and the resume rules are all read from the
 * rows (aekit.h describes the row's fields). */
#include "aekit.h"
#include "core/error.h"
#include "model/model.h"
#include "optim/optim.h"

#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIELD(f) offsetof(ae_train_options, f)
#define U64_MAX_AS_DOUBLE 18446744073709551615.0   /* 2^64: UINT64_MAX as a double */

static const char *const keep_names[] = { "last", "best", NULL };

/* In checkpoint order: the file lists the options as the rows come (threads
 * is the state's). */
static const ae_train_option rows[] = {
    { "epochs", "epochs", "epochs", AE_OPTION_INT, FIELD(epochs), 25, 1, AE_MAX_EPOCHS, 0, NULL,
      AE_RESUME_MAY_GROW, "N", "25", "passes over the training set", NULL },
    { "batch", "batch", "batch size", AE_OPTION_INT, FIELD(batch), 128, 1, INT_MAX, 0, NULL,
      AE_RESUME_SAME, "N", "128", "images per step", NULL },
    { "lr", "lr", "learning rate", AE_OPTION_DOUBLE, FIELD(lr), 1e-3, AE_MIN_LR, AE_MAX_LR, 0, NULL,
      AE_RESUME_SAME, "X", "1e-3", "learning rate", NULL },
    { "optimizer", "optimizer", "optimizer", AE_OPTION_CHOICE, FIELD(optimizer), AE_OPT_ADAM, AE_OPT_ADAM,
      AE_OPT_SGD, 0, NULL, AE_RESUME_SAME, "NAME", "adam", "adam, rmsprop or sgd (momentum 0.9)", optim_names },
    { "beta1", NULL, "Adam beta1", AE_OPTION_DOUBLE, FIELD(beta1), 0.9, 0, 1,
      AE_OPTION_MAX_EXCLUDED | AE_OPTION_NO_META, NULL, AE_RESUME_SAME, NULL, "0.9",
      "Adam: decay of the first moment", NULL },
    { "beta2", NULL, "Adam beta2", AE_OPTION_DOUBLE, FIELD(beta2), 0.999, 0, 1,
      AE_OPTION_MAX_EXCLUDED | AE_OPTION_NO_META, NULL, AE_RESUME_SAME, NULL, "0.999",
      "Adam: decay of the second moment", NULL },
    { "eps", NULL, "eps", AE_OPTION_DOUBLE, FIELD(eps), 1e-8, 0, DBL_MAX,
      AE_OPTION_MIN_EXCLUDED | AE_OPTION_NO_META, NULL, AE_RESUME_SAME, NULL, "1e-8",
      "Adam and RMSprop: added to the root mean square (PyTorch's default)", NULL },
    { "alpha", NULL, "RMSprop alpha", AE_OPTION_DOUBLE, FIELD(alpha), 0.99, 0, 1,
      AE_OPTION_MAX_EXCLUDED | AE_OPTION_NO_META, NULL, AE_RESUME_SAME, NULL, "0.99",
      "RMSprop: smoothing of the mean square", NULL },
    { "momentum", NULL, "momentum", AE_OPTION_DOUBLE, FIELD(momentum), 0.9, 0, 1,
      AE_OPTION_MAX_EXCLUDED | AE_OPTION_NO_META, NULL, AE_RESUME_SAME, NULL, "0.9", "SGD: momentum", NULL },
    { "seed", "seed", "seed", AE_OPTION_U64, FIELD(seed), 0, 0, U64_MAX_AS_DOUBLE, 0, NULL,
      AE_RESUME_SAME, "N", "0", "seed for the initial weights and the shuffling", NULL },
    { "noise", "noise", "noise", AE_OPTION_NOISE, FIELD(noise), 0, 0, 0, 0, NULL,
      AE_RESUME_SAME, "SPEC", "none", "input corruption: gaussian:MEAN,STD, saltpepper:P or none", NULL },
    { "clip_grad", "clip-grad", "gradient clipping norm", AE_OPTION_DOUBLE, FIELD(clip_grad), 0,
      AE_MIN_CLIP_GRAD, AE_MAX_CLIP_GRAD, AE_OPTION_ZERO_OFF, "none", AE_RESUME_SAME, "X", "off",
      "clip each step's gradient to global L2 norm X (as torch clip_grad_norm_)", NULL },
    { "threads", "threads", "threads", AE_OPTION_INT, FIELD(threads), 0, 1, AE_MAX_THREADS,
      AE_OPTION_ZERO_OFF | AE_OPTION_NO_CHECKPOINT, "all cores", AE_RESUME_MAY_CHANGE, "N", "0 = all cores",
      "threads to use", NULL },
    { "init_weights", NULL, "init_weights", AE_OPTION_INT, FIELD(init_weights), 1, 0, 1, AE_OPTION_NO_META,
      NULL, AE_RESUME_UNUSED, NULL, "1", "1: initialise the weights from the seed; 0: keep them (--init)", NULL },
    { "checkpoint_steps", "checkpoint-every", "checkpoint interval (steps)", AE_OPTION_INT,
      FIELD(checkpoint_steps), 0, 0, INT_MAX, AE_OPTION_NO_META, NULL, AE_RESUME_MAY_CHANGE, "N", "0",
      "write the checkpoint every N steps (0: not by steps)", NULL },
    { "checkpoint_epochs", "checkpoint-every", "checkpoint interval (epochs)", AE_OPTION_INT,
      FIELD(checkpoint_epochs), 0, 0, INT_MAX, AE_OPTION_NO_META, NULL, AE_RESUME_MAY_CHANGE, "N", "0",
      "write the checkpoint every N epochs (0: not by epochs)", NULL },
    { "lr_schedule", "lr-schedule", "lr schedule", AE_OPTION_SCHEDULE, FIELD(lr_schedule), 0, 0, 0, 0, NULL,
      AE_RESUME_SAME, "SPEC", "constant",
      "per epoch: constant, cosine[:MIN_LR], step:EVERY,GAMMA or plateau:PATIENCE,FACTOR (val loss)", NULL },
    { "warmup_steps", "warmup", "warm-up steps", AE_OPTION_INT, FIELD(warmup_steps), 0, 0, INT_MAX, 0, NULL,
      AE_RESUME_SAME, "N", "0", "the first N steps' rate rises linearly: step k runs at k/N of the schedule's", NULL },
    { "weight_decay", "weight-decay", "weight decay", AE_OPTION_DOUBLE, FIELD(weight_decay), 0, 0, AE_MAX_WEIGHT_DECAY, 0,
      NULL, AE_RESUME_SAME, "X", "0", "Adam: decoupled (AdamW); SGD, RMSprop: L2 added to the gradient", NULL },
    { "early_stop", "early-stop", "early stop", AE_OPTION_INT, FIELD(early_stop), 0, 0, AE_MAX_EPOCHS,
      AE_OPTION_SINCE_FORMAT_3, NULL, AE_RESUME_MAY_CHANGE, "N", "0 = off",
      "stop after N epochs in a row without a strictly lower val loss", NULL },
    { "keep", "keep", "kept weights", AE_OPTION_CHOICE, FIELD(keep), AE_KEEP_LAST, AE_KEEP_LAST, AE_KEEP_BEST,
      AE_OPTION_SINCE_FORMAT_3, NULL, AE_RESUME_SAME, "WHICH", "last",
      "last or best: the weights of the last epoch or of the best (lowest val loss)", keep_names },
    { "beta", "beta", "KL weight (beta)", AE_OPTION_DOUBLE, FIELD(beta), 1, 0, AE_MAX_BETA,
      AE_OPTION_META_UNLESS_DEFAULT | AE_OPTION_SINCE_FORMAT_3, NULL, AE_RESUME_SAME, "X", "1",
      "VAE: the KL term's weight, loss = recon + X KL (beta-VAE)", NULL },
    { "reg_lr", "reg-lr", "regularisation learning rate", AE_OPTION_DOUBLE, FIELD(reg_lr), 1e-4, AE_MIN_LR,
      AE_MAX_LR, AE_OPTION_META_UNLESS_DEFAULT | AE_OPTION_SINCE_FORMAT_3, NULL, AE_RESUME_SAME, "X", "1e-4",
      "AAE: learning rate of the discriminator and generator phases (scaled by a schedule as lr)", NULL },
};
enum { NROWS = (int)(sizeof rows / sizeof rows[0]) };
_Static_assert(NROWS <= AE_MAX_TRAIN_OPTIONS, "more option rows than a checkpoint holds");

/* a choice's field is read and written as an int */
_Static_assert(sizeof(ae_optimizer) == sizeof(int), "ae_optimizer is int-sized");
_Static_assert(sizeof(ae_keep) == sizeof(int), "ae_keep is int-sized");

const ae_train_option *ae_train_options_table(int *count)
{
    if (count) *count = NROWS;
    return rows;
}

const ae_train_option *ae_train_option_find(const char *name)
{
    for (int i = 0; i < NROWS; i++)
        if (strcmp(rows[i].name, name) == 0 || (rows[i].flag && strcmp(rows[i].flag, name) == 0))
            return &rows[i];
    return NULL;
}

/* ---- the field of a row ---------------------------------------------------------- */

static void *field(const ae_train_option *r, ae_train_options *o) { return (char *)o + r->offset; }
static const void *cfield(const ae_train_option *r, const ae_train_options *o) { return (const char *)o + r->offset; }

/* A number option's value as a double (u64: rounded, for range checks). */
static double number(const ae_train_option *r, const ae_train_options *o)
{
    switch (r->type) {
    case AE_OPTION_INT:    return *(const int *)cfield(r, o);
    case AE_OPTION_CHOICE: return (double)*(const ae_optimizer *)cfield(r, o);
    case AE_OPTION_DOUBLE: return *(const double *)cfield(r, o);
    case AE_OPTION_U64:    return (double)*(const uint64_t *)cfield(r, o);
    default:               return 0;
    }
}

void ae_train_options_default(ae_train_options *o)
{
    memset(o, 0, sizeof *o);
    for (int i = 0; i < NROWS; i++) {
        const ae_train_option *r = &rows[i];
        switch (r->type) {
        case AE_OPTION_INT:    *(int *)field(r, o) = (int)r->def; break;
        case AE_OPTION_CHOICE: *(ae_optimizer *)field(r, o) = (ae_optimizer)r->def; break;
        case AE_OPTION_DOUBLE: *(double *)field(r, o) = r->def; break;
        case AE_OPTION_U64:    *(uint64_t *)field(r, o) = (uint64_t)r->def; break;
        case AE_OPTION_NOISE:  memset(field(r, o), 0, sizeof(ae_noise)); break;
        case AE_OPTION_SCHEDULE: memset(field(r, o), 0, sizeof(ae_lr_schedule)); break;   /* constant */
        }
    }
}

size_t ae_train_options_size(void) { return sizeof(ae_train_options); }

void ae_train_options_set_checkpoint(ae_train_options *o, const char *path) { o->checkpoint = path; }

/* ---- checks --------------------------------------------------------------------- */

static void number_text(const ae_train_option *r, double x, char *buf, size_t size)
{
    if (r->type == AE_OPTION_DOUBLE) snprintf(buf, size, "%g", x);
    else if (r->type == AE_OPTION_U64 && x >= U64_MAX_AS_DOUBLE) snprintf(buf, size, "%" PRIu64, UINT64_MAX);
    else snprintf(buf, size, "%.0f", x);
}

/* "1e-10 to 1000", "at least 1", "in [0, 1)", "above 0", "0 (none) or
 * 1e-37 to 1e+38", "0 (all cores) to 256". */
static void range_text(const ae_train_option *r, char *buf, size_t size)
{
    char lo[40], hi[40], zero[64] = "";
    number_text(r, r->min, lo, sizeof lo);
    number_text(r, r->max, hi, sizeof hi);
    if (r->flags & AE_OPTION_ZERO_OFF) {
        if (r->type == AE_OPTION_INT && r->min == 1) {   /* 0 and 1..max: one range */
            snprintf(buf, size, "0 (%s) to %s", r->zero_means, hi);
            return;
        }
        snprintf(zero, sizeof zero, "0 (%s) or ", r->zero_means);
    }
    if (r->flags & AE_OPTION_MAX_EXCLUDED)      snprintf(buf, size, "%sin [%s, %s)", zero, lo, hi);
    else if (r->flags & AE_OPTION_MIN_EXCLUDED) snprintf(buf, size, "%sabove %s", zero, lo);
    else if (r->max == INT_MAX || r->max == DBL_MAX) snprintf(buf, size, "%sat least %s", zero, lo);
    else                                        snprintf(buf, size, "%s%s to %s", zero, lo, hi);
}

int ae_train_option_check(const ae_train_option *r, const ae_train_options *o, ae_error *err)
{
    if (r->type == AE_OPTION_NOISE) {
        const ae_noise *nz = cfield(r, o);
        /* the ranges ae_noise_parse allows */
        if (nz->kind < AE_NOISE_NONE || nz->kind > AE_NOISE_SALT_PEPPER || !isfinite(nz->mean) ||
            !(nz->std >= 0) || !isfinite(nz->std) || !(nz->p >= 0 && nz->p <= 1))
            return ae_fail(err, "%s must be none, gaussian with a finite MEAN and STD >= 0, or saltpepper "
                           "with P in [0, 1]", r->what);
        return 0;
    }
    if (r->type == AE_OPTION_SCHEDULE) {
        const ae_lr_schedule *ls = cfield(r, o);
        /* the ranges ae_lr_schedule_parse allows */
        int ok = isfinite(ls->factor) && isfinite(ls->min_lr) && (ls->kind == AE_LR_CONSTANT ||
                 (ls->kind == AE_LR_COSINE && ls->min_lr >= 0 && ls->min_lr <= AE_MAX_LR) ||
                 (ls->kind == AE_LR_STEP && ls->epochs >= 1 && ls->epochs <= AE_MAX_EPOCHS &&
                  ls->factor > 0 && ls->factor <= 1) ||
                 (ls->kind == AE_LR_PLATEAU && ls->epochs >= 0 && ls->epochs <= AE_MAX_EPOCHS &&
                  ls->factor > 0 && ls->factor < 1));
        if (!ok)
            return ae_fail(err, "%s must be constant, cosine with MIN_LR >= 0, step with EVERY >= 1 and GAMMA "
                           "in (0, 1], or plateau with PATIENCE >= 0 and FACTOR in (0, 1)", r->what);
        return 0;
    }
    double x = number(r, o);
    if (r->type == AE_OPTION_U64) return 0;    /* every value */
    if (r->type == AE_OPTION_CHOICE && !(x >= r->min && x <= r->max))
        return ae_fail(err, "unknown %s %d", r->what, (int)x);
    int ok = (r->flags & AE_OPTION_MIN_EXCLUDED ? x > r->min : x >= r->min) &&
             (r->flags & AE_OPTION_MAX_EXCLUDED ? x < r->max : x <= r->max);
    if (ok || (r->flags & AE_OPTION_ZERO_OFF && x == 0)) return 0;
    char range[128], got[40];
    range_text(r, range, sizeof range);
    number_text(r, x, got, sizeof got);
    return ae_fail(err, "%s must be %s, got %s", r->what, range, got);
}

int ae_train_options_check(const ae_train_options *o, ae_error *err)
{
    for (int i = 0; i < NROWS; i++)
        if (ae_train_option_check(&rows[i], o, err)) return -1;
    if ((o->checkpoint_steps || o->checkpoint_epochs) && (!o->checkpoint || !o->checkpoint[0]))
        return ae_fail(err, "checkpoint intervals given without a checkpoint file");
    if (o->lr_schedule.kind == AE_LR_COSINE && o->lr_schedule.min_lr > o->lr)
        return ae_fail(err, "lr schedule: the cosine floor %g is above the learning rate %g",
                       o->lr_schedule.min_lr, o->lr);
    return 0;
}

int ae_train_option_is_default(const ae_train_option *r, const ae_train_options *o)
{
    ae_train_options d;
    ae_train_options_default(&d);
    return ae_train_option_equal(r, o, &d, AE_OPTION_TEXT_EXACT);
}

static int at_default(const char *name, const ae_train_options *o)
{
    return ae_train_option_is_default(ae_train_option_find(name), o);
}

int ae_train_options_check_model(const ae_train_options *o, const ae_model *m, ae_error *err)
{
    if (!ae_model_is_variational(m) && !at_default("beta", o))
        return ae_fail(err, "option beta (the KL term's weight) is for a VAE's loss: this model has no "
                       "sample layer, its loss has no KL term");
    if (!ae_model_is_adversarial(m) && !at_default("reg_lr", o))
        return ae_fail(err, "option reg_lr (the learning rate of an AAE's discriminator and generator "
                       "phases) is for an adversarial autoencoder: this model has no discriminator");
    return 0;
}

/* ---- text ----------------------------------------------------------------------- */

size_t ae_train_option_format(const ae_train_option *r, const ae_train_options *o, ae_option_text form,
                              char *buf, size_t size)
{
    int n = 0;
    switch (r->type) {
    case AE_OPTION_INT:
        n = snprintf(buf, size, "%d", *(const int *)cfield(r, o));
        break;
    case AE_OPTION_DOUBLE:
        n = snprintf(buf, size, form == AE_OPTION_TEXT_EXACT ? "%.17g" : "%g", *(const double *)cfield(r, o));
        break;
    case AE_OPTION_U64:
        n = snprintf(buf, size, "%" PRIu64, *(const uint64_t *)cfield(r, o));
        break;
    case AE_OPTION_CHOICE: {
        int k = *(const int *)cfield(r, o);
        n = snprintf(buf, size, "%s", k >= r->min && k <= r->max ? r->choices[k] : "?");
        break;
    }
    case AE_OPTION_NOISE: {
        const ae_noise *nz = cfield(r, o);
        if (form == AE_OPTION_TEXT_EXACT)   /* floats: 9 digits read back to the same bits */
            n = snprintf(buf, size, "%d %.9g %.9g %.9g", (int)nz->kind, (double)nz->mean, (double)nz->std,
                         (double)nz->p);
        else
            n = (int)ae_noise_format(nz, buf, size);
        break;
    }
    case AE_OPTION_SCHEDULE: {
        const ae_lr_schedule *ls = cfield(r, o);
        if (form == AE_OPTION_TEXT_EXACT)   /* doubles: 17 digits read back to the same bits */
            n = snprintf(buf, size, "%d %d %.17g %.17g", (int)ls->kind, ls->epochs, ls->factor, ls->min_lr);
        else
            n = (int)ae_lr_schedule_format(ls, buf, size);
        break;
    }
    }
    return n < 0 ? 0 : (size_t)n;
}

static int bad_text(const ae_train_option *r, const char *text, const char *expected, ae_error *err)
{
    return ae_fail(err, "%s: expected %s, got '%.40s'", r->what, expected, text);
}

int ae_train_option_parse(const ae_train_option *r, const char *text, ae_option_text form,
                          ae_train_options *o, ae_error *err)
{
    ae_train_options v = *o;
    char *end;
    errno = 0;
    switch (r->type) {
    case AE_OPTION_INT: {
        long x = strtol(text, &end, 10);
        if (errno || end == text || *end || x < INT_MIN || x > INT_MAX) return bad_text(r, text, "an integer", err);
        *(int *)field(r, &v) = (int)x;
        break;
    }
    case AE_OPTION_DOUBLE: {
        double x = strtod(text, &end);
        if (end == text || *end || !isfinite(x)) return bad_text(r, text, "a finite number", err);
        *(double *)field(r, &v) = x;
        break;
    }
    case AE_OPTION_U64: {
        unsigned long long x = strtoull(text, &end, 10);
        if (errno || end == text || *end || text[0] == '-')
            return bad_text(r, text, "an unsigned integer", err);
        *(uint64_t *)field(r, &v) = (uint64_t)x;
        break;
    }
    case AE_OPTION_CHOICE: {
        int k = -1;
        for (int i = 0; r->choices[i]; i++)
            if (strcmp(text, r->choices[i]) == 0) k = i;
        if (k < 0) {
            char list[128] = "";
            for (int i = 0; r->choices[i]; i++) {
                size_t used = strlen(list);
                snprintf(list + used, sizeof list - used, "%s%s", i == 0 ? "" : r->choices[i + 1] ? ", " : " or ",
                         r->choices[i]);
            }
            return bad_text(r, text, list, err);
        }
        *(int *)field(r, &v) = k;
        break;
    }
    case AE_OPTION_NOISE: {
        ae_noise *nz = field(r, &v);
        if (form == AE_OPTION_TEXT_SHORT) {
            if (ae_noise_parse(nz, text, err)) return -1;
            break;
        }
        int kind;
        float mean, std, p;
        char extra;
        if (sscanf(text, "%d %g %g %g %c", &kind, &mean, &std, &p, &extra) != 4)
            return bad_text(r, text, "\"KIND MEAN STD P\" with STD >= 0 and P in [0, 1]", err);
        *nz = (ae_noise){ (ae_noise_kind)kind, mean, std, p };
        break;
    }
    case AE_OPTION_SCHEDULE: {
        ae_lr_schedule *ls = field(r, &v);
        if (form == AE_OPTION_TEXT_SHORT) {
            if (ae_lr_schedule_parse(ls, text, err)) return -1;
            break;
        }
        int kind, epochs, used = 0;
        double factor, min_lr;
        if (sscanf(text, "%d %d %lg %lg%n", &kind, &epochs, &factor, &min_lr, &used) != 4 || text[used])
            return bad_text(r, text, "\"KIND EPOCHS FACTOR MIN_LR\"", err);
        *ls = (ae_lr_schedule){ (ae_lr_schedule_kind)kind, epochs, factor, min_lr };
        break;
    }
    }
    ae_error why = {{0}};
    if (ae_train_option_check(r, &v, &why)) {
        if (r->type == AE_OPTION_NOISE && form == AE_OPTION_TEXT_EXACT)
            return bad_text(r, text, "\"KIND MEAN STD P\" with STD >= 0 and P in [0, 1]", err);
        return ae_fail(err, "%s", why.msg);
    }
    *o = v;
    return 0;
}

int ae_train_option_equal(const ae_train_option *r, const ae_train_options *a, const ae_train_options *b,
                          ae_option_text form)
{
    /* EXACT texts are equal exactly when the values are (%.17g, 9 digits
     * for floats): one comparison for every type and both forms */
    char x[128], y[128];
    ae_train_option_format(r, a, form, x, sizeof x);
    ae_train_option_format(r, b, form, y, sizeof y);
    return strcmp(x, y) == 0;
}

void ae_train_option_copy(const ae_train_option *r, ae_train_options *dst, const ae_train_options *src)
{
    static const size_t sizes[] = { [AE_OPTION_INT] = sizeof(int), [AE_OPTION_DOUBLE] = sizeof(double),
                                    [AE_OPTION_U64] = sizeof(uint64_t), [AE_OPTION_CHOICE] = sizeof(int),
                                    [AE_OPTION_NOISE] = sizeof(ae_noise),
                                    [AE_OPTION_SCHEDULE] = sizeof(ae_lr_schedule) };
    memcpy(field(r, dst), cfield(r, src), sizes[r->type]);
}

const ae_train_option *ae_train_options_resume_conflict(const ae_train_options *given,
                                                        const ae_train_options *stored)
{
    for (int i = 0; i < NROWS; i++) {
        const ae_train_option *r = &rows[i];
        if ((r->resume == AE_RESUME_SAME && !ae_train_option_equal(r, given, stored, AE_OPTION_TEXT_EXACT)) ||
            (r->resume == AE_RESUME_MAY_GROW && number(r, given) < number(r, stored)))
            return r;
    }
    return NULL;
}

int ae_train_option_set_meta(ae_model *m, const ae_train_option *r, const ae_train_options *o, ae_error *err)
{
    char key[128], value[128];
    snprintf(key, sizeof key, "aekit.train.%s", r->name);
    if (r->flags & AE_OPTION_META_UNLESS_DEFAULT && ae_train_option_is_default(r, o)) {
        model_remove_meta(m, key);   /* no key: the default (a model it started from may have one) */
        return 0;
    }
    ae_train_option_format(r, o, AE_OPTION_TEXT_SHORT, value, sizeof value);
    return ae_model_set_meta(m, key, value, err);
}
