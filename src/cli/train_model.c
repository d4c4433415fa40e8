/* aekit train's model: built from --model (a preset or a description
 * file) or taken from --init, and the settings and results it records in
 * its metadata. */
#define _POSIX_C_SOURCE 200809L
#include "train.h"
#include "aekit/run_folder.h"
#include "aekit/files.h"
#include "aekit/pictures.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Builds the model named by --model: a preset or a description file. */
int train_build_model(const train_settings *s, ae_model **out)
{
    return cli_build_model("train", s->model, train_preset_for(s), s->latent, out);
}

/* --init: the trained model to continue from, checked against --model. */
int train_load_init(const train_settings *s, ae_model **m)
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

int train_open_split(const char *data, ae_split split, int limit, const ae_model *m,
                     ae_dataset **out)
{
    return cli_open_data("train", data, split, limit, m, NULL, out);
}

int train_store_settings(ae_model *m, const train_settings *s, const ae_dataset *train,
                         const ae_dataset *test)
{
    ae_error err = {{0}};
    ae_train_options opt = s->opt;
    /* under mpirun the run splits its batches as one process with ranks x
     * threads threads would, and gives that process's bits: its count */
    if (s->ranks && s->ranks->size > 1) opt.threads = s->ranks->size * ae_threads_resolve(opt.threads);
    ae_run_names names = { .model = s->label, .data = s->data, .init = s->init,
                           .task = s->task == TASK_DENOISE ? "denoise"
                                 : ae_model_is_upscaler(m) ? "upscale" : "reconstruct" };
    if (ae_run_store_settings(m, &opt, &names, train, test, &err) != 0)
        return cli_fail(EXIT_ERROR, "train", "%s", err.msg);
    return 0;
}

int train_store_results(ae_model *m, const train_run *r)
{
    ae_error err = {{0}};
    if (ae_run_store_results(m, r->metric, r->done, &err) != 0)
        return cli_fail(EXIT_ERROR, "train", "%s", err.msg);
    return 0;
}
