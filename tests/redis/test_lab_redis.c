/*
 * Scans into Redis in the lab (suite `lab`, root): ppscan over 198.18.0.0/20 x
 * {22,80,443,8080} (16,384 probes) with --redis and -o of the same scan.
 *  - the stream's set of (address, port, status) equals the CSV output, each result once,
 *    and matches the lab's ground truth; the meta hash says done with the right counters;
 *  - Redis killed (kill -9, AOF with fsync always) 2 s into a 2,000 pps scan and restarted
 *    3 s later: afterwards Redis holds every result exactly once (buffer and journal used);
 *    the same without persistence: the loss is noticed, counted and exit 1; with
 *    --redis-keep nothing is lost;
 *  - Redis unreachable at start: exit 2, one line naming the URL, not one frame sent.
 * Uses the lab "ppsr4" and its own redis-server instances (PPS_REDIS_SOCKET, the one
 * scripts/test.sh starts, for the first test when set).
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lab_util.h"
#include "redis_util.h"

#define LAB "ppsr4"
#define NS_SCAN LAB "-scan"
#define NS_TGT LAB "-tgt"
#define IF_SCAN LAB "s"
#define IF_TGT LAB "t"
#define EAL                                                                                        \
	"--no-huge -m 256 --no-shconf --no-telemetry --no-pci -l 0-1 --vdev net_af_packet0,iface=" IF_SCAN
#define SCAN_OPTS                                                                                  \
	"-b " PPS_SOURCE_DIR "/scripts/lab-blocklist.conf -S 198.19.0.2 --gateway-ip 198.19.0.1 "  \
	"-p 22,80,443,8080 -q --output-closed"

static char dir[] = "/tmp/ppscan-labredis-XXXXXX";

static void setup(void)
{
	cr_assert(geteuid() == 0, "the lab suite needs root");
	cr_assert_not_null(mkdtemp(dir));
	cr_assert_eq(lab_up(LAB), 0, "netlab.sh up failed");
}

static void teardown(void)
{
	lab_down(LAB);
	lab_sh("rm -rf %s", dir);
}

static int count_in(const struct lab_set *s, const char *suffix)
{
	int n = 0;
	size_t l = strlen(suffix);

	for (size_t i = 0; i < s->n; i++) {
		size_t k = strlen(s->items[i]);
		n += k > l && !strcmp(s->items[i] + k - l, suffix);
	}
	return n;
}

/*
 * The stream @key against the CSV @csv of the same scan and the lab truth: each result once,
 * the same set as the CSV, precision 100% and recall >= 99.9%. Fills @csv_set.
 */
static void check_stream(redisContext *c, const char *key, const char *csv, struct lab_set *csv_set)
{
	struct lab_set st, truth;
	long entries = rt_stream_set(c, key, &st);
	size_t common;

	cr_assert_gt(entries, 0, "stream %s is empty or unreadable", key);
	cr_assert_eq(rt_distinct(&st), (size_t)entries, "%ld entries but %zu distinct results",
		     entries, rt_distinct(&st));
	cr_assert_eq(lab_read_results(csv, csv_set), 0, "cannot read %s", csv);
	cr_assert_eq(st.n, csv_set->n, "stream has %zu results, CSV %zu", st.n, csv_set->n);
	cr_assert_eq(lab_set_common(&st, csv_set), csv_set->n, "stream and CSV differ");

	cr_assert_eq(lab_truth(&truth), 0);
	common = lab_set_common(&st, &truth);
	cr_assert_eq(common, st.n, "precision: %zu results not in the truth", st.n - common);
	cr_assert_geq(common * 1000, truth.n * 999, "recall %zu/%zu below 99.9%%", common, truth.n);
	lab_set_free(&truth);
	lab_set_free(&st);
}

static void check_meta(redisContext *c, const char *meta, const struct lab_set *csv)
{
	char v[64], want[32];

	cr_expect_str_eq(rt_hget(c, meta, "state", v, sizeof(v)), "done");
	cr_expect_str_eq(rt_hget(c, meta, "sent", v, sizeof(v)), "16384");
	cr_expect_str_eq(rt_hget(c, meta, "probes_total", v, sizeof(v)), "16384");
	snprintf(want, sizeof(want), "%d", count_in(csv, ",open"));
	cr_expect_str_eq(rt_hget(c, meta, "open", v, sizeof(v)), want);
	snprintf(want, sizeof(want), "%d", count_in(csv, ",closed"));
	cr_expect_str_eq(rt_hget(c, meta, "closed", v, sizeof(v)), want);
	snprintf(want, sizeof(want), "%zu", csv->n);
	cr_expect_str_eq(rt_hget(c, meta, "results", v, sizeof(v)), want);
	cr_expect_str_eq(rt_hget(c, meta, "pending", v, sizeof(v)), "0");
	cr_expect_str_eq(rt_hget(c, meta, "undelivered", v, sizeof(v)), "0");
}

Test(lab, scan_into_redis_equals_csv, .init = setup, .fini = teardown, .timeout = 240)
{
	struct rt_redis own = { 0 };
	const char *shared = getenv("PPS_REDIS_SOCKET");
	char sock[160], id[64], key[128], meta[128], out[256], err[256];
	struct lab_set csv;
	redisContext *c;
	redisReply *r;
	int rc;

	if (shared && *shared) {
		snprintf(sock, sizeof(sock), "%s", shared);
	} else {
		cr_assert_eq(rt_redis_start(&own, NULL), 0);
		snprintf(sock, sizeof(sock), "%s", own.sock);
	}
	snprintf(id, sizeof(id), "lab-%d", (int)getpid());
	snprintf(key, sizeof(key), "ppscan:%s:results", id);
	snprintf(meta, sizeof(meta), "ppscan:%s:meta", id);
	snprintf(out, sizeof(out), "%s/scan.csv", dir);
	snprintf(err, sizeof(err), "%s/scan.err", dir);

	rc = lab_sh(
		"cd %s && ip netns exec " NS_SCAN " " PPSCAN_BIN " " EAL " -- " SCAN_OPTS
		" -r 20000 -c 3 --seed 7 -o %s --redis unix://%s --scan-id %s 198.18.0.0/20 2>%s",
		dir, out, sock, id, err);
	cr_assert_eq(rc, 0, "ppscan exited %d; stderr in %s", rc, err);
	cr_expect_eq(lab_sh("grep -q 'redis: scan %s -> stream %s' %s", id, key, err), 0,
		     "the scan id is not printed at start");
	cr_expect_neq(lab_sh("ls %s/*.journal >/dev/null 2>&1", dir), 0, "a journal was left");

	c = rt_connect(sock, NULL);
	cr_assert_not_null(c);
	check_stream(c, key, out, &csv);
	check_meta(c, meta, &csv);
	r = redisCommand(c, "SISMEMBER ppscan:scans %s", id);
	cr_expect_eq(r->integer, 1, "scan id not in ppscan:scans");
	freeReplyObject(r);
	freeReplyObject(redisCommand(c, "DEL %s %s ppscan:%s:batches", key, meta, id));
	freeReplyObject(redisCommand(c, "SREM ppscan:scans %s", id));
	redisFree(c);
	lab_set_free(&csv);
	rt_redis_stop(&own);
}

/*
 * ppscan into a redis-server started with @server_args, killed with SIGKILL 2 s into a
 * 2,000 pps scan and started again 3 s later; @opts are more scan options. Returns the
 * exit status; @out and @err are the CSV and stderr files, the server stays up in @rd.
 */
static int scan_through_a_kill(struct rt_redis *rd, const char *server_args, const char *id,
			       const char *opts, char *out, char *err)
{
	char cmd[2048];
	pid_t pid;
	int st;

	cr_assert_eq(rt_redis_start(rd, server_args), 0);
	snprintf(out, 256, "%s/%s.csv", dir, id);
	snprintf(err, 256, "%s/%s.err", dir, id);
	/* 16,384 probes at 2,000 pps: about 8 s of sending; a 1,024-result buffer, so the
	 * journal takes the rest of the outage */
	snprintf(cmd, sizeof(cmd),
		 "cd %s && exec ip netns exec " NS_SCAN " " PPSCAN_BIN " " EAL " -- " SCAN_OPTS
		 " -r 2000 -c 3 --seed 8 -o %s --redis %s --scan-id %s --redis-buffer 1024 %s"
		 " 198.18.0.0/20 2>%s",
		 dir, out, rd->url, id, opts, err);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	sleep(2);
	rt_redis_kill(rd);
	sleep(3);
	cr_assert_eq(rt_redis_restart(rd), 0, "redis-server did not come back");
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st), "ppscan died (status %d); stderr in %s", st, err);
	cr_expect_eq(lab_sh("grep -q 'redis: lost' %s", err), 0, "no outage noticed");
	cr_expect_eq(lab_sh("grep -q 'redis: reconnected' %s", err), 0, "no reconnect");
	return WEXITSTATUS(st);
}

/* AOF fsynced before every reply: what Redis confirmed survives kill -9, and no alarm */
Test(lab, redis_killed_mid_scan_every_result_once, .init = setup, .fini = teardown, .timeout = 300)
{
	struct rt_redis rd;
	char out[256], err[256];
	struct lab_set csv;
	redisContext *c;

	cr_assert_eq(scan_through_a_kill(&rd, "--appendonly yes --appendfsync always", "killed", "",
					 out, err),
		     0, "ppscan failed; stderr in %s", err);
	cr_expect_eq(lab_sh("grep -Eq 'buffered and [1-9][0-9]* journaled' %s", err), 0,
		     "the journal was not used");
	cr_expect_neq(lab_sh("grep -q 'results it had confirmed' %s", err), 0, "a false alarm");
	cr_expect_neq(lab_sh("grep -q 'persists' %s", err), 0, "a note about persistence");
	cr_expect_neq(lab_sh("ls %s/*.journal >/dev/null 2>&1", dir), 0, "a journal was left");

	c = rt_connect(rd.sock, NULL);
	cr_assert_not_null(c);
	check_stream(c, "ppscan:killed:results", out, &csv);
	check_meta(c, "ppscan:killed:meta", &csv);
	{
		char v[32];
		cr_expect_neq(strcmp(rt_hget(c, "ppscan:killed:meta", "outages", v, sizeof(v)),
				     "0"),
			      0, "meta shows no outage");
		cr_expect_str_eq(rt_hget(c, "ppscan:killed:meta", "lost", v, sizeof(v)), "0");
	}
	redisFree(c);
	lab_set_free(&csv);
	rt_redis_stop(&rd);
}

/* No persistence: what Redis had confirmed is gone; ppscan says how much, the meta hash
 * counts it, the final count is what the stream holds, and the exit code is 1 */
Test(lab, redis_without_persistence_killed_loss_reported, .init = setup, .fini = teardown,
     .timeout = 300)
{
	struct rt_redis rd;
	char out[256], err[256], v[32], line[64];
	struct lab_set csv;
	long held;
	unsigned long long lost = 0, reported = 0;
	redisContext *c;
	FILE *f;

	cr_assert_eq(scan_through_a_kill(&rd, NULL, "forgot", "", out, err), 1,
		     "ppscan did not exit 1; stderr in %s", err);
	cr_expect_eq(lab_sh("grep -q 'persists nothing' %s", err), 0, "no note at start");
	c = rt_connect(rd.sock, NULL);
	cr_assert_not_null(c);
	{
		redisReply *r = redisCommand(c, "XLEN ppscan:forgot:results");
		held = r->integer;
		freeReplyObject(r);
	}
	cr_assert_eq(lab_read_results(out, &csv), 0, "cannot read %s", out);
	cr_assert_gt(held, 0);
	cr_assert_lt(held, (long)csv.n, "the stream holds %ld of %zu: nothing was lost?", held,
		     csv.n);
	cr_assert_eq(strtol(rt_hget(c, "ppscan:forgot:meta", "results", v, sizeof(v)), NULL, 10),
		     held);
	lost = strtoull(rt_hget(c, "ppscan:forgot:meta", "lost", v, sizeof(v)), NULL, 10);
	cr_assert_eq((long)lost + held, (long)csv.n, "lost %llu + held %ld != the CSV's %zu", lost,
		     held, csv.n);
	/* the lines: the loss when noticed, the final count, the loss at the end */
	snprintf(line, sizeof(line), "lost %llu results it had confirmed", lost);
	cr_expect_eq(lab_sh("grep -q '%s' %s", line, err), 0, "no '%s' in %s", line, err);
	f = fopen(err, "r");
	cr_assert_not_null(f);
	{
		char buf[512];
		while (fgets(buf, sizeof(buf), f))
			if (strstr(buf, "results in ppscan:forgot:results"))
				sscanf(strstr(buf, "redis: ") + 7, "%llu", &reported);
	}
	fclose(f);
	cr_assert_eq((long)reported, held, "reported %llu results, the stream holds %ld", reported,
		     held);
	lab_set_free(&csv);
	redisFree(c);
	rt_redis_stop(&rd);
}

/* No persistence, --redis-keep: the lost results are sent again; the stream is complete */
Test(lab, redis_without_persistence_killed_keep_loses_nothing, .init = setup, .fini = teardown,
     .timeout = 300)
{
	struct rt_redis rd;
	char out[256], err[256];
	struct lab_set csv;
	redisContext *c;

	cr_assert_eq(scan_through_a_kill(&rd, NULL, "kept", "--redis-keep", out, err), 0,
		     "ppscan failed; stderr in %s", err);
	cr_expect_eq(lab_sh("grep -Eq 'lost [0-9]+ results it had confirmed.*sending' %s", err), 0,
		     "no resend said");
	cr_expect_neq(lab_sh("ls %s/*.kept >/dev/null 2>&1", dir), 0, "a keep file was left");
	c = rt_connect(rd.sock, NULL);
	cr_assert_not_null(c);
	check_stream(c, "ppscan:kept:results", out, &csv);
	{
		char v[32];
		cr_expect_str_eq(rt_hget(c, "ppscan:kept:meta", "lost", v, sizeof(v)), "0");
		cr_expect_neq(strcmp(rt_hget(c, "ppscan:kept:meta", "lost_resent", v, sizeof(v)),
				     "0"),
			      0, "nothing was sent again");
	}
	redisFree(c);
	lab_set_free(&csv);
	rt_redis_stop(&rd);
}

Test(lab, redis_unreachable_at_start_sends_nothing, .init = setup, .fini = teardown, .timeout = 120)
{
	char pcap[256], err[256];
	int cap, rc;

	snprintf(pcap, sizeof(pcap), "%s/none.pcap", dir);
	snprintf(err, sizeof(err), "%s/none.err", dir);
	cap = lab_capture_start(NS_TGT, IF_TGT, pcap, "not arp");
	rc = lab_sh("cd %s && ip netns exec " NS_SCAN " " PPSCAN_BIN " " EAL " -- " SCAN_OPTS
		    " -r 20000 -c 1 --redis unix://%s/no.sock 198.18.0.0/20 >/dev/null 2>%s",
		    dir, dir, err);
	lab_capture_stop(cap);
	cr_expect_eq(rc, 2, "exit %d, expected 2", rc);
	cr_expect_eq(lab_sh("test $(wc -l < %s) -eq 1", err), 0, "not one error line");
	cr_expect_eq(lab_sh("grep -q 'cannot use Redis at unix://%s/no.sock (from --redis)' %s",
			    dir, err),
		     0, "the error does not name the URL");
	{
		struct lab_set probes;
		long others = lab_read_probes(pcap, &probes);

		cr_assert_geq(others, 0, "cannot read the capture %s", pcap);
		cr_expect_eq(probes.n + (size_t)others, 0, "%zu probes and %ld other frames sent",
			     probes.n, others);
		lab_set_free(&probes);
	}
}
