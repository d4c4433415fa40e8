/* IDX reader. Raw files: the header is checked against the file's size
 * before the data is allocated. Gzipped files: the uncompressed size is not
 * known up front, so the buffer grows as data actually arrives (never past
 * the header's size) and a tiny file claiming gigabytes costs nothing.   */
#define _POSIX_C_SOURCE 200809L

#include "data/idx.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "core/error.h"

#define IDX_TYPE_UBYTE 0x08
/* Anything larger is a corrupt header, not a data set we could train on. */
#define IDX_MAX_BYTES ((uint64_t)1 << 31)
/* gzread size per call, and the first size of the growing buffer */
#define GZ_CHUNK ((size_t)1 << 20)

/* Parses the 4-byte magic; returns the number of dimensions or -1. */
static int parse_magic(const uint8_t m[4], const char *path, ae_error *err)
{
    if (m[0] != 0 || m[1] != 0)
        return ae_fail(err, "%s: not an IDX file (starts with %02x %02x, expected 00 00)",
                       path, m[0], m[1]);
    if (m[2] != IDX_TYPE_UBYTE)
        return ae_fail(err, "%s: IDX element type 0x%02x is not supported (only 0x08, unsigned byte)",
                       path, m[2]);
    if (m[3] < 1 || m[3] > IDX_MAX_DIMS)
        return ae_fail(err, "%s: IDX file has %d dimensions (supported: 1 to %d)",
                       path, m[3], IDX_MAX_DIMS);
    return m[3];
}

/* Decodes the big-endian sizes into out->dims and out->size, with the
 * product checked against IDX_MAX_BYTES at every step. */
static int parse_dims(idx_array *out, const uint8_t *raw, const char *path, ae_error *err)
{
    uint64_t bytes = 1;
    for (int i = 0; i < out->ndim; i++) {
        const uint8_t *p = raw + 4 * i;
        uint32_t d = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
        if (d == 0)
            return ae_fail(err, "%s: IDX dimension %d is 0", path, i);
        out->dims[i] = d;
        bytes *= d; /* bytes <= 2^31 and d < 2^32: cannot overflow 64 bits */
        if (bytes > IDX_MAX_BYTES)
            return ae_fail(err, "%s: IDX header describes more than %llu bytes of data "
                           "(corrupt header?)", path, (unsigned long long)IDX_MAX_BYTES);
    }
    out->size = (size_t)bytes;
    return 0;
}

static int read_raw(idx_array *out, FILE *f, const char *path, ae_error *err)
{
    struct stat st;
    if (fstat(fileno(f), &st) != 0)
        return ae_fail(err, "%s: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return ae_fail(err, "%s: not a regular file", path);

    uint8_t magic[4], dims[4 * IDX_MAX_DIMS];
    if (fread(magic, 1, 4, f) != 4)
        return ae_fail(err, "%s: truncated: file is shorter than the 4-byte IDX magic", path);
    int ndim = parse_magic(magic, path, err);
    if (ndim < 0)
        return -1;
    out->ndim = ndim;
    if (fread(dims, 4, (size_t)ndim, f) != (size_t)ndim)
        return ae_fail(err, "%s: truncated: IDX header of %d dimensions is incomplete", path, ndim);
    if (parse_dims(out, dims, path, err) != 0)
        return -1;

    long long have = (long long)st.st_size - (4 + 4 * ndim);
    if (have < (long long)out->size)
        return ae_fail(err, "%s: truncated: header says %zu bytes of data, file has %lld",
                       path, out->size, have);
    if (have > (long long)out->size)
        return ae_fail(err, "%s: %lld trailing bytes after the %zu bytes of data the header describes",
                       path, have - (long long)out->size, out->size);

    out->data = malloc(out->size);
    if (!out->data)
        return ae_fail(err, "%s: out of memory for %zu bytes", path, out->size);
    if (fread(out->data, 1, out->size, f) != out->size)
        return ae_fail(err, "%s: read error: %s", path, ferror(f) ? strerror(errno) : "file shrank");
    return 0;
}

/* Reads up to n bytes; returns the count, or -1 after failing with zlib's
 * message (corrupt data, bad CRC). A short count means the stream ended. */
static long long gz_read_full(gzFile gz, void *buf, size_t n, const char *path, ae_error *err)
{
    size_t got = 0;
    while (got < n) {
        size_t want = n - got;
        if (want > GZ_CHUNK)
            want = GZ_CHUNK; /* gzread takes an unsigned int */
        int r = gzread(gz, (uint8_t *)buf + got, (unsigned)want);
        if (r < 0) {
            int code;
            const char *msg = gzerror(gz, &code);
            /* zlib reports a cut-off stream as an error; callers say "truncated" */
            if (code == Z_BUF_ERROR)
                break;
            size_t len = strlen(path); /* zlib's message starts "<path>: " */
            if (strncmp(msg, path, len) == 0 && strncmp(msg + len, ": ", 2) == 0)
                msg += len + 2;
            return ae_fail(err, "%s: corrupt gzip data: %s", path, msg);
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (long long)got;
}

/* Reads header and data from an open gzip stream into out. */
static int read_gz_stream(idx_array *out, gzFile gz, const char *path, ae_error *err)
{
    uint8_t magic[4], dims[4 * IDX_MAX_DIMS], extra;
    long long r = gz_read_full(gz, magic, 4, path, err);
    if (r < 0)
        return -1;
    if (r < 4)
        return ae_fail(err, "%s: truncated: gzip data is shorter than the 4-byte IDX magic", path);
    int ndim = parse_magic(magic, path, err);
    if (ndim < 0)
        return -1;
    out->ndim = ndim;
    if ((r = gz_read_full(gz, dims, 4 * (size_t)ndim, path, err)) < 0)
        return -1;
    if (r < 4 * ndim)
        return ae_fail(err, "%s: truncated: IDX header of %d dimensions is incomplete", path, ndim);
    if (parse_dims(out, dims, path, err) != 0)
        return -1;

    /* Grow by doubling as data arrives, capped at the header's size. */
    size_t cap = 0, have = 0;
    while (have < out->size) {
        size_t next = cap ? 2 * cap : GZ_CHUNK;
        if (next > out->size)
            next = out->size;
        uint8_t *grown = realloc(out->data, next);
        if (!grown)
            return ae_fail(err, "%s: out of memory for %zu bytes", path, next);
        out->data = grown;
        cap = next;
        if ((r = gz_read_full(gz, out->data + have, cap - have, path, err)) < 0)
            return -1;
        have += (size_t)r;
        if (have < cap)
            return ae_fail(err, "%s: truncated: header says %zu bytes of data, gzip stream has %zu",
                           path, out->size, have);
    }

    /* One more byte must not exist; reading for it also checks the CRC. */
    if ((r = gz_read_full(gz, &extra, 1, path, err)) < 0)
        return -1;
    if (r > 0)
        return ae_fail(err, "%s: trailing bytes after the %zu bytes of data the header describes",
                       path, out->size);
    int code;
    gzerror(gz, &code);
    if (code == Z_BUF_ERROR)
        return ae_fail(err, "%s: truncated: gzip stream ends before its checksum", path);
    return 0;
}

static int read_gz(idx_array *out, const char *path, ae_error *err)
{
    errno = 0;
    gzFile gz = gzopen(path, "rb");
    if (!gz)
        return ae_fail(err, "%s: %s", path, errno ? strerror(errno) : "cannot open gzip file");
    int rc = read_gz_stream(out, gz, path, err);
    gzclose(gz);
    return rc;
}

int idx_read(idx_array *out, const char *path, ae_error *err)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f)
        return ae_fail(err, "%s: %s", path, strerror(errno));

    /* gzip magic 1f 8b; an IDX file starts with 00 00 */
    uint8_t head[2];
    int is_gz = fread(head, 1, 2, f) == 2 && head[0] == 0x1f && head[1] == 0x8b;
    int rc;
    if (is_gz) {
        fclose(f);
        rc = read_gz(out, path, err);
    } else {
        rewind(f);
        rc = read_raw(out, f, path, err);
        fclose(f);
    }
    if (rc != 0)
        idx_free(out);
    return rc;
}

void idx_free(idx_array *a)
{
    if (!a)
        return;
    free(a->data);
    memset(a, 0, sizeof *a);
}
