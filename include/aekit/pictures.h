/* aekit pictures: a model at work, drawn as PNG files: rows of inputs and
 * outputs, decoded samples, the latent manifold, codes drawn as images and
 * the latent scatter plot (what the CLI's commands and the run folder of
 * aekit train show), and the helpers they are made of: a data set's images,
 * a model's inputs and codes. Each function that can fail returns 0 (or a
 * pointer) on success and -1 (or NULL) with the reason in err.          */
#ifndef AEKIT_PICTURES_H
#define AEKIT_PICTURES_H

#include <stddef.h>
#include <stdint.h>
#include "aekit.h"

#ifdef __cplusplus
extern "C" {
#endif

#define AE_PICTURE_SCALE 3   /* every image pixel drawn 3x3, 3-pixel gaps */
/* Pictures of labelled rows (ae_picture_rows, ae_picture_labelled_rows):
 * the labels' column left of the tiles, in pixels; the tiles per row when
 * no number is given; the white band between blocks, in units of scale. */
#define AE_PICTURE_LABEL_WIDTH 120
#define AE_PICTURE_COLS 10
#define AE_PICTURE_BLOCK_GAP 4

/* ---- images, inputs and codes ---------------------------------------------- */

/* 1 when the model's output is larger than its input (super-resolution). */
int ae_model_is_upscaler(const ae_model *m);
/* Output height over input height: 2 or 4 for super-resolution, else 1. */
int ae_model_upscale_factor(const ae_model *m);
/* The model's ae_model_summary text (caller frees; NULL if out of memory). */
char *ae_model_summary_alloc(const ae_model *m);

/* Images [first, first + n) of ds as floats (caller frees). Here and below,
 * images outside ds (first < 0, n < 1 or first + n > ds->n) are refused. */
float *ae_dataset_images(const ae_dataset *ds, int first, int n, ae_error *err);
/* The model inputs for n images of its output shape (downscaled for a
 * super-resolution model), corrupted by nz (may be NULL) with the same
 * per-image noise as ae_evaluate (image i of the set gets stream
 * first + i, seed AE_EVAL_NOISE_SEED). Caller frees. */
float *ae_model_inputs(const ae_model *m, const float *images, int n, int first, const ae_noise *nz,
                       ae_error *err);
/* Codes of images [0, n) of ds (in chunks, so memory stays small); caller
 * frees. Here and below, a conditional model (ae_model_class_count) reads
 * each image's label from ds (a data set without labels is refused). */
float *ae_dataset_codes(const ae_model *m, const ae_dataset *ds, int n, int threads, ae_error *err);

/* The labels of images [first, first + n) of ds as ints (caller frees), for
 * a conditional model's calls; NULL for a model that is not conditional
 * (err untouched) and on error (ds without labels, images outside it). */
int *ae_dataset_labels_for(const ae_model *m, const ae_dataset *ds, int first, int n, ae_error *err);

/* ---- pictures -------------------------------------------------------------- */

/* Images [first, first + n) of ds through the model, as labelled rows
 * (ae_picture_labelled_rows, `cols` tiles per row, AE_PICTURE_COLS when
 * cols <= 0):
 *  - a plain autoencoder without noise: "input" (the originals),
 *    "reconstruction" (2 rows);
 *  - with input noise or a super-resolution model: the model's input
 *    ("noisy input", "low-res input": a smaller input drawn at the output
 *    size, nearest neighbour), its output ("denoised", "upscaled"), the
 *    "original" (3 rows).
 * nz may be NULL. *nrows (may be NULL) gets the number of rows. */
int ae_picture_rows(const ae_model *m, const ae_dataset *ds, int first, int n, int cols,
                    const ae_noise *nz, int threads, const char *path, int *nrows, ae_error *err);
/* The two halves of ae_picture_rows, for a caller that also wants the
 * numbers (aekit reconstruct --npy): the tiles it draws, *nrows rows of n
 * images of the output shape, row after row ([nrows * n, c, h, w]; caller
 * frees *tiles: all inputs, then all outputs, ...), and the drawing of
 * those tiles for the same m and nz (the rows' labels, wrapped after cols
 * as ae_picture_rows). */
int ae_picture_rows_images(const ae_model *m, const ae_dataset *ds, int first, int n, const ae_noise *nz,
                           int threads, float **tiles, int *nrows, ae_error *err);
int ae_picture_rows_png(const ae_model *m, const ae_noise *nz, const float *tiles, int n, int cols,
                        const char *path, ae_error *err);

/* nrows rows of n images each (tiles [nrows][n][c][h][w], values in [0, 1]),
 * every pixel drawn scale x scale, tiles `scale` grey pixels apart, wrapped
 * after cols tiles (AE_PICTURE_COLS when cols <= 0) into blocks of nrows
 * rows (block b: images b * cols ..), blocks AE_PICTURE_BLOCK_GAP * scale
 * white pixels apart; labels[r] (labels may be NULL: no label column, and
 * a label may be NULL) is written right-aligned in a white column of
 * AE_PICTURE_LABEL_WIDTH pixels left of row r of every block. The tiles'
 * bytes are ae_png_write_grid's; an 8-bit grey (c = 1) or RGB PNG of
 * AE_PICTURE_LABEL_WIDTH + cols * (w * scale + scale) - scale by
 * blocks * (nrows * (h * scale + scale) - scale) + (blocks - 1) *
 * AE_PICTURE_BLOCK_GAP * scale pixels (cols at most n). Atomic write. */
int ae_picture_labelled_rows(const char *path, const float *tiles, int nrows, int n, int cols,
                             const char *const *labels, int c, int h, int w, int scale,
                             ae_error *err);

/* n images [n, c, h, w] in a grid of `cols` columns (the last row padded
 * with black tiles). */
int ae_picture_grid(const char *path, const float *images, int n, int cols, int c, int h, int w,
                    int scale, ae_error *err);

/* Decodes n codes into images [n, output shape] (caller frees *out); with
 * labels (a conditional model), code i as class labels[i]. */
int ae_picture_decode(const ae_model *m, const float *codes, int n, int threads, float **out,
                            ae_error *err);
int ae_picture_decode_labels(const ae_model *m, const float *codes, const int *labels, int n, int threads,
                             float **out, ae_error *err);

/* n random latents decoded (ae_model_sample), in a grid of cols columns. */
int ae_picture_samples(const ae_model *m, int n, int cols, uint64_t seed, int threads,
                             const char *path, ae_error *err);

/* A conditional model's samples: a row per class, per_class samples of it
 * (ae_model_sample_labels). */
int ae_picture_class_samples(const ae_model *m, int per_class, uint64_t seed, int threads, const char *path,
                             ae_error *err);

/* A grid x grid sweep of a 2-D latent: column j has z0 = linspace(lo[0],
 * hi[0], grid)[j], row i has z1 = linspace(lo[1], hi[1], grid)[i] (top row
 * lowest, as the lesson draws it). */
int ae_picture_manifold(const ae_model *m, int grid, const double lo[2], const double hi[2],
                              int threads, const char *path, ae_error *err);
/* Its two halves: the grid x grid decoded images, row after row
 * ([grid * grid, output shape]; caller frees *images), and their drawing. */
int ae_picture_manifold_images(const ae_model *m, int grid, const double lo[2], const double hi[2],
                               int threads, float **images, ae_error *err);
/* A conditional model's manifold: every code decoded as class `label`
 * (-1: ae_picture_manifold_images, for a model that is not conditional). */
int ae_picture_manifold_images_label(const ae_model *m, int grid, const double lo[2], const double hi[2],
                                     int label, int threads, float **images, ae_error *err);
int ae_picture_manifold_png(const char *path, const float *images, int grid, int c, int h, int w,
                            ae_error *err);
/* A conditional model's manifold per class: ae_picture_manifold_images_label
 * for class 0, 1, ..., class after class ([classes * grid * grid, output
 * shape]; caller frees *images), and their drawing: each class's grid a
 * block, AE_PICTURE_CLASS_BLOCKS blocks a row (class 0 top left), a grey
 * tile between blocks, every pixel 1x1. */
#define AE_PICTURE_CLASS_BLOCKS 5
int ae_picture_class_manifolds_images(const ae_model *m, int grid, const double lo[2], const double hi[2],
                                      int threads, float **images, ae_error *err);
int ae_picture_class_manifolds_png(const char *path, const float *images, int classes, int grid, int c, int h,
                                   int w, ae_error *err);
/* The range a manifold sweeps by default: the lesson's -1..1 for a VAE or
 * an AAE; for a plain autoencoder mean +- 2 std of its fitted code
 * Gaussian per axis (-1..1 when the file has none). */
void ae_picture_manifold_range(const ae_model *m, double lo[2], double hi[2]);

/* The codes of images [0, n) of ds drawn as small images under the
 * originals: a conv code C x H x W as its C channels (H x W tiles), a flat
 * code as a near-square block; min-max normalised over all shown codes. */
int ae_picture_codes(const ae_model *m, const ae_dataset *ds, int n, int threads, const char *path,
                           ae_error *err);

/* Scatter plot of the codes of images [0, n) of ds: x = z0, y = z1,
 * coloured by label; codes wider than 2 are projected on their first two
 * principal components (the plot says so). `title` may be NULL. An 800x640
 * PNG (aekit/charts.h); a 1-D latent is drawn as z0 against the label. */
int ae_picture_scatter(const ae_model *m, const ae_dataset *ds, int n, int threads,
                             const char *path, const char *title, ae_error *err);

/* Nearest-neighbour resize of n images [c, ih, iw] to [c, oh, ow]. */
void ae_picture_resize_nearest(const float *in, int n, int c, int ih, int iw, int oh, int ow,
                               float *out);
/* Rescales x[0..n) to [0, 1] (all 0.5 when constant). */
void ae_picture_minmax(float *x, size_t n);

#ifdef __cplusplus
}
#endif

#endif
