/* Decoding one image (libpng, libjpeg-turbo) from a file or from memory,
 * within limits checked from its header; channel conversion; fitting to a
 * model's size (aekit/image.h). Image folders as data sets are
 * image_folder.c. The rules are in docs/file-formats.md. */
#define _POSIX_C_SOURCE 200809L

#include "data/image_folder.h"

#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jpeglib.h>
#include <png.h>

#include "core/error.h"
#include "aekit/files.h"

/* ---- pixel conversion ------------------------------------------------------ */

/* ITU-R BT.601 luma in 16-bit fixed point (Pillow's convert("L") uses the
 * same weights: 0.299, 0.587, 0.114 -> 19595, 38470, 7471, summing to 2^16). */
static uint8_t luma(unsigned r, unsigned g, unsigned b)
{
    return (uint8_t)((r * 19595u + g * 38470u + b * 7471u + 0x8000u) >> 16);
}

/* v over black with opacity a */
static unsigned over_black(unsigned v, unsigned a)
{
    return (v * a + 127u) / 255u;
}

/* Converts n pixels of sc channels (G, GA, RGB, RGBA) to dc (1 or 3). */
static void convert_pixels(uint8_t *dst, int dc, const uint8_t *src, int sc, size_t n)
{
    for (size_t i = 0; i < n; i++, src += sc, dst += dc) {
        unsigned r, g, b;
        switch (sc) {
        case 1: r = g = b = src[0]; break;
        case 2: r = g = b = over_black(src[0], src[1]); break;
        case 3: r = src[0], g = src[1], b = src[2]; break;
        default:
            r = over_black(src[0], src[3]);
            g = over_black(src[1], src[3]);
            b = over_black(src[2], src[3]);
            break;
        }
        if (dc == 1) {
            dst[0] = sc <= 2 ? (uint8_t)r : luma(r, g, b);
        } else {
            dst[0] = (uint8_t)r;
            dst[1] = (uint8_t)g;
            dst[2] = (uint8_t)b;
        }
    }
}

/* The file limits: each side at most IMAGE_MAX_SIDE, no pixel-count bound. */
static const ae_image_limits file_limits = { IMAGE_MAX_SIDE, 0 };

/* 1 if w x h is over the limits, with msg "KIND of WxH pixels is larger than ...". */
static int over_limits(uint32_t w, uint32_t h, const ae_image_limits *lim, const char *kind,
                       char *msg, size_t msg_size)
{
    if (w > (uint32_t)lim->max_side || h > (uint32_t)lim->max_side) {
        snprintf(msg, msg_size, "%s of %ux%u pixels is larger than the limit of %dx%d",
                 kind, w, h, lim->max_side, lim->max_side);
        return 1;
    }
    if (lim->max_pixels && (uint64_t)w * h > lim->max_pixels) {
        snprintf(msg, msg_size, "%s of %ux%u pixels is larger than the limit of %llu pixels",
                 kind, w, h, (unsigned long long)lim->max_pixels);
        return 1;
    }
    return 0;
}

/* ---- PNG ------------------------------------------------------------------- */

typedef struct {
    char       msg[256];
    uint8_t   *px;     /* h rows of rowbytes */
    png_bytep *rows;
    uint32_t   w, h;
    int        ch;
} png_ctx;

static void on_png_error(png_structp png, png_const_charp msg)
{
    png_ctx *ctx = png_get_error_ptr(png);
    snprintf(ctx->msg, sizeof ctx->msg, "corrupt or unsupported PNG (libpng: %s)", msg);
    png_longjmp(png, 1);
}

static void on_png_warning(png_structp png, png_const_charp msg)
{
    (void)png; /* the library never prints */
    (void)msg;
}

/* Deflate compresses at most 1032:1 (a 258-byte match in 2 bits), so a PNG
 * of w x h pixels of `bits` bits each needs at least this many bytes of
 * image data: a smaller file is truncated or lying about its size, and is
 * refused before the pixels are allocated. */
static uint64_t png_min_bytes(uint32_t w, uint32_t h, unsigned bits)
{
    return (uint64_t)w * h * bits / 8 / 1032;
}

/* Everything libpng touches; returns 0, or -1 with ctx->msg set. ctx->px
 * and ctx->rows are the caller's to free either way. */
static int png_decode_rows(FILE *fp, uint64_t file_size, const ae_image_limits *lim, png_ctx *ctx)
{
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, ctx, on_png_error, on_png_warning);
    if (!png) {
        snprintf(ctx->msg, sizeof ctx->msg, "out of memory");
        return -1;
    }
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        snprintf(ctx->msg, sizeof ctx->msg, "out of memory");
        return -1;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        return -1;
    }
    png_init_io(png, fp);
    png_set_user_limits(png, (uint32_t)lim->max_side, (uint32_t)lim->max_side);
    png_read_info(png, info);
    ctx->w = png_get_image_width(png, info);
    ctx->h = png_get_image_height(png, info);
    if (over_limits(ctx->w, ctx->h, lim, "PNG", ctx->msg, sizeof ctx->msg)) {
        png_destroy_read_struct(&png, &info, NULL);
        return -1;
    }
    int color = png_get_color_type(png, info), depth = png_get_bit_depth(png, info);
    uint64_t need = png_min_bytes(ctx->w, ctx->h, (unsigned)depth * png_get_channels(png, info));
    if (file_size < need) {
        snprintf(ctx->msg, sizeof ctx->msg, "PNG of %ux%u pixels cannot be stored in %llu bytes "
                 "(at least %llu; truncated or corrupt)", ctx->w, ctx->h,
                 (unsigned long long)file_size, (unsigned long long)need);
        png_destroy_read_struct(&png, &info, NULL);
        return -1;
    }
    if (color == PNG_COLOR_TYPE_PALETTE)
        png_set_palette_to_rgb(png);
    if (color == PNG_COLOR_TYPE_GRAY && depth < 8)
        png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, info, PNG_INFO_tRNS))
        png_set_tRNS_to_alpha(png);
    if (depth == 16) {
#ifdef PNG_READ_SCALE_16_TO_8_SUPPORTED
        png_set_scale_16(png); /* rounds: v * 255 / 65535 */
#else
        png_set_strip_16(png);
#endif
    }
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    ctx->ch = png_get_channels(png, info);
    size_t rowbytes = png_get_rowbytes(png, info);
    if (ctx->ch < 1 || ctx->ch > 4 || png_get_bit_depth(png, info) != 8 ||
        rowbytes != (size_t)ctx->w * (size_t)ctx->ch) {
        snprintf(ctx->msg, sizeof ctx->msg, "unsupported PNG layout (%d channels of %d bits)",
                 ctx->ch, png_get_bit_depth(png, info));
        png_destroy_read_struct(&png, &info, NULL);
        return -1;
    }
    /* at most 16384 * 16384 * 4 bytes */
    ctx->px = malloc((size_t)ctx->h * rowbytes);
    ctx->rows = malloc((size_t)ctx->h * sizeof *ctx->rows);
    if (!ctx->px || !ctx->rows) {
        snprintf(ctx->msg, sizeof ctx->msg, "out of memory for %ux%u pixels", ctx->w, ctx->h);
        png_destroy_read_struct(&png, &info, NULL);
        return -1;
    }
    for (uint32_t y = 0; y < ctx->h; y++)
        ctx->rows[y] = ctx->px + (size_t)y * rowbytes;
    png_read_image(png, ctx->rows);
    png_read_end(png, NULL); /* checks the rest of the file up to IEND */
    png_destroy_read_struct(&png, &info, NULL);
    return 0;
}

/* ---- JPEG ------------------------------------------------------------------ */

typedef struct {
    struct jpeg_error_mgr pub;
    jmp_buf               jump;
    char                  text[JMSG_LENGTH_MAX];
} jpeg_err;

typedef struct {
    jpeg_err err;
    char     msg[256];
    uint8_t *px;
    uint32_t w, h;
    int      ch;
} jpeg_ctx;

static void on_jpeg_error(j_common_ptr cinfo)
{
    jpeg_err *e = (jpeg_err *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, e->text);
    longjmp(e->jump, 1);
}

/* Warnings (level -1) mean corrupt data, which libjpeg would otherwise paper
 * over with grey: they are errors here. Trace messages are ignored. */
static void on_jpeg_message(j_common_ptr cinfo, int level)
{
    if (level < 0)
        on_jpeg_error(cinfo);
}

static void on_jpeg_output(j_common_ptr cinfo)
{
    (void)cinfo; /* the library never prints */
}

/* Huffman coding spends at least one bit on every 8x8 block of a scan (its
 * DC code), so the first scan alone needs this many bytes: a smaller file is
 * truncated or lying about its size, and is refused before libjpeg (whose
 * progressive decoder holds the whole image's coefficients) or this code
 * allocates anything for the pixels. */
static uint64_t jpeg_min_bytes(const struct jpeg_decompress_struct *cinfo)
{
    uint64_t blocks = 0;
    for (int i = 0; i < cinfo->comps_in_scan; i++)
        blocks += (uint64_t)cinfo->cur_comp_info[i]->width_in_blocks *
                  cinfo->cur_comp_info[i]->height_in_blocks;
    return blocks / 8;
}

static int jpeg_decode_rows(FILE *fp, uint64_t file_size, const ae_image_limits *lim, jpeg_ctx *ctx)
{
    struct jpeg_decompress_struct cinfo;
    cinfo.err = jpeg_std_error(&ctx->err.pub);
    ctx->err.pub.error_exit = on_jpeg_error;
    ctx->err.pub.emit_message = on_jpeg_message;
    ctx->err.pub.output_message = on_jpeg_output;
    if (setjmp(ctx->err.jump)) {
        jpeg_destroy_decompress(&cinfo);
        snprintf(ctx->msg, sizeof ctx->msg, "corrupt or unsupported JPEG (libjpeg: %s)", ctx->err.text);
        return -1;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_stdio_src(&cinfo, fp);
    jpeg_read_header(&cinfo, TRUE);
    ctx->w = cinfo.image_width;
    ctx->h = cinfo.image_height;
    if (over_limits(ctx->w, ctx->h, lim, "JPEG", ctx->msg, sizeof ctx->msg)) {
        jpeg_destroy_decompress(&cinfo);
        return -1;
    }
    uint64_t need = jpeg_min_bytes(&cinfo);
    if (file_size < need) {
        snprintf(ctx->msg, sizeof ctx->msg, "JPEG of %ux%u pixels cannot be stored in %llu bytes "
                 "(at least %llu; truncated or corrupt)", ctx->w, ctx->h,
                 (unsigned long long)file_size, (unsigned long long)need);
        jpeg_destroy_decompress(&cinfo);
        return -1;
    }
    cinfo.out_color_space = cinfo.jpeg_color_space == JCS_GRAYSCALE ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_start_decompress(&cinfo);
    ctx->ch = cinfo.output_components;
    if (cinfo.output_width != ctx->w || cinfo.output_height != ctx->h || (ctx->ch != 1 && ctx->ch != 3)) {
        snprintf(ctx->msg, sizeof ctx->msg, "unsupported JPEG layout (%d components)", ctx->ch);
        jpeg_destroy_decompress(&cinfo);
        return -1;
    }
    size_t stride = (size_t)ctx->w * (size_t)ctx->ch;
    ctx->px = malloc((size_t)ctx->h * stride);
    if (!ctx->px) {
        snprintf(ctx->msg, sizeof ctx->msg, "out of memory for %ux%u pixels", ctx->w, ctx->h);
        jpeg_destroy_decompress(&cinfo);
        return -1;
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = ctx->px + (size_t)cinfo.output_scanline * stride;
        if (jpeg_read_scanlines(&cinfo, &row, 1) != 1) {
            snprintf(ctx->msg, sizeof ctx->msg, "truncated JPEG");
            jpeg_destroy_decompress(&cinfo);
            return -1;
        }
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    return 0;
}

/* ---- decoding ---------------------------------------------------------------- */

void ae_image_free(ae_image *im)
{
    if (im) {
        free(im->px);
        im->px = NULL;
    }
}

void ae_image_to_floats(const ae_image *im, float *out)
{
    int c = im->c, h = im->h, w = im->w;
    for (int ch = 0; ch < c; ch++)
        for (int y = 0; y < h; y++)
            for (int i = 0; i < w; i++)
                out[((size_t)ch * h + y) * w + i] = im->px[((size_t)y * w + i) * c + ch] / 255.0f;
}

/* Converts a decoded image of sc channels into out (channels dc). Takes px. */
static int finish(ae_image *out, uint8_t *px, uint32_t w, uint32_t h, int sc, int dc,
                  const char *path, ae_error *err)
{
    size_t n = (size_t)w * (size_t)h;
    out->w = (int)w;
    out->h = (int)h;
    out->c = dc;
    if (sc == dc) {
        out->px = px;
        return 0;
    }
    out->px = malloc(n * (size_t)dc);
    if (!out->px) {
        free(px);
        return ae_fail(err, "%s: out of memory for %ux%u pixels", path, w, h);
    }
    convert_pixels(out->px, dc, px, sc, n);
    free(px);
    return 0;
}

/* Decodes the PNG or JPEG stream fp of file_size bytes; does not close fp. */
static int decode_stream(ae_image *out, FILE *fp, uint64_t file_size, const char *path,
                         int channels, const ae_image_limits *lim, ae_error *err)
{
    uint8_t magic[24];
    size_t got = fread(magic, 1, sizeof magic, fp);
    rewind(fp);
    int rc;
    static const uint8_t png_sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
    if (got >= 8 && memcmp(magic, png_sig, 8) == 0) {
        /* The size is in IHDR, the first chunk: check it before libpng reads
         * on (it reads every chunk up to the image data first). */
        if (got == 24 && memcmp(magic + 12, "IHDR", 4) == 0) {
            uint32_t w = (uint32_t)magic[16] << 24 | (uint32_t)magic[17] << 16 |
                         (uint32_t)magic[18] << 8 | magic[19];
            uint32_t h = (uint32_t)magic[20] << 24 | (uint32_t)magic[21] << 16 |
                         (uint32_t)magic[22] << 8 | magic[23];
            char msg[160];
            if (over_limits(w, h, lim, "PNG", msg, sizeof msg))
                return ae_fail(err, "%s: %s", path, msg);
        }
        png_ctx ctx;
        memset(&ctx, 0, sizeof ctx);
        rc = png_decode_rows(fp, file_size, lim, &ctx);
        free(ctx.rows);
        if (rc == 0)
            rc = finish(out, ctx.px, ctx.w, ctx.h, ctx.ch, channels, path, err);
        else {
            free(ctx.px);
            ae_fail(err, "%s: %s", path, ctx.msg);
        }
    } else if (got >= 3 && magic[0] == 0xff && magic[1] == 0xd8 && magic[2] == 0xff) {
        jpeg_ctx ctx;
        memset(&ctx, 0, sizeof ctx);
        rc = jpeg_decode_rows(fp, file_size, lim, &ctx);
        if (rc == 0)
            rc = finish(out, ctx.px, ctx.w, ctx.h, ctx.ch, channels, path, err);
        else {
            free(ctx.px);
            ae_fail(err, "%s: %s", path, ctx.msg);
        }
    } else if (got == 0) {
        rc = ae_fail(err, "%s: empty file (not a PNG or JPEG image)", path);
    } else {
        rc = ae_fail(err, "%s: not a PNG or JPEG image (by its first bytes)", path);
    }
    return rc;
}

int ae_image_decode(ae_image *out, const char *path, int channels, ae_error *err)
{
    memset(out, 0, sizeof *out);
    if (channels != 1 && channels != 3)
        return ae_fail(err, "%s: %d channels asked for (1 or 3)", path, channels);
    FILE *fp = ae_open_file(path, err);
    if (!fp)
        return -1;
    /* the size bounds what the header may claim */
    struct stat st;
    uint64_t file_size = fstat(fileno(fp), &st) == 0 ? (uint64_t)st.st_size : UINT64_MAX;
    int rc = decode_stream(out, fp, file_size, path, channels, &file_limits, err);
    fclose(fp);
    return rc;
}

int ae_image_decode_memory(ae_image *out, const void *data, size_t size, const char *name,
                           int channels, const ae_image_limits *limits, ae_error *err)
{
    memset(out, 0, sizeof *out);
    if (!name) name = "image";
    if (channels != 1 && channels != 3)
        return ae_fail(err, "%s: %d channels asked for (1 or 3)", name, channels);
    ae_image_limits lim = limits ? *limits : file_limits;
    if (lim.max_side <= 0 || lim.max_side > IMAGE_MAX_SIDE) lim.max_side = IMAGE_MAX_SIDE;
    if (!data || size == 0)
        return ae_fail(err, "%s: empty file (not a PNG or JPEG image)", name);
    /* a read-only stream over the bytes: the decoders read FILEs */
    FILE *fp = fmemopen((void *)data, size, "rb");
    if (!fp)
        return ae_fail(err, "%s: cannot read the image from memory", name);
    int rc = decode_stream(out, fp, (uint64_t)size, name, channels, &lim, err);
    fclose(fp);
    return rc;
}

/* ---- fitting ------------------------------------------------------------------- */

/* Resampling weights along one axis: output i reads count[i] source pixels
 * from first[i] with weights wt[i * max + k]. */
typedef struct {
    int   *first, *count;
    float *wt;
    int    max;
} taps;

static void taps_free(taps *t)
{
    free(t->first);
    free(t->count);
    free(t->wt);
}

/* Output pixels 0..n_out map onto the source interval [start, start + len)
 * of an axis of n_src pixels. */
static int make_taps(taps *t, int n_out, int n_src, double start, double len)
{
    double s = len / n_out;
    int down = s >= 1.0;
    t->max = down ? (int)ceil(s) + 2 : 2;
    t->first = malloc((size_t)n_out * sizeof *t->first);
    t->count = malloc((size_t)n_out * sizeof *t->count);
    t->wt = malloc((size_t)n_out * (size_t)t->max * sizeof *t->wt);
    if (!t->first || !t->count || !t->wt)
        return -1;
    for (int i = 0; i < n_out; i++) {
        float *w = t->wt + (size_t)i * (size_t)t->max;
        if (!down) {
            /* bilinear between pixel centres, clamped at the edges */
            double x = start + (i + 0.5) * s - 0.5;
            if (x < 0) x = 0;
            if (x > n_src - 1) x = n_src - 1;
            int j = (int)floor(x);
            if (j > n_src - 1) j = n_src - 1;
            double f = x - j;
            t->first[i] = j;
            if (j + 1 < n_src && f > 0) {
                t->count[i] = 2;
                w[0] = (float)(1 - f);
                w[1] = (float)f;
            } else {
                t->count[i] = 1;
                w[0] = 1;
            }
            continue;
        }
        /* area average: source pixel j weighted by its overlap with [a, b) */
        double a = start + i * s, b = a + s;
        int j0 = (int)floor(a), j1 = (int)ceil(b) - 1;
        if (j0 < 0) j0 = 0;
        if (j1 > n_src - 1) j1 = n_src - 1;
        if (j1 - j0 + 1 > t->max) j1 = j0 + t->max - 1;
        double sum = 0;
        int k = 0;
        t->first[i] = j0;
        for (int j = j0; j <= j1; j++) {
            double lo = a > j ? a : j, hi = b < j + 1 ? b : j + 1;
            double o = hi - lo;
            if (o < 0) o = 0;
            w[k++] = (float)o;
            sum += o;
        }
        if (k == 0 || sum <= 0) { /* rounding at an edge: nearest pixel */
            t->first[i] = j0 < n_src ? j0 : n_src - 1;
            t->count[i] = 1;
            w[0] = 1;
            continue;
        }
        for (int q = 0; q < k; q++)
            w[q] = (float)(w[q] / sum);
        t->count[i] = k;
    }
    return 0;
}

static uint8_t to_u8(float v)
{
    if (!(v > 0)) return 0;
    if (v >= 255) return 255;
    return (uint8_t)(v + 0.5f);
}

/* Source window along one axis for `fit`: [start, start + len). */
static void window(double *start, double *len, int n_src, int n_out, double scale, int fills)
{
    if (fills) { /* this axis decides the scale (or resize): all of it */
        *start = 0;
        *len = n_src;
    } else if (scale == 1.0) { /* crop without scaling: whole pixels */
        *start = (n_src - n_out) / 2;
        *len = n_out;
    } else {
        *len = n_out / scale;
        *start = (n_src - *len) / 2;
    }
}

int ae_image_fit(uint8_t *dst, int h, int w, const ae_image *src, ae_fit fit, const char *path,
              ae_error *err)
{
    const int c = src->c, sh = src->h, sw = src->w;
    double sy = (double)h / sh, sx = (double)w / sw;
    double x0, xl, y0, yl;
    if (fit == AE_FIT_CROP) {
        double s = sx > sy ? sx : sy;
        window(&x0, &xl, sw, w, s, sx >= sy);
        window(&y0, &yl, sh, h, s, sy >= sx);
    } else {
        window(&x0, &xl, sw, w, sx, 1);
        window(&y0, &yl, sh, h, sy, 1);
    }

    taps tx = { 0 }, ty = { 0 };
    float *tmp = NULL;
    int rc = -1;
    if (make_taps(&tx, w, sw, x0, xl) != 0 || make_taps(&ty, h, sh, y0, yl) != 0)
        goto done;
    int ylo = ty.first[0], yhi = ty.first[h - 1] + ty.count[h - 1] - 1;
    for (int i = 0; i < h; i++) {
        if (ty.first[i] < ylo) ylo = ty.first[i];
        if (ty.first[i] + ty.count[i] - 1 > yhi) yhi = ty.first[i] + ty.count[i] - 1;
    }
    size_t rows = (size_t)(yhi - ylo + 1), line = (size_t)w * (size_t)c;
    tmp = malloc(rows * line * sizeof *tmp);
    if (!tmp)
        goto done;

    /* horizontal pass over the source rows needed: tmp[rows][w][c] */
    for (size_t r = 0; r < rows; r++) {
        const uint8_t *in = src->px + (size_t)(ylo + (int)r) * (size_t)sw * (size_t)c;
        float *out = tmp + r * line;
        for (int x = 0; x < w; x++) {
            const float *wt = tx.wt + (size_t)x * (size_t)tx.max;
            const uint8_t *p = in + (size_t)tx.first[x] * (size_t)c;
            for (int ch = 0; ch < c; ch++) {
                float sum = 0;
                for (int k = 0; k < tx.count[x]; k++)
                    sum += wt[k] * p[(size_t)k * (size_t)c + (size_t)ch];
                out[(size_t)x * (size_t)c + (size_t)ch] = sum;
            }
        }
    }
    /* vertical pass into CHW */
    size_t plane = (size_t)h * (size_t)w;
    for (int y = 0; y < h; y++) {
        const float *wt = ty.wt + (size_t)y * (size_t)ty.max;
        const float *base = tmp + (size_t)(ty.first[y] - ylo) * line;
        for (int x = 0; x < w; x++)
            for (int ch = 0; ch < c; ch++) {
                float sum = 0;
                for (int k = 0; k < ty.count[y]; k++)
                    sum += wt[k] * base[(size_t)k * line + (size_t)x * (size_t)c + (size_t)ch];
                dst[(size_t)ch * plane + (size_t)y * (size_t)w + (size_t)x] = to_u8(sum);
            }
    }
    rc = 0;
done:
    if (rc != 0)
        ae_fail(err, "%s: out of memory resizing %dx%d to %dx%d", path, sw, sh, w, h);
    free(tmp);
    taps_free(&tx);
    taps_free(&ty);
    return rc;
}
