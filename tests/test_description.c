/* The description as data (src/model/description.c): parse -> print ->
 * parse gives the same structure and printing it again the same text, for
 * every preset, every description in the tests' fixtures and the fuzz
 * corpus (those that parse); the canonical spelling; editing the loss. */
#define _POSIX_C_SOURCE 200809L
#include "test.h"

#include <dirent.h>
#include <string.h>

#include "aekit.h"
#include "format/safetensors.h"
#include "model/description.h"
#include "model/model.h"

extern const char *const ae_preset_names[];
extern const char *const ae_preset_texts[];

static int checked;   /* texts that went round */

/* Round trip of one text; must_parse for texts that are models. */
static void round_trip(const char *text, const char *origin, int latent, int must_parse)
{
    ae_description a, b;
    ae_error err = { "" };
    if (description_parse(&a, text, origin, latent, &err)) {
        CHECK(!must_parse, "%s: %s", origin, err.msg);
        return;
    }
    char *t1 = description_print(&a);
    CHECK(t1 != NULL, "%s: print failed", origin);
    if (!t1) { description_free(&a); return; }
    if (description_parse(&b, t1, origin, 0, &err)) {
        CHECK(0, "%s: the printed text does not parse: %s\n%s", origin, err.msg, t1);
        description_free(&a);
        free(t1);
        return;
    }
    CHECK(description_equal(&a, &b), "%s: parse(print(d)) differs from d:\n%s", origin, t1);
    char *t2 = description_print(&b);
    CHECK(t2 && strcmp(t1, t2) == 0, "%s: printed twice differently:\n%s\n---\n%s", origin, t1, t2 ? t2 : "");
    /* the model built from the printed text is the model built from the text */
    ae_model *m1 = NULL, *m2 = NULL;
    if (ae_model_from_text(&m1, text, origin, latent, &err) == 0) {
        CHECK(ae_model_from_text(&m2, t1, origin, 0, &err) == 0, "%s: %s", origin, err.msg);
        if (m2) {
            char s1[8192], s2[8192];
            ae_model_summary(m1, s1, sizeof s1);
            ae_model_summary(m2, s2, sizeof s2);
            CHECK(strcmp(s1, s2) == 0 && ae_model_loss(m1) == ae_model_loss(m2), "%s: another model", origin);
            CHECK(strcmp(ae_model_description(m1), t1) == 0, "%s: the model's text is not the printed one", origin);
        }
    }
    ae_model_free(m1);
    ae_model_free(m2);
    checked++;
    free(t1);
    free(t2);
    description_free(&a);
    description_free(&b);
}

static void round_trip_dir(const char *dir, int must_parse)
{
    DIR *d = opendir(dir);
    CHECK(d != NULL, "%s: cannot open", dir);
    if (!d) return;
    int before = checked;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        char *text = test_read_file(path);
        if (!text) continue;
        if (strlen(text) < (1 << 20)) round_trip(text, path, 0, must_parse);
        free(text);
    }
    closedir(d);
    printf("%s: %d description(s) round trip\n", dir, checked - before);
}

static void round_trip_fixtures(void)
{
    DIR *d = opendir(AEKIT_FIXTURES);
    if (!d) { CHECK(0, "%s: cannot open", AEKIT_FIXTURES); return; }
    int before = checked;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        const char *dot = strrchr(e->d_name, '.');
        if (!dot || strcmp(dot, ".safetensors")) continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", AEKIT_FIXTURES, e->d_name);
        st_file f;
        ae_error err;
        if (st_read_header(&f, path, &err)) continue;
        const char *keys[] = { "aekit.description", "model" };
        for (int k = 0; k < 2; k++) {
            const char *text = st_meta(&f, keys[k]);
            if (text && strncmp(text, "preset ", 7)) round_trip(text, path, 0, 1);
        }
        st_free(&f);
    }
    closedir(d);
    printf("fixtures: %d description(s) round trip\n", checked - before);
}

static void presets(void)
{
    for (int i = 0; ae_preset_names[i]; i++) {
        round_trip(ae_preset_texts[i], ae_preset_names[i], 0, 1);
        round_trip(ae_preset_texts[i], ae_preset_names[i], 7, 1);
    }
}

static char *printed(const char *text, int latent)
{
    ae_description d;
    ae_error err = { "" };
    if (description_parse(&d, text, "t", latent, &err)) {
        CHECK(0, "%s", err.msg);
        return NULL;
    }
    char *s = description_print(&d);
    description_free(&d);
    return s;
}

#define CHECK_PRINTS(text, latent, want)                                         \
    do {                                                                         \
        char *got_ = printed(text, latent);                                      \
        CHECK(got_ && strcmp(got_, want) == 0, "got:\n%s\nwant:\n%s", got_ ? got_ : "(null)", want); \
        free(got_);                                                              \
    } while (0)

/* The canonical spelling: one blank between words, defaults a reader needs
 * spelled out, the rest only when not the default; comments, blank lines
 * and the line count kept. */
static void canonical_text(void)
{
    CHECK_PRINTS("  input 1   8 8\t# in\n\n loss   mse\nencoder\n  conv 4 pad=1 k=3 stride=1 bias=1\n"
                 "maxpool ceil\nmaxpool 2 floor\nflatten\ndense 2 bias=0\nleaky_relu slope=0.1\n"
                 "decoder\ndense 64\nreshape 1 8 8\nleaky_relu slope=0.2\n   # end",
                 0,
                 "input 1 8 8 # in\n\nloss mse\nencoder\nconv 4 k=3 pad=1\n"
                 "maxpool 2 ceil\nmaxpool 2\nflatten\ndense 2 bias=0\nleaky_relu slope=0.1\n"
                 "decoder\ndense 64\nreshape 1 8 8\nleaky_relu\n# end");
    CHECK_PRINTS("input 1 8 8\nloss mse\nencoder\nconv 2 pad=valid\nconv 2 k=2 pad=0 stride=2\nconv 2\n"
                 "flatten\ndense 8\ndecoder\ndense 64\nreshape 1 8 8\n",
                 0,
                 "input 1 8 8\nloss mse\nencoder\nconv 2 k=3 pad=valid\nconv 2 k=2 stride=2 pad=valid\n"
                 "conv 2 k=3 pad=same\nflatten\ndense 8\ndecoder\ndense 64\nreshape 1 8 8\n");
    /* {latent} filled in; the first `param latent` line says the size used */
    CHECK_PRINTS("param latent 2 # default\ninput 1 8 8\nloss sse\nencoder\nflatten\ndense {latent2}\n"
                 "sample\ndecoder\ndense {latent}\ndense 64\nreshape 1 8 8\n",
                 5,
                 "param latent 5 # default\ninput 1 8 8\nloss sse\nencoder\nflatten\ndense 10\n"
                 "sample\ndecoder\ndense 5\ndense 64\nreshape 1 8 8\n");
}

/* The layer list in the message for an unknown layer comes from the table. */
static void unknown_layer_message(void)
{
    ae_description d;
    ae_error err = { "" };
    CHECK(description_parse(&d, "input 1 4 4\nencoder\nfrobnicate\n", "bad.txt", 0, &err) != 0 &&
              strcmp(err.msg, "bad.txt:3: unknown layer 'frobnicate' (expected conv, maxpool, avgpool, "
                              "upsample, dense, flatten, reshape, relu, leaky_relu, sigmoid, tanh, sample or condition)") == 0,
          "%s", err.msg);
}

/* Setting the loss edits the structure; a text without a loss line gets one
 * before `encoder`, and the layers' line numbers follow. */
static void set_loss(void)
{
    static const char text[] = "# no loss line\ninput 1 4 4\nencoder\nflatten\ndense 3\ndecoder\n"
                               "dense 16\nreshape 1 4 4\nsigmoid\n";
    ae_model *m;
    ae_error err = { "" };
    if (ae_model_from_text(&m, text, "t", 0, &err)) { CHECK(0, "%s", err.msg); return; }
    /* what ae_model_set_loss does when the model cannot follow (out of
     * memory): the added line and the loss undone, the text as before */
    int added = -1;
    CHECK(description_set_loss(&m->desc, AE_LOSS_SSE, &added) == 0 && added == 2, "added at %d", added);
    description_undo_set_loss(&m->desc, AE_LOSS_BCE, added);
    char *undone = description_print(&m->desc);
    CHECK(undone && strcmp(undone, ae_model_description(m)) == 0 && m->desc.loss == AE_LOSS_BCE &&
          m->desc.layers[4].line == 9, "undone: %s", undone ? undone : "(out of memory)");
    free(undone);
    CHECK(ae_model_set_loss(m, AE_LOSS_SSE, &err) == 0, "%s", err.msg);
    const char *want = "# no loss line\ninput 1 4 4\nloss sse\nencoder\nflatten\ndense 3\ndecoder\n"
                       "dense 16\nreshape 1 4 4\nsigmoid\n";
    CHECK(strcmp(ae_model_description(m), want) == 0, "%s", ae_model_description(m));
    CHECK(m->layers[0].line == 5 && m->desc.layers[4].line == 10, "lines %d %d", m->layers[0].line,
          m->desc.layers[4].line);
    CHECK(ae_model_set_loss(m, AE_LOSS_MSE, &err) == 0, "%s", err.msg);
    CHECK(strstr(ae_model_description(m), "\nloss mse\nencoder") != NULL, "%s", ae_model_description(m));
    /* ae_loss_name is the description's spelling of every loss */
    static const ae_loss losses[] = { AE_LOSS_BCE, AE_LOSS_MSE, AE_LOSS_SSE, AE_LOSS_BCE_SUM };
    for (size_t i = 0; i < sizeof losses / sizeof losses[0]; i++) {
        char line[64];
        snprintf(line, sizeof line, "\nloss %s\n", ae_loss_name(losses[i]));
        CHECK(ae_model_set_loss(m, losses[i], &err) == 0, "%s", err.msg);
        CHECK(strstr(ae_model_description(m), line) != NULL, "%s not in %s", line, ae_model_description(m));
    }
    CHECK(strcmp(ae_loss_name(AE_LOSS_BCE_SUM), "bce_sum") == 0 && strcmp(ae_loss_name((ae_loss)7), "?") == 0,
          "names: %s %s", ae_loss_name(AE_LOSS_BCE_SUM), ae_loss_name((ae_loss)7));
    ae_model_free(m);
}

int main(void)
{
    presets();
    round_trip_fixtures();
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/models", AEKIT_SOURCE_DIR);
    round_trip_dir(dir, 1);
    snprintf(dir, sizeof dir, "%s/bench/models", AEKIT_SOURCE_DIR);
    round_trip_dir(dir, 1);
    snprintf(dir, sizeof dir, "%s/fuzz/model_text", AEKIT_FIXTURES);
    round_trip_dir(dir, 0);
    snprintf(dir, sizeof dir, "%s/fuzz/corpus/model_text", AEKIT_SOURCE_DIR);
    round_trip_dir(dir, 0);
    canonical_text();
    unknown_layer_message();
    set_loss();
    printf("%d description(s) went round\n", checked);
    TEST_DONE();
}
