/* ae_png_encode: one image of floats as an 8-bit PNG in memory (what
 * aekit serve answers a request with), through libpng's write callback
 * into a growing buffer. */
#include "aekit.h"
#include "aekit/image.h"
#include "core/error.h"

#include <png.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PNG_MEMORY_MAX_SIDE 16384 /* as the decoder's limit */

typedef struct {
    uint8_t *data;
    size_t   size, cap;
    int      oom;
    char     msg[200];
} png_buffer;

static void on_error(png_structp png, png_const_charp msg)
{
    png_buffer *b = png_get_error_ptr(png);
    snprintf(b->msg, sizeof b->msg, "%s", msg);
    png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp msg)
{
    (void)png; /* the library never prints */
    (void)msg;
}

static void on_write(png_structp png, png_bytep bytes, png_size_t n)
{
    png_buffer *b = png_get_io_ptr(png);
    if (b->size + n > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->size + n) cap *= 2;
        uint8_t *grown = realloc(b->data, cap);
        if (!grown) {
            b->oom = 1;
            png_error(png, "out of memory");
        }
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->size, bytes, n);
    b->size += n;
}

static void on_flush(png_structp png)
{
    (void)png;
}

static uint8_t to_byte(float v)
{
    if (!(v > 0.0f)) return 0; /* also NaN */
    if (v >= 1.0f) return 255;
    return (uint8_t)(v * 255.0f + 0.5f);
}

/* Everything libpng touches; row is w * c bytes. 0 or -1 with b->msg. */
static int encode_rows(png_buffer *b, uint8_t *row, const float *chw, int c, int h, int w)
{
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, b, on_error, on_warning);
    if (!png) {
        snprintf(b->msg, sizeof b->msg, "out of memory");
        return -1;
    }
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        snprintf(b->msg, sizeof b->msg, "out of memory");
        return -1;
    }
    /* No local is modified after setjmp, so none needs to be volatile. */
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return -1;
    }
    png_set_write_fn(png, b, on_write, on_flush);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8,
                 c == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    size_t plane = (size_t)h * (size_t)w;
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++)
            for (int ch = 0; ch < c; ch++)
                row[(size_t)x * (size_t)c + (size_t)ch] =
                    to_byte(chw[(size_t)ch * plane + (size_t)y * (size_t)w + (size_t)x]);
        png_write_row(png, row);
    }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return 0;
}

int ae_png_encode(const float *chw, int c, int h, int w, uint8_t **out, size_t *size, ae_error *err)
{
    if (out) *out = NULL;
    if (size) *size = 0;
    if (!chw || !out || !size) return ae_fail(err, "PNG encode: no image or no output");
    if (c != 1 && c != 3) return ae_fail(err, "PNG encode: %d channels (1 or 3 supported)", c);
    if (h <= 0 || w <= 0 || h > PNG_MEMORY_MAX_SIDE || w > PNG_MEMORY_MAX_SIDE)
        return ae_fail(err, "PNG encode: image size %d x %d (1 to %d a side)", h, w,
                       PNG_MEMORY_MAX_SIDE);
    uint8_t *row = malloc((size_t)w * (size_t)c);
    if (!row) return ae_fail(err, "PNG encode: out of memory");
    png_buffer b;
    memset(&b, 0, sizeof b);
    int rc = encode_rows(&b, row, chw, c, h, w);
    free(row);
    if (rc != 0) {
        free(b.data);
        return ae_fail(err, "PNG encode failed: %s", b.oom ? "out of memory" : b.msg);
    }
    *out = b.data;
    *size = b.size;
    return 0;
}
