/* aekit sample: random latents decoded into a grid of new images. */
#include "cli.h"
#include "image_outputs.h"
#include "aekit/pictures.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define MAX_IMAGES 1000

static const arg_flag sample_flags[] = {
    CLI_FLAGS_MODEL,
    { "n",       "N",    "64", "number of images", 0, 1, MAX_IMAGES },
    { "seed",    "N",    "0",  "seed of the random latents", 0, 0, ARGS_MAX_U64 },
    { "cols",    "N",    "the square root of --n, rounded up", "images per row", 0, 1, MAX_IMAGES },
    { "out",     "FILE", "samples.png", "PNG to write", 0, 0, 0 },
    CLI_FLAG_LABEL,
    ARGS_FLAG_NPY,
    ARGS_FLAG_THREADS,
    { NULL, NULL, NULL, NULL, 0, 0, 0 }
};

static void sample_more_help(FILE *out)
{
    fprintf(out, "A VAE or an AAE decodes latents drawn from its prior N(0, I); a plain\n"
                 "autoencoder from the Gaussian fitted to its training codes, which aekit train\n"
                 "stores in the model file (aekit.latent.mean / aekit.latent.std; aekit\n"
                 "fit-latent fits it for a model from elsewhere). A conditional model (cvae)\n"
                 "decodes every latent as the class --label K.\n");
}

const arg_command sample_command = {
    .name = "sample",
    .summary = "decode random latents into a grid of new images",
    .usage = "aekit sample MODEL [--n N] [--seed N] [--label K] [--out FILE.png] [--npy FILE.npy]",
    .positional = "MODEL",
    .flags = sample_flags,
    .examples = "  aekit sample runs/vae/model.safetensors --n 64 --out samples.png\n"
                "  aekit sample runs/cvae/model.safetensors --label 3 --n 16 --out threes.png\n",
    .more_help = sample_more_help,
};

int cmd_sample(int argc, char **argv)
{
    args a;
    int rc = args_parse(&a, &sample_command, argc, argv);
    if (rc) return rc;
    if (a.help) { args_print_help(&sample_command, stdout); return EXIT_OK; }

    const char *path = a.positional[0], *out, *npy;
    int n, cols, threads;
    uint64_t seed;
    if ((rc = args_int(&a, "n", 64, &n)) ||
        (rc = args_u64(&a, "seed", 0, &seed)) ||
        (rc = args_int(&a, "cols", 0, &cols)) ||
        (rc = image_outputs_parse(&a, "samples.png", &out, &npy)) ||
        (rc = args_threads(&a, 0, &threads)))
        return rc;
    if (cols == 0) cols = (int)ceil(sqrt((double)n));
    cli_file in[] = { { "MODEL", path, 0 } }, outs[] = { { "--out", out, 0 }, { "--npy", npy, 0 } };
    if ((rc = cli_check_io("sample", in, 1, outs, 2, NULL))) return rc;

    ae_model *m = NULL;
    if ((rc = cli_load_model("sample", &a, path, &m))) return rc;
    int label;
    if ((rc = cli_model_label("sample", &a, path, m, 0, &label))) {
        ae_model_free(m);
        return rc;
    }
    if (!ae_model_is_variational(m) && !ae_model_is_adversarial(m) &&
        (!ae_model_meta(m, "aekit.latent.mean") || !ae_model_meta(m, "aekit.latent.std"))) {
        /* the library's message names its own call; here, the command */
        const char *spec;
        args_string(&a, "model", NULL, &spec);
        rc = cli_fail(EXIT_ERROR, "sample", "%s: no fitted latent Gaussian to draw codes from (a plain "
                      "autoencoder's aekit.latent.mean / aekit.latent.std, which aekit train stores): "
                      "fit one with aekit fit-latent %s%s%s --data NAME", path, path,
                      spec ? " --model " : "", spec ? spec : "");
        ae_model_free(m);
        return rc;
    }
    args_print_notes();
    ae_error err = {{0}};
    /* ae_picture_samples, with the images kept for --npy */
    int c, h, w;
    ae_model_output_shape(m, &c, &h, &w);
    float *images = malloc((size_t)n * c * h * w * sizeof *images);
    int *labels = label >= 0 ? malloc((size_t)n * sizeof *labels) : NULL;
    for (int i = 0; labels && i < n; i++) labels[i] = label;
    if (!images || (label >= 0 && !labels))
        rc = cli_fail(EXIT_ERROR, "sample", "out of memory for %d images", n);
    else if ((rc = cli_result("sample", labels ? ae_model_sample_labels(m, NULL, labels, n, seed, images, threads, &err)
                                               : ae_model_sample(m, NULL, n, seed, images, threads, &err), &err)) == 0) {
        rc = image_outputs_grid("sample", images, n, cols, c, h, w, out, npy);
    }
    if (rc == 0) {
        char as[64] = "";
        if (label >= 0) snprintf(as, sizeof as, ", decoded as class %d", label);
        printf("%s: %d decoded random latents (%s%s), %d per row\n", cli_text(out ? out : npy), n,
               ae_model_is_variational(m) || ae_model_is_adversarial(m)
                   ? "z ~ N(0, I), the prior" : "z from the Gaussian fitted to the training codes",
               as, cols < n ? cols : n);
        image_outputs_print_npy(npy, n, c, h, w);
    }
    free(images);
    free(labels);
    ae_model_free(m);
    return rc;
}
