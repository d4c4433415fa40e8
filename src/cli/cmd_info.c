/* aekit info: what a model file holds: shapes, layers, training settings. */
#include "cli.h"
#include "aekit/pictures.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const arg_flag info_flags[] = { { NULL, NULL, NULL, NULL, 0, 0, 0 } };

const arg_command info_command = {
    .name = "info",
    .summary = "describe a model file: parameters, shapes, layers, how it was trained",
    .usage = "aekit info MODEL",
    .positional = "MODEL",
    .flags = info_flags,
    .examples = "  aekit info runs/conv/model.safetensors\n",
};

/* The metadata aekit train writes, in the order shown, with their labels. */
static const char *const meta_keys[][2] = {
    { "aekit.train.model",        "model" },
    { "aekit.train.task",         "task" },
    { "aekit.train.noise",        "input noise" },
    { "aekit.train.scale",        "scale" },
    { "aekit.train.latent",       "latent" },
    { "aekit.train.loss",         "loss" },
    { "aekit.train.init",         "initial weights" },
    { "aekit.train.data",         "data" },
    { "aekit.train.train_images", "training images" },
    { "aekit.train.val_images",   "validation images" },
    { "aekit.train.epochs",       "epochs" },
    { "aekit.train.batch",        "batch" },
    { "aekit.train.optimizer",    "optimizer" },
    { "aekit.train.lr",           "learning rate" },
    { "aekit.train.seed",         "seed" },
    { "aekit.result.epochs",      "epochs done" },
    { "aekit.result.train_loss",  "train loss" },
    { "aekit.result.val_loss",    "val loss" },
    { "aekit.result.val_mse",     "val mse" },
    { "aekit.result.val_recon",   "val recon" },
    { "aekit.result.val_kl",      "val kl" },
    { "aekit.result.disc_accuracy", "disc accuracy" },
    { "aekit.result.seconds",     "training seconds" },
    { "aekit.version",            "written by aekit" },
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
    if ((rc = cli_load_model("info", path, &m))) return rc;

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
    printf("\nlayers:\n");
    print_summary(m);

    int shown = 0;
    for (size_t i = 0; i < sizeof meta_keys / sizeof meta_keys[0]; i++) {
        const char *v = ae_model_meta(m, meta_keys[i][0]);
        if (!v) continue;
        if (!shown++) printf("\ntraining:\n");
        printf("  %-18s %s\n", meta_keys[i][1], cli_text(v));
    }
    if (!shown) printf("\ntraining: not recorded in this file\n");
    /* anything else the file carries (written by other tools or later versions) */
    int other = 0;
    for (int i = 0; i < ae_model_meta_count(m); i++) {
        const char *k, *v;
        ae_model_meta_at(m, i, &k, &v);
        int known = 0;
        for (size_t j = 0; j < sizeof meta_keys / sizeof meta_keys[0]; j++)
            if (strcmp(k, meta_keys[j][0]) == 0) known = 1;
        if (known) continue;
        if (!other++) printf("\nother metadata:\n");
        char value[204];
        cli_escape(value, sizeof value, v);     /* long values are cut: "..." */
        printf("  %-18s %s\n", cli_text(k), value);
    }
    ae_model_free(m);
    return EXIT_OK;
}
