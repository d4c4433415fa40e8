/* Labelled rows of tiles (ae_picture_labelled_rows, aekit/pictures.h), read
 * back with libpng: the size formula, wrapping after `cols` tiles into
 * blocks, every tile's bytes where the layout puts them (the same bytes as
 * ae_png_write_grid), ink in the label column only where a row has a label,
 * RGB tiles, and a picture too large refused. */
#define _POSIX_C_SOURCE 200809L
#include "aekit.h"
#include "aekit/pictures.h"
#include "test.h"
#include "png_read.h"
#include "scratch.h"

#include <cairo.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

enum { H = 5, W = 4, S = 4 };

static uint8_t byte_of(float v) { return (uint8_t)(v * 255.0f + 0.5f); }

/* Tile value of row r, image i, channel ch, pixel (y, x): distinct per tile. */
static float value(int r, int i, int ch, int y, int x)
{
    return (float)((r * 37 + i * 11 + ch * 5 + y * 3 + x) % 200 + 20) / 255.0f;
}

static float *make_tiles(int nrows, int n, int c)
{
    float *t = malloc(sizeof(float) * (size_t)nrows * n * c * H * W);
    for (int r = 0; r < nrows; r++)
        for (int i = 0; i < n; i++)
            for (int ch = 0; ch < c; ch++)
                for (int y = 0; y < H; y++)
                    for (int x = 0; x < W; x++)
                        t[((((size_t)r * n + i) * c + ch) * H + y) * W + x] = value(r, i, ch, y, x);
    return t;
}

/* Dark pixels in the label column of canvas rows [y0, y1). */
static long label_ink(const uint8_t *px, int w, int y0, int y1)
{
    long n = 0;
    for (int y = y0; y < y1; y++)
        for (int x = 0; x < AE_PICTURE_LABEL_WIDTH; x++) n += px[(size_t)y * w + x] < 128;
    return n;
}

static void test_layout(void)
{
    enum { ROWS = 2, N = 7, COLS = 3, C = 1 };
    float *tiles = make_tiles(ROWS, N, C);
    const char *labels[ROWS] = { "input", NULL };
    const char *p = tmp_path("rows.png");
    ae_error err = {{0}};
    CHECK(ae_picture_labelled_rows(p, tiles, ROWS, N, COLS, labels, C, H, W, S, &err) == 0, "%s", err.msg);
    int w = 0, h = 0;
    uint8_t *px = read_png(p, 1, &w, &h);
    int blocks = (N + COLS - 1) / COLS, block_h = ROWS * (H * S + S) - S;
    int want_w = AE_PICTURE_LABEL_WIDTH + COLS * (W * S + S) - S;
    int want_h = blocks * block_h + (blocks - 1) * AE_PICTURE_BLOCK_GAP * S;
    CHECK(px && w == want_w && h == want_h, "size %dx%d, want %dx%d", w, h, want_w, want_h);
    if (px && w == want_w && h == want_h) {
        int wrong = 0;
        for (int i = 0; i < N; i++)
            for (int r = 0; r < ROWS; r++) {
                int b = i / COLS, k = i % COLS;
                int y0 = b * (block_h + AE_PICTURE_BLOCK_GAP * S) + r * (H * S + S);
                int x0 = AE_PICTURE_LABEL_WIDTH + k * (W * S + S);
                for (int y = 0; y < H * S; y++)
                    for (int x = 0; x < W * S; x++)
                        wrong += px[(size_t)(y0 + y) * w + x0 + x] != byte_of(value(r, i, 0, y / S, x / S));
            }
        CHECK(wrong == 0, "%d tile pixels differ from the images' bytes", wrong);
        /* the grey gap right of the first tile, white after the last block's last tile */
        int y_last = 2 * (block_h + AE_PICTURE_BLOCK_GAP * S);
        CHECK(px[(size_t)1 * w + AE_PICTURE_LABEL_WIDTH + W * S] == 128, "grey gap between tiles");
        CHECK(px[(size_t)y_last * w + w - 1] == 255, "white where the last block has no tile");
        CHECK(px[(size_t)(block_h + 1) * w + w - 1] == 255, "white between blocks");
        /* "input" in every block's first row, nothing left of the unlabelled row */
        for (int b = 0; b < blocks; b++) {
            int y0 = b * (block_h + AE_PICTURE_BLOCK_GAP * S);
            CHECK(label_ink(px, w, y0, y0 + H * S) > 10, "block %d: the label is written", b);
            CHECK(label_ink(px, w, y0 + H * S + S, y0 + block_h) == 0, "block %d: no label, no ink", b);
        }
    }
    free(px);

    /* cols <= 0: AE_PICTURE_COLS per row; cols > n: one block of n */
    CHECK(ae_picture_labelled_rows(p, tiles, ROWS, N, 0, NULL, C, H, W, S, &err) == 0, "%s", err.msg);
    px = read_png(p, 1, &w, &h);
    CHECK(px && w == N * (W * S + S) - S && h == block_h, "no labels, default cols: %dx%d", w, h);
    free(px);
    free(tiles);
}

static void test_rgb_and_limits(void)
{
    enum { ROWS = 3, N = 4, C = 3 };
    float *tiles = make_tiles(ROWS, N, C);
    const char *labels[ROWS] = { "low-res input", "upscaled", "a label far too long for its column" };
    const char *p = tmp_path("rgb.png");
    ae_error err = {{0}};
    CHECK(ae_picture_labelled_rows(p, tiles, ROWS, N, 2, labels, C, H, W, S, &err) == 0, "%s", err.msg);
    int w = 0, h = 0;
    uint8_t *px = read_png(p, 3, &w, &h);
    CHECK(px && w == AE_PICTURE_LABEL_WIDTH + 2 * (W * S + S) - S, "width %d", w);
    if (px) {
        /* image 3 (block 1, column 1), row 2, channel 2, pixel (4, 3) */
        int block_h = ROWS * (H * S + S) - S;
        int y = block_h + AE_PICTURE_BLOCK_GAP * S + 2 * (H * S + S) + 4 * S;
        int x = AE_PICTURE_LABEL_WIDTH + (W * S + S) + 3 * S;
        CHECK(px[3 * ((size_t)y * w + x) + 2] == byte_of(value(2, 3, 2, 4, 3)), "an RGB tile's blue byte");
    }
    free(px);
    CHECK(ae_picture_labelled_rows(p, tiles, ROWS, N, 0, labels, 2, H, W, S, &err) == -1 &&
          strstr(err.msg, "channels"), "2 channels: %s", err.msg);
    free(tiles);

    /* 500 images in one column at scale 40: far beyond a PNG side, refused */
    float *one = calloc(500u * H * W, sizeof(float));
    const char *big = tmp_path("big.png");
    CHECK(ae_picture_labelled_rows(big, one, 1, 500, 1, NULL, 1, H, W, 40, &err) == -1 &&
          strstr(err.msg, "more per row"), "too tall: %s", err.msg);
    CHECK(access(big, F_OK) != 0, "nothing written");
    free(one);
}

int main(void)
{
    if (scratch_open("test_labelled_rows") != 0) return 2;
    test_layout();
    test_rgb_and_limits();
    scratch_close();
    cairo_debug_reset_static_data();
    TEST_DONE();
}
