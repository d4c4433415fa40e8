/* safetensors: round trip, byte-exact layout, dtype conversion, and a list
 * of hostile files that must each be rejected with a message naming them. */
#define _POSIX_C_SOURCE 200809L
#include "format/safetensors.h"
#include "peak_rss.h"
#include "test.h"
#include "scratch.h"

#include <dirent.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

static void put_raw(const char *path, const void *bytes, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f) { perror(path); exit(2); }
    if (n) fwrite(bytes, 1, n, f);
    fclose(f);
}

/* A file with an explicit header length, header text and data section. */
static void put_st_len(const char *path, uint64_t hlen, const char *json, const void *data,
                       size_t ndata)
{
    size_t jn = strlen(json);
    unsigned char *buf = malloc(8 + jn + ndata + 1);
    for (int i = 0; i < 8; i++) buf[i] = (unsigned char)(hlen >> (8 * i));
    memcpy(buf + 8, json, jn);
    if (ndata) memcpy(buf + 8 + jn, data, ndata);
    put_raw(path, buf, 8 + jn + ndata);
    free(buf);
}

static void put_st(const char *path, const char *json, const void *data, size_t ndata)
{
    put_st_len(path, strlen(json), json, data, ndata);
}

static unsigned char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)sz + 1);
    *n = fread(b, 1, (size_t)sz, f);
    fclose(f);
    return b;
}

/* ---- round trip ------------------------------------------------------------ */

static void test_round_trip(void)
{
    const char *path = tmp_path("rt.safetensors");
    float w[6] = {1.0f, -0.0f, 3.5e-40f /* subnormal */, INFINITY, -2.25f, 1e30f};
    float w2[1] = {0.125f};
    uint8_t u[5] = {0, 1, 127, 200, 255};
    st_out_tensor t[4] = {
        {.name = "enc.weight", .dtype = ST_F32, .data = w, .ndim = 2, .shape = {2, 3}},
        {.name = "labels", .dtype = ST_U8, .data = u, .ndim = 1, .shape = {5}},
        {.name = "scalar", .dtype = ST_F32, .data = w2, .ndim = 0},
        {.name = "empty", .dtype = ST_F32, .data = NULL, .ndim = 2, .shape = {0, 4}},
    };
    const char *meta[] = {"format", "aekit", "note", "h\xc3\xa9llo \"quoted\"\n"};
    ae_error err = {{0}};
    CHECK(st_write(path, t, 4, meta, 2, &err) == 0, "%s", err.msg);

    size_t n;
    unsigned char *raw = slurp(path, &n);
    CHECK(raw && n >= 8, "file written");
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = hlen << 8 | raw[i];
    CHECK(hlen % 8 == 0, "header length %llu is a multiple of 8", (unsigned long long)hlen);
    CHECK(n == 8 + hlen + 24 + 5 + 4, "file size %zu", n);
    CHECK(memcmp(raw + 8, "{\"__metadata__\":", 16) == 0, "metadata first");
    free(raw);

    st_file f;
    CHECK(st_read(&f, path, &err) == 0, "%s", err.msg);
    CHECK(f.count == 4, "count %d", f.count);
    if (f.count == 4) {
        CHECK(strcmp(f.tensors[0].name, "enc.weight") == 0, "order kept");
        CHECK(strcmp(f.tensors[3].name, "empty") == 0, "order kept");
        CHECK(f.tensors[0].ndim == 2 && f.tensors[0].shape[0] == 2 && f.tensors[0].shape[1] == 3,
              "shape");
        CHECK(f.tensors[2].ndim == 0 && f.tensors[2].numel == 1, "scalar");
        CHECK(f.tensors[3].numel == 0 && f.tensors[3].shape[1] == 4, "empty tensor");
        CHECK(f.tensors[1].dtype == ST_U8, "dtype");
    }
    float back[6];
    CHECK(st_get_f32(&f, "enc.weight", back, 6, &err) == 0, "%s", err.msg);
    CHECK(memcmp(back, w, sizeof w) == 0, "F32 bits identical");
    uint8_t ub[5];
    CHECK(st_get_u8(&f, "labels", ub, 5, &err) == 0, "%s", err.msg);
    CHECK(memcmp(ub, u, 5) == 0, "U8 identical");
    CHECK(st_get_f32(&f, "scalar", back, 1, &err) == 0 && back[0] == 0.125f, "scalar value");
    CHECK(st_get_f32(&f, "empty", back, 0, &err) == 0, "%s", err.msg);
    CHECK(st_meta(&f, "format") && strcmp(st_meta(&f, "format"), "aekit") == 0, "meta");
    CHECK(st_meta(&f, "note") && strcmp(st_meta(&f, "note"), meta[3]) == 0, "meta escaped");
    CHECK(st_meta(&f, "nope") == NULL, "missing meta");
    CHECK(st_find(&f, "missing") == NULL, "st_find missing");

    /* Wrong count and wrong dtype fail naming file and tensor. */
    err.msg[0] = 0;
    CHECK(st_get_f32(&f, "enc.weight", back, 5, &err) == -1, "wrong count");
    CHECK(strstr(err.msg, "enc.weight") && strstr(err.msg, path), "msg: %s", err.msg);
    err.msg[0] = 0;
    CHECK(st_get_f32(&f, "labels", back, 5, &err) == -1, "U8 as float");
    CHECK(strstr(err.msg, "labels") && strstr(err.msg, path), "msg: %s", err.msg);
    err.msg[0] = 0;
    CHECK(st_get_u8(&f, "enc.weight", ub, 6, &err) == -1, "F32 as U8");
    CHECK(strstr(err.msg, "enc.weight"), "msg: %s", err.msg);
    err.msg[0] = 0;
    CHECK(st_get_f32(&f, "missing", back, 1, &err) == -1, "missing tensor");
    CHECK(strstr(err.msg, "missing") && strstr(err.msg, path), "msg: %s", err.msg);
    st_free(&f);
    st_free(&f); /* idempotent */
}

/* The exact bytes for a tiny case worked out by hand. */
static void test_byte_exact(void)
{
    const char *path = tmp_path("exact.safetensors");
    float v[2] = {1.0f, -2.0f};
    uint8_t b[3] = {7, 8, 9};
    st_out_tensor t[2] = {
        {.name = "a", .dtype = ST_F32, .data = v, .ndim = 1, .shape = {2}},
        {.name = "b", .dtype = ST_U8, .data = b, .ndim = 2, .shape = {1, 3}},
    };
    const char *meta[] = {"k", "v"};
    ae_error err = {{0}};
    CHECK(st_write(path, t, 2, meta, 1, &err) == 0, "%s", err.msg);

    /* 134 bytes of JSON, padded with 2 spaces to 136 = 0x88. */
    const char json[] = "{\"__metadata__\":{\"k\":\"v\"},"
                        "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                        "\"b\":{\"dtype\":\"U8\",\"shape\":[1,3],\"data_offsets\":[8,11]}}";
    CHECK(strlen(json) == 134, "hand-computed length %zu", strlen(json));
    unsigned char want[8 + 136 + 11];
    memcpy(want, "\x88\0\0\0\0\0\0\0", 8);
    memcpy(want + 8, json, 134);
    memset(want + 8 + 134, ' ', 2);
    memcpy(want + 144, "\x00\x00\x80\x3f\x00\x00\x00\xc0\x07\x08\x09", 11);
    size_t n;
    unsigned char *got = slurp(path, &n);
    CHECK(got && n == sizeof want, "size %zu", n);
    if (got && n == sizeof want) CHECK(memcmp(got, want, n) == 0, "bytes identical");
    free(got);

    /* No metadata: no "__metadata__" key at all. */
    CHECK(st_write(path, t, 1, NULL, 0, &err) == 0, "%s", err.msg);
    got = slurp(path, &n);
    CHECK(got && n == 8 + 56 + 8 && memcmp(got + 8, "{\"a\":", 5) == 0, "no metadata key");
    free(got);
}

/* ---- conversions ----------------------------------------------------------- */

/* Reference half -> float by arithmetic, independent of the bit tricks. */
static float ref_f16(uint16_t h)
{
    int s = h >> 15, e = (h >> 10) & 31, m = h & 1023;
    float v;
    if (e == 31) v = m ? NAN : INFINITY;
    else if (e == 0) v = ldexpf((float)m, -24);
    else v = ldexpf((float)(m + 1024), e - 25);
    return s ? -v : v;
}

static void test_conversions(void)
{
    const char *path = tmp_path("conv.safetensors");
    ae_error err = {{0}};
    /* Every F16 value, plus BF16 and F64 samples, in one hand-built file. */
    uint16_t *h = malloc(65536 * 2);
    for (uint32_t i = 0; i < 65536; i++) h[i] = (uint16_t)i;
    uint16_t bf[5] = {0x3F80, 0xC049, 0x7F80, 0x7FC0, 0x0001};
    double d[4] = {1.5, -1e-3, 1e300, 3.0};
    size_t nd = 131072 + 10 + 32;
    unsigned char *data = malloc(nd);
    memcpy(data, h, 131072);
    memcpy(data + 131072, bf, 10);
    memcpy(data + 131082, d, 32); /* deliberately unaligned */
    put_st(path,
           "{\"h\":{\"dtype\":\"F16\",\"shape\":[256,256],\"data_offsets\":[0,131072]},"
           "\"bf\":{\"dtype\":\"BF16\",\"shape\":[5],\"data_offsets\":[131072,131082]},"
           "\"d\":{\"dtype\":\"F64\",\"shape\":[2,2],\"data_offsets\":[131082,131114]}}",
           data, nd);
    free(data);

    st_file f;
    CHECK(st_read(&f, path, &err) == 0, "%s", err.msg);
    float *out = malloc(65536 * sizeof *out);
    CHECK(st_get_f32(&f, "h", out, 65536, &err) == 0, "%s", err.msg);
    int bad = 0;
    for (uint32_t i = 0; i < 65536; i++) {
        float r = ref_f16((uint16_t)i);
        int same = isnan(r) ? isnan(out[i]) : (out[i] == r && !signbit(out[i]) == !signbit(r));
        if (!same && bad++ < 5) fprintf(stderr, "F16 0x%04x: got %g want %g\n", i, out[i], r);
    }
    CHECK(bad == 0, "%d F16 values wrong", bad);
    CHECK(out[0x3C00] == 1.0f && out[0xC000] == -2.0f && out[0x7BFF] == 65504.0f, "F16 samples");
    CHECK(out[0x0001] == ldexpf(1, -24) && out[0x03FF] == ldexpf(1023, -24), "F16 subnormals");
    CHECK(isinf(out[0xFC00]) && out[0xFC00] < 0 && isnan(out[0x7E00]), "F16 inf/nan");
    CHECK(out[0x8000] == 0 && signbit(out[0x8000]), "F16 -0");

    float b[5];
    CHECK(st_get_f32(&f, "bf", b, 5, &err) == 0, "%s", err.msg);
    CHECK(b[0] == 1.0f && b[1] == -3.140625f && isinf(b[2]) && isnan(b[3]), "BF16 values");
    CHECK(b[4] == ldexpf(1, -133), "BF16 subnormal %g", b[4]);
    float dv[4];
    CHECK(st_get_f32(&f, "d", dv, 4, &err) == 0, "%s", err.msg);
    CHECK(dv[0] == 1.5f && dv[1] == (float)-1e-3 && isinf(dv[2]) && dv[3] == 3.0f, "F64 values");
    free(out);
    free(h);
    st_free(&f);
}

/* ---- hostile files --------------------------------------------------------- */

/* Expects st_read to fail with a message naming the file (and `also`). */
static void expect_reject(const char *path, const char *also, const char *what)
{
    st_file f;
    ae_error err = {{0}};
    int rc = st_read(&f, path, &err);
    CHECK(rc == -1, "%s: accepted", what);
    CHECK(strstr(err.msg, path) != NULL, "%s: message lacks path: %s", what, err.msg);
    if (also) CHECK(strstr(err.msg, also) != NULL, "%s: message lacks '%s': %s", what, also,
                    err.msg);
    CHECK(f.tensors == NULL && f.data == NULL && f.count == 0 && f.meta_keys == NULL,
          "%s: left allocations", what);
    st_free(&f);
}

#define T(name, dt, shape, off) "\"" name "\":{\"dtype\":\"" dt "\",\"shape\":" shape \
                                ",\"data_offsets\":" off "}"

static void test_hostile(void)
{
    const char *p = tmp_path("bad.safetensors");
    unsigned char zeros[64] = {0};

    put_raw(p, "", 0);
    expect_reject(p, NULL, "empty file");
    put_raw(p, "\x08\0\0\0\0\0\0", 7);
    expect_reject(p, NULL, "7-byte file");
    put_st_len(p, 100, "{}", zeros, 8);
    expect_reject(p, "header length", "header longer than file");
    put_st_len(p, (uint64_t)1 << 63, "{}", NULL, 0);
    expect_reject(p, "header length", "header length 2^63");
    put_st_len(p, UINT64_MAX, "{}", NULL, 0);
    expect_reject(p, "header length", "header length 2^64-1");
    put_st(p, "{\"a\":", NULL, 0);
    expect_reject(p, "JSON", "invalid JSON");
    put_st(p, "{} x", NULL, 0);
    expect_reject(p, "JSON", "trailing garbage");
    put_st(p, "[1,2]", NULL, 0);
    expect_reject(p, "object", "JSON array");
    put_st(p, "", NULL, 0);
    expect_reject(p, "JSON", "empty header");
    put_st(p, "{" T("w", "F8", "[1]", "[0,1]") "}", zeros, 1);
    expect_reject(p, "\"w\"", "unknown dtype");
    put_st(p, "{\"w\":{\"shape\":[1],\"data_offsets\":[0,1]}}", zeros, 1);
    expect_reject(p, "\"w\"", "missing dtype");
    put_st(p, "{\"w\":[1,2]}", zeros, 1);
    expect_reject(p, "\"w\"", "tensor not an object");
    put_st(p, "{" T("w", "U8", "[-1]", "[0,0]") "}", NULL, 0);
    expect_reject(p, "\"w\"", "negative shape");
    put_st(p, "{" T("w", "U8", "[2.0]", "[0,2]") "}", zeros, 2);
    expect_reject(p, "\"w\"", "non-integer shape");
    put_st(p, "{" T("w", "U8", "[\"2\"]", "[0,2]") "}", zeros, 2);
    expect_reject(p, "\"w\"", "string shape");
    put_st(p, "{" T("w", "U8", "[1,1,1,1,1,1,1,1,1]", "[0,1]") "}", zeros, 1);
    expect_reject(p, "\"w\"", "too many dims");
    put_st(p, "{" T("w", "F32", "[1099511627776,1099511627776]", "[0,0]") "}", NULL, 0);
    expect_reject(p, "\"w\"", "shape overflow");
    put_st(p, "{" T("w", "F64", "[4611686018427387904]", "[0,0]") "}", NULL, 0);
    expect_reject(p, "\"w\"", "byte size overflow");
    put_st(p, "{" T("w", "F32", "[4]", "[0,16]") "}", zeros, 8);
    expect_reject(p, "\"w\"", "offsets outside data");
    put_st(p, "{" T("w", "F32", "[2]", "[0,4]") "}", zeros, 8);
    expect_reject(p, "\"w\"", "offsets not matching shape");
    put_st(p, "{" T("w", "F32", "[2]", "[0]") "}", zeros, 8);
    expect_reject(p, "\"w\"", "one offset");
    put_st(p, "{" T("w", "F32", "[2]", "[-8,0]") "}", zeros, 8);
    expect_reject(p, "\"w\"", "negative offset");
    put_st(p, "{" T("w", "U8", "[0]", "[8,0]") "}", zeros, 8);
    expect_reject(p, "\"w\"", "begin > end");
    put_st(p, "{" T("a", "F32", "[2]", "[0,8]") "," T("b", "F32", "[2]", "[4,12]") "}", zeros, 12);
    expect_reject(p, "overlap", "overlapping tensors");
    put_st(p, "{" T("b", "F32", "[2]", "[4,12]") "," T("a", "U8", "[8]", "[0,8]") "}", zeros, 12);
    expect_reject(p, "overlap", "overlapping tensors, unsorted");
    put_st(p, "{" T("a", "U8", "[1]", "[0,1]") "," T("a", "U8", "[1]", "[1,2]") "}", zeros, 2);
    expect_reject(p, "duplicate", "duplicate key");
    put_st(p, "{\"__metadata__\":{\"k\":1}}", NULL, 0);
    expect_reject(p, "\"k\"", "metadata value not a string");
    put_st(p, "{\"__metadata__\":[\"k\"]}", NULL, 0);
    expect_reject(p, "__metadata__", "metadata not an object");

    char big[400];
    snprintf(big, sizeof big, "{\"%0256d\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}",
             0);
    put_st(p, big, zeros, 1);
    expect_reject(p, "name", "name of 256 bytes");
    expect_reject(tmp_path("does-not-exist.safetensors"), NULL, "missing file");
    expect_reject(scratch_dir, NULL, "a folder");

    /* Files from other writers: unpadded header, holes, zero-size tensors. */
    put_st(p, "{" T("b", "U8", "[2]", "[6,8]") "," T("z", "F32", "[0]", "[6,6]") ","
              T("a", "U8", "[3]", "[0,3]") "}", "abcdefgh", 8);
    st_file f;
    ae_error err = {{0}};
    CHECK(st_read(&f, p, &err) == 0, "foreign file: %s", err.msg);
    uint8_t got[2];
    CHECK(st_get_u8(&f, "b", got, 2, &err) == 0 && got[0] == 'g' && got[1] == 'h', "%s", err.msg);
    st_free(&f);
    put_st(p, "{}", NULL, 0);
    CHECK(st_read(&f, p, &err) == 0 && f.count == 0 && f.nmeta == 0, "empty header: %s", err.msg);
    st_free(&f);
}

/* ---- writer argument checks ------------------------------------------------ */

static void expect_write_fail(const char *path, const st_out_tensor *t, int count,
                              const char *const *meta, int nmeta, const char *what)
{
    ae_error err = {{0}};
    CHECK(st_write(path, t, count, meta, nmeta, &err) == -1, "%s: accepted", what);
    CHECK(strstr(err.msg, path) != NULL, "%s: message lacks path: %s", what, err.msg);
}

static void test_write_errors(void)
{
    float v[2] = {0};
    char longname[300];
    memset(longname, 'x', 299);
    longname[299] = 0;
    const char *p = tmp_path("w.safetensors");
    st_out_tensor dup[2] = {{.name = "a", .dtype = ST_F32, .data = v, .ndim = 1, .shape = {1}},
                            {.name = "a", .dtype = ST_F32, .data = v, .ndim = 1, .shape = {1}}};
    expect_write_fail(p, dup, 2, NULL, 0, "duplicate tensor");
    st_out_tensor one = {.name = longname, .dtype = ST_F32, .data = v, .ndim = 1, .shape = {1}};
    expect_write_fail(p, &one, 1, NULL, 0, "long name");
    one.name = "__metadata__";
    expect_write_fail(p, &one, 1, NULL, 0, "reserved name");
    one.name = "a";
    one.shape[0] = -1;
    expect_write_fail(p, &one, 1, NULL, 0, "negative shape");
    one.shape[0] = 2;
    one.ndim = 9;
    expect_write_fail(p, &one, 1, NULL, 0, "too many dims");
    one.ndim = 1;
    one.dtype = (st_dtype)42;
    expect_write_fail(p, &one, 1, NULL, 0, "bad dtype");
    one.dtype = ST_F32;
    one.data = NULL;
    expect_write_fail(p, &one, 1, NULL, 0, "no data");
    one.data = v;
    const char *dmeta[] = {"k", "1", "k", "2"};
    expect_write_fail(p, &one, 1, dmeta, 2, "duplicate metadata");
    const char *nmeta[] = {"k", NULL};
    expect_write_fail(p, &one, 1, nmeta, 1, "NULL metadata value");
    const char *umeta[] = {"k", "\xff\xfe"};
    expect_write_fail(p, &one, 1, umeta, 1, "invalid UTF-8 metadata");
    CHECK(access(p, F_OK) != 0, "nothing written on failure");

    const char *nodir = tmp_path("no/such/dir/m.safetensors");
    expect_write_fail(nodir, &one, 1, NULL, 0, "missing folder");

    /* No temporary files left behind anywhere in the scratch folder. */
    DIR *d = opendir(scratch_dir);
    struct dirent *e;
    int tmps = 0;
    while (d && (e = readdir(d)))
        if (ae_atomic_is_temp(e->d_name)) tmps++;
    if (d) closedir(d);
    CHECK(tmps == 0, "%d temporary files left", tmps);
}

/* ---- header counts ----------------------------------------------------------- */

/* A header of `count` entries: open, then each entry printed with fmt and its
 * index (comma-separated), then close. */
static void put_counted(const char *path, const char *open, const char *fmt, long count,
                        const char *close)
{
    size_t cap = strlen(open) + strlen(close) + (size_t)count * (strlen(fmt) + 24) + 1, n = 0;
    char *json = malloc(cap);
    if (!json) { fprintf(stderr, "out of memory\n"); exit(2); }
    n += (size_t)snprintf(json + n, cap - n, "%s", open);
    for (long i = 0; i < count; i++) {
        if (i) json[n++] = ',';
        n += (size_t)snprintf(json + n, cap - n, fmt, i);
    }
    snprintf(json + n, cap - n, "%s", close);
    put_st(path, json, NULL, 0);
    free(json);
}

static int read_measured(void *path, char *msg, size_t size)
{
    st_file f;
    ae_error err = {{0}};
    int rc = st_read(&f, path, &err);
    snprintf(msg, size, "%s", rc == 0 ? "" : err.msg);
    if (rc == 0) snprintf(msg, size, "read: %d tensors, %d metadata entries", f.count, f.nmeta);
    st_free(&f);
    return rc == 0 ? 0 : 1;
}

/* Headers of millions of entries are refused while the header is scanned,
 * before a JSON tree is built: the memory bound is a few times the header's
 * own size (the headers below take 8 to 26 MB; as JSON trees they took
 * hundreds of MB to GBs). Never timed. */
static void test_header_counts(void)
{
    enum { MAX_PEAK_KIB = 100 * 1024 };
    const char *p = tmp_path("counts.safetensors");
    char msg[1024];
    long peak = 0;

    put_counted(p, "{\"__metadata__\":{", "\"k%07ld\":\"\"", 2000000, "}}");
    int rc = run_measured(read_measured, (void *)p, &peak, msg, sizeof msg);
    CHECK(rc == 1 && strstr(msg, p) && strstr(msg, "\"__metadata__\" has more than 4096 keys"),
          "2 million metadata entries refused: %s", msg);
    CHECK(peak < MAX_PEAK_KIB, "metadata: memory %ld KiB (bound %d)", peak, MAX_PEAK_KIB);

    put_counted(p, "{", "\"t%07ld\":0", 1000000, "}");
    rc = run_measured(read_measured, (void *)p, &peak, msg, sizeof msg);
    CHECK(rc == 1 && strstr(msg, p) && strstr(msg, "more than 16384 tensors"),
          "a million tensors refused: %s", msg);
    CHECK(peak < MAX_PEAK_KIB, "tensors: memory %ld KiB (bound %d)", peak, MAX_PEAK_KIB);

    put_counted(p, "{\"w\":{\"dtype\":\"U8\",\"data_offsets\":[0,0],\"shape\":[", "%ld", 4000000, "]}}");
    rc = run_measured(read_measured, (void *)p, &peak, msg, sizeof msg);
    CHECK(rc == 1 && strstr(msg, p) && strstr(msg, "JSON values"), "4 million sizes refused: %s", msg);
    CHECK(peak < MAX_PEAK_KIB, "sizes: memory %ld KiB (bound %d)", peak, MAX_PEAK_KIB);

    /* at the limits: read, within the same bound */
    put_counted(p, "{\"__metadata__\":{\"k\":\"v\"},", "\"t%05ld\":{\"dtype\":\"U8\",\"shape\":[0],"
                "\"data_offsets\":[0,0]}", ST_MAX_TENSORS, "}");
    rc = run_measured(read_measured, (void *)p, &peak, msg, sizeof msg);
    CHECK(rc == 0 && strstr(msg, "16384 tensors, 1 metadata"), "16384 tensors read: %s", msg);
    CHECK(peak < MAX_PEAK_KIB, "16384 tensors: memory %ld KiB (bound %d)", peak, MAX_PEAK_KIB);
    put_counted(p, "{\"__metadata__\":{", "\"k%04ld\":\"v\"", ST_MAX_META, "}}");
    rc = run_measured(read_measured, (void *)p, &peak, msg, sizeof msg);
    CHECK(rc == 0 && strstr(msg, "0 tensors, 4096 metadata"), "4096 metadata entries read: %s", msg);
    /* one more than the limits */
    put_counted(p, "{", "\"t%05ld\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[0,0]}",
                ST_MAX_TENSORS + 1, "}");
    expect_reject(p, "more than 16384 tensors", "16385 tensors");
    put_counted(p, "{\"__metadata__\":{", "\"k%04ld\":\"v\"", ST_MAX_META + 1, "}}");
    expect_reject(p, "more than 4096 keys", "4097 metadata entries");

    /* the writer refuses what the reader would */
    static st_out_tensor many[ST_MAX_TENSORS + 1];
    expect_write_fail(tmp_path("many.safetensors"), many, ST_MAX_TENSORS + 1, NULL, 0,
                      "16385 tensors");
    static const char *meta[2 * (ST_MAX_META + 1)];
    expect_write_fail(tmp_path("many.safetensors"), NULL, 0, meta, ST_MAX_META + 1,
                      "4097 metadata entries");
}

/* ---- reading in two steps; bytes after the last tensor ------------------------ */

/* Bytes after the last tensor are allowed and not read: 500 MB of them (a
 * sparse file) cost nothing. The header alone gives the tensors before the
 * data is read. */
static void test_two_steps(void)
{
    const char *p = tmp_path("tail.safetensors");
    put_st(p, "{\"__metadata__\":{\"k\":\"v\"}," T("w", "U8", "[4]", "[0,4]") "}", "abcd", 4);
    FILE *fp = fopen(p, "r+b");
    CHECK(fp && fseek(fp, 0, SEEK_END) == 0 && ftruncate(fileno(fp), ftell(fp) + 500000000L) == 0,
          "sparse tail");
    if (fp) fclose(fp);
    long peak = 0;
    char msg[1024];
    int rc = run_measured(read_measured, (void *)p, &peak, msg, sizeof msg);
    CHECK(rc == 0 && strstr(msg, "1 tensors, 1 metadata"), "500 MB after the last tensor: %s", msg);
    CHECK(peak < 100 * 1024, "not read: memory %ld KiB (bound 100 MiB)", peak);

    st_file f;
    ae_error err = {{0}};
    CHECK(st_read_header(&f, p, &err) == 0 && f.count == 1 && f.nmeta == 1 && f.data == NULL,
          "header only: %s", err.msg);
    CHECK(st_find(&f, "w") && st_find(&f, "w")->numel == 4, "tensor known from the header");
    CHECK(st_read_data(&f, &err) == 0 && f.data && f.data_size == 4 && memcmp(f.data, "abcd", 4) == 0,
          "data up to the last tensor's end: %s", err.msg);
    CHECK(st_read_data(&f, &err) == 0, "a second st_read_data is a no-op");
    st_free(&f);
    CHECK(st_read_header(&f, p, &err) == 0, "%s", err.msg);
    st_free(&f); /* without the data: closes the file */
    CHECK(f.fp == NULL && f.tensors == NULL, "st_free after the header only");
    unlink(p);
}

int main(void)
{
    if (scratch_open("test_st") != 0) return 2;
    test_header_counts(); /* first, while this process is small */
    test_two_steps();
    test_round_trip();
    test_byte_exact();
    test_conversions();
    test_hostile();
    test_write_errors();
    scratch_close();
    TEST_DONE();
}
