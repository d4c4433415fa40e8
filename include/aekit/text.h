/* aekit text: UTF-8, strictly, and HTML escaping: the rules the description
 * check, the CLI's escaping of text from files and the HTML report share. */
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

#ifdef __cplusplus
}
#endif

#endif
