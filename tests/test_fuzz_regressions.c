/* Regression cases from fuzzing (fuzz/, issue 5): every input a harness
 * found a problem with, replayed through the same calls as the harness, in
 * the normal test suite (no libFuzzer needed; the sanitizer build of
 * scripts/test.sh catches memory errors).
 *
 *  - every file under tests/fixtures/fuzz/NAME/ is replayed through the
 *    parser of harness fuzz_NAME (idx, safetensors, model_text, npy, cifar,
 *    image): it must load or fail with a message, never crash;
 *  - the cases below check what each fix promises. */
#define _POSIX_C_SOURCE 200809L
#include "test.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jpeglib.h>
#include <zlib.h>

#include "aekit.h"
#include "data/cifar.h"
#include "data/idx.h"
#include "data/image_folder.h"
#include "format/safetensors.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

static char tmp_dir[256];

static void write_bytes(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || (n && fwrite(data, 1, n, f) != n) || fclose(f) != 0) {
        perror(path);
        exit(2);
    }
}

static uint8_t *read_bytes(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    rewind(f);
    uint8_t *b = malloc((size_t)len + 1);
    if (b && fread(b, 1, (size_t)len, f) != (size_t)len) {
        free(b);
        b = NULL;
    }
    fclose(f);
    if (b) {
        b[len] = 0;
        *n = (size_t)len;
    }
    return b;
}

/* ---- replay, one function per harness ----------------------------------------- */

static void replay_idx(const char *path, const uint8_t *data, size_t n)
{
    (void)data; (void)n;
    idx_array a;
    ae_error err = { "" };
    if (idx_read(&a, path, &err) == 0) idx_free(&a);
    else CHECK(err.msg[0], "%s: failure without a message", path);
}

static void replay_safetensors(const char *path, const uint8_t *data, size_t n)
{
    (void)data; (void)n;
    st_file f;
    ae_error err = { "" };
    if (st_read(&f, path, &err) == 0) {
        for (int i = 0; i < f.count; i++) {
            float *dst = malloc(f.tensors[i].numel ? f.tensors[i].numel * sizeof(float) : 1);
            st_get_f32(&f, f.tensors[i].name, dst, f.tensors[i].numel, &err);
            free(dst);
        }
        st_free(&f);
    } else {
        CHECK(err.msg[0], "%s: failure without a message", path);
    }
    ae_model *m;
    err.msg[0] = 0;
    if (ae_model_load(&m, path, &err) == 0) ae_model_free(m);
    else CHECK(err.msg[0], "%s: failure without a message", path);
}

static void replay_model_text(const char *path, const uint8_t *data, size_t n)
{
    (void)n;
    ae_model *m;
    ae_error err = { "" };
    if (ae_model_from_text(&m, (const char *)data, path, 0, &err) == 0) {
        char buf[4096];
        ae_model_summary(m, buf, sizeof buf);
        /* what parses must be savable (fuzz_model_text's round trip) */
        char out[512];
        snprintf(out, sizeof out, "%s/replay.safetensors", tmp_dir);
        CHECK(ae_model_save(m, out, &err) == 0, "%s: parses but does not save: %s", path, err.msg);
        ae_model_free(m);
    } else {
        CHECK(err.msg[0], "%s: failure without a message", path);
    }
}

static void replay_npy(const char *path, const uint8_t *data, size_t n)
{
    (void)data; (void)n;
    float *a = NULL;
    int ndim;
    long shape[4];
    ae_error err = { "" };
    if (ae_npy_read_f32(path, &a, &ndim, shape, &err) == 0) free(a);
    else CHECK(err.msg[0] && !a, "%s: failure without a message", path);
}

static void replay_cifar(const char *path, const uint8_t *data, size_t n)
{
    char dir[512], file[600];
    snprintf(dir, sizeof dir, "%s/cifar", tmp_dir);
    mkdir(dir, 0700);
    snprintf(file, sizeof file, "%s/test_batch.bin", dir);
    write_bytes(file, data, n);
    ae_dataset ds;
    memset(&ds, 0, sizeof ds);
    ae_error err = { "" };
    if (cifar_read(&ds, dir, AE_SPLIT_TEST, &err) == 0) {
        free(ds.pixels);
        free(ds.labels);
    } else {
        CHECK(err.msg[0], "%s: failure without a message", path);
    }
    unlink(file);
    rmdir(dir);
}

static void replay_image(const char *path, const uint8_t *data, size_t n)
{
    char dir[512], file[600];
    snprintf(dir, sizeof dir, "%s/images", tmp_dir);
    mkdir(dir, 0700);
    int jpeg = n >= 2 && data[0] == 0xff && data[1] == 0xd8;
    snprintf(file, sizeof file, "%s/a.%s", dir, jpeg ? "jpg" : "png");
    write_bytes(file, data, n);
    /* every combination the harness may take */
    for (int c = 1; c <= 3; c += 2)
        for (int fit = 0; fit < 2; fit++) {
            ae_dataset ds;
            memset(&ds, 0, sizeof ds);
            ae_error err = { "" };
            if (image_folder_read(&ds, dir, AE_SPLIT_TEST, c, 16, 16, (ae_fit)fit, &err) == 0)
                free(ds.pixels);
            else
                CHECK(err.msg[0], "%s: failure without a message", path);
        }
    unlink(file);
    rmdir(dir);
}

static void replay_dir(const char *name, void (*fn)(const char *, const uint8_t *, size_t))
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s/fuzz/%s", AEKIT_FIXTURES, name);
    DIR *d = opendir(dir);
    if (!d) return; /* no regression inputs for this parser */
    struct dirent *e;
    int count = 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        size_t n;
        uint8_t *data = read_bytes(path, &n);
        CHECK(data != NULL, "%s: cannot read", path);
        if (!data) continue;
        fn(path, data, n);
        free(data);
        count++;
    }
    closedir(d);
    printf("replayed %d %s input(s)\n", count, name);
}

/* ---- cases ----------------------------------------------------------------------- */

static int parses(const char *text, ae_error *err)
{
    ae_model *m;
    if (ae_model_from_text(&m, text, "case", 0, err) != 0) return 0;
    ae_model_free(m);
    return 1;
}

/* fuzz_model_text: a description that is not UTF-8 parsed, but the model
 * could not be saved after training (the description goes into the file's
 * JSON header). It is now refused when parsed, naming the line. */
static void case_description_utf8(void)
{
    static const char bad[] = "input 1 4 4\nloss mse\n# caf\xe9 (Latin-1)\nencoder\nflatten\n"
                              "dense 3\ndecoder\ndense 16\nreshape 1 4 4\n";
    ae_error err = { "" };
    CHECK(!parses(bad, &err), "a Latin-1 comment is accepted");
    CHECK(strstr(err.msg, "case:3:") && strstr(err.msg, "UTF-8"), "message: %s", err.msg);

    static const char *const also_bad[] = {
        "\xc0\xaf",         /* overlong '/' */
        "\xed\xa0\x80",     /* surrogate U+D800 */
        "\xf4\x90\x80\x80", /* U+110000 */
        "\xe2\x82",         /* cut short */
        "\xff",
    };
    for (size_t i = 0; i < sizeof also_bad / sizeof also_bad[0]; i++) {
        char text[256];
        snprintf(text, sizeof text, "# %s\ninput 1 4 4\nloss mse\nencoder\nflatten\ndense 3\n"
                 "decoder\ndense 16\nreshape 1 4 4\n", also_bad[i]);
        CHECK(!parses(text, &err), "invalid UTF-8 case %zu accepted", i);
    }

    /* real UTF-8 is fine, and saves and loads */
    static const char good[] = "input 1 4 4\nloss mse\n# caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x98\x80\n"
                               "encoder\nflatten\ndense 3\ndecoder\ndense 16\nreshape 1 4 4\n";
    ae_model *m, *back;
    CHECK(ae_model_from_text(&m, good, "case", 0, &err) == 0, "%s", err.msg);
    char path[512];
    snprintf(path, sizeof path, "%s/utf8.safetensors", tmp_dir);
    CHECK(ae_model_save(m, path, &err) == 0, "%s", err.msg);
    CHECK(ae_model_load(&back, path, &err) == 0, "%s", err.msg);
    if (back) {
        CHECK(strcmp(ae_model_description(back), good) == 0, "description changed");
        ae_model_free(back);
    }
    ae_model_free(m);
}

/* Limits before allocation in the description parser: the model's input
 * size was not limited (a first 'flatten' computed 64 x 65536 x 65536 in
 * an int: signed overflow), and the layers' outputs together could reach
 * 2^34 floats per image (64 GiB of working memory per image). */
static void case_description_limits(void)
{
    ae_error err = { "" };
    CHECK(!parses("input 64 65536 65536\nloss mse\nencoder\nflatten\ndense 1\ndecoder\n"
                  "dense 1\n", &err), "an input of 2^38 values per image is accepted");
    CHECK(strstr(err.msg, "too large") != NULL, "message: %s", err.msg);
    CHECK(!parses("input 1 65536 65536\nloss mse\nencoder\nmaxpool 64\ndecoder\nupsample 64\n", &err),
          "an input of 2^32 values per image is accepted");

    /* 5 layers of 2^26 values each: 2^28 + 2^26 in all */
    CHECK(!parses("input 1 8192 8192\nloss mse\nencoder\nrelu\nrelu\nrelu\ndecoder\nrelu\nrelu\n", &err),
          "2^28 + 2^26 activations per image accepted");
    CHECK(strstr(err.msg, "add up") != NULL, "message: %s", err.msg);
    /* just inside both limits */
    CHECK(parses("input 1 8192 8192\nloss mse\nencoder\nrelu\nrelu\ndecoder\nrelu\nrelu\n", &err),
          "4 layers of 2^26 values refused: %s", err.msg);

    /* non-finite leaky_relu slopes turned a zero image into NaN */
    static const char *const slopes[] = { "inf", "-inf", "1e39", "infinity", "nan" };
    for (size_t i = 0; i < sizeof slopes / sizeof slopes[0]; i++) {
        char text[256];
        snprintf(text, sizeof text, "input 1 4 4\nloss mse\nencoder\nflatten\ndense 3\n"
                 "leaky_relu slope=%s\ndecoder\ndense 16\nreshape 1 4 4\n", slopes[i]);
        CHECK(!parses(text, &err), "slope=%s accepted", slopes[i]);
    }
}

/* ---- limits before allocation: a small file claiming gigabytes ------------------- */

typedef int (*open_fn)(const char *path, ae_error *err);

/* Runs fn(path) in a child process that may allocate at most 256 MB more
 * than the parent has (address space; not under ASan, whose shadow memory
 * needs terabytes of it: there the message check alone remains). fn must
 * fail with a message containing `want`, from the header alone: an
 * allocation attempt of the claimed size would fail with "out of memory"
 * or be killed instead. */
static void expect_refused(const char *what, open_fn fn, const char *path, const char *want)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        if (!UNDER_ASAN) {
            struct rlimit rl;
            FILE *f = fopen("/proc/self/statm", "r");
            unsigned long pages = 0;
            if (f && fscanf(f, "%lu", &pages) == 1) {
                rl.rlim_cur = rl.rlim_max = pages * (unsigned long)sysconf(_SC_PAGESIZE) + (256ul << 20);
                setrlimit(RLIMIT_AS, &rl);
            }
            if (f) fclose(f);
        }
        ae_error err = { "" };
        int rc = fn(path, &err);
        int ok = rc != 0 && strstr(err.msg, want) && !strstr(err.msg, "out of memory") &&
                 !strstr(err.msg, "Insufficient memory");
        if (!ok) fprintf(stderr, "%s: rc %d, message: %s\n", what, rc, err.msg);
        _exit(ok ? 0 : 1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "%s: not refused from the header (before allocating)", what);
}

static int open_model(const char *path, ae_error *err)
{
    ae_model *m;
    int rc = ae_model_load(&m, path, err);
    if (rc == 0) ae_model_free(m);
    return rc;
}

static int open_st(const char *path, ae_error *err)
{
    st_file f;
    int rc = st_read(&f, path, err);
    if (rc == 0) st_free(&f);
    return rc;
}

static int open_idx(const char *path, ae_error *err)
{
    idx_array a;
    int rc = idx_read(&a, path, err);
    if (rc == 0) idx_free(&a);
    return rc;
}

static int open_npy(const char *path, ae_error *err)
{
    float *a;
    int ndim;
    long shape[4];
    int rc = ae_npy_read_f32(path, &a, &ndim, shape, err);
    if (rc == 0) free(a);
    return rc;
}

static int open_image(const char *path, ae_error *err)
{
    ae_image im;
    int rc = ae_image_decode(&im, path, 3, err);
    ae_image_free(&im);
    return rc;
}

static const char *tmp_file(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "%s/%s", tmp_dir, name);
    return buf;
}

/* safetensors file of header text hdr and `data` zero bytes of data */
static void write_st(const char *path, const char *hdr, size_t data)
{
    size_t n = strlen(hdr);
    uint8_t *b = calloc(1, 8 + n + data);
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)((uint64_t)n >> (8 * i));
    memcpy(b + 8, hdr, n);
    write_bytes(path, b, 8 + n + data);
    free(b);
}

/* fuzz_safetensors: a 141-byte model file whose description claims about
 * 250 M parameters (1 GB) made ae_model_load allocate and initialise them
 * all before noticing the file has no tensors. The tensors are now checked
 * against the parsed description first (src/model/model_file.c). */
static void case_model_file_claim(void)
{
    char path[512];
    write_st(tmp_file(path, sizeof path, "claim.safetensors"),
             "{\"__metadata__\":{\"aekit.description\":\"input 1 8 15\\nloss mse\\nencoder\\n"
             "flatten\\ndense 1048576\\ndecoder\\ndense 120\\nreshape 1 8 15\\n\"}}", 0);
    expect_refused("model file claiming 1 GB of parameters", open_model, path, "is missing");
    /* the same with a tensor of the wrong size: named, nothing allocated */
    write_st(path, "{\"__metadata__\":{\"aekit.description\":\"input 1 8 15\\nloss mse\\nencoder\\n"
             "flatten\\ndense 1048576\\ndecoder\\ndense 120\\nreshape 1 8 15\\n\"},"
             "\"encoder.1.weight\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}", 16);
    expect_refused("model file with a short tensor", open_model, path, "has 4 values, the model needs");
}

/* The other formats: 4 GB claimed by a file of a few dozen bytes. */
static void case_small_file_claims(void)
{
    char path[512];
    /* safetensors: a tensor of 2^30 floats whose data is 4 bytes */
    write_st(tmp_file(path, sizeof path, "big-tensor.safetensors"),
             "{\"t\":{\"dtype\":\"F32\",\"shape\":[1073741824],\"data_offsets\":[0,4294967296]}}", 4);
    expect_refused("safetensors tensor of 4 GB", open_st, path, "outside the data section");
    expect_refused("model file tensor of 4 GB", open_model, path, "outside the data section");
    /* a header length of 4 GB */
    static const uint8_t hlen[16] = { 0, 0, 0, 0, 1, 0, 0, 0, '{', '}' };
    write_bytes(path, hlen, sizeof hlen);
    expect_refused("safetensors header of 4 GB", open_st, path, "header length");

    /* IDX: 65536 x 256 x 256 bytes, raw and gzipped */
    static const uint8_t idx[16] = { 0, 0, 8, 3, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0 };
    write_bytes(tmp_file(path, sizeof path, "big-idx3-ubyte"), idx, sizeof idx);
    expect_refused("IDX of 4 GB", open_idx, path, "more than");
    static const uint8_t idx1g[16] = { 0, 0, 8, 3, 0, 0, 0x40, 0, 0, 0, 1, 0, 0, 0, 1, 0 };
    write_bytes(path, idx1g, sizeof idx1g);
    expect_refused("IDX of 1 GB", open_idx, path, "truncated");
    tmp_file(path, sizeof path, "big-idx3-ubyte.gz");
    gzFile gz = gzopen(path, "wb");
    gzwrite(gz, idx1g, sizeof idx1g);
    gzclose(gz);
    expect_refused("gzipped IDX of 1 GB", open_idx, path, "truncated");

    /* .npy: (1073741824,) float32 with no data */
    static const char npy_dict[] = "{'descr': '<f4', 'fortran_order': False, 'shape': (1073741824,), }";
    uint8_t npy[128];
    size_t hl = 128 - 10;
    memset(npy, ' ', sizeof npy);
    memcpy(npy, "\x93NUMPY\x01\x00", 8);
    npy[8] = (uint8_t)hl;
    npy[9] = 0;
    memcpy(npy + 10, npy_dict, sizeof npy_dict - 1);
    npy[127] = '\n';
    write_bytes(tmp_file(path, sizeof path, "big.npy"), npy, sizeof npy);
    expect_refused(".npy of 4 GB", open_npy, path, "truncated");
}

/* PNG signature, IHDR (w x h, 8-bit RGBA) and one IDAT of a few bytes. */
static size_t tiny_png(uint8_t *b, uint32_t w, uint32_t h)
{
    static const uint8_t sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
    size_t n = 0;
    memcpy(b, sig, 8);
    n = 8;
    uint8_t zdata[64], raw[64] = { 0 };
    uLongf zlen = sizeof zdata;
    compress(zdata, &zlen, raw, sizeof raw);
    const struct { const char *type; const uint8_t *data; uint32_t len; } chunks[3] = {
        { "IHDR", (const uint8_t[13]){ (uint8_t)(w >> 24), (uint8_t)(w >> 16), (uint8_t)(w >> 8), (uint8_t)w,
                                       (uint8_t)(h >> 24), (uint8_t)(h >> 16), (uint8_t)(h >> 8), (uint8_t)h,
                                       8, 6, 0, 0, 0 }, 13 },
        { "IDAT", zdata, (uint32_t)zlen },
        { "IEND", NULL, 0 },
    };
    for (int i = 0; i < 3; i++) {
        uint32_t len = chunks[i].len;
        b[n++] = (uint8_t)(len >> 24); b[n++] = (uint8_t)(len >> 16);
        b[n++] = (uint8_t)(len >> 8); b[n++] = (uint8_t)len;
        memcpy(b + n, chunks[i].type, 4);
        if (len) memcpy(b + n + 4, chunks[i].data, len);
        uint32_t crc = (uint32_t)crc32(0, b + n, 4 + len);
        n += 4 + len;
        b[n++] = (uint8_t)(crc >> 24); b[n++] = (uint8_t)(crc >> 16);
        b[n++] = (uint8_t)(crc >> 8); b[n++] = (uint8_t)crc;
    }
    return n;
}

/* A 16x16 JPEG (grey or 4:2:0 colour, baseline or progressive) whose frame
 * header then claims w x h. Returns its size. */
static size_t tiny_jpeg(uint8_t **out, int comps, int progressive, unsigned w, unsigned h)
{
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr e;
    c.err = jpeg_std_error(&e);
    jpeg_create_compress(&c);
    unsigned long size = 0;
    *out = NULL;
    jpeg_mem_dest(&c, out, &size);
    c.image_width = c.image_height = 16;
    c.input_components = comps;
    c.in_color_space = comps == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&c);
    if (progressive) jpeg_simple_progression(&c);
    jpeg_start_compress(&c, TRUE);
    uint8_t row[16 * 3] = { 0 };
    while (c.next_scanline < c.image_height) {
        JSAMPROW r = row;
        jpeg_write_scanlines(&c, &r, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    for (unsigned long i = 2; i + 9 < size; i++)
        if ((*out)[i] == 0xff && ((*out)[i + 1] == 0xc0 || (*out)[i + 1] == 0xc2)) {
            uint8_t *sof = *out + i + 5; /* marker, length, precision, then height, width */
            sof[0] = (uint8_t)(h >> 8); sof[1] = (uint8_t)h;
            sof[2] = (uint8_t)(w >> 8); sof[3] = (uint8_t)w;
            break;
        }
    return (size_t)size;
}

/* fuzz_image: a 70-byte PNG or a 300-byte JPEG claiming 16384 x 16384
 * pixels (within the per-side limit) made the decoder allocate 1 GB for
 * the pixels (and libjpeg 768 MB more for a progressive image's
 * coefficients) before reading the data that was not there. The file size
 * now bounds what the header may claim (src/data/image_folder.c). */
static void case_image_claims(void)
{
    char path[512];
    uint8_t png[256];
    size_t n = tiny_png(png, 16384, 16384);
    write_bytes(tmp_file(path, sizeof path, "big.png"), png, n);
    expect_refused("PNG of 16384x16384 in a tiny file", open_image, path, "cannot be stored in");
    /* the same header with its true size decodes */
    n = tiny_png(png, 4, 2);
    write_bytes(path, png, n);
    ae_error err = { "" };
    ae_image im;
    CHECK(ae_image_decode(&im, path, 3, &err) == 0 && im.w == 4 && im.h == 2, "4x2 PNG: %s", err.msg);
    ae_image_free(&im);

    for (int comps = 1; comps <= 3; comps += 2)
        for (int prog = 0; prog < 2; prog++) {
            uint8_t *jpg;
            size_t size = tiny_jpeg(&jpg, comps, prog, 16384, 16384);
            write_bytes(tmp_file(path, sizeof path, "big.jpg"), jpg, size);
            free(jpg);
            char what[128];
            snprintf(what, sizeof what, "%s %s JPEG of 16384x16384 in %zu bytes",
                     prog ? "progressive" : "baseline", comps == 1 ? "grey" : "colour", size);
            expect_refused(what, open_image, path, "cannot be stored in");
            /* unchanged, it decodes */
            size = tiny_jpeg(&jpg, comps, prog, 16, 16);
            write_bytes(path, jpg, size);
            free(jpg);
            CHECK(ae_image_decode(&im, path, 3, &err) == 0 && im.w == 16 && im.h == 16, "%s: %s",
                  what, err.msg);
            ae_image_free(&im);
        }
}

static void remove_tmp(void)
{
    DIR *d = opendir(tmp_dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.') continue;
            char p[600];
            snprintf(p, sizeof p, "%s/%s", tmp_dir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(tmp_dir);
}

int main(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(tmp_dir, sizeof tmp_dir, "%s/aekit-fuzzreg-XXXXXX", base && base[0] ? base : "/tmp");
    if (!mkdtemp(tmp_dir)) {
        perror("mkdtemp");
        return 2;
    }
    replay_dir("idx", replay_idx);
    replay_dir("safetensors", replay_safetensors);
    replay_dir("model_text", replay_model_text);
    replay_dir("npy", replay_npy);
    replay_dir("cifar", replay_cifar);
    replay_dir("image", replay_image);

    case_description_utf8();
    case_description_limits();
    case_model_file_claim();
    case_small_file_claims();
    case_image_claims();
    remove_tmp();
    TEST_DONE();
}
