/* The table of epoch metrics and metrics.csv (aekit/epoch_metrics.h). */
#define _POSIX_C_SOURCE 200809L
#include "aekit/epoch_metrics.h"
#include "aekit/files.h"
#include "core/error.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define METRIC(id, nm, csv, fmt, nan, res, who, field) \
    [id] = { nm, csv, fmt, nan, res, who, offsetof(ae_progress, field), AE_METRICS_CSV_FORMAT }

const ae_epoch_metric ae_epoch_metrics[AE_EPOCH_METRICS] = {
    /*                                name                 csv  index.html nan res models */
    METRIC(AE_EPOCH_TRAIN_LOSS,       "train_loss",        0, "%.6f", 0, 1, AE_METRIC_FOR_ALL, train_loss),
    METRIC(AE_EPOCH_VAL_LOSS,         "val_loss",          1, "%.6f", 0, 1, AE_METRIC_FOR_ALL, val_loss),
    METRIC(AE_EPOCH_VAL_MSE,          "val_mse",           2, "%.6f", 0, 1, AE_METRIC_FOR_ALL, val_mse),
    METRIC(AE_EPOCH_VAL_RECON,        "val_recon",         5, "%.6f", 0, 1, AE_METRIC_FOR_VAE, val_recon),
    METRIC(AE_EPOCH_VAL_KL,           "val_kl",            6, "%.6f", 0, 1, AE_METRIC_FOR_VAE, val_kl),
    METRIC(AE_EPOCH_DISC_ACCURACY,    "disc_accuracy",     7, "%.6f", 1, 1, AE_METRIC_FOR_AAE, disc_accuracy),
    METRIC(AE_EPOCH_SECONDS,          "seconds",           3, "%.2f", 0, 0, AE_METRIC_FOR_ALL, seconds),
    METRIC(AE_EPOCH_IMAGES_PER_SECOND, "images_per_second", 4, "%.0f", 0, 0, AE_METRIC_FOR_ALL, images_per_second),
    /* the rate of the epoch's last step (--lr-schedule): 6 significant digits
     * in both (index.html shows what metrics.csv holds) */
    [AE_EPOCH_LR] = { "lr", 8, "%.6g", 0, 0, AE_METRIC_FOR_ALL, offsetof(ae_progress, lr), "%.6g" },
};

double ae_epoch_metric_get(ae_epoch_metric_id id, const ae_progress *p)
{
    double v;
    memcpy(&v, (const char *)p + ae_epoch_metrics[id].offset, sizeof v);
    return v;
}

void ae_epoch_metric_set(ae_epoch_metric_id id, ae_progress *p, double v)
{
    memcpy((char *)p + ae_epoch_metrics[id].offset, &v, sizeof v);
}

int ae_epoch_metric_applies(ae_epoch_metric_id id, const ae_model *m)
{
    switch (ae_epoch_metrics[id].models) {
    case AE_METRIC_FOR_VAE: return ae_model_is_variational(m);
    case AE_METRIC_FOR_AAE: return ae_model_is_adversarial(m);
    default:                return 1;
    }
}

/* The metric in csv column c. */
static int csv_metric(int c)
{
    for (int id = 0; id < AE_EPOCH_METRICS; id++)
        if (ae_epoch_metrics[id].csv_column == c) return id;
    return 0;   /* unreachable: the columns are 0 .. AE_EPOCH_METRICS - 1 */
}

void ae_metrics_csv_header(char *buf, size_t size)
{
    size_t used = (size_t)snprintf(buf, size, "%s", AE_METRICS_KEY);
    for (int c = 0; c < AE_EPOCH_METRICS && used < size; c++)
        used += (size_t)snprintf(buf + used, size - used, ",%s", ae_epoch_metrics[csv_metric(c)].name);
}

int ae_metrics_csv_write(const char *path, double *const cols[AE_EPOCH_METRICS], int epochs,
                         ae_error *err)
{
    char header[512];
    ae_metrics_csv_header(header, sizeof header);
    ae_atomic_file af;
    if (ae_atomic_open(&af, path, err) != 0) return -1;
    fprintf(af.f, "%s\n", header);
    for (int e = 0; e < epochs; e++) {
        fprintf(af.f, "%d", e + 1);
        for (int c = 0; c < AE_EPOCH_METRICS; c++) {
            int id = csv_metric(c);
            double v = cols[id][e];
            if (ae_epoch_metrics[id].nan_text && !isfinite(v)) fprintf(af.f, ",nan");
            else {
                fputc(',', af.f);
                fprintf(af.f, ae_epoch_metrics[id].csv_format, v);
            }
        }
        fputc('\n', af.f);
    }
    return ae_atomic_commit(&af, err);
}

int ae_metrics_csv_read(const char *path, double *const cols[AE_EPOCH_METRICS], int max_epochs,
                        int *epochs, ae_error *err)
{
    enum { LINE_MAX_LEN = 1024 };
    FILE *f = ae_open_file(path, err);
    if (!f) return -1;
    char header[512], line[LINE_MAX_LEN];
    ae_metrics_csv_header(header, sizeof header);
    int lineno = 0, rc = 0, done = 0;
    const char *why = NULL;
    while (!why && fgets(line, sizeof line, f)) {
        lineno++;
        size_t len = strlen(line);
        if (len == 0 || line[len - 1] != '\n') { why = "a line is cut or too long"; break; }
        line[len - 1] = '\0';
        if (lineno == 1) {
            if (strcmp(line, header) != 0) why = "not the header ae_metrics_csv_write writes";
            continue;
        }
        if (done == max_epochs) { why = "more rows than the model's epochs"; break; }
        char *p = line, *end;
        errno = 0;
        long epoch = strtol(p, &end, 10);
        if (end == p || *end != ',' || epoch != done + 1) { why = "not the next epoch"; break; }
        for (int c = 0; c < AE_EPOCH_METRICS && !why; c++) {
            p = end + 1;
            cols[csv_metric(c)][done] = strtod(p, &end);
            if (end == p || *end != (c == AE_EPOCH_METRICS - 1 ? '\0' : ',')) why = "not a number";
        }
        if (!why) done++;
    }
    if (!why && ferror(f)) rc = ae_fail(err, "%s: cannot read: %s", path, strerror(errno));
    fclose(f);
    *epochs = done;
    if (why)
        return ae_fail(err, "%s:%d: %s: not a metrics.csv as ae_metrics_csv_write writes it", path, lineno, why);
    return rc;
}
