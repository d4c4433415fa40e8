/* Helpers shared by the subcommands: error lines, number formatting, loading
 * a model and a test set. */
#define _POSIX_C_SOURCE 200809L
#include "cli/cli.h"
#include "data/image_folder.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

int cli_is_upscaler(const ae_model *m)
{
    int ic, ih, iw, oc, oh, ow;
    ae_model_input_shape(m, &ic, &ih, &iw);
    ae_model_output_shape(m, &oc, &oh, &ow);
    return ih != oh || iw != ow;
}

int cli_check_shape(const char *cmd, const char *data, const ae_dataset *ds, const ae_model *m)
{
    int c, h, w, ic, ih, iw;
    ae_model_output_shape(m, &c, &h, &w);
    ae_model_input_shape(m, &ic, &ih, &iw);
    if (ds->c == c && ds->h == h && ds->w == w) return 0;
    if (!cli_is_upscaler(m))
        return cli_fail(EXIT_ERROR, cmd,
                        "--data %s: images are %dx%dx%d (channels x height x width) "
                        "but the model takes %dx%dx%d", data, ds->c, ds->h, ds->w, c, h, w);
    return cli_fail(EXIT_ERROR, cmd,
                    "--data %s: images are %dx%dx%d (channels x height x width) but the model "
                    "produces %dx%dx%d (from %dx%dx%d inputs it makes by downscaling them)",
                    data, ds->c, ds->h, ds->w, c, h, w, ic, ih, iw);
}

int cli_open_data(const char *cmd, const char *data, ae_split split, int limit,
                  const ae_model *m, const int *size, ae_dataset **out)
{
    ae_error err = {{0}};
    ae_dataset *ds = NULL;
    ae_image_options img = { 1, 28, 28, AE_FIT_RESIZE, 0 };
    if (m) { /* a data set of another size is refused from its headers */
        ae_model_output_shape(m, &img.c, &img.h, &img.w);
        img.refuse_mismatch = 1;
    }
    else if (size) { img.c = size[0]; img.h = size[1]; img.w = size[2]; }
    if (ae_dataset_open_ex(&ds, data, split, &img, &err) != 0)
        return cli_fail(EXIT_ERROR, cmd, "%s", err.msg[0] ? err.msg : data);
    if (limit > 0) ae_dataset_truncate(ds, limit);
    if (ds->n <= 0) {
        ae_dataset_free(ds);
        return cli_fail(EXIT_ERROR, cmd, "--data %s: the %s set has no images", data,
                        split == AE_SPLIT_TRAIN ? "training" : "test");
    }
    if (m && cli_check_shape(cmd, data, ds, m) != 0) {
        ae_dataset_free(ds);
        return EXIT_ERROR;
    }
    *out = ds;
    return 0;
}

int cli_open_test_set(const char *cmd, const char *data, int limit,
                      const ae_model *m, ae_dataset **out)
{
    return cli_open_data(cmd, data, AE_SPLIT_TEST, limit, m, NULL, out);
}

const char *cli_model_data(const ae_model *m)
{
    const char *d = ae_model_meta(m, "aekit.train.data");
    return d && *d ? d : NULL;
}

int cli_data_for(const char *cmd, const char *given, const ae_model *m, const char *model_path,
                 const char **out)
{
    *out = given ? given : cli_model_data(m);
    if (!*out)
        return cli_fail(EXIT_USAGE, cmd, "--data NAME|DIR is required (%s does not record "
                        "the data set it was trained on)", model_path);
    return 0;
}

int cli_check_out_file(const char *cmd, const char *what, const char *path)
{
    char dir[4096];
    const char *label = what ? what : "";
    const char *sep = what ? " " : "";
    if (!*path) return cli_fail(EXIT_USAGE, cmd, "%s%sempty file name", label, what ? ": " : "");
    if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir)
        return cli_fail(EXIT_ERROR, cmd, "%s%s%s: path too long", label, sep, path);
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return cli_fail(EXIT_ERROR, cmd, "%s%s%s: is a folder", label, sep, path);
    char *slash = strrchr(dir, '/');
    if (!slash) return 0;
    if (slash == dir) slash[1] = '\0'; else *slash = '\0';
    if (stat(dir, &st) != 0)
        return cli_fail(EXIT_ERROR, cmd, "%s%s%s: folder %s: %s", label, sep, path, dir, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return cli_fail(EXIT_ERROR, cmd, "%s%s%s: %s is not a folder", label, sep, path, dir);
    return 0;
}

int cli_parse_noise(const char *cmd, const char *flag, const char *text, ae_noise *nz)
{
    ae_error err = {{0}};
    if (ae_noise_parse(nz, text, &err) != 0)
        return cli_fail(EXIT_USAGE, cmd, "%s: %s", flag, err.msg);
    return 0;
}

void cli_model_noise(const ae_model *m, ae_noise *nz)
{
    const char *v = ae_model_meta(m, "aekit.train.noise");
    ae_error err;
    if (!v || ae_noise_parse(nz, v, &err) != 0) memset(nz, 0, sizeof *nz);
}

void cli_noise_text(const ae_noise *nz, char *buf, size_t size)
{
    switch (nz->kind) {
    case AE_NOISE_GAUSSIAN:    snprintf(buf, size, "gaussian:%g,%g", nz->mean, nz->std); break;
    case AE_NOISE_SALT_PEPPER: snprintf(buf, size, "saltpepper:%g", nz->p); break;
    default:                   snprintf(buf, size, "none"); break;
    }
}

int cli_parse_range(const char *cmd, const char *flag, const char *text, double *lo, double *hi)
{
    char *end;
    errno = 0;
    double a = strtod(text, &end);
    int ok = end != text && *end == ',' && !errno;
    double b = 0;
    if (ok) {
        const char *s = end + 1;
        b = strtod(s, &end);
        ok = end != s && !*end && !errno;
    }
    if (!ok || !isfinite(a) || !isfinite(b) || !(a < b))
        return cli_fail(EXIT_USAGE, cmd, "%s: expected LO,HI with LO < HI (e.g. -1,1), got '%s'", flag, text);
    *lo = a;
    *hi = b;
    return 0;
}

float *cli_images(const char *cmd, const ae_dataset *ds, int first, int n)
{
    size_t chw = (size_t)ds->c * ds->h * ds->w;
    float *x = malloc((size_t)(n > 0 ? n : 1) * chw * sizeof *x);
    uint32_t *idx = malloc((size_t)(n > 0 ? n : 1) * sizeof *idx);
    if (!x || !idx) {
        free(x);
        free(idx);
        cli_fail(EXIT_ERROR, cmd, "out of memory for %d images", n);
        return NULL;
    }
    for (int i = 0; i < n; i++) idx[i] = (uint32_t)(first + i);
    ae_dataset_batch(ds, idx, n, x);
    free(idx);
    return x;
}

float *cli_inputs(const char *cmd, const ae_model *m, const float *images, int n, int first,
                  const ae_noise *nz)
{
    int c, h, w;
    ae_model_input_shape(m, &c, &h, &w);
    size_t in_size = (size_t)c * h * w;
    float *x = malloc((size_t)(n > 0 ? n : 1) * in_size * sizeof *x);
    if (!x) {
        cli_fail(EXIT_ERROR, cmd, "out of memory for %d images", n);
        return NULL;
    }
    ae_error err = {{0}};
    if (ae_model_make_input(m, images, n, x, &err) != 0) {
        free(x);
        cli_fail(EXIT_ERROR, cmd, "%s", err.msg);
        return NULL;
    }
    if (nz && nz->kind != AE_NOISE_NONE)
        for (int i = 0; i < n; i++)
            ae_noise_apply(nz, x + (size_t)i * in_size, 1, in_size, CLI_NOISE_SEED, (uint64_t)(first + i));
    return x;
}

float *cli_encode_set(const char *cmd, ae_model *m, const ae_dataset *ds, int n, int threads)
{
    enum { CHUNK = 1024 };
    size_t L = ae_model_latent_size(m);
    float *codes = malloc((size_t)(n > 0 ? n : 1) * L * sizeof *codes);
    if (!codes) {
        cli_fail(EXIT_ERROR, cmd, "out of memory for %d codes of %zu values", n, L);
        return NULL;
    }
    for (int s = 0; s < n; s += CHUNK) {
        int cnt = n - s < CHUNK ? n - s : CHUNK;
        float *images = cli_images(cmd, ds, s, cnt);
        float *x = images ? cli_inputs(cmd, m, images, cnt, s, NULL) : NULL;
        ae_error err = {{0}};
        int rc = x ? ae_model_encode(m, x, cnt, codes + (size_t)s * L, threads, &err) : -1;
        if (x && rc != 0) cli_fail(EXIT_ERROR, cmd, "%s", err.msg);
        free(images);
        free(x);
        if (rc != 0) {
            free(codes);
            return NULL;
        }
    }
    return codes;
}

int cli_read_image(const char *cmd, const char *path, const ae_model *m, float **out)
{
    int c, h, w;
    ae_model_input_shape(m, &c, &h, &w);
    image_buf im = { 0 };
    ae_error err = {{0}};
    if (image_decode(&im, path, c, &err) != 0)
        return cli_fail(EXIT_ERROR, cmd, "%s", err.msg[0] ? err.msg : path);
    if (im.w != w || im.h != h) {
        int iw = im.w, ih = im.h;
        image_buf_free(&im);
        return cli_fail(EXIT_ERROR, cmd, "%s: image is %dx%d (width x height) but the model takes "
                        "%dx%d images", path, iw, ih, w, h);
    }
    float *x = malloc((size_t)c * h * w * sizeof *x);
    if (!x) {
        image_buf_free(&im);
        return cli_fail(EXIT_ERROR, cmd, "%s: out of memory", path);
    }
    for (int ch = 0; ch < c; ch++)
        for (int y = 0; y < h; y++)
            for (int i = 0; i < w; i++)
                x[((size_t)ch * h + y) * w + i] = im.px[((size_t)y * w + i) * c + ch] / 255.0f;
    image_buf_free(&im);
    *out = x;
    return 0;
}

int cli_apply_file(const char *cmd, ae_model *m, const char *in_path, const char *out_path,
                   const ae_noise *nz, int threads)
{
    int rc, c, h, w;
    if ((rc = cli_check_out_file(cmd, NULL, out_path))) return rc;
    float *x = NULL;
    if ((rc = cli_read_image(cmd, in_path, m, &x))) return rc;
    ae_model_input_shape(m, &c, &h, &w);
    if (nz && nz->kind != AE_NOISE_NONE)
        ae_noise_apply(nz, x, 1, (size_t)c * h * w, CLI_NOISE_SEED, 0);
    ae_model_output_shape(m, &c, &h, &w);
    float *y = malloc((size_t)c * h * w * sizeof *y);
    ae_error err = {{0}};
    rc = !y ? cli_fail(EXIT_ERROR, cmd, "%s: out of memory", in_path) : 0;
    if (rc == 0 && (ae_model_reconstruct(m, x, 1, y, threads, &err) != 0 ||
                    ae_png_write_grid(out_path, y, 1, 1, c, h, w, 1, &err) != 0))
        rc = cli_fail(EXIT_ERROR, cmd, "%s", err.msg);
    free(x);
    free(y);
    return rc;
}

int cli_make_dirs(const char *cmd, const char *dir)
{
    char path[4096];
    if (!*dir) return cli_fail(EXIT_USAGE, cmd, "--out: empty folder name");
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path)
        return cli_fail(EXIT_ERROR, cmd, "--out %s: path too long", dir);
    for (char *p = path + 1; ; p++) {
        if (*p != '/' && *p != '\0') continue;
        char saved = *p;
        *p = '\0';
        struct stat st;
        if (mkdir(path, 0777) != 0 && errno != EEXIST)
            return cli_fail(EXIT_ERROR, cmd, "--out %s: cannot create %s: %s", dir, path, strerror(errno));
        if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
            return cli_fail(EXIT_ERROR, cmd, "--out %s: %s exists and is not a folder", dir, path);
        *p = saved;
        if (saved == '\0') break;
    }
    return 0;
}

char *cli_model_summary(const ae_model *m)
{
    size_t want = ae_model_summary(m, NULL, 0);
    char *text = malloc(want + 1);
    if (text) ae_model_summary(m, text, want + 1);
    return text;
}

void cli_join_path(char *buf, size_t size, const char *dir, const char *name)
{
    size_t len = strlen(dir);
    snprintf(buf, size, "%s%s%s", dir, (len && dir[len - 1] == '/') ? "" : "/", name);
}

double cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}
