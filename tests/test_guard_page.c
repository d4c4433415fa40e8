/* A caller's buffer that ends at a page boundary, with no readable page
 * after it: every inference call reads only the bytes it was given. BLIS
 * 0.9.0's small-matrix kernels read one float past a one-row operand when
 * its length is not a multiple of 8 (flame/blis#821); aekit gave them the
 * caller's codes directly, so a one-code decode ending at a page boundary
 * crashed (found by fuzzing aekit serve). The inputs here end exactly at a
 * PROT_NONE page, for models whose first layer after the input is dense
 * with 4 (decoder) and 25 (encoder) inputs. */
#define _DEFAULT_SOURCE
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "aekit.h"
#include "test.h"

/* n floats that end where a PROT_NONE page begins; NULL if mmap fails. */
static float *at_page_end(size_t n, void **map, size_t *len)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t bytes = n * sizeof(float);
    size_t pages = (bytes + page - 1) / page;
    *len = (pages + 1) * page;
    char *p = mmap(NULL, *len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
    if (mprotect(p + pages * page, page, PROT_NONE) != 0) { munmap(p, *len); return NULL; }
    *map = p;
    return (float *)(p + pages * page - bytes);
}

static const char *model_text =
    "input 1 5 5\n"
    "encoder\n"
    "flatten\n"
    "dense 64\n"
    "relu\n"
    "dense 4\n"
    "decoder\n"
    "dense 64\n"
    "relu\n"
    "dense 25\n"
    "reshape 1 5 5\n"
    "sigmoid\n"
    "loss bce\n";

int main(void)
{
    ae_error err = {{0}};
    ae_model *m = NULL;
    CHECK(ae_model_from_text(&m, model_text, "guard.txt", 0, &err) == 0, "%s", err.msg);
    if (!m) TEST_DONE();
    ae_model_init(m, 3);
    for (int n = 1; n <= 3; n++) {
        void *map_z, *map_x;
        size_t len_z, len_x;
        float *z = at_page_end((size_t)n * 4, &map_z, &len_z);
        float *x = at_page_end((size_t)n * 25, &map_x, &len_x);
        CHECK(z && x, "mmap");
        if (!z || !x) break;
        for (int i = 0; i < n * 4; i++) z[i] = 0.25f * (float)(i % 5) - 0.5f;
        for (int i = 0; i < n * 25; i++) x[i] = (float)(i % 7) / 7.0f;
        float y[3 * 25], codes[3 * 4], r[3 * 25];
        CHECK(ae_model_decode(m, NULL, z, n, y, 1, &err) == 0, "decode %d: %s", n, err.msg);
        CHECK(ae_model_encode(m, NULL, x, n, codes, 1, &err) == 0, "encode %d: %s", n, err.msg);
        CHECK(ae_model_reconstruct(m, NULL, x, n, r, 1, &err) == 0, "reconstruct %d: %s", n, err.msg);
        munmap(map_z, len_z);
        munmap(map_x, len_x);
    }
    ae_model_free(m);
    TEST_DONE();
}
