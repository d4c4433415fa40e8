/* Helpers shared by the subcommands: error lines, number formatting, loading
 * a model and a test set. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "image_outputs.h"
#include "aekit/files.h"
#include "aekit/pictures.h"
#include "aekit/text.h"
#include "aekit/image.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

int cli_char_escaped(unsigned cp)
{
    return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) || cp == 0x61c || cp == 0x200e ||
           cp == 0x200f || (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

/* The escape for code point cp (of n bytes at s), or "" to keep it. */
static void escape_one(unsigned cp, const unsigned char *s, size_t n, char *out, size_t size)
{
    static const char names[][3] = { ['\n'] = "\\n", ['\r'] = "\\r", ['\t'] = "\\t", [0x1b] = "\\e" };
    out[0] = '\0';
    if (n == 0)                                 /* not UTF-8: the raw byte */
        snprintf(out, size, "\\x%02x", s[0]);
    else if (!cli_char_escaped(cp))
        return;
    else if (cp < 0x20 && names[cp][0])
        snprintf(out, size, "%s", names[cp]);
    else if (cp < 0x20 || cp == 0x7f)
        snprintf(out, size, "\\x%02x", cp);
    else
        snprintf(out, size, "\\u%04x", cp);
}

void cli_escape(char *buf, size_t size, const char *text)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t used = 0;
    if (size < 4) {                             /* no room for "...": nothing */
        if (size) buf[0] = '\0';
        return;
    }
    while (*s) {
        unsigned cp = 0;
        size_t n = ae_utf8_decode(s, &cp), step = n ? n : 1;
        char esc[16];
        escape_one(cp, s, n, esc, sizeof esc);
        size_t len = esc[0] ? strlen(esc) : n;
        /* the text so far always leaves room for "..." and the NUL */
        size_t need = used + len + (s[step] ? 3 : 0) + 1;
        if (need > size) {
            memcpy(buf + used, "...", 4);
            return;
        }
        memcpy(buf + used, esc[0] ? esc : (const char *)s, len);
        used += len;
        s += step;
    }
    buf[used] = '\0';
}

const char *cli_text(const char *s)
{
    static char slots[CLI_TEXT_SLOTS][CLI_TEXT_MAX];
    static int next;
    char *buf = slots[next];
    next = (next + 1) % CLI_TEXT_SLOTS;
    cli_escape(buf, CLI_TEXT_MAX, s ? s : "(null)");
    return buf;
}

static char *error_sink;
static size_t error_sink_size;

void cli_errors_to(char *buf, size_t size)
{
    error_sink = buf;
    error_sink_size = size;
    if (buf && size) buf[0] = '\0';
}

int cli_fail(int code, const char *cmd, const char *fmt, ...)
{
    char msg[2048], shown[4 * sizeof msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cli_escape(shown, sizeof shown, msg);
    cli_stages_done();                  /* a terminal's stage line erased first */
    args_drop_notes();
    if (error_sink) {
        snprintf(error_sink, error_sink_size, "%s", shown);
        return code;
    }
    fflush(stdout);
    if (cmd) fprintf(stderr, "aekit %s: %s\n", cmd, shown);
    else     fprintf(stderr, "aekit: %s\n", shown);
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

void cli_option_flags(char *buf, size_t size, const char *msg)
{
    static const char tag[] = "option ";
    size_t used = 0;
    if (size == 0) return;
    while (*msg && used + 1 < size) {
        if (strncmp(msg, tag, sizeof tag - 1) == 0) {
            const char *name = msg + sizeof tag - 1;
            size_t len = strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_");
            char key[64];
            const ae_train_option *row = NULL;
            if (len > 0 && len < sizeof key) {
                memcpy(key, name, len);
                key[len] = '\0';
                row = ae_train_option_find(key);
            }
            if (row && row->flag) {
                int n = snprintf(buf + used, size - used, "--%s", row->flag);
                used = n < 0 ? used : used + (size_t)n < size ? used + (size_t)n : size - 1;
                msg = name + len;
                continue;
            }
        }
        buf[used++] = *msg++;
    }
    buf[used] = '\0';
}

#define MODEL_TEXT_MAX (1 << 20)   /* a model description is a few lines */

static int read_text_file(const char *path, char **out, ae_error *err)
{
    ae_error why = {{0}};
    FILE *f = ae_open_file(path, &why);
    if (!f) {
        snprintf(err->msg, sizeof err->msg, "--model %.*s", (int)sizeof err->msg - 9, why.msg);
        return -1;
    }
    char *text = malloc(MODEL_TEXT_MAX + 1);
    size_t n = text ? fread(text, 1, MODEL_TEXT_MAX + 1, f) : 0;
    int bad = !text || ferror(f);
    fclose(f);
    if (bad || n > MODEL_TEXT_MAX) {
        snprintf(err->msg, sizeof err->msg, "--model %s: %s", path,
                 !text ? "out of memory" : bad ? "cannot read the file"
                                               : "too large for a model description (over 1 MB)");
        free(text);
        return -1;
    }
    text[n] = '\0';
    if (strlen(text) != n) {
        snprintf(err->msg, sizeof err->msg, "--model %s: not a text file (has NUL bytes)", path);
        free(text);
        return -1;
    }
    *out = text;
    return 0;
}

int cli_build_model(const char *cmd, const char *spec, const char *preset, int latent, ae_model **out)
{
    ae_error err = {{0}};
    *out = NULL;
    if (preset) {
        if (ae_model_from_preset(out, preset, latent, &err) != 0)
            return cli_fail(EXIT_ERROR, cmd, "%s", err.msg);
    } else {
        struct stat st;
        if (stat(spec, &st) != 0 && !strchr(spec, '/') && !strchr(spec, '.')) {
            char names[256] = "", hint[128];
            int n = 0;
            const char *const *presets = ae_model_presets();
            for (const char *const *p = presets; p && *p; p++, n++) {
                size_t used = strlen(names);
                snprintf(names + used, sizeof names - used, "%s%s", used ? ", " : "", *p);
            }
            const char *near = presets ? ae_nearest_name(spec, strlen(spec), presets, n) : NULL;
            if (near) snprintf(hint, sizeof hint, "; did you mean '%s'?", near);
            else      hint[0] = '\0';
            return cli_fail(EXIT_USAGE, cmd,
                            "--model: '%s' is neither a preset (%s) nor a model description file%s",
                            spec, names, hint);
        }
        if (stat(spec, &st) == 0 && S_ISDIR(st.st_mode))
            return cli_fail(EXIT_ERROR, cmd, "--model %s: is a folder, not a model description file", spec);
        char *text = NULL;
        if (read_text_file(spec, &text, &err) != 0)
            return cli_fail(EXIT_ERROR, cmd, "%s", err.msg);
        int rc = ae_model_from_text(out, text, spec, latent, &err);
        free(text);
        if (rc != 0) return cli_fail(EXIT_ERROR, cmd, "%s", err.msg);
    }
    if (latent > 0 && ae_model_latent_size(*out) != (size_t)latent) {
        size_t have = ae_model_latent_size(*out);
        ae_model_free(*out);
        *out = NULL;
        return cli_fail(EXIT_USAGE, cmd, "--latent %d: model %s has a fixed latent of %zu values "
                        "(its description does not use {latent})", latent, spec, have);
    }
    return 0;
}

int cli_model_label(const char *cmd, const args *a, const char *path, const ae_model *m, int allow_all,
                    int *label)
{
    int rc, classes = ae_model_class_count(m);
    const char *text;
    if ((rc = args_string(a, "label", NULL, &text))) return rc;
    if (allow_all && text && strcmp(text, "all") == 0) *label = CLI_LABEL_ALL;
    else if (allow_all && text && !isdigit((unsigned char)text[0]))
        return cli_fail(EXIT_USAGE, cmd, "--label: expected a class (an integer) or 'all', got '%s'", text);
    else if ((rc = args_int(a, "label", -1, label))) return rc;
    if (!classes && *label != -1)
        return cli_fail(EXIT_USAGE, cmd, "--label: %s is not a conditional model (no 'condition' layer): "
                        "it takes no label", path);
    if (*label == CLI_LABEL_ALL) return 0;
    if (classes && *label < 0)
        return cli_fail(EXIT_USAGE, cmd, "%s is conditional on %d classes: give --label K (0 to %d)%s", path,
                        classes, classes - 1, allow_all ? " or --label all" : "");
    if (*label >= classes && classes)
        return cli_fail(EXIT_USAGE, cmd, "--label %d: %s has %d classes (0 to %d)", *label, path, classes,
                        classes - 1);
    return 0;
}

int cli_refuse_conditional(const char *cmd, const char *path, const ae_model *m)
{
    if (!ae_model_class_count(m)) return 0;
    return cli_fail(EXIT_ERROR, cmd, "%s is conditional on %d classes: %s has no label to give it (reconstruct, "
                    "eval, encode, scatter and perturb use the test labels; sample, decode and manifold take --label K)",
                    path, ae_model_class_count(m), cmd);
}

int cli_load_model(const char *cmd, const args *a, const char *path, ae_model **out)
{
    ae_error err = {{0}};
    const char *spec = NULL;
    int rc, latent = 0;
    *out = NULL;
    if (a && ((rc = args_string(a, "model", NULL, &spec)) || (rc = args_int(a, "latent", 0, &latent))))
        return rc;
    if (!spec) {
        if (latent)
            return cli_fail(EXIT_USAGE, cmd, "--latent: only with --model (a model file's own "
                            "description has its latent size)");
        if (ae_model_load(out, path, &err) != 0)
            return cli_fail(EXIT_ERROR, cmd, "%s", err.msg[0] ? err.msg : path);
        return 0;
    }
    /* the description built on its own first, so that its errors name
     * --model's file or preset; its text has {latent} filled in */
    const char *preset = NULL;
    for (const char *const *p = ae_model_presets(); p && *p && !preset; p++)
        if (strcmp(*p, spec) == 0) preset = *p;
    ae_model *described = NULL;
    if ((rc = cli_build_model(cmd, spec, preset, latent, &described))) return rc;
    rc = ae_model_load_as(out, path, ae_model_description(described), 0, &err);
    ae_model_free(described);
    if (rc != 0)
        return cli_fail(EXIT_ERROR, cmd, "%s, reading it as --model %s", err.msg[0] ? err.msg : path, spec);
    return 0;
}

int cli_fail_nonfinite(const char *cmd, const char *model_path, const ae_model *m, const char *what)
{
    char bad[256];
    int nbad = ae_model_nonfinite_tensors(m, bad, sizeof bad);
    if (nbad)
        return cli_fail(EXIT_ERROR, cmd, "%s: %s: its weights hold NaN or infinite values in %s",
                        model_path, what, bad);
    return cli_fail(EXIT_ERROR, cmd, "%s: %s although its weights are finite: a layer overflows the "
                    "float range on these images", model_path, what);
}

int cli_check_shape(const char *cmd, const char *data, const ae_dataset *ds, const ae_model *m)
{
    int c, h, w, ic, ih, iw;
    ae_model_output_shape(m, &c, &h, &w);
    ae_model_input_shape(m, &ic, &ih, &iw);
    if (ds->c == c && ds->h == h && ds->w == w) return 0;
    if (!ae_model_is_upscaler(m))
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
    if (ae_dataset_open(&ds, data, split, &img, &err) != 0) {
        /* MNIST not found anywhere: the source tree's script fetches it */
        char folder[AE_DATASET_PATH_SIZE];
        ae_error where = {{0}};
        int fetch = strcmp(data, "mnist") == 0 && ae_dataset_folder(folder, data, &where) != 0;
        return cli_fail(EXIT_ERROR, cmd, "%s%s", err.msg[0] ? err.msg : data,
                        fetch ? " (aekit's scripts/fetch-mnist.sh fetches them into data/mnist)" : "");
    }
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

/* The folder holding path's entry and the entry's name. */
static const char *split_path(const char *path, char *dir, size_t size)
{
    const char *slash = strrchr(path, '/');
    if (!slash) {
        snprintf(dir, size, ".");
        return path;
    }
    snprintf(dir, size, "%.*s", slash == path ? 1 : (int)(slash - path), path);
    return slash + 1;
}

static int same_inode(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* An output file can take the place of the entry at its path: none, a
 * regular file, or a symlink (the rename replaces the link, not its
 * target) to a regular file or to nothing. A folder, a device, FIFO or
 * socket, or a link to one, is refused: as root, --out /dev/null would put
 * a PNG in place of /dev/null. Its folder must exist. */
static int check_out_file(const char *cmd, const cli_file *o)
{
    char dir[4096];
    const char *what = o->what, *path = o->path;
    if (!*path) return cli_fail(EXIT_USAGE, cmd, "%s: empty file name", what);
    if (strlen(path) >= sizeof dir) return cli_fail(EXIT_ERROR, cmd, "%s %s: path too long", what, path);
    struct stat st, target;
    if (lstat(path, &st) == 0) {
        int link = S_ISLNK(st.st_mode), dangling = link && stat(path, &target) != 0;
        if (link && !dangling) st = target;
        if (!dangling && !S_ISREG(st.st_mode))
            return cli_fail(EXIT_ERROR, cmd, "%s %s: %s%s, not a regular file (aekit writes regular files "
                            "only)", what, path, link ? "a symbolic link to " : "is ", ae_file_kind(st.st_mode));
    }
    split_path(path, dir, sizeof dir);
    if (stat(dir, &st) != 0)
        return cli_fail(EXIT_ERROR, cmd, "%s %s: folder %s: %s", what, path, dir, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return cli_fail(EXIT_ERROR, cmd, "%s %s: %s is not a folder", what, path, dir);
    return 0;
}

/* Refuses an output that would replace an input (the same file by device
 * and inode, or the input's symlink) and two outputs naming one file. */
static int check_same_files(const char *cmd, const cli_file *inputs, int nin, const cli_file *outputs, int nout)
{
    for (int i = 0; i < nout; i++) {
        const cli_file *o = &outputs[i];
        struct stat out;
        if (!o->path || o->folder || lstat(o->path, &out) != 0) continue;
        /* the rename replaces the entry o->path: the file it names now,
         * or the symlink (the file behind a symlink stays) */
        for (int k = 0; k < nin; k++) {
            struct stat in, in_link;
            const cli_file *f = &inputs[k];
            if (!f->path) continue;
            if ((stat(f->path, &in) == 0 && same_inode(&out, &in)) ||
                (lstat(f->path, &in_link) == 0 && same_inode(&out, &in_link)))
                return cli_fail(EXIT_ERROR, cmd, "%s %s: is %s %s (the output would replace that input)",
                                o->what, o->path, f->what, f->path);
        }
    }
    for (int i = 0; i < nout; i++)
        for (int k = i + 1; k < nout; k++) {
            const cli_file *a = &outputs[i], *b = &outputs[k];
            if (!a->path || !b->path || a->folder || b->folder) continue;
            char da[4096], db[4096];
            const char *na = split_path(a->path, da, sizeof da), *nb = split_path(b->path, db, sizeof db);
            struct stat sa, sb;
            if (strcmp(na, nb) == 0 && stat(da, &sa) == 0 && stat(db, &sb) == 0 && same_inode(&sa, &sb))
                return cli_fail(EXIT_ERROR, cmd, "%s %s and %s %s: the same file (each output needs its own)",
                                a->what, a->path, b->what, b->path);
        }
    return 0;
}

/* 1 when folder `dir` (which may not exist yet: its nearest existing
 * ancestor counts) is `root` or lies inside it. */
static int inside_folder(const char *dir, const struct stat *root)
{
    char p[8192];
    struct stat st, up;
    snprintf(p, sizeof p, "%s", dir);
    while (stat(p, &st) != 0) {                    /* nearest existing folder */
        char *slash = strrchr(p, '/');
        if (!slash) { snprintf(p, sizeof p, "."); break; }
        if (slash == p) slash[1] = '\0'; else *slash = '\0';
    }
    for (int depth = 0; depth < 512 && stat(p, &st) == 0; depth++) {
        if (same_inode(&st, root)) return 1;
        size_t len = strlen(p);
        if (len + 4 >= sizeof p) break;
        memcpy(p + len, "/..", 4);
        if (stat(p, &up) != 0 || same_inode(&up, &st)) break;   /* reached / */
    }
    return 0;
}

/* Refuses outputs inside the folder of data set `data` (a name or a path):
 * aekit only reads data sets, and an output there could replace or add a
 * data file. Nothing is refused when `data` is not found (opening it
 * reports that). */
static int check_data_outputs(const char *cmd, const char *data, const cli_file *outputs, int nout)
{
    char folder[AE_DATASET_PATH_SIZE], dir[4096];
    struct stat root;
    ae_error err = {{0}};
    if (!data || ae_dataset_folder(folder, data, &err) != 0 || stat(folder, &root) != 0)
        return 0;                       /* opening the data set will say what is wrong */
    for (int i = 0; i < nout; i++) {
        const cli_file *o = &outputs[i];
        if (!o->path) continue;
        if (o->folder) snprintf(dir, sizeof dir, "%s", o->path);
        else           split_path(o->path, dir, sizeof dir);
        int named = strcmp(data, folder) != 0;    /* a name: say where it is */
        if (inside_folder(dir, &root))
            return cli_fail(EXIT_ERROR, cmd, "%s %s: inside the folder of data set %s%s%s%s, which aekit "
                            "only reads: write it elsewhere", o->what, o->path, data,
                            named ? " (" : "", named ? folder : "", named ? ")" : "");
    }
    return 0;
}

int cli_check_io(const char *cmd, const cli_file *inputs, int nin, const cli_file *outputs, int nout,
                 const char *data)
{
    int rc;
    for (int i = 0; i < nout; i++)
        if (outputs[i].path && !outputs[i].folder && (rc = check_out_file(cmd, &outputs[i]))) return rc;
    if ((rc = check_same_files(cmd, inputs, nin, outputs, nout))) return rc;
    return check_data_outputs(cmd, data, outputs, nout);
}

int cli_data_for(const char *cmd, const char *given, const ae_model *m, const char *model_path,
                 const cli_file *outputs, int nout, const char **out)
{
    *out = given ? given : cli_model_data(m);
    if (!*out)
        return cli_fail(EXIT_USAGE, cmd, "--data NAME|DIR is required (%s does not record "
                        "the data set it was trained on)", model_path);
    /* a given --data was checked with the other files, before the model was read */
    return given ? 0 : check_data_outputs(cmd, *out, outputs, nout);
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
    /* latent codes are floats: both ends must be float numbers, apart as floats */
    if (!ok || !(fabs(a) <= FLT_MAX) || !(fabs(b) <= FLT_MAX) || !((float)a < (float)b))
        return cli_fail(EXIT_USAGE, cmd, "%s: expected LO,HI with LO < HI, finite float numbers "
                        "(e.g. -1,1), got '%s'", flag, text);
    *lo = a;
    *hi = b;
    return 0;
}

float *cli_images(const char *cmd, const ae_dataset *ds, int first, int n)
{
    ae_error err = {{0}};
    float *x = ae_dataset_images(ds, first, n, &err);
    if (!x) cli_fail(EXIT_ERROR, cmd, "%s", err.msg);
    return x;
}

float *cli_encode_set(const char *cmd, ae_model *m, const ae_dataset *ds, int n, int threads)
{
    ae_error err = {{0}};
    float *codes = ae_dataset_codes(m, ds, n, threads, &err);
    if (!codes) cli_fail(EXIT_ERROR, cmd, "%s", err.msg);
    return codes;
}

int cli_result(const char *cmd, int rc, const ae_error *err)
{
    return rc == 0 ? 0 : cli_fail(EXIT_ERROR, cmd, "%s", err->msg);
}

int cli_read_image(const char *cmd, const char *path, const ae_model *m, float **out)
{
    int c, h, w;
    ae_model_input_shape(m, &c, &h, &w);
    ae_image im = { 0 };
    ae_error err = {{0}};
    if (ae_image_decode(&im, path, c, &err) != 0)
        return cli_fail(EXIT_ERROR, cmd, "%s", err.msg[0] ? err.msg : path);
    if (im.w != w || im.h != h) {
        int iw = im.w, ih = im.h;
        ae_image_free(&im);
        return cli_fail(EXIT_ERROR, cmd, "%s: image is %dx%d (width x height) but the model takes "
                        "%dx%d images", path, iw, ih, w, h);
    }
    float *x = malloc((size_t)c * h * w * sizeof *x);
    if (!x) {
        ae_image_free(&im);
        return cli_fail(EXIT_ERROR, cmd, "%s: out of memory", path);
    }
    ae_image_to_floats(&im, x);
    ae_image_free(&im);
    *out = x;
    return 0;
}

int cli_apply_file(const char *cmd, ae_model *m, const char *in_path, const char *out_path,
                   const char *npy_path, const ae_noise *nz, int threads)
{
    int rc, c, h, w;
    float *x = NULL;
    if ((rc = cli_refuse_conditional(cmd, in_path, m)) || (rc = cli_read_image(cmd, in_path, m, &x))) return rc;
    ae_model_input_shape(m, &c, &h, &w);
    if (nz && nz->kind != AE_NOISE_NONE)
        ae_noise_apply(nz, x, 1, (size_t)c * h * w, AE_EVAL_NOISE_SEED, 0);
    ae_model_output_shape(m, &c, &h, &w);
    float *y = malloc((size_t)c * h * w * sizeof *y);
    ae_error err = {{0}};
    rc = !y ? cli_fail(EXIT_ERROR, cmd, "%s: out of memory", in_path) : 0;
    if (rc == 0) args_print_notes();
    if (rc == 0 && ae_model_reconstruct(m, NULL, x, 1, y, threads, &err) != 0)
        rc = cli_fail(EXIT_ERROR, cmd, "%s", err.msg);
    if (rc == 0) {
        ae_atomic_group g;
        ae_atomic_group_begin(&g);
        int drawn = out_path ? ae_png_write_grid(out_path, y, 1, 1, c, h, w, 1, &err) : 0;
        rc = image_outputs_commit(cmd, &g, drawn, &err, npy_path, y, 1, c, h, w);
    }
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
