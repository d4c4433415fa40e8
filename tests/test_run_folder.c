/* The run-folder API (aekit/run_folder.h): the file table, a stop before
 * the pictures, and index.html's metrics table following the model kind
 * (aekit/epoch_metrics.h). */
#define _POSIX_C_SOURCE 200809L
#include "aekit.h"
#include "aekit/run_folder.h"
#include "test.h"
#include "temp_dir.h"

#include <stdint.h>
#include <string.h>

static int stop_now(void *user)
{
    (*(int *)user)++;
    return 1;
}

static int stop_second(void *user)
{
    return ++*(int *)user > 1;
}

/* A super-resolution model's rows caption says "noisy" only when there is
 * noise: a noise of kind none is none. */
static void upscaler_caption(void)
{
    ae_model *m = NULL;
    ae_error err = {{0}};
    CHECK(ae_model_from_preset(&m, "sr", 0, &err) == 0, "%s", err.msg);
    if (!m) return;
    uint8_t pixels[3 * 28 * 28] = { 0 };
    ae_dataset test = { .n = 3, .c = 1, .h = 28, .w = 28, .pixels = pixels, .source = "three" };
    ae_noise none = { .kind = AE_NOISE_NONE }, gaussian = { .kind = AE_NOISE_GAUSSIAN, .std = 0.5f };
    const ae_noise *noises[] = { NULL, &none, &gaussian };
    for (int i = 0; i < 3; i++) {
        ae_run_picture pics[AE_RUN_PICTURES_MAX];
        int npics = -1, asked = 0;
        int rc = ae_run_pictures(m, &test, noises[i], 0, 1, root, stop_second, &asked, pics, &npics, &err);
        CHECK(rc == 1 && npics == 1, "rows only: rc %d, npics %d: %s", rc, npics, err.msg);
        if (npics != 1) continue;
        int noisy = strstr(pics[0].caption, "low-res noisy input") != NULL;
        CHECK(noisy == (i == 2) && strstr(pics[0].caption, "low-res"), "noise %d: %s", i, pics[0].caption);
    }
    ae_model_free(m);
}

int main(void)
{
    if (temp_dir_open("run-folder") != 0) return 1;
    for (int i = 0; i < AE_RUN_FILES; i++)
        for (int j = 0; j < i; j++)
            CHECK(strcmp(ae_run_files[i], ae_run_files[j]) != 0, "%s twice", ae_run_files[i]);
    char path[256];
    ae_run_path(path, sizeof path, "runs/x/", AE_RUN_METRICS);
    CHECK(strcmp(path, "runs/x/metrics.csv") == 0, "%s", path);
    ae_run_path(path, sizeof path, "runs/x", AE_RUN_INDEX);
    CHECK(strcmp(path, "runs/x/index.html") == 0, "%s", path);

    ae_model *m = NULL;
    ae_error err = {{0}};
    CHECK(ae_model_from_preset(&m, "conv", 0, &err) == 0, "%s", err.msg);
    if (!m) TEST_DONE();
    CHECK(strcmp(ae_run_loss_label(m), "loss (BCE per pixel)") == 0, "%s", ae_run_loss_label(m));

    /* a stop before the first picture: nothing drawn, no data read */
    ae_dataset empty = { .n = 0, .c = 1, .h = 28, .w = 28 };
    ae_run_picture pics[AE_RUN_PICTURES_MAX];
    int npics = -1, asked = 0;
    CHECK(ae_run_pictures(m, &empty, NULL, 0, 1, root, stop_now, &asked, pics, &npics, &err) == 1 &&
          npics == 0 && asked == 1, "stopped: npics %d, asked %d", npics, asked);

    /* index.html: a plain autoencoder's table has no VAE or AAE columns */
    double v[AE_EPOCH_METRICS][1];
    double *metric[AE_EPOCH_METRICS];
    for (int k = 0; k < AE_EPOCH_METRICS; k++) { v[k][0] = 0.5; metric[k] = v[k]; }
    ae_run_report r = { .dir = root, .label = "conv", .data = "mnist", .threads = 2,
                        .loss_label = ae_run_loss_label(m), .metric = metric, .epochs = 1 };
    CHECK(ae_run_index_write(m, &r, &err) == 0, "%s", err.msg);
    uint8_t page[65536] = { 0 };
    read_all(at("index.html"), page, sizeof page - 1);
    const char *text = (const char *)page;
    CHECK(strstr(text, "<tr><th scope=\"col\">epoch</th><th scope=\"col\">train_loss</th><th scope=\"col\">"
                       "val_loss</th><th scope=\"col\">val_mse</th><th scope=\"col\">seconds</th><th "
                       "scope=\"col\">images_per_second</th></tr>") != NULL, "metrics table header");
    CHECK(!strstr(text, "val_kl") && !strstr(text, "disc_accuracy"), "no VAE or AAE columns");
    CHECK(strstr(text, "<td>1</td><td>0.500000</td>") != NULL, "row of epoch 1");
    r.dir = at("no-such-folder");
    CHECK(ae_run_index_write(m, &r, &err) == -1 && strstr(err.msg, "no-such-folder"), "%s", err.msg);
    ae_model_free(m);
    upscaler_caption();
    remove_tree(root);
    TEST_DONE();
}
