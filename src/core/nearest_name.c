/* The known name nearest to a mistyped one, by edit distance
 * (aekit/text.h, ae_nearest_name): "did you mean" for the presets (model.c) and
 * the CLI's commands, flags and choices. */
#include "aekit/text.h"

#include <string.h>

#define MAX_WORD 64

/* Optimal string alignment distance: insertions, deletions, substitutions
 * and swaps of two neighbours ("trian" -> "train") cost 1 each. */
static size_t edit_distance(const char *a, size_t la, const char *b, size_t lb)
{
    size_t d[MAX_WORD + 1][MAX_WORD + 1];
    for (size_t i = 0; i <= la; i++) d[i][0] = i;
    for (size_t j = 0; j <= lb; j++) d[0][j] = j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < best) best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best) best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    return d[la][lb];
}

const char *ae_nearest_name(const char *word, size_t len, const char *const *names, int n)
{
    if (!word || len == 0 || len > MAX_WORD) return NULL;
    /* close enough to be a typo: 1 edit in short names, 2 from 5 letters on */
    size_t limit = len < 5 ? 1 : 2, best = limit + 1;
    const char *nearest = NULL, *prefixed = NULL;
    int prefixes = 0;
    for (int i = 0; i < n; i++) {
        size_t ln = strlen(names[i]);
        if (ln > MAX_WORD) continue;
        if (len >= 3 && ln > len && strncmp(names[i], word, len) == 0) {   /* "recon" -> "reconstruct" */
            prefixes++;
            prefixed = names[i];
        }
        size_t d = edit_distance(word, len, names[i], ln);
        if (d < best) { best = d; nearest = names[i]; }
    }
    if (nearest) return nearest;
    return prefixes == 1 ? prefixed : NULL;
}
