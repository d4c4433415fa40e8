/* Input corruption for denoising autoencoders. Each image draws from its own
 * stream seeded by (seed, image index): the same image always gets the same
 * noise, whatever the batch order or thread count. */
#include "aekit.h"
#include "core/error.h"
#include "core/rng.h"
#include "data/noise.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t ae_noise_format(const ae_noise *nz, char *buf, size_t size)
{
    int n;
    switch (nz->kind) {
    case AE_NOISE_GAUSSIAN:    n = snprintf(buf, size, "gaussian:%g,%g", nz->mean, nz->std); break;
    case AE_NOISE_SALT_PEPPER: n = snprintf(buf, size, "saltpepper:%g", nz->p); break;
    default:                   n = snprintf(buf, size, "none"); break;
    }
    return n < 0 ? 0 : (size_t)n;
}

int ae_noise_parse(ae_noise *nz, const char *text, ae_error *err)
{
    memset(nz, 0, sizeof *nz);
    if (strcmp(text, "none") == 0) return 0;
    char *end;
    if (strncmp(text, "gaussian:", 9) == 0) {
        errno = 0;
        double mean = strtod(text + 9, &end);
        if (errno || end == text + 9 || *end != ',')
            return ae_fail(err, "noise '%s': expected gaussian:MEAN,STD (e.g. gaussian:0.5,0.5)", text);
        const char *s = end + 1;
        double std = strtod(s, &end);
        /* both are stored as floats: a larger number would become infinite */
        if (errno || end == s || *end || !(fabs(mean) <= FLT_MAX) || !(std >= 0 && std <= FLT_MAX))
            return ae_fail(err, "noise '%s': expected gaussian:MEAN,STD with STD >= 0 (both finite float numbers)", text);
        nz->kind = AE_NOISE_GAUSSIAN;
        nz->mean = (float)mean;
        nz->std = (float)std;
        return 0;
    }
    if (strncmp(text, "saltpepper:", 11) == 0) {
        errno = 0;
        double p = strtod(text + 11, &end);
        if (errno || end == text + 11 || *end || !(p >= 0 && p <= 1))
            return ae_fail(err, "noise '%s': expected saltpepper:P with P in [0, 1]", text);
        nz->kind = AE_NOISE_SALT_PEPPER;
        nz->p = (float)p;
        return 0;
    }
    return ae_fail(err, "noise '%s': expected gaussian:MEAN,STD, saltpepper:P or none", text);
}

/* Normals drawn at a time per image (ae_rng_normals: vectorised). */
enum { NORMALS_BLOCK = 256 };

static ae_rng image_stream(uint64_t seed, uint64_t index)
{
    ae_rng r;
    ae_rng_seed(&r, seed ^ (0xd1b54a32d192ed03ULL * (index + 1)));
    return r;
}

/* x + mean + std g, clipped to [0, 1]: the same float operations whatever
 * path drew g. */
static void add_gaussian(const ae_noise *nz, float *img, const float *g, size_t cnt)
{
    for (size_t j = 0; j < cnt; j++) {
        float v = img[j] + nz->mean + nz->std * g[j];
        img[j] = v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
    }
}

void noise_apply_images(const ae_noise *nz, float *x, int n, size_t size, uint64_t seed,
                        const uint32_t *index, uint64_t first_index)
{
    if (!nz || nz->kind == AE_NOISE_NONE) return;
#define IMAGE_INDEX(i) (index ? (uint64_t)index[i] : first_index + (uint64_t)(i))
    int i = 0;
    if (nz->kind == AE_NOISE_GAUSSIAN)   /* eight images' streams at a time */
        for (; i + 8 <= n; i += 8) {
            ae_rng r[8];
            float g[8][NORMALS_BLOCK];
            float *const out[8] = { g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7] };
            for (int k = 0; k < 8; k++) r[k] = image_stream(seed, IMAGE_INDEX(i + k));
            for (size_t j0 = 0; j0 < size; j0 += NORMALS_BLOCK) {
                size_t cnt = size - j0 < NORMALS_BLOCK ? size - j0 : NORMALS_BLOCK;
                ae_rng_normals_x8(r, out, cnt);
                for (int k = 0; k < 8; k++) add_gaussian(nz, x + (size_t)(i + k) * size + j0, g[k], cnt);
            }
        }
    for (; i < n; i++) {
        ae_rng r = image_stream(seed, IMAGE_INDEX(i));
        float *img = x + (size_t)i * size;
        if (nz->kind == AE_NOISE_GAUSSIAN) {
            float g[NORMALS_BLOCK];
            for (size_t j0 = 0; j0 < size; j0 += NORMALS_BLOCK) {
                size_t cnt = size - j0 < NORMALS_BLOCK ? size - j0 : NORMALS_BLOCK;
                ae_rng_normals(&r, g, cnt);
                add_gaussian(nz, img + j0, g, cnt);
            }
        } else {
            for (size_t j = 0; j < size; j++) {
                float u = ae_rng_uniform(&r);
                if (u < nz->p) img[j] = u < 0.5f * nz->p ? 0.0f : 1.0f;
            }
        }
    }
#undef IMAGE_INDEX
}

void ae_noise_apply(const ae_noise *nz, float *x, int n, size_t size, uint64_t seed, uint64_t first_index)
{
    noise_apply_images(nz, x, n, size, seed, NULL, first_index);
}
