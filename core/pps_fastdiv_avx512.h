/*
 * pps_fastdiv_avx512.h - pps_fastdiv_divmod() on eight 64-bit lanes at once with AVX-512F,
 * for the burst paths (the Feistel permutation's split of an index into its two halves, and
 * the scan's split of a permuted index into target and port), plus the run-time CPU check
 * that picks those paths.
 *
 * Built from 32x32 -> 64 multiplies (vpmuludq): the high half of x * M from four of them
 * (exact: the middle sum fits in 34 bits), q * d from two (d < 2^32). Same reciprocal
 * method, and so the same exact results, as pps_fastdiv.h (Granlund & Montgomery 1994).
 * Only GCC on x86-64 compiles the vector code (target attributes); elsewhere
 * PPS_HAVE_AVX512_CODE is 0 and pps_cpu_has_avx512() says no.
 */
#ifndef PPS_FASTDIV_AVX512_H
#define PPS_FASTDIV_AVX512_H

#include "pps_fastdiv.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define PPS_HAVE_AVX512_CODE 1
#include <immintrin.h>

/** pps_cpu_has_avx512 - 1 if this CPU runs AVX-512F code (asked once, then cached). */
static inline int pps_cpu_has_avx512(void)
{
	static int has = -1; /* idempotent: a race only repeats the same answer */

	if (has < 0) {
		__builtin_cpu_init();
		has = __builtin_cpu_supports("avx512f");
	}
	return has;
}

#define PPS_AVX512 __attribute__((target("avx512f"), always_inline)) static inline

/** pps_mulhi64_v - the high 64 bits of x * m lane by lane, m given as its 32-bit halves. */
PPS_AVX512 __m512i pps_mulhi64_v(__m512i x, __m512i mlo, __m512i mhi)
{
	const __m512i lo = _mm512_set1_epi64(0xffffffffLL);
	__m512i xh = _mm512_srli_epi64(x, 32);
	__m512i ll = _mm512_mul_epu32(x, mlo), lh = _mm512_mul_epu32(x, mhi);
	__m512i hl = _mm512_mul_epu32(xh, mlo), hh = _mm512_mul_epu32(xh, mhi);
	__m512i mid = _mm512_add_epi64(_mm512_srli_epi64(ll, 32),
				       _mm512_add_epi64(_mm512_and_si512(lh, lo),
							_mm512_and_si512(hl, lo)));

	return _mm512_add_epi64(_mm512_add_epi64(hh, _mm512_srli_epi64(lh, 32)),
				_mm512_add_epi64(_mm512_srli_epi64(hl, 32),
						 _mm512_srli_epi64(mid, 32)));
}

/** A divisor below 2^32 and its reciprocal, broadcast to every lane. */
struct pps_div_v {
	__m512i d, mlo, mhi;
};

/** pps_div_v_init - broadcasts @f (whose d must be below 2^32). */
PPS_AVX512 struct pps_div_v pps_div_v_init(const struct pps_fastdiv *f)
{
	struct pps_div_v v = { _mm512_set1_epi64((long long)f->d),
			       _mm512_set1_epi64((long long)(f->m & 0xffffffffULL)),
			       _mm512_set1_epi64((long long)(f->m >> 32)) };
	return v;
}

/** pps_divmod_v - pps_fastdiv_divmod() lane by lane: quotients returned, remainders in *@r. */
PPS_AVX512 __m512i pps_divmod_v(__m512i x, const struct pps_div_v *f, __m512i *r)
{
	__m512i q = pps_mulhi64_v(x, f->mlo, f->mhi);
	__m512i qd = _mm512_add_epi64(
		_mm512_mul_epu32(q, f->d),
		_mm512_slli_epi64(_mm512_mul_epu32(_mm512_srli_epi64(q, 32), f->d), 32));
	__m512i rem = _mm512_sub_epi64(x, qd);
	__mmask8 fix = _mm512_cmpge_epu64_mask(rem, f->d);

	*r = _mm512_mask_sub_epi64(rem, fix, rem, f->d);
	return _mm512_mask_add_epi64(q, fix, q, _mm512_set1_epi64(1));
}
#else
#define PPS_HAVE_AVX512_CODE 0
static inline int pps_cpu_has_avx512(void)
{
	return 0;
}
#endif

#endif /* PPS_FASTDIV_AVX512_H */
