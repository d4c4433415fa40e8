/* Pictures of a model at work (aekit/pictures.h): the CLI's commands and
 * the run folder of aekit train draw these. */
#define _POSIX_C_SOURCE 200809L
#include "aekit/pictures.h"
#include "aekit/analysis.h"
#include "aekit/charts.h"
#include "core/error.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- images, inputs and codes of a data set ---------------------------------- */

int ae_model_is_upscaler(const ae_model *m)
{
    int ic, ih, iw, oc, oh, ow;
    ae_model_input_shape(m, &ic, &ih, &iw);
    ae_model_output_shape(m, &oc, &oh, &ow);
    return ih != oh || iw != ow;
}

int ae_model_upscale_factor(const ae_model *m)
{
    int ic, ih, iw, oc, oh, ow;
    ae_model_input_shape(m, &ic, &ih, &iw);
    ae_model_output_shape(m, &oc, &oh, &ow);
    return ih > 0 ? oh / ih : 1;
}

char *ae_model_summary_alloc(const ae_model *m)
{
    size_t want = ae_model_summary(m, NULL, 0);
    char *text = malloc(want + 1);
    if (text) ae_model_summary(m, text, want + 1);
    return text;
}

/* Images [first, first + n) must be images of ds: the functions here index
 * its pixels with them. */
static int check_images(const ae_dataset *ds, int first, int n, ae_error *err)
{
    if (first < 0 || n < 1 || first > ds->n - n)
        return ae_fail(err, "%s: %d images from index %d asked for, the data set has %d images",
                       ds->source, n, first, ds->n);
    return 0;
}

float *ae_dataset_images(const ae_dataset *ds, int first, int n, ae_error *err)
{
    if (check_images(ds, first, n, err)) return NULL;
    size_t chw = (size_t)ds->c * ds->h * ds->w;
    float *x = malloc((size_t)(n > 0 ? n : 1) * chw * sizeof *x);
    uint32_t *idx = malloc((size_t)(n > 0 ? n : 1) * sizeof *idx);
    if (!x || !idx) {
        free(x);
        free(idx);
        ae_fail(err, "out of memory for %d images", n);
        return NULL;
    }
    for (int i = 0; i < n; i++) idx[i] = (uint32_t)(first + i);
    ae_dataset_batch(ds, idx, n, x);
    free(idx);
    return x;
}

int *ae_dataset_labels_for(const ae_model *m, const ae_dataset *ds, int first, int n, ae_error *err)
{
    int classes = ae_model_class_count(m);
    if (!classes) return NULL;
    if (check_images(ds, first, n, err)) return NULL;
    if (!ds->labels) {
        ae_fail(err, "%s: the model is conditional on %d classes, the data set has no labels", ds->source, classes);
        return NULL;
    }
    int *labels = malloc((size_t)n * sizeof *labels);
    if (!labels) {
        ae_fail(err, "out of memory for %d labels", n);
        return NULL;
    }
    for (int i = 0; i < n; i++) labels[i] = ds->labels[first + i];
    return labels;
}

/* ae_model_encode / ae_model_reconstruct of images [first, first + n) of
 * ds (x: their model inputs), with their labels for a conditional model. */
static int run_images(const ae_model *m, ae_workspace *ws, const ae_dataset *ds, int first, const float *x,
                      int n, float *out, int encode, int threads, ae_error *err)
{
    if (!ae_model_class_count(m))
        return encode ? ae_model_encode(m, ws, x, n, out, threads, err)
                      : ae_model_reconstruct(m, ws, x, n, out, threads, err);
    int *labels = ae_dataset_labels_for(m, ds, first, n, err);
    if (!labels) return -1;
    int rc = encode ? ae_model_encode_labels(m, ws, x, labels, n, out, threads, err)
                    : ae_model_reconstruct_labels(m, ws, x, labels, n, out, threads, err);
    free(labels);
    return rc;
}

float *ae_model_inputs(const ae_model *m, const float *images, int n, int first, const ae_noise *nz,
                       ae_error *err)
{
    int c, h, w;
    ae_model_input_shape(m, &c, &h, &w);
    size_t in_size = (size_t)c * h * w;
    float *x = malloc((size_t)(n > 0 ? n : 1) * in_size * sizeof *x);
    if (!x) {
        ae_fail(err, "out of memory for %d images", n);
        return NULL;
    }
    if (ae_model_make_input(m, images, n, x, err) != 0) {
        free(x);
        return NULL;
    }
    if (nz && nz->kind != AE_NOISE_NONE)
        for (int i = 0; i < n; i++)
            ae_noise_apply(nz, x + (size_t)i * in_size, 1, in_size, AE_EVAL_NOISE_SEED,
                           (uint64_t)(first + i));
    return x;
}

float *ae_dataset_codes(const ae_model *m, const ae_dataset *ds, int n, int threads, ae_error *err)
{
    enum { CHUNK = 1024 };
    if (check_images(ds, 0, n, err)) return NULL;
    size_t L = ae_model_latent_size(m);
    float *codes = malloc((size_t)(n > 0 ? n : 1) * L * sizeof *codes);
    if (!codes) {
        ae_fail(err, "out of memory for %d codes of %zu values", n, L);
        return NULL;
    }
    /* one workspace for all the chunks */
    ae_workspace *ws = NULL;
    if (ae_workspace_new(&ws, m, threads, err) != 0) {
        free(codes);
        return NULL;
    }
    for (int s = 0; s < n; s += CHUNK) {
        int cnt = n - s < CHUNK ? n - s : CHUNK;
        float *images = ae_dataset_images(ds, s, cnt, err);
        float *x = images ? ae_model_inputs(m, images, cnt, s, NULL, err) : NULL;
        int rc = x ? run_images(m, ws, ds, s, x, cnt, codes + (size_t)s * L, 1, threads, err) : -1;
        free(images);
        free(x);
        if (rc != 0) {
            free(codes);
            codes = NULL;
            break;
        }
    }
    ae_workspace_free(ws);
    return codes;
}

/* ---- grids of images ------------------------------------------------------------ */

void ae_picture_resize_nearest(const float *in, int n, int c, int ih, int iw, int oh, int ow, float *out)
{
    for (long p = 0; p < (long)n * c; p++) {
        const float *src = in + (size_t)p * ih * iw;
        float *dst = out + (size_t)p * oh * ow;
        for (int y = 0; y < oh; y++) {
            int sy = (int)((long)y * ih / oh);
            for (int x = 0; x < ow; x++) dst[(size_t)y * ow + x] = src[(size_t)sy * iw + (long)x * iw / ow];
        }
    }
}

void ae_picture_minmax(float *x, size_t n)
{
    if (n == 0) return;
    float lo = x[0], hi = x[0];
    for (size_t i = 1; i < n; i++) {
        if (x[i] < lo) lo = x[i];
        if (x[i] > hi) hi = x[i];
    }
    for (size_t i = 0; i < n; i++) x[i] = hi > lo ? (x[i] - lo) / (hi - lo) : 0.5f;
}

int ae_picture_grid(const char *path, const float *images, int n, int cols, int c, int h, int w,
                    int scale, ae_error *err)
{
    if (cols > n) cols = n;
    if (cols < 1) cols = 1;
    int rows = (n + cols - 1) / cols;
    size_t chw = (size_t)c * h * w;
    const float *tiles = images;
    float *padded = NULL;
    if ((size_t)rows * cols != (size_t)n) {
        padded = calloc((size_t)rows * cols * chw, sizeof *padded);
        if (!padded) return ae_fail(err, "%s: out of memory", path);
        memcpy(padded, images, (size_t)n * chw * sizeof *padded);
        tiles = padded;
    }
    int rc = ae_png_write_grid(path, tiles, rows, cols, c, h, w, scale, err);
    free(padded);
    if (rc != 0) return -1;
    return 0;
}

/* The rows ae_picture_rows draws for m and nz and their labels: 2
 * ("input", "reconstruction"), or 3 when the model's input is shown
 * (noise or super-resolution). */
static int rows_layout(const ae_model *m, const ae_noise *nz, const char *labels[3])
{
    int noisy = nz && nz->kind != AE_NOISE_NONE, up = ae_model_is_upscaler(m);
    labels[0] = "input";
    labels[1] = "reconstruction";
    labels[2] = NULL;
    if (!noisy && !up) return 2;
    labels[0] = up ? (noisy ? "noisy low-res" : "low-res input") : "noisy input";
    labels[1] = up ? "upscaled" : "denoised";
    labels[2] = "original";
    return 3;
}

int ae_picture_rows_images(const ae_model *m, const ae_dataset *ds, int first, int n, const ae_noise *nz,
                           int threads, float **out, int *nrows, ae_error *err)
{
    int ic, ih, iw, c, h, w;
    ae_model_input_shape(m, &ic, &ih, &iw);
    ae_model_output_shape(m, &c, &h, &w);
    size_t out_size = (size_t)c * h * w;
    const char *labels[3];
    int rows = rows_layout(m, nz, labels), show_input = rows == 3;
    if (nrows) *nrows = rows;

    float *images = ae_dataset_images(ds, first, n, err);
    if (!images) return -1;
    float *x = ae_model_inputs(m, images, n, first, nz, err);
    float *tiles = x ? malloc((size_t)rows * n * out_size * sizeof *tiles) : NULL;
    if (!tiles) {
        free(images);
        free(x);
        return x ? ae_fail(err, "out of memory for %d images", n) : -1;
    }
    int rc;
    if (show_input) {
        /* input (at the output size), output, original */
        ae_picture_resize_nearest(x, n, ic, ih, iw, h, w, tiles);
        rc = run_images(m, NULL, ds, first, x, n, tiles + (size_t)n * out_size, 0, threads, err);
        memcpy(tiles + 2 * (size_t)n * out_size, images, (size_t)n * out_size * sizeof *tiles);
    } else {
        memcpy(tiles, images, (size_t)n * out_size * sizeof *tiles);
        rc = run_images(m, NULL, ds, first, x, n, tiles + (size_t)n * out_size, 0, threads, err);
    }
    free(x);
    free(images);
    if (rc != 0) {
        free(tiles);
        return -1;
    }
    *out = tiles;
    return 0;
}

int ae_picture_rows_png(const ae_model *m, const ae_noise *nz, const float *tiles, int n, int cols,
                        const char *path, ae_error *err)
{
    int c, h, w;
    const char *labels[3];
    int rows = rows_layout(m, nz, labels);
    ae_model_output_shape(m, &c, &h, &w);
    return ae_picture_labelled_rows(path, tiles, rows, n, cols, labels, c, h, w, AE_PICTURE_SCALE, err);
}

int ae_picture_rows(const ae_model *m, const ae_dataset *ds, int first, int n, int cols,
                    const ae_noise *nz, int threads, const char *path, int *nrows, ae_error *err)
{
    float *tiles = NULL;
    if (ae_picture_rows_images(m, ds, first, n, nz, threads, &tiles, nrows, err) != 0) return -1;
    int rc = ae_picture_rows_png(m, nz, tiles, n, cols, path, err);
    free(tiles);
    return rc;
}

int ae_picture_decode(const ae_model *m, const float *codes, int n, int threads, float **out,
                            ae_error *err)
{
    return ae_picture_decode_labels(m, codes, NULL, n, threads, out, err);
}

int ae_picture_decode_labels(const ae_model *m, const float *codes, const int *labels, int n, int threads,
                             float **out, ae_error *err)
{
    int c, h, w;
    ae_model_output_shape(m, &c, &h, &w);
    float *y = malloc((size_t)(n > 0 ? n : 1) * c * h * w * sizeof *y);
    if (!y) return ae_fail(err, "out of memory for %d images", n);
    int rc = labels ? ae_model_decode_labels(m, NULL, codes, labels, n, y, threads, err)
                    : ae_model_decode(m, NULL, codes, n, y, threads, err);
    if (rc != 0) {
        free(y);
        return -1;
    }
    *out = y;
    return 0;
}

int ae_picture_samples(const ae_model *m, int n, int cols, uint64_t seed, int threads,
                             const char *path, ae_error *err)
{
    int c, h, w;
    ae_model_output_shape(m, &c, &h, &w);
    float *y = malloc((size_t)n * c * h * w * sizeof *y);
    if (!y) return ae_fail(err, "out of memory for %d images", n);
    if (ae_model_sample(m, NULL, n, seed, y, threads, err) != 0) {
        free(y);
        return -1;
    }
    int rc = ae_picture_grid(path, y, n, cols, c, h, w, AE_PICTURE_SCALE, err);
    free(y);
    return rc;
}

int ae_picture_class_samples(const ae_model *m, int per_class, uint64_t seed, int threads, const char *path,
                             ae_error *err)
{
    int classes = ae_model_class_count(m), c, h, w;
    if (!classes) return ae_fail(err, "%s: the model is not conditional: it has no classes to draw", path);
    int n = classes * per_class;
    ae_model_output_shape(m, &c, &h, &w);
    float *y = malloc((size_t)n * c * h * w * sizeof *y);
    int *labels = malloc((size_t)n * sizeof *labels);
    if (!y || !labels) {
        free(y);
        free(labels);
        return ae_fail(err, "out of memory for %d images", n);
    }
    for (int i = 0; i < n; i++) labels[i] = i / per_class;
    int rc = ae_model_sample_labels(m, NULL, labels, n, seed, y, threads, err);
    if (rc == 0) rc = ae_picture_grid(path, y, n, per_class, c, h, w, AE_PICTURE_SCALE, err);
    free(y);
    free(labels);
    return rc;
}

void ae_picture_manifold_range(const ae_model *m, double lo[2], double hi[2])
{
    lo[0] = lo[1] = -1.0;
    hi[0] = hi[1] = 1.0;
    if (ae_model_is_variational(m) || ae_model_is_adversarial(m) || ae_model_latent_size(m) != 2)
        return;
    float mean[2], std[2];
    ae_error ignored;   /* no fitted Gaussian: the default range */
    if (ae_model_latent_gaussian(m, mean, std, &ignored) != 0) return;
    for (int k = 0; k < 2; k++)
        if (std[k] > 0 && isfinite(mean[k]) && isfinite(std[k])) {
            lo[k] = mean[k] - 2.0 * std[k];
            hi[k] = mean[k] + 2.0 * std[k];
        }
}

int ae_picture_manifold_images(const ae_model *m, int grid, const double lo[2], const double hi[2],
                               int threads, float **out, ae_error *err)
{
    return ae_picture_manifold_images_label(m, grid, lo, hi, -1, threads, out, err);
}

int ae_picture_manifold_images_label(const ae_model *m, int grid, const double lo[2], const double hi[2],
                                     int label, int threads, float **out, ae_error *err)
{
    size_t L = ae_model_latent_size(m);
    if (L != 2)
        return ae_fail(err, "the manifold sweeps a 2-D latent, but this model's latent "
                        "has %zu values (build one with latent 2)", L);
    float *codes = malloc((size_t)grid * grid * 2 * sizeof *codes);
    if (!codes) return ae_fail(err, "out of memory");
    for (int i = 0; i < grid; i++)
        for (int j = 0; j < grid; j++) {
            double t0 = grid > 1 ? (double)j / (grid - 1) : 0.5, t1 = grid > 1 ? (double)i / (grid - 1) : 0.5;
            codes[((size_t)i * grid + j) * 2] = (float)(lo[0] + t0 * (hi[0] - lo[0]));
            codes[((size_t)i * grid + j) * 2 + 1] = (float)(lo[1] + t1 * (hi[1] - lo[1]));
        }
    int *labels = label >= 0 ? malloc((size_t)grid * grid * sizeof *labels) : NULL;
    if (label >= 0 && !labels) {
        free(codes);
        return ae_fail(err, "out of memory");
    }
    for (int i = 0; labels && i < grid * grid; i++) labels[i] = label;
    int rc = ae_picture_decode_labels(m, codes, labels, grid * grid, threads, out, err);
    free(codes);
    free(labels);
    return rc;
}

int ae_picture_class_manifolds_images(const ae_model *m, int grid, const double lo[2], const double hi[2],
                                      int threads, float **out, ae_error *err)
{
    int classes = ae_model_class_count(m), c, h, w;
    if (!classes) return ae_fail(err, "the model is not conditional: it has one manifold, not one per class");
    ae_model_output_shape(m, &c, &h, &w);
    size_t per = (size_t)grid * grid * c * h * w;
    float *all = malloc((size_t)classes * per * sizeof *all);
    if (!all) return ae_fail(err, "out of memory for %d manifolds", classes);
    for (int k = 0; k < classes; k++) {
        float *one = NULL;
        if (ae_picture_manifold_images_label(m, grid, lo, hi, k, threads, &one, err) != 0) {
            free(all);
            return -1;
        }
        memcpy(all + (size_t)k * per, one, per * sizeof *all);
        free(one);
    }
    *out = all;
    return 0;
}

int ae_picture_class_manifolds_png(const char *path, const float *images, int classes, int grid, int c, int h,
                                   int w, ae_error *err)
{
    /* the classes' grids in blocks of grid x grid tiles, AE_PICTURE_CLASS_BLOCKS
     * a row, a grey tile between blocks */
    int bc = classes < AE_PICTURE_CLASS_BLOCKS ? classes : AE_PICTURE_CLASS_BLOCKS;
    int br = (classes + bc - 1) / bc;
    int cols = bc * (grid + 1) - 1, rows = br * (grid + 1) - 1;
    size_t chw = (size_t)c * h * w;
    float *tiles = malloc((size_t)rows * cols * chw * sizeof *tiles);
    if (!tiles) return ae_fail(err, "%s: out of memory", path);
    for (size_t i = 0; i < (size_t)rows * cols * chw; i++) tiles[i] = 0.5f;
    for (int k = 0; k < classes; k++)
        for (int i = 0; i < grid; i++)
            for (int j = 0; j < grid; j++) {
                int r = (k / bc) * (grid + 1) + i, q = (k % bc) * (grid + 1) + j;
                memcpy(tiles + ((size_t)r * cols + q) * chw, images + (((size_t)k * grid + i) * grid + j) * chw,
                       chw * sizeof *tiles);
            }
    int rc = ae_png_write_grid(path, tiles, rows, cols, c, h, w, 1, err);
    free(tiles);
    return rc;
}

int ae_picture_manifold_png(const char *path, const float *images, int grid, int c, int h, int w,
                            ae_error *err)
{
    return ae_picture_grid(path, images, grid * grid, grid, c, h, w, grid > 16 ? 1 : 2, err);
}

int ae_picture_manifold(const ae_model *m, int grid, const double lo[2], const double hi[2],
                              int threads, const char *path, ae_error *err)
{
    float *y = NULL;
    int rc = ae_picture_manifold_images(m, grid, lo, hi, threads, &y, err);
    if (rc) return rc;
    int c, h, w;
    ae_model_output_shape(m, &c, &h, &w);
    rc = ae_picture_manifold_png(path, y, grid, c, h, w, err);
    free(y);
    return rc;
}

/* ---- codes as images ------------------------------------------------------------ */

/* A float canvas of c channels, filled with grey; tiles are drawn into it. */
typedef struct {
    int    c, h, w;
    float *px;
} canvas;

static void canvas_put(canvas *cv, const float *img, int ic, int h, int w, int scale, int x0, int y0)
{
    for (int ch = 0; ch < cv->c; ch++) {
        const float *src = img + (size_t)(ic == 1 ? 0 : ch) * h * w;
        float *dst = cv->px + (size_t)ch * cv->h * cv->w;
        for (int y = 0; y < h * scale; y++)
            for (int x = 0; x < w * scale; x++)
                if (y0 + y < cv->h && x0 + x < cv->w)
                    dst[(size_t)(y0 + y) * cv->w + x0 + x] = src[(size_t)(y / scale) * w + x / scale];
    }
}

int ae_picture_codes(const ae_model *m, const ae_dataset *ds, int n, int threads, const char *path,
                           ae_error *err)
{
    if (check_images(ds, 0, n, err)) return -1;
    int c, h, w, lc, lh, lw;
    ae_model_output_shape(m, &c, &h, &w);
    ae_model_latent_layout(m, &lc, &lh, &lw);
    size_t L = ae_model_latent_size(m);
    /* a code image: lc tiles of lh x lw in gr rows x gc columns, 1-pixel
     * gaps; a flat code (lh = lw = 1) is one near-square block instead */
    int gc, gr, th, tw, tiles;
    if (lh > 1 || lw > 1) {
        tiles = lc;
        th = lh;
        tw = lw;
        /* the divisor of lc nearest to a square block (8 channels: 2 x 4) */
        gc = lc;
        double best = 1e300;
        for (int d = 1; d <= lc; d++) {
            if (lc % d) continue;
            int r = lc / d;
            double aspect = (double)(d * lw) / (r * lh);
            double score = fabs(log(aspect / 2.0));   /* a little wider than tall */
            if (score < best) { best = score; gc = d; }
        }
        gr = lc / gc;
    } else {
        tiles = 1;
        tw = (int)ceil(sqrt((double)L));
        th = (int)((L + (size_t)tw - 1) / (size_t)tw);
        gc = gr = 1;
    }
    int code_w = gc * tw + (gc - 1), code_h = gr * th + (gr - 1);
    int cell = w * AE_PICTURE_SCALE;                          /* the column width */
    int cs = cell / (code_w > code_h ? code_w : code_h);
    if (cs > 21) cs = 21;
    if (cs < 1) cs = 1;
    int gap = AE_PICTURE_SCALE;
    canvas cv = { c, h * AE_PICTURE_SCALE + gap + code_h * cs, 0, NULL };
    int col_w = cell > code_w * cs ? cell : code_w * cs;
    cv.w = n * col_w + (n - 1) * gap;
    cv.px = malloc((size_t)cv.c * cv.h * cv.w * sizeof *cv.px);
    float *images = ae_dataset_images(ds, 0, n, err);
    float *codes = images ? ae_dataset_codes(m, ds, n, threads, err) : NULL;
    float *block = malloc(((size_t)code_h * code_w + L) * sizeof *block);
    if (!cv.px || !codes || !block) {
        int had = images && codes;
        free(cv.px);
        free(images);
        free(codes);
        free(block);
        return had ? ae_fail(err, "%s: out of memory", path) : -1;
    }
    for (size_t i = 0; i < (size_t)cv.c * cv.h * cv.w; i++) cv.px[i] = 0.5f;
    /* one min-max over all the shown codes, so that they compare (a code
     * of 2 values normalised on its own would always be black and white) */
    ae_picture_minmax(codes, (size_t)n * L);
    for (int k = 0; k < n; k++) {
        int x0 = k * (col_w + gap);
        canvas_put(&cv, images + (size_t)k * c * h * w, c, h, w, AE_PICTURE_SCALE, x0 + (col_w - cell) / 2, 0);
        float *z = block + (size_t)code_h * code_w;
        memcpy(z, codes + (size_t)k * L, L * sizeof *z);
        for (int i = 0; i < code_h * code_w; i++) block[i] = 0.5f;
        if (tiles > 1) {
            for (int t = 0; t < tiles; t++) {
                int r = t / gc, q = t % gc;
                for (int y = 0; y < th; y++)
                    for (int x = 0; x < tw; x++)
                        block[(size_t)(r * (th + 1) + y) * code_w + q * (tw + 1) + x] = z[((size_t)t * th + y) * tw + x];
            }
        } else {
            for (size_t j = 0; j < L; j++) block[j] = z[j];
            for (size_t j = L; j < (size_t)th * tw; j++) block[j] = 0.0f;
        }
        canvas_put(&cv, block, 1, code_h, code_w, cs, x0 + (col_w - code_w * cs) / 2,
                   h * AE_PICTURE_SCALE + gap);
    }
    int rc = ae_png_write_grid(path, cv.px, 1, 1, cv.c, cv.h, cv.w, 1, err);
    free(cv.px);
    free(images);
    free(codes);
    free(block);
    if (rc != 0) return -1;
    return 0;
}

/* ---- the latent scatter plot ----------------------------------------------------- */

#define SCATTER_W 800
#define SCATTER_H 640
/* Above rows x L x L multiply-adds for the covariance, the PCA is fitted on
 * the first rows only (all rows are still projected). */
#define PCA_FIT_WORK 4e9

static int finite_row(const float *z, size_t L)
{
    for (size_t j = 0; j < L; j++)
        if (!isfinite(z[j])) return 0;
    return 1;
}

/* Projects the codes [n, L] on their first two principal components into
 * xy [n, 2]; codes with a NaN or an infinity get NaN (not drawn). share[k]
 * is the part of the codes' variance along component k (NaN when the codes
 * have none). Fewer than 2 finite codes project to 0. */
static int project_pca(const float *codes, int n, size_t L, int threads, float *xy,
                       double share[2], ae_error *err)
{
    share[0] = share[1] = NAN;
    float *rows = malloc((size_t)(n > 0 ? n : 1) * L * sizeof *rows);
    int *at = malloc((size_t)(n > 0 ? n : 1) * sizeof *at);
    float *proj = malloc((size_t)(n > 0 ? n : 1) * 2 * sizeof *proj);
    if (!rows || !at || !proj) {
        free(rows);
        free(at);
        free(proj);
        return ae_fail(err, "out of memory for the PCA of %d codes", n);
    }
    int nf = 0;
    for (int i = 0; i < n; i++) {
        const float *z = codes + (size_t)i * L;
        xy[2 * i] = xy[2 * i + 1] = NAN;
        if (!finite_row(z, L)) continue;
        memcpy(rows + (size_t)nf * L, z, L * sizeof *rows);
        at[nf++] = i;
    }
    int rc = 0;
    if (nf < 2) {
        for (int k = 0; k < nf; k++) xy[2 * at[k]] = xy[2 * at[k] + 1] = 0.0f;
    } else {
        long fit = nf;
        double cap = PCA_FIT_WORK / ((double)L * (double)L);
        if ((double)fit > cap) fit = cap < 2 ? 2 : (long)cap;
        ae_pca p;
        ae_error why = {{0}};
        int comps = fit > 2 ? 2 : 1; /* two codes differ along one direction only: y = 0 */
        if (ae_pca_fit(&p, rows, fit, (int)L, comps, threads, &why) != 0) {
            rc = ae_fail(err, "PCA of the codes: %s", why.msg);
        } else {
            ae_pca_encode(&p, rows, nf, proj);
            for (int k = 0; k < nf; k++) {
                xy[2 * at[k]] = proj[comps * k];
                xy[2 * at[k] + 1] = comps > 1 ? proj[2 * k + 1] : 0.0f;
            }
            if (p.total_variance > 0 && isfinite(p.total_variance))
                for (int c = 0; c < comps; c++) share[c] = p.variance[c] / p.total_variance;
        }
        ae_pca_free(&p);
    }
    free(rows);
    free(at);
    free(proj);
    return rc;
}

int ae_picture_scatter(const ae_model *m, const ae_dataset *ds, int n, int threads,
                             const char *path, const char *title, ae_error *err)
{
    size_t L = ae_model_latent_size(m);
    if (n > ds->n) n = ds->n;
    if (n < 0) n = 0;
    if (L < 1) return ae_fail(err, "%s: the model has an empty latent", path);
    float *codes = ae_dataset_codes(m, ds, n, threads, err);
    if (!codes) return -1;
    size_t cap = (size_t)(n > 0 ? n : 1);
    float *xy = malloc(cap * 2 * sizeof *xy);
    int *labels = ds->labels ? malloc(cap * sizeof *labels) : NULL;
    if (!xy || (ds->labels && !labels)) {
        free(codes);
        free(xy);
        free(labels);
        return ae_fail(err, "%s: out of memory for %d points", path, n);
    }
    for (int i = 0; labels && i < n; i++) labels[i] = ds->labels[i];

    char xlabel[96], ylabel[96], sub[256] = "", deflt[128];
    int rc = 0;
    if (L > 2) {
        double share[2];
        rc = project_pca(codes, n, L, threads, xy, share, err);
        for (int k = 0; k < 2; k++) {
            char *label = k ? ylabel : xlabel;
            if (isfinite(share[k]))
                snprintf(label, sizeof xlabel, "PC%d (%.1f%% of the variance)", k + 1, 100 * share[k]);
            else
                snprintf(label, sizeof xlabel, "PC%d", k + 1);
        }
        snprintf(sub, sizeof sub, "PCA projection of the %zu-D latent on its first two principal components", L);
    } else if (L == 2) {
        memcpy(xy, codes, (size_t)n * 2 * sizeof *xy);
        snprintf(xlabel, sizeof xlabel, "z0");
        snprintf(ylabel, sizeof ylabel, "z1");
        if (ae_model_is_variational(m)) snprintf(sub, sizeof sub, "z0, z1: the VAE encoder's z_mean");
    } else { /* a 1-D latent: z0 against the label (or the image's index) */
        for (int i = 0; i < n; i++) {
            xy[2 * i] = codes[i];
            xy[2 * i + 1] = labels ? (float)labels[i] : (float)i;
        }
        snprintf(xlabel, sizeof xlabel, "z0");
        snprintf(ylabel, sizeof ylabel, "%s", labels ? "label" : "test image");
        snprintf(sub, sizeof sub, "1-D latent: z0 against the %s", labels ? "label" : "image's index");
    }
    int bad = 0;
    for (int i = 0; i < n; i++) bad += !finite_row(codes + (size_t)i * L, L);
    if (bad) {
        size_t used = strlen(sub);
        snprintf(sub + used, sizeof sub - used, "%s%d code%s with NaN or Inf not drawn", used ? "; " : "",
                 bad, bad == 1 ? "" : "s");
    }
    snprintf(deflt, sizeof deflt, "latent codes of %d test image%s", n, n == 1 ? "" : "s");
    if (rc == 0) {
        ae_scatter_options o = { title ? title : deflt, sub, xlabel, ylabel, SCATTER_W, SCATTER_H,
                                 (const char *const *)ds->class_names, ae_dataset_class_count(ds) };
        if (ae_scatter_png(path, xy, n, labels, &o, err) != 0) rc = -1;
    }
    free(codes);
    free(xy);
    free(labels);
    return rc;
}
