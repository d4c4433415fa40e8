/* The random number generator (src/core/rng.c): ae_rng_below draws exactly
 * the numbers of Lemire's unbounded rejection loop (so seeded runs stay
 * bit-identical), yet ends whatever the state: a shuffle from the all-zero
 * state, which rejects every draw, returns a permutation instead of
 * spinning; seeding never gives that state, even when a splitmix64 word is
 * zero. A hang is turned into a failure by alarm(). */
#define _POSIX_C_SOURCE 200809L
#include "test.h"
#include "core/rng.h"
#include "data/noise.h"

#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

enum { HANG_SECONDS = 60 };

static void on_alarm(int sig)
{
    (void)sig;
    static const char msg[] = "FAIL: a random draw did not end within 60 s (unbounded loop)\n";
    if (write(STDERR_FILENO, msg, sizeof msg - 1) < 0) { /* nothing more to do */ }
    _exit(1);
}

/* Lemire's multiply-shift with an unbounded rejection loop: the reference. */
static uint32_t below_unbounded(ae_rng *r, uint32_t n)
{
    uint64_t m = (ae_rng_u64(r) >> 32) * (uint64_t)n;
    uint32_t lo = (uint32_t)m;
    if (lo < n) {
        uint32_t thresh = (uint32_t)(-n) % n;
        while (lo < thresh) {
            m = (ae_rng_u64(r) >> 32) * (uint64_t)n;
            lo = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

static void check_same_draws(void)
{
    /* 2^31 + 1 rejects almost half of the draws: long redraw runs */
    const uint32_t ns[] = { 1, 2, 3, 7, 10, 60000, 65537, 1000003, 0x80000001u, 0xc0000000u, 0xffffffffu };
    for (size_t k = 0; k < sizeof ns / sizeof ns[0]; k++) {
        ae_rng a, b;
        ae_rng_seed(&a, 1234 + k);
        b = a;
        int same = 1, in_range = 1;
        for (int i = 0; i < 200000 && same; i++) {
            uint32_t x = ae_rng_below(&a, ns[k]), y = below_unbounded(&b, ns[k]);
            same = x == y && memcmp(&a, &b, sizeof a) == 0;
            in_range &= x < ns[k];
        }
        CHECK(same, "ae_rng_below(%u) draws differ from the unbounded rejection loop", ns[k]);
        CHECK(in_range, "ae_rng_below(%u) out of range", ns[k]);
    }
}

static void check_zero_state(void)
{
    enum { N = 1000 };
    static uint32_t idx[N];
    uint8_t seen[N] = { 0 };
    for (uint32_t i = 0; i < N; i++) idx[i] = i;
    ae_rng zero;
    memset(&zero, 0, sizeof zero);
    alarm(HANG_SECONDS);
    ae_rng_shuffle(&zero, idx, N);
    uint32_t x = ae_rng_below(&zero, 3);
    alarm(0);
    int perm = 1;
    for (uint32_t i = 0; i < N; i++) {
        perm &= idx[i] < N && !seen[idx[i]];
        if (idx[i] < N) seen[idx[i]] = 1;
    }
    CHECK(perm, "the shuffle from the all-zero state is not a permutation");
    CHECK(x < 3, "ae_rng_below(3) from the all-zero state gave %u", x);
}

static void check_seeding(void)
{
    /* seed -0x9e3779b97f4a7c15: splitmix64's first counter is 0, its output 0 */
    const uint64_t seeds[] = { 0, 1, 0x61c8864680b583ebULL, UINT64_MAX };
    for (size_t k = 0; k < sizeof seeds / sizeof seeds[0]; k++) {
        ae_rng r;
        ae_rng_seed(&r, seeds[k]);
        CHECK((r.s[0] | r.s[1] | r.s[2] | r.s[3]) != 0, "seed %llu gives the all-zero state",
              (unsigned long long)seeds[k]);
        ae_rng child = ae_rng_split(&r);
        CHECK((child.s[0] | child.s[1] | child.s[2] | child.s[3]) != 0, "a split stream is all-zero");
    }
    ae_rng r;
    ae_rng_seed(&r, 0x61c8864680b583ebULL);
    CHECK(r.s[0] == 0, "the edge seed no longer zeroes a word (test assumption)");
}

/* ae_rng_normals and ae_normals_from_bits give ae_rng_normal's floats bit
 * for bit on the SIMD path in use (AVX-512: a log and cos of our own with
 * a libm fallback, rng_normals.c): over millions of random draws (where a
 * rounding difference would show about once per million without the
 * fallback) and over edge words: u1 = 1 and its smallest value, u2 = 0 and
 * cos's zeros at u2 = 1/4 and 3/4 with their neighbours. */
static int same_bits(float x, float y) { return memcmp(&x, &y, sizeof x) == 0; }

static void check_normals(void)
{
    enum { N = 1 << 22 };
    static float fast[N];
    const size_t counts[] = { 0, 1, 7, 8, 9, 255, 256, 257, N };
    for (size_t k = 0; k < sizeof counts / sizeof counts[0]; k++) {
        ae_rng a, b;
        ae_rng_seed(&a, 77 + k);
        b = a;
        ae_rng_normals(&a, fast, counts[k]);
        size_t bad = 0;
        for (size_t i = 0; i < counts[k]; i++) bad += !same_bits(fast[i], ae_rng_normal(&b));
        CHECK(bad == 0, "%zu of %zu normals differ from ae_rng_normal's", bad, counts[k]);
        CHECK(memcmp(&a, &b, sizeof a) == 0, "ae_rng_normals(%zu) leaves another state", counts[k]);
    }

    const uint64_t top = (1ULL << 53) - 1, quarter = 1ULL << 51;
    const uint64_t as[] = { 0, 1, 2, top, top - 1, 1ULL << 52, (1ULL << 52) - 1, 0x16a09e667f3bcdULL };
    const uint64_t bs[] = { 0, 1, top, quarter, quarter - 1, quarter + 1, 3 * quarter, 3 * quarter - 1,
                            3 * quarter + 1, 2 * quarter, 4 * quarter - 1, quarter / 2 };
    enum { NA = sizeof as / sizeof as[0], NB = sizeof bs / sizeof bs[0] };
    uint64_t wa[NA * NB], wb[NA * NB];
    float got[NA * NB];
    for (size_t i = 0; i < NA; i++)
        for (size_t j = 0; j < NB; j++) { wa[i * NB + j] = as[i]; wb[i * NB + j] = bs[j]; }
    ae_normals_from_bits(got, wa, wb, NA * NB);
    for (size_t i = 0; i < NA * NB; i++) {
        float want = ae_normal_from_bits(wa[i], wb[i]);
        CHECK(same_bits(got[i], want), "the normal of words %#llx, %#llx is %a, not %a",
              (unsigned long long)wa[i], (unsigned long long)wb[i], (double)got[i], (double)want);
    }
}

/* Eight streams at once: the same normals and end states as one at a time. */
static void check_normals_x8(void)
{
    enum { MAXN = 1000 };
    static float got[8][MAXN];
    const size_t counts[] = { 0, 1, 7, 257, MAXN };
    for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
        ae_rng r[8], ref[8];
        float *const out[8] = { got[0], got[1], got[2], got[3], got[4], got[5], got[6], got[7] };
        for (int k = 0; k < 8; k++) { ae_rng_seed(&r[k], 500 + 8 * c + k); ref[k] = r[k]; }
        ae_rng_normals_x8(r, out, counts[c]);
        size_t bad = 0;
        for (int k = 0; k < 8; k++) {
            for (size_t j = 0; j < counts[c]; j++) bad += !same_bits(got[k][j], ae_rng_normal(&ref[k]));
            CHECK(memcmp(&r[k], &ref[k], sizeof r[k]) == 0, "stream %d ends in another state (n %zu)", k, counts[c]);
        }
        CHECK(bad == 0, "%zu of 8 x %zu normals differ from ae_rng_normal's", bad, counts[c]);
    }
}

/* Gaussian input noise on images with scattered indices (as a training
 * chunk), eight images at a time and then the rest, against ae_noise_apply's
 * rule written out: each image from its own stream, one ae_rng_normal per
 * pixel, x + mean + std g clipped to [0, 1]. */
static void check_noise_images(void)
{
    enum { N = 19, SIZE = 300 };
    static float x[N * SIZE], want[N * SIZE];
    uint32_t index[N];
    const ae_noise nz = { AE_NOISE_GAUSSIAN, 0.1f, 0.5f, 0.0f };
    const uint64_t seed = 0x5eed;
    for (int i = 0; i < N; i++) index[i] = (uint32_t)(i * 7919 % 1000);
    for (size_t j = 0; j < (size_t)N * SIZE; j++) x[j] = want[j] = (float)(j % 17) / 16.0f;
    for (int i = 0; i < N; i++) {
        ae_rng r;
        ae_rng_seed(&r, seed ^ (0xd1b54a32d192ed03ULL * ((uint64_t)index[i] + 1)));
        for (size_t j = 0; j < SIZE; j++) {
            float *p = &want[(size_t)i * SIZE + j];
            float v = *p + nz.mean + nz.std * ae_rng_normal(&r);
            *p = v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
        }
    }
    noise_apply_images(&nz, x, N, SIZE, seed, index, 0);
    CHECK(memcmp(x, want, sizeof x) == 0, "gaussian noise on indexed images is not the written-out rule's");
    /* ae_noise_apply with contiguous indices: image i of the call is index first + i */
    memcpy(x, want, sizeof x);
    ae_noise_apply(&nz, x, N, SIZE, seed, 40);
    noise_apply_images(&nz, want, N, SIZE, seed, NULL, 40);
    CHECK(memcmp(x, want, sizeof x) == 0, "ae_noise_apply differs from noise_apply_images");
    memcpy(x, want, sizeof x);
    for (int i = 0; i < N; i++) ae_noise_apply(&nz, want + (size_t)i * SIZE, 1, SIZE, seed, 40 + (uint64_t)i);
    ae_noise_apply(&nz, x, N, SIZE, seed, 40);
    CHECK(memcmp(x, want, sizeof x) == 0, "noise on N images at once differs from one image at a time");
}

int main(void)
{
    signal(SIGALRM, on_alarm);
    check_same_draws();
    check_zero_state();
    check_seeding();
    check_normals();
    check_normals_x8();
    check_noise_images();
    TEST_DONE();
}
