/* aekit compare: the lesson's claim "autoencoders beat PCA", measured. The
 * model against a PCA with as many components as its latent size, fitted
 * on the same training images: reconstruction MSE, PSNR and SSIM of the
 * test images, and k-NN accuracy of test codes against training codes. */
#include "cli.h"
#include "aekit/pictures.h"
#include "aekit/analysis.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_K 10000   /* neighbours in the k-NN vote */

static const arg_flag compare_flags[] = {
    CLI_FLAGS_MODEL,
    { "data",        "NAME|DIR", "the data set the model was trained on",
      "data set name or folder; its training and test splits are used", 0, 0, 0 },
    { "limit",       "N",        "all", "measure on the first N test images only", 0, 1, INT_MAX },
    { "train-limit", "N",        "all",
      "fit the PCA on the first N training images, and use their codes as the neighbours", 0, 1, INT_MAX },
    { "k",           "K",        "5",   "neighbours that vote in the k-NN classification", 0, 1, MAX_K },
    ARGS_FLAG_THREADS,
    { "json",        NULL,       NULL,
      "print one JSON object {\"model\": {...}, \"pca\": {...}, \"latent\": N} instead", 0, 0, 0 },
    { NULL, NULL, NULL, NULL, 0, 0, 0 }
};

static void compare_more_help(FILE *out)
{
    fprintf(out, "For the model and for a PCA with as many components as the model's latent\n"
                 "size: MSE per pixel, PSNR (dB, from the mean MSE) and mean SSIM of the\n"
                 "reconstructed test images (PCA reconstructions clipped to [0, 1]), and the\n"
                 "share of test images whose code gets its label from a majority vote of the\n"
                 "K nearest training codes (Euclidean; null without labels). A VAE's codes are\n"
                 "its z_mean; a denoiser is fed clean images. Super-resolution models cannot\n"
                 "be compared (PCA reconstructs its own input). JSON keys of the inner\n"
                 "objects: mse, psnr, ssim, knn_accuracy.\n");
}

const arg_command compare_command = {
    .name = "compare",
    .summary = "the model against PCA at its code size: MSE, PSNR, SSIM, 5-NN accuracy",
    .usage = "aekit compare MODEL [--data NAME|DIR] [--limit N] [--train-limit N] [--json]",
    .positional = "MODEL",
    .flags = compare_flags,
    .examples = "  aekit compare runs/vae/model.safetensors --data mnist\n"
                "  aekit compare runs/conv/model.safetensors --limit 2000 --train-limit 10000 --json\n",
    .more_help = compare_more_help,
};

typedef struct {
    double mse, psnr, ssim, knn; /* knn NaN when the data has no labels */
} scores;

/* MSE, PSNR and SSIM of reconstructions y of the test images x. */
static void score_images(scores *s, const float *x, const float *y, const ae_dataset *test)
{
    size_t count = (size_t)test->n * test->c * test->h * test->w;
    s->mse = ae_metric_mse(x, y, count);
    s->psnr = ae_metric_psnr(s->mse);
    s->ssim = ae_metric_ssim(x, y, test->n, test->c, test->h, test->w);
}

static int score_codes(scores *s, const char *what, const float *train_codes, const ae_dataset *train,
                       const float *test_codes, const ae_dataset *test, int dim, int k, int threads)
{
    s->knn = NAN;
    if (!train->labels || !test->labels) return 0;
    ae_error err = {{0}};
    if (ae_knn_accuracy(train_codes, train->labels, train->n, test_codes, test->labels, test->n, dim, k,
                     threads, &s->knn, &err) != 0)
        return cli_fail(EXIT_ERROR, "compare", "%s codes: %s", what, err.msg);
    return 0;
}

/* JSON has no infinities or NaN (a perfect PSNR, no labels): null. */
static void json_number(const char *key, double v, const char *after)
{
    if (isfinite(v)) printf("\"%s\": %.9g%s", key, v, after);
    else             printf("\"%s\": null%s", key, after);
}

static void json_scores(const char *key, const scores *s, const char *after)
{
    printf("\"%s\": {", key);
    json_number("mse", s->mse, ", ");
    json_number("psnr", s->psnr, ", ");
    json_number("ssim", s->ssim, ", ");
    json_number("knn_accuracy", s->knn, "}");
    printf("%s", after);
}

static void table_row(const char *name, int width, const scores *s)
{
    char psnr[32], knn[32];
    if (isfinite(s->psnr)) snprintf(psnr, sizeof psnr, "%.2f dB", s->psnr);
    else                   snprintf(psnr, sizeof psnr, "%s", s->psnr > 0 ? "inf" : "-");
    if (isfinite(s->knn)) snprintf(knn, sizeof knn, "%.2f%%", 100.0 * s->knn);
    else                  snprintf(knn, sizeof knn, "-");
    printf("%-*s  %9.5f  %9s  %7.4f  %12s\n", width, name, s->mse, psnr, s->ssim, knn);
}

/* 1 when the model is better, -1 when PCA is, 0 for a tie or no number. */
static int better(double model, double pca, int higher_is_better)
{
    if (!isfinite(model) && !isfinite(pca)) return 0;
    if (model == pca) return 0;
    if (isnan(model)) return -1;
    if (isnan(pca)) return 1;
    return (model > pca) == (higher_is_better != 0) ? 1 : -1;
}

static void print_verdict(const scores *ms, const scores *ps, int k)
{
    char knn_name[32];
    snprintf(knn_name, sizeof knn_name, "%d-NN accuracy", k);
    const char *names[3] = { "MSE/PSNR", "SSIM", knn_name };
    int v[3] = { better(ms->mse, ps->mse, 0), better(ms->ssim, ps->ssim, 1),
                 isfinite(ms->knn) || isfinite(ps->knn) ? better(ms->knn, ps->knn, 1) : 2 };
    char won[3][96] = { "", "", "" }; /* model, PCA, tie */
    int counts[3] = { 0, 0, 0 }, measures = 0;
    for (int i = 0; i < 3; i++) {
        if (v[i] == 2) continue; /* no labels */
        measures++;
        int slot = v[i] == 1 ? 0 : v[i] == -1 ? 1 : 2;
        size_t used = strlen(won[slot]);
        snprintf(won[slot] + used, sizeof won[slot] - used, "%s%s", counts[slot] ? ", " : "", names[i]);
        counts[slot]++;
    }
    if (counts[0] == measures)
        printf("the autoencoder beats PCA on every measure (%s)\n", won[0]);
    else if (counts[1] == measures)
        printf("PCA beats the autoencoder on every measure (%s)\n", won[1]);
    else {
        const char *who[3] = { "the autoencoder wins on ", "PCA wins on ", "a tie on " };
        for (int i = 0, first = 1; i < 3; i++)
            if (counts[i]) {
                printf("%s%s%s", first ? "" : "; ", who[i], won[i]);
                first = 0;
            }
        printf("\n");
    }
}

static int all_finite(const float *x, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (!isfinite(x[i])) return 0;
    return 1;
}

/* PCA reconstructions are not bounded; the images are in [0, 1]. */
static void clip01(float *x, size_t count)
{
    for (size_t i = 0; i < count; i++)
        x[i] = x[i] < 0.0f ? 0.0f : x[i] > 1.0f ? 1.0f : x[i];
}

int cmd_compare(int argc, char **argv)
{
    args a;
    int rc = args_parse(&a, &compare_command, argc, argv);
    if (rc) return rc;
    if (a.help) { args_print_help(&compare_command, stdout); return EXIT_OK; }

    const char *path = a.positional[0], *data;
    int limit, train_limit, k, threads;
    if ((rc = args_string(&a, "data", NULL, &data)) ||
        (rc = args_int(&a, "limit", 0, &limit)) ||
        (rc = args_int(&a, "train-limit", 0, &train_limit)) ||
        (rc = args_int(&a, "k", 5, &k)) ||
        (rc = args_threads(&a, 0, &threads)))
        return rc;
    int json = args_given(&a, "json");
    double t_start = cli_now();

    ae_model *m = NULL;
    if ((rc = cli_load_model("compare", &a, path, &m))) return rc;
    if ((rc = cli_refuse_conditional("compare", path, m))) {
        ae_model_free(m);
        return rc;
    }
    int L = (int)ae_model_latent_size(m);
    if (ae_model_is_upscaler(m)) {
        ae_model_free(m);
        return cli_fail(EXIT_ERROR, "compare", "%s: a super-resolution model cannot be compared with "
                        "PCA (its output is not its input); compare works on models that "
                        "reconstruct their input", path);
    }

    ae_dataset *train = NULL, *test = NULL;
    cli_stage("compare", "reading the data set");
    if ((rc = cli_data_for("compare", data, m, path, NULL, 0, &data)) ||
        (rc = cli_open_test_set("compare", data, limit, m, &test)) ||
        (rc = cli_open_data("compare", data, AE_SPLIT_TRAIN, train_limit, m, NULL, &train))) {
        if (test) ae_dataset_free(test);
        ae_model_free(m);
        return rc;
    }
    int d = test->c * test->h * test->w;
    size_t test_count = (size_t)test->n * d;
    int labelled = train->labels && test->labels;
    if (L > d)
        rc = cli_fail(EXIT_ERROR, "compare", "%s: the latent has %d values, more than the %d pixel "
                      "values of an image (the most components a PCA has)", path, L, d);
    else if (train->n < 2)
        rc = cli_fail(EXIT_ERROR, "compare", "--data %s: PCA needs at least 2 training images, got %d",
                      data, train->n);
    else if (labelled && k > train->n)
        rc = cli_fail(EXIT_USAGE, "compare", "--k %d: more neighbours than the %d training images",
                      k, train->n);
    ae_error why = {{0}};
    if (rc == 0 && ae_pca_fit_check(train->n, d, L, &why) != 0) /* before any image is encoded */
        rc = cli_fail(EXIT_ERROR, "compare", "--data %s: a PCA of the latent's %d values: %s", data, L, why.msg);

    float *x_train = NULL, *x_test = NULL, *recon = NULL;
    float *ae_train = NULL, *ae_test = NULL, *pca_train = NULL, *pca_test = NULL;
    ae_pca p = { 0 };
    scores ms = { 0 }, ps = { 0 };
    ae_error err = {{0}};
    double t_pca = 0, t_model = 0, t_measure = 0, t0;

    if (rc == 0 && (!(x_train = cli_images("compare", train, 0, train->n)) ||
                    !(x_test = cli_images("compare", test, 0, test->n))))
        rc = EXIT_ERROR;
    if (rc == 0 && (!(recon = malloc(test_count * sizeof *recon)) ||
                    !(ae_train = malloc((size_t)train->n * L * sizeof *ae_train)) ||
                    !(ae_test = malloc((size_t)test->n * L * sizeof *ae_test)) ||
                    !(pca_train = malloc((size_t)train->n * L * sizeof *pca_train)) ||
                    !(pca_test = malloc((size_t)test->n * L * sizeof *pca_test))))
        rc = cli_fail(EXIT_ERROR, "compare", "out of memory for %d training and %d test images",
                      train->n, test->n);

    /* the model: codes of both sets, reconstructions of the test set (its
     * input is the clean image: compare measures reconstruction) */
    char ntrain[32], ntest[32];
    cli_count(train->n, ntrain, sizeof ntrain);
    cli_count(test->n, ntest, sizeof ntest);
    cli_stage("compare", "encoding %s training and %s test images with the model", ntrain, ntest);
    t0 = cli_now();
    if (rc == 0 && (ae_model_encode(m, NULL, x_train, train->n, ae_train, threads, &err) != 0 ||
                    ae_model_encode(m, NULL, x_test, test->n, ae_test, threads, &err) != 0 ||
                    ae_model_decode(m, NULL, ae_test, test->n, recon, threads, &err) != 0))
        rc = cli_fail(EXIT_ERROR, "compare", "%s", err.msg);
    t_model = cli_now() - t0;
    /* a NaN code or pixel would make every measure a made-up number */
    if (rc == 0 && (!all_finite(ae_train, (size_t)train->n * L) || !all_finite(ae_test, (size_t)test->n * L)))
        rc = cli_fail_nonfinite("compare", path, m, "its codes are not finite");
    else if (rc == 0 && !all_finite(recon, test_count))
        rc = cli_fail_nonfinite("compare", path, m, "its reconstructions are not finite");
    cli_stage("compare", "measuring the model's reconstructions and %d-NN accuracy", k);
    t0 = cli_now();
    if (rc == 0) {
        score_images(&ms, x_test, recon, test);
        rc = score_codes(&ms, "model", ae_train, train, ae_test, test, L, k, threads);
        if (rc == 0 && (!isfinite(ms.mse) || !isfinite(ms.ssim)))
            rc = cli_fail_nonfinite("compare", path, m, "its MSE or SSIM is not finite");
    }
    t_measure += cli_now() - t0;

    /* PCA with L components, fitted on the same training images */
    if (rc == 0) args_print_notes();
    cli_stage("compare", "fitting a PCA of %d component%s on %s training images", L, L == 1 ? "" : "s", ntrain);
    t0 = cli_now();
    if (rc == 0 && ae_pca_fit(&p, x_train, train->n, d, L, threads, &err) != 0)
        rc = cli_fail(EXIT_ERROR, "compare", "PCA: %s", err.msg);
    if (rc == 0) {
        ae_pca_encode(&p, x_train, train->n, pca_train);
        ae_pca_encode(&p, x_test, test->n, pca_test);
        ae_pca_decode(&p, pca_test, test->n, recon);
        clip01(recon, test_count);
    }
    t_pca = cli_now() - t0;
    cli_stage("compare", "measuring the PCA's reconstructions and %d-NN accuracy", k);
    t0 = cli_now();
    if (rc == 0) {
        score_images(&ps, x_test, recon, test);
        rc = score_codes(&ps, "PCA", pca_train, train, pca_test, test, L, k, threads);
    }
    t_measure += cli_now() - t0;
    cli_stages_done();

    if (rc == 0 && json) {
        printf("{");
        json_scores("model", &ms, ", ");
        json_scores("pca", &ps, ", ");
        printf("\"latent\": %d}\n", L);
    } else if (rc == 0) {
        const char *label = ae_model_meta(m, "aekit.train.model");
        const char *task = ae_model_meta(m, "aekit.train.task");
        char name[128], pca_name[64];
        snprintf(name, sizeof name, "%s (latent %d)", label && *label ? cli_text(label) : "model", L);
        snprintf(pca_name, sizeof pca_name, "PCA (%d component%s)", L, L == 1 ? "" : "s");
        int width = (int)(strlen(name) > strlen(pca_name) ? strlen(name) : strlen(pca_name));
        printf("%s on %s: %s test images; %s training images fit the PCA and are the "
               "%d-NN references%s\n", cli_text(path), cli_text(data), ntest, ntrain, k,
               task && strcmp(task, "denoise") == 0 ? "; the denoiser gets clean inputs" : "");
        char knn_head[32];
        snprintf(knn_head, sizeof knn_head, "%d-NN accuracy", k);
        printf("%-*s  %9s  %9s  %7s  %12s\n", width, "", "mse", "psnr", "ssim", knn_head);
        table_row(name, width, &ms);
        table_row(pca_name, width, &ps);
        if (!labelled) printf("(no %d-NN accuracy: %s has no labels)\n", k, cli_text(data));
        print_verdict(&ms, &ps, k);
        printf("time: %.1f s (model %.1f s, PCA fit and projections %.1f s, measures %.1f s)\n",
               cli_now() - t_start, t_model, t_pca, t_measure);
    }
    free(x_train);
    free(x_test);
    free(recon);
    free(ae_train);
    free(ae_test);
    free(pca_train);
    free(pca_test);
    ae_pca_free(&p);
    ae_dataset_free(train);
    ae_dataset_free(test);
    ae_model_free(m);
    cli_stages_done();
    return rc;
}
