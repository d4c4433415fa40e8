/* libFuzzer harness: the CIFAR-10 binary reader (src/data/cifar.c).
 * The input becomes <tmp>/test_batch.bin and the test split of that folder
 * is read; on success every label is < 10 and the shape is 3x32x32. The
 * same bytes as a batches.meta.txt go to the class-name reader: on success
 * 1 to 10 names of 1 to 63 printable ASCII characters. */
#include "fuzz_common.h"

#include "aekit.h"
#include "data/cifar.h"
#include "data/class_names.h"

/* The class-name reader on data as dir/batches.meta.txt. */
static void fuzz_meta(const uint8_t *data, size_t size)
{
    static char dir[300], path[300];
    if (!dir[0]) {
        fz_path(dir, sizeof dir, "cifar_meta");
        if (mkdir(dir, 0700) != 0) abort();
        snprintf(path, sizeof path, "%s/batches.meta.txt", dir);
    }
    fz_write(path, data, size);
    ae_dataset ds;
    memset(&ds, 0, sizeof ds);
    ae_error err;
    if (cifar_class_names(&ds, dir, &err) != 0) {
        if (!err.msg[0] || ds.class_names || ds.nclasses) abort();
        return;
    }
    if (ae_dataset_class_count(&ds) < 1 || ae_dataset_class_count(&ds) > 10 || size > 4096) abort();
    for (int k = 0; k < ae_dataset_class_count(&ds); k++) {
        const char *name = ae_dataset_class_name(&ds, k);
        size_t len = strlen(name);
        if (len < 1 || len > 63) abort();
        for (size_t i = 0; i < len; i++)
            if (name[i] < 0x20 || name[i] > 0x7e) abort();
    }
    class_names_free(&ds);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char dir[300], path[300];
    if (!dir[0]) {
        fz_path(dir, sizeof dir, "cifar");
        if (mkdir(dir, 0700) != 0) abort();
        snprintf(path, sizeof path, "%s/test_batch.bin", dir);
    }
    fuzz_meta(data, size);
    fz_write(path, data, size);
    if (!cifar_detect(dir)) abort();

    ae_dataset ds;
    memset(&ds, 0, sizeof ds);
    ae_error err;
    if (cifar_read(&ds, dir, AE_SPLIT_TEST, &err) != 0) {
        if (!err.msg[0] || ds.pixels || ds.labels) abort();
        return 0;
    }
    if (ds.c != 3 || ds.h != 32 || ds.w != 32 || ds.n < 1 ||
        (size_t)ds.n * 3073 != size) abort();
    for (int i = 0; i < ds.n; i++)
        if (ds.labels[i] >= 10) abort();
    fz_touch(ds.pixels, (size_t)ds.n * 3072);
    /* the float conversion of the first and last image */
    float *out = malloc(2 * 3072 * sizeof *out);
    uint32_t idx[2] = { 0, (uint32_t)ds.n - 1 };
    if (!out) abort();
    ae_dataset_batch(&ds, idx, 2, out);
    for (int i = 0; i < 2 * 3072; i++)
        if (!(out[i] >= 0.0f && out[i] <= 1.0f)) abort();
    free(out);
    free(ds.pixels);
    free(ds.labels);
    return 0;
}
