/* Seeded random numbers: xoshiro256** seeded through splitmix64, so a seed
 * gives the same stream on every machine. Independent streams for threads
 * or purposes come from ae_rng_split, never from sharing one state.      */
#ifndef AEKIT_CORE_RNG_H
#define AEKIT_CORE_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct { uint64_t s[4]; } ae_rng;

/* Never the all-zero state (see ae_rng_valid). */
void     ae_rng_seed(ae_rng *r, uint64_t seed);
/* 0 for the all-zero state: xoshiro256** stays in it (every draw 0) and
 * never reaches it from any other, so only a corrupt stored state has it. */
int      ae_rng_valid(const ae_rng *r);
/* A new generator whose stream does not overlap r's in practice; advances r. */
ae_rng   ae_rng_split(ae_rng *r);
uint64_t ae_rng_u64(ae_rng *r);
/* Uniform in [0, 1) with 24 random bits. */
float    ae_rng_uniform(ae_rng *r);
/* Uniform integer in [0, n) without modulo bias; at most 65 draws. */
uint32_t ae_rng_below(ae_rng *r, uint32_t n);
/* Standard normal (Box-Muller, one value per call). */
float    ae_rng_normal(ae_rng *r);
/* n standard normals: the values of n ae_rng_normal calls, bit for bit, and
 * r left where they leave it (eight at a time on AVX-512: rng_normals.c). */
void     ae_rng_normals(ae_rng *r, float *out, size_t n);
/* ae_rng_normals on eight generators at once: n normals of r[k] into
 * out[k] (on AVX-512 the eight streams run in the lanes of one vector). */
void     ae_rng_normals_x8(ae_rng r[8], float *const out[8], size_t n);
/* The normal ae_rng_normal makes of its two draws' top 53 bits a (for
 * u1 = (a + 1) / 2^53) and b (u2 = b / 2^53); ae_normals_from_bits makes n. */
float    ae_normal_from_bits(uint64_t a, uint64_t b);
void     ae_normals_from_bits(float *out, const uint64_t *a, const uint64_t *b, size_t n);
/* Fisher-Yates shuffle of idx[0..n). */
void     ae_rng_shuffle(ae_rng *r, uint32_t *idx, uint32_t n);

#endif
