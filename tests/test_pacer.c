/*
 * test_pacer.c - the send pacer on a simulated clock (1 GHz ticks): long-run rate, the
 * largest count in any one-second window (checked at 1 ms resolution), behaviour after a
 * stall, fractional rates, unlimited mode, and giving probes back.
 */
#include <criterion/criterion.h>

#include "pps_pacer.h"

#define HZ 1000000000ULL
#define MS (HZ / 1000)

/*
 * Calls take(now, burst) once a ms over [0, ms_total) except during [stall_from, stall_to),
 * stores per-ms counts in @per_ms and returns the total.
 */
static uint64_t simulate(double rate, unsigned burst, uint64_t ms_total, uint64_t stall_from,
			 uint64_t stall_to, unsigned *per_ms)
{
	struct pps_pacer p;
	uint64_t total = 0;

	pps_pacer_init(&p, HZ, rate, burst, 0);
	for (uint64_t ms = 0; ms < ms_total; ms++) {
		unsigned n = 0;

		if (ms < stall_from || ms >= stall_to)
			n = pps_pacer_take(&p, ms * MS, burst);
		cr_assert_leq(n, burst);
		per_ms[ms] = n;
		total += n;
	}
	return total;
}

/* The largest number of probes in any window of @w consecutive ms. */
static uint64_t max_window(const unsigned *per_ms, uint64_t ms_total, uint64_t w)
{
	uint64_t sum = 0, best = 0;

	for (uint64_t ms = 0; ms < ms_total; ms++) {
		sum += per_ms[ms];
		if (ms >= w)
			sum -= per_ms[ms - w];
		if (sum > best)
			best = sum;
	}
	return best;
}

static unsigned per_ms[100000];

Test(pacer, rate_1000_burst_32_over_10_s)
{
	uint64_t total = simulate(1000, 32, 10000, 0, 0, per_ms);

	cr_assert(total >= 9999 && total <= 10001, "sent %llu in 10 s", (unsigned long long)total);
	cr_assert_leq(max_window(per_ms, 10000, 1000), 1100);
	/* and no window starves: each full second holds ~1000 */
	for (uint64_t s = 0; s < 10; s++) {
		uint64_t n = 0;

		for (uint64_t ms = s * 1000; ms < (s + 1) * 1000; ms++)
			n += per_ms[ms];
		cr_assert(n >= 999 && n <= 1001, "second %llu: %llu", (unsigned long long)s,
			  (unsigned long long)n);
	}
}

Test(pacer, stall_of_5_s_no_catch_up)
{
	/* sends for 3 s, stalls 5 s, sends 2 s more */
	uint64_t total = simulate(1000, 32, 10000, 3000, 8000, per_ms);

	cr_assert_leq(max_window(per_ms, 10000, 1000), 1100);
	cr_assert_leq(per_ms[8000], 32, "burst after the stall: %u", per_ms[8000]);
	cr_assert_geq(per_ms[8000], 1);
	/* 3000 before, ~2000 after, plus at most one burst of credit */
	cr_assert(total >= 4999 && total <= 5000 + 32, "sent %llu", (unsigned long long)total);
}

Test(pacer, stall_at_high_rate)
{
	/* 100 kpps, burst 32: credit is one burst, a 5 s stall gives no more */
	uint64_t total = simulate(100000, 32, 10000, 2000, 7000, per_ms);

	/* the caller can take at most 32 a ms here, so the pacer is capped at 32 kpps */
	cr_assert_leq(max_window(per_ms, 10000, 1000), 32000);
	cr_assert_leq(per_ms[7000], 32);
	cr_assert(total >= 4999 * 32 && total <= 5000 * 32, "sent %llu", (unsigned long long)total);
}

Test(pacer, poll_every_7_ms)
{
	struct pps_pacer p;
	uint64_t total = 0;

	pps_pacer_init(&p, HZ, 1000, 32, 0);
	for (uint64_t t = 0; t < 10 * HZ; t += 7 * MS) {
		unsigned n = pps_pacer_take(&p, t, 32);

		cr_assert_leq(n, 8);
		total += n;
	}
	cr_assert(total >= 9993 && total <= 10001, "sent %llu", (unsigned long long)total);
}

Test(pacer, fractional_half_pps)
{
	uint64_t total = simulate(0.5, 32, 100000, 0, 0, per_ms);
	uint64_t last = 0;
	int first = 1;

	cr_assert(total >= 49 && total <= 51, "sent %llu in 100 s", (unsigned long long)total);
	cr_assert_leq(max_window(per_ms, 100000, 1000), 1, "two probes within one second");
	for (uint64_t ms = 0; ms < 100000; ms++) {
		if (!per_ms[ms])
			continue;
		cr_assert_eq(per_ms[ms], 1);
		if (!first)
			cr_assert_eq(ms - last, 2000, "probe at %llu ms, previous at %llu ms",
				     (unsigned long long)ms, (unsigned long long)last);
		first = 0;
		last = ms;
	}
}

Test(pacer, fractional_after_stall)
{
	/* no credit below one probe: after a stall, one probe, then the next 2 s later */
	uint64_t total = simulate(0.5, 32, 20000, 1, 9500, per_ms);

	cr_assert_eq(per_ms[0], 1);
	cr_assert_eq(per_ms[9500], 1);
	cr_assert_eq(per_ms[11500], 1);
	cr_assert_leq(max_window(per_ms, 20000, 1000), 1);
	cr_assert_eq(total, 1 + 6); /* 9.5, 11.5, ..., 19.5 s */
}

Test(pacer, zero_rate_is_unlimited)
{
	struct pps_pacer p;

	pps_pacer_init(&p, HZ, 0, 32, 12345);
	cr_assert_eq(pps_pacer_take(&p, 0, 32), 32);
	cr_assert_eq(pps_pacer_take(&p, 0, 32), 32);
	cr_assert_eq(pps_pacer_take(&p, 12345, 7), 7);
	cr_assert_eq(pps_pacer_take(&p, UINT64_MAX / 2, 1000000), 1000000);
	pps_pacer_return(&p, 5);
	cr_assert_eq(pps_pacer_take(&p, 1, 3), 3);
}

Test(pacer, return_gives_probes_back)
{
	struct pps_pacer p;

	pps_pacer_init(&p, HZ, 1000, 32, 0);
	cr_assert_eq(pps_pacer_take(&p, 0, 32), 1);
	cr_assert_eq(pps_pacer_take(&p, 0, 32), 0, "not due yet");
	/* 10 ms later: 10 due */
	cr_assert_eq(pps_pacer_take(&p, 10 * MS, 32), 10);
	pps_pacer_return(&p, 4);
	cr_assert_eq(pps_pacer_take(&p, 10 * MS, 32), 4, "the returned probes are due again");
	cr_assert_eq(pps_pacer_take(&p, 10 * MS, 32), 0);
	cr_assert_eq(pps_pacer_take(&p, 11 * MS, 32), 1);
}

Test(pacer, starts_at_init_time)
{
	struct pps_pacer p;
	uint64_t t0 = 123456789ULL * MS;

	pps_pacer_init(&p, HZ, 1000, 32, t0);
	cr_assert_eq(pps_pacer_take(&p, t0, 32), 1, "one probe at once");
	cr_assert_eq(pps_pacer_take(&p, t0 + MS - 1, 32), 0);
	cr_assert_eq(pps_pacer_take(&p, t0 + MS, 32), 1);
	cr_assert_eq(pps_pacer_take(&p, t0 + 5 * MS, 2), 2, "never more than max");
	cr_assert_eq(pps_pacer_take(&p, t0 + 5 * MS, 32), 2);
}

Test(pacer, ten_million_pps)
{
	struct pps_pacer p;
	uint64_t total = 0;

	/* 10 Mpps, polled every 3 us (30 due each time), burst 32, for 1 simulated second */
	pps_pacer_init(&p, HZ, 1e7, 32, 0);
	for (uint64_t t = 0; t < HZ; t += 3000)
		total += pps_pacer_take(&p, t, 32);
	cr_assert(total >= 9999970 && total <= 10000030, "sent %llu", (unsigned long long)total);
}
