/* Error reporting: library functions never print or exit. They return 0 on
 * success or -1 on failure after writing one line a user can act on into an
 * ae_error (see include/aekit.h), naming the file or value at fault.      */
#ifndef AEKIT_CORE_ERROR_H
#define AEKIT_CORE_ERROR_H

#include "aekit.h"

#if defined(__GNUC__)
#define AE_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define AE_PRINTF(a, b)
#endif

/* Formats the message into err (when err != NULL) and returns -1. */
int ae_fail(ae_error *err, const char *fmt, ...) AE_PRINTF(2, 3);

#endif
