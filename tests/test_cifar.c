/* CIFAR-10 binary folders: shapes, CHW pixel order and labels of generated
 * batches, every kind of broken folder (one line naming the file), name
 * resolution ("cifar10" via $AEKIT_DATA), class names (batches.meta.txt,
 * strictly, or the standard ten), and the real data set when present in
 * data/cifar10. */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aekit.h"
#include "data/cifar.h"
#include "test.h"
#include "temp_dir.h"

#ifndef AEKIT_SOURCE_DIR
#define AEKIT_SOURCE_DIR "."
#endif

/* The pixel value of channel ch at (y, x) of record r in file f. */
static uint8_t pixel(int f, int r, int ch, int y, int x)
{
    return (uint8_t)(ch * 80 + y * 5 + x * 3 + r * 11 + f * 17);
}

static uint8_t label_of(int f, int r)
{
    return (uint8_t)((f * 3 + r) % 10);
}

/* Writes `records` records of file number f (labels as label_of unless
 * bad_label >= 0, which replaces the last record's label). */
static void write_batch(const char *path, int f, int records, int bad_label, size_t extra)
{
    FILE *fp = fopen(path, "wb");
    if (!fp) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(2);
    }
    uint8_t rec[CIFAR_RECORD];
    for (int r = 0; r < records; r++) {
        rec[0] = (bad_label >= 0 && r == records - 1) ? (uint8_t)bad_label : label_of(f, r);
        for (int ch = 0; ch < 3; ch++)
            for (int y = 0; y < 32; y++)
                for (int x = 0; x < 32; x++)
                    rec[1 + ch * 1024 + y * 32 + x] = pixel(f, r, ch, y, x);
        fwrite(rec, 1, sizeof rec, fp);
    }
    for (size_t i = 0; i < extra; i++)
        fputc(0, fp);
    if (fclose(fp) != 0)
        exit(2);
}

/* A complete folder: data_batch_K.bin with K records, test_batch.bin (f = 0)
 * with 3. */
static void write_folder(const char *dir)
{
    char path[1024];
    mkdir(dir, 0755);
    for (int k = 1; k <= 5; k++) {
        snprintf(path, sizeof path, "%s/data_batch_%d.bin", dir, k);
        write_batch(path, k, k, -1, 0);
    }
    snprintf(path, sizeof path, "%s/test_batch.bin", dir);
    write_batch(path, 0, 3, -1, 0);
    snprintf(path, sizeof path, "%s/batches.meta.txt", dir);
    FILE *fp = fopen(path, "w");
    if (fp) {
        fputs("airplane\nautomobile\n", fp);
        fclose(fp);
    }
}

/* Checks a data set against write_folder's content. */
static void check_set(ae_dataset *ds, ae_split split, const char *source)
{
    int want_n = split == AE_SPLIT_TEST ? 3 : 1 + 2 + 3 + 4 + 5;
    CHECK(ds->n == want_n && ds->c == 3 && ds->h == 32 && ds->w == 32, "n %d c %d h %d w %d",
          ds->n, ds->c, ds->h, ds->w);
    CHECK(strcmp(ds->source, source) == 0, "source '%s', expected '%s'", ds->source, source);
    CHECK(ds->labels != NULL, "labels");
    if (ds->n != want_n || !ds->labels)
        return;
    int i = 0, labels_ok = 1, pixels_ok = 1;
    int first = split == AE_SPLIT_TEST ? 0 : 1, last = split == AE_SPLIT_TEST ? 0 : 5;
    for (int f = first; f <= last; f++) {
        int records = f == 0 ? 3 : f;
        for (int r = 0; r < records; r++, i++) {
            labels_ok &= ds->labels[i] == label_of(f, r);
            const uint8_t *img = ds->pixels + (size_t)i * 3072;
            for (int ch = 0; ch < 3; ch++)
                for (int y = 0; y < 32; y++)
                    for (int x = 0; x < 32; x++) /* NCHW: channel planes, rows, columns */
                        pixels_ok &= img[ch * 1024 + y * 32 + x] == pixel(f, r, ch, y, x);
        }
    }
    CHECK(labels_ok, "labels in file and record order");
    CHECK(pixels_ok, "pixels in CHW order, files in order data_batch_1 .. 5");
}

static void test_read(void)
{
    write_folder(at("c"));
    ae_error err = { "" };
    ae_dataset *ds = NULL;

    CHECK(ae_dataset_open(&ds, at("c"), AE_SPLIT_TRAIN, NULL, &err) == 0, "%s", err.msg);
    if (ds)
        check_set(ds, AE_SPLIT_TRAIN, at("c"));
    ae_dataset_free(ds);
    ds = NULL;

    CHECK(ae_dataset_open(&ds, at("c"), AE_SPLIT_TEST, NULL, &err) == 0, "%s", err.msg);
    if (ds)
        check_set(ds, AE_SPLIT_TEST, at("c/test_batch.bin"));
    if (ds) {
        /* batches are pixel / 255 in NCHW order */
        uint32_t idx[1] = { 2 };
        float out[3072];
        ae_dataset_batch(ds, idx, 1, out);
        CHECK(out[1024 + 5 * 32 + 7] == pixel(0, 2, 1, 5, 7) / 255.0f, "batch green (5, 7)");
    }
    ae_dataset_free(ds);
    ds = NULL;

    /* a fixed-size data set is not resized: the caller reports a mismatch */
    ae_image_options img = { 1, 28, 28, AE_FIT_CROP, 0 };
    CHECK(ae_dataset_open(&ds, at("c"), AE_SPLIT_TEST, &img, &err) == 0, "%s", err.msg);
    CHECK(ds && ds->c == 3 && ds->h == 32 && ds->w == 32, "CIFAR stays 3x32x32");
    ae_dataset_free(ds);
    ds = NULL;
    /* ... or, asked to, refuses it before reading any file */
    img.refuse_mismatch = 1;
    CHECK(ae_dataset_open(&ds, at("c"), AE_SPLIT_TEST, &img, &err) == -1 && !ds,
          "CIFAR refused for a 1x28x28 model");
    CHECK(strstr(err.msg, at("c")) && strstr(err.msg, "images are 3x32x32") &&
          strstr(err.msg, "1x28x28 are needed"), "names folder and both shapes: %s", err.msg);
    ae_image_options same = { 3, 32, 32, AE_FIT_CROP, 1 };
    CHECK(ae_dataset_open(&ds, at("c"), AE_SPLIT_TEST, &same, &err) == 0 && ds && ds->c == 3,
          "CIFAR accepted for a 3x32x32 model: %s", err.msg);
    ae_dataset_free(ds);
    ds = NULL;

    /* the internal reader directly */
    ae_dataset direct;
    memset(&direct, 0, sizeof direct);
    CHECK(cifar_detect(at("c")) == 1 && cifar_detect(root) == 0, "cifar_detect");
    CHECK(cifar_read(&direct, at("c"), AE_SPLIT_TRAIN, &err) == 0 && direct.n == 15, "%s", err.msg);
    free(direct.pixels);
    free(direct.labels);
}

static void expect_failure(const char *name, ae_split split, const char *what, const char *what2)
{
    ae_error err = { "" };
    static ae_dataset dummy;
    ae_dataset *ds = &dummy;
    CHECK(ae_dataset_open(&ds, name, split, NULL, &err) == -1, "%s should fail", name);
    CHECK(ds == NULL, "%s: out is NULL after failure", name);
    CHECK(strstr(err.msg, what) != NULL, "message has '%s': '%s'", what, err.msg);
    CHECK(!what2 || strstr(err.msg, what2) != NULL, "message has '%s': '%s'", what2, err.msg);
    CHECK(strchr(err.msg, '\n') == NULL, "one line: '%s'", err.msg);
}

static void test_errors(void)
{
    write_folder(at("odd"));
    write_batch(at("odd/data_batch_3.bin"), 3, 3, -1, 5);
    expect_failure(at("odd"), AE_SPLIT_TRAIN, "odd/data_batch_3.bin: size 9224",
                   "not a multiple of 3073-byte records");

    write_folder(at("label"));
    write_batch(at("label/data_batch_2.bin"), 2, 2, 10, 0);
    expect_failure(at("label"), AE_SPLIT_TRAIN, "label/data_batch_2.bin: record 1 has label 10",
                   "0 to 9");
    write_batch(at("label/test_batch.bin"), 0, 4, 255, 0);
    expect_failure(at("label"), AE_SPLIT_TEST, "label/test_batch.bin: record 3 has label 255", NULL);

    write_folder(at("missing"));
    unlink(at("missing/data_batch_4.bin"));
    expect_failure(at("missing"), AE_SPLIT_TRAIN, "missing/data_batch_4.bin: not found",
                   "data_batch_1.bin .. data_batch_5.bin");
    unlink(at("missing/test_batch.bin"));
    expect_failure(at("missing"), AE_SPLIT_TEST, "missing/test_batch.bin: not found", NULL);

    /* only the test batch: it is CIFAR, and the training split is missing */
    mkdir(at("testonly"), 0755);
    write_batch(at("testonly/test_batch.bin"), 0, 3, -1, 0);
    expect_failure(at("testonly"), AE_SPLIT_TRAIN, "testonly/data_batch_1.bin: not found", NULL);

    write_folder(at("empty"));
    write_batch(at("empty/test_batch.bin"), 0, 0, -1, 0);
    expect_failure(at("empty"), AE_SPLIT_TEST, "empty/test_batch.bin: empty file", NULL);

    write_folder(at("short"));
    write_batch(at("short/test_batch.bin"), 0, 0, -1, 100);
    expect_failure(at("short"), AE_SPLIT_TEST, "short/test_batch.bin", "not a multiple of 3073");

    write_folder(at("dir"));
    unlink(at("dir/data_batch_5.bin"));
    mkdir(at("dir/data_batch_5.bin"), 0755);
    expect_failure(at("dir"), AE_SPLIT_TRAIN, "dir/data_batch_5.bin: not a regular file", NULL);
}

static void test_names(void)
{
    ae_error err = { "" };
    ae_dataset *ds = NULL;

    mkdir(at("r1"), 0755);
    write_folder(at("r1/cifar10"));
    setenv("AEKIT_DATA", at("r1"), 1);
    CHECK(ae_dataset_open(&ds, "cifar10", AE_SPLIT_TEST, NULL, &err) == 0, "%s", err.msg);
    if (ds)
        check_set(ds, AE_SPLIT_TEST, at("r1/cifar10/test_batch.bin"));
    ae_dataset_free(ds);
    ds = NULL;

    /* the archive's own folder name, and the archive extracted into cifar10/ */
    mkdir(at("r2"), 0755);
    write_folder(at("r2/cifar-10-batches-bin"));
    setenv("AEKIT_DATA", at("r2"), 1);
    CHECK(ae_dataset_open(&ds, "cifar10", AE_SPLIT_TRAIN, NULL, &err) == 0, "%s", err.msg);
    if (ds)
        check_set(ds, AE_SPLIT_TRAIN, at("r2/cifar-10-batches-bin"));
    ae_dataset_free(ds);
    ds = NULL;

    mkdir(at("r3"), 0755);
    mkdir(at("r3/cifar10"), 0755);
    write_folder(at("r3/cifar10/cifar-10-batches-bin"));
    setenv("AEKIT_DATA", at("r3"), 1);
    CHECK(ae_dataset_open(&ds, "cifar10", AE_SPLIT_TEST, NULL, &err) == 0, "%s", err.msg);
    if (ds)
        check_set(ds, AE_SPLIT_TEST, at("r3/cifar10/cifar-10-batches-bin/test_batch.bin"));
    ae_dataset_free(ds);
    ds = NULL;

    /* a cifar10 folder without the files does not count; the message says
     * where the real files go */
    mkdir(at("r4"), 0755);
    mkdir(at("r4/cifar10"), 0755);
    setenv("AEKIT_DATA", at("r4"), 1);
    expect_failure("cifar10", AE_SPLIT_TRAIN, "unknown data set 'cifar10'", "extract it into data/cifar10/");
    expect_failure("cifar10", AE_SPLIT_TRAIN, "CIFAR-10 binary version", at("r4"));
    unsetenv("AEKIT_DATA");
}

/* Opens the test split of dir and checks its class names: want[0..count). */
static void expect_class_names(const char *dir, const char *const *want, int count)
{
    ae_error err = { "" };
    ae_dataset *ds = NULL;
    CHECK(ae_dataset_open(&ds, dir, AE_SPLIT_TEST, NULL, &err) == 0, "%s: %s", dir, err.msg);
    if (!ds)
        return;
    int ok = ae_dataset_class_count(ds) == count && !ae_dataset_class_name(ds, count);
    for (int k = 0; ok && k < count; k++)
        ok = strcmp(ae_dataset_class_name(ds, k), want[k]) == 0;
    CHECK(ok, "%s: %d class names, expected %d (first '%s')", dir, ae_dataset_class_count(ds), count,
          ae_dataset_class_count(ds) ? ae_dataset_class_name(ds, 0) : "");
    ae_dataset_free(ds);
}

static void write_meta(const char *dir, const char *text, size_t size)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/batches.meta.txt", dir);
    FILE *fp = fopen(path, "wb");
    if (!fp || fwrite(text, 1, size, fp) != size || fclose(fp) != 0)
        exit(2);
}

/* Class names: batches.meta.txt as CIFAR-10's archive has it (ten names,
 * then an empty line), read strictly; without it the standard names. A bad
 * file is refused: names that are not the labels' would be shown. */
static void test_class_names(void)
{
    static const char *const standard[10] = { "airplane", "automobile", "bird", "cat", "deer",
                                              "dog", "frog", "horse", "ship", "truck" };
    write_folder(at("meta"));
    static const char archive[] = "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n";
    write_meta(at("meta"), archive, sizeof archive - 1);
    expect_class_names(at("meta"), standard, 10);
    static const char *const own[3] = { "plane one", "Car_2", "x" };
    write_meta(at("meta"), "plane one\nCar_2\nx", 17); /* fewer names, no last line end */
    expect_class_names(at("meta"), own, 3);
    unlink(at("meta/batches.meta.txt"));
    expect_class_names(at("meta"), standard, 10);

    static const struct {
        const char *text, *what, *what2;
    } bad[] = {
        { "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\n", "more than 10 class names", "labels are 0 to 9" },
        { "a\n\nb\n", "line 3: a name after an empty line", NULL },
        { "a\r\nb\r\n", "line 1: byte 0x0d is not printable ASCII", NULL },
        { "ok\nt\tab\n", "line 2: byte 0x09", NULL },
        { "caf\xc3\xa9\n", "line 1: byte 0xc3", NULL },
        { "\n\n", "holds no class names", NULL },
        { "", "holds no class names", NULL },
        { "0123456789012345678901234567890123456789012345678901234567890123\n", "line 1: a class name longer "
          "than 63 characters", NULL },
    };
    write_folder(at("badmeta"));
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_meta(at("badmeta"), bad[i].text, strlen(bad[i].text));
        expect_failure(at("badmeta"), AE_SPLIT_TEST, "badmeta/batches.meta.txt: ", bad[i].what);
        if (bad[i].what2)
            expect_failure(at("badmeta"), AE_SPLIT_TEST, bad[i].what, bad[i].what2);
    }
    char big[5000];
    memset(big, 'a', sizeof big);
    write_meta(at("badmeta"), big, sizeof big);
    expect_failure(at("badmeta"), AE_SPLIT_TRAIN, "badmeta/batches.meta.txt: larger than 4096 bytes", NULL);
    unlink(at("badmeta/batches.meta.txt"));
    mkdir(at("badmeta/batches.meta.txt"), 0755);
    expect_failure(at("badmeta"), AE_SPLIT_TEST, "badmeta/batches.meta.txt", "not a regular file");
}

/* The real CIFAR-10, when someone has put it in data/cifar10. */
static void test_real(void)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/data/cifar10", AEKIT_SOURCE_DIR);
    char probe[1100];
    snprintf(probe, sizeof probe, "%s/data_batch_5.bin", dir);
    struct stat st;
    if (stat(probe, &st) != 0) {
        printf("skipped: CIFAR-10 not in %s\n", dir);
        return;
    }
    ae_error err = { "" };
    ae_dataset *train = NULL, *test = NULL;
    CHECK(ae_dataset_open(&train, dir, AE_SPLIT_TRAIN, NULL, &err) == 0, "%s", err.msg);
    CHECK(ae_dataset_open(&test, dir, AE_SPLIT_TEST, NULL, &err) == 0, "%s", err.msg);
    CHECK(train && train->n == 50000 && test && test->n == 10000, "50000 + 10000 images");
    if (test) {
        int count[10] = { 0 };
        for (int i = 0; i < test->n; i++)
            count[test->labels[i]]++;
        CHECK(count[0] == 1000 && count[9] == 1000, "1000 test images per class");
        CHECK(test->labels[0] == 3, "the first test image is a cat (3)");
        CHECK(ae_dataset_class_count(test) == 10 && strcmp(ae_dataset_class_name(test, 3), "cat") == 0,
              "its batches.meta.txt names label 3 cat");
    }
    ae_dataset_free(train);
    ae_dataset_free(test);
}

int main(void)
{
    if (temp_dir_open("cifar") != 0)
        return 2;
    test_read();
    test_errors();
    test_names();
    test_class_names();
    test_real();
    remove_tree(root);
    TEST_DONE();
}
