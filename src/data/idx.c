/* IDX reader. A file is opened and its header read first (idx_open), so a
 * caller can refuse it from the header alone; then the data (idx_load).
 * Raw files: the header is checked against the file's size before the data
 * is allocated. Gzipped files: the uncompressed size is not known up front,
 * so the buffer grows as data actually arrives (never past the header's
 * size) and a tiny file claiming gigabytes costs nothing. gzip is inflated
 * here rather than through gzread, which accepts a file cut inside its
 * 8-byte trailer (CRC and length) when the cut falls at the end of a read:
 * a stream counts as whole only when inflate has checked its trailer. */
#define _POSIX_C_SOURCE 200809L

#include "data/idx.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "core/error.h"
#include "aekit/files.h"

#define IDX_TYPE_UBYTE 0x08
/* Anything larger is a corrupt header, not a data set we could train on. */
#define IDX_MAX_BYTES ((uint64_t)1 << 31)
/* The first size of the growing buffer of gzipped data */
#define GZ_CHUNK ((size_t)1 << 20)
/* Compressed bytes read from the file at a time */
#define GZ_INPUT ((size_t)1 << 16)

struct idx_file {
    const char *path;    /* the caller's, for messages              */
    FILE       *f;
    int         gz;      /* 1: gzip members, inflated as read       */
    /* gzip only */
    z_stream    zs;
    int         zs_live; /* inflateInit2 done                       */
    int         done;    /* every member ended with a checked trailer and no input follows */
    int         cut;     /* the file ended inside a member          */
    uint8_t     in[GZ_INPUT];
};

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

/* Makes at least `want` compressed bytes available when the file has them
 * (keeping the unread ones); returns how many are available, or -1 after
 * failing on a read error. */
static long long gz_fill(idx_file *r, size_t want, ae_error *err)
{
    if (r->zs.avail_in >= want)
        return r->zs.avail_in;
    if (r->zs.avail_in > 0)
        memmove(r->in, r->zs.next_in, r->zs.avail_in);
    r->zs.next_in = r->in;
    size_t k = fread(r->in + r->zs.avail_in, 1, sizeof r->in - r->zs.avail_in, r->f);
    if (k == 0 && ferror(r->f))
        return ae_fail(err, "%s: read error: %s", r->path, strerror(errno));
    r->zs.avail_in += (uInt)k;
    return r->zs.avail_in;
}

/* After a member's trailer: the file ends, or another member follows (a
 * concatenation of gzip files is one gzip file, as gzip -d reads it). */
static int gz_next_member(idx_file *r, ae_error *err)
{
    long long have = gz_fill(r, 2, err);
    if (have < 0)
        return -1;
    if (have == 0) {
        r->done = 1;
        return 0;
    }
    if (have < 2 || r->zs.next_in[0] != 0x1f || r->zs.next_in[1] != 0x8b)
        return ae_fail(err, "%s: bytes after the end of the gzip data are not another gzip "
                       "member (trailing garbage)", r->path);
    if (inflateReset(&r->zs) != Z_OK)
        return ae_fail(err, "%s: zlib cannot restart inflating", r->path);
    return 0;
}

/* Reads up to n bytes; returns the count, or -1 after failing. A short
 * count means the data ended: whole (r->done) or cut short (r->cut). */
static long long src_read(idx_file *r, uint8_t *buf, size_t n, ae_error *err)
{
    if (!r->gz) {
        size_t got = fread(buf, 1, n, r->f);
        if (got < n && ferror(r->f))
            return ae_fail(err, "%s: read error: %s", r->path, strerror(errno));
        return (long long)got;
    }
    size_t got = 0;
    while (got < n && !r->done && !r->cut) {
        long long have = gz_fill(r, 1, err);
        if (have < 0)
            return -1;
        if (have == 0) {
            r->cut = 1; /* inside a member: its trailer was never checked */
            break;
        }
        size_t want = n - got > UINT_MAX ? UINT_MAX : n - got;
        uInt in_before = r->zs.avail_in;
        r->zs.next_out = buf + got;
        r->zs.avail_out = (uInt)want;
        int z = inflate(&r->zs, Z_NO_FLUSH);
        got += want - r->zs.avail_out;
        if (z == Z_BUF_ERROR && r->zs.avail_in == in_before && r->zs.avail_out == want)
            return ae_fail(err, "%s: corrupt gzip data: inflate makes no progress", r->path);
        if (z == Z_STREAM_END) { /* the trailer's CRC-32 and length matched */
            if (gz_next_member(r, err) != 0)
                return -1;
        } else if (z == Z_MEM_ERROR) {
            return ae_fail(err, "%s: out of memory inflating gzip data", r->path);
        } else if (z != Z_OK && z != Z_BUF_ERROR) {
            const char *what = r->zs.msg ? r->zs.msg : "inflate failed";
            const char *why = strcmp(what, "incorrect data check") == 0 ? " (CRC mismatch)"
                              : strcmp(what, "incorrect length check") == 0 ? " (length mismatch)" : "";
            return ae_fail(err, "%s: corrupt gzip data: %s%s", r->path, what, why);
        }
    }
    return (long long)got;
}

/* Reads exactly n header bytes; `what` names them when the file is shorter. */
static int read_header_bytes(idx_file *r, uint8_t *buf, size_t n, const char *what, ae_error *err)
{
    long long got = src_read(r, buf, n, err);
    if (got < 0)
        return -1;
    if ((size_t)got < n)
        return ae_fail(err, "%s: truncated: %s is shorter than %s", r->path,
                       r->gz ? "the gzip data" : "the file", what);
    return 0;
}

static int open_file(idx_file *r, idx_array *hdr, ae_error *err)
{
    const char *path = r->path;
    struct stat st;
    if (fstat(fileno(r->f), &st) != 0)   /* a regular file: ae_open_file */
        return ae_fail(err, "%s: %s", path, strerror(errno));

    /* gzip magic 1f 8b; an IDX file starts with 00 00 */
    uint8_t head[2];
    r->gz = fread(head, 1, 2, r->f) == 2 && head[0] == 0x1f && head[1] == 0x8b;
    rewind(r->f);
    if (r->gz) {
        if (inflateInit2(&r->zs, 16 + MAX_WBITS) != Z_OK) /* 16: gzip wrapper only */
            return ae_fail(err, "%s: out of memory for zlib", path);
        r->zs_live = 1;
    }

    uint8_t magic[4], dims[4 * IDX_MAX_DIMS];
    if (read_header_bytes(r, magic, 4, "the 4-byte IDX magic", err) != 0)
        return -1;
    int ndim = parse_magic(magic, path, err);
    if (ndim < 0)
        return -1;
    hdr->ndim = ndim;
    char what[64];
    snprintf(what, sizeof what, "an IDX header of %d dimensions", ndim);
    if (read_header_bytes(r, dims, 4 * (size_t)ndim, what, err) != 0)
        return -1;
    if (parse_dims(hdr, dims, path, err) != 0)
        return -1;
    if (r->gz)
        return 0;

    long long have = (long long)st.st_size - (4 + 4 * ndim);
    if (have < (long long)hdr->size)
        return ae_fail(err, "%s: truncated: header says %zu bytes of data, file has %lld",
                       path, hdr->size, have);
    if (have > (long long)hdr->size)
        return ae_fail(err, "%s: %lld trailing bytes after the %zu bytes of data the header describes",
                       path, have - (long long)hdr->size, hdr->size);
    return 0;
}

int idx_open(idx_file **out, idx_array *hdr, const char *path, ae_error *err)
{
    *out = NULL;
    memset(hdr, 0, sizeof *hdr);
    idx_file *r = calloc(1, sizeof *r);
    if (!r)
        return ae_fail(err, "%s: out of memory", path);
    r->path = path;
    r->f = ae_open_file(path, err);
    if (!r->f) {
        free(r);
        return -1;
    }
    if (open_file(r, hdr, err) != 0) {
        idx_close(r);
        memset(hdr, 0, sizeof *hdr);
        return -1;
    }
    *out = r;
    return 0;
}

/* Raw: the size was checked against the header when opening. */
static int load_raw(idx_file *r, idx_array *a, ae_error *err)
{
    a->data = malloc(a->size);
    if (!a->data)
        return ae_fail(err, "%s: out of memory for %zu bytes", r->path, a->size);
    long long got = src_read(r, a->data, a->size, err);
    if (got < 0)
        return -1;
    if ((size_t)got != a->size)
        return ae_fail(err, "%s: read error: file shrank", r->path);
    return 0;
}

static int load_gz(idx_file *r, idx_array *a, ae_error *err)
{
    /* Grow by doubling as data arrives, capped at the header's size. */
    size_t cap = 0, have = 0;
    while (have < a->size) {
        size_t next = cap ? 2 * cap : GZ_CHUNK;
        if (next > a->size)
            next = a->size;
        uint8_t *grown = realloc(a->data, next);
        if (!grown)
            return ae_fail(err, "%s: out of memory for %zu bytes", r->path, next);
        a->data = grown;
        cap = next;
        long long got = src_read(r, a->data + have, cap - have, err);
        if (got < 0)
            return -1;
        have += (size_t)got;
        if (have < cap)
            return ae_fail(err, "%s: truncated: header says %zu bytes of data, gzip stream has %zu",
                           r->path, a->size, have);
    }

    /* One more byte must not exist; reading for it also checks the trailer. */
    uint8_t extra;
    long long got = src_read(r, &extra, 1, err);
    if (got < 0)
        return -1;
    if (got > 0)
        return ae_fail(err, "%s: trailing bytes after the %zu bytes of data the header describes",
                       r->path, a->size);
    if (r->cut)
        return ae_fail(err, "%s: truncated: gzip stream ends before its checksum", r->path);
    return 0;
}

int idx_load(idx_file *r, idx_array *a, ae_error *err)
{
    int rc = r->gz ? load_gz(r, a, err) : load_raw(r, a, err);
    if (rc != 0) {
        free(a->data);
        a->data = NULL;
    }
    return rc;
}

void idx_close(idx_file *r)
{
    if (!r)
        return;
    if (r->zs_live)
        inflateEnd(&r->zs);
    if (r->f)
        fclose(r->f);
    free(r);
}

int idx_read(idx_array *out, const char *path, ae_error *err)
{
    idx_file *r;
    if (idx_open(&r, out, path, err) != 0)
        return -1;
    int rc = idx_load(r, out, err);
    idx_close(r);
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
