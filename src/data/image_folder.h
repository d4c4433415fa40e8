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
 *    are an error; folders inside class folders are ignored. The class
 *    folders' names are the data set's class names (ae_dataset_class_name).
 *    Without subfolders the data set has no labels and no class names.
 *  - files count as images by extension (.png, .jpg, .jpeg, any case),
 *    others are ignored; the decoder is chosen by the file's first bytes.
 *    A file that does not decode is an error naming it.
 *
 * Decoding and conversion: aekit/image.h.                              */
#ifndef AEKIT_DATA_IMAGE_FOLDER_H
#define AEKIT_DATA_IMAGE_FOLDER_H

#include "aekit.h"
#include "aekit/image.h"

#define IMAGE_MAX_SIDE    16384    /* decoded images, per side */
#define IMAGE_MAX_TARGET  4096     /* requested size, per side */
#define IMAGE_MAX_COUNT   1000000  /* images in one folder */
#define IMAGE_MAX_CLASSES 256

/* Reads split `split` of the image folder dir into ds (zeroed), every image
 * converted to c channels and fitted to h x w; with class folders, their
 * names are ds's class names (class_names.h). Folder sizes and counts are
 * checked before the pixels are allocated; images decode in parallel
 * (OpenMP) and the first failing image in folder order is reported. On
 * failure ds owns nothing. */
int  image_folder_read(ae_dataset *ds, const char *dir, ae_split split, int c, int h, int w,
                       ae_fit fit, ae_error *err);

#endif
