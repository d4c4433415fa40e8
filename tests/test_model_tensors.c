#define _POSIX_C_SOURCE 200809L
/* A model's parameters as named tensors (ae_model_tensor_count /
 * ae_model_tensor): the names, shapes and data ae_model_save writes, for
 * every preset; writing through them sets weights; and the way back,
 * ae_model_from_tensors, by preset matching or from a description, with
 * the first missing, misshapen or extra tensor named. */
#include "test.h"
#include "temp_dir.h"
#include "aekit.h"
#include "format/safetensors.h"

#include <string.h>

/* The model's tensors, copied out (data still the model's). */
static ae_tensor *tensors_of(const ae_model *m, int *n)
{
    *n = ae_model_tensor_count(m);
    ae_tensor *t = calloc((size_t)*n + 1, sizeof *t);
    for (int i = 0; i < *n; i++) {
        ae_error err;
        CHECK(ae_model_tensor(m, i, &t[i], &err) == 0, "%s", err.msg);
    }
    return t;
}

static void test_matches_the_file(const char *preset)
{
    ae_error err;
    ae_model *m;
    CHECK(ae_model_from_preset(&m, preset, 0, &err) == 0, "%s: %s", preset, err.msg);
    if (!m) return;
    int n;
    ae_tensor *t = tensors_of(m, &n);
    size_t sum = 0;
    for (int i = 0; i < n; i++) {
        size_t prod = 1;
        for (int d = 0; d < t[i].ndim; d++) prod *= (size_t)t[i].shape[d];
        CHECK(prod == t[i].count && t[i].ndim >= 1 && t[i].ndim <= 4, "%s %s", preset, t[i].name);
        sum += t[i].count;
    }
    ae_tensor spare;
    CHECK(sum == ae_model_param_count(m), "%s: tensors sum to %zu, params %zu", preset, sum,
          ae_model_param_count(m));
    CHECK(ae_model_tensor(m, n, &spare, &err) == -1 && strstr(err.msg, "out of range"), "%s", err.msg);
    CHECK(ae_model_tensor(m, -1, &spare, &err) == -1, "negative index accepted");

    /* what the file holds: the same names, in the same order, shapes and bytes */
    const char *path = at("m.safetensors");
    CHECK(ae_model_save(m, path, &err) == 0, "%s", err.msg);
    st_file f;
    CHECK(st_read(&f, path, &err) == 0, "%s", err.msg);
    CHECK(f.count == n, "%s: file has %d tensors, the model %d", preset, f.count, n);
    for (int i = 0; i < n && i < f.count; i++) {
        const st_tensor *s = st_find(&f, t[i].name);
        CHECK(s != NULL, "%s: %s not in the file", preset, t[i].name);
        if (!s) continue;
        int same = s->ndim == t[i].ndim && s->numel == t[i].count &&
                   memcmp(f.data + s->begin, t[i].data, 4 * t[i].count) == 0;
        for (int d = 0; same && d < s->ndim; d++) same = s->shape[d] == t[i].shape[d];
        CHECK(same, "%s: %s differs from the file's", preset, t[i].name);
        /* the saver writes them in this order: offsets increase */
        if (i) {
            const st_tensor *prev = st_find(&f, t[i - 1].name);
            CHECK(prev && prev->end <= s->begin, "%s: %s is not after %s", preset, t[i].name, t[i - 1].name);
        }
    }
    st_free(&f);

    /* the way back: by preset matching (the default latent), same bytes */
    ae_model *back;
    CHECK(ae_model_from_tensors(&back, t, n, NULL, 0, "state_dict", &err) == 0, "%s: %s", preset, err.msg);
    if (back) {
        CHECK(ae_model_param_count(back) == ae_model_param_count(m), "%s", preset);
        int nb;
        ae_tensor *tb = tensors_of(back, &nb);
        int same = nb == n;
        for (int i = 0; same && i < n; i++)
            same = !strcmp(tb[i].name, t[i].name) && !memcmp(tb[i].data, t[i].data, 4 * t[i].count);
        CHECK(same, "%s: the tensors did not come back", preset);
        free(tb);
        ae_model_free(back);
    }
    free(t);
    ae_model_free(m);
}

static void test_writing_sets_weights(void)
{
    ae_error err;
    ae_model *m;
    CHECK(ae_model_from_preset(&m, "conv", 0, &err) == 0, "%s", err.msg);
    if (!m) return;
    ae_tensor t;
    CHECK(ae_model_tensor(m, 1, &t, &err) == 0 && !strcmp(t.name, "encoder.0.bias") && t.count == 16,
          "tensor 1: %s", t.name);
    for (size_t i = 0; i < t.count; i++) t.data[i] = 0.25f * (float)i;
    const char *path = at("set.safetensors");
    CHECK(ae_model_save(m, path, &err) == 0, "%s", err.msg);
    ae_model *back;
    CHECK(ae_model_load(&back, path, &err) == 0, "%s", err.msg);
    if (back) {
        ae_tensor b;
        ae_model_tensor(back, 1, &b, &err);
        CHECK(b.data != t.data && b.data[15] == 3.75f, "written bias not saved: %g", b.data[15]);
        ae_model_free(back);
    }
    ae_model_free(m);
}

/* from_tensors(tensors of `preset` at `latent`) with description / latent: rc, and the message */
static int from(const ae_tensor *t, int n, const char *desc, int latent, char *msg)
{
    ae_error err = { "" };
    ae_model *m;
    int rc = ae_model_from_tensors(&m, t, n, desc, latent, "sd", &err);
    ae_model_free(m);
    snprintf(msg, 512, "%s", err.msg);
    return rc;
}

static void test_from_tensors_refusals(void)
{
    ae_error err;
    ae_model *vae, *conv;
    CHECK(ae_model_from_preset(&vae, "vae", 8, &err) == 0, "%s", err.msg);
    CHECK(ae_model_from_preset(&conv, "conv", 0, &err) == 0, "%s", err.msg);
    if (!vae || !conv) return;
    int n, nc;
    ae_tensor *t = tensors_of(vae, &n), *tc = tensors_of(conv, &nc);
    char msg[512];
    /* another latent than the preset's default: named, then found with it */
    CHECK(from(t, n, NULL, 0, msg) == -1 && strstr(msg, "match no preset") && strstr(msg, "preset vae") &&
          strstr(msg, "'encoder.3.weight' has 8192 values, the model needs 2048"), "%s", msg);
    CHECK(from(t, n, NULL, 8, msg) == 0, "%s", msg);
    /* from a description */
    CHECK(from(t, n, ae_model_description(vae), 0, msg) == 0, "%s", msg);
    CHECK(from(t, n, "param latent 2\ninput 1 28 28\nloss sse\nencoder\nflatten\ndense 512\nrelu\ndense {latent2}\n"
                     "sample\ndecoder\ndense 512\nrelu\ndense 784\nreshape 1 28 28\nsigmoid\n", 8, msg) == 0,
          "%s", msg);
    CHECK(from(tc, nc, ae_model_description(vae), 0, msg) == -1 && strstr(msg, "sd: tensor 'encoder.1.weight' is missing"),
          "%s", msg);
    /* missing, extra, misshapen (same count), twice, bad shape */
    CHECK(from(tc, nc - 1, NULL, 0, msg) == -1 && strstr(msg, "'decoder.9.bias' is missing"), "%s", msg);
    ae_tensor *more = calloc((size_t)nc + 1, sizeof *more);
    memcpy(more, tc, (size_t)nc * sizeof *more);
    more[nc] = tc[1];
    snprintf(more[nc].name, sizeof more[nc].name, "encoder.0.extra");
    CHECK(from(more, nc + 1, ae_model_description(conv), 0, msg) == -1 &&
          strstr(msg, "sd: tensor 'encoder.0.extra' is not one of the model's"), "%s", msg);
    snprintf(more[nc].name, sizeof more[nc].name, "encoder.0.bias");
    CHECK(from(more, nc + 1, NULL, 0, msg) == -1 && strstr(msg, "'encoder.0.bias' is given twice"), "%s", msg);
    more[0].shape[0] = 1; more[0].shape[1] = 16;   /* 16x1x3x3 -> 1x16x3x3 */
    CHECK(from(more, nc, ae_model_description(conv), 0, msg) == -1 &&
          strstr(msg, "'encoder.0.weight' has shape [1, 16, 3, 3], the model needs [16, 1, 3, 3]"), "%s", msg);
    more[0].ndim = 5;
    CHECK(from(more, nc, NULL, 0, msg) == -1 && strstr(msg, "'encoder.0.weight': bad shape"), "%s", msg);
    memset(more[0].name, 'x', sizeof more[0].name);
    CHECK(from(more, nc, NULL, 0, msg) == -1 && strstr(msg, "not terminated"), "%s", msg);
    CHECK(from(tc, nc, "input 1 28 28\nencoder\nnosuch\n", 0, msg) == -1 && strstr(msg, "sd (description):"),
          "%s", msg);
    free(more);
    free(t);
    free(tc);
    ae_model_free(vae);
    ae_model_free(conv);
}

int main(void)
{
    if (temp_dir_open("tensors")) return 1;
    for (const char *const *p = ae_model_presets(); *p; p++) test_matches_the_file(*p);
    test_writing_sets_weights();
    test_from_tensors_refusals();
    remove_tree(root);
    TEST_DONE();
}
