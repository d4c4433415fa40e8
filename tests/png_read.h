/* Reading a written PNG back for its pixels (libpng's simplified API), so
 * that picture tests check what a viewer would show. */
#ifndef AEKIT_TEST_PNG_READ_H
#define AEKIT_TEST_PNG_READ_H

#include <png.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Reads a PNG as 8-bit gray (c = 1) or RGB (c = 3); caller frees. NULL when
 * the file is missing or not a PNG. */
static uint8_t *read_png(const char *path, int c, int *w, int *h)
{
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&img, path)) return NULL;
    img.format = c == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
    uint8_t *buf = malloc(PNG_IMAGE_SIZE(img));
    if (!png_image_finish_read(&img, NULL, buf, 0, NULL)) {
        free(buf);
        png_image_free(&img);
        return NULL;
    }
    *w = (int)img.width;
    *h = (int)img.height;
    return buf;
}

#endif
