/* aekit serve's strict value parsers (serve_parse.h). */
#include "serve_parse.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* Length of the number at s in the one grammar accepted:
 * -?digits(.digits)?([eE]-?digits)? ; 0 when s does not start with one. */
static size_t number_length(const char *s)
{
    size_t i = 0;
    if (s[i] == '-') i++;
    size_t d = i;
    while (is_digit(s[i])) i++;
    if (i == d) return 0;
    if (s[i] == '.') {
        size_t f = ++i;
        while (is_digit(s[i])) i++;
        if (i == f) return 0;
    }
    if (s[i] == 'e' || s[i] == 'E') {
        i++;
        if (s[i] == '-') i++;
        size_t e = i;
        while (is_digit(s[i])) i++;
        if (i == e) return 0;
    }
    return i;
}

int serve_parse_floats(const char *text, int n, float *out, char *why, size_t why_size)
{
    if (!text || !*text) {
        snprintf(why, why_size, "no values (%d expected)", n);
        return -1;
    }
    if (strlen(text) > SERVE_MAX_VALUE_LEN) {
        snprintf(why, why_size, "longer than %d bytes", SERVE_MAX_VALUE_LEN);
        return -1;
    }
    int count = 0;
    const char *s = text;
    for (;;) {
        size_t len = number_length(s);
        if (len == 0 || len > 64) {
            snprintf(why, why_size, "value %d is not a decimal number", count + 1);
            return -1;
        }
        char buf[65];
        memcpy(buf, s, len);
        buf[len] = '\0';
        errno = 0;
        double v = strtod(buf, NULL);
        if (!isfinite(v) || fabs(v) > SERVE_MAX_ABS) {
            snprintf(why, why_size, "value %d is out of range (-%g to %g)", count + 1,
                     SERVE_MAX_ABS, SERVE_MAX_ABS);
            return -1;
        }
        if (count < n) out[count] = (float)v;
        count++;
        s += len;
        if (*s == '\0') break;
        if (*s != ',') {
            snprintf(why, why_size, "value %d is not a decimal number", count);
            return -1;
        }
        s++;
    }
    if (count != n) {
        snprintf(why, why_size, "%d value%s, %d expected", count, count == 1 ? "" : "s", n);
        return -1;
    }
    return 0;
}

/* Decimal digits without a leading zero (or "0"), at most 9 of them. */
static int parse_index(const char *text, long *out)
{
    size_t len = strlen(text);
    if (len == 0 || len > 9) return -1;
    for (size_t i = 0; i < len; i++)
        if (!is_digit(text[i])) return -1;
    if (text[0] == '0' && len > 1) return -1;
    *out = strtol(text, NULL, 10);
    return 0;
}

int serve_parse_count(const char *text, int max, int *out, char *why, size_t why_size)
{
    long v;
    if (!text || parse_index(text, &v) != 0 || v < 1 || v > max) {
        snprintf(why, why_size, "a whole number from 1 to %d expected", max);
        return -1;
    }
    *out = (int)v;
    return 0;
}

int serve_parse_image_path(const char *path, int n, int *index, char *why, size_t why_size)
{
    static const char prefix[] = "/api/image/";
    if (!path || strncmp(path, prefix, sizeof prefix - 1) != 0) return 1;
    const char *tail = path + sizeof prefix - 1;
    long v;
    if (parse_index(tail, &v) != 0) {
        if (strchr(tail, '/') || strstr(tail, "..")) return 1; /* another path: not found */
        snprintf(why, why_size, "N: a whole number from 0 to %d expected", n - 1);
        return -1;
    }
    if (v >= n) {
        snprintf(why, why_size, "N: no test image %ld (0 to %d)", v, n - 1);
        return -2;
    }
    *index = (int)v;
    return 0;
}
