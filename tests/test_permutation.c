/*
 * test_permutation.c - the keyed bijection of [0, n): for several seeds and sizes (odd,
 * prime, just above a power of two, powers of two) every index maps to a distinct value
 * below n; the order is a function of the seed only.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>

#include "pps_permutation.h"
#include "unit_util.h"

static const uint64_t seeds[] = { 1, 2, 42, 0xdeadbeef };
static const uint64_t sizes[] = {
	1,  2,	  3,	      7, 10, 97, 1000, 4096, 65537, 1000003, /* mostly not powers of two */
	16, 1024, 1ULL << 20,					     /* powers of two */
};

#define N_SEEDS (sizeof(seeds) / sizeof(seeds[0]))
#define N_SIZES (sizeof(sizes) / sizeof(sizes[0]))

Test(perm, every_index_maps_to_a_distinct_value)
{
	uint8_t *seen = malloc((1ULL << 20) + 1);

	cr_assert_not_null(seen);
	for (size_t si = 0; si < N_SEEDS; si++) {
		for (size_t ni = 0; ni < N_SIZES; ni++) {
			uint64_t n = sizes[ni], out_of_range = 0, dup = 0;
			struct pps_perm p;

			cr_assert_eq(pps_perm_init(&p, n, seeds[si]), 0);
			memset(seen, 0, n);
			for (uint64_t i = 0; i < n; i++) {
				uint64_t v = pps_perm_apply(&p, i);

				if (v >= n)
					out_of_range++;
				else if (seen[v]++)
					dup++;
			}
			cr_assert_eq(out_of_range, 0, "seed %llu n %llu: %llu values >= n",
				     (unsigned long long)seeds[si], (unsigned long long)n,
				     (unsigned long long)out_of_range);
			cr_assert_eq(dup, 0, "seed %llu n %llu: %llu repeated values",
				     (unsigned long long)seeds[si], (unsigned long long)n,
				     (unsigned long long)dup);
		}
	}
	free(seen);
}

Test(perm, same_seed_same_order)
{
	for (size_t ni = 0; ni < N_SIZES; ni++) {
		uint64_t n = sizes[ni] > 100000 ? 100000 : sizes[ni];
		struct pps_perm a, b;

		cr_assert_eq(pps_perm_init(&a, sizes[ni], 42), 0);
		cr_assert_eq(pps_perm_init(&b, sizes[ni], 42), 0);
		for (uint64_t i = 0; i < n; i++)
			cr_assert_eq(pps_perm_apply(&a, i), pps_perm_apply(&b, i));
	}
}

Test(perm, different_seeds_different_orders)
{
	for (size_t ni = 0; ni < N_SIZES; ni++) {
		uint64_t n = sizes[ni];

		if (n < 10)
			continue;
		for (size_t x = 0; x < N_SEEDS; x++) {
			for (size_t y = x + 1; y < N_SEEDS; y++) {
				struct pps_perm a, b;
				uint64_t differ = 0;

				pps_perm_init(&a, n, seeds[x]);
				pps_perm_init(&b, n, seeds[y]);
				for (uint64_t i = 0; i < n && i < 100000; i++)
					differ += pps_perm_apply(&a, i) != pps_perm_apply(&b, i);
				cr_assert_gt(differ, 0, "n %llu: seeds %llu and %llu agree",
					     (unsigned long long)n, (unsigned long long)seeds[x],
					     (unsigned long long)seeds[y]);
			}
		}
	}
}

Test(perm, looks_shuffled)
{
	/* a random permutation of 10^6 has ~1 fixed point and ~1 ascending step of +1 */
	struct pps_perm p;
	uint64_t n = 1000003, fixed = 0, runs = 0, prev = 0;

	cr_assert_eq(pps_perm_init(&p, n, 0xdeadbeef), 0);
	for (uint64_t i = 0; i < n; i++) {
		uint64_t v = pps_perm_apply(&p, i);

		fixed += v == i;
		runs += i > 0 && v == prev + 1;
		prev = v;
	}
	cr_assert_lt(fixed, 10);
	cr_assert_lt(runs, 10);
}

Test(perm, domain_shape)
{
	for (size_t ni = 0; ni < N_SIZES; ni++) {
		uint64_t n = sizes[ni];
		struct pps_perm p;

		pps_perm_init(&p, n, 1);
		cr_assert_eq(p.n, n);
		cr_assert_geq(p.a * p.b, n);
		/* a ~ sqrt(n): little room for cycle walking */
		cr_assert_lt((double)(p.a * p.b), (double)n * (1.0 + 2.0 / sqrt((double)n)) + 1e-9,
			     "n %llu: a %llu b %llu", (unsigned long long)n,
			     (unsigned long long)p.a, (unsigned long long)p.b);
	}
}

Test(perm, edge_sizes)
{
	struct pps_perm p;

	cr_assert_eq(pps_perm_init(&p, 0, 5), 0);
	cr_assert_eq(pps_perm_init(&p, 1, 5), 0);
	cr_assert_eq(pps_perm_apply(&p, 0), 0);
	cr_assert_eq(pps_perm_init(&p, (1ULL << 62) + 1, 5), -EINVAL);
	cr_assert_eq(pps_perm_init(&p, 1ULL << 62, 5), 0);

	/* 2^32 addresses x 65535 ports: values stay below n and are reproducible */
	uint64_t n = 281470681743360ULL;
	struct pps_perm q;

	cr_assert_eq(pps_perm_init(&p, n, 7), 0);
	cr_assert_eq(pps_perm_init(&q, n, 7), 0);
	for (uint64_t i = 0; i < 10000; i++) {
		uint64_t idx = i * 28147068174ULL + i; /* spread over the domain */

		cr_assert_lt(pps_perm_apply(&p, idx), n);
		cr_assert_eq(pps_perm_apply(&p, idx), pps_perm_apply(&q, idx));
	}
	cr_assert_lt(pps_perm_apply(&p, n - 1), n);
}

Test(perm, splitmix64_reference)
{
	/* SplitMix64 from state 0 (Steele, Lea & Flood; Vigna's splitmix64.c) */
	uint64_t st = 0;

	cr_assert_eq(pps_splitmix64(&st), 0xe220a8397b1dcdafULL);
	cr_assert_eq(pps_splitmix64(&st), 0x6e789e6aa1b965f4ULL);
	cr_assert_eq(pps_splitmix64(&st), 0x06c45d188009454fULL);
	cr_assert_eq(st, 3 * 0x9e3779b97f4a7c15ULL);
}

Test(perm, burst_matches_apply)
{
	/* up to 2^62 (a near 2^31: the vector lanes' 32-bit arithmetic at its widest), bursts
	 * of every length 1..100 (the 32-lane vector path, the 4-lane path and the tail) */
	static const uint64_t big[] = { 2,
					10,
					65537,
					1000003,
					(1ULL << 32) + 15,
					(1ULL << 40) + 7,
					281470681743360ULL,
					(1ULL << 62) - 1,
					1ULL << 62 };
	struct ut_rng r;

	ut_rng_seed(&r, 77);
	for (size_t ni = 0; ni < sizeof(big) / sizeof(big[0]); ni++) {
		struct pps_perm p;
		uint64_t in[100], out[100];

		cr_assert_eq(pps_perm_init(&p, big[ni], ut_rand64(&r)), 0);
		for (unsigned len = 1; len <= 100; len++) {
			for (unsigned k = 0; k < len; k++)
				in[k] = k % 3 == 0 ? big[ni] - 1 - k % big[ni]
						   : ut_below(&r, big[ni]);
			pps_perm_apply_burst(&p, in, out, len);
			for (unsigned k = 0; k < len; k++)
				cr_assert_eq(out[k], pps_perm_apply(&p, in[k]),
					     "n %llu len %u lane %u", (unsigned long long)big[ni],
					     len, k);
		}
	}
}
