/* aekit train: trains a model on a data set and fills a run folder with the
 * model, the metrics per epoch, the loss curves and the lesson's pictures
 * for the model kind, and an index.html showing them (train.h: the files
 * this command is made of). */
#define _POSIX_C_SOURCE 200809L
#include "train.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A finished run's checkpoint, once its model is saved: the run's final
 * state when it checkpoints at intervals (ae_train writes one at the end),
 * kept as final-checkpoint.safetensors; otherwise removed (with an older
 * final checkpoint: the run is past it). */
static void keep_final_checkpoint(const train_settings *s)
{
    char final[4200];
    ae_run_path(final, sizeof final, s->out, AE_RUN_FINAL_CHECKPOINT);
    if (s->opt.checkpoint_steps > 0 || s->opt.checkpoint_epochs > 0) {
        if (rename(s->checkpoint, final) == 0) return;
        fprintf(stderr, "aekit train: could not keep %s as %s (%s): the run cannot be extended\n",
                s->checkpoint, final, strerror(errno));
    }
    remove(s->checkpoint);
    remove(final);
}

/* Before the model is saved: index.html, the mark of a folder all drawn,
 * goes (an extended run's is the shorter run's), so that a stop or a
 * failure after the save leaves a folder --resume finishes (finish_run),
 * not one it takes for finished. A new run's folder has none. */
static int remove_index(const train_settings *s, int have_ckpt)
{
    char index[4200];
    ae_run_path(index, sizeof index, s->out, AE_RUN_INDEX);
    if (unlink(index) == 0 || errno == ENOENT) return EXIT_OK;   /* a folder there stays */
    return cli_fail(EXIT_ERROR, "train", "%s: cannot remove it before the model is saved: %s%s%s", index,
                    strerror(errno), have_ckpt ? "; the checkpoint is kept: " : "", have_ckpt ? s->checkpoint : "");
}

int train_run_training(ae_model *m, const ae_dataset *train, const ae_dataset *test,
                       const train_settings *s, ae_train_state *resume)
{
    train_run r;
    char title[512], path[4200];
    double *rows = train_run_start(&r, s, m, s->opt.epochs, title, sizeof title);
    if (!rows) return EXIT_ERROR;
    double seconds_before = 0;
    if (resume) {                           /* the finished epochs' reports */
        ae_train_position pos;
        ae_train_state_position(resume, &pos);
        for (int e = 0; e < pos.epochs_done && e < r.epochs; e++) {
            for (int k = 0; k < AE_EPOCH_METRICS; k++) r.metric[k][e] = ae_epoch_metric_get(k, &pos.history[e]);
            r.done = e + 1;
        }
        seconds_before = pos.seconds;
        r.last_epoch = pos.epoch;
        r.last_step = pos.step;
        r.steps = pos.steps;
    }

    struct sigaction old_sa[2];
    train_catch_stops(old_sa);
    ae_error err = {{0}};
    double start = cli_now();
    int alone = !s->ranks || s->ranks->size == 1;   /* the ranks calls: ae_train(_resume) when alone */
    ae_progress_fn cb = alone || s->ranks->rank == 0 ? train_on_progress : train_on_progress_quiet;
    int rc = resume ? ae_train_resume_ranks(m, train, test, &s->opt, resume, s->ranks, cb, &r, &err)
                    : ae_train_ranks(m, train, test, &s->opt, s->ranks, cb, &r, &err);
    double seconds = seconds_before + (cli_now() - start);
    train_clear_bar(&r);
    if (!alone && s->ranks->rank > 0) {   /* rank 0 reports and writes the run folder */
        train_restore_stops(old_sa);
        free(rows);
        return rc ? EXIT_ERROR : EXIT_OK;
    }

    int status = EXIT_OK;
    struct stat ck;
    int have_ckpt = stat(s->checkpoint, &ck) == 0;
    const char *sig = train_interrupted == SIGTERM ? "SIGTERM" : "Ctrl-C";
    char shown[sizeof err.msg + 64];
    cli_option_flags(shown, sizeof shown, err.msg);     /* "option lr": --lr */
    if (rc != 0)
        status = cli_fail(EXIT_ERROR, "train", "%s%s%s%s%s", train_interrupted ? sig : "",
                          train_interrupted ? ": stopped, but " : "", shown,
                          have_ckpt ? "; the last checkpoint is kept: " : "",
                          have_ckpt ? s->checkpoint : "");
    else if (r.write_failed)
        status = cli_fail(EXIT_ERROR, "train", "%s%s%s", r.err.msg,
                          have_ckpt ? "; checkpoint kept: resume with aekit train --resume " : "",
                          have_ckpt ? s->out : "");
    else if (r.done < r.epochs && train_interrupted)  /* all epochs done: a finished run */
        status = cli_fail(128 + train_interrupted, "train", "%s: stopped at epoch %d/%d, step %d/%d; checkpoint "
                          "written, resume with: aekit train --resume %s", sig, r.last_epoch, r.epochs,
                          r.last_step, r.steps, s->out);
    else if (r.done == 0)
        status = cli_fail(EXIT_ERROR, "train", "training finished without completing an epoch");
    /* the model first: it and metrics.csv are all that --resume needs to
     * finish the folder, so the checkpoint goes once the model is saved:
     * with checkpoint intervals it holds the run's final state and becomes
     * final-checkpoint.safetensors, from which --resume DIR --epochs N
     * extends the run (docs/cli.md); without, it is removed */
    ae_run_path(path, sizeof path, s->out, AE_RUN_MODEL);
    if (status == EXIT_OK && train_store_results(m, &r) != 0) status = EXIT_ERROR;
    if (status == EXIT_OK) status = remove_index(s, have_ckpt);
    if (status == EXIT_OK && ae_model_save(m, path, &err) != 0)
        status = cli_fail(EXIT_ERROR, "train", "%s%s%s", err.msg,
                          have_ckpt ? "; the checkpoint is kept: " : "", have_ckpt ? s->checkpoint : "");
    else if (status == EXIT_OK) {
        keep_final_checkpoint(s);
        status = train_write_results(m, test, s, &r, seconds);
    }
    train_restore_stops(old_sa);
    free(rows);
    return status;
}

/* The run folder before the model and data are loaded (rank 0 alone). */
static int check_out_folder(const train_settings *s, int force, run_lock *lock)
{
    struct stat st;
    int rc, have_dir = stat(s->out, &st) == 0;
    if (have_dir && !S_ISDIR(st.st_mode))
        return cli_fail(EXIT_ERROR, "train", "--out %s: exists and is not a folder", s->out);
    if ((rc = train_check_run_files(s, "--out"))) return rc;
    if (have_dir && (rc = train_claim_out_folder(s, force, lock))) return rc;
    return 0;
}

/* The run folder made, claimed and emptied of an earlier run's files (rank 0 alone). */
static int make_out_folder(const train_settings *s, int force, run_lock *lock)
{
    int rc;
    if ((rc = cli_make_dirs("train", s->out)) || (rc = train_claim_out_folder(s, force, lock)) ||
        (force && (rc = run_files_remove(s->out))) || (rc = train_check_writable(s->out)))
        return rc;
    run_remove_temps(s->out);            /* a killed run's; the lock says no one is writing them */
    return 0;
}

static int new_training(const args *a, train_settings *given, run_lock *lock)
{
    train_settings s = *given;
    int rc, force = args_given(a, "force");
    int lead = !s.ranks || s.ranks->rank == 0;   /* rank 0 (or alone): writes the run folder */
    s.preset = train_preset_for(&s);
    ae_run_path(s.checkpoint, sizeof s.checkpoint, s.out, AE_RUN_CHECKPOINT);
    s.opt.checkpoint = s.checkpoint;
    if (lead && (rc = check_out_folder(&s, force, lock))) return rc;

    ae_model *m = NULL;
    ae_dataset *train = NULL, *test = NULL;
    if (s.model && (rc = train_build_model(&s, &m))) return rc;
    if (s.init && (rc = train_load_init(&s, &m))) return rc;
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
            return cli_fail(EXIT_ERROR, "train", "--recon %s: %s", train_recon_names[s.recon], err.msg);
        }
    }
    s.opt.init_weights = s.init ? 0 : 1;    /* ae_train initialises from --seed */
    ae_error why = {{0}};
    if (ae_train_options_check_model(&s.opt, m, &why) != 0) {   /* --beta, --reg-lr: before any file */
        char shown[sizeof why.msg + 64];
        cli_option_flags(shown, sizeof shown, why.msg);       /* "option beta": --beta */
        ae_model_free(m);
        return cli_fail(EXIT_USAGE, "train", "%s (%s)", shown, s.label);
    }

    if ((rc = train_open_split(s.data, AE_SPLIT_TRAIN, s.limit, m, &train)) == 0 &&
        (rc = train_open_split(s.data, AE_SPLIT_TEST, s.val_limit, m, &test)) == 0 &&
        (rc = train_store_settings(m, &s, train, test)) == 0 &&
        (!lead || (rc = make_out_folder(&s, force, lock)) == 0) &&
        (rc = train_ranks_ready(s.ranks, 0)) == 0) {
        if (lead) {
            args_print_notes();
            train_print_start(&s, m, train, test);
        }
        rc = train_run_training(m, train, test, &s, NULL);
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
    ae_ranks ranks;
    if ((rc = train_ranks_start(&ranks))) return rc;
    train_settings s;
    run_lock lock = RUN_LOCK_NONE;
    if ((rc = train_read_settings(&a, &s)) == 0) {
        s.ranks = &ranks;
        if (s.resume && args_given(&a, "force"))
            rc = cli_fail(EXIT_USAGE, "train", "--force: only for a new run (--resume goes on with the run "
                          "in its folder)");
        else
            rc = s.resume ? train_resume(&a, &s, &lock) : new_training(&a, &s, &lock);
    }
    rc = train_ranks_ready(&ranks, rc);   /* a rank that failed before training stops them all */
    run_lock_release(&lock);
    train_ranks_end(&ranks);
    return rc;
}
