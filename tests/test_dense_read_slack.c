/* The dense kernels read no further past an operand than dense_read_slack
 * of its row length. Every operand here (x, weight, dy) is followed by
 * exactly that many readable floats and then a PROT_NONE page. BLIS 0.9.0
 * reads past a one-row weight (out = 1) into the row after it
 * (flame/blis#821): a resumed AAE, whose discriminator's last layer is
 * such a weight at the end of the parameters, crashed there when only
 * DENSE_READ_SLACK floats followed. */
#define _DEFAULT_SOURCE
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "layers/layers.h"
#include "test.h"

typedef struct { void *map; size_t len; } mapping;

/* n floats, then dense_read_slack(row) readable floats that end where a
 * PROT_NONE page begins; NULL if mmap fails. */
static float *guarded(size_t n, size_t row, mapping *g)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t bytes = (n + dense_read_slack(row)) * sizeof(float);
    size_t pages = (bytes + page - 1) / page;
    g->len = (pages + 1) * page;
    char *p = mmap(NULL, g->len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
    if (mprotect(p + pages * page, page, PROT_NONE) != 0) { munmap(p, g->len); return NULL; }
    g->map = p;
    float *f = (float *)(p + pages * page - bytes);
    for (size_t i = 0; i < n; i++) f[i] = (float)(i % 7) / 7.0f - 0.4f;
    return f;
}

int main(void)
{
    static const int ins[] = { 500, 150, 1000, 25, 7, 4 };
    static const int outs[] = { 1, 2, 3 };
    static const int ns[] = { 1, 2, 5, 16, 64, 128 };
    for (size_t a = 0; a < sizeof ins / sizeof *ins; a++)
        for (size_t b = 0; b < sizeof outs / sizeof *outs; b++)
            for (size_t c = 0; c < sizeof ns / sizeof *ns; c++) {
                int in = ins[a], out = outs[b], n = ns[c];
                mapping gx, gw, gdy;
                float *x = guarded((size_t)n * in, (size_t)in, &gx);
                float *w = guarded((size_t)out * in, (size_t)in, &gw);
                float *dy = guarded((size_t)n * out, (size_t)out, &gdy);
                CHECK(x && w && dy, "mmap");
                if (!x || !w || !dy) TEST_DONE();
                float *y = calloc((size_t)n * out, sizeof *y), *bias = calloc((size_t)out, sizeof *bias);
                float *dx = calloc((size_t)n * in, sizeof *dx), *dw = calloc((size_t)out * in, sizeof *dw);
                float *db = calloc((size_t)out, sizeof *db);
                dense_forward(y, x, w, bias, n, in, out);
                dense_backward(dx, dw, db, dy, x, w, n, in, out);
                CHECK(y[0] == y[0] && dx[0] == dx[0] && dw[0] == dw[0], "in %d out %d n %d: NaN", in, out, n);
                free(y); free(bias); free(dx); free(dw); free(db);
                munmap(gx.map, gx.len);
                munmap(gw.map, gw.len);
                munmap(gdy.map, gdy.len);
            }
    TEST_DONE();
}
