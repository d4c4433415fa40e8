/* The run folder of aekit train: a lock so that one process at a time
 * trains into it, the files a run leaves there, and the temporary files a
 * killed run left behind. */
#ifndef AEKIT_CLI_RUN_FOLDER_H
#define AEKIT_CLI_RUN_FOLDER_H

#include <stddef.h>

/* The lock file, in the folder while a process holds it. */
#define RUN_LOCK_NAME ".aekit.lock"

typedef struct {
    int  fd;                 /* -1: not held */
    char path[4200];
} run_lock;

#define RUN_LOCK_NONE { -1, "" }

/* Every file aekit train writes into a run folder, named by
 * run_files[RUN_...] and nowhere else: --force, the refusal of a folder
 * holding an earlier run and the removal of a killed run's temporaries walk
 * this table, so a file the run writes cannot escape them. */
enum {
    RUN_MODEL, RUN_METRICS, RUN_LOSS_PLOT, RUN_RECONSTRUCTIONS, RUN_SAMPLES, RUN_CODES,
    RUN_LATENT, RUN_MANIFOLD, RUN_INDEX, RUN_CHECKPOINT,
    RUN_FILES                /* how many */
};
extern const char *const run_files[RUN_FILES];

/* dir + "/" + run_files[file] into buf. */
void run_path(char *buf, size_t size, const char *dir, int file);

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
