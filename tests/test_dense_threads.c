/* Dense layers called from several OpenMP threads at once, as a training
 * step calls them (one call per thread on its own chunk of the batch), give
 * the same bits as the same calls made one at a time. The threads start
 * each round together (a barrier), so their sgemm calls overlap: Debian's
 * serial OpenBLAS, which aekit once linked, let two concurrent calls share
 * one buffer and returned wrong products within a few hundred rounds. On
 * the portable path (AEKIT_SIMD=portable) the same comparison holds. */
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "layers/layers.h"
#include "test.h"

enum { THREADS = 2, ROUNDS = 1000, N = 16, IN = 256, OUT = 128 };

/* One thread's inputs and what one forward and backward give for them. */
typedef struct {
    float x[N * IN], dy[N * OUT];       /* inputs: its own per thread */
    float y[N * OUT], dx[N * IN], dw[OUT * IN], db[OUT];
} chunk;

static float value(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return (float)(*s >> 8) / 16777216.0f - 0.5f;
}

static void step(chunk *c, const float *w, const float *b)
{
    memset(c->dw, 0, sizeof c->dw);
    memset(c->db, 0, sizeof c->db);
    dense_forward(c->y, c->x, w, b, N, IN, OUT);
    dense_backward(c->dx, c->dw, c->db, c->dy, c->x, w, N, IN, OUT);
}

static int same(const chunk *a, const chunk *b)
{
    return memcmp(a->y, b->y, sizeof a->y) == 0 && memcmp(a->dx, b->dx, sizeof a->dx) == 0 &&
           memcmp(a->dw, b->dw, sizeof a->dw) == 0 && memcmp(a->db, b->db, sizeof a->db) == 0;
}

int main(void)
{
    static float w[OUT * IN], b[OUT];
    static chunk ref[THREADS], got[THREADS];
    uint32_t s = 12345;
    for (int i = 0; i < OUT * IN; i++) w[i] = value(&s);
    for (int i = 0; i < OUT; i++) b[i] = value(&s);
    for (int t = 0; t < THREADS; t++) {
        for (int i = 0; i < N * IN; i++) ref[t].x[i] = value(&s);
        for (int i = 0; i < N * OUT; i++) ref[t].dy[i] = value(&s);
        memcpy(got[t].x, ref[t].x, sizeof ref[t].x);
        memcpy(got[t].dy, ref[t].dy, sizeof ref[t].dy);
        step(&ref[t], w, b);   /* one at a time: the reference */
    }

    int differ[THREADS] = {0}, first[THREADS], team = 0;
    #pragma omp parallel num_threads(THREADS)
    {
        int t = omp_get_thread_num();
        #pragma omp single
        team = omp_get_num_threads();
        first[t] = -1;
        for (int r = 0; r < ROUNDS; r++) {
            #pragma omp barrier
            step(&got[t], w, b);
            if (!same(&got[t], &ref[t]) && differ[t]++ == 0) first[t] = r;
        }
    }
    CHECK(team == THREADS, "the team has %d threads, the test needs %d", team, THREADS);
    for (int t = 0; t < THREADS; t++)
        CHECK(differ[t] == 0,
              "thread %d: %d of %d rounds of dense forward + backward (%dx%d, %d rows) differ "
              "from the same call made alone, the first in round %d",
              t, differ[t], ROUNDS, IN, OUT, N, first[t]);
    TEST_DONE();
}
