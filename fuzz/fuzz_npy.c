/* libFuzzer harness: the .npy reader (ae_npy_read_f32, src/format/npy.c).
 * The input is written to a file and read; on success the shape must
 * describe exactly the returned floats, and writing them back and reading
 * again must give the same array. */
#include "fuzz_common.h"

#include "aekit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[300], back_path[300];
    if (!path[0]) {
        fz_path(path, sizeof path, "input.npy");
        fz_path(back_path, sizeof back_path, "back.npy");
    }
    fz_write(path, data, size);

    ae_error err;
    float *a = NULL;
    int ndim = -1;
    long shape[4] = { -1, -1, -1, -1 };
    if (ae_npy_read_f32(path, &a, &ndim, shape, &err) != 0) {
        if (!err.msg[0] || a != NULL) abort();
        return 0;
    }
    if (ndim < 1 || ndim > 4) abort();
    size_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0) abort();
        n *= (size_t)shape[i];
    }
    if (n * sizeof(float) > size) abort(); /* more floats than the file could hold */
    fz_touch(a, n * sizeof(float));

    if (ae_npy_write_f32(back_path, a, ndim, shape, &err) != 0) {
        fprintf(stderr, "write back failed: %s\n", err.msg);
        abort();
    }
    float *b = NULL;
    int ndim2;
    long shape2[4];
    if (ae_npy_read_f32(back_path, &b, &ndim2, shape2, &err) != 0) {
        fprintf(stderr, "written array does not read back: %s\n", err.msg);
        abort();
    }
    if (ndim2 != ndim || memcmp(shape2, shape, (size_t)ndim * sizeof *shape) != 0 ||
        memcmp(a, b, n * sizeof(float)) != 0)
        abort();
    free(a);
    free(b);
    return 0;
}
