/* Data sets from memory (ae_dataset_from_pixels, the Python binding's
 * arrays): the pixels and labels are copied, bad shapes are refused naming
 * the value, and a model trained on a set from memory is bit-identical to
 * one trained on the same pixels held by hand; plus the options as bytes
 * (ae_train_options_size, ae_train_options_set_checkpoint). */
#include "aekit.h"
#include "test.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { N = 64, C = 1, H = 28, W = 28 };

static void check_refused(int n, int c, int h, int w, const uint8_t *px, const char *needle)
{
    ae_error err = {{0}};
    ae_dataset *ds = (ae_dataset *)&err;    /* must be reset to NULL */
    CHECK(ae_dataset_from_pixels(&ds, px, NULL, n, c, h, w, "arrays", &err) == -1, "%d %d %d %d accepted", n, c, h, w);
    CHECK(ds == NULL, "out not reset on failure");
    CHECK(strstr(err.msg, needle) && strstr(err.msg, "arrays"), "message '%s' lacks '%s'", err.msg, needle);
}

/* The first few bytes of every parameter tensor, as a model file holds them. */
static int same_weights(const ae_model *a, const ae_model *b)
{
    ae_workspace *wa = NULL, *wb = NULL;
    ae_error err = {{0}};
    float x[C * H * W], ya[128], yb[128];
    for (int i = 0; i < C * H * W; i++) x[i] = (float)(i % 17) / 16.0f;
    int ok = ae_workspace_new(&wa, a, 1, &err) == 0 && ae_workspace_new(&wb, b, 1, &err) == 0 &&
             ae_model_latent_size(a) <= 128 && ae_model_encode(a, wa, x, 1, ya, 1, &err) == 0 &&
             ae_model_encode(b, wb, x, 1, yb, 1, &err) == 0 &&
             memcmp(ya, yb, ae_model_latent_size(a) * sizeof(float)) == 0;
    ae_workspace_free(wa);
    ae_workspace_free(wb);
    return ok;
}

int main(void)
{
    uint8_t *px = malloc((size_t)N * C * H * W), labels[N];
    for (size_t i = 0; i < (size_t)N * C * H * W; i++) px[i] = (uint8_t)((i * 2654435761u) >> 24);
    for (int i = 0; i < N; i++) labels[i] = (uint8_t)(i % 10);

    ae_error err = {{0}};
    ae_dataset *ds = NULL;
    CHECK(ae_dataset_from_pixels(&ds, px, labels, N, C, H, W, "arrays", &err) == 0, "%s", err.msg);
    CHECK(ds && ds->n == N && ds->c == C && ds->h == H && ds->w == W, "shape");
    CHECK(ds && ds->pixels != px && memcmp(ds->pixels, px, (size_t)N * C * H * W) == 0, "pixels copied");
    CHECK(ds && ds->labels && ds->labels != labels && memcmp(ds->labels, labels, N) == 0, "labels copied");
    CHECK(ds && strcmp(ds->source, "arrays") == 0, "source '%s'", ds ? ds->source : "");

    ae_dataset *nolabels = NULL;
    uint8_t small[3 * 3 * 2 * 5];
    memset(small, 9, sizeof small);
    CHECK(ae_dataset_from_pixels(&nolabels, small, NULL, 3, 3, 2, 5, NULL, &err) == 0, "%s", err.msg);
    CHECK(nolabels && nolabels->labels == NULL && strcmp(nolabels->source, "memory") == 0, "no labels, default source");
    memset(small, 0, sizeof small);   /* the set holds its own copy */
    CHECK(nolabels && nolabels->pixels[0] == 9 && nolabels->pixels[sizeof small - 1] == 9, "pixels not copied");
    ae_dataset_free(nolabels);

    check_refused(0, 1, 28, 28, px, "no images");
    check_refused(-5, 1, 28, 28, px, "no images");
    check_refused(4, 2, 28, 28, px, "1 or 3 channels");
    check_refused(4, 1, 0, 28, px, "sides");
    check_refused(4, 1, 28, 70000, px, "sides");
    check_refused(INT32_MAX, 3, 65536, 65536, px, "too many");
    check_refused(4, 1, 28, 28, NULL, "no pixels");

    /* Training on it = training on the same pixels held by hand. */
    ae_dataset by_hand = { .n = N, .c = C, .h = H, .w = W, .pixels = px, .labels = labels, .source = "by hand" };
    ae_model *a = NULL, *b = NULL;
    ae_train_options opt;
    ae_train_options_default(&opt);
    opt.epochs = 1;
    opt.batch = 16;
    opt.threads = 2;
    opt.seed = 7;
    CHECK(ae_model_from_preset(&a, "conv", 0, &err) == 0 && ae_model_from_preset(&b, "conv", 0, &err) == 0, "%s", err.msg);
    CHECK(ae_train(a, ds, NULL, &opt, NULL, NULL, &err) == 0, "train from memory: %s", err.msg);
    CHECK(ae_train(b, &by_hand, NULL, &opt, NULL, NULL, &err) == 0, "train by hand: %s", err.msg);
    CHECK(same_weights(a, b), "a model trained on the set from memory differs");
    ae_model_free(a);
    ae_model_free(b);
    ae_dataset_free(ds);

    /* The options as bytes. */
    CHECK(ae_train_options_size() == sizeof(ae_train_options), "size %zu", ae_train_options_size());
    ae_train_options o;
    ae_train_options_default(&o);
    ae_train_options_set_checkpoint(&o, "ck.safetensors");
    CHECK(o.checkpoint && strcmp(o.checkpoint, "ck.safetensors") == 0, "checkpoint not set");
    ae_train_options_set_checkpoint(&o, NULL);
    CHECK(o.checkpoint == NULL, "checkpoint not cleared");

    free(px);
    TEST_DONE();
}
