/* libFuzzer harness: the IDX reader (src/data/idx.c), raw and gzipped.
 *
 * The input is written to a file and read with idx_read, which picks the
 * raw or gzip path by content. An input that is not gzip is also
 * compressed and read again through the gzip path: both paths must accept
 * the same files and return the same bytes (a differential check; a
 * mismatch aborts). */
#include "fuzz_common.h"

#include <zlib.h>

#include "data/idx.h"

static void gzip_to(const char *path, const uint8_t *data, size_t size)
{
    gzFile gz = gzopen(path, "wb1");
    if (!gz) abort();
    size_t done = 0;
    while (done < size) {
        unsigned n = size - done > (1u << 20) ? (1u << 20) : (unsigned)(size - done);
        if (gzwrite(gz, data + done, n) != (int)n) abort();
        done += n;
    }
    if (gzclose(gz) != Z_OK) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char raw_path[300], gz_path[300];
    if (!raw_path[0]) {
        fz_path(raw_path, sizeof raw_path, "input-idx3-ubyte");
        fz_path(gz_path, sizeof gz_path, "input-idx3-ubyte.gz");
    }
    fz_write(raw_path, data, size);

    ae_error err;
    idx_array a;
    int rc = idx_read(&a, raw_path, &err);
    if (rc == 0) {
        if (a.ndim < 1 || a.ndim > IDX_MAX_DIMS) abort();
        size_t prod = 1;
        for (int i = 0; i < a.ndim; i++) prod *= a.dims[i];
        if (prod != a.size) abort();
        fz_touch(a.data, a.size);
    } else if (!err.msg[0]) {
        abort(); /* every failure names its cause */
    }

    int is_gz = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
    if (!is_gz) {
        gzip_to(gz_path, data, size);
        ae_error err2;
        idx_array b;
        int rc2 = idx_read(&b, gz_path, &err2);
        if (rc2 != rc) {
            fprintf(stderr, "raw and gzip paths disagree: raw %s, gzip %s\n",
                    rc ? err.msg : "ok", rc2 ? err2.msg : "ok");
            abort();
        }
        if (rc2 == 0) {
            if (b.ndim != a.ndim || b.size != a.size ||
                memcmp(b.dims, a.dims, sizeof a.dims) != 0 || memcmp(b.data, a.data, a.size) != 0)
                abort();
            idx_free(&b);
        }
    }
    if (rc == 0) idx_free(&a);
    return 0;
}
