/* Run-time SIMD dispatch: the best path the CPU supports, or the one named
 * by AEKIT_SIMD (see cpu.h). */
#include "core/cpu.h"

#include <stdlib.h>
#include <string.h>

static ae_simd_level best_supported(void)
{
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("fma"))
        return AE_SIMD_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return AE_SIMD_AVX2;
#endif
    return AE_SIMD_PORTABLE;
}

static ae_simd_level decide(void)
{
    ae_simd_level best = best_supported();
    const char *e = getenv("AEKIT_SIMD");
    if (!e || !*e) return best;
    ae_simd_level want = best;
    if (!strcmp(e, "portable") || !strcmp(e, "generic") || !strcmp(e, "none"))
        want = AE_SIMD_PORTABLE;
    else if (!strcmp(e, "avx2"))
        want = AE_SIMD_AVX2;
    else if (!strcmp(e, "avx512"))
        want = AE_SIMD_AVX512;
    return want < best ? want : best;
}

ae_simd_level ae_simd(void)
{
    /* -1: not decided yet. Racing first calls all compute the same value. */
    static int level = -1;
    int l = __atomic_load_n(&level, __ATOMIC_RELAXED);
    if (l < 0) {
        l = (int)decide();
        __atomic_store_n(&level, l, __ATOMIC_RELAXED);
    }
    return (ae_simd_level)l;
}

const char *ae_simd_name(ae_simd_level l)
{
    switch (l) {
    case AE_SIMD_AVX512: return "avx512";
    case AE_SIMD_AVX2: return "avx2";
    default: return "portable";
    }
}
