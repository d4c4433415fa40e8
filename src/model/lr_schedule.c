/* Learning-rate schedules: the text of --lr-schedule and the rate of each
 * step (lr_schedule.h). Each kind follows PyTorch's scheduler stepped once
 * per epoch (aekit.h gives the formulas); the warm-up scales the first
 * steps of the run. */
#include "model/lr_schedule.h"
#include "core/error.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FORMS "constant, cosine, cosine:MIN_LR, step:EVERY,GAMMA or plateau:PATIENCE,FACTOR"
#define PLATEAU_THRESHOLD 1e-4   /* torch's default, relative (threshold_mode 'rel') */
#define PLATEAU_EPS       1e-8   /* torch's: a smaller reduction is skipped */
#define PI 3.14159265358979323846   /* math.pi */

size_t ae_lr_schedule_format(const ae_lr_schedule *s, char *buf, size_t size)
{
    int n;
    switch (s->kind) {
    case AE_LR_COSINE:
        n = s->min_lr > 0 ? snprintf(buf, size, "cosine:%g", s->min_lr) : snprintf(buf, size, "cosine");
        break;
    case AE_LR_STEP:    n = snprintf(buf, size, "step:%d,%g", s->epochs, s->factor); break;
    case AE_LR_PLATEAU: n = snprintf(buf, size, "plateau:%d,%g", s->epochs, s->factor); break;
    default:            n = snprintf(buf, size, "constant"); break;
    }
    return n < 0 ? 0 : (size_t)n;
}

/* An integer then ',' then a number, the whole rest of the text. */
static int int_and_number(const char *text, long *i, double *x)
{
    char *end;
    errno = 0;
    *i = strtol(text, &end, 10);
    if (errno || end == text || *end != ',') return -1;
    const char *s = end + 1;
    *x = strtod(s, &end);
    return end == s || *end || !isfinite(*x) ? -1 : 0;
}

int ae_lr_schedule_parse(ae_lr_schedule *s, const char *text, ae_error *err)
{
    memset(s, 0, sizeof *s);
    if (strcmp(text, "constant") == 0) return 0;
    if (strcmp(text, "cosine") == 0) {
        s->kind = AE_LR_COSINE;
        return 0;
    }
    long n;
    double x;
    char *end;
    if (strncmp(text, "cosine:", 7) == 0) {
        x = strtod(text + 7, &end);
        if (end == text + 7 || *end || !(x >= 0 && x <= AE_MAX_LR))
            return ae_fail(err, "lr schedule '%.60s': expected cosine:MIN_LR with MIN_LR from 0 to the "
                           "learning rate", text);
        *s = (ae_lr_schedule){ AE_LR_COSINE, 0, 0, x };
        return 0;
    }
    if (strncmp(text, "step:", 5) == 0) {
        if (int_and_number(text + 5, &n, &x) || n < 1 || n > AE_MAX_EPOCHS || !(x > 0 && x <= 1))
            return ae_fail(err, "lr schedule '%.60s': expected step:EVERY,GAMMA with EVERY from 1 to %d "
                           "epochs and GAMMA in (0, 1] (e.g. step:10,0.5)", text, AE_MAX_EPOCHS);
        *s = (ae_lr_schedule){ AE_LR_STEP, (int)n, x, 0 };
        return 0;
    }
    if (strncmp(text, "plateau:", 8) == 0) {
        if (int_and_number(text + 8, &n, &x) || n < 0 || n > AE_MAX_EPOCHS || !(x > 0 && x < 1))
            return ae_fail(err, "lr schedule '%.60s': expected plateau:PATIENCE,FACTOR with PATIENCE from 0 "
                           "to %d epochs and FACTOR in (0, 1) (e.g. plateau:3,0.1)", text, AE_MAX_EPOCHS);
        *s = (ae_lr_schedule){ AE_LR_PLATEAU, (int)n, x, 0 };
        return 0;
    }
    return ae_fail(err, "lr schedule '%.60s': expected " FORMS, text);
}

void lr_schedule_start(lr_schedule_state *st, const ae_train_options *o)
{
    *st = (lr_schedule_state){ o->lr, INFINITY, 0 };
}

static double epoch_rate(const ae_train_options *o, const lr_schedule_state *st, int epoch)
{
    const ae_lr_schedule *s = &o->lr_schedule;
    int done = epoch - 1;    /* the scheduler's last_epoch */
    switch (s->kind) {
    case AE_LR_COSINE:
        return s->min_lr + (o->lr - s->min_lr) * (1 + cos(PI * (double)done / (double)o->epochs)) / 2;
    case AE_LR_STEP:    return o->lr * pow(s->factor, (double)(done / s->epochs));
    case AE_LR_PLATEAU: return st->lr;
    default:            return o->lr;
    }
}

double lr_schedule_rate(const ae_train_options *o, const lr_schedule_state *st, int epoch, long steps_done)
{
    double lr = epoch_rate(o, st, epoch);
    if (steps_done < o->warmup_steps) lr = lr * (double)(steps_done + 1) / (double)o->warmup_steps;
    return lr;
}

void lr_schedule_end_epoch(lr_schedule_state *st, const ae_train_options *o, double loss)
{
    const ae_lr_schedule *s = &o->lr_schedule;
    if (s->kind != AE_LR_PLATEAU) return;
    /* torch's is_better, mode min, threshold_mode rel */
    if (loss < st->best * (1.0 - PLATEAU_THRESHOLD)) {
        st->best = loss;
        st->bad_epochs = 0;
    } else {
        st->bad_epochs++;
    }
    if (st->bad_epochs > s->epochs) {
        double reduced = fmax(st->lr * s->factor, 0.0);
        if (st->lr - reduced > PLATEAU_EPS) st->lr = reduced;
        st->bad_epochs = 0;
    }
}

int lr_schedule_state_valid(const lr_schedule_state *st)
{
    return st->lr > 0 && isfinite(st->lr) && !isnan(st->best) && st->best != -INFINITY && st->bad_epochs >= 0;
}
