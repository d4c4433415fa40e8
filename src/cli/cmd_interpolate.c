/* aekit interpolate: decode the straight line between the codes of two
 * test images. */
#include "cli.h"
#include "image_outputs.h"
#include "aekit/pictures.h"

#include <stdio.h>
#include <stdlib.h>

#define MAX_STEPS 100

static const arg_flag interpolate_flags[] = {
    CLI_FLAGS_MODEL,
    { "data",    "NAME|DIR", "the data set the model was trained on",
      "data set name or folder; its test split is used", 0, 0, 0 },
    { "from",    "I",        "0", "index of the first test image (0-based)", 0, 0, INT_MAX },
    { "to",      "J",        "1", "index of the last test image", 0, 0, INT_MAX },
    { "steps",   "N",        "10", "images from I to J, both ends included", 0, 2, MAX_STEPS },
    { "out",     "FILE",     "interpolation.png", "PNG to write", 0, 0, 0 },
    ARGS_FLAG_NPY,
    ARGS_FLAG_THREADS,
    { NULL, NULL, NULL, NULL, 0, 0, 0 }
};

static void interpolate_more_help(FILE *out)
{
    fprintf(out, "One row: z = (1 - t) z_I + t z_J for t = 0, 1/(N-1), ..., 1, decoded (the\n"
                 "first and last images are the reconstructions of test images I and J).\n");
}

const arg_command interpolate_command = {
    .name = "interpolate",
    .summary = "decode a straight line between the codes of two test images",
    .usage = "aekit interpolate MODEL [--data NAME|DIR] --from I --to J [--steps N] [--out FILE.png] [--npy FILE.npy]",
    .positional = "MODEL",
    .flags = interpolate_flags,
    .examples = "  aekit interpolate runs/vae/model.safetensors --data mnist --from 0 --to 1 --steps 10\n",
    .more_help = interpolate_more_help,
};

int cmd_interpolate(int argc, char **argv)
{
    args a;
    int rc = args_parse(&a, &interpolate_command, argc, argv);
    if (rc) return rc;
    if (a.help) { args_print_help(&interpolate_command, stdout); return EXIT_OK; }

    const char *path = a.positional[0], *data, *out, *npy;
    int from, to, steps, threads;
    if ((rc = args_string(&a, "data", NULL, &data)) ||
        (rc = args_int(&a, "from", 0, &from)) ||
        (rc = args_int(&a, "to", 1, &to)) ||
        (rc = args_int(&a, "steps", 10, &steps)) ||
        (rc = image_outputs_parse(&a, "interpolation.png", &out, &npy)) ||
        (rc = args_threads(&a, 0, &threads)))
        return rc;
    cli_file in[] = { { "MODEL", path, 0 } }, outs[] = { { "--out", out, 0 }, { "--npy", npy, 0 } };
    if ((rc = cli_check_io("interpolate", in, 1, outs, 2, data))) return rc;

    ae_model *m = NULL;
    if ((rc = cli_load_model("interpolate", &a, path, &m))) return rc;
    if ((rc = cli_refuse_conditional("interpolate", path, m))) {
        ae_model_free(m);
        return rc;
    }
    ae_dataset *test = NULL;
    float *codes = NULL, *line = NULL, *images = NULL;
    if ((rc = cli_data_for("interpolate", data, m, path, outs, 2, &data)) == 0 &&
        (rc = cli_open_test_set("interpolate", data, 0, m, &test)) == 0) {
        int last = from > to ? from : to;
        if (last >= test->n)
            rc = cli_fail(EXIT_ERROR, "interpolate", "--%s %d: the test set of %s has %d images (0 to %d)",
                          from > to ? "from" : "to", last, data, test->n, test->n - 1);
        else {
            args_print_notes();
            if (!(codes = cli_encode_set("interpolate", m, test, last + 1, threads))) rc = EXIT_ERROR;
        }
    }
    if (rc == 0) {
        size_t L = ae_model_latent_size(m);
        line = malloc((size_t)steps * L * sizeof *line);
        if (!line) rc = cli_fail(EXIT_ERROR, "interpolate", "out of memory");
        for (int k = 0; rc == 0 && k < steps; k++) {
            double t = (double)k / (steps - 1);
            for (size_t j = 0; j < L; j++)
                line[(size_t)k * L + j] = (float)((1 - t) * codes[(size_t)from * L + j] + t * codes[(size_t)to * L + j]);
        }
        int c, h, w;
        ae_model_output_shape(m, &c, &h, &w);
        ae_error err = {{0}};
        if (rc == 0 && (rc = cli_result("interpolate", ae_picture_decode(m, line, steps, threads, &images, &err),
                                        &err)) == 0) {
            rc = image_outputs_grid("interpolate", images, steps, steps, c, h, w, out, npy);
        }
        if (rc == 0) {
            printf("%s: %d decoded steps from the code of test image %d to that of %d (%s)\n",
                   cli_text(out ? out : npy), steps, from, to, cli_text(data));
            image_outputs_print_npy(npy, steps, c, h, w);
        }
    }
    free(codes);
    free(line);
    free(images);
    if (test) ae_dataset_free(test);
    ae_model_free(m);
    return rc;
}
