/* Many standard normals at once, bit for bit those of ae_rng_normal.
 *
 * ae_rng_normal rounds sqrt(-2 log u1) cos(2 pi u2), computed in double
 * with libm, to float; gaussian input noise draws one per pixel, and libm's
 * scalar log and cos made a denoising epoch 20% slower than the plain conv
 * AE's. On AVX-512 eight are computed at once with a log and a cos of our
 * own (fdlibm's reductions and polynomials, within a unit or two in the last
 * place of the true value, as libm's are), and eight images' generators run
 * in the lanes of one vector (ae_rng_normals_x8). Our double and libm's
 * then differ by under 20 units in the last place, so they round to the same
 * float unless they lie that close to the midpoint between two floats.
 * Lanes within 256 units of a midpoint (1,102 of 2^30 draws, measured),
 * lanes near zero and lanes whose cos argument lies near a zero of cos
 * (where the reduced argument's error would grow relative to it) are
 * recomputed with libm. So the floats are libm's: training stays
 * bit-identical to the scalar path on every SIMD level (tests/test_rng.c;
 * 2^30 draws compared, none differed). */
#include "core/cpu.h"
#include "core/rng.h"

#include <math.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define NORMALS_AVX512 1
#endif

float ae_normal_from_bits(uint64_t a, uint64_t b)
{
    /* u1 in (0,1] so log() is finite. */
    double u1 = ((double)a + 1.0) * (1.0 / 9007199254740992.0);
    double u2 = (double)b * (1.0 / 9007199254740992.0);
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

#ifdef NORMALS_AVX512
#define TGT_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq")))

/* c[0] + x (c[1] + x (c[2] + ...)): fdlibm's polynomials, in its order. */
TGT_AVX512 static inline __m512d horner(__m512d x, const double *c, int n)
{
    __m512d acc = _mm512_set1_pd(c[n - 1]);
    for (int i = n - 2; i >= 0; i--) acc = _mm512_add_pd(_mm512_set1_pd(c[i]), _mm512_mul_pd(x, acc));
    return acc;
}

/* log(u) for u in (0, 1]: fdlibm's e_log.c without its special cases (no
 * zero, negative, infinite or subnormal u here), error below 1 ulp. */
TGT_AVX512 static inline __m512d log_avx512(__m512d u)
{
    const __m512d sqrt2 = _mm512_set1_pd(1.41421356237309504880);
    __m512d k = _mm512_getexp_pd(u);                                   /* floor(log2 u) */
    __m512d m = _mm512_getmant_pd(u, _MM_MANT_NORM_1_2, _MM_MANT_SIGN_src); /* [1, 2) */
    __mmask8 big = _mm512_cmp_pd_mask(m, sqrt2, _CMP_GT_OQ);            /* m into [sqrt(1/2), sqrt(2)] */
    m = _mm512_mask_mul_pd(m, big, m, _mm512_set1_pd(0.5));
    k = _mm512_mask_add_pd(k, big, k, _mm512_set1_pd(1.0));
    __m512d f = _mm512_sub_pd(m, _mm512_set1_pd(1.0));                   /* exact */
    __m512d hfsq = _mm512_mul_pd(_mm512_mul_pd(_mm512_set1_pd(0.5), f), f);
    __m512d s = _mm512_div_pd(f, _mm512_add_pd(_mm512_set1_pd(2.0), f));
    __m512d z = _mm512_mul_pd(s, s), w = _mm512_mul_pd(z, z);
#define P(c) _mm512_set1_pd(c)
    static const double even[] = { 3.999999999940941908e-01, 2.222219843214978396e-01, 1.531383769920937332e-01 };
    static const double odd[] = { 6.666666666666735130e-01, 2.857142874366239149e-01, 1.818357216161805012e-01,
                                  1.479819860511658591e-01 };
    __m512d t1 = _mm512_mul_pd(w, horner(w, even, 3)), t2 = _mm512_mul_pd(z, horner(w, odd, 4));
    __m512d R = _mm512_add_pd(t2, t1);
    /* k ln2_hi - ((hfsq - (s (hfsq + R) + k ln2_lo)) - f) */
    __m512d inner = _mm512_add_pd(_mm512_mul_pd(s, _mm512_add_pd(hfsq, R)),
                                  _mm512_mul_pd(k, P(1.90821492927058770002e-10)));
    return _mm512_sub_pd(_mm512_mul_pd(k, P(6.93147180369123816490e-01)),
                         _mm512_sub_pd(_mm512_sub_pd(hfsq, inner), f));
}

/* cos(x) for x in [0, 2 pi): x - n pi/2 with pi/2 in two parts (n <= 4,
 * so n pio2_1 and x - n pio2_1 are exact), then fdlibm's k_cos.c / k_sin.c
 * on the reduced y in [-pi/4, pi/4] (their tail y = 0). *near_zero: the
 * lanes with an odd n and |y| < 2^-10, near a zero of cos. */
TGT_AVX512 static inline __m512d cos_avx512(__m512d x, __mmask8 *near_zero)
{
    __m512d n = _mm512_roundscale_pd(_mm512_mul_pd(x, P(6.36619772367581382433e-01)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512d y = _mm512_sub_pd(_mm512_sub_pd(x, _mm512_mul_pd(n, P(1.57079632673412561417e+00))),
                              _mm512_mul_pd(n, P(6.07710050650619224932e-11)));
    __m512i q = _mm512_cvtpd_epi64(n);
    __mmask8 odd = _mm512_test_epi64_mask(q, _mm512_set1_epi64(1));
    __mmask8 neg = _mm512_test_epi64_mask(_mm512_add_epi64(q, _mm512_set1_epi64(1)), _mm512_set1_epi64(2));
    __m512d ay = _mm512_abs_pd(y);
    *near_zero = _mm512_mask_cmp_pd_mask(odd, ay, P(0x1p-10), _CMP_LT_OQ);

    __m512d z = _mm512_mul_pd(y, y);
    /* k_sin.c: y + y^3 (S1 + z r) */
    static const double sin_c[] = { 8.33333333332248946124e-03, -1.98412698298579493134e-04,
                                    2.75573137070700676789e-06, -2.50507602534068634195e-08,
                                    1.58969099521155010221e-10 };
    __m512d rs = horner(z, sin_c, 5);
    __m512d v = _mm512_mul_pd(z, y);
    __m512d sn = _mm512_add_pd(y, _mm512_mul_pd(v, _mm512_add_pd(P(-1.66666666666666324348e-01),
                                                                 _mm512_mul_pd(z, rs))));
    /* k_cos.c: w + (((1 - w) - hz) + z r), hz = z/2, w = 1 - hz */
    static const double cos_c[] = { 4.16666666666666019037e-02, -1.38888888888741095749e-03,
                                    2.48015872894767294178e-05, -2.75573143513906633035e-07,
                                    2.08757232129817482790e-09, -1.13596475577881948265e-11 };
    __m512d rc = _mm512_mul_pd(z, horner(z, cos_c, 6));
    __m512d hz = _mm512_mul_pd(P(0.5), z), w = _mm512_sub_pd(P(1.0), hz);
    __m512d cs = _mm512_add_pd(w, _mm512_add_pd(_mm512_sub_pd(_mm512_sub_pd(P(1.0), w), hz),
                                                _mm512_mul_pd(z, rc)));
    /* n mod 4 = 0: cos y, 1: -sin y, 2: -cos y, 3: sin y */
    __m512d c = _mm512_mask_blend_pd(odd, cs, sn);
    return _mm512_mask_sub_pd(c, neg, _mm512_setzero_pd(), c);
#undef P
}

/* Eight normals from their words' top 53 bits a, b (as ae_normal_from_bits),
 * as doubles still to be rounded to float. *redo: the lanes whose double
 * may not round to libm's float: tiny (zero included), near a zero of cos,
 * or within 256 units of the last place of a midpoint between two floats
 * (the 29 bits a float drops are then 2^28 +- 256). */
TGT_AVX512 static inline __m512d normal8(__m512i a, __m512i b, __mmask8 *redo)
{
    const __m512d scale = _mm512_set1_pd(1.0 / 9007199254740992.0);
    __m512d u1 = _mm512_mul_pd(_mm512_add_pd(_mm512_cvtepu64_pd(a), _mm512_set1_pd(1.0)), scale);
    __m512d u2 = _mm512_mul_pd(_mm512_cvtepu64_pd(b), scale);
    __m512d r = _mm512_sqrt_pd(_mm512_mul_pd(_mm512_set1_pd(-2.0), log_avx512(u1)));
    __mmask8 near_zero;
    __m512d c = cos_avx512(_mm512_mul_pd(_mm512_set1_pd(6.283185307179586), u2), &near_zero);
    __m512d d = _mm512_mul_pd(r, c);
    __m512i low = _mm512_and_si512(_mm512_castpd_si512(d), _mm512_set1_epi64((1LL << 29) - 1));
    __mmask8 mid = _mm512_cmple_epu64_mask(_mm512_sub_epi64(low, _mm512_set1_epi64((1LL << 28) - 256)),
                                           _mm512_set1_epi64(512));
    __mmask8 tiny = _mm512_cmp_pd_mask(_mm512_abs_pd(d), _mm512_set1_pd(0x1p-60), _CMP_LT_OQ);
    *redo = mid | tiny | near_zero;
    return d;
}

TGT_AVX512 static void normals_avx512(float *out, const uint64_t *a, const uint64_t *b, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __mmask8 redo;
        __m512d d = normal8(_mm512_loadu_si512(a + i), _mm512_loadu_si512(b + i), &redo);
        _mm256_storeu_ps(out + i, _mm512_cvtpd_ps(d));
        for (unsigned m = redo; m; m &= m - 1) {
            size_t l = i + (size_t)__builtin_ctz(m);
            out[l] = ae_normal_from_bits(a[l], b[l]);
        }
    }
    for (; i < n; i++) out[i] = ae_normal_from_bits(a[i], b[i]);
}

/* xoshiro256** (ae_rng_u64) on eight states at once, one per lane. */
typedef struct { __m512i s0, s1, s2, s3; } rng8;

TGT_AVX512 static inline __m512i rng8_next(rng8 *g)
{
    __m512i s1x5 = _mm512_add_epi64(_mm512_slli_epi64(g->s1, 2), g->s1);
    __m512i rot = _mm512_rol_epi64(s1x5, 7);
    __m512i result = _mm512_add_epi64(_mm512_slli_epi64(rot, 3), rot);
    __m512i t = _mm512_slli_epi64(g->s1, 17);
    g->s2 = _mm512_xor_si512(g->s2, g->s0);
    g->s3 = _mm512_xor_si512(g->s3, g->s1);
    g->s1 = _mm512_xor_si512(g->s1, g->s2);
    g->s0 = _mm512_xor_si512(g->s0, g->s3);
    g->s2 = _mm512_xor_si512(g->s2, t);
    g->s3 = _mm512_rol_epi64(g->s3, 45);
    return result;
}

/* ae_rng_normals_x8 with stream k in lane k. */
TGT_AVX512 static void normals_x8_avx512(ae_rng r[8], float *const out[8], size_t n)
{
    const __m512i idx = _mm512_setr_epi64(0, 4, 8, 12, 16, 20, 24, 28);   /* r[k].s[i]: word 4k + i */
    const long long *w = (const long long *)(const void *)r;
    rng8 g = { _mm512_i64gather_epi64(idx, w, 8), _mm512_i64gather_epi64(idx, w + 1, 8),
               _mm512_i64gather_epi64(idx, w + 2, 8), _mm512_i64gather_epi64(idx, w + 3, 8) };
    for (size_t j = 0; j < n; j++) {
        __m512i a = _mm512_srli_epi64(rng8_next(&g), 11);
        __m512i b = _mm512_srli_epi64(rng8_next(&g), 11);
        __mmask8 redo;
        float f[8];
        _mm256_storeu_ps(f, _mm512_cvtpd_ps(normal8(a, b, &redo)));
        if (redo) {
            uint64_t av[8], bv[8];
            _mm512_storeu_si512(av, a);
            _mm512_storeu_si512(bv, b);
            for (unsigned m = redo; m; m &= m - 1) {
                int k = __builtin_ctz(m);
                f[k] = ae_normal_from_bits(av[k], bv[k]);
            }
        }
        for (int k = 0; k < 8; k++) out[k][j] = f[k];
    }
    long long *v = (long long *)(void *)r;
    _mm512_i64scatter_epi64(v, idx, g.s0, 8);
    _mm512_i64scatter_epi64(v + 1, idx, g.s1, 8);
    _mm512_i64scatter_epi64(v + 2, idx, g.s2, 8);
    _mm512_i64scatter_epi64(v + 3, idx, g.s3, 8);
}
#endif

void ae_normals_from_bits(float *out, const uint64_t *a, const uint64_t *b, size_t n)
{
#ifdef NORMALS_AVX512
    if (ae_simd() == AE_SIMD_AVX512) { normals_avx512(out, a, b, n); return; }
#endif
    for (size_t i = 0; i < n; i++) out[i] = ae_normal_from_bits(a[i], b[i]);
}

void ae_rng_normals(ae_rng *r, float *out, size_t n)
{
    enum { BLOCK = 256 };
    uint64_t a[BLOCK], b[BLOCK];
    while (n) {
        size_t cnt = n < BLOCK ? n : BLOCK;
        for (size_t i = 0; i < cnt; i++) {     /* ae_rng_normal's order: u1's word, then u2's */
            a[i] = ae_rng_u64(r) >> 11;
            b[i] = ae_rng_u64(r) >> 11;
        }
        ae_normals_from_bits(out, a, b, cnt);
        out += cnt;
        n -= cnt;
    }
}

void ae_rng_normals_x8(ae_rng r[8], float *const out[8], size_t n)
{
#ifdef NORMALS_AVX512
    if (ae_simd() == AE_SIMD_AVX512) { normals_x8_avx512(r, out, n); return; }
#endif
    for (int k = 0; k < 8; k++) ae_rng_normals(&r[k], out[k], n);
}
