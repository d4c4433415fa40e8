/* aekit pca: the PCA baseline of the lesson's claim "autoencoders beat PCA":
 * fits the top components of the training images and writes them, the
 * test set's codes and pictures into a folder. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "aekit/pictures.h"
#include "aekit/analysis.h"
#include "aekit/files.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define RECON_COUNT     10
#define MAX_COMPONENTS  64   /* drawn in components.png */
#define MAX_SIDE        4096 /* --shape height and width */

static const arg_flag pca_flags[] = {
    { "data",       "NAME|DIR", NULL,  "data set name or folder", 1, 0, 0 },
    { "components", "K",        NULL,  "number of principal components (the code size)", 1, 1, INT_MAX },
    { "out",        "DIR",      NULL,  "folder to write, created if missing", 1, 0, 0 },
    { "limit",      "N",        "all", "fit on the first N training images only", 0, 1, INT_MAX },
    { "shape",      "CxHxW",    "1x28x28", "image folders only: channels x height x width to read them at", 0, 0, 0 },
    ARGS_FLAG_THREADS,
    { NULL, NULL, NULL, NULL, 0, 0, 0 }
};

static void pca_more_help(FILE *out)
{
    fprintf(out, "writes into DIR:\n"
                 "  pca.safetensors      mean, components (K x pixels), variances\n"
                 "  codes.npy            the test set's codes, float32, shape (N, K)\n"
                 "  labels.npy           their labels, uint8 (when the data set has labels)\n"
                 "  reconstructions.png  10 test images (top) over their PCA reconstructions\n"
                 "  components.png       the top components (at most 64) as images, each\n"
                 "                       min-max normalised\n");
}

const arg_command pca_command = {
    .name = "pca",
    .summary = "fit a PCA baseline: components, test codes, reconstructions",
    .usage = "aekit pca --data NAME|DIR --components K --out DIR [--limit N]",
    .positional = NULL,
    .flags = pca_flags,
    .examples = "  aekit pca --data mnist --components 2 --out runs/pca2\n"
                "  aekit pca --data mnist --components 128 --limit 10000 --out runs/pca128\n",
    .more_help = pca_more_help,
};

/* "CxHxW": three whole numbers (no sign, no blanks), each range-checked
 * before it is converted to int. */
static int parse_shape(const char *text, int *shape)
{
    const char *p = text;
    for (int i = 0; i < 3; i++) {
        if (*p < '0' || *p > '9') return -1;
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (errno || v < 1 || v > MAX_SIDE) return -1;
        shape[i] = (int)v;
        p = end;
        if (i < 2 && *p++ != 'x') return -1;
    }
    return *p == '\0' && (shape[0] == 1 || shape[0] == 3) ? 0 : -1;
}

/* 1 when every image of ds equals the first: no variance for a PCA. */
static int images_alike(const ae_dataset *ds)
{
    size_t size = (size_t)ds->c * ds->h * ds->w;
    for (int i = 1; i < ds->n; i++)
        if (memcmp(ds->pixels, ds->pixels + (size_t)i * size, size) != 0) return 0;
    return 1;
}

/* The files pca writes into --out. */
enum { PCA_MODEL, PCA_CODES, PCA_LABELS, PCA_RECONSTRUCTIONS, PCA_COMPONENTS, PCA_FILES };
static const char *const pca_files[PCA_FILES] = {
    [PCA_MODEL] = "pca.safetensors", [PCA_CODES] = "codes.npy", [PCA_LABELS] = "labels.npy",
    [PCA_RECONSTRUCTIONS] = "reconstructions.png", [PCA_COMPONENTS] = "components.png",
};

int cmd_pca(int argc, char **argv)
{
    args a;
    int rc = args_parse(&a, &pca_command, argc, argv);
    if (rc) return rc;
    if (a.help) { args_print_help(&pca_command, stdout); return EXIT_OK; }

    const char *data, *out, *shape_text;
    int k, limit, threads, shape[3];
    if ((rc = args_required(&a, "data", &data)) ||
        (rc = args_required(&a, "components", &shape_text)) ||
        (rc = args_int(&a, "components", 0, &k)) ||
        (rc = args_required(&a, "out", &out)) ||
        (rc = args_int(&a, "limit", 0, &limit)) ||
        (rc = args_string(&a, "shape", "1x28x28", &shape_text)) ||
        (rc = args_threads(&a, 0, &threads)))
        return rc;
    if (parse_shape(shape_text, shape) != 0)
        return cli_fail(EXIT_USAGE, "pca", "--shape: expected CxHxW with C 1 or 3 and H, W from 1 to %d "
                        "(e.g. 1x28x28), got '%s'", MAX_SIDE, shape_text);
    struct stat st;
    if (stat(out, &st) == 0 && !S_ISDIR(st.st_mode))
        return cli_fail(EXIT_ERROR, "pca", "--out %s: exists and is not a folder", out);

    /* the folder, and (once it exists) the files it gets */
    char path[4096], paths[PCA_FILES][4096];
    cli_file outs[PCA_FILES + 1] = { { "--out", out, 1 } };
    int nout = 1;
    if (stat(out, &st) == 0)
        for (int f = 0; f < PCA_FILES; f++, nout++) {
            cli_join_path(paths[f], sizeof paths[f], out, pca_files[f]);
            outs[nout] = (cli_file){ "--out", paths[f], 0 };
        }
    if ((rc = cli_check_io("pca", NULL, 0, outs, nout, data))) return rc;

    ae_dataset *train = NULL, *test = NULL;
    cli_stage("pca", "reading the data set");
    if ((rc = cli_open_data("pca", data, AE_SPLIT_TRAIN, limit, NULL, shape, &train)) ||
        (rc = cli_open_data("pca", data, AE_SPLIT_TEST, 0, NULL, shape, &test))) {
        if (train) ae_dataset_free(train);
        return rc;
    }
    int d = train->c * train->h * train->w;
    ae_pca p = { 0 };
    float *x = NULL, *codes = NULL, *tiles = NULL;
    ae_error err = {{0}};
    if (test->c != train->c || test->h != train->h || test->w != train->w)
        rc = cli_fail(EXIT_ERROR, "pca", "--data %s: test images are %dx%dx%d but training images %dx%dx%d",
                      data, test->c, test->h, test->w, train->c, train->h, train->w);
    else if (k > d)
        rc = cli_fail(EXIT_USAGE, "pca", "--components %d: at most the %d pixel values of an image", k, d);
    else if (train->n < 2)
        rc = cli_fail(EXIT_ERROR, "pca", "--data %s: PCA needs at least 2 training images, got %d", data, train->n);
    else if (images_alike(train))
        rc = cli_fail(EXIT_ERROR, "pca", "--data %s: the %d training images are all the same: they have "
                      "no variance for components to keep", data, train->n);
    else if (ae_pca_fit_check(train->n, d, k, &err) != 0) /* before the images are converted */
        rc = cli_fail(EXIT_ERROR, "pca", "--data %s: %s", data, err.msg);
    if (rc == 0 && (rc = cli_make_dirs("pca", out)) == 0 &&
        !(x = cli_images("pca", train, 0, train->n)))
        rc = EXIT_ERROR;
    if (rc == 0) args_print_notes();
    char ntrain[32];
    cli_stage("pca", "fitting %d component%s on %s training images of %d values", k, k == 1 ? "" : "s",
              cli_count(train->n, ntrain, sizeof ntrain), d);
    double seconds = cli_now();
    if (rc == 0 && ae_pca_fit(&p, x, train->n, d, k, threads, &err) != 0)
        rc = cli_fail(EXIT_ERROR, "pca", "%s", err.msg);
    seconds = cli_now() - seconds;
    free(x);
    x = NULL;

    /* the files replace those of an earlier PCA in the folder all together,
     * or (on an error) not at all */
    cli_stage("pca", "writing the model, the test set's codes and the pictures");
    ae_atomic_group files;
    ae_atomic_group_begin(&files);
    if (rc == 0) {
        cli_join_path(path, sizeof path, out, pca_files[PCA_MODEL]);
        if (ae_pca_save(&p, path, &err) != 0) rc = cli_fail(EXIT_ERROR, "pca", "%s", err.msg);
    }
    /* the test set's codes (and labels) */
    if (rc == 0 && (!(x = cli_images("pca", test, 0, test->n)) ||
                    !(codes = malloc((size_t)test->n * k * sizeof *codes))))
        rc = x ? cli_fail(EXIT_ERROR, "pca", "out of memory for %d codes", test->n) : EXIT_ERROR;
    if (rc == 0) {
        ae_pca_encode(&p, x, test->n, codes);
        long cshape[2] = { test->n, k };
        cli_join_path(path, sizeof path, out, pca_files[PCA_CODES]);
        if (ae_npy_write_f32(path, codes, 2, cshape, &err) != 0)
            rc = cli_fail(EXIT_ERROR, "pca", "%s", err.msg);
        cli_join_path(path, sizeof path, out, pca_files[PCA_LABELS]);
        if (rc == 0 && test->labels && ae_npy_write_u8(path, test->labels, 1, cshape, &err) != 0)
            rc = cli_fail(EXIT_ERROR, "pca", "%s", err.msg);
    }
    /* pictures: reconstructions, components */
    int n = test->n < RECON_COUNT ? test->n : RECON_COUNT;
    int nc = k < MAX_COMPONENTS ? k : MAX_COMPONENTS;
    size_t tiles_n = (size_t)(2 * n > nc ? 2 * n : nc);
    if (rc == 0 && !(tiles = malloc(tiles_n * d * sizeof *tiles)))
        rc = cli_fail(EXIT_ERROR, "pca", "out of memory");
    if (rc == 0) {
        memcpy(tiles, x, (size_t)n * d * sizeof *tiles);
        ae_pca_decode(&p, codes, n, tiles + (size_t)n * d);
        cli_join_path(path, sizeof path, out, pca_files[PCA_RECONSTRUCTIONS]);
        static const char *const labels[] = { "input", "PCA reconstruction" };
        if (ae_picture_labelled_rows(path, tiles, 2, n, 0, labels, test->c, test->h, test->w,
                                     AE_PICTURE_SCALE, &err) != 0)
            rc = cli_fail(EXIT_ERROR, "pca", "%s", err.msg);
    }
    if (rc == 0) {
        memcpy(tiles, p.components, (size_t)nc * d * sizeof *tiles);
        for (int i = 0; i < nc; i++) ae_picture_minmax(tiles + (size_t)i * d, (size_t)d);
        cli_join_path(path, sizeof path, out, pca_files[PCA_COMPONENTS]);
        rc = cli_result("pca", ae_picture_grid(path, tiles, nc, nc < 8 ? nc : 8, test->c, test->h, test->w, AE_PICTURE_SCALE, &err),
                        &err);
    }
    if (rc == 0 && ae_atomic_group_commit(&files, &err) != 0)
        rc = cli_fail(EXIT_ERROR, "pca", "%s", err.msg);
    else if (rc != 0)
        ae_atomic_group_abort(&files);
    cli_stages_done();
    if (rc == 0 && !test->labels) {       /* an earlier set's labels would not be these codes' */
        cli_join_path(path, sizeof path, out, pca_files[PCA_LABELS]);
        remove(path);
    }
    if (rc == 0) {
        double kept = 0;
        for (int i = 0; i < k; i++) kept += p.variance[i];
        printf("PCA of %d training images of %s (%d values each): %d components keep %.2f%% of the "
               "variance (%.1f s)\n", train->n, cli_text(data), d, k,
               p.total_variance > 0 ? 100.0 * kept / p.total_variance : NAN, seconds);
        printf("folder: %s\n", cli_text(out));
        printf("  pca.safetensors      mean, components, variances\n");
        printf("  codes.npy            codes of the %d test images, shape (%d, %d)\n", test->n, test->n, k);
        if (test->labels) printf("  labels.npy           their labels\n");
        printf("  reconstructions.png  %d test images (row \"input\") over their PCA reconstructions\n", n);
        printf("  components.png       the top %d components as images (each min-max normalised)\n", nc);
    }
    free(x);
    free(codes);
    free(tiles);
    ae_pca_free(&p);
    ae_dataset_free(train);
    ae_dataset_free(test);
    return rc;
}
