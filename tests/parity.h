/* Loading PyTorch parity fixtures (tests/fixtures/<case>.safetensors, written
 * by tests/gen_fixtures.py; see docs/parity.md): open_fixture, meta_int and
 * get each count a failed CHECK when the fixture, key or tensor is missing.
 * Include after test.h (CHECK). */
#ifndef AEKIT_TEST_PARITY_H
#define AEKIT_TEST_PARITY_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/safetensors.h"

#ifndef AEKIT_FIXTURES
#define AEKIT_FIXTURES "tests/fixtures"
#endif

static inline int open_fixture(st_file *f, const char *name)
{
    char path[1024];
    ae_error err;
    err.msg[0] = 0;
    snprintf(path, sizeof path, "%s/%s.safetensors", AEKIT_FIXTURES, name);
    memset(f, 0, sizeof *f);
    int rc = st_read(f, path, &err);
    CHECK(rc == 0, "missing or unreadable fixture: %s (regenerate: /usr/bin/python3 "
          "tests/gen_fixtures.py)", err.msg);
    return rc;
}

/* Integer case parameter from __metadata__; -1 (and a failure) if absent. */
static inline int meta_int(const st_file *f, const char *key)
{
    const char *v = st_meta(f, key);
    CHECK(v != NULL, "%s: no metadata key \"%s\"", f->path, key);
    return v ? atoi(v) : -1;
}

/* n floats set to v (at least one allocated); exits with status 2 when out
 * of memory. */
static inline float *alloc_fill(size_t n, float v)
{
    float *p = malloc((n ? n : 1) * sizeof *p);
    if (!p) { fprintf(stderr, "out of memory\n"); exit(2); }
    for (size_t i = 0; i < n; i++) p[i] = v;
    return p;
}

/* Tensor `name` as float32 (count elements), or NULL after a failure. */
static inline float *get(const st_file *f, const char *name, size_t count)
{
    ae_error err;
    err.msg[0] = 0;
    float *p = alloc_fill(count, 0.0f);
    int rc = st_get_f32(f, name, p, count, &err);
    CHECK(rc == 0, "%s", err.msg);
    if (rc) { free(p); return NULL; }
    return p;
}

#endif
