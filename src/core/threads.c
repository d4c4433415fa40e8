/* Thread counts: the one rule behind every `threads` argument and option of
 * the library (include/aekit.h, ae_threads_resolve). */
#include "aekit.h"

#include <omp.h>

/* Processors this process may run on (its affinity mask), at least 1. */
static int cores(void)
{
    int n = omp_get_num_procs();
    return n < 1 ? 1 : n;
}

int ae_threads_max(void)
{
    long cap = (long)AE_THREADS_PER_CORE * cores();
    return cap > AE_MAX_THREADS ? AE_MAX_THREADS : (int)cap;
}

int ae_threads_resolve(int requested)
{
    int cap = ae_threads_max();
    int t = requested > 0 ? requested : cores();
    return t > cap ? cap : t;
}
