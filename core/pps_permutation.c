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

void pps_perm_apply_burst(const struct pps_perm *p, const uint64_t *in, uint64_t *out,
			  unsigned n)
{
	unsigned k = 0;

	if (p->n <= 1) {
		for (; k < n; k++)
			out[k] = 0;
		return;
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
