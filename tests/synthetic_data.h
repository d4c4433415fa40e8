/* A small data set of smooth random 1x28x28 images for tests that train:
 * the same pixels for the same (n, seed), freed with ae_dataset_free. */
#ifndef AEKIT_TEST_SYNTHETIC_DATA_H
#define AEKIT_TEST_SYNTHETIC_DATA_H

#include "aekit.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static inline ae_dataset *synthetic_data(int n, uint32_t seed)
{
    ae_dataset *ds = calloc(1, sizeof *ds);
    ds->n = n;
    ds->c = 1;
    ds->h = ds->w = 28;
    ds->pixels = malloc((size_t)n * 784);
    uint32_t x = seed;
    for (int i = 0; i < n; i++)
        for (int p = 0; p < 784; p++) {
            x = x * 1664525u + 1013904223u;
            int r = p / 28, c = p % 28;
            ds->pixels[(size_t)i * 784 + p] = (uint8_t)(((r * (i % 7 + 1) + c * 3) % 200) + (x >> 29));
        }
    snprintf(ds->source, sizeof ds->source, "synthetic-%u", seed);
    return ds;
}

#endif
