/* The pictures the commands and the run folder share: rows of inputs and
 * outputs, decoded samples, the latent manifold, codes drawn as images and
 * the latent scatter plot. Each function prints its own one-line error
 * ("aekit CMD: ...") and returns an exit code (0 on success). */
#ifndef AEKIT_CLI_PICTURES_H
#define AEKIT_CLI_PICTURES_H

#include <stdint.h>
#include "aekit.h"

#define PIC_SCALE 3   /* every image pixel drawn 3x3, 3-pixel gaps */

/* Images [first, first + n) of ds through the model, as rows of n tiles:
 *  - a plain autoencoder without noise: originals, reconstructions (2 rows);
 *  - with input noise or a super-resolution model: the model's input (a
 *    smaller input drawn at the output size, nearest neighbour), its
 *    output, the original (3 rows).
 * nz may be NULL. *nrows (may be NULL) gets the number of rows. */
int pic_rows(const char *cmd, ae_model *m, const ae_dataset *ds, int first, int n,
             const ae_noise *nz, int threads, const char *path, int *nrows);

/* n images [n, c, h, w] in a grid of `cols` columns (the last row padded
 * with black tiles). */
int pic_grid(const char *cmd, const char *path, const float *images, int n, int cols,
             int c, int h, int w, int scale);

/* Decodes n codes into images [n, output shape] (caller frees). */
int pic_decode(const char *cmd, ae_model *m, const float *codes, int n, int threads, float **out);

/* n random latents decoded (ae_model_sample), in a grid of cols columns. */
int pic_samples(const char *cmd, ae_model *m, int n, int cols, uint64_t seed, int threads,
                const char *path);

/* A grid x grid sweep of a 2-D latent: column j has z0 = linspace(lo[0],
 * hi[0], grid)[j], row i has z1 = linspace(lo[1], hi[1], grid)[i] (top row
 * lowest, as the lesson draws it). */
int pic_manifold(const char *cmd, ae_model *m, int grid, const double lo[2], const double hi[2],
                 int threads, const char *path);
/* The range a manifold sweeps by default: the lesson's -1..1 for a VAE or
 * an AAE; for a plain autoencoder mean +- 2 std of its fitted code
 * Gaussian per axis (-1..1 when the file has none). */
void pic_manifold_range(const ae_model *m, double lo[2], double hi[2]);

/* The codes of images [0, n) of ds drawn as small images under the
 * originals: a conv code C x H x W as its C channels (H x W tiles), a flat
 * code as a near-square block; min-max normalised over all shown codes. */
int pic_codes(const char *cmd, ae_model *m, const ae_dataset *ds, int n, int threads,
              const char *path);

/* The layout of the model's latent (its last encoder layer's shape). */
void pic_latent_shape(const ae_model *m, int *c, int *h, int *w);

/* Scatter plot of the codes of images [0, n) of ds: x = z0, y = z1,
 * coloured by label; codes wider than 2 are projected on their first two
 * principal components (the plot says so). `title` may be NULL. An 800x640
 * PNG (format/scatter.h); a 1-D latent is drawn as z0 against the label. */
int pic_scatter(const char *cmd, ae_model *m, const ae_dataset *ds, int n, int threads,
                const char *path, const char *title);

/* Nearest-neighbour resize of n images [c, ih, iw] to [c, oh, ow]. */
void pic_resize_nearest(const float *in, int n, int c, int ih, int iw, int oh, int ow, float *out);
/* Rescales x[0..n) to [0, 1] (all 0.5 when constant). */
void pic_minmax(float *x, size_t n);

#endif
