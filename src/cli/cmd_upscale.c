/* aekit upscale: a super-resolution model on downscaled test images (a PNG
 * of rows low-res / upscaled / original), or on one small image file. */
#include "cli.h"
#include "image_command.h"
#include "image_outputs.h"
#include "aekit/pictures.h"

#include <stdio.h>
#include <stdlib.h>

static const arg_flag upscale_flags[] = {
    CLI_FLAGS_MODEL,
    { "data",    "NAME|DIR", "the data set the model was trained on",
      "data set name or folder; its test split is used (downscaled automatically)", 0, 0, 0 },
    { "noise",   "SPEC",     "none", "also corrupt the low-res input: gaussian:MEAN,STD, saltpepper:P", 0, 0, 0 },
    { "n",       "N",        "10", "number of test images (one column each)", 0, 1, IMAGE_COMMAND_MAX_N },
    { "cols",    "N",        "10", "images per row; more wrap into further blocks of rows", 0, 1, IMAGE_COMMAND_MAX_N },
    { "out",     "FILE",     "upscaled.png", "PNG to write", 0, 0, 0 },
    ARGS_FLAG_NPY,
    ARGS_FLAG_THREADS,
    { NULL, NULL, NULL, NULL, 0, 0, 0 }
};

static void upscale_more_help(FILE *out)
{
    fprintf(out, "Without IN.png OUT.png, draws test images as rows: the low-res input (2x2 or\n"
                 "4x4 average-pooled, drawn at full size), the upscaled output, the original.\n"
                 "With them, upscales one image of the model's input size (e.g. 14x14 for\n"
                 "--model sr) into OUT.png (28x28). --npy writes the images drawn as floats\n"
                 "(with IN.png, the output; OUT.png may then be left out).\n");
}

const arg_command upscale_command = {
    .name = "upscale",
    .summary = "upscale test images (rows: low-res, upscaled, original) or one image file",
    .usage = "aekit upscale MODEL [--data NAME|DIR] [--n N] [--cols N] [--out FILE.png] [--npy FILE.npy] | "
             "aekit upscale MODEL IN.png OUT.png [--npy FILE.npy]",
    .positional = "MODEL",
    .min_positional = 1,
    .max_positional = 3,
    .flags = upscale_flags,
    .examples = "  aekit upscale runs/sr/model.safetensors --data mnist --out upscaled.png\n"
                "  aekit upscale runs/sr/model.safetensors small-14x14.png big-28x28.png\n",
    .more_help = upscale_more_help,
};

int cmd_upscale(int argc, char **argv)
{
    image_command_args o;
    int rc = image_command_parse(&upscale_command, "upscaled.png", argc, argv, &o);
    if (!o.m) return rc;
    if (!ae_model_is_upscaler(o.m)) {
        int c, h, w;
        ae_model_input_shape(o.m, &c, &h, &w);
        ae_model_free(o.m);
        return cli_fail(EXIT_ERROR, "upscale", "%s: not a super-resolution model (its output is the "
                        "size of its input, %dx%d); train one with --model sr", o.model_path, w, h);
    }
    if (o.in) {
        rc = cli_apply_file("upscale", o.m, o.in, o.out_file, o.npy, o.noise_text ? &o.nz : NULL,
                            o.threads);
        if (rc == 0) {
            int c, h, w;
            ae_model_output_shape(o.m, &c, &h, &w);
            printf("%s: %s upscaled to %dx%d by %s\n", cli_text(o.out_file ? o.out_file : o.npy), cli_text(o.in),
                   w, h, cli_text(o.model_path));
            image_outputs_print_npy(o.npy, 1, c, h, w);
        }
        ae_model_free(o.m);
        return rc;
    }
    const char *data = o.data;
    int n = o.n;
    ae_dataset *test = NULL;
    cli_file outs[] = { { "--out", o.out, 0 }, { "--npy", o.npy, 0 } };
    if ((rc = cli_data_for("upscale", data, o.m, o.model_path, outs, 2, &data)) == 0 &&
        (rc = cli_open_test_set("upscale", data, 0, o.m, &test)) == 0) {
        if (n > test->n) n = test->n;
        int rows, c, h, w;
        ae_model_output_shape(o.m, &c, &h, &w);
        args_print_notes();
        rc = image_outputs_rows("upscale", o.m, test, n, &o.nz, o.cols, o.threads, o.out, o.npy, &rows);
        if (rc == 0) {
            printf("%s: %d test images of %s, rows: low-res input%s, upscaled, original\n",
                   cli_text(o.out ? o.out : o.npy), n, cli_text(data), o.nz.kind != AE_NOISE_NONE ? " (noisy)" : "");
            image_outputs_print_npy(o.npy, rows * n, c, h, w);
        }
    }
    if (test) ae_dataset_free(test);
    ae_model_free(o.m);
    return rc;
}
