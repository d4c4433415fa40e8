/* Optimisers against double-precision references of the PyTorch 1.13 update
 * rules over three steps, plus a few updates worked out by hand. The
 * references take the hyperparameters as doubles (as Python does) and the
 * optimisers get them rounded to float. */
#include <float.h>
#include <string.h>

#include "optim/optim.h"
#include "test.h"

#define NP 6
#define STEPS 3

/* Gradients per step; entry 4 is always 0 (Adam and RMSprop must leave that
 * parameter alone) and entry 5 is tiny, so eps matters. */
static const float grads[STEPS][NP] = {
    {0.5f, -1.25f, 3.0f, 0.01f, 0.0f, 1e-9f},
    {0.25f, 0.75f, -2.0f, 0.02f, 0.0f, -2e-9f},
    {-0.5f, -0.5f, 4.0f, -0.03f, 0.0f, 3e-9f},
};
static const float p0[NP] = {1.0f, -0.5f, 2.0f, 0.125f, 0.75f, -1e-3f};

/* Compares the float parameters and state with the double reference: the
 * values themselves, and the distance moved from p0 (more sensitive), each
 * also allowed a few float ulps of p for the rounding of p itself. */
static void compare(const char *what, int step, const float *p, const double *pr,
                    const float *st, const double *sr)
{
    for (int i = 0; i < NP; i++) {
        double ulps = 4 * FLT_EPSILON * (fabs(p0[i]) + fabs(pr[i]));
        CHECK_CLOSE(p[i], pr[i], 1e-6, ulps, "%s step %d p[%d] = %.9g, want %.9g", what, step, i,
                    p[i], pr[i]);
        CHECK_CLOSE((double)p[i] - p0[i], pr[i] - p0[i], 1e-4, ulps,
                    "%s step %d p[%d] moved %.9g, want %.9g", what, step, i,
                    (double)p[i] - p0[i], pr[i] - p0[i]);
        if (st)
            CHECK_CLOSE(st[i], sr[i], 1e-5, 1e-30, "%s step %d state[%d] = %.9g, want %.9g",
                        what, step, i, st[i], sr[i]);
    }
}

/* wd: AdamW's decoupled weight decay (torch.optim.AdamW), p *= 1 - lr wd
 * first; RMSprop's and SGD's L2, g += wd p. */
static void test_adam(double lr, double b1, double b2, double eps, double wd)
{
    float p[NP], m[NP] = {0}, v[NP] = {0};
    double pr[NP], mr[NP] = {0}, vr[NP] = {0};
    memcpy(p, p0, sizeof p);
    for (int i = 0; i < NP; i++) pr[i] = p0[i];
    for (long t = 1; t <= STEPS; t++) {
        const float *g = grads[t - 1];
        adam_update(p, g, m, v, NP, lr, b1, b2, eps, t, wd);
        double bc1 = 1.0 - pow(b1, (double)t), bc2 = 1.0 - pow(b2, (double)t);
        for (int i = 0; i < NP; i++) {
            pr[i] *= 1.0 - lr * wd;
            mr[i] = b1 * mr[i] + (1.0 - b1) * g[i];
            vr[i] = b2 * vr[i] + (1.0 - b2) * (double)g[i] * g[i];
            pr[i] -= (lr / bc1) * mr[i] / (sqrt(vr[i]) / sqrt(bc2) + eps);
        }
        compare("adam", (int)t, p, pr, m, mr);
        compare("adam v", (int)t, p, pr, v, vr);
    }
    if (wd == 0) CHECK(p[4] == p0[4], "adam moved a parameter whose gradient is always 0");
    else CHECK(p[4] != p0[4], "adamw did not decay a parameter whose gradient is always 0");
}

static void test_rmsprop(double lr, double alpha, double eps, double wd)
{
    float p[NP], s[NP] = {0};
    double pr[NP], sr[NP] = {0};
    memcpy(p, p0, sizeof p);
    for (int i = 0; i < NP; i++) pr[i] = p0[i];
    for (int t = 1; t <= STEPS; t++) {
        const float *g = grads[t - 1];
        rmsprop_update(p, g, s, NP, lr, alpha, eps, wd);
        for (int i = 0; i < NP; i++) {
            double gi = g[i] + wd * pr[i];
            sr[i] = alpha * sr[i] + (1.0 - alpha) * gi * gi;
            pr[i] -= lr * gi / (sqrt(sr[i]) + eps);
        }
        compare("rmsprop", t, p, pr, s, sr);
    }
    if (wd == 0) CHECK(p[4] == p0[4], "rmsprop moved a parameter whose gradient is always 0");
}

static void test_sgd(double lr, double momentum, double wd)
{
    float p[NP], buf[NP] = {0};
    double pr[NP], br[NP] = {0};
    memcpy(p, p0, sizeof p);
    for (int i = 0; i < NP; i++) pr[i] = p0[i];
    for (int t = 1; t <= STEPS; t++) {
        const float *g = grads[t - 1];
        sgd_update(p, g, buf, NP, lr, momentum, wd);
        for (int i = 0; i < NP; i++) {
            br[i] = momentum * br[i] + g[i] + wd * pr[i];
            pr[i] -= lr * br[i];
        }
        /* with momentum 0 the buffer is not used */
        compare(momentum != 0.0 ? "sgd momentum" : "sgd", t, p, pr,
                momentum != 0.0 ? buf : NULL, br);
    }
}

/* Updates small enough to do on paper. */
static void test_by_hand(void)
{
    /* Adam step 1: m = 0.1 g, v = 0.001 g^2, so m/bc1 = g and
     * sqrt(v)/sqrt(bc2) = |g|: the step is lr * g / (|g| + eps). */
    float p = 1.0f, g = 0.5f, m = 0.0f, v = 0.0f;
    adam_update(&p, &g, &m, &v, 1, 0.1, 0.9, 0.999, 1e-8, 1, 0);
    CHECK_CLOSE(p, 0.9, 1e-6, 0, "adam step 1: %.9g", p);
    CHECK_CLOSE(m, 0.05, 1e-6, 0, "adam m: %.9g", m);
    /* 0.001f * 0.25, as PyTorch computes it from beta2 = 0.999: the float
     * complement 1 - 0.999f would give 0.000249996781 */
    CHECK(v == 0.001f * 0.25f, "adam v: %.9g", v);
    /* step 2 with the same gradient: m = 0.095, bc1 = 0.19 -> m/bc1 = 0.5;
     * v = 0.0004997500, bc2 = 0.001999 -> sqrt(v/bc2) = 0.5: again 0.1 */
    adam_update(&p, &g, &m, &v, 1, 0.1, 0.9, 0.999, 1e-8, 2, 0);
    CHECK_CLOSE(p, 0.8, 1e-6, 0, "adam step 2: %.9g", p);

    /* RMSprop step 1: s = 0.01 * 0.25 = 0.0025, sqrt = 0.05, step = lr * 10 */
    float q = 1.0f, s = 0.0f;
    rmsprop_update(&q, &g, &s, 1, 0.01, 0.99, 1e-8, 0);
    CHECK_CLOSE(q, 0.9, 1e-6, 0, "rmsprop step 1: %.9g", q);

    /* SGD momentum 0.9, lr 0.1, gradient 1 three times: buffers 1, 1.9, 2.71 */
    float r = 1.0f, one = 1.0f, buf = 0.0f;
    for (int t = 0; t < 3; t++) sgd_update(&r, &one, &buf, 1, 0.1, 0.9, 0);
    CHECK_CLOSE(buf, 2.71, 1e-6, 0, "sgd buffer: %.9g", buf);
    CHECK_CLOSE(r, 1.0 - 0.561, 1e-6, 0, "sgd momentum: %.9g", r);
    /* plain SGD */
    float u = 1.0f, gg = 2.0f, unused = 0.0f;
    sgd_update(&u, &gg, &unused, 1, 0.25, 0.0, 0);
    CHECK(u == 0.5f, "plain sgd: %.9g", u);
}

int main(void)
{
    test_adam(1e-3, 0.9, 0.999, 1e-8, 0);
    test_adam(0.05, 0.8, 0.99, 1e-6, 0);
    test_adam(0.05, 0.9, 0.999, 1e-8, 2.0);
    test_rmsprop(1e-2, 0.99, 1e-8, 0);
    test_rmsprop(1e-3, 0.9, 1e-6, 0);
    test_rmsprop(1e-3, 0.99, 1e-8, 0.5);
    test_sgd(0.1, 0.0, 0);
    test_sgd(0.05, 0.9, 0);
    test_sgd(0.1, 0.0, 0.5);
    test_sgd(0.05, 0.9, 0.5);
    test_by_hand();
    TEST_DONE();
}
