/* The table of epoch metrics (aekit/epoch_metrics.h) that metrics.csv,
 * index.html, checkpoints and the result metadata read, metrics.csv
 * written and read back through it, and the public pictures API reporting
 * into ae_error. */
#define _POSIX_C_SOURCE 200809L
#include "aekit.h"
#include "aekit/epoch_metrics.h"
#include "aekit/pictures.h"
#include "test.h"
#include "temp_dir.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* The header aekit train has always written: tests, scripts and
 * spreadsheets read these names in this order (new columns come last:
 * lr, the learning rate, came with --lr-schedule). */
#define HEADER "epoch,train_loss,val_loss,val_mse,seconds,images_per_second,val_recon,val_kl,disc_accuracy,lr"

static void test_table(void)
{
    char header[512];
    ae_metrics_csv_header(header, sizeof header);
    CHECK(strcmp(header, HEADER) == 0, "header %s", header);

    int seen_csv[AE_EPOCH_METRICS] = { 0 };
    for (int k = 0; k < AE_EPOCH_METRICS; k++) {
        int c = ae_epoch_metrics[k].csv_column;
        CHECK(c >= 0 && c < AE_EPOCH_METRICS && !seen_csv[c]++, "%s: csv column %d", ae_epoch_metrics[k].name, c);
    }
    /* the getter reads the field of the same name */
    ae_progress p = { .train_loss = 1, .val_loss = 2, .val_mse = 3, .val_recon = 4, .val_kl = 5,
                      .disc_accuracy = 6, .seconds = 7, .images_per_second = 8, .lr = 9 };
    static const struct { ae_epoch_metric_id id; size_t offset; } fields[] = {
        { AE_EPOCH_TRAIN_LOSS, offsetof(ae_progress, train_loss) },
        { AE_EPOCH_VAL_LOSS, offsetof(ae_progress, val_loss) },
        { AE_EPOCH_VAL_MSE, offsetof(ae_progress, val_mse) },
        { AE_EPOCH_VAL_RECON, offsetof(ae_progress, val_recon) },
        { AE_EPOCH_VAL_KL, offsetof(ae_progress, val_kl) },
        { AE_EPOCH_DISC_ACCURACY, offsetof(ae_progress, disc_accuracy) },
        { AE_EPOCH_SECONDS, offsetof(ae_progress, seconds) },
        { AE_EPOCH_IMAGES_PER_SECOND, offsetof(ae_progress, images_per_second) },
        { AE_EPOCH_LR, offsetof(ae_progress, lr) },
    };
    CHECK(sizeof fields / sizeof fields[0] == AE_EPOCH_METRICS, "every metric listed");
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        double want;
        memcpy(&want, (const char *)&p + fields[i].offset, sizeof want);
        CHECK(ae_epoch_metric_get(fields[i].id, &p) == want, "%s", ae_epoch_metrics[fields[i].id].name);
        ae_progress q = { 0 };
        ae_epoch_metric_set(fields[i].id, &q, 42);
        double got;
        memcpy(&got, (const char *)&q + fields[i].offset, sizeof got);
        CHECK(got == 42, "set %s", ae_epoch_metrics[fields[i].id].name);
    }
}

static void test_csv(void)
{
    double v[AE_EPOCH_METRICS][2], back[AE_EPOCH_METRICS][2];
    double *cols[AE_EPOCH_METRICS], *cols_back[AE_EPOCH_METRICS];
    for (int k = 0; k < AE_EPOCH_METRICS; k++) {
        v[k][0] = 0.125 * (k + 1);
        v[k][1] = 0.5 + k;
        cols[k] = v[k];
        cols_back[k] = back[k];
    }
    v[AE_EPOCH_DISC_ACCURACY][0] = v[AE_EPOCH_DISC_ACCURACY][1] = NAN;   /* not an AAE */
    v[AE_EPOCH_LR][1] = 1.2345678e-5;     /* 6 significant digits, not %.6f's 0.000012 */
    ae_error err = {{0}};
    const char *path = at("metrics.csv");
    CHECK(ae_metrics_csv_write(path, cols, 2, &err) == 0, "write: %s", err.msg);
    uint8_t text[1024] = { 0 };
    read_all(path, text, sizeof text - 1);
    const char *want = HEADER "\n"
                       "1,0.125000,0.250000,0.375000,0.875000,1.000000,0.500000,0.625000,nan,1.125\n"
                       "2,0.500000,1.500000,2.500000,6.500000,7.500000,3.500000,4.500000,nan,1.23457e-05\n";
    CHECK(strcmp((const char *)text, want) == 0, "metrics.csv:\n%s", (const char *)text);

    int epochs = -1;
    CHECK(ae_metrics_csv_read(path, cols_back, 2, &epochs, &err) == 0 && epochs == 2, "read: %s", err.msg);
    for (int k = 0; k < AE_EPOCH_METRICS; k++)
        for (int e = 0; e < 2; e++)
            CHECK(back[k][e] == v[k][e] || (isnan(back[k][e]) && isnan(v[k][e])) ||
                  (k == AE_EPOCH_LR && back[k][e] == 1.23457e-05), "%s epoch %d",
                  ae_epoch_metrics[k].name, e + 1);
    CHECK(ae_metrics_csv_read(path, cols_back, 1, &epochs, &err) == -1 &&
          strstr(err.msg, "metrics.csv:3: more rows than the model's epochs"), "%s", err.msg);
    write_raw(path, "epoch,train_loss\n", 17);
    CHECK(ae_metrics_csv_read(path, cols_back, 2, &epochs, &err) == -1 &&
          strstr(err.msg, "metrics.csv:1: not the header ae_metrics_csv_write writes"), "%s", err.msg);
}

static void test_pictures_report_errors(void)
{
    ae_model *m = NULL;
    ae_error err = {{0}};
    CHECK(ae_model_from_preset(&m, "conv", 0, &err) == 0, "%s", err.msg);
    if (!m) return;
    double lo[2] = { -1, -1 }, hi[2] = { 1, 1 };
    CHECK(ae_picture_manifold(m, 4, lo, hi, 1, at("manifold.png"), &err) == -1 &&
          strstr(err.msg, "the manifold sweeps a 2-D latent"), "%s", err.msg);
    float images[2 * 28 * 28] = { 0 };
    CHECK(ae_picture_grid(at("grid.png"), images, 2, 2, 1, 28, 28, AE_PICTURE_SCALE, &err) == 0, "%s", err.msg);
    CHECK(ae_picture_grid(at("no-such-folder/grid.png"), images, 2, 2, 1, 28, 28, 1, &err) == -1 &&
          strstr(err.msg, "no-such-folder"), "%s", err.msg);

    /* images outside the data set are refused, not read past its end */
    uint8_t pixels[3 * 28 * 28] = { 0 };
    ae_dataset ds = { .n = 3, .c = 1, .h = 28, .w = 28, .pixels = pixels, .source = "three.idx" };
    static const struct { int first, n; } outside[] = { { 2, 2 }, { -1, 1 }, { 0, 0 }, { 0, 4 }, { 3, 1 } };
    for (size_t i = 0; i < sizeof outside / sizeof outside[0]; i++) {
        int first = outside[i].first, n = outside[i].n;
        float *x = ae_dataset_images(&ds, first, n, &err);
        CHECK(!x && strstr(err.msg, "three.idx: ") && strstr(err.msg, "the data set has 3 images"),
              "images %d + %d: %s", first, n, x ? "accepted" : err.msg);
        free(x);
        CHECK(ae_picture_rows(m, &ds, first, n, 0, NULL, 1, at("rows.png"), NULL, &err) == -1 &&
              strstr(err.msg, "the data set has 3 images"), "rows %d + %d: %s", first, n, err.msg);
    }
    float *x = ae_dataset_images(&ds, 1, 2, &err);
    CHECK(x != NULL, "images 1 + 2: %s", err.msg);
    free(x);
    float *codes = ae_dataset_codes(m, &ds, 4, 1, &err);
    CHECK(!codes && strstr(err.msg, "the data set has 3 images"), "4 codes of 3 images: %s", err.msg);
    free(codes);
    CHECK(ae_picture_codes(m, &ds, 4, 1, at("codes.png"), &err) == -1 &&
          strstr(err.msg, "the data set has 3 images"), "a codes picture of 4 of 3 images: %s", err.msg);
    CHECK(ae_picture_codes(m, &ds, 0, 1, at("codes.png"), &err) == -1 &&
          strstr(err.msg, "the data set has 3 images"), "a codes picture of 0 images: %s", err.msg);
    CHECK(ae_picture_codes(m, &ds, 3, 1, at("codes.png"), &err) == 0, "%s", err.msg);
    ae_model_free(m);
}

int main(void)
{
    if (temp_dir_open("epoch-metrics") != 0) return 1;
    test_table();
    test_csv();
    test_pictures_report_errors();
    remove_tree(root);
    TEST_DONE();
}
