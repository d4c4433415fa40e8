/* aekit info: what a model file holds: shapes, layers, training settings. */
#include "cli.h"
#include "aekit/pictures.h"
#include "aekit/run_folder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const arg_flag info_flags[] = {
    CLI_FLAGS_MODEL,
    { NULL, NULL, NULL, NULL, 0, 0, 0 }
};

const arg_command info_command = {
    .name = "info",
    .summary = "describe a model file: parameters, shapes, layers, how it was trained",
    .usage = "aekit info MODEL",
    .positional = "MODEL",
    .flags = info_flags,
    .examples = "  aekit info runs/conv/model.safetensors\n",
};

static void print_summary(const ae_model *m)
{
    char *buf = ae_model_summary_alloc(m);
    if (!buf) return;
    size_t len = strlen(buf);
    fputs(buf, stdout);
    if (len > 0 && buf[len - 1] != '\n') fputc('\n', stdout);
    free(buf);
}

int cmd_info(int argc, char **argv)
{
    args a;
    int rc = args_parse(&a, &info_command, argc, argv);
    if (rc) return rc;
    if (a.help) { args_print_help(&info_command, stdout); return EXIT_OK; }

    const char *path = a.positional[0];
    ae_model *m = NULL;
    if ((rc = cli_load_model("info", &a, path, &m))) return rc;

    int c, h, w;
    ae_model_input_shape(m, &c, &h, &w);
    printf("file        %s\n", cli_text(path));
    printf("parameters  %zu\n", ae_model_param_count(m));
    char bad[256];
    int nbad = ae_model_nonfinite_tensors(m, bad, sizeof bad);
    if (nbad)
        printf("warning     tensor%s %s hold%s NaN or infinite values\n", nbad == 1 ? "" : "s", bad,
               nbad == 1 ? "s" : "");
    printf("input       %dx%dx%d (channels x height x width)\n", c, h, w);
    printf("latent      %zu floats per image\n", ae_model_latent_size(m));
    if (ae_model_class_count(m))
        printf("classes     %d (conditional: each image's label enters one-hot at the 'condition' layers)\n",
               ae_model_class_count(m));
    printf("\nlayers:\n");
    print_summary(m);

    /* the run's settings and results (aekit/run_folder.h), in its order */
    int shown = 0;
    ae_run_setting set;
    for (int i = 0; ae_run_setting_at(i, &set); i++) {
        const char *v = ae_run_setting_value(m, &set);
        if (!v || !(set.shown & AE_SETTING_INFO)) continue;
        if (!shown++) printf("\ntraining:\n");
        printf("  %-22s %s\n", set.label, cli_text(v));
    }
    if (!shown) printf("\ntraining: not recorded in this file\n");
    /* anything else the file carries (written by other tools or later versions) */
    int other = 0;
    for (int i = 0; i < ae_model_meta_count(m); i++) {
        const char *k, *v;
        ae_model_meta_at(m, i, &k, &v);
        int known = 0;
        for (int j = 0; !known && ae_run_setting_at(j, &set); j++)
            known = (set.shown & AE_SETTING_INFO) && strcmp(k, set.key) == 0;
        if (known) continue;
        if (!other++) printf("\nother metadata:\n");
        char value[204];
        cli_escape(value, sizeof value, v);     /* long values are cut: "..." */
        printf("  %-22s %s\n", cli_text(k), value);
    }
    ae_model_free(m);
    return EXIT_OK;
}
