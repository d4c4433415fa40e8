/* aekit eval: the loss, MSE and PSNR of a model on a data set's test split. */
#include "cli/cli.h"

#include <math.h>
#include <stdio.h>

static const arg_flag eval_flags[] = {
    { "data",    "NAME|DIR", "the data set the model was trained on",
      "data set name or folder of IDX files; its test split is used", 0 },
    { "limit",   "N",        "all", "evaluate on the first N test images only", 0 },
    { "threads", "N",        "0 = all cores", "threads to use", 0 },
    { "json",    NULL,       NULL,  "print one JSON object {\"loss\", \"mse\", \"psnr\"} instead", 0 },
    { NULL, NULL, NULL, NULL, 0 }
};

const arg_command eval_command = {
    .name = "eval",
    .summary = "measure a model on a test set: loss, MSE per pixel, PSNR",
    .usage = "aekit eval MODEL [--data NAME|DIR] [flags]",
    .positional = "MODEL",
    .flags = eval_flags,
    .examples = "  aekit eval runs/conv/model.safetensors --data mnist\n"
                "  aekit eval runs/conv/model.safetensors --limit 1000 --json\n",
};

/* JSON has no infinities (PSNR of a perfect model): those become null. */
static void print_json_number(const char *key, double v, const char *after)
{
    if (isfinite(v)) printf("\"%s\": %.9g%s", key, v, after);
    else             printf("\"%s\": null%s", key, after);
}

int cmd_eval(int argc, char **argv)
{
    args a;
    int rc = args_parse(&a, &eval_command, argc, argv);
    if (rc) return rc;
    if (a.help) { args_print_help(&eval_command, stdout); return EXIT_OK; }

    const char *path = a.positional[0], *data;
    int limit, threads;
    if ((rc = args_string(&a, "data", NULL, &data)) ||
        (rc = args_positive_int(&a, "limit", 0, &limit)) ||
        (rc = args_nonnegative_int(&a, "threads", 0, &threads)))
        return rc;

    ae_model *m = NULL;
    if ((rc = cli_load_model("eval", path, &m))) return rc;
    if (!data) data = cli_model_data(m);
    if (!data) {
        ae_model_free(m);
        return cli_fail(EXIT_USAGE, "eval", "--data NAME|DIR is required (%s does not record "
                        "the data set it was trained on)", path);
    }

    ae_dataset *test = NULL;
    ae_eval_result res;
    ae_error err = {{0}};
    if ((rc = cli_open_test_set("eval", data, limit, m, &test)) == 0 &&
        ae_evaluate(m, test, threads, &res, &err) != 0)
        rc = cli_fail(EXIT_ERROR, "eval", "%s", err.msg);
    if (rc == 0) {
        if (args_given(&a, "json")) {
            printf("{");
            print_json_number("loss", res.loss, ", ");
            print_json_number("mse", res.mse, ", ");
            print_json_number("psnr", res.psnr, "}\n");
        } else {
            printf("loss %.4f  mse %.4f  psnr %.2f dB\n", res.loss, res.mse, res.psnr);
        }
    }
    if (test) ae_dataset_free(test);
    ae_model_free(m);
    return rc;
}
