/* aekit serve's API: the state computed at start and the router (serve_api.h).
 * JSON is written by hand into a growing buffer; every text that comes from
 * a file or the command line (data set name, class names) is escaped. */
#include "serve_api.h"
#include "serve_parse.h"
#include "aekit/analysis.h"
#include "aekit/image.h"
#include "aekit/pictures.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a growing buffer ---------------------------------------------------- */

typedef struct {
    char  *data;
    size_t size, cap;
    int    oom;
} buf;

static void buf_put(buf *b, const char *s, size_t n)
{
    if (b->oom) return;
    if (b->size + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->size + n + 1) cap *= 2;
        char *grown = realloc(b->data, cap);
        if (!grown) {
            b->oom = 1;
            return;
        }
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->size, s, n);
    b->size += n;
    b->data[b->size] = '\0';
}

static void buf_text(buf *b, const char *s)
{
    buf_put(b, s, strlen(s));
}

static void buf_printf(buf *b, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof tmp) {
        buf_put(b, tmp, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big) {
        b->oom = 1;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    buf_put(b, big, (size_t)n);
    free(big);
}

/* Length of the valid UTF-8 sequence at s (1 to 4), or 0 when s does not
 * start with one (overlong, surrogate, past U+10FFFF or cut). */
static int utf8_length(const unsigned char *s)
{
    unsigned c = s[0];
    int n = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
    if (n <= 1) return n;
    unsigned cp = c & (0x7f >> n);
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    static const unsigned min[5] = { 0, 0, 0x80, 0x800, 0x10000 };
    if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    return n;
}

/* A JSON string: quotes, backslashes and controls escaped, bytes that are
 * not UTF-8 replaced by U+FFFD, '<' escaped (the text never closes a tag). */
static void buf_json_string(buf *b, const char *s)
{
    buf_put(b, "\"", 1);
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        if (*p == '"' || *p == '\\') {
            char e[2] = { '\\', (char)*p };
            buf_put(b, e, 2);
            p++;
        } else if (*p < 0x20 || *p == 0x7f || *p == '<' || *p == '>' || *p == '&') {
            buf_printf(b, "\\u%04x", *p);
            p++;
        } else {
            int n = utf8_length(p);
            if (n == 0) {
                buf_put(b, "\\ufffd", 6);
                p++;
            } else {
                buf_put(b, (const char *)p, (size_t)n);
                p += n;
            }
        }
    }
    buf_put(b, "\"", 1);
}

/* A float as JSON: NaN and infinities (a broken model) as null. */
static void buf_json_float(buf *b, float v)
{
    if (isfinite(v)) buf_printf(b, "%.7g", (double)v);
    else buf_put(b, "null", 4);
}

static void buf_json_floats(buf *b, const float *v, int n, int stride)
{
    buf_put(b, "[", 1);
    for (int i = 0; i < n; i++) {
        if (i) buf_put(b, ",", 1);
        buf_json_float(b, v[(size_t)i * (size_t)stride]);
    }
    buf_put(b, "]", 1);
}

static void buf_base64(buf *b, const uint8_t *data, size_t n)
{
    static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)data[i] << 16;
        if (i + 1 < n) v |= (unsigned)data[i + 1] << 8;
        if (i + 2 < n) v |= data[i + 2];
        char out[4] = { digits[v >> 18 & 63], digits[v >> 12 & 63],
                        i + 1 < n ? digits[v >> 6 & 63] : '=', i + 2 < n ? digits[v & 63] : '=' };
        buf_put(b, out, 4);
    }
}

/* ---- state --------------------------------------------------------------- */

/* The classes /api/info lists: the data set's named classes, and as many
 * more as the labels of the served images need (named by their numbers). */
static int count_classes(const ae_dataset *test, int n)
{
    if (!test->labels) return 0;
    int count = ae_dataset_class_count(test);
    for (int i = 0; i < n; i++)
        if (test->labels[i] >= count) count = test->labels[i] + 1;
    return count;
}

/* Appends the elements of a JSON array (no brackets: "v0,v1,...") to b and
 * the end of element i to ends[i]. values: every second float (labels
 * NULL), else labels or, with both NULL, the numbers 0 .. n - 1. */
static void points_array(buf *b, const float *values, const uint8_t *labels, int n, size_t *ends)
{
    for (int i = 0; i < n; i++) {
        if (i) buf_put(b, ",", 1);
        if (values) buf_json_float(b, values[2 * (size_t)i]);
        else buf_printf(b, "%d", labels ? labels[i] : i);
        ends[i] = b->size;
    }
}

/* /api/points for every image, written once: the answer for ?limit=N is
 * cut from it (each array's first N elements), so a request costs copies. */
static int build_points(serve_state *s, ae_error *err)
{
    size_t n = (size_t)s->n;
    s->point_ends = malloc(sizeof(size_t) * 4 * n);
    buf b = { 0 };
    if (!s->point_ends) goto oom;
    buf_printf(&b, "{\"n\": %d, ", s->n);
    s->points_head = b.size;
    buf_text(&b, "\"x\": [");
    points_array(&b, s->points, NULL, s->n, s->point_ends);
    buf_text(&b, "], \"y\": [");
    points_array(&b, s->points + 1, NULL, s->n, s->point_ends + n);
    if (s->test->labels) {
        buf_text(&b, "], \"labels\": [");
            points_array(&b, NULL, s->test->labels, s->n, s->point_ends + 2 * n);
        buf_text(&b, "], \"index\": [");
    } else {
        buf_text(&b, "], \"labels\": null, \"index\": [");
    }
    points_array(&b, NULL, NULL, s->n, s->point_ends + 3 * n);
    buf_text(&b, "]}\n");
    if (b.oom) goto oom;
    s->points_json = b.data;
    s->points_json_size = b.size;
    return 0;
oom:
    free(b.data);
    snprintf(err->msg, sizeof err->msg, "out of memory for the points of %d images", s->n);
    return -1;
}

int serve_state_init(serve_state *s, const ae_model *m, const ae_dataset *test,
                     const char *data_name, const char *kind, const char *noise, int threads,
                     ae_error *err)
{
    memset(s, 0, sizeof *s);
    s->model = m;
    s->test = test;
    s->data_name = data_name;
    s->kind = kind;
    s->noise = noise;
    ae_model_input_shape(m, &s->in_c, &s->in_h, &s->in_w);
    ae_model_output_shape(m, &s->out_c, &s->out_h, &s->out_w);
    size_t L = ae_model_latent_size(m);
    if (L < 2 || L > SERVE_MAX_LATENT) {
        snprintf(err->msg, sizeof err->msg, "the latent has %zu values; serve needs 2 to %d",
                 L, SERVE_MAX_LATENT);
        return -1;
    }
    s->latent = (int)L;
    s->n = test->n;
    if (s->n < 3) {
        snprintf(err->msg, sizeof err->msg, "%d test images; serve needs at least 3", s->n);
        return -1;
    }
    s->codes = ae_dataset_codes(m, test, s->n, threads, err);
    if (!s->codes) return -1;
    for (size_t i = 0; i < (size_t)s->n * L; i++)
        if (!isfinite(s->codes[i])) {
            snprintf(err->msg, sizeof err->msg, "the codes of the test images hold NaN or infinite values");
            serve_state_free(s);
            return -1;
        }
    s->points = malloc(sizeof(float) * 2 * (size_t)s->n);
    if (!s->points) {
        snprintf(err->msg, sizeof err->msg, "out of memory");
        serve_state_free(s);
        return -1;
    }
    if (L == 2) {
        memcpy(s->points, s->codes, sizeof(float) * 2 * (size_t)s->n);
    } else {
        ae_pca p;
        if (ae_pca_fit(&p, s->codes, s->n, (int)L, 2, threads, err) != 0) {
            serve_state_free(s);
            return -1;
        }
        s->projected = 1;
        s->mean = malloc(sizeof(float) * L);
        s->components = malloc(sizeof(float) * 2 * L);
        if (!s->mean || !s->components) {
            ae_pca_free(&p);
            snprintf(err->msg, sizeof err->msg, "out of memory");
            serve_state_free(s);
            return -1;
        }
        memcpy(s->mean, p.mean, sizeof(float) * L);
        memcpy(s->components, p.components, sizeof(float) * 2 * L);
        ae_pca_encode(&p, s->codes, s->n, s->points);
        ae_pca_free(&p);
    }
    s->nclasses = count_classes(test, s->n);
    if (build_points(s, err) != 0) {
        serve_state_free(s);
        return -1;
    }
    return 0;
}

void serve_state_free(serve_state *s)
{
    free(s->codes);
    free(s->points);
    free(s->mean);
    free(s->components);
    free(s->points_json);
    free(s->point_ends);
    s->codes = s->points = s->mean = s->components = NULL;
    s->points_json = NULL;
    s->point_ends = NULL;
}

/* ---- responses ------------------------------------------------------------ */

static void respond_json(serve_response *r, int status, buf *b)
{
    if (b->oom) {
        free(b->data);
        r->status = 500;
        r->content_type = "application/json";
        static const char oom[] = "{\"error\": \"out of memory\"}\n";
        r->body = (uint8_t *)oom;
        r->size = sizeof oom - 1;
        r->body_static = 1;
        return;
    }
    buf_put(b, "\n", 1);
    r->status = status;
    r->content_type = "application/json";
    r->body = (uint8_t *)b->data;
    r->size = b->size;
}

static void respond_error(serve_response *r, int status, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    buf b = { 0 };
    buf_put(&b, "{\"error\": ", 10);
    buf_json_string(&b, msg);
    buf_put(&b, "}", 1);
    respond_json(r, status, &b);
}

static void respond_png(serve_response *r, const float *chw, int c, int h, int w)
{
    ae_error err = {{0}};
    uint8_t *png = NULL;
    size_t size = 0;
    if (ae_png_encode(chw, c, h, w, &png, &size, &err) != 0) {
        respond_error(r, 500, "%s", err.msg);
        return;
    }
    r->status = 200;
    r->content_type = "image/png";
    r->body = png;
    r->size = size;
}

void serve_response_free(serve_response *r)
{
    if (!r->body_static) free(r->body);
    r->body = NULL;
}

/* ---- query arguments ------------------------------------------------------ */

/* The value of key (NULL when absent). Checks first that every argument is
 * one of `allowed` (NULL-terminated) and none is repeated: -1 after
 * answering 400 naming the argument. */
static int check_args(const serve_request *rq, const char *const *allowed, serve_response *r)
{
    if (rq->nargs > SERVE_MAX_ARGS) {
        respond_error(r, 400, "more than %d query arguments", SERVE_MAX_ARGS);
        return -1;
    }
    for (int i = 0; i < rq->nargs; i++) {
        const char *key = rq->args[i].key ? rq->args[i].key : "";
        int known = 0;
        for (const char *const *a = allowed; *a; a++) known |= strcmp(*a, key) == 0;
        char shown[64];
        snprintf(shown, sizeof shown, "%s", key);
        if (!known) {
            respond_error(r, 400, "%s: unknown query argument", shown);
            return -1;
        }
        for (int j = 0; j < i; j++)
            if (rq->args[j].key && strcmp(rq->args[j].key, key) == 0) {
                respond_error(r, 400, "%s: given twice", shown);
                return -1;
            }
    }
    return 0;
}

static const char *arg_value(const serve_request *rq, const char *key)
{
    for (int i = 0; i < rq->nargs; i++)
        if (rq->args[i].key && strcmp(rq->args[i].key, key) == 0)
            return rq->args[i].value ? rq->args[i].value : "";
    return NULL;
}

/* ---- routes ---------------------------------------------------------------- */

static void route_info(const serve_state *s, serve_response *r)
{
    buf b = { 0 };
    buf_put(&b, "{\"kind\": ", 9);
    buf_json_string(&b, s->kind);
    buf_printf(&b, ", \"input\": [%d, %d, %d], \"output\": [%d, %d, %d], \"latent\": %d",
               s->in_c, s->in_h, s->in_w, s->out_c, s->out_h, s->out_w, s->latent);
    buf_put(&b, ", \"data\": ", 10);
    buf_json_string(&b, s->data_name);
    buf_text(&b, ", \"noise\": ");
    if (s->noise) buf_json_string(&b, s->noise);
    else buf_put(&b, "null", 4);
    buf_printf(&b, ", \"images\": %d, \"max_abs\": %g, \"classes\": [", s->n, SERVE_MAX_ABS);
    for (int k = 0; k < s->nclasses; k++) {
        if (k) buf_put(&b, ", ", 2);
        const char *name = ae_dataset_class_name(s->test, k);
        char number[16];
        if (!name) {
            snprintf(number, sizeof number, "%d", k);
            name = number;
        }
        buf_json_string(&b, name);
    }
    buf_put(&b, "], \"projection\": ", 17);
    if (s->projected) {
        buf_put(&b, "{\"kind\": \"pca\", \"mean\": ", 24);
        buf_json_floats(&b, s->mean, s->latent, 1);
        buf_put(&b, ", \"components\": [", 17);
        buf_json_floats(&b, s->components, s->latent, 1);
        buf_put(&b, ", ", 2);
        buf_json_floats(&b, s->components + s->latent, s->latent, 1);
        buf_put(&b, "]}", 2);
    } else {
        buf_put(&b, "{\"kind\": \"none\"}", 16);
    }
    buf_put(&b, "}", 1);
    respond_json(r, 200, &b);
}

static void route_points(const serve_state *s, const serve_request *rq, serve_response *r)
{
    static const char *const allowed[] = { "limit", NULL };
    if (check_args(rq, allowed, r)) return;
    int limit = s->n;
    const char *v = arg_value(rq, "limit");
    char why[160];
    if (v && serve_parse_count(v, s->n, &limit, why, sizeof why) != 0) {
        respond_error(r, 400, "limit: %s", why);
        return;
    }
    r->status = 200;
    r->content_type = "application/json";
    if (limit == s->n) { /* the whole answer, as written at start */
        r->body = (uint8_t *)s->points_json;
        r->size = s->points_json_size;
        r->body_static = 1;
        return;
    }
    /* "{"n": limit, " then, from the full answer, each array's text up to
     * its element number limit: what lies between two arrays (their
     * brackets, the next key; "labels": null) comes with the next one */
    char head[32];
    size_t head_size = (size_t)snprintf(head, sizeof head, "{\"n\": %d, ", limit);
    size_t n = (size_t)s->n, k = (size_t)limit;
    const size_t *x = s->point_ends, *y = x + n, *labels = y + n, *index = labels + n;
    size_t cut[4][2], count = 0; /* [from, to) of the full answer */
    cut[count][0] = s->points_head;
    cut[count++][1] = x[k - 1];
    cut[count][0] = x[n - 1];
    cut[count++][1] = y[k - 1];
    if (s->test->labels) {
        cut[count][0] = y[n - 1];
        cut[count++][1] = labels[k - 1];
    }
    cut[count][0] = s->test->labels ? labels[n - 1] : y[n - 1];
    cut[count++][1] = index[k - 1];
    size_t size = head_size + s->points_json_size - index[n - 1];
    for (size_t c = 0; c < count; c++) size += cut[c][1] - cut[c][0];
    uint8_t *body = malloc(size);
    if (!body) {
        respond_error(r, 500, "out of memory");
        return;
    }
    memcpy(body, head, head_size);
    size_t at = head_size;
    for (size_t c = 0; c < count; c++) {
        memcpy(body + at, s->points_json + cut[c][0], cut[c][1] - cut[c][0]);
        at += cut[c][1] - cut[c][0];
    }
    memcpy(body + at, s->points_json + index[n - 1], s->points_json_size - index[n - 1]); /* "]}\n" */
    r->body = body;
    r->size = size;
}

/* The code of plane point (x, y): mean + x c1 + y c2, or (x, y) itself. */
static void plane_to_code(const serve_state *s, const float p[2], float *z)
{
    if (!s->projected) {
        z[0] = p[0];
        z[1] = p[1];
        return;
    }
    for (int j = 0; j < s->latent; j++)
        z[j] = s->mean[j] + p[0] * s->components[j] + p[1] * s->components[s->latent + j];
}

static void code_to_plane(const serve_state *s, const float *z, float p[2])
{
    if (!s->projected) {
        p[0] = z[0];
        p[1] = z[1];
        return;
    }
    double a = 0, c = 0;
    for (int j = 0; j < s->latent; j++) {
        double d = (double)z[j] - s->mean[j];
        a += d * s->components[j];
        c += d * s->components[s->latent + j];
    }
    p[0] = (float)a;
    p[1] = (float)c;
}

/* The code asked for by z (latent values) or p (a plane point) into z[0..L):
 * exactly one of them. 0, or -1 after answering 400 naming the argument. */
static int code_of_request(const serve_state *s, const serve_request *rq, float *z, serve_response *r)
{
    const char *zv = arg_value(rq, "z"), *pv = arg_value(rq, "p");
    if ((zv != NULL) == (pv != NULL)) {
        respond_error(r, 400, "z: give either z (%d values) or p (2 values)", s->latent);
        return -1;
    }
    char why[160];
    if (zv) {
        if (serve_parse_floats(zv, s->latent, z, why, sizeof why) != 0) {
            respond_error(r, 400, "z: %s", why);
            return -1;
        }
        return 0;
    }
    float p[2];
    if (serve_parse_floats(pv, 2, p, why, sizeof why) != 0) {
        respond_error(r, 400, "p: %s", why);
        return -1;
    }
    plane_to_code(s, p, z);
    return 0;
}

static void route_decode(const serve_state *s, ae_workspace *ws, const serve_request *rq,
                         serve_response *r)
{
    static const char *const allowed[] = { "z", "p", NULL };
    if (check_args(rq, allowed, r)) return;
    size_t L = (size_t)s->latent;
    size_t out_count = (size_t)s->out_c * (size_t)s->out_h * (size_t)s->out_w;
    float *z = calloc(L, sizeof(float)), *img = malloc(sizeof(float) * out_count);
    if (!z || !img) {
        free(z);
        free(img);
        respond_error(r, 500, "out of memory");
        return;
    }
    if (code_of_request(s, rq, z, r) == 0) {
        ae_error err = {{0}};
        if (ae_model_decode(s->model, ws, z, 1, img, 1, &err) != 0)
            respond_error(r, 500, "%s", err.msg);
        else
            respond_png(r, img, s->out_c, s->out_h, s->out_w);
    }
    free(z);
    free(img);
}

/* One of the k nearest so far: squared distance and image number. */
typedef struct {
    double d2;
    int    index;
} neighbour;

/* The k nearest codes of s to z into best[0..k), nearest first, equal
 * distances by the lower index: one pass keeping the k best sorted (an
 * insertion into at most SERVE_MAX_NEIGHBOURS), nothing allocated. */
static void nearest_codes(const serve_state *s, const float *z, int k, neighbour *best)
{
    int kept = 0;
    size_t L = (size_t)s->latent;
    for (int i = 0; i < s->n; i++) {
        const float *c = s->codes + (size_t)i * L;
        double d2 = 0;
        for (size_t j = 0; j < L; j++) {
            double d = (double)c[j] - z[j];
            d2 += d * d;
        }
        if (kept == k && d2 >= best[k - 1].d2) continue; /* a tie keeps the lower index */
        int at = kept < k ? kept++ : k - 1;
        while (at > 0 && best[at - 1].d2 > d2) {
            best[at] = best[at - 1];
            at--;
        }
        best[at] = (neighbour){ d2, i };
    }
}

static void route_neighbours(const serve_state *s, const serve_request *rq, serve_response *r)
{
    static const char *const allowed[] = { "z", "p", "k", NULL };
    if (check_args(rq, allowed, r)) return;
    int max = s->n < SERVE_MAX_NEIGHBOURS ? s->n : SERVE_MAX_NEIGHBOURS;
    int k = SERVE_DEFAULT_NEIGHBOURS < max ? SERVE_DEFAULT_NEIGHBOURS : max;
    const char *kv = arg_value(rq, "k");
    char why[160];
    if (kv && serve_parse_count(kv, max, &k, why, sizeof why) != 0) {
        respond_error(r, 400, "k: %s", why);
        return;
    }
    float *z = calloc((size_t)s->latent, sizeof(float));
    if (!z) {
        respond_error(r, 500, "out of memory");
        return;
    }
    if (code_of_request(s, rq, z, r) != 0) {
        free(z);
        return;
    }
    neighbour best[SERVE_MAX_NEIGHBOURS];
    nearest_codes(s, z, k, best);
    free(z);
    buf b = { 0 };
    buf_printf(&b, "{\"k\": %d, \"indices\": [", k);
    for (int i = 0; i < k; i++) buf_printf(&b, i ? ",%d" : "%d", best[i].index);
    buf_put(&b, "], \"labels\": ", 13);
    if (s->test->labels) {
        buf_put(&b, "[", 1);
        for (int i = 0; i < k; i++) buf_printf(&b, i ? ",%d" : "%d", s->test->labels[best[i].index]);
        buf_put(&b, "]", 1);
    } else {
        buf_put(&b, "null", 4);
    }
    buf_put(&b, ", \"distances\": [", 16);
    for (int i = 0; i < k; i++) {
        if (i) buf_put(&b, ",", 1);
        buf_json_float(&b, (float)sqrt(best[i].d2));
    }
    buf_put(&b, "]}", 2);
    respond_json(r, 200, &b);
}

static void route_image(const serve_state *s, int index, serve_response *r)
{
    ae_error err = {{0}};
    float *img = ae_dataset_images(s->test, index, 1, &err);
    if (!img) {
        respond_error(r, 500, "%s", err.msg);
        return;
    }
    respond_png(r, img, s->test->c, s->test->h, s->test->w);
    free(img);
}

static void route_encode(const serve_state *s, ae_workspace *ws, const serve_request *rq,
                         serve_response *r)
{
    static const char *const allowed[] = { NULL };
    if (check_args(rq, allowed, r)) return;
    if (rq->body_size > SERVE_MAX_BODY) {
        respond_error(r, 413, "body: larger than %d bytes", SERVE_MAX_BODY);
        return;
    }
    ae_error err = {{0}};
    ae_image im;
    static const ae_image_limits limits = { SERVE_MAX_SIDE, SERVE_MAX_PIXELS };
    if (ae_image_decode_memory(&im, rq->body, rq->body_size, "body", s->in_c, &limits, &err) != 0) {
        respond_error(r, strstr(err.msg, "larger than the limit") ? 413 : 400, "%s", err.msg);
        return;
    }
    size_t in_count = (size_t)s->in_c * (size_t)s->in_h * (size_t)s->in_w;
    size_t out_count = (size_t)s->out_c * (size_t)s->out_h * (size_t)s->out_w;
    uint8_t *fitted = malloc(in_count);
    float *x = calloc(in_count, sizeof(float)), *y = malloc(sizeof(float) * out_count);
    float *z = calloc((size_t)s->latent, sizeof(float));
    uint8_t *png = NULL;
    size_t png_size = 0;
    if (!fitted || !x || !y || !z) {
        respond_error(r, 500, "out of memory");
        goto done;
    }
    if (ae_image_fit(fitted, s->in_h, s->in_w, &im, AE_FIT_RESIZE, "body", &err) != 0) {
        respond_error(r, 400, "%s", err.msg);
        goto done;
    }
    for (size_t i = 0; i < in_count; i++) x[i] = fitted[i] / 255.0f;
    if (ae_model_encode(s->model, ws, x, 1, z, 1, &err) != 0 ||
        ae_model_decode(s->model, ws, z, 1, y, 1, &err) != 0 ||
        ae_png_encode(y, s->out_c, s->out_h, s->out_w, &png, &png_size, &err) != 0) {
        respond_error(r, 500, "%s", err.msg);
        goto done;
    }
    float p[2];
    code_to_plane(s, z, p);
    buf b = { 0 };
    buf_put(&b, "{\"code\": ", 9);
    buf_json_floats(&b, z, s->latent, 1);
    buf_put(&b, ", \"point\": ", 11);
    buf_json_floats(&b, p, 2, 1);
    buf_put(&b, ", \"reconstruction\": \"data:image/png;base64,", 43);
    buf_base64(&b, png, png_size);
    buf_put(&b, "\"}", 2);
    respond_json(r, 200, &b);
done:
    ae_image_free(&im);
    free(fitted);
    free(x);
    free(y);
    free(z);
    free(png);
}

/* A GET route also answers HEAD (the HTTP glue sends the headers only). */
static int method_fits(const char *route_method, const char *method)
{
    return strcmp(route_method, method) == 0 ||
           (strcmp(route_method, "GET") == 0 && strcmp(method, "HEAD") == 0);
}

/* What a 405 lists for a route's method. */
static const char *allow_of(const char *route_method)
{
    return strcmp(route_method, "GET") == 0 ? "GET, HEAD" : route_method;
}

/* The routes: path, the one method each takes (GET ones HEAD too). */
typedef enum { ROUTE_PAGE, ROUTE_INFO, ROUTE_POINTS, ROUTE_DECODE, ROUTE_NEIGHBOURS, ROUTE_ENCODE } route_id;
static const struct {
    const char *path, *method;
    route_id    id;
} routes[] = {
    { "/",            "GET",  ROUTE_PAGE },
    { "/api/info",    "GET",  ROUTE_INFO },
    { "/api/points",  "GET",  ROUTE_POINTS },
    { "/api/decode",  "GET",  ROUTE_DECODE },
    { "/api/neighbours", "GET", ROUTE_NEIGHBOURS },
    { "/api/encode",  "POST", ROUTE_ENCODE },
};

void serve_handle(const serve_state *s, ae_workspace *ws, const serve_request *rq,
                  serve_response *out)
{
    memset(out, 0, sizeof *out);
    const char *method = rq->method ? rq->method : "", *path = rq->path ? rq->path : "";
    char why[160];
    int index = 0;
    int img = serve_parse_image_path(path, s->n, &index, why, sizeof why);
    if (img != 1) {
        if (!method_fits("GET", method)) {
            respond_error(out, 405, "method not allowed (GET, HEAD only)");
            out->allow = allow_of("GET");
            return;
        }
        static const char *const none[] = { NULL };
        if (check_args(rq, none, out)) return;
        if (img == 0) route_image(s, index, out);
        else respond_error(out, img == -2 ? 404 : 400, "%s", why);
        return;
    }
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        if (strcmp(routes[i].path, path) != 0) continue;
        if (!method_fits(routes[i].method, method)) {
            respond_error(out, 405, "method not allowed (%s only)", allow_of(routes[i].method));
            out->allow = allow_of(routes[i].method);
            return;
        }
        switch (routes[i].id) {
        case ROUTE_PAGE: {
            static const char *const none[] = { NULL };
            if (check_args(rq, none, out)) return;
            out->status = 200;
            out->content_type = "text/html; charset=utf-8";
            out->body = (uint8_t *)serve_page_html;
            out->size = serve_page_html_len;
            out->body_static = 1;
            return;
        }
        case ROUTE_INFO: {
            static const char *const none[] = { NULL };
            if (check_args(rq, none, out)) return;
            route_info(s, out);
            return;
        }
        case ROUTE_POINTS: route_points(s, rq, out); return;
        case ROUTE_DECODE: route_decode(s, ws, rq, out); return;
        case ROUTE_NEIGHBOURS: route_neighbours(s, rq, out); return;
        case ROUTE_ENCODE: route_encode(s, ws, rq, out); return;
        }
    }
    respond_error(out, 404, "not found");
}
