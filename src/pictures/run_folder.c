/* Run folders (aekit/run_folder.h): the files of a training run, its
 * pictures, loss.png and index.html. */
#define _POSIX_C_SOURCE 200809L
#include "aekit/run_folder.h"
#include "aekit/charts.h"
#include "aekit/pictures.h"
#include "aekit/report.h"
#include "core/error.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RECON_COUNT   10   /* test images in reconstructions.png and codes.png */
#define SAMPLE_COUNT  64   /* decoded latents in samples.png (8 x 8) */
#define MANIFOLD_GRID 10   /* manifold.png: a 10 x 10 sweep */
#define PLOT_WIDTH    800
#define PLOT_HEIGHT   500
#define LR_PLOT_HEIGHT 260   /* loss.png's learning-rate panel, under the loss */

const char *const ae_run_files[AE_RUN_FILES] = {
    [AE_RUN_MODEL] = "model.safetensors",         [AE_RUN_METRICS] = "metrics.csv",
    [AE_RUN_LOSS_PLOT] = "loss.png",              [AE_RUN_RECONSTRUCTIONS] = "reconstructions.png",
    [AE_RUN_SAMPLES] = "samples.png",             [AE_RUN_CODES] = "codes.png",
    [AE_RUN_LATENT] = "latent.png",               [AE_RUN_MANIFOLD] = "manifold.png",
    [AE_RUN_INDEX] = "index.html",                [AE_RUN_CHECKPOINT] = "checkpoint.safetensors",
    [AE_RUN_FINAL_CHECKPOINT] = "final-checkpoint.safetensors",
};

void ae_run_path(char *buf, size_t size, const char *dir, int file)
{
    size_t len = strlen(dir);
    snprintf(buf, size, "%s%s%s", dir, (len && dir[len - 1] == '/') ? "" : "/", ae_run_files[file]);
}

const char *ae_run_loss_label(const ae_model *m)
{
    int vae = ae_model_is_variational(m);
    switch (ae_model_loss(m)) {
    case AE_LOSS_BCE:     return "loss (BCE per pixel)";
    case AE_LOSS_MSE:     return "loss (MSE per pixel)";
    case AE_LOSS_SSE:     return vae ? "loss (SSE per image + KL)" : "loss (SSE per image)";
    case AE_LOSS_BCE_SUM: return vae ? "loss (BCE summed per image + KL)" : "loss (BCE summed per image)";
    }
    return "loss";
}

/* loss.png draws the learning rate only when it changed over the epochs:
 * a constant rate says nothing a curve would add. */
static int lr_changed(double *const metric[AE_EPOCH_METRICS], int epochs)
{
    for (int e = 1; e < epochs; e++)
        if (metric[AE_EPOCH_LR][e] != metric[AE_EPOCH_LR][0]) return 1;
    return 0;
}

int ae_run_loss_plot(const char *dir, const char *title, const char *loss_label,
                     double *const metric[AE_EPOCH_METRICS], int epochs, ae_error *err)
{
    char path[4096];
    ae_run_path(path, sizeof path, dir, AE_RUN_LOSS_PLOT);
    ae_plot_series series[2] = {
        { "train",      metric[AE_EPOCH_TRAIN_LOSS], 0.12, 0.47, 0.71 },
        { "validation", metric[AE_EPOCH_VAL_LOSS],   1.00, 0.50, 0.05 },
    };
    ae_plot_series lr = { "learning rate", metric[AE_EPOCH_LR], 0.17, 0.63, 0.17 };
    ae_plot_panel panels[2] = {
        { title, "epoch", loss_label, series, 2, PLOT_HEIGHT },
        { NULL, "epoch", "learning rate", &lr, 1, LR_PLOT_HEIGHT },
    };
    return ae_plot_stack_png(path, panels, lr_changed(metric, epochs) ? 2 : 1, epochs, PLOT_WIDTH, err);
}

int ae_run_pictures(const ae_model *m, const ae_dataset *test, const ae_noise *nz, uint64_t seed,
                          int threads, const char *dir, int (*stop)(void *user), void *user,
                          ae_run_picture pics[AE_RUN_PICTURES_MAX], int *npics, ae_error *err)
{
    char path[4096];
    int n = test->n < RECON_COUNT ? test->n : RECON_COUNT, rows, k = 0;
    size_t L = ae_model_latent_size(m);
    *npics = 0;

    if (stop && stop(user)) return 1;
    ae_run_path(path, sizeof path, dir, AE_RUN_RECONSTRUCTIONS);
    if (ae_picture_rows(m, test, 0, n, 0, nz, threads, path, &rows, err) != 0) return -1;
    pics[k].file = ae_run_files[AE_RUN_RECONSTRUCTIONS];
    if (ae_model_is_upscaler(m) && rows == 3)
        snprintf(pics[k].caption, sizeof pics[k].caption,
                 "%d test images: %s (top, drawn at full size), upscaled x%d, original",
                 n, nz && nz->kind != AE_NOISE_NONE ? "low-res noisy input" : "low-res input",
                 ae_model_upscale_factor(m));
    else if (rows == 3)
        snprintf(pics[k].caption, sizeof pics[k].caption, "%d test images: noisy (top), denoised, clean", n);
    else
        snprintf(pics[k].caption, sizeof pics[k].caption, "%d test images (top) over their reconstructions", n);
    *npics = ++k;

    if (stop && stop(user)) return 1;
    ae_run_path(path, sizeof path, dir, AE_RUN_SAMPLES);
    int classes = ae_model_class_count(m);
    if (classes ? ae_picture_class_samples(m, 8, seed, threads, path, err)
                : ae_picture_samples(m, SAMPLE_COUNT, 8, seed, threads, path, err)) return -1;
    pics[k].file = ae_run_files[AE_RUN_SAMPLES];
    const char *prior = ae_model_is_variational(m) || ae_model_is_adversarial(m)
                            ? "z from the prior N(0, I)" : "z from the Gaussian fitted to the training codes";
    if (classes)
        snprintf(pics[k].caption, sizeof pics[k].caption,
                 "decoded random latents (%s), a row per class: row k decoded as label k", prior);
    else
        snprintf(pics[k].caption, sizeof pics[k].caption, "%d decoded random latents (%s)", SAMPLE_COUNT, prior);
    *npics = ++k;

    if (stop && stop(user)) return 1;
    ae_run_path(path, sizeof path, dir, AE_RUN_CODES);
    if (ae_picture_codes(m, test, n, threads, path, err) != 0) return -1;
    pics[k].file = ae_run_files[AE_RUN_CODES];
    snprintf(pics[k].caption, sizeof pics[k].caption,
             "%d test images and their %zu-value latent codes drawn as images (min-max normalised over the shown codes)", n, L);
    *npics = ++k;

    if (stop && stop(user)) return 1;
    ae_run_path(path, sizeof path, dir, AE_RUN_LATENT);
    if (ae_picture_scatter(m, test, test->n, threads, path, NULL, err) != 0) return -1;
    pics[k].file = ae_run_files[AE_RUN_LATENT];
    snprintf(pics[k].caption, sizeof pics[k].caption, "codes of %d test images, %s%s", test->n,
             test->labels ? "coloured by label" : "in one colour (the data set has no labels)",
             L > 2 ? ", projected on their first two principal components" : "");
    *npics = ++k;

    if (L == 2) {
        double lo[2], hi[2];
        ae_picture_manifold_range(m, lo, hi);
        if (stop && stop(user)) return 1;
        ae_run_path(path, sizeof path, dir, AE_RUN_MANIFOLD);
        if (classes) {   /* a manifold per class */
            int c, h, w;
            float *images = NULL;
            ae_model_output_shape(m, &c, &h, &w);
            if (ae_picture_class_manifolds_images(m, MANIFOLD_GRID, lo, hi, threads, &images, err) != 0) return -1;
            int rc = ae_picture_class_manifolds_png(path, images, classes, MANIFOLD_GRID, c, h, w, err);
            free(images);
            if (rc != 0) return -1;
        } else if (ae_picture_manifold(m, MANIFOLD_GRID, lo, hi, threads, path, err) != 0) {
            return -1;
        }
        pics[k].file = ae_run_files[AE_RUN_MANIFOLD];
        snprintf(pics[k].caption, sizeof pics[k].caption,
                 "decoded %dx%d grid%s: z0 from %.3g to %.3g (left to right), z1 from %.3g to %.3g (top to bottom)",
                 MANIFOLD_GRID, MANIFOLD_GRID, classes ? " per class (class 0 top left, 5 a row)" : "",
                 lo[0], hi[0], lo[1], hi[1]);
        *npics = ++k;
    }
    return 0;
}

/* The settings in display order. `option` entries name a row of the
 * options table (label NULL: the row's `what`); the entry with no name
 * stands for the option rows with metadata the list does not name. */
typedef struct {
    const char *name;            /* metadata key, or option name (`option`) */
    int         option;
    const char *label;
    unsigned    shown;
    const char *index_omits;
} setting_entry;

enum { BOTH = AE_SETTING_INFO | AE_SETTING_INDEX };
static const setting_entry settings[] = {
    { "aekit.train.model", 0, "model", BOTH, NULL },
    { "aekit.train.task", 0, "task", BOTH, NULL },
    { "noise", 1, "input noise", BOTH, "none" },
    { "aekit.train.scale", 0, "scale", BOTH, "1" },
    { "aekit.train.latent", 0, "latent", BOTH, NULL },
    { "aekit.train.loss", 0, "loss", BOTH, NULL },
    { "aekit.train.init", 0, "initial weights", BOTH, "none" },
    { "aekit.train.data", 0, "data", BOTH, NULL },
    { "aekit.train.train_images", 0, "training images", BOTH, NULL },
    { "aekit.train.val_images", 0, "validation images", BOTH, NULL },
    { "epochs", 1, NULL, BOTH, NULL },
    { "aekit.result.epochs", 0, "epochs done", BOTH, NULL },
    { "aekit.result.model_epoch", 0, "weights from epoch", BOTH, NULL },
    { "batch", 1, "batch", BOTH, NULL },
    { "optimizer", 1, NULL, BOTH, NULL },
    { "lr", 1, NULL, BOTH, NULL },
    { "seed", 1, NULL, BOTH, NULL },
    /* index.html shows the threads in use (ae_run_report), not the option */
    { "clip_grad", 1, NULL, AE_SETTING_INFO, NULL },
    { "threads", 1, NULL, AE_SETTING_INFO, NULL },
    { NULL, 1, NULL, BOTH, NULL },   /* every other option with metadata */
    { "aekit.result.train_loss", 0, "train loss", AE_SETTING_INFO, NULL },
    { "aekit.result.val_loss", 0, "val loss", AE_SETTING_INFO, NULL },
    { "aekit.result.val_mse", 0, "val mse", AE_SETTING_INFO, NULL },
    { "aekit.result.val_recon", 0, "val recon", AE_SETTING_INFO, NULL },
    { "aekit.result.val_kl", 0, "val kl", AE_SETTING_INFO, NULL },
    { "aekit.result.disc_accuracy", 0, "disc accuracy", AE_SETTING_INFO, NULL },
    { "aekit.version", 0, "written by aekit", AE_SETTING_INFO, NULL },
};
enum { NSETTINGS = (int)(sizeof settings / sizeof settings[0]) };

static int option_named(const char *name)
{
    for (int j = 0; j < NSETTINGS; j++)
        if (settings[j].option && settings[j].name && strcmp(settings[j].name, name) == 0) return 1;
    return 0;
}

static void setting_fill(ae_run_setting *out, const setting_entry *e, const ae_train_option *row)
{
    memset(out, 0, sizeof *out);
    out->option = row;
    out->label = e->label ? e->label : row ? row->what : "?";
    out->shown = e->shown;
    out->index_omits = e->index_omits;
    const char *name = row ? row->name : e->name ? e->name : "?";
    snprintf(out->key, sizeof out->key, "%s%s", e->option ? "aekit.train." : "", name);
}

/* ---- the run's settings and results in the model's metadata ---------------- */

static int set_meta(ae_model *m, ae_error *err, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int set_meta(ae_model *m, ae_error *err, const char *key, const char *fmt, ...)
{
    char value[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(value, sizeof value, fmt, ap);
    va_end(ap);
    return ae_model_set_meta(m, key, value, err);
}

int ae_run_store_settings(ae_model *m, const ae_train_options *opt, const ae_run_names *names,
                          const ae_dataset *train, const ae_dataset *val, ae_error *err)
{
    int nrows;
    const ae_train_option *rows = ae_train_options_table(&nrows);
    for (int i = 0; i < nrows; i++)
        if (!(rows[i].flags & AE_OPTION_NO_META) && ae_train_option_set_meta(m, &rows[i], opt, err) != 0)
            return -1;
    const char *task = names->task;
    if (!task) task = ae_model_is_upscaler(m) ? "upscale" : opt->noise.kind != AE_NOISE_NONE ? "denoise"
                                                                                             : "reconstruct";
    return set_meta(m, err, "aekit.version", "%s", AEKIT_VERSION) ||
           set_meta(m, err, "aekit.train.model", "%s", names->model ? names->model : "") ||
           set_meta(m, err, "aekit.train.data", "%s", names->data ? names->data : "") ||
           set_meta(m, err, "aekit.train.train_images", "%d", train->n) ||
           set_meta(m, err, "aekit.train.val_images", "%d", val ? val->n : 0) ||
           set_meta(m, err, "aekit.train.task", "%s", task) ||
           set_meta(m, err, "aekit.train.scale", "%d", ae_model_upscale_factor(m)) ||
           set_meta(m, err, "aekit.train.latent", "%zu", ae_model_latent_size(m)) ||
           set_meta(m, err, "aekit.train.loss", "%s", ae_loss_name(ae_model_loss(m))) ||
           set_meta(m, err, "aekit.train.init", "%s", names->init ? names->init : "none")
               ? -1 : 0;
}

int ae_run_model_epoch(const ae_model *m, double *const metric[AE_EPOCH_METRICS], int epochs)
{
    const char *keep = ae_model_meta(m, "aekit.train.keep");
    if (epochs < 1 || !keep || strcmp(keep, "best") != 0) return epochs;
    /* the loss ae_train judges: validation, or training without a validation set */
    int k = isnan(metric[AE_EPOCH_VAL_LOSS][0]) ? AE_EPOCH_TRAIN_LOSS : AE_EPOCH_VAL_LOSS;
    int best = ae_best_epoch(metric[k], epochs);
    return best ? best : epochs;
}

int ae_run_store_results(ae_model *m, double *const metric[AE_EPOCH_METRICS], int epochs, ae_error *err)
{
    if (epochs < 1) return ae_fail(err, "run results: no epoch done");
    int kept = ae_run_model_epoch(m, metric, epochs), last = kept - 1;
    int rc = set_meta(m, err, "aekit.result.epochs", "%d", epochs) ||
             set_meta(m, err, "aekit.result.model_epoch", "%d", kept);
    for (int k = 0; k < AE_EPOCH_METRICS && rc == 0; k++) {
        char key[128];
        snprintf(key, sizeof key, "aekit.result.%s", ae_epoch_metrics[k].name);
        if (ae_epoch_metrics[k].result && ae_epoch_metric_applies(k, m))
            rc = set_meta(m, err, key, AE_METRICS_CSV_FORMAT, metric[k][last]);
    }
    return rc ? -1 : 0;
}

int ae_run_setting_at(int i, ae_run_setting *out)
{
    int nrows, k = 0;
    const ae_train_option *rows = ae_train_options_table(&nrows);
    for (int j = 0; j < NSETTINGS; j++) {
        const setting_entry *e = &settings[j];
        if (e->name) {
            if (k++ == i) {
                setting_fill(out, e, e->option ? ae_train_option_find(e->name) : NULL);
                return 1;
            }
            continue;
        }
        for (int r = 0; r < nrows; r++)
            if (!(rows[r].flags & AE_OPTION_NO_META) && !option_named(rows[r].name) && k++ == i) {
                setting_fill(out, e, &rows[r]);
                return 1;
            }
    }
    return 0;
}

const char *ae_run_setting_value(const ae_model *m, const ae_run_setting *s)
{
    const char *v = ae_model_meta(m, s->key), *version = ae_model_meta(m, "aekit.version");
    int major, minor;
    /* --reg-lr came with 0.3: before, the AAE's three phases all ran at lr */
    if (!v && s->option && strcmp(s->option->name, "reg_lr") == 0 && ae_model_is_adversarial(m) && version &&
        sscanf(version, "%d.%d", &major, &minor) == 2 && major == 0 && minor < 3)
        return "lr (before 0.3)";
    return v;
}

int ae_run_index_write(const ae_model *m, const ae_run_report *r, ae_error *err)
{
    /* settings: the metadata aekit info shows, minus the defaults that say nothing */
    enum { MAX_SHOWN = 64 };
    ae_html_setting set[MAX_SHOWN + 3];
    int ns = 0, c, h, w;
    char params[32], input[64], threads[32];
    snprintf(params, sizeof params, "%zu", ae_model_param_count(m));
    ae_model_input_shape(m, &c, &h, &w);
    snprintf(input, sizeof input, "%dx%dx%d (channels x height x width)", c, h, w);
    if (r->threads > 0) snprintf(threads, sizeof threads, "%d", r->threads);
    else                    snprintf(threads, sizeof threads, "all cores");
    ae_run_setting s;
    for (int i = 0; ae_run_setting_at(i, &s) && ns < MAX_SHOWN; i++) {
        const char *v = ae_run_setting_value(m, &s);
        if (!(s.shown & AE_SETTING_INDEX) || !v || (s.index_omits && strcmp(v, s.index_omits) == 0))
            continue;
        set[ns++] = (ae_html_setting){ s.label, v };
        if (strcmp(s.key, "aekit.train.model") == 0) {
            set[ns++] = (ae_html_setting){ "parameters", params };
            set[ns++] = (ae_html_setting){ "input", input };
        }
    }
    set[ns++] = (ae_html_setting){ "threads", threads };

    ae_html_picture hp[AE_RUN_PICTURES_MAX + 1];
    char loss_caption[256];
    snprintf(loss_caption, sizeof loss_caption, "training and validation %s per epoch%s", r->loss_label,
             lr_changed(r->metric, r->epochs) ? "; under it, the learning rate" : "");
    int np = 0;
    hp[np++] = (ae_html_picture){ ae_run_files[AE_RUN_LOSS_PLOT], loss_caption };
    for (int i = 0; i < r->npictures && np < AE_RUN_PICTURES_MAX + 1; i++)
        hp[np++] = (ae_html_picture){ r->pictures[i].file, r->pictures[i].caption };

    /* the metrics table: the epoch, then the metrics the model reports */
    enum { CELL = 32 };
    const char *names[AE_EPOCH_METRICS + 1] = { AE_METRICS_KEY };
    int shown[AE_EPOCH_METRICS + 1], ncol = 1;
    for (int k = 0; k < AE_EPOCH_METRICS; k++)
        if (ae_epoch_metric_applies(k, m)) {
            shown[ncol] = k;
            names[ncol++] = ae_epoch_metrics[k].name;
        }
    size_t ncells = (size_t)(r->epochs > 0 ? r->epochs : 1) * ncol;
    char *text = malloc(ncells * CELL);
    const char **cells = malloc(ncells * sizeof *cells);
    char *layers = ae_model_summary_alloc(m);
    if (!text || !cells || !layers) {
        free(text);
        free(cells);
        free(layers);
        return ae_fail(err, "out of memory for index.html");
    }
    for (int e = 0; e < r->epochs; e++)
        for (int k = 0; k < ncol; k++) {
            char *cell = text + ((size_t)e * ncol + k) * CELL;
            if (k == 0) snprintf(cell, CELL, "%d", e + 1);
            else        snprintf(cell, CELL, ae_epoch_metrics[shown[k]].table_format, r->metric[shown[k]][e]);
            cells[(size_t)e * ncol + k] = cell;
        }

    char title[512], subtitle[512], footer[512], path[4096];
    snprintf(title, sizeof title, "aekit: %s on %s", r->label, r->data);
    snprintf(subtitle, sizeof subtitle, "%d epoch%s; after the last, validation %s %.6f, mse %.6f",
             r->epochs, r->epochs == 1 ? "" : "s", r->loss_label, r->metric[AE_EPOCH_VAL_LOSS][r->epochs - 1],
             r->metric[AE_EPOCH_VAL_MSE][r->epochs - 1]);
    snprintf(footer, sizeof footer, "written by aekit %s; the run folder %s also holds %s and %s",
             AEKIT_VERSION, r->dir, ae_run_files[AE_RUN_MODEL], ae_run_files[AE_RUN_METRICS]);
    ae_html_report page = {
        .title = title, .subtitle = subtitle,
        .settings = set, .nsettings = ns,
        .pictures = hp, .npictures = np,
        .table_title = "Metrics per epoch", .columns = names, .ncolumns = ncol,
        .cells = cells, .nrows = r->epochs,
        .details_title = "Layers", .details_text = layers,
        .footer = footer,
    };
    ae_run_path(path, sizeof path, r->dir, AE_RUN_INDEX);
    int rc = ae_html_report_write(path, &page, err);
    free(text);
    free(cells);
    free(layers);
    return rc;
}
