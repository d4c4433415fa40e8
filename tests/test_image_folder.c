/* Image folders: PNGs of every colour type (grey, RGB, RGBA, palette with
 * transparency, 1-bit, 16-bit, interlaced) and JPEGs written with libpng and
 * libjpeg into a temp folder; conversion values, resize vs crop on known
 * patterns, the split rule, class labels and names (class folders and
 * train/test), and every kind of bad folder or file (one line naming it). */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <stdint.h>
#include <stdio.h> /* before jpeglib.h, which uses FILE */
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jpeglib.h>
#include <png.h>
#include <zlib.h>

#include "aekit.h"
#include "data/image_folder.h"
#include "test.h"
#include "temp_dir.h"

static void die(const char *what, const char *path)
{
    fprintf(stderr, "cannot %s %s\n", what, path);
    exit(2);
}

/* ---- writing test images -------------------------------------------------------- */

typedef struct {
    int            n_palette;
    const uint8_t *palette; /* n_palette RGB triples */
    int            n_trans;
    const uint8_t *trans;   /* alpha of the first n_trans palette entries */
    int            interlace;
} png_extra;

/* data: h rows of packed samples as PNG stores them (16-bit big-endian). */
static void write_png(const char *path, int w, int h, int color_type, int depth, const uint8_t *data,
                      const png_extra *x)
{
    FILE *fp = fopen(path, "wb");
    if (!fp)
        die("write", path);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    if (setjmp(png_jmpbuf(png)))
        die("encode PNG", path);
    png_init_io(png, fp);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, depth, color_type,
                 x && x->interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (x && x->n_palette) {
        png_color pal[256];
        for (int i = 0; i < x->n_palette; i++) {
            pal[i].red = x->palette[3 * i];
            pal[i].green = x->palette[3 * i + 1];
            pal[i].blue = x->palette[3 * i + 2];
        }
        png_set_PLTE(png, info, pal, x->n_palette);
    }
    if (x && x->n_trans)
        png_set_tRNS(png, info, x->trans, x->n_trans, NULL);
    png_write_info(png, info);
    int channels = color_type == PNG_COLOR_TYPE_RGB ? 3 : color_type == PNG_COLOR_TYPE_RGBA ? 4
                 : color_type == PNG_COLOR_TYPE_GRAY_ALPHA ? 2 : 1;
    size_t rowbytes = ((size_t)w * (size_t)channels * (size_t)depth + 7) / 8;
    png_bytep rows[64];
    for (int y = 0; y < h; y++)
        rows[y] = (png_bytep)(data + (size_t)y * rowbytes);
    if (x && x->interlace)
        png_set_interlace_handling(png);
    png_write_image(png, rows);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    if (fclose(fp) != 0)
        die("write", path);
}

/* A w x h 8-bit grey PNG filled with v. */
static void solid_grey(const char *path, int w, int h, uint8_t v)
{
    uint8_t data[64 * 64];
    memset(data, v, sizeof data);
    write_png(path, w, h, PNG_COLOR_TYPE_GRAY, 8, data, NULL);
}

static void write_jpeg(const char *path, int w, int h, int channels, const uint8_t *data)
{
    FILE *fp = fopen(path, "wb");
    if (!fp)
        die("write", path);
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr jerr;
    c.err = jpeg_std_error(&jerr);
    jpeg_create_compress(&c);
    jpeg_stdio_dest(&c, fp);
    c.image_width = (JDIMENSION)w;
    c.image_height = (JDIMENSION)h;
    c.input_components = channels;
    c.in_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, 100, TRUE);
    jpeg_start_compress(&c, TRUE);
    while (c.next_scanline < c.image_height) {
        JSAMPROW row = (JSAMPROW)(data + (size_t)c.next_scanline * (size_t)w * (size_t)channels);
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    if (fclose(fp) != 0)
        die("write", path);
}

static void write_text(const char *path, const char *text)
{
    FILE *fp = fopen(path, "wb");
    if (!fp || fputs(text, fp) < 0 || fclose(fp) != 0)
        die("write", path);
}

/* Copies the first n bytes of src into dst (a truncated file). */
static void truncate_copy(const char *src, const char *dst, long n)
{
    uint8_t buf[1 << 16];
    FILE *f = fopen(src, "rb");
    size_t got = f ? fread(buf, 1, sizeof buf, f) : 0;
    if (f)
        fclose(f);
    if ((long)got < n)
        die("truncate", src);
    FILE *g = fopen(dst, "wb");
    if (!g || fwrite(buf, 1, (size_t)n, g) != (size_t)n || fclose(g) != 0)
        die("write", dst);
}

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* ---- decoding and conversion ---------------------------------------------------- */

/* Decodes path to `channels` and checks pixel 0 (all channels). */
static void expect_pixel(const char *path, int channels, const uint8_t *want, int tolerance)
{
    ae_error err = { "" };
    ae_image im;
    CHECK(ae_image_decode(&im, path, channels, &err) == 0, "%s", err.msg);
    if (!im.px)
        return;
    CHECK(im.c == channels, "%s: %d channels", path, im.c);
    for (int ch = 0; ch < channels; ch++) {
        int d = (int)im.px[ch] - (int)want[ch];
        CHECK(d <= tolerance && d >= -tolerance, "%s as %d channels: channel %d is %d, expected %d",
              path, channels, ch, im.px[ch], want[ch]);
    }
    ae_image_free(&im);
}

static void test_decode(void)
{
    mkdir(at("dec"), 0755);

    /* RGB (200, 100, 50): luma 0.299*200 + 0.587*100 + 0.114*50 = 124.2 */
    uint8_t rgb[3 * 4] = { 200, 100, 50, 200, 100, 50, 200, 100, 50, 200, 100, 50 };
    write_png(at("dec/rgb.png"), 2, 2, PNG_COLOR_TYPE_RGB, 8, rgb, NULL);
    expect_pixel(at("dec/rgb.png"), 3, (const uint8_t[]){ 200, 100, 50 }, 0);
    expect_pixel(at("dec/rgb.png"), 1, (const uint8_t[]){ 124 }, 0);

    /* pure colours: the BT.601 weights themselves, x 255 */
    uint8_t prim[9] = { 255, 0, 0, 0, 255, 0, 0, 0, 255 };
    write_png(at("dec/prim.png"), 3, 1, PNG_COLOR_TYPE_RGB, 8, prim, NULL);
    ae_image im;
    ae_error err = { "" };
    CHECK(ae_image_decode(&im, at("dec/prim.png"), 1, &err) == 0, "%s", err.msg);
    if (im.px) /* 76.245, 149.685, 29.07 */
        CHECK(im.px[0] == 76 && im.px[1] == 150 && im.px[2] == 29, "luma of R, G, B: %d %d %d",
              im.px[0], im.px[1], im.px[2]);
    ae_image_free(&im);

    /* grey to RGB repeats the value */
    solid_grey(at("dec/grey.png"), 3, 3, 77);
    expect_pixel(at("dec/grey.png"), 3, (const uint8_t[]){ 77, 77, 77 }, 0);
    expect_pixel(at("dec/grey.png"), 1, (const uint8_t[]){ 77 }, 0);

    /* RGBA composited over black: v * 128 / 255 rounded */
    uint8_t rgba[4] = { 200, 100, 50, 128 };
    write_png(at("dec/rgba.png"), 1, 1, PNG_COLOR_TYPE_RGBA, 8, rgba, NULL);
    expect_pixel(at("dec/rgba.png"), 3, (const uint8_t[]){ 100, 50, 25 }, 0);
    /* luma of (100, 50, 25) = 62.0 */
    expect_pixel(at("dec/rgba.png"), 1, (const uint8_t[]){ 62 }, 0);
    uint8_t ga[2] = { 90, 255 };
    write_png(at("dec/ga.png"), 1, 1, PNG_COLOR_TYPE_GRAY_ALPHA, 8, ga, NULL);
    expect_pixel(at("dec/ga.png"), 3, (const uint8_t[]){ 90, 90, 90 }, 0);

    /* palette with a transparent entry: pixel 0 opaque, pixel 1 transparent */
    const uint8_t pal[6] = { 10, 20, 30, 250, 250, 250 };
    const uint8_t trans[2] = { 255, 0 };
    png_extra px = { 2, pal, 2, trans, 0 };
    uint8_t idx[2] = { 0, 1 };
    write_png(at("dec/pal.png"), 2, 1, PNG_COLOR_TYPE_PALETTE, 8, idx, &px);
    CHECK(ae_image_decode(&im, at("dec/pal.png"), 3, &err) == 0, "%s", err.msg);
    if (im.px)
        CHECK(im.px[0] == 10 && im.px[1] == 20 && im.px[2] == 30 && im.px[3] == 0 && im.px[4] == 0 &&
              im.px[5] == 0, "palette: %d %d %d / %d %d %d", im.px[0], im.px[1], im.px[2], im.px[3],
              im.px[4], im.px[5]);
    ae_image_free(&im);

    /* 16-bit RGB (v * 257 scales to exactly v) and 1-bit grey */
    uint8_t rgb16[6] = { 200, 200, 100, 100, 50, 50 };
    write_png(at("dec/rgb16.png"), 1, 1, PNG_COLOR_TYPE_RGB, 16, rgb16, NULL);
    expect_pixel(at("dec/rgb16.png"), 3, (const uint8_t[]){ 200, 100, 50 }, 0);
    expect_pixel(at("dec/rgb16.png"), 1, (const uint8_t[]){ 124 }, 0);
    uint8_t bits[1] = { 0x40 }; /* pixels 0, 1, 0, 0 */
    write_png(at("dec/bits.png"), 4, 1, PNG_COLOR_TYPE_GRAY, 1, bits, NULL);
    CHECK(ae_image_decode(&im, at("dec/bits.png"), 1, &err) == 0, "%s", err.msg);
    if (im.px)
        CHECK(im.w == 4 && im.px[0] == 0 && im.px[1] == 255 && im.px[2] == 0, "1-bit grey");
    ae_image_free(&im);

    /* interlaced: every pixel distinct, decoded in place */
    uint8_t inter[8 * 8 * 3];
    for (int i = 0; i < (int)sizeof inter; i++)
        inter[i] = (uint8_t)(i * 7);
    png_extra il = { 0, NULL, 0, NULL, 1 };
    write_png(at("dec/inter.png"), 8, 8, PNG_COLOR_TYPE_RGB, 8, inter, &il);
    CHECK(ae_image_decode(&im, at("dec/inter.png"), 3, &err) == 0, "%s", err.msg);
    CHECK(im.px && im.w == 8 && im.h == 8 && memcmp(im.px, inter, sizeof inter) == 0, "interlaced PNG");
    ae_image_free(&im);

    /* JPEG, quality 100: close to the stored values */
    uint8_t jrgb[16 * 16 * 3], jgrey[16 * 16];
    for (int i = 0; i < 16 * 16; i++) {
        jrgb[3 * i] = 200, jrgb[3 * i + 1] = 100, jrgb[3 * i + 2] = 50;
        jgrey[i] = 77;
    }
    write_jpeg(at("dec/rgb.jpg"), 16, 16, 3, jrgb);
    write_jpeg(at("dec/grey.jpeg"), 16, 16, 1, jgrey);
    expect_pixel(at("dec/rgb.jpg"), 3, (const uint8_t[]){ 200, 100, 50 }, 3);
    expect_pixel(at("dec/rgb.jpg"), 1, (const uint8_t[]){ 124 }, 3);
    expect_pixel(at("dec/grey.jpeg"), 1, (const uint8_t[]){ 77 }, 1);
    expect_pixel(at("dec/grey.jpeg"), 3, (const uint8_t[]){ 77, 77, 77 }, 1);

    /* the decoder follows the content, not the name */
    truncate_copy(at("dec/rgb.png"), at("dec/png-named.jpg"), file_size(at("dec/rgb.png")));
    expect_pixel(at("dec/png-named.jpg"), 3, (const uint8_t[]){ 200, 100, 50 }, 0);
}

/* ---- fitting --------------------------------------------------------------------- */

/* Fits a grey image (w x h, row-major values) to oh x ow; returns dst. */
static const uint8_t *fit_grey(const uint8_t *px, int w, int h, int oh, int ow, ae_fit fit)
{
    static uint8_t dst[64];
    ae_error err = { "" };
    ae_image src = { w, h, 1, (uint8_t *)px };
    memset(dst, 0xee, sizeof dst);
    CHECK(ae_image_fit(dst, oh, ow, &src, fit, "pattern", &err) == 0, "%s", err.msg);
    return dst;
}

static void test_fit(void)
{
    /* 4 wide x 2 high, columns 10 20 30 40 */
    const uint8_t cols[8] = { 10, 20, 30, 40, 10, 20, 30, 40 };
    const uint8_t *d = fit_grey(cols, 4, 2, 2, 2, AE_FIT_RESIZE);
    CHECK(d[0] == 15 && d[1] == 35 && d[2] == 15 && d[3] == 35, "resize squashes: %d %d %d %d",
          d[0], d[1], d[2], d[3]);
    d = fit_grey(cols, 4, 2, 2, 2, AE_FIT_CROP);
    CHECK(d[0] == 20 && d[1] == 30 && d[2] == 20 && d[3] == 30, "crop keeps the centre: %d %d %d %d",
          d[0], d[1], d[2], d[3]);

    /* 2 wide x 4 high, rows 10 20 30 40: the same along y */
    const uint8_t rows[8] = { 10, 10, 20, 20, 30, 30, 40, 40 };
    d = fit_grey(rows, 2, 4, 2, 2, AE_FIT_RESIZE);
    CHECK(d[0] == 15 && d[1] == 15 && d[2] == 35 && d[3] == 35, "resize along y");
    d = fit_grey(rows, 2, 4, 2, 2, AE_FIT_CROP);
    CHECK(d[0] == 20 && d[1] == 20 && d[2] == 30 && d[3] == 30, "crop along y");

    /* 8 x 4, column x = 10 x: crop to 2 x 2 scales by 1/2 (short side 4 -> 2)
     * and keeps columns 2..5, averaged in pairs */
    uint8_t wide[32];
    for (int i = 0; i < 32; i++)
        wide[i] = (uint8_t)(10 * (i % 8));
    d = fit_grey(wide, 8, 4, 2, 2, AE_FIT_CROP);
    CHECK(d[0] == 25 && d[1] == 45 && d[2] == 25 && d[3] == 45, "scaled crop: %d %d", d[0], d[1]);
    d = fit_grey(wide, 8, 4, 2, 2, AE_FIT_RESIZE);
    CHECK(d[0] == 15 && d[1] == 55, "resize 8 -> 2 averages 4 columns: %d %d", d[0], d[1]);

    /* non-integer shrink: 3 -> 2 covers 1.5 pixels each */
    const uint8_t three[3] = { 0, 90, 180 };
    d = fit_grey(three, 3, 1, 1, 2, AE_FIT_RESIZE);
    CHECK(d[0] == 30 && d[1] == 150, "3 -> 2: %d %d", d[0], d[1]);

    /* enlarging is bilinear between pixel centres: 2 -> 4 */
    const uint8_t two[2] = { 0, 100 };
    d = fit_grey(two, 2, 1, 1, 4, AE_FIT_RESIZE);
    CHECK(d[0] == 0 && d[1] == 25 && d[2] == 75 && d[3] == 100, "2 -> 4: %d %d %d %d",
          d[0], d[1], d[2], d[3]);
    /* crop enlarging: 2 x 1 to 2 x 2 scales by 2 (height 1 -> 2), width 4 -> centre 2 */
    d = fit_grey(two, 2, 1, 2, 2, AE_FIT_CROP);
    CHECK(d[0] == 25 && d[1] == 75 && d[2] == 25 && d[3] == 75, "crop enlarging: %d %d", d[0], d[1]);

    /* same size: an exact copy, HWC in, CHW out */
    uint8_t hwc[5 * 3 * 3], chw[5 * 3 * 3];
    for (int i = 0; i < 45; i++)
        hwc[i] = (uint8_t)(i * 5 + 1);
    ae_image src = { 5, 3, 3, hwc };
    ae_error err = { "" };
    CHECK(ae_image_fit(chw, 3, 5, &src, AE_FIT_CROP, "copy", &err) == 0, "%s", err.msg);
    int same = 1;
    for (int y = 0; y < 3; y++)
        for (int x = 0; x < 5; x++)
            for (int c = 0; c < 3; c++)
                same &= chw[c * 15 + y * 5 + x] == hwc[(y * 5 + x) * 3 + c];
    CHECK(same, "same size copies HWC -> CHW");
}

/* ---- folders --------------------------------------------------------------------- */

static ae_dataset *open_ok(const char *dir, ae_split split, int c, int h, int w, ae_fit fit)
{
    ae_error err = { "" };
    ae_dataset *ds = NULL;
    ae_image_options img = { c, h, w, fit, 0 };
    CHECK(ae_dataset_open(&ds, dir, split, &img, &err) == 0, "open %s: %s", dir, err.msg);
    return ds;
}

static void expect_open_failure(const char *dir, ae_split split, int c, const char *what,
                                const char *what2)
{
    ae_error err = { "" };
    static ae_dataset dummy;
    ae_dataset *ds = &dummy;
    ae_image_options img = { c, 4, 4, AE_FIT_RESIZE, 0 };
    CHECK(ae_dataset_open(&ds, dir, split, c ? &img : NULL, &err) == -1, "%s should fail", dir);
    CHECK(ds == NULL, "%s: out is NULL after failure", dir);
    CHECK(strstr(err.msg, what) != NULL, "message has '%s': '%s'", what, err.msg);
    CHECK(!what2 || strstr(err.msg, what2) != NULL, "message has '%s': '%s'", what2, err.msg);
    CHECK(strchr(err.msg, '\n') == NULL, "one line: '%s'", err.msg);
}

static void test_flat(void)
{
    /* 11 images (names sorted: a00..a08, b.JPG, c.Jpeg), non-images and
     * hidden files ignored; the last 10% (1) is the test split */
    mkdir(at("flat"), 0755);
    char name[64];
    for (int i = 0; i < 9; i++) {
        snprintf(name, sizeof name, "flat/a%02d.png", i);
        solid_grey(at(name), 6, 6, (uint8_t)(i * 10));
    }
    uint8_t g[36];
    memset(g, 200, sizeof g);
    write_jpeg(at("flat/b.JPG"), 6, 6, 1, g);
    memset(g, 220, sizeof g);
    write_jpeg(at("flat/c.Jpeg"), 6, 6, 1, g);
    write_text(at("flat/notes.txt"), "not an image\n");
    write_text(at("flat/README"), "not an image\n");
    write_text(at("flat/.hidden.png"), "hidden: never read\n");
    write_text(at("flat/a.png.bak"), "not an image\n");

    ae_dataset *tr = open_ok(at("flat"), AE_SPLIT_TRAIN, 1, 3, 3, AE_FIT_RESIZE);
    ae_dataset *te = open_ok(at("flat"), AE_SPLIT_TEST, 1, 3, 3, AE_FIT_RESIZE);
    CHECK(tr && tr->n == 10 && tr->c == 1 && tr->h == 3 && tr->w == 3 && !tr->labels,
          "flat train: n %d", tr ? tr->n : -1);
    CHECK(te && te->n == 1 && !te->labels, "flat test: n %d", te ? te->n : -1);
    if (tr && tr->n == 10) {
        int ok = 1;
        for (int i = 0; i < 9; i++)
            ok &= tr->pixels[i * 9 + 4] == i * 10;
        CHECK(ok, "train images in file-name order");
        CHECK(abs(tr->pixels[9 * 9] - 200) <= 1, "b.JPG is the 10th: %d", tr->pixels[81]);
        CHECK(strcmp(tr->source, at("flat")) == 0, "source %s", tr->source);
    }
    if (te && te->n == 1)
        CHECK(abs(te->pixels[0] - 220) <= 1, "c.Jpeg is the test image: %d", te->pixels[0]);
    ae_dataset_free(tr);
    ae_dataset_free(te);

    /* 3 channels from grey */
    tr = open_ok(at("flat"), AE_SPLIT_TRAIN, 3, 2, 2, AE_FIT_CROP);
    CHECK(tr && tr->c == 3 && tr->pixels[1 * 4 * 3 + 4] == 10, "grey to RGB through the folder");
    ae_dataset_free(tr);

    /* one image: it is the test split, and training has none */
    mkdir(at("one"), 0755);
    solid_grey(at("one/x.png"), 2, 2, 1);
    te = open_ok(at("one"), AE_SPLIT_TEST, 1, 2, 2, AE_FIT_RESIZE);
    CHECK(te && te->n == 1, "one image: test");
    ae_dataset_free(te);
    expect_open_failure(at("one"), AE_SPLIT_TRAIN, 1, "no images for the train split", "last 10%");
}

static void test_classes(void)
{
    /* cat (3), dog (11 + a nested folder, ignored), empty: labels 0, 1, 2 */
    mkdir(at("cls"), 0755);
    mkdir(at("cls/cat"), 0755);
    mkdir(at("cls/dog"), 0755);
    mkdir(at("cls/empty"), 0755);
    mkdir(at("cls/dog/nested"), 0755);
    char name[64];
    for (int i = 0; i < 3; i++) {
        snprintf(name, sizeof name, "cls/cat/%d.png", i);
        solid_grey(at(name), 2, 2, (uint8_t)(100 + i));
    }
    for (int i = 0; i < 11; i++) {
        snprintf(name, sizeof name, "cls/dog/d%02d.png", i);
        solid_grey(at(name), 2, 2, (uint8_t)(i));
    }
    solid_grey(at("cls/dog/nested/ignored.png"), 2, 2, 255);
    write_text(at("cls/labels.csv"), "not an image, ignored\n");

    ae_dataset *tr = open_ok(at("cls"), AE_SPLIT_TRAIN, 1, 2, 2, AE_FIT_RESIZE);
    ae_dataset *te = open_ok(at("cls"), AE_SPLIT_TEST, 1, 2, 2, AE_FIT_RESIZE);
    CHECK(tr && tr->n == 12 && tr->labels, "classes train: n %d", tr ? tr->n : -1);
    CHECK(te && te->n == 2 && te->labels, "classes test: n %d", te ? te->n : -1);
    if (tr && tr->n == 12 && tr->labels) {
        int ok = tr->labels[0] == 0 && tr->labels[1] == 0 && tr->pixels[0] == 100 && tr->pixels[4] == 101;
        for (int i = 2; i < 12; i++)
            ok &= tr->labels[i] == 1 && tr->pixels[i * 4] == i - 2;
        CHECK(ok, "train: 2 cats (label 0) then dogs d00..d09 (label 1)");
    }
    if (te && te->n == 2 && te->labels)
        CHECK(te->labels[0] == 0 && te->pixels[0] == 102 && te->labels[1] == 1 && te->pixels[4] == 10,
              "test: the last cat and the last dog");
    /* the class names are the folders' names, label k named by the k-th */
    for (int split = 0; split < 2; split++) {
        const ae_dataset *d = split ? te : tr;
        CHECK(ae_dataset_class_count(d) == 3 && strcmp(ae_dataset_class_name(d, 0), "cat") == 0 &&
              strcmp(ae_dataset_class_name(d, 1), "dog") == 0 &&
              strcmp(ae_dataset_class_name(d, 2), "empty") == 0 && !ae_dataset_class_name(d, 3) &&
              !ae_dataset_class_name(d, -1), "split %d: class names cat, dog, empty (count %d)", split,
              ae_dataset_class_count(d));
    }
    ae_dataset_free(tr);
    ae_dataset_free(te);

    /* an image next to class folders */
    solid_grey(at("cls/stray.png"), 2, 2, 0);
    expect_open_failure(at("cls"), AE_SPLIT_TRAIN, 1, "cls/stray.png: image next to class folders", NULL);
    unlink(at("cls/stray.png"));

    /* train/ and test/ with classes: labels from the union of class names */
    const char *dirs[] = { "tt", "tt/train", "tt/test", "tt/train/a", "tt/train/b", "tt/test/b",
                           "tt/test/c" };
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
        mkdir(at(dirs[i]), 0755);
    solid_grey(at("tt/train/a/1.png"), 2, 2, 1);
    solid_grey(at("tt/train/a/2.png"), 2, 2, 2);
    solid_grey(at("tt/train/b/3.png"), 2, 2, 3);
    solid_grey(at("tt/test/b/4.png"), 2, 2, 4);
    solid_grey(at("tt/test/c/5.png"), 2, 2, 5);
    tr = open_ok(at("tt"), AE_SPLIT_TRAIN, 1, 2, 2, AE_FIT_RESIZE);
    te = open_ok(at("tt"), AE_SPLIT_TEST, 1, 2, 2, AE_FIT_RESIZE);
    CHECK(tr && tr->n == 3 && tr->labels && tr->labels[0] == 0 && tr->labels[1] == 0 &&
          tr->labels[2] == 1 && tr->pixels[8] == 3, "train/ split, all images, labels a=0 b=1");
    CHECK(te && te->n == 2 && te->labels && te->labels[0] == 1 && te->labels[1] == 2 &&
          te->pixels[4] == 5, "test/ split, labels b=1 c=2");
    CHECK(tr && strcmp(tr->source, at("tt/train")) == 0, "source is the train folder");
    CHECK(ae_dataset_class_count(tr) == 3 && ae_dataset_class_count(te) == 3 &&
          strcmp(ae_dataset_class_name(tr, 2), "c") == 0 && strcmp(ae_dataset_class_name(te, 0), "a") == 0,
          "train/ and test/: both splits name the union a, b, c");
    ae_dataset_free(tr);
    ae_dataset_free(te);

    /* train/ and test/ without classes */
    mkdir(at("ttf"), 0755);
    mkdir(at("ttf/train"), 0755);
    mkdir(at("ttf/test"), 0755);
    solid_grey(at("ttf/train/1.png"), 2, 2, 1);
    solid_grey(at("ttf/train/2.png"), 2, 2, 2);
    solid_grey(at("ttf/test/3.png"), 2, 2, 3);
    tr = open_ok(at("ttf"), AE_SPLIT_TRAIN, 1, 2, 2, AE_FIT_RESIZE);
    te = open_ok(at("ttf"), AE_SPLIT_TEST, 1, 2, 2, AE_FIT_RESIZE);
    CHECK(tr && tr->n == 2 && !tr->labels && te && te->n == 1 && !te->labels && te->pixels[0] == 3,
          "train/ and test/ without classes");
    CHECK(ae_dataset_class_count(tr) == 0 && !ae_dataset_class_name(tr, 0), "no classes, no class names");
    ae_dataset_free(tr);
    ae_dataset_free(te);

    /* train/ without test/ */
    mkdir(at("half"), 0755);
    mkdir(at("half/train"), 0755);
    solid_grey(at("half/train/1.png"), 2, 2, 1);
    expect_open_failure(at("half"), AE_SPLIT_TRAIN, 1, "has train/ but no test/", NULL);

    /* 257 classes */
    mkdir(at("many"), 0755);
    for (int i = 0; i < 257; i++) {
        snprintf(name, sizeof name, "many/c%03d", i);
        mkdir(at(name), 0755);
    }
    expect_open_failure(at("many"), AE_SPLIT_TRAIN, 1, "257 class folders", "at most 256");
}

static void test_bad(void)
{
    /* a truncated PNG, named in the message */
    mkdir(at("bad"), 0755);
    for (int i = 0; i < 20; i++) {
        char name[64];
        snprintf(name, sizeof name, "bad/i%02d.png", i);
        solid_grey(at(name), 16, 16, (uint8_t)i);
    }
    solid_grey(at("ok.png"), 16, 16, 7);
    long n = file_size(at("ok.png"));
    truncate_copy(at("ok.png"), at("bad/i05.png"), n - 20);
    truncate_copy(at("ok.png"), at("bad/i15.png"), n - 20);
    /* decoded in parallel, the first bad file in folder order is reported */
    for (int k = 0; k < 3; k++)
        expect_open_failure(at("bad"), AE_SPLIT_TRAIN, 1, "bad/i05.png: corrupt or unsupported PNG", NULL);

    /* a PNG with a flipped data byte (CRC error) */
    mkdir(at("crc"), 0755);
    solid_grey(at("crc/x.png"), 16, 16, 9);
    FILE *f = fopen(at("crc/x.png"), "r+b");
    if (f) {
        fseek(f, 45, SEEK_SET);
        int c = fgetc(f);
        fseek(f, 45, SEEK_SET);
        fputc(c ^ 0xff, f);
        fclose(f);
    }
    solid_grey(at("crc/y.png"), 16, 16, 9);
    expect_open_failure(at("crc"), AE_SPLIT_TRAIN, 1, "crc/x.png: corrupt or unsupported PNG", NULL);

    /* a truncated JPEG: libjpeg would fill it with grey; here it is an error */
    mkdir(at("badjpg"), 0755);
    uint8_t px[32 * 32 * 3];
    for (int i = 0; i < (int)sizeof px; i++)
        px[i] = (uint8_t)(i * 13);
    write_jpeg(at("full.jpg"), 32, 32, 3, px);
    truncate_copy(at("full.jpg"), at("badjpg/a.jpg"), file_size(at("full.jpg")) / 2);
    solid_grey(at("badjpg/b.png"), 2, 2, 0);
    expect_open_failure(at("badjpg"), AE_SPLIT_TRAIN, 3, "badjpg/a.jpg: corrupt or unsupported JPEG", NULL);

    /* not an image at all, under an image name */
    mkdir(at("text"), 0755);
    write_text(at("text/a.png"), "hello");
    write_text(at("text/b.png"), "");
    solid_grey(at("text/c.png"), 2, 2, 0);
    expect_open_failure(at("text"), AE_SPLIT_TRAIN, 1, "text/a.png: not a PNG or JPEG image", NULL);
    unlink(at("text/a.png"));
    expect_open_failure(at("text"), AE_SPLIT_TRAIN, 1, "text/b.png: empty file", NULL);

    /* a header claiming 20000 x 20000: refused before any allocation */
    mkdir(at("huge"), 0755);
    static const uint8_t ihdr[] = {
        0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R',
        0, 0, 0x4e, 0x20, 0, 0, 0x4e, 0x20, 8, 0, 0, 0, 0,
    };
    uint8_t buf[64];
    memcpy(buf, ihdr, sizeof ihdr);
    uint32_t crc = (uint32_t)crc32(0, buf + 12, 17);
    buf[29] = (uint8_t)(crc >> 24), buf[30] = (uint8_t)(crc >> 16), buf[31] = (uint8_t)(crc >> 8);
    buf[32] = (uint8_t)crc;
    f = fopen(at("huge/h.png"), "wb");
    if (f) {
        fwrite(buf, 1, 33, f);
        fclose(f);
    }
    solid_grey(at("huge/z.png"), 2, 2, 0);
    expect_open_failure(at("huge"), AE_SPLIT_TRAIN, 1, "huge/h.png: PNG of 20000x20000 pixels",
                        "16384x16384");

    /* no images, only other files */
    mkdir(at("noimg"), 0755);
    write_text(at("noimg/readme.txt"), "nothing\n");
    expect_open_failure(at("noimg"), AE_SPLIT_TRAIN, 1, "noimg: no images for the train split", ".png");
    mkdir(at("emptydir"), 0755);
    expect_open_failure(at("emptydir"), AE_SPLIT_TEST, 1, "emptydir: no images for the test split", NULL);

    /* an image folder needs a size; bad sizes and channel counts */
    expect_open_failure(at("flat"), AE_SPLIT_TRAIN, 0, "flat: an image folder needs a size (the model's input)",
                        NULL);
    expect_open_failure(at("flat"), AE_SPLIT_TRAIN, 2, "1 or 3 channels", NULL);
    ae_error err = { "" };
    ae_dataset *ds = NULL;
    ae_image_options big = { 1, 5000, 4, AE_FIT_RESIZE, 0 };
    CHECK(ae_dataset_open(&ds, at("flat"), AE_SPLIT_TRAIN, &big, &err) == -1 &&
          strstr(err.msg, "1 to 4096"), "'%s'", err.msg);
}

int main(void)
{
    if (temp_dir_open("images") != 0)
        return 2;
    test_decode();
    test_fit();
    test_flat();
    test_classes();
    test_bad();
    remove_tree(root);
    TEST_DONE();
}
