/* Data sets: what the command-line tool needs beyond aekit.h. */
#ifndef AEKIT_DATA_DATASET_H
#define AEKIT_DATA_DATASET_H

#include "aekit.h"

#define DATASET_PATH_SIZE sizeof(((ae_dataset *)0)->source)

/* The folder that ae_dataset_open reads for `name` (a data set name or a
 * folder path) into dir (DATASET_PATH_SIZE bytes). */
int dataset_folder(char *dir, const char *name, ae_error *err);

#endif
