/* PyTorch parity of the lesson's newer models (issue 3).
 *
 * Fixtures in tests/fixtures (written by tests/gen_fixtures.py, see
 * docs/parity.md):
 *  - layer_sample: the VAE sampling layer (mu then LOG-VARIANCE):
 *    sample_forward, sample_kl, sample_backward, with eps and with eps == NULL;
 *  - vae_sse, vae_bce_sum: a small dense VAE built from its text description
 *    (VAE_TEXT below, the same string as in the fixture's metadata), at
 *    PyTorch's init weights, through the deterministic pass (z = mu): the
 *    loss (mean over images of the reconstruction summed over pixels + KL)
 *    and every parameter gradient; vae_sse_beta4: the same with the KL
 *    weighted by beta = 4 (a beta-VAE, option beta);
 *  - cvae_sse: a small conditional VAE (CVAE_TEXT below), the labels
 *    one-hot after flatten and before the decoder: forward, loss and every
 *    parameter gradient, as vae_sse;
 *  - sr_steps: the `sr` preset (14x14 in, 28x28 out): ae_model_make_input,
 *    the forward output and every parameter gradient of the mean BCE.
 * Arrays must match elementwise to |aekit - torch| <= RTOL |torch| + atol.
 * A missing fixture is a failure.                                         */
#include <stdint.h>
#include <string.h>

#include "test.h"
#include "parity.h"
#include "aekit.h"
#include "format/safetensors.h"
#include "layers/layers.h"
#include "model/model.h"

#define RTOL 1e-4
#define LAYER_ATOL 1e-5   /* as test_parity_layers.c */
#define MODEL_ATOL 1e-6   /* gradients and outputs of the models */
#define GARBAGE 1234.5f

static double get_f64(const st_file *f, const char *name)
{
    const st_tensor *t = st_find(f, name);
    CHECK(t && t->dtype == ST_F64 && t->numel == 1, "%s: no F64 [1] tensor %s", f->path, name);
    if (!(t && t->dtype == ST_F64 && t->numel == 1)) return NAN;
    double d;
    memcpy(&d, f->data + t->begin, sizeof d);
    return d;
}

/* Elementwise |got - want| <= RTOL |want| + atol; on failure names the worst. */
static void check_array(const char *fx, const char *what, const float *got,
                        const float *want, size_t n, double atol)
{
    if (!got || !want) return; /* the load already failed */
    size_t nbad = 0, worst = 0;
    double worst_ratio = -1, max_abs = 0, max_rel = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - (double)want[i]);
        double ratio = d / (atol + RTOL * fabs((double)want[i]));
        if (!(ratio <= 1.0)) nbad++;
        if (!(ratio <= worst_ratio)) { worst_ratio = ratio; worst = i; }
        if (!(d <= max_abs)) max_abs = d;
        if (want[i] != 0.0f && !(d / fabs((double)want[i]) <= max_rel)) max_rel = d / fabs((double)want[i]);
    }
    CHECK(nbad == 0,
          "%s %s: %zu of %zu elements out of tolerance; worst [%zu] got %.9g want %.9g "
          "(|diff| %.3g = %.3gx tolerance)",
          fx, what, nbad, n, worst, got[worst], want[worst],
          fabs((double)got[worst] - (double)want[worst]), worst_ratio);
    printf("  %-16s %-28s n=%-5zu max |diff| %.2e, max rel %.2e, worst %.3f of tolerance\n",
           fx, what, n, max_abs, max_rel, worst_ratio);
}

static void check_scalar(const char *fx, const char *what, double got, double want)
{
    CHECK(fabs(got - want) <= RTOL * fabs(want), "%s %s: got %.12g want %.12g", fx, what, got, want);
    printf("  %-16s %-28s got %.12g want %.12g (rel %.2e)\n", fx, what, got, want,
           fabs(got - want) / fabs(want));
}

/* ---- the sampling layer ---------------------------------------------------- */
static void sample_case(void)
{
    const char *name = "layer_sample";
    st_file f;
    if (open_fixture(&f, name)) return;
    int n = meta_int(&f, "n"), L = meta_int(&f, "L");
    const char *ks = st_meta(&f, "kl_scale");
    CHECK(ks != NULL, "%s: no kl_scale in metadata", name);
    float kl_scale = ks ? (float)atof(ks) : 0.0f;
    if (n <= 0 || L <= 0 || !ks) { st_free(&f); return; }
    size_t nh = (size_t)n * 2 * L, nz = (size_t)n * L;
    float *h = get(&f, "h", nh), *eps = get(&f, "eps", nz), *z = get(&f, "z", nz);
    float *dz = get(&f, "dz", nz), *dh = get(&f, "dh", nh), *dh_mean = get(&f, "dh_mean", nh);
    double kl = get_f64(&f, "kl");
    if (h && eps && z && dz && dh && dh_mean) {
        float *z_ = alloc_fill(nz, GARBAGE), *dh_ = alloc_fill(nh, GARBAGE);
        sample_forward(z_, h, eps, n, L);
        check_array(name, "z", z_, z, nz, LAYER_ATOL);
        check_scalar(name, "kl", sample_kl(h, n, L), kl);
        sample_backward(dh_, dz, h, eps, n, L, kl_scale);
        check_array(name, "dh", dh_, dh, nh, LAYER_ATOL);

        /* one image per call: the same results, KL adds up */
        double kl_sum = 0;
        for (size_t i = 0; i < nz; i++) z_[i] = GARBAGE;
        for (size_t i = 0; i < nh; i++) dh_[i] = GARBAGE;
        for (int i = 0; i < n; i++) {
            sample_forward(z_ + (size_t)i * L, h + (size_t)i * 2 * L, eps + (size_t)i * L, 1, L);
            sample_backward(dh_ + (size_t)i * 2 * L, dz + (size_t)i * L, h + (size_t)i * 2 * L,
                            eps + (size_t)i * L, 1, L, kl_scale);
            kl_sum += sample_kl(h + (size_t)i * 2 * L, 1, L);
        }
        check_array(name, "z(chunk)", z_, z, nz, LAYER_ATOL);
        check_array(name, "dh(chunk)", dh_, dh, nh, LAYER_ATOL);
        check_scalar(name, "kl(chunk sum)", kl_sum, kl);

        /* eps == NULL: z is exactly mu; backward is the eps = 0 gradient */
        for (size_t i = 0; i < nz; i++) z_[i] = GARBAGE;
        for (size_t i = 0; i < nh; i++) dh_[i] = GARBAGE;
        sample_forward(z_, h, NULL, n, L);
        int exact = 1;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < L; j++)
                if (memcmp(&z_[(size_t)i * L + j], &h[(size_t)i * 2 * L + j], sizeof(float))) exact = 0;
        CHECK(exact, "%s: sample_forward(eps = NULL) is not exactly mu", name);
        printf("  %-16s %-28s %s\n", name, "z(eps=NULL) == mu", exact ? "exact" : "DIFFERS");
        sample_backward(dh_, dz, h, NULL, n, L, kl_scale);
        check_array(name, "dh(eps=NULL)", dh_, dh_mean, nh, LAYER_ATOL);
        free(z_); free(dh_);
    }
    free(h); free(eps); free(z); free(dz); free(dh); free(dh_mean);
    st_free(&f);
}

/* ---- whole models ------------------------------------------------------------ */

/* Loads "<prefix><name>" for every parameter tensor of m into dst (nparams
 * floats), checking each fixture tensor has aekit's (PyTorch's) shape. */
static int load_params(const st_file *f, const ae_model *m, const char *prefix, float *dst)
{
    ae_error err;
    int rc = 0;
    for (int i = 0; i < m->nlayers; i++) {
        const ae_layer *l = &m->layers[i];
        for (int b = 0; b < 2; b++) {
            size_t count = b ? l->b_count : l->w_count, off = b ? l->b_off : l->w_off;
            if (!count) continue;
            char name[64], full[96];
            model_tensor_name(l, b ? "bias" : "weight", name, sizeof name);
            snprintf(full, sizeof full, "%s%s", prefix, name);
            const st_tensor *t = st_find(f, full);
            int shape_ok = t != NULL;
            if (t && !b) {
                shape_ok = t->ndim == l->w_ndim;
                for (int d = 0; shape_ok && d < t->ndim; d++) shape_ok = t->shape[d] == l->w_shape[d];
            }
            CHECK(shape_ok, "%s: %s missing or not shaped as aekit's layer %d", f->path, full, i);
            if (st_get_f32(f, full, dst + off, count, &err)) { CHECK(0, "%s", err.msg); rc = -1; }
        }
    }
    /* and the fixture holds no parameter aekit lacks */
    int nfix = 0, nmodel = 0;
    for (int i = 0; i < f->count; i++)
        if (strncmp(f->tensors[i].name, prefix, strlen(prefix)) == 0) nfix++;
    for (int i = 0; i < m->nlayers; i++) nmodel += (m->layers[i].w_count > 0) + (m->layers[i].b_count > 0);
    CHECK(nfix == nmodel, "%s: %d %s* tensors, the model has %d", f->path, nfix, prefix, nmodel);
    return rc;
}

/* Compares every parameter gradient of thread 0 with "grad.<name>". */
static void check_grads(const char *fx, const st_file *f, ae_model *m, ae_workspace *ws, double atol)
{
    float *expect = alloc_fill(m->nparams, 0.0f);
    if (load_params(f, m, "grad.", expect) == 0) {
        const float *g = work_grad(ws, 0);
        for (int i = 0; i < m->nlayers; i++) {
            const ae_layer *l = &m->layers[i];
            char name[64], what[80];
            if (l->w_count) {
                model_tensor_name(l, "weight", name, sizeof name);
                snprintf(what, sizeof what, "grad.%s", name);
                check_array(fx, what, g + l->w_off, expect + l->w_off, l->w_count, atol);
            }
            if (l->b_count) {
                model_tensor_name(l, "bias", name, sizeof name);
                snprintf(what, sizeof what, "grad.%s", name);
                check_array(fx, what, g + l->b_off, expect + l->b_off, l->b_count, atol);
            }
        }
    }
    free(expect);
}

/* The same description as VAE_TEXT in tests/gen_fixtures.py. */
static const char VAE_TEXT[] =
    "input 1 8 8\n"
    "loss %s\n"
    "encoder\n"
    "flatten\n"
    "dense 16\n"
    "relu\n"
    "dense 4\n"
    "sample\n"
    "decoder\n"
    "dense 16\n"
    "relu\n"
    "dense 64\n"
    "reshape 1 8 8\n"
    "sigmoid\n";

/* A small VAE built from `text` (the fixture's "model" metadata), at
 * PyTorch's init weights: the deterministic forward through the public
 * calls, the training pass's loss and every gradient, and an evaluation
 * pass's loss, with the KL weighted by beta. A conditional model gets the
 * fixture's labels (U8 [n]). */
static void small_vae_case(const char *name, const char *text, ae_loss want_loss, size_t want_params,
                           double beta)
{
    st_file f;
    if (open_fixture(&f, name)) return;
    const char *fx_text = st_meta(&f, "model");
    CHECK(fx_text && strcmp(fx_text, text) == 0, "%s: the fixture's model description differs "
          "from the test's:\n%s", name, fx_text ? fx_text : "(none)");
    ae_error err;
    ae_model *m;
    if (ae_model_from_text(&m, text, name, 0, &err)) { CHECK(0, "%s", err.msg); st_free(&f); return; }
    int n = meta_int(&f, "n");
    size_t L = ae_model_latent_size(m), px = 64;
    CHECK(ae_model_is_variational(m) && L == 2 && ae_model_loss(m) == want_loss,
          "%s: variational %d, latent %zu, loss %d", name, ae_model_is_variational(m), L,
          (int)ae_model_loss(m));
    CHECK(m->nparams == want_params, "%s: params %zu, want %zu", name, m->nparams, want_params);
    CHECK(model_loss_denominator(m, n) == n, "%s: loss denominator %g for %d images", name,
          model_loss_denominator(m, n), n);
    int classes = ae_model_class_count(m), labels_ok = 1, labels[16];
    if (classes) {
        const st_tensor *lt = st_find(&f, "labels");
        labels_ok = lt && lt->dtype == ST_U8 && lt->numel == (size_t)n && n <= 16;
        CHECK(labels_ok, "%s: no U8 [%d] labels (at most 16)", name, n);
        for (int i = 0; labels_ok && i < n; i++) labels[i] = f.data[lt->begin + (size_t)i];
    }
    const int *lab = classes ? labels : NULL;
    float *x = get(&f, "x", n * px), *h = get(&f, "h", n * 2 * L), *y = get(&f, "y", n * px);
    if (n > 0 && labels_ok && x && h && y && load_params(&f, m, "init.", m->params) == 0) {
        /* deterministic forward through the public API */
        float *y_ = alloc_fill(n * px, GARBAGE), *codes = alloc_fill(n * L, GARBAGE);
        float *mu = alloc_fill(n * L, 0.0f);
        CHECK((lab ? ae_model_reconstruct_labels(m, NULL, x, lab, n, y_, 1, &err)
                   : ae_model_reconstruct(m, NULL, x, n, y_, 1, &err)) == 0, "%s", err.msg);
        check_array(name, "y (reconstruct, z = mu)", y_, y, n * px, MODEL_ATOL);
        CHECK((lab ? ae_model_encode_labels(m, NULL, x, lab, n, codes, 1, &err)
                   : ae_model_encode(m, NULL, x, n, codes, 1, &err)) == 0, "%s", err.msg);
        for (int i = 0; i < n; i++) memcpy(mu + (size_t)i * L, h + (size_t)i * 2 * L, L * sizeof(float));
        check_array(name, "encode = mu", codes, mu, n * L, MODEL_ATOL);

        /* the training pass: loss = (recon + beta kl) / n, and its gradients */
        const char *fx_beta = st_meta(&f, "beta");
        CHECK(fx_beta ? atof(fx_beta) == beta : beta == 1, "%s: the fixture's beta is %s, the test's %g", name,
              fx_beta ? fx_beta : "1 (none given)", beta);
        ae_workspace *ws = NULL;
        CHECK(workspace_new(&ws, m, n, 1, 1, &err) == 0, "%s", err.msg);
        for (int i = 0; lab && i < n; i++) model_set_label(m, ws, 0, i, lab[i]);
        float scale = 1.0f / (float)n;
        double recon, kl;
        double total = model_recon_chunk(m, ws, 0, x, x, n, scale, beta, 1, PASS_MEAN, &recon, &kl);
        check_array(name, "h (mean, log-variance)", model_activation(m, ws, 0, m->sample_layer - 1, n),
                    h, n * 2 * L, MODEL_ATOL);
        check_scalar(name, "recon (sum)", recon, get_f64(&f, "recon"));
        check_scalar(name, "kl (sum)", kl, get_f64(&f, "kl"));
        check_scalar(name, "loss", total * scale, get_f64(&f, "loss"));
        check_grads(name, &f, m, ws, MODEL_ATOL);

        /* an evaluation pass gives the same loss */
        double recon2, kl2;
        double total2 = model_recon_chunk(m, ws, 0, x, x, n, scale, beta, 0, PASS_MEAN, &recon2, &kl2);
        CHECK(total2 == total && recon2 == recon && kl2 == kl,
              "%s: evaluation pass %.12g (recon %.12g kl %.12g) != training pass %.12g", name,
              total2, recon2, kl2, total);
        ae_workspace_free(ws);
        free(y_); free(codes); free(mu);
    }
    free(x); free(h); free(y);
    ae_model_free(m);
    st_free(&f);
}

static void vae_case(const char *name, const char *loss, ae_loss want_loss, double beta)
{
    char text[512];
    snprintf(text, sizeof text, VAE_TEXT, loss);
    small_vae_case(name, text, want_loss, 64 * 16 + 16 + 16 * 4 + 4 + 2 * 16 + 16 + 16 * 64 + 64, beta);
}

/* The same description as CVAE_TEXT in tests/gen_fixtures.py. */
static const char CVAE_TEXT[] =
    "param classes 3\n"
    "input 1 8 8\n"
    "loss sse\n"
    "encoder\n"
    "flatten\n"
    "condition\n"
    "dense 16\n"
    "relu\n"
    "dense 4\n"
    "sample\n"
    "decoder\n"
    "condition\n"
    "dense 16\n"
    "relu\n"
    "dense 64\n"
    "reshape 1 8 8\n"
    "sigmoid\n";

static void sr_case(void)
{
    const char *name = "sr_steps";
    st_file f;
    if (open_fixture(&f, name)) return;
    ae_error err;
    ae_model *m;
    if (ae_model_from_preset(&m, "sr", 0, &err)) { CHECK(0, "%s", err.msg); st_free(&f); return; }
    int ic, ih, iw, oc, oh, ow;
    ae_model_input_shape(m, &ic, &ih, &iw);
    ae_model_output_shape(m, &oc, &oh, &ow);
    CHECK(ic == 1 && ih == 14 && iw == 14 && oc == 1 && oh == 28 && ow == 28,
          "sr shapes: in %dx%dx%d out %dx%dx%d", ic, ih, iw, oc, oh, ow);
    CHECK(ae_model_loss(m) == AE_LOSS_BCE && model_logits_layer(m) >= 0, "sr: loss %d", (int)ae_model_loss(m));
    int n = meta_int(&f, "n");
    size_t in_px = (size_t)ic * ih * iw, out_px = (size_t)oc * oh * ow;
    CHECK(model_loss_denominator(m, n) == (double)n * out_px, "sr: loss denominator %g",
          model_loss_denominator(m, n));
    float *target = get(&f, "target", n * out_px), *input = get(&f, "input", n * in_px);
    float *y = get(&f, "y", n * out_px);
    if (n > 0 && target && input && y && load_params(&f, m, "init.", m->params) == 0) {
        float *in_ = alloc_fill(n * in_px, GARBAGE), *y_ = alloc_fill(n * out_px, GARBAGE);
        CHECK(ae_model_make_input(m, target, n, in_, &err) == 0, "%s", err.msg);
        check_array(name, "input (make_input)", in_, input, n * in_px, MODEL_ATOL);
        CHECK(ae_model_reconstruct(m, NULL, input, n, y_, 1, &err) == 0, "%s", err.msg);
        check_array(name, "y (reconstruct)", y_, y, n * out_px, MODEL_ATOL);

        ae_workspace *ws = NULL;
        CHECK(workspace_new(&ws, m, n, 1, 1, &err) == 0, "%s", err.msg);
        float scale = (float)(1.0 / model_loss_denominator(m, n));
        double recon, kl;
        double total = model_recon_chunk(m, ws, 0, input, target, n, scale, 1.0, 1, PASS_MEAN, &recon, &kl);
        CHECK(kl == 0, "sr: kl %g", kl);
        check_scalar(name, "loss (mean BCE)", total / model_loss_denominator(m, n), get_f64(&f, "loss"));
        /* the mean-BCE gradients here are ~1e-4..1e-1: a 1e-8 floor keeps
         * the check relative for all but the tiniest elements */
        check_grads(name, &f, m, ws, 1e-8);
        ae_workspace_free(ws);
        free(in_); free(y_);
    }
    free(target); free(input); free(y);
    ae_model_free(m);
    st_free(&f);
}

int main(void)
{
    sample_case();
    vae_case("vae_sse", "sse", AE_LOSS_SSE, 1);
    vae_case("vae_bce_sum", "bce_sum", AE_LOSS_BCE_SUM, 1);
    vae_case("vae_sse_beta4", "sse", AE_LOSS_SSE, 4);
    sr_case();
    /* the VAE's dense layers after a condition read 3 more inputs */
    small_vae_case("cvae_sse", CVAE_TEXT, AE_LOSS_SSE, 67 * 16 + 16 + 16 * 4 + 4 + 5 * 16 + 16 + 16 * 64 + 64, 1);
    TEST_DONE();
}
