/* aekit scatter: the test set's codes as a scatter plot coloured by label
 * (PCA projection for latents wider than 2). */
#include "cli.h"
#include "aekit/pictures.h"

#include <stdio.h>

static const arg_flag scatter_flags[] = {
    CLI_FLAGS_MODEL,
    { "data",    "NAME|DIR", "the data set the model was trained on",
      "data set name or folder; its test split is used", 0, 0, 0 },
    { "out",     "FILE",     "latent.png", "PNG to write", 0, 0, 0 },
    { "limit",   "N",        "all", "the first N test images only", 0, 1, INT_MAX },
    ARGS_FLAG_THREADS,
    { NULL, NULL, NULL, NULL, 0, 0, 0 }
};

static void scatter_more_help(FILE *out)
{
    fprintf(out, "x = z0, y = z1 (a VAE's z_mean), one colour per label with a legend. Codes of\n"
                 "more than 2 values are projected on their first two principal components\n"
                 "(PCA of the plotted codes), and the plot says so.\n");
}

const arg_command scatter_command = {
    .name = "scatter",
    .summary = "scatter plot of the test set's latent codes, coloured by label",
    .usage = "aekit scatter MODEL [--data NAME|DIR] [--out FILE.png] [--limit N]",
    .positional = "MODEL",
    .flags = scatter_flags,
    .examples = "  aekit scatter runs/vae/model.safetensors --data mnist --out latent.png\n",
    .more_help = scatter_more_help,
};

int cmd_scatter(int argc, char **argv)
{
    args a;
    int rc = args_parse(&a, &scatter_command, argc, argv);
    if (rc) return rc;
    if (a.help) { args_print_help(&scatter_command, stdout); return EXIT_OK; }

    const char *path = a.positional[0], *data, *out;
    int limit, threads;
    if ((rc = args_string(&a, "data", NULL, &data)) ||
        (rc = args_string(&a, "out", "latent.png", &out)) ||
        (rc = args_int(&a, "limit", 0, &limit)) ||
        (rc = args_threads(&a, 0, &threads)))
        return rc;
    cli_file in[] = { { "MODEL", path, 0 } }, outs[] = { { "--out", out, 0 } };
    if ((rc = cli_check_io("scatter", in, 1, outs, 1, data))) return rc;

    ae_model *m = NULL;
    if ((rc = cli_load_model("scatter", &a, path, &m))) return rc;
    ae_dataset *test = NULL;
    if ((rc = cli_data_for("scatter", data, m, path, outs, 1, &data)) == 0 &&
        (rc = cli_open_test_set("scatter", data, limit, m, &test)) == 0) {
        size_t L = ae_model_latent_size(m);
        if (L < 2) {
            rc = cli_fail(EXIT_ERROR, "scatter", "%s: the latent has 1 value; a scatter plot needs at least 2", path);
        } else {
            char title[256];
            snprintf(title, sizeof title, "%s: latent codes of %d test images", data, test->n);
            args_print_notes();
            ae_error err = {{0}};
            rc = cli_result("scatter", ae_picture_scatter(m, test, test->n, threads, out, title, &err),
                            &err);
        }
        if (rc == 0)
            printf("%s: codes of %d test images of %s, x = %s, y = %s, coloured by %s\n", cli_text(out), test->n,
                   cli_text(data), L > 2 ? "PC1" : "z0", L > 2 ? "PC2" : "z1", test->labels ? "label" : "nothing (no labels)");
    }
    if (test) ae_dataset_free(test);
    ae_model_free(m);
    return rc;
}
