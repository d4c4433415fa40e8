#include "core/rng.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* splitmix64 is a bijection of its counter, so the four words come from four
 * distinct counters and are distinct: at most one is zero, and the state is
 * never the all-zero one xoshiro256** would stay in (ae_rng_valid). */
void ae_rng_seed(ae_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t ae_rng_u64(ae_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

ae_rng ae_rng_split(ae_rng *r)
{
    ae_rng child;
    ae_rng_seed(&child, ae_rng_u64(r));
    return child;
}

float ae_rng_uniform(ae_rng *r)
{
    return (float)(ae_rng_u64(r) >> 40) * (1.0f / 16777216.0f);
}

int ae_rng_valid(const ae_rng *r)
{
    return (r->s[0] | r->s[1] | r->s[2] | r->s[3]) != 0;
}

/* Redraws of ae_rng_below. A draw is rejected with probability
 * (2^32 mod n) / 2^32 < 1/2, so a valid stream uses them all with
 * probability below 2^-64 per call: the cap changes no result in practice,
 * but bounds the loop whatever the state (the all-zero state rejects every
 * draw for any n but a power of two). */
#define BELOW_MAX_REDRAWS 64

uint32_t ae_rng_below(ae_rng *r, uint32_t n)
{
    /* Lemire's multiply-shift with rejection. */
    uint64_t m = (ae_rng_u64(r) >> 32) * (uint64_t)n;
    uint32_t lo = (uint32_t)m;
    if (lo < n) {
        uint32_t thresh = (uint32_t)(-n) % n;
        for (int k = 0; k < BELOW_MAX_REDRAWS && lo < thresh; k++) {
            m = (ae_rng_u64(r) >> 32) * (uint64_t)n;
            lo = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);   /* after the cap: the last draw, still < n */
}

float ae_rng_normal(ae_rng *r)
{
    uint64_t a = ae_rng_u64(r) >> 11;
    return ae_normal_from_bits(a, ae_rng_u64(r) >> 11);
}

void ae_rng_shuffle(ae_rng *r, uint32_t *idx, uint32_t n)
{
    for (uint32_t i = n; i > 1; i--) {
        uint32_t j = ae_rng_below(r, i);
        uint32_t t = idx[i - 1];
        idx[i - 1] = idx[j];
        idx[j] = t;
    }
}
