/* .npy writer (byte for byte what numpy.save writes for C-order arrays) and
 * reader for float arrays. The reader trusts nothing: magic, version, header
 * length, the header dict (parsed by hand, no eval), the dtype, the shape
 * and its element count are checked, and the file size must match exactly,
 * all before the data is allocated. */
#define _POSIX_C_SOURCE 200809L

#include "format/npy.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "aekit/files.h"
#include "core/error.h"

#define NPY_MAGIC     "\x93NUMPY"
#define NPY_MAGIC_LEN 6
#define NPY_ALIGN     64
/* numpy >= 1.23 leaves room after the dict so that the first axis can grow
 * to 21 digits in place (GROWTH_AXIS_MAX_DIGITS in numpy/lib/format.py). */
#define NPY_GROWTH_DIGITS 21
/* Largest element count accepted: byte sizes up to 8 * this fit 64 bits. */
#define NPY_MAX_COUNT ((uint64_t)1 << 59)
/* Values are converted in chunks of this many elements. */
#define NPY_CHUNK 65536

static int host_is_little_endian(void)
{
    const uint16_t one = 1;
    uint8_t b;
    memcpy(&b, &one, 1);
    return b == 1;
}

static void swap_bytes(uint8_t *p, size_t n, size_t size)
{
    for (size_t i = 0; i < n; i++, p += size)
        for (size_t a = 0, b = size - 1; a < b; a++, b--) {
            uint8_t t = p[a];
            p[a] = p[b];
            p[b] = t;
        }
}

/* ---- writing ------------------------------------------------------------------ */

/* Builds the whole preamble (magic .. final '\n') as numpy 1.24 does; returns
 * its length (a multiple of 64) or 0 if buf is too small. */
static size_t make_header(char *buf, size_t cap, const char *descr, int ndim, const long *shape)
{
    char dict[1024];
    size_t n = (size_t)snprintf(dict, sizeof dict,
                                "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
    for (int i = 0; i < ndim; i++)
        n += (size_t)snprintf(dict + n, sizeof dict - n, "%s%ld", i ? ", " : "", shape[i]);
    n += (size_t)snprintf(dict + n, sizeof dict - n, "%s), }", ndim == 1 ? "," : "");
    if (ndim > 0) {
        char first[32];
        int digits = snprintf(first, sizeof first, "%ld", shape[0]);
        for (int k = digits; k < NPY_GROWTH_DIGITS && n + 1 < sizeof dict; k++)
            dict[n++] = ' ';
        dict[n] = '\0';
    }
    if (n + 1 >= sizeof dict)
        return 0;
    /* 10-byte prefix + dict + padding + '\n'; numpy pads by 1..64 spaces. */
    size_t hlen = n + 1;
    size_t pad = NPY_ALIGN - ((NPY_MAGIC_LEN + 4 + hlen) % NPY_ALIGN);
    size_t total = NPY_MAGIC_LEN + 4 + hlen + pad;
    if (total > cap || hlen + pad > 65535)
        return 0;
    memcpy(buf, NPY_MAGIC, NPY_MAGIC_LEN);
    buf[6] = 1;
    buf[7] = 0;
    buf[8] = (char)((hlen + pad) & 0xff);
    buf[9] = (char)((hlen + pad) >> 8);
    memcpy(buf + 10, dict, n);
    memset(buf + 10 + n, ' ', pad);
    buf[total - 1] = '\n';
    return total;
}

static int write_array(const char *path, const void *data, size_t elem_size, const char *descr,
                       int ndim, const long *shape, ae_error *err)
{
    if (ndim < 0 || ndim > NPY_WRITE_MAX_DIMS)
        return ae_fail(err, "%s: cannot write an array of %d dimensions (0 to %d)",
                       path, ndim, NPY_WRITE_MAX_DIMS);
    if (ndim > 0 && !shape)
        return ae_fail(err, "%s: no shape given for an array of %d dimensions", path, ndim);
    uint64_t count = 1;
    int overflow = 0;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0)
            return ae_fail(err, "%s: dimension %d is negative (%ld)", path, i, shape[i]);
        if (shape[i] != 0 && count > NPY_MAX_COUNT / (uint64_t)shape[i])
            overflow = 1;
        else
            count *= (uint64_t)shape[i];
    }
    for (int i = 0; i < ndim; i++)
        if (shape[i] == 0)
            count = 0, overflow = 0;
    if (overflow || count > SIZE_MAX / elem_size)
        return ae_fail(err, "%s: array shape has too many elements", path);
    if (count > 0 && !data)
        return ae_fail(err, "%s: no data given for %llu elements", path, (unsigned long long)count);

    char header[2048];
    size_t hsize = make_header(header, sizeof header, descr, ndim, shape);
    if (hsize == 0)
        return ae_fail(err, "%s: .npy header too long", path);

    ae_atomic_file af;
    if (ae_atomic_open(&af, path, err) != 0)
        return -1;
    fwrite(header, 1, hsize, af.f);
    if (elem_size == 1 || host_is_little_endian()) {
        if (count)
            fwrite(data, elem_size, (size_t)count, af.f);
    } else {
        uint8_t buf[NPY_CHUNK * 8];
        const uint8_t *src = data;
        for (size_t done = 0; done < count;) {
            size_t k = count - done < NPY_CHUNK ? (size_t)(count - done) : NPY_CHUNK;
            memcpy(buf, src + done * elem_size, k * elem_size);
            swap_bytes(buf, k, elem_size);
            fwrite(buf, elem_size, k, af.f);
            done += k;
        }
    }
    return ae_atomic_commit(&af, err); /* reports any write error */
}

int ae_npy_write_f32(const char *path, const float *data, int ndim, const long *shape, ae_error *err)
{
    return write_array(path, data, sizeof(float), "<f4", ndim, shape, err);
}

int ae_npy_write_u8(const char *path, const uint8_t *data, int ndim, const long *shape, ae_error *err)
{
    return write_array(path, data, 1, "|u1", ndim, shape, err);
}

/* ---- header parsing ------------------------------------------------------------- */

typedef struct {
    const char *p, *end;
    const char *path;
    ae_error   *err;
} cursor;

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static void skip_space(cursor *c)
{
    while (c->p < c->end && is_space(*c->p))
        c->p++;
}

/* Describes where parsing stopped, for messages. */
static const char *where(const cursor *c, char *buf, size_t size)
{
    if (c->p >= c->end)
        return "the end of the header";
    size_t k = 0;
    buf[k++] = '\'';
    for (const char *q = c->p; q < c->end && k + 2 < size && q < c->p + 12; q++)
        buf[k++] = (*q >= 0x20 && *q < 0x7f) ? *q : '?';
    buf[k++] = '\'';
    buf[k] = '\0';
    return buf;
}

static int syntax(cursor *c, const char *expected)
{
    char buf[32];
    return ae_fail(c->err, "%s: bad .npy header: expected %s at %s",
                   c->path, expected, where(c, buf, sizeof buf));
}

static int expect_char(cursor *c, char ch, const char *what)
{
    skip_space(c);
    if (c->p >= c->end || *c->p != ch)
        return syntax(c, what);
    c->p++;
    return 0;
}

/* A Python string literal in single or double quotes, without escapes. */
static int parse_string(cursor *c, char *out, size_t size)
{
    skip_space(c);
    if (c->p >= c->end || (*c->p != '\'' && *c->p != '"'))
        return syntax(c, "a quoted string");
    char quote = *c->p++;
    size_t n = 0;
    while (c->p < c->end && *c->p != quote) {
        unsigned char ch = (unsigned char)*c->p;
        if (ch == '\\' || ch == '\n' || ch < 0x20 || ch >= 0x7f)
            return ae_fail(c->err, "%s: bad .npy header: unsupported character in a string", c->path);
        if (n + 1 >= size)
            return ae_fail(c->err, "%s: bad .npy header: string longer than %zu characters",
                           c->path, size - 1);
        out[n++] = (char)ch;
        c->p++;
    }
    if (c->p >= c->end)
        return syntax(c, "a closing quote");
    c->p++;
    out[n] = '\0';
    return 0;
}

static int match_word(cursor *c, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0)
        return 0;
    const char *after = c->p + n;
    if (after < c->end && (*after == '_' || (*after >= 'a' && *after <= 'z') ||
                           (*after >= 'A' && *after <= 'Z') || (*after >= '0' && *after <= '9')))
        return 0;
    c->p = after;
    return 1;
}

static int parse_bool(cursor *c, int *out)
{
    skip_space(c);
    if (match_word(c, "True"))
        return *out = 1, 0;
    if (match_word(c, "False"))
        return *out = 0, 0;
    return syntax(c, "True or False");
}

/* A non-negative decimal integer (a Python 2 'L' suffix is accepted). */
static int parse_dim(cursor *c, uint64_t *out)
{
    skip_space(c);
    if (c->p >= c->end || *c->p < '0' || *c->p > '9') {
        if (c->p < c->end && *c->p == '-')
            return ae_fail(c->err, "%s: bad .npy header: negative dimension in 'shape'", c->path);
        return syntax(c, "a dimension (a non-negative integer)");
    }
    uint64_t v = 0;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
        v = v * 10 + (uint64_t)(*c->p - '0');
        if (v > NPY_MAX_COUNT)
            return ae_fail(c->err, "%s: bad .npy header: dimension in 'shape' is too large", c->path);
        c->p++;
    }
    if (c->p < c->end && (*c->p == 'L' || *c->p == 'l'))
        c->p++;
    *out = v;
    return 0;
}

/* A tuple: (), (N,), (N, M), (N, M,) ... A single element needs its comma,
 * as in Python: (10) is not a tuple. */
static int parse_shape(cursor *c, npy_header *h)
{
    if (expect_char(c, '(', "'(' (the shape is a tuple)") != 0)
        return -1;
    h->ndim = 0;
    int commas = 0;
    for (;;) {
        skip_space(c);
        if (c->p < c->end && *c->p == ')') {
            c->p++;
            break;
        }
        if (h->ndim > 0 && commas < h->ndim)
            return syntax(c, "',' or ')' in 'shape'");
        uint64_t d = 0;
        if (parse_dim(c, &d) != 0)
            return -1;
        if (h->ndim == NPY_READ_MAX_DIMS)
            return ae_fail(c->err, "%s: array has more than %d dimensions (supported: 1 to %d)",
                           c->path, NPY_READ_MAX_DIMS, NPY_READ_MAX_DIMS);
        h->shape[h->ndim++] = d;
        skip_space(c);
        if (c->p < c->end && *c->p == ',') {
            c->p++;
            commas++;
        }
    }
    if (h->ndim == 1 && commas == 0)
        return ae_fail(c->err, "%s: bad .npy header: 'shape' is not a tuple (a 1-element tuple needs "
                       "a comma: (N,))", c->path);
    return 0;
}

int npy_parse_header(npy_header *out, const char *text, size_t len, const char *path, ae_error *err)
{
    memset(out, 0, sizeof *out);
    cursor c = { text, text + len, path, err };
    int seen_descr = 0, seen_fortran = 0, seen_shape = 0;

    if (expect_char(&c, '{', "'{'") != 0)
        return -1;
    for (;;) {
        skip_space(&c);
        if (c.p < c.end && *c.p == '}') {
            c.p++;
            break;
        }
        char key[32];
        if (parse_string(&c, key, sizeof key) != 0)
            return -1;
        if (expect_char(&c, ':', "':' after a key") != 0)
            return -1;
        int *seen;
        int rc;
        if (strcmp(key, "descr") == 0) {
            seen = &seen_descr;
            skip_space(&c);
            if (c.p < c.end && *c.p == '[')
                return ae_fail(err, "%s: structured dtypes are not supported (only float arrays)", path);
            rc = parse_string(&c, out->descr, sizeof out->descr);
        } else if (strcmp(key, "fortran_order") == 0) {
            seen = &seen_fortran;
            rc = parse_bool(&c, &out->fortran_order);
        } else if (strcmp(key, "shape") == 0) {
            seen = &seen_shape;
            rc = parse_shape(&c, out);
        } else {
            return ae_fail(err, "%s: bad .npy header: unknown key '%s' (expected 'descr', "
                           "'fortran_order', 'shape')", path, key);
        }
        if (rc != 0)
            return -1;
        if (*seen)
            return ae_fail(err, "%s: bad .npy header: key '%s' appears twice", path, key);
        *seen = 1;
        skip_space(&c);
        if (c.p < c.end && *c.p == ',') {
            c.p++;
            continue;
        }
        skip_space(&c);
        if (c.p >= c.end || *c.p != '}')
            return syntax(&c, "',' or '}'");
    }
    skip_space(&c);
    if (c.p != c.end)
        return syntax(&c, "only spaces after '}'");
    if (!seen_descr || !seen_fortran || !seen_shape)
        return ae_fail(err, "%s: bad .npy header: missing key '%s'", path,
                       !seen_descr ? "descr" : !seen_fortran ? "fortran_order" : "shape");

    uint64_t count = 1;
    int zero = 0, overflow = 0;
    for (int i = 0; i < out->ndim; i++) {
        if (out->shape[i] == 0)
            zero = 1;
        else if (count > NPY_MAX_COUNT / out->shape[i])
            overflow = 1;
        else
            count *= out->shape[i];
    }
    if (zero)
        count = 0;
    else if (overflow)
        return ae_fail(err, "%s: bad .npy header: 'shape' has more than %llu elements", path,
                       (unsigned long long)NPY_MAX_COUNT);
    out->count = count;
    return 0;
}

/* ---- reading ---------------------------------------------------------------------- */

static int read_exact(FILE *f, void *buf, size_t n, const char *path, ae_error *err)
{
    if (fread(buf, 1, n, f) != n)
        return ae_fail(err, "%s: read error: %s", path, ferror(f) ? strerror(errno) : "file shrank");
    return 0;
}

/* Reads and checks everything before the data: magic, version, header,
 * dtype (*isize: its bytes), order, dimensions, and the file's size against
 * the header. The file is then positioned at the data. */
static int read_header(FILE *f, const char *path, npy_header *hp, size_t *isize_out, ae_error *err)
{
    struct stat st;
    if (fstat(fileno(f), &st) != 0)
        return ae_fail(err, "%s: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return ae_fail(err, "%s: not a regular file", path);
    uint64_t fsize = (uint64_t)st.st_size;

    uint8_t pre[12];
    if (fsize < 10)
        return ae_fail(err, "%s: not a .npy file (only %llu bytes)", path, (unsigned long long)fsize);
    if (read_exact(f, pre, 8, path, err) != 0)
        return -1;
    if (memcmp(pre, NPY_MAGIC, NPY_MAGIC_LEN) != 0)
        return ae_fail(err, "%s: not a .npy file (no \\x93NUMPY magic)", path);
    if ((pre[6] != 1 && pre[6] != 2) || pre[7] != 0)
        return ae_fail(err, "%s: .npy format version %u.%u is not supported (1.0 or 2.0)",
                       path, pre[6], pre[7]);
    size_t lensize = pre[6] == 1 ? 2 : 4;
    if (read_exact(f, pre + 8, lensize, path, err) != 0)
        return -1;
    uint64_t hlen = (uint64_t)pre[8] | (uint64_t)pre[9] << 8;
    if (lensize == 4)
        hlen |= (uint64_t)pre[10] << 16 | (uint64_t)pre[11] << 24;
    uint64_t data_start = 8 + lensize + hlen;
    if (hlen > NPY_MAX_HEADER)
        return ae_fail(err, "%s: .npy header length %llu exceeds %d bytes", path,
                       (unsigned long long)hlen, NPY_MAX_HEADER);
    if (data_start > fsize)
        return ae_fail(err, "%s: truncated: .npy header length %llu exceeds the file", path,
                       (unsigned long long)hlen);

    char *text = malloc(hlen ? (size_t)hlen : 1);
    if (!text)
        return ae_fail(err, "%s: out of memory", path);
    npy_header h;
    int rc = read_exact(f, text, (size_t)hlen, path, err);
    if (rc == 0)
        rc = npy_parse_header(&h, text, (size_t)hlen, path, err);
    free(text);
    if (rc != 0)
        return -1;

    size_t isize;
    if (strcmp(h.descr, "<f4") == 0)
        isize = 4;
    else if (strcmp(h.descr, "<f8") == 0)
        isize = 8;
    else if (strcmp(h.descr, ">f4") == 0 || strcmp(h.descr, ">f8") == 0)
        return ae_fail(err, "%s: big-endian dtype '%s' is not supported (save as '<f4')", path, h.descr);
    else
        return ae_fail(err, "%s: dtype '%s' is not supported (float32 '<f4' or float64 '<f8')",
                       path, h.descr);
    if (h.fortran_order)
        return ae_fail(err, "%s: Fortran-order arrays are not supported (save a C-order array, "
                       "e.g. numpy.ascontiguousarray)", path);
    if (h.ndim < 1)
        return ae_fail(err, "%s: array has 0 dimensions (supported: 1 to %d)", path, NPY_READ_MAX_DIMS);
    for (int i = 0; i < h.ndim; i++)
        if (h.shape[i] > (uint64_t)LONG_MAX || h.shape[i] > (uint64_t)SIZE_MAX)
            return ae_fail(err, "%s: dimension %d too large", path, i);

    /* count <= 2^59, so count * 8 cannot overflow */
    uint64_t want = h.count * isize, have = fsize - data_start;
    if (have < want)
        return ae_fail(err, "%s: truncated: header says %llu bytes of data, file has %llu", path,
                       (unsigned long long)want, (unsigned long long)have);
    if (have > want)
        return ae_fail(err, "%s: %llu trailing bytes after the %llu bytes of data the header describes",
                       path, (unsigned long long)(have - want), (unsigned long long)want);
    if (h.count > SIZE_MAX / sizeof(float))
        return ae_fail(err, "%s: array too large for this machine", path);
    *hp = h;
    *isize_out = isize;
    return 0;
}

static int read_file(FILE *f, const char *path, float **data, int *ndim, long *shape, ae_error *err)
{
    npy_header h;
    size_t isize;
    if (read_header(f, path, &h, &isize, err) != 0)
        return -1;
    float *out = malloc(h.count ? (size_t)h.count * sizeof(float) : 1);
    if (!out)
        return ae_fail(err, "%s: out of memory for %llu floats", path, (unsigned long long)h.count);
    int swap = !host_is_little_endian();
    if (isize == 4) {
        if (read_exact(f, out, (size_t)h.count * 4, path, err) != 0) {
            free(out);
            return -1;
        }
        if (swap)
            swap_bytes((uint8_t *)out, (size_t)h.count, 4);
    } else {
        double *buf = malloc(NPY_CHUNK * sizeof(double));
        if (!buf) {
            free(out);
            return ae_fail(err, "%s: out of memory", path);
        }
        for (size_t done = 0; done < h.count;) {
            size_t k = h.count - done < NPY_CHUNK ? (size_t)(h.count - done) : NPY_CHUNK;
            if (read_exact(f, buf, k * 8, path, err) != 0) {
                free(buf);
                free(out);
                return -1;
            }
            if (swap)
                swap_bytes((uint8_t *)buf, k, 8);
            for (size_t i = 0; i < k; i++)
                out[done + i] = (float)buf[i];
            done += k;
        }
        free(buf);
    }
    *data = out;
    *ndim = h.ndim;
    for (int i = 0; i < h.ndim; i++)
        shape[i] = (long)h.shape[i];
    return 0;
}

int ae_npy_read_f32(const char *path, float **data, int *ndim, long *shape, ae_error *err)
{
    *data = NULL;
    *ndim = 0;
    FILE *f = ae_open_file(path, err);
    if (!f)
        return -1;
    int rc = read_file(f, path, data, ndim, shape, err);
    fclose(f);
    return rc;
}

int ae_npy_read_shape(const char *path, int *ndim, long *shape, ae_error *err)
{
    *ndim = 0;
    FILE *f = ae_open_file(path, err);
    if (!f)
        return -1;
    npy_header h;
    size_t isize;
    int rc = read_header(f, path, &h, &isize, err);
    fclose(f);
    if (rc != 0)
        return -1;
    *ndim = h.ndim;
    for (int i = 0; i < h.ndim; i++)
        shape[i] = (long)h.shape[i];
    return 0;
}
