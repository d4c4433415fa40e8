/* The training options table (src/model/train_options.c) and the
 * optimiser table (src/optim/optim.c): every row round-trips through its
 * checkpoint text exactly, the defaults validate, every bound is enforced
 * with a message naming the option, the resume rules, and a checkpoint
 * written by training stores every option as it was given. */
#define _POSIX_C_SOURCE 200809L
#include "aekit.h"
#include "optim/optim.h"
#include "test.h"
#include "temp_dir.h"

#include <float.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

static void *field(const ae_train_option *r, ae_train_options *o) { return (char *)o + r->offset; }

/* Values of row r to round-trip (valid ones); returns how many were set in vals. */
static int sample_values(const ae_train_option *r, ae_train_options *vals, int max)
{
    int n = 0;
    for (int i = 0; i < max; i++) ae_train_options_default(&vals[i]);
    switch (r->type) {
    case AE_OPTION_INT: {
        int lo = (int)r->min, hi = (int)r->max;
        int v[] = { lo, hi, lo + (hi - lo) / 3 };
        for (int i = 0; i < 3; i++) *(int *)field(r, &vals[n++]) = v[i];
        if (r->flags & AE_OPTION_ZERO_OFF) *(int *)field(r, &vals[n++]) = 0;
        break;
    }
    case AE_OPTION_DOUBLE: {
        double lo = r->flags & AE_OPTION_MIN_EXCLUDED ? nextafter(r->min, INFINITY) : r->min;
        double hi = r->flags & AE_OPTION_MAX_EXCLUDED ? nextafter(r->max, -INFINITY) : r->max;
        /* full mantissas: %g would not bring them back */
        double v[] = { lo, hi, nextafter(lo, hi), nextafter(hi, lo), lo + (hi - lo) / 3.0 };
        for (int i = 0; i < 5; i++) *(double *)field(r, &vals[n++]) = v[i];
        if (r->flags & AE_OPTION_ZERO_OFF) *(double *)field(r, &vals[n++]) = 0;
        break;
    }
    case AE_OPTION_U64: {
        uint64_t v[] = { 0, UINT64_MAX, 12345678901234567890ull };
        for (int i = 0; i < 3; i++) *(uint64_t *)field(r, &vals[n++]) = v[i];
        break;
    }
    case AE_OPTION_CHOICE:
        for (int i = 0; r->choices[i] && n < max; i++) *(int *)field(r, &vals[n++]) = i;
        break;
    case AE_OPTION_NOISE: {
        ae_noise v[] = { { AE_NOISE_NONE, 0, 0, 0 }, { AE_NOISE_GAUSSIAN, 0.1f, nextafterf(0.3f, 1), 0 },
                         { AE_NOISE_SALT_PEPPER, 0, 0, nextafterf(1.0f, 0) }, { AE_NOISE_GAUSSIAN, -FLT_MAX, FLT_MAX, 1 } };
        for (int i = 0; i < 4; i++) *(ae_noise *)field(r, &vals[n++]) = v[i];
        break;
    }
    case AE_OPTION_SCHEDULE: {
        ae_lr_schedule v[] = { { AE_LR_CONSTANT, 0, 0, 0 }, { AE_LR_COSINE, 0, 0, nextafter(1e-5, 1) },
                               { AE_LR_STEP, AE_MAX_EPOCHS, 1, 0 }, { AE_LR_STEP, 1, nextafter(0.1, 1), 0 },
                               { AE_LR_PLATEAU, 0, nextafter(1.0, 0), 0 }, { AE_LR_PLATEAU, 7, DBL_MIN, 0 } };
        for (int i = 0; i < 6; i++) *(ae_lr_schedule *)field(r, &vals[n++]) = v[i];
        break;
    }
    }
    return n;
}

static void test_round_trip(void)
{
    int nrows;
    const ae_train_option *rows = ae_train_options_table(&nrows);
    CHECK(nrows >= 15, "%d rows", nrows);
    for (int i = 0; i < nrows; i++) {
        const ae_train_option *r = &rows[i];
        ae_train_options vals[8];
        int n = sample_values(r, vals, 8);
        for (int k = 0; k < n; k++) {
            char text[128];
            ae_train_option_format(r, &vals[k], AE_OPTION_TEXT_EXACT, text, sizeof text);
            ae_train_options back;
            ae_train_options_default(&back);
            ae_error err = {{0}};
            CHECK(ae_train_option_check(r, &vals[k], &err) == 0, "%s = %s: %s", r->name, text, err.msg);
            CHECK(ae_train_option_parse(r, text, AE_OPTION_TEXT_EXACT, &back, &err) == 0, "%s: '%s' refused: %s",
                  r->name, text, err.msg);
            CHECK(ae_train_option_equal(r, &back, &vals[k], AE_OPTION_TEXT_EXACT), "%s: '%s' read back differs",
                  r->name, text);
            CHECK(memcmp(field(r, &back), field(r, &vals[k]),
                         r->type == AE_OPTION_DOUBLE ? sizeof(double) : r->type == AE_OPTION_U64 ? 8 :
                         r->type == AE_OPTION_NOISE ? sizeof(ae_noise) :
                         r->type == AE_OPTION_SCHEDULE ? sizeof(ae_lr_schedule) : sizeof(int)) == 0,
                  "%s: '%s' not the same bits", r->name, text);
            /* the rest of the options untouched */
            ae_train_options d;
            ae_train_options_default(&d);
            ae_train_option_copy(r, &d, &back);
            CHECK(memcmp(&d, &back, sizeof d) == 0, "%s: parse wrote other fields", r->name);
        }
        CHECK(ae_train_option_find(r->name) == r, "find %s", r->name);
        if (r->flag) CHECK(ae_train_option_find(r->flag) != NULL, "find --%s", r->flag);
        CHECK(r->what && r->help && r->def_text, "%s: texts", r->name);
    }
    CHECK(ae_train_option_find("no-such-option") == NULL, "unknown name found");
}

static void test_defaults(void)
{
    ae_train_options o;
    ae_train_options_default(&o);
    ae_error err = {{0}};
    CHECK(ae_train_options_check(&o, &err) == 0, "defaults refused: %s", err.msg);
    /* the documented defaults (aekit.h) */
    CHECK(o.epochs == 25 && o.batch == 128 && o.lr == 1e-3 && o.optimizer == AE_OPT_ADAM && o.beta1 == 0.9 &&
          o.beta2 == 0.999 && o.eps == 1e-8 && o.alpha == 0.99 && o.momentum == 0.9 && o.seed == 0 &&
          o.threads == 0 && o.init_weights == 1 && o.clip_grad == 0 && o.noise.kind == AE_NOISE_NONE &&
          !o.checkpoint && o.checkpoint_steps == 0 && o.checkpoint_epochs == 0, "defaults");
    o.checkpoint_steps = 5;
    CHECK(ae_train_options_check(&o, &err) == -1 && strstr(err.msg, "without a checkpoint file"),
          "intervals without a file: %s", err.msg);
}

/* v must be refused by the check and, as checkpoint text, by the parser,
 * both naming the option. */
static void expect_refused(const ae_train_option *r, const ae_train_options *v, const char *what)
{
    ae_error err = {{0}};
    CHECK(ae_train_option_check(r, v, &err) == -1 && strstr(err.msg, r->what), "%s %s: '%s'", r->name, what,
          err.msg);
    memset(&err, 0, sizeof err);
    CHECK(ae_train_options_check(v, &err) == -1 && strstr(err.msg, r->what), "%s %s (all): '%s'", r->name, what,
          err.msg);
    char text[128];
    ae_train_option_format(r, v, AE_OPTION_TEXT_EXACT, text, sizeof text);
    ae_train_options back;
    ae_train_options_default(&back);
    memset(&err, 0, sizeof err);
    CHECK(ae_train_option_parse(r, text, AE_OPTION_TEXT_EXACT, &back, &err) == -1 && strstr(err.msg, r->what),
          "%s %s: text '%s' read: '%s'", r->name, what, text, err.msg);
}

static void test_bounds(void)
{
    int nrows, tested = 0;
    const ae_train_option *rows = ae_train_options_table(&nrows);
    for (int i = 0; i < nrows; i++) {
        const ae_train_option *r = &rows[i];
        ae_train_options v;
        if (r->type == AE_OPTION_INT) {
            int below = (int)r->min - 1, above = (int)r->max + (r->max < INT_MAX);
            if (below == 0 && r->flags & AE_OPTION_ZERO_OFF) below = -1;
            ae_train_options_default(&v);
            *(int *)field(r, &v) = below;
            expect_refused(r, &v, "below its minimum");
            if (r->max < INT_MAX) {
                ae_train_options_default(&v);
                *(int *)field(r, &v) = above;
                expect_refused(r, &v, "above its maximum");
            }
            tested++;
        } else if (r->type == AE_OPTION_DOUBLE) {
            double below = r->flags & AE_OPTION_MIN_EXCLUDED ? r->min : nextafter(r->min, -INFINITY);
            double above = r->flags & AE_OPTION_MAX_EXCLUDED ? r->max : nextafter(r->max, INFINITY);
            ae_train_options_default(&v);
            *(double *)field(r, &v) = below;
            if (below != 0 || !(r->flags & AE_OPTION_ZERO_OFF)) expect_refused(r, &v, "below its minimum");
            ae_train_options_default(&v);
            *(double *)field(r, &v) = above;
            expect_refused(r, &v, "above its maximum");
            ae_train_options_default(&v);
            *(double *)field(r, &v) = NAN;
            ae_error err = {{0}};
            CHECK(ae_train_option_check(r, &v, &err) == -1, "%s NaN accepted", r->name);
            tested++;
        } else if (r->type == AE_OPTION_CHOICE) {
            ae_train_options_default(&v);
            *(int *)field(r, &v) = (int)r->max + 1;
            ae_error err = {{0}};
            CHECK(ae_train_option_check(r, &v, &err) == -1 && strstr(err.msg, r->what), "%s: %s", r->name, err.msg);
            ae_train_options back;
            ae_train_options_default(&back);
            CHECK(ae_train_option_parse(r, "nonesuch", AE_OPTION_TEXT_EXACT, &back, &err) == -1 &&
                  strstr(err.msg, r->choices[0]), "%s nonesuch: %s", r->name, err.msg);
            tested++;
        } else if (r->type == AE_OPTION_NOISE) {
            ae_train_options_default(&v);
            ((ae_noise *)field(r, &v))->kind = AE_NOISE_SALT_PEPPER;
            ((ae_noise *)field(r, &v))->p = nextafterf(1.0f, 2.0f);
            expect_refused(r, &v, "P above 1");
            ae_train_options_default(&v);
            ((ae_noise *)field(r, &v))->kind = AE_NOISE_GAUSSIAN;
            ((ae_noise *)field(r, &v))->std = -FLT_MIN;
            expect_refused(r, &v, "negative STD");
            tested++;
        } else if (r->type == AE_OPTION_SCHEDULE) {
            ae_lr_schedule bad[] = { { AE_LR_STEP, 0, 0.5, 0 }, { AE_LR_STEP, 2, nextafter(1.0, 2), 0 },
                                     { AE_LR_PLATEAU, -1, 0.5, 0 }, { AE_LR_PLATEAU, 1, 1, 0 },
                                     { AE_LR_COSINE, 0, 0, -DBL_MIN }, { AE_LR_CONSTANT, 0, NAN, 0 },
                                     { (ae_lr_schedule_kind)4, 0, 0, 0 } };
            for (int k = 0; k < 7; k++) {
                ae_train_options_default(&v);
                *(ae_lr_schedule *)field(r, &v) = bad[k];
                expect_refused(r, &v, "out of range");
            }
            tested++;
        }
    }
    CHECK(tested == nrows - 1, "bounds tested on %d of %d rows (all but the seed)", tested, nrows);
    /* the messages the public limits promise (aekit.h) */
    ae_train_options o;
    ae_train_options_default(&o);
    o.lr = AE_MAX_LR * 2;
    ae_error err = {{0}};
    CHECK(ae_train_options_check(&o, &err) == -1 && strstr(err.msg, "learning rate must be 1e-10 to 1000, got 2000"),
          "%s", err.msg);
}

static void test_resume_rules(void)
{
    int nrows;
    const ae_train_option *rows = ae_train_options_table(&nrows);
    for (int i = 0; i < nrows; i++) {
        const ae_train_option *r = &rows[i];
        ae_train_options a, vals[8];
        ae_train_options_default(&a);
        int n = sample_values(r, vals, 8), k = 0;
        while (k < n && ae_train_option_equal(r, &vals[k], &a, AE_OPTION_TEXT_EXACT)) k++;
        if (k == n || r->resume == AE_RESUME_MAY_GROW) continue;   /* below */
        const ae_train_option *c = ae_train_options_resume_conflict(&vals[k], &a);
        if (r->resume == AE_RESUME_SAME) CHECK(c == r, "%s: a resumed run may change it", r->name);
        else CHECK(c == NULL, "%s: a resumed run may not change it (%s)", r->name, c ? c->name : "");
    }
    /* the rules of aekit.h: only threads, checkpointing and the early
     * stopping patience may change; the epochs may grow */
    const char *may[] = { "threads", "checkpoint_steps", "checkpoint_epochs", "early_stop" };
    for (int i = 0; i < 4; i++)
        CHECK(ae_train_option_find(may[i])->resume == AE_RESUME_MAY_CHANGE, "%s", may[i]);
    CHECK(ae_train_option_find("lr")->resume == AE_RESUME_SAME, "lr");
    CHECK(ae_train_option_find("keep")->resume == AE_RESUME_SAME, "keep");
    const ae_train_option *epochs = ae_train_option_find("epochs");
    CHECK(epochs->resume == AE_RESUME_MAY_GROW, "epochs");
    ae_train_options stored, given;
    ae_train_options_default(&stored);
    stored.epochs = 10;
    for (int e = 9; e <= 11; e++) {
        given = stored;
        given.epochs = e;
        const ae_train_option *c = ae_train_options_resume_conflict(&given, &stored);
        CHECK(c == (e < 10 ? epochs : NULL), "epochs %d after 10: %s", e, c ? "refused" : "accepted");
    }
}

/* A checkpoint written by training holds every option as given. */
static void test_checkpoint_options(void)
{
    if (temp_dir_open("train_options")) { CHECK(0, "no temp folder"); return; }
    const char *path = at("ck.safetensors");
    ae_dataset ds = { .n = 8, .c = 1, .h = 4, .w = 4 };
    uint8_t px[8 * 16];
    for (int i = 0; i < 8 * 16; i++) px[i] = (uint8_t)(i * 37);
    ds.pixels = px;
    snprintf(ds.source, sizeof ds.source, "test data");
    ae_error err = {{0}};
    ae_model *m = NULL;
    CHECK(ae_model_from_text(&m, "input 1 4 4\nencoder\nflatten\ndense 2\ndecoder\ndense 16\nreshape 1 4 4\n"
                             "loss mse\n", "tiny", 0, &err) == 0, "%s", err.msg);
    ae_train_options o;
    ae_train_options_default(&o);
    o.epochs = 2;
    o.batch = 3;
    o.lr = nextafter(0.1, 1);
    o.optimizer = AE_OPT_RMSPROP;
    o.alpha = nextafter(0.9, 0);
    o.eps = 1.2345678901234567e-7;
    o.seed = UINT64_MAX - 5;
    o.threads = 2;
    o.clip_grad = 0.3;
    o.noise = (ae_noise){ AE_NOISE_GAUSSIAN, 0.1f, nextafterf(0.2f, 1), 0 };
    o.lr_schedule = (ae_lr_schedule){ AE_LR_PLATEAU, 1, nextafter(0.3, 0), 0 };
    o.warmup_steps = 2;
    o.weight_decay = nextafter(0.01, 1);
    o.checkpoint = path;
    o.checkpoint_epochs = 1;
    CHECK(ae_train(m, &ds, NULL, &o, NULL, NULL, &err) == 0, "%s", err.msg);
    ae_model_free(m);
    ae_model *back = NULL;
    ae_train_options lo;
    ae_train_state *st = NULL;
    CHECK(ae_checkpoint_load(path, &back, &lo, &st, &err) == 0, "%s", err.msg);
    int nrows;
    const ae_train_option *rows = ae_train_options_table(&nrows);
    for (int i = 0; i < nrows; i++)
        CHECK(ae_train_option_equal(&rows[i], &lo, &o, AE_OPTION_TEXT_EXACT), "checkpoint: %s differs", rows[i].name);
    ae_train_state_free(st);
    ae_model_free(back);
    remove_tree(root);
}

static void test_optimisers(void)
{
    /* one name list, in ae_optimizer order, the checkpoint names of today */
    static const char *bufs[3][2] = { { "exp_avg", "exp_avg_sq" }, { "square_avg", NULL }, { "momentum_buffer", NULL } };
    const ae_train_option *r = ae_train_option_find("optimizer");
    for (int k = AE_OPT_ADAM; k <= AE_OPT_SGD; k++) {
        const optim_kind *kind = optim_kind_of((ae_optimizer)k);
        static const char *const names[] = { "adam", "rmsprop", "sgd" };   /* as files store them */
        CHECK(kind && strcmp(optim_names[k], names[k]) == 0 && r->choices[k] == optim_names[k] &&
              optim_by_name(names[k]) == k, "optimizer %d", k);
        for (int j = 0; j < 2; j++)
            CHECK(j < kind->nbuf ? bufs[k][j] && strcmp(kind->buf_names[j], bufs[k][j]) == 0 : !bufs[k][j],
                  "%s buffer %d", optim_names[k], j);
    }
    CHECK(optim_kind_of((ae_optimizer)3) == NULL && optim_names[3] == NULL, "a fourth optimiser");
    /* a step through the table is the update itself */
    ae_train_options o;
    ae_train_options_default(&o);
    float p[4] = { 1, -2, 3, 0.5f }, g[4] = { 0.1f, -0.3f, 2, 0 }, q[4], m[4] = { 0 }, v[4] = { 0 };
    memcpy(q, p, sizeof p);
    optim_state st;
    CHECK(optim_state_alloc(&st, AE_OPT_ADAM, 4, 1, 4) == 0 && st.nbuf == 2, "alloc");
    optim_step(&o, &st, p, g, 1);
    adam_update(q + 1, g + 1, m + 1, v + 1, 3, o.lr, o.beta1, o.beta2, o.eps, 1, 0);
    CHECK(memcmp(p, q, sizeof p) == 0 && st.t == 1 && memcmp(st.buf[1] + 1, v + 1, 3 * sizeof(float)) == 0,
          "optim_step is adam_update");
    optim_state_free(&st);
}

int main(void)
{
    test_round_trip();
    test_defaults();
    test_bounds();
    test_resume_rules();
    test_checkpoint_options();
    test_optimisers();
    TEST_DONE();
}
