/* libFuzzer harness: the CIFAR-10 binary reader (src/data/cifar.c).
 * The input becomes <tmp>/test_batch.bin and the test split of that folder
 * is read; on success every label is < 10 and the shape is 3x32x32. */
#include "fuzz_common.h"

#include "aekit.h"
#include "data/cifar.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char dir[300], path[300];
    if (!dir[0]) {
        fz_path(dir, sizeof dir, "cifar");
        if (mkdir(dir, 0700) != 0) abort();
        snprintf(path, sizeof path, "%s/test_batch.bin", dir);
    }
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
