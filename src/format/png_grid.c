/* ae_png_write_grid: a rows x cols mosaic of images as an 8-bit PNG, each
 * pixel a scale x scale block, tiles separated by `scale` pixels of grey.
 * Written one row at a time, so memory stays at one output row. */
#include "aekit.h"
#include "aekit/files.h"
#include "core/error.h"

#include <png.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define GRID_MAX_SIDE 65535 /* output pixels per side; far beyond any use */
#define GRID_GAP 128        /* mid-grey between tiles */

/* libpng reports errors through a callback that must not return: keep the
 * message for our error and jump back to png_write_grid_rows. */
typedef struct {
    char msg[200];
} png_ctx;

static void on_png_error(png_structp png, png_const_charp msg)
{
    png_ctx *ctx = png_get_error_ptr(png);
    snprintf(ctx->msg, sizeof ctx->msg, "%s", msg);
    png_longjmp(png, 1);
}

static void on_png_warning(png_structp png, png_const_charp msg)
{
    (void)png; /* the library never prints */
    (void)msg;
}

static uint8_t to_byte(float v)
{
    if (!(v > 0.0f)) return 0; /* also NaN */
    if (v >= 1.0f) return 255;
    return (uint8_t)(v * 255.0f + 0.5f);
}

/* Fills output row y (width W pixels of c channels). */
static void fill_row(uint8_t *row, int y, const float *images, int cols, int c, int h, int w,
                     int scale, int W)
{
    int tile_h = h * scale + scale, tile_w = w * scale + scale;
    int r = y / tile_h, iy = y % tile_h;
    if (iy >= h * scale) { /* gap between tile rows */
        memset(row, GRID_GAP, (size_t)W * (size_t)c);
        return;
    }
    iy /= scale;
    for (int x = 0; x < W; x++) {
        int col = x / tile_w, ix = x % tile_w;
        uint8_t *px = row + (size_t)x * (size_t)c;
        if (ix >= w * scale) {
            memset(px, GRID_GAP, (size_t)c);
            continue;
        }
        ix /= scale;
        size_t plane = (size_t)h * (size_t)w;
        const float *img = images + ((size_t)r * (size_t)cols + (size_t)col) * (size_t)c * plane;
        for (int ch = 0; ch < c; ch++)
            px[ch] = to_byte(img[ch * plane + (size_t)iy * (size_t)w + (size_t)ix]);
    }
}

/* Everything libpng touches lives here; returns 0 or -1 with ctx->msg set. */
static int write_rows(FILE *fp, uint8_t *row, const float *images, int cols, int c, int h,
                      int w, int scale, int W, int H, png_ctx *ctx)
{
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, ctx, on_png_error,
                                              on_png_warning);
    if (!png) {
        snprintf(ctx->msg, sizeof ctx->msg, "out of memory");
        return -1;
    }
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        snprintf(ctx->msg, sizeof ctx->msg, "out of memory");
        return -1;
    }
    /* No local is modified after setjmp, so none needs to be volatile. */
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return -1;
    }
    png_init_io(png, fp);
    png_set_IHDR(png, info, (png_uint_32)W, (png_uint_32)H, 8,
                 c == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < H; y++) {
        fill_row(row, y, images, cols, c, h, w, scale, W);
        png_write_row(png, row);
    }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return 0;
}

int ae_png_write_grid(const char *path, const float *images, int rows, int cols, int c, int h,
                      int w, int scale, ae_error *err)
{
    if (!path) return ae_fail(err, "PNG grid: no output path");
    if (!images) return ae_fail(err, "%s: no images to draw", path);
    if (rows <= 0 || cols <= 0)
        return ae_fail(err, "%s: grid of %d x %d tiles (both must be positive)", path, rows, cols);
    if (c != 1 && c != 3)
        return ae_fail(err, "%s: images have %d channels (1 or 3 supported)", path, c);
    if (h <= 0 || w <= 0)
        return ae_fail(err, "%s: image size %d x %d (both must be positive)", path, h, w);
    if (scale <= 0) return ae_fail(err, "%s: scale %d (must be positive)", path, scale);

    /* int64 throughout: each factor is checked before the next product. */
    int64_t th = (int64_t)h * scale, tw = (int64_t)w * scale;
    int64_t H = th > GRID_MAX_SIDE ? th : (int64_t)rows * (th + scale) - scale;
    int64_t W = tw > GRID_MAX_SIDE ? tw : (int64_t)cols * (tw + scale) - scale;
    if (H > GRID_MAX_SIDE || W > GRID_MAX_SIDE)
        return ae_fail(err, "%s: grid of %d x %d tiles of %d x %d at scale %d is too large "
                       "(at most %d pixels a side)", path, rows, cols, h, w, scale,
                       GRID_MAX_SIDE);

    uint8_t *row = malloc((size_t)W * (size_t)c);
    if (!row) return ae_fail(err, "%s: out of memory", path);
    ae_atomic_file af;
    if (ae_atomic_open(&af, path, err) != 0) {
        free(row);
        return -1;
    }
    png_ctx ctx = {{0}};
    int rc = write_rows(af.f, row, images, cols, c, h, w, scale, (int)W, (int)H, &ctx);
    free(row);
    if (rc != 0) {
        ae_atomic_abort(&af);
        return ae_fail(err, "%s: PNG write failed: %s", path, ctx.msg);
    }
    return ae_atomic_commit(&af, err);
}
