/* aekit serve: the API without the HTTP (the glue is cmd_serve.c). A request
 * (method, path, query arguments, body) goes in, a response (status, content
 * type, bytes) comes out, so the router can be unit-tested and fuzzed
 * (fuzz/fuzz_serve.c). The routes and their answers are documented in
 * docs/cli.md (serve). Only the public API of the library is used.        */
#ifndef AEKIT_CLI_SERVE_API_H
#define AEKIT_CLI_SERVE_API_H

#include <stddef.h>
#include <stdint.h>
#include "aekit.h"

/* Request bodies (POST /api/encode) larger than this are refused with 413
 * before they are read. */
#define SERVE_MAX_BODY (1024 * 1024)
/* Images in bodies: each side at most this many pixels, and at most
 * SERVE_MAX_PIXELS in all, refused from the header (413) before anything is
 * decompressed: a 1 MB deflate stream can claim a 16384 x 16384 image. */
#define SERVE_MAX_SIDE   4096
#define SERVE_MAX_PIXELS (4u * 1024u * 1024u)
/* Query arguments of one request kept; more is a 400. */
#define SERVE_MAX_ARGS 8

/* What the server knows, computed once at start (serve_state_init) and
 * read-only afterwards: any number of threads may answer from it at once. */
typedef struct {
    const ae_model   *model;
    const ae_dataset *test;        /* the test images (for /api/image/N)      */
    const char       *data_name;   /* as given (--data), for /api/info        */
    const char       *kind;        /* "autoencoder", "vae", "aae", "denoiser",
                                      "super-resolution"                      */
    const char       *noise;       /* the training noise ("gaussian:0.5,0.5"),
                                      NULL when trained without              */
    int    in_c, in_h, in_w, out_c, out_h, out_w;
    int    latent;                 /* floats per code                         */
    int    n;                      /* test images encoded                     */
    float *codes;                  /* n x latent                              */
    float *points;                 /* n x 2: the plane                        */
    int    projected;              /* 1: points are PCA of the codes          */
    float *mean, *components;      /* latent, 2 x latent (when projected)     */
    int    nclasses;               /* classes listed: the data set's names,
                                      then label numbers (0 when no labels)  */
    char  *points_json;            /* /api/points of all n images          */
    size_t points_json_size;
    size_t points_head;            /* its bytes before "x"                   */
    size_t *point_ends;            /* 4 x n: where element i of x, y, labels,
                                      index ends in points_json              */
} serve_state;

/* Encodes the test images, projects the codes on the plane (as they are
 * for a 2-value latent, else their first two principal components), counts
 * the classes (their names: ae_dataset_class_name, else the label numbers)
 * and writes /api/points's answer. `kind` and `noise` as above; test, the
 * texts and m must outlive s. 0, or -1 with err. */
int  serve_state_init(serve_state *s, const ae_model *m, const ae_dataset *test,
                      const char *data_name, const char *kind, const char *noise, int threads,
                      ae_error *err);
void serve_state_free(serve_state *s);

typedef struct {
    const char *key, *value;
} serve_arg;

typedef struct {
    const char      *method;   /* "GET", "POST", ...                         */
    const char      *path;     /* without the query string                   */
    const serve_arg *args;     /* the query's key=value pairs, decoded       */
    int              nargs;
    const uint8_t   *body;
    size_t           body_size;
} serve_request;

typedef struct {
    int         status;        /* 200, 400, 404, 405, 413, 500               */
    const char *content_type;  /* a static string                            */
    const char *allow;         /* the Allow header of a 405, else NULL       */
    uint8_t    *body;          /* malloc'd (serve_response_free), or static  */
    size_t      size;
    int         body_static;   /* 1: body is not to be freed (the page)      */
} serve_response;

/* The page (src/cli/serve_page.html, compiled in at build time). */
extern const char   serve_page_html[];
extern const size_t serve_page_html_len;

/* Answers one request. ws: a workspace of s->model for this thread's use
 * only (1 thread). Never fails without a response: errors are JSON
 * {"error": "..."} with their status. */
void serve_handle(const serve_state *s, ae_workspace *ws, const serve_request *rq,
                  serve_response *out);
void serve_response_free(serve_response *r);

#endif
