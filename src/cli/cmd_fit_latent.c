/* aekit fit-latent: fits the Gaussian of a plain autoencoder's training
 * codes that `aekit sample` draws latents from (aekit train stores it at
 * the end of a run; a model from elsewhere, e.g. PyTorch, lacks it), and
 * saves the model with it. */
#include "cli.h"

#include <stdio.h>

static const arg_flag fit_latent_flags[] = {
    CLI_FLAGS_MODEL,
    { "data",    "NAME|DIR", "the data set the model was trained on",
      "data set name or folder; the codes of its training split are fitted", 0, 0, 0 },
    { "limit",   "N",        "all", "fit on the first N training images only", 0, 2, INT_MAX },
    { "out",     "FILE",     "MODEL itself, replaced atomically", "model file to write", 0, 0, 0 },
    ARGS_FLAG_THREADS,
    { NULL, NULL, NULL, NULL, 0, 0, 0 }
};

static void fit_latent_more_help(FILE *out)
{
    fprintf(out, "Encodes the training images and stores the mean and standard deviation of\n"
                 "each code value in the model's metadata (aekit.latent.mean / aekit.latent.std),\n"
                 "as aekit train does at the end of a plain autoencoder's run. The model is\n"
                 "written whole (to a temporary file, then renamed): with --model, as an aekit\n"
                 "model file that carries its description, so later commands need no --model.\n"
                 "A VAE or an AAE samples from its prior N(0, I) and needs no fit.\n");
}

const arg_command fit_latent_command = {
    .name = "fit-latent",
    .summary = "fit the latent Gaussian that `sample` draws from (plain autoencoders)",
    .usage = "aekit fit-latent MODEL [--data NAME|DIR] [--out FILE] [--model NAME|FILE]",
    .positional = "MODEL",
    .flags = fit_latent_flags,
    .examples = "  aekit fit-latent mine.safetensors --model mine.txt --data mnist --out mine-aekit.safetensors\n"
                "  aekit sample mine-aekit.safetensors\n",
    .more_help = fit_latent_more_help,
};

int cmd_fit_latent(int argc, char **argv)
{
    args a;
    int rc = args_parse(&a, &fit_latent_command, argc, argv);
    if (rc) return rc;
    if (a.help) { args_print_help(&fit_latent_command, stdout); return EXIT_OK; }

    const char *path = a.positional[0], *data, *out;
    int limit, threads;
    if ((rc = args_string(&a, "data", NULL, &data)) ||
        (rc = args_int(&a, "limit", 0, &limit)) ||
        (rc = args_string(&a, "out", NULL, &out)) ||
        (rc = args_threads(&a, 0, &threads)))
        return rc;
    /* in place: MODEL is the output (no input to protect from it) */
    cli_file in[] = { { "MODEL", out ? path : NULL, 0 } };
    cli_file outs[] = { { out ? "--out" : "MODEL", out ? out : path, 0 } };
    if ((rc = cli_check_io("fit-latent", in, 1, outs, 1, data))) return rc;
    if (!out) out = path;

    ae_model *m = NULL;
    if ((rc = cli_load_model("fit-latent", &a, path, &m))) return rc;
    if (ae_model_is_variational(m) || ae_model_is_adversarial(m)) {
        rc = cli_fail(EXIT_ERROR, "fit-latent", "%s: a %s samples from its prior N(0, I): there is no "
                      "latent Gaussian to fit (aekit sample uses the prior)", path,
                      ae_model_is_variational(m) ? "VAE" : "AAE");
        ae_model_free(m);
        return rc;
    }
    ae_dataset *train = NULL;
    ae_error err = {{0}};
    if ((rc = cli_data_for("fit-latent", data, m, path, outs, 1, &data)) == 0 &&
        (rc = cli_open_data("fit-latent", data, AE_SPLIT_TRAIN, limit, m, NULL, &train)) == 0) {
        if (train->n < 2) {
            rc = cli_fail(EXIT_ERROR, "fit-latent", "--data %s: %d training image: a Gaussian needs at "
                          "least 2", data, train->n);
        } else {
            args_print_notes();
            rc = cli_result("fit-latent", ae_model_fit_latent(m, NULL, train, threads, &err) ||
                                              ae_model_save(m, out, &err), &err);
        }
    }
    if (rc == 0)
        printf("%s: the Gaussian of %zu-value codes of %d training images of %s (aekit sample draws "
               "from it)\n", cli_text(out), ae_model_latent_size(m), train->n, cli_text(data));
    if (train) ae_dataset_free(train);
    ae_model_free(m);
    return rc;
}
