/* Training checkpoints through the library API: a run stopped by its
 * callback and resumed from the checkpoint ends bit-identical to an
 * unbroken one (plain, denoising with SGD, VAE with RMSprop, AAE with a
 * reg_lr of its own; a plateau
 * schedule that reduced the rate before the stop, cosine with a warm-up
 * the stop falls in, weight decay: the learning rates too; early stopping
 * with keep best, stopped after its best epoch: its best weights too); a
 * run that early stopping ended holds the best epoch's weights; a finished
 * run's final checkpoint extended by an epoch equals the longer run (an
 * AAE's too); format
 * 2 checkpoints are read, format 1 refused by name; a conditional model's
 * run is not extended on other labels; a checkpoint
 * loads as a model; corrupt or mismatched checkpoints are refused; gradient
 * clipping scales the step to the given norm; a NaN stops training naming
 * the layer. A checkpoint holding values no run writes (an all-zero random
 * state, counters that disagree with the position, negative times, bad
 * optimiser moments or weights) is refused naming the field, never resumed
 * into a hang (an alarm turns one into a failure). */
#define _POSIX_C_SOURCE 200809L
#include "test.h"
#include "synthetic_data.h"
#include "aekit.h"
#include "model/model.h"
#include "format/safetensors.h"

#include <jansson.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/aekit-test-ckpt-XXXXXX";
static char ckpt[256];


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

/* Frees a check's state, its `n` models and its data sets (NULLs skipped). */
static void free_run(ae_train_state *st, ae_model *const *models, int n, ae_dataset *train, ae_dataset *val)
{
    ae_train_state_free(st);
    for (int i = 0; i < n; i++) ae_model_free(models[i]);
    ae_dataset_free(train);
    ae_dataset_free(val);
}

/* Unbroken run vs stopped at (epoch, step), loaded and resumed. */
static void check_resume(const char *preset, int latent, ae_optimizer optimizer, const ae_noise *noise,
                         double reg_lr, int ckpt_steps, stop_at at)
{
    ae_error err = {{0}};
    ae_dataset *train = synthetic_data(100, 1), *val = synthetic_data(20, 2);
    ae_train_options o;
    ae_train_options_default(&o);
    o.epochs = 3;
    o.batch = 16;
    o.optimizer = optimizer;
    o.seed = 11;
    o.threads = 2;
    if (noise) o.noise = *noise;
    if (reg_lr) o.reg_lr = reg_lr;

    ae_model *ref = NULL, *m = NULL, *back = NULL;
    CHECK(ae_model_from_preset(&ref, preset, latent, &err) == 0, "%s", err.msg);
    CHECK(ae_train(ref, train, val, &o, NULL, NULL, &err) == 0, "%s", err.msg);

    unlink(ckpt);
    CHECK(ae_model_from_preset(&m, preset, latent, &err) == 0, "%s", err.msg);
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
    CHECK(lo.threads == 2 && lo.seed == 11 && lo.optimizer == optimizer && lo.epochs == 3 &&
          lo.reg_lr == o.reg_lr, "%s: options not restored", preset);
    CHECK(same_params(m, back), "%s: checkpoint weights differ from the stopped model's", preset);
    CHECK(ae_model_meta(back, "aekit.checkpoint.epoch") == NULL, "checkpoint keys leak into the model");

    /* another lr is refused */
    ae_train_options bad = lo;
    bad.lr = 0.5;
    CHECK(ae_train_resume(back, train, val, &bad, st, NULL, NULL, &err) != 0 &&
          strstr(err.msg, "lr 0.5") != NULL, "other lr accepted: %s", err.msg);
    /* so is other data */
    ae_dataset *other = synthetic_data(100, 3);
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
    free_run(st, (ae_model *[]){ back, m, ref }, 3, train, val);
}

typedef struct { double lr[8]; int n; } lr_log;

static int log_lr(const ae_progress *p, void *user)
{
    lr_log *l = user;
    if (p->end_of_epoch && l->n < 8) l->lr[l->n++] = p->lr;
    return 0;
}

/* A run with a schedule, stopped at `at` and resumed, against an unbroken
 * one: the same weights and the same rate epoch by epoch. */
static void check_resume_schedule(const char *spec, int warmup, double weight_decay, ae_optimizer optimizer,
                                  double lr, stop_at at)
{
    ae_error err = {{0}};
    ae_dataset *train = synthetic_data(100, 1), *val = synthetic_data(20, 2);
    ae_train_options o;
    ae_train_options_default(&o);
    o.epochs = 4;
    o.batch = 16;
    o.lr = lr;
    o.optimizer = optimizer;
    o.seed = 7;
    o.threads = 2;
    o.warmup_steps = warmup;
    o.weight_decay = weight_decay;
    CHECK(ae_lr_schedule_parse(&o.lr_schedule, spec, &err) == 0, "%s", err.msg);
    ae_model *ref = NULL, *m = NULL, *back = NULL;
    lr_log want = { .n = 0 };
    CHECK(ae_model_from_preset(&ref, "conv", 0, &err) == 0, "%s", err.msg);
    CHECK(ae_train(ref, train, val, &o, log_lr, &want, &err) == 0, "%s", err.msg);
    CHECK(want.n == 4 && want.lr[0] != want.lr[3], "%s: the rate never changed (%g ... %g): the test shows "
          "nothing", spec, want.lr[0], want.lr[3]);
    CHECK(want.lr[at.epoch - 1] != want.lr[0], "%s: the rate changed only after the stop", spec);

    unlink(ckpt);
    CHECK(ae_model_from_preset(&m, "conv", 0, &err) == 0, "%s", err.msg);
    o.checkpoint = ckpt;
    CHECK(ae_train(m, train, val, &o, stop_cb, &at, &err) == 0, "%s", err.msg);
    ae_train_options lo;
    ae_train_state *st = NULL;
    CHECK(ae_checkpoint_load(ckpt, &back, &lo, &st, &err) == 0, "%s", err.msg);
    if (st) {
        ae_train_options other = lo;
        other.lr_schedule.kind = AE_LR_CONSTANT;
        CHECK(ae_train_resume(back, train, val, &other, st, NULL, NULL, &err) != 0 &&
              strstr(err.msg, "lr_schedule"), "%s: another schedule accepted: %s", spec, err.msg);
        lr_log got = { .n = 0 };
        CHECK(ae_train_resume(back, train, val, &lo, st, log_lr, &got, &err) == 0, "%s", err.msg);
        CHECK(same_params(ref, back), "%s: resumed run differs from the unbroken run", spec);
        ae_train_position pos;
        ae_train_state_position(st, &pos);
        for (int e = 0; e < 4; e++)
            CHECK(pos.epochs_done == 4 && pos.history[e].lr == want.lr[e], "%s epoch %d: lr %g, unbroken %g", spec,
                  e + 1, pos.history[e].lr, want.lr[e]);
    }
    ae_train_state_free(st);
    ae_model_free(back);
    ae_model_free(m);
    ae_model_free(ref);
    ae_dataset_free(train);
    ae_dataset_free(val);
}

/* The options of a small run: `epochs` epochs in batches of 16, 2 threads. */
static ae_train_options small_run(int epochs, uint64_t seed)
{
    ae_train_options o;
    ae_train_options_default(&o);
    o.epochs = epochs;
    o.batch = 16;
    o.seed = seed;
    o.threads = 2;
    return o;
}

typedef struct { double val_loss[16]; int n; } loss_log;

static int log_loss(const ae_progress *p, void *user)
{
    loss_log *l = user;
    if (p->end_of_epoch && l->n < 16) l->val_loss[l->n++] = p->val_loss;
    return 0;
}

/* Early stopping with keep best: the unbroken run stops before its last
 * epoch and ends with the best epoch's weights (those of a run of exactly
 * that many epochs); a run stopped after the best epoch, mid-epoch, and
 * resumed from its checkpoint (which holds the best weights) ends
 * bit-identical to it. */
static void check_early_stop(void)
{
    ae_error err = {{0}};
    ae_dataset *train = synthetic_data(100, 1), *val = synthetic_data(20, 2);
    ae_train_options o = small_run(12, 5);
    o.lr = 0.05;   /* its val loss is lowest at epoch 7, then not below it in epochs 8 and 9 */
    o.early_stop = 2;
    o.keep = AE_KEEP_BEST;
    ae_model *ref = NULL, *m = NULL, *back = NULL, *exact = NULL;
    loss_log seen = { .n = 0 };
    CHECK(ae_model_from_preset(&ref, "conv", 0, &err) == 0, "%s", err.msg);
    CHECK(ae_train(ref, train, val, &o, log_loss, &seen, &err) == 0, "%s", err.msg);
    int best = ae_best_epoch(seen.val_loss, seen.n);
    CHECK(seen.n < o.epochs && seen.n == best + o.early_stop, "early stopping: %d epochs, best %d (patience %d, "
          "of %d epochs): the test shows nothing", seen.n, best, o.early_stop, o.epochs);
    for (int e = best; e < seen.n; e++)
        CHECK(!(seen.val_loss[e] < seen.val_loss[best - 1]), "epoch %d's val loss beats the best's", e + 1);

    /* the best epoch's weights: a run of exactly `best` epochs */
    ae_train_options exactly = o;
    exactly.epochs = best;
    exactly.early_stop = 0;
    exactly.keep = AE_KEEP_LAST;
    CHECK(ae_model_from_preset(&exact, "conv", 0, &err) == 0, "%s", err.msg);
    CHECK(ae_train(exact, train, val, &exactly, NULL, NULL, &err) == 0, "%s", err.msg);
    CHECK(same_params(ref, exact), "keep best: the weights are not epoch %d's", best);

    /* stopped after the best epoch, resumed */
    unlink(ckpt);
    CHECK(ae_model_from_preset(&m, "conv", 0, &err) == 0, "%s", err.msg);
    o.checkpoint = ckpt;
    stop_at at = { best + 1, 3 };
    CHECK(ae_train(m, train, val, &o, stop_cb, &at, &err) == 0, "%s", err.msg);
    ae_train_options lo;
    ae_train_state *st = NULL;
    CHECK(ae_checkpoint_load(ckpt, &back, &lo, &st, &err) == 0, "%s", err.msg);
    if (st) {
        CHECK(lo.early_stop == 2 && lo.keep == AE_KEEP_BEST, "early stopping options not restored");
        CHECK(ae_train_state_best_epoch(st) == best, "checkpoint's best epoch %d, expected %d",
              ae_train_state_best_epoch(st), best);
        CHECK(!ae_train_state_finished(st, NULL), "stopped mid-run, the state says finished");
        CHECK(ae_train_resume(back, train, val, &lo, st, NULL, NULL, &err) == 0, "%s", err.msg);
        CHECK(same_params(ref, back), "early stopping: the resumed run differs from the unbroken run");
        CHECK(ae_train_state_finished(st, NULL), "the resumed run is not finished");
        /* more epochs alone: early stopping ends it again at once */
        ae_train_options more = lo;
        more.epochs = 20;
        CHECK(ae_train_state_finished(st, &more), "more epochs undid the early stop");
        more.early_stop = 0;
        CHECK(!ae_train_state_finished(st, &more), "early stopping off: the run still ends");
        /* fewer epochs are refused */
        ae_train_options fewer = lo;
        fewer.epochs = 11;
        CHECK(ae_train_resume(back, train, val, &fewer, st, NULL, NULL, &err) != 0 && strstr(err.msg, "epochs 11"),
              "fewer epochs accepted: %s", err.msg);
    }
    free_run(st, (ae_model *[]){ back, exact, m, ref }, 4, train, val);
}

/* A finished run's final checkpoint with more epochs goes on as the
 * longer run (constant lr): 2 epochs extended to 3 = 3 epochs. */
static void check_extend(const char *preset, double reg_lr)
{
    ae_error err = {{0}};
    ae_dataset *train = synthetic_data(60, 1), *val = synthetic_data(20, 2);
    ae_train_options o = small_run(3, 9);
    if (reg_lr) o.reg_lr = reg_lr;
    ae_model *ref = NULL, *m = NULL, *back = NULL;
    CHECK(ae_model_from_preset(&ref, preset, 0, &err) == 0, "%s", err.msg);
    CHECK(ae_train(ref, train, val, &o, NULL, NULL, &err) == 0, "%s", err.msg);
    unlink(ckpt);
    o.epochs = 2;
    o.checkpoint = ckpt;
    o.checkpoint_steps = 5;   /* not at the run's end: the final state is written anyway */
    CHECK(ae_model_from_preset(&m, preset, 0, &err) == 0, "%s", err.msg);
    CHECK(ae_train(m, train, val, &o, NULL, NULL, &err) == 0, "%s", err.msg);
    ae_train_options lo;
    ae_train_state *st = NULL;
    CHECK(ae_checkpoint_load(ckpt, &back, &lo, &st, &err) == 0, "%s", err.msg);
    if (st) {
        ae_train_position pos;
        ae_train_state_position(st, &pos);
        CHECK(pos.epoch == 3 && pos.step == 0 && ae_train_state_finished(st, NULL),
              "the final checkpoint is at epoch %d, step %d", pos.epoch, pos.step);
        lo.epochs = 3;
        CHECK(ae_train_resume(back, train, val, &lo, st, NULL, NULL, &err) == 0, "%s", err.msg);
        CHECK(same_params(ref, back), "%s: 2 epochs extended to 3 differ from 3 epochs", preset);
        const char *mr = ae_model_meta(ref, "aekit.latent.mean"), *mb = ae_model_meta(back, "aekit.latent.mean");
        CHECK((!mr && !mb) || (mr && mb && strcmp(mr, mb) == 0), "%s: extended: the latent Gaussian differs",
              preset);
    }
    free_run(st, (ae_model *[]){ back, m, ref }, 3, train, val);
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
    ae_dataset *train = synthetic_data(50, 1);
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
    ae_model_from_preset(&m, "conv", 0, &err);
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

/* ---- degenerate checkpoints -------------------------------------------------- */

typedef struct {
    uint8_t *b;
    size_t   n;
} blob;

static blob read_blob(const char *path)
{
    blob x = { NULL, 0 };
    FILE *fp = fopen(path, "rb");
    if (!fp) return x;
    fseek(fp, 0, SEEK_END);
    x.n = (size_t)ftell(fp);
    fseek(fp, 0, SEEK_SET);
    x.b = malloc(x.n);
    if (fread(x.b, 1, x.n, fp) != x.n) x.n = 0;
    fclose(fp);
    return x;
}

static void write_blob(const char *path, blob x)
{
    FILE *fp = fopen(path, "wb");
    if (!fp) return;
    fwrite(x.b, 1, x.n, fp);
    fclose(fp);
}

static size_t header_size(blob x)
{
    uint64_t h = 0;
    for (int i = 0; i < 8; i++) h |= (uint64_t)x.b[i] << (8 * i);
    return (size_t)h;
}

static json_t *header_json(blob x)
{
    return json_loadb((const char *)x.b + 8, header_size(x), 0, NULL);
}

/* A copy of safetensors file x with metadata `key` set to `value` (NULL:
 * without `key`). */
static blob with_meta(blob x, const char *key, const char *value)
{
    size_t h = header_size(x);
    json_t *root = header_json(x);
    if (value) json_object_set_new(json_object_get(root, "__metadata__"), key, json_string(value));
    else json_object_del(json_object_get(root, "__metadata__"), key);
    char *text = json_dumps(root, JSON_COMPACT);
    size_t len = strlen(text);
    blob y = { malloc(8 + len + (x.n - 8 - h)), 8 + len + (x.n - 8 - h) };
    for (int i = 0; i < 8; i++) y.b[i] = (uint8_t)((uint64_t)len >> (8 * i));
    memcpy(y.b + 8, text, len);
    memcpy(y.b + 8 + len, x.b + 8 + h, x.n - 8 - h);
    free(text);
    json_decref(root);
    return y;
}

/* A copy of x with `len` bytes at byte `at` of tensor `name` replaced. */
static blob with_bytes(blob x, const char *name, size_t at, const void *data, size_t len)
{
    blob y = { malloc(x.n), x.n };
    memcpy(y.b, x.b, x.n);
    json_t *root = header_json(x);
    json_t *offsets = json_object_get(json_object_get(root, name), "data_offsets");
    CHECK(offsets != NULL, "tensor %s not in the checkpoint", name);
    if (offsets) {
        size_t begin = (size_t)json_integer_value(json_array_get(offsets, 0));
        memcpy(y.b + 8 + header_size(x) + begin + at, data, len);
    }
    json_decref(root);
    return y;
}

static blob with_float(blob x, const char *name, size_t index, float v)
{
    return with_bytes(x, name, index * sizeof v, &v, sizeof v);
}

static blob with_double(blob x, const char *name, size_t index, double v)
{
    return with_bytes(x, name, index * sizeof v, &v, sizeof v);
}

static const char *resuming;   /* the case being resumed, for on_alarm */

static void on_alarm(int sig)
{
    (void)sig;
    static const char head[] = "FAIL: resuming a checkpoint with ", tail[] = " hangs (no end in 60 s)\n";
    if (write(STDERR_FILENO, head, sizeof head - 1) < 0 ||
        write(STDERR_FILENO, resuming, strlen(resuming)) < 0 ||
        write(STDERR_FILENO, tail, sizeof tail - 1) < 0) { /* exiting anyway */ }
    _exit(1);
}

/* Checkpoint file x (consumed) must be refused with a message naming the
 * file and `field`; accepted, it is resumed under an alarm so that a hang
 * fails the test instead of stopping it. */
static void refused(blob x, const char *what, const char *field, const ae_dataset *train)
{
    write_blob(ckpt, x);
    free(x.b);
    ae_error err = {{0}};
    ae_model *m = NULL;
    ae_train_options o;
    ae_train_state *st = NULL;
    int loaded = ae_checkpoint_load(ckpt, &m, &o, &st, &err) == 0;
    CHECK(!loaded, "checkpoint with %s accepted", what);
    if (loaded) {
        resuming = what;
        alarm(60);
        ae_train_resume(m, train, NULL, &o, st, NULL, NULL, &err);
        alarm(0);
    } else {
        CHECK(strstr(err.msg, ckpt) && strstr(err.msg, field), "%s: message does not name %s: %s", what,
              field, err.msg);
    }
    ae_train_state_free(st);
    ae_model_free(m);
}

/* A checkpoint of conv trained with `optimizer` on 50 images in batches of
 * 16 (4 steps an epoch) stopped at epoch 2, step 1: global step 5, 16 images
 * seen this epoch, one history row; epoch 3 still to shuffle. */
static blob stopped_run(ae_optimizer optimizer, const ae_dataset *train)
{
    ae_error err = {{0}};
    ae_model *m = NULL;
    ae_train_options o;
    ae_train_options_default(&o);
    o.epochs = 3;
    o.batch = 16;
    o.optimizer = optimizer;
    o.threads = 1;
    o.checkpoint = ckpt;
    o.checkpoint_steps = 1;
    stop_at at = { 2, 1 };
    unlink(ckpt);
    ae_model_from_preset(&m, "conv", 0, &err);
    CHECK(ae_train(m, train, NULL, &o, stop_cb, &at, &err) == 0, "%s", err.msg);
    ae_model_free(m);
    return read_blob(ckpt);
}

/* Format 3 file x as format 2 wrote it: without the options added since. */
static blob format_2(blob x)
{
    blob old = with_meta(x, "aekit.checkpoint.format", "2");
    static const char *const added[] = { "early_stop", "keep", "beta", "reg_lr" };
    for (int i = 0; i < 4; i++) {
        char key[64];
        snprintf(key, sizeof key, "aekit.checkpoint.opt.%s", added[i]);
        blob tmp = with_meta(old, key, NULL);
        free(old.b);
        old = tmp;
    }
    return old;
}

/* Format 2 (before early stopping) is read, its missing options at their
 * defaults, and resumes as the format 3 file it came from; a format 3 file
 * lacking them is refused, and so are a format 2 file lacking another
 * option, an AAE's format 2 file (its regularisation phases ran at lr, not
 * reg_lr's default) and format 1, by name. */
static void check_formats(void)
{
    ae_dataset *train = synthetic_data(50, 1);
    blob x = stopped_run(AE_OPT_ADAM, train);
    blob old = format_2(x);
    ae_model *a = NULL, *b = NULL;
    ae_train_state *sa = NULL, *sb = NULL;
    ae_train_options oa, ob;
    ae_error err = {{0}};
    write_blob(ckpt, x);
    CHECK(ae_checkpoint_load(ckpt, &a, &oa, &sa, &err) == 0, "%s", err.msg);
    write_blob(ckpt, old);
    CHECK(ae_checkpoint_load(ckpt, &b, &ob, &sb, &err) == 0, "format 2 refused: %s", err.msg);
    if (sa && sb) {
        CHECK(ob.early_stop == 0 && ob.keep == AE_KEEP_LAST && ob.beta == 1 && ob.reg_lr == 1e-4,
              "format 2: the options of format 3 not at their defaults");
        CHECK(ae_train_resume(a, train, NULL, &oa, sa, NULL, NULL, &err) == 0, "%s", err.msg);
        CHECK(ae_train_resume(b, train, NULL, &ob, sb, NULL, NULL, &err) == 0, "%s", err.msg);
        CHECK(same_params(a, b), "format 2 resumed differs from format 3");
    }
    ae_train_state_free(sa);
    ae_train_state_free(sb);
    ae_model_free(a);
    ae_model_free(b);
    /* only the options format 3 added may be missing from format 2 */
    refused(with_meta(old, "aekit.checkpoint.opt.lr", NULL), "no opt.lr in format 2",
            "\"aekit.checkpoint.opt.lr\" is missing", train);
    free(old.b);
    refused(with_meta(x, "aekit.checkpoint.opt.keep", NULL), "no opt.keep in format 3", "opt.keep", train);
    refused(with_meta(x, "aekit.checkpoint.format", "1"), "format 1", "checkpoint format '1'; this aekit reads "
            "formats 2 and 3", train);
    free(x.b);

    ae_model *aae = NULL;
    ae_train_options o = small_run(1, 2);
    o.checkpoint = ckpt;
    o.checkpoint_epochs = 1;
    unlink(ckpt);
    CHECK(ae_model_from_preset(&aae, "aae", 0, &err) == 0, "%s", err.msg);
    CHECK(ae_train(aae, train, NULL, &o, NULL, NULL, &err) == 0, "%s", err.msg);
    x = read_blob(ckpt);
    refused(format_2(x), "an AAE in format 2", "checkpoint format 2 of an AAE", train);
    free(x.b);
    ae_model_free(aae);
    ae_dataset_free(train);
}

/* A synthetic data set labelled 0..9 in turn, shifted by `shift` (mod 10). */
static ae_dataset *labelled(int n, uint32_t seed, int shift)
{
    ae_dataset *ds = synthetic_data(n, seed);
    ds->labels = malloc((size_t)n);
    for (int i = 0; i < n; i++) ds->labels[i] = (uint8_t)((i + shift) % 10);
    return ds;
}

/* A conditional model's checkpoint stores its data sets' labels hashes:
 * extending its run on the same images with every label shifted by one
 * (training or validation) is refused naming the set, on the same labels
 * it goes on. A conditional model's checkpoint without them is refused,
 * and so is another model's with them (its checkpoints have none). */
static void check_labels(void)
{
    ae_error err = {{0}};
    ae_dataset *train = labelled(60, 1, 0), *val = labelled(20, 2, 0);
    ae_dataset *train_shifted = labelled(60, 1, 1), *val_shifted = labelled(20, 2, 1);
    ae_train_options o = small_run(1, 4);
    o.checkpoint = ckpt;
    o.checkpoint_epochs = 1;   /* the final state: a run to extend */
    ae_model *m = NULL;
    unlink(ckpt);
    CHECK(ae_model_from_preset(&m, "cvae", 0, &err) == 0, "%s", err.msg);
    CHECK(ae_train(m, train, val, &o, NULL, NULL, &err) == 0, "%s", err.msg);
    blob x = read_blob(ckpt);
    const struct { const ae_dataset *train, *val; const char *what; } runs[] = {
        { train_shifted, val, "synthetic-1: the training labels are not the checkpoint's run's" },
        { train, val_shifted, "synthetic-2: the validation labels are not the checkpoint's run's" },
        { train, val, NULL },
    };
    for (int i = 0; i < 3; i++) {
        write_blob(ckpt, x);   /* as the run left it: a resume rewrites it */
        ae_model *back = NULL;
        ae_train_state *st = NULL;
        ae_train_options lo;
        CHECK(ae_checkpoint_load(ckpt, &back, &lo, &st, &err) == 0, "%s", err.msg);
        if (st) {
            lo.epochs = 2;
            int rc = ae_train_resume(back, runs[i].train, runs[i].val, &lo, st, NULL, NULL, &err);
            if (runs[i].what)
                CHECK(rc != 0 && strstr(err.msg, runs[i].what), "other labels: %s", rc ? err.msg : "accepted");
            else
                CHECK(rc == 0, "the same labels refused: %s", err.msg);
        }
        free_run(st, &back, 1, NULL, NULL);
    }
    refused(with_meta(x, "aekit.checkpoint.train_labels_hash", NULL), "a conditional model without "
            "its labels hash", "\"aekit.checkpoint.train_labels_hash\" is missing", train);
    free(x.b);

    ae_dataset *plain = synthetic_data(50, 1);
    x = stopped_run(AE_OPT_ADAM, plain);
    json_t *root = header_json(x);
    CHECK(json_object_get(json_object_get(root, "__metadata__"), "aekit.checkpoint.train_labels_hash") == NULL,
          "a model that is not conditional: its checkpoint has a labels hash");
    json_decref(root);
    refused(with_meta(x, "aekit.checkpoint.val_labels_hash", "0000000000000000"), "a labels hash for a "
            "model that is not conditional", "\"aekit.checkpoint.val_labels_hash\" for a model that is not "
            "conditional", plain);
    free(x.b);
    ae_model_free(m);
    ae_dataset_free(plain);
    free_run(NULL, NULL, 0, train_shifted, val_shifted);
    free_run(NULL, NULL, 0, train, val);
}

static void check_degenerate(void)
{
    signal(SIGALRM, on_alarm);
    ae_dataset *train = synthetic_data(50, 1);
    blob good = stopped_run(AE_OPT_ADAM, train);
    CHECK(good.n > 0, "no checkpoint written");
    if (!good.n) goto out;
    const char *rng = "aekit.checkpoint.rng";
    uint8_t zeros[32] = { 0 };

    /* the random streams: xoshiro256** never reaches the all-zero state (the
     * shuffling stream's would spin in the next epoch's shuffle) */
    refused(with_bytes(good, rng, 0, zeros, 32), "an all-zero shuffling state", rng, train);
    refused(with_bytes(good, rng, 32, zeros, 32), "an all-zero step-stream state", rng, train);
    /* counters the position fixes */
    refused(with_meta(good, "aekit.checkpoint.global_step", "6"), "global_step 6 at step 5",
            "\"aekit.checkpoint.global_step\"", train);
    refused(with_meta(good, "aekit.checkpoint.global_step", "9223372036854775807"),
            "global_step LONG_MAX", "\"aekit.checkpoint.global_step\"", train);
    refused(with_meta(good, "aekit.checkpoint.optim_t", "0"), "Adam step count 0 after 5 steps",
            "\"aekit.checkpoint.optim_t\"", train);
    refused(with_meta(good, "aekit.checkpoint.optim_disc_t", "3"), "a discriminator step count (not an AAE)",
            "\"aekit.checkpoint.optim_disc_t\"", train);
    refused(with_meta(good, "aekit.checkpoint.optim_gen_t", "3"), "a generator step count (not an AAE)",
            "\"aekit.checkpoint.optim_gen_t\"", train);
    refused(with_meta(good, "aekit.checkpoint.seen", "15"), "15 images seen after a step of 16",
            "\"aekit.checkpoint.seen\"", train);
    refused(with_meta(good, "aekit.checkpoint.disc_correct", "1"), "discriminator decisions (not an AAE)",
            "\"aekit.checkpoint.disc_correct\"", train);
    /* no validation images but a validation hash (resuming read val->source of no data set) */
    refused(with_meta(good, "aekit.checkpoint.val_hash", "00000000000000ab"),
            "a validation hash and 0 validation images", "\"aekit.checkpoint.val_hash\"", train);
    /* times, noise settings */
    refused(with_meta(good, "aekit.checkpoint.seconds", "-1"), "negative seconds",
            "\"aekit.checkpoint.seconds\"", train);
    refused(with_meta(good, "aekit.checkpoint.epoch_seconds", "-0.5"), "negative epoch seconds",
            "\"aekit.checkpoint.epoch_seconds\"", train);
    refused(with_meta(good, "aekit.checkpoint.opt.noise", "2 0 0 1.5"), "salt-and-pepper P 1.5",
            "\"aekit.checkpoint.opt.noise\"", train);
    refused(with_meta(good, "aekit.checkpoint.opt.noise", "1 0.5 -0.5 0"), "Gaussian noise STD -0.5",
            "\"aekit.checkpoint.opt.noise\"", train);
    /* the schedule: its text and its state */
    refused(with_meta(good, "aekit.checkpoint.opt.lr_schedule", "2 0 0.5 0"), "step every 0 epochs",
            "\"aekit.checkpoint.opt.lr_schedule\"", train);
    refused(with_meta(good, "aekit.checkpoint.opt.lr_schedule", "cosine"), "a schedule as its short text",
            "\"aekit.checkpoint.opt.lr_schedule\"", train);
    refused(with_meta(good, "aekit.checkpoint.schedule_lr", "0"), "a schedule rate 0",
            "aekit.checkpoint.schedule_lr", train);
    refused(with_meta(good, "aekit.checkpoint.schedule_best", "nan"), "a NaN best loss",
            "aekit.checkpoint.schedule_best", train);
    refused(with_meta(good, "aekit.checkpoint.schedule_bad_epochs", "-1"), "-1 epochs without a new best",
            "\"aekit.checkpoint.schedule_bad_epochs\"", train);
    /* optimiser moments, weights, the history */
    const char *v = "aekit.checkpoint.optim.exp_avg_sq", *mom = "aekit.checkpoint.optim.exp_avg";
    refused(with_float(good, v, 0, -1.0f), "a negative Adam second moment", v, train);
    refused(with_float(good, v, 7, NAN), "a NaN Adam second moment", v, train);
    refused(with_float(good, mom, 3, INFINITY), "an infinite Adam first moment", "optim.exp_avg\"", train);
    refused(with_float(good, "encoder.0.weight", 5, NAN), "a NaN weight", "\"encoder.0.weight\"", train);
    refused(with_float(good, "decoder.3.bias", 2, -INFINITY), "an infinite bias",
            "\"decoder.3.bias\" holds -inf at index 2, expected finite weights", train);
    refused(with_double(good, "aekit.checkpoint.history", 6, -1.0), "a history row with -1 seconds",
            "\"aekit.checkpoint.history\"", train);
    refused(with_double(good, "aekit.checkpoint.history", 0, INFINITY), "a history row with an infinite loss",
            "\"aekit.checkpoint.history\"", train);

    /* a second moment overflows to +inf on a huge gradient (that parameter
     * then stays put) and a run goes on: such a checkpoint is valid */
    blob inf = with_float(good, v, 2, INFINITY);
    write_blob(ckpt, inf);
    free(inf.b);
    ae_error err = {{0}};
    ae_model *m = NULL;
    ae_train_options o;
    ae_train_state *st = NULL;
    CHECK(ae_checkpoint_load(ckpt, &m, &o, &st, &err) == 0, "an overflowed second moment refused: %s",
          err.msg);
    ae_train_state_free(st);
    ae_model_free(m);

    blob rms = stopped_run(AE_OPT_RMSPROP, train), sgd = stopped_run(AE_OPT_SGD, train);
    if (rms.n) refused(with_float(rms, "aekit.checkpoint.optim.square_avg", 1, -2.0f),
                       "a negative RMSprop mean square", "optim.square_avg", train);
    if (sgd.n) refused(with_float(sgd, "aekit.checkpoint.optim.momentum_buffer", 1, -INFINITY),
                       "an infinite SGD momentum", "optim.momentum_buffer", train);
    free(rms.b);
    free(sgd.b);
out:
    free(good.b);
    ae_dataset_free(train);
}

/* SGD without momentum, one step, clip 1e-3: the update is lr * 1e-3 long. */
static void check_clip(void)
{
    ae_error err = {{0}};
    ae_dataset *train = synthetic_data(32, 4);
    ae_model *m = NULL;
    ae_model_from_preset(&m, "conv", 0, &err);
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
    ae_dataset *train = synthetic_data(64, 5);
    ae_model *m = NULL;
    ae_model_from_preset(&m, "vae", 0, &err);
    ae_train_options o;
    ae_train_options_default(&o);
    o.epochs = 1;
    o.batch = 16;
    o.optimizer = AE_OPT_SGD;
    o.lr = AE_MAX_LR;               /* a summed loss: SGD's steps blow up */
    o.threads = 1;
    CHECK(ae_train(m, train, NULL, &o, NULL, NULL, &err) != 0, "lr %g did not diverge", o.lr);
    CHECK(strstr(err.msg, "training diverged at epoch 1, step") && strstr(err.msg, "encoder.1.weight"),
          "message: %s", err.msg);
    CHECK(strstr(err.msg, "(option lr)") && !strstr(err.msg, "--"), "the library names options, not flags: %s",
          err.msg);
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
    check_resume("conv", 0, AE_OPT_ADAM, NULL, 0, 3, (stop_at){ 2, 3 });
    check_resume("conv", 0, AE_OPT_SGD, &sp, 0, 0, (stop_at){ 1, 7 });    /* last step of epoch 1 */
    check_resume("vae", 2, AE_OPT_RMSPROP, NULL, 0, 2, (stop_at){ 3, 1 });
    /* its discriminator's last layer is a one-row weight at the end of the
     * parameters, which BLIS 0.9.0 reads past (layers.h: dense_read_slack) */
    check_resume("aae", 0, AE_OPT_ADAM, NULL, 2e-4, 2, (stop_at){ 2, 3 });
    /* a rate so small that the loss stalls: plateau halves it after epoch 2 */
    check_resume_schedule("plateau:0,0.5", 0, 0, AE_OPT_SGD, 1e-6, (stop_at){ 3, 2 });
    check_resume_schedule("cosine", 10, 0.01, AE_OPT_ADAM, 1e-3, (stop_at){ 2, 2 });    /* in the warm-up */
    check_resume_schedule("step:1,0.5", 0, 0.1, AE_OPT_RMSPROP, 1e-3, (stop_at){ 3, 7 });
    check_early_stop();
    check_extend("conv", 0);
    check_extend("aae", 2e-4);
    check_formats();
    check_labels();
    check_corrupt();
    check_degenerate();
    check_clip();
    check_nan();
    unlink(ckpt);
    rmdir(dir);
    TEST_DONE();
}
