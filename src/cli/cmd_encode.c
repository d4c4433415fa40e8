/* aekit encode: the latent codes of a data set's images as a NumPy .npy
 * file (and their labels), so `numpy.load` reads them. */
#include "cli.h"
#include "aekit/files.h"

#include <stdio.h>
#include <stdlib.h>

static const char *const split_names[] = { "train", "test", NULL };

static const arg_flag encode_flags[] = {
    CLI_FLAGS_MODEL,
    { "data",    "NAME|DIR", "the data set the model was trained on", "data set name or folder", 0, 0, 0 },
    { "out",     "FILE",     NULL,   "codes to write: .npy, float32, shape (N, latent)", 1, 0, 0 },
    { "labels",  "FILE",     NULL,   "also write the labels: .npy, uint8, shape (N,)", 0, 0, 0 },
    { "split",   "NAME",     "test", "test or train", 0, 0, 0 },
    { "limit",   "N",        "all",  "the first N images of the split only", 0, 1, INT_MAX },
    ARGS_FLAG_THREADS,
    { NULL, NULL, NULL, NULL, 0, 0, 0 }
};

const arg_command encode_command = {
    .name = "encode",
    .summary = "write the latent codes of a data set's images to a .npy file",
    .usage = "aekit encode MODEL --out CODES.npy [--data NAME|DIR] [--labels LABELS.npy] [flags]",
    .positional = "MODEL",
    .flags = encode_flags,
    .examples = "  aekit encode runs/vae/model.safetensors --data mnist --out codes.npy --labels labels.npy\n"
                "  python3 -c 'import numpy; print(numpy.load(\"codes.npy\").shape)'\n",
    .more_help = NULL,
};

int cmd_encode(int argc, char **argv)
{
    args a;
    int rc = args_parse(&a, &encode_command, argc, argv);
    if (rc) return rc;
    if (a.help) { args_print_help(&encode_command, stdout); return EXIT_OK; }

    const char *path = a.positional[0], *data, *out, *labels_out;
    int split, limit, threads;
    if ((rc = args_string(&a, "data", NULL, &data)) ||
        (rc = args_required(&a, "out", &out)) ||
        (rc = args_string(&a, "labels", NULL, &labels_out)) ||
        (rc = args_choice(&a, "split", split_names, 1, &split)) ||
        (rc = args_int(&a, "limit", 0, &limit)) ||
        (rc = args_threads(&a, 0, &threads)))
        return rc;
    cli_file in[] = { { "MODEL", path, 0 } }, outs[] = { { "--out", out, 0 }, { "--labels", labels_out, 0 } };
    if ((rc = cli_check_io("encode", in, 1, outs, 2, data))) return rc;

    ae_model *m = NULL;
    if ((rc = cli_load_model("encode", &a, path, &m))) return rc;
    ae_dataset *ds = NULL;
    float *codes = NULL;
    ae_split which = split == 0 ? AE_SPLIT_TRAIN : AE_SPLIT_TEST;
    if ((rc = cli_data_for("encode", data, m, path, outs, 2, &data)) == 0 &&
        (rc = cli_open_data("encode", data, which, limit, m, NULL, &ds)) == 0) {
        if (labels_out && !ds->labels)
            rc = cli_fail(EXIT_ERROR, "encode", "--labels %s: --data %s has no labels", labels_out, data);
    }
    if (rc == 0) args_print_notes();
    if (rc == 0 && !(codes = cli_encode_set("encode", m, ds, ds->n, threads))) rc = EXIT_ERROR;
    if (rc == 0) {
        ae_error err = {{0}};
        long shape[2] = { ds->n, (long)ae_model_latent_size(m) };
        ae_atomic_group both;          /* both files replaced, or neither */
        ae_atomic_group_begin(&both);
        if (ae_npy_write_f32(out, codes, 2, shape, &err) != 0 ||
            (labels_out && ae_npy_write_u8(labels_out, ds->labels, 1, shape, &err) != 0)) {
            ae_atomic_group_abort(&both);
            rc = cli_fail(EXIT_ERROR, "encode", "%s", err.msg);
        } else if (ae_atomic_group_commit(&both, &err) != 0) {
            rc = cli_fail(EXIT_ERROR, "encode", "%s", err.msg);
        }
        if (rc == 0) {
            printf("%s: %ld codes of %ld values (float32) from the %s split of %s\n", cli_text(out), shape[0],
                   shape[1], split_names[split], cli_text(data));
            if (labels_out) printf("%s: their %ld labels (uint8)\n", cli_text(labels_out), shape[0]);
        }
    }
    free(codes);
    if (ds) ae_dataset_free(ds);
    ae_model_free(m);
    return rc;
}
