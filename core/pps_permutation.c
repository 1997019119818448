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
	pps_fastdiv_init(&p->div_b, p->b ? p->b : 1);
	return 0;
}

/* Round function: a keyed 64-bit mix (Stafford's variant 13 finaliser, as in SplitMix64). */
static inline uint64_t round_f(uint64_t key, uint64_t r)
{
	uint64_t z = r ^ key;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline uint64_t encrypt(const struct pps_perm *p, uint64_t m)
{
	uint64_t L, R = pps_fastdiv_divmod(&p->div_a, m, &L);

	for (int j = 0; j < PPS_PERM_ROUNDS; j += 2) {
		/* odd round (1-based j+1): mod a. L < a and F mod a < a, so one subtraction */
		uint64_t t = L + pps_fastdiv_mod(&p->div_a, round_f(p->round_key[j], R));
		if (t >= p->a)
			t -= p->a;
		L = R;
		R = t;
		/* even round: mod b */
		t = L + pps_fastdiv_mod(&p->div_b, round_f(p->round_key[j + 1], R));
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
			uint64_t t = L[k] + pps_fastdiv_mod(&p->div_a, round_f(p->round_key[j], R[k]));
			t = t >= p->a ? t - p->a : t;
			L[k] = R[k];
			R[k] = t;
		}
#pragma GCC unroll 4
		for (int k = 0; k < 4; k++) {
			uint64_t t =
				L[k] + pps_fastdiv_mod(&p->div_b, round_f(p->round_key[j + 1], R[k]));
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
 * 32x32 -> 64 multiplies (vpmuludq): the high half of x * M (the reciprocal division) from
 * four of them (exact: the middle sum fits in 34 bits), a 64-bit product with a constant
 * from three, and q * d from two (d = a or b < 2^32, as n <= 2^62).
 */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#include <immintrin.h>

#define PPS_AVX512 __attribute__((target("avx512f"), always_inline)) static inline

PPS_AVX512 __m512i mulhi64(__m512i x, __m512i mlo, __m512i mhi)
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

/* low 64 bits of x * c, c given as its 32-bit halves */
PPS_AVX512 __m512i mullo64(__m512i x, __m512i clo, __m512i chi)
{
	__m512i cross = _mm512_add_epi64(_mm512_mul_epu32(x, chi),
					 _mm512_mul_epu32(_mm512_srli_epi64(x, 32), clo));

	return _mm512_add_epi64(_mm512_mul_epu32(x, clo), _mm512_slli_epi64(cross, 32));
}

struct div_v {
	__m512i d, mlo, mhi;
};

PPS_AVX512 struct div_v div_v_init(const struct pps_fastdiv *f)
{
	struct div_v v = { _mm512_set1_epi64((long long)f->d),
			   _mm512_set1_epi64((long long)(f->m & 0xffffffffULL)),
			   _mm512_set1_epi64((long long)(f->m >> 32)) };
	return v;
}

/* pps_fastdiv_divmod() for d < 2^32: quotient returned, remainder in *r */
PPS_AVX512 __m512i divmod_v(__m512i x, const struct div_v *f, __m512i *r)
{
	__m512i q = mulhi64(x, f->mlo, f->mhi);
	__m512i qd = _mm512_add_epi64(_mm512_mul_epu32(q, f->d),
				      _mm512_slli_epi64(_mm512_mul_epu32(_mm512_srli_epi64(q, 32),
									 f->d),
							32));
	__m512i rem = _mm512_sub_epi64(x, qd);
	__mmask8 fix = _mm512_cmpge_epu64_mask(rem, f->d);

	*r = _mm512_mask_sub_epi64(rem, fix, rem, f->d);
	return _mm512_mask_add_epi64(q, fix, q, _mm512_set1_epi64(1));
}

/* one Feistel round on a vector: round_f, mod d, add to L mod d */
PPS_AVX512 __m512i round_v(__m512i L, __m512i R, uint64_t key, const struct div_v *f)
{
	const __m512i c1lo = _mm512_set1_epi64(0x1ce4e5b9LL), c1hi = _mm512_set1_epi64(0xbf58476dLL);
	const __m512i c2lo = _mm512_set1_epi64(0x133111ebLL), c2hi = _mm512_set1_epi64(0x94d049bbLL);
	__m512i z = _mm512_xor_si512(R, _mm512_set1_epi64((long long)key)), m, t;

	z = mullo64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 30)), c1lo, c1hi);
	z = mullo64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 27)), c2lo, c2hi);
	z = _mm512_xor_si512(z, _mm512_srli_epi64(z, 31));
	(void)divmod_v(z, f, &m);
	t = _mm512_add_epi64(L, m);
	return _mm512_mask_sub_epi64(t, _mm512_cmpge_epu64_mask(t, f->d), t, f->d);
}

__attribute__((target("avx512f"))) static void encrypt32_avx512(const struct pps_perm *p,
								  const uint64_t *in, uint64_t *out)
{
	struct div_v da = div_v_init(&p->div_a), db = div_v_init(&p->div_b);
	__m512i L[4], R[4], t[4];

	for (int v = 0; v < 4; v++)
		R[v] = divmod_v(_mm512_loadu_si512(in + 8 * v), &da, &L[v]);
	for (int j = 0; j < PPS_PERM_ROUNDS; j += 2) {
		for (int v = 0; v < 4; v++)
			t[v] = round_v(L[v], R[v], p->round_key[j], &da);
		for (int v = 0; v < 4; v++) {
			L[v] = R[v];
			R[v] = t[v];
		}
		for (int v = 0; v < 4; v++)
			t[v] = round_v(L[v], R[v], p->round_key[j + 1], &db);
		for (int v = 0; v < 4; v++) {
			L[v] = R[v];
			R[v] = t[v];
		}
	}
	for (int v = 0; v < 4; v++) /* a * R + L: both factors < 2^32 */
		_mm512_storeu_si512(out + 8 * v,
				    _mm512_add_epi64(_mm512_mul_epu32(R[v], da.d), L[v]));
}

static int have_avx512(void)
{
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx512f");
}
#else
static void encrypt32_avx512(const struct pps_perm *p, const uint64_t *in, uint64_t *out)
{
	(void)p, (void)in, (void)out;
}

static int have_avx512(void)
{
	return 0;
}
#endif

void pps_perm_apply_burst(const struct pps_perm *p, const uint64_t *in, uint64_t *out,
			  unsigned n)
{
	static int simd = -1; /* idempotent: a race only repeats the same answer */
	unsigned k = 0;

	if (p->n <= 1) {
		for (; k < n; k++)
			out[k] = 0;
		return;
	}
	if (simd < 0)
		simd = have_avx512();
	if (simd)
		for (; k + 32 <= n; k += 32) {
			encrypt32_avx512(p, in + k, out + k);
			for (int l = 0; l < 32; l++)
				while (out[k + l] >= p->n) /* cycle walking: rare */
					out[k + l] = encrypt(p, out[k + l]);
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
