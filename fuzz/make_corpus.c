/* Writes the small generated seed files of fuzz/corpus/ (the rest are copies
 * of the model presets and of tests/fixtures files, see README.md):
 *
 *   cc fuzz/make_corpus.c -o /tmp/make_corpus -lpng -ljpeg -lz && /tmp/make_corpus fuzz/corpus
 *
 * idx/        raw and gzipped IDX files (1-d labels, 3-d images)
 * npy/        .npy files (v1.0 '<f4' 1-d..4-d, '<f8', v2.0)
 * cifar/      a 2-record test_batch.bin
 * image/      PNG (grey 1/8/16 bit, grey+alpha, palette+tRNS, RGB, RGBA 16
 *             bit, interlaced) and JPEG (grey, RGB, progressive) files
 * safetensors/ files with every dtype and metadata
 * Everything is deterministic. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <png.h>
#include <zlib.h>

static const char *root;

static FILE *open_out(const char *dir, const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s/%s", root, dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) { perror(path); exit(1); }
    return f;
}

static void write_file(const char *dir, const char *name, const void *p, size_t n)
{
    FILE *f = open_out(dir, name);
    fwrite(p, 1, n, f);
    fclose(f);
}

static void write_gz(const char *dir, const char *name, const void *p, size_t n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s/%s", root, dir, name);
    gzFile gz = gzopen(path, "wb9");
    gzwrite(gz, p, (unsigned)n);
    gzclose(gz);
}

static uint8_t pix(int i) { return (uint8_t)((i * 37 + 11) ^ (i >> 3)); }

/* ---- IDX ---- */
static size_t idx(uint8_t *buf, int ndim, const uint32_t *dims)
{
    size_t n = 0, count = 1;
    buf[n++] = 0; buf[n++] = 0; buf[n++] = 8; buf[n++] = (uint8_t)ndim;
    for (int i = 0; i < ndim; i++) {
        buf[n++] = (uint8_t)(dims[i] >> 24); buf[n++] = (uint8_t)(dims[i] >> 16);
        buf[n++] = (uint8_t)(dims[i] >> 8); buf[n++] = (uint8_t)dims[i];
        count *= dims[i];
    }
    for (size_t i = 0; i < count; i++) buf[n++] = ndim == 1 ? (uint8_t)(i % 10) : pix((int)i);
    return n;
}

static void make_idx(void)
{
    uint8_t buf[4096];
    uint32_t l[1] = { 10 }, im[3] = { 2, 6, 5 }, one[4] = { 1, 2, 2, 3 };
    size_t n = idx(buf, 1, l);
    write_file("idx", "labels-idx1-ubyte", buf, n);
    write_gz("idx", "labels-idx1-ubyte.gz", buf, n);
    n = idx(buf, 3, im);
    write_file("idx", "images-idx3-ubyte", buf, n);
    write_gz("idx", "images-idx3-ubyte.gz", buf, n);
    n = idx(buf, 4, one);
    write_file("idx", "four-idx4-ubyte", buf, n);
}

/* ---- npy ---- */
static void npy(const char *name, int version, const char *descr, const char *shape,
                size_t count, size_t isize)
{
    char dict[256];
    int dn = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }",
                      descr, shape);
    size_t pre = version == 1 ? 10 : 12;
    size_t total = pre + (size_t)dn + 1;
    size_t pad = (64 - total % 64) % 64;
    size_t hlen = (size_t)dn + pad + 1;
    uint8_t *b = calloc(1, pre + hlen + count * isize);
    memcpy(b, "\x93NUMPY", 6);
    b[6] = (uint8_t)version; b[7] = 0;
    b[8] = (uint8_t)hlen; b[9] = (uint8_t)(hlen >> 8);
    memcpy(b + pre, dict, (size_t)dn);
    memset(b + pre + dn, ' ', pad);
    b[pre + hlen - 1] = '\n';
    uint8_t *d = b + pre + hlen;
    for (size_t i = 0; i < count; i++) {
        if (isize == 4) { float v = (float)i * 0.25f - 1.0f; memcpy(d + 4 * i, &v, 4); }
        else { double v = (double)i * 0.5 - 2.0; memcpy(d + 8 * i, &v, 8); }
    }
    write_file("npy", name, b, pre + hlen + count * isize);
    free(b);
}

static void make_npy(void)
{
    npy("f4_1d.npy", 1, "<f4", "(5,)", 5, 4);
    npy("f4_2d.npy", 1, "<f4", "(2, 3)", 6, 4);
    npy("f4_4d.npy", 1, "<f4", "(1, 2, 2, 2)", 8, 4);
    npy("f8_2d.npy", 1, "<f8", "(3, 1)", 3, 8);
    npy("v2_f4_3d.npy", 2, "<f4", "(2, 1, 2)", 4, 4);
    npy("empty_f4.npy", 1, "<f4", "(0, 4)", 0, 4);
}

/* ---- CIFAR ---- */
static void make_cifar(void)
{
    static uint8_t b[2 * 3073];
    for (int r = 0; r < 2; r++) {
        b[r * 3073] = (uint8_t)(r * 7);
        for (int i = 0; i < 3072; i++) b[r * 3073 + 1 + i] = pix(i + r);
    }
    write_file("cifar", "test_batch.bin", b, sizeof b);
}

/* ---- PNG ---- */
static void png(const char *name, int w, int h, int color, int depth, int interlace, int trns)
{
    FILE *f = open_out("image", name);
    png_structp p = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(p);
    if (setjmp(png_jmpbuf(p))) exit(1);
    png_init_io(p, f);
    png_set_compression_level(p, 9);
    png_set_IHDR(p, info, (png_uint_32)w, (png_uint_32)h, depth, color,
                 interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (color == PNG_COLOR_TYPE_PALETTE) {
        png_color pal[4] = { { 0, 0, 0 }, { 255, 0, 0 }, { 0, 255, 0 }, { 10, 20, 250 } };
        png_set_PLTE(p, info, pal, 4);
        if (trns) {
            png_byte a[2] = { 0, 128 };
            png_set_tRNS(p, info, a, 2, NULL);
        }
    } else if (trns && (color == PNG_COLOR_TYPE_GRAY || color == PNG_COLOR_TYPE_RGB)) {
        png_color_16 t = { 0, 5, 5, 5, 5 };
        png_set_tRNS(p, info, NULL, 0, &t);
    }
    png_write_info(p, info);
    int ch = color == PNG_COLOR_TYPE_GRAY ? 1 : color == PNG_COLOR_TYPE_GRAY_ALPHA ? 2
           : color == PNG_COLOR_TYPE_RGB ? 3 : color == PNG_COLOR_TYPE_RGBA ? 4 : 1;
    size_t rowbytes = ((size_t)w * ch * depth + 7) / 8;
    uint8_t *rows = calloc((size_t)h, rowbytes);
    for (size_t i = 0; i < (size_t)h * rowbytes; i++)
        rows[i] = color == PNG_COLOR_TYPE_PALETTE ? (uint8_t)((i * 0x1b) & (depth == 8 ? 3 : 0xff)) & (depth == 2 ? 0xff : 0xff)
                                                 : pix((int)i);
    if (color == PNG_COLOR_TYPE_PALETTE && depth == 8)
        for (size_t i = 0; i < (size_t)h * rowbytes; i++) rows[i] &= 3;
    png_bytep *rp = malloc((size_t)h * sizeof *rp);
    for (int y = 0; y < h; y++) rp[y] = rows + (size_t)y * rowbytes;
    png_write_image(p, rp);
    png_write_end(p, NULL);
    png_destroy_write_struct(&p, &info);
    fclose(f);
    free(rp);
    free(rows);
}

/* ---- JPEG ---- */
static void jpeg(const char *name, int w, int h, int comps, int progressive)
{
    FILE *f = open_out("image", name);
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr e;
    c.err = jpeg_std_error(&e);
    jpeg_create_compress(&c);
    jpeg_stdio_dest(&c, f);
    c.image_width = (JDIMENSION)w;
    c.image_height = (JDIMENSION)h;
    c.input_components = comps;
    c.in_color_space = comps == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, 50, TRUE);
    if (progressive) jpeg_simple_progression(&c);
    jpeg_start_compress(&c, TRUE);
    uint8_t *row = malloc((size_t)w * comps);
    while (c.next_scanline < c.image_height) {
        for (int i = 0; i < w * comps; i++) row[i] = pix(i + (int)c.next_scanline * 3);
        JSAMPROW r = row;
        jpeg_write_scanlines(&c, &r, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    fclose(f);
    free(row);
}

static void make_images(void)
{
    png("grey8.png", 5, 7, PNG_COLOR_TYPE_GRAY, 8, 0, 0);
    png("grey1.png", 9, 3, PNG_COLOR_TYPE_GRAY, 1, 0, 0);
    png("grey16_trns.png", 4, 4, PNG_COLOR_TYPE_GRAY, 16, 0, 1);
    png("grey_alpha.png", 3, 3, PNG_COLOR_TYPE_GRAY_ALPHA, 8, 0, 0);
    png("palette2_trns.png", 6, 5, PNG_COLOR_TYPE_PALETTE, 2, 0, 1);
    png("rgb8_interlaced.png", 17, 9, PNG_COLOR_TYPE_RGB, 8, 1, 0);
    png("rgba16.png", 2, 3, PNG_COLOR_TYPE_RGBA, 16, 0, 0);
    png("rgb_1x1.png", 1, 1, PNG_COLOR_TYPE_RGB, 8, 0, 0);
    jpeg("grey.jpg", 8, 8, 1, 0);
    jpeg("rgb.jpg", 19, 11, 3, 0);
    jpeg("rgb_progressive.jpg", 16, 16, 3, 1);
}

/* ---- safetensors ---- */
static void make_safetensors(void)
{
    /* one tensor of each dtype, 2 elements each, plus metadata */
    static const struct { const char *dt; int size; } t[] = {
        { "F32", 4 }, { "F64", 8 }, { "F16", 2 }, { "BF16", 2 }, { "U8", 1 }, { "I8", 1 },
        { "I32", 4 }, { "I64", 8 },
    };
    char hdr[2048];
    int n = snprintf(hdr, sizeof hdr, "{\"__metadata__\":{\"format\":\"pt\",\"note\":\"fuzz seed\"}");
    size_t off = 0;
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        n += snprintf(hdr + n, sizeof hdr - (size_t)n,
                      ",\"t.%s\":{\"dtype\":\"%s\",\"shape\":[2,1],\"data_offsets\":[%zu,%zu]}",
                      t[i].dt, t[i].dt, off, off + 2 * (size_t)t[i].size);
        off += 2 * (size_t)t[i].size;
    }
    n += snprintf(hdr + n, sizeof hdr - (size_t)n, ",\"scalar\":{\"dtype\":\"F32\",\"shape\":[],"
                  "\"data_offsets\":[%zu,%zu]}", off, off + 4);
    off += 4;
    n += snprintf(hdr + n, sizeof hdr - (size_t)n, ",\"empty\":{\"dtype\":\"F16\",\"shape\":[0,3],"
                  "\"data_offsets\":[%zu,%zu]}}", off, off);
    while (n % 8) hdr[n++] = ' ';
    uint8_t *b = calloc(1, 8 + (size_t)n + off);
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)((uint64_t)n >> (8 * i));
    memcpy(b + 8, hdr, (size_t)n);
    for (size_t i = 0; i < off; i++) b[8 + n + i] = (uint8_t)(0x3c + i * 7);
    write_file("safetensors", "dtypes.safetensors", b, 8 + (size_t)n + off);
    free(b);
}

int main(int argc, char **argv)
{
    if (argc != 2) { fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]); return 2; }
    root = argv[1];
    make_idx();
    make_npy();
    make_cifar();
    make_images();
    make_safetensors();
    return 0;
}
