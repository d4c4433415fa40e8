/* aekit train: trains a model on a data set and fills a run folder with the
 * model, the metrics per epoch, the loss curves and the lesson's pictures
 * for the model kind, and an index.html showing them. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "aekit/pictures.h"
#include "run_folder.h"
#include "aekit/files.h"
#include "aekit/report.h"
#include "aekit/charts.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MODEL_TEXT_MAX (1 << 20)   /* a model description is a few lines */
#define RECON_COUNT    10
#define SAMPLE_COUNT   64
#define MANIFOLD_GRID  10
#define PLOT_WIDTH     800
#define PLOT_HEIGHT    500

static const char *const optimizer_names[] = { "adam", "rmsprop", "sgd", NULL };
static const char *const task_names[] = { "reconstruct", "denoise", NULL };
static const char *const recon_names[] = { "sse", "bce", NULL };
static const char *const scale_names[] = { "2", "4", NULL };
enum { TASK_RECONSTRUCT = 0, TASK_DENOISE = 1 };
#define DENOISE_NOISE "gaussian:0.5,0.5"
#define CHECKPOINT_EVERY_MAX 1000000000   /* steps or epochs between checkpoints */

static const arg_flag train_flags[] = {
    { "model",     "NAME|FILE", "the --init model's", "model preset or model description file (required unless --init)", 0, 0, 0 },
    { "data",      "NAME|DIR",  NULL, "data set name (mnist, fashion-mnist) or folder of IDX files", 1, 0, 0 },
    { "out",       "DIR",       NULL, "run folder, created if missing", 1, 0, 0 },
    { "epochs",    "N",         "25", "passes over the training set", 0, 1, AE_MAX_EPOCHS },
    { "batch",     "N",         "128", "images per step", 0, 1, INT_MAX },
    { "lr",        "X",         "1e-3", "learning rate", 0, AE_MIN_LR, AE_MAX_LR },
    { "optimizer", "NAME",      "adam", "adam, rmsprop or sgd (momentum 0.9)", 0, 0, 0 },
    { "seed",      "N",         "0", "seed for the initial weights and the shuffling", 0, 0, ARGS_MAX_U64 },
    ARGS_FLAG_THREADS,
    { "limit",     "N",         "all", "train on the first N training images only", 0, 1, INT_MAX },
    { "val-limit", "N",         "all", "validate on the first N test images only (faster epochs)", 0, 1, INT_MAX },
    { "task",      "NAME",      "reconstruct", "reconstruct, or denoise (noisy input, clean target)", 0, 0, 0 },
    { "noise",     "SPEC",      DENOISE_NOISE " with --task denoise", "input corruption: gaussian:MEAN,STD, saltpepper:P or none", 0, 0, 0 },
    { "scale",     "N",         "2",   "--model sr: upscaling factor, 2 (14->28) or 4 (7->28, preset sr4)", 0, 0, 0 },
    { "latent",    "N",         "the model's", "latent size (presets vae, conv-vae, aae; --model conv becomes conv-latent)", 0, 1, AE_MAX_LATENT },
    { "recon",     "NAME",      "the model's (vae: sse)", "VAE reconstruction loss: sse, or bce (summed per image)", 0, 0, 0 },
    { "init",      "MODEL",     NULL,  "start from this trained model's weights (same architecture)", 0, 0, 0 },
    { "clip-grad", "X",         "off", "clip each step's gradient to global L2 norm X (as torch clip_grad_norm_)", 0, AE_MIN_CLIP_GRAD, AE_MAX_CLIP_GRAD },
    { "checkpoint-every", "N|Ne", "1e", "write DIR/checkpoint.safetensors every N steps, or every N epochs (2e); 0: only when stopped", 0, 0, CHECKPOINT_EVERY_MAX },
    { "resume",    "DIR",       NULL,  "continue the run in DIR from its checkpoint, with its stored settings", 0, 0, 0 },
    { "force",     NULL,        NULL,  "start over in a --out folder holding an earlier run: its files are removed first", 0, 0, 0 },
    { NULL, NULL, NULL, NULL, 0, 0, 0 }
};

static void train_more_help(FILE *out)
{
    fprintf(out, "model presets:");
    for (const char *const *p = ae_model_presets(); p && *p; p++) fprintf(out, " %s", *p);
    fprintf(out, "\n\nwrites into DIR:\n"
                 "  model.safetensors    the trained model, with the training settings\n"
                 "  metrics.csv          epoch,train_loss,val_loss,val_mse,seconds,images_per_second,\n"
                 "                       val_recon,val_kl,disc_accuracy\n"
                 "  loss.png             training and validation loss per epoch\n"
                 "  reconstructions.png  10 test images over their reconstructions (denoise: noisy /\n"
                 "                       denoised / clean; sr: low-res / upscaled / original)\n"
                 "  samples.png          64 decoded random latents (8x8)\n"
                 "  codes.png            10 test images and their latent codes drawn as images\n"
                 "  latent.png           test-set codes coloured by label (PCA for latents > 2)\n"
                 "  manifold.png         2-D latents only: a 10x10 sweep of the latent plane\n"
                 "  index.html           one page showing all of the above\n"
                 "  checkpoint.safetensors  while training: the state to resume from (removed\n"
                 "                       once the model is saved)\n"
                 "metrics.csv and loss.png are rewritten after every epoch. Ctrl-C or SIGTERM\n"
                 "stops after the current step, writes the checkpoint and exits 130 (143 for\n"
                 "SIGTERM); aekit train --resume DIR goes on, bit-identical to an unbroken run.\n"
                 "The model is saved first after training. Stopped (or failing) after that,\n"
                 "without all the pictures, a run is finished by aekit train --resume DIR from\n"
                 "model.safetensors and metrics.csv (no more training).\n"
                 "One aekit train at a time uses a folder (DIR/.aekit.lock while it runs); a\n"
                 "new run refuses a folder holding files of an earlier run unless --force,\n"
                 "which removes the earlier run's files above (and nothing else) first.\n"
                 "The lesson trains the VAE with RMSprop: --optimizer rmsprop.\n");
}

const arg_command train_command = {
    .name = "train",
    .summary = "train an autoencoder on a data set of images",
    .usage = "aekit train --model NAME|FILE --data NAME|DIR --out DIR [flags]\n"
             "       aekit train --resume DIR [--threads N] [--checkpoint-every N|Ne]",
    .positional = NULL,
    .flags = train_flags,
    .examples = "  aekit train --model conv --data mnist --out runs/conv\n"
                "  aekit train --model conv --data mnist --epochs 1 --limit 2000 --val-limit 1000 --out runs/quick\n"
                "  aekit train --model my-model.txt --data ./data/fashion-mnist --optimizer rmsprop --out runs/mine\n"
                "  aekit train --init runs/conv/model.safetensors --task denoise --data mnist --out runs/denoise\n"
                "  aekit train --model sr --scale 2 --data mnist --out runs/sr\n"
                "  aekit train --model vae --latent 2 --optimizer rmsprop --data mnist --out runs/vae\n"
                "  aekit train --model conv --latent 2 --data mnist --out runs/conv2\n"
                "  aekit train --model aae --data mnist --checkpoint-every 200 --out runs/aae\n"
                "  aekit train --resume runs/aae\n",
    .more_help = train_more_help,
};

/* ---- the run being trained -------------------------------------------------- */

typedef struct {
    const char *out_dir;
    const char *title;
    int         epochs, done;        /* planned and finished epochs */
    double     *train_loss, *val_loss, *val_mse, *seconds, *ips;
    double     *val_recon, *val_kl, *disc_acc;
    int         variational, adversarial;
    int         tty;                 /* stderr is a terminal: live progress bar */
    int         bar_shown;
    double      last_draw;
    int         write_failed;
    const char *loss_label;          /* y axis of loss.png */
    int         last_epoch, last_step, steps; /* the last step reported */
    ae_error    err;
} train_run;

static volatile sig_atomic_t interrupted = 0;   /* the signal that stops training */

static void on_sigint(int sig)
{
    interrupted = sig;
}

/* metrics.csv: the header, then one row per finished epoch */
#define METRICS_HEADER "epoch,train_loss,val_loss,val_mse,seconds,images_per_second,val_recon,val_kl,disc_accuracy"
#define METRICS_COLUMNS 9

static int write_metrics(const train_run *r, ae_error *err)
{
    char path[4096];
    run_path(path, sizeof path, r->out_dir, RUN_METRICS);
    ae_atomic_file af;
    if (ae_atomic_open(&af, path, err) != 0) return -1;
    fprintf(af.f, "%s\n", METRICS_HEADER);
    for (int e = 0; e < r->done; e++) {
        fprintf(af.f, "%d,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,", e + 1, r->train_loss[e], r->val_loss[e],
                r->val_mse[e], r->seconds[e], r->ips[e], r->val_recon[e], r->val_kl[e]);
        if (isfinite(r->disc_acc[e])) fprintf(af.f, "%.6f\n", r->disc_acc[e]);
        else                          fprintf(af.f, "nan\n");
    }
    return ae_atomic_commit(&af, err);
}

static int write_loss_plot(const train_run *r, ae_error *err)
{
    char path[4096];
    run_path(path, sizeof path, r->out_dir, RUN_LOSS_PLOT);
    ae_plot_series series[2] = {
        { "train",      r->train_loss, 0.12, 0.47, 0.71 },
        { "validation", r->val_loss,   1.00, 0.50, 0.05 },
    };
    return ae_plot_lines_png(path, r->title, "epoch", r->loss_label, series, 2, r->done,
                          PLOT_WIDTH, PLOT_HEIGHT, err);
}

static void clear_bar(train_run *r)
{
    if (r->bar_shown) fputs("\r\033[K", stderr);
    r->bar_shown = 0;
}

static void format_duration(char *buf, size_t size, double s)
{
    if (!isfinite(s) || s < 0) { snprintf(buf, size, "?"); return; }
    long t = (long)(s + 0.5);
    if (t >= 3600) snprintf(buf, size, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else           snprintf(buf, size, "%ld:%02ld", t / 60, t % 60);
}

static void draw_bar(train_run *r, const ae_progress *p)
{
    enum { WIDTH = 24 };
    char bar[WIDTH + 1], ips[32], eta[32];
    int filled = p->steps > 0 ? (int)((long long)WIDTH * p->step / p->steps) : 0;
    for (int i = 0; i < WIDTH; i++) bar[i] = i < filled ? '#' : '.';
    bar[WIDTH] = '\0';
    double per_step = p->step > 0 ? p->seconds / p->step : NAN;
    double left = per_step * ((double)(p->steps - p->step) + (double)(p->epochs - p->epoch) * p->steps);
    format_duration(eta, sizeof eta, left);
    fprintf(stderr, "\r\033[Kepoch %d/%d [%s] %d/%d  loss %.4f  %s img/s  ETA %s",
            p->epoch, p->epochs, bar, p->step, p->steps, p->train_loss,
            cli_count(p->images_per_second, ips, sizeof ips), eta);
    r->bar_shown = 1;
}

static int on_progress(const ae_progress *p, void *user)
{
    train_run *r = user;
    r->last_epoch = p->epoch;
    r->last_step = p->step;
    r->steps = p->steps;
    if (!p->end_of_epoch) {
        if (r->tty) {
            double now = cli_now();
            if (now - r->last_draw >= 0.1 || p->step == p->steps) {
                draw_bar(r, p);
                r->last_draw = now;
            }
        }
        return interrupted;
    }

    int e = p->epoch - 1;
    if (e >= 0 && e < r->epochs) {
        r->train_loss[e] = p->train_loss;
        r->val_loss[e] = p->val_loss;
        r->val_mse[e] = p->val_mse;
        r->seconds[e] = p->seconds;
        r->ips[e] = p->images_per_second;
        r->val_recon[e] = p->val_recon;
        r->val_kl[e] = p->val_kl;
        r->disc_acc[e] = p->disc_accuracy;
        r->done = e + 1;
    }
    char ips[32], parts[128] = "";
    clear_bar(r);
    if (r->variational)
        snprintf(parts, sizeof parts, " (recon %.4f, kl %.4f)", p->val_recon, p->val_kl);
    if (r->adversarial)
        snprintf(parts, sizeof parts, "  disc acc %.3f", p->disc_accuracy);
    fprintf(stderr, "epoch %d/%d  train %.4f  val %.4f%s  %.1f s  %s img/s\n", p->epoch, p->epochs,
            p->train_loss, p->val_loss, parts, p->seconds,
            cli_count(p->images_per_second, ips, sizeof ips));
    if (write_metrics(r, &r->err) != 0 || write_loss_plot(r, &r->err) != 0) {
        r->write_failed = 1;
        return 1;
    }
    /* after the last epoch a stop would only write a checkpoint (the disk
     * the model may need): the model is saved next, and a signal then
     * stops the pictures */
    return p->epoch >= p->epochs ? 0 : interrupted;
}

/* ---- setting up --------------------------------------------------------------- */

static int is_preset(const char *name)
{
    for (const char *const *p = ae_model_presets(); p && *p; p++)
        if (strcmp(*p, name) == 0) return 1;
    return 0;
}

static int read_text_file(const char *path, char **out, ae_error *err)
{
    ae_error why = {{0}};
    FILE *f = ae_open_file(path, &why);
    if (!f) {
        snprintf(err->msg, sizeof err->msg, "--model %.*s", (int)sizeof err->msg - 9, why.msg);
        return -1;
    }
    char *text = malloc(MODEL_TEXT_MAX + 1);
    size_t n = text ? fread(text, 1, MODEL_TEXT_MAX + 1, f) : 0;
    int bad = !text || ferror(f);
    fclose(f);
    if (bad || n > MODEL_TEXT_MAX) {
        snprintf(err->msg, sizeof err->msg, "--model %s: %s", path,
                 !text ? "out of memory" : bad ? "cannot read the file"
                                               : "too large for a model description (over 1 MB)");
        free(text);
        return -1;
    }
    text[n] = '\0';
    if (strlen(text) != n) {
        snprintf(err->msg, sizeof err->msg, "--model %s: not a text file (has NUL bytes)", path);
        free(text);
        return -1;
    }
    *out = text;
    return 0;
}

/* ---- the command ---------------------------------------------------------------- */

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
} train_settings;

/* --checkpoint-every: N steps (also Nsteps), or Ne / Nepochs epochs; 0 (or
 * 0e) = only when stopped. N in the integer syntax of every flag. */
static int parse_every(const char *text, ae_train_options *o)
{
    int negative;
    uint64_t n = 0;
    const char *end = args_scan_integer(text, &negative, &n);
    int epochs = end && (strcmp(end, "e") == 0 || strcmp(end, "epoch") == 0 || strcmp(end, "epochs") == 0);
    int steps = end && (!*end || strcmp(end, "steps") == 0 || strcmp(end, "step") == 0);
    if ((negative && n) || !(epochs || steps) || n > CHECKPOINT_EVERY_MAX)
        return cli_fail(EXIT_USAGE, "train", "--checkpoint-every: expected N (steps) or Ne (epochs, as in 2e), "
                        "N from 0 (only when stopped) to %d, got '%s'", CHECKPOINT_EVERY_MAX, text);
    o->checkpoint_steps = epochs ? 0 : (int)n;
    o->checkpoint_epochs = epochs ? (int)n : 0;
    return 0;
}

static int parse_clip(const args *a, double *out)
{
    *out = 0;
    if (!args_given(a, "clip-grad")) return 0;
    return args_number(a, "clip-grad", 0, out);
}

static int read_settings(const args *a, train_settings *s)
{
    int rc, optimizer, scale;
    const char *noise = NULL, *every = NULL;
    memset(s, 0, sizeof *s);
    ae_train_options_default(&s->opt);
    if ((rc = args_string(a, "resume", NULL, &s->resume)) ||
        (rc = args_string(a, "model", NULL, &s->model)) ||
        (rc = (s->resume ? args_string(a, "data", NULL, &s->data) : args_required(a, "data", &s->data))) ||
        (rc = (s->resume ? args_string(a, "out", NULL, &s->out) : args_required(a, "out", &s->out))) ||
        (rc = args_int(a, "epochs", s->opt.epochs, &s->opt.epochs)) ||
        (rc = args_int(a, "batch", s->opt.batch, &s->opt.batch)) ||
        (rc = args_number(a, "lr", s->opt.lr, &s->opt.lr)) ||
        (rc = args_choice(a, "optimizer", optimizer_names, (int)s->opt.optimizer, &optimizer)) ||
        (rc = args_u64(a, "seed", s->opt.seed, &s->opt.seed)) ||
        (rc = args_threads(a, s->opt.threads, &s->opt.threads)) ||
        (rc = args_int(a, "limit", 0, &s->limit)) ||
        (rc = args_int(a, "val-limit", 0, &s->val_limit)) ||
        (rc = args_choice(a, "task", task_names, TASK_RECONSTRUCT, &s->task)) ||
        (rc = args_string(a, "noise", NULL, &noise)) ||
        (rc = args_choice(a, "scale", scale_names, -1, &scale)) ||
        (rc = args_int(a, "latent", 0, &s->latent)) ||
        (rc = args_choice(a, "recon", recon_names, -1, &s->recon)) ||
        (rc = args_string(a, "init", NULL, &s->init)) ||
        (rc = args_string(a, "checkpoint-every", "1e", &every)) ||
        (rc = parse_clip(a, &s->opt.clip_grad)) ||
        (rc = parse_every(every, &s->opt)))
        return rc;
    s->opt.optimizer = (ae_optimizer)optimizer;
    s->scale = scale < 0 ? 0 : atoi(scale_names[scale]);
    if (s->resume) return 0;         /* the rest comes from the checkpoint */
    if (!s->model && !s->init)
        return cli_fail(EXIT_USAGE, "train", "--model NAME|FILE is required (a preset or a model "
                        "description file), unless --init MODEL gives the architecture");
    if (s->scale && (!s->model || strcmp(s->model, "sr") != 0))
        return cli_fail(EXIT_USAGE, "train", "--scale: only with --model sr (the super-resolution preset)");
    if (noise && s->task != TASK_DENOISE)
        return cli_fail(EXIT_USAGE, "train", "--noise: only with --task denoise");
    if ((rc = cli_parse_noise("train", "--noise", noise ? noise : s->task == TASK_DENOISE ? DENOISE_NOISE : "none",
                              &s->noise)))
        return rc;
    s->opt.noise = s->noise;
    return 0;
}

/* The preset --model names after --scale and --latent, or NULL for a file. */
static const char *preset_for(const train_settings *s)
{
    if (!s->model || !is_preset(s->model)) return NULL;
    if (strcmp(s->model, "sr") == 0 && s->scale == 4) return "sr4";
    if (strcmp(s->model, "conv") == 0 && s->latent > 0) return "conv-latent";
    return s->model;
}

/* Builds the model named by --model: a preset or a description file. */
static int build_model(const train_settings *s, ae_model **out)
{
    ae_error err = {{0}};
    const char *spec = s->model;
    const char *preset = preset_for(s);
    if (preset) {
        if (ae_model_from_preset_ex(out, preset, s->latent, &err) != 0)
            return cli_fail(EXIT_ERROR, "train", "%s", err.msg);
    } else {
        struct stat st;
        if (stat(spec, &st) != 0 && !strchr(spec, '/') && !strchr(spec, '.')) {
            char names[256] = "";
            for (const char *const *p = ae_model_presets(); p && *p; p++) {
                size_t used = strlen(names);
                snprintf(names + used, sizeof names - used, "%s%s", used ? ", " : "", *p);
            }
            return cli_fail(EXIT_USAGE, "train",
                            "--model: '%s' is neither a preset (%s) nor a model description file",
                            spec, names);
        }
        if (stat(spec, &st) == 0 && S_ISDIR(st.st_mode))
            return cli_fail(EXIT_ERROR, "train", "--model %s: is a folder, not a model description file", spec);
        char *text = NULL;
        if (read_text_file(spec, &text, &err) != 0)
            return cli_fail(EXIT_ERROR, "train", "%s", err.msg);
        int rc = ae_model_from_text_ex(out, text, spec, s->latent, &err);
        free(text);
        if (rc != 0) return cli_fail(EXIT_ERROR, "train", "%s", err.msg);
    }
    if (s->latent > 0 && ae_model_latent_size(*out) != (size_t)s->latent) {
        size_t have = ae_model_latent_size(*out);
        ae_model_free(*out);
        *out = NULL;
        return cli_fail(EXIT_USAGE, "train", "--latent %d: model %s has a fixed latent of %zu values "
                        "(its description does not use {latent})", s->latent, spec, have);
    }
    return 0;
}

/* The model's summary text (layers, shapes, tensor names), for comparing
 * architectures; NULL when out of memory. */
/* --init: the trained model to continue from, checked against --model. */
static int load_init(const train_settings *s, ae_model **m)
{
    ae_model *init = NULL;
    ae_error err = {{0}};
    if (ae_model_load(&init, s->init, &err) != 0) {
        ae_model_free(*m);
        *m = NULL;
        return cli_fail(EXIT_ERROR, "train", "--init: %s", err.msg[0] ? err.msg : s->init);
    }
    char bad[256];
    int nbad = ae_model_nonfinite_tensors(init, bad, sizeof bad);
    if (nbad) {
        ae_model_free(*m);
        ae_model_free(init);
        *m = NULL;
        return cli_fail(EXIT_ERROR, "train", "--init %s: tensor%s %s hold%s NaN or infinite values "
                        "(no training can start from them)", s->init, nbad == 1 ? "" : "s", bad,
                        nbad == 1 ? "s" : "");
    }
    if (*m) {
        int same = strcmp(ae_model_description(*m), ae_model_description(init)) == 0;
        if (!same) {
            char *a = ae_model_summary_alloc(*m), *b = ae_model_summary_alloc(init);
            same = a && b && strcmp(a, b) == 0;
            free(a);
            free(b);
        }
        if (!same) {
            size_t pa = ae_model_param_count(*m), pb = ae_model_param_count(init);
            size_t la = ae_model_latent_size(*m), lb = ae_model_latent_size(init);
            ae_model_free(*m);
            ae_model_free(init);
            *m = NULL;
            return cli_fail(EXIT_ERROR, "train", "--init %s: its architecture differs from --model %s "
                            "(%zu parameters, latent %zu; --model has %zu parameters, latent %zu): "
                            "give the --model it was trained as, or leave --model out",
                            s->init, s->model, pb, lb, pa, la);
        }
        ae_model_free(*m);
    }
    *m = init;
    return 0;
}

static int open_split(const char *data, ae_split split, int limit, const ae_model *m,
                      ae_dataset **out)
{
    return cli_open_data("train", data, split, limit, m, NULL, out);
}

static int set_meta(ae_model *m, const char *key, const char *fmt, ...) CLI_PRINTF(3, 4);

static int set_meta(ae_model *m, const char *key, const char *fmt, ...)
{
    char value[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(value, sizeof value, fmt, ap);
    va_end(ap);
    ae_error err = {{0}};
    if (ae_model_set_meta(m, key, value, &err) != 0)
        return cli_fail(EXIT_ERROR, "train", "%s", err.msg);
    return 0;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash && slash[1] ? slash + 1 : path;
}

static const char *task_label(const train_settings *s, const ae_model *m)
{
    if (s->task == TASK_DENOISE) return "denoise";
    return ae_model_is_upscaler(m) ? "upscale" : "reconstruct";
}

static int upscale_factor(const ae_model *m)
{
    int ic, ih, iw, oc, oh, ow;
    ae_model_input_shape(m, &ic, &ih, &iw);
    ae_model_output_shape(m, &oc, &oh, &ow);
    return ih > 0 ? oh / ih : 1;
}

static const char *loss_name(ae_loss loss)
{
    static const char *const names[] = { "bce", "mse", "sse", "bce_sum" };
    return loss >= AE_LOSS_BCE && loss <= AE_LOSS_BCE_SUM ? names[loss] : "?";
}

static int store_settings(ae_model *m, const train_settings *s, const ae_dataset *train,
                          const ae_dataset *test)
{
    const ae_train_options *o = &s->opt;
    char noise[64];
    cli_noise_text(&s->noise, noise, sizeof noise);
    return set_meta(m, "aekit.version", "%s", AEKIT_VERSION) ||
           set_meta(m, "aekit.train.model", "%s", s->label) ||
           set_meta(m, "aekit.train.data", "%s", s->data) ||
           set_meta(m, "aekit.train.epochs", "%d", o->epochs) ||
           set_meta(m, "aekit.train.batch", "%d", o->batch) ||
           set_meta(m, "aekit.train.lr", "%g", o->lr) ||
           set_meta(m, "aekit.train.optimizer", "%s", optimizer_names[o->optimizer]) ||
           set_meta(m, "aekit.train.seed", "%llu", (unsigned long long)o->seed) ||
           set_meta(m, "aekit.train.train_images", "%d", train->n) ||
           set_meta(m, "aekit.train.val_images", "%d", test->n) ||
           set_meta(m, "aekit.train.task", "%s", task_label(s, m)) ||
           set_meta(m, "aekit.train.noise", "%s", noise) ||
           set_meta(m, "aekit.train.scale", "%d", upscale_factor(m)) ||
           set_meta(m, "aekit.train.latent", "%zu", ae_model_latent_size(m)) ||
           set_meta(m, "aekit.train.loss", "%s", loss_name(ae_model_loss(m))) ||
           set_meta(m, "aekit.train.clip_grad", "%g", o->clip_grad) ||
           set_meta(m, "aekit.train.threads", "%d", o->threads) ||
           set_meta(m, "aekit.train.init", "%s", s->init ? s->init : "none");
}

static int store_results(ae_model *m, const train_run *r, double seconds)
{
    int last = r->done - 1;
    int rc = set_meta(m, "aekit.result.epochs", "%d", r->done) ||
             set_meta(m, "aekit.result.train_loss", "%.6f", r->train_loss[last]) ||
             set_meta(m, "aekit.result.val_loss", "%.6f", r->val_loss[last]) ||
             set_meta(m, "aekit.result.val_mse", "%.6f", r->val_mse[last]);
    /* no wall-clock time in the model file: the same run, resumed or not,
     * gives the same bytes (the times are in metrics.csv) */
    (void)seconds;
    if (rc == 0 && r->variational)
        rc = set_meta(m, "aekit.result.val_recon", "%.6f", r->val_recon[last]) ||
             set_meta(m, "aekit.result.val_kl", "%.6f", r->val_kl[last]);
    if (rc == 0 && r->adversarial)
        rc = set_meta(m, "aekit.result.disc_accuracy", "%.6f", r->disc_acc[last]);
    return rc;
}

static void print_start(const train_settings *s, const ae_model *m, const ae_dataset *train,
                        const ae_dataset *test)
{
    char params[32], ntrain[32], ntest[32], threads[32], extra[256] = "";
    if (s->opt.threads > 0) snprintf(threads, sizeof threads, "%d threads", s->opt.threads);
    else                    snprintf(threads, sizeof threads, "all cores");
    if (s->task == TASK_DENOISE) {
        char noise[64];
        cli_noise_text(&s->noise, noise, sizeof noise);
        snprintf(extra, sizeof extra, ", denoising %s", noise);
    }
    if (s->init) {
        size_t used = strlen(extra);
        snprintf(extra + used, sizeof extra - used, ", from %s", cli_text(s->init));
    }
    fprintf(stderr, "training %s (%s parameters, latent %zu) on %s: %s training / %s validation images, "
                    "%d epoch%s, batch %d, %s lr %g, seed %llu, %s%s\n",
            cli_text(s->label), cli_count((double)ae_model_param_count(m), params, sizeof params),
            ae_model_latent_size(m), cli_text(s->data),
            cli_count(train->n, ntrain, sizeof ntrain), cli_count(test->n, ntest, sizeof ntest),
            s->opt.epochs, s->opt.epochs == 1 ? "" : "s", s->opt.batch,
            optimizer_names[s->opt.optimizer], s->opt.lr,
            (unsigned long long)s->opt.seed, threads, extra);
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

    if (interrupted) return PICTURES_STOPPED;
    run_path(path, sizeof path, s->out, RUN_RECONSTRUCTIONS);
    ae_error err = {{0}};
    if ((rc = cli_result("train", ae_picture_rows(m, test, 0, n, nz, threads, path, &rows, &err), &err))) return rc;
    pics[k].file = run_files[RUN_RECONSTRUCTIONS];
    if (ae_model_is_upscaler(m) && rows == 3)
        snprintf(pics[k].caption, sizeof pics[k].caption,
                 "%d test images: %s (top, drawn at full size), upscaled x%d, original",
                 n, nz ? "low-res noisy input" : "low-res input", upscale_factor(m));
    else if (rows == 3)
        snprintf(pics[k].caption, sizeof pics[k].caption, "%d test images: noisy (top), denoised, clean", n);
    else
        snprintf(pics[k].caption, sizeof pics[k].caption, "%d test images (top) over their reconstructions", n);
    k++;

    if (interrupted) return PICTURES_STOPPED;
    run_path(path, sizeof path, s->out, RUN_SAMPLES);
    if ((rc = cli_result("train", ae_picture_samples(m, SAMPLE_COUNT, 8, s->opt.seed, threads, path, &err), &err))) return rc;
    pics[k].file = run_files[RUN_SAMPLES];
    snprintf(pics[k].caption, sizeof pics[k].caption, "%d decoded random latents (%s)", SAMPLE_COUNT,
             ae_model_is_variational(m) || ae_model_is_adversarial(m)
                 ? "z from the prior N(0, I)" : "z from the Gaussian fitted to the training codes");
    k++;

    if (interrupted) return PICTURES_STOPPED;
    run_path(path, sizeof path, s->out, RUN_CODES);
    if ((rc = cli_result("train", ae_picture_codes(m, test, n, threads, path, &err), &err))) return rc;
    pics[k].file = run_files[RUN_CODES];
    snprintf(pics[k].caption, sizeof pics[k].caption,
             "%d test images and their %zu-value latent codes drawn as images (min-max normalised over the shown codes)", n, L);
    k++;

    if (interrupted) return PICTURES_STOPPED;
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
        if (interrupted) return PICTURES_STOPPED;
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

    /* the metrics table: metrics.csv's columns, the VAE's and the AAE's when they apply */
    enum { NCOL_MAX = 9, CELL = 32 };
    const char *names[NCOL_MAX] = { "epoch", "train_loss", "val_loss", "val_mse" };
    const double *cols[NCOL_MAX] = { NULL, r->train_loss, r->val_loss, r->val_mse };
    int ncol = 4;
    if (r->variational) {
        names[ncol] = "val_recon"; cols[ncol++] = r->val_recon;
        names[ncol] = "val_kl";    cols[ncol++] = r->val_kl;
    }
    if (r->adversarial) { names[ncol] = "disc_accuracy"; cols[ncol++] = r->disc_acc; }
    names[ncol] = "seconds";           cols[ncol++] = r->seconds;
    names[ncol] = "images_per_second"; cols[ncol++] = r->ips;
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
            const char *fmt = k == 0 ? NULL : cols[k] == r->seconds ? "%.2f" : cols[k] == r->ips ? "%.0f" : "%.6f";
            if (!fmt) snprintf(cell, CELL, "%d", e + 1);
            else      snprintf(cell, CELL, fmt, cols[k][e]);
            cells[(size_t)e * ncol + k] = cell;
        }

    char title[512], subtitle[512], footer[512], path[4096];
    snprintf(title, sizeof title, "aekit: %s on %s", s->label, s->data);
    snprintf(subtitle, sizeof subtitle, "%d epoch%s; after the last, validation %s %.6f, mse %.6f",
             r->done, r->done == 1 ? "" : "s", r->loss_label, r->val_loss[r->done - 1],
             r->val_mse[r->done - 1]);
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
           r->done == 1 ? "" : "s", seconds, r->val_loss[r->done - 1], r->val_mse[r->done - 1]);
    printf("run folder: %s\n", cli_text(r->out_dir));
    printf("  %-20s one page showing the run (open it in a browser)\n", run_files[RUN_INDEX]);
    printf("  %-20s the trained model (aekit info / eval / reconstruct)\n", run_files[RUN_MODEL]);
    printf("  %-20s losses and speed per epoch\n", run_files[RUN_METRICS]);
    printf("  %-20s training and validation loss per epoch\n", run_files[RUN_LOSS_PLOT]);
    for (int i = 0; i < npics; i++) printf("  %-20s %s\n", pics[i].file, pics[i].caption);
}

static const char *loss_label(const ae_model *m)
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

/* The rows of a run of `epochs` epochs (r->epochs; none done yet): one
 * allocation the caller frees, or NULL after printing the error. */
static double *run_start(train_run *r, const train_settings *s, const ae_model *m, int epochs,
                         char *title, size_t title_size)
{
    memset(r, 0, sizeof *r);
    snprintf(title, title_size, "%s on %s: loss per epoch", base_name(s->label), base_name(s->data));
    r->out_dir = s->out;
    r->title = title;
    r->loss_label = loss_label(m);
    r->epochs = epochs;
    r->tty = isatty(STDERR_FILENO);
    r->variational = ae_model_is_variational(m);
    r->adversarial = ae_model_is_adversarial(m);
    double *rows = calloc((size_t)epochs * 8, sizeof *rows);
    if (!rows) {
        cli_fail(EXIT_ERROR, "train", "out of memory for %d epochs", epochs);
        return NULL;
    }
    double **cols[8] = { &r->train_loss, &r->val_loss, &r->val_mse, &r->seconds, &r->ips,
                         &r->val_recon, &r->val_kl, &r->disc_acc };
    for (int i = 0; i < 8; i++) *cols[i] = rows + (size_t)i * epochs;
    return rows;
}

/* Ctrl-C and SIGTERM stop training after the current step, and the
 * pictures between two of them, until the folder is complete. */
static const int stop_signals[2] = { SIGINT, SIGTERM };

static void catch_stops(struct sigaction old[2])
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sa.sa_flags = SA_RESETHAND;             /* a second Ctrl-C ends the process */
    sigemptyset(&sa.sa_mask);
    for (int i = 0; i < 2; i++) {
        sigaction(stop_signals[i], &sa, &old[i]);
        if (old[i].sa_handler == SIG_IGN)   /* started with it ignored (nohup, &): keep it so */
            sigaction(stop_signals[i], &old[i], NULL);
    }
}

static void restore_stops(const struct sigaction old[2])
{
    for (int i = 0; i < 2; i++) sigaction(stop_signals[i], &old[i], NULL);
}

/* With the model saved: the pictures, then index.html, and the closing
 * lines. A stop or a failing write on the way leaves a folder that
 * model.safetensors and metrics.csv are enough to finish (finish_run). */
static int write_results(ae_model *m, const ae_dataset *test, const train_settings *s,
                         const train_run *r, double seconds)
{
    run_picture pics[MAX_PICTURES];
    int npics = 0;
    int status = write_pictures(m, test, s, pics, &npics);
    if (status == EXIT_OK && interrupted) status = PICTURES_STOPPED;
    if (status == EXIT_OK) status = write_index(r, m, s, pics, npics);
    if (status == EXIT_OK) {
        print_done(r, seconds, pics, npics);
        return EXIT_OK;
    }
    if (status != PICTURES_STOPPED) return status;
    char path[4200];
    run_path(path, sizeof path, s->out, RUN_MODEL);
    return cli_fail(128 + interrupted, "train", "%s: stopped after training: the model is saved (%s), "
                    "not all the pictures are; aekit train --resume %s writes them",
                    interrupted == SIGTERM ? "SIGTERM" : "Ctrl-C", path, s->out);
}

static int run_training(ae_model *m, const ae_dataset *train, const ae_dataset *test,
                        const train_settings *s, ae_train_state *resume)
{
    train_run r;
    char title[512], path[4200];
    double *rows = run_start(&r, s, m, s->opt.epochs, title, sizeof title);
    if (!rows) return EXIT_ERROR;
    double **cols[8] = { &r.train_loss, &r.val_loss, &r.val_mse, &r.seconds, &r.ips,
                         &r.val_recon, &r.val_kl, &r.disc_acc };
    double seconds_before = 0;
    if (resume) {                           /* the finished epochs' reports */
        ae_train_position pos;
        ae_train_state_position(resume, &pos);
        for (int e = 0; e < pos.epochs_done && e < r.epochs; e++) {
            const ae_progress *p = &pos.history[e];
            double v[8] = { p->train_loss, p->val_loss, p->val_mse, p->seconds, p->images_per_second,
                            p->val_recon, p->val_kl, p->disc_accuracy };
            for (int i = 0; i < 8; i++) (*cols[i])[e] = v[i];
            r.done = e + 1;
        }
        seconds_before = pos.seconds;
        r.last_epoch = pos.epoch;
        r.last_step = pos.step;
        r.steps = pos.steps;
    }

    struct sigaction old_sa[2];
    catch_stops(old_sa);
    ae_error err = {{0}};
    double start = cli_now();
    int rc = resume ? ae_train_resume(m, train, test, &s->opt, resume, on_progress, &r, &err)
                    : ae_train(m, train, test, &s->opt, on_progress, &r, &err);
    double seconds = seconds_before + (cli_now() - start);
    clear_bar(&r);

    int status = EXIT_OK;
    struct stat ck;
    int have_ckpt = stat(s->checkpoint, &ck) == 0;
    const char *sig = interrupted == SIGTERM ? "SIGTERM" : "Ctrl-C";
    if (rc != 0)
        status = cli_fail(EXIT_ERROR, "train", "%s%s%s%s%s", interrupted ? sig : "",
                          interrupted ? ": stopped, but " : "", err.msg,
                          have_ckpt ? "; the last checkpoint is kept: " : "",
                          have_ckpt ? s->checkpoint : "");
    else if (r.write_failed)
        status = cli_fail(EXIT_ERROR, "train", "%s%s%s", r.err.msg,
                          have_ckpt ? "; checkpoint kept: resume with aekit train --resume " : "",
                          have_ckpt ? s->out : "");
    else if (r.done < r.epochs && interrupted)  /* all epochs done: a finished run */
        status = cli_fail(128 + interrupted, "train", "%s: stopped at epoch %d/%d, step %d/%d; checkpoint "
                          "written, resume with: aekit train --resume %s", sig, r.last_epoch, r.epochs,
                          r.last_step, r.steps, s->out);
    else if (r.done == 0)
        status = cli_fail(EXIT_ERROR, "train", "training finished without completing an epoch");
    /* the model first: it and metrics.csv are all that --resume needs to
     * finish the folder, so the checkpoint goes once the model is saved
     * (no more disk than the model's is ever needed after training) */
    run_path(path, sizeof path, s->out, RUN_MODEL);
    if (status == EXIT_OK && store_results(m, &r, seconds) != 0) status = EXIT_ERROR;
    if (status == EXIT_OK && ae_model_save(m, path, &err) != 0)
        status = cli_fail(EXIT_ERROR, "train", "%s%s%s", err.msg,
                          have_ckpt ? "; the checkpoint is kept: " : "", have_ckpt ? s->checkpoint : "");
    else if (status == EXIT_OK) {
        remove(s->checkpoint);
        status = write_results(m, test, s, &r, seconds);
    }
    restore_stops(old_sa);
    free(rows);
    return status;
}

/* ---- --resume DIR ----------------------------------------------------------------- */

/* A usage error for a flag given with --resume whose value is not the run's. */
static int conflict(const train_settings *s, const args *a, const char *flag, const char *stored)
{
    const char *given = NULL;
    args_string(a, flag, NULL, &given);
    return cli_fail(EXIT_USAGE, "train", "--resume %s: --%s %s conflicts with the run's %s (a resumed "
                    "run keeps the settings it was started with: leave --%s out)", s->resume, flag,
                    given ? given : "", stored, flag);
}

static int same_noise(const ae_noise *a, const ae_noise *b)
{
    return a->kind == b->kind && a->mean == b->mean && a->std == b->std && a->p == b->p;
}

/* Checks the flags given with --resume against the run's settings (a
 * clip_grad of NaN: not known, not checked). */
static int check_resume_flags(const args *a, const train_settings *given, const train_settings *run,
                              const ae_model *m)
{
    char buf[256];
    const ae_train_options *g = &given->opt, *o = &run->opt;
    if (args_given(a, "model")) {
        const char *p = preset_for(given);
        if (strcmp(p ? p : given->model, run->label) != 0) return conflict(given, a, "model", run->label);
    }
    if (args_given(a, "data") && strcmp(given->data, run->data) != 0) return conflict(given, a, "data", run->data);
    if (args_given(a, "out")) {
        struct stat x, y;
        if (stat(given->out, &x) != 0 || stat(given->resume, &y) != 0 || x.st_dev != y.st_dev ||
            x.st_ino != y.st_ino)
            return cli_fail(EXIT_USAGE, "train", "--resume %s: --out %s is another folder (a resumed run "
                            "writes into its own folder: leave --out out)", given->resume, given->out);
    }
    snprintf(buf, sizeof buf, "%d", o->epochs);
    if (args_given(a, "epochs") && g->epochs != o->epochs) return conflict(given, a, "epochs", buf);
    snprintf(buf, sizeof buf, "%d", o->batch);
    if (args_given(a, "batch") && g->batch != o->batch) return conflict(given, a, "batch", buf);
    /* numbers as the model's metadata records them (%g) */
    char given_text[64];
    snprintf(buf, sizeof buf, "%g", o->lr);
    snprintf(given_text, sizeof given_text, "%g", g->lr);
    if (args_given(a, "lr") && strcmp(given_text, buf) != 0) return conflict(given, a, "lr", buf);
    if (args_given(a, "optimizer") && g->optimizer != o->optimizer)
        return conflict(given, a, "optimizer", optimizer_names[o->optimizer]);
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)o->seed);
    if (args_given(a, "seed") && g->seed != o->seed) return conflict(given, a, "seed", buf);
    snprintf(buf, sizeof buf, "%g", o->clip_grad);
    snprintf(given_text, sizeof given_text, "%g", g->clip_grad);
    if (args_given(a, "clip-grad") && !isnan(o->clip_grad) && strcmp(given_text, buf) != 0)
        return conflict(given, a, "clip-grad", o->clip_grad > 0 ? buf : "(none)");
    if (args_given(a, "task") && given->task != run->task)
        return conflict(given, a, "task", task_names[run->task]);
    cli_noise_text(&o->noise, buf, sizeof buf);
    if (args_given(a, "noise") && !same_noise(&given->noise, &o->noise)) return conflict(given, a, "noise", buf);
    const char *scale = ae_model_meta(m, "aekit.train.scale");
    if (args_given(a, "scale") && (!scale || atoi(scale) != given->scale))
        return conflict(given, a, "scale", scale ? scale : "?");
    snprintf(buf, sizeof buf, "%zu", ae_model_latent_size(m));
    if (args_given(a, "latent") && (size_t)given->latent != ae_model_latent_size(m))
        return conflict(given, a, "latent", buf);
    if (args_given(a, "recon") &&
        (given->recon == 0 ? AE_LOSS_SSE : AE_LOSS_BCE_SUM) != ae_model_loss(m))
        return conflict(given, a, "recon", loss_name(ae_model_loss(m)));
    if (args_given(a, "init") && strcmp(given->init, run->init ? run->init : "none") != 0)
        return conflict(given, a, "init", run->init ? run->init : "(none)");
    return 0;
}

/* Fails early (before any training) when nothing can be written into dir:
 * creates (and removes) the temporary file a write of metrics.csv makes. */
static int check_writable(const char *dir)
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
static int claim_out_folder(const train_settings *s, int force, run_lock *lock)
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
static int check_run_files(const train_settings *s, const char *flag)
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

/* The run's settings a model or checkpoint written by aekit train records
 * (data set, model name, task, --init) into s; an error naming `file`
 * when they are missing. */
static int settings_from_meta(train_settings *s, const ae_model *m, const char *file)
{
    const char *data = ae_model_meta(m, "aekit.train.data"), *label = ae_model_meta(m, "aekit.train.model");
    const char *task = ae_model_meta(m, "aekit.train.task"), *init = ae_model_meta(m, "aekit.train.init");
    if (!data || !label || !task || !init)
        return cli_fail(EXIT_ERROR, "train", "--resume %s: %s lacks the aekit.train.* settings "
                        "(not written by aekit train)", s->out, file);
    s->data = data;
    snprintf(s->label, sizeof s->label, "%s", label);
    s->task = strcmp(task, "denoise") == 0 ? TASK_DENOISE : TASK_RECONSTRUCT;
    s->init = strcmp(init, "none") != 0 ? init : NULL;
    return 0;
}

/* Reads metrics.csv (as write_metrics writes it) into r: exactly r->epochs
 * rows, epochs 1, 2, ... Prints the error naming the file and line. */
static int read_metrics(const char *path, train_run *r)
{
    enum { LINE_MAX_LEN = 1024 };
    ae_error err = {{0}};
    FILE *f = ae_open_file(path, &err);
    if (!f) return cli_fail(EXIT_ERROR, "train", "%s", err.msg);
    double *cols[METRICS_COLUMNS - 1] = { r->train_loss, r->val_loss, r->val_mse, r->seconds, r->ips,
                                          r->val_recon, r->val_kl, r->disc_acc };
    char line[LINE_MAX_LEN];
    int lineno = 0, rc = 0;
    const char *why = NULL;
    r->done = 0;
    while (!why && fgets(line, sizeof line, f)) {
        lineno++;
        size_t len = strlen(line);
        if (len == 0 || line[len - 1] != '\n') { why = "a line is cut or too long"; break; }
        line[len - 1] = '\0';
        if (lineno == 1) {
            if (strcmp(line, METRICS_HEADER) != 0) why = "not the header aekit train writes";
            continue;
        }
        if (r->done == r->epochs) { why = "more rows than the model's epochs"; break; }
        char *p = line, *end;
        errno = 0;
        long epoch = strtol(p, &end, 10);
        if (end == p || *end != ',' || epoch != r->done + 1) { why = "not the next epoch"; break; }
        for (int c = 0; c < METRICS_COLUMNS - 1 && !why; c++) {
            p = end + 1;
            cols[c][r->done] = strtod(p, &end);
            if (end == p || *end != (c == METRICS_COLUMNS - 2 ? '\0' : ',')) why = "not a number";
        }
        if (!why) r->done++;
    }
    if (!why && ferror(f)) rc = cli_fail(EXIT_ERROR, "train", "%s: cannot read: %s", path, strerror(errno));
    fclose(f);
    if (why)
        return cli_fail(EXIT_ERROR, "train", "%s:%d: %s: not the metrics.csv aekit train writes",
                        path, lineno, why);
    if (rc == 0 && r->done != r->epochs)
        rc = cli_fail(EXIT_ERROR, "train", "%s: %d epochs, the model's run trained %d", path, r->done,
                      r->epochs);
    return rc;
}

/* aekit train --resume DIR on a folder whose training is done: the model
 * is saved, with the run's settings in its metadata, and metrics.csv holds
 * its epochs, but a stop or a failed write came before the pictures and
 * index.html were all written. Draws them from those two files; nothing is
 * trained and the model stays as it is. The lock is held. */
static int finish_run(const args *a, const train_settings *given)
{
    train_settings s = *given, run;
    s.out = given->resume;
    char model_path[4200], metrics_path[4200], loss_path[4200], title[512];
    run_path(model_path, sizeof model_path, s.out, RUN_MODEL);
    run_path(metrics_path, sizeof metrics_path, s.out, RUN_METRICS);
    run_path(loss_path, sizeof loss_path, s.out, RUN_LOSS_PLOT);
    ae_model *m = NULL;
    int rc = cli_load_model("train", model_path, &m);
    if (rc) return rc;
    const char *epochs = ae_model_meta(m, "aekit.result.epochs"), *val_loss = ae_model_meta(m, "aekit.result.val_loss");
    const char *seed = ae_model_meta(m, "aekit.train.seed"), *val_images = ae_model_meta(m, "aekit.train.val_images");
    if ((rc = settings_from_meta(&s, m, model_path))) goto done;
    if (!epochs || !val_loss || !seed || !val_images || atoi(epochs) < 1 || atoi(val_images) < 1) {
        rc = cli_fail(EXIT_ERROR, "train", "--resume %s: %s lacks the aekit.result.* results (not a "
                      "finished run of aekit train)", s.out, model_path);
        goto done;
    }
    /* the settings as recorded, to check the flags given against */
    run = s;
    const char *v;
    run.opt.epochs = (v = ae_model_meta(m, "aekit.train.epochs")) ? atoi(v) : 0;
    run.opt.batch = (v = ae_model_meta(m, "aekit.train.batch")) ? atoi(v) : 0;
    run.opt.lr = (v = ae_model_meta(m, "aekit.train.lr")) ? strtod(v, NULL) : NAN;
    run.opt.seed = strtoull(seed, NULL, 10);
    run.opt.clip_grad = (v = ae_model_meta(m, "aekit.train.clip_grad")) ? strtod(v, NULL) : NAN;
    v = ae_model_meta(m, "aekit.train.optimizer");
    for (int i = 0; optimizer_names[i]; i++)
        if (v && strcmp(v, optimizer_names[i]) == 0) run.opt.optimizer = (ae_optimizer)i;
    cli_model_noise(m, &run.opt.noise);
    if ((rc = check_resume_flags(a, given, &run, m))) goto done;
    s.noise = run.opt.noise;
    s.opt.noise = s.noise;
    s.opt.seed = run.opt.seed;              /* the samples' latents */
    if (!args_given(a, "threads") && (v = ae_model_meta(m, "aekit.train.threads")))
        s.opt.threads = atoi(v);            /* the run's, shown in index.html */
    s.val_limit = atoi(val_images);
    const char *train_images = ae_model_meta(m, "aekit.train.train_images");
    if (args_given(a, "limit") && (!train_images || given->limit != atoi(train_images))) {
        rc = conflict(given, a, "limit", train_images ? train_images : "?");
        goto done;
    }
    if (args_given(a, "val-limit") && given->val_limit != s.val_limit) {
        rc = conflict(given, a, "val-limit", val_images);
        goto done;
    }
    if ((rc = check_writable(s.out)) || (rc = check_run_files(&s, "--resume"))) goto done;

    train_run r;
    double *rows = run_start(&r, &s, m, atoi(epochs), title, sizeof title);
    if (!rows) { rc = EXIT_ERROR; goto done; }
    ae_dataset *test = NULL;
    if ((rc = read_metrics(metrics_path, &r)) == 0) {
        char last[64];
        snprintf(last, sizeof last, "%.6f", r.val_loss[r.done - 1]);
        if (strcmp(last, val_loss) != 0)
            rc = cli_fail(EXIT_ERROR, "train", "%s: the last epoch's val_loss %s is not the model's %s (%s "
                          "is not this run's)", metrics_path, last, val_loss, metrics_path);
    }
    if (rc == 0 && (rc = open_split(s.data, AE_SPLIT_TEST, s.val_limit, m, &test)) == 0 &&
        test->n != s.val_limit)
        rc = cli_fail(EXIT_ERROR, "train", "--data %s: the test set has %d images, the run validated on %d",
                      s.data, test->n, s.val_limit);
    if (rc == 0) {
        double seconds = 0;
        for (int e = 0; e < r.done; e++) seconds += r.seconds[e];
        args_print_notes();
        fprintf(stderr, "finishing %s in %s: all %d epochs were done and the model is saved; drawing the "
                "pictures\n", cli_text(s.label), cli_text(s.out), r.done);
        struct sigaction old_sa[2];
        catch_stops(old_sa);
        struct stat st;
        ae_error err = {{0}};
        if (lstat(loss_path, &st) != 0 && write_loss_plot(&r, &err) != 0)
            rc = cli_fail(EXIT_ERROR, "train", "%s", err.msg);
        else
            rc = write_results(m, test, &s, &r, seconds);
        restore_stops(old_sa);
    }
    if (test) ae_dataset_free(test);
    free(rows);
done:
    ae_model_free(m);
    return rc;
}

/* aekit train --resume DIR: the run's settings from its checkpoint; the
 * flags given may only repeat them (but --threads and --checkpoint-every). */
static int resume_training(const args *a, train_settings *given, run_lock *lock)
{
    train_settings s = *given;
    run_path(s.checkpoint, sizeof s.checkpoint, given->resume, RUN_CHECKPOINT);
    struct stat st;
    int rc;
    if (stat(given->resume, &st) == 0 && S_ISDIR(st.st_mode) &&
        (rc = run_lock_take(lock, "--resume", given->resume)))
        return rc;
    if (stat(s.checkpoint, &st) != 0) {
        int e = errno;
        char model[4200], index[4200];
        run_path(model, sizeof model, given->resume, RUN_MODEL);
        run_path(index, sizeof index, given->resume, RUN_INDEX);
        if (e == ENOENT && stat(model, &st) == 0 && stat(index, &st) != 0) {
            run_remove_temps(given->resume);
            return finish_run(a, given);    /* trained and saved, not all drawn */
        }
        if (e == ENOENT && stat(model, &st) == 0)
            return cli_fail(EXIT_ERROR, "train", "--resume %s: the run is finished (%s and %s are written): "
                            "nothing to resume", given->resume, model, index);
        return cli_fail(EXIT_ERROR, "train", "--resume %s: no checkpoint to resume from (%s: %s)",
                        given->resume, s.checkpoint, strerror(e));
    }
    run_remove_temps(given->resume);        /* the lock says no one is writing them */
    ae_model *m = NULL;
    ae_train_state *state = NULL;
    ae_error err = {{0}};
    if (ae_checkpoint_load(s.checkpoint, &m, &s.opt, &state, &err) != 0)
        return cli_fail(EXIT_ERROR, "train", "--resume %s: %s", given->resume, err.msg);
    s.out = given->resume;
    if ((rc = settings_from_meta(&s, m, s.checkpoint))) goto done;
    s.noise = s.opt.noise;
    if ((rc = check_resume_flags(a, given, &s, m))) goto done;
    /* what a resumed run may change */
    ae_train_position pos;
    ae_train_state_position(state, &pos);
    int stored_threads = s.opt.threads;
    if (args_given(a, "threads")) s.opt.threads = given->opt.threads;
    if (args_given(a, "checkpoint-every")) {
        s.opt.checkpoint_steps = given->opt.checkpoint_steps;
        s.opt.checkpoint_epochs = given->opt.checkpoint_epochs;
    }
    s.opt.checkpoint = s.checkpoint;
    if ((rc = check_writable(s.out)) || (rc = check_run_files(&s, "--resume"))) goto done;
    s.limit = args_given(a, "limit") ? given->limit : pos.train_images;
    s.val_limit = args_given(a, "val-limit") ? given->val_limit : pos.val_images;

    ae_dataset *train = NULL, *test = NULL;
    if ((rc = open_split(s.data, AE_SPLIT_TRAIN, s.limit, m, &train)) == 0 &&
        (rc = open_split(s.data, AE_SPLIT_TEST, s.val_limit, m, &test)) == 0) {
        char threads[64] = "";
        if (s.opt.threads != stored_threads)
            snprintf(threads, sizeof threads, " (with %d threads instead of %d: no longer bit-identical)",
                     s.opt.threads, stored_threads);
        args_print_notes();
        if (pos.epoch > s.opt.epochs)
            fprintf(stderr, "resuming %s in %s: all %d epochs were done%s\n", cli_text(s.label), cli_text(s.out),
                    s.opt.epochs, threads);
        else
            fprintf(stderr, "resuming %s in %s at epoch %d/%d, step %d/%d%s\n", cli_text(s.label), cli_text(s.out),
                    pos.epoch, s.opt.epochs, pos.step, pos.steps, threads);
        rc = run_training(m, train, test, &s, state);
    }
    if (test) ae_dataset_free(test);
    if (train) ae_dataset_free(train);
done:
    ae_train_state_free(state);
    ae_model_free(m);
    return rc;
}

static int new_training(const args *a, train_settings *given, run_lock *lock)
{
    train_settings s = *given;
    int rc, force = args_given(a, "force");
    s.preset = preset_for(&s);
    run_path(s.checkpoint, sizeof s.checkpoint, s.out, RUN_CHECKPOINT);
    s.opt.checkpoint = s.checkpoint;

    struct stat st;
    int have_dir = stat(s.out, &st) == 0;
    if (have_dir && !S_ISDIR(st.st_mode))
        return cli_fail(EXIT_ERROR, "train", "--out %s: exists and is not a folder", s.out);
    if ((rc = check_run_files(&s, "--out"))) return rc;
    if (have_dir && (rc = claim_out_folder(&s, force, lock))) return rc;

    ae_model *m = NULL;
    ae_dataset *train = NULL, *test = NULL;
    if (s.model && (rc = build_model(&s, &m))) return rc;
    if (s.init && (rc = load_init(&s, &m))) return rc;
    if (s.model) {
        snprintf(s.label, sizeof s.label, "%s", s.preset ? s.preset : s.model);
    } else {
        const char *was = ae_model_meta(m, "aekit.train.model");
        snprintf(s.label, sizeof s.label, "%s", was && *was ? was : s.init);
    }
    if (s.recon >= 0) {
        ae_error err = {{0}};
        if (!ae_model_is_variational(m)) {
            ae_model_free(m);
            return cli_fail(EXIT_USAGE, "train", "--recon: only for VAEs (%s has no sample layer; "
                            "its loss is the `loss` line of its description)",
                            s.label);
        }
        if (ae_model_set_loss(m, s.recon == 0 ? AE_LOSS_SSE : AE_LOSS_BCE_SUM, &err) != 0) {
            ae_model_free(m);
            return cli_fail(EXIT_ERROR, "train", "--recon %s: %s", recon_names[s.recon], err.msg);
        }
    }
    s.opt.init_weights = s.init ? 0 : 1;    /* ae_train initialises from --seed */

    if ((rc = open_split(s.data, AE_SPLIT_TRAIN, s.limit, m, &train)) == 0 &&
        (rc = open_split(s.data, AE_SPLIT_TEST, s.val_limit, m, &test)) == 0 &&
        (rc = store_settings(m, &s, train, test)) == 0 &&
        (rc = cli_make_dirs("train", s.out)) == 0 && (rc = claim_out_folder(&s, force, lock)) == 0 &&
        (!force || (rc = run_files_remove(s.out)) == 0) && (rc = check_writable(s.out)) == 0) {
        run_remove_temps(s.out);            /* a killed run's; the lock says no one is writing them */
        args_print_notes();
        print_start(&s, m, train, test);
        rc = run_training(m, train, test, &s, NULL);
    }
    if (test) ae_dataset_free(test);
    if (train) ae_dataset_free(train);
    ae_model_free(m);
    return rc;
}

int cmd_train(int argc, char **argv)
{
    args a;
    int rc = args_parse(&a, &train_command, argc, argv);
    if (rc) return rc;
    if (a.help) { args_print_help(&train_command, stdout); return EXIT_OK; }
    train_settings s;
    if ((rc = read_settings(&a, &s))) return rc;
    if (s.resume && args_given(&a, "force"))
        return cli_fail(EXIT_USAGE, "train", "--force: only for a new run (--resume goes on with the run "
                        "in its folder)");
    run_lock lock = RUN_LOCK_NONE;
    rc = s.resume ? resume_training(&a, &s, &lock) : new_training(&a, &s, &lock);
    run_lock_release(&lock);
    return rc;
}
