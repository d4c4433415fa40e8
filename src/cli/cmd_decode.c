/* aekit decode: latent codes from a .npy file decoded into a grid of
 * images. */
#include "cli.h"
#include "image_outputs.h"
#include "aekit/pictures.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_IMAGES 1000

static const arg_flag decode_flags[] = {
    CLI_FLAGS_MODEL,
    { "out",     "FILE", "decoded.png", "PNG to write", 0, 0, 0 },
    ARGS_FLAG_NPY,
    { "n",       "N",    "all, at most 1000", "decode the first N codes only", 0, 1, MAX_IMAGES },
    { "cols",    "N",    "10", "images per row", 0, 1, MAX_IMAGES },
    CLI_FLAG_LABEL,
    ARGS_FLAG_THREADS,
    { NULL, NULL, NULL, NULL, 0, 0, 0 }
};

static void decode_more_help(FILE *out)
{
    fprintf(out, "CODES.npy holds float32 (or float64) codes, shape (N, latent) or (latent,),\n"
                 "as aekit encode writes them; the width must be the model's latent size. A\n"
                 "conditional model (cvae) decodes every code as the class --label K.\n");
}

const arg_command decode_command = {
    .name = "decode",
    .summary = "decode latent codes from a .npy file into a grid of images",
    .usage = "aekit decode MODEL CODES.npy [--out FILE.png] [--npy FILE.npy] [--n N] [--cols N] [--label K]",
    .positional = "MODEL CODES.npy",
    .min_positional = 2,
    .max_positional = 2,
    .flags = decode_flags,
    .examples = "  aekit encode runs/vae/model.safetensors --data mnist --limit 20 --out codes.npy\n"
                "  aekit decode runs/vae/model.safetensors codes.npy --out decoded.png\n",
    .more_help = decode_more_help,
};

int cmd_decode(int argc, char **argv)
{
    args a;
    int rc = args_parse(&a, &decode_command, argc, argv);
    if (rc) return rc;
    if (a.help) { args_print_help(&decode_command, stdout); return EXIT_OK; }

    const char *path = a.positional[0], *codes_path = a.positional[1], *out, *npy;
    int n, cols, threads;
    if ((rc = image_outputs_parse(&a, "decoded.png", &out, &npy)) ||
        (rc = args_int(&a, "n", 0, &n)) ||
        (rc = args_int(&a, "cols", 10, &cols)) ||
        (rc = args_threads(&a, 0, &threads)))
        return rc;
    cli_file in[] = { { "MODEL", path, 0 }, { "CODES.npy", codes_path, 0 } }, outs[] = { { "--out", out, 0 }, { "--npy", npy, 0 } };
    if ((rc = cli_check_io("decode", in, 2, outs, 2, NULL))) return rc;

    ae_model *m = NULL;
    if ((rc = cli_load_model("decode", &a, path, &m))) return rc;
    int label;
    if ((rc = cli_model_label("decode", &a, path, m, 0, &label))) {
        ae_model_free(m);
        return rc;
    }
    int *labels = NULL;
    float *codes = NULL, *images = NULL;
    int ndim = 0;
    long shape[4] = { 0 }, read_shape[4] = { 0 };
    ae_error err = {{0}};
    size_t L = ae_model_latent_size(m);
    /* the shape from the header first: codes of the wrong width are refused
     * before they are read */
    if (ae_npy_read_shape(codes_path, &ndim, shape, &err) != 0) {
        rc = cli_fail(EXIT_ERROR, "decode", "%s", err.msg);
    } else if (!((ndim == 2 && shape[1] == (long)L) || (ndim == 1 && shape[0] == (long)L))) {
        char dims[96] = "";
        for (int i = 0; i < ndim; i++) {
            size_t used = strlen(dims);
            snprintf(dims + used, sizeof dims - used, "%s%ld", i ? ", " : "", shape[i]);
        }
        long width = ndim >= 1 ? shape[ndim - 1] : 0;
        rc = cli_fail(EXIT_ERROR, "decode", "%s: codes are %ld values wide (shape (%s)) but the model's "
                      "latent has %zu values", codes_path, width, dims, L);
    } else {
        long count = ndim == 2 ? shape[0] : 1;
        if (count < 1) {
            rc = cli_fail(EXIT_ERROR, "decode", "%s: holds no codes (shape (0, %zu))", codes_path, L);
        } else if (ae_npy_read_f32(codes_path, &codes, &ndim, read_shape, &err) != 0) {
            rc = cli_fail(EXIT_ERROR, "decode", "%s", err.msg);
        } else if (memcmp(read_shape, shape, sizeof shape) != 0) {
            rc = cli_fail(EXIT_ERROR, "decode", "%s: changed while being read", codes_path);
        } else {
            if (n == 0) n = count < MAX_IMAGES ? (int)count : MAX_IMAGES;
            if (n > count) n = (int)count;
            int c, h, w;
            ae_model_output_shape(m, &c, &h, &w);
            args_print_notes();
            if (label >= 0 && !(labels = malloc((size_t)n * sizeof *labels)))
                rc = cli_fail(EXIT_ERROR, "decode", "out of memory for %d labels", n);
            for (int i = 0; labels && i < n; i++) labels[i] = label;
            if (rc == 0 && (rc = cli_result("decode", ae_picture_decode_labels(m, codes, labels, n, threads,
                                                                               &images, &err), &err)) == 0) {
                rc = image_outputs_grid("decode", images, n, cols, c, h, w, out, npy);
            }
            if (rc == 0) {
                printf("%s: %d of the %ld codes in %s decoded, %d per row\n", cli_text(out ? out : npy), n,
                       count, cli_text(codes_path), cols < n ? cols : n);
                image_outputs_print_npy(npy, n, c, h, w);
            }
        }
    }
    free(codes);
    free(images);
    free(labels);
    ae_model_free(m);
    return rc;
}
