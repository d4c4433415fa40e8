/* "did you mean" in the CLI's messages (cli.h, cli_did_you_mean), with the
 * library's nearest name (aekit/text.h, ae_nearest_name). */
#include "cli.h"
#include "aekit/text.h"

#include <stdio.h>
#include <string.h>

const char *cli_did_you_mean(char *buf, size_t size, const char *prefix, const char *word, size_t len,
                             const char *const *names, int n)
{
    const char *s = ae_nearest_name(word, len, names, n);
    if (s) snprintf(buf, size, "did you mean '%s%s'? ", prefix ? prefix : "", s);
    else if (size) buf[0] = '\0';
    return buf;
}
