/* The library's thread counts (threads.c). */
#ifndef AEKIT_CORE_THREADS_H
#define AEKIT_CORE_THREADS_H

#include "aekit.h"

/* ae_threads_resolve(requested), or -1 with the range in err
 * ("threads must be 0 (all cores) to 256, got 257"). */
int threads_resolve(int requested, ae_error *err);

/* Thread t's share of n items split over `threads`: one contiguous chunk
 * each, the first n % threads threads one item more. The one rule by which
 * a batch is split (the split fixes the order of floating-point sums, so
 * the same thread count gives the same bits). */
static inline void thread_share(int n, int threads, int t, int *off, int *cnt)
{
    int base = n / threads, rem = n % threads;
    *cnt = base + (t < rem);
    *off = t * base + (t < rem ? t : rem);
}

#endif
