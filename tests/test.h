/* A tiny assertion harness: CHECK keeps going and counts failures; each test
 * program ends with TEST_DONE(), which prints "N passed, M failed" and
 * returns non-zero on any failure. */
#ifndef AEKIT_TEST_H
#define AEKIT_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int test_passed, test_failed;

#define CHECK(cond, ...)                                                     \
    do {                                                                     \
        if (cond) {                                                          \
            test_passed++;                                                   \
        } else {                                                             \
            test_failed++;                                                   \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);  \
            fprintf(stderr, __VA_ARGS__);                                    \
            fprintf(stderr, "\n");                                           \
        }                                                                    \
    } while (0)

/* |a - b| <= atol + rtol * |b| */
#define CHECK_CLOSE(a, b, rtol, atol, ...)                                   \
    CHECK(fabs((double)(a) - (double)(b)) <= (atol) + (rtol) * fabs((double)(b)), __VA_ARGS__)

#define TEST_DONE()                                                          \
    do {                                                                     \
        printf("%d passed, %d failed\n", test_passed, test_failed);          \
        return test_failed ? 1 : 0;                                          \
    } while (0)

/* A whole file as a NUL-terminated string (caller frees), or NULL. */
static inline char *test_read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) { free(s); s = NULL; }
    if (s) s[n] = 0;
    fclose(f);
    return s;
}

/* Largest |a-b| / (atol + |b|) over n floats, for array comparisons; the
 * index of the worst element goes to *at when at != NULL. */
static inline double test_max_rel_at(const float *a, const float *b, size_t n, double atol, size_t *at)
{
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]) / (atol + fabs((double)b[i]));
        if (!(d <= worst)) { /* NaN propagates as worst */
            worst = d;
            if (at) *at = i;
        }
    }
    return worst;
}

static inline double test_max_rel(const float *a, const float *b, size_t n, double atol)
{
    return test_max_rel_at(a, b, n, atol, NULL);
}

#endif
