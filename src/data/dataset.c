/* Data sets: a split of a folder found by path or by name, holding IDX
 * files (MNIST style), CIFAR-10 binary batches or images (PNG/JPEG). Pixels
 * stay uint8 until a batch is taken. */
#define _POSIX_C_SOURCE 200809L

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aekit.h"
#include "core/error.h"
#include "data/cifar.h"
#include "data/class_names.h"
#include "aekit/files.h"
#include "data/idx.h"
#include "data/image_folder.h"

#define PATH_SIZE AE_DATASET_PATH_SIZE

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Where Debian's dataset-* packages install data sets. */
static const char *const SYSTEM_DATA_DIR = "/usr/share/datasets";

#define CIFAR10_HINT "download the CIFAR-10 binary version (cifar-10-binary.tar.gz) from its " \
    "publishers, https://www.cs.toronto.edu/~kriz/cifar.html, and extract it into data/cifar10/ " \
    "(data_batch_1.bin .. data_batch_5.bin and test_batch.bin)"

static const char *install_hint(const char *name)
{
    if (strcmp(name, "mnist") == 0)
        return "mnist/ holds MNIST's four IDX files (train-/t10k-images-idx3-ubyte, "
               "train-/t10k-labels-idx1-ubyte, raw or .gz)";
    if (strcmp(name, "fashion-mnist") == 0)
        return "run apt-get install dataset-fashion-mnist";
    if (strcmp(name, "cifar10") == 0)
        return CIFAR10_HINT;
    return "known names: mnist, fashion-mnist (apt-get install dataset-fashion-mnist), cifar10; "
           "or give a folder path";
}

/* Resolves `name` to a folder: a path as given, else <root>/<name> for the
 * first of $AEKIT_DATA, ./data, /usr/share/datasets holding it. */
static int find_folder(char *dir, const char *name, ae_error *err)
{
    if (strchr(name, '/') || is_dir(name)) {
        if (!is_dir(name))
            return ae_fail(err, "%s: no such folder", name);
        if (snprintf(dir, PATH_SIZE, "%s", name) >= (int)PATH_SIZE)
            return ae_fail(err, "%s: path too long", name);
        return 0;
    }
    if (name[0] == '\0')
        return ae_fail(err, "data set name is empty");

    const char *env = getenv("AEKIT_DATA");
    if (env && env[0] == '\0')
        env = NULL;
    /* "cifar10" is also found under the name its archive extracts to, and
     * inside data/cifar10/ when the archive was extracted there. */
    static const char *const cifar_names[] = { "cifar10", "cifar10/cifar-10-batches-bin",
                                               "cifar-10-batches-bin" };
    const char *plain[] = { name };
    int cifar = strcmp(name, "cifar10") == 0;
    const char *const *names = cifar ? cifar_names : plain;
    size_t n_names = cifar ? sizeof cifar_names / sizeof cifar_names[0] : 1;
    const char *roots[] = { env, "data", SYSTEM_DATA_DIR };
    for (size_t i = 0; i < sizeof roots / sizeof roots[0]; i++) {
        if (!roots[i])
            continue;
        for (size_t k = 0; k < n_names; k++) {
            if (snprintf(dir, PATH_SIZE, "%s/%s", roots[i], names[k]) >= (int)PATH_SIZE)
                return ae_fail(err, "%s/%s: path too long", roots[i], names[k]);
            if (is_dir(dir) && (!cifar || cifar_detect(dir)))
                return 0;
        }
    }
    /* say where ./data is: a model's recorded data set name is often used
     * from another folder than the one it was trained in */
    char cwd[PATH_SIZE];
    if (!getcwd(cwd, sizeof cwd))
        snprintf(cwd, sizeof cwd, ".");
    if (strcmp(cwd, "/") == 0)
        cwd[0] = '\0';                 /* "/data", not "//data" */
    return ae_fail(err, "unknown data set '%s': no folder '%s'%s in $AEKIT_DATA (%s), %s/data or %s "
                   "(set $AEKIT_DATA to the folder that holds %s/); %s",
                   name, name, cifar ? " or 'cifar-10-batches-bin' holding CIFAR-10 files" : "",
                   env ? env : "not set", cwd, SYSTEM_DATA_DIR, name, install_hint(name));
}

int ae_dataset_folder(char *dir, const char *name, ae_error *err)
{
    return find_folder(dir, name, err);
}

/* 1 when any of the four IDX files (raw or gzipped) is in dir. */
static int has_idx(const char *dir)
{
    static const char *const bases[] = { "train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                         "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte" };
    char path[PATH_SIZE];
    for (size_t i = 0; i < sizeof bases / sizeof bases[0]; i++)
        for (int gz = 0; gz < 2; gz++)
            if (snprintf(path, sizeof path, "%s/%s%s", dir, bases[i], gz ? ".gz" : "") < (int)sizeof path &&
                exists(path))
                return 1;
    return 0;
}

/* Finds <dir>/<base> or <dir>/<base>.gz. */
static int find_file(char *path, const char *dir, const char *base, ae_error *err)
{
    if (snprintf(path, PATH_SIZE, "%s/%s", dir, base) >= (int)PATH_SIZE)
        return ae_fail(err, "%s/%s: path too long", dir, base);
    if (exists(path))
        return 0;
    size_t len = strlen(path);
    if (len + 4 > PATH_SIZE)
        return ae_fail(err, "%s.gz: path too long", path);
    memcpy(path + len, ".gz", 4);
    if (exists(path))
        return 0;
    path[len] = '\0';
    return ae_fail(err, "%s: not found (also tried %s.gz)", path, path);
}

/* 1 when img refuses data sets of fixed size whose images are not c x h x w. */
static int wrong_shape(const ae_image_options *img, int c, int h, int w)
{
    return img && img->refuse_mismatch && img->c > 0 && img->h > 0 && img->w > 0 &&
           (img->c != c || img->h != h || img->w != w);
}

static int fail_shape(const char *what, int c, int h, int w, const ae_image_options *img, ae_error *err)
{
    return ae_fail(err, "%s: images are %dx%dx%d (channels x height x width) but %dx%dx%d are "
                   "needed", what, c, h, w, img->c, img->h, img->w);
}

/* Checks the two headers against each other and against img, before any
 * data is read. */
static int check_headers(const idx_array *images, const idx_array *labels, const char *images_path,
                         const char *labels_path, const ae_image_options *img, ae_error *err)
{
    if (images->ndim != 3)
        return ae_fail(err, "%s: expected images of 3 dimensions [n, height, width], file has %d",
                       images_path, images->ndim);
    if (images->dims[0] > INT_MAX || images->dims[1] > INT_MAX || images->dims[2] > INT_MAX)
        return ae_fail(err, "%s: too many images or too large images", images_path);
    if (wrong_shape(img, 1, (int)images->dims[1], (int)images->dims[2]))
        return fail_shape(images_path, 1, (int)images->dims[1], (int)images->dims[2], img, err);
    if (labels->ndim != 1)
        return ae_fail(err, "%s: expected labels of 1 dimension [n], file has %d",
                       labels_path, labels->ndim);
    if (labels->dims[0] != images->dims[0])
        return ae_fail(err, "%s has %u labels but %s has %u images",
                       labels_path, labels->dims[0], images_path, images->dims[0]);
    return 0;
}

/* Reads the IDX split of dir into ds: both headers first, then the data. */
static int open_idx(ae_dataset *ds, const char *dir, ae_split split, const ae_image_options *img,
                    ae_error *err)
{
    const char *prefix = split == AE_SPLIT_TEST ? "t10k" : "train";
    char base[64], images_path[PATH_SIZE], labels_path[PATH_SIZE];
    snprintf(base, sizeof base, "%s-images-idx3-ubyte", prefix);
    if (find_file(images_path, dir, base, err) != 0)
        return -1;
    snprintf(base, sizeof base, "%s-labels-idx1-ubyte", prefix);
    if (find_file(labels_path, dir, base, err) != 0)
        return -1;

    idx_array images, labels;
    idx_file *fi = NULL, *fl = NULL;
    int rc = -1;
    memset(&labels, 0, sizeof labels);
    if (idx_open(&fi, &images, images_path, err) == 0 &&
        idx_open(&fl, &labels, labels_path, err) == 0 &&
        check_headers(&images, &labels, images_path, labels_path, img, err) == 0 &&
        idx_load(fi, &images, err) == 0 && idx_load(fl, &labels, err) == 0) {
        ds->n = (int)images.dims[0];
        ds->c = 1;
        ds->h = (int)images.dims[1];
        ds->w = (int)images.dims[2];
        ds->pixels = images.data;
        ds->labels = labels.data;
        images.data = labels.data = NULL;
        snprintf(ds->source, sizeof ds->source, "%s", images_path);
        rc = 0;
    }
    idx_close(fi);
    idx_close(fl);
    idx_free(&images);
    idx_free(&labels);
    return rc;
}

/* 1 when the last component of dir (trailing '/' left out) is `name`. */
static int folder_named(const char *dir, const char *name)
{
    size_t len = strlen(dir);
    while (len > 1 && dir[len - 1] == '/')
        len--;
    size_t start = len;
    while (start > 0 && dir[start - 1] != '/')
        start--;
    return len - start == strlen(name) && memcmp(dir + start, name, len - start) == 0;
}

/* An IDX folder's class names. The IDX files of MNIST and Fashion-MNIST
 * are alike (28x28 grey images, labels 0..9): only the folder's name tells
 * them apart, "fashion-mnist" as the name finds it (data/fashion-mnist,
 * /usr/share/datasets/fashion-mnist) or as a path names it. */
static int idx_class_names(ae_dataset *ds, const char *dir, ae_error *err)
{
    const char *const *names = folder_named(dir, "fashion-mnist") ? class_names_fashion_mnist
                                                                   : class_names_digits;
    return class_names_set(ds, names, CLASS_NAMES_STANDARD, dir, err);
}

int ae_dataset_open(ae_dataset **out, const char *name, ae_split split,
                       const ae_image_options *img, ae_error *err)
{
    *out = NULL;
    char dir[PATH_SIZE];
    if (find_folder(dir, name, err) != 0)
        return -1;

    ae_dataset *ds = calloc(1, sizeof *ds);
    if (!ds)
        return ae_fail(err, "%s: out of memory", dir);
    int rc;
    /* Data sets of fixed size are returned as stored, whatever img asks
     * (the caller compares shapes), or with img->refuse_mismatch refused
     * from their headers when they do not fit. */
    if (has_idx(dir)) {
        rc = open_idx(ds, dir, split, img, err);
        if (rc == 0)
            rc = idx_class_names(ds, dir, err);
    } else if (cifar_detect(dir) && wrong_shape(img, 3, CIFAR_SIDE, CIFAR_SIDE)) {
        rc = fail_shape(dir, 3, CIFAR_SIDE, CIFAR_SIDE, img, err);
    } else if (cifar_detect(dir)) {
        /* the names first: a bad batches.meta.txt fails before 180 MB are read */
        rc = cifar_class_names(ds, dir, err);
        if (rc == 0)
            rc = cifar_read(ds, dir, split, err);
    } else if (!img || img->c <= 0 || img->h <= 0 || img->w <= 0) {
        rc = ae_fail(err, "%s: an image folder needs a size (the model's input); "
                     "no IDX (train-images-idx3-ubyte, ...) or CIFAR-10 (data_batch_1.bin, ...) "
                     "files there either", dir);
    } else {
        rc = image_folder_read(ds, dir, split, img->c, img->h, img->w, img->fit, err);
    }
    if (rc != 0) {
        ae_dataset_free(ds); /* what a reader left: the names read before a failure */
        return -1;
    }
    *out = ds;
    return 0;
}

#define MEMORY_SIDE_MAX 65536   /* as large as any image file's side */

int ae_dataset_from_pixels(ae_dataset **out, const uint8_t *pixels, const uint8_t *labels,
                           int n, int c, int h, int w, const char *source, ae_error *err)
{
    *out = NULL;
    const char *name = source ? source : "memory";
    if (n < 1) return ae_fail(err, "%s: no images (n = %d)", name, n);
    if (c != 1 && c != 3) return ae_fail(err, "%s: images must have 1 or 3 channels, got %d", name, c);
    if (h < 1 || h > MEMORY_SIDE_MAX || w < 1 || w > MEMORY_SIDE_MAX)
        return ae_fail(err, "%s: image sides must be 1 to %d, got %dx%d", name, MEMORY_SIDE_MAX, h, w);
    size_t image = (size_t)c * (size_t)h * (size_t)w;
    if ((size_t)n > SIZE_MAX / image) return ae_fail(err, "%s: %d images of %zu pixels are too many", name, n, image);
    if (!pixels) return ae_fail(err, "%s: no pixels (NULL)", name);
    ae_dataset *ds = calloc(1, sizeof *ds);
    uint8_t *px = malloc(image * (size_t)n);
    uint8_t *lb = labels ? malloc((size_t)n) : NULL;
    if (!ds || !px || (labels && !lb)) {
        free(ds);
        free(px);
        free(lb);
        return ae_fail(err, "%s: out of memory for %d images", name, n);
    }
    memcpy(px, pixels, image * (size_t)n);
    if (labels) memcpy(lb, labels, (size_t)n);
    ds->n = n;
    ds->c = c;
    ds->h = h;
    ds->w = w;
    ds->pixels = px;
    ds->labels = lb;
    snprintf(ds->source, sizeof ds->source, "%s", name);
    *out = ds;
    return 0;
}

void ae_dataset_truncate(ae_dataset *ds, int n)
{
    /* The tail stays allocated: freed with the rest by ae_dataset_free. */
    if (n > 0 && n < ds->n)
        ds->n = n;
}

void ae_dataset_free(ae_dataset *ds)
{
    if (!ds)
        return;
    free(ds->pixels);
    free(ds->labels);
    class_names_free(ds);
    free(ds);
}

void ae_dataset_batch(const ae_dataset *ds, const uint32_t *idx, int count, float *out)
{
    size_t image = (size_t)ds->c * (size_t)ds->h * (size_t)ds->w;
    for (int k = 0; k < count; k++) {
        const uint8_t *src = ds->pixels + idx[k] * image;
        float *dst = out + (size_t)k * image;
        for (size_t j = 0; j < image; j++)
            dst[j] = src[j] / 255.0f;
    }
}
