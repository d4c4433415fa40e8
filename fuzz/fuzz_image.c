/* libFuzzer harness: the image-folder loader (src/data/image_folder.c):
 * PNG (libpng) and JPEG (libjpeg-turbo) decoding, channel conversion and
 * fitting.
 *
 * The input becomes the only image of a folder (named .png or .jpg after
 * its first bytes; the decoder is chosen by content anyway), and the test
 * split of that folder (which then holds that image) is read with a small
 * target size. Channels (1 or 3), fit (resize or crop) and one of a few
 * target sizes are chosen by the input's length, so every input always
 * takes the same path. */
#include "fuzz_common.h"

#include "aekit.h"
#include "data/image_folder.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char dir[300], png[300], jpg[300];
    if (!dir[0]) {
        fz_path(dir, sizeof dir, "images");
        if (mkdir(dir, 0700) != 0) abort();
        snprintf(png, sizeof png, "%s/a.png", dir);
        snprintf(jpg, sizeof jpg, "%s/a.jpg", dir);
    }
    int is_jpeg = size >= 2 && data[0] == 0xff && data[1] == 0xd8;
    unlink(is_jpeg ? png : jpg);
    fz_write(is_jpeg ? jpg : png, data, size);

    static const int sizes[4][2] = { { 16, 16 }, { 16, 16 }, { 5, 17 }, { 31, 3 } };
    int c = (size & 1) ? 3 : 1;
    ae_fit fit = (size & 2) ? AE_FIT_CROP : AE_FIT_RESIZE;
    int h = sizes[(size >> 2) & 3][0], w = sizes[(size >> 2) & 3][1];

    ae_dataset ds;
    memset(&ds, 0, sizeof ds);
    ae_error err;
    if (image_folder_read(&ds, dir, AE_SPLIT_TEST, c, h, w, fit, &err) != 0) {
        if (!err.msg[0] || ds.pixels || ds.labels) abort();
        return 0;
    }
    if (ds.n != 1 || ds.c != c || ds.h != h || ds.w != w || ds.labels) abort();
    fz_touch(ds.pixels, (size_t)c * h * w);
    free(ds.pixels);
    return 0;
}
