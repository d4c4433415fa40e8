/* aekit train: trains a model on a data set and fills a run folder with the
 * model, the metrics per epoch, the loss curves and a picture of
 * reconstructions. */
#define _POSIX_C_SOURCE 200809L
#include "cli/cli.h"
#include "core/atomic_file.h"
#include "format/plot.h"

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
#define RECON_SCALE    3
#define PLOT_WIDTH     800
#define PLOT_HEIGHT    500

static const char *const optimizer_names[] = { "adam", "rmsprop", "sgd", NULL };

static const arg_flag train_flags[] = {
    { "model",     "NAME|FILE", NULL, "model preset or model description file", 1 },
    { "data",      "NAME|DIR",  NULL, "data set name (mnist, fashion-mnist) or folder of IDX files", 1 },
    { "out",       "DIR",       NULL, "run folder, created if missing", 1 },
    { "epochs",    "N",         "25", "passes over the training set", 0 },
    { "batch",     "N",         "128", "images per step", 0 },
    { "lr",        "X",         "1e-3", "learning rate", 0 },
    { "optimizer", "NAME",      "adam", "adam, rmsprop or sgd (momentum 0.9)", 0 },
    { "seed",      "N",         "0", "seed for the initial weights and the shuffling", 0 },
    { "threads",   "N",         "0 = all cores", "threads to use", 0 },
    { "limit",     "N",         "all", "train on the first N training images only", 0 },
    { "val-limit", "N",         "all", "validate on the first N test images only (faster epochs)", 0 },
    { NULL, NULL, NULL, NULL, 0 }
};

static void train_more_help(FILE *out)
{
    fprintf(out, "model presets:");
    for (const char *const *p = ae_model_presets(); p && *p; p++) fprintf(out, " %s", *p);
    fprintf(out, "\n\nwrites into DIR:\n"
                 "  model.safetensors    the trained model, with the training settings\n"
                 "  metrics.csv          epoch,train_loss,val_loss,val_mse,seconds,images_per_second\n"
                 "  loss.png             training and validation loss per epoch\n"
                 "  reconstructions.png  10 test images (top) over their reconstructions (bottom)\n"
                 "metrics.csv and loss.png are rewritten after every epoch; Ctrl-C stops after\n"
                 "the current step and keeps the finished epochs in metrics.csv.\n");
}

const arg_command train_command = {
    .name = "train",
    .summary = "train an autoencoder on a data set of images",
    .usage = "aekit train --model NAME|FILE --data NAME|DIR --out DIR [flags]",
    .positional = NULL,
    .flags = train_flags,
    .examples = "  aekit train --model conv --data mnist --out runs/conv\n"
                "  aekit train --model conv --data mnist --epochs 1 --limit 2000 --val-limit 1000 --out runs/quick\n"
                "  aekit train --model my-model.txt --data ./data/fashion-mnist --optimizer rmsprop --out runs/mine\n",
    .more_help = train_more_help,
};

/* ---- the run being trained -------------------------------------------------- */

typedef struct {
    const char *out_dir;
    const char *title;
    int         epochs, done;        /* planned and finished epochs */
    double     *train_loss, *val_loss, *val_mse, *seconds, *ips;
    int         tty;                 /* stderr is a terminal: live progress bar */
    int         bar_shown;
    double      last_draw;
    int         write_failed;
    const char *loss_label;          /* y axis of loss.png */
    ae_error    err;
} train_run;

static volatile sig_atomic_t interrupted = 0;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

static void join_path(char *buf, size_t size, const char *dir, const char *name)
{
    size_t len = strlen(dir);
    snprintf(buf, size, "%s%s%s", dir, (len && dir[len - 1] == '/') ? "" : "/", name);
}

static int write_metrics(const train_run *r, ae_error *err)
{
    char path[4096];
    join_path(path, sizeof path, r->out_dir, "metrics.csv");
    ae_atomic_file af;
    if (ae_atomic_open(&af, path, err) != 0) return -1;
    fprintf(af.f, "epoch,train_loss,val_loss,val_mse,seconds,images_per_second\n");
    for (int e = 0; e < r->done; e++)
        fprintf(af.f, "%d,%.6f,%.6f,%.6f,%.6f,%.6f\n", e + 1, r->train_loss[e], r->val_loss[e],
                r->val_mse[e], r->seconds[e], r->ips[e]);
    return ae_atomic_commit(&af, err);
}

static int write_loss_plot(const train_run *r, ae_error *err)
{
    char path[4096];
    join_path(path, sizeof path, r->out_dir, "loss.png");
    plot_series series[2] = {
        { "train",      r->train_loss, 0.12, 0.47, 0.71 },
        { "validation", r->val_loss,   1.00, 0.50, 0.05 },
    };
    return plot_lines_png(path, r->title, "epoch", r->loss_label, series, 2, r->done,
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
        r->done = e + 1;
    }
    char ips[32];
    clear_bar(r);
    fprintf(stderr, "epoch %d/%d  train %.4f  val %.4f  %.1f s  %s img/s\n", p->epoch, p->epochs,
            p->train_loss, p->val_loss, p->seconds, cli_count(p->images_per_second, ips, sizeof ips));
    if (write_metrics(r, &r->err) != 0 || write_loss_plot(r, &r->err) != 0) {
        r->write_failed = 1;
        return 1;
    }
    return interrupted;
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
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err->msg, sizeof err->msg, "--model %s: cannot open: %s", path, strerror(errno));
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

/* Builds the model named by --model: a preset or a description file. */
static int build_model(const char *spec, ae_model **out)
{
    ae_error err = {{0}};
    if (is_preset(spec)) {
        if (ae_model_from_preset(out, spec, &err) != 0)
            return cli_fail(EXIT_ERROR, "train", "%s", err.msg);
        return 0;
    }
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
    int rc = ae_model_from_text(out, text, spec, &err);
    free(text);
    if (rc != 0) return cli_fail(EXIT_ERROR, "train", "%s", err.msg);
    return 0;
}

static int open_split(const char *data, ae_split split, int limit, const ae_model *m,
                      ae_dataset **out)
{
    ae_error err = {{0}};
    if (ae_dataset_open(out, data, split, &err) != 0)
        return cli_fail(EXIT_ERROR, "train", "%s", err.msg);
    ae_dataset_truncate(*out, limit);
    if ((*out)->n <= 0)
        return cli_fail(EXIT_ERROR, "train", "--data %s: the %s set has no images", data,
                        split == AE_SPLIT_TRAIN ? "training" : "test");
    return cli_check_shape("train", data, *out, m);
}

/* mkdir -p: creates dir and its missing parents. */
static int make_dirs(const char *dir)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path)
        return cli_fail(EXIT_ERROR, "train", "--out %s: path too long", dir);
    for (char *p = path + 1; ; p++) {
        if (*p != '/' && *p != '\0') continue;
        char saved = *p;
        *p = '\0';
        struct stat st;
        if (mkdir(path, 0777) != 0 && errno != EEXIST)
            return cli_fail(EXIT_ERROR, "train", "--out %s: cannot create %s: %s", dir, path, strerror(errno));
        if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
            return cli_fail(EXIT_ERROR, "train", "--out %s: %s exists and is not a folder", dir, path);
        *p = saved;
        if (saved == '\0') break;
    }
    return 0;
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

static int write_reconstructions(ae_model *m, const ae_dataset *test, const char *path, int threads)
{
    int n = test->n < RECON_COUNT ? test->n : RECON_COUNT;
    size_t chw = (size_t)test->c * test->h * test->w;
    float *x = malloc(2 * (size_t)n * chw * sizeof *x);
    if (!x) return cli_fail(EXIT_ERROR, "train", "%s: out of memory", path);
    uint32_t idx[RECON_COUNT];
    for (int i = 0; i < n; i++) idx[i] = (uint32_t)i;
    ae_dataset_batch(test, idx, n, x);
    ae_error err = {{0}};
    int rc = ae_model_reconstruct(m, x, n, x + (size_t)n * chw, threads, &err);
    if (rc == 0)
        rc = ae_png_write_grid(path, x, 2, n, test->c, test->h, test->w, RECON_SCALE, &err);
    free(x);
    if (rc != 0) return cli_fail(EXIT_ERROR, "train", "%s", err.msg);
    return 0;
}

/* ---- the command ---------------------------------------------------------------- */

typedef struct {
    const char *model, *data, *out;
    int limit, val_limit;
    ae_train_options opt;
} train_settings;

static int read_settings(const args *a, train_settings *s)
{
    int rc, optimizer;
    ae_train_options_default(&s->opt);
    if ((rc = args_required(a, "model", &s->model)) ||
        (rc = args_required(a, "data", &s->data)) ||
        (rc = args_required(a, "out", &s->out)) ||
        (rc = args_positive_int(a, "epochs", s->opt.epochs, &s->opt.epochs)) ||
        (rc = args_positive_int(a, "batch", s->opt.batch, &s->opt.batch)) ||
        (rc = args_positive_number(a, "lr", s->opt.lr, &s->opt.lr)) ||
        (rc = args_choice(a, "optimizer", optimizer_names, (int)s->opt.optimizer, &optimizer)) ||
        (rc = args_u64(a, "seed", s->opt.seed, &s->opt.seed)) ||
        (rc = args_nonnegative_int(a, "threads", s->opt.threads, &s->opt.threads)) ||
        (rc = args_positive_int(a, "limit", 0, &s->limit)) ||
        (rc = args_positive_int(a, "val-limit", 0, &s->val_limit)))
        return rc;
    s->opt.optimizer = (ae_optimizer)optimizer;
    return 0;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash && slash[1] ? slash + 1 : path;
}

static int store_settings(ae_model *m, const train_settings *s, const ae_dataset *train,
                          const ae_dataset *test)
{
    const ae_train_options *o = &s->opt;
    return set_meta(m, "aekit.version", "%s", AEKIT_VERSION) ||
           set_meta(m, "aekit.train.model", "%s", s->model) ||
           set_meta(m, "aekit.train.data", "%s", s->data) ||
           set_meta(m, "aekit.train.epochs", "%d", o->epochs) ||
           set_meta(m, "aekit.train.batch", "%d", o->batch) ||
           set_meta(m, "aekit.train.lr", "%g", o->lr) ||
           set_meta(m, "aekit.train.optimizer", "%s", optimizer_names[o->optimizer]) ||
           set_meta(m, "aekit.train.seed", "%llu", (unsigned long long)o->seed) ||
           set_meta(m, "aekit.train.train_images", "%d", train->n) ||
           set_meta(m, "aekit.train.val_images", "%d", test->n);
}

static int store_results(ae_model *m, const train_run *r, double seconds)
{
    int last = r->done - 1;
    return set_meta(m, "aekit.result.epochs", "%d", r->done) ||
           set_meta(m, "aekit.result.train_loss", "%.6f", r->train_loss[last]) ||
           set_meta(m, "aekit.result.val_loss", "%.6f", r->val_loss[last]) ||
           set_meta(m, "aekit.result.val_mse", "%.6f", r->val_mse[last]) ||
           set_meta(m, "aekit.result.seconds", "%.1f", seconds);
}

static void print_start(const train_settings *s, const ae_model *m, const ae_dataset *train,
                        const ae_dataset *test)
{
    char params[32], ntrain[32], ntest[32], threads[32];
    if (s->opt.threads > 0) snprintf(threads, sizeof threads, "%d threads", s->opt.threads);
    else                    snprintf(threads, sizeof threads, "all cores");
    fprintf(stderr, "training %s (%s parameters) on %s: %s training / %s validation images, "
                    "%d epoch%s, batch %d, %s lr %g, seed %llu, %s\n",
            s->model, cli_count((double)ae_model_param_count(m), params, sizeof params), s->data,
            cli_count(train->n, ntrain, sizeof ntrain), cli_count(test->n, ntest, sizeof ntest),
            s->opt.epochs, s->opt.epochs == 1 ? "" : "s", s->opt.batch,
            optimizer_names[s->opt.optimizer], s->opt.lr,
            (unsigned long long)s->opt.seed, threads);
}

static void print_done(const train_run *r, double seconds, int nrecon)
{
    printf("done: %d epoch%s in %.1f s, val loss %.4f, val mse %.4f\n", r->done,
           r->done == 1 ? "" : "s", seconds, r->val_loss[r->done - 1], r->val_mse[r->done - 1]);
    printf("run folder: %s\n", r->out_dir);
    printf("  model.safetensors    the trained model (aekit info / eval / reconstruct)\n");
    printf("  metrics.csv          losses and speed per epoch\n");
    printf("  loss.png             training and validation loss per epoch\n");
    printf("  reconstructions.png  %d test images (top) over their reconstructions (bottom)\n", nrecon);
}

static int run_training(ae_model *m, const ae_dataset *train, const ae_dataset *test,
                        const train_settings *s)
{
    train_run r = {0};
    char title[512], path[4096];
    snprintf(title, sizeof title, "%s on %s: loss per epoch", base_name(s->model), base_name(s->data));
    r.out_dir = s->out;
    r.title = title;
    r.loss_label = ae_model_loss(m) == AE_LOSS_BCE ? "loss (BCE per pixel)" : "loss (MSE per pixel)";
    r.epochs = s->opt.epochs;
    r.tty = isatty(STDERR_FILENO);
    double *rows = calloc((size_t)r.epochs * 5, sizeof *rows);
    if (!rows) return cli_fail(EXIT_ERROR, "train", "out of memory for %d epochs", r.epochs);
    r.train_loss = rows;
    r.val_loss = rows + r.epochs;
    r.val_mse = rows + 2 * (size_t)r.epochs;
    r.seconds = rows + 3 * (size_t)r.epochs;
    r.ips = rows + 4 * (size_t)r.epochs;

    struct sigaction sa, old_sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sa.sa_flags = SA_RESETHAND;             /* a second Ctrl-C ends the process */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_sa);
    if (old_sa.sa_handler == SIG_IGN)       /* started with Ctrl-C ignored (nohup, &): keep it so */
        sigaction(SIGINT, &old_sa, NULL);

    ae_error err = {{0}};
    double start = cli_now();
    int rc = ae_train(m, train, test, &s->opt, on_progress, &r, &err);
    double seconds = cli_now() - start;
    sigaction(SIGINT, &old_sa, NULL);
    clear_bar(&r);

    int status = EXIT_OK;
    if (r.write_failed)
        status = cli_fail(EXIT_ERROR, "train", "%s", r.err.msg);
    else if (interrupted)
        status = cli_fail(EXIT_ERROR, "train", "interrupted after %d of %d epochs; no model saved "
                          "(%s/metrics.csv keeps the finished epochs)", r.done, r.epochs, s->out);
    else if (rc != 0)
        status = cli_fail(EXIT_ERROR, "train", "%s", err.msg);
    else if (r.done == 0)
        status = cli_fail(EXIT_ERROR, "train", "training finished without completing an epoch");
    if (status != EXIT_OK) { free(rows); return status; }

    join_path(path, sizeof path, s->out, "model.safetensors");
    if (store_results(m, &r, seconds) != 0) { free(rows); return EXIT_ERROR; }
    if (ae_model_save(m, path, &err) != 0) {
        free(rows);
        return cli_fail(EXIT_ERROR, "train", "%s", err.msg);
    }
    join_path(path, sizeof path, s->out, "reconstructions.png");
    if (write_reconstructions(m, test, path, s->opt.threads) != 0) { free(rows); return EXIT_ERROR; }
    print_done(&r, seconds, test->n < RECON_COUNT ? test->n : RECON_COUNT);
    free(rows);
    return EXIT_OK;
}

int cmd_train(int argc, char **argv)
{
    args a;
    int rc = args_parse(&a, &train_command, argc, argv);
    if (rc) return rc;
    if (a.help) { args_print_help(&train_command, stdout); return EXIT_OK; }
    train_settings s;
    if ((rc = read_settings(&a, &s))) return rc;

    struct stat st;
    if (stat(s.out, &st) == 0 && !S_ISDIR(st.st_mode))
        return cli_fail(EXIT_ERROR, "train", "--out %s: exists and is not a folder", s.out);

    ae_model *m = NULL;
    ae_dataset *train = NULL, *test = NULL;
    if ((rc = build_model(s.model, &m))) return rc;
    s.opt.init_weights = 1;                 /* ae_train initialises from --seed */

    if ((rc = open_split(s.data, AE_SPLIT_TRAIN, s.limit, m, &train)) == 0 &&
        (rc = open_split(s.data, AE_SPLIT_TEST, s.val_limit, m, &test)) == 0 &&
        (rc = store_settings(m, &s, train, test)) == 0 &&
        (rc = make_dirs(s.out)) == 0) {
        print_start(&s, m, train, test);
        rc = run_training(m, train, test, &s);
    }
    if (test) ae_dataset_free(test);
    if (train) ae_dataset_free(train);
    ae_model_free(m);
    return rc;
}
