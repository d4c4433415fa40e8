/* Rows of tiles with a label left of each row ("input", "reconstruction",
 * ...), wrapped into blocks of at most `cols` tiles per row (aekit/pictures.h,
 * ae_picture_labelled_rows). The tiles' pixels are the images' values as
 * they are (the same bytes as ae_png_write_grid); the labels are cairo text
 * in a white column of AE_PICTURE_LABEL_WIDTH pixels. */
#define _POSIX_C_SOURCE 200809L
#include "aekit/pictures.h"
#include "core/error.h"
#include "format/chart.h"

#include <cairo.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define GAP_GREY 0.5f   /* between tiles: ae_png_write_grid's mid-grey (128) */
#define MAX_SIDE 65535  /* ae_png_write_grid's limit */

/* Draws `text` right-aligned into the label column of canvas rows
 * [y0, y0 + height) (all channels alike): cairo renders it on a white
 * strip, whose grey levels are copied in. */
static int draw_label(float *px, int c, int H, int W, int y0, int height, const char *text)
{
    int lw = AE_PICTURE_LABEL_WIDTH, pad = 8;
    cairo_t *cr = chart_canvas(lw, height);
    double font = fmin(13.0, 0.6 * height);
    chart_set_font(cr, font, 0);
    double tw = chart_text_width(cr, text);
    if (tw > lw - 2 * pad) {                        /* a long label: smaller */
        font *= (lw - 2 * pad) / tw;
        chart_set_font(cr, font, 0);
    }
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    chart_text_at(cr, text, lw - pad, height / 2.0, 1, 0.5, font);
    cairo_surface_t *s = cairo_get_target(cr);
    cairo_surface_flush(s);
    int ok = cairo_status(cr) == CAIRO_STATUS_SUCCESS;
    const unsigned char *data = cairo_image_surface_get_data(s);
    int stride = cairo_image_surface_get_stride(s);
    for (int y = 0; ok && data && y < height && y0 + y < H; y++) {
        const uint32_t *row = (const uint32_t *)(data + (size_t)y * stride);
        for (int x = 0; x < lw; x++) {
            float v = (float)((row[x] >> 8) & 0xff) / 255.0f;     /* green: the text is grey */
            for (int ch = 0; ch < c; ch++) px[((size_t)ch * H + y0 + y) * W + x] = v;
        }
    }
    cairo_destroy(cr);
    return ok ? 0 : -1;
}

int ae_picture_labelled_rows(const char *path, const float *tiles, int nrows, int n, int cols,
                             const char *const *labels, int c, int h, int w, int scale, ae_error *err)
{
    if (!path) return ae_fail(err, "picture: no output path");
    if (!tiles || nrows < 1 || n < 1)
        return ae_fail(err, "%s: nothing to draw (%d rows of %d images)", path, nrows, n);
    if (c != 1 && c != 3) return ae_fail(err, "%s: images have %d channels (1 or 3 supported)", path, c);
    if (h < 1 || w < 1 || scale < 1 || scale > 64 || h > MAX_SIDE || w > MAX_SIDE)
        return ae_fail(err, "%s: images of %d x %d drawn at scale %d", path, h, w, scale);
    if (cols <= 0) cols = AE_PICTURE_COLS;
    if (cols > n) cols = n;
    int blocks = 1 + (n - 1) / cols;   /* n >= 1: no overflow near INT_MAX */
    int64_t tile_h = (int64_t)h * scale, tile_w = (int64_t)w * scale;
    int64_t block_h = nrows * (tile_h + scale) - scale, block_gap = AE_PICTURE_BLOCK_GAP * scale;
    int64_t label_w = labels ? AE_PICTURE_LABEL_WIDTH : 0;
    int64_t W64 = label_w + cols * (tile_w + scale) - scale;
    int64_t H64 = blocks * block_h + (blocks - 1) * block_gap;
    if (W64 > MAX_SIDE || H64 > MAX_SIDE)
        return ae_fail(err, "%s: %d rows of %d images, %d per row, would be %lld x %lld pixels "
                       "(at most %d per side): fewer images or more per row", path, nrows, n, cols,
                       (long long)W64, (long long)H64, MAX_SIDE);
    int W = (int)W64, H = (int)H64;
    size_t plane = (size_t)W * H, chw = (size_t)c * h * w;
    float *px = malloc((size_t)c * plane * sizeof *px);
    if (!px) return ae_fail(err, "%s: out of memory for a %d x %d picture", path, W, H);
    for (size_t i = 0; i < (size_t)c * plane; i++) px[i] = 1.0f;         /* white */

    int rc = 0;
    for (int b = 0; b < blocks && rc == 0; b++) {
        int first = b * cols, count = n - first < cols ? n - first : cols;
        int64_t by = b * (block_h + block_gap);
        /* the block's tiles' area is grey (the gaps), then the tiles; a
         * short last block leaves the rest white */
        int64_t right = label_w + count * (tile_w + scale) - scale;
        for (int ch = 0; ch < c; ch++)
            for (int64_t y = by; y < by + block_h; y++)
                for (int64_t x = label_w; x < right; x++) px[ch * plane + (size_t)y * W + (size_t)x] = GAP_GREY;
        for (int r = 0; r < nrows; r++) {
            int64_t ty = by + r * (tile_h + scale);
            if (labels && labels[r] && draw_label(px, c, H, W, (int)ty, (int)tile_h, labels[r]) != 0)
                rc = ae_fail(err, "%s: cannot draw the label '%s'", path, labels[r]);
            for (int k = 0; k < count; k++) {
                const float *img = tiles + ((size_t)r * n + first + k) * chw;
                int64_t tx = label_w + k * (tile_w + scale);
                for (int ch = 0; ch < c; ch++)
                    for (int64_t y = 0; y < tile_h; y++) {
                        float *dst = px + ch * plane + (size_t)(ty + y) * W + (size_t)tx;
                        const float *src = img + ((size_t)ch * h + (size_t)(y / scale)) * w;
                        for (int64_t x = 0; x < tile_w; x++) dst[x] = src[x / scale];
                    }
            }
        }
    }
    if (rc == 0) rc = ae_png_write_grid(path, px, 1, 1, c, H, W, 1, err);
    free(px);
    return rc == 0 ? 0 : -1;
}
