/*
 * test_dedup_ring.c - the dedup structure in exact and window mode, and the SPSC results
 * ring: capacity rounding, full/empty behaviour, FIFO order, and a two-thread stress test.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <pthread.h>
#include <sched.h>

#include "pps_dedup.h"
#include "pps_ring.h"

#define BUDGET PPS_DEDUP_MEMORY_DEFAULT

Test(dedup, exact_mode_first_zero_repeat_one)
{
	struct pps_dedup *d = pps_dedup_new(1000, BUDGET);

	cr_assert_not_null(d);
	cr_assert(pps_dedup_is_exact(d));
	for (uint64_t i = 0; i < 1000; i += 2)
		cr_assert_eq(pps_dedup_check_set(d, i, 1, 1), 0, "first %llu",
			     (unsigned long long)i);
	/* neighbours of recorded indices are still new */
	for (uint64_t i = 1; i < 1000; i += 2)
		cr_assert_eq(pps_dedup_check_set(d, i, 1, 1), 0, "first %llu",
			     (unsigned long long)i);
	for (uint64_t i = 0; i < 1000; i++)
		cr_assert_eq(pps_dedup_check_set(d, i, 2, 2), 1, "repeat %llu",
			     (unsigned long long)i);
	pps_dedup_free(d);
	pps_dedup_free(NULL);
}

Test(dedup, exact_mode_keys_on_index_only)
{
	struct pps_dedup *d = pps_dedup_new(64, BUDGET);

	/* the same (address, port) under two indices are two targets in exact mode */
	cr_assert_eq(pps_dedup_check_set(d, 0, 0x0a000001, 80), 0);
	cr_assert_eq(pps_dedup_check_set(d, 63, 0x0a000001, 80), 0);
	cr_assert_eq(pps_dedup_check_set(d, 63, 0x0b000001, 81), 1);
	pps_dedup_free(d);
}

Test(dedup, budget_decides_the_mode)
{
	/* 8 targets a byte: 2^33 targets fit 1 GiB exactly, one more does not */
	static const struct {
		uint64_t n, budget;
		int exact;
	} c[] = { { 1ULL << 33, BUDGET, 1 },
		  { (1ULL << 33) + 1, BUDGET, 0 },
		  { 7405568000ULL, BUDGET, 1 },
		  { 1ULL << 20, 1ULL << 17, 1 },
		  { (1ULL << 20) + 64, 1ULL << 17, 0 },
		  { 1ULL << 48, BUDGET, 0 } };

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct pps_dedup *d = pps_dedup_new(c[i].n, c[i].budget);

		cr_assert_not_null(d, "n %llu", (unsigned long long)c[i].n);
		cr_assert_eq(pps_dedup_is_exact(d), c[i].exact, "n %llu budget %llu",
			     (unsigned long long)c[i].n, (unsigned long long)c[i].budget);
		if (!c[i].exact)
			cr_assert_eq(pps_dedup_window_results(d),
				     c[i].budget / 64 * PPS_DEDUP_WAYS);
		pps_dedup_free(d);
	}
	errno = 0;
	cr_assert_null(pps_dedup_new(100, PPS_DEDUP_MEMORY_MIN - 1));
	cr_assert_eq(errno, EINVAL);
}

/* Resident set size of this process, bytes (/proc/self/statm, field 2). */
static uint64_t rss_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long long size = 0, res = 0;

	cr_assert_not_null(f);
	cr_assert_eq(fscanf(f, "%llu %llu", &size, &res), 2);
	fclose(f);
	return res * (uint64_t)sysconf(_SC_PAGESIZE);
}

static uint64_t xorshift64(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

struct resp {
	uint64_t idx;
	uint32_t pos;
	uint8_t first;
};

static int by_idx_pos(const void *a, const void *b)
{
	const struct resp *x = a, *y = b;

	if (x->idx != y->idx)
		return x->idx < y->idx ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static int by_pos(const void *a, const void *b)
{
	const struct resp *x = a, *y = b;

	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/*
 * All of IPv4 on two ports: 2^33 targets, the default budget, exact. Responses: 4,096
 * clusters at random places of the whole space (each a page of the bitmap: 32,768 indices),
 * 256 random targets each, plus the edges of the space and of 2^32 (where 32-bit index
 * arithmetic would wrap); every target answers 1 to 4 times, the repeats shuffled among the
 * others. Exactly the first response of each target is new, and the memory that became
 * resident is the touched pages, not the 1 GiB budget.
 */
Test(dedup, exact_over_2_pow_33_targets_with_repeats, .timeout = 60)
{
	const uint64_t n = 1ULL << 33;
	static const uint64_t edges[] = { 0,
					  1,
					  63,
					  64,
					  (1ULL << 32) - 1,
					  1ULL << 32,
					  (1ULL << 32) + 1,
					  (1ULL << 33) - 64,
					  (1ULL << 33) - 1 };
	const uint32_t clusters = 4096, per = 256;
	uint32_t cap = (clusters * per + 9) * 4, m = 0, distinct = 0, news = 0, dups = 0;
	struct resp *r = malloc(cap * sizeof(*r));
	uint64_t seed = 0x9e3779b97f4a7c15ULL, rss0, rss1, rss2;
	struct pps_dedup *d;

	cr_assert_not_null(r);
	for (uint32_t c = 0; c < clusters + 1; c++) {
		uint64_t base = (xorshift64(&seed) % n) & ~32767ULL;
		uint32_t k_max = c < clusters ? per : sizeof(edges) / sizeof(edges[0]);

		for (uint32_t k = 0; k < k_max; k++) {
			uint64_t idx = c < clusters ? base + xorshift64(&seed) % 32768 : edges[k];
			uint32_t times = 1 + (uint32_t)(xorshift64(&seed) % 4);

			for (uint32_t t = 0; t < times; t++)
				r[m++] = (struct resp){ .idx = idx };
		}
	}
	/* shuffle (Fisher-Yates), then number the arrival order */
	for (uint32_t i = m - 1; i > 0; i--) {
		uint32_t j = (uint32_t)(xorshift64(&seed) % (i + 1));
		struct resp t = r[i];

		r[i] = r[j];
		r[j] = t;
	}
	for (uint32_t i = 0; i < m; i++)
		r[i].pos = i;
	/* ground truth: the earliest arrival of each index is its first */
	qsort(r, m, sizeof(*r), by_idx_pos);
	for (uint32_t i = 0; i < m; i++) {
		r[i].first = i == 0 || r[i].idx != r[i - 1].idx;
		distinct += r[i].first;
	}
	qsort(r, m, sizeof(*r), by_pos);

	rss0 = rss_bytes();
	d = pps_dedup_new(n, BUDGET);
	cr_assert_not_null(d);
	cr_assert(pps_dedup_is_exact(d));
	rss1 = rss_bytes();
	cr_assert_lt(rss1 - rss0, 1u << 20, "mapping 1 GiB made %llu bytes resident",
		     (unsigned long long)(rss1 - rss0));
	for (uint32_t i = 0; i < m; i++) {
		int seen = pps_dedup_check_set(d, r[i].idx, 0, 0);

		cr_assert_eq(seen, !r[i].first, "response %u, target %llu: seen %d", i,
			     (unsigned long long)r[i].idx, seen);
		news += !seen;
		dups += seen;
	}
	cr_assert_eq(news, distinct);
	cr_assert_eq(dups, m - distinct);
	cr_assert_gt(dups, m / 2, "repeats: %u of %u", dups, m);
	rss2 = rss_bytes();
	/* 4,097 clusters of at most 2 pages each, well below the budget */
	cr_assert_lt(rss2 - rss1, 4097ULL * 2 * 4096 + (8u << 20), "resident: %llu bytes",
		     (unsigned long long)(rss2 - rss1));
	fprintf(stderr, "dedup 2^33: %u responses, %u targets, %u repeats, %llu KiB resident\n", m,
		distinct, dups, (unsigned long long)((rss2 - rss1) >> 10));
	pps_dedup_free(d);
	free(r);
}

Test(dedup, window_mode_first_zero_repeat_one)
{
	struct pps_dedup *d = pps_dedup_new((1ULL << 33) + 1, BUDGET);

	cr_assert_not_null(d);
	cr_assert(!pps_dedup_is_exact(d));
	cr_assert_eq(pps_dedup_check_set(d, 5, 0xc6120001, 80), 0);
	cr_assert_eq(pps_dedup_check_set(d, 5, 0xc6120001, 80), 1);
	/* window mode keys on (address, port); the index is not used */
	cr_assert_eq(pps_dedup_check_set(d, 999, 0xc6120001, 80), 1);
	cr_assert_eq(pps_dedup_check_set(d, 5, 0xc6120001, 81), 0);
	cr_assert_eq(pps_dedup_check_set(d, 5, 0xc6120002, 80), 0);
	/* extreme keys */
	cr_assert_eq(pps_dedup_check_set(d, 0, 0, 0), 0);
	cr_assert_eq(pps_dedup_check_set(d, 0, 0, 0), 1);
	cr_assert_eq(pps_dedup_check_set(d, 0, 0xffffffff, 0xffff), 0);
	cr_assert_eq(pps_dedup_check_set(d, 0, 0xffffffff, 0xffff), 1);
	pps_dedup_free(d);
}

/* A bijection of 32-bit words (Wellons' lowbias32): addresses in a random-looking order, as
 * the permutation sends them (an arithmetic sequence of keys would spread over the sets more
 * evenly than chance, and miss less than the formula says). */
static uint32_t mix32(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x7feb352dU;
	x ^= x >> 15;
	x *= 0x846ca68bU;
	x ^= x >> 16;
	return x;
}

/* P(Poisson(l) >= k) */
static double poisson_ge(double l, int k)
{
	double term = exp(-l), below = 0;

	for (int i = 0; i < k; i++) {
		below += term;
		term *= l / (i + 1);
	}
	return 1 - below;
}

/*
 * The window's documented miss rate (pps_dedup.h). A stream of distinct results over a
 * 2^33-target space with an 8 MiB budget (131,072 sets), each result repeated d results
 * later: the rate of repeats reported again is at least P(Poisson(d / sets) >= 8) (a key is
 * forgotten only after 8 newer keys in its set) and at most 10 times that (forgotten repeats
 * are recorded again and push out others), at d = sets and d = 2 sets; distinct keys are
 * never taken for repeats. The measured rates are what pps_dedup.h states.
 */
Test(dedup, window_miss_rate_matches_the_formula, .timeout = 60)
{
	const double fraction[] = { 1.0, 2.0 };

	for (size_t f = 0; f < 2; f++) {
		struct pps_dedup *d = pps_dedup_new(1ULL << 33, 8u << 20);
		uint64_t sets = pps_dedup_window_results(d) / PPS_DEDUP_WAYS;
		uint32_t dist = (uint32_t)(sets * fraction[f]), steps = 8000000, misses = 0,
			 false_pos = 0;
		double want = poisson_ge(fraction[f], PPS_DEDUP_WAYS), got;

		cr_assert_eq(sets, 131072);
		for (uint32_t t = 0; t < steps; t++) {
			/* target t: an address spread over IPv4, port 80 or 443 */
			false_pos += pps_dedup_check_set(d, 0, mix32(t >> 1), t & 1 ? 443 : 80);
			if (t >= dist) {
				uint32_t u = t - dist;

				misses +=
					!pps_dedup_check_set(d, 0, mix32(u >> 1), u & 1 ? 443 : 80);
			}
		}
		got = (double)misses / (steps - dist);
		fprintf(stderr,
			"dedup window: %llu sets, repeat after %u results: missed %.3g (formula %.3g)\n",
			(unsigned long long)sets, dist, got, want);
		cr_assert_eq(false_pos, 0);
		cr_assert(got >= want && got <= 10 * want, "missed %g, formula %g", got, want);
		pps_dedup_free(d);
	}
}

/* ---- ring ---- */

static struct pps_result res(uint32_t i)
{
	struct pps_result r = { 0 };

	r.saddr_h = i;
	r.tcp.seq_h = ~i;
	r.ts_ns = (uint64_t)i * 3;
	return r;
}

Test(ring, capacity_rounding)
{
	static const struct {
		size_t want, cap;
	} c[] = { { 0, 2 }, { 1, 2 },	    { 2, 2 },	    { 3, 4 },
		  { 5, 8 }, { 1000, 1024 }, { 1024, 1024 }, { 1025, 2048 } };

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct pps_ring *r = pps_ring_new(c[i].want);
		struct pps_result x = res(1);
		size_t pushed = 0;

		cr_assert_not_null(r);
		cr_assert_eq(r->mask + 1, c[i].cap, "capacity %zu", c[i].want);
		while (pps_ring_push(r, &x))
			pushed++;
		cr_assert_eq(pushed, c[i].cap, "capacity %zu holds %zu", c[i].want, pushed);
		pps_ring_free(r);
	}
	pps_ring_free(NULL);
}

Test(ring, full_fifo_partial_pop)
{
	struct pps_ring *r = pps_ring_new(8);
	struct pps_result out[16];
	uint32_t next_in = 0, next_out = 0;

	cr_assert_eq(pps_ring_pop(r, out, 16), 0, "empty");
	for (int i = 0; i < 8; i++) {
		struct pps_result x = res(next_in++);

		cr_assert_eq(pps_ring_push(r, &x), 1);
	}
	struct pps_result x = res(999);
	cr_assert_eq(pps_ring_push(r, &x), 0, "full");

	cr_assert_eq(pps_ring_pop(r, out, 3), 3, "partial pop");
	for (int i = 0; i < 3; i++, next_out++)
		cr_assert_eq(out[i].saddr_h, next_out);
	for (int i = 0; i < 3; i++) {
		x = res(next_in++);
		cr_assert_eq(pps_ring_push(r, &x), 1);
	}
	x = res(999);
	cr_assert_eq(pps_ring_push(r, &x), 0, "full again after wrap");

	cr_assert_eq(pps_ring_pop(r, out, 16), 8, "pop returns what is there");
	for (int i = 0; i < 8; i++, next_out++) {
		cr_assert_eq(out[i].saddr_h, next_out);
		cr_assert_eq(out[i].tcp.seq_h, ~next_out);
		cr_assert_eq(out[i].ts_ns, (uint64_t)next_out * 3);
	}
	cr_assert_eq(pps_ring_pop(r, out, 16), 0);
	cr_assert_eq(pps_ring_pop(r, out, 0), 0);
	pps_ring_free(r);
}

Test(ring, long_wraparound)
{
	struct pps_ring *r = pps_ring_new(4);
	struct pps_result out[4];
	uint32_t in = 0, expect = 0;

	for (int round = 0; round < 10000; round++) {
		int k = 1 + round % 4;

		for (int i = 0; i < k; i++) {
			struct pps_result x = res(in++);

			cr_assert_eq(pps_ring_push(r, &x), 1);
		}
		size_t got = pps_ring_pop(r, out, 4);

		cr_assert_eq(got, (size_t)k);
		for (size_t i = 0; i < got; i++)
			cr_assert_eq(out[i].saddr_h, expect++);
	}
	pps_ring_free(r);
}

#define STRESS_N 1000000u

static void *producer(void *arg)
{
	struct pps_ring *r = arg;

	for (uint32_t i = 0; i < STRESS_N; i++) {
		struct pps_result x = res(i);

		while (!pps_ring_push(r, &x))
			sched_yield();
	}
	return NULL;
}

Test(ring, spsc_two_threads_one_million)
{
	struct pps_ring *r = pps_ring_new(1024);
	struct pps_result out[64];
	uint32_t expect = 0, bad = 0;
	pthread_t t;

	cr_assert_eq(pthread_create(&t, NULL, producer, r), 0);
	while (expect < STRESS_N) {
		size_t got = pps_ring_pop(r, out, 1 + expect % 64);

		if (!got) {
			sched_yield();
			continue;
		}
		for (size_t i = 0; i < got; i++, expect++)
			bad += out[i].saddr_h != expect || out[i].tcp.seq_h != ~expect ||
			       out[i].ts_ns != (uint64_t)expect * 3;
	}
	cr_assert_eq(pthread_join(t, NULL), 0);
	cr_assert_eq(bad, 0, "%u results out of order or torn", bad);
	cr_assert_eq(expect, STRESS_N);
	cr_assert_eq(pps_ring_pop(r, out, 64), 0, "nothing extra");
	pps_ring_free(r);
}
