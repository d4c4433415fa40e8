/* The outputs of the commands that draw images (reconstruct, decode,
 * sample, denoise, upscale, interpolate, manifold): the PNG (--out or
 * OUT.png) and, with --npy, the floats it is drawn from as a NumPy array,
 * written as one group: both replaced, or (on any error) neither. */
#ifndef AEKIT_CLI_IMAGE_OUTPUTS_H
#define AEKIT_CLI_IMAGE_OUTPUTS_H

#include "aekit.h"
#include "aekit/files.h"
#include "aekit/pictures.h"
#include "args.h"

/* The --npy row of those commands' flag tables (the one place its text is
 * written; docs/cli.md lists the commands and their N). */
#define ARGS_FLAG_NPY \
    { "npy", "FILE", NULL, "also write the images drawn as floats: .npy, float32, shape (N, C, H, W); " \
      "given alone (no --out), no PNG is written", 0, 0, 0 }

/* --out and --npy: *npy is --npy or NULL; *png is --out, else default_png,
 * or NULL (no PNG) when --npy is given without --out. */
int image_outputs_parse(const args *a, const char *default_png, const char **png, const char **npy);

/* Finishes the outputs of a group the command began (ae_atomic_group_begin)
 * before drawing its PNG: `drawn` is the drawing's result (0, or -1 with
 * err set; 0 when there is no PNG). Then writes images [n, c, h, w] to npy
 * (NULL: none) and commits the group, or removes everything on an error
 * (printed). Returns 0 or the exit code. */
int image_outputs_commit(const char *cmd, ae_atomic_group *g, int drawn, ae_error *err, const char *npy,
                         const float *images, int n, int c, int h, int w);

/* The rows picture of reconstruct, denoise and upscale: n test images
 * (from the first) over the model's outputs (ae_picture_rows_images; input
 * noise nz may be NULL), the PNG at png (NULL: none) wrapped at cols, and
 * the floats at npy, committed as one group. *rows gets the number of
 * rows (2, or 3 with the originals). Returns 0 or the exit code. */
int image_outputs_rows(const char *cmd, const ae_model *m, const ae_dataset *test, int n, const ae_noise *nz,
                       int cols, int threads, const char *png, const char *npy, int *rows);

/* A grid picture of n images [n, c, h, w] (decode, sample, interpolate):
 * the PNG at png (NULL: none), cols a row (ae_picture_grid), and the
 * floats at npy, committed as one group. Returns 0 or the exit code. */
int image_outputs_grid(const char *cmd, const float *images, int n, int cols, int c, int h, int w,
                       const char *png, const char *npy);

/* The line saying what the .npy holds (nothing when npy is NULL). */
void image_outputs_print_npy(const char *npy, int n, int c, int h, int w);

#endif
