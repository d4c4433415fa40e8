/* aekit epoch metrics: the numbers of an epoch's report (ae_progress) as
 * the columns a training run records them in: metrics.csv, the metrics
 * table of index.html, a checkpoint's history and the aekit.result.*
 * metadata of a trained model. One table, read by all of them: a new
 * number is one row here (and its field in ae_progress).               */
#ifndef AEKIT_EPOCH_METRICS_H
#define AEKIT_EPOCH_METRICS_H

#include <stddef.h>
#include "aekit.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The rows of ae_epoch_metrics, in the order of a checkpoint's history
 * columns, index.html's table and the aekit.result.* keys. */
typedef enum {
    AE_EPOCH_TRAIN_LOSS, AE_EPOCH_VAL_LOSS, AE_EPOCH_VAL_MSE, AE_EPOCH_VAL_RECON, AE_EPOCH_VAL_KL,
    AE_EPOCH_DISC_ACCURACY, AE_EPOCH_SECONDS, AE_EPOCH_IMAGES_PER_SECOND, AE_EPOCH_LR,
    AE_EPOCH_METRICS                 /* how many */
} ae_epoch_metric_id;

/* The models that report a number; the others hold a placeholder in it
 * (val_recon = val_loss and val_kl 0, disc_accuracy NaN), which
 * metrics.csv keeps and index.html and the metadata leave out. */
typedef enum { AE_METRIC_FOR_ALL = 0, AE_METRIC_FOR_VAE = 1, AE_METRIC_FOR_AAE = 2 } ae_metric_models;

typedef struct {
    const char      *name;         /* metrics.csv and index.html column, aekit.result.NAME */
    int              csv_column;   /* its place in metrics.csv, after "epoch" (0-based) */
    const char      *table_format; /* index.html's cells */
    int              nan_text;     /* metrics.csv writes a non-finite value as "nan" */
    int              result;       /* a trained model records it (aekit.result.NAME) */
    ae_metric_models models;
    size_t           offset;       /* of its double in ae_progress */
    const char      *csv_format;   /* metrics.csv's numbers: AE_METRICS_CSV_FORMAT, or
                                      "%.6g" for the learning rate (1e-5 in 6 digits) */
} ae_epoch_metric;

extern const ae_epoch_metric ae_epoch_metrics[AE_EPOCH_METRICS];

/* metrics.csv: "epoch", then every metric in csv_column order, each
 * number in its csv_format ("%.6f" but the learning rate), one row per
 * finished epoch (epochs 1, 2, ...). */
#define AE_METRICS_KEY        "epoch"
#define AE_METRICS_CSV_FORMAT "%.6f"

/* The metric's value in an epoch's report, and setting it. */
double ae_epoch_metric_get(ae_epoch_metric_id id, const ae_progress *p);
void   ae_epoch_metric_set(ae_epoch_metric_id id, ae_progress *p, double v);
/* 1 when model m reports metric id (its `models`). */
int    ae_epoch_metric_applies(ae_epoch_metric_id id, const ae_model *m);

/* metrics.csv's header line, without the newline, into buf. */
void ae_metrics_csv_header(char *buf, size_t size);
/* Writes metrics.csv (atomic write): epochs rows, metric id of epoch e in
 * cols[id][e]. */
int  ae_metrics_csv_write(const char *path, double *const cols[AE_EPOCH_METRICS], int epochs,
                          ae_error *err);
/* Reads a metrics.csv as ae_metrics_csv_write writes it, at most
 * max_epochs rows, into cols; *epochs gets the number of rows. A file that
 * is not one fails naming the line ("PATH:LINE: not the next epoch: not the
 * metrics.csv aekit train writes"). */
int  ae_metrics_csv_read(const char *path, double *const cols[AE_EPOCH_METRICS], int max_epochs,
                         int *epochs, ae_error *err);

#ifdef __cplusplus
}
#endif

#endif
