/* The state of a training run between two steps: what ae_train keeps from
 * step to step, and what a checkpoint stores (checkpoint.c). A run started
 * from a state continues exactly as the run that wrote it would have.    */
#ifndef AEKIT_MODEL_TRAIN_STATE_H
#define AEKIT_MODEL_TRAIN_STATE_H

#include <stddef.h>
#include <stdint.h>
#include "aekit.h"
#include "core/rng.h"
#include "format/safetensors.h"

/* One optimiser's state over parameters [lo, hi): Adam's first and second
 * moments (s1, s2), RMSprop's mean square (s1) or SGD's momentum buffer
 * (s1); indexed like the model's parameters (s1[lo] is parameter lo's).
 * t counts the updates (Adam's bias correction). */
typedef struct {
    float *s1, *s2;
    size_t lo, hi;
    long   t;
} optim_state;

struct ae_train_state {
    ae_train_options opt;        /* the run's options (checkpoint -> path) */
    char     path[4096];         /* checkpoint file                        */
    int      threads;            /* thread count in use                    */
    uint32_t n;                  /* training images                        */
    int      val_n;              /* validation images (0: none)            */
    uint64_t train_hash, val_hash;
    size_t   nparams;
    int      adversarial;
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
    ae_progress *history;        /* opt.epochs slots, epochs_done used     */
    int      epochs_done;
};

/* A fresh state for training m on train/val with opt (allocates; sets the
 * random streams from opt->seed; does not touch the weights). */
int  train_state_new(ae_train_state **out, const ae_model *m, const ae_dataset *train,
                     const ae_dataset *val, const ae_train_options *opt, ae_error *err);
/* A state with its arrays allocated for these sizes (the optimiser buffers
 * zero); for train_state_new and the checkpoint reader. */
int  train_state_alloc(ae_train_state **out, const ae_model *m, const ae_train_options *opt,
                       uint32_t n, ae_error *err);
/* Checks options as ae_train does. */
int  train_check_options(const ae_train_options *o, ae_error *err);
/* FNV-1a hash of a data set's pixels (0 for NULL). */
uint64_t train_data_hash(const ae_dataset *ds);

/* Writes the checkpoint file s->path: m and the state. */
int  train_state_save(const ae_train_state *s, const ae_model *m, ae_error *err);

/* ---- model files (model_file.c) ---- */

/* Saves m plus extra tensors and metadata pairs (key, value, ...). */
int  model_save_with(const ae_model *m, const char *path, const st_out_tensor *extra, int nextra,
                     const char *const *extra_meta, int nextra_meta, ae_error *err);
/* Builds the model a read file holds (tensors and metadata whose names
 * start with CHECKPOINT_PREFIX are not the model's). f may hold only its
 * header (st_read_header): the data is read once the tensors fit. */
int  model_from_st(st_file *f, const char *path, ae_model **out, ae_error *err);

#define CHECKPOINT_PREFIX "aekit.checkpoint."

#endif
