/* Learning-rate schedules (ae_lr_schedule, aekit.h): the rate of each step
 * from the run's options and the schedule's state, which a checkpoint
 * stores (plateau's rate, best loss and epochs without a new best). */
#ifndef AEKIT_MODEL_LR_SCHEDULE_H
#define AEKIT_MODEL_LR_SCHEDULE_H

#include "aekit.h"

typedef struct {
    double lr;           /* plateau: the rate now (others: the run's lr)  */
    double best;         /* plateau: the best loss so far (+inf: none)    */
    int    bad_epochs;   /* plateau: epochs since the best                */
} lr_schedule_state;

/* The state of a run's start. */
void   lr_schedule_start(lr_schedule_state *st, const ae_train_options *o);
/* The rate of the step after `steps_done` steps of the run, in epoch
 * `epoch` (1-based): the schedule's rate for the epoch, scaled by the
 * warm-up. constant without warm-up is o->lr itself. */
double lr_schedule_rate(const ae_train_options *o, const lr_schedule_state *st, int epoch, long steps_done);
/* After an epoch: plateau sees its loss (val loss, or train loss without
 * a validation set). */
void   lr_schedule_end_epoch(lr_schedule_state *st, const ae_train_options *o, double loss);
/* A state a run could reach (rate positive and finite, best finite or
 * +inf, counter >= 0); for the checkpoint reader. */
int    lr_schedule_state_valid(const lr_schedule_state *st);

#endif
