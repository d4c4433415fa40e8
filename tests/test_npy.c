/* .npy files: the writer's bytes against what numpy.save writes, round trips,
 * files written by numpy (tests/fixtures/npy/), and hostile headers, each
 * rejected with one line naming the file. */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aekit.h"
#include "aekit/files.h"
#include "format/npy.h"
#include "peak_rss.h"
#include "test.h"
#include "temp_dir.h"

#ifndef AEKIT_FIXTURES
#define AEKIT_FIXTURES "tests/fixtures"
#endif

static const char *fixture(const char *name)
{
    static char path[1024];
    snprintf(path, sizeof path, "%s/npy/%s", AEKIT_FIXTURES, name);
    return path;
}

/* Expected headers, made with numpy 1.24.2 (Debian 12's python3-numpy):
 *   /usr/bin/python3 -c 'import io, numpy as np; b = io.BytesIO();
 *       np.save(b, np.zeros(SHAPE, DTYPE)); print(b.getvalue()[:128])'
 * (the last one is 192 bytes: its padding is a full 64 spaces). */
static const char HDR_F4_2x3[] =
    "\x93" "NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"
    "                                                          \n";
static const char HDR_U1_5[] =
    "\x93" "NUMPY\x01\x00v\x00{'descr': '|u1', 'fortran_order': False, 'shape': (5,), }"
    "                                                            \n";
static const char HDR_F4_SCALAR[] =
    "\x93" "NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, 'shape': (), }"
    "                                                              \n";
static const char HDR_F4_1x2x3x4[] =
    "\x93" "NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 3, 4), }"
    "                                                    \n";
/* shape (0, 1, 1, 100, 100, 100, 100, 100, 100, 100): header length 0xb6 */
static const char HDR_F4_PAD64[] =
    "\x93" "NUMPY\x01\x00\xb6\x00{'descr': '<f4', 'fortran_order': False, 'shape': "
    "(0, 1, 1, 100, 100, 100, 100, 100, 100, 100), }"
    "                                                                                    \n";

static void check_header(const char *name, const char *expected, size_t expected_len)
{
    uint8_t buf[4096];
    size_t n = read_all(at(name), buf, sizeof buf);
    CHECK(n >= expected_len && memcmp(buf, expected, expected_len) == 0,
          "%s: header differs from numpy.save's", name);
    CHECK(expected_len % 64 == 0, "%s: expected header is %zu bytes", name, expected_len);
}

static void test_writer_matches_numpy(void)
{
    ae_error err = { "" };
    float f6[6] = { -1.0f, -0.5f, 0.0f, 0.5f, 1.0f, 1.5f };
    long s23[] = { 2, 3 };
    CHECK(ae_npy_write_f32(at("a.npy"), f6, 2, s23, &err) == 0, "%s", err.msg);
    check_header("a.npy", HDR_F4_2x3, sizeof HDR_F4_2x3 - 1);

    /* the whole file equals np.save(np.arange(6, dtype=np.float32).reshape(2, 3) * 0.5 - 1) */
    uint8_t mine[512], theirs[512];
    size_t n1 = read_all(at("a.npy"), mine, sizeof mine);
    size_t n2 = read_all(fixture("f4_2d.npy"), theirs, sizeof theirs);
    CHECK(n1 == 128 + 24 && n1 == n2 && memcmp(mine, theirs, n1) == 0,
          "a.npy (%zu bytes) differs from numpy's f4_2d.npy (%zu bytes)", n1, n2);

    uint8_t u5[5] = { 0, 1, 2, 254, 255 };
    long s5[] = { 5 };
    CHECK(ae_npy_write_u8(at("u.npy"), u5, 1, s5, &err) == 0, "%s", err.msg);
    check_header("u.npy", HDR_U1_5, sizeof HDR_U1_5 - 1);
    n1 = read_all(at("u.npy"), mine, sizeof mine);
    CHECK(n1 == 133 && memcmp(mine + 128, u5, 5) == 0, "u.npy: %zu bytes", n1);

    float one = 3.0f;
    CHECK(ae_npy_write_f32(at("s.npy"), &one, 0, NULL, &err) == 0, "%s", err.msg);
    check_header("s.npy", HDR_F4_SCALAR, sizeof HDR_F4_SCALAR - 1);

    float f24[24] = { 0 };
    long s1234[] = { 1, 2, 3, 4 };
    CHECK(ae_npy_write_f32(at("4d.npy"), f24, 4, s1234, &err) == 0, "%s", err.msg);
    check_header("4d.npy", HDR_F4_1x2x3x4, sizeof HDR_F4_1x2x3x4 - 1);

    long s10[] = { 0, 1, 1, 100, 100, 100, 100, 100, 100, 100 };
    CHECK(ae_npy_write_f32(at("pad.npy"), NULL, 10, s10, &err) == 0, "%s", err.msg);
    check_header("pad.npy", HDR_F4_PAD64, sizeof HDR_F4_PAD64 - 1);
    struct stat st;
    CHECK(stat(at("pad.npy"), &st) == 0 && st.st_size == 192, "pad.npy size");
}

static void test_round_trip(void)
{
    ae_error err = { "" };
    for (int nd = 1; nd <= 4; nd++) {
        long shape[4] = { 3, 2, 4, 5 };
        size_t count = 1;
        for (int i = 0; i < nd; i++)
            count *= (size_t)shape[i];
        float *x = malloc(count * sizeof *x);
        for (size_t i = 0; i < count; i++)
            x[i] = (float)i * 0.25f - 7.0f;
        x[0] = 1e-38f; /* a denormal-adjacent value survives bit for bit */
        CHECK(ae_npy_write_f32(at("rt.npy"), x, nd, shape, &err) == 0, "%s", err.msg);
        float *y = NULL;
        int ndim = 0;
        long got[4] = { 0 };
        CHECK(ae_npy_read_f32(at("rt.npy"), &y, &ndim, got, &err) == 0, "%s", err.msg);
        CHECK(ndim == nd, "ndim %d, wanted %d", ndim, nd);
        for (int i = 0; i < nd && i < ndim; i++)
            CHECK(got[i] == shape[i], "dim %d: %ld", i, got[i]);
        CHECK(y && memcmp(x, y, count * sizeof *x) == 0, "round trip of %d dims differs", nd);
        free(x);
        free(y);
    }
    /* no temporary file is left behind */
    DIR *d = opendir(root);
    struct dirent *e;
    int tmp = 0;
    while (d && (e = readdir(d)))
        tmp += ae_atomic_is_temp(e->d_name);
    if (d)
        closedir(d);
    CHECK(tmp == 0, "%d temporary files left", tmp);
}

/* tests/fixtures/npy/ was made with numpy 1.24.2 (Debian 12's python3-numpy):
 *   import numpy as np, numpy.lib.format as fmt
 *   a = (np.arange(6, dtype=np.float32).reshape(2, 3) * 0.5 - 1).astype(np.float32)
 *   np.save("f4_2d.npy", a)
 *   np.save("f8_1d.npy", np.array([0.1, -2.5, 1e-3, 3.0], dtype=np.float64))
 *   np.save("fortran_f4.npy", np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3)))
 *   np.save("big_endian_f4.npy", np.arange(3, dtype=">f4"))
 *   with open("v2_f4_3d.npy", "wb") as f:
 *       fmt.write_array(f, np.arange(8, dtype=np.float32).reshape(2, 2, 2), version=(2, 0))
 *   open("truncated_f4.npy", "wb").write(open("f4_2d.npy", "rb").read()[:-5])   */
static void test_numpy_files(void)
{
    ae_error err = { "" };
    float *y = NULL;
    int ndim = 0;
    long shape[4] = { 0 };

    CHECK(ae_npy_read_f32(fixture("f4_2d.npy"), &y, &ndim, shape, &err) == 0, "%s", err.msg);
    CHECK(ndim == 2 && shape[0] == 2 && shape[1] == 3, "f4_2d: %d dims", ndim);
    const float want6[6] = { -1.0f, -0.5f, 0.0f, 0.5f, 1.0f, 1.5f };
    CHECK(y && memcmp(y, want6, sizeof want6) == 0, "f4_2d values");
    free(y);
    y = NULL;

    CHECK(ae_npy_read_f32(fixture("f8_1d.npy"), &y, &ndim, shape, &err) == 0, "%s", err.msg);
    CHECK(ndim == 1 && shape[0] == 4, "f8_1d: %d dims, %ld", ndim, shape[0]);
    if (y) {
        CHECK(y[0] == (float)0.1 && y[1] == -2.5f && y[2] == (float)1e-3 && y[3] == 3.0f,
              "f8_1d values %g %g %g %g", y[0], y[1], y[2], y[3]);
    }
    free(y);
    y = NULL;

    CHECK(ae_npy_read_f32(fixture("v2_f4_3d.npy"), &y, &ndim, shape, &err) == 0, "%s", err.msg);
    CHECK(ndim == 3 && shape[0] == 2 && shape[1] == 2 && shape[2] == 2, "v2: %d dims", ndim);
    for (int i = 0; y && i < 8; i++)
        CHECK(y[i] == (float)i, "v2 value %d: %g", i, y[i]);
    free(y);
    y = NULL;

    struct { const char *file, *what; } bad[] = {
        { "fortran_f4.npy", "Fortran-order" },
        { "big_endian_f4.npy", "big-endian" },
        { "truncated_f4.npy", "truncated" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *path = fixture(bad[i].file);
        err.msg[0] = '\0';
        y = NULL;
        CHECK(ae_npy_read_f32(path, &y, &ndim, shape, &err) == -1, "%s accepted", bad[i].file);
        CHECK(y == NULL, "%s: data left set", bad[i].file);
        CHECK(strncmp(err.msg, path, strlen(path)) == 0 && strstr(err.msg, bad[i].what) &&
              !strchr(err.msg, '\n'), "%s: message '%s'", bad[i].file, err.msg);
    }
}

/* Builds a v1.0 file from a header dict (padded as numpy does) and n_data
 * zero bytes of data. */
static void write_npy(const char *path, const char *dict, size_t n_data)
{
    uint8_t buf[1 << 16];
    size_t dl = strlen(dict), hlen = dl + 1;
    size_t pad = 64 - ((10 + hlen) % 64);
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    buf[8] = (uint8_t)((hlen + pad) & 0xff);
    buf[9] = (uint8_t)((hlen + pad) >> 8);
    memcpy(buf + 10, dict, dl);
    memset(buf + 10 + dl, ' ', pad);
    buf[10 + dl + pad] = '\n';
    size_t n = 10 + hlen + pad;
    memset(buf + n, 0, n_data);
    write_raw(path, buf, n + n_data);
}

static void expect_reject(const char *path, const char *what)
{
    ae_error err = { "" };
    float *y = NULL;
    int ndim;
    long shape[4];
    CHECK(ae_npy_read_f32(path, &y, &ndim, shape, &err) == -1, "accepted (expected '%s')", what);
    CHECK(y == NULL, "data set on failure");
    CHECK(strncmp(err.msg, path, strlen(path)) == 0 && strstr(err.msg, what) && !strchr(err.msg, '\n'),
          "message '%s' should name %s and say '%s'", err.msg, path, what);
    free(y);
    /* the header alone is refused the same way */
    ae_error err2 = { "" };
    CHECK(ae_npy_read_shape(path, &ndim, shape, &err2) == -1 && strcmp(err.msg, err2.msg) == 0,
          "shape only: '%s', full read: '%s'", err2.msg, err.msg);
}

static void expect_dict_reject(const char *dict, size_t n_data, const char *what)
{
    write_npy(at("bad.npy"), dict, n_data);
    expect_reject(at("bad.npy"), what);
}

static void expect_dict_accept(const char *dict, size_t n_data, int want_ndim, long want0)
{
    ae_error err = { "" };
    float *y = NULL;
    int ndim = 0;
    long shape[4] = { 0 };
    write_npy(at("ok.npy"), dict, n_data);
    CHECK(ae_npy_read_f32(at("ok.npy"), &y, &ndim, shape, &err) == 0, "%s: %s", dict, err.msg);
    CHECK(ndim == want_ndim && shape[0] == want0, "%s: %d dims, first %ld", dict, ndim, shape[0]);
    free(y);
    long only[4] = { 0 };
    CHECK(ae_npy_read_shape(at("ok.npy"), &ndim, only, &err) == 0 && ndim == want_ndim &&
          memcmp(only, shape, sizeof only) == 0, "%s: shape only: %s", dict, err.msg);
}

static int shape_measured(void *path, char *msg, size_t size)
{
    ae_error err = { "" };
    int ndim = 0;
    long shape[4] = { 0 };
    int rc = ae_npy_read_shape(path, &ndim, shape, &err);
    snprintf(msg, size, "%s", rc == 0 ? "" : err.msg);
    if (rc == 0) snprintf(msg, size, "%d dims, %ld x %ld", ndim, shape[0], shape[1]);
    return rc == 0 ? 0 : 1;
}

/* The shape of 240 MB of codes (a sparse file) is read from the header:
 * the memory bound is far below the data's size. */
static void test_shape_only(void)
{
    const char *dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (20000000, 3), }";
    write_npy(at("big.npy"), dict, 0);
    struct stat st;
    CHECK(stat(at("big.npy"), &st) == 0 && truncate(at("big.npy"), st.st_size + 240000000) == 0,
          "sparse file");
    long peak = 0;
    char msg[1024];
    int rc = run_measured(shape_measured, (void *)at("big.npy"), &peak, msg, sizeof msg);
    CHECK(rc == 0 && strcmp(msg, "2 dims, 20000000 x 3") == 0, "shape of 240 MB: %s", msg);
    CHECK(peak < 100 * 1024, "shape only: memory %ld KiB (bound 100 MiB)", peak);
    truncate(at("big.npy"), st.st_size + 240000000 - 4);
    rc = run_measured(shape_measured, (void *)at("big.npy"), &peak, msg, sizeof msg);
    CHECK(rc == 1 && strstr(msg, "truncated"), "the file's size is checked too: %s", msg);
    unlink(at("big.npy"));
}

static void test_header_syntax(void)
{
    /* accepted spellings */
    expect_dict_accept("{'shape': (3,), 'fortran_order': False, 'descr': '<f4'}", 12, 1, 3);
    expect_dict_accept("{ \"descr\" : \"<f4\" ,\n 'fortran_order':False,'shape':( 2 , 3 , ) , }", 24, 2, 2);
    expect_dict_accept("{'descr': '<f8', 'fortran_order': False, 'shape': (2L, 1L), }", 16, 2, 2);
    expect_dict_accept("{'descr': '<f4', 'fortran_order': False, 'shape': (0,), }", 0, 1, 0);
    expect_dict_accept("{'descr':'<f4','fortran_order':False,'shape':(1,1,1,1)}", 4, 4, 1);

    /* rejected dicts */
    expect_dict_reject("{'descr': '<f4', 'fortran_order': False, 'shape': (10), }", 40, "not a tuple");
    expect_dict_reject("{'descr': '<f4', 'fortran_order': False, 'shape': [10], }", 40, "tuple");
    expect_dict_reject("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", 0, "negative");
    expect_dict_reject("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", 4, "0 dimensions");
    expect_dict_reject("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, 1, 1), }", 4,
                       "more than 4 dimensions");
    expect_dict_reject("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, "
                       "4294967296), }", 0, "elements");
    expect_dict_reject("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,), }",
                       0, "too large");
    expect_dict_reject("{'descr': '<f4', 'fortran_order': False, 'shape': (1073741824,), }", 8,
                       "truncated"); /* 4 GiB claimed by a tiny file: no allocation */
    expect_dict_reject("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", 12, "trailing");
    expect_dict_reject("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", 8, "not supported");
    expect_dict_reject("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", 8,
                       "structured");
    expect_dict_reject("{'descr': '<f4', 'fortran_order': 0, 'shape': (2,), }", 8, "True or False");
    expect_dict_reject("{'descr': '<f4', 'fortran_order': Falsey, 'shape': (2,), }", 8, "True or False");
    expect_dict_reject("{'descr': '<f4', 'shape': (2,), }", 8, "missing key 'fortran_order'");
    expect_dict_reject("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}", 8,
                       "unknown key");
    expect_dict_reject("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", 8,
                       "twice");
    expect_dict_reject("{'descr': '<f4' 'fortran_order': False, 'shape': (2,)}", 8, "expected");
    expect_dict_reject("{'descr': '<f4, 'fortran_order': False, 'shape': (2,)}", 8, "expected");
    expect_dict_reject("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)} x", 8, "after '}'");
    expect_dict_reject("{'descr': '<f4', 'fortran_order': False, 'shape': (2 3)}", 8, "expected");
    expect_dict_reject("'descr': '<f4'", 8, "expected '{'");
    expect_dict_reject("{'descr': '<f4', 'fortran_order': False, 'shape': (2,", 8, "expected");
    expect_dict_reject("", 8, "expected '{'");

    /* broken preambles */
    uint8_t buf[256];
    write_npy(at("p.npy"), "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", 4);
    size_t n = read_all(at("p.npy"), buf, sizeof buf);

    buf[0] = 'X';
    write_raw(at("bad.npy"), buf, n);
    expect_reject(at("bad.npy"), "magic");
    buf[0] = 0x93;

    buf[6] = 3;
    write_raw(at("bad.npy"), buf, n);
    expect_reject(at("bad.npy"), "version 3.0");
    buf[6] = 1;
    buf[7] = 1;
    write_raw(at("bad.npy"), buf, n);
    expect_reject(at("bad.npy"), "version 1.1");
    buf[7] = 0;

    uint8_t big[10] = { 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 0xff, 0xff };
    write_raw(at("bad.npy"), big, sizeof big);
    expect_reject(at("bad.npy"), "exceeds the file");
    uint8_t v2[12] = { 0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0, 0xff, 0xff, 0xff, 0x7f };
    write_raw(at("bad.npy"), v2, sizeof v2);
    expect_reject(at("bad.npy"), "exceeds 65535");

    write_raw(at("bad.npy"), buf, 7);
    expect_reject(at("bad.npy"), "not a .npy file");
    expect_reject(at("missing.npy"), "No such file");
    expect_reject(root, "not a regular file");

    /* a NUL or non-ASCII byte inside a string */
    write_npy(at("bad.npy"), "{'descr': '<f\x01', 'fortran_order': False, 'shape': (1,), }", 4);
    expect_reject(at("bad.npy"), "unsupported character");
}

static void test_writer_errors(void)
{
    ae_error err = { "" };
    float x[4] = { 0 };
    long neg[] = { 2, -2 };
    CHECK(ae_npy_write_f32(at("w.npy"), x, 2, neg, &err) == -1 && strstr(err.msg, "negative") &&
          strstr(err.msg, at("w.npy")), "negative dim: '%s'", err.msg);
    long s33[33];
    for (int i = 0; i < 33; i++)
        s33[i] = 1;
    CHECK(ae_npy_write_f32(at("w.npy"), x, 33, s33, &err) == -1 && strstr(err.msg, "33 dimensions"),
          "33 dims: '%s'", err.msg);
    long huge[] = { 1L << 30, 1L << 30, 1L << 30 };
    CHECK(ae_npy_write_f32(at("w.npy"), x, 3, huge, &err) == -1 && strstr(err.msg, "too many"),
          "huge: '%s'", err.msg);
    long s1[] = { 1 };
    const char *nodir = "/nonexistent-aekit-dir/w.npy";
    CHECK(ae_npy_write_f32(nodir, x, 1, s1, &err) == -1 && strstr(err.msg, nodir), "'%s'", err.msg);
    struct stat st;
    CHECK(stat(at("w.npy"), &st) != 0, "no file written on error");
}

int main(void)
{
    if (temp_dir_open("npy") != 0)
        return 2;
    test_shape_only(); /* first, while this process is small */
    test_writer_matches_numpy();
    test_round_trip();
    test_numpy_files();
    test_header_syntax();
    test_writer_errors();

    remove_tree(root);
    TEST_DONE();
}
