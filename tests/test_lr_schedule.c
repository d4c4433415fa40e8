/* Learning-rate schedules (src/model/lr_schedule.c): each kind's rate per
 * epoch against the rates torch.optim.lr_scheduler 1.13 gives (SGD lr 0.01,
 * printed with repr), the warm-up (an AAE's reg_lr scaled by it as lr is),
 * plateau's state, and the schedule's text (parse, format, refusals). */
#include "aekit.h"
#include "model/lr_schedule.h"
#include "model/model.h"
#include "synthetic_data.h"
#include "test.h"

#include <math.h>
#include <string.h>

static ae_train_options with(const char *spec, int epochs, int warmup)
{
    ae_train_options o;
    ae_train_options_default(&o);
    o.lr = 0.01;
    o.epochs = epochs;
    o.warmup_steps = warmup;
    ae_error err = {{0}};
    CHECK(ae_lr_schedule_parse(&o.lr_schedule, spec, &err) == 0, "%s: %s", spec, err.msg);
    CHECK(ae_train_options_check(&o, &err) == 0, "%s: %s", spec, err.msg);
    return o;
}

/* The rates of epochs 1..n (no warm-up), the plateau seeing losses[e]. */
static void check_rates(const char *spec, int epochs, const double *want, const double *losses)
{
    ae_train_options o = with(spec, epochs, 0);
    lr_schedule_state st;
    lr_schedule_start(&st, &o);
    for (int e = 1; e <= epochs; e++) {
        double got = lr_schedule_rate(&o, &st, e, 1000L * e);
        /* torch's cosine is a recurrence: the closed form agrees to rounding */
        CHECK(fabs(got - want[e - 1]) <= 1e-14, "%s epoch %d: %.17g, torch %.17g", spec, e, got, want[e - 1]);
        lr_schedule_end_epoch(&st, &o, losses ? losses[e - 1] : 1.0);
    }
}

static void test_torch_rates(void)
{
    static const double constant[] = { 0.01, 0.01, 0.01 };
    check_rates("constant", 3, constant, NULL);
    /* CosineAnnealingLR(T_max=6, eta_min=0.001) */
    static const double cosine[] = { 0.01, 0.009397114317029977, 0.007750000000000002, 0.0055000000000000005,
                                     0.003250000000000001, 0.0016028856829700259 };
    check_rates("cosine:0.001", 6, cosine, NULL);
    /* StepLR(step_size=2, gamma=0.5) */
    static const double step[] = { 0.01, 0.01, 0.005, 0.005, 0.0025, 0.0025 };
    check_rates("step:2,0.5", 6, step, NULL);
    /* ReduceLROnPlateau(patience=1, factor=0.1) on these losses: 0.89995
     * is not 1e-4 better than 0.9, nor 0.79999 than 0.8 */
    static const double losses[] = { 1.0, 0.9, 0.89995, 0.95, 0.8, 0.8, 0.8, 0.79999, 0.7 };
    static const double plateau[] = { 0.01, 0.01, 0.01, 0.01, 0.001, 0.001, 0.001, 0.0001, 0.0001 };
    check_rates("plateau:1,0.1", 9, plateau, losses);
    /* cosine to 0 over 4 epochs: 1, (1 + cos(pi/4))/2, 1/2, (1 - cos(pi/4))/2 */
    ae_train_options o = with("cosine", 4, 0);
    lr_schedule_state st;
    lr_schedule_start(&st, &o);
    CHECK(lr_schedule_rate(&o, &st, 3, 0) == 0.005, "cosine half way: %.17g", lr_schedule_rate(&o, &st, 3, 0));
}

static void test_warmup(void)
{
    /* step k (1-based) of the first 4 runs at k/4 of the schedule's rate */
    ae_train_options o = with("step:1,0.5", 3, 4);
    lr_schedule_state st;
    lr_schedule_start(&st, &o);
    for (long done = 0; done < 4; done++)
        CHECK(lr_schedule_rate(&o, &st, 1, done) == 0.01 * (double)(done + 1) / 4, "warm-up step %ld", done + 1);
    CHECK(lr_schedule_rate(&o, &st, 1, 4) == 0.01, "after the warm-up");
    CHECK(lr_schedule_rate(&o, &st, 2, 3) == 0.005 * 4 / 4.0 * 1.0, "epoch 2, last warm-up step");
    CHECK(lr_schedule_rate(&o, &st, 2, 1) == 0.005 * 2 / 4, "epoch 2 in the warm-up: the epoch's rate scaled");
    /* constant without warm-up is the lr itself (bit-identical training) */
    ae_train_options c = with("constant", 3, 0);
    c.lr = 0.1 + 1e-17;
    CHECK(lr_schedule_rate(&c, &st, 2, 7) == c.lr, "constant is lr");
}

/* One AAE step (the whole set is one batch) with lr, reg_lr and a warm-up
 * of `warmup` steps; the parameters after it, or NULL. */
static ae_model *aae_step(double lr, double reg_lr, int warmup, const ae_dataset *train)
{
    ae_error err = {{0}};
    ae_train_options o;
    ae_train_options_default(&o);
    o.epochs = 1;
    o.batch = (int)train->n;
    o.threads = 1;
    o.seed = 3;
    o.lr = lr;
    o.reg_lr = reg_lr;
    o.warmup_steps = warmup;
    ae_model *m = NULL;
    CHECK(ae_model_from_preset(&m, "aae", 0, &err) == 0, "%s", err.msg);
    CHECK(m && ae_train(m, train, NULL, &o, NULL, NULL, &err) == 0, "%s", err.msg);
    return m;
}

/* The warm-up scales an AAE's discriminator and generator rate (reg_lr) as
 * it scales lr: the first of 4 warm-up steps at lr 2^-10, reg_lr 2^-12 is
 * the step at lr 2^-12, reg_lr 2^-14 without warm-up (powers of two: the
 * rates are exact, so are the weights). */
static void test_aae_warmup(void)
{
    ae_dataset *train = synthetic_data(8, 1);
    ae_model *warm = aae_step(0x1p-10, 0x1p-12, 4, train);
    ae_model *by_hand = aae_step(0x1p-12, 0x1p-14, 0, train);
    ae_model *unscaled = aae_step(0x1p-12, 0x1p-12, 0, train);
    if (warm && by_hand && unscaled) {
        size_t bytes = warm->nparams * sizeof(float);
        const float *w = warm->params, *h = by_hand->params, *u = unscaled->params;
        CHECK(memcmp(w, h, bytes) == 0, "AAE warm-up: not the step at the scaled lr and reg_lr");
        CHECK(memcmp(w, u, bytes) != 0, "AAE warm-up: the regularisation phases ran at reg_lr unscaled");
    }
    ae_model_free(warm);
    ae_model_free(by_hand);
    ae_model_free(unscaled);
    ae_dataset_free(train);
}

static void test_plateau_state(void)
{
    ae_train_options o = with("plateau:0,0.5", 5, 0);
    lr_schedule_state st;
    lr_schedule_start(&st, &o);
    CHECK(st.lr == 0.01 && isinf(st.best) && st.bad_epochs == 0 && lr_schedule_state_valid(&st), "start");
    lr_schedule_end_epoch(&st, &o, 2.0);
    CHECK(st.best == 2.0 && st.bad_epochs == 0 && st.lr == 0.01, "a new best");
    lr_schedule_end_epoch(&st, &o, 2.0);
    CHECK(st.best == 2.0 && st.bad_epochs == 0 && st.lr == 0.005, "no better: halved, counter reset");
    /* torch skips a reduction smaller than eps 1e-8 */
    st.lr = 1.5e-8;
    lr_schedule_end_epoch(&st, &o, 3.0);
    CHECK(st.lr == 1.5e-8, "reduction below eps: kept %g", st.lr);
    lr_schedule_state badst = { 0, 1, 0 };
    CHECK(!lr_schedule_state_valid(&badst), "rate 0 valid");
    badst = (lr_schedule_state){ 0.1, NAN, 0 };
    CHECK(!lr_schedule_state_valid(&badst), "best NaN valid");
    /* other kinds keep no state */
    ae_train_options c = with("cosine", 5, 0);
    lr_schedule_start(&st, &c);
    lr_schedule_end_epoch(&st, &c, 1.0);
    CHECK(isinf(st.best) && st.bad_epochs == 0, "cosine changed the plateau state");
}

static void test_text(void)
{
    static const char *good[] = { "constant", "cosine", "cosine:1e-05", "step:10,0.5", "step:1,1", "plateau:0,0.1",
                                  "plateau:3,0.5" };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        ae_lr_schedule s;
        ae_error err = {{0}};
        char back[64];
        CHECK(ae_lr_schedule_parse(&s, good[i], &err) == 0, "%s: %s", good[i], err.msg);
        ae_lr_schedule_format(&s, back, sizeof back);
        CHECK(strcmp(back, good[i]) == 0, "%s printed as %s", good[i], back);
    }
    static const char *bad[] = { "", "cos", "cosine:", "cosine:-1", "cosine:nan", "step:0,0.5", "step:2",
                                 "step:2,0", "step:2,1.5", "step:2,0.5,1", "step:x,0.5", "plateau:3,1",
                                 "plateau:-1,0.5", "plateau:3,0", "constant:1", "linear" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ae_lr_schedule s;
        ae_error err = {{0}};
        CHECK(ae_lr_schedule_parse(&s, bad[i], &err) == -1 && strstr(err.msg, "lr schedule"),
              "'%s' accepted: %s", bad[i], err.msg);
    }
    /* the cosine floor is at most the learning rate */
    ae_train_options o;
    ae_train_options_default(&o);
    ae_error err = {{0}};
    CHECK(ae_lr_schedule_parse(&o.lr_schedule, "cosine:0.01", &err) == 0, "%s", err.msg);
    CHECK(ae_train_options_check(&o, &err) == -1 && strstr(err.msg, "above the learning rate"), "%s", err.msg);
}

int main(void)
{
    test_torch_rates();
    test_warmup();
    test_aae_warmup();
    test_plateau_state();
    test_text();
    TEST_DONE();
}
