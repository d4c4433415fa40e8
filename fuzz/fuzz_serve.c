/* libFuzzer harness: aekit serve's request parsers and router
 * (src/cli/serve_parse.c, serve_api.c), without HTTP.
 *
 * The input is a request as lines: "METHOD\nPATH\nQUERY\nBODY" (QUERY as
 * key=value pairs joined by '&', no %-decoding: MHD hands the router decoded
 * values); missing lines are empty. It goes through serve_handle on a small
 * dense model with a 4-value latent (so the plane is a PCA projection) and
 * 16 random 1x8x8 test images; then the value parsers directly on the QUERY
 * text. Promises checked: every response has a status from the documented
 * list, a content type and a body; a JSON body is one line ending in "\n";
 * a 200 of decode / image is a PNG; parsers that accept give finite values
 * within their bounds. */
#include "fuzz_common.h"

#include <math.h>

#include "aekit.h"
#include "serve_api.h"
#include "serve_parse.h"

const char serve_page_html[] = "<!doctype html><title>fuzz</title>";
const size_t serve_page_html_len = sizeof serve_page_html - 1;

static const char model_text[] =
    "input 1 8 8\n"
    "loss sse\n"
    "encoder\nflatten\ndense 16\nrelu\ndense 4\n"
    "decoder\ndense 16\nrelu\ndense 64\nreshape 1 8 8\nsigmoid\n";

static serve_state state;
static ae_workspace *ws;
static ae_model *model;
static ae_dataset test;

static void setup(void)
{
    ae_error err;
    if (ae_model_from_text(&model, model_text, "fuzz", 0, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        abort();
    }
    ae_model_init(model, 1);
    test.n = 16;
    test.c = 1;
    test.h = test.w = 8;
    test.pixels = malloc(16 * 64);
    test.labels = malloc(16);
    if (!test.pixels || !test.labels) abort();
    for (int i = 0; i < 16 * 64; i++) test.pixels[i] = (uint8_t)(i * 37 % 251);
    for (int i = 0; i < 16; i++) test.labels[i] = (uint8_t)(i % 3);
    snprintf(test.source, sizeof test.source, "fuzz");
    if (serve_state_init(&state, model, &test, "fashion-mnist", "autoencoder", NULL, 1, &err) != 0 ||
        ae_workspace_new(&ws, model, 1, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        abort();
    }
}

/* The next line of *s (cut at '\n', which is replaced by '\0'). */
static char *next_line(char **s)
{
    char *line = *s, *nl = strchr(line, '\n');
    if (nl) {
        *nl = '\0';
        *s = nl + 1;
    } else {
        *s = line + strlen(line);
    }
    return line;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!model) setup();
    char *text = malloc(size + 1);
    if (!text) abort();
    memcpy(text, data, size);
    text[size] = '\0';
    char *rest = text;
    char *method = next_line(&rest), *path = next_line(&rest), *query = next_line(&rest);
    char *body = rest;
    size_t body_size = size - (size_t)(body - text);
    if (body_size > size) body_size = 0;

    /* the query's pairs (a copy: the parsers below read the whole text) */
    char *qcopy = strdup(query);
    if (!qcopy) abort();
    serve_arg args[SERVE_MAX_ARGS + 2];
    int nargs = 0;
    for (char *save = NULL, *pair = strtok_r(qcopy, "&", &save); pair && nargs < SERVE_MAX_ARGS + 2;
         pair = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(pair, '=');
        if (eq) *eq = '\0';
        args[nargs++] = (serve_arg){ pair, eq ? eq + 1 : NULL };
    }
    serve_request rq = { method, path, args, nargs, (const uint8_t *)body, body_size };
    serve_response r;
    serve_handle(&state, ws, &rq, &r);
    int st = r.status;
    if (!(st == 200 || st == 400 || st == 404 || st == 405 || st == 413 || st == 500) || !r.content_type ||
        !r.body || r.size == 0)
        abort();
    if (strcmp(r.content_type, "application/json") == 0) {
        if (r.body[r.size - 1] != '\n' || memchr(r.body, '\n', r.size - 1)) abort();
    } else if (strcmp(r.content_type, "image/png") == 0) {
        if (r.size < 8 || memcmp(r.body, "\x89PNG", 4) != 0) abort();
    }
    if (st == 405 && !r.allow) abort();
    serve_response_free(&r);
    free(qcopy);

    /* the parsers on the raw query text */
    float v[8];
    char why[160];
    for (int n = 1; n <= 8; n++)
        if (serve_parse_floats(query, n, v, why, sizeof why) == 0)
            for (int i = 0; i < n; i++)
                if (!isfinite(v[i]) || fabsf(v[i]) > SERVE_MAX_ABS) abort();
    int count = 0;
    if (serve_parse_count(query, 100, &count, why, sizeof why) == 0 && (count < 1 || count > 100)) abort();
    int index = -1;
    if (serve_parse_image_path(path, 16, &index, why, sizeof why) == 0 && (index < 0 || index >= 16)) abort();
    free(text);
    return 0;
}
