/* aekit train, split by concept: the flags (train_flags.c), the model to
 * train and its metadata (train_model.c), the progress of a run
 * (train_progress.c), its run folder (train_run_folder.c), --resume
 * (train_resume.c), and the driver (cmd_train.c). What they share. */
#ifndef AEKIT_CLI_TRAIN_H
#define AEKIT_CLI_TRAIN_H

#include <signal.h>
#include <stddef.h>
#include "cli.h"
#include "run_folder.h"
#include "aekit/epoch_metrics.h"

enum { TASK_RECONSTRUCT = 0, TASK_DENOISE = 1 };
#define DENOISE_NOISE "gaussian:0.5,0.5"

/* The values of --task and --recon, NULL-terminated (--optimizer: the options table). */
extern const char *const train_task_names[], *const train_recon_names[];

/* The settings of a run: the flags, or for --resume the run's own. */
typedef struct {
    const char *model, *data, *out, *init;
    const char *resume;              /* --resume DIR, or NULL */
    char checkpoint[4096];           /* DIR/checkpoint.safetensors */
    const char *preset;              /* the preset built (sr4 for --model sr --scale 4), or NULL */
    char label[256];                 /* the model's name in messages and metadata */
    int limit, val_limit;
    int task, latent, scale, recon;  /* recon: -1 = the model's own loss */
    ae_noise noise;
    ae_train_options opt;
    const ae_ranks *ranks;           /* the processes of an mpirun job (NULL or size 1: alone) */
} train_settings;

/* The run being trained: its epochs' metrics (one array of `epochs`
 * values per metric of aekit/epoch_metrics.h) and its progress display. */
typedef struct {
    const char *out_dir;
    const char *title;
    int         epochs, done;        /* planned and finished epochs */
    double     *metric[AE_EPOCH_METRICS];
    int         variational, adversarial;
    double      beta;                /* the KL weight (--beta) in val's line */
    int         tty;                 /* stderr is a terminal: live progress bar */
    int         bar_shown;
    double      last_draw;
    int         write_failed;
    const char *loss_label;          /* y axis of loss.png */
    int         last_epoch, last_step, steps; /* the last step reported */
    ae_error    err;
} train_run;

/* ---- train_flags.c: the flags ---------------------------------------------------- */

/* Reads and checks the flags into s; prints the error and returns the exit code. */
int train_read_settings(const args *a, train_settings *s);
/* The preset --model names after --scale and --latent, or NULL for a file. */
const char *train_preset_for(const train_settings *s);

/* ---- train_model.c: the model to train and what it records ------------------------- */

int train_build_model(const train_settings *s, ae_model **out);
int train_load_init(const train_settings *s, ae_model **m);
int train_open_split(const char *data, ae_split split, int limit, const ae_model *m, ae_dataset **out);
int train_store_settings(ae_model *m, const train_settings *s, const ae_dataset *train,
                         const ae_dataset *test);
/* The results of the last epoch done (aekit.result.*). */
int train_store_results(ae_model *m, const train_run *r);

/* ---- train_progress.c: the run's record and its display ---------------------------- */

extern volatile sig_atomic_t train_interrupted;   /* the signal that stops training */
/* Ctrl-C and SIGTERM stop training after the current step, and the
 * pictures between two of them, until the folder is complete. */
void train_catch_stops(struct sigaction old[2]);
void train_restore_stops(const struct sigaction old[2]);
double *train_run_start(train_run *r, const train_settings *s, const ae_model *m, int epochs,
                        char *title, size_t title_size);
/* ae_train's callback: the progress bar, and after each epoch its line,
 * metrics.csv and loss.png. */
int train_on_progress(const ae_progress *p, void *user);
/* The callback of an mpirun job's ranks above 0: no display, no files
 * (rank 0's callback decides when the run stops). */
int train_on_progress_quiet(const ae_progress *p, void *user);
void train_clear_bar(train_run *r);
void train_print_start(const train_settings *s, const ae_model *m, const ae_dataset *train,
                       const ae_dataset *test);

/* ---- train_run_folder.c: the files of the run folder -------------------------------- */

int train_write_metrics(const train_run *r, ae_error *err);
int train_write_loss_plot(const train_run *r, ae_error *err);
int train_read_metrics(const char *path, train_run *r);
int train_write_results(ae_model *m, const ae_dataset *test, const train_settings *s,
                        const train_run *r, double seconds);
int train_check_writable(const char *dir);
int train_claim_out_folder(const train_settings *s, int force, run_lock *lock);
int train_check_run_files(const train_settings *s, const char *flag);

/* ---- train_resume.c: --resume DIR ------------------------------------------------- */

int train_resume(const args *a, train_settings *given, run_lock *lock);

/* ---- mpi/train_ranks_*.c: the processes of an mpirun job -------------------------
 * train_ranks_mpi.c with MPI (AEKIT_MPI), train_ranks_none.c without.       */

/* Joins the job when started by mpirun (size 1 when started alone); a rank
 * above 0 then keeps its errors for rank 0 to print (cli_errors_to).
 * Returns 0, or the exit code after printing why not. */
int  train_ranks_start(ae_ranks *r);
/* Every rank's status before training starts (rc: its exit code, 0 when
 * ready): the first failing rank's exit code on every rank, its line
 * printed by rank 0, or 0 when all are ready. Only the first call takes
 * part in the agreement (every rank makes it once); later calls return rc. */
int  train_ranks_ready(const ae_ranks *r, int rc);
/* Rank 0's progress calls it after each training step: the steps the
 * reduction's time is shared over. */
void train_ranks_step_done(void);
/* Leaves the job (MPI_Finalize); rank 0 of a job of several prints the
 * reduction's measured time a step (time inside the MPI calls). */
void train_ranks_end(const ae_ranks *r);

/* ---- cmd_train.c ------------------------------------------------------------------ */

/* Trains m (resuming `resume` when not NULL) and fills the run folder. */
int train_run_training(ae_model *m, const ae_dataset *train, const ae_dataset *test,
                       const train_settings *s, ae_train_state *resume);

#endif
