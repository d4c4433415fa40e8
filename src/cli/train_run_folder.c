/* aekit train's run folder: metrics.csv and loss.png after every epoch,
 * the pictures and index.html once the model is saved, and the checks of
 * the folder before a run writes into it. */
#define _POSIX_C_SOURCE 200809L
#include "train.h"
#include "aekit/charts.h"
#include "aekit/files.h"
#include "aekit/pictures.h"
#include "aekit/report.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define RECON_COUNT    10
#define SAMPLE_COUNT   64
#define MANIFOLD_GRID  10
#define PLOT_WIDTH     800
#define PLOT_HEIGHT    500

int train_write_metrics(const train_run *r, ae_error *err)
{
    char path[4096];
    run_path(path, sizeof path, r->out_dir, RUN_METRICS);
    return ae_metrics_csv_write(path, r->metric, r->done, err);
}

int train_write_loss_plot(const train_run *r, ae_error *err)
{
    char path[4096];
    run_path(path, sizeof path, r->out_dir, RUN_LOSS_PLOT);
    ae_plot_series series[2] = {
        { "train",      r->metric[AE_EPOCH_TRAIN_LOSS], 0.12, 0.47, 0.71 },
        { "validation", r->metric[AE_EPOCH_VAL_LOSS],   1.00, 0.50, 0.05 },
    };
    return ae_plot_lines_png(path, r->title, "epoch", r->loss_label, series, 2, r->done,
                          PLOT_WIDTH, PLOT_HEIGHT, err);
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

/* The pictures of the run folder, as (file, caption) pairs. */
typedef struct {
    const char *file;
    char        caption[256];
} run_picture;

#define MAX_PICTURES 8
#define PICTURES_STOPPED (-1)   /* write_pictures: a signal came; nothing printed */

/* Writes the lesson's pictures for the model kind; fills pics. Stops
 * between two pictures when a signal came. */
static int write_pictures(ae_model *m, const ae_dataset *test, const train_settings *s,
                          run_picture *pics, int *npics)
{
    char path[4096];
    int n = test->n < RECON_COUNT ? test->n : RECON_COUNT, rows, rc, k = 0;
    int threads = s->opt.threads;
    size_t L = ae_model_latent_size(m);
    const ae_noise *nz = s->task == TASK_DENOISE ? &s->noise : NULL;

    if (train_interrupted) return PICTURES_STOPPED;
    run_path(path, sizeof path, s->out, RUN_RECONSTRUCTIONS);
    ae_error err = {{0}};
    if ((rc = cli_result("train", ae_picture_rows(m, test, 0, n, nz, threads, path, &rows, &err), &err))) return rc;
    pics[k].file = run_files[RUN_RECONSTRUCTIONS];
    if (ae_model_is_upscaler(m) && rows == 3)
        snprintf(pics[k].caption, sizeof pics[k].caption,
                 "%d test images: %s (top, drawn at full size), upscaled x%d, original",
                 n, nz ? "low-res noisy input" : "low-res input", train_upscale_factor(m));
    else if (rows == 3)
        snprintf(pics[k].caption, sizeof pics[k].caption, "%d test images: noisy (top), denoised, clean", n);
    else
        snprintf(pics[k].caption, sizeof pics[k].caption, "%d test images (top) over their reconstructions", n);
    k++;

    if (train_interrupted) return PICTURES_STOPPED;
    run_path(path, sizeof path, s->out, RUN_SAMPLES);
    if ((rc = cli_result("train", ae_picture_samples(m, SAMPLE_COUNT, 8, s->opt.seed, threads, path, &err), &err))) return rc;
    pics[k].file = run_files[RUN_SAMPLES];
    snprintf(pics[k].caption, sizeof pics[k].caption, "%d decoded random latents (%s)", SAMPLE_COUNT,
             ae_model_is_variational(m) || ae_model_is_adversarial(m)
                 ? "z from the prior N(0, I)" : "z from the Gaussian fitted to the training codes");
    k++;

    if (train_interrupted) return PICTURES_STOPPED;
    run_path(path, sizeof path, s->out, RUN_CODES);
    if ((rc = cli_result("train", ae_picture_codes(m, test, n, threads, path, &err), &err))) return rc;
    pics[k].file = run_files[RUN_CODES];
    snprintf(pics[k].caption, sizeof pics[k].caption,
             "%d test images and their %zu-value latent codes drawn as images (min-max normalised over the shown codes)", n, L);
    k++;

    if (train_interrupted) return PICTURES_STOPPED;
    run_path(path, sizeof path, s->out, RUN_LATENT);
    if ((rc = cli_result("train", ae_picture_scatter(m, test, test->n, threads, path, NULL, &err), &err))) return rc;
    pics[k].file = run_files[RUN_LATENT];
    snprintf(pics[k].caption, sizeof pics[k].caption, "codes of %d test images, %s%s", test->n,
             test->labels ? "coloured by label" : "in one colour (the data set has no labels)",
             L > 2 ? ", projected on their first two principal components" : "");
    k++;

    if (L == 2) {
        double lo[2], hi[2];
        ae_picture_manifold_range(m, lo, hi);
        if (train_interrupted) return PICTURES_STOPPED;
        run_path(path, sizeof path, s->out, RUN_MANIFOLD);
        if ((rc = cli_result("train", ae_picture_manifold(m, MANIFOLD_GRID, lo, hi, threads, path, &err), &err))) return rc;
        pics[k].file = run_files[RUN_MANIFOLD];
        snprintf(pics[k].caption, sizeof pics[k].caption,
                 "decoded %dx%d grid: z0 from %.3g to %.3g (left to right), z1 from %.3g to %.3g (top to bottom)",
                 MANIFOLD_GRID, MANIFOLD_GRID, lo[0], hi[0], lo[1], hi[1]);
        k++;
    }
    *npics = k;
    return 0;
}

/* index.html: the run on one page (pictures, metrics table). */
static int write_index(const train_run *r, const ae_model *m, const train_settings *s,
                       const run_picture *pics, int npics)
{
    /* settings: the metadata aekit info shows, minus the defaults that say nothing */
    static const char *const keys[][2] = {
        { "aekit.train.model", "model" },          { "aekit.train.task", "task" },
        { "aekit.train.noise", "input noise" },    { "aekit.train.scale", "scale" },
        { "aekit.train.latent", "latent" },        { "aekit.train.loss", "loss" },
        { "aekit.train.init", "initial weights" }, { "aekit.train.data", "data" },
        { "aekit.train.train_images", "training images" },
        { "aekit.train.val_images", "validation images" },
        { "aekit.train.epochs", "epochs" },        { "aekit.result.epochs", "epochs done" },
        { "aekit.train.batch", "batch" },          { "aekit.train.optimizer", "optimizer" },
        { "aekit.train.lr", "learning rate" },     { "aekit.train.seed", "seed" },
    };
    enum { NKEYS = sizeof keys / sizeof keys[0] };
    ae_html_setting set[NKEYS + 3];
    int ns = 0, c, h, w;
    char params[32], input[64], threads[32];
    snprintf(params, sizeof params, "%zu", ae_model_param_count(m));
    ae_model_input_shape(m, &c, &h, &w);
    snprintf(input, sizeof input, "%dx%dx%d (channels x height x width)", c, h, w);
    if (s->opt.threads > 0) snprintf(threads, sizeof threads, "%d", s->opt.threads);
    else                    snprintf(threads, sizeof threads, "all cores");
    for (int i = 0; i < NKEYS; i++) {
        const char *v = ae_model_meta(m, keys[i][0]);
        if (!v || (i == 2 && strcmp(v, "none") == 0) || (i == 3 && strcmp(v, "1") == 0) ||
            (i == 6 && strcmp(v, "none") == 0))
            continue;
        set[ns++] = (ae_html_setting){ keys[i][1], v };
        if (i == 0) set[ns++] = (ae_html_setting){ "parameters", params };
        if (i == 0) set[ns++] = (ae_html_setting){ "input", input };
    }
    set[ns++] = (ae_html_setting){ "threads", threads };

    ae_html_picture hp[MAX_PICTURES + 1];
    char loss_caption[256];
    snprintf(loss_caption, sizeof loss_caption, "training and validation %s per epoch", r->loss_label);
    int np = 0;
    hp[np++] = (ae_html_picture){ run_files[RUN_LOSS_PLOT], loss_caption };
    for (int i = 0; i < npics && np < MAX_PICTURES + 1; i++) hp[np++] = (ae_html_picture){ pics[i].file, pics[i].caption };

    /* the metrics table: the epoch, then the metrics the model reports */
    enum { CELL = 32 };
    const char *names[AE_EPOCH_METRICS + 1] = { AE_METRICS_KEY };
    int shown[AE_EPOCH_METRICS + 1], ncol = 1;
    for (int k = 0; k < AE_EPOCH_METRICS; k++)
        if (ae_epoch_metric_applies(k, m)) {
            shown[ncol] = k;
            names[ncol++] = ae_epoch_metrics[k].name;
        }
    size_t ncells = (size_t)(r->done > 0 ? r->done : 1) * ncol;
    char *text = malloc(ncells * CELL);
    const char **cells = malloc(ncells * sizeof *cells);
    char *layers = ae_model_summary_alloc(m);
    if (!text || !cells || !layers) {
        free(text);
        free(cells);
        free(layers);
        return cli_fail(EXIT_ERROR, "train", "out of memory for index.html");
    }
    for (int e = 0; e < r->done; e++)
        for (int k = 0; k < ncol; k++) {
            char *cell = text + ((size_t)e * ncol + k) * CELL;
            if (k == 0) snprintf(cell, CELL, "%d", e + 1);
            else        snprintf(cell, CELL, ae_epoch_metrics[shown[k]].table_format, r->metric[shown[k]][e]);
            cells[(size_t)e * ncol + k] = cell;
        }

    char title[512], subtitle[512], footer[512], path[4096];
    snprintf(title, sizeof title, "aekit: %s on %s", s->label, s->data);
    snprintf(subtitle, sizeof subtitle, "%d epoch%s; after the last, validation %s %.6f, mse %.6f",
             r->done, r->done == 1 ? "" : "s", r->loss_label, r->metric[AE_EPOCH_VAL_LOSS][r->done - 1],
             r->metric[AE_EPOCH_VAL_MSE][r->done - 1]);
    snprintf(footer, sizeof footer, "written by aekit %s; the run folder %s also holds %s and %s",
             AEKIT_VERSION, s->out, run_files[RUN_MODEL], run_files[RUN_METRICS]);
    ae_html_report page = {
        .title = title, .subtitle = subtitle,
        .settings = set, .nsettings = ns,
        .pictures = hp, .npictures = np,
        .table_title = "Metrics per epoch", .columns = names, .ncolumns = ncol,
        .cells = cells, .nrows = r->done,
        .details_title = "Layers", .details_text = layers,
        .footer = footer,
    };
    run_path(path, sizeof path, s->out, RUN_INDEX);
    ae_error err = {{0}};
    int rc = ae_html_report_write(path, &page, &err);
    free(text);
    free(cells);
    free(layers);
    return rc == 0 ? 0 : cli_fail(EXIT_ERROR, "train", "%s", err.msg);
}

static void print_done(const train_run *r, double seconds, const run_picture *pics, int npics)
{
    printf("done: %d epoch%s in %.1f s, val loss %.4f, val mse %.4f\n", r->done,
           r->done == 1 ? "" : "s", seconds, r->metric[AE_EPOCH_VAL_LOSS][r->done - 1], r->metric[AE_EPOCH_VAL_MSE][r->done - 1]);
    printf("run folder: %s\n", cli_text(r->out_dir));
    printf("  %-20s one page showing the run (open it in a browser)\n", run_files[RUN_INDEX]);
    printf("  %-20s the trained model (aekit info / eval / reconstruct)\n", run_files[RUN_MODEL]);
    printf("  %-20s losses and speed per epoch\n", run_files[RUN_METRICS]);
    printf("  %-20s training and validation loss per epoch\n", run_files[RUN_LOSS_PLOT]);
    for (int i = 0; i < npics; i++) printf("  %-20s %s\n", pics[i].file, pics[i].caption);
}

/* With the model saved: the pictures, then index.html, and the closing
 * lines. A stop or a failing write on the way leaves a folder that
 * model.safetensors and metrics.csv are enough to finish (finish_run). */
int train_write_results(ae_model *m, const ae_dataset *test, const train_settings *s,
                         const train_run *r, double seconds)
{
    run_picture pics[MAX_PICTURES];
    int npics = 0;
    int status = write_pictures(m, test, s, pics, &npics);
    if (status == EXIT_OK && train_interrupted) status = PICTURES_STOPPED;
    if (status == EXIT_OK) status = write_index(r, m, s, pics, npics);
    if (status == EXIT_OK) {
        print_done(r, seconds, pics, npics);
        return EXIT_OK;
    }
    if (status != PICTURES_STOPPED) return status;
    char path[4200];
    run_path(path, sizeof path, s->out, RUN_MODEL);
    return cli_fail(128 + train_interrupted, "train", "%s: stopped after training: the model is saved (%s), "
                    "not all the pictures are; aekit train --resume %s writes them",
                    train_interrupted == SIGTERM ? "SIGTERM" : "Ctrl-C", path, s->out);
}

/* Fails early (before any training) when nothing can be written into dir:
 * creates (and removes) the temporary file a write of metrics.csv makes. */
int train_check_writable(const char *dir)
{
    char probe[4200];
    run_path(probe, sizeof probe, dir, RUN_METRICS);
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
    char paths[RUN_FILES][4200];
    cli_file outs[RUN_FILES + 1] = { { flag, s->out, 1 } };
    struct stat st;
    int n = 1;
    if (stat(s->out, &st) == 0 && S_ISDIR(st.st_mode))
        for (int f = 0; f < RUN_FILES; f++, n++) {
            run_path(paths[f], sizeof paths[f], s->out, f);
            outs[n] = (cli_file){ flag, paths[f], 0 };
        }
    cli_file in[] = { { "--model", s->preset ? NULL : s->model, 0 }, { "--init", s->init, 0 } };
    return cli_check_io("train", in, 2, outs, n, s->data);
}
