#define _POSIX_C_SOURCE 200809L
/* Model-level tests: the description parser, the conv AE preset, save/load,
 * and parity with PyTorch on the whole network (forward, every parameter
 * gradient, three Adam steps) and on a model trained in PyTorch. */
#include "test.h"
#include "aekit.h"
#include "model/model.h"
#include "format/safetensors.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef AEKIT_FIXTURES
#define AEKIT_FIXTURES "tests/fixtures"
#endif

static void test_preset(void)
{
    ae_error err;
    ae_model *m;
    CHECK(ae_model_from_preset(&m, "conv", 0, &err) == 0, "%s", err.msg);
    if (!m) return;
    CHECK(ae_model_param_count(m) == 4385, "params %zu", ae_model_param_count(m));
    CHECK(ae_model_latent_size(m) == 128, "latent %zu", ae_model_latent_size(m));
    int c, h, w;
    ae_model_input_shape(m, &c, &h, &w);
    CHECK(c == 1 && h == 28 && w == 28, "input %dx%dx%d", c, h, w);
    /* the lesson's shapes: 28 -> 14 -> 7 -> 4 -> 8 -> 16 -> 14 -> 28 */
    CHECK(m->layers[8].out_h == 4 && m->layers[8].out_c == 8, "latent plane %dx%d", m->layers[8].out_c, m->layers[8].out_h);
    CHECK(m->layers[15].out_h == 14, "valid conv output %d", m->layers[15].out_h);
    char name[64];
    model_tensor_name(&m->layers[15], "weight", name, sizeof name);
    CHECK(strcmp(name, "decoder.6.weight") == 0, "name %s", name);
    char buf[4096];
    size_t len = ae_model_summary(m, buf, sizeof buf);
    CHECK(len < sizeof buf && strstr(buf, "4385"), "summary:\n%s", buf);
    ae_model_free(m);
    CHECK(ae_model_from_preset(&m, "nosuch", 0, &err) == -1 && !m && strstr(err.msg, "nosuch"), "%s", err.msg);
}

static void expect_parse_error(const char *text, const char *needle)
{
    ae_error err = { "" };
    ae_model *m = NULL;
    int rc = ae_model_from_text(&m, text, "bad.txt", 0, &err);
    CHECK(rc == -1 && m == NULL, "accepted: %s", text);
    CHECK(strstr(err.msg, needle) != NULL, "message '%s' lacks '%s'", err.msg, needle);
    ae_model_free(m);
}

static void test_parse_errors(void)
{
    expect_parse_error("input 1 28 28\nencoder\nconv x\n", "bad.txt:3");
    expect_parse_error("input 1 28 28\nencoder\nfrobnicate\n", "unknown layer 'frobnicate'");
    expect_parse_error("input 1 28 28\nencoder\nconv 4 k=3 pad=same\ndecoder\nconv 2 pad=same\nsigmoid\n", "must match");
    expect_parse_error("encoder\nconv 4\ndecoder\nconv 1\nsigmoid\n", "no 'input");
    expect_parse_error("input 1 4 4\nencoder\nconv 4 k=9 pad=valid\ndecoder\nconv 1\nsigmoid\n", "bad.txt:3");
    expect_parse_error("input 1 8 8\nencoder\nconv 4 k=3 wobble=2\ndecoder\nconv 1\nsigmoid\n", "unknown option 'wobble'");
    expect_parse_error("input 1 8 8\nencoder\nconv 4\ndecoder\nconv 1\n", "sigmoid");
    expect_parse_error("input 1 8 8\nencoder\nconv 4\n", "decoder");
    expect_parse_error("input 1 8 8\nencoder\nconv 4\ndense 3\ndecoder\nconv 1\nsigmoid\n", "flatten");
    /* conditional models: `condition` layers and `param classes` together */
    expect_parse_error("input 1 4 4\nencoder\nflatten\ncondition\ndense 3\ndecoder\ndense 16\nreshape 1 4 4\nsigmoid\n",
                       "bad.txt:4: condition: the description gives no class count (add 'param classes N')");
    expect_parse_error("param classes 3\ninput 1 4 4\nencoder\nflatten\ndense 3\ndecoder\ndense 16\nreshape 1 4 4\nsigmoid\n",
                       "'param classes 3' but no 'condition' layer");
    expect_parse_error("param classes 1\ninput 1 4 4\nencoder\nflatten\ncondition\ndense 3\ndecoder\ndense 16\n",
                       "bad.txt:1: param classes: expected an integer from 2 to 256, got '1'");
    expect_parse_error("param classes 3\nparam classes 3\ninput 1 4 4\nencoder\nflatten\ncondition\n", "bad.txt:2: a second");
    expect_parse_error("param colours 3\ninput 1 4 4\nencoder\nflatten\n", "expected 'param latent N' or 'param classes N'");
    /* a valid dense model parses */
    ae_error err;
    ae_model *m;
    int rc = ae_model_from_text(&m, "input 1 4 4\nencoder\nflatten\ndense 3\nrelu\ndecoder\ndense 16\n"
                                "reshape 1 4 4\nsigmoid\n", "ok.txt", 0, &err);
    CHECK(rc == 0, "%s", err.msg);
    if (rc == 0) {
        CHECK(ae_model_param_count(m) == 16 * 3 + 3 + 3 * 16 + 16, "%zu", ae_model_param_count(m));
        ae_model_free(m);
    }
}

static void test_save_load(void)
{
    ae_error err;
    ae_model *m, *m2;
    if (ae_model_from_preset(&m, "conv", 0, &err)) { CHECK(0, "%s", err.msg); return; }
    ae_model_init(m, 1234);
    CHECK(ae_model_set_meta(m, "aekit.train.epochs", "7", &err) == 0, "%s", err.msg);
    char path[] = "/tmp/aekit_test_model_XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    CHECK(ae_model_save(m, path, &err) == 0, "%s", err.msg);
    CHECK(ae_model_load(&m2, path, &err) == 0, "%s", err.msg);
    if (m2) {
        CHECK(m2->nparams == m->nparams && memcmp(m2->params, m->params, m->nparams * sizeof(float)) == 0,
              "weights differ after a round trip");
        const char *v = ae_model_meta(m2, "aekit.train.epochs");
        CHECK(v && strcmp(v, "7") == 0, "metadata lost: %s", v ? v : "(null)");
        ae_model_free(m2);
    }
    /* the names and layouts are PyTorch's */
    st_file f;
    if (st_read(&f, path, &err) == 0) {
        const st_tensor *t = st_find(&f, "decoder.6.weight");
        CHECK(t && t->ndim == 4 && t->shape[0] == 16 && t->shape[1] == 8 && t->shape[2] == 3,
              "decoder.6.weight missing or not OIHW");
        CHECK(st_find(&f, "encoder.0.bias") && st_find(&f, "decoder.9.bias") && f.count == 14,
              "expected 14 tensors, got %d", f.count);
        st_free(&f);
    } else {
        CHECK(0, "%s", err.msg);
    }
    unlink(path);
    CHECK(ae_model_load(&m2, "/nonexistent/model.safetensors", &err) == -1 &&
          strstr(err.msg, "/nonexistent/model.safetensors"), "%s", err.msg);
    ae_model_free(m);
}

/* Loads "<prefix><name>" for every parameter of m into dst (nparams floats). */
static int load_params(const st_file *f, const ae_model *m, const char *prefix, float *dst)
{
    ae_error err;
    for (int i = 0; i < m->nlayers; i++) {
        const ae_layer *l = &m->layers[i];
        char name[64], full[96];
        if (l->w_count) {
            model_tensor_name(l, "weight", name, sizeof name);
            snprintf(full, sizeof full, "%s%s", prefix, name);
            if (st_get_f32(f, full, dst + l->w_off, l->w_count, &err)) { CHECK(0, "%s", err.msg); return -1; }
        }
        if (l->b_count) {
            model_tensor_name(l, "bias", name, sizeof name);
            snprintf(full, sizeof full, "%s%s", prefix, name);
            if (st_get_f32(f, full, dst + l->b_off, l->b_count, &err)) { CHECK(0, "%s", err.msg); return -1; }
        }
    }
    return 0;
}

typedef struct { double loss[8]; int n; } loss_log;

static int log_steps(const ae_progress *p, void *user)
{
    loss_log *log = user;
    if (!p->end_of_epoch && log->n < 8) log->loss[log->n++] = p->train_loss;
    return 0;
}

static void test_torch_steps(void)
{
    ae_error err;
    st_file f;
    if (st_read(&f, AEKIT_FIXTURES "/convae_steps.safetensors", &err)) { CHECK(0, "%s", err.msg); return; }
    ae_model *m;
    ae_model_from_preset(&m, "conv", 0, &err);
    const int n = 8;
    size_t px = 784;
    float *x = malloc(n * px * sizeof(float)), *y = malloc(n * px * sizeof(float));
    float *expect = malloc(m->nparams * sizeof(float));
    float lat[8 * 128], lat_ref[8 * 128];
    CHECK(st_get_f32(&f, "x", x, n * px, &err) == 0, "%s", err.msg);
    load_params(&f, m, "init.", m->params);

    /* forward */
    float *y_ref = malloc(n * px * sizeof(float));
    CHECK(st_get_f32(&f, "y", y_ref, n * px, &err) == 0, "%s", err.msg);
    CHECK(ae_model_reconstruct(m, NULL, x, n, y, 1, &err) == 0, "%s", err.msg);
    double worst = test_max_rel(y, y_ref, n * px, 1e-5);
    CHECK(worst <= 1e-4, "forward output off by %g relative", worst);
    CHECK(st_get_f32(&f, "latent", lat_ref, sizeof lat_ref / sizeof lat_ref[0], &err) == 0, "%s", err.msg);
    CHECK(ae_model_encode(m, NULL, x, n, lat, 2, &err) == 0, "%s", err.msg);
    size_t at = 0;
    /* atol 1e-2 in this ratio = an absolute floor of 1e-6 for values near zero */
    worst = test_max_rel_at(lat, lat_ref, 8 * 128, 1e-2, &at);
    CHECK(worst <= 1e-4, "latent off by %g relative: [%zu] %.9g vs torch %.9g", worst, at, lat[at], lat_ref[at]);

    /* every parameter gradient of the mean BCE */
    ae_workspace *ws = NULL;
    CHECK(workspace_new(&ws, m, n, 1, 1, &err) == 0, "%s", err.msg);
    float scale = 1.0f / (float)(n * px);
    double recon, kl;
    double loss = model_recon_chunk(m, ws, 0, x, x, n, scale, 1.0, 1, PASS_MEAN, &recon, &kl) * scale;
    float loss_ref[3];
    st_get_f32(&f, "loss", loss_ref, 3, &err);
    CHECK_CLOSE(loss, loss_ref[0], 1e-5, 0, "loss %.8f vs torch %.8f", loss, loss_ref[0]);
    load_params(&f, m, "grad.", expect);
    for (int i = 0; i < m->nlayers; i++) {
        const ae_layer *l = &m->layers[i];
        if (!l->w_count) continue;
        double ew = test_max_rel(work_grad(ws, 0) + l->w_off, expect + l->w_off, l->w_count, 1e-6);
        double eb = test_max_rel(work_grad(ws, 0) + l->b_off, expect + l->b_off, l->b_count, 1e-6);
        CHECK(ew <= 1e-4 && eb <= 1e-4, "layer %d gradient off: weight %g bias %g", i, ew, eb);
    }
    ae_workspace_free(ws);

    /* three Adam steps through the public training API, batch = all 8 images */
    ae_dataset ds = { .n = n, .c = 1, .h = 28, .w = 28 };
    ds.pixels = malloc(n * px);
    for (size_t i = 0; i < n * px; i++) ds.pixels[i] = (uint8_t)lrintf(x[i] * 255.0f);
    strcpy(ds.source, "fixture");
    ae_train_options opt;
    ae_train_options_default(&opt);
    opt.epochs = 3;
    opt.batch = 8;
    opt.threads = 2;
    opt.init_weights = 0;
    loss_log log = { .n = 0 };
    CHECK(ae_train(m, &ds, NULL, &opt, log_steps, &log, &err) == 0, "%s", err.msg);
    CHECK(log.n == 3, "steps %d", log.n);
    for (int s = 0; s < 3 && s < log.n; s++)
        CHECK_CLOSE(log.loss[s], loss_ref[s], 1e-4, 0, "step %d loss %.8f vs torch %.8f", s + 1, log.loss[s], loss_ref[s]);
    load_params(&f, m, "final.", expect);
    /* after Adam steps parameters move by ~lr: compare with an absolute floor */
    worst = test_max_rel(m->params, expect, m->nparams, 1e-4);
    CHECK(worst <= 1e-3, "weights after 3 Adam steps off by %g", worst);

    free(ds.pixels);
    free(x); free(y); free(y_ref); free(expect);
    ae_model_free(m);
    st_free(&f);
}

static void test_torch_trained(void)
{
    ae_error err;
    ae_model *m;
    st_file f;
    if (ae_model_load(&m, AEKIT_FIXTURES "/convae_torch.safetensors", &err)) { CHECK(0, "%s", err.msg); return; }
    CHECK(ae_model_param_count(m) == 4385, "params %zu", ae_model_param_count(m));
    if (st_read(&f, AEKIT_FIXTURES "/convae_torch_eval.safetensors", &err)) { CHECK(0, "%s", err.msg); ae_model_free(m); return; }
    const st_tensor *t = st_find(&f, "images");
    CHECK(t && t->ndim == 3, "images tensor");
    if (t) {
        ae_dataset ds = { .n = (int)t->shape[0], .c = 1, .h = 28, .w = 28 };
        ds.pixels = malloc(t->numel);
        strcpy(ds.source, "fixture");
        st_get_u8(&f, "images", ds.pixels, t->numel, &err);
        float ref_loss, ref_mse;
        st_get_f32(&f, "loss", &ref_loss, 1, &err);
        st_get_f32(&f, "mse", &ref_mse, 1, &err);
        ae_eval_result r;
        CHECK(ae_evaluate(m, NULL, &ds, NULL, &r, 2, &err) == 0, "%s", err.msg);
        CHECK_CLOSE(r.loss, ref_loss, 1e-5, 0, "aekit loss %.8f, torch %.8f", r.loss, ref_loss);
        CHECK_CLOSE(r.mse, ref_mse, 1e-4, 0, "aekit mse %.8f, torch %.8f", r.mse, ref_mse);
        printf("torch-trained conv AE on %d test images: aekit BCE %.6f, torch %.6f\n", ds.n, r.loss, ref_loss);
        free(ds.pixels);
    }
    st_free(&f);
    ae_model_free(m);
}

/* The --recon bug of issue 9: a description whose `loss` line comes first
 * or is indented, set to SSE, saved and loaded, must still be SSE: the
 * loaded model's loss, and what it evaluates. (Setting the loss used to
 * patch "\nloss " in the text: the saved text kept `loss bce`.) */
static void test_set_loss_saved(void)
{
    static const char *const texts[] = {
        "loss bce\ninput 1 4 4\nencoder\nflatten\ndense 3\ndecoder\ndense 16\nreshape 1 4 4\nsigmoid\n",
        "input 1 4 4\n  loss bce   # indented\nencoder\nflatten\ndense 3\ndecoder\ndense 16\n"
        "reshape 1 4 4\nsigmoid\n",
    };
    ae_dataset ds = { .n = 6, .c = 1, .h = 4, .w = 4 };
    uint8_t pixels[6 * 16];
    for (int i = 0; i < 6 * 16; i++) pixels[i] = (uint8_t)(i * 37 % 256);
    ds.pixels = pixels;
    char path[64];
    snprintf(path, sizeof path, "/tmp/aekit-test-loss-%d.safetensors", (int)getpid());
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        ae_error err = { "" };
        ae_model *m = NULL, *back = NULL;
        if (ae_model_from_text(&m, texts[i], "my.txt", 0, &err)) { CHECK(0, "%s", err.msg); continue; }
        CHECK(ae_model_set_loss(m, AE_LOSS_SSE, &err) == 0, "%s", err.msg);
        CHECK(ae_model_save(m, path, &err) == 0, "%s", err.msg);
        if (ae_model_load(&back, path, &err)) { CHECK(0, "%s", err.msg); ae_model_free(m); continue; }
        CHECK(ae_model_loss(back) == AE_LOSS_SSE, "text %zu: saved as loss %d:\n%s", i,
              (int)ae_model_loss(back), ae_model_description(back));
        ae_eval_result want, got;
        CHECK(ae_evaluate(m, NULL, &ds, NULL, &want, 1, &err) == 0, "%s", err.msg);
        CHECK(ae_evaluate(back, NULL, &ds, NULL, &got, 1, &err) == 0, "%s", err.msg);
        /* SSE: the squared error summed over an image's 16 pixels */
        CHECK(got.loss == want.loss && fabs(got.loss - 16 * got.mse) <= 1e-9 * got.loss,
              "text %zu: loaded model evaluates %.9g (mse %.9g), in memory %.9g", i, got.loss, got.mse, want.loss);
        ae_model_free(m);
        ae_model_free(back);
    }
    unlink(path);
}

/* ae_evaluate_per_image: the same results as ae_evaluate, and per-image
 * losses whose mean is the loss, for each kind of loss (BCE per pixel, SSE
 * per image, a VAE's SSE + KL with sampled z), with 1 and 3 threads over
 * several chunks of images. */
static void test_evaluate_per_image(void)
{
    enum { N = 300 };
    static uint8_t pixels[N * 784];
    for (int i = 0; i < N * 784; i++) pixels[i] = (uint8_t)((i * 2654435761u) >> 24);
    ae_dataset ds = { .n = N, .c = 1, .h = 28, .w = 28, .pixels = pixels };
    strcpy(ds.source, "pixels");
    static const char *const presets[] = { "conv", "vae", "sr" };
    static float loss[N];
    for (size_t p = 0; p < sizeof presets / sizeof presets[0]; p++)
        for (int threads = 1; threads <= 3; threads += 2) {
            ae_error err = { "" };
            ae_model *m = NULL;
            if (ae_model_from_preset(&m, presets[p], 0, &err)) { CHECK(0, "%s", err.msg); continue; }
            ae_eval_result want, got;
            for (int i = 0; i < N; i++) loss[i] = NAN;
            CHECK(ae_evaluate(m, NULL, &ds, NULL, &want, threads, &err) == 0, "%s", err.msg);
            CHECK(ae_evaluate_per_image(m, NULL, &ds, NULL, &got, loss, threads, &err) == 0, "%s", err.msg);
            CHECK(memcmp(&want, &got, sizeof want) == 0, "%s: results differ with per-image losses", presets[p]);
            double sum = 0, lo = INFINITY, hi = -INFINITY;
            for (int i = 0; i < N; i++) {
                sum += loss[i];
                if (loss[i] < lo) lo = loss[i];
                if (loss[i] > hi) hi = loss[i];
            }
            CHECK(isfinite(sum) && lo < hi, "%s: per-image losses from %g to %g", presets[p], lo, hi);
            CHECK_CLOSE(sum / N, got.loss, 1e-6, 0, "%s, %d threads: mean %.9g, loss %.9g", presets[p], threads,
                        sum / N, got.loss);
            ae_model_free(m);
        }
}

/* A conditional model: the label is a one-hot input (an image-shaped
 * input gets constant planes); the calls without labels refuse it, the
 * calls with labels refuse other models and labels out of range; the
 * classes survive saving; evaluation reads the data set's labels. */
static void test_conditional(void)
{
    ae_error err = { "" };
    ae_model *m = NULL, *vae = NULL, *loaded = NULL;
    CHECK(ae_model_from_preset(&m, "cvae", 0, &err) == 0, "%s", err.msg);
    CHECK(ae_model_from_preset(&vae, "vae", 0, &err) == 0, "%s", err.msg);
    if (!m || !vae) { ae_model_free(m); ae_model_free(vae); return; }
    CHECK(ae_model_class_count(m) == 10 && ae_model_class_count(vae) == 0, "classes %d, %d",
          ae_model_class_count(m), ae_model_class_count(vae));
    CHECK(ae_model_latent_size(m) == 2 && m->layers[1].out_c == 794 && m->layers[m->n_encoder].out_c == 12,
          "cvae shapes");
    enum { N = 3 };
    static float x[N * 784], codes[N * 2], y[N * 784], y2[N * 784];
    for (int i = 0; i < N * 784; i++) x[i] = (float)((i * 37) % 101) / 100.0f;
    int labels[N] = { 3, 0, 9 }, bad[N] = { 3, 10, 0 };
    CHECK(ae_model_encode(m, NULL, x, N, codes, 1, &err) == -1 &&
          strstr(err.msg, "ae_model_encode: the model is conditional on 10 classes: give each image's label "
                          "(ae_model_encode_labels)"), "%s", err.msg);
    CHECK(ae_model_sample(m, NULL, N, 1, y, 1, &err) == -1 && strstr(err.msg, "ae_model_sample_labels"), "%s", err.msg);
    CHECK(ae_model_encode_labels(vae, NULL, x, labels, N, codes, 1, &err) == -1 &&
          strstr(err.msg, "not conditional"), "%s", err.msg);
    CHECK(ae_model_reconstruct_labels(m, NULL, x, bad, N, y, 1, &err) == -1 &&
          strstr(err.msg, "label 10 (image 1) is not a class of the model (0 to 9)"), "%s", err.msg);
    CHECK(ae_model_encode_labels(m, NULL, x, labels, N, codes, 1, &err) == 0, "%s", err.msg);
    CHECK(ae_model_decode_labels(m, NULL, codes, labels, N, y, 1, &err) == 0, "%s", err.msg);
    CHECK(ae_model_reconstruct_labels(m, NULL, x, labels, N, y2, 1, &err) == 0, "%s", err.msg);
    CHECK(memcmp(y, y2, sizeof y) == 0, "reconstruct is not decode(encode) with the same labels");
    labels[0] = 4;
    CHECK(ae_model_decode_labels(m, NULL, codes, labels, N, y2, 1, &err) == 0, "%s", err.msg);
    CHECK(memcmp(y, y2, 784 * sizeof(float)) != 0 && memcmp(y + 784, y2 + 784, 2 * 784 * sizeof(float)) == 0,
          "another label changes that image alone");
    CHECK(ae_model_sample_labels(m, NULL, labels, N, 5, y, 1, &err) == 0, "%s", err.msg);

    const char *path = "/tmp/aekit_test_cvae.safetensors";
    CHECK(ae_model_save(m, path, &err) == 0, "%s", err.msg);
    CHECK(ae_model_load(&loaded, path, &err) == 0, "%s", err.msg);
    if (loaded) {
        CHECK(ae_model_class_count(loaded) == 10 && strstr(ae_model_description(loaded), "param classes 10\n") &&
              strcmp(ae_model_description(loaded), ae_model_description(m)) == 0, "loaded:\n%s",
              ae_model_description(loaded));
        ae_model_free(loaded);
    }
    unlink(path);

    static uint8_t pixels[N * 784], ds_labels[N] = { 1, 2, 3 };
    ae_dataset ds = { .n = N, .c = 1, .h = 28, .w = 28, .pixels = pixels };
    strcpy(ds.source, "pixels");
    ae_eval_result r;
    CHECK(ae_evaluate(m, NULL, &ds, NULL, &r, 1, &err) == -1 &&
          strstr(err.msg, "pixels: the model is conditional on 10 classes, the data set has no labels"), "%s", err.msg);
    ds.labels = ds_labels;
    CHECK(ae_evaluate(m, NULL, &ds, NULL, &r, 1, &err) == 0, "%s", err.msg);
    ds_labels[2] = 12;
    CHECK(ae_evaluate(m, NULL, &ds, NULL, &r, 1, &err) == -1 && strstr(err.msg, "image 2 has label 12, the model is conditional on 10 classes (0 to 9): give its description 'param classes 13' or more"), "%s", err.msg);
    CHECK(ae_evaluate(vae, NULL, &ds, NULL, &r, 1, &err) == 0, "labels of a plain model's data set: %s", err.msg);

    /* an image-shaped input: the label as constant planes */
    ae_model *conv = NULL;
    CHECK(ae_model_from_text(&conv, "param classes 4\ninput 1 4 4\nloss mse\nencoder\ncondition\nconv 2\ndecoder\n"
                             "condition\nconv 1\nsigmoid\n", "conv.txt", 0, &err) == 0, "%s", err.msg);
    if (conv) {
        CHECK(conv->layers[0].out_c == 5 && conv->layers[0].out_h == 4 && conv->layers[2].out_c == 6,
              "conditional conv shapes");
        CHECK(conv->layers[1].w_shape[1] == 5, "the conv reads the label's planes");
        ae_model_free(conv);
    }
    ae_model_free(m);
    ae_model_free(vae);
}

int main(void)
{
    test_conditional();
    test_preset();
    test_parse_errors();
    test_set_loss_saved();
    test_evaluate_per_image();
    test_save_load();
    test_torch_steps();
    test_torch_trained();
    TEST_DONE();
}
