/*
 * Plans and the bad input around them (suite `redis`, no root, no packets: every case is
 * refused or answered before a device is opened), each test with its own redis-server on a
 * unix socket: a plan's keys; a second plan of the same scan id refused; a worker whose
 * options contradict the plan refused with one line naming the option, exit 2; a worker
 * repeating the plan's own value accepted (it goes on to the device: here a missing
 * interface, exit 2 with that message instead); --status of a planned scan; unknown scans.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "lab_util.h"
#include "redis_util.h"

#define BIN PPSCAN_PCAP_BIN
#define PLAN "-b " PPS_SOURCE_DIR "/scripts/lab-blocklist.conf -p 22,80 -e 9 -r 500 198.18.0.0/22"

static struct rt_redis rd;
static char out[256];

static void setup(void)
{
	cr_assert_eq(rt_redis_start(&rd, NULL), 0);
	snprintf(out, sizeof(out), "%s/out.txt", rd.dir);
	cr_assert_eq(lab_sh(BIN " --redis %s --scan-id p1 --plan --shards 4 --lease 7 " PLAN
				" 2>%s",
			    rd.url, out),
		     0, "--plan failed");
}

static void teardown(void)
{
	rt_redis_stop(&rd);
}

/* Runs the binary with @args against the test's Redis; exit status, output in `out`. */
static int run(const char *args)
{
	return lab_sh(BIN " --redis %s %s >%s 2>&1", rd.url, args, out);
}

/* 1 if `out` is exactly one line and contains @text. */
static int one_line_with(const char *text)
{
	char buf[2048];
	FILE *f = fopen(out, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	char *nl;

	if (f)
		fclose(f);
	buf[n] = '\0';
	nl = strchr(buf, '\n');
	if (!nl || nl[1] || !strstr(buf, text)) {
		fprintf(stderr, "output: %s\n", buf);
		return 0;
	}
	return 1;
}

Test(plan, keys_of_a_plan, .init = setup, .fini = teardown)
{
	redisContext *c = rt_connect(rd.sock, NULL);
	redisReply *r;
	char v[256];

	static const char *const want[][3] = {
		{ "plan", "shards", "4" },	 { "plan", "lease_ms", "7000" },
		{ "plan", "addresses", "1024" }, { "plan", "probes_total", "2048" },
		{ "meta", "state", "planned" },	 { "meta", "shards_pending", "4" },
	};

	cr_assert_not_null(c);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		char key[64];

		snprintf(key, sizeof(key), "ppscan:p1:%s", want[i][0]);
		cr_expect_str_eq(rt_hget(c, key, want[i][1], v, sizeof(v)), want[i][2], "%s %s",
				 key, want[i][1]);
	}
	r = redisCommand(c, "HGET ppscan:p1:plan config");
	cr_assert_eq(r->type, REDIS_REPLY_STRING);
	cr_expect(strstr(r->str, "seed = 9\n") && strstr(r->str, "target-ports = 22,80\n") &&
			  strstr(r->str, "targets = 198.18.0.0/22\n") &&
			  strstr(r->str, "rate = 500\n") && !strstr(r->str, "redis"),
		  "plan config:\n%s", r->str);
	freeReplyObject(r);
	r = redisCommand(c, "XLEN ppscan:p1:shards");
	cr_expect_eq(r->integer, 4);
	freeReplyObject(r);
	r = redisCommand(c, "XINFO GROUPS ppscan:p1:shards");
	cr_expect_eq(r->elements, 1, "one consumer group");
	freeReplyObject(r);
	redisFree(c);
}

Test(plan, a_second_plan_of_the_same_id_is_refused, .init = setup, .fini = teardown)
{
	cr_expect_eq(run("--scan-id p1 --plan --shards 2 " PLAN), 2);
	cr_expect(one_line_with("scan id 'p1' (from --scan-id) exists in Redis"));
}

Test(plan, a_worker_contradicting_the_plan_is_refused, .init = setup, .fini = teardown)
{
	static const struct {
		const char *args, *names;
	} bad[] = {
		{ "-e 10", "-e/--seed '10' contradicts the plan, which says '9'" },
		{ "-p 22", "-p/--target-ports '22' contradicts the plan, which says '22,80'" },
		{ "-r 1000", "-r/--rate '1000' contradicts the plan, which says '500'" },
		{ "-n 5", "-n/--max-targets '5' contradicts the plan, which does not set it" },
		{ "--shard 1", "--shard '1' contradicts the plan" },
		{ "-P 2", "-P/--probes '2' contradicts the plan" },
		{ "198.18.0.0/24", "target '198.18.0.0/24'" },
		{ "-t 5", "-t/--max-runtime '5' contradicts the plan" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char args[256];

		snprintf(args, sizeof(args), "--scan-id p1 --join -i ppsnone0 %s", bad[i].args);
		cr_expect_eq(run(args), 2, "%s: not refused", bad[i].args);
		cr_expect(one_line_with(bad[i].names), "%s: the message does not name it",
			  bad[i].args);
	}
}

Test(plan, a_worker_repeating_the_plan_goes_on, .init = setup, .fini = teardown)
{
	/* the plan's own values pass; the missing interface is then what stops it */
	cr_expect_eq(run("--scan-id p1 --join -i ppsnone0 -p 22,80 -e 9"), 2);
	cr_expect(one_line_with("ppsnone0"));
	cr_expect_eq(lab_sh("grep -q contradicts %s", out), 1);
}

Test(plan, unknown_scans_and_modes, .init = setup, .fini = teardown)
{
	cr_expect_eq(run("--scan-id nope --join -i ppsnone0"), 2);
	cr_expect(one_line_with("scan 'nope' (from --scan-id) has no plan"));
	cr_expect_eq(run("--scan-id nope --status"), 2);
	cr_expect(one_line_with("no scan 'nope'"));
	cr_expect_eq(run("--scan-id p2 --plan --shard 1 --shards 2 " PLAN), 2);
	cr_expect(one_line_with("--shard with --plan"));
	cr_expect_eq(run("--scan-id p2 --plan --join " PLAN), 2);
	cr_expect(one_line_with("give one of --plan, --join and --status"));
	cr_expect_eq(run("--scan-id p2 --lease 5 " PLAN), 2);
	cr_expect(one_line_with("--lease is part of the plan"));
	cr_expect_eq(run("--scan-id p2 --plan --metrics 0.0.0.0:99999 " PLAN), 2);
	cr_expect(one_line_with("invalid metrics address '0.0.0.0:99999' (from --metrics)"));
	cr_expect_eq(lab_sh(BIN " --scan-id p1 --status >%s 2>&1", out), 2);
	cr_expect(one_line_with("--status needs --redis URL and --scan-id ID"));
}

Test(plan, status_of_a_planned_scan, .init = setup, .fini = teardown)
{
	cr_expect_eq(lab_sh(BIN " --redis %s --scan-id p1 --status >%s 2>/dev/null", rd.url, out),
		     0);
	cr_expect(one_line_with("scan p1: planned; shards 4: 0 done, 0 running, 4 pending"));
}
