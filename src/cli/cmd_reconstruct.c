/* aekit reconstruct: a PNG of the first test images over their
 * reconstructions by a model. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "image_outputs.h"
#include "aekit/pictures.h"

#include <stdio.h>
#include <stdlib.h>

#define MAX_IMAGES 500

static const arg_flag reconstruct_flags[] = {
    CLI_FLAGS_MODEL,
    { "data",    "NAME|DIR", "the data set the model was trained on",
      "data set name or folder (IDX, CIFAR-10 or images); its test split is used", 0, 0, 0 },
    { "n",       "N",        "10", "number of test images (one column each)", 0, 1, MAX_IMAGES },
    { "cols",    "N",        "10", "images per row; more wrap into further blocks of rows", 0, 1, MAX_IMAGES },
    { "out",     "FILE",     "reconstructions.png", "PNG to write", 0, 0, 0 },
    ARGS_FLAG_NPY,
    ARGS_FLAG_THREADS,
    { NULL, NULL, NULL, NULL, 0, 0, 0 }
};

const arg_command reconstruct_command = {
    .name = "reconstruct",
    .summary = "draw test images (row \"input\") over their reconstructions (row \"reconstruction\")",
    .usage = "aekit reconstruct MODEL [--data NAME|DIR] [--n N] [--cols N] [--out FILE.png] [--npy FILE.npy]",
    .positional = "MODEL",
    .flags = reconstruct_flags,
    .examples = "  aekit reconstruct runs/conv/model.safetensors --n 16 --out digits.png\n"
                "  aekit reconstruct runs/conv/model.safetensors --n 100 --cols 20 --out many.png\n",
};

int cmd_reconstruct(int argc, char **argv)
{
    args a;
    int rc = args_parse(&a, &reconstruct_command, argc, argv);
    if (rc) return rc;
    if (a.help) { args_print_help(&reconstruct_command, stdout); return EXIT_OK; }

    const char *path = a.positional[0], *data, *out, *npy;
    int n, cols, threads;
    if ((rc = args_string(&a, "data", NULL, &data)) ||
        (rc = args_int(&a, "n", 10, &n)) ||
        (rc = args_int(&a, "cols", AE_PICTURE_COLS, &cols)) ||
        (rc = image_outputs_parse(&a, "reconstructions.png", &out, &npy)) ||
        (rc = args_threads(&a, 0, &threads)))
        return rc;
    cli_file in[] = { { "MODEL", path, 0 } }, outs[] = { { "--out", out, 0 }, { "--npy", npy, 0 } };
    if ((rc = cli_check_io("reconstruct", in, 1, outs, 2, data))) return rc;

    ae_model *m = NULL;
    if ((rc = cli_load_model("reconstruct", &a, path, &m))) return rc;
    ae_dataset *test = NULL;
    if ((rc = cli_data_for("reconstruct", data, m, path, outs, 2, &data)) == 0 &&
        (rc = cli_open_test_set("reconstruct", data, 0, m, &test)) == 0) {
        if (n > test->n) n = test->n;
        int rows, c, h, w;
        ae_model_output_shape(m, &c, &h, &w);
        args_print_notes();
        rc = image_outputs_rows("reconstruct", m, test, n, NULL, cols, threads, out, npy, &rows);
        const char *shown = out ? out : npy;
        if (rc == 0 && rows == 3)
            printf("%s: %d test images of %s, rows: low-res input, upscaled, original\n", cli_text(shown), n,
                   cli_text(data));
        else if (rc == 0)
            printf("%s: %d test images of %s (rows \"input\") over their reconstructions\n", cli_text(shown), n,
                   cli_text(data));
        if (rc == 0) image_outputs_print_npy(npy, rows * n, c, h, w);
    }
    if (test) ae_dataset_free(test);
    ae_model_free(m);
    return rc;
}
