/* aekit denoise: a denoising autoencoder on corrupted test images (a PNG of
 * rows noisy / denoised / clean), or on one image file. */
#include "cli.h"
#include "image_command.h"
#include "image_outputs.h"
#include "aekit/pictures.h"

#include <stdio.h>
#include <stdlib.h>

#define DEFAULT_NOISE "gaussian:0.5,0.5"

static const arg_flag denoise_flags[] = {
    CLI_FLAGS_MODEL,
    { "data",    "NAME|DIR", "the data set the model was trained on",
      "data set name or folder; its test split is used", 0, 0, 0 },
    { "noise",   "SPEC",     "the model's training noise, else " DEFAULT_NOISE " (files: none)",
      "corruption: gaussian:MEAN,STD, saltpepper:P or none", 0, 0, 0 },
    { "n",       "N",        "10", "number of test images (one column each)", 0, 1, IMAGE_COMMAND_MAX_N },
    { "cols",    "N",        "10", "images per row; more wrap into further blocks of rows", 0, 1, IMAGE_COMMAND_MAX_N },
    { "out",     "FILE",     "denoised.png", "PNG to write", 0, 0, 0 },
    ARGS_FLAG_NPY,
    ARGS_FLAG_THREADS,
    { NULL, NULL, NULL, NULL, 0, 0, 0 }
};

static void denoise_more_help(FILE *out)
{
    fprintf(out, "With IN.png OUT.png, denoises one image (PNG or JPEG of the model's input\n"
                 "size) into OUT.png; --noise then corrupts it first (default: none, the file is\n"
                 "taken as the noisy image). Without them, draws test images as rows: noisy\n"
                 "(the model's input), denoised, clean. --npy writes the images drawn as floats\n"
                 "(with IN.png, the output; OUT.png may then be left out).\n");
}

const arg_command denoise_command = {
    .name = "denoise",
    .summary = "denoise test images (rows: noisy, denoised, clean) or one image file",
    .usage = "aekit denoise MODEL [--data NAME|DIR] [--noise SPEC] [--n N] [--cols N] [--out FILE.png] "
             "[--npy FILE.npy] | aekit denoise MODEL IN.png OUT.png [--npy FILE.npy]",
    .positional = "MODEL",
    .min_positional = 1,
    .max_positional = 3,
    .flags = denoise_flags,
    .examples = "  aekit denoise runs/denoise/model.safetensors --data mnist --out denoised.png\n"
                "  aekit denoise runs/denoise/model.safetensors --data fashion-mnist --noise gaussian:0.5,0.5\n"
                "  aekit denoise runs/denoise/model.safetensors noisy.png clean.png\n",
    .more_help = denoise_more_help,
};

int cmd_denoise(int argc, char **argv)
{
    image_command_args o;
    int rc = image_command_parse(&denoise_command, "denoised.png", argc, argv, &o);
    if (!o.m) return rc;
    if (o.in) {
        rc = cli_apply_file("denoise", o.m, o.in, o.out_file, o.npy, o.noise_text ? &o.nz : NULL,
                            o.threads);
        if (rc == 0) {
            int c, h, w;
            ae_model_output_shape(o.m, &c, &h, &w);
            printf("%s: %s denoised by %s\n", cli_text(o.out_file ? o.out_file : o.npy), cli_text(o.in),
                   cli_text(o.model_path));
            image_outputs_print_npy(o.npy, 1, c, h, w);
        }
        ae_model_free(o.m);
        return rc;
    }
    if (!o.noise_text) {
        cli_model_noise(o.m, &o.nz);
        if (o.nz.kind == AE_NOISE_NONE) ae_noise_parse(&o.nz, DEFAULT_NOISE, NULL);
    }
    const char *data = o.data;
    int n = o.n;
    ae_dataset *test = NULL;
    cli_file outs[] = { { "--out", o.out, 0 }, { "--npy", o.npy, 0 } };
    if ((rc = cli_data_for("denoise", data, o.m, o.model_path, outs, 2, &data)) == 0 &&
        (rc = cli_open_test_set("denoise", data, 0, o.m, &test)) == 0) {
        if (n > test->n) n = test->n;
        int rows, c, h, w;
        ae_model_output_shape(o.m, &c, &h, &w);
        args_print_notes();
        rc = image_outputs_rows("denoise", o.m, test, n, &o.nz, o.cols, o.threads, o.out, o.npy, &rows);
        char spec[64];
        ae_noise_format(&o.nz, spec, sizeof spec);
        const char *shown = o.out ? o.out : o.npy;
        if (rc == 0 && rows == 3)
            printf("%s: %d test images of %s, rows: noisy input (%s), %s, clean\n", cli_text(shown), n, cli_text(data),
                   spec, ae_model_is_upscaler(o.m) ? "denoised and upscaled" : "denoised");
        else if (rc == 0)
            printf("%s: %d test images of %s, rows: clean input, output (no noise)\n", cli_text(shown), n,
                   cli_text(data));
        if (rc == 0) image_outputs_print_npy(o.npy, rows * n, c, h, w);
    }
    if (test) ae_dataset_free(test);
    ae_model_free(o.m);
    return rc;
}
