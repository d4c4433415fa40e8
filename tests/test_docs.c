/* The documentation of aekit's files says what the code writes:
 *  - metrics.csv's header (ae_metrics_csv_header, from the metric table) is
 *    the one docs/file-formats.md and docs/cli.md show;
 *  - every metadata key a run stores (ae_run_store_settings and
 *    ae_run_store_results, for a VAE and an AAE: all metrics that apply to
 *    some model) is in docs/file-formats.md's table of aekit's keys;
 *  - every aekit.* key `aekit info` and index.html show (ae_run_setting_at)
 *    is one a run stores: a key that is never written shows nothing. */
#define _POSIX_C_SOURCE 200809L
#include "aekit.h"
#include "aekit/epoch_metrics.h"
#include "aekit/run_folder.h"
#include "test.h"

#include <stdio.h>
#include <string.h>

static char *read_doc(const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/docs/%s", AEKIT_SOURCE_DIR, name);
    char *s = test_read_file(path);
    CHECK(s != NULL, "cannot read %s", path);
    return s;
}

/* The line of text starting with `start` (NUL-terminated copy in buf), or NULL. */
static const char *line_starting(const char *text, const char *start, char *buf, size_t size)
{
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        if (strncmp(p, start, strlen(start)) != 0) continue;
        size_t n = strcspn(p, "\n");
        if (n >= size) n = size - 1;
        memcpy(buf, p, n);
        buf[n] = '\0';
        return buf;
    }
    return NULL;
}

static void test_metrics_header(const char *formats, const char *cli)
{
    char header[512], want[600];
    ae_metrics_csv_header(header, sizeof header);
    snprintf(want, sizeof want, "\n%s\n", header);   /* the code block's line, whole */
    CHECK(formats && strstr(formats, want), "docs/file-formats.md shows metrics.csv's header '%s'", header);
    snprintf(want, sizeof want, "`%s`", header);
    CHECK(cli && strstr(cli, want), "docs/cli.md's run folder table shows metrics.csv's header '%s'", header);
}

/* key (aekit.train.NAME, aekit.result.NAME or another) is in the doc's table
 * of aekit's metadata keys: its row "| `aekit.train.*` |" lists `NAME`, or
 * the key has a row of its own. */
static int documented(const char *doc, const char *key)
{
    static const char *const groups[] = { "aekit.train.", "aekit.result." };
    char row_start[64], row[4096], name[128];
    for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++) {
        size_t len = strlen(groups[g]);
        if (strncmp(key, groups[g], len) != 0) continue;
        snprintf(row_start, sizeof row_start, "| `%s*` |", groups[g]);
        snprintf(name, sizeof name, "`%s`", key + len);
        return line_starting(doc, row_start, row, sizeof row) && strstr(row, name);
    }
    snprintf(row_start, sizeof row_start, "| `%s` |", key);
    return line_starting(doc, row_start, row, sizeof row) != NULL;
}

/* The keys a run of a preset stores, added to keys[] (no repeats); the
 * options stored only when not their default (AE_OPTION_META_UNLESS_DEFAULT)
 * are given their maximum. */
static void stored_keys(const char *preset, char keys[][128], int *nkeys, int cap)
{
    ae_error err = {{0}};
    ae_model *m = NULL;
    ae_dataset *ds = NULL;
    static uint8_t px[2 * 28 * 28];
    CHECK(ae_model_from_preset(&m, preset, 0, &err) == 0, "%s: %s", preset, err.msg);
    CHECK(ae_dataset_from_pixels(&ds, px, NULL, 2, 1, 28, 28, "arrays", &err) == 0, "%s", err.msg);
    if (!m || !ds) goto done;
    ae_train_options opt;
    ae_train_options_default(&opt);
    int nrows;
    const ae_train_option *rows = ae_train_options_table(&nrows);
    for (int r = 0; r < nrows; r++)
        if (rows[r].flags & AE_OPTION_META_UNLESS_DEFAULT && rows[r].type == AE_OPTION_DOUBLE)
            *(double *)((char *)&opt + rows[r].offset) = rows[r].max;
    ae_run_names names = { preset, "arrays", NULL, NULL };
    double values[AE_EPOCH_METRICS] = { 0 };
    double *cols[AE_EPOCH_METRICS];
    for (int k = 0; k < AE_EPOCH_METRICS; k++) cols[k] = &values[k];
    CHECK(ae_run_store_settings(m, &opt, &names, ds, ds, &err) == 0, "%s", err.msg);
    CHECK(ae_run_store_results(m, cols, 1, &err) == 0, "%s", err.msg);
    for (int i = 0; i < ae_model_meta_count(m); i++) {
        const char *key, *value;
        ae_model_meta_at(m, i, &key, &value);
        int seen = 0;
        for (int j = 0; j < *nkeys; j++) seen |= strcmp(keys[j], key) == 0;
        if (!seen && *nkeys < cap) snprintf(keys[(*nkeys)++], 128, "%s", key);
    }
done:
    ae_dataset_free(ds);
    ae_model_free(m);
}

static void test_metadata_keys(const char *formats)
{
    enum { CAP = 256 };
    static char keys[CAP][128];
    int nkeys = 0;
    stored_keys("vae", keys, &nkeys, CAP);
    stored_keys("aae", keys, &nkeys, CAP);
    CHECK(nkeys > 10, "a run stores %d keys", nkeys);
    for (int i = 0; i < nkeys; i++)
        if (strncmp(keys[i], "aekit.description", 17) != 0)
            CHECK(formats && documented(formats, keys[i]),
                  "docs/file-formats.md's table of aekit's metadata keys lacks %s", keys[i]);
    /* written elsewhere (ae_model_fit_latent, model files) */
    CHECK(formats && documented(formats, "aekit.latent.mean") && documented(formats, "aekit.latent.std") &&
          documented(formats, "aekit.description"), "the latent Gaussian's and the description's keys");

    ae_run_setting s;
    for (int i = 0; ae_run_setting_at(i, &s); i++) {
        if (strncmp(s.key, "aekit.", 6) != 0) continue;
        int stored = 0;
        for (int j = 0; j < nkeys; j++) stored |= strcmp(keys[j], s.key) == 0;
        CHECK(stored, "setting %d (%s, '%s') is shown but never stored", i, s.key, s.label);
    }
}

int main(void)
{
    char *formats = read_doc("file-formats.md"), *cli = read_doc("cli.md");
    test_metrics_header(formats, cli);
    test_metadata_keys(formats);
    free(formats);
    free(cli);
    TEST_DONE();
}
