/* aekit run folders: the files a training run leaves in its folder (as
 * aekit train writes them), the pictures of the trained model, loss.png
 * and the index.html page that shows them. */
#ifndef AEKIT_RUN_FOLDER_H
#define AEKIT_RUN_FOLDER_H

#include <stddef.h>
#include <stdint.h>
#include "aekit.h"
#include "aekit/epoch_metrics.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Every file of a run folder, named by ae_run_files[AE_RUN_...] and
 * nowhere else: a program that cleans a folder (aekit train --force) or
 * refuses one holding an earlier run walks this table, so that a file a run
 * writes cannot escape it. */
enum {
    AE_RUN_MODEL, AE_RUN_METRICS, AE_RUN_LOSS_PLOT, AE_RUN_RECONSTRUCTIONS, AE_RUN_SAMPLES,
    AE_RUN_CODES, AE_RUN_LATENT, AE_RUN_MANIFOLD, AE_RUN_INDEX, AE_RUN_CHECKPOINT,
    AE_RUN_FINAL_CHECKPOINT,     /* a finished run's last checkpoint: more epochs extend it */
    AE_RUN_FILES                 /* how many */
};
extern const char *const ae_run_files[AE_RUN_FILES];

/* dir + "/" + ae_run_files[file] into buf. */
void ae_run_path(char *buf, size_t size, const char *dir, int file);

/* The y axis of loss.png: the model's loss and how it is summed
 * ("loss (BCE per pixel)", "loss (SSE per image + KL)", ...). */
const char *ae_run_loss_label(const ae_model *m);

/* loss.png in dir: training and validation loss of epochs 1..epochs
 * (metric[AE_EPOCH_TRAIN_LOSS], metric[AE_EPOCH_VAL_LOSS]), 800x500; when
 * the learning rate (metric[AE_EPOCH_LR]) changed over those epochs (a
 * schedule, a warm-up), its curve under it, 800x260 more. */
int ae_run_loss_plot(const char *dir, const char *title, const char *loss_label,
                     double *const metric[AE_EPOCH_METRICS], int epochs, ae_error *err);

/* A picture of the run folder and what it shows. */
typedef struct {
    const char *file;            /* an ae_run_files name */
    char        caption[256];
} ae_run_picture;

#define AE_RUN_PICTURES_MAX 8

/* The lesson's pictures of a trained model into dir, for its kind:
 * reconstructions.png (10 test images; with input noise nz (may be NULL)
 * or a super-resolution model, input / output / original), samples.png
 * (64 decoded latents drawn with seed), codes.png, latent.png, and for a
 * 2-D latent manifold.png; pics[0..*npics) gets each file and its caption.
 * stop (may be NULL) is asked before each picture: when it returns
 * non-zero, the function returns 1 with the pictures drawn so far. */
int ae_run_pictures(const ae_model *m, const ae_dataset *test, const ae_noise *nz, uint64_t seed,
                          int threads, const char *dir, int (*stop)(void *user), void *user,
                          ae_run_picture pics[AE_RUN_PICTURES_MAX], int *npics, ae_error *err);

/* The settings of a run: the model metadata aekit train writes
 * (aekit.train.*, aekit.result.*, aekit.version), in the order aekit info
 * and index.html show them, with their labels. The training options are
 * not listed twice: a setting of an option is its row of the options table
 * (key aekit.train.NAME, label the row's `what` unless the list words it
 * for the page), and every row with metadata (not AE_OPTION_NO_META) that
 * the list does not name comes after the list's options by itself, so a
 * new option is shown with no edit here. */
#define AE_SETTING_INFO  1       /* aekit info shows it                       */
#define AE_SETTING_INDEX 2       /* index.html's settings show it             */

typedef struct {
    char        key[64];         /* "aekit.train.lr"                          */
    const char *label;           /* "learning rate"                           */
    unsigned    shown;           /* AE_SETTING_* above                        */
    const char *index_omits;     /* index.html leaves it out at this value (a
                                    default that says nothing: "none"), or NULL */
    const ae_train_option *option; /* its row of the options table, or NULL  */
} ae_run_setting;

/* Setting i (0, 1, ... in display order) into *out: returns 1, or 0 when
 * i is past the last. Computed from constant tables on every call: safe
 * from any thread. */
int ae_run_setting_at(int i, ae_run_setting *out);
/* What model m's metadata says of setting s: the value of its key, or
 * NULL when the key is absent (for a row stored only when not its default,
 * AE_OPTION_META_UNLESS_DEFAULT: the default), except reg_lr of an AAE
 * written before 0.3 (aekit.version 0.2.x), which has no key but ran its
 * regularisation phases at lr: "lr (before 0.3)". */
const char *ae_run_setting_value(const ae_model *m, const ae_run_setting *s);

/* The names a run was started with, which its model's metadata keeps. */
typedef struct {
    const char *model;   /* preset name or description file (aekit.train.model) */
    const char *data;    /* data set name or folder (aekit.train.data)          */
    const char *task;    /* "reconstruct", "denoise" or "upscale"; NULL: from the
                            model and options (upscale for a super-resolution
                            model, denoise when opt->noise corrupts inputs)     */
    const char *init;    /* the model file its weights started from, or NULL    */
} ae_run_names;

/* The training settings in the model's metadata, as aekit train stores
 * them (and aekit info and index.html show them): aekit.version, every
 * option of the options table with metadata (aekit.train.NAME,
 * ae_train_option_set_meta: a new row is stored with no edit here; one
 * stored only when not its default loses, at the default, the key a model
 * trained before had), then
 * the run's names, image counts (val may be NULL: 0), task, scale, latent
 * size, loss and init ("none"). */
int ae_run_store_settings(ae_model *m, const ae_train_options *opt, const ae_run_names *names,
                          const ae_dataset *train, const ae_dataset *val, ae_error *err);
/* The epoch whose weights the model of a run of `epochs` epochs holds:
 * the last, or for a run with keep best (its aekit.train.keep) the best
 * (ae_best_epoch of the validation losses; of the training losses when
 * the run had no validation set, its val_loss NaN). */
int ae_run_model_epoch(const ae_model *m, double *const metric[AE_EPOCH_METRICS], int epochs);
/* The results of a run of `epochs` epochs (at least 1) in the model's
 * metadata: aekit.result.epochs, aekit.result.model_epoch (the epoch its
 * weights are from, ae_run_model_epoch) and, for each metric of the table
 * that is a result and that the model reports, aekit.result.NAME = that
 * epoch's value (AE_METRICS_CSV_FORMAT). Call it after
 * ae_run_store_settings. No wall-clock time: the same run, resumed or
 * not, gives the same model bytes. */
int ae_run_store_results(ae_model *m, double *const metric[AE_EPOCH_METRICS], int epochs, ae_error *err);

/* What index.html shows of a run. */
typedef struct {
    const char *dir;             /* the run folder */
    const char *label, *data;    /* the model's and the data set's names (the title) */
    int         threads;         /* threads trained with; 0 = all cores */
    const char *loss_label;      /* ae_run_loss_label */
    double *const *metric;       /* [AE_EPOCH_METRICS] arrays of `epochs` values */
    int         epochs;          /* epochs done, at least 1 */
    const ae_run_picture *pictures; /* besides loss.png */
    int         npictures;
} ae_run_report;

/* index.html in r->dir: the run on one page: the training settings of the
 * model's metadata (as aekit info shows them), loss.png and the pictures
 * with their captions, the metrics of each epoch (those the model
 * reports, aekit/epoch_metrics.h) and the layers. Atomic write. */
int ae_run_index_write(const ae_model *m, const ae_run_report *r, ae_error *err);

#ifdef __cplusplus
}
#endif

#endif
