/* "did you mean" (ae_nearest_name, aekit/text.h): typos within reach are
 * found (a swap, a missing or extra letter, a unique prefix), words too far
 * from every name are not, and an unknown preset's message suggests one. */
#include "aekit.h"
#include "aekit/text.h"
#include "test.h"

#include <string.h>

static const char *near(const char *word, const char *const *names, int n)
{
    const char *s = ae_nearest_name(word, strlen(word), names, n);
    return s ? s : "(none)";
}

int main(void)
{
    static const char *const commands[] = { "train", "eval", "reconstruct", "info", "encode", "decode",
                                            "sample", "pca", "compare", "serve" };
    int nc = (int)(sizeof commands / sizeof commands[0]);
    static const struct { const char *typo, *want; } cases[] = {
        { "trian", "train" },        /* two neighbours swapped */
        { "trainn", "train" },       /* an extra letter */
        { "evl", "eval" },           /* a missing letter, short word */
        { "encod", "encode" },
        { "decodee", "decode" },
        { "recon", "reconstruct" },  /* the only name it begins */
        { "sampel", "sample" },
        { "pcaa", "pca" },
        { "frobnicate", "(none)" },  /* far from everything */
        { "ev", "(none)" },          /* too short for a prefix, 2 edits from eval */
        { "xyz", "(none)" },
        { "", "(none)" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CHECK(strcmp(near(cases[i].typo, commands, nc), cases[i].want) == 0, "'%s': got '%s', want '%s'",
              cases[i].typo, near(cases[i].typo, commands, nc), cases[i].want);
    /* only the first len bytes count: "--epoch=3" is looked up as "epoch" */
    static const char *const flags[] = { "epochs", "batch", "lr" };
    const char *s = ae_nearest_name("epoch=3", 5, flags, 3);
    CHECK(s && strcmp(s, "epochs") == 0, "a prefix of the word: %s", s ? s : "(none)");
    CHECK(ae_nearest_name("a-word-longer-than-sixty-four-letters-is-never-near-anything-at-all", 67, flags, 3)
              == NULL, "overlong words are not compared");

    ae_model *m = NULL;
    ae_error err = {{0}};
    CHECK(ae_model_from_preset(&m, "cnov", 0, &err) == -1 && m == NULL, "cnov is no preset");
    CHECK(strstr(err.msg, "did you mean 'conv'?") != NULL, "the preset message suggests conv: %s", err.msg);
    CHECK(ae_model_from_preset(&m, "dense", 0, &err) == -1 && !strstr(err.msg, "did you mean"),
          "no suggestion for a word far from every preset: %s", err.msg);
    TEST_DONE();
}
