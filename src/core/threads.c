/* Thread counts: the one rule behind every `threads` argument and option of
 * the library (include/aekit.h, ae_threads_resolve), and the command line's
 * cap (ae_threads_max). */
#include "aekit.h"
#include "core/error.h"
#include "core/threads.h"

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
    if (requested < 0 || requested > AE_MAX_THREADS) return -1;
    if (requested > 0) return requested; /* as asked, on any machine: the same bits */
    return cores() > AE_MAX_THREADS ? AE_MAX_THREADS : cores();
}

int threads_resolve(int requested, ae_error *err)
{
    int t = ae_threads_resolve(requested);
    if (t < 0)
        return ae_fail(err, "threads must be 0 (all cores) to %d, got %d", AE_MAX_THREADS, requested);
    return t;
}
