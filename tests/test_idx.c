/* IDX reader and data sets: valid raw and gzipped files, every kind of broken
 * file (each must fail with one line naming the file), folder and name
 * resolution, batches, and the real MNIST / Fashion-MNIST when present. */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "aekit.h"
#include "data/idx.h"
#include "peak_rss.h"
#include "test.h"
#include "temp_dir.h"

#ifndef AEKIT_SOURCE_DIR
#define AEKIT_SOURCE_DIR "."
#endif

static void write_gz(const char *path, const void *bytes, size_t n)
{
    gzFile gz = gzopen(path, "wb");
    if (!gz || (n && gzwrite(gz, bytes, (unsigned)n) != (int)n) || gzclose(gz) != Z_OK) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(2);
    }
}

/* Builds an IDX image of the given type and dims; data = (i * 7 + 1) mod 256.
 * Returns the number of bytes. */
static size_t make_idx(uint8_t *buf, uint8_t type, int ndim, const uint32_t *dims)
{
    size_t n = 4, count = 1;
    buf[0] = 0, buf[1] = 0, buf[2] = type, buf[3] = (uint8_t)ndim;
    for (int i = 0; i < ndim; i++) {
        buf[n++] = (uint8_t)(dims[i] >> 24);
        buf[n++] = (uint8_t)(dims[i] >> 16);
        buf[n++] = (uint8_t)(dims[i] >> 8);
        buf[n++] = (uint8_t)dims[i];
        count *= dims[i];
    }
    for (size_t i = 0; i < count && count < 4096; i++)
        buf[n++] = (uint8_t)(i * 7 + 1);
    return n;
}

/* idx_read must fail with one line naming the file and containing `what`. */
static void expect_idx_failure(const char *path, const char *what)
{
    ae_error err = { "" };
    idx_array a;
    int rc = idx_read(&a, path, &err);
    CHECK(rc == -1, "%s should fail", path);
    CHECK(a.data == NULL, "%s: no data after failure", path);
    CHECK(strstr(err.msg, path) != NULL, "message names the file: '%s'", err.msg);
    CHECK(strstr(err.msg, what) != NULL, "message says '%s': '%s'", what, err.msg);
    CHECK(strchr(err.msg, '\n') == NULL, "one line: '%s'", err.msg);
}

static void test_idx_valid(void)
{
    uint8_t buf[256];
    const uint32_t dims[3] = { 5, 4, 3 };
    size_t n = make_idx(buf, 0x08, 3, dims);
    write_raw(at("ok.idx"), buf, n);
    write_gz(at("ok.idx.gz"), buf, n);

    const char *files[] = { at("ok.idx"), at("ok.idx.gz") };
    for (int f = 0; f < 2; f++) {
        ae_error err = { "" };
        idx_array a;
        CHECK(idx_read(&a, files[f], &err) == 0, "%s: %s", files[f], err.msg);
        CHECK(a.ndim == 3 && a.dims[0] == 5 && a.dims[1] == 4 && a.dims[2] == 3,
              "%s: dims %d [%u %u %u]", files[f], a.ndim, a.dims[0], a.dims[1], a.dims[2]);
        CHECK(a.size == 60 && a.data && memcmp(a.data, buf + 16, 60) == 0, "%s: bytes", files[f]);
        idx_free(&a);
        CHECK(a.data == NULL, "idx_free clears");
    }

    /* 1 and 4 dimensions are fine too */
    const uint32_t d1[1] = { 7 }, d4[4] = { 2, 1, 3, 2 };
    n = make_idx(buf, 0x08, 1, d1);
    write_raw(at("one.idx"), buf, n);
    n = make_idx(buf, 0x08, 4, d4);
    write_gz(at("four.idx.gz"), buf, n);
    ae_error err = { "" };
    idx_array a;
    CHECK(idx_read(&a, at("one.idx"), &err) == 0 && a.ndim == 1 && a.size == 7, "1-dim: %s", err.msg);
    idx_free(&a);
    CHECK(idx_read(&a, at("four.idx.gz"), &err) == 0 && a.ndim == 4 && a.size == 12 &&
              a.dims[3] == 2 && memcmp(a.data, buf + 20, 12) == 0, "4-dim gz: %s", err.msg);
    idx_free(&a);
    idx_free(NULL);
}

static void test_idx_broken(void)
{
    uint8_t buf[4096], gz[4096];
    const uint32_t dims[3] = { 5, 4, 3 };
    size_t n = make_idx(buf, 0x08, 3, dims); /* 76 bytes: 16 header + 60 data */

    write_raw(at("short.idx"), buf, n - 3);
    expect_idx_failure(at("short.idx"), "truncated: header says 60 bytes of data, file has 57");
    write_gz(at("short.idx.gz"), buf, n - 3); /* a valid gzip of too little data */
    expect_idx_failure(at("short.idx.gz"), "truncated");
    write_raw(at("header-only.idx"), buf, 10);
    expect_idx_failure(at("header-only.idx"), "truncated");
    write_raw(at("empty.idx"), buf, 0);
    expect_idx_failure(at("empty.idx"), "truncated");
    write_gz(at("empty.idx.gz"), buf, 0);
    expect_idx_failure(at("empty.idx.gz"), "truncated");

    /* a gzip file cut short: in the middle, and just before its checksum */
    write_gz(at("full.gz"), buf, n);
    size_t gz_n = read_all(at("full.gz"), gz, sizeof gz);
    CHECK(gz_n > 30, "gzip written");
    write_raw(at("cut.idx.gz"), gz, gz_n / 2);
    expect_idx_failure(at("cut.idx.gz"), "truncated");
    write_raw(at("cut-crc.idx.gz"), gz, gz_n - 6);
    expect_idx_failure(at("cut-crc.idx.gz"), "truncated");
    /* a corrupted checksum */
    memcpy(buf + 2048, gz, gz_n);
    buf[2048 + gz_n - 6] ^= 0xff;
    write_raw(at("bad-crc.idx.gz"), buf + 2048, gz_n);
    expect_idx_failure(at("bad-crc.idx.gz"), "corrupt gzip data: incorrect data check");

    buf[n] = 0xAB;
    write_raw(at("long.idx"), buf, n + 1);
    expect_idx_failure(at("long.idx"), "1 trailing bytes");
    write_gz(at("long.idx.gz"), buf, n + 1);
    expect_idx_failure(at("long.idx.gz"), "trailing bytes");

    buf[1] = 0x01;
    write_raw(at("magic.idx"), buf, n);
    expect_idx_failure(at("magic.idx"), "not an IDX file");
    buf[1] = 0x00;
    buf[2] = 0x0D; /* float */
    write_raw(at("float.idx"), buf, n);
    expect_idx_failure(at("float.idx"), "type 0x0d");
    buf[2] = 0x08;
    buf[3] = 0;
    write_raw(at("ndim0.idx"), buf, n);
    expect_idx_failure(at("ndim0.idx"), "0 dimensions");
    buf[3] = 5;
    write_raw(at("ndim5.idx"), buf, n);
    expect_idx_failure(at("ndim5.idx"), "5 dimensions");

    const uint32_t zero[3] = { 5, 0, 3 };
    n = make_idx(buf, 0x08, 3, zero);
    write_raw(at("zero.idx"), buf, n);
    expect_idx_failure(at("zero.idx"), "dimension 1 is 0");

    /* 65536 x 256 x 256 = 4 GB claimed by a 40-byte file: refused from the
     * header alone (ASan would report an attempted 4 GB malloc). */
    const uint32_t huge[3] = { 65536, 256, 256 };
    n = make_idx(buf, 0x08, 3, huge);
    memset(buf + n, 0, 24);
    write_raw(at("huge.idx"), buf, 40);
    expect_idx_failure(at("huge.idx"), "more than");
    write_gz(at("huge.idx.gz"), buf, 40);
    expect_idx_failure(at("huge.idx.gz"), "more than");
    /* 1 GB, under the cap, in a tiny file: truncated, found before reading */
    const uint32_t big[3] = { 16384, 256, 256 };
    n = make_idx(buf, 0x08, 3, big);
    write_raw(at("big.idx"), buf, 40);
    expect_idx_failure(at("big.idx"), "truncated: header says 1073741824 bytes of data, file has 24");
    write_gz(at("big.idx.gz"), buf, 40);
    expect_idx_failure(at("big.idx.gz"), "truncated");

    expect_idx_failure(at("no-such-file.idx"), "No such file");
    expect_idx_failure(root, "not a regular file");
}

/* A gzip IDX of over 1 MiB of data, so that reads reach the end of the
 * data in the middle of a large request (where zlib's gzread let a cut
 * trailer pass): cut at every byte of its 8-byte trailer (CRC-32, length),
 * each trailer field corrupted, several members, bytes after the end. */
static void test_gzip_trailer(void)
{
    const uint32_t dims[3] = { 3, 600, 700 }; /* 1,260,000 bytes */
    size_t data = 3 * 600 * 700, n = 16 + data;
    uint8_t *idx = malloc(n), *gz = malloc(2 * n + 64);
    if (!idx || !gz) {
        CHECK(0, "out of memory");
        free(idx);
        free(gz);
        return;
    }
    make_idx(idx, 0x08, 3, dims);
    uint32_t state = 1;
    for (size_t i = 0; i < data; i++) { /* some entropy, but compressible */
        state = state * 1103515245u + 12345u;
        idx[16 + i] = (uint8_t)((state >> 24) & 0x0f);
    }
    write_gz(at("trailer.idx.gz"), idx, n);
    size_t gz_n = read_all(at("trailer.idx.gz"), gz, 2 * n + 64);
    CHECK(gz_n > 8 && gz_n < n, "gzip written: %zu bytes", gz_n);

    ae_error err = { "" };
    idx_array a;
    CHECK(idx_read(&a, at("trailer.idx.gz"), &err) == 0 && a.size == data &&
          memcmp(a.data, idx + 16, data) == 0, "whole file reads: %s", err.msg);
    idx_free(&a);

    for (size_t cut = 1; cut <= 8; cut++) {
        write_raw(at("cut-trailer.idx.gz"), gz, gz_n - cut);
        expect_idx_failure(at("cut-trailer.idx.gz"), "truncated");
    }
    /* CRC-32 (first 4 bytes of the trailer), then the length */
    gz[gz_n - 8] ^= 0x01;
    write_raw(at("crc.idx.gz"), gz, gz_n);
    expect_idx_failure(at("crc.idx.gz"), "corrupt gzip data: incorrect data check (CRC mismatch)");
    gz[gz_n - 8] ^= 0x01;
    gz[gz_n - 1] ^= 0x80;
    write_raw(at("isize.idx.gz"), gz, gz_n);
    expect_idx_failure(at("isize.idx.gz"), "corrupt gzip data: incorrect length check");
    gz[gz_n - 1] ^= 0x80;

    /* bytes after the last member: refused, not ignored as gzread does */
    memset(gz + gz_n, 0, 4);
    write_raw(at("zeros-after.idx.gz"), gz, gz_n + 4);
    expect_idx_failure(at("zeros-after.idx.gz"), "trailing garbage");
    write_raw(at("byte-after.idx.gz"), gz, gz_n + 1);
    expect_idx_failure(at("byte-after.idx.gz"), "trailing garbage");

    /* two members (cat a.gz b.gz) are one stream, as gzip -d reads them */
    write_gz(at("part1.gz"), idx, 1000);
    write_gz(at("part2.gz"), idx + 1000, n - 1000);
    size_t p1 = read_all(at("part1.gz"), gz, 2 * n + 64);
    size_t p2 = read_all(at("part2.gz"), gz + p1, 2 * n + 64 - p1);
    write_raw(at("members.idx.gz"), gz, p1 + p2);
    CHECK(idx_read(&a, at("members.idx.gz"), &err) == 0 && a.size == data &&
          memcmp(a.data, idx + 16, data) == 0, "two gzip members read as one: %s", err.msg);
    idx_free(&a);
    write_raw(at("members-cut.idx.gz"), gz, p1 + p2 - 3);
    expect_idx_failure(at("members-cut.idx.gz"), "truncated");
    free(idx);
    free(gz);
}

/* Writes a gzip file of `head` followed by mib MiB of zeros, as one
 * compressed MiB repeated (after a full flush each copy stands alone), so
 * that a file inflating to hundreds of MiB takes a moment to write. */
static void write_gz_zeros(const char *path, const uint8_t *head, size_t head_len, unsigned mib)
{
    static uint8_t zeros[1 << 20], chunk[1 << 16], out[1 << 16];
    static const uint8_t gz_header[10] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3 };
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    FILE *f = fopen(path, "wb");
    if (!f || deflateInit2(&zs, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY) != Z_OK) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(2);
    }
    fwrite(gz_header, 1, sizeof gz_header, f);
    zs.next_in = (uint8_t *)head;
    zs.avail_in = (uInt)head_len;
    zs.next_out = out;
    zs.avail_out = sizeof out;
    deflate(&zs, Z_FULL_FLUSH);
    fwrite(out, 1, sizeof out - zs.avail_out, f);
    zs.next_in = zeros;
    zs.avail_in = sizeof zeros;
    zs.next_out = chunk;
    zs.avail_out = sizeof chunk;
    deflate(&zs, Z_FULL_FLUSH);
    size_t chunk_n = sizeof chunk - zs.avail_out;
    for (unsigned i = 0; i < mib; i++)
        fwrite(chunk, 1, chunk_n, f);
    zs.next_out = out;
    zs.avail_out = sizeof out;
    deflate(&zs, Z_FINISH);
    fwrite(out, 1, sizeof out - zs.avail_out, f);
    deflateEnd(&zs);
    uLong crc = crc32(0L, head, (uInt)head_len), crc_mib = crc32(0L, zeros, sizeof zeros);
    for (unsigned i = 0; i < mib; i++)
        crc = crc32_combine(crc, crc_mib, (z_off_t)sizeof zeros);
    uint32_t isize = (uint32_t)(head_len + ((uint64_t)mib << 20));
    uint8_t trailer[8];
    for (int i = 0; i < 4; i++) {
        trailer[i] = (uint8_t)(crc >> (8 * i));
        trailer[4 + i] = (uint8_t)(isize >> (8 * i));
    }
    fwrite(trailer, 1, 8, f);
    if (fclose(f) != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(2);
    }
}

/* A split of n_images zero images h x w and n_labels zero labels, gzipped:
 * half a MiB of files inflating to hundreds of MiB. */
static void write_zero_split(const char *dir, uint32_t n_images, uint32_t h, uint32_t w, uint32_t n_labels)
{
    char path[1024];
    uint8_t head[16];
    const uint32_t dims[3] = { n_images, h, w };
    make_idx(head, 0x08, 3, dims); /* only the 16-byte header: count >= 4096 */
    uint64_t bytes = (uint64_t)n_images * h * w;
    CHECK(bytes % (1u << 20) == 0, "whole MiB of images");
    mkdir(dir, 0755);
    snprintf(path, sizeof path, "%s/train-images-idx3-ubyte.gz", dir);
    write_gz_zeros(path, head, 16, (unsigned)(bytes >> 20));
    make_idx(head, 0x08, 1, &n_labels);
    uint8_t *labels = calloc(8 + (size_t)n_labels, 1);
    memcpy(labels, head, 8);
    snprintf(path, sizeof path, "%s/train-labels-idx1-ubyte.gz", dir);
    write_gz(path, labels, 8 + (size_t)n_labels);
    free(labels);
}

typedef struct {
    const char      *dir;
    ae_image_options img;
} open_job;

static int open_measured(void *arg, char *msg, size_t size)
{
    const open_job *job = arg;
    ae_error err = { "" };
    ae_dataset *ds = NULL;
    int rc = ae_dataset_open(&ds, job->dir, AE_SPLIT_TRAIN, &job->img, &err);
    snprintf(msg, size, "%s", err.msg);
    ae_dataset_free(ds);
    return rc == 0 ? 0 : 1;
}

/* A data set whose headers already decide the refusal is refused from
 * them: neither file's hundreds of MiB of pixels are inflated. The bound
 * is on memory (the pixels would take 600 MiB), never on time. */
static void test_refused_from_headers(void)
{
    enum { MAX_PEAK_KIB = 100 * 1024 };
    char msg[1024];
    long peak = 0;

    /* 786,432 images of 28x29 (609 MiB) for a model of 1x28x28 */
    write_zero_split(at("wide-bomb"), 786432, 28, 29, 786432);
    open_job job = { at("wide-bomb"), { 1, 28, 28, AE_FIT_RESIZE, 1 } };
    int rc = run_measured(open_measured, &job, &peak, msg, sizeof msg);
    CHECK(rc == 1, "images of 28x29 refused for 1x28x28 (exit %d): %s", rc, msg);
    CHECK(strstr(msg, "wide-bomb/train-images-idx3-ubyte.gz: images are 1x28x29") &&
          strstr(msg, "1x28x28 are needed"), "names the file and both shapes: %s", msg);
    CHECK(peak < MAX_PEAK_KIB, "refused from the header: memory %ld KiB (bound %d)", peak, MAX_PEAK_KIB);

    /* 3-channel images asked of a 1-channel IDX file: refused too */
    open_job rgb = { at("wide-bomb"), { 3, 28, 29, AE_FIT_RESIZE, 1 } };
    rc = run_measured(open_measured, &rgb, &peak, msg, sizeof msg);
    CHECK(rc == 1 && strstr(msg, "3x28x29 are needed"), "1 channel refused for 3: %s", msg);
    CHECK(peak < MAX_PEAK_KIB, "memory %ld KiB (bound %d)", peak, MAX_PEAK_KIB);
    remove_tree(at("wide-bomb"));

    /* 786,432 images of 28x28 (588 MiB) but one label fewer */
    write_zero_split(at("label-bomb"), 786432, 28, 28, 786431);
    open_job labels = { at("label-bomb"), { 1, 28, 28, AE_FIT_RESIZE, 0 } };
    rc = run_measured(open_measured, &labels, &peak, msg, sizeof msg);
    CHECK(rc == 1 && strstr(msg, "has 786431 labels but") && strstr(msg, "has 786432 images"),
          "label count refused: %s", msg);
    CHECK(peak < MAX_PEAK_KIB, "refused from the headers: memory %ld KiB (bound %d)", peak,
          MAX_PEAK_KIB);
    remove_tree(at("label-bomb"));
}

/* Writes a split into folder `dir`: n images h x w with pixel (i, j) =
 * (i * 31 + j * 3) mod 256, labels i mod 10 (`nlabels` of them). */
static void write_split(const char *dir, const char *prefix, uint32_t n, uint32_t h, uint32_t w,
                        uint32_t nlabels, int gz)
{
    static uint8_t buf[8192];
    char path[1024];
    void (*put)(const char *, const void *, size_t) = gz ? write_gz : write_raw;
    const char *ext = gz ? ".gz" : "";

    const uint32_t dims[3] = { n, h, w };
    size_t len = make_idx(buf, 0x08, 3, dims) - (size_t)n * h * w;
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t j = 0; j < h * w; j++)
            buf[len++] = (uint8_t)(i * 31 + j * 3);
    snprintf(path, sizeof path, "%s/%s-images-idx3-ubyte%s", dir, prefix, ext);
    put(path, buf, len);

    len = make_idx(buf, 0x08, 1, &nlabels) - nlabels;
    for (uint32_t i = 0; i < nlabels; i++)
        buf[len++] = (uint8_t)(i % 10);
    snprintf(path, sizeof path, "%s/%s-labels-idx1-ubyte%s", dir, prefix, ext);
    put(path, buf, len);
}

static void check_set(const char *name, ae_split split, int n, const char *source)
{
    ae_error err = { "" };
    ae_dataset *ds = NULL;
    CHECK(ae_dataset_open(&ds, name, split, NULL, &err) == 0, "open %s: %s", name, err.msg);
    if (!ds)
        return;
    CHECK(ds->n == n && ds->c == 1 && ds->h == 4 && ds->w == 3, "%s: n %d c %d h %d w %d",
          name, ds->n, ds->c, ds->h, ds->w);
    CHECK(strcmp(ds->source, source) == 0, "%s: source '%s', expected '%s'", name, ds->source, source);
    int labels_ok = ds->labels != NULL, pixels_ok = ds->pixels != NULL;
    for (int i = 0; labels_ok && i < ds->n; i++)
        labels_ok = ds->labels[i] == i % 10;
    for (int i = 0; pixels_ok && i < ds->n * 12; i++)
        pixels_ok = ds->pixels[i] == (uint8_t)((i / 12) * 31 + (i % 12) * 3);
    CHECK(labels_ok, "%s: labels", name);
    CHECK(pixels_ok, "%s: pixels", name);
    ae_dataset_free(ds);
}

static void expect_open_failure(const char *name, ae_split split, const char *what, const char *what2)
{
    ae_error err = { "" };
    static ae_dataset dummy;
    ae_dataset *ds = &dummy; /* must be reset to NULL */
    CHECK(ae_dataset_open(&ds, name, split, NULL, &err) == -1, "%s should fail", name);
    CHECK(ds == NULL, "%s: out is NULL after failure", name);
    CHECK(strstr(err.msg, what) != NULL, "message has '%s': '%s'", what, err.msg);
    CHECK(!what2 || strstr(err.msg, what2) != NULL, "message has '%s': '%s'", what2, err.msg);
    CHECK(strchr(err.msg, '\n') == NULL, "one line: '%s'", err.msg);
}

static void test_dataset_folders(void)
{
    mkdir(at("raw"), 0755);
    write_split(at("raw"), "train", 5, 4, 3, 5, 0);
    write_split(at("raw"), "t10k", 2, 4, 3, 2, 0);
    check_set(at("raw"), AE_SPLIT_TRAIN, 5, at("raw/train-images-idx3-ubyte"));
    check_set(at("raw"), AE_SPLIT_TEST, 2, at("raw/t10k-images-idx3-ubyte"));

    mkdir(at("gz"), 0755);
    write_split(at("gz"), "train", 5, 4, 3, 5, 1);
    write_split(at("gz"), "t10k", 3, 4, 3, 3, 1);
    check_set(at("gz"), AE_SPLIT_TRAIN, 5, at("gz/train-images-idx3-ubyte.gz"));
    check_set(at("gz"), AE_SPLIT_TEST, 3, at("gz/t10k-images-idx3-ubyte.gz"));

    mkdir(at("mismatch"), 0755);
    write_split(at("mismatch"), "train", 5, 4, 3, 4, 0);
    expect_open_failure(at("mismatch"), AE_SPLIT_TRAIN, "mismatch/train-labels-idx1-ubyte has 4 labels",
                        "mismatch/train-images-idx3-ubyte has 5 images");
    expect_open_failure(at("mismatch"), AE_SPLIT_TEST, "mismatch/t10k-images-idx3-ubyte", "not found");

    mkdir(at("nolabels"), 0755);
    write_split(at("nolabels"), "train", 5, 4, 3, 5, 0);
    unlink(at("nolabels/train-labels-idx1-ubyte"));
    expect_open_failure(at("nolabels"), AE_SPLIT_TRAIN, "nolabels/train-labels-idx1-ubyte", "not found");

    mkdir(at("flat"), 0755);
    write_split(at("flat"), "train", 5, 4, 3, 5, 0);
    uint8_t buf[128];
    const uint32_t d2[2] = { 5, 12 };
    write_raw(at("flat/train-images-idx3-ubyte"), buf, make_idx(buf, 0x08, 2, d2));
    expect_open_failure(at("flat"), AE_SPLIT_TRAIN, "flat/train-images-idx3-ubyte", "3 dimensions");

    mkdir(at("broken"), 0755);
    write_split(at("broken"), "train", 5, 4, 3, 5, 0);
    write_raw(at("broken/train-images-idx3-ubyte"), buf, 20);
    expect_open_failure(at("broken"), AE_SPLIT_TRAIN, "broken/train-images-idx3-ubyte", "truncated");

    expect_open_failure(at("no-such-folder"), AE_SPLIT_TRAIN, at("no-such-folder"), "no such folder");
    ae_dataset_free(NULL);
}

static void test_dataset_batch(void)
{
    ae_error err = { "" };
    ae_dataset *ds = NULL;
    CHECK(ae_dataset_open(&ds, at("raw"), AE_SPLIT_TRAIN, NULL, &err) == 0, "%s", err.msg);
    if (!ds)
        return;
    const uint32_t order[4] = { 3, 0, 4, 1 };
    float out[4 * 12];
    ae_dataset_batch(ds, order, 4, out);
    int ok = 1;
    for (int k = 0; k < 4; k++)
        for (int j = 0; j < 12; j++)
            ok &= out[k * 12 + j] == (uint8_t)(order[k] * 31 + j * 3) / 255.0f;
    CHECK(ok, "batch holds pixel / 255 in the given order");
    CHECK(out[0] > 0.0f && out[0] <= 1.0f, "in [0, 1]");

    ae_dataset_truncate(ds, 0);
    CHECK(ds->n == 5, "truncate(0) is a no-op");
    ae_dataset_truncate(ds, 9);
    CHECK(ds->n == 5, "truncate beyond n is a no-op");
    ae_dataset_truncate(ds, 2);
    CHECK(ds->n == 2 && ds->labels[1] == 1, "truncate to 2: n %d", ds->n);
    ae_dataset_free(ds);
}

static void test_dataset_names(void)
{
    /* $AEKIT_DATA comes first, even for a name ./data also has */
    mkdir(at("root"), 0755);
    mkdir(at("root/mnist"), 0755);
    write_split(at("root/mnist"), "train", 5, 4, 3, 5, 0);
    mkdir(at("root/tiny"), 0755);
    write_split(at("root/tiny"), "t10k", 2, 4, 3, 2, 1);
    setenv("AEKIT_DATA", at("root"), 1);
    check_set("mnist", AE_SPLIT_TRAIN, 5, at("root/mnist/train-images-idx3-ubyte"));
    check_set("tiny", AE_SPLIT_TEST, 2, at("root/tiny/t10k-images-idx3-ubyte.gz"));
    expect_open_failure("no-such-set-xyz", AE_SPLIT_TRAIN, "unknown data set 'no-such-set-xyz'", at("root"));
    unsetenv("AEKIT_DATA");
    expect_open_failure("no-such-set-xyz", AE_SPLIT_TRAIN, "/usr/share/datasets", "known names: mnist");
    /* the library names no script of aekit's source tree (Python uses it
     * too); the CLI adds its own hint */
    {
        ae_error err = { "" };
        ae_dataset *ds = NULL;
        CHECK(ae_dataset_open(&ds, "mnist-xyz", AE_SPLIT_TRAIN, NULL, &err) == -1 && !strstr(err.msg, "scripts/"),
              "no script in the library's message: %s", err.msg);
    }
    /* from another folder: the message names $AEKIT_DATA and where ./data is */
    char cwd_data[4200], cwd[4096];
    CHECK(getcwd(cwd, sizeof cwd) != NULL, "getcwd");
    snprintf(cwd_data, sizeof cwd_data, "%s/data", cwd);
    expect_open_failure("mnist-xyz", AE_SPLIT_TRAIN, "$AEKIT_DATA (not set)", cwd_data);
    expect_open_failure("", AE_SPLIT_TRAIN, "empty", NULL);
}

/* The class name of label k of the test split of `name`, or "" on failure. */
static const char *class_name_of(const char *name, int k, int *count)
{
    static char copy[64];
    ae_error err = { "" };
    ae_dataset *ds = NULL;
    copy[0] = '\0';
    *count = -1;
    CHECK(ae_dataset_open(&ds, name, AE_SPLIT_TEST, NULL, &err) == 0, "open %s: %s", name, err.msg);
    if (ds) {
        *count = ae_dataset_class_count(ds);
        snprintf(copy, sizeof copy, "%s", ae_dataset_class_name(ds, k) ? ae_dataset_class_name(ds, k) : "");
    }
    ae_dataset_free(ds);
    return copy;
}

/* IDX folders are named digits, or Fashion-MNIST's clothes when the folder
 * is called fashion-mnist (by name or by path; the files cannot tell). */
static void test_class_names(void)
{
    int count;
    mkdir(at("digits"), 0755);
    write_split(at("digits"), "t10k", 2, 4, 3, 2, 0);
    CHECK(strcmp(class_name_of(at("digits"), 7, &count), "7") == 0 && count == 10, "digits: 7 is \"7\"");
    mkdir(at("clothes"), 0755);
    mkdir(at("clothes/fashion-mnist"), 0755);
    write_split(at("clothes/fashion-mnist"), "t10k", 2, 4, 3, 2, 0);
    CHECK(strcmp(class_name_of(at("clothes/fashion-mnist/"), 9, &count), "Ankle boot") == 0 && count == 10,
          "a folder named fashion-mnist: 9 is Ankle boot");
    CHECK(strcmp(class_name_of(at("clothes/fashion-mnist"), 0, &count), "T-shirt/top") == 0,
          "a folder named fashion-mnist: 0 is T-shirt/top");
    setenv("AEKIT_DATA", at("clothes"), 1);
    CHECK(strcmp(class_name_of("fashion-mnist", 1, &count), "Trouser") == 0, "the name fashion-mnist: 1 is Trouser");
    unsetenv("AEKIT_DATA");
    CHECK(strcmp(class_name_of(at("digits"), 10, &count), "") == 0, "no name past 9");
}

/* The real data sets, when present. */
static void test_real(const char *name, int first_train_label, int first_test_label)
{
    ae_error err = { "" };
    ae_dataset *train = NULL, *test = NULL;
    CHECK(ae_dataset_open(&train, name, AE_SPLIT_TRAIN, NULL, &err) == 0, "%s", err.msg);
    CHECK(ae_dataset_open(&test, name, AE_SPLIT_TEST, NULL, &err) == 0, "%s", err.msg);
    if (train) {
        CHECK(train->n == 60000 && train->c == 1 && train->h == 28 && train->w == 28,
              "%s train: %d x %d x %d x %d", name, train->n, train->c, train->h, train->w);
        CHECK(train->labels[0] == first_train_label, "%s: first train label %d", name, train->labels[0]);
        int top = 0;
        for (int i = 0; i < 28 * 28; i++)
            top = train->pixels[i] > top ? train->pixels[i] : top;
        CHECK(top == 255, "%s: first image is not blank (max %d)", name, top);
    }
    if (test) {
        CHECK(test->n == 10000 && test->h == 28 && test->w == 28, "%s test: n %d", name, test->n);
        CHECK(test->labels[0] == first_test_label, "%s: first test label %d", name, test->labels[0]);
    }
    ae_dataset_free(train);
    ae_dataset_free(test);
}

int main(void)
{
    if (temp_dir_open("idx") != 0)
        return 2;
    test_refused_from_headers(); /* first, while this process is small */
    test_gzip_trailer();
    test_idx_valid();
    test_idx_broken();
    test_dataset_folders();
    test_dataset_batch();
    test_dataset_names();
    test_class_names();

    struct stat st;
    if (stat("data/mnist", &st) == 0)
        test_real("data/mnist", 5, 7);
    else if (stat(AEKIT_SOURCE_DIR "/data/mnist", &st) == 0)
        test_real(AEKIT_SOURCE_DIR "/data/mnist", 5, 7);
    else
        printf("skipped: MNIST not found (run scripts/fetch-mnist.sh)\n");
    if (stat("/usr/share/datasets/fashion-mnist", &st) == 0)
        test_real("fashion-mnist", 9, 9); /* by name: found in /usr/share/datasets */
    else
        printf("skipped: Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)\n");

    remove_tree(root);
    CHECK(stat(root, &st) != 0, "temp folder %s removed", root);
    TEST_DONE();
}
