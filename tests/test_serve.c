/* aekit serve without HTTP: the strict parsers (src/cli/serve_parse.c) and
 * the router (src/cli/serve_api.c) on a small dense model with a 4-value
 * latent (a PCA plane) and 12 made-up test images: statuses, content types,
 * one-line JSON errors naming the argument, escaping of file-supplied text,
 * decode p = the mean code at the origin, encode of a PNG body, /api/info's
 * class names and noise, /api/points cut for every limit. */
#include "aekit.h"
#include "aekit/image.h"
#include "serve_api.h"
#include "serve_parse.h"
#include "test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char serve_page_html[] = "<!doctype html><title>test</title>";
const size_t serve_page_html_len = sizeof serve_page_html - 1;

static void test_parsers(void)
{
    float v[4];
    char why[160];
    CHECK(serve_parse_floats("1,-2.5,3e-1,0", 4, v, why, sizeof why) == 0 && v[1] == -2.5f && v[2] == 0.3f,
          "four values");
    const char *bad[] = { "", "1,2,3", "1,2,3,4,5", "nan,0,0,0", "inf,0,0,0", "1e30,0,0,0", "1001,0,0,0",
                          "0x1,0,0,0", "+1,0,0,0", " 1,0,0,0", "1,,0,0", "1,0,0,0,", "1.,0,0,0", ".5,0,0,0",
                          "1e,0,0,0", "--1,0,0,0", NULL };
    for (const char **b = bad; *b; b++)
        CHECK(serve_parse_floats(*b, 4, v, why, sizeof why) == -1 && why[0], "'%s' refused", *b);
    CHECK(serve_parse_floats("-1000,1000,1e3,-1e3", 4, v, why, sizeof why) == 0, "the bounds themselves");
    CHECK(serve_parse_floats("", 2, v, why, sizeof why) == -1 && strstr(why, "2 expected") && !strstr(why, "latent"),
          "no value: '%s' (said of p too, not only of the latent)", why);
    int n = 0;
    CHECK(serve_parse_count("12", 100, &n, why, sizeof why) == 0 && n == 12, "count 12");
    const char *bad_counts[] = { "0", "101", "-1", "012", "", "1e2", "12a", "9999999999", NULL };
    for (const char **b = bad_counts; *b; b++)
        CHECK(serve_parse_count(*b, 100, &n, why, sizeof why) == -1, "count '%s' refused", *b);
    /* k of /api/neighbours: the count parser with SERVE_MAX_NEIGHBOURS */
    CHECK(serve_parse_count("50", SERVE_MAX_NEIGHBOURS, &n, why, sizeof why) == 0 && n == 50, "k 50");
    CHECK(serve_parse_count("1", SERVE_MAX_NEIGHBOURS, &n, why, sizeof why) == 0 && n == 1, "k 1");
    const char *bad_k[] = { "0", "51", "abc", "-3", "08", "", NULL };
    for (const char **b = bad_k; *b; b++)
        CHECK(serve_parse_count(*b, SERVE_MAX_NEIGHBOURS, &n, why, sizeof why) == -1 && strstr(why, "1 to 50"),
              "k '%s' refused: '%s'", *b, why);
    int index = -1;
    CHECK(serve_parse_image_path("/api/image/0", 10, &index, why, sizeof why) == 0 && index == 0, "image 0");
    CHECK(serve_parse_image_path("/api/image/9", 10, &index, why, sizeof why) == 0 && index == 9, "image 9");
    CHECK(serve_parse_image_path("/api/image/10", 10, &index, why, sizeof why) == -2, "image 10: past the end");
    CHECK(serve_parse_image_path("/api/image/x", 10, &index, why, sizeof why) == -1, "image x: not a number");
    CHECK(serve_parse_image_path("/api/image/01", 10, &index, why, sizeof why) == -1, "image 01");
    CHECK(serve_parse_image_path("/api/image/../info", 10, &index, why, sizeof why) == 1, "..: another path");
    CHECK(serve_parse_image_path("/api/info", 10, &index, why, sizeof why) == 1, "another route");
}

static serve_response call(const serve_state *s, ae_workspace *ws, const char *method, const char *path,
                           const char *key, const char *value, const void *body, size_t size)
{
    serve_arg arg = { key, value };
    serve_request rq = { method, path, &arg, key ? 1 : 0, body, size };
    serve_response r;
    serve_handle(s, ws, &rq, &r);
    return r;
}

/* 1 when r is a one-line JSON error starting with word. */
static int error_names(const serve_response *r, const char *word)
{
    char want[64];
    snprintf(want, sizeof want, "{\"error\": \"%s", word);
    return strcmp(r->content_type, "application/json") == 0 && r->size > strlen(want) &&
           memcmp(r->body, want, strlen(want)) == 0 && memchr(r->body, '\n', r->size - 1) == NULL &&
           r->body[r->size - 1] == '\n';
}

/* The numbers of JSON array `key` in body into out (at most max): count. */
static int json_numbers(const serve_response *r, const char *key, double *out, int max)
{
    char want[64];
    snprintf(want, sizeof want, "\"%s\": [", key);
    const char *p = strstr((const char *)r->body, want);
    if (!p) return -1;
    p += strlen(want);
    int n = 0;
    while (*p && *p != ']' && n < max) {
        char *end;
        out[n++] = strtod(p, &end);
        if (end == p) return -1;
        p = *end == ',' ? end + 1 : end;
    }
    return n;
}

/* /api/neighbours: image 5's own code finds it (and its twins) at distance 0, the rest
 * in order of distance computed here; k default 8, k over the images or 50
 * refused; z / p / k errors named. */
static void test_neighbours(const serve_state *s, ae_workspace *ws)
{
    char z[256];
    const float *c = s->codes + 5 * (size_t)s->latent;
    snprintf(z, sizeof z, "%.9g,%.9g,%.9g,%.9g", (double)c[0], (double)c[1], (double)c[2], (double)c[3]);
    serve_arg args[2] = { { "z", z }, { "k", "12" } };
    serve_request rq = { "GET", "/api/neighbours", args, 2, NULL, 0 };
    serve_response r;
    serve_handle(s, ws, &rq, &r);
    double idx[16], lab[16], dist[16];
    int ni = json_numbers(&r, "indices", idx, 16), nl = json_numbers(&r, "labels", lab, 16),
        nd = json_numbers(&r, "distances", dist, 16);
    CHECK(r.status == 200 && strncmp((char *)r.body, "{\"k\": 12,", 9) == 0 && ni == 12 && nl == 12 && nd == 12,
          "neighbours of image 5, k 12: %.*s", (int)r.size, r.body);
    if (ni == 12 && nl == 12 && nd == 12) {
        /* images 1, 5 and 9 have the same pixels (the pattern repeats every
         * 4 images), so the same code: a tie, broken by the lower index */
        CHECK(idx[0] == 1 && idx[1] == 5 && idx[2] == 9 && dist[0] == 0 && dist[2] == 0 && dist[3] > 0,
              "images 1, 5, 9 first at distance 0, in index order");
        int seen[12] = { 0 }, ordered = 1, right = 1;
        for (int i = 0; i < 12; i++) {
            int j = (int)idx[i];
            if (j < 0 || j >= 12 || seen[j]++) right = 0;
            if (i && dist[i] < dist[i - 1]) ordered = 0;
            if (j < 0 || j >= 12) continue;
            double d2 = 0;
            for (int v = 0; v < s->latent; v++) {
                double d = (double)s->codes[(size_t)j * 4 + v] - (double)c[v];
                d2 += d * d;
            }
            if (fabs(sqrt(d2) - dist[i]) > 1e-4 * (1 + dist[i]) || lab[i] != s->test->labels[j]) right = 0;
        }
        CHECK(ordered && right, "all 12 images once, nearest first, true distances and labels");
    }
    serve_response_free(&r);

    /* p = 0,0 of a projected latent is the mean code: the same answer as z = mean */
    r = call(s, ws, "GET", "/api/neighbours", "p", "0,0", NULL, 0);
    CHECK(r.status == 200 && strncmp((char *)r.body, "{\"k\": 8,", 8) == 0 && json_numbers(&r, "indices", idx, 16) == 8,
          "p=0,0: k 8 by default: %.*s", (int)r.size, r.body);
    char mean[256];
    snprintf(mean, sizeof mean, "%.9g,%.9g,%.9g,%.9g", (double)s->mean[0], (double)s->mean[1],
             (double)s->mean[2], (double)s->mean[3]);
    serve_response m = call(s, ws, "GET", "/api/neighbours", "z", mean, NULL, 0);
    CHECK(m.status == 200 && m.size == r.size && memcmp(m.body, r.body, r.size) == 0,
          "p=0,0 is the mean code: %.*s", (int)m.size, m.body);
    serve_response_free(&m);
    serve_response_free(&r);

    struct { const char *key, *value, *word; } bad[] = {
        { "z", "1,2", "z: 2 values, 4 expected" }, { "p", "1", "p:" }, { "q", "1", "q: unknown" },
        { NULL, NULL, "z: give either" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r = call(s, ws, "GET", "/api/neighbours", bad[i].key, bad[i].value, NULL, 0);
        CHECK(r.status == 400 && error_names(&r, bad[i].word), "neighbours %s=%s: 400 '%s'", bad[i].key,
              bad[i].value, bad[i].word);
        serve_response_free(&r);
    }
    const char *bad_k[] = { "0", "13", "51", "abc", "", NULL };
    for (const char **b = bad_k; *b; b++) {
        serve_arg a2[2] = { { "p", "0,0" }, { "k", *b } };
        serve_request q = { "GET", "/api/neighbours", a2, 2, NULL, 0 };
        serve_handle(s, ws, &q, &r);
        CHECK(r.status == 400 && error_names(&r, "k: a whole number from 1 to 12"), "k=%s of 12 images: 400 naming k", *b);
        serve_response_free(&r);
    }
    serve_arg twice[2] = { { "p", "0,0" }, { "p", "0,0" } };
    serve_request q = { "GET", "/api/neighbours", twice, 2, NULL, 0 };
    serve_handle(s, ws, &q, &r);
    CHECK(r.status == 400 && error_names(&r, "p: given twice"), "p twice: 400");
    serve_response_free(&r);
    r = call(s, ws, "HEAD", "/api/neighbours", "p", "0,0", NULL, 0);
    CHECK(r.status == 200, "HEAD neighbours: 200");
    serve_response_free(&r);
    r = call(s, ws, "POST", "/api/neighbours", "p", "0,0", NULL, 0);
    CHECK(r.status == 405 && r.allow && strcmp(r.allow, "GET, HEAD") == 0, "POST neighbours: 405");
    serve_response_free(&r);
}

/* /api/points as the router wrote it per request until 0.2.0 (every
 * array printed anew): the answer cut from the one written at start must be
 * these bytes for every limit. */
static size_t points_reference(char *out, size_t cap, const serve_state *s, const uint8_t *labels, int k)
{
    size_t at = 0;
#define PUT(...) at += (size_t)snprintf(out + at, at < cap ? cap - at : 0, __VA_ARGS__)
    PUT("{\"n\": %d, \"x\": [", k);
    for (int i = 0; i < k; i++) PUT(i ? ",%.7g" : "%.7g", (double)s->points[2 * i]);
    PUT("], \"y\": [");
    for (int i = 0; i < k; i++) PUT(i ? ",%.7g" : "%.7g", (double)s->points[2 * i + 1]);
    if (labels) {
        PUT("], \"labels\": [");
        for (int i = 0; i < k; i++) PUT(i ? ",%d" : "%d", labels[i]);
        PUT("], \"index\": [");
    } else {
        PUT("], \"labels\": null, \"index\": [");
    }
    for (int i = 0; i < k; i++) PUT(i ? ",%d" : "%d", i);
    PUT("]}\n");
#undef PUT
    return at;
}

/* /api/info's class names (the data set's, then label numbers) and noise;
 * /api/points for every limit, with labels and without. */
static void test_info_and_points(const ae_model *m, ae_workspace *ws)
{
    uint8_t pixels[12 * 64], labels[12];
    for (int i = 0; i < 12 * 64; i++) pixels[i] = (uint8_t)(i * 29 % 256);
    for (int i = 0; i < 12; i++) labels[i] = (uint8_t)(i % 4);
    char *names[] = { "cat", "dog<" };
    for (int with_labels = 1; with_labels >= 0; with_labels--) {
        ae_dataset test = { .n = 12, .c = 1, .h = 8, .w = 8, .pixels = pixels,
                            .labels = with_labels ? labels : NULL,
                            .nclasses = with_labels ? 2 : 0, .class_names = with_labels ? names : NULL };
        serve_state s;
        ae_error err = {{0}};
        CHECK(serve_state_init(&s, m, &test, "set", "vae", with_labels ? "gaussian:0.5,0.5" : NULL, 1, &err) == 0,
              "%s", err.msg);
        serve_response r = call(&s, ws, "GET", "/api/info", NULL, NULL, NULL, 0);
        const char *classes = with_labels ? "\"classes\": [\"cat\", \"dog\\u003c\", \"2\", \"3\"]"
                                          : "\"classes\": []";
        const char *noise = with_labels ? "\"noise\": \"gaussian:0.5,0.5\"" : "\"noise\": null";
        CHECK(r.status == 200 && strstr((char *)r.body, classes) && strstr((char *)r.body, noise),
              "info lists %s and %s: %.*s", classes, noise, (int)r.size, r.body);
        serve_response_free(&r);
        static char want[16384];
        for (int k = 1; k <= 12; k++) {
            char limit[8];
            snprintf(limit, sizeof limit, "%d", k);
            size_t size = points_reference(want, sizeof want, &s, test.labels, k);
            r = call(&s, ws, "GET", "/api/points", "limit", limit, NULL, 0);
            CHECK(r.status == 200 && r.size == size && memcmp(r.body, want, size) == 0,
                  "points limit %d (labels %d): %.*s", k, with_labels, (int)r.size, r.body);
            serve_response_free(&r);
        }
        r = call(&s, ws, "GET", "/api/points", NULL, NULL, NULL, 0);
        size_t size = points_reference(want, sizeof want, &s, test.labels, 12);
        CHECK(r.status == 200 && r.body_static && r.size == size && memcmp(r.body, want, size) == 0,
              "points without limit: the answer written at start");
        serve_response_free(&r);
        serve_state_free(&s);
    }
}

static void test_router(void)
{
    static const char text[] = "input 1 8 8\nloss sse\nencoder\nflatten\ndense 16\nrelu\ndense 4\n"
                               "decoder\ndense 16\nrelu\ndense 64\nreshape 1 8 8\nsigmoid\n";
    ae_error err = {{0}};
    ae_model *m = NULL;
    CHECK(ae_model_from_text(&m, text, "test", 0, &err) == 0, "%s", err.msg);
    if (!m) return;
    ae_model_init(m, 7);
    ae_dataset test = { .n = 12, .c = 1, .h = 8, .w = 8 };
    uint8_t pixels[12 * 64], labels[12];
    for (int i = 0; i < 12 * 64; i++) pixels[i] = (uint8_t)(i * 53 % 256);
    for (int i = 0; i < 12; i++) labels[i] = (uint8_t)(i % 4);
    test.pixels = pixels;
    test.labels = labels;
    serve_state s;
    ae_workspace *ws = NULL;
    /* a data set name with a quote, a newline and a tag: escaped in /api/info */
    CHECK(serve_state_init(&s, m, &test, "my\"set\n<b>", "autoencoder", NULL, 1, &err) == 0, "%s", err.msg);
    CHECK(ae_workspace_new(&ws, m, 1, &err) == 0, "%s", err.msg);
    CHECK(s.projected == 1 && s.nclasses == 4, "a 4-value latent is projected; 4 classes");

    serve_response r = call(&s, ws, "GET", "/api/info", NULL, NULL, NULL, 0);
    CHECK(r.status == 200 && strstr((char *)r.body, "\"data\": \"my\\\"set\\u000a\\u003cb\\u003e\"") &&
          strstr((char *)r.body, "\"kind\": \"pca\""), "info escapes the name: %.*s", (int)r.size, r.body);
    serve_response_free(&r);
    r = call(&s, ws, "GET", "/api/points", "limit", "5", NULL, 0);
    CHECK(r.status == 200 && strncmp((char *)r.body, "{\"n\": 5,", 8) == 0, "points limit 5");
    serve_response_free(&r);
    r = call(&s, ws, "GET", "/api/points", "limit", "13", NULL, 0);
    CHECK(r.status == 400 && error_names(&r, "limit:"), "limit 13 of 12 refused");
    serve_response_free(&r);

    /* p = 0,0 decodes the mean code */
    serve_response a = call(&s, ws, "GET", "/api/decode", "p", "0,0", NULL, 0);
    char mean[256];
    snprintf(mean, sizeof mean, "%.9g,%.9g,%.9g,%.9g", (double)s.mean[0], (double)s.mean[1],
             (double)s.mean[2], (double)s.mean[3]);
    serve_response b = call(&s, ws, "GET", "/api/decode", "z", mean, NULL, 0);
    CHECK(a.status == 200 && strcmp(a.content_type, "image/png") == 0 && b.status == 200 && a.size == b.size &&
          memcmp(a.body, b.body, a.size) == 0, "decode p=0,0 is the mean code");
    serve_response c = call(&s, ws, "GET", "/api/decode", "p", "3,-2", NULL, 0);
    CHECK(c.status == 200 && (c.size != a.size || memcmp(a.body, c.body, a.size) != 0), "another point, another image");
    serve_response_free(&b);
    serve_response_free(&c);
    r = call(&s, ws, "GET", "/api/decode", "z", "1,2", NULL, 0);
    CHECK(r.status == 400 && error_names(&r, "z: 2 values, 4 expected"), "z of 2 values refused");
    serve_response_free(&r);
    r = call(&s, ws, "GET", "/api/decode", "w", "1", NULL, 0);
    CHECK(r.status == 400 && error_names(&r, "w: unknown"), "unknown argument refused");
    serve_response_free(&r);

    /* encode the PNG decode gave: a code of 4, a point, a base64 PNG */
    r = call(&s, ws, "POST", "/api/encode", NULL, NULL, a.body, a.size);
    CHECK(r.status == 200 && strstr((char *)r.body, "\"reconstruction\": \"data:image/png;base64,iVBORw0KGgo"),
          "encode: %.*s", (int)(r.size < 200 ? r.size : 200), r.body);
    serve_response_free(&r);
    serve_response_free(&a);
    r = call(&s, ws, "POST", "/api/encode", NULL, NULL, "GIF89a", 6);
    CHECK(r.status == 400 && error_names(&r, "body:"), "a GIF body refused");
    serve_response_free(&r);
    uint8_t *big = calloc(SERVE_MAX_BODY + 1, 1);
    r = call(&s, ws, "POST", "/api/encode", NULL, NULL, big, SERVE_MAX_BODY + 1);
    CHECK(r.status == 413, "a body over the cap: 413");
    serve_response_free(&r);
    free(big);

    test_neighbours(&s, ws);
    test_info_and_points(m, ws);

    r = call(&s, ws, "GET", "/api/image/11", NULL, NULL, NULL, 0);
    CHECK(r.status == 200 && strcmp(r.content_type, "image/png") == 0, "image 11");
    serve_response_free(&r);
    r = call(&s, ws, "GET", "/api/image/12", NULL, NULL, NULL, 0);
    CHECK(r.status == 404 && error_names(&r, "N:"), "image 12: 404");
    serve_response_free(&r);
    r = call(&s, ws, "DELETE", "/api/image/1", NULL, NULL, NULL, 0);
    CHECK(r.status == 405 && r.allow && strcmp(r.allow, "GET, HEAD") == 0, "DELETE an image: 405");
    serve_response_free(&r);
    r = call(&s, ws, "GET", "/api/encode", NULL, NULL, NULL, 0);
    CHECK(r.status == 405 && r.allow && strcmp(r.allow, "POST") == 0, "GET encode: 405, Allow: POST");
    serve_response_free(&r);
    const char *missing[] = { "/api", "/api/", "/api/../api/info", "/index.html", "", "/api/info/", NULL };
    for (const char **p = missing; *p; p++) {
        r = call(&s, ws, "GET", *p, NULL, NULL, NULL, 0);
        CHECK(r.status == 404, "'%s': 404", *p);
        serve_response_free(&r);
    }
    r = call(&s, ws, "GET", "/", NULL, NULL, NULL, 0);
    CHECK(r.status == 200 && r.size == serve_page_html_len && r.body_static, "the page");
    serve_response_free(&r);

    ae_workspace_free(ws);
    serve_state_free(&s);
    ae_model_free(m);
}

int main(void)
{
    test_parsers();
    test_router();
    TEST_DONE();
}
