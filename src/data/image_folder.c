/* Image folders as data sets: listing (layout, classes, split) and reading
 * every image through the decoder (image.c) at the model's size. The rules
 * are in image_folder.h and docs/file-formats.md. */
#define _POSIX_C_SOURCE 200809L

#include "data/image_folder.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/error.h"
#include "aekit/files.h"
#include "data/class_names.h"

#define PATH_LEN 4096
/* The pixels of a whole folder; anything larger is a mistake, not a data set. */
#define IMAGE_FOLDER_MAX_BYTES ((uint64_t)1 << 34)

/* ---- listing --------------------------------------------------------------------- */

typedef struct {
    char **v;
    size_t n, cap;
} strvec;

static void strvec_free(strvec *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    memset(s, 0, sizeof *s);
}

static int strvec_push(strvec *s, const char *str)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        char **v = realloc(s->v, cap * sizeof *v);
        if (!v)
            return -1;
        s->v = v;
        s->cap = cap;
    }
    size_t len = strlen(str) + 1;
    char *copy = malloc(len);
    if (!copy)
        return -1;
    memcpy(copy, str, len);
    s->v[s->n++] = copy;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void strvec_sort(strvec *s)
{
    if (s->n > 1)
        qsort(s->v, s->n, sizeof *s->v, cmp_str);
}

static int join(char *out, const char *a, const char *b, ae_error *err)
{
    if (snprintf(out, PATH_LEN, "%s/%s", a, b) >= PATH_LEN)
        return ae_fail(err, "%s/%s: path too long", a, b);
    return 0;
}

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_image_name(const char *name)
{
    const char *dot = strrchr(name, '.');
    return dot && dot != name && (strcasecmp(dot, ".png") == 0 || strcasecmp(dot, ".jpg") == 0 ||
                                  strcasecmp(dot, ".jpeg") == 0);
}

/* Lists dir, sorted: names of subfolders into dirs and of image files into
 * images (either may be NULL). *budget more images may be listed; `top`
 * names the folder in the message when there are more. */
static int list_dir(const char *dir, strvec *dirs, strvec *images, size_t *budget,
                    const char *top, ae_error *err)
{
    DIR *d = opendir(dir);
    if (!d)
        return ae_fail(err, "%s: %s", dir, strerror(errno));
    int rc = 0;
    struct dirent *e;
    char path[PATH_LEN];
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        int image = images && is_image_name(e->d_name);
        if (!image && !dirs)
            continue;
        if (join(path, dir, e->d_name, err) != 0) {
            rc = -1;
            break;
        }
        struct stat st;
        if (stat(path, &st) != 0)
            continue; /* a dangling link is not an image */
        if (S_ISDIR(st.st_mode)) {
            if (dirs && strvec_push(dirs, e->d_name) != 0)
                rc = ae_fail(err, "%s: out of memory", dir);
        } else if (image && S_ISREG(st.st_mode)) {
            if (*budget == 0)
                rc = ae_fail(err, "%s: more than %d images (the limit)", top, IMAGE_MAX_COUNT);
            else if (strvec_push(images, e->d_name) != 0)
                rc = ae_fail(err, "%s: out of memory", dir);
            else
                (*budget)--;
        }
    }
    closedir(d);
    if (dirs)
        strvec_sort(dirs);
    if (images)
        strvec_sort(images);
    return rc;
}

/* The images chosen for the split, in order, with labels. */
typedef struct {
    strvec   paths;
    uint8_t *labels; /* NULL without classes */
    size_t   cap_labels;
} pick;

static int pick_add(pick *p, const char *dir, const char *name, int label, ae_error *err)
{
    char path[PATH_LEN];
    if (join(path, dir, name, err) != 0)
        return -1;
    if (label >= 0) {
        if (p->paths.n == p->cap_labels) {
            size_t cap = p->cap_labels ? 2 * p->cap_labels : 64;
            uint8_t *l = realloc(p->labels, cap);
            if (!l)
                return ae_fail(err, "%s: out of memory", dir);
            p->labels = l;
            p->cap_labels = cap;
        }
        p->labels[p->paths.n] = (uint8_t)label;
    }
    if (strvec_push(&p->paths, path) != 0)
        return ae_fail(err, "%s: out of memory", dir);
    return 0;
}

/* Adds the images of one list (sorted names in dir) that belong to the
 * split: all of them when split_here is 0, else the last 10% (at least 1)
 * for the test split and the rest for training. */
static int pick_list(pick *p, const char *dir, const strvec *names, int label, ae_split split,
                     int split_here, ae_error *err)
{
    size_t n = names->n, from = 0, to = n;
    if (split_here && n > 0) {
        size_t n_test = n / 10 > 0 ? n / 10 : 1;
        if (split == AE_SPLIT_TEST)
            from = n - n_test;
        else
            to = n - n_test;
    }
    for (size_t i = from; i < to; i++)
        if (pick_add(p, dir, names->v[i], label, err) != 0)
            return -1;
    return 0;
}

static int loose_image_error(const char *root, const strvec *images, ae_error *err)
{
    return ae_fail(err, "%s/%s: image next to class folders (%s has subfolders, which are "
                   "classes: put every image inside one)", root, images->v[0], root);
}

/* Builds the list of images (and labels) of the split. *root_out gets the
 * folder the split comes from, *classes_out (empty, the caller frees it) the
 * class names, sorted: label k is classes_out->v[k]. */
static int choose(pick *p, const char *dir, ae_split split, char *root_out, strvec *classes_out,
                  ae_error *err)
{
    char train_dir[PATH_LEN], test_dir[PATH_LEN], path[PATH_LEN];
    if (join(train_dir, dir, "train", err) != 0 || join(test_dir, dir, "test", err) != 0)
        return -1;
    int has_train = is_dir(train_dir), has_test = is_dir(test_dir);
    if (has_train != has_test)
        return ae_fail(err, "%s: has %s/ but no %s/ (a folder split in two needs both train/ and test/)",
                       dir, has_train ? "train" : "test", has_train ? "test" : "train");
    const int by_folders = has_train;
    const char *root = by_folders ? (split == AE_SPLIT_TEST ? test_dir : train_dir) : dir;
    snprintf(root_out, PATH_LEN, "%s", root);

    strvec classes = { 0 }, loose = { 0 }, other = { 0 }, names = { 0 };
    size_t budget = IMAGE_MAX_COUNT;
    int rc = -1;
    if (list_dir(root, &classes, &loose, &budget, root, err) != 0)
        goto out;
    if (by_folders) {
        /* classes: the union of both folders' subfolder names, so that a
         * class has the same label in both splits */
        if (list_dir(split == AE_SPLIT_TEST ? train_dir : test_dir, &other, NULL, NULL,
                     dir, err) != 0)
            goto out;
        size_t own = classes.n; /* sorted */
        for (size_t i = 0; i < other.n; i++)
            if ((own == 0 || !bsearch(&other.v[i], classes.v, own, sizeof *classes.v, cmp_str)) &&
                strvec_push(&classes, other.v[i]) != 0) {
                ae_fail(err, "%s: out of memory", dir);
                goto out;
            }
        strvec_sort(&classes);
    }
    if (classes.n > IMAGE_MAX_CLASSES) {
        ae_fail(err, "%s: %zu class folders (at most %d)", by_folders ? dir : root, classes.n,
                IMAGE_MAX_CLASSES);
        goto out;
    }
    if (classes.n == 0) {
        rc = pick_list(p, root, &loose, -1, split, !by_folders, err);
        goto out;
    }
    if (loose.n > 0) {
        loose_image_error(root, &loose, err);
        goto out;
    }
    p->labels = malloc(64);
    p->cap_labels = 64;
    if (!p->labels) {
        ae_fail(err, "%s: out of memory", dir);
        goto out;
    }
    for (size_t k = 0; k < classes.n; k++) {
        if (join(path, root, classes.v[k], err) != 0)
            goto out;
        if (!is_dir(path))
            continue; /* a class only the other split has */
        strvec_free(&names);
        if (list_dir(path, NULL, &names, &budget, root, err) != 0 ||
            pick_list(p, path, &names, (int)k, split, !by_folders, err) != 0)
            goto out;
    }
    rc = 0;
out:
    if (rc == 0) {
        *classes_out = classes; /* handed over */
        memset(&classes, 0, sizeof classes);
    }
    strvec_free(&classes);
    strvec_free(&loose);
    strvec_free(&other);
    strvec_free(&names);
    return rc;
}

/* ---- reading ------------------------------------------------------------------------ */

int image_folder_read(ae_dataset *ds, const char *dir, ae_split split, int c, int h, int w,
                      ae_fit fit, ae_error *err)
{
    if (c != 1 && c != 3)
        return ae_fail(err, "%s: images can be read as 1 or 3 channels, not %d", dir, c);
    if (h < 1 || w < 1 || h > IMAGE_MAX_TARGET || w > IMAGE_MAX_TARGET)
        return ae_fail(err, "%s: image size %dx%d asked for (1 to %d per side)", dir, w, h,
                       IMAGE_MAX_TARGET);
    if (fit != AE_FIT_RESIZE && fit != AE_FIT_CROP)
        return ae_fail(err, "%s: unknown fit mode %d", dir, (int)fit);

    pick p = { 0 };
    strvec classes = { 0 };
    char root[PATH_LEN];
    if (choose(&p, dir, split, root, &classes, err) != 0) {
        strvec_free(&p.paths);
        free(p.labels);
        return -1;
    }
    size_t n = p.paths.n;
    uint64_t image = (uint64_t)c * (uint64_t)h * (uint64_t)w;
    int rc = 0;
    if (n == 0)
        rc = ae_fail(err, "%s: no images for the %s split (.png, .jpg or .jpeg files%s)", root,
                     split == AE_SPLIT_TEST ? "test" : "train",
                     strcmp(root, dir) == 0 ? "; the last 10% of each folder, at least one, "
                     "are the test split" : "");
    else if (n > IMAGE_MAX_COUNT || image * n > IMAGE_FOLDER_MAX_BYTES)
        rc = ae_fail(err, "%s: %zu images of %dx%dx%d are more than %llu bytes", root, n, c, h, w,
                     (unsigned long long)IMAGE_FOLDER_MAX_BYTES);
    uint8_t *pixels = NULL;
    if (rc == 0 && !(pixels = malloc((size_t)(image * n))))
        rc = ae_fail(err, "%s: out of memory for %zu images", root, n);
    /* the class folders' names; none when the split has no labels */
    if (rc == 0 && p.labels)
        rc = class_names_set(ds, (const char *const *)classes.v, (int)classes.n, dir, err);
    strvec_free(&classes);
    if (rc != 0) {
        free(pixels);
        strvec_free(&p.paths);
        free(p.labels);
        return -1;
    }

    /* Decode in parallel; report the first failing image in folder order
     * (every image before it has been tried). */
    long failed = (long)n;
    ae_error first = { "" };
    const long count = (long)n;
    #pragma omp parallel for schedule(dynamic, 4) if (count > 8)
    for (long i = 0; i < count; i++) {
        long stop;
        #pragma omp atomic read
        stop = failed;
        if (i > stop)
            continue;
        ae_error e;
        ae_image im;
        int bad = ae_image_decode(&im, p.paths.v[i], c, &e) != 0 ||
                  ae_image_fit(pixels + (size_t)i * (size_t)image, h, w, &im, fit, p.paths.v[i], &e) != 0;
        ae_image_free(&im);
        if (bad) {
            #pragma omp critical(aekit_image_folder_error)
            {
                if (i < failed) {
                    #pragma omp atomic write
                    failed = i;
                    first = e;
                }
            }
        }
    }
    strvec_free(&p.paths);
    if (failed < count) {
        free(pixels);
        free(p.labels);
        class_names_free(ds);
        if (err)
            *err = first;
        return -1;
    }
    ds->n = (int)n;
    ds->c = c;
    ds->h = h;
    ds->w = w;
    ds->pixels = pixels;
    ds->labels = p.labels;
    size_t len = strlen(root); /* dir is at most 1023 bytes: "/train" may not fit */
    if (len >= sizeof ds->source)
        len = sizeof ds->source - 1;
    memcpy(ds->source, root, len);
    ds->source[len] = '\0';
    return 0;
}
