/* PNG output: image grids (exact pixels of tiles and gaps, read back with
 * libpng) and line plots (size, not blank, series colour present). */
#define _POSIX_C_SOURCE 200809L
#include "aekit.h"
#include "aekit/charts.h"
#include "aekit/image.h"
#include "test.h"
#include "png_read.h"
#include "scratch.h"

#include <cairo.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

/* Tile k, channel ch, pixel (y, x) gets byte value (40k + 17ch + 5y + x) % 256. */
static uint8_t expect_byte(int k, int ch, int y, int x) { return (uint8_t)((40 * k + 17 * ch + 5 * y + x) % 256); }

static void test_grid(int c)
{
    enum { ROWS = 2, COLS = 3, H = 4, W = 5, S = 2 };
    float *img = malloc(sizeof(float) * ROWS * COLS * c * H * W);
    for (int k = 0; k < ROWS * COLS; k++)
        for (int ch = 0; ch < c; ch++)
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++)
                    img[((k * c + ch) * H + y) * W + x] = expect_byte(k, ch, y, x) / 255.0f;
    /* Out-of-range values are clamped; NaN draws as 0. */
    img[0] = -0.5f;
    img[1] = 1.7f;
    img[2] = NAN;
    img[3] = 0.5f; /* 127.5 rounds to 128 */

    const char *path = tmp_path(c == 1 ? "grid1.png" : "grid3.png");
    ae_error err = {{0}};
    CHECK(ae_png_write_grid(path, img, ROWS, COLS, c, H, W, S, &err) == 0, "%s", err.msg);
    int pw = 0, ph = 0;
    uint8_t *px = read_png(path, c, &pw, &ph);
    CHECK(px != NULL, "read back %s", path);
    int want_w = COLS * W * S + (COLS - 1) * S, want_h = ROWS * H * S + (ROWS - 1) * S;
    CHECK(pw == want_w && ph == want_h, "size %dx%d, want %dx%d", pw, ph, want_w, want_h);
    if (px && pw == want_w && ph == want_h) {
        int bad = 0;
        for (int Y = 0; Y < ph; Y++)
            for (int X = 0; X < pw; X++)
                for (int ch = 0; ch < c; ch++) {
                    int ty = Y / (H * S + S), iy = Y % (H * S + S);
                    int tx = X / (W * S + S), ix = X % (W * S + S);
                    int want;
                    if (iy >= H * S || ix >= W * S) {
                        want = 128; /* gap */
                    } else {
                        int k = ty * COLS + tx, y = iy / S, x = ix / S;
                        want = expect_byte(k, ch, y, x);
                        if (k == 0 && ch == 0 && y == 0 && x <= 3)
                            want = (int[]){0, 255, 0, 128}[x];
                    }
                    int got = px[(Y * pw + X) * c + ch];
                    if (got != want && bad++ < 5)
                        fprintf(stderr, "c=%d pixel (%d,%d,%d): %d want %d\n", c, Y, X, ch,
                                got, want);
                }
        CHECK(bad == 0, "c=%d: %d wrong pixels", c, bad);
        /* A few spot checks by hand: tile 1 (row 0, col 1) starts at x = 12. */
        CHECK(px[(0 * pw + 12) * c] == 40, "tile 1 first pixel %d", px[(0 * pw + 12) * c]);
        CHECK(px[(0 * pw + 13) * c] == 40, "pixel drawn 2x2");
        CHECK(px[(1 * pw + 12) * c] == 40, "pixel drawn 2x2");
        CHECK(px[(0 * pw + 10) * c] == 128 && px[(0 * pw + 11) * c] == 128, "gap column");
        CHECK(px[(8 * pw + 0) * c] == 128 && px[(9 * pw + 0) * c] == 128, "gap row");
        CHECK(px[(10 * pw + 0) * c] == 120, "tile 3 first pixel %d", px[(10 * pw + 0) * c]);
    }
    free(px);
    free(img);
}

static void expect_grid_fail(const char *path, const float *img, int rows, int cols, int c,
                             int h, int w, int scale, const char *what)
{
    ae_error err = {{0}};
    CHECK(ae_png_write_grid(path, img, rows, cols, c, h, w, scale, &err) == -1, "%s", what);
    CHECK(strstr(err.msg, path) != NULL, "%s: message lacks path: %s", what, err.msg);
}

static void test_grid_errors(void)
{
    float img[4 * 4 * 3] = {0};
    const char *p = tmp_path("bad.png");
    expect_grid_fail(p, img, 0, 1, 1, 4, 4, 1, "rows 0");
    expect_grid_fail(p, img, 1, -1, 1, 4, 4, 1, "cols -1");
    expect_grid_fail(p, img, 1, 1, 2, 4, 4, 1, "c = 2");
    expect_grid_fail(p, img, 1, 1, 4, 4, 4, 1, "c = 4");
    expect_grid_fail(p, img, 1, 1, 1, 0, 4, 1, "h 0");
    expect_grid_fail(p, img, 1, 1, 1, 4, -4, 1, "w -4");
    expect_grid_fail(p, img, 1, 1, 1, 4, 4, 0, "scale 0");
    expect_grid_fail(p, NULL, 1, 1, 1, 4, 4, 1, "no images");
    expect_grid_fail(p, img, 1, 1, 1, 4, 4, 1 << 30, "huge scale");
    expect_grid_fail(p, img, 1 << 30, 1 << 30, 1, 4, 4, 1, "huge grid");
    expect_grid_fail(p, img, 1, 1, 1, 1 << 30, 1 << 30, 1 << 30, "overflowing size");
    CHECK(access(p, F_OK) != 0, "nothing written for bad arguments");

    const char *nodir = tmp_path("no-such-folder/grid.png");
    expect_grid_fail(nodir, img, 1, 1, 1, 4, 4, 1, "missing folder");
    CHECK(access(tmp_path("no-such-folder"), F_OK) != 0, "folder not created");

    double series[1] = {1};
    ae_plot_series s = {.label = "x", .y = series, .r = 1};
    ae_error err = {{0}};
    CHECK(ae_plot_lines_png(nodir, "t", "x", "y", &s, 1, 1, 320, 240, &err) == -1, "plot: no dir");
    CHECK(strstr(err.msg, nodir) != NULL, "plot message: %s", err.msg);
    CHECK(ae_plot_lines_png(p, "t", "x", "y", &s, 1, 0, 320, 240, &err) == -1, "plot: n = 0");
    CHECK(ae_plot_lines_png(p, "t", "x", "y", &s, 0, 1, 320, 240, &err) == -1, "plot: no series");
    CHECK(ae_plot_lines_png(p, "t", "x", "y", &s, 1, 1, 10, 240, &err) == -1, "plot: too small");
    CHECK(ae_plot_lines_png(p, "t", "x", "y", &s, 1, 1, 320, 1 << 20, &err) == -1, "plot: too big");
    CHECK(strstr(err.msg, p) != NULL, "plot message: %s", err.msg);
    CHECK(access(p, F_OK) != 0, "nothing written for bad arguments");
}

/* Checks the plot's size, that it is not blank and that each colour shows. */
static void check_plot(const char *path, int w, int h, const uint8_t (*colours)[3], int ncol,
                       const char *what)
{
    int pw = 0, ph = 0;
    uint8_t *px = read_png(path, 3, &pw, &ph);
    CHECK(px != NULL, "%s: read back", what);
    if (!px) return;
    CHECK(pw == w && ph == h, "%s: size %dx%d", what, pw, ph);
    long nonwhite = 0;
    for (long i = 0; i < (long)pw * ph; i++)
        if (px[3 * i] != 255 || px[3 * i + 1] != 255 || px[3 * i + 2] != 255) nonwhite++;
    CHECK(nonwhite > 100, "%s: only %ld non-white pixels", what, nonwhite);
    for (int k = 0; k < ncol; k++) {
        long hits = 0;
        for (long i = 0; i < (long)pw * ph; i++)
            if (abs(px[3 * i] - colours[k][0]) <= 2 && abs(px[3 * i + 1] - colours[k][1]) <= 2 &&
                abs(px[3 * i + 2] - colours[k][2]) <= 2)
                hits++;
        CHECK(hits >= 5, "%s: colour %d found in %ld pixels", what, k, hits);
    }
    free(px);
}

static void test_plot(void)
{
    ae_error err = {{0}};
    double train[25], val[25];
    for (int i = 0; i < 25; i++) {
        train[i] = 0.3 * exp(-0.2 * i) + 0.07;
        val[i] = 0.3 * exp(-0.15 * i) + 0.08;
    }
    val[3] = NAN; /* skipped, line broken */
    ae_plot_series s[2] = {{.label = "train", .y = train, .r = 1, .g = 0, .b = 0},
                        {.label = "validation", .y = val, .r = 0, .g = 0, .b = 1}};
    const uint8_t cols[2][3] = {{255, 0, 0}, {0, 0, 255}};
    const char *p = tmp_path("curves.png");
    CHECK(ae_plot_lines_png(p, "Loss", "epoch", "BCE", s, 2, 25, 640, 480, &err) == 0, "%s", err.msg);
    check_plot(p, 640, 480, cols, 2, "two series");

    /* a stack (loss.png with its learning-rate panel): one PNG, the panels'
     * heights summed, each panel's colours drawn; the same size checks */
    double rate[25];
    for (int i = 0; i < 25; i++) rate[i] = 1e-3 * pow(0.5, i / 5);
    ae_plot_series s_lr = {.label = "learning rate", .y = rate, .r = 0, .g = 0.5, .b = 0};
    ae_plot_panel panels[2] = { { "Loss", "epoch", "BCE", s, 2, 480 }, { NULL, "epoch", "lr", &s_lr, 1, 200 } };
    const uint8_t three[3][3] = {{255, 0, 0}, {0, 0, 255}, {0, 128, 0}};
    p = tmp_path("stack.png");
    CHECK(ae_plot_stack_png(p, panels, 2, 25, 640, &err) == 0, "%s", err.msg);
    check_plot(p, 640, 680, three, 3, "two panels");
    panels[1].height = 10;
    CHECK(ae_plot_stack_png(p, panels, 2, 25, 640, &err) == -1 && strstr(err.msg, "plot size"),
          "a panel too small: %s", err.msg);
    panels[1].height = 200;
    panels[1].nseries = 0;
    CHECK(ae_plot_stack_png(p, panels, 2, 25, 640, &err) == -1, "a panel without series");
    CHECK(ae_plot_stack_png(p, panels, 0, 25, 640, &err) == -1, "no panels");

    /* One point, and all-equal values: still drawn. */
    double one[1] = {0.25};
    ae_plot_series s1 = {.label = "only", .y = one, .r = 0, .g = 0.5, .b = 0};
    const uint8_t green[1][3] = {{0, 128, 0}};
    p = tmp_path("one.png");
    CHECK(ae_plot_lines_png(p, "One", "epoch", "loss", &s1, 1, 1, 300, 200, &err) == 0, "%s",
          err.msg);
    check_plot(p, 300, 200, green, 1, "one point");

    double flat[5] = {2, 2, 2, 2, 2};
    s1.y = flat;
    p = tmp_path("flat.png");
    CHECK(ae_plot_lines_png(p, NULL, NULL, NULL, &s1, 1, 5, 1000, 700, &err) == 0, "%s", err.msg);
    check_plot(p, 1000, 700, green, 1, "flat");

    /* Only NaN, huge and tiny ranges: no crash, a valid file. */
    double odd[4] = {NAN, NAN, NAN, NAN}, huge[3] = {-1e308, 1e308, INFINITY};
    double tiny[3] = {1e-300, 2e-300, 1.5e-300};
    s1.label = NULL;
    s1.y = odd;
    CHECK(ae_plot_lines_png(tmp_path("nan.png"), "t", "x", "y", &s1, 1, 4, 320, 240, &err) == 0,
          "%s", err.msg);
    s1.y = huge;
    CHECK(ae_plot_lines_png(tmp_path("huge.png"), "t", "x", "y", &s1, 1, 3, 320, 240, &err) == 0,
          "%s", err.msg);
    s1.y = tiny;
    CHECK(ae_plot_lines_png(tmp_path("tiny.png"), "t", "x", "y", &s1, 1, 3, 320, 240, &err) == 0,
          "%s", err.msg);
    check_plot(tmp_path("tiny.png"), 320, 240, green, 1, "tiny range");
}

/* fontconfig (loaded by cairo for the plot's text) leaks a few hundred bytes
 * while parsing its configuration; that is not ours to fix. LeakSanitizer
 * reads this hook when the test is built with -fsanitize=address. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) { return "leak:libfontconfig.so\n"; }

/* ae_png_encode into memory, read back by ae_image_decode_memory: the same
 * bytes; and the memory decoder's refusals (garbage, cut, a huge header). */
static void test_png_memory(int c)
{
    enum { H = 7, W = 5 };
    float img[3 * H * W];
    for (int i = 0; i < c * H * W; i++) img[i] = (float)((i * 37) % 256) / 255.0f;
    uint8_t *png = NULL;
    size_t size = 0;
    ae_error err = {{0}};
    CHECK(ae_png_encode(img, c, H, W, &png, &size, &err) == 0, "%s", err.msg);
    CHECK(png && size > 8 && memcmp(png, "\x89PNG", 4) == 0, "encoded bytes are a PNG");
    ae_image im;
    CHECK(ae_image_decode_memory(&im, png, size, "body", c, NULL, &err) == 0, "%s", err.msg);
    CHECK(im.w == W && im.h == H && im.c == c, "decoded %dx%dx%d", im.w, im.h, im.c);
    float back[3 * H * W];
    if (im.px) {
        ae_image_to_floats(&im, back);
        int same = 1;
        for (int i = 0; i < c * H * W; i++) same &= fabsf(back[i] - img[i]) < 0.5f / 255.0f;
        CHECK(same, "round trip keeps every pixel (c = %d)", c);
    }
    ae_image_free(&im);
    /* a cut stream and garbage are refused, naming the body */
    CHECK(ae_image_decode_memory(&im, png, size / 2, "body", c, NULL, &err) == -1 && strstr(err.msg, "body"),
          "cut PNG refused: %s", err.msg);
    CHECK(ae_image_decode_memory(&im, "hello", 5, "body", c, NULL, &err) == -1, "garbage refused");
    CHECK(ae_image_decode_memory(&im, png, 0, "body", c, NULL, &err) == -1, "empty refused");
    /* a bomb: IHDR claims 100000 x 100000, refused from the header */
    uint8_t bomb[64];
    memcpy(bomb, png, size < sizeof bomb ? size : sizeof bomb);
    bomb[16] = 0; bomb[17] = 1; bomb[18] = 0x86; bomb[19] = 0xa0;
    bomb[20] = 0; bomb[21] = 1; bomb[22] = 0x86; bomb[23] = 0xa0;
    CHECK(ae_image_decode_memory(&im, bomb, sizeof bomb, "body", c, NULL, &err) == -1 &&
          strstr(err.msg, "larger than the limit"), "bomb refused: %s", err.msg);
    /* a caller's smaller limits: a side over max_side, then a pixel count
     * over max_pixels, each refused naming the claimed size and the limit */
    ae_image_limits lim = { 4096, 4u * 1024u * 1024u };
    bomb[16] = 0; bomb[17] = 0; bomb[18] = 0x13; bomb[19] = 0x88; /* 5000 */
    bomb[20] = 0; bomb[21] = 0; bomb[22] = 0x00; bomb[23] = 0x10; /* 16 */
    CHECK(ae_image_decode_memory(&im, bomb, sizeof bomb, "body", c, &lim, &err) == -1 &&
          strstr(err.msg, "5000x16") && strstr(err.msg, "4096x4096"), "side limit: %s", err.msg);
    bomb[18] = 0x0f; bomb[19] = 0xa0; bomb[22] = 0x0f; bomb[23] = 0xa0; /* 4000 x 4000 */
    CHECK(ae_image_decode_memory(&im, bomb, sizeof bomb, "body", c, &lim, &err) == -1 &&
          strstr(err.msg, "4000x4000") && strstr(err.msg, "4194304 pixels"), "pixel limit: %s", err.msg);
    CHECK(ae_image_decode_memory(&im, png, size, "body", c, &lim, &err) == 0, "small image within limits");
    ae_image_free(&im);
    free(png);
    CHECK(ae_png_encode(img, 2, H, W, &png, &size, &err) == -1 && png == NULL, "2 channels refused");
    CHECK(ae_png_encode(img, 1, 0, W, &png, &size, &err) == -1, "height 0 refused");
}

int main(void)
{
    if (scratch_open("test_png") != 0) return 2;
    test_grid(1);
    test_grid(3);
    test_grid_errors();
    test_plot();
    test_png_memory(1);
    test_png_memory(3);
    scratch_close();
    cairo_debug_reset_static_data(); /* so LeakSanitizer sees no caches */
    TEST_DONE();
}
