/* aekit train's run folder: metrics.csv and loss.png after every epoch,
 * the pictures and index.html once the model is saved, and the checks of
 * the folder before a run writes into it. */
#define _POSIX_C_SOURCE 200809L
#include "train.h"
#include "aekit/files.h"
#include "aekit/pictures.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int train_write_metrics(const train_run *r, ae_error *err)
{
    char path[4096];
    ae_run_path(path, sizeof path, r->out_dir, AE_RUN_METRICS);
    return ae_metrics_csv_write(path, r->metric, r->done, err);
}

int train_write_loss_plot(const train_run *r, ae_error *err)
{
    return ae_run_loss_plot(r->out_dir, r->title, r->loss_label, r->metric, r->done, err);
}

/* Reads metrics.csv (as train_write_metrics writes it) into r: exactly
 * r->epochs rows. Prints the error naming the file and line. */
int train_read_metrics(const char *path, train_run *r)
{
    ae_error err = {{0}};
    if (ae_metrics_csv_read(path, r->metric, r->epochs, &r->done, &err) != 0)
        return cli_fail(EXIT_ERROR, "train", "%s", err.msg);
    if (r->done != r->epochs)
        return cli_fail(EXIT_ERROR, "train", "%s: %d epochs, the model's run trained %d", path, r->done,
                        r->epochs);
    return 0;
}

#define PICTURES_STOPPED (-1)   /* a signal came before all the pictures were drawn */

static int stop_requested(void *user)
{
    (void)user;
    return train_interrupted != 0;
}

/* The pictures for the model kind, then index.html (aekit/run_folder.h). */
static int write_pictures_and_index(ae_model *m, const ae_dataset *test, const train_settings *s,
                                    const train_run *r, ae_run_picture *pics, int *npics)
{
    ae_error err = {{0}};
    const ae_noise *nz = s->task == TASK_DENOISE ? &s->noise : NULL;
    int rc = ae_run_pictures(m, test, nz, s->opt.seed, s->opt.threads, s->out, stop_requested, NULL,
                             pics, npics, &err);
    if (rc < 0) return cli_fail(EXIT_ERROR, "train", "%s", err.msg);
    if (rc > 0 || train_interrupted) return PICTURES_STOPPED;
    ae_run_report page = { .dir = s->out, .label = s->label, .data = s->data, .threads = s->opt.threads,
                           .loss_label = r->loss_label, .metric = r->metric, .epochs = r->done,
                           .pictures = pics, .npictures = *npics };
    return ae_run_index_write(m, &page, &err) == 0 ? 0 : cli_fail(EXIT_ERROR, "train", "%s", err.msg);
}

static void print_done(const ae_model *m, const train_run *r, double seconds, const ae_run_picture *pics,
                       int npics)
{
    int kept = ae_run_model_epoch(m, r->metric, r->done);
    char early[128] = "", from[64] = "";
    if (r->done < r->epochs) {     /* a finished run short of its epochs stopped early */
        int best = ae_best_epoch(r->metric[AE_EPOCH_VAL_LOSS], r->done);
        snprintf(early, sizeof early, " (stopped early: no val loss below epoch %d's in %d epoch%s)", best,
                 r->done - best, r->done - best == 1 ? "" : "s");
    }
    if (kept != r->done) snprintf(from, sizeof from, "; the model is epoch %d's (--keep best):", kept);
    printf("done: %d epoch%s in %.1f s%s%s val loss %.4f, val mse %.4f\n", r->done, r->done == 1 ? "" : "s",
           seconds, early, from[0] ? from : ",", r->metric[AE_EPOCH_VAL_LOSS][kept - 1],
           r->metric[AE_EPOCH_VAL_MSE][kept - 1]);
    printf("run folder: %s\n", cli_text(r->out_dir));
    printf("  %-20s one page showing the run (open it in a browser)\n", ae_run_files[AE_RUN_INDEX]);
    printf("  %-20s the trained model (aekit info / eval / reconstruct)\n", ae_run_files[AE_RUN_MODEL]);
    printf("  %-20s losses and speed per epoch\n", ae_run_files[AE_RUN_METRICS]);
    printf("  %-20s training and validation loss per epoch\n", ae_run_files[AE_RUN_LOSS_PLOT]);
    for (int i = 0; i < npics; i++) printf("  %-20s %s\n", pics[i].file, pics[i].caption);
}

/* With the model saved: the pictures, then index.html, and the closing
 * lines. A stop or a failing write on the way leaves a folder that
 * model.safetensors and metrics.csv are enough to finish (finish_run). */
int train_write_results(ae_model *m, const ae_dataset *test, const train_settings *s,
                        const train_run *r, double seconds)
{
    ae_run_picture pics[AE_RUN_PICTURES_MAX];
    int npics = 0;
    int status = write_pictures_and_index(m, test, s, r, pics, &npics);
    if (status == EXIT_OK) {
        print_done(m, r, seconds, pics, npics);
        return EXIT_OK;
    }
    if (status != PICTURES_STOPPED) return status;
    char path[4200];
    ae_run_path(path, sizeof path, s->out, AE_RUN_MODEL);
    return cli_fail(128 + train_interrupted, "train", "%s: stopped after training: the model is saved (%s), "
                    "not all the pictures are; aekit train --resume %s writes them",
                    train_interrupted == SIGTERM ? "SIGTERM" : "Ctrl-C", path, s->out);
}

/* Fails early (before any training) when nothing can be written into dir:
 * creates (and removes) the temporary file a write of metrics.csv makes. */
int train_check_writable(const char *dir)
{
    char probe[4200];
    ae_run_path(probe, sizeof probe, dir, AE_RUN_METRICS);
    ae_atomic_file af;
    ae_error err = {{0}};
    if (ae_atomic_open(&af, probe, &err) != 0)
        return cli_fail(EXIT_ERROR, "train", "--out %s: cannot write into it: %s", dir, strerror(errno));
    ae_atomic_abort(&af);
    return 0;
}

/* Takes the --out folder of a new run: its lock, then a look at what it
 * holds. An unfinished run, or files of an earlier run (which would be
 * left mixed with the new run's: a 2-D model's manifold.png next to a
 * model without one), are replaced only with --force. */
int train_claim_out_folder(const train_settings *s, int force, run_lock *lock)
{
    int rc;
    if (lock->fd < 0 && (rc = run_lock_take(lock, "--out", s->out))) return rc;
    struct stat st;
    char files[512];
    if (force) return 0;
    if (stat(s->checkpoint, &st) == 0)
        return cli_fail(EXIT_ERROR, "train", "--out %s holds the checkpoint of an unfinished run: go on "
                        "with aekit train --resume %s, or remove %s (or add --force) to start over", s->out,
                        s->out, s->checkpoint);
    if (run_files_present(s->out, files, sizeof files) > 0)
        return cli_fail(EXIT_ERROR, "train", "--out %s holds files of an earlier run (%s): give another "
                        "folder, or add --force to remove them and start over", s->out, files);
    return 0;
}

/* The checks of cli_check_io for the run folder named by `flag`: it is not
 * inside the data set's folder, and (once it exists) each run file in it
 * may be replaced (not a folder, device, FIFO...) and is no --model file
 * or --init model. */
int train_check_run_files(const train_settings *s, const char *flag)
{
    char paths[AE_RUN_FILES][4200];
    cli_file outs[AE_RUN_FILES + 1] = { { flag, s->out, 1 } };
    struct stat st;
    int n = 1;
    if (stat(s->out, &st) == 0 && S_ISDIR(st.st_mode))
        for (int f = 0; f < AE_RUN_FILES; f++, n++) {
            ae_run_path(paths[f], sizeof paths[f], s->out, f);
            outs[n] = (cli_file){ flag, paths[f], 0 };
        }
    cli_file in[] = { { "--model", s->preset ? NULL : s->model, 0 }, { "--init", s->init, 0 } };
    return cli_check_io("train", in, 2, outs, n, s->data);
}
