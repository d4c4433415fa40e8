/* aekit files: writing files whole or not at all, opening files to read
 * safely, and where a data set's files live. Part of aekit's public API
 * (aekit.h holds the core; these headers the rest the CLI uses). */
#ifndef AEKIT_FILES_H
#define AEKIT_FILES_H

#include <stdio.h>
#include <sys/types.h>
#include "aekit.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- atomic writes --------------------------------------------------------- */

/* Writing files so that a crash, a full disk or an error never leaves a
 * partial file under the final name: write a new temporary file next to
 * <path>, flush, fsync, rename over <path>, fsync the folder. On any error
 * the temporary file is removed and <path> is untouched.
 *
 * The temporary is ".<name>.aekit-tmp-XXXXXX" in <path>'s folder (six
 * random letters or digits; a name above 237 bytes, too long for that, is
 * cut to its first bytes, "~" and a hash of the whole name, so that every
 * name up to 255 bytes can be written), created with
 * O_CREAT|O_EXCL|O_NOFOLLOW: a name no one can predict, and always a new
 * file, never an existing file or a symlink planted at that name (which
 * would redirect the write). Its mode is 0666 less the umask, as for any
 * new file. The rename replaces the entry <path> itself: a symlink there is
 * replaced, not written through.
 *
 * Groups, for commands that write several files: between
 * ae_atomic_group_begin and ae_atomic_group_commit, ae_atomic_commit on the
 * same thread only finishes the temporary (written, synced, closed) and
 * keeps it in the group; the group's commit then renames all of them into
 * place, or, when one rename fails, none: the files it already replaced get
 * their previous contents back. While it renames, the group keeps each
 * replaced file under a second name, ".<name>.aekit-old-XXXXXX", removed
 * once all are in place.
 *
 * Leftovers: a process killed while writing leaves its temporary, and one
 * killed inside a group's commit its ".aekit-old-" names. Each writer holds
 * an flock on its temporary until the rename, and a group on each file it
 * keeps; after every commit, the temporaries and kept files of the same
 * name in that folder that no process holds locked (their writer is gone:
 * the kernel released the lock) are removed. A file system without flock
 * keeps its leftovers (nothing can tell them from a live writer's).     */

typedef struct {
    FILE *f;
    char  path[4096];
    char  tmp[4200];
    int   lock;            /* fd holding the temporary's flock until it is renamed, or -1 */
} ae_atomic_file;

/* Creates the temporary file and opens it for binary writing. On failure
 * errno tells why (EACCES, ENOENT, ...). */
int  ae_atomic_open(ae_atomic_file *af, const char *path, ae_error *err);
/* Checks for write errors, syncs and renames into place (or, in a group,
 * leaves the finished temporary to the group). Always closes. */
int  ae_atomic_commit(ae_atomic_file *af, ae_error *err);
/* Closes and removes the temporary file (for error paths). */
void ae_atomic_abort(ae_atomic_file *af);

/* 1 when `name` (a file name, no folder) is a temporary that ae_atomic_open
 * makes for a file named `target`: ".<target>.aekit-tmp-XXXXXX" (target
 * shortened as above when it is long). */
int  ae_atomic_is_temp_of(const char *name, const char *target);
/* 1 when `name` is any temporary file of this module: a temporary, or a
 * group's copy of a file it replaces (".<name>.aekit-old-XXXXXX"). */
int  ae_atomic_is_temp(const char *name);

#define AE_ATOMIC_GROUP_MAX 8

typedef struct {
    int   n;
    char *path[AE_ATOMIC_GROUP_MAX], *tmp[AE_ATOMIC_GROUP_MAX];
    int   lock[AE_ATOMIC_GROUP_MAX]; /* the temporaries' locks (ae_atomic_file.lock) */
    int   failed;          /* a commit could not join the group (it was full) */
    char  failed_msg[4200]; /* why, naming that file */
} ae_atomic_group;

/* Starts holding this thread's commits in g (groups do not nest). */
void ae_atomic_group_begin(ae_atomic_group *g);
/* Renames every file of the group into place, or none of them; ends the
 * group either way. */
int  ae_atomic_group_commit(ae_atomic_group *g, ae_error *err);
/* Removes the group's temporaries and ends it (for error paths). */
void ae_atomic_group_abort(ae_atomic_group *g);

/* ---- opening files to read ------------------------------------------------- */

/* Opening a file to read it, for every reader of aekit (model files,
 * checkpoints, .npy, IDX, CIFAR-10 and image files, model descriptions,
 * metrics.csv): only a regular file is opened. A FIFO would block the open
 * (and then every read) until some other process writes into it, and a
 * device can be read without end: such a path is refused at once. */

/* Opens path for binary reading: O_NONBLOCK (a FIFO's open returns at
 * once), O_CLOEXEC, then fstat; anything but a regular file is closed and
 * refused ("PATH: is a FIFO, not a regular file (aekit reads regular
 * files only)"), a file that cannot be opened too ("PATH: cannot open: No
 * such file or directory"). The stream reads blocking, as fopen's. NULL on failure. */
FILE *ae_open_file(const char *path, ae_error *err);

/* What a file of this mode is, for messages: "a folder", "a FIFO", "a
 * character device", ... ("a file" for a regular file). */
const char *ae_file_kind(mode_t mode);

/* ---- data set folders ------------------------------------------------------- */

#define AE_DATASET_PATH_SIZE sizeof(((ae_dataset *)0)->source)

/* The folder that ae_dataset_open reads for `name` (a data set name or a
 * folder path) into dir (AE_DATASET_PATH_SIZE bytes). */
int ae_dataset_folder(char *dir, const char *name, ae_error *err);

#ifdef __cplusplus
}
#endif

#endif
