/* The run-folder API (aekit/run_folder.h): the file table, a stop before
 * the pictures, and index.html's metrics table following the model kind
 * (aekit/epoch_metrics.h). */
#define _POSIX_C_SOURCE 200809L
#include "aekit.h"
#include "aekit/run_folder.h"
#include "test.h"
#include "temp_dir.h"

#include <string.h>

static int stop_now(void *user)
{
    (*(int *)user)++;
    return 1;
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
    remove_tree(root);
    TEST_DONE();
}
