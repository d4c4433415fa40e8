/* Input corruption inside the library (the public half: aekit.h). */
#ifndef AEKIT_DATA_NOISE_H
#define AEKIT_DATA_NOISE_H

#include <stddef.h>
#include <stdint.h>

#include "aekit.h"

/* ae_noise_apply on n images whose indices (which seed their streams) are
 * index[0..n), or first_index + i when index is NULL: the same noise as n
 * calls of ae_noise_apply, with the gaussian drawn for eight images at once. */
void noise_apply_images(const ae_noise *nz, float *x, int n, size_t size, uint64_t seed,
                        const uint32_t *index, uint64_t first_index);

#endif
