/* UTF-8, strictly: the rules the description check and the CLI's escaping
 * of text from files share. */
#ifndef AEKIT_CORE_UTF8_H
#define AEKIT_CORE_UTF8_H

#include <stddef.h>

/* Length (1 to 4) of the valid UTF-8 sequence at s, with its code point in
 * *cp; 0 when s does not start one (no overlong forms, surrogates or values
 * past U+10FFFF, as jansson checks; a NUL ends any sequence). */
size_t utf8_decode(const unsigned char *s, unsigned *cp);

#endif
