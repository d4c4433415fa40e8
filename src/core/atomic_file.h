/* Writing files so that a crash, a full disk or an error never leaves a
 * partial file under the final name: write "<path>.tmp.<pid>", flush, fsync,
 * rename over <path>, fsync the folder. On any error the temporary file is
 * removed and <path> is untouched.                                        */
#ifndef AEKIT_CORE_ATOMIC_FILE_H
#define AEKIT_CORE_ATOMIC_FILE_H

#include <stdio.h>
#include "aekit.h"

typedef struct {
    FILE *f;
    char  path[4096];
    char  tmp[4200];
} ae_atomic_file;

/* Opens the temporary file for binary writing. */
int  ae_atomic_open(ae_atomic_file *af, const char *path, ae_error *err);
/* Checks for write errors, syncs and renames into place. Always closes. */
int  ae_atomic_commit(ae_atomic_file *af, ae_error *err);
/* Closes and removes the temporary file (for error paths). */
void ae_atomic_abort(ae_atomic_file *af);

#endif
