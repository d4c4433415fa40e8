/* Opening a file to read it, for every reader of aekit (model files,
 * checkpoints, .npy, IDX, CIFAR-10 and image files, model descriptions,
 * metrics.csv): only a regular file is opened. A FIFO would block the open
 * (and then every read) until some other process writes into it, and a
 * device can be read without end: such a path is refused at once. */
#ifndef AEKIT_CORE_FILE_OPEN_H
#define AEKIT_CORE_FILE_OPEN_H

#include <stdio.h>
#include <sys/types.h>
#include "aekit.h"

/* Opens path for binary reading: O_NONBLOCK (a FIFO's open returns at
 * once), O_CLOEXEC, then fstat; anything but a regular file is closed and
 * refused ("PATH: is a FIFO, not a regular file (aekit reads regular
 * files only)"), a file that cannot be opened too ("PATH: cannot open: No
 * such file or directory"). The stream reads blocking, as fopen's. NULL on failure. */
FILE *ae_open_file(const char *path, ae_error *err);

/* What a file of this mode is, for messages: "a folder", "a FIFO", "a
 * character device", ... ("a file" for a regular file). */
const char *ae_file_kind(mode_t mode);

#endif
