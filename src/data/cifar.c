/* CIFAR-10 binary reader. All files of the split are found and their sizes
 * checked first; then one buffer is allocated for the whole split and the
 * records are read straight into it (the image bytes are already CHW). */
#define _POSIX_C_SOURCE 200809L

#include "data/cifar.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/error.h"
#include "aekit/files.h"
#include "data/class_names.h"

#define PATH_SIZE sizeof(((ae_dataset *)0)->source)
/* Anything larger is not CIFAR-10 (which has 50,000 + 10,000 images). */
#define CIFAR_MAX_BYTES ((uint64_t)1 << 31)

static int file_exists(const char *dir, const char *base)
{
    char path[PATH_SIZE];
    struct stat st;
    if (snprintf(path, sizeof path, "%s/%s", dir, base) >= (int)sizeof path)
        return 0;
    return stat(path, &st) == 0;
}

int cifar_detect(const char *dir)
{
    return file_exists(dir, "data_batch_1.bin") || file_exists(dir, "test_batch.bin");
}

typedef struct {
    char     path[PATH_SIZE];
    uint64_t records;
} cifar_file;

/* Finds one file of the split and checks its size. */
static int check_file(cifar_file *cf, const char *dir, const char *base, const char *missing_hint,
                      ae_error *err)
{
    if (snprintf(cf->path, sizeof cf->path, "%s/%s", dir, base) >= (int)sizeof cf->path)
        return ae_fail(err, "%s/%s: path too long", dir, base);
    struct stat st;
    if (stat(cf->path, &st) != 0) {
        if (errno == ENOENT)
            return ae_fail(err, "%s: not found (%s)", cf->path, missing_hint);
        return ae_fail(err, "%s: %s", cf->path, strerror(errno));
    }
    if (!S_ISREG(st.st_mode))
        return ae_fail(err, "%s: not a regular file", cf->path);
    uint64_t size = (uint64_t)st.st_size;
    if (size % CIFAR_RECORD != 0)
        return ae_fail(err, "%s: size %llu is not a multiple of 3073-byte records "
                       "(1 label byte + 3072 pixel bytes; is this the CIFAR-10 binary version?)",
                       cf->path, (unsigned long long)size);
    if (size == 0)
        return ae_fail(err, "%s: empty file (no 3073-byte records)", cf->path);
    cf->records = size / CIFAR_RECORD;
    return 0;
}

/* Reads cf's records into pixels/labels (room for cf->records each). */
static int read_file(const cifar_file *cf, uint8_t *pixels, uint8_t *labels, ae_error *err)
{
    FILE *f = ae_open_file(cf->path, err);
    if (!f)
        return -1;
    int rc = 0;
    for (uint64_t r = 0; r < cf->records; r++) {
        uint8_t *img = pixels + r * CIFAR_IMAGE_BYTES;
        if (fread(&labels[r], 1, 1, f) != 1 || fread(img, 1, CIFAR_IMAGE_BYTES, f) != CIFAR_IMAGE_BYTES) {
            rc = ae_fail(err, "%s: read error: %s", cf->path, ferror(f) ? strerror(errno) : "file shrank");
            break;
        }
        if (labels[r] >= CIFAR_CLASSES) {
            rc = ae_fail(err, "%s: record %llu has label %u (CIFAR-10 labels are 0 to 9)",
                         cf->path, (unsigned long long)r, labels[r]);
            break;
        }
    }
    if (rc == 0 && fgetc(f) != EOF)
        rc = ae_fail(err, "%s: file grew while being read", cf->path);
    fclose(f);
    return rc;
}

int cifar_read(ae_dataset *ds, const char *dir, ae_split split, ae_error *err)
{
    cifar_file files[CIFAR_TRAIN_FILES];
    int nfiles;
    if (split == AE_SPLIT_TEST) {
        nfiles = 1;
        if (check_file(&files[0], dir, "test_batch.bin",
                       "the CIFAR-10 test split is test_batch.bin", err) != 0)
            return -1;
    } else {
        nfiles = CIFAR_TRAIN_FILES;
        for (int k = 0; k < nfiles; k++) {
            char base[32];
            snprintf(base, sizeof base, "data_batch_%d.bin", k + 1);
            if (check_file(&files[k], dir, base,
                           "the CIFAR-10 training split needs all of data_batch_1.bin .. "
                           "data_batch_5.bin", err) != 0)
                return -1;
        }
    }

    uint64_t total = 0;
    for (int k = 0; k < nfiles; k++)
        total += files[k].records; /* < 2^63 / 3073 each: no overflow in 5 */
    if (total > CIFAR_MAX_BYTES / CIFAR_IMAGE_BYTES)
        return ae_fail(err, "%s: %llu records are more than %llu bytes of images (not CIFAR-10?)",
                       nfiles == 1 ? files[0].path : dir, (unsigned long long)total,
                       (unsigned long long)CIFAR_MAX_BYTES);

    uint8_t *pixels = malloc((size_t)total * CIFAR_IMAGE_BYTES);
    uint8_t *labels = malloc((size_t)total);
    if (!pixels || !labels) {
        free(pixels);
        free(labels);
        return ae_fail(err, "%s: out of memory for %llu images", dir, (unsigned long long)total);
    }
    uint64_t at = 0;
    for (int k = 0; k < nfiles; k++) {
        if (read_file(&files[k], pixels + at * CIFAR_IMAGE_BYTES, labels + at, err) != 0) {
            free(pixels);
            free(labels);
            return -1;
        }
        at += files[k].records;
    }

    ds->n = (int)total;
    ds->c = 3;
    ds->h = CIFAR_SIDE;
    ds->w = CIFAR_SIDE;
    ds->pixels = pixels;
    ds->labels = labels;
    snprintf(ds->source, sizeof ds->source, "%s", nfiles == 1 ? files[0].path : dir);
    return 0;
}

int cifar_class_names(ae_dataset *ds, const char *dir, ae_error *err)
{
    char path[PATH_SIZE];
    if (snprintf(path, sizeof path, "%s/batches.meta.txt", dir) >= (int)sizeof path)
        return ae_fail(err, "%s/batches.meta.txt: path too long", dir);
    struct stat st;
    if (stat(path, &st) != 0 && errno == ENOENT)
        return class_names_set(ds, class_names_cifar10, CLASS_NAMES_STANDARD, dir, err);
    FILE *f = ae_open_file(path, err);
    if (!f)
        return -1;
    char text[CIFAR_META_MAX_BYTES + 1];
    size_t size = fread(text, 1, sizeof text, f);
    int bad_read = ferror(f);
    fclose(f);
    if (bad_read)
        return ae_fail(err, "%s: read error", path);
    if (size > CIFAR_META_MAX_BYTES)
        return ae_fail(err, "%s: larger than %d bytes (it holds the class names, one per line)",
                       path, CIFAR_META_MAX_BYTES);

    /* the names are cut out in place: each line end becomes a NUL */
    const char *names[CIFAR_CLASSES];
    int n = 0, line = 0, ended = 0; /* ended: an empty line was seen */
    size_t at = 0;
    while (at < size) {
        line++;
        size_t end = at;
        while (end < size && text[end] != '\n')
            end++;
        size_t len = end - at;
        if (len == 0) {
            ended = 1;
        } else {
            if (ended)
                return ae_fail(err, "%s: line %d: a name after an empty line (one name per line, "
                               "empty lines only at the end)", path, line);
            if (n == CIFAR_CLASSES)
                return ae_fail(err, "%s: more than %d class names (CIFAR-10 labels are 0 to 9)",
                               path, CIFAR_CLASSES);
            if (len > CIFAR_NAME_MAX)
                return ae_fail(err, "%s: line %d: a class name longer than %d characters", path,
                               line, CIFAR_NAME_MAX);
            for (size_t i = at; i < end; i++)
                if ((unsigned char)text[i] < 0x20 || (unsigned char)text[i] > 0x7e)
                    return ae_fail(err, "%s: line %d: byte 0x%02x is not printable ASCII (the "
                                   "class names are text, one per line)", path, line,
                                   (unsigned char)text[i]);
            text[end] = '\0'; /* end <= size <= CIFAR_META_MAX_BYTES: inside text */
            names[n++] = text + at;
        }
        at = end + 1;
    }
    if (n == 0)
        return ae_fail(err, "%s: holds no class names (one per line expected; remove the file "
                       "for the standard names)", path);
    return class_names_set(ds, names, n, path, err);
}
