/* aekit train --resume DIR: goes on with a run from its checkpoint, or
 * finishes the folder of a run whose training is done; the flags given
 * with --resume may only repeat the run's settings. */
#define _POSIX_C_SOURCE 200809L
#include "train.h"
#include "aekit/files.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* A usage error for a flag given with --resume whose value is not the run's. */
static int conflict(const train_settings *s, const args *a, const char *flag, const char *stored)
{
    const char *given = NULL;
    args_string(a, flag, NULL, &given);
    return cli_fail(EXIT_USAGE, "train", "--resume %s: --%s %s conflicts with the run's %s (a resumed "
                    "run keeps the settings it was started with: leave --%s out)", s->resume, flag,
                    given ? given : "", stored, flag);
}

/* Checks the flags given with --resume against the run's settings: the
 * options as `form` writes them (EXACT from a checkpoint, SHORT from a
 * model's metadata), those of the table rows set in `known` (bit i: row
 * i; a model's metadata may lack one). */
static int check_resume_flags(const args *a, const train_settings *given, const train_settings *run,
                              const ae_model *m, ae_option_text form, unsigned long long known)
{
    char buf[256];
    const ae_train_options *g = &given->opt, *o = &run->opt;
    ae_train_options zero;
    memset(&zero, 0, sizeof zero);
    if (args_given(a, "model")) {
        const char *p = train_preset_for(given);
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
    /* the options a resumed run keeps, compared as `form` writes them */
    int nrows;
    const ae_train_option *rows = ae_train_options_table(&nrows);
    for (int i = 0; i < nrows; i++) {
        const ae_train_option *r = &rows[i];
        if (r->resume != AE_RESUME_SAME || !r->flag || !args_given(a, r->flag) || !(known & (1ull << i)) ||
            ae_train_option_equal(r, g, o, form))
            continue;
        /* the run's value as people write it; exact when that reads the same */
        char shown[300], given_text[128];
        ae_train_option_format(r, o, AE_OPTION_TEXT_SHORT, buf, sizeof buf);
        ae_train_option_format(r, g, AE_OPTION_TEXT_SHORT, given_text, sizeof given_text);
        if (strcmp(buf, given_text) == 0) ae_train_option_format(r, o, AE_OPTION_TEXT_EXACT, buf, sizeof buf);
        if (r->flags & AE_OPTION_ZERO_OFF && ae_train_option_equal(r, o, &zero, AE_OPTION_TEXT_EXACT))
            snprintf(shown, sizeof shown, "(%s)", r->zero_means);
        else
            snprintf(shown, sizeof shown, "%s", buf);
        return conflict(given, a, r->flag, shown);
    }
    if (args_given(a, "task") && given->task != run->task)
        return conflict(given, a, "task", train_task_names[run->task]);
    const char *scale = ae_model_meta(m, "aekit.train.scale");
    if (args_given(a, "scale") && (!scale || atoi(scale) != given->scale))
        return conflict(given, a, "scale", scale ? scale : "?");
    snprintf(buf, sizeof buf, "%zu", ae_model_latent_size(m));
    if (args_given(a, "latent") && (size_t)given->latent != ae_model_latent_size(m))
        return conflict(given, a, "latent", buf);
    if (args_given(a, "recon") &&
        (given->recon == 0 ? AE_LOSS_SSE : AE_LOSS_BCE_SUM) != ae_model_loss(m))
        return conflict(given, a, "recon", ae_loss_name(ae_model_loss(m)));
    if (args_given(a, "init") && strcmp(given->init, run->init ? run->init : "none") != 0)
        return conflict(given, a, "init", run->init ? run->init : "(none)");
    return 0;
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

/* The epochs of a resumed run (`run`: the stored options; `opt`: with the
 * flags given): --epochs may add epochs, not drop them; a finished run
 * (`extending`: from its final checkpoint) goes on only when the flags
 * give it more to do (`state` is read only then). */
static int check_extension(const train_settings *given, const ae_train_options *run, const ae_train_options *opt,
                           const ae_train_state *state, int extending)
{
    if (opt->epochs < run->epochs)
        return cli_fail(EXIT_USAGE, "train", "--resume %s: --epochs %d is fewer than the run's %d (a resumed "
                        "run may add epochs, not drop them)", given->resume, opt->epochs, run->epochs);
    if (!extending || !ae_train_state_finished(state, opt)) return 0;
    ae_train_position pos;
    ae_train_state_position(state, &pos);
    if (pos.epoch > opt->epochs)
        return cli_fail(EXIT_ERROR, "train", "--resume %s: the run is finished: all its %d epochs were done; "
                        "--epochs N with N above %d extends it", given->resume, run->epochs, run->epochs);
    int best = ae_train_state_best_epoch(state);
    return cli_fail(EXIT_ERROR, "train", "--resume %s: the run stopped early after epoch %d (--early-stop %d: no "
                    "val loss below epoch %d's); a larger --early-stop, or 0 (off), lets it go on",
                    given->resume, pos.epochs_done, opt->early_stop, best);
}

/* aekit train --resume DIR on a folder whose training is done: the model
 * is saved, with the run's settings in its metadata, and metrics.csv holds
 * its epochs, but a stop or a failed write came before the pictures and
 * index.html were all written. Draws them from those two files; nothing is
 * trained and the model stays as it is (more --epochs or another
 * --early-stop: refused, the folder is finished first). The lock is held. */
static int finish_run(const args *a, const train_settings *given)
{
    train_settings s = *given, run;
    s.out = given->resume;
    char model_path[4200], metrics_path[4200], loss_path[4200], title[512];
    ae_run_path(model_path, sizeof model_path, s.out, AE_RUN_MODEL);
    ae_run_path(metrics_path, sizeof metrics_path, s.out, AE_RUN_METRICS);
    ae_run_path(loss_path, sizeof loss_path, s.out, AE_RUN_LOSS_PLOT);
    ae_model *m = NULL;
    int rc = cli_load_model("train", NULL, model_path, &m);
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
    ae_train_options_default(&run.opt);
    unsigned long long known = 0;
    int nopt_rows;
    const ae_train_option *opt_rows = ae_train_options_table(&nopt_rows);
    /* a row stored only when not its default: no key is the default; but an
     * AAE of aekit 0.2 has no reg_lr and ran its regularisation phases at lr
     * (ae_run_setting_value): taken for the default here, its flags are
     * checked against 1e-4, and its training cannot go on (its checkpoint,
     * format 2 at most, is refused by name for an AAE) */
    for (int i = 0; i < nopt_rows; i++) {     /* at most AE_MAX_TRAIN_OPTIONS: bits of `known` */
        char key[128];
        snprintf(key, sizeof key, "aekit.train.%s", opt_rows[i].name);
        const char *text = opt_rows[i].flags & AE_OPTION_NO_META ? NULL : ae_model_meta(m, key);
        ae_error why = {{0}};
        if ((text && ae_train_option_parse(&opt_rows[i], text, AE_OPTION_TEXT_SHORT, &run.opt, &why) == 0) ||
            (!text && opt_rows[i].flags & AE_OPTION_META_UNLESS_DEFAULT))   /* no key: the default */
            known |= 1ull << i;
    }
    if ((rc = check_resume_flags(a, given, &run, m, AE_OPTION_TEXT_SHORT, known))) goto done;
    if (args_given(a, "epochs") && (rc = check_extension(given, &run.opt, &given->opt, NULL, 0))) goto done;
    /* more to do (--epochs, --early-stop, as look_at_folder reads them)
     * comes from the final checkpoint, once the folder is finished */
    char more[64] = "";
    if (args_given(a, "epochs") && given->opt.epochs != run.opt.epochs)
        snprintf(more, sizeof more, "--epochs %d", given->opt.epochs);
    else if (args_given(a, "early-stop") && given->opt.early_stop != run.opt.early_stop)
        snprintf(more, sizeof more, "--early-stop %d", given->opt.early_stop);
    if (more[0]) {
        char final[4200];
        struct stat st;
        ae_run_path(final, sizeof final, s.out, AE_RUN_FINAL_CHECKPOINT);
        if (stat(final, &st) == 0)
            rc = cli_fail(EXIT_ERROR, "train", "--resume %s %s: the run's %s epochs are done but not all its "
                          "pictures are drawn: finish it first with aekit train --resume %s, then extend it",
                          s.out, more, epochs, s.out);
        else
            rc = cli_fail(EXIT_ERROR, "train", "--resume %s %s: the run's %s epochs are done and %s, its final "
                          "state, is gone: it can be finished (aekit train --resume %s), not extended", s.out,
                          more, epochs, final, s.out);
        goto done;
    }
    const char *v;
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
    if ((rc = train_check_writable(s.out)) || (rc = train_check_run_files(&s, "--resume"))) goto done;

    train_run r;
    double *rows = train_run_start(&r, &s, m, atoi(epochs), title, sizeof title);
    if (!rows) { rc = EXIT_ERROR; goto done; }
    ae_dataset *test = NULL;
    if ((rc = train_read_metrics(metrics_path, &r)) == 0) {
        char kept[64];             /* the epoch the weights are from: the last, or the best */
        int e = ae_run_model_epoch(m, r.metric, r.done);
        snprintf(kept, sizeof kept, AE_METRICS_CSV_FORMAT, r.metric[AE_EPOCH_VAL_LOSS][e - 1]);
        if (strcmp(kept, val_loss) != 0)
            rc = cli_fail(EXIT_ERROR, "train", "%s: %s epoch's val_loss %s is not the model's %s (%s is not "
                          "this run's)", metrics_path, e == r.done ? "the last" : "the best", kept, val_loss,
                          metrics_path);
    }
    if (rc == 0 && (rc = train_open_split(s.data, AE_SPLIT_TEST, s.val_limit, m, &test)) == 0 &&
        test->n != s.val_limit)
        rc = cli_fail(EXIT_ERROR, "train", "--data %s: the test set has %d images, the run validated on %d",
                      s.data, test->n, s.val_limit);
    if (rc == 0) {
        double seconds = 0;
        for (int e = 0; e < r.done; e++) seconds += r.metric[AE_EPOCH_SECONDS][e];
        args_print_notes();
        fprintf(stderr, "finishing %s in %s: all %d epochs were done and the model is saved; drawing the "
                "pictures\n", cli_text(s.label), cli_text(s.out), r.done);
        struct sigaction old_sa[2];
        train_catch_stops(old_sa);
        struct stat st;
        ae_error err = {{0}};
        if (lstat(loss_path, &st) != 0 && train_write_loss_plot(&r, &err) != 0)
            rc = cli_fail(EXIT_ERROR, "train", "%s", err.msg);
        else
            rc = train_write_results(m, test, &s, &r, seconds);
        train_restore_stops(old_sa);
    }
    if (test) ae_dataset_free(test);
    free(rows);
done:
    ae_model_free(m);
    return rc;
}

/* What the run folder holds (rank 0 looks; under mpirun every rank follows). */
typedef enum { FOLDER_REFUSED, FOLDER_CHECKPOINT, FOLDER_FINAL_CHECKPOINT, FOLDER_TRAINED } resume_folder;

/* Takes the folder's lock and finds what it holds: the checkpoint of an
 * unfinished run, a finished run's final one (when the flags give it more
 * to do), or a trained run not all drawn; FOLDER_REFUSED after printing
 * why (*rc). */
static resume_folder look_at_folder(const args *a, const train_settings *given, const char *checkpoint,
                                    run_lock *lock, int *rc)
{
    struct stat st;
    if (stat(given->resume, &st) == 0 && S_ISDIR(st.st_mode) &&
        (*rc = run_lock_take(lock, "--resume", given->resume)))
        return FOLDER_REFUSED;
    if (stat(checkpoint, &st) == 0) return FOLDER_CHECKPOINT;
    int e = errno;
    char model[4200], index[4200], final[4200];
    ae_run_path(model, sizeof model, given->resume, AE_RUN_MODEL);
    ae_run_path(index, sizeof index, given->resume, AE_RUN_INDEX);
    ae_run_path(final, sizeof final, given->resume, AE_RUN_FINAL_CHECKPOINT);
    int finished = e == ENOENT && stat(model, &st) == 0 && stat(index, &st) == 0;
    int have_final = stat(final, &st) == 0;
    int more = args_given(a, "epochs") || args_given(a, "early-stop");
    if (finished && more && !have_final) {
        *rc = cli_fail(EXIT_ERROR, "train", "--resume %s: %s, the run's final state, is gone: the run "
                       "cannot be extended (train on from its weights with --init %s)",
                       given->resume, final, model);
        return FOLDER_REFUSED;
    }
    if (e == ENOENT && stat(model, &st) == 0 && stat(index, &st) != 0)
        return FOLDER_TRAINED;              /* trained and saved, not all drawn */
    if (finished && !more)
        *rc = cli_fail(EXIT_ERROR, "train", "--resume %s: the run is finished (%s and %s are written): "
                       "nothing to resume%s", given->resume, model, index,
                       have_final ? "; --epochs N, above its epochs, extends it" : "");
    else if (!finished)
        *rc = cli_fail(EXIT_ERROR, "train", "--resume %s: no checkpoint to resume from (%s: %s)",
                       given->resume, checkpoint, strerror(e));
    else
        return FOLDER_FINAL_CHECKPOINT;
    return FOLDER_REFUSED;
}

/* aekit train --resume DIR: the run's settings from its checkpoint; the
 * flags given may only repeat them (but --threads, --checkpoint-every and
 * --early-stop), or add epochs (--epochs).
 * Under mpirun rank 0 alone looks at the folder and reads the checkpoint,
 * whose bytes every rank gets (ae_checkpoint_load_ranks); each rank checks
 * the flags and its own data against it. */
int train_resume(const args *a, train_settings *given, run_lock *lock)
{
    train_settings s = *given;
    ae_run_path(s.checkpoint, sizeof s.checkpoint, given->resume, AE_RUN_CHECKPOINT);
    const ae_ranks *ranks = given->ranks;
    int lead = !ranks || ranks->rank == 0, size = ranks ? ranks->size : 1;
    int rc = 0;
    int32_t folder = lead ? look_at_folder(a, given, s.checkpoint, lock, &rc) : FOLDER_REFUSED;
    if (size > 1) ranks->broadcast(ranks->user, 0, &folder, sizeof folder);   /* rank 0's finding */
    if (folder == FOLDER_REFUSED) return rc;   /* rank 0's error (train_ranks_ready) */
    if (folder == FOLDER_TRAINED) {
        if (!lead) return 0;                /* nothing to train: rank 0 draws */
        run_remove_temps(given->resume);
        return finish_run(a, given);
    }
    /* the checkpoint of an unfinished run, or a finished run's final one */
    int extending = folder == FOLDER_FINAL_CHECKPOINT;
    char from[4200];
    if (extending)
        ae_run_path(from, sizeof from, given->resume, AE_RUN_FINAL_CHECKPOINT);
    else
        snprintf(from, sizeof from, "%s", s.checkpoint);
    if (lead) run_remove_temps(given->resume);   /* the lock says no one is writing them */
    ae_model *m = NULL;
    ae_train_state *state = NULL;
    ae_error err = {{0}};
    if (ae_checkpoint_load_ranks(from, ranks, &m, &s.opt, &state, &err) != 0)
        return cli_fail(EXIT_ERROR, "train", "--resume %s: %s", given->resume, err.msg);
    s.out = given->resume;
    if ((rc = settings_from_meta(&s, m, from))) goto done;
    s.noise = s.opt.noise;
    if ((rc = check_resume_flags(a, given, &s, m, AE_OPTION_TEXT_EXACT, ~0ull))) goto done;
    /* what a resumed run may change: the options of the flags given */
    ae_train_position pos;
    ae_train_state_position(state, &pos);
    ae_train_options stored = s.opt;
    int stored_threads = s.opt.threads, nrows;
    const ae_train_option *rows = ae_train_options_table(&nrows);
    for (int i = 0; i < nrows; i++)
        if ((rows[i].resume == AE_RESUME_MAY_CHANGE || rows[i].resume == AE_RESUME_MAY_GROW) && rows[i].flag &&
            args_given(a, rows[i].flag))
            ae_train_option_copy(&rows[i], &s.opt, &given->opt);
    if (size > 1 && !args_given(a, "threads"))   /* the recorded split, over the ranks */
        s.opt.threads = stored_threads / size > 0 ? stored_threads / size : 1;
    if ((rc = check_extension(given, &stored, &s.opt, state, extending))) goto done;
    /* the model's metadata says what the run now is (--epochs, --early-stop;
     * the thread count stays the run's, as the checkpoint keeps it apart) */
    for (int i = 0; i < nrows; i++) {
        ae_error why = {{0}};
        if (rows[i].flags & (AE_OPTION_NO_META | AE_OPTION_NO_CHECKPOINT) ||
            ae_train_option_equal(&rows[i], &s.opt, &stored, AE_OPTION_TEXT_EXACT))
            continue;
        if (ae_train_option_set_meta(m, &rows[i], &s.opt, &why)) {
            rc = cli_fail(EXIT_ERROR, "train", "%s", why.msg);
            goto done;
        }
    }
    s.opt.checkpoint = s.checkpoint;
    if (lead && ((rc = train_check_writable(s.out)) || (rc = train_check_run_files(&s, "--resume")))) goto done;
    s.limit = args_given(a, "limit") ? given->limit : pos.train_images;
    s.val_limit = args_given(a, "val-limit") ? given->val_limit : pos.val_images;

    ae_dataset *train = NULL, *test = NULL;
    if ((rc = train_open_split(s.data, AE_SPLIT_TRAIN, s.limit, m, &train)) == 0 &&
        (rc = train_open_split(s.data, AE_SPLIT_TEST, s.val_limit, m, &test)) == 0 &&
        (rc = train_ranks_ready(s.ranks, 0)) == 0) {
        char threads[128] = "";
        if (size > 1 && size * s.opt.threads != stored_threads)
            snprintf(threads, sizeof threads, " (with %d processes x %d threads instead of %d threads: no "
                     "longer bit-identical)", size, s.opt.threads, stored_threads);
        else if (size == 1 && s.opt.threads != stored_threads)
            snprintf(threads, sizeof threads, " (with %d threads instead of %d: no longer bit-identical)",
                     s.opt.threads, stored_threads);
        if (lead) {                         /* rank 0 alone prints */
            args_print_notes();
            if (s.opt.epochs > stored.epochs && s.opt.lr_schedule.kind == AE_LR_COSINE)
                fprintf(stderr, "aekit train: --lr-schedule cosine: its horizon becomes %d epochs from here on, "
                        "so the run is not the one --epochs %d from the start gives\n", s.opt.epochs, s.opt.epochs);
            if (ae_train_state_finished(state, &s.opt) && pos.epochs_done < s.opt.epochs)
                fprintf(stderr, "resuming %s in %s: early stopping ended the run after epoch %d of %d "
                        "(--early-stop %d)%s\n", cli_text(s.label), cli_text(s.out), pos.epochs_done,
                        s.opt.epochs, s.opt.early_stop, threads);
            else if (ae_train_state_finished(state, &s.opt))
                fprintf(stderr, "resuming %s in %s: all %d epochs were done%s\n", cli_text(s.label),
                        cli_text(s.out), pos.epochs_done, threads);
            else if (s.opt.epochs > stored.epochs && pos.epoch > stored.epochs)
                fprintf(stderr, "extending %s in %s from %d to %d epochs%s\n", cli_text(s.label), cli_text(s.out),
                        stored.epochs, s.opt.epochs, threads);
            else
                fprintf(stderr, "resuming %s in %s at epoch %d/%d, step %d/%d%s\n", cli_text(s.label),
                        cli_text(s.out), pos.epoch, s.opt.epochs, pos.step, pos.steps, threads);
        }
        rc = train_run_training(m, train, test, &s, state);
    }
    if (test) ae_dataset_free(test);
    if (train) ae_dataset_free(train);
done:
    ae_train_state_free(state);
    ae_model_free(m);
    return rc;
}
