/* aekit images: PNG and JPEG files decoded to bytes and fitted to a size
 * (image folders are read with these; aekit.h's ae_dataset_open opens
 * them), and converted to the library's float pixels.
 *
 * Conversion: palette, 1/2/4-bit and 16-bit PNGs are expanded / scaled to
 * 8 bits; alpha (and tRNS transparency) is composited over black
 * (v * a / 255) and then dropped; 1 channel = ITU-R BT.601 luma
 * (Y = 0.299 R + 0.587 G + 0.114 B, in the same 16-bit fixed point as
 * Pillow's convert("L")); 3 channels from grey repeat the grey value. No
 * gamma or colour-profile handling: stored values are used as they are.
 * JPEG warnings (a truncated or corrupt stream) are errors.             */
#ifndef AEKIT_IMAGE_H
#define AEKIT_IMAGE_H

#include <stddef.h>
#include <stdint.h>
#include "aekit.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A decoded image: h x w pixels of c interleaved bytes (HWC). */
typedef struct {
    int      w, h, c;
    uint8_t *px;
} ae_image;

/* Decodes a PNG or JPEG file to `channels` (1 or 3) channels. */
int  ae_image_decode(ae_image *out, const char *path, int channels, ae_error *err);
/* Bounds on the size an image's header may claim, checked before any pixel
 * is allocated: each side at most max_side (at most the file limit, 16384;
 * 0 = that limit) and at most max_pixels pixels in all (0 = no bound). */
typedef struct {
    int      max_side;
    uint64_t max_pixels;
} ae_image_limits;

/* The same for an image held in memory (a request's body): size bounds
 * what the header may claim, as a file's size does, and so do `limits`
 * (NULL = the file limits; a server passes smaller ones, since a small
 * deflate stream can claim a huge image); `name` is only for messages. */
int  ae_image_decode_memory(ae_image *out, const void *data, size_t size, const char *name,
                            int channels, const ae_image_limits *limits, ae_error *err);
void ae_image_free(ae_image *im);

/* Fits src (HWC) into dst (CHW, src->c x h x w):
 *  AE_FIT_RESIZE  the whole image squashed to h x w;
 *  AE_FIT_CROP    scaled (keeping its aspect ratio) so that it covers
 *                 h x w, then the centre h x w cut out.
 * Per axis, shrinking averages the covered area (each source pixel weighted
 * by how much of it an output pixel covers) and enlarging interpolates
 * bilinearly between pixel centres (edges clamped); equal sizes copy.
 * `path` is only for messages (out of memory). */
int  ae_image_fit(uint8_t *dst, int h, int w, const ae_image *src, ae_fit fit, const char *path,
                  ae_error *err);

/* The image's pixels as floats in [0, 1], CHW (c x h x w, the library's
 * layout) into out (im->c * im->h * im->w floats). */
void ae_image_to_floats(const ae_image *im, float *out);

/* An image of floats in [0, 1] (CHW, c = 1 or 3, at most 16384 pixels a
 * side) as an 8-bit grey or RGB PNG in memory: *out (caller frees) of
 * *size bytes. Values are clamped to [0, 1] (NaN as 0) and rounded, as the
 * PNG files aekit writes. */
int  ae_png_encode(const float *chw, int c, int h, int w, uint8_t **out, size_t *size,
                   ae_error *err);

#ifdef __cplusplus
}
#endif

#endif
