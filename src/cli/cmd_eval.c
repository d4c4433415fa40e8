/* aekit eval: the loss, MSE and PSNR of a model on a data set's test split. */
#define _POSIX_C_SOURCE 200809L   /* strtok_r */
#include "cli.h"
#include "aekit/text.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const arg_flag eval_flags[] = {
    CLI_FLAGS_MODEL,
    { "data",    "NAME|DIR[,...]", "the data set the model was trained on",
      "data set name or folder (IDX, CIFAR-10 or images); its test split is used; a comma-separated list measures each", 0, 0, 0 },
    { "limit",   "N",        "all", "evaluate on the first N test images only", 0, 1, INT_MAX },
    ARGS_FLAG_THREADS,
    { "noise",   "SPEC",     "the model's training noise (none for most models)",
      "corrupt the inputs: gaussian:MEAN,STD, saltpepper:P or none", 0, 0, 0 },
    { "json",    NULL,       NULL,  "print one JSON object {\"loss\", \"mse\", \"psnr\"} instead", 0, 0, 0 },
    { "per-image", "FILE",   NULL,  "also write each test image's loss: .npy, float32, shape (N,); "
      "one data set only", 0, 0, 0 },
    { NULL, NULL, NULL, NULL, 0, 0, 0 }
};

static void eval_more_help(FILE *out)
{
    fprintf(out, "MSE and PSNR compare the output with the clean test image. A VAE's loss is\n"
                 "recon + kl (both printed; JSON keys \"recon\" and \"kl\"), also when it was\n"
                 "trained with --beta: its metrics.csv's val_loss weighs kl. A denoiser is fed\n"
                 "inputs corrupted as in its training unless --noise says otherwise; a\n"
                 "super-resolution model gets the downscaled test images.\n"
                 "With several data sets (--data mnist,fashion-mnist) each gets one line, or\n"
                 "with --json one object keyed by data set name: the lesson's point that an\n"
                 "autoencoder is data-specific, in one command.\n"
                 "--per-image writes the loss of each test image, as the mean loss defines it\n"
                 "(their mean is the loss printed, to float precision).\n");
}

const arg_command eval_command = {
    .name = "eval",
    .summary = "measure a model on a test set: loss, MSE per pixel, PSNR",
    .usage = "aekit eval MODEL [--data NAME|DIR] [flags]",
    .positional = "MODEL",
    .flags = eval_flags,
    .examples = "  aekit eval runs/conv/model.safetensors --data mnist\n"
                "  aekit eval runs/conv/model.safetensors --limit 1000 --json\n"
                "  aekit eval runs/denoise/model.safetensors --data fashion-mnist --noise gaussian:0.5,0.5\n"
                "  aekit eval runs/denoise/model.safetensors --data mnist,fashion-mnist\n"
                "  aekit eval runs/conv/model.safetensors --data mnist --per-image losses.npy\n",
    .more_help = eval_more_help,
};

/* JSON has no infinities (PSNR of a perfect model): those become null. */
static void print_json_number(const char *key, double v, const char *after)
{
    if (isfinite(v)) printf("\"%s\": %.9g%s", key, v, after);
    else             printf("\"%s\": null%s", key, after);
}

/* Measures m (from file `path`) on the test split of one data set; results
 * that are not finite are an error (ae_evaluate names the weights). With
 * per_image set, *per_image gets each image's loss (*count of them; the
 * caller frees). */
static int eval_one(ae_model *m, const char *path, const char *data, int limit, int threads,
                    const ae_noise *nz, ae_eval_result *res, float **per_image, int *count)
{
    ae_dataset *test = NULL;
    ae_error err = {{0}};
    int rc = cli_open_test_set("eval", data, limit, m, &test);
    if (rc == 0 && per_image) {
        *count = test->n;
        if (!(*per_image = malloc((size_t)test->n * sizeof **per_image)))
            rc = cli_fail(EXIT_ERROR, "eval", "out of memory for %d losses", test->n);
    }
    if (rc == 0) args_print_notes();
    if (rc == 0 && ae_evaluate_per_image(m, NULL, test, nz, res, per_image ? *per_image : NULL, threads,
                                         &err) != 0)
        rc = cli_fail(EXIT_ERROR, "eval", "%s: %s", path, err.msg);
    if (test) ae_dataset_free(test);
    return rc;
}

static void print_json_result(const ae_eval_result *r, int vae)
{
    printf("{");
    print_json_number("loss", r->loss, ", ");
    if (vae) {
        print_json_number("recon", r->recon, ", ");
        print_json_number("kl", r->kl, ", ");
    }
    print_json_number("mse", r->mse, ", ");
    print_json_number("psnr", r->psnr, "}");
}

static void print_text_result(const ae_eval_result *r, int vae, const ae_noise *nz)
{
    char parts[96] = "", noise[64] = "";
    if (vae) snprintf(parts, sizeof parts, " (recon %.4f + kl %.4f)", r->recon, r->kl);
    if (nz->kind != AE_NOISE_NONE) {
        char spec[48];
        ae_noise_format(nz, spec, sizeof spec);
        snprintf(noise, sizeof noise, "  (inputs %s)", spec);
    }
    printf("loss %.4f%s  mse %.4f  psnr %.2f dB%s\n", r->loss, parts, r->mse, r->psnr, noise);
}

/* A data set name or folder as a JSON string: the characters the CLI
 * prints escaped (controls, and those that move or reorder text:
 * cli_char_escaped) as \\u escapes, so the JSON is also safe on a
 * terminal; a byte that is not UTF-8 (which JSON cannot hold) becomes
 * U+FFFD. */
static void print_json_string(const char *text)
{
    const unsigned char *s = (const unsigned char *)text;
    putchar('"');
    while (*s) {
        unsigned cp;
        size_t n = ae_utf8_decode(s, &cp);
        if (n == 0) { printf("\\ufffd"); s++; continue; }
        if (cp == '"' || cp == '\\') printf("\\%c", (int)cp);
        else if (cli_char_escaped(cp)) printf("\\u%04x", cp);
        else fwrite(s, 1, n, stdout);
        s += n;
    }
    putchar('"');
}

#define MAX_DATA_SETS 64

int cmd_eval(int argc, char **argv)
{
    args a;
    int rc = args_parse(&a, &eval_command, argc, argv);
    if (rc) return rc;
    if (a.help) { args_print_help(&eval_command, stdout); return EXIT_OK; }

    const char *path = a.positional[0], *data, *noise_text, *per_image_path;
    int limit, threads;
    ae_noise nz = { 0 };
    if ((rc = args_string(&a, "data", NULL, &data)) ||
        (rc = args_int(&a, "limit", 0, &limit)) ||
        (rc = args_threads(&a, 0, &threads)) ||
        (rc = args_string(&a, "noise", NULL, &noise_text)) ||
        (rc = args_string(&a, "per-image", NULL, &per_image_path)))
        return rc;
    if (noise_text && (rc = cli_parse_noise("eval", "--noise", noise_text, &nz))) return rc;
    cli_file in[] = { { "MODEL", path, 0 } }, outs[] = { { "--per-image", per_image_path, 0 } };
    if ((rc = cli_check_io("eval", in, 1, outs, 1, data))) return rc;

    ae_model *m = NULL;
    if ((rc = cli_load_model("eval", &a, path, &m))) return rc;
    if ((rc = cli_data_for("eval", data, m, path, outs, 1, &data)) == 0 && per_image_path && strchr(data, ','))
        rc = cli_fail(EXIT_USAGE, "eval", "--per-image %s: one data set at a time (--data lists several)",
                      per_image_path);
    if (rc) {
        ae_model_free(m);
        return rc;
    }

    if (!noise_text) cli_model_noise(m, &nz);

    /* one data set, or a comma-separated list of them: all are measured
     * before anything is printed, so a failure leaves no partial output */
    char list[4096];
    if (strlen(data) >= sizeof list) {
        ae_model_free(m);
        return cli_fail(EXIT_USAGE, "eval", "--data: the list is too long");
    }
    strcpy(list, data);
    const char *names[MAX_DATA_SETS];
    ae_eval_result res[MAX_DATA_SETS];
    float *losses = NULL;               /* --per-image: each image's loss */
    int count = 0, nlosses = 0;
    char *save = NULL;
    for (char *name = strtok_r(list, ",", &save); name && rc == 0; name = strtok_r(NULL, ",", &save)) {
        if (count == MAX_DATA_SETS) {
            rc = cli_fail(EXIT_USAGE, "eval", "--data: more than %d data sets", MAX_DATA_SETS);
            break;
        }
        names[count] = name;
        rc = eval_one(m, path, name, limit, threads, &nz, &res[count], per_image_path ? &losses : NULL,
                      &nlosses);
        count++;
    }
    if (rc == 0 && count == 0) rc = cli_fail(EXIT_USAGE, "eval", "--data: no data set named");
    if (rc == 0 && per_image_path) {   /* written before anything is printed */
        ae_error err = {{0}};
        long shape[1] = { nlosses };
        if (ae_npy_write_f32(per_image_path, losses, 1, shape, &err) != 0)
            rc = cli_fail(EXIT_ERROR, "eval", "%s", err.msg);
    }
    if (rc == 0) {
        int vae = ae_model_is_variational(m), multi = count > 1 || strchr(data, ',') != NULL;
        int json = args_given(&a, "json");
        if (json && multi) printf("{");
        for (int i = 0; i < count; i++) {
            if (json && multi) {
                if (i) printf(", ");
                print_json_string(names[i]);
                printf(": ");
            } else if (multi) {
                printf("%-16s ", cli_text(names[i]));
            }
            if (json) print_json_result(&res[i], vae);
            else print_text_result(&res[i], vae, &nz);
        }
        if (json) printf(multi ? "}\n" : "\n");
        else if (per_image_path)
            printf("%s: the loss of each of the %d test images, float32, shape (%d,)\n", cli_text(per_image_path),
                   nlosses, nlosses);
    }
    free(losses);
    ae_model_free(m);
    return rc;
}
