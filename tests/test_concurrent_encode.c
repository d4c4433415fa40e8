/* One model used by several threads at once: ae_model_encode,
 * ae_model_decode, ae_model_sample (with a fixed seed), ae_model_reconstruct
 * and ae_evaluate take a const model and write only to
 * the caller's workspace, so pthreads sharing one model (each with its own
 * workspace, or each with NULL: a workspace per call) get exactly the bytes
 * a single thread gets. The threads start each round together (a barrier)
 * so their calls overlap. Run under ThreadSanitizer (scripts/test.sh,
 * build/tsan) it also shows that no call writes memory another one reads.
 * A workspace is refused for a model of another shape and for more threads
 * than it has. */
#define _POSIX_C_SOURCE 200809L  /* pthread barriers */
#include "aekit.h"
#include "test.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_THREAD__)
#define UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define UNDER_TSAN 1
#endif
#endif
#ifndef UNDER_TSAN
#define UNDER_TSAN 0
#endif

enum { CALLERS = 4, ROUNDS = 3, IMAGES = 150 /* three chunks of 64 per call */ };
#define SAMPLE_SEED 42

typedef struct {
    const ae_model *m;
    const ae_dataset *ds;
    const float *x;
    size_t code_floats, image_floats;   /* IMAGES codes, IMAGES outputs */
    /* the single-thread results */
    const float *codes, *recon, *decoded, *sampled;
    ae_eval_result eval;
} job;

typedef struct {
    const job *j;
    int use_workspace;     /* 0: NULL workspace on every call */
    int omp_threads;       /* inside each call */
    pthread_barrier_t *start;
    int mismatches, errors;
    char msg[600];
} caller;

static void *run(void *arg)
{
    caller *c = arg;
    const job *j = c->j;
    float *codes = malloc(j->code_floats * sizeof *codes);
    float *recon = malloc(j->image_floats * sizeof *recon);
    float *decoded = malloc(j->image_floats * sizeof *decoded);
    float *sampled = malloc(j->image_floats * sizeof *sampled);
    ae_workspace *ws = NULL;
    ae_error err = {{0}};
    if (!codes || !recon || !decoded || !sampled || (c->use_workspace && ae_workspace_new(&ws, j->m, c->omp_threads, &err))) {
        snprintf(c->msg, sizeof c->msg, "setup: %s", err.msg);
        c->errors++;
    }
    for (int r = 0; r < ROUNDS; r++) {
        pthread_barrier_wait(c->start);
        if (c->errors) continue;
        memset(codes, 0xff, j->code_floats * sizeof *codes);
        memset(recon, 0xff, j->image_floats * sizeof *recon);
        memset(decoded, 0xff, j->image_floats * sizeof *decoded);
        memset(sampled, 0xff, j->image_floats * sizeof *sampled);
        ae_eval_result ev;
        memset(&ev, 0xff, sizeof ev);
        if (ae_model_encode(j->m, ws, j->x, IMAGES, codes, c->omp_threads, &err) ||
            ae_model_reconstruct(j->m, ws, j->x, IMAGES, recon, c->omp_threads, &err) ||
            ae_model_decode(j->m, ws, j->codes, IMAGES, decoded, c->omp_threads, &err) ||
            ae_model_sample(j->m, ws, IMAGES, SAMPLE_SEED, sampled, c->omp_threads, &err) ||
            ae_evaluate(j->m, ws, j->ds, NULL, &ev, c->omp_threads, &err)) {
            snprintf(c->msg, sizeof c->msg, "%s", err.msg);
            c->errors++;
            continue;
        }
        c->mismatches += memcmp(codes, j->codes, j->code_floats * sizeof *codes) != 0;
        c->mismatches += memcmp(recon, j->recon, j->image_floats * sizeof *recon) != 0;
        c->mismatches += memcmp(decoded, j->decoded, j->image_floats * sizeof *decoded) != 0;
        c->mismatches += memcmp(sampled, j->sampled, j->image_floats * sizeof *sampled) != 0;
        c->mismatches += memcmp(&ev, &j->eval, sizeof ev) != 0;
    }
    ae_workspace_free(ws);
    free(codes);
    free(recon);
    free(decoded);
    free(sampled);
    return NULL;
}

/* CALLERS pthreads on one model at once, each checked against the job's bytes. */
static void concurrent(const char *name, const job *j, int use_workspace, int omp_threads)
{
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, CALLERS);
    caller c[CALLERS];
    pthread_t tid[CALLERS];
    for (int i = 0; i < CALLERS; i++) {
        c[i] = (caller){ .j = j, .use_workspace = use_workspace, .omp_threads = omp_threads, .start = &start };
        CHECK(pthread_create(&tid[i], NULL, run, &c[i]) == 0, "pthread_create");
    }
    for (int i = 0; i < CALLERS; i++) {
        pthread_join(tid[i], NULL);
        CHECK(c[i].errors == 0, "%s, %s workspace, %d OpenMP threads: caller %d failed: %s", name,
              use_workspace ? "own" : "NULL", omp_threads, i, c[i].msg);
        CHECK(c[i].mismatches == 0, "%s, %s workspace, %d OpenMP threads: caller %d got other bytes "
              "than one thread alone, %d times in %d rounds", name, use_workspace ? "own" : "NULL",
              omp_threads, i, c[i].mismatches, ROUNDS);
    }
    pthread_barrier_destroy(&start);
}

static ae_dataset *make_data(int n, int c, int h, int w)
{
    ae_dataset *ds = calloc(1, sizeof *ds);
    ds->n = n;
    ds->c = c;
    ds->h = h;
    ds->w = w;
    size_t bytes = (size_t)n * c * h * w;
    ds->pixels = malloc(bytes);
    for (size_t i = 0; i < bytes; i++) ds->pixels[i] = (uint8_t)((i * 2654435761u) >> 24);
    snprintf(ds->source, sizeof ds->source, "test images");
    return ds;
}

static void test_preset(const char *preset)
{
    ae_error err = {{0}};
    ae_model *m;
    if (ae_model_from_preset(&m, preset, 0, &err)) { CHECK(0, "%s", err.msg); return; }
    ae_model_init(m, 7);
    int c, h, w;
    ae_model_input_shape(m, &c, &h, &w);
    ae_dataset *ds = make_data(IMAGES, c, h, w);
    size_t px = (size_t)c * h * w, L = ae_model_latent_size(m);
    ae_model_output_shape(m, &c, &h, &w);
    size_t out_px = (size_t)c * h * w;
    float *x = malloc(IMAGES * px * sizeof *x);
    float *codes = malloc(IMAGES * L * sizeof *codes), *recon = malloc(IMAGES * out_px * sizeof *recon);
    float *decoded = malloc(IMAGES * out_px * sizeof *decoded);
    float *sampled = malloc(IMAGES * out_px * sizeof *sampled);
    uint32_t *idx = malloc(IMAGES * sizeof *idx);
    for (int i = 0; i < IMAGES; i++) idx[i] = (uint32_t)i;
    ae_dataset_batch(ds, idx, IMAGES, x);

    job j = { .m = m, .ds = ds, .x = x, .code_floats = IMAGES * L, .image_floats = IMAGES * out_px,
              .codes = codes, .recon = recon, .decoded = decoded, .sampled = sampled };
    ae_workspace *ws = NULL;
    CHECK(ae_workspace_new(&ws, m, 1, &err) == 0, "%s", err.msg);
    /* a plain autoencoder samples from the Gaussian fitted to its codes
     * (fitting changes the model: before the threads start) */
    if (!ae_model_is_variational(m) && !ae_model_is_adversarial(m))
        CHECK(ae_model_fit_latent(m, ws, ds, 1, &err) == 0, "%s: fit: %s", preset, err.msg);
    CHECK(ae_model_encode(m, ws, x, IMAGES, codes, 1, &err) == 0 &&
          ae_model_reconstruct(m, ws, x, IMAGES, recon, 1, &err) == 0 &&
          ae_model_decode(m, ws, codes, IMAGES, decoded, 1, &err) == 0 &&
          ae_model_sample(m, ws, IMAGES, SAMPLE_SEED, sampled, 1, &err) == 0 &&
          ae_evaluate(m, ws, ds, NULL, &j.eval, 1, &err) == 0, "%s: single thread: %s", preset, err.msg);

    concurrent(preset, &j, 1, 1);
    concurrent(preset, &j, 0, 1);
    /* OpenMP teams inside each caller too. Not under ThreadSanitizer: the
     * hand-off between a caller and its OpenMP workers goes through
     * libgomp's futexes, which TSan cannot see, so it reports false races
     * on the parallel region's shared variables (58 of them here, all at
     * the `omp parallel` lines of apply.c, with the same bytes). */
    if (!UNDER_TSAN) concurrent(preset, &j, 1, 2);

    /* a workspace serves up to its own thread count */
    CHECK(ae_model_encode(m, ws, x, IMAGES, codes, 2, &err) == -1 && strstr(err.msg, "1 thread"),
          "%s: a 1-thread workspace ran 2 threads (%s)", preset, err.msg);
    ae_workspace_free(ws);
    free(x); free(codes); free(recon); free(decoded); free(sampled); free(idx);
    free(ds->pixels);
    free(ds);
    ae_model_free(m);
}

/* A workspace is refused for a model of another shape, served for one of the same. */
static void test_other_model(void)
{
    ae_error err = {{0}};
    ae_model *conv, *conv2, *latent;
    if (ae_model_from_preset(&conv, "conv", 0, &err) || ae_model_from_preset(&conv2, "conv", 0, &err) ||
        ae_model_from_preset(&latent, "conv-latent", 0, &err)) {
        CHECK(0, "%s", err.msg);
        return;
    }
    ae_model_init(conv2, 3);
    ae_workspace *ws = NULL;
    CHECK(ae_workspace_new(&ws, conv, 1, &err) == 0, "%s", err.msg);
    float x[784] = { 0 }, y[784], y_own[784];
    CHECK(ae_model_reconstruct(conv2, ws, x, 1, y, 1, &err) == 0, "same shape refused: %s", err.msg);
    CHECK(ae_model_reconstruct(conv2, NULL, x, 1, y_own, 1, &err) == 0 && memcmp(y, y_own, sizeof y) == 0,
          "a workspace of the same shape gives other bytes");
    float codes[4096];
    err.msg[0] = '\0';
    CHECK(ae_model_encode(latent, ws, x, 1, codes, 1, &err) == -1 && strstr(err.msg, "another shape"),
          "a workspace made for conv served conv-latent (%s)", err.msg);
    ae_workspace_free(ws);
    ae_model_free(conv);
    ae_model_free(conv2);
    ae_model_free(latent);
}

int main(void)
{
    test_preset("conv");   /* convolutions */
    test_preset("vae");    /* dense layers (BLIS) and the sampling layer */
    test_preset("aae");    /* a discriminator the calls must leave alone */
    test_other_model();
    TEST_DONE();
}
