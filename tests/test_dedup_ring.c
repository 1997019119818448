/*
 * test_dedup_ring.c - the dedup structure in exact and window mode, and the SPSC results
 * ring: capacity rounding, full/empty behaviour, FIFO order, and a two-thread stress test.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <sched.h>

#include "pps_dedup.h"
#include "pps_ring.h"

Test(dedup, exact_mode_first_zero_repeat_one)
{
	struct pps_dedup *d = pps_dedup_new(1000);

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
	struct pps_dedup *d = pps_dedup_new(64);

	/* the same (address, port) under two indices are two targets in exact mode */
	cr_assert_eq(pps_dedup_check_set(d, 0, 0x0a000001, 80), 0);
	cr_assert_eq(pps_dedup_check_set(d, 63, 0x0a000001, 80), 0);
	cr_assert_eq(pps_dedup_check_set(d, 63, 0x0b000001, 81), 1);
	pps_dedup_free(d);
}

Test(dedup, exact_mode_largest_space)
{
	struct pps_dedup *d = pps_dedup_new(PPS_DEDUP_EXACT_MAX);
	uint64_t last = PPS_DEDUP_EXACT_MAX - 1;

	cr_assert_not_null(d);
	cr_assert(pps_dedup_is_exact(d));
	cr_assert_eq(pps_dedup_check_set(d, last, 0, 0), 0);
	cr_assert_eq(pps_dedup_check_set(d, last, 0, 0), 1);
	cr_assert_eq(pps_dedup_check_set(d, last - 1, 0, 0), 0);
	cr_assert_eq(pps_dedup_check_set(d, 0, 0, 0), 0);
	cr_assert_eq(pps_dedup_check_set(d, 0, 0, 0), 1);
	pps_dedup_free(d);
}

Test(dedup, window_mode_first_zero_repeat_one)
{
	struct pps_dedup *d = pps_dedup_new(PPS_DEDUP_EXACT_MAX + 1);

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

Test(dedup, window_mode_many_keys)
{
	struct pps_dedup *d = pps_dedup_new(1ULL << 40);
	const uint32_t n = 1000000;
	uint32_t false_pos = 0, forgotten = 0;

	/* distinct keys are never reported as seen, whatever was evicted */
	for (uint32_t i = 0; i < n; i++)
		false_pos += pps_dedup_check_set(d, 0, 0x0a000000 + i / 4, (uint16_t)(i % 4 + 1));
	cr_assert_eq(false_pos, 0);
	/* with 2^22 slots, the most recent 10000 of 10^6 keys are all remembered */
	for (uint32_t i = n - 10000; i < n; i++)
		forgotten += !pps_dedup_check_set(d, 0, 0x0a000000 + i / 4, (uint16_t)(i % 4 + 1));
	cr_assert_eq(forgotten, 0);
	pps_dedup_free(d);
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
