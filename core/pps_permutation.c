/*
 * Feistel permutation over [0, a*b) with cycle walking (BlackRock; Black & Rogaway 2002).
 *
 *   L = m mod a, R = m div a
 *   round j (1-based): t = (L + F_j(R)) mod (j odd ? a : b); L = R; R = t
 *   after an even number of rounds L < a, R < b, and c = a*R + L < a*b.
 * Each round is invertible (L = (t - F_j(R)) mod radix), so the whole map is a bijection of
 * [0, a*b). Applying it again while c >= n ("cycle walking") restricts it to a bijection of
 * [0, n), because the walk from a point of [0, n) returns to [0, n) before looping.
 * Worked example: n = 10 -> a = 4, b = 3 (12 >= 10); indices 10 and 11 are walked past.
 */
#include "pps_permutation.h"
#include "pps_fastdiv_avx512.h"

#include <errno.h>
#include <math.h>

uint64_t pps_splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

int pps_perm_init(struct pps_perm *p, uint64_t n, uint64_t seed)
{
	uint64_t st = seed;

	if (n > (1ULL << 62))
		return -EINVAL;
	p->n = n;
	if (n <= 1) {
		p->a = 1;
		p->b = n ? 1 : 0;
	} else {
		uint64_t a = (uint64_t)sqrtl((long double)n);
		while (a * a > n)
			a--;
		while ((a + 1) * (a + 1) <= n)
			a++;
		if (a < 1)
			a = 1;
		p->a = a;
		p->b = (n + a - 1) / a; /* a*b >= n, b in {a, a+1, a+2} */
	}
	for (int j = 0; j < PPS_PERM_ROUNDS; j++)
		p->round_key[j] = pps_splitmix64(&st);
	pps_fastdiv_init(&p->div_a, p->a);
	return 0;
}

/*
 * Round function F_j(R) for radix d: MurmurHash3's 32-bit finaliser (fmix32, Appleby) of R
 * with the round key k_j xored in after its first xorshift, scaled into [0, d) by a multiply
 * and a shift ((z * d) >> 32, Lemire, "Fast Random Integer Generation in an Interval", ACM
 * TOMACS 2019) instead of a remainder. R < 2^32 and d < 2^32 always (n <= 2^62, so
 * a <= 2^31 and b <= a + 2), and a Feistel network is a bijection whatever F is, so F need
 * not be uniform: only well mixed. Two 32-bit multiplies and one 32x32->64 multiply a round,
 * where a 64-bit mix and a reciprocal division took ten.
 */
static inline uint64_t round_f(uint64_t key, uint64_t r, uint64_t d)
{
	uint32_t z = (uint32_t)r ^ (uint32_t)r >> 16 ^ (uint32_t)key;

	z *= 0x85ebca6bu;
	z ^= z >> 13;
	z *= 0xc2b2ae35u;
	z ^= z >> 16;
	return ((uint64_t)z * d) >> 32;
}

static inline uint64_t encrypt(const struct pps_perm *p, uint64_t m)
{
	uint64_t L, R = pps_fastdiv_divmod(&p->div_a, m, &L);

	for (int j = 0; j < PPS_PERM_ROUNDS; j += 2) {
		/* odd round (1-based j+1): mod a. L < a and F < a, so one subtraction */
		uint64_t t = L + round_f(p->round_key[j], R, p->a);
		if (t >= p->a)
			t -= p->a;
		L = R;
		R = t;
		/* even round: mod b */
		t = L + round_f(p->round_key[j + 1], R, p->b);
		if (t >= p->b)
			t -= p->b;
		L = R;
		R = t;
	}
	return p->a * R + L;
}

uint64_t pps_perm_apply(const struct pps_perm *p, uint64_t i)
{
	uint64_t c;

	if (p->n <= 1)
		return 0;
	c = encrypt(p, i);
	while (c >= p->n)
		c = encrypt(p, c);
	return c;
}

/* Four encryptions in lockstep (the lanes are independent; see pps_perm_apply_burst()). */
static inline void encrypt4(const struct pps_perm *p, uint64_t m[4])
{
	uint64_t L[4], R[4];

	for (int k = 0; k < 4; k++)
		R[k] = pps_fastdiv_divmod(&p->div_a, m[k], &L[k]);
	for (int j = 0; j < PPS_PERM_ROUNDS; j += 2) {
#pragma GCC unroll 4
		for (int k = 0; k < 4; k++) {
			uint64_t t = L[k] + round_f(p->round_key[j], R[k], p->a);
			t = t >= p->a ? t - p->a : t;
			L[k] = R[k];
			R[k] = t;
		}
#pragma GCC unroll 4
		for (int k = 0; k < 4; k++) {
			uint64_t t = L[k] + round_f(p->round_key[j + 1], R[k], p->b);
			t = t >= p->b ? t - p->b : t;
			L[k] = R[k];
			R[k] = t;
		}
	}
	for (int k = 0; k < 4; k++)
		m[k] = p->a * R[k] + L[k];
}

/*
 * 32 encryptions at once with AVX-512 (four vectors of eight lanes in lockstep, so the
 * multiply latencies overlap): the same arithmetic as encrypt() lane by lane, built from
 * 32x32 -> 64 multiplies (vpmuludq): the high half of x * M (the reciprocal division that
 * splits m into L and R) from four of them (exact: the middle sum fits in 34 bits), q * a
 * from two, and three a round (d = a or b < 2^32, as n <= 2^62).
 */
#if PPS_HAVE_AVX512_CODE
/*
 * one Feistel round on a vector: round_f() lane by lane. The lanes are 64-bit with R < 2^32;
 * vpmuludq reads only the low 32 bits of each lane, and the 32-bit shifts keep whatever a
 * product left in the high half out of the low half, so no masking is needed.
 */
PPS_AVX512 __m512i round_v(__m512i L, __m512i R, uint64_t key, __m512i d)
{
	const __m512i c1 = _mm512_set1_epi64(0x85ebca6bLL), c2 = _mm512_set1_epi64(0xc2b2ae35LL);
	__m512i z, t;

	/* R ^ (R >> 16) ^ key in one three-input xor (vpternlogq, truth table 0x96) */
	z = _mm512_ternarylogic_epi64(R, _mm512_srli_epi32(R, 16),
				      _mm512_set1_epi64((long long)(uint32_t)key), 0x96);
	z = _mm512_mul_epu32(z, c1);
	z = _mm512_mul_epu32(_mm512_xor_si512(z, _mm512_srli_epi32(z, 13)), c2);
	z = _mm512_xor_si512(z, _mm512_srli_epi32(z, 16));
	t = _mm512_add_epi64(L, _mm512_srli_epi64(_mm512_mul_epu32(z, d), 32));
	/* t mod d for t < 2d: t - d wraps above t when t < d, so the smaller of the two */
	return _mm512_min_epu64(t, _mm512_sub_epi64(t, d));
}

/* Returns a mask of the lanes whose image is >= n (they need cycle walking). */
__attribute__((target("avx512f"))) static uint32_t
encrypt32_avx512(const struct pps_perm *p, const uint64_t *in, uint64_t *out)
{
	struct pps_div_v da = pps_div_v_init(&p->div_a);
	const __m512i db = _mm512_set1_epi64((long long)p->b);
	__m512i L[4], R[4], t[4];

	for (int v = 0; v < 4; v++)
		R[v] = pps_divmod_v(_mm512_loadu_si512(in + 8 * v), &da, &L[v]);
	for (int j = 0; j < PPS_PERM_ROUNDS; j += 2) {
		for (int v = 0; v < 4; v++)
			t[v] = round_v(L[v], R[v], p->round_key[j], da.d);
		for (int v = 0; v < 4; v++) {
			L[v] = R[v];
			R[v] = t[v];
		}
		for (int v = 0; v < 4; v++)
			t[v] = round_v(L[v], R[v], p->round_key[j + 1], db);
		for (int v = 0; v < 4; v++) {
			L[v] = R[v];
			R[v] = t[v];
		}
	}
	const __m512i n = _mm512_set1_epi64((long long)p->n);
	uint32_t walk = 0;

	for (int v = 0; v < 4; v++) { /* a * R + L: both factors < 2^32 */
		__m512i c = _mm512_add_epi64(_mm512_mul_epu32(R[v], da.d), L[v]);

		_mm512_storeu_si512(out + 8 * v, c);
		walk |= (uint32_t)_mm512_cmpge_epu64_mask(c, n) << (8 * v);
	}
	return walk;
}

#else
static uint32_t encrypt32_avx512(const struct pps_perm *p, const uint64_t *in, uint64_t *out)
{
	(void)p, (void)in, (void)out;
	return 0;
}

#endif

void pps_perm_apply_burst(const struct pps_perm *p, const uint64_t *in, uint64_t *out, unsigned n)
{
	unsigned k = 0;

	if (p->n <= 1) {
		for (; k < n; k++)
			out[k] = 0;
		return;
	}
	if (pps_cpu_has_avx512())
		for (; k + 32 <= n; k += 32)
			for (uint32_t walk = encrypt32_avx512(p, in + k, out + k); walk;
			     walk &= walk - 1) { /* cycle walking: rare */
				uint64_t *o = out + k + __builtin_ctz(walk);

				do
					*o = encrypt(p, *o);
				while (*o >= p->n);
			}
	for (; k + 4 <= n; k += 4) {
		uint64_t m[4] = { in[k], in[k + 1], in[k + 2], in[k + 3] };

		encrypt4(p, m);
		for (int l = 0; l < 4; l++) {
			while (m[l] >= p->n) /* cycle walking: rare (a*b/n < 1 + 2/sqrt(n)) */
				m[l] = encrypt(p, m[l]);
			out[k + l] = m[l];
		}
	}
	for (; k < n; k++)
		out[k] = pps_perm_apply(p, in[k]);
}
