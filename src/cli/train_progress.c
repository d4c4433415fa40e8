/* The progress of aekit train: the run's record of its epochs, the live
 * progress bar, the line after each epoch, and the signals that stop it. */
#define _POSIX_C_SOURCE 200809L
#include "train.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

volatile sig_atomic_t train_interrupted = 0;

static const int stop_signals[2] = { SIGINT, SIGTERM };

static void on_sigint(int sig)
{
    train_interrupted = sig;
}

void train_catch_stops(struct sigaction old[2])
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

void train_restore_stops(const struct sigaction old[2])
{
    for (int i = 0; i < 2; i++) sigaction(stop_signals[i], &old[i], NULL);
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash && slash[1] ? slash + 1 : path;
}

/* The rows of a run of `epochs` epochs (r->epochs; none done yet): one
 * allocation the caller frees, or NULL after printing the error. */
double *train_run_start(train_run *r, const train_settings *s, const ae_model *m, int epochs,
                        char *title, size_t title_size)
{
    memset(r, 0, sizeof *r);
    snprintf(title, title_size, "%s on %s: loss per epoch", base_name(s->label), base_name(s->data));
    r->out_dir = s->out;
    r->title = title;
    r->loss_label = ae_run_loss_label(m);
    r->epochs = epochs;
    r->tty = isatty(STDERR_FILENO);
    r->variational = ae_model_is_variational(m);
    r->beta = s->opt.beta;
    r->adversarial = ae_model_is_adversarial(m);
    double *rows = calloc((size_t)epochs * AE_EPOCH_METRICS, sizeof *rows);
    if (!rows) {
        cli_fail(EXIT_ERROR, "train", "out of memory for %d epochs", epochs);
        return NULL;
    }
    for (int k = 0; k < AE_EPOCH_METRICS; k++) r->metric[k] = rows + (size_t)k * epochs;
    return rows;
}

void train_clear_bar(train_run *r)
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

int train_on_progress(const ae_progress *p, void *user)
{
    train_run *r = user;
    r->last_epoch = p->epoch;
    r->last_step = p->step;
    r->steps = p->steps;
    if (!p->end_of_epoch) {
        train_ranks_step_done();
        if (r->tty) {
            double now = cli_now();
            if (now - r->last_draw >= 0.1 || p->step == p->steps) {
                draw_bar(r, p);
                r->last_draw = now;
            }
        }
        return train_interrupted;
    }

    int e = p->epoch - 1;
    if (e >= 0 && e < r->epochs) {
        for (int k = 0; k < AE_EPOCH_METRICS; k++) r->metric[k][e] = ae_epoch_metric_get(k, p);
        r->done = e + 1;
    }
    char ips[32], parts[128] = "";
    train_clear_bar(r);
    if (r->variational && r->beta == 1)
        snprintf(parts, sizeof parts, " (recon %.4f, kl %.4f)", p->val_recon, p->val_kl);
    else if (r->variational)   /* val = recon + beta x kl */
        snprintf(parts, sizeof parts, " (recon %.4f + %g x kl %.4f)", p->val_recon, r->beta, p->val_kl);
    if (r->adversarial)
        snprintf(parts, sizeof parts, "  disc acc %.3f", p->disc_accuracy);
    fprintf(stderr, "epoch %d/%d  train %.4f  val %.4f%s  %.1f s  %s img/s\n", p->epoch, p->epochs,
            p->train_loss, p->val_loss, parts, p->seconds,
            cli_count(p->images_per_second, ips, sizeof ips));
    if (train_write_metrics(r, &r->err) != 0 || train_write_loss_plot(r, &r->err) != 0) {
        r->write_failed = 1;
        return 1;
    }
    /* after the last epoch a stop would only write a checkpoint (the disk
     * the model may need): the model is saved next, and a signal then
     * stops the pictures */
    return p->epoch >= p->epochs ? 0 : train_interrupted;
}

int train_on_progress_quiet(const ae_progress *p, void *user)
{
    (void)p;
    (void)user;
    return train_interrupted;
}

void train_print_start(const train_settings *s, const ae_model *m, const ae_dataset *train,
                       const ae_dataset *test)
{
    char params[32], ntrain[32], ntest[32], threads[64], extra[256] = "", optimizer[32];
    ae_train_option_format(ae_train_option_find("optimizer"), &s->opt, AE_OPTION_TEXT_SHORT, optimizer,
                           sizeof optimizer);
    if (s->opt.threads > 0) snprintf(threads, sizeof threads, "%d threads", s->opt.threads);
    else                    snprintf(threads, sizeof threads, "all cores");
    if (s->ranks && s->ranks->size > 1) {   /* under mpirun */
        char each[64];
        snprintf(each, sizeof each, "%s", threads);
        snprintf(threads, sizeof threads, "%d processes x %.20s", s->ranks->size, each);
    }
    if (s->task == TASK_DENOISE) {
        char noise[64];
        ae_noise_format(&s->noise, noise, sizeof noise);
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
            optimizer, s->opt.lr,
            (unsigned long long)s->opt.seed, threads, extra);
}
