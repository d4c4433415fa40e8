/* Finite-difference gradient checks for every layer and loss, plus forward
 * results against direct double-precision formulas.
 *
 * The kernels are float, so the numeric gradient is a float central
 * difference with eps ~ 1e-2 of the scalar objective L = sum(y * r) for a
 * fixed random r (summed in double); analytic and numeric gradients are
 * compared by  max|analytic - numeric| / max|numeric|  over every entry of
 * every input, weight and bias gradient. */
#include <stdint.h>
#include <string.h>

#include "aekit.h"
#include "core/rng.h"
#include "layers/layers.h"
#include "loss/loss.h"
#include "model/model.h"
#include "test.h"

#define GRAD_TOL 1e-2

static ae_rng rng;

static float *alloc_f(size_t n)
{
    float *p = malloc((n ? n : 1) * sizeof(float));
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return p;
}

static void fill_normal(float *p, size_t n, float scale)
{
    for (size_t i = 0; i < n; i++) p[i] = scale * ae_rng_normal(&rng);
}

/* Fills with NaN, so a kernel that reads scratch or output it did not write
 * shows up as NaN in the results. */
static void poison(float *p, size_t n)
{
    for (size_t i = 0; i < n; i++) p[i] = NAN;
}

static double dot_d(const float *a, const float *b, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += (double)a[i] * (double)b[i];
    return s;
}

/* max|a - num| / max|num| (NaN-propagating: NaN anywhere -> +inf). */
static double grad_err(const float *a, const double *num, size_t n)
{
    double diff = 0.0, scale = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - num[i]);
        if (!(d <= diff)) diff = d;
        if (fabs(num[i]) > scale) scale = fabs(num[i]);
    }
    if (isnan(diff)) return INFINITY;
    return diff / (scale > 1e-12 ? scale : 1e-12);
}

/* twice == 2 * once, up to float rounding relative to the largest entry */
static int same2x(float twice, float once, const float *all, size_t n)
{
    double big = 0.0;
    for (size_t i = 0; i < n; i++)
        if (fabs(all[i]) > big) big = fabs(all[i]);
    return fabs((double)twice - 2.0 * once) <= 1e-5 * (big + 1e-30);
}

typedef double (*objective_fn)(void *ctx);

/* Central differences of f with respect to every entry of param. */
static void numeric_grad(double *num, float *param, size_t n, objective_fn f, void *ctx,
                         float eps)
{
    for (size_t i = 0; i < n; i++) {
        float orig = param[i];
        float up = orig + eps, down = orig - eps;
        param[i] = up;
        double lp = f(ctx);
        param[i] = down;
        double lm = f(ctx);
        param[i] = orig;
        num[i] = (lp - lm) / ((double)up - (double)down);
    }
}

/* Checks the analytic gradient `a` of f with respect to `param`. */
static double check_grad(const char *what, const float *a, float *param, size_t n,
                         objective_fn f, void *ctx, float eps)
{
    double *num = calloc(n ? n : 1, sizeof(double));
    if (!num) exit(2);
    numeric_grad(num, param, n, f, ctx, eps);
    double e = grad_err(a, num, n);
    CHECK(e <= GRAD_TOL, "%s: gradient error %.3g", what, e);
    free(num);
    return e;
}

/* ---- conv2d ------------------------------------------------------------- */

typedef struct {
    conv2d_shape_t s;
    int n;
    float *x, *w, *b, *y, *r, *ws;
    size_t nx, nw, ny, nws;
} conv_ctx;

static double conv_objective(void *p)
{
    conv_ctx *c = p;
    conv2d_forward(c->y, c->x, c->w, c->b, c->n, &c->s, c->ws);
    return dot_d(c->y, c->r, c->ny);
}

/* Direct double-precision convolution, the definition. */
static void conv_reference(double *y, const conv_ctx *c)
{
    const conv2d_shape_t *s = &c->s;
    for (int b = 0; b < c->n; b++)
        for (int o = 0; o < s->cout; o++)
            for (int oy = 0; oy < s->ho; oy++)
                for (int ox = 0; ox < s->wo; ox++) {
                    double sum = c->b ? c->b[o] : 0.0;
                    for (int i = 0; i < s->cin; i++)
                        for (int ky = 0; ky < s->k; ky++)
                            for (int kx = 0; kx < s->k; kx++) {
                                int iy = oy * s->stride + ky - s->pad;
                                int ix = ox * s->stride + kx - s->pad;
                                if (iy < 0 || iy >= s->h || ix < 0 || ix >= s->w) continue;
                                sum += (double)c->w[((o * s->cin + i) * s->k + ky) * s->k + kx] *
                                       c->x[((b * s->cin + i) * s->h + iy) * s->w + ix];
                            }
                    y[((b * s->cout + o) * s->ho + oy) * s->wo + ox] = sum;
                }
}

static void check_conv(int n, int cin, int cout, int h, int w, int k, int stride, int pad,
                       int with_bias)
{
    char name[128];
    snprintf(name, sizeof name, "conv2d n=%d %d->%d %dx%d k=%d s=%d p=%d%s", n, cin, cout, h, w,
             k, stride, pad, with_bias ? "" : " nobias");
    conv_ctx c;
    memset(&c, 0, sizeof c);
    c.s = (conv2d_shape_t){.cin = cin, .h = h, .w = w, .cout = cout, .k = k,
                           .stride = stride, .pad = pad};
    c.n = n;
    CHECK(conv2d_shape(&c.s) == 0, "%s: shape", name);
    CHECK(c.s.ho == (h + 2 * pad - k) / stride + 1 && c.s.wo == (w + 2 * pad - k) / stride + 1,
          "%s: ho=%d wo=%d", name, c.s.ho, c.s.wo);
    c.nx = (size_t)n * cin * h * w;
    c.nw = (size_t)cout * cin * k * k;
    c.ny = (size_t)n * cout * c.s.ho * c.s.wo;
    c.nws = conv2d_workspace(&c.s, n);
    c.x = alloc_f(c.nx);
    c.w = alloc_f(c.nw);
    c.b = with_bias ? alloc_f(cout) : NULL;
    c.y = alloc_f(c.ny);
    c.r = alloc_f(c.ny);
    c.ws = alloc_f(c.nws);
    fill_normal(c.x, c.nx, 1.0f);
    fill_normal(c.w, c.nw, 0.5f);
    if (c.b) fill_normal(c.b, cout, 0.5f);
    fill_normal(c.r, c.ny, 1.0f);

    /* forward against the definition */
    double *ref = malloc(c.ny * sizeof(double));
    if (!ref) exit(2);
    conv_reference(ref, &c);
    poison(c.ws, c.nws);
    poison(c.y, c.ny);
    conv2d_forward(c.y, c.x, c.w, c.b, n, &c.s, c.ws);
    double fe = grad_err(c.y, ref, c.ny);
    CHECK(fe <= 1e-5, "%s: forward error %.3g", name, fe);
    free(ref);

    /* analytic gradients of L = sum(y * r): dy = r */
    float *dx = alloc_f(c.nx), *dw = alloc_f(c.nw), *db = alloc_f(cout);
    memset(dw, 0, c.nw * sizeof(float));
    memset(db, 0, cout * sizeof(float));
    poison(dx, c.nx); /* backward must overwrite dx */
    poison(c.ws, c.nws);
    conv2d_backward(dx, dw, c.b ? db : NULL, c.r, c.x, c.w, n, &c.s, c.ws);

    char what[160];
    snprintf(what, sizeof what, "%s dx", name);
    check_grad(what, dx, c.x, c.nx, conv_objective, &c, 1e-2f);
    snprintf(what, sizeof what, "%s dw", name);
    check_grad(what, dw, c.w, c.nw, conv_objective, &c, 1e-2f);
    if (c.b) {
        snprintf(what, sizeof what, "%s db", name);
        check_grad(what, db, c.b, cout, conv_objective, &c, 1e-2f);
    }

    /* dw/db accumulate: a second call (with dx NULL) adds the same again,
     * giving 2x up to rounding (the sum is taken in a different order). */
    float *dw2 = alloc_f(c.nw), *db2 = alloc_f(cout);
    memcpy(dw2, dw, c.nw * sizeof(float));
    memcpy(db2, db, cout * sizeof(float));
    poison(c.ws, c.nws);
    conv2d_backward(NULL, dw2, c.b ? db2 : NULL, c.r, c.x, c.w, n, &c.s, c.ws);
    int acc_ok = 1;
    for (size_t i = 0; i < c.nw; i++) acc_ok &= same2x(dw2[i], dw[i], dw, c.nw);
    if (c.b)
        for (int i = 0; i < cout; i++) acc_ok &= same2x(db2[i], db[i], db, cout);
    CHECK(acc_ok, "%s: dw/db do not accumulate to 2x with dx=NULL", name);

    /* dx is overwritten, not accumulated: a second call gives the same dx */
    float *dx2 = alloc_f(c.nx);
    for (size_t i = 0; i < c.nx; i++) dx2[i] = 1e30f;
    conv2d_backward(dx2, dw2, NULL, c.r, c.x, c.w, n, &c.s, c.ws);
    CHECK(memcmp(dx, dx2, c.nx * sizeof(float)) == 0, "%s: dx not overwritten", name);

    free(dx2);
    free(dw2);
    free(db2);
    free(dx);
    free(dw);
    free(db);
    free(c.x);
    free(c.w);
    free(c.b);
    free(c.y);
    free(c.r);
    free(c.ws);
}

/* The harness must be able to fail: a wrong gradient (one dw entry off by
 * 5% of the largest) has to be reported as an error above the tolerance. */
static void check_detects_wrong_gradient(void)
{
    conv_ctx c;
    memset(&c, 0, sizeof c);
    c.s = (conv2d_shape_t){.cin = 3, .h = 6, .w = 5, .cout = 4, .k = 3, .stride = 1, .pad = 1};
    c.n = 2;
    conv2d_shape(&c.s);
    c.nx = (size_t)c.n * 3 * 6 * 5;
    c.nw = 4 * 3 * 9;
    c.ny = (size_t)c.n * 4 * c.s.ho * c.s.wo;
    c.nws = conv2d_workspace(&c.s, c.n);
    c.x = alloc_f(c.nx);
    c.w = alloc_f(c.nw);
    c.b = alloc_f(4);
    c.y = alloc_f(c.ny);
    c.r = alloc_f(c.ny);
    c.ws = alloc_f(c.nws);
    fill_normal(c.x, c.nx, 1.0f);
    fill_normal(c.w, c.nw, 0.5f);
    fill_normal(c.b, 4, 0.5f);
    fill_normal(c.r, c.ny, 1.0f);
    float *dw = alloc_f(c.nw);
    memset(dw, 0, c.nw * sizeof(float));
    conv2d_backward(NULL, dw, NULL, c.r, c.x, c.w, c.n, &c.s, c.ws);
    double *num = calloc(c.nw, sizeof(double));
    if (!num) exit(2);
    numeric_grad(num, c.w, c.nw, conv_objective, &c, 1e-2f);
    double good = grad_err(dw, num, c.nw);
    float big = 0.0f;
    for (size_t i = 0; i < c.nw; i++)
        if (fabsf(dw[i]) > big) big = fabsf(dw[i]);
    dw[17] += 0.05f * big;
    double bad = grad_err(dw, num, c.nw);
    CHECK(good <= GRAD_TOL, "self-check: correct gradient rejected (%.3g)", good);
    CHECK(bad > GRAD_TOL, "self-check: a 5%% gradient error went undetected (%.3g)", bad);
    free(num);
    free(dw);
    free(c.x);
    free(c.w);
    free(c.b);
    free(c.y);
    free(c.r);
    free(c.ws);
}

static void test_conv2d(void)
{
    /*          n cin cout h   w  k  s  p  bias */
    check_conv(2, 3, 8, 7, 5, 3, 1, 1, 1);   /* same, non-square        */
    check_conv(2, 8, 3, 6, 9, 3, 1, 0, 1);   /* valid                   */
    check_conv(2, 1, 3, 8, 6, 5, 1, 2, 1);   /* k=5 same, cin 1         */
    check_conv(2, 3, 1, 9, 8, 3, 2, 1, 1);   /* stride 2, cout 1        */
    check_conv(1, 1, 8, 8, 7, 4, 2, 1, 1);   /* stride 2, even k        */
    check_conv(2, 8, 8, 5, 5, 3, 1, 1, 0);   /* bias NULL               */
    check_conv(2, 3, 3, 5, 6, 2, 1, 0, 1);   /* even k valid            */
    check_conv(1, 3, 5, 5, 4, 4, 1, 2, 1);   /* even k, pad = k/2       */
    check_conv(2, 5, 5, 4, 3, 1, 1, 0, 1);   /* 1x1, channel tails      */
    check_conv(1, 2, 3, 4, 5, 1, 1, 1, 1);   /* pad > k-1 (direct path) */
    check_conv(1, 3, 2, 10, 11, 3, 3, 0, 0); /* stride 3                */
    check_conv(1, 16, 9, 7, 7, 3, 1, 1, 1);  /* 16 in, 4-block + tail   */
    check_conv(1, 2, 2, 3, 3, 3, 1, 0, 1);   /* output 1x1              */
    check_detects_wrong_gradient();

    conv2d_shape_t bad = {.cin = 1, .h = 2, .w = 5, .cout = 1, .k = 3, .stride = 1, .pad = 0};
    CHECK(conv2d_shape(&bad) == -1, "2x5 valid 3x3 conv should be empty");
}

/* ---- pooling ------------------------------------------------------------ */

typedef struct {
    int n, c, h, w, k, ceil_mode, is_max;
    float *x, *y, *r;
    size_t nx, ny;
} pool_ctx;

static double pool_objective(void *p)
{
    pool_ctx *c = p;
    if (c->is_max)
        maxpool2d_forward(c->y, c->x, c->n, c->c, c->h, c->w, c->k, c->ceil_mode);
    else
        avgpool2d_forward(c->y, c->x, c->n, c->c, c->h, c->w, c->k, c->ceil_mode);
    return dot_d(c->y, c->r, c->ny);
}

static void check_pool(int is_max, int n, int ch, int h, int w, int k, int ceil_mode)
{
    char name[96];
    snprintf(name, sizeof name, "%s n=%d c=%d %dx%d k=%d %s", is_max ? "maxpool" : "avgpool", n,
             ch, h, w, k, ceil_mode ? "ceil" : "floor");
    pool_ctx c = {.n = n, .c = ch, .h = h, .w = w, .k = k, .ceil_mode = ceil_mode,
                  .is_max = is_max};
    int ho = pool2d_out(h, k, ceil_mode), wo = pool2d_out(w, k, ceil_mode);
    CHECK(ho == (ceil_mode ? (h + k - 1) / k : h / k), "%s: ho %d", name, ho);
    c.nx = (size_t)n * ch * h * w;
    c.ny = (size_t)n * ch * ho * wo;
    c.x = alloc_f(c.nx);
    c.y = alloc_f(c.ny);
    c.r = alloc_f(c.ny);
    /* distinct values 0.1 apart in random order: no ties, and an eps of
     * 1e-2 never changes which pixel is the maximum */
    for (size_t i = 0; i < c.nx; i++) c.x[i] = 0.1f * (float)i - 0.05f * (float)c.nx;
    for (size_t i = c.nx; i > 1; i--) {
        size_t j = ae_rng_below(&rng, (uint32_t)i);
        float t = c.x[i - 1];
        c.x[i - 1] = c.x[j];
        c.x[j] = t;
    }
    fill_normal(c.r, c.ny, 1.0f);

    /* forward against the definition */
    pool_objective(&c);
    int fwd_ok = 1;
    for (int p = 0; p < n * ch; p++)
        for (int oy = 0; oy < ho; oy++)
            for (int ox = 0; ox < wo; ox++) {
                double best = -INFINITY, sum = 0.0;
                int cnt = 0;
                for (int iy = oy * k; iy < oy * k + k && iy < h; iy++)
                    for (int ix = ox * k; ix < ox * k + k && ix < w; ix++) {
                        double v = c.x[((size_t)p * h + iy) * w + ix];
                        if (v > best) best = v;
                        sum += v;
                        cnt++;
                    }
                double want = is_max ? best : sum / cnt;
                double got = c.y[((size_t)p * ho + oy) * wo + ox];
                fwd_ok &= fabs(got - want) <= 1e-5 * (1.0 + fabs(want));
            }
    CHECK(fwd_ok, "%s: forward differs from the definition", name);

    float *dx = alloc_f(c.nx);
    poison(dx, c.nx);
    if (is_max)
        maxpool2d_backward(dx, c.r, c.x, n, ch, h, w, k, ceil_mode);
    else
        avgpool2d_backward(dx, c.r, n, ch, h, w, k, ceil_mode);
    char what[128];
    snprintf(what, sizeof what, "%s dx", name);
    check_grad(what, dx, c.x, c.nx, pool_objective, &c, 1e-2f);
    free(dx);
    free(c.x);
    free(c.y);
    free(c.r);
}

static void test_pool(void)
{
    CHECK(pool2d_out(7, 2, 1) == 4 && pool2d_out(7, 2, 0) == 3, "pool2d_out 7");
    CHECK(pool2d_out(28, 2, 0) == 14 && pool2d_out(28, 2, 1) == 14, "pool2d_out 28");
    for (int is_max = 0; is_max <= 1; is_max++)
        for (int ceil_mode = 0; ceil_mode <= 1; ceil_mode++) {
            check_pool(is_max, 2, 3, 7, 5, 2, ceil_mode);
            check_pool(is_max, 1, 2, 8, 6, 2, ceil_mode);
            check_pool(is_max, 1, 2, 7, 8, 3, ceil_mode);
        }

    /* ties: the first maximum in row-major order takes the gradient */
    float x[4] = {1.0f, 3.0f, 3.0f, 3.0f}, dy[1] = {2.0f}, dx[4];
    maxpool2d_backward(dx, dy, x, 1, 1, 2, 2, 2, 0);
    CHECK(dx[0] == 0.0f && dx[1] == 2.0f && dx[2] == 0.0f && dx[3] == 0.0f,
          "maxpool tie rule: %g %g %g %g", dx[0], dx[1], dx[2], dx[3]);
}

/* ---- upsample ----------------------------------------------------------- */

typedef struct {
    int n, c, h, w, s;
    float *x, *y, *r;
    size_t nx, ny;
} up_ctx;

static double up_objective(void *p)
{
    up_ctx *c = p;
    upsample2d_forward(c->y, c->x, c->n, c->c, c->h, c->w, c->s);
    return dot_d(c->y, c->r, c->ny);
}

static void check_upsample(int n, int ch, int h, int w, int s)
{
    char name[64];
    snprintf(name, sizeof name, "upsample n=%d c=%d %dx%d x%d", n, ch, h, w, s);
    up_ctx c = {.n = n, .c = ch, .h = h, .w = w, .s = s};
    c.nx = (size_t)n * ch * h * w;
    c.ny = c.nx * s * s;
    c.x = alloc_f(c.nx);
    c.y = alloc_f(c.ny);
    c.r = alloc_f(c.ny);
    fill_normal(c.x, c.nx, 1.0f);
    fill_normal(c.r, c.ny, 1.0f);
    up_objective(&c);
    int ok = 1;
    for (int p = 0; p < n * ch; p++)
        for (int oy = 0; oy < h * s; oy++)
            for (int ox = 0; ox < w * s; ox++)
                ok &= c.y[((size_t)p * h * s + oy) * w * s + ox] ==
                      c.x[((size_t)p * h + oy / s) * w + ox / s];
    CHECK(ok, "%s: forward differs from the definition", name);
    float *dx = alloc_f(c.nx);
    poison(dx, c.nx);
    upsample2d_backward(dx, c.r, n, ch, h, w, s);
    char what[96];
    snprintf(what, sizeof what, "%s dx", name);
    check_grad(what, dx, c.x, c.nx, up_objective, &c, 1e-2f);
    free(dx);
    free(c.x);
    free(c.y);
    free(c.r);
}

/* ---- VAE sampling --------------------------------------------------------- */

typedef struct {
    int n, L;
    float kl_scale;
    float *h, *eps, *z, *r;
} sample_ctx;

/* L = sum(z * r) + kl_scale * KL: the sampling path and the KL term at once */
static double sample_objective(void *p)
{
    sample_ctx *c = p;
    sample_forward(c->z, c->h, c->eps, c->n, c->L);
    return dot_d(c->z, c->r, (size_t)c->n * c->L) + c->kl_scale * sample_kl(c->h, c->n, c->L);
}

static void check_sample(int n, int L, int with_eps)
{
    char name[64];
    snprintf(name, sizeof name, "sample n=%d L=%d%s", n, L, with_eps ? "" : " eps=NULL");
    sample_ctx c = {.n = n, .L = L, .kl_scale = 0.37f};
    size_t nh = (size_t)n * 2 * L, nz = (size_t)n * L;
    c.h = alloc_f(nh);
    c.z = alloc_f(nz);
    c.r = alloc_f(nz);
    c.eps = with_eps ? alloc_f(nz) : NULL;
    fill_normal(c.h, nh, 0.8f);
    fill_normal(c.r, nz, 1.0f);
    if (c.eps) fill_normal(c.eps, nz, 1.0f);
    float *dh = alloc_f(nh);
    poison(dh, nh);
    sample_backward(dh, c.r, c.h, c.eps, n, L, c.kl_scale);
    char what[96];
    snprintf(what, sizeof what, "%s dh", name);
    check_grad(what, dh, c.h, nh, sample_objective, &c, 1e-2f);
    /* KL against the closed form in double */
    double kl = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < L; j++) {
            double mu = c.h[(size_t)i * 2 * L + j], lv = c.h[(size_t)i * 2 * L + L + j];
            kl += 0.5 * (mu * mu + exp(lv) - 1.0 - lv);
        }
    CHECK_CLOSE(sample_kl(c.h, n, L), kl, 1e-9, 1e-12, "%s: KL %.12g vs %.12g", name, sample_kl(c.h, n, L), kl);
    free(dh);
    free(c.h);
    free(c.z);
    free(c.r);
    free(c.eps);
}

/* ---- conditioning on a label ------------------------------------------------ */

typedef struct {
    int n, c, classes;
    size_t plane;
    float *x, *onehot, *y, *r;
} condition_ctx;

static double condition_objective(void *p)
{
    condition_ctx *c = p;
    condition_forward(c->y, c->x, c->onehot, c->n, c->c, c->plane, c->classes);
    return dot_d(c->y, c->r, (size_t)c->n * (c->c + c->classes) * c->plane);
}

/* The kernel: x's values, then the label's planes; dx by differences. */
static void check_condition(int n, int ch, size_t plane, int classes)
{
    char name[64];
    snprintf(name, sizeof name, "condition n=%d c=%d plane=%zu classes=%d", n, ch, plane, classes);
    condition_ctx c = {.n = n, .c = ch, .classes = classes, .plane = plane};
    size_t nx = (size_t)n * ch * plane, ny = (size_t)n * (ch + classes) * plane;
    c.x = alloc_f(nx);
    c.onehot = alloc_f((size_t)n * classes);
    c.y = alloc_f(ny);
    c.r = alloc_f(ny);
    fill_normal(c.x, nx, 1.0f);
    fill_normal(c.r, ny, 1.0f);
    for (int i = 0; i < n; i++)
        for (int k = 0; k < classes; k++) c.onehot[i * classes + k] = k == (i * 7 + 3) % classes;
    poison(c.y, ny);
    condition_objective(&c);
    int ok = 1;
    for (int i = 0; i < n; i++) {
        const float *yi = c.y + (size_t)i * (ch + classes) * plane;
        ok &= memcmp(yi, c.x + (size_t)i * ch * plane, (size_t)ch * plane * sizeof(float)) == 0;
        for (int k = 0; k < classes; k++)
            for (size_t j = 0; j < plane; j++)
                ok &= yi[(size_t)(ch + k) * plane + j] == (k == (i * 7 + 3) % classes ? 1.0f : 0.0f);
    }
    CHECK(ok, "%s: forward is not x then the one-hot planes", name);
    float *dx = alloc_f(nx);
    poison(dx, nx);
    condition_backward(dx, c.r, n, ch, plane, classes);
    char what[96];
    snprintf(what, sizeof what, "%s dx", name);
    check_grad(what, dx, c.x, nx, condition_objective, &c, 1e-2f);
    free(dx);
    free(c.x);
    free(c.onehot);
    free(c.y);
    free(c.r);
}

/* A conditional VAE through the model's passes (forward.c): the gradient
 * of its loss (recon + KL, sampling noise fixed by the seeds) with respect
 * to every weight, the ones reading the one-hot labels included, against
 * central differences; and the label reaches the output. */
typedef struct {
    ae_model *m;
    ae_workspace *w;
    const float *x;
    int n;
} cvae_ctx;

static double cvae_objective(void *p)
{
    cvae_ctx *c = p;
    double recon, kl;
    model_set_noise(c->w, 0, 77, 0);
    return model_recon_chunk(c->m, c->w, 0, c->x, c->x, c->n, 1.0f, 1.0, 0, PASS_SAMPLE, &recon, &kl);
}

static void test_conditional_model(void)
{
    const char *text = "param classes 3\ninput 1 3 3\nloss sse\nencoder\nflatten\ncondition\ndense 5\ntanh\n"
                       "dense 4\nsample\ndecoder\ncondition\ndense 9\nsigmoid\nreshape 1 3 3\n";
    ae_model *m = NULL;
    ae_error err;
    CHECK(ae_model_from_text(&m, text, "cvae test", 0, &err) == 0, "%s", err.msg);
    if (!m) return;
    ae_model_init(m, 5);
    /* biases away from zero: their gradients count too */
    for (size_t i = 0; i < m->nparams; i++) m->params[i] += 0.1f * ae_rng_normal(&rng);
    enum { N = 4 };
    const int labels[N] = { 2, 0, 1, 2 };
    ae_workspace *w = NULL;
    CHECK(workspace_new(&w, m, N, 1, 1, &err) == 0, "%s", err.msg);
    if (!w) { ae_model_free(m); return; }
    float *x = work_input(w, 0);
    for (int i = 0; i < N * 9; i++) x[i] = ae_rng_uniform(&rng);
    for (int i = 0; i < N; i++) model_set_label(m, w, 0, i, labels[i]);
    cvae_ctx c = { m, w, x, N };
    double recon, kl;
    model_set_noise(w, 0, 77, 0);
    model_recon_chunk(m, w, 0, x, x, N, 1.0f, 1.0, 1, PASS_SAMPLE, &recon, &kl);
    float *analytic = alloc_f(m->nparams);
    memcpy(analytic, work_grad(w, 0), m->nparams * sizeof(float));
    check_grad("conditional VAE weights", analytic, m->params, m->nparams, cvae_objective, &c, 1e-2f);
    /* the gradient of the encoder's first dense layer's label columns is
     * not zero: the label is an input of the layer */
    const ae_layer *dense = &m->layers[2];
    double label_grad = 0;
    for (int o = 0; o < dense->units; o++)
        for (int k = 0; k < 3; k++) label_grad += fabs(analytic[dense->w_off + (size_t)o * dense->in_c + 9 + k]);
    CHECK(label_grad > 0, "no gradient reaches the label's weights");
    /* another label, another output */
    double before = cvae_objective(&c);
    model_set_label(m, w, 0, 0, 1);
    CHECK(cvae_objective(&c) != before, "the label does not change the output");
    free(analytic);
    ae_workspace_free(w);
    ae_model_free(m);
}

/* ---- dense -------------------------------------------------------------- */

typedef struct {
    int n, in, out;
    float *x, *w, *b, *y, *r;
} dense_ctx;

static double dense_objective(void *p)
{
    dense_ctx *c = p;
    dense_forward(c->y, c->x, c->w, c->b, c->n, c->in, c->out);
    return dot_d(c->y, c->r, (size_t)c->n * c->out);
}

static void check_dense(int n, int in, int out, int with_bias)
{
    char name[64];
    snprintf(name, sizeof name, "dense n=%d %d->%d%s", n, in, out, with_bias ? "" : " nobias");
    dense_ctx c = {.n = n, .in = in, .out = out};
    size_t nx = (size_t)n * in, nw = (size_t)out * in, ny = (size_t)n * out;
    c.x = alloc_f(nx);
    c.w = alloc_f(nw);
    c.b = with_bias ? alloc_f(out) : NULL;
    c.y = alloc_f(ny);
    c.r = alloc_f(ny);
    fill_normal(c.x, nx, 1.0f);
    fill_normal(c.w, nw, 0.5f);
    if (c.b) fill_normal(c.b, out, 0.5f);
    fill_normal(c.r, ny, 1.0f);

    poison(c.y, ny);
    dense_objective(&c);
    double *ref = malloc(ny * sizeof(double));
    if (!ref) exit(2);
    for (int i = 0; i < n; i++)
        for (int o = 0; o < out; o++)
            ref[i * out + o] = (c.b ? c.b[o] : 0.0) + dot_d(c.x + i * in, c.w + o * in, in);
    double fe = grad_err(c.y, ref, ny);
    CHECK(fe <= 1e-5, "%s: forward error %.3g", name, fe);
    free(ref);

    float *dx = alloc_f(nx), *dw = alloc_f(nw), *db = alloc_f(out);
    poison(dx, nx);
    memset(dw, 0, nw * sizeof(float));
    memset(db, 0, out * sizeof(float));
    dense_backward(dx, dw, c.b ? db : NULL, c.r, c.x, c.w, n, in, out);
    char what[96];
    snprintf(what, sizeof what, "%s dx", name);
    check_grad(what, dx, c.x, nx, dense_objective, &c, 1e-2f);
    snprintf(what, sizeof what, "%s dw", name);
    check_grad(what, dw, c.w, nw, dense_objective, &c, 1e-2f);
    if (c.b) {
        snprintf(what, sizeof what, "%s db", name);
        check_grad(what, db, c.b, out, dense_objective, &c, 1e-2f);
    }
    /* accumulation, dx NULL */
    float *dw2 = alloc_f(nw), *db2 = alloc_f(out);
    memcpy(dw2, dw, nw * sizeof(float));
    memcpy(db2, db, out * sizeof(float));
    dense_backward(NULL, dw2, c.b ? db2 : NULL, c.r, c.x, c.w, n, in, out);
    int acc_ok = 1;
    for (size_t i = 0; i < nw; i++) acc_ok &= same2x(dw2[i], dw[i], dw, nw);
    if (c.b)
        for (int i = 0; i < out; i++) acc_ok &= same2x(db2[i], db[i], db, out);
    CHECK(acc_ok, "%s: dw/db do not accumulate to 2x", name);
    free(dw2);
    free(db2);
    free(dx);
    free(dw);
    free(db);
    free(c.x);
    free(c.w);
    free(c.b);
    free(c.y);
    free(c.r);
}

/* ---- activations -------------------------------------------------------- */

enum { ACT_RELU, ACT_LEAKY, ACT_SIGMOID, ACT_TANH };
static const char *act_names[] = {"relu", "leaky_relu", "sigmoid", "tanh"};

typedef struct {
    int kind;
    size_t count;
    float *x, *y, *r;
} act_ctx;

static void act_forward(int kind, float *y, const float *x, size_t count)
{
    switch (kind) {
    case ACT_RELU: relu_forward(y, x, count); break;
    case ACT_LEAKY: leaky_relu_forward(y, x, count, 0.1f); break;
    case ACT_SIGMOID: sigmoid_forward(y, x, count); break;
    default: tanh_forward(y, x, count); break;
    }
}

static void act_backward(int kind, float *dx, const float *dy, const float *y, size_t count)
{
    switch (kind) {
    case ACT_RELU: relu_backward(dx, dy, y, count); break;
    case ACT_LEAKY: leaky_relu_backward(dx, dy, y, count, 0.1f); break;
    case ACT_SIGMOID: sigmoid_backward(dx, dy, y, count); break;
    default: tanh_backward(dx, dy, y, count); break;
    }
}

static double act_objective(void *p)
{
    act_ctx *c = p;
    act_forward(c->kind, c->y, c->x, c->count);
    return dot_d(c->y, c->r, c->count);
}

static void check_activation(int kind)
{
    const size_t count = 203;
    act_ctx c = {.kind = kind, .count = count};
    c.x = alloc_f(count);
    c.y = alloc_f(count);
    c.r = alloc_f(count);
    fill_normal(c.x, count, 2.0f);
    /* keep away from relu's kink so x +- eps stays on one side */
    for (size_t i = 0; i < count; i++)
        if (fabsf(c.x[i]) < 0.1f) c.x[i] = c.x[i] < 0.0f ? c.x[i] - 0.1f : c.x[i] + 0.1f;
    fill_normal(c.r, count, 1.0f);

    act_objective(&c);
    int ok = 1;
    for (size_t i = 0; i < count; i++) {
        double x = c.x[i], want;
        switch (kind) {
        case ACT_RELU: want = x > 0 ? x : 0; break;
        case ACT_LEAKY: want = x > 0 ? x : 0.1 * x; break;
        case ACT_SIGMOID: want = 1.0 / (1.0 + exp(-x)); break;
        default: want = tanh(x); break;
        }
        ok &= fabs(c.y[i] - want) <= 1e-6 * (1.0 + fabs(want));
    }
    CHECK(ok, "%s: forward differs from the definition", act_names[kind]);

    float *dx = alloc_f(count);
    poison(dx, count);
    act_backward(kind, dx, c.r, c.y, count);
    char what[64];
    snprintf(what, sizeof what, "%s dx", act_names[kind]);
    check_grad(what, dx, c.x, count, act_objective, &c, 1e-2f);

    /* in place: dx == dy (recompute y: the differencing left it stale) */
    act_objective(&c);
    float *inplace = alloc_f(count);
    memcpy(inplace, c.r, count * sizeof(float));
    act_backward(kind, inplace, inplace, c.y, count);
    CHECK(memcmp(inplace, dx, count * sizeof(float)) == 0, "%s: in-place backward differs",
          act_names[kind]);
    free(inplace);
    free(dx);
    free(c.x);
    free(c.y);
    free(c.r);
}

static void test_activations(void)
{
    for (int kind = ACT_RELU; kind <= ACT_TANH; kind++) check_activation(kind);

    /* sigmoid and tanh saturate cleanly */
    float x[4] = {1e4f, -1e4f, 100.0f, -100.0f}, y[4];
    sigmoid_forward(y, x, 4);
    CHECK(y[0] == 1.0f && y[1] == 0.0f && y[2] == 1.0f && y[3] >= 0.0f && y[3] < 1e-40f,
          "sigmoid saturation: %g %g %g %g", y[0], y[1], y[2], y[3]);
    tanh_forward(y, x, 4);
    CHECK(y[0] == 1.0f && y[1] == -1.0f, "tanh saturation: %g %g", y[0], y[1]);
}

/* ---- a beta-VAE's whole loss ---------------------------------------------- */

/* A small dense VAE (64 pixels, latent 2) as a description. */
static const char BETA_VAE_TEXT[] =
    "input 1 8 8\nloss sse\nencoder\nflatten\ndense 16\nrelu\ndense 4\nsample\n"
    "decoder\ndense 16\nrelu\ndense 64\nreshape 1 8 8\nsigmoid\n";

typedef struct {
    ae_model *m;
    ae_workspace *ws;
    const float *x;
    int n;
    double beta;
} vae_ctx;

/* recon + beta KL of the images, with the sampling noise the training pass drew */
static double vae_objective(void *p)
{
    vae_ctx *c = p;
    double recon, kl;
    model_set_noise(c->ws, 0, 77, 0);
    return model_recon_chunk(c->m, c->ws, 0, c->x, c->x, c->n, 1.0f, c->beta, 0, PASS_SAMPLE, &recon, &kl);
}

/* The gradient ae_train steps along (model_recon_chunk with kl_weight
 * beta, scale 1) against central differences of recon + beta KL over every
 * parameter, through the sampling layer with its noise. beta 4 moves the
 * encoder head's gradient far from the beta-1 one, so a weight applied to
 * the loss but not to the gradient (or the reverse) fails. */
static void check_vae_beta(double beta)
{
    ae_model *m;
    ae_error err;
    if (ae_model_from_text(&m, BETA_VAE_TEXT, "beta-vae", 0, &err)) {
        CHECK(0, "%s", err.msg);
        return;
    }
    ae_model_init(m, 11);
    for (size_t i = 0; i < m->nparams; i++) m->params[i] *= 2.0f;   /* codes away from 0: a KL to weigh */
    enum { N = 4 };
    float x[N * 64];
    for (int i = 0; i < N * 64; i++) x[i] = ae_rng_uniform(&rng);
    ae_workspace *ws = NULL;
    CHECK(workspace_new(&ws, m, N, 1, 1, &err) == 0, "%s", err.msg);
    vae_ctx c = { m, ws, x, N, beta };
    model_set_noise(ws, 0, 77, 0);
    double recon, kl;
    double total = model_recon_chunk(m, ws, 0, x, x, N, 1.0f, beta, 1, PASS_SAMPLE, &recon, &kl);
    CHECK(kl > 0.1 && fabs(total - (recon + beta * kl)) <= 1e-9 * fabs(total),
          "beta %g: loss %.9g, recon %.9g, kl %.9g", beta, total, recon, kl);
    CHECK(fabs(vae_objective(&c) - total) <= 1e-6 * fabs(total), "beta %g: evaluation pass %.9g, training %.9g",
          beta, vae_objective(&c), total);
    float *g = alloc_f(m->nparams);
    memcpy(g, work_grad(ws, 0), m->nparams * sizeof(float));
    char what[64];
    snprintf(what, sizeof what, "VAE loss recon + %g KL", beta);
    check_grad(what, g, m->params, m->nparams, vae_objective, &c, 3e-3f);
    free(g);
    ae_workspace_free(ws);
    ae_model_free(m);
}

/* ---- losses ------------------------------------------------------------- */

typedef struct {
    int is_bce;
    size_t count;
    float *z, *t;
} loss_ctx;

static double loss_objective(void *p)
{
    loss_ctx *c = p;
    return c->is_bce ? bce_logits_loss(c->z, c->t, c->count) : sse_loss(c->z, c->t, c->count);
}

static void check_loss(int is_bce)
{
    const size_t count = 157;
    const float scale = 0.25f;
    const char *name = is_bce ? "bce_logits" : "sse";
    loss_ctx c = {.is_bce = is_bce, .count = count};
    c.z = alloc_f(count);
    c.t = alloc_f(count);
    fill_normal(c.z, count, 2.0f);
    for (size_t i = 0; i < count; i++) c.t[i] = ae_rng_uniform(&rng);
    for (size_t i = 0; i < count; i += 5) c.t[i] = (float)(i % 2); /* exact 0/1 targets */

    /* the value against the textbook formulas, in double */
    double want = 0.0;
    for (size_t i = 0; i < count; i++) {
        double z = c.z[i], t = c.t[i];
        if (is_bce) {
            double s = 1.0 / (1.0 + exp(-z));
            want += -(t * log(s) + (1.0 - t) * log(1.0 - s));
        } else {
            want += (z - t) * (z - t);
        }
    }
    double got = loss_objective(&c);
    CHECK_CLOSE(got, want, 1e-10, 1e-12, "%s loss %.17g, want %.17g", name, got, want);

    /* the gradient: dz = scale * dL/dz */
    float *dz = alloc_f(count);
    poison(dz, count);
    if (is_bce)
        bce_logits_backward(dz, c.z, c.t, count, scale);
    else
        sse_backward(dz, c.z, c.t, count, scale);
    for (size_t i = 0; i < count; i++) dz[i] /= scale;
    char what[64];
    snprintf(what, sizeof what, "%s dz", name);
    check_grad(what, dz, c.z, count, loss_objective, &c, 1e-2f);
    free(dz);
    free(c.z);
    free(c.t);
}

static void test_losses(void)
{
    check_loss(1);
    check_loss(0);

    /* bce_logits at extreme logits: finite and right. The exact loss is
     * softplus(z) - z t, and log1p(exp(-50)) = 1.9287498479639178e-22. */
    const float z[8] = {50, 50, -50, -50, 1e4f, 1e4f, -1e4f, -1e4f};
    const float t[8] = {1, 0, 1, 0, 1, 0.5f, 1, 0};
    const double want[8] = {1.9287498479639178e-22, 50.0, 50.0, 1.9287498479639178e-22,
                            0.0, 5000.0, 1e4, 0.0};
    const float want_g[8] = {0, 1, -1, 0, 0, 0.5f, -1, 0};
    float dz[8];
    bce_logits_backward(dz, z, t, 8, 1.0f);
    for (int i = 0; i < 8; i++) {
        double l = bce_logits_loss(z + i, t + i, 1);
        CHECK(isfinite(l) && fabs(l - want[i]) <= 1e-12 * (1.0 + want[i]) + 1e-30,
              "bce(z=%g, t=%g) = %.17g, want %.17g", z[i], t[i], l, want[i]);
        CHECK(isfinite(dz[i]) && fabsf(dz[i] - want_g[i]) <= 1e-6f,
              "bce grad(z=%g, t=%g) = %g, want %g", z[i], t[i], dz[i], want_g[i]);
    }
    double sum = bce_logits_loss(z, t, 8);
    CHECK(isfinite(sum), "bce sum at extremes not finite");

    /* sse sums in double */
    float y[3] = {1.0f, 2.0f, -1.5f}, tt[3] = {0.5f, 2.0f, 1.0f};
    CHECK(sse_loss(y, tt, 3) == 0.25 + 0.0 + 6.25, "sse value %.17g", sse_loss(y, tt, 3));
}

int main(void)
{
    ae_rng_seed(&rng, 20240611u);
    test_conv2d();
    test_pool();
    check_upsample(2, 3, 4, 3, 2);
    check_upsample(1, 2, 3, 5, 3);
    check_sample(3, 4, 1);
    check_sample(2, 2, 0);
    check_condition(3, 4, 1, 5);
    check_condition(2, 2, 6, 3);
    test_conditional_model();
    check_vae_beta(1);
    check_vae_beta(4);
    check_vae_beta(0);
    check_dense(5, 19, 6, 1);
    check_dense(3, 40, 4, 0);
    check_dense(1, 7, 1, 1);
    test_activations();
    test_losses();
    TEST_DONE();
}
