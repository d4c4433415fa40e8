/* aekit reconstruct: a PNG of the first test images over their
 * reconstructions by a model. */
#define _POSIX_C_SOURCE 200809L
#include "cli/cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_IMAGES 500
#define SCALE      3

static const arg_flag reconstruct_flags[] = {
    { "data",    "NAME|DIR", "the data set the model was trained on",
      "data set name or folder of IDX files; its test split is used", 0 },
    { "n",       "N",        "10", "number of test images (one column each)", 0 },
    { "out",     "FILE",     "reconstructions.png", "PNG to write", 0 },
    { "threads", "N",        "0 = all cores", "threads to use", 0 },
    { NULL, NULL, NULL, NULL, 0 }
};

const arg_command reconstruct_command = {
    .name = "reconstruct",
    .summary = "draw test images (top row) over their reconstructions (bottom row)",
    .usage = "aekit reconstruct MODEL [--data NAME|DIR] [--n N] [--out FILE.png]",
    .positional = "MODEL",
    .flags = reconstruct_flags,
    .examples = "  aekit reconstruct runs/conv/model.safetensors --n 16 --out digits.png\n",
};

/* Fails when the folder that would hold `path` does not exist. */
static int check_out_folder(const char *path)
{
    char dir[4096];
    if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir)
        return cli_fail(EXIT_ERROR, "reconstruct", "--out %s: path too long", path);
    char *slash = strrchr(dir, '/');
    if (!slash) return 0;
    if (slash == dir) slash[1] = '\0'; else *slash = '\0';
    struct stat st;
    if (stat(dir, &st) != 0)
        return cli_fail(EXIT_ERROR, "reconstruct", "--out %s: folder %s: %s", path, dir, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return cli_fail(EXIT_ERROR, "reconstruct", "--out %s: %s is not a folder", path, dir);
    return 0;
}

static int draw(ae_model *m, const ae_dataset *test, int n, int threads, const char *out)
{
    size_t chw = (size_t)test->c * test->h * test->w;
    float *x = malloc(2 * (size_t)n * chw * sizeof *x);
    uint32_t *idx = malloc((size_t)n * sizeof *idx);
    if (!x || !idx) {
        free(x);
        free(idx);
        return cli_fail(EXIT_ERROR, "reconstruct", "out of memory for %d images", n);
    }
    for (int i = 0; i < n; i++) idx[i] = (uint32_t)i;
    ae_dataset_batch(test, idx, n, x);
    ae_error err = {{0}};
    int rc = ae_model_reconstruct(m, x, n, x + (size_t)n * chw, threads, &err);
    if (rc == 0) rc = ae_png_write_grid(out, x, 2, n, test->c, test->h, test->w, SCALE, &err);
    free(x);
    free(idx);
    if (rc != 0) return cli_fail(EXIT_ERROR, "reconstruct", "%s", err.msg);
    return 0;
}

int cmd_reconstruct(int argc, char **argv)
{
    args a;
    int rc = args_parse(&a, &reconstruct_command, argc, argv);
    if (rc) return rc;
    if (a.help) { args_print_help(&reconstruct_command, stdout); return EXIT_OK; }

    const char *path = a.positional[0], *data, *out;
    int n, threads;
    if ((rc = args_string(&a, "data", NULL, &data)) ||
        (rc = args_positive_int(&a, "n", 10, &n)) ||
        (rc = args_string(&a, "out", "reconstructions.png", &out)) ||
        (rc = args_nonnegative_int(&a, "threads", 0, &threads)))
        return rc;
    if (n > MAX_IMAGES)
        return cli_fail(EXIT_USAGE, "reconstruct", "--n: at most %d images, got %d", MAX_IMAGES, n);
    if ((rc = check_out_folder(out))) return rc;

    ae_model *m = NULL;
    if ((rc = cli_load_model("reconstruct", path, &m))) return rc;
    if (!data) data = cli_model_data(m);
    if (!data) {
        ae_model_free(m);
        return cli_fail(EXIT_USAGE, "reconstruct", "--data NAME|DIR is required (%s does not "
                        "record the data set it was trained on)", path);
    }
    ae_dataset *test = NULL;
    if ((rc = cli_open_test_set("reconstruct", data, 0, m, &test)) == 0) {
        if (n > test->n) n = test->n;
        rc = draw(m, test, n, threads, out);
        if (rc == 0) printf("%s: %d test images of %s (top) over their reconstructions (bottom)\n",
                            out, n, data);
    }
    if (test) ae_dataset_free(test);
    ae_model_free(m);
    return rc;
}
