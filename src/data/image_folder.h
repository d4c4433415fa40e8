/* Image folders: PNG and JPEG files decoded (libpng, libjpeg-turbo),
 * converted to 1 or 3 channels and fitted to one size.
 *
 * Layout of a folder DIR (hidden entries, starting with '.', are ignored):
 *  - DIR/train/ and DIR/test/ both present: they are the two splits;
 *    otherwise all of DIR is split: in each class folder (or in DIR when
 *    there are none) the images sorted by file name (byte order), the last
 *    10% (at least 1) go to the test split and the rest to training;
 *  - class folders: when the split's folder has subfolders, each one is a
 *    class and label = its index among the class names in sorted order
 *    (with train/ and test/: the sorted union of both folders' class names,
 *    so labels agree); at most 256 classes. Images next to class folders
 *    are an error; folders inside class folders are ignored. Without
 *    subfolders the data set has no labels.
 *  - files count as images by extension (.png, .jpg, .jpeg, any case),
 *    others are ignored; the decoder is chosen by the file's first bytes.
 *    A file that does not decode is an error naming it.
 *
 * Conversion: palette, 1/2/4-bit and 16-bit PNGs are expanded / scaled to
 * 8 bits; alpha (and tRNS transparency) is composited over black
 * (v * a / 255) and then dropped; 1 channel = ITU-R BT.601 luma
 * (Y = 0.299 R + 0.587 G + 0.114 B, in the same 16-bit fixed point as
 * Pillow's convert("L")); 3 channels from grey repeat the grey value. No
 * gamma or colour-profile handling: stored values are used as they are.
 * JPEG warnings (a truncated or corrupt stream) are errors.             */
#ifndef AEKIT_DATA_IMAGE_FOLDER_H
#define AEKIT_DATA_IMAGE_FOLDER_H

#include <stddef.h>
#include <stdint.h>
#include "aekit.h"

#define IMAGE_MAX_SIDE    16384    /* decoded images, per side */
#define IMAGE_MAX_TARGET  4096     /* requested size, per side */
#define IMAGE_MAX_COUNT   1000000  /* images in one folder */
#define IMAGE_MAX_CLASSES 256

/* A decoded image: h x w pixels of c interleaved bytes (HWC). */
typedef struct {
    int      w, h, c;
    uint8_t *px;
} image_buf;

/* Decodes a PNG or JPEG file to `channels` (1 or 3) channels. */
int  image_decode(image_buf *out, const char *path, int channels, ae_error *err);
void image_buf_free(image_buf *im);

/* Fits src (HWC) into dst (CHW, src->c x h x w):
 *  AE_FIT_RESIZE  the whole image squashed to h x w;
 *  AE_FIT_CROP    scaled (keeping its aspect ratio) so that it covers
 *                 h x w, then the centre h x w cut out.
 * Per axis, shrinking averages the covered area (each source pixel weighted
 * by how much of it an output pixel covers) and enlarging interpolates
 * bilinearly between pixel centres (edges clamped); equal sizes copy.
 * `path` is only for messages (out of memory). */
int  image_fit(uint8_t *dst, int h, int w, const image_buf *src, ae_fit fit, const char *path,
               ae_error *err);

/* Reads split `split` of the image folder dir into ds (zeroed), every image
 * converted to c channels and fitted to h x w. Folder sizes and counts are
 * checked before the pixels are allocated; images decode in parallel
 * (OpenMP) and the first failing image in folder order is reported. On
 * failure ds owns nothing. */
int  image_folder_read(ae_dataset *ds, const char *dir, ae_split split, int c, int h, int w,
                       ae_fit fit, ae_error *err);

#endif
