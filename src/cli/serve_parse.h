/* aekit serve: the strict parsers of a request's values (query strings and
 * the path of /api/image/N). Each takes untrusted text and accepts only what
 * the API documents (docs/cli.md, serve): anything else is refused, never
 * guessed at. No HTTP here, so the fuzz harness (fuzz/fuzz_serve.c) and the
 * tests call them directly.                                                 */
#ifndef AEKIT_CLI_SERVE_PARSE_H
#define AEKIT_CLI_SERVE_PARSE_H

#include <stddef.h>

/* A value may be at most this large in magnitude (z, p): far beyond any
 * code a model makes, small enough that decoding cannot overflow. */
#define SERVE_MAX_ABS 1000.0
/* The longest query value read (a latent of 4,096 values at 20 bytes each
 * would not fit: serve decodes latents of up to SERVE_MAX_LATENT values). */
#define SERVE_MAX_LATENT 4096
#define SERVE_MAX_VALUE_LEN (SERVE_MAX_LATENT * 24)

/* "v1,v2,...": exactly n decimal numbers (an optional '-', digits with an
 * optional fraction and exponent: no spaces, '+', hex, inf or nan), each
 * finite and at most SERVE_MAX_ABS in magnitude, into out[0..n). 0, or -1
 * with the reason in why (e.g. "3 values, the latent has 2"). */
int serve_parse_floats(const char *text, int n, float *out, char *why, size_t why_size);

/* /api/neighbours: k nearest test images, 1 to this many (and never more
 * than the images served), SERVE_DEFAULT_NEIGHBOURS when k is absent. A
 * fixed bound so a request keeps its k best in a buffer on the stack. */
#define SERVE_MAX_NEIGHBOURS     50
#define SERVE_DEFAULT_NEIGHBOURS 8

/* "N": a count 1..max in decimal digits (no sign, no leading zero). 0 or -1. */
int serve_parse_count(const char *text, int max, int *out, char *why, size_t why_size);

/* The image index of a path "/api/image/N" (N in decimal digits, no
 * leading zero, below n): 0 with *index set; 1 when the path is not of that
 * form (another route, or not found); -1 when N is not a number, -2 when
 * it is past the last image (why says which). */
int serve_parse_image_path(const char *path, int n, int *index, char *why, size_t why_size);

#endif
