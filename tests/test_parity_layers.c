/* PyTorch parity of the layer, loss and optimiser kernels.
 *
 * Each fixture tests/fixtures/<case>.safetensors (written by
 * tests/gen_fixtures.py, see docs/parity.md) holds the inputs, PyTorch's
 * forward output and its gradients; the kernel's results must match
 * elementwise to |a - b| <= 1e-4 |b| + 1e-5. A missing fixture is a failure.
 * Besides the plain calls, the test checks the calling conventions of
 * layers.h: dx is overwritten (it is pre-filled with garbage), parameter
 * gradients accumulate across per-image chunks, dx == NULL works, a workspace
 * sized for the chunk suffices, bias == NULL, in-place activation backward.
 * Finally it runs the lesson's conv AE (convae_steps) through the kernels:
 * forward, mean-BCE gradients and three Adam steps.                       */
#include <stdint.h>
#include <string.h>

#include "test.h"
#include "parity.h"
#include "format/safetensors.h"
#include "layers/layers.h"
#include "loss/loss.h"
#include "optim/optim.h"

#define RTOL 1e-4
#define ATOL 1e-5
#define GARBAGE 1234.5f

static double meta_double(const st_file *f, const char *key)
{
    const char *v = st_meta(f, key);
    CHECK(v != NULL, "%s: no metadata key \"%s\"", f->path, key);
    return v ? atof(v) : 0.0;
}

/* Scalar F64 tensor (the losses are stored in float64). */
static double get_f64(const st_file *f, const char *name, size_t i)
{
    const st_tensor *t = st_find(f, name);
    CHECK(t && t->dtype == ST_F64 && t->numel > i, "%s: no F64 tensor %s[%zu]", f->path, name, i);
    if (!(t && t->dtype == ST_F64 && t->numel > i)) return NAN;
    double d;
    memcpy(&d, f->data + t->begin + i * sizeof d, sizeof d);
    return d;
}

/* Compares got[] against want[] elementwise; on failure names the worst one. */
static void check_array(const char *fx, const char *what, const float *got,
                        const float *want, size_t n)
{
    if (!got || !want) return; /* the load already failed */
    size_t nbad = 0, worst = 0;
    double worst_ratio = -1, max_abs = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - (double)want[i]);
        double ratio = d / (ATOL + RTOL * fabs((double)want[i]));
        if (!(ratio <= 1.0)) nbad++;
        if (!(ratio <= worst_ratio)) { worst_ratio = ratio; worst = i; }
        if (!(d <= max_abs)) max_abs = d;
    }
    CHECK(nbad == 0,
          "%s %s: %zu of %zu elements out of tolerance; worst [%zu] got %.9g want %.9g "
          "(|diff| %.3g = %.3gx tolerance)",
          fx, what, nbad, n, worst, got[worst], want[worst],
          fabs((double)got[worst] - (double)want[worst]), worst_ratio);
    printf("  %-26s %-22s n=%-6zu max |diff| %.2e, worst %.3f of tolerance\n", fx, what, n,
           max_abs, worst_ratio);
}

static void check_scalar(const char *fx, const char *what, double got, double want)
{
    CHECK(fabs(got - want) <= ATOL + RTOL * fabs(want), "%s %s: got %.12g want %.12g",
          fx, what, got, want);
    printf("  %-26s %-22s got %.9g want %.9g\n", fx, what, got, want);
}

/* ---- conv2d ------------------------------------------------------------- */
static void conv_case(const char *name)
{
    st_file f;
    if (open_fixture(&f, name)) return;
    int n = meta_int(&f, "n");
    conv2d_shape_t s = {0};
    s.cin = meta_int(&f, "cin"); s.h = meta_int(&f, "h"); s.w = meta_int(&f, "w");
    s.cout = meta_int(&f, "cout"); s.k = meta_int(&f, "k");
    s.stride = meta_int(&f, "stride"); s.pad = meta_int(&f, "pad");
    int rc = conv2d_shape(&s);
    CHECK(rc == 0 && s.ho == meta_int(&f, "ho") && s.wo == meta_int(&f, "wo"),
          "%s: conv2d_shape gave %dx%d (rc %d), PyTorch %dx%d", name, s.ho, s.wo, rc,
          meta_int(&f, "ho"), meta_int(&f, "wo"));
    if (rc || n <= 0) { st_free(&f); return; }

    size_t xin = (size_t)s.cin * s.h * s.w, yout = (size_t)s.cout * s.ho * s.wo;
    size_t nx = n * xin, ny = n * yout, nw = (size_t)s.cout * s.cin * s.k * s.k;
    float *x = get(&f, "x", nx), *w = get(&f, "weight", nw), *b = get(&f, "bias", s.cout);
    float *y = get(&f, "y", ny), *dy = get(&f, "dy", ny), *dx = get(&f, "dx", nx);
    float *dw = get(&f, "dweight", nw), *db = get(&f, "dbias", s.cout);
    if (x && w && b && y && dy && dx && dw && db) {
        float *ws = alloc_fill(conv2d_workspace(&s, n), 0.0f);
        float *ws1 = alloc_fill(conv2d_workspace(&s, 1), 0.0f);
        float *y_ = alloc_fill(ny, GARBAGE), *dx_ = alloc_fill(nx, GARBAGE);
        float *dw_ = alloc_fill(nw, 0.0f), *db_ = alloc_fill(s.cout, 0.0f);

        conv2d_forward(y_, x, w, b, n, &s, ws);
        check_array(name, "y", y_, y, ny);
        conv2d_backward(dx_, dw_, db_, dy, x, w, n, &s, ws);
        check_array(name, "dx", dx_, dx, nx);
        check_array(name, "dweight", dw_, dw, nw);
        check_array(name, "dbias", db_, db, s.cout);

        /* bias == NULL: y - bias */
        float *ynb = alloc_fill(ny, 0.0f);
        for (size_t i = 0; i < ny; i++) ynb[i] = y[i] - b[(i / (s.ho * s.wo)) % s.cout];
        for (size_t i = 0; i < ny; i++) y_[i] = GARBAGE;
        conv2d_forward(y_, x, w, NULL, n, &s, ws);
        check_array(name, "y(nobias)", y_, ynb, ny);

        /* One image per call, workspace for one image, dx == NULL, gradients
         * accumulating into buffers the caller zeroed once. */
        memset(dw_, 0, nw * sizeof *dw_);
        memset(db_, 0, s.cout * sizeof *db_);
        for (int i = 0; i < n; i++)
            conv2d_backward(NULL, dw_, db_, dy + i * yout, x + i * xin, w, 1, &s, ws1);
        check_array(name, "dw(chunk)", dw_, dw, nw);
        check_array(name, "db(chunk)", db_, db, s.cout);
        free(ws); free(ws1); free(y_); free(dx_); free(dw_); free(db_); free(ynb);
    }
    free(x); free(w); free(b); free(y); free(dy); free(dx); free(dw); free(db);
    st_free(&f);
}

/* ---- pools and upsample ------------------------------------------------- */
static void pool_case(const char *name, int avg)
{
    st_file f;
    if (open_fixture(&f, name)) return;
    int n = meta_int(&f, "n"), c = meta_int(&f, "c"), h = meta_int(&f, "h"), w = meta_int(&f, "w");
    int k = meta_int(&f, "k"), ceil_mode = meta_int(&f, "ceil_mode");
    int ho = pool2d_out(h, k, ceil_mode), wo = pool2d_out(w, k, ceil_mode);
    CHECK(ho == meta_int(&f, "ho") && wo == meta_int(&f, "wo"),
          "%s: pool2d_out gave %dx%d, PyTorch %dx%d", name, ho, wo,
          meta_int(&f, "ho"), meta_int(&f, "wo"));
    if (ho != meta_int(&f, "ho") || wo != meta_int(&f, "wo") || n <= 0) { st_free(&f); return; }
    size_t nx = (size_t)n * c * h * w, ny = (size_t)n * c * ho * wo;
    float *x = get(&f, "x", nx), *y = get(&f, "y", ny), *dy = get(&f, "dy", ny), *dx = get(&f, "dx", nx);
    if (x && y && dy && dx) {
        float *y_ = alloc_fill(ny, GARBAGE), *dx_ = alloc_fill(nx, GARBAGE);
        if (avg) {
            avgpool2d_forward(y_, x, n, c, h, w, k, ceil_mode);
            avgpool2d_backward(dx_, dy, n, c, h, w, k, ceil_mode);
        } else {
            maxpool2d_forward(y_, x, n, c, h, w, k, ceil_mode);
            maxpool2d_backward(dx_, dy, x, n, c, h, w, k, ceil_mode);
        }
        check_array(name, "y", y_, y, ny);
        check_array(name, "dx", dx_, dx, nx);
        free(y_); free(dx_);
    }
    free(x); free(y); free(dy); free(dx);
    st_free(&f);
}

static void upsample_case(const char *name)
{
    st_file f;
    if (open_fixture(&f, name)) return;
    int n = meta_int(&f, "n"), c = meta_int(&f, "c"), h = meta_int(&f, "h"), w = meta_int(&f, "w");
    int s = meta_int(&f, "s");
    if (n <= 0 || s <= 0) { st_free(&f); return; }
    size_t nx = (size_t)n * c * h * w, ny = nx * s * s;
    float *x = get(&f, "x", nx), *y = get(&f, "y", ny), *dy = get(&f, "dy", ny), *dx = get(&f, "dx", nx);
    if (x && y && dy && dx) {
        float *y_ = alloc_fill(ny, GARBAGE), *dx_ = alloc_fill(nx, GARBAGE);
        upsample2d_forward(y_, x, n, c, h, w, s);
        upsample2d_backward(dx_, dy, n, c, h, w, s);
        check_array(name, "y", y_, y, ny);
        check_array(name, "dx", dx_, dx, nx);
        free(y_); free(dx_);
    }
    free(x); free(y); free(dy); free(dx);
    st_free(&f);
}

/* ---- dense -------------------------------------------------------------- */
static void dense_case(const char *name)
{
    st_file f;
    if (open_fixture(&f, name)) return;
    int n = meta_int(&f, "n"), in = meta_int(&f, "in"), out = meta_int(&f, "out");
    if (n <= 0 || in <= 0 || out <= 0) { st_free(&f); return; }
    size_t nx = (size_t)n * in, ny = (size_t)n * out, nw = (size_t)in * out;
    float *x = get(&f, "x", nx), *w = get(&f, "weight", nw), *b = get(&f, "bias", out);
    float *y = get(&f, "y", ny), *dy = get(&f, "dy", ny), *dx = get(&f, "dx", nx);
    float *dw = get(&f, "dweight", nw), *db = get(&f, "dbias", out);
    if (x && w && b && y && dy && dx && dw && db) {
        float *y_ = alloc_fill(ny, GARBAGE), *dx_ = alloc_fill(nx, GARBAGE);
        float *dw_ = alloc_fill(nw, 0.0f), *db_ = alloc_fill(out, 0.0f);
        dense_forward(y_, x, w, b, n, in, out);
        check_array(name, "y", y_, y, ny);
        dense_backward(dx_, dw_, db_, dy, x, w, n, in, out);
        check_array(name, "dx", dx_, dx, nx);
        check_array(name, "dweight", dw_, dw, nw);
        check_array(name, "dbias", db_, db, out);

        float *ynb = alloc_fill(ny, 0.0f);
        for (size_t i = 0; i < ny; i++) { ynb[i] = y[i] - b[i % out]; y_[i] = GARBAGE; }
        dense_forward(y_, x, w, NULL, n, in, out);
        check_array(name, "y(nobias)", y_, ynb, ny);

        memset(dw_, 0, nw * sizeof *dw_);
        memset(db_, 0, out * sizeof *db_);
        for (int i = 0; i < n; i++)
            dense_backward(NULL, dw_, db_, dy + (size_t)i * out, x + (size_t)i * in, w, 1, in, out);
        check_array(name, "dw(chunk)", dw_, dw, nw);
        check_array(name, "db(chunk)", db_, db, out);
        free(y_); free(dx_); free(dw_); free(db_); free(ynb);
    }
    free(x); free(w); free(b); free(y); free(dy); free(dx); free(dw); free(db);
    st_free(&f);
}

/* ---- activations -------------------------------------------------------- */
enum { RELU, LEAKY, SIGMOID, TANH };

static void act_case(const char *name, int kind)
{
    st_file f;
    if (open_fixture(&f, name)) return;
    int count = meta_int(&f, "count");
    float slope = kind == LEAKY ? meta_double(&f, "slope") : 0.0f;
    if (count <= 0) { st_free(&f); return; }
    size_t nc = (size_t)count;
    float *x = get(&f, "x", nc), *y = get(&f, "y", nc), *dy = get(&f, "dy", nc), *dx = get(&f, "dx", nc);
    if (x && y && dy && dx) {
        float *y_ = alloc_fill(nc, GARBAGE), *dx_ = alloc_fill(nc, GARBAGE);
        float *inplace = alloc_fill(nc, 0.0f);
        memcpy(inplace, dy, nc * sizeof *dy);
        switch (kind) {
        case RELU:
            relu_forward(y_, x, nc);
            relu_backward(dx_, dy, y, nc);
            relu_backward(inplace, inplace, y, nc);
            break;
        case LEAKY:
            leaky_relu_forward(y_, x, nc, slope);
            leaky_relu_backward(dx_, dy, y, nc, slope);
            leaky_relu_backward(inplace, inplace, y, nc, slope);
            break;
        case SIGMOID:
            sigmoid_forward(y_, x, nc);
            sigmoid_backward(dx_, dy, y, nc);
            sigmoid_backward(inplace, inplace, y, nc);
            break;
        default:
            tanh_forward(y_, x, nc);
            tanh_backward(dx_, dy, y, nc);
            tanh_backward(inplace, inplace, y, nc);
            break;
        }
        check_array(name, "y", y_, y, nc);
        check_array(name, "dx", dx_, dx, nc);
        check_array(name, "dx(inplace)", inplace, dx, nc);
        free(y_); free(dx_); free(inplace);
    }
    free(x); free(y); free(dy); free(dx);
    st_free(&f);
}

/* ---- losses ------------------------------------------------------------- */
static void loss_case(const char *name, int bce)
{
    st_file f;
    if (open_fixture(&f, name)) return;
    int count = meta_int(&f, "count");
    if (count <= 0) { st_free(&f); return; }
    size_t nc = (size_t)count;
    float *z = get(&f, "z", nc), *t = get(&f, "t", nc), *dz = get(&f, "dz", nc);
    double want = get_f64(&f, "loss", 0);
    if (z && t && dz) {
        float *dz_ = alloc_fill(nc, GARBAGE), *dzq = alloc_fill(nc, 0.0f);
        double got = bce ? bce_logits_loss(z, t, nc) : sse_loss(z, t, nc);
        check_scalar(name, "loss", got, want);
        if (bce) bce_logits_backward(dz_, z, t, nc, 1.0f);
        else sse_backward(dz_, z, t, nc, 1.0f);
        check_array(name, "dz", dz_, dz, nc);
        /* scale = 1/denominator: 0.25 is exact in float */
        for (size_t i = 0; i < nc; i++) { dzq[i] = 0.25f * dz[i]; dz_[i] = GARBAGE; }
        if (bce) bce_logits_backward(dz_, z, t, nc, 0.25f);
        else sse_backward(dz_, z, t, nc, 0.25f);
        check_array(name, "dz*0.25", dz_, dzq, nc);
        free(dz_); free(dzq);
    }
    free(z); free(t); free(dz);
    st_free(&f);
}

/* ---- optimisers --------------------------------------------------------- */
enum { ADAM, RMSPROP, SGD };

static void optim_case(const char *name, int kind)
{
    st_file f;
    if (open_fixture(&f, name)) return;
    int count = meta_int(&f, "count"), steps = meta_int(&f, "steps");
    double lr = meta_double(&f, "lr");
    double b1 = 0, b2 = 0, eps = 0, alpha = 0, mom = 0;
    if (kind == ADAM) { b1 = meta_double(&f, "beta1"); b2 = meta_double(&f, "beta2"); eps = meta_double(&f, "eps"); }
    if (kind == RMSPROP) { alpha = meta_double(&f, "alpha"); eps = meta_double(&f, "eps"); }
    if (kind == SGD) mom = meta_double(&f, "momentum");
    /* weight decay: AdamW's decoupled form, RMSprop's and SGD's L2 */
    double wd = st_meta(&f, "weight_decay") ? meta_double(&f, "weight_decay") : 0;
    if (count <= 0 || steps <= 0) { st_free(&f); return; }
    size_t nc = (size_t)count;
    float *p = get(&f, "p0", nc), *p_nodecay = get(&f, "p0", nc);
    float *s1 = alloc_fill(nc, 0.0f), *s2 = alloc_fill(nc, 0.0f);
    float *d1 = alloc_fill(nc, 0.0f), *d2 = alloc_fill(nc, 0.0f);
    for (int t = 1; p && t <= steps; t++) {
        char gname[16], pname[16], what[16];
        snprintf(gname, sizeof gname, "g%d", t);
        snprintf(pname, sizeof pname, "p%d", t);
        snprintf(what, sizeof what, "p%d", t);
        float *g = get(&f, gname, nc), *want = get(&f, pname, nc);
        if (g && want) {
            if (kind == ADAM) adam_update(p, g, s1, s2, nc, lr, b1, b2, eps, t, wd);
            else if (kind == RMSPROP) rmsprop_update(p, g, s1, nc, lr, alpha, eps, wd);
            else sgd_update(p, g, s1, nc, lr, mom, wd);
            check_array(name, what, p, want, nc);
            if (wd != 0 && p_nodecay) {   /* the fixture tells decay from none */
                if (kind == ADAM) adam_update(p_nodecay, g, d1, d2, nc, lr, b1, b2, eps, t, 0);
                else if (kind == RMSPROP) rmsprop_update(p_nodecay, g, d1, nc, lr, alpha, eps, 0);
                else sgd_update(p_nodecay, g, d1, nc, lr, mom, 0);
                int differs = 0;
                for (size_t i = 0; i < nc; i++)
                    differs |= fabs((double)p_nodecay[i] - want[i]) > ATOL + RTOL * fabs((double)want[i]);
                CHECK(t == 1 || differs, "%s %s: the update without weight decay matches too", name, what);
            }
        }
        free(g); free(want);
    }
    free(p); free(p_nodecay); free(s1); free(s2); free(d1); free(d2);
    st_free(&f);
}

/* ---- the lesson's conv AE through the kernels ----------------------------
 * encoder: conv(1,16) relu pool | conv(16,8) relu pool | conv(8,8) relu pool(ceil)
 * decoder: conv(8,8) relu up | conv(8,8) relu up | conv(8,16,valid) relu up |
 *          conv(16,1) [sigmoid]                                            */
enum { OP_CONV, OP_RELU, OP_POOL, OP_POOLCEIL, OP_UP };
typedef struct { int op, cout, pad; const char *pname; } ae_op;

static const ae_op AE_OPS[] = {
    {OP_CONV, 16, 1, "encoder.0"}, {OP_RELU, 0, 0, 0}, {OP_POOL, 0, 0, 0},
    {OP_CONV, 8, 1, "encoder.3"},  {OP_RELU, 0, 0, 0}, {OP_POOL, 0, 0, 0},
    {OP_CONV, 8, 1, "encoder.6"},  {OP_RELU, 0, 0, 0}, {OP_POOLCEIL, 0, 0, 0},
    {OP_CONV, 8, 1, "decoder.0"},  {OP_RELU, 0, 0, 0}, {OP_UP, 0, 0, 0},
    {OP_CONV, 8, 1, "decoder.3"},  {OP_RELU, 0, 0, 0}, {OP_UP, 0, 0, 0},
    {OP_CONV, 16, 0, "decoder.6"}, {OP_RELU, 0, 0, 0}, {OP_UP, 0, 0, 0},
    {OP_CONV, 1, 1, "decoder.9"},
};
#define AE_NOPS ((int)(sizeof AE_OPS / sizeof AE_OPS[0]))
#define AE_LATENT 9 /* activation index of the encoder output */

static void convae_case(void)
{
    const char *name = "convae_steps";
    st_file f;
    if (open_fixture(&f, name)) return;
    const int n = 8;
    int c[AE_NOPS + 1], h[AE_NOPS + 1], w[AE_NOPS + 1];
    conv2d_shape_t cs[AE_NOPS];
    float *W[AE_NOPS] = {0}, *B[AE_NOPS] = {0}, *dW[AE_NOPS] = {0}, *dB[AE_NOPS] = {0};
    float *M[AE_NOPS][4] = {{0}};
    size_t nw[AE_NOPS] = {0}, wsmax = 0;
    float *act[AE_NOPS + 1], *grad[AE_NOPS + 1];
    int ok = 1;
    c[0] = 1; h[0] = 28; w[0] = 28;
    for (int i = 0; i < AE_NOPS; i++) {
        const ae_op *o = &AE_OPS[i];
        c[i + 1] = c[i]; h[i + 1] = h[i]; w[i + 1] = w[i];
        if (o->op == OP_CONV) {
            conv2d_shape_t s = {c[i], h[i], w[i], o->cout, 3, 1, o->pad, 0, 0};
            CHECK(conv2d_shape(&s) == 0, "convae op %d: empty conv output", i);
            cs[i] = s;
            c[i + 1] = s.cout; h[i + 1] = s.ho; w[i + 1] = s.wo;
            nw[i] = (size_t)s.cout * s.cin * 9;
            size_t ws = conv2d_workspace(&s, n);
            if (ws > wsmax) wsmax = ws;
            char key[64];
            snprintf(key, sizeof key, "init.%s.weight", o->pname);
            W[i] = get(&f, key, nw[i]);
            snprintf(key, sizeof key, "init.%s.bias", o->pname);
            B[i] = get(&f, key, s.cout);
            ok = ok && W[i] && B[i];
            dW[i] = alloc_fill(nw[i], 0.0f);
            dB[i] = alloc_fill(s.cout, 0.0f);
            for (int j = 0; j < 4; j++) M[i][j] = alloc_fill(j < 2 ? nw[i] : (size_t)s.cout, 0.0f);
        } else if (o->op == OP_POOL || o->op == OP_POOLCEIL) {
            h[i + 1] = pool2d_out(h[i], 2, o->op == OP_POOLCEIL);
            w[i + 1] = pool2d_out(w[i], 2, o->op == OP_POOLCEIL);
        } else if (o->op == OP_UP) {
            h[i + 1] *= 2; w[i + 1] *= 2;
        }
    }
    CHECK(c[AE_NOPS] == 1 && h[AE_NOPS] == 28 && w[AE_NOPS] == 28 &&
          c[AE_LATENT] == 8 && h[AE_LATENT] == 4 && w[AE_LATENT] == 4,
          "convae shapes: latent %dx%dx%d, output %dx%dx%d", c[AE_LATENT], h[AE_LATENT],
          w[AE_LATENT], c[AE_NOPS], h[AE_NOPS], w[AE_NOPS]);
    size_t sz[AE_NOPS + 1];
    for (int i = 0; i <= AE_NOPS; i++) {
        sz[i] = (size_t)n * c[i] * h[i] * w[i];
        act[i] = alloc_fill(sz[i], 0.0f);
        grad[i] = alloc_fill(sz[i], 0.0f);
    }
    float *ws = alloc_fill(wsmax, 0.0f);
    float *x = get(&f, "x", sz[0]), *y = get(&f, "y", sz[AE_NOPS]);
    float *latent = get(&f, "latent", sz[AE_LATENT]), *loss = get(&f, "loss", 3);
    ok = ok && x && y && latent && loss;
    if (ok) memcpy(act[0], x, sz[0] * sizeof *x);

    for (int step = 1; ok && step <= 3; step++) {
        for (int i = 0; i < AE_NOPS; i++) { /* forward */
            const ae_op *o = &AE_OPS[i];
            if (o->op == OP_CONV) conv2d_forward(act[i + 1], act[i], W[i], B[i], n, &cs[i], ws);
            else if (o->op == OP_RELU) relu_forward(act[i + 1], act[i], sz[i]);
            else if (o->op == OP_UP) upsample2d_forward(act[i + 1], act[i], n, c[i], h[i], w[i], 2);
            else maxpool2d_forward(act[i + 1], act[i], n, c[i], h[i], w[i], 2, o->op == OP_POOLCEIL);
        }
        float *z = act[AE_NOPS];
        size_t count = sz[AE_NOPS];
        double l = bce_logits_loss(z, x, count) / (double)count;
        char what[32];
        snprintf(what, sizeof what, "loss[%d]", step - 1);
        check_scalar(name, what, l, loss[step - 1]);
        bce_logits_backward(grad[AE_NOPS], z, x, count, 1.0f / (float)count);
        if (step == 1) {
            float *yy = alloc_fill(count, 0.0f);
            sigmoid_forward(yy, z, count);
            check_array(name, "y", yy, y, count);
            check_array(name, "latent", act[AE_LATENT], latent, sz[AE_LATENT]);
            free(yy);
        }
        for (int i = 0; i < AE_NOPS; i++)
            if (AE_OPS[i].op == OP_CONV) {
                memset(dW[i], 0, nw[i] * sizeof(float));
                memset(dB[i], 0, cs[i].cout * sizeof(float));
            }
        for (int i = AE_NOPS - 1; i >= 0; i--) { /* backward */
            const ae_op *o = &AE_OPS[i];
            float *dx = i ? grad[i] : NULL;
            if (o->op == OP_CONV)
                conv2d_backward(dx, dW[i], dB[i], grad[i + 1], act[i], W[i], n, &cs[i], ws);
            else if (o->op == OP_RELU) relu_backward(dx, grad[i + 1], act[i + 1], sz[i]);
            else if (o->op == OP_UP) upsample2d_backward(dx, grad[i + 1], n, c[i], h[i], w[i], 2);
            else maxpool2d_backward(dx, grad[i + 1], act[i], n, c[i], h[i], w[i], 2,
                                    o->op == OP_POOLCEIL);
        }
        for (int i = 0; i < AE_NOPS; i++) {
            const ae_op *o = &AE_OPS[i];
            if (o->op != OP_CONV) continue;
            char key[64];
            if (step == 1) {
                snprintf(key, sizeof key, "grad.%s.weight", o->pname);
                float *g = get(&f, key, nw[i]);
                check_array(name, key, dW[i], g, nw[i]);
                free(g);
                snprintf(key, sizeof key, "grad.%s.bias", o->pname);
                g = get(&f, key, cs[i].cout);
                check_array(name, key, dB[i], g, cs[i].cout);
                free(g);
            }
            adam_update(W[i], dW[i], M[i][0], M[i][1], nw[i], 1e-3, 0.9, 0.999, 1e-8, step, 0);
            adam_update(B[i], dB[i], M[i][2], M[i][3], cs[i].cout, 1e-3, 0.9, 0.999, 1e-8, step, 0);
        }
    }
    for (int i = 0; ok && i < AE_NOPS; i++) {
        const ae_op *o = &AE_OPS[i];
        if (o->op != OP_CONV) continue;
        char key[64];
        snprintf(key, sizeof key, "final.%s.weight", o->pname);
        float *g = get(&f, key, nw[i]);
        check_array(name, key, W[i], g, nw[i]);
        free(g);
        snprintf(key, sizeof key, "final.%s.bias", o->pname);
        g = get(&f, key, cs[i].cout);
        check_array(name, key, B[i], g, cs[i].cout);
        free(g);
    }
    for (int i = 0; i < AE_NOPS; i++) {
        free(W[i]); free(B[i]); free(dW[i]); free(dB[i]);
        for (int j = 0; j < 4; j++) free(M[i][j]);
    }
    for (int i = 0; i <= AE_NOPS; i++) { free(act[i]); free(grad[i]); }
    free(ws); free(x); free(y); free(latent); free(loss);
    st_free(&f);
}

int main(void)
{
    conv_case("layer_conv2d_same");
    conv_case("layer_conv2d_valid");
    conv_case("layer_conv2d_stride2");
    conv_case("layer_conv2d_1to16");
    conv_case("layer_conv2d_16to1");
    pool_case("layer_maxpool2d_floor", 0);
    pool_case("layer_maxpool2d_floor_odd", 0);
    pool_case("layer_maxpool2d_ceil", 0);
    pool_case("layer_maxpool2d_ties", 0);
    pool_case("layer_avgpool2d_floor", 1);
    pool_case("layer_avgpool2d_floor_odd", 1);
    pool_case("layer_avgpool2d_ceil", 1);
    upsample_case("layer_upsample2d");
    dense_case("layer_dense");
    act_case("layer_relu", RELU);
    act_case("layer_leaky_relu", LEAKY);
    act_case("layer_sigmoid", SIGMOID);
    act_case("layer_tanh", TANH);
    loss_case("loss_bce_logits", 1);
    loss_case("loss_sse", 0);
    optim_case("optim_adam", ADAM);
    optim_case("optim_rmsprop", RMSPROP);
    optim_case("optim_sgd", SGD);
    optim_case("optim_adamw", ADAM);
    optim_case("optim_rmsprop_wd", RMSPROP);
    optim_case("optim_sgd_wd", SGD);
    convae_case();
    TEST_DONE();
}
