/* The state of a training run between two steps: what ae_train keeps from
 * step to step, and what a checkpoint stores (checkpoint.c). A run started
 * from a state continues exactly as the run that wrote it would have.
 * train.c and checkpoint.c both use it; neither includes the other's
 * internals (train.c calls train_state_save, checkpoint.h).             */
#ifndef AEKIT_MODEL_TRAIN_STATE_H
#define AEKIT_MODEL_TRAIN_STATE_H

#include <stddef.h>
#include <stdint.h>
#include "aekit.h"
#include "core/rng.h"
#include "optim/optim.h"
#include "model/lr_schedule.h"

struct ae_train_state {
    ae_train_options opt;        /* the run's options (checkpoint -> path) */
    char     path[4096];         /* checkpoint file                        */
    int      threads;            /* thread count in use (per process)      */
    int      ranks;              /* processes the batches are split over
                                    (ae_train_ranks; 1 otherwise): a
                                    checkpoint records ranks x threads    */
    uint32_t n;                  /* training images                        */
    int      val_n;              /* validation images (0: none)            */
    uint64_t train_hash, val_hash;   /* the data sets' pixels (train_data_hash) */
    uint64_t train_labels_hash, val_labels_hash;   /* a conditional model's:
                                    their labels (train_data_labels_hash)  */
    size_t   nparams;
    int      adversarial;
    int      conditional;        /* the model takes labels (`param classes`) */
    /* position: `step` steps of epoch `epoch` are done */
    int      epoch, step, steps;
    long     global_step;        /* steps done since the run started       */
    double   loss_sum;           /* this epoch so far: sum of loss x images */
    long     seen, disc_correct;
    double   epoch_seconds;      /* this epoch's training time so far      */
    double   seconds;            /* the run's training time so far         */
    /* random streams: shuffling, per-step seeds, input noise */
    ae_rng   shuffle_rng, step_rng;
    uint64_t noise_seed;
    uint32_t *order;             /* this epoch's shuffled order (after step 0
                                    of an epoch: the one the shuffle permutes) */
    optim_state main, disc, gen; /* disc, gen: AAE only                    */
    lr_schedule_state schedule;  /* the learning-rate schedule's (plateau's) */
    ae_progress *history;        /* opt.epochs slots, epochs_done used     */
    int      epochs_done;
    /* the best epoch so far (ae_best_epoch of the history's losses, 0 before
     * the first) and, for keep best, its weights (nparams floats) */
    int      best_epoch;
    float   *best_params;
};

/* The loss of finished epoch e (1-based) that early stopping and keep best
 * judge: its validation loss, or its training loss without a validation set. */
double train_state_epoch_loss(const ae_train_state *s, int e);
/* After epoch s->epochs_done's report: a new best epoch (strictly lower
 * loss) becomes s->best_epoch, and for keep best its weights are copied
 * from params. */
void train_state_note_best(ae_train_state *s, const float *params);
/* 1 when early stopping has ended the run: early_stop epochs in a row done
 * after the best without a better one. */
int  train_state_stopped_early(const ae_train_state *s);
/* Room for `epochs` epochs' reports (a resumed run given more epochs). */
int  train_state_grow(ae_train_state *s, int epochs, ae_error *err);

/* The optimiser states a checkpoint stores, with their name prefixes. */
enum { TRAIN_OPTIM_STATES = 3 };
extern const char *const train_optim_prefixes[TRAIN_OPTIM_STATES]; /* "optim", "optim_disc", "optim_gen" */
/* How many of them the state uses (3 for an AAE, else 1); *states the list. */
int  train_state_optims(ae_train_state *s, optim_state *states[TRAIN_OPTIM_STATES]);

/* A fresh state for training m on train/val with opt (allocates; sets the
 * random streams from opt->seed; does not touch the weights). */
int  train_state_new(ae_train_state **out, const ae_model *m, const ae_dataset *train,
                     const ae_dataset *val, const ae_train_options *opt, ae_error *err);
/* A state with its arrays allocated for these sizes (the optimiser buffers
 * zero); for train_state_new and the checkpoint reader. */
int  train_state_alloc(ae_train_state **out, const ae_model *m, const ae_train_options *opt,
                       uint32_t n, ae_error *err);
/* FNV-1a hash of a data set's pixels (0 for NULL). */
uint64_t train_data_hash(const ae_dataset *ds);
/* FNV-1a hash of a data set's labels (0 for NULL or a set without labels). */
uint64_t train_data_labels_hash(const ae_dataset *ds);

#endif
