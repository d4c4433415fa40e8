/* Checkpoints (checkpoint.c): a training state and its model in one file.
 * ae_checkpoint_load (aekit.h) reads them. */
#ifndef AEKIT_MODEL_CHECKPOINT_H
#define AEKIT_MODEL_CHECKPOINT_H

#include "model/train_state.h"

/* Writes the checkpoint file s->path: m and the state. */
int  train_state_save(const ae_train_state *s, const ae_model *m, ae_error *err);
/* ae_checkpoint_load of a checkpoint file's `size` bytes held in memory
 * (ae_checkpoint_load_ranks: rank 0 read them); `path` names the file. */
int  checkpoint_load_memory(const void *bytes, size_t size, const char *path, ae_model **model,
                            ae_train_options *opt, ae_train_state **state, ae_error *err);

#endif
