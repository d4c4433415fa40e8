/* Run-time choice of SIMD kernels.
 *
 * The library is built for plain x86-64 (or any target); kernels for wider
 * vector units are compiled alongside with GCC/Clang target attributes and
 * picked here from the CPU's features. AEKIT_SIMD=portable|avx2|avx512 in
 * the environment forces a path (a path the CPU cannot run falls back to
 * the best one it can), so the test suite can exercise every path. */
#ifndef AEKIT_CORE_CPU_H
#define AEKIT_CORE_CPU_H

typedef enum {
    AE_SIMD_PORTABLE = 0, /* GNU C vectors of 16 bytes: SSE2 on x86-64 */
    AE_SIMD_AVX2 = 1,     /* AVX2 + FMA, 8 floats                      */
    AE_SIMD_AVX512 = 2    /* AVX-512F/BW/VL/DQ + FMA, 16 floats         */
} ae_simd_level;

/* The path in use (decided once, then cached). */
ae_simd_level ae_simd(void);
/* "portable", "avx2" or "avx512". */
const char *ae_simd_name(ae_simd_level l);

#endif
