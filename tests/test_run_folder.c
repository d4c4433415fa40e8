/* The run-folder API (aekit/run_folder.h): the file table, a stop before
 * the pictures, and index.html's metrics table following the model kind
 * (aekit/epoch_metrics.h), and the settings table: every training option
 * with metadata is shown, with its label, without being listed twice. */
#define _POSIX_C_SOURCE 200809L
#include "aekit.h"
#include "aekit/run_folder.h"
#include "test.h"
#include "temp_dir.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Every option row with metadata is a setting aekit info shows (key
 * aekit.train.NAME, its row, a label: the row's `what` unless the table
 * words it for the page); rows without metadata are none; no key twice. */
static void check_settings(void)
{
    int nrows, n = 0;
    const ae_train_option *rows = ae_train_options_table(&nrows);
    ae_run_setting s[128];
    while (n < 128 && ae_run_setting_at(n, &s[n])) n++;
    CHECK(n > 0 && n < 128, "%d settings", n);
    for (int i = 0; i < n; i++) {
        CHECK(s[i].label && s[i].label[0] && strcmp(s[i].label, "?") != 0, "%s: no label", s[i].key);
        CHECK(strncmp(s[i].key, "aekit.", 6) == 0, "key %s", s[i].key);
        for (int j = 0; j < i; j++) CHECK(strcmp(s[i].key, s[j].key) != 0, "%s twice", s[i].key);
    }
    for (int r = 0; r < nrows; r++) {
        char key[64];
        snprintf(key, sizeof key, "aekit.train.%s", rows[r].name);
        int at = -1;
        for (int i = 0; i < n; i++)
            if (strcmp(s[i].key, key) == 0) at = i;
        if (rows[r].flags & AE_OPTION_NO_META) {
            CHECK(at < 0, "%s has no metadata but is setting %d", rows[r].name, at);
            continue;
        }
        CHECK(at >= 0, "option %s is not a setting", rows[r].name);
        if (at < 0) continue;
        CHECK(s[at].option == &rows[r], "setting %s: not its option's row", key);
        CHECK(s[at].shown & AE_SETTING_INFO, "setting %s: not shown by info", key);
    }
    /* the labels the options table gives, and the two the page words itself */
    const char *want[][2] = { { "aekit.train.clip_grad", "gradient clipping norm" },
                              { "aekit.train.threads", "threads" }, { "aekit.train.lr", "learning rate" },
                              { "aekit.train.noise", "input noise" }, { "aekit.train.batch", "batch" },
                              { "aekit.result.epochs", "epochs done" } };
    for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
        int found = 0;
        for (int i = 0; i < n; i++)
            if (strcmp(s[i].key, want[k][0]) == 0) {
                found = 1;
                CHECK(strcmp(s[i].label, want[k][1]) == 0, "%s: label '%s', want '%s'", s[i].key, s[i].label,
                      want[k][1]);
            }
        CHECK(found, "no setting %s", want[k][0]);
    }
    CHECK(ae_run_setting_at(-1, &s[0]) == 0 && ae_run_setting_at(n, &s[0]) == 0, "past the ends");
}

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

/* A model trained further at the defaults (aekit train --init, aekit.train
 * of a loaded model) keeps no aekit.train.NAME of a row stored only when
 * not its default (AE_OPTION_META_UNLESS_DEFAULT) from the run before: no
 * key means the default. The other keys keep their order. */
static void settings_replace_unless_default(void)
{
    ae_model *m = NULL;
    ae_dataset *ds = NULL;
    ae_error err = {{0}};
    static uint8_t px[2 * 28 * 28];
    CHECK(ae_model_from_preset(&m, "aae", 0, &err) == 0, "%s", err.msg);
    CHECK(ae_dataset_from_pixels(&ds, px, NULL, 2, 1, 28, 28, "arrays", &err) == 0, "%s", err.msg);
    if (!m || !ds) goto done;
    ae_run_names names = { "aae", "arrays", NULL, NULL };
    ae_train_options before, after;
    ae_train_options_default(&before);
    ae_train_options_default(&after);
    int nrows, flagged = 0;
    const ae_train_option *rows = ae_train_options_table(&nrows);
    for (int r = 0; r < nrows; r++)
        if (rows[r].flags & AE_OPTION_META_UNLESS_DEFAULT && rows[r].type == AE_OPTION_DOUBLE) {
            *(double *)((char *)&before + rows[r].offset) = rows[r].max;
            flagged++;
        }
    CHECK(flagged >= 2, "%d rows flagged AE_OPTION_META_UNLESS_DEFAULT", flagged);
    CHECK(ae_run_store_settings(m, &before, &names, ds, ds, &err) == 0, "%s", err.msg);
    int n_before = ae_model_meta_count(m);
    CHECK(ae_model_set_meta(m, "user.note", "kept", &err) == 0, "%s", err.msg);
    CHECK(ae_run_store_settings(m, &after, &names, ds, ds, &err) == 0, "%s", err.msg);
    CHECK(ae_model_meta_count(m) == n_before + 1 - flagged, "%d keys, were %d", ae_model_meta_count(m),
          n_before);
    for (int r = 0; r < nrows; r++) {
        char key[128];
        snprintf(key, sizeof key, "aekit.train.%s", rows[r].name);
        if (rows[r].flags & AE_OPTION_META_UNLESS_DEFAULT)
            CHECK(!ae_model_meta(m, key), "%s left at %s after a run at the default", key, ae_model_meta(m, key));
        else if (!(rows[r].flags & AE_OPTION_NO_META))
            CHECK(ae_model_meta(m, key) != NULL, "%s missing", key);
    }
    const char *last;
    ae_model_meta_at(m, ae_model_meta_count(m) - 1, &last, NULL);
    CHECK(last && strcmp(last, "user.note") == 0 && strcmp(ae_model_meta(m, "user.note"), "kept") == 0,
          "last key %s", last ? last : "(none)");
done:
    ae_dataset_free(ds);
    ae_model_free(m);
}

/* The setting reg_lr of an AAE without the key: the default (no value
 * shown) unless the model was written before 0.3, whose regularisation
 * phases ran at lr; a model without a discriminator: nothing. */
static void reg_lr_before_0_3(void)
{
    ae_run_setting s;
    int found = 0;
    for (int i = 0; !found && ae_run_setting_at(i, &s); i++)
        found = strcmp(s.key, "aekit.train.reg_lr") == 0;
    CHECK(found, "no setting aekit.train.reg_lr");
    ae_error err = {{0}};
    ae_model *aae = NULL, *conv = NULL;
    CHECK(ae_model_from_preset(&aae, "aae", 0, &err) == 0, "%s", err.msg);
    CHECK(ae_model_from_preset(&conv, "conv", 0, &err) == 0, "%s", err.msg);
    if (!found || !aae || !conv) goto done;
    CHECK(ae_run_setting_value(aae, &s) == NULL, "no version: %s", ae_run_setting_value(aae, &s));
    ae_model_set_meta(aae, "aekit.version", "0.2.0", &err);
    ae_model_set_meta(conv, "aekit.version", "0.2.0", &err);
    const char *v = ae_run_setting_value(aae, &s);
    CHECK(v && strcmp(v, "lr (before 0.3)") == 0, "0.2.0: %s", v ? v : "(none)");
    CHECK(ae_run_setting_value(conv, &s) == NULL, "a conv AE of 0.2.0: %s", ae_run_setting_value(conv, &s));
    ae_model_set_meta(aae, "aekit.train.reg_lr", "0.001", &err);
    v = ae_run_setting_value(aae, &s);
    CHECK(v && strcmp(v, "0.001") == 0, "0.2.0 with a key: %s", v ? v : "(none)");
    ae_model_set_meta(aae, "aekit.version", "0.3.0", &err);
    ae_model_set_meta(aae, "aekit.train.reg_lr", "0.001", &err);
    v = ae_run_setting_value(aae, &s);
    CHECK(v && strcmp(v, "0.001") == 0, "0.3.0: %s", v ? v : "(none)");
done:
    ae_model_free(aae);
    ae_model_free(conv);
}

int main(void)
{
    if (temp_dir_open("run-folder") != 0) return 1;
    check_settings();
    settings_replace_unless_default();
    reg_lr_before_0_3();
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
                       "scope=\"col\">images_per_second</th><th scope=\"col\">lr</th></tr>") != NULL, "metrics table header");
    CHECK(!strstr(text, "val_kl") && !strstr(text, "disc_accuracy"), "no VAE or AAE columns");
    CHECK(strstr(text, "<td>1</td><td>0.500000</td>") != NULL, "row of epoch 1");
    /* its settings: the metadata in the table's order, the model's size after
     * the model, defaults that say nothing left out, the threads in use */
    CHECK(ae_model_set_meta(m, "aekit.train.lr", "0.001", &err) == 0 &&
          ae_model_set_meta(m, "aekit.train.model", "conv", &err) == 0 &&
          ae_model_set_meta(m, "aekit.train.noise", "none", &err) == 0 &&
          ae_model_set_meta(m, "aekit.train.clip_grad", "5", &err) == 0 &&
          ae_model_set_meta(m, "aekit.train.threads", "3", &err) == 0, "%s", err.msg);
    r.dir = root;
    CHECK(ae_run_index_write(m, &r, &err) == 0, "%s", err.msg);
    memset(page, 0, sizeof page);
    read_all(at("index.html"), page, sizeof page - 1);
    CHECK(strstr(text, "<tr><th scope=\"row\">model</th><td>conv</td></tr>\n<tr><th scope=\"row\">parameters</th>") &&
          strstr(text, "<tr><th scope=\"row\">learning rate</th><td>0.001</td></tr>\n<tr><th scope=\"row\">"
                       "threads</th><td>2</td></tr>") &&
          !strstr(text, "input noise") && !strstr(text, "clipping"), "index.html settings");
    r.dir = at("no-such-folder");
    CHECK(ae_run_index_write(m, &r, &err) == -1 && strstr(err.msg, "no-such-folder"), "%s", err.msg);
    ae_model_free(m);
    upscaler_caption();
    remove_tree(root);
    TEST_DONE();
}
