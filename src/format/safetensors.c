/* safetensors reader and writer (format: src/format/safetensors.h and
 * docs/file-formats.md). The reader validates the whole header before it
 * allocates the data section, so a hostile file costs at most its header. */
#define _POSIX_C_SOURCE 200809L
#include "format/safetensors.h"
#include "aekit/files.h"
#include "core/error.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Tensor data is copied as raw bytes: the file is little-endian, so the
 * machine must be too. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "aekit's safetensors code assumes a little-endian machine"
#endif

/* Same limit as the reference implementation: a bigger header is hostile. */
#define ST_MAX_HEADER ((uint64_t)100 * 1000 * 1000)

static const struct {
    const char *name;
    size_t      size;
} dtypes[] = {
    [ST_F32] = {"F32", 4}, [ST_F64] = {"F64", 8}, [ST_F16] = {"F16", 2},
    [ST_BF16] = {"BF16", 2}, [ST_U8] = {"U8", 1}, [ST_I8] = {"I8", 1},
    [ST_I32] = {"I32", 4}, [ST_I64] = {"I64", 8},
};
#define NDTYPES ((int)(sizeof dtypes / sizeof dtypes[0]))

static int dtype_valid(st_dtype d) { return (int)d >= 0 && (int)d < NDTYPES; }

/* ---- reading ------------------------------------------------------------- */

static int parse_dtype(const char *s, st_dtype *out)
{
    for (int i = 0; i < NDTYPES; i++)
        if (strcmp(s, dtypes[i].name) == 0) {
            *out = (st_dtype)i;
            return 0;
        }
    return -1;
}

/* Element count of a shape; -1 when a dimension is bad or the count (or its
 * size in bytes) overflows size_t. */
static int shape_numel(const int64_t *shape, int ndim, size_t elsize, size_t *out)
{
    size_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0) return -1;
        uint64_t d = (uint64_t)shape[i];
        if (d > SIZE_MAX) return -1;
        if (d != 0 && n > SIZE_MAX / (size_t)d) return -1;
        n *= (size_t)d;
    }
    if (n > SIZE_MAX / elsize) return -1;
    *out = n;
    return 0;
}

/* A non-negative JSON integer, or -1. */
static int64_t json_uint(const json_t *v)
{
    if (!json_is_integer(v)) return -1;
    json_int_t x = json_integer_value(v);
    return x < 0 ? -1 : (int64_t)x;
}

static int parse_tensor(st_tensor *t, const char *key, const json_t *v, size_t data_size,
                        const char *path, ae_error *err)
{
    if (strlen(key) >= sizeof t->name)
        return ae_fail(err, "%s: tensor name longer than %zu bytes: \"%.40s...\"", path,
                       sizeof t->name - 1, key);
    strcpy(t->name, key);
    if (!json_is_object(v))
        return ae_fail(err, "%s: tensor \"%s\": entry is not a JSON object", path, key);

    const json_t *dt = json_object_get(v, "dtype");
    if (!json_is_string(dt))
        return ae_fail(err, "%s: tensor \"%s\": missing or non-string \"dtype\"", path, key);
    if (parse_dtype(json_string_value(dt), &t->dtype) != 0)
        return ae_fail(err, "%s: tensor \"%s\": unsupported dtype \"%.32s\" (expected F32, F64, "
                       "F16, BF16, U8, I8, I32 or I64)", path, key, json_string_value(dt));

    const json_t *sh = json_object_get(v, "shape");
    if (!json_is_array(sh))
        return ae_fail(err, "%s: tensor \"%s\": missing or non-array \"shape\"", path, key);
    if (json_array_size(sh) > ST_MAX_DIMS)
        return ae_fail(err, "%s: tensor \"%s\": %zu dimensions (at most %d supported)", path,
                       key, json_array_size(sh), ST_MAX_DIMS);
    t->ndim = (int)json_array_size(sh);
    for (int i = 0; i < t->ndim; i++) {
        t->shape[i] = json_uint(json_array_get(sh, (size_t)i));
        if (t->shape[i] < 0)
            return ae_fail(err, "%s: tensor \"%s\": shape entry %d is not a non-negative integer",
                           path, key, i);
    }
    size_t elsize = dtypes[t->dtype].size;
    if (shape_numel(t->shape, t->ndim, elsize, &t->numel) != 0)
        return ae_fail(err, "%s: tensor \"%s\": shape is too large (size overflows)",
                       path, key);

    const json_t *off = json_object_get(v, "data_offsets");
    if (!json_is_array(off) || json_array_size(off) != 2)
        return ae_fail(err, "%s: tensor \"%s\": \"data_offsets\" must be [begin, end]", path, key);
    int64_t b = json_uint(json_array_get(off, 0)), e = json_uint(json_array_get(off, 1));
    if (b < 0 || e < 0)
        return ae_fail(err, "%s: tensor \"%s\": data offsets must be non-negative integers",
                       path, key);
    if (b > e)
        return ae_fail(err, "%s: tensor \"%s\": data offsets begin %lld > end %lld", path, key,
                       (long long)b, (long long)e);
    if ((uint64_t)e > data_size)
        return ae_fail(err, "%s: tensor \"%s\": data offsets [%lld, %lld] outside the data "
                       "section (%zu bytes; file truncated?)", path, key, (long long)b,
                       (long long)e, data_size);
    t->begin = (size_t)b;
    t->end = (size_t)e;
    if (t->end - t->begin != t->numel * elsize)
        return ae_fail(err, "%s: tensor \"%s\": data offsets span %zu bytes but %s x %zu "
                       "elements need %zu", path, key, t->end - t->begin, dtypes[t->dtype].name,
                       t->numel, t->numel * elsize);
    return 0;
}

static int parse_metadata(st_file *f, const json_t *m, const char *path, ae_error *err)
{
    if (!json_is_object(m))
        return ae_fail(err, "%s: \"__metadata__\" is not a JSON object", path);
    size_t n = json_object_size(m);
    if (n == 0) return 0;
    f->meta_keys = calloc(n, sizeof *f->meta_keys);
    f->meta_vals = calloc(n, sizeof *f->meta_vals);
    if (!f->meta_keys || !f->meta_vals)
        return ae_fail(err, "%s: out of memory reading metadata", path);
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)m, k, v) {
        if (!json_is_string(v))
            return ae_fail(err, "%s: metadata value of \"%.100s\" is not a string", path, k);
        f->meta_keys[f->nmeta] = strdup(k);
        f->meta_vals[f->nmeta] = strdup(json_string_value(v));
        f->nmeta++; /* count before checking, so st_free releases both */
        if (!f->meta_keys[f->nmeta - 1] || !f->meta_vals[f->nmeta - 1])
            return ae_fail(err, "%s: out of memory reading metadata", path);
    }
    return 0;
}

static int cmp_begin(const void *a, const void *b)
{
    const st_tensor *x = *(const st_tensor *const *)a, *y = *(const st_tensor *const *)b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return 0;
}

static int check_overlap(const st_file *f, const char *path, ae_error *err)
{
    if (f->count < 2) return 0;
    const st_tensor **s = malloc((size_t)f->count * sizeof *s);
    if (!s) return ae_fail(err, "%s: out of memory", path);
    for (int i = 0; i < f->count; i++) s[i] = &f->tensors[i];
    qsort(s, (size_t)f->count, sizeof *s, cmp_begin);
    int rc = 0;
    for (int i = 1; i < f->count && rc == 0; i++)
        if (s[i - 1]->end > s[i]->begin)
            rc = ae_fail(err, "%s: tensors \"%s\" and \"%s\" overlap in the data section", path,
                         s[i - 1]->name, s[i]->name);
    free(s);
    return rc;
}

/* Counts the header's entries before jansson builds a node for each: a
 * header of a few dozen MB holding millions of tiny entries would take
 * gigabytes as a JSON tree. Only the structure is looked at (strings are
 * skipped, escapes included); jansson checks the JSON itself afterwards.
 * Refused: more top-level keys than ST_MAX_TENSORS tensors and
 * __metadata__, a second-level object (a tensor's fields, or the metadata)
 * of more than ST_MAX_META keys, and more values in all than that many
 * tensors and metadata entries can hold (ST_MAX_VALUES; values counted as
 * containers plus commas). */
static int prescan_header(const char *buf, size_t len, const char *path, ae_error *err)
{
    size_t depth = 0, top_keys = 0, inner_keys = 0, values = 1;
    size_t key_at = 0, key_len = 0;     /* the last top-level key, raw */
    size_t str_at = 0, str_len = 0;     /* the last string */
    for (size_t i = 0; i < len; i++) {
        switch (buf[i]) {
        case '"':
            str_at = i + 1;
            for (i++; i < len && buf[i] != '"'; i++)
                if (buf[i] == '\\') i++;
            str_len = (i < len ? i : len) - str_at;
            break;
        case '{':
        case '[':
            depth++;
            values++;
            if (depth == 2) inner_keys = 0;
            break;
        case '}':
        case ']':
            if (depth > 0) depth--;
            break;
        case ',':
            values++;
            break;
        case ':':
            if (depth == 1) {
                key_at = str_at;
                key_len = str_len;
                if (++top_keys > ST_MAX_TENSORS + 1)
                    return ae_fail(err, "%s: header lists more than %d tensors (the limit)", path,
                                   ST_MAX_TENSORS);
            } else if (depth == 2 && ++inner_keys > ST_MAX_META) {
                char key[64]; /* as written, control bytes shown as '?' */
                size_t n = key_len < sizeof key - 1 ? key_len : sizeof key - 1;
                for (size_t k = 0; k < n; k++)
                    key[k] = (unsigned char)buf[key_at + k] < 0x20 ? '?' : buf[key_at + k];
                key[n] = '\0';
                return ae_fail(err, "%s: header entry \"%s\" has more than %d keys (at most %d "
                               "metadata entries)", path, key, ST_MAX_META, ST_MAX_META);
            }
            break;
        default:
            break;
        }
        if (values > ST_MAX_VALUES)
            return ae_fail(err, "%s: header holds more than %d JSON values (more than %d tensors "
                           "and %d metadata entries need)", path, ST_MAX_VALUES, ST_MAX_TENSORS,
                           ST_MAX_META);
    }
    return 0;
}

/* Parses and checks the JSON header; fills tensors and metadata. */
static int parse_header(st_file *f, const char *buf, size_t len, size_t data_size,
                        const char *path, ae_error *err)
{
    if (prescan_header(buf, len, path, err) != 0) return -1;
    json_error_t jerr;
    /* JSON_REJECT_DUPLICATES: jansson would otherwise keep the last of two
     * equal keys silently. */
    json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return ae_fail(err, "%s: header is not valid JSON: %s (header byte %d)", path, jerr.text,
                       jerr.position);
    int rc = 0;
    if (!json_is_object(root)) {
        rc = ae_fail(err, "%s: header is not a JSON object", path);
        goto done;
    }
    size_t n = json_object_size(root);
    if (n - (json_object_get(root, "__metadata__") != NULL) > ST_MAX_TENSORS) {
        rc = ae_fail(err, "%s: header lists more than %d tensors (the limit)", path, ST_MAX_TENSORS);
        goto done;
    }
    if (n > 0) {
        f->tensors = calloc(n, sizeof *f->tensors);
        if (!f->tensors) {
            rc = ae_fail(err, "%s: out of memory for %zu tensors", path, n);
            goto done;
        }
    }
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v) {
        if (strcmp(key, "__metadata__") == 0)
            rc = parse_metadata(f, v, path, err);
        else if ((rc = parse_tensor(&f->tensors[f->count], key, v, data_size, path, err)) == 0)
            f->count++;
        if (rc != 0) goto done;
    }
    rc = check_overlap(f, path, err);
done:
    json_decref(root);
    return rc;
}

static int read_exact(FILE *fp, void *buf, size_t n, const char *path, ae_error *err)
{
    if (n > 0 && fread(buf, 1, n, fp) != n)
        return ae_fail(err, "%s: read failed: %s", path,
                       ferror(fp) ? strerror(errno) : "unexpected end of file");
    return 0;
}

/* Reads and checks the header of a file of fsize bytes; fp is then at the data section. */
static int read_header(st_file *f, FILE *fp, uint64_t fsize, const char *path, ae_error *err)
{
    if (fsize < 8)
        return ae_fail(err, "%s: not a safetensors file (%llu bytes, shorter than the 8-byte "
                       "header length)", path, (unsigned long long)fsize);

    unsigned char lenbuf[8];
    if (read_exact(fp, lenbuf, 8, path, err)) return -1;
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = hlen << 8 | lenbuf[i];
    if (hlen > ST_MAX_HEADER)
        return ae_fail(err, "%s: header length %llu exceeds the 100 MB limit (not a "
                       "safetensors file?)", path, (unsigned long long)hlen);
    if (hlen > fsize - 8)
        return ae_fail(err, "%s: header length %llu exceeds the file size %llu (truncated?)",
                       path, (unsigned long long)hlen, (unsigned long long)fsize);
    if (fsize - 8 - hlen > SIZE_MAX)
        return ae_fail(err, "%s: data section too large for this machine", path);
    size_t data_size = (size_t)(fsize - 8 - hlen);

    char *hdr = malloc(hlen ? (size_t)hlen : 1);
    if (!hdr) return ae_fail(err, "%s: out of memory for the %llu-byte header", path,
                             (unsigned long long)hlen);
    int rc = read_exact(fp, hdr, (size_t)hlen, path, err);
    if (rc == 0) rc = parse_header(f, hdr, (size_t)hlen, data_size, path, err);
    free(hdr);
    return rc;
}

int st_read_header(st_file *f, const char *path, ae_error *err)
{
    memset(f, 0, sizeof *f);
    snprintf(f->path, sizeof f->path, "%s", path);
    FILE *fp = ae_open_file(path, err);
    if (!fp) return -1;
    struct stat st;
    int rc = 0;
    if (fstat(fileno(fp), &st) != 0)
        rc = ae_fail(err, "%s: cannot stat: %s", path, strerror(errno));
    else if (!S_ISREG(st.st_mode))
        rc = ae_fail(err, "%s: not a regular file", path);
    else
        rc = read_header(f, fp, (uint64_t)st.st_size, path, err);
    if (rc != 0) {
        fclose(fp);
        st_free(f);
        return -1;
    }
    f->fp = fp;
    return 0;
}

int st_read_header_memory(st_file *f, const void *bytes, size_t size, const char *path, ae_error *err)
{
    memset(f, 0, sizeof *f);
    snprintf(f->path, sizeof f->path, "%s", path);
    FILE *fp = size ? fmemopen((void *)bytes, size, "rb") : NULL;
    if (!fp) return ae_fail(err, "%s: %s", path, size ? "cannot read it from memory" : "an empty file");
    if (read_header(f, fp, (uint64_t)size, path, err) != 0) {
        fclose(fp);
        st_free(f);
        return -1;
    }
    f->fp = fp;
    return 0;
}

int st_read_data(st_file *f, ae_error *err)
{
    if (f->data) return 0;
    if (!f->fp) return ae_fail(err, "%s: the file is not open for its data", f->path);
    /* Only now, with every tensor checked, allocate the data section, up to
     * the last tensor's end: bytes after it are allowed, and not read. */
    size_t need = 0;
    for (int i = 0; i < f->count; i++)
        if (f->tensors[i].end > need) need = f->tensors[i].end;
    f->data = malloc(need ? need : 1);
    int rc = f->data ? read_exact(f->fp, f->data, need, f->path, err)
                     : ae_fail(err, "%s: out of memory for the %zu-byte data section", f->path, need);
    f->data_size = need;
    fclose(f->fp);
    f->fp = NULL;
    return rc;
}

int st_read(st_file *f, const char *path, ae_error *err)
{
    if (st_read_header(f, path, err) != 0) return -1;
    if (st_read_data(f, err) != 0) {
        st_free(f);
        return -1;
    }
    return 0;
}

int st_from_tensors(st_file *f, const ae_tensor *t, int count, const char *origin, ae_error *err)
{
    memset(f, 0, sizeof *f);
    if (!origin) origin = "tensors";
    snprintf(f->path, sizeof f->path, "%s", origin);
    if (count > 0 && !t) return ae_fail(err, "%s: %d tensors given, but no array of them", origin, count);
    if (count < 0 || count > ST_MAX_TENSORS)
        return ae_fail(err, "%s: %d tensors (0 to %d)", origin, count, ST_MAX_TENSORS);
    f->tensors = calloc((size_t)count + 1, sizeof *f->tensors);
    if (!f->tensors) return ae_fail(err, "%s: out of memory", origin);
    size_t total = 0;
    for (int i = 0; i < count; i++) {
        st_tensor *s = &f->tensors[i];
        size_t len = strnlen(t[i].name, sizeof t[i].name);
        if (len == 0 || len == sizeof t[i].name) {
            st_free(f);
            return ae_fail(err, "%s: tensor %d: the name is empty or not terminated within %d bytes", origin,
                           i, AE_TENSOR_NAME_MAX);
        }
        memcpy(s->name, t[i].name, len + 1);
        f->count = i;   /* the ones before */
        if (st_find(f, s->name)) {
            st_free(f);
            return ae_fail(err, "%s: tensor '%s' is given twice", origin, t[i].name);
        }
        s->dtype = ST_F32;
        s->ndim = t[i].ndim;
        if (s->ndim < 1 || s->ndim > 4 || shape_numel(t[i].shape, s->ndim, 4, &s->numel) ||
            s->numel > (SIZE_MAX - total) / 4 || (s->numel && !t[i].data)) {
            st_free(f);
            return ae_fail(err, "%s: tensor '%s': bad shape or no data (1 to 4 dimensions, sizes >= 0)", origin,
                           t[i].name);
        }
        for (int d = 0; d < s->ndim; d++) s->shape[d] = t[i].shape[d];
        s->begin = total;
        s->end = total += 4 * s->numel;
    }
    f->count = count;
    f->data = malloc(total ? total : 1);
    if (!f->data) {
        st_free(f);
        return ae_fail(err, "%s: out of memory for %zu bytes of tensors", origin, total);
    }
    f->data_size = total;
    for (int i = 0; i < count; i++)
        if (f->tensors[i].numel) memcpy(f->data + f->tensors[i].begin, t[i].data, 4 * f->tensors[i].numel);
    return 0;
}

void st_free(st_file *f)
{
    if (!f) return;
    for (int i = 0; i < f->nmeta; i++) {
        free(f->meta_keys[i]);
        free(f->meta_vals[i]);
    }
    free(f->meta_keys);
    free(f->meta_vals);
    free(f->tensors);
    free(f->data);
    if (f->fp) fclose(f->fp);
    memset(f, 0, sizeof *f);
}

const st_tensor *st_find(const st_file *f, const char *name)
{
    for (int i = 0; i < f->count; i++)
        if (strcmp(f->tensors[i].name, name) == 0) return &f->tensors[i];
    return NULL;
}

const char *st_meta(const st_file *f, const char *key)
{
    for (int i = 0; i < f->nmeta; i++)
        if (strcmp(f->meta_keys[i], key) == 0) return f->meta_vals[i];
    return NULL;
}

/* ---- conversion ------------------------------------------------------------ */

static float bits_to_f32(uint32_t u)
{
    float x;
    memcpy(&x, &u, 4);
    return x;
}

/* IEEE half -> float, exact for every input: subnormals are renormalised,
 * inf stays inf, NaN keeps its payload. */
static float f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h >> 15) << 31;
    uint32_t exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
    if (exp == 0x1f) return bits_to_f32(sign | 0x7f800000u | mant << 13);
    if (exp == 0) {
        if (mant == 0) return bits_to_f32(sign);
        /* Subnormal: value mant * 2^-24; shift until the implicit bit shows. */
        int e = -14;
        while (!(mant & 0x400)) {
            mant <<= 1;
            e--;
        }
        return bits_to_f32(sign | (uint32_t)(e + 127) << 23 | (mant & 0x3ff) << 13);
    }
    return bits_to_f32(sign | (exp - 15 + 127) << 23 | mant << 13);
}

static const st_tensor *get_checked(const st_file *f, const char *name, size_t count,
                                    ae_error *err)
{
    const st_tensor *t = st_find(f, name);
    if (!t) {
        ae_fail(err, "%s: no tensor \"%s\"", f->path, name);
        return NULL;
    }
    if (t->numel != count) {
        ae_fail(err, "%s: tensor \"%s\" has %zu elements, expected %zu", f->path, name,
                t->numel, count);
        return NULL;
    }
    return t;
}

int st_get_f32(const st_file *f, const char *name, float *dst, size_t count, ae_error *err)
{
    const st_tensor *t = get_checked(f, name, count, err);
    if (!t) return -1;
    const uint8_t *p = f->data + t->begin; /* possibly unaligned: memcpy */
    switch (t->dtype) {
    case ST_F32:
        if (count) memcpy(dst, p, count * 4);
        return 0;
    case ST_F64:
        for (size_t i = 0; i < count; i++) {
            double d;
            memcpy(&d, p + 8 * i, 8);
            dst[i] = (float)d;
        }
        return 0;
    case ST_F16:
    case ST_BF16:
        for (size_t i = 0; i < count; i++) {
            uint16_t h;
            memcpy(&h, p + 2 * i, 2);
            dst[i] = t->dtype == ST_F16 ? f16_to_f32(h) : bits_to_f32((uint32_t)h << 16);
        }
        return 0;
    default:
        return ae_fail(err, "%s: tensor \"%s\" has dtype %s, expected a float type (F32, F64, "
                       "F16 or BF16)", f->path, name, dtypes[t->dtype].name);
    }
}

int st_get_u8(const st_file *f, const char *name, uint8_t *dst, size_t count, ae_error *err)
{
    const st_tensor *t = get_checked(f, name, count, err);
    if (!t) return -1;
    if (t->dtype != ST_U8)
        return ae_fail(err, "%s: tensor \"%s\" has dtype %s, expected U8", f->path, name,
                       dtypes[t->dtype].name);
    if (count) memcpy(dst, f->data + t->begin, count);
    return 0;
}

/* ---- writing --------------------------------------------------------------- */

/* Checks one output tensor and returns its size in bytes through *bytes. */
static int check_out(const st_out_tensor *t, const st_out_tensor *all, int idx,
                     const char *path, size_t *bytes, ae_error *err)
{
    if (!t->name || !t->name[0])
        return ae_fail(err, "%s: tensor %d has no name", path, idx);
    if (strlen(t->name) > 255)
        return ae_fail(err, "%s: tensor name longer than 255 bytes: \"%.40s...\"", path, t->name);
    if (strcmp(t->name, "__metadata__") == 0)
        return ae_fail(err, "%s: \"__metadata__\" is reserved, not a tensor name", path);
    for (int j = 0; j < idx; j++)
        if (strcmp(all[j].name, t->name) == 0)
            return ae_fail(err, "%s: tensor \"%s\" given twice", path, t->name);
    if (!dtype_valid(t->dtype))
        return ae_fail(err, "%s: tensor \"%s\": invalid dtype %d", path, t->name, (int)t->dtype);
    if (t->ndim < 0 || t->ndim > ST_MAX_DIMS)
        return ae_fail(err, "%s: tensor \"%s\": %d dimensions (0 to %d supported)", path,
                       t->name, t->ndim, ST_MAX_DIMS);
    size_t numel;
    if (shape_numel(t->shape, t->ndim, dtypes[t->dtype].size, &numel) != 0)
        return ae_fail(err, "%s: tensor \"%s\": negative or overflowing shape", path, t->name);
    *bytes = numel * dtypes[t->dtype].size;
    if (*bytes && !t->data)
        return ae_fail(err, "%s: tensor \"%s\": no data", path, t->name);
    return 0;
}

static json_t *tensor_json(const st_out_tensor *t, size_t begin, size_t end)
{
    json_t *o = json_object(), *shape = json_array(), *off = json_array();
    int bad = !o || !shape || !off;
    for (int i = 0; !bad && i < t->ndim; i++)
        bad = json_array_append_new(shape, json_integer((json_int_t)t->shape[i])) != 0;
    bad = bad || json_array_append_new(off, json_integer((json_int_t)begin)) != 0 ||
          json_array_append_new(off, json_integer((json_int_t)end)) != 0;
    /* Key order as the reference writer: dtype, shape, data_offsets. */
    bad = bad || json_object_set_new(o, "dtype", json_string(dtypes[t->dtype].name)) != 0;
    bad = bad || json_object_set(o, "shape", shape) != 0 ||
          json_object_set(o, "data_offsets", off) != 0;
    json_decref(shape);
    json_decref(off);
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* Builds the header JSON, padded with spaces to a multiple of 8 bytes (as
 * the reference implementation does, so the data section is aligned). */
static char *build_header(const char *path, const st_out_tensor *t, int count,
                          const size_t *bytes, const char *const *meta, int nmeta,
                          size_t *hlen, ae_error *err)
{
    json_t *root = json_object();
    if (!root) {
        ae_fail(err, "%s: out of memory", path);
        return NULL;
    }
    if (nmeta > 0) { /* first, as the reference implementation writes it */
        json_t *m = json_object();
        if (!m || json_object_set_new(root, "__metadata__", m) != 0) {
            json_decref(root);
            ae_fail(err, "%s: out of memory", path);
            return NULL;
        }
        for (int i = 0; i < nmeta; i++) {
            const char *k = meta[2 * i], *v = meta[2 * i + 1];
            if (!k || !v) {
                ae_fail(err, "%s: metadata pair %d has a NULL key or value", path, i);
                goto fail;
            }
            if (json_object_get(m, k)) {
                ae_fail(err, "%s: metadata key \"%.100s\" given twice", path, k);
                goto fail;
            }
            json_t *s = json_string(v);
            if (!s) { /* jansson rejects invalid UTF-8 */
                ae_fail(err, "%s: metadata \"%.100s\" is not valid UTF-8", path, k);
                goto fail;
            }
            if (json_object_set_new(m, k, s) != 0) {
                ae_fail(err, "%s: metadata key \"%.100s\" is not valid UTF-8", path, k);
                goto fail;
            }
        }
    }
    size_t off = 0;
    for (int i = 0; i < count; i++) {
        json_t *o = tensor_json(&t[i], off, off + bytes[i]);
        if (!o) {
            ae_fail(err, "%s: out of memory", path);
            goto fail;
        }
        if (json_object_set_new(root, t[i].name, o) != 0) {
            ae_fail(err, "%s: tensor name \"%s\" is not valid UTF-8", path, t[i].name);
            goto fail;
        }
        off += bytes[i];
    }
    char *s = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (!s) {
        ae_fail(err, "%s: cannot encode the header", path);
        return NULL;
    }
    size_t n = strlen(s), padded = (n + 7) / 8 * 8;
    char *out = realloc(s, padded + 1);
    if (!out) {
        free(s);
        ae_fail(err, "%s: out of memory", path);
        return NULL;
    }
    memset(out + n, ' ', padded - n);
    out[padded] = '\0';
    *hlen = padded;
    return out;
fail:
    json_decref(root);
    return NULL;
}

int st_write(const char *path, const st_out_tensor *t, int count, const char *const *meta,
             int nmeta, ae_error *err)
{
    if (count < 0 || nmeta < 0 || (count > 0 && !t) || (nmeta > 0 && !meta))
        return ae_fail(err, "%s: invalid tensor or metadata list", path);
    /* what st_read would refuse */
    if (count > ST_MAX_TENSORS)
        return ae_fail(err, "%s: %d tensors (at most %d)", path, count, ST_MAX_TENSORS);
    if (nmeta > ST_MAX_META)
        return ae_fail(err, "%s: %d metadata entries (at most %d)", path, nmeta, ST_MAX_META);
    size_t *bytes = calloc(count ? (size_t)count : 1, sizeof *bytes);
    if (!bytes) return ae_fail(err, "%s: out of memory", path);
    size_t total = 0;
    for (int i = 0; i < count; i++) {
        if (check_out(&t[i], t, i, path, &bytes[i], err) != 0) goto fail;
        if (bytes[i] > SIZE_MAX - total) {
            ae_fail(err, "%s: total tensor size overflows", path);
            goto fail;
        }
        total += bytes[i];
    }
    size_t hlen;
    char *hdr = build_header(path, t, count, bytes, meta, nmeta, &hlen, err);
    if (!hdr) goto fail;

    ae_atomic_file af;
    if (ae_atomic_open(&af, path, err) != 0) {
        free(hdr);
        goto fail;
    }
    unsigned char lenbuf[8];
    for (int i = 0; i < 8; i++) lenbuf[i] = (unsigned char)((uint64_t)hlen >> (8 * i));
    int ok = fwrite(lenbuf, 1, 8, af.f) == 8 && fwrite(hdr, 1, hlen, af.f) == hlen;
    for (int i = 0; ok && i < count; i++)
        ok = bytes[i] == 0 || fwrite(t[i].data, 1, bytes[i], af.f) == bytes[i];
    free(hdr);
    free(bytes);
    if (!ok) {
        int e = errno;
        ae_atomic_abort(&af);
        return ae_fail(err, "%s: write failed: %s", path, e ? strerror(e) : "I/O error");
    }
    return ae_atomic_commit(&af, err);
fail:
    free(bytes);
    return -1;
}
