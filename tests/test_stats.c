/*
 * test_stats.c - counters and the text both binaries print: the ZMap-shaped status line
 * (exact output for a known state, shape for many states, never NaN/inf, progress clamped
 * to 100%) and the end-of-scan summary.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <regex.h>

#include "pps_stats.h"
#include "unit_util.h"

#define RATE "([0-9]+ p/s|[0-9]+\\.[0-9]{2} [KMG]p/s)"
#define LEFT "([0-9]+s|[0-9]+m[0-9]{2}s|[0-9]+h[0-9]{2}m)"
static const char *const status_re = "^ ?[0-9]+:[0-9]{2} ([0-9]|[1-9][0-9]|100)% \\(" LEFT
				     " left\\); "
				     "send: [0-9]+ (" RATE "|done) \\(" RATE " avg\\); "
				     "recv: [0-9]+ " RATE " \\(" RATE " avg\\); "
				     "drops: " RATE " \\(" RATE " avg\\); "
				     "hitrate: [0-9]+\\.[0-9]{2}%$";

static void expect_shape(const char *line)
{
	regex_t re;
	int rc;

	cr_assert_eq(regcomp(&re, status_re, REG_EXTENDED | REG_NOSUB), 0);
	rc = regexec(&re, line, 0, NULL, 0);
	regfree(&re);
	cr_assert_eq(rc, 0, "not ZMap's shape: '%s'", line);
	cr_assert_null(strstr(line, "nan"), "%s", line);
	cr_assert_null(strstr(line, "inf"), "%s", line);
	cr_assert_null(strstr(line, "NaN"), "%s", line);
	cr_assert_null(strstr(line, "-"), "negative value: %s", line);
	cr_assert_not_null(strstr(line, "% ("));
	cr_assert_not_null(strstr(line, "left); send: "));
	cr_assert_not_null(strstr(line, "; recv: "));
	cr_assert_not_null(strstr(line, "; drops: "));
	cr_assert_not_null(strstr(line, "; hitrate: "));
}

/* The progress percentage printed in @line. */
static int pct_of(const char *line)
{
	const char *p = strchr(line, ':');

	cr_assert_not_null(p);
	return atoi(p + 4);
}

Test(stats, totals_sum)
{
	static struct pps_counters c[3];
	struct pps_totals t = { 0 };

	t.nic_drops = 77;
	for (int i = 0; i < 3; i++) {
		pps_counter_add(&c[i].sent, 100 * (i + 1));
		pps_counter_add(&c[i].sent, 1);
		pps_counter_add(&c[i].tx_full, 1);
		pps_counter_add(&c[i].recv, 10);
		pps_counter_add(&c[i].valid, 5);
		pps_counter_add(&c[i].open, 3);
		pps_counter_add(&c[i].closed, 2);
		pps_counter_add(&c[i].dup, 1);
		pps_counter_add(&c[i].invalid, 4);
		pps_counter_add(&c[i].malformed, 6);
		pps_counter_add(&c[i].not_ours, 7);
		pps_counter_add(&c[i].ring_full, 8);
	}
	pps_totals_sum(&t, c, 3);
	cr_assert_eq(t.sent, 603);
	cr_assert_eq(t.tx_full, 3);
	cr_assert_eq(t.recv, 30);
	cr_assert_eq(t.valid, 15);
	cr_assert_eq(t.open, 9);
	cr_assert_eq(t.closed, 6);
	cr_assert_eq(t.dup, 3);
	cr_assert_eq(t.invalid, 12);
	cr_assert_eq(t.malformed, 18);
	cr_assert_eq(t.not_ours, 21);
	cr_assert_eq(t.ring_full, 24);
	cr_assert_eq(t.nic_drops, 77, "device drops are not the counters' to overwrite");
	pps_totals_sum(&t, c, 1);
	cr_assert_eq(t.sent, 101, "summing starts from zero");
}

Test(stats, status_exact_line)
{
	struct pps_totals now = { 0 }, prev = { 0 };
	struct pps_status_ctx ctx = { 0 };
	char buf[512];

	now.sent = 1203100;
	now.open = 1000;
	now.closed = 311;
	prev.sent = 963100;
	prev.open = 1000;
	ctx.elapsed_s = 5;
	ctx.dt_s = 1;
	ctx.total_probes = 10000000;
	pps_status_format(buf, sizeof(buf), &now, &prev, &ctx);
	cr_assert_str_eq(buf, " 0:05 12% (37s left); send: 1203100 240.00 Kp/s (240.62 Kp/s avg); "
			      "recv: 1311 311 p/s (262 p/s avg); drops: 0 p/s (0 p/s avg); "
			      "hitrate: 0.08%");
	expect_shape(buf);
	/* the cooldown still to come counts in the time left */
	ctx.cooldown_left_s = 8;
	pps_status_format(buf, sizeof(buf), &now, &prev, &ctx);
	cr_assert(strstr(buf, "(45s left)"), "%s", buf);
}

/* Hit rate counts targets, not probes: with -P 3, 6 open of 32 targets is 18.75% (not the
 * 6.25% of 96 probes), and while the first pass runs it is open over targets probed. */
Test(stats, hit_rate_counts_targets)
{
	struct pps_totals now = { .sent = 96, .open = 6 }, prev = { .sent = 96 };
	struct pps_status_ctx ctx = { .elapsed_s = 10,
				      .dt_s = 1,
				      .total_probes = 96,
				      .probes = 3,
				      .sending_done = 1,
				      .send_elapsed_s = 9 };
	char buf[512];

	pps_status_format(buf, sizeof(buf), &now, &prev, &ctx);
	cr_assert(strstr(buf, "hitrate: 18.75%"), "%s", buf);
	cr_assert_float_eq(pps_hit_rate(&now, 96, 3), 18.75, 1e-9);
	/* first pass half done: 16 targets probed, 4 open */
	now.sent = 16;
	now.open = 4;
	cr_assert_float_eq(pps_hit_rate(&now, 96, 3), 25.0, 1e-9);
	/* second pass: every target probed once already */
	now.sent = 50;
	cr_assert_float_eq(pps_hit_rate(&now, 96, 3), 12.5, 1e-9);
	/* one probe a target: over probes sent, as before */
	cr_assert_float_eq(pps_hit_rate(&now, 100, 1), 8.0, 1e-9);
	now.sent = 0;
	cr_assert_float_eq(pps_hit_rate(&now, 96, 3), 0.0, 1e-9);
}

Test(stats, status_cooldown_line)
{
	struct pps_totals now = { 0 }, prev = { 0 };
	struct pps_status_ctx ctx = { 0 };
	char buf[512];

	now.sent = prev.sent = 1000;
	now.open = 5;
	now.nic_drops = 20;
	prev.nic_drops = 10;
	ctx.elapsed_s = 65;
	ctx.dt_s = 1;
	ctx.total_probes = 1000;
	ctx.sending_done = 1;
	ctx.send_elapsed_s = 60;
	ctx.cooldown_left_s = 5.6;
	pps_status_format(buf, sizeof(buf), &now, &prev, &ctx);
	cr_assert_str_eq(buf, " 1:05 100% (6s left); send: 1000 done (17 p/s avg); recv: 5 5 p/s "
			      "(0 p/s avg); drops: 10 p/s (0 p/s avg); hitrate: 0.50%");
	expect_shape(buf);
}

Test(stats, long_durations)
{
	struct pps_totals now = { 0 }, prev = { 0 };
	struct pps_status_ctx ctx = { 0 };
	char buf[512];

	now.sent = 1000;
	prev.sent = 999;
	ctx.elapsed_s = 3725; /* 62 min 5 s */
	ctx.dt_s = 1;
	ctx.total_probes = 10000;
	pps_status_format(buf, sizeof(buf), &now, &prev, &ctx);
	expect_shape(buf);
	cr_assert_eq(strncmp(buf, "62:05 10% (9h18m left)", 22), 0, "%s", buf);
}

Test(stats, never_nan_and_clamped)
{
	/* zeros, sent beyond the total, counters going backwards, odd contexts */
	static const struct {
		uint64_t sent, prev_sent, open, total;
		uint64_t drops, prev_drops;
		double elapsed, dt, send_elapsed, left;
		int done;
	} c[] = {
		{ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
		{ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 },
		{ 0, 0, 0, 100, 0, 0, 0, 0, 0, 0, 0 },
		{ 150, 100, 10, 100, 0, 0, 2, 1, 0, 0, 0 }, /* more sent than planned */
		{ 150, 100, 10, 100, 0, 0, 2, 1, 2, 3, 1 },
		{ 50, 80, 0, 100, 0, 0, 2, 1, 0, 0, 0 },  /* sent went backwards */
		{ 50, 180, 0, 100, 0, 0, 2, 1, 0, 0, 0 }, /* ... from beyond the total */
		{ 50, 180, 0, 0, 0, 0, 2, 1, 0, 0, 0 },
		{ 10, 5, 100, 100, 5, 9, 2, 1, 0, 0, 0 },   /* drops went backwards */
		{ 10, 5, 1, 100, 0, 0, -1, -1, -1, -1, 0 }, /* negative times */
		{ 10, 5, 1, 100, 0, 0, 1e-6, 1e-6, 1e-6, 1e9, 1 },
		{ 10, 5, 1, 100, 0, 0, 1, 0, 0, INFINITY, 1 },
		{ 10, 5, 1, 100, 0, 0, 1, 0, 0, NAN, 1 },
		{ UINT64_MAX, 0, 0, UINT64_MAX, 0, 0, 1, 1, 1, 0, 0 },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct pps_totals now = { 0 }, prev = { 0 };
		struct pps_status_ctx ctx = { 0 };
		char buf[512];

		now.sent = c[i].sent;
		prev.sent = c[i].prev_sent;
		now.open = c[i].open;
		now.nic_drops = c[i].drops;
		prev.nic_drops = c[i].prev_drops;
		ctx.total_probes = c[i].total;
		ctx.elapsed_s = c[i].elapsed;
		ctx.dt_s = c[i].dt;
		ctx.send_elapsed_s = c[i].send_elapsed;
		ctx.cooldown_left_s = c[i].left;
		ctx.sending_done = c[i].done;
		pps_status_format(buf, sizeof(buf), &now, &prev, &ctx);
		cr_log_info("case %zu: %s", i, buf);
		expect_shape(buf);
		cr_assert_leq(pct_of(buf), 100, "case %zu: %s", i, buf);
		/* a counter that went backwards has no rate, rather than an absurd one */
		if (now.sent < prev.sent || now.nic_drops < prev.nic_drops)
			cr_assert_null(strstr(buf, "Gp/s"), "case %zu: %s", i, buf);
	}
}

Test(stats, progress_values)
{
	static const struct {
		uint64_t sent, total;
		int pct;
	} c[] = { { 0, 100, 0 },     { 1, 100, 1 },	{ 50, 100, 50 },
		  { 100, 100, 100 }, { 101, 100, 100 }, { 5, 0, 100 } };

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct pps_totals now = { 0 }, prev = { 0 };
		struct pps_status_ctx ctx = { 0 };
		char buf[512];

		now.sent = c[i].sent;
		ctx.total_probes = c[i].total;
		ctx.elapsed_s = 1;
		ctx.dt_s = 1;
		pps_status_format(buf, sizeof(buf), &now, &prev, &ctx);
		cr_assert_eq(pct_of(buf), c[i].pct, "case %zu: %s", i, buf);
	}
}

Test(stats, short_buffer_is_terminated)
{
	struct pps_totals now = { 0 }, prev = { 0 };
	struct pps_status_ctx ctx = { 0 };
	char buf[16];

	memset(buf, 'x', sizeof(buf));
	cr_assert_eq(pps_status_format(buf, 10, &now, &prev, &ctx), buf);
	cr_assert_eq(strlen(buf), 9);
	cr_assert_eq(buf[10], 'x', "wrote past len");
}

Test(stats, summary)
{
	struct pps_totals t = { 0 };
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	t.sent = 1000;
	t.recv = 40;
	t.valid = 30;
	t.open = 20;
	t.closed = 8;
	t.invalid = 3;
	t.dup = 2;
	t.malformed = 1;
	t.not_ours = 6;
	t.nic_drops = 4;
	t.ring_full = 5;
	t.rst = 19;
	t.rst_lost = 1;
	pps_summary_print(f, "ppscan", &t, 12.5, 42, 0);
	pps_summary_print(f, "ppscan", &t, 1, 1, 1);
	fclose(f);
	cr_assert_str_eq(text, "ppscan: summary: seed 42, 12.50 s\n"
			       "ppscan:   sent 1000, received 40, valid 30\n"
			       "ppscan:   open 20, closed 8, invalid 3, duplicates 2\n"
			       "ppscan:   malformed 1, not ours 6, NIC drops 4, "
			       "results lost (ring full) 5\n"
			       "ppscan:   RSTs sent to close half-open connections 19, not sent 1\n"
			       "ppscan: summary: seed 1, 1.00 s\n"
			       "ppscan:   sent 1000, received 40, valid 30\n"
			       "ppscan:   open 20, closed 8, invalid 3, duplicates 2\n"
			       "ppscan:   malformed 1, not ours 6, NIC drops 4, "
			       "results lost (ring full) 5\n"
			       "ppscan:   RSTs to close half-open connections: off (--no-rst)\n");
	free(text);
}

Test(stats, send_phase_line)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	pps_send_phase_print(f, "ppscan-pcap", 2.0, 16384);
	pps_send_phase_print(f, "ppscan", 0, 0); /* nothing sent: no division by zero */
	fclose(f);
	cr_assert_str_eq(text, "ppscan-pcap:   send phase 2.000000 s, 16384 probes, 8192 probes/s\n"
			       "ppscan:   send phase 0.000000 s, 0 probes, 0 probes/s\n");
	free(text);
}
