/* The PNG and .npy outputs of the image commands (cli/image_outputs.h). */
#include "image_outputs.h"
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>

int image_outputs_parse(const args *a, const char *default_png, const char **png, const char **npy)
{
    args_string(a, "npy", NULL, npy);
    /* --npy alone asks for the numbers: the default PNG is not written */
    return args_string(a, "out", *npy ? NULL : default_png, png);
}

int image_outputs_commit(const char *cmd, ae_atomic_group *g, int drawn, ae_error *err, const char *npy,
                         const float *images, int n, int c, int h, int w)
{
    long shape[4] = { n, c, h, w };
    if (drawn == 0 && npy) drawn = ae_npy_write_f32(npy, images, 4, shape, err);
    if (drawn != 0) {
        ae_atomic_group_abort(g);
        return cli_fail(EXIT_ERROR, cmd, "%s", err->msg);
    }
    if (ae_atomic_group_commit(g, err) != 0) return cli_fail(EXIT_ERROR, cmd, "%s", err->msg);
    return 0;
}

int image_outputs_rows(const char *cmd, const ae_model *m, const ae_dataset *test, int n, const ae_noise *nz,
                       int cols, int threads, const char *png, const char *npy, int *rows)
{
    int c, h, w;
    float *tiles = NULL;
    ae_model_output_shape(m, &c, &h, &w);
    ae_error err = {{0}};
    int rc = cli_result(cmd, ae_picture_rows_images(m, test, 0, n, nz, threads, &tiles, rows, &err), &err);
    if (rc == 0) {
        ae_atomic_group g;
        ae_atomic_group_begin(&g);
        int drawn = png ? ae_picture_rows_png(m, nz, tiles, n, cols, png, &err) : 0;
        rc = image_outputs_commit(cmd, &g, drawn, &err, npy, tiles, *rows * n, c, h, w);
    }
    free(tiles);
    return rc;
}

int image_outputs_grid(const char *cmd, const float *images, int n, int cols, int c, int h, int w,
                       const char *png, const char *npy)
{
    ae_error err = {{0}};
    ae_atomic_group g;
    ae_atomic_group_begin(&g);
    int drawn = png ? ae_picture_grid(png, images, n, cols, c, h, w, AE_PICTURE_SCALE, &err) : 0;
    return image_outputs_commit(cmd, &g, drawn, &err, npy, images, n, c, h, w);
}

void image_outputs_print_npy(const char *npy, int n, int c, int h, int w)
{
    if (npy)
        printf("%s: the %d image%s drawn (row after row) as float32, shape (%d, %d, %d, %d)\n", cli_text(npy),
               n, n == 1 ? "" : "s", n, c, h, w);
}
