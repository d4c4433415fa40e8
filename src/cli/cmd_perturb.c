/* aekit perturb: the lesson's task 2: take the codes of a few test images,
 * add Gaussian noise, decode, and compare with the plain reconstructions. */
#include "cli.h"
#include "aekit/pictures.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_IMAGES 500
/* Codes are floats of size about 1 to 100: noise under 1e-6 leaves them as
 * they are (the pictures would show no perturbation), noise over 1e6
 * drowns them (the decoder only shows saturated images). */
#define MIN_SIGMA 1e-6
#define MAX_SIGMA 1e6

static const arg_flag perturb_flags[] = {
    CLI_FLAGS_MODEL,
    { "data",    "NAME|DIR", "the data set the model was trained on",
      "data set name or folder; its test split is used", 0, 0, 0 },
    { "sigma",   "S",        NULL, "standard deviation of the noise added to each code value", 1, MIN_SIGMA, MAX_SIGMA },
    { "n",       "N",        "10", "number of test images (one column each)", 0, 1, MAX_IMAGES },
    { "seed",    "N",        "0",  "seed of the noise", 0, 0, ARGS_MAX_U64 },
    { "out",     "FILE",     "perturbed.png", "PNG to write", 0, 0, 0 },
    ARGS_FLAG_THREADS,
    { NULL, NULL, NULL, NULL, 0, 0, 0 }
};

static void perturb_more_help(FILE *out)
{
    fprintf(out, "Rows: the test images, their reconstructions, and the decoded codes plus\n"
                 "noise N(0, S^2) on every code value (one draw per image).\n");
}

const arg_command perturb_command = {
    .name = "perturb",
    .summary = "decode test images' codes with Gaussian noise added (lesson task 2)",
    .usage = "aekit perturb MODEL --sigma S [--data NAME|DIR] [--n N] [--out FILE.png]",
    .positional = "MODEL",
    .flags = perturb_flags,
    .examples = "  aekit perturb runs/conv/model.safetensors --data mnist --sigma 0.5 --out perturbed.png\n",
    .more_help = perturb_more_help,
};

/* splitmix64 and Box-Muller: the noise only has to be repeatable. */
static uint64_t next_u64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double next_normal(uint64_t *s)
{
    double u1 = ((next_u64(s) >> 11) + 1.0) / 9007199254740993.0;   /* (0, 1] */
    double u2 = (next_u64(s) >> 11) / 9007199254740992.0;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

int cmd_perturb(int argc, char **argv)
{
    args a;
    int rc = args_parse(&a, &perturb_command, argc, argv);
    if (rc) return rc;
    if (a.help) { args_print_help(&perturb_command, stdout); return EXIT_OK; }

    const char *path = a.positional[0], *data, *out, *sigma_text;
    int n, threads;
    double sigma;
    uint64_t seed;
    if ((rc = args_string(&a, "data", NULL, &data)) ||
        (rc = args_required(&a, "sigma", &sigma_text)) ||
        (rc = args_number(&a, "sigma", 0, &sigma)) ||
        (rc = args_int(&a, "n", 10, &n)) ||
        (rc = args_u64(&a, "seed", 0, &seed)) ||
        (rc = args_string(&a, "out", "perturbed.png", &out)) ||
        (rc = args_threads(&a, 0, &threads)))
        return rc;
    cli_file in[] = { { "MODEL", path, 0 } }, outs[] = { { "--out", out, 0 } };
    if ((rc = cli_check_io("perturb", in, 1, outs, 1, data))) return rc;

    ae_model *m = NULL;
    if ((rc = cli_load_model("perturb", &a, path, &m))) return rc;
    ae_dataset *test = NULL;
    float *tiles = NULL, *codes = NULL, *recon = NULL, *noisy = NULL;
    if ((rc = cli_data_for("perturb", data, m, path, outs, 1, &data)) == 0 &&
        (rc = cli_open_test_set("perturb", data, 0, m, &test)) == 0) {
        if (n > test->n) n = test->n;
        size_t L = ae_model_latent_size(m);
        int c, h, w;
        ae_model_output_shape(m, &c, &h, &w);
        size_t size = (size_t)c * h * w;
        float *images = NULL;
        args_print_notes();
        if (!(tiles = malloc(3 * (size_t)n * size * sizeof *tiles)))
            rc = cli_fail(EXIT_ERROR, "perturb", "out of memory for %d images", n);
        else if (!(codes = cli_encode_set("perturb", m, test, n, threads)) ||
                 !(images = cli_images("perturb", test, 0, n)))
            rc = EXIT_ERROR;
        if (rc == 0) {
            memcpy(tiles, images, (size_t)n * size * sizeof *tiles);
            ae_error err = {{0}};
            /* a conditional model decodes each code with its image's label */
            int *labels = ae_dataset_labels_for(m, test, 0, n, &err);
            if (ae_model_class_count(m) && !labels)
                rc = cli_fail(EXIT_ERROR, "perturb", "%s", err.msg);
            else if ((rc = cli_result("perturb", ae_picture_decode_labels(m, codes, labels, n, threads, &recon, &err),
                                      &err)) == 0) {
                uint64_t state = seed;
                for (size_t i = 0; i < (size_t)n * L; i++) codes[i] += (float)(sigma * next_normal(&state));
                rc = cli_result("perturb", ae_picture_decode_labels(m, codes, labels, n, threads, &noisy, &err),
                                &err);
            }
            free(labels);
            if (rc == 0) {
                memcpy(tiles + (size_t)n * size, recon, (size_t)n * size * sizeof *tiles);
                memcpy(tiles + 2 * (size_t)n * size, noisy, (size_t)n * size * sizeof *tiles);
                static const char *const labels[] = { "input", "reconstruction", "perturbed" };
                if (ae_picture_labelled_rows(out, tiles, 3, n, 0, labels, c, h, w, AE_PICTURE_SCALE, &err) != 0)
                    rc = cli_fail(EXIT_ERROR, "perturb", "%s", err.msg);
            }
        }
        free(images);
        if (rc == 0)
            printf("%s: %d test images of %s, rows: originals, reconstructions, codes + N(0, %g^2) "
                   "decoded (latent %zu)\n", cli_text(out), n, cli_text(data), sigma, L);
    }
    free(tiles);
    free(codes);
    free(recon);
    free(noisy);
    if (test) ae_dataset_free(test);
    ae_model_free(m);
    return rc;
}
