/* The library's thread counts (threads.c). */
#ifndef AEKIT_CORE_THREADS_H
#define AEKIT_CORE_THREADS_H

#include "aekit.h"

/* ae_threads_resolve(requested), or -1 with the range in err
 * ("threads must be 0 (all cores) to 256, got 257"). */
int threads_resolve(int requested, ae_error *err);

#endif
