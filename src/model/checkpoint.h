/* Checkpoints (checkpoint.c): a training state and its model in one file.
 * ae_checkpoint_load (aekit.h) reads them. */
#ifndef AEKIT_MODEL_CHECKPOINT_H
#define AEKIT_MODEL_CHECKPOINT_H

#include "model/train_state.h"

/* Writes the checkpoint file s->path: m and the state. */
int  train_state_save(const ae_train_state *s, const ae_model *m, ae_error *err);

#endif
