#define _POSIX_C_SOURCE 200809L
/* Values that used to give misleading results: numbers out of range (in
 * ae_train_options, in model descriptions and metadata, in noise specs) and
 * weights that hold NaN or infinities (named by ae_model_nonfinite_tensors,
 * refused by ae_evaluate and ae_train instead of reported as numbers). */
#include "test.h"
#include "aekit.h"
#include "model/model.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* n images of side x side pixels, none of them black. */
static ae_dataset *make_data(int n, int side)
{
    ae_dataset *ds = calloc(1, sizeof *ds);
    size_t count = (size_t)n * side * side;
    ds->n = n;
    ds->c = 1;
    ds->h = ds->w = side;
    ds->pixels = malloc(count);
    for (size_t i = 0; i < count; i++) ds->pixels[i] = (uint8_t)(1 + i * 37 % 250);
    snprintf(ds->source, sizeof ds->source, "synthetic");
    return ds;
}

/* The parameter index range of a named tensor ("decoder.9.bias"). */
static void tensor_range(const ae_model *m, const char *want, size_t *off, size_t *count)
{
    *off = *count = 0;
    for (int i = 0; i < m->nlayers; i++) {
        const ae_layer *l = &m->layers[i];
        char name[64];
        model_tensor_name(l, "weight", name, sizeof name);
        if (l->w_count && strcmp(name, want) == 0) { *off = l->w_off; *count = l->w_count; return; }
        model_tensor_name(l, "bias", name, sizeof name);
        if (l->b_count && strcmp(name, want) == 0) { *off = l->b_off; *count = l->b_count; return; }
    }
}

static void set_tensor(ae_model *m, const char *name, float v)
{
    size_t off, count;
    tensor_range(m, name, &off, &count);
    CHECK(count > 0, "no tensor %s", name);
    for (size_t i = 0; i < count; i++) m->params[off + i] = v;
}

static void test_nonfinite_tensors(void)
{
    ae_error err = {{0}};
    ae_model *m = NULL;
    CHECK(ae_model_from_preset(&m, "conv", 0, &err) == 0, "%s", err.msg);
    char buf[256];
    CHECK(ae_model_nonfinite_tensors(m, buf, sizeof buf) == 0 && buf[0] == '\0', "fresh model: '%s'", buf);
    set_tensor(m, "decoder.9.bias", NAN);
    m->params[0] = INFINITY;                     /* encoder.0.weight */
    int n = ae_model_nonfinite_tensors(m, buf, sizeof buf);
    CHECK(n == 2 && strcmp(buf, "encoder.0.weight, decoder.9.bias") == 0, "%d: '%s'", n, buf);
    /* every tensor: the first four by name, then a count */
    for (size_t i = 0; i < m->nparams; i++) m->params[i] = NAN;
    n = ae_model_nonfinite_tensors(m, buf, sizeof buf);
    CHECK(n == 14 && strstr(buf, "encoder.0.weight, encoder.0.bias, encoder.3.weight, encoder.3.bias and 10 more"),
          "%d: '%s'", n, buf);
    char tiny[8];
    n = ae_model_nonfinite_tensors(m, tiny, sizeof tiny);
    CHECK(n == 14 && strlen(tiny) == 7, "cut to the buffer: %d '%s'", n, tiny);
    ae_model_free(m);
}

/* ae_evaluate: NaN weights are named; finite weights that overflow are said
 * to be finite; PSNR of a NaN MSE is NaN, not infinite. */
static void test_evaluate_nonfinite(void)
{
    ae_error err = {{0}};
    ae_dataset *ds = make_data(20, 28);
    ae_model *m = NULL;
    ae_eval_result r;
    CHECK(ae_model_from_preset(&m, "conv", 0, &err) == 0, "%s", err.msg);
    CHECK(ae_evaluate(m, NULL, ds, NULL, &r, 1, &err) == 0 && isfinite(r.loss), "finite model: %s", err.msg);

    set_tensor(m, "decoder.9.bias", NAN);
    memset(&err, 0, sizeof err);
    CHECK(ae_evaluate(m, NULL, ds, NULL, &r, 1, &err) == -1, "NaN output accepted (loss %g)", r.loss);
    CHECK(strstr(err.msg, "non-finite results (loss nan, mse nan)") && strstr(err.msg, "decoder.9.bias") &&
          strstr(err.msg, "synthetic"), "message: %s", err.msg);
    CHECK(isnan(r.psnr), "psnr of a NaN mse is %g", r.psnr);

    ae_model_free(m);
    ae_dataset_free(ds);

    /* finite weights whose sums overflow: a linear decoder's output is inf */
    ds = make_data(4, 4);
    CHECK(ae_model_from_text(&m, "input 1 4 4\nencoder\nflatten\ndense 2\ndecoder\ndense 16\n"
                                "reshape 1 4 4\nloss mse\n", "linear.txt", 0, &err) == 0, "%s", err.msg);
    for (size_t i = 0; i < m->nparams; i++) m->params[i] = 3e38f;
    memset(&err, 0, sizeof err);
    CHECK(ae_evaluate(m, NULL, ds, NULL, &r, 1, &err) == -1, "overflow accepted (loss %g)", r.loss);
    CHECK(strstr(err.msg, "(loss inf, mse inf) although its weights are finite") != NULL, "message: %s", err.msg);
    ae_model_free(m);
    ae_dataset_free(ds);
}

static void expect_train_error(const ae_train_options *o, const char *needle)
{
    ae_error err = {{0}};
    ae_dataset *ds = make_data(8, 28);
    ae_model *m = NULL;
    ae_model_from_preset(&m, "conv", 0, &err);
    int rc = ae_train(m, ds, NULL, o, NULL, NULL, &err);
    CHECK(rc == -1 && strstr(err.msg, needle), "%s: rc %d, message '%s'", needle, rc, err.msg);
    ae_model_free(m);
    ae_dataset_free(ds);
}

/* The ranges of ae_train_options: values that would train nothing, or be
 * changed silently, are errors. */
static void test_train_limits(void)
{
    ae_train_options o;
    ae_train_options_default(&o);
    o.epochs = 1;
    o.threads = 1;
    o.lr = 1e-300;                               /* 0 in float arithmetic */
    expect_train_error(&o, "learning rate must be 1e-10 to 1000, got 1e-300");
    o.lr = INFINITY;
    expect_train_error(&o, "learning rate");
    o.lr = 1e300;                                /* infinite as a float: diverged */
    expect_train_error(&o, "learning rate must be 1e-10 to 1000, got 1e+300");
    o.lr = 1e-3;
    o.clip_grad = 1e-300;                        /* would zero every gradient */
    expect_train_error(&o, "gradient clipping norm must be 0 (none) or 1e-37 to 1e+38, got 1e-300");
    o.clip_grad = 1e300;                         /* infinite as a float: clipped nothing */
    expect_train_error(&o, "gradient clipping norm must be 0 (none) or 1e-37 to 1e+38, got 1e+300");
    o.clip_grad = 0;
    o.threads = AE_MAX_THREADS + 1;              /* was quietly cut to 256 */
    expect_train_error(&o, "threads must be 0 (all cores) to 256, got 257");
    o.threads = 1;
    o.epochs = AE_MAX_EPOCHS + 1;
    expect_train_error(&o, "epochs must be 1 to 1000000, got 1000001");
}

/* Weights that are already NaN: named before training, not reported as a
 * divergence with "try a lower --lr". */
static void test_train_nan_weights(void)
{
    ae_error err = {{0}};
    ae_dataset *ds = make_data(8, 28);
    ae_model *m = NULL;
    ae_model_from_preset(&m, "conv", 0, &err);
    set_tensor(m, "encoder.3.weight", NAN);
    ae_train_options o;
    ae_train_options_default(&o);
    o.epochs = 1;
    o.threads = 1;
    o.init_weights = 0;                          /* fine-tuning, as --init */
    int rc = ae_train(m, ds, NULL, &o, NULL, NULL, &err);
    CHECK(rc == -1 && strstr(err.msg, "not finite before training: encoder.3.weight holds NaN") &&
          !strstr(err.msg, "--lr"), "rc %d, message '%s'", rc, err.msg);
    ae_model_free(m);
    ae_dataset_free(ds);
}

/* Validation results that are not finite stop training (they were printed
 * and stored in the model as "val nan"): all-black training images leave
 * the huge weights of a linear model alone, the validation images overflow. */
static void test_validation_overflow(void)
{
    ae_error err = {{0}};
    ae_dataset *train = make_data(4, 4), *val = make_data(4, 4);
    memset(train->pixels, 0, 4 * 16);
    ae_model *m = NULL;
    CHECK(ae_model_from_text(&m, "input 1 4 4\nencoder\nflatten\ndense 2 bias=0\ndecoder\n"
                                "dense 16 bias=0\nreshape 1 4 4\nloss mse\n", "linear.txt", 0, &err) == 0,
          "%s", err.msg);
    for (size_t i = 0; i < m->nparams; i++) m->params[i] = 3e38f;
    ae_train_options o;
    ae_train_options_default(&o);
    o.epochs = 1;
    o.threads = 1;
    o.init_weights = 0;
    int rc = ae_train(m, train, val, &o, NULL, NULL, &err);
    CHECK(rc == -1 && strstr(err.msg, "validation after epoch 1: synthetic: the model gives non-finite results") &&
          strstr(err.msg, "although its weights are finite"), "rc %d, message '%s'", rc, err.msg);
    ae_model_free(m);
    ae_dataset_free(train);
    ae_dataset_free(val);
}

static void expect_parse_error(const char *text, int latent, const char *needle)
{
    ae_error err = {{0}};
    ae_model *m = NULL;
    int rc = ae_model_from_text(&m, text, "d.txt", latent, &err);
    CHECK(rc == -1 && !m && strstr(err.msg, needle), "'%s': rc %d, message '%s'", needle, rc, err.msg);
    ae_model_free(m);
}

#define DENSE_AE(param) "input 1 4 4\n" param "encoder\nflatten\ndense {latent}\n" \
                        "decoder\ndense 16\nreshape 1 4 4\nsigmoid\n"

/* `param latent N` was read with atoi: 99999999999999 wrapped to 276447231
 * and was reported as that. */
static void test_param_latent(void)
{
    expect_parse_error(DENSE_AE("param latent 99999999999999\n"), 0,
                       "d.txt:2: param latent: expected an integer from 1 to 1048576, got '99999999999999'");
    expect_parse_error(DENSE_AE("param latent 4x\n"), 0, "d.txt:2: param latent: expected an integer");
    expect_parse_error(DENSE_AE("# size\n  param latent -3\n"), 0, "d.txt:3: param latent");
    /* a bad param line is bad even when the caller gives the size */
    expect_parse_error(DENSE_AE("param latent 1e3\n"), 8, "d.txt:2: param latent");
    expect_parse_error(DENSE_AE(""), 2000000, "latent size 2000000 is too large (at most 1048576)");
    ae_error err = {{0}};
    ae_model *m = NULL;
    /* indented, with a comment: read as the parser reads the line */
    CHECK(ae_model_from_text(&m, DENSE_AE("  param latent 6   # default\n"), "d.txt", 0, &err) == 0 &&
          ae_model_latent_size(m) == 6, "%s", err.msg);
    ae_model_free(m);
}

/* Numbers read from metadata and noise specs are stored as floats: a value
 * that becomes infinite as a float is refused where it is read. */
static void test_float_ranges(void)
{
    ae_error err = {{0}};
    ae_noise nz;
    CHECK(ae_noise_parse(&nz, "gaussian:1e300,0.5", &err) == -1 && strstr(err.msg, "gaussian:1e300,0.5"),
          "mean 1e300: %s", err.msg);
    CHECK(ae_noise_parse(&nz, "gaussian:0.5,1e39", &err) == -1, "std 1e39 accepted (%g)", nz.std);
    CHECK(ae_noise_parse(&nz, "gaussian:0.5,0.5", &err) == 0, "%s", err.msg);

    ae_model *m = NULL;
    CHECK(ae_model_from_text(&m, DENSE_AE(""), "d.txt", 2, &err) == 0, "%s", err.msg);
    ae_model_set_meta(m, "aekit.latent.mean", "0,1e39", &err);
    ae_model_set_meta(m, "aekit.latent.std", "1,1", &err);
    float mean[2], std[2];
    memset(&err, 0, sizeof err);
    CHECK(ae_model_latent_gaussian(m, mean, std, &err) == -1 && strstr(err.msg, "number 2 is '1e39'"),
          "mean 1e39: %s", err.msg);
    ae_model_free(m);
}

int main(void)
{
    test_nonfinite_tensors();
    test_evaluate_nonfinite();
    test_train_limits();
    test_train_nan_weights();
    test_validation_overflow();
    test_param_latent();
    test_float_ranges();
    TEST_DONE();
}
