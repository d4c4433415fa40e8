/* Helpers shared by the subcommands: error lines, number formatting, loading
 * a model and a test set. */
#define _POSIX_C_SOURCE 200809L
#include "cli/cli.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int cli_fail(int code, const char *cmd, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    for (char *p = msg; *p; p++)
        if (*p == '\n' || *p == '\r') *p = ' ';
    fflush(stdout);
    if (cmd) fprintf(stderr, "aekit %s: %s\n", cmd, msg);
    else     fprintf(stderr, "aekit: %s\n", msg);
    return code;
}

const char *cli_count(double n, char *buf, size_t size)
{
    if (!isfinite(n) || n < 0 || n >= 1e18) {
        snprintf(buf, size, "%.3g", n);
        return buf;
    }
    char digits[32];
    snprintf(digits, sizeof digits, "%.0f", n);
    size_t len = strlen(digits), o = 0;
    for (size_t i = 0; i < len && o + 1 < size; i++) {
        if (i > 0 && (len - i) % 3 == 0 && o + 2 < size) buf[o++] = ',';
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
    return buf;
}

int cli_load_model(const char *cmd, const char *path, ae_model **out)
{
    ae_error err = {{0}};
    if (ae_model_load(out, path, &err) != 0)
        return cli_fail(EXIT_ERROR, cmd, "%s", err.msg[0] ? err.msg : path);
    return 0;
}

int cli_check_shape(const char *cmd, const char *data, const ae_dataset *ds, const ae_model *m)
{
    int c, h, w;
    ae_model_input_shape(m, &c, &h, &w);
    if (ds->c != c || ds->h != h || ds->w != w)
        return cli_fail(EXIT_ERROR, cmd,
                        "--data %s: images are %dx%dx%d (channels x height x width) "
                        "but the model takes %dx%dx%d", data, ds->c, ds->h, ds->w, c, h, w);
    return 0;
}

int cli_open_test_set(const char *cmd, const char *data, int limit,
                      const ae_model *m, ae_dataset **out)
{
    ae_error err = {{0}};
    ae_dataset *ds = NULL;
    if (ae_dataset_open(&ds, data, AE_SPLIT_TEST, &err) != 0)
        return cli_fail(EXIT_ERROR, cmd, "%s", err.msg[0] ? err.msg : data);
    if (limit > 0) ae_dataset_truncate(ds, limit);
    if (ds->n <= 0) {
        ae_dataset_free(ds);
        return cli_fail(EXIT_ERROR, cmd, "--data %s: the test set has no images", data);
    }
    if (cli_check_shape(cmd, data, ds, m) != 0) {
        ae_dataset_free(ds);
        return EXIT_ERROR;
    }
    *out = ds;
    return 0;
}

const char *cli_model_data(const ae_model *m)
{
    const char *d = ae_model_meta(m, "aekit.train.data");
    return d && *d ? d : NULL;
}

double cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}
