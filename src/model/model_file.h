/* Model files (model_file.c): what the checkpoint writer and reader share
 * with ae_model_save and ae_model_load. */
#ifndef AEKIT_MODEL_MODEL_FILE_H
#define AEKIT_MODEL_MODEL_FILE_H

#include "aekit.h"
#include "format/safetensors.h"

/* Saves m plus extra tensors and metadata pairs (key, value, ...). */
int  model_save_with(const ae_model *m, const char *path, const st_out_tensor *extra, int nextra,
                     const char *const *extra_meta, int nextra_meta, ae_error *err);
/* Builds the model a read file holds (tensors and metadata whose names
 * start with CHECKPOINT_PREFIX are not the model's). f may hold only its
 * header (st_read_header): the data is read once the tensors fit. The
 * model is built from `description` when not NULL, else from the file's
 * own, else from the preset its tensors match; `latent` fills a
 * description's {latent} (0: its default; files carry it filled in). */
int  model_from_st(st_file *f, const char *path, const char *description, int latent, ae_model **out,
                   ae_error *err);

#define CHECKPOINT_PREFIX "aekit.checkpoint."

#endif
