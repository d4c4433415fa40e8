/* aekit train's flags: the flag table, the help, and reading the flags
 * into the settings of a run. */
#define _POSIX_C_SOURCE 200809L
#include "train.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECKPOINT_EVERY_MAX 1000000000   /* steps or epochs between checkpoints */

const char *const train_task_names[] = { "reconstruct", "denoise", NULL };
const char *const train_recon_names[] = { "sse", "bce", NULL };
static const char *const scale_names[] = { "2", "4", NULL };

/* OPTION_ROW: a training option's flag, its row (metavar, default, help,
 * range) from the library's options table (aekit.h). A table row with a
 * flag that is not listed here is added at the end: a new option needs no
 * edit here. --threads, --noise and --checkpoint-every have rows of their
 * own (the threaded commands' shared --threads, a default that depends on
 * --task, one flag for two options). */
#define OPTION_ROW(flag) { flag, NULL, NULL, NULL, 0, 0, 0 }
static const arg_flag train_rows[] = {
    { "model",     "NAME|FILE", "the --init model's", "model preset or model description file (required unless --init)", 0, 0, 0 },
    { "data",      "NAME|DIR",  NULL, "data set name (mnist, fashion-mnist, cifar10) or folder of IDX files, CIFAR-10 batches or images", 1, 0, 0 },
    { "out",       "DIR",       NULL, "run folder, created if missing", 1, 0, 0 },
    OPTION_ROW("epochs"),
    OPTION_ROW("batch"),
    OPTION_ROW("lr"),
    OPTION_ROW("optimizer"),
    OPTION_ROW("seed"),
    ARGS_FLAG_THREADS,
    { "limit",     "N",         "all", "train on the first N training images only", 0, 1, INT_MAX },
    { "val-limit", "N",         "all", "validate on the first N test images only (faster epochs)", 0, 1, INT_MAX },
    { "task",      "NAME",      "reconstruct", "reconstruct, or denoise (noisy input, clean target)", 0, 0, 0 },
    { "noise",     "SPEC",      DENOISE_NOISE " with --task denoise", "input corruption: gaussian:MEAN,STD, saltpepper:P or none", 0, 0, 0 },
    { "scale",     "N",         "2",   "--model sr: upscaling factor, 2 (14->28) or 4 (7->28, preset sr4)", 0, 0, 0 },
    { "latent",    "N",         "the model's", "latent size (presets vae, conv-vae, cvae, aae; --model conv becomes conv-latent)", 0, 1, AE_MAX_LATENT },
    { "recon",     "NAME",      "the model's (vae: sse)", "VAE reconstruction loss: sse, or bce (summed per image)", 0, 0, 0 },
    { "init",      "MODEL",     NULL,  "start from this trained model's weights (same architecture)", 0, 0, 0 },
    OPTION_ROW("clip-grad"),
    { "checkpoint-every", "N|Ne", "1e", "write DIR/checkpoint.safetensors every N steps, or every N epochs (2e); 0: only when stopped", 0, 0, CHECKPOINT_EVERY_MAX },
    { "resume",    "DIR",       NULL,  "continue the run in DIR from its checkpoint, with its stored settings", 0, 0, 0 },
    { "force",     NULL,        NULL,  "start over in a --out folder holding an earlier run: its files are removed first", 0, 0, 0 },
};
enum { TRAIN_ROWS = (int)(sizeof train_rows / sizeof train_rows[0]) };

/* train_rows with the options table's rows filled in (train_flags_build);
 * table_row[i]: the option flag i reads by itself, or NULL. */
static arg_flag train_flags[ARGS_MAX_FLAGS + 1];
static const ae_train_option *table_row[ARGS_MAX_FLAGS + 1];

static void set_from_table(arg_flag *f, const ae_train_option *r)
{
    *f = (arg_flag){ r->flag, r->metavar, r->def_text, r->help, 0, 0, 0 };
    if (r->type != AE_OPTION_CHOICE && r->type != AE_OPTION_NOISE && r->type != AE_OPTION_SCHEDULE) {
        f->min = r->min;
        f->max = r->max;
    }
}

static void train_flags_build(void)
{
    int n = 0, nrows;
    for (int i = 0; i < TRAIN_ROWS && n < ARGS_MAX_FLAGS; i++, n++) {
        train_flags[n] = train_rows[i];
        table_row[n] = NULL;
        if (train_rows[i].help) continue;
        table_row[n] = ae_train_option_find(train_rows[i].name);
        set_from_table(&train_flags[n], table_row[n]);
    }
    const ae_train_option *rows = ae_train_options_table(&nrows);
    for (int i = 0; i < nrows && n < ARGS_MAX_FLAGS; i++) {
        int listed = !rows[i].flag;
        for (int k = 0; k < n && !listed; k++) listed = strcmp(train_flags[k].name, rows[i].flag) == 0;
        if (listed) continue;
        table_row[n] = &rows[i];
        set_from_table(&train_flags[n++], &rows[i]);
    }
    train_flags[n] = (arg_flag){ NULL, NULL, NULL, NULL, 0, 0, 0 };
}

/* "  metrics.csv" and metrics.csv's columns (aekit/epoch_metrics.h), wrapped
 * under themselves to stay within the help's width. */
static void print_metrics_columns(FILE *out)
{
    enum { INDENT = 23, WIDTH = 90 };
    char header[512];
    ae_metrics_csv_header(header, sizeof header);
    fprintf(out, "  %-20s ", "metrics.csv");
    int col = INDENT;
    for (const char *name = header; *name;) {
        const char *comma = strchr(name, ',');
        int len = comma ? (int)(comma - name + 1) : (int)strlen(name);
        if (col + len > WIDTH && col > INDENT) {
            fprintf(out, "\n%*s", INDENT, "");
            col = INDENT;
        }
        fprintf(out, "%.*s", len, name);
        col += len;
        name += len;
    }
    fputc('\n', out);
}

static void train_more_help(FILE *out)
{
    fprintf(out, "model presets:");
    for (const char *const *p = ae_model_presets(); p && *p; p++) fprintf(out, " %s", *p);
    fprintf(out, "\n\nwrites into DIR:\n"
                 "  model.safetensors    the trained model, with the training settings\n");
    print_metrics_columns(out);
    fprintf(out, "  loss.png             training and validation loss per epoch\n"
                 "  reconstructions.png  10 test images over their reconstructions (denoise: noisy /\n"
                 "                       denoised / clean; sr: low-res / upscaled / original)\n"
                 "  samples.png          64 decoded random latents (8x8)\n"
                 "  codes.png            10 test images and their latent codes drawn as images\n"
                 "  latent.png           test-set codes coloured by label (PCA for latents > 2)\n"
                 "  manifold.png         2-D latents only: a 10x10 sweep of the latent plane\n"
                 "  index.html           one page showing all of the above\n"
                 "  checkpoint.safetensors  while training: the state to resume from (once the\n"
                 "                       model is saved: final-checkpoint.safetensors, from\n"
                 "                       which --resume DIR --epochs N extends the run)\n"
                 "metrics.csv and loss.png are rewritten after every epoch. Ctrl-C or SIGTERM\n"
                 "stops after the current step, writes the checkpoint and exits 130 (143 for\n"
                 "SIGTERM); aekit train --resume DIR goes on, bit-identical to an unbroken run.\n"
                 "The model is saved first after training. Stopped (or failing) after that,\n"
                 "without all the pictures, a run is finished by aekit train --resume DIR from\n"
                 "model.safetensors and metrics.csv (no more training).\n"
                 "--early-stop N ends the run after N epochs in a row without a strictly lower\n"
                 "val loss; --keep best saves the best epoch's weights (the default, last, the\n"
                 "last epoch's). --resume DIR --epochs N (more than the run's) extends a run.\n"
                 "One aekit train at a time uses a folder (DIR/.aekit.lock while it runs); a\n"
                 "new run refuses a folder holding files of an earlier run unless --force,\n"
                 "which removes the earlier run's files above (and nothing else) first.\n"
                 "The lesson trains the VAE with RMSprop: --optimizer rmsprop.\n");
}

const arg_command train_command = {
    .name = "train",
    .summary = "train an autoencoder on a data set of images",
    .usage = "aekit train --model NAME|FILE --data NAME|DIR --out DIR [flags]\n"
             "       aekit train --resume DIR [--epochs N] [--early-stop N] [--threads N]\n"
             "                   [--checkpoint-every N|Ne]",
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
    .prepare = train_flags_build,
};

static int is_preset(const char *name)
{
    for (const char *const *p = ae_model_presets(); p && *p; p++)
        if (strcmp(*p, name) == 0) return 1;
    return 0;
}

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

/* The flags that read one option each (table_row), by the option's type;
 * the option's default when not given. */
static int read_option_flags(const args *a, ae_train_options *o)
{
    int rc = 0;
    for (int i = 0; train_flags[i].name && rc == 0; i++) {
        const ae_train_option *r = table_row[i];
        if (!r) continue;
        void *p = (char *)o + r->offset;
        switch (r->type) {
        case AE_OPTION_INT:    rc = args_int(a, r->flag, *(int *)p, (int *)p); break;
        case AE_OPTION_DOUBLE: rc = args_number(a, r->flag, *(double *)p, (double *)p); break;
        case AE_OPTION_U64:    rc = args_u64(a, r->flag, *(uint64_t *)p, (uint64_t *)p); break;
        case AE_OPTION_CHOICE: rc = args_choice(a, r->flag, r->choices, *(int *)p, (int *)p); break;
        case AE_OPTION_NOISE: {          /* (--noise itself has its own row: its default
                                           * depends on --task) */
            const char *text = NULL;
            args_string(a, r->flag, NULL, &text);
            if (text) rc = cli_parse_noise("train", "--noise", text, (ae_noise *)p);
            break;
        }
        case AE_OPTION_SCHEDULE: {
            const char *text = NULL;
            ae_error e = {{0}};
            args_string(a, r->flag, NULL, &text);
            if (text && ae_train_option_parse(r, text, AE_OPTION_TEXT_SHORT, o, &e))
                rc = cli_fail(EXIT_USAGE, "train", "--%s: %s", r->flag, e.msg);
            break;
        }
        }
    }
    return rc;
}

int train_read_settings(const args *a, train_settings *s)
{
    int rc, scale;
    const char *noise = NULL, *every = NULL;
    memset(s, 0, sizeof *s);
    ae_train_options_default(&s->opt);
    if ((rc = args_string(a, "resume", NULL, &s->resume)) ||
        (rc = args_string(a, "model", NULL, &s->model)) ||
        (rc = (s->resume ? args_string(a, "data", NULL, &s->data) : args_required(a, "data", &s->data))) ||
        (rc = (s->resume ? args_string(a, "out", NULL, &s->out) : args_required(a, "out", &s->out))) ||
        (rc = read_option_flags(a, &s->opt)) ||
        (rc = args_threads(a, s->opt.threads, &s->opt.threads)) ||
        (rc = args_int(a, "limit", 0, &s->limit)) ||
        (rc = args_int(a, "val-limit", 0, &s->val_limit)) ||
        (rc = args_choice(a, "task", train_task_names, TASK_RECONSTRUCT, &s->task)) ||
        (rc = args_string(a, "noise", NULL, &noise)) ||
        (rc = args_choice(a, "scale", scale_names, -1, &scale)) ||
        (rc = args_int(a, "latent", 0, &s->latent)) ||
        (rc = args_choice(a, "recon", train_recon_names, -1, &s->recon)) ||
        (rc = args_string(a, "init", NULL, &s->init)) ||
        (rc = args_string(a, "checkpoint-every", "1e", &every)) ||
        (rc = parse_every(every, &s->opt)))
        return rc;
    s->scale = scale < 0 ? 0 : atoi(scale_names[scale]);
    if (s->resume) {                 /* the rest comes from the checkpoint */
        /* a --noise given is compared with the run's */
        if (noise && (rc = cli_parse_noise("train", "--noise", noise, &s->noise))) return rc;
        s->opt.noise = s->noise;
        return 0;
    }
    if (!s->model && !s->init)
        return cli_fail(EXIT_USAGE, "train", "--model NAME|FILE is required (a preset or a model "
                        "description file), unless --init MODEL gives the architecture");
    if (s->scale && (!s->model || strcmp(s->model, "sr") != 0))
        return cli_fail(EXIT_USAGE, "train", "--scale: only with --model sr (the super-resolution preset)");
    if (noise && s->task != TASK_DENOISE)
        return cli_fail(EXIT_USAGE, "train", "--noise: only with --task denoise");
    /* what one flag cannot check alone (the library checks it too, later) */
    if (s->opt.lr_schedule.kind == AE_LR_COSINE && s->opt.lr_schedule.min_lr > s->opt.lr)
        return cli_fail(EXIT_USAGE, "train", "--lr-schedule: the cosine floor %g is above the learning rate "
                        "(--lr %g)", s->opt.lr_schedule.min_lr, s->opt.lr);
    if ((rc = cli_parse_noise("train", "--noise", noise ? noise : s->task == TASK_DENOISE ? DENOISE_NOISE : "none",
                              &s->noise)))
        return rc;
    s->opt.noise = s->noise;
    return 0;
}

/* The preset --model names after --scale and --latent, or NULL for a file. */
const char *train_preset_for(const train_settings *s)
{
    if (!s->model || !is_preset(s->model)) return NULL;
    if (strcmp(s->model, "sr") == 0 && s->scale == 4) return "sr4";
    if (strcmp(s->model, "conv") == 0 && s->latent > 0) return "conv-latent";
    return s->model;
}
