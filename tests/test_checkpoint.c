/* Training checkpoints through the library API: a run stopped by its
 * callback and resumed from the checkpoint ends bit-identical to an
 * unbroken one (plain, denoising with SGD, VAE with RMSprop); a checkpoint
 * loads as a model; corrupt or mismatched checkpoints are refused; gradient
 * clipping scales the step to the given norm; a NaN stops training naming
 * the layer. */
#define _POSIX_C_SOURCE 200809L
#include "test.h"
#include "aekit.h"
#include "model/model.h"
#include "format/safetensors.h"

#include <stdint.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/aekit-test-ckpt-XXXXXX";
static char ckpt[256];

/* A small data set of smooth random images, 1x28x28. */
static ae_dataset *make_data(int n, uint32_t seed)
{
    ae_dataset *ds = calloc(1, sizeof *ds);
    ds->n = n;
    ds->c = 1;
    ds->h = ds->w = 28;
    ds->pixels = malloc((size_t)n * 784);
    uint32_t x = seed;
    for (int i = 0; i < n; i++)
        for (int p = 0; p < 784; p++) {
            x = x * 1664525u + 1013904223u;
            int r = p / 28, c = p % 28;
            ds->pixels[(size_t)i * 784 + p] = (uint8_t)(((r * (i % 7 + 1) + c * 3) % 200) + (x >> 29));
        }
    snprintf(ds->source, sizeof ds->source, "synthetic-%u", seed);
    return ds;
}

typedef struct { int epoch, step; } stop_at;

static int stop_cb(const ae_progress *p, void *user)
{
    const stop_at *s = user;
    return !p->end_of_epoch && p->epoch == s->epoch && p->step == s->step;
}

static int same_params(const ae_model *a, const ae_model *b)
{
    return a->nparams == b->nparams && memcmp(a->params, b->params, a->nparams * sizeof(float)) == 0;
}

/* Unbroken run vs stopped at (epoch, step), loaded and resumed. */
static void check_resume(const char *preset, int latent, ae_optimizer optimizer, const ae_noise *noise,
                         int ckpt_steps, stop_at at)
{
    ae_error err = {{0}};
    ae_dataset *train = make_data(100, 1), *val = make_data(20, 2);
    ae_train_options o;
    ae_train_options_default(&o);
    o.epochs = 3;
    o.batch = 16;
    o.optimizer = optimizer;
    o.seed = 11;
    o.threads = 2;
    if (noise) o.noise = *noise;

    ae_model *ref = NULL, *m = NULL, *back = NULL;
    CHECK(ae_model_from_preset_ex(&ref, preset, latent, &err) == 0, "%s", err.msg);
    CHECK(ae_train(ref, train, val, &o, NULL, NULL, &err) == 0, "%s", err.msg);

    unlink(ckpt);
    CHECK(ae_model_from_preset_ex(&m, preset, latent, &err) == 0, "%s", err.msg);
    o.checkpoint = ckpt;
    o.checkpoint_steps = ckpt_steps;
    CHECK(ae_train(m, train, val, &o, stop_cb, &at, &err) == 0, "%s", err.msg);
    CHECK(access(ckpt, F_OK) == 0, "%s: no checkpoint after the stop", preset);

    ae_train_options lo;
    ae_train_state *st = NULL;
    CHECK(ae_checkpoint_load(ckpt, &back, &lo, &st, &err) == 0, "%s", err.msg);
    if (!st) goto out;
    ae_train_position pos;
    ae_train_state_position(st, &pos);
    CHECK(pos.epoch == at.epoch && pos.step == at.step, "%s: position %d/%d, expected %d/%d", preset,
          pos.epoch, pos.step, at.epoch, at.step);
    CHECK(pos.epochs_done == at.epoch - 1, "%s: %d epochs in the history", preset, pos.epochs_done);
    CHECK(lo.threads == 2 && lo.seed == 11 && lo.optimizer == optimizer && lo.epochs == 3,
          "%s: options not restored", preset);
    CHECK(same_params(m, back), "%s: checkpoint weights differ from the stopped model's", preset);
    CHECK(ae_model_meta(back, "aekit.checkpoint.epoch") == NULL, "checkpoint keys leak into the model");

    /* another lr is refused */
    ae_train_options bad = lo;
    bad.lr = 0.5;
    CHECK(ae_train_resume(back, train, val, &bad, st, NULL, NULL, &err) != 0 &&
          strstr(err.msg, "lr 0.5") != NULL, "other lr accepted: %s", err.msg);
    /* so is other data */
    ae_dataset *other = make_data(100, 3);
    CHECK(ae_train_resume(back, other, val, &lo, st, NULL, NULL, &err) != 0 &&
          strstr(err.msg, "not the checkpoint's run's") != NULL, "other data accepted: %s", err.msg);
    ae_dataset_free(other);

    CHECK(ae_train_resume(back, train, val, &lo, st, NULL, NULL, &err) == 0, "%s", err.msg);
    CHECK(same_params(ref, back), "%s: resumed run differs from the unbroken run", preset);
    const char *mr = ae_model_meta(ref, "aekit.latent.mean"), *mb = ae_model_meta(back, "aekit.latent.mean");
    CHECK((!mr && !mb) || (mr && mb && strcmp(mr, mb) == 0), "%s: latent Gaussian differs", preset);

    /* the checkpoint is also a model file */
    ae_model *as_model = NULL;
    CHECK(ae_model_load(&as_model, ckpt, &err) == 0, "%s", err.msg);
    CHECK(as_model && ae_model_meta(as_model, "aekit.checkpoint.format") == NULL, "checkpoint keys in the model");
    ae_model_free(as_model);
out:
    ae_train_state_free(st);
    ae_model_free(back);
    ae_model_free(m);
    ae_model_free(ref);
    ae_dataset_free(train);
    ae_dataset_free(val);
}

/* Overwrites the first 4 bytes of tensor `name` in the file at `path`. */
static void poke(const char *path, const char *name, uint32_t value)
{
    st_file f;
    ae_error err;
    if (st_read(&f, path, &err) != 0) return;
    const st_tensor *t = st_find(&f, name);
    FILE *fp = fopen(path, "r+b");
    uint8_t len[8];
    if (t && fp && fread(len, 1, 8, fp) == 8) {
        uint64_t n = 0;
        for (int i = 0; i < 8; i++) n |= (uint64_t)len[i] << (8 * i);
        fseek(fp, (long)(8 + n + t->begin), SEEK_SET);
        fwrite(&value, 4, 1, fp);
    }
    if (fp) fclose(fp);
    st_free(&f);
}

/* Replaces the first `from` after `key` in the file's bytes with `to` (same
 * length): edits a metadata value in place. */
static int poke_text(const char *path, const char *key, const char *from, const char *to)
{
    FILE *fp = fopen(path, "r+b");
    if (!fp) return -1;
    static char buf[1 << 16];
    size_t got = fread(buf, 1, sizeof buf - 1, fp);
    buf[got] = '\0';
    int rc = -1;
    char *k = NULL;
    for (size_t i = 8; i < got && !k; i++) k = strstr(buf + i, key);   /* skip the length */
    char *v = k ? strstr(k, from) : NULL;
    if (v && strlen(from) == strlen(to)) {
        fseek(fp, (long)(v - buf), SEEK_SET);
        fwrite(to, 1, strlen(to), fp);
        rc = 0;
    }
    fclose(fp);
    return rc;
}

static void check_corrupt(void)
{
    ae_error err = {{0}};
    ae_dataset *train = make_data(50, 1);
    ae_model *m = NULL, *back = NULL;
    ae_train_options o;
    ae_train_options_default(&o);
    o.epochs = 2;
    o.batch = 16;
    o.threads = 1;
    o.checkpoint = ckpt;
    o.checkpoint_steps = 1;
    stop_at at = { 1, 2 };
    unlink(ckpt);
    ae_model_from_preset(&m, "conv", &err);
    CHECK(ae_train(m, train, NULL, &o, stop_cb, &at, &err) == 0, "%s", err.msg);
    ae_train_state *st = NULL;
    ae_train_options lo;
    poke(ckpt, "aekit.checkpoint.order", 49);   /* index 49 twice: not a permutation */
    CHECK(ae_checkpoint_load(ckpt, &back, &lo, &st, &err) != 0 && strstr(err.msg, "not a permutation"),
          "corrupt order accepted: %s", err.msg);
    CHECK(back == NULL && st == NULL, "outputs set on failure");
    poke(ckpt, "aekit.checkpoint.order", 1000000);
    CHECK(ae_checkpoint_load(ckpt, &back, &lo, &st, &err) != 0, "out-of-range order accepted");
    /* sizes in the metadata must be backed by the tensors before anything
     * is allocated for them */
    CHECK(poke_text(ckpt, "\"aekit.checkpoint.train_images\"", "\"50\"", "\"99\"") == 0,
          "train_images not found in the checkpoint header");
    CHECK(ae_checkpoint_load(ckpt, &back, &lo, &st, &err) != 0 && strstr(err.msg, "of its metadata"),
          "train_images not matching the order tensor accepted: %s", err.msg);
    /* a plain model file is not a checkpoint */
    char model[300];
    snprintf(model, sizeof model, "%s/model.safetensors", dir);
    ae_model_save(m, model, &err);
    CHECK(ae_checkpoint_load(model, &back, &lo, &st, &err) != 0 && strstr(err.msg, "not a checkpoint"),
          "model file taken as a checkpoint: %s", err.msg);
    unlink(model);
    ae_model_free(m);
    ae_dataset_free(train);
}

/* SGD without momentum, one step, clip 1e-3: the update is lr * 1e-3 long. */
static void check_clip(void)
{
    ae_error err = {{0}};
    ae_dataset *train = make_data(32, 4);
    ae_model *m = NULL;
    ae_model_from_preset(&m, "conv", &err);
    ae_train_options o;
    ae_train_options_default(&o);
    o.epochs = 1;
    o.batch = 32;
    o.optimizer = AE_OPT_SGD;
    o.momentum = 0;
    o.lr = 2.0;
    o.clip_grad = 1e-3;
    o.threads = 1;
    ae_model_init(m, o.seed);
    float *before = malloc(m->nparams * sizeof(float));
    memcpy(before, m->params, m->nparams * sizeof(float));
    CHECK(ae_train(m, train, NULL, &o, NULL, NULL, &err) == 0, "%s", err.msg);
    double ss = 0;
    for (size_t i = 0; i < m->nparams; i++) {
        double d = (double)m->params[i] - before[i];
        ss += d * d;
    }
    CHECK_CLOSE(sqrt(ss), 2.0 * 1e-3, 1e-3, 0, "clipped step norm %g", sqrt(ss));
    free(before);
    ae_model_free(m);
    ae_dataset_free(train);
}

static void check_nan(void)
{
    ae_error err = {{0}};
    ae_dataset *train = make_data(64, 5);
    ae_model *m = NULL;
    ae_model_from_preset(&m, "conv", &err);
    ae_train_options o;
    ae_train_options_default(&o);
    o.epochs = 1;
    o.batch = 16;
    o.optimizer = AE_OPT_SGD;
    o.lr = 1e30;
    o.threads = 1;
    CHECK(ae_train(m, train, NULL, &o, NULL, NULL, &err) != 0, "lr 1e30 did not diverge");
    CHECK(strstr(err.msg, "training diverged at epoch 1, step") && strstr(err.msg, "encoder.0.weight"),
          "message: %s", err.msg);
    ae_model_free(m);
    ae_dataset_free(train);
}

int main(void)
{
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(ckpt, sizeof ckpt, "%s/checkpoint.safetensors", dir);
    ae_noise sp = { AE_NOISE_SALT_PEPPER, 0, 0, 0.2f };
    check_resume("conv", 0, AE_OPT_ADAM, NULL, 3, (stop_at){ 2, 3 });
    check_resume("conv", 0, AE_OPT_SGD, &sp, 0, (stop_at){ 1, 7 });    /* last step of epoch 1 */
    check_resume("vae", 2, AE_OPT_RMSPROP, NULL, 2, (stop_at){ 3, 1 });
    check_corrupt();
    check_clip();
    check_nan();
    unlink(ckpt);
    rmdir(dir);
    TEST_DONE();
}
