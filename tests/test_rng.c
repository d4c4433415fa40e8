/* The random number generator (src/core/rng.c): ae_rng_below draws exactly
 * the numbers of Lemire's unbounded rejection loop (so seeded runs stay
 * bit-identical), yet ends whatever the state: a shuffle from the all-zero
 * state, which rejects every draw, returns a permutation instead of
 * spinning; seeding never gives that state, even when a splitmix64 word is
 * zero. A hang is turned into a failure by alarm(). */
#define _POSIX_C_SOURCE 200809L
#include "test.h"
#include "core/rng.h"

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

int main(void)
{
    signal(SIGALRM, on_alarm);
    check_same_draws();
    check_zero_state();
    check_seeding();
    TEST_DONE();
}
