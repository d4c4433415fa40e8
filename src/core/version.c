/* The library's version at run time (aekit.h). */
#include "aekit.h"

const char *ae_version(void)
{
    return AEKIT_VERSION;
}
