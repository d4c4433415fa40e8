/* aekit train's model: built from --model (a preset or a description
 * file) or taken from --init, and the settings and results it records in
 * its metadata. */
#define _POSIX_C_SOURCE 200809L
#include "train.h"
#include "aekit/run_folder.h"
#include "aekit/files.h"
#include "aekit/pictures.h"
#include "aekit/text.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MODEL_TEXT_MAX (1 << 20)   /* a model description is a few lines */

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

/* Builds the model named by --model: a preset or a description file. */
int train_build_model(const train_settings *s, ae_model **out)
{
    ae_error err = {{0}};
    const char *spec = s->model;
    const char *preset = train_preset_for(s);
    if (preset) {
        if (ae_model_from_preset(out, preset, s->latent, &err) != 0)
            return cli_fail(EXIT_ERROR, "train", "%s", err.msg);
    } else {
        struct stat st;
        if (stat(spec, &st) != 0 && !strchr(spec, '/') && !strchr(spec, '.')) {
            char names[256] = "", hint[128];
            int n = 0;
            const char *const *presets = ae_model_presets();
            for (const char *const *p = presets; p && *p; p++, n++) {
                size_t used = strlen(names);
                snprintf(names + used, sizeof names - used, "%s%s", used ? ", " : "", *p);
            }
            const char *near = presets ? ae_nearest_name(spec, strlen(spec), presets, n) : NULL;
            if (near) snprintf(hint, sizeof hint, "; did you mean '%s'?", near);
            else      hint[0] = '\0';
            return cli_fail(EXIT_USAGE, "train",
                            "--model: '%s' is neither a preset (%s) nor a model description file%s",
                            spec, names, hint);
        }
        if (stat(spec, &st) == 0 && S_ISDIR(st.st_mode))
            return cli_fail(EXIT_ERROR, "train", "--model %s: is a folder, not a model description file", spec);
        char *text = NULL;
        if (read_text_file(spec, &text, &err) != 0)
            return cli_fail(EXIT_ERROR, "train", "%s", err.msg);
        int rc = ae_model_from_text(out, text, spec, s->latent, &err);
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
    ae_run_names names = { .model = s->label, .data = s->data, .init = s->init,
                           .task = s->task == TASK_DENOISE ? "denoise"
                                 : ae_model_is_upscaler(m) ? "upscale" : "reconstruct" };
    if (ae_run_store_settings(m, &s->opt, &names, train, test, &err) != 0)
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
