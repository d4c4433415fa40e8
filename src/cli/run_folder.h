/* The run folder of aekit train: a lock so that one process at a time
 * trains into it, and the files of an earlier or a killed run (the files
 * themselves: aekit/run_folder.h). */
#ifndef AEKIT_CLI_RUN_FOLDER_H
#define AEKIT_CLI_RUN_FOLDER_H

#include <stddef.h>
#include "aekit/run_folder.h"   /* the files of a run folder */

/* The lock file, in the folder while a process holds it. */
#define RUN_LOCK_NAME ".aekit.lock"

typedef struct {
    int  fd;                 /* -1: not held */
    char path[4200];
} run_lock;

#define RUN_LOCK_NONE { -1, "" }

/* Takes the lock of folder dir (an flock on DIR/.aekit.lock, which holds
 * the process id; the kernel releases it when the process ends, however it
 * ends). A folder locked by another process is refused at once, naming
 * that process: "aekit train: FLAG DIR is in use by another aekit train
 * (pid N) ...". Prints the error and returns the exit code, or 0. */
int  run_lock_take(run_lock *l, const char *flag, const char *dir);
/* Removes the lock file and releases the lock (nothing when not held). */
void run_lock_release(run_lock *l);

/* The run files in dir but the checkpoint, as "model.safetensors,
 * loss.png" in buf; returns how many there are. */
int  run_files_present(const char *dir, char *buf, size_t size);
/* Removes all run files from dir (--force); prints the error and returns 1
 * when one cannot be removed. */
int  run_files_remove(const char *dir);
/* Removes the temporary files of run files that a killed run left in dir
 * (ae_atomic_is_temp_of); only with the lock held, so that no other
 * process is writing them. */
void run_remove_temps(const char *dir);

#endif
