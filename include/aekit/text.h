/* aekit text: UTF-8, strictly, and HTML escaping: the rules the description
 * check, the CLI's escaping of text from files and the HTML report share;
 * and the nearest known name to a mistyped one ("did you mean"). */
#ifndef AEKIT_TEXT_H
#define AEKIT_TEXT_H

#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Length (1 to 4) of the valid UTF-8 sequence at s, with its code point in
 * *cp; 0 when s does not start one (no overlong forms, surrogates or values
 * past U+10FFFF, as jansson checks; a NUL ends any sequence). */
size_t ae_utf8_decode(const unsigned char *s, unsigned *cp);

/* Writes s to f with &, <, >, " and ' escaped. */
void ae_html_escape(FILE *f, const char *s);

/* "did you mean": the name of names[0..n) nearest to word (its first len
 * bytes, at most 64) within a typo's reach: 1 edit (insertion, deletion,
 * substitution, or swap of two neighbours) in words of under 5 letters, 2
 * from 5 on, the nearest first listed on a tie; else the only name that
 * word (3 letters or more) is a prefix of; else NULL. */
const char *ae_nearest_name(const char *word, size_t len, const char *const *names, int n);

#ifdef __cplusplus
}
#endif

#endif
