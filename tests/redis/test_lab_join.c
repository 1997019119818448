/*
 * One planned scan, several workers (suite `lab`, root): ppscan-pcap processes join a plan
 * of the lab's 198.18.0.0/20 x {22,80,443,8080} (16,384 probes, --output-closed) through a
 * private redis-server on a unix socket. Each worker has its own source address in the
 * scan namespace (198.19.0.2, .3, .4: its BPF filter sees only its own responses).
 *  - three workers, one killed with SIGKILL 40% into a shard: the union of results is the
 *    lab's truth, a capture in the target namespace shows every target probed at least once
 *    and none more than twice, the stream holds each (address, port) once, state done;
 *  - Redis killed (kill -9, AOF fsync always) and restarted during a joined scan: every
 *    result once, state done;
 *  - Prometheus (Debian's server, in the scan namespace, on its own loopback) scrapes a
 *    worker's --metrics; the values read back through its HTTP query API equal the
 *    worker's summary.
 * Uses the lab "ppsj14".
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lab_util.h"
#include "redis_util.h"

#define LAB "ppsj14"
#define NS_SCAN LAB "-scan"
#define NS_TGT LAB "-tgt"
#define IF_SCAN LAB "s"
#define IF_TGT LAB "t"
#define PLAN_OPTS                                                                                  \
	"-b " PPS_SOURCE_DIR "/scripts/lab-blocklist.conf -p 22,80,443,8080 --output-closed "      \
	"-e 14 -c 1 198.18.0.0/20"

static char dir[] = "/tmp/ppscan-labjoin-XXXXXX";

static void setup(void)
{
	lab_suite_setup(LAB, dir);
}

static void teardown(void)
{
	lab_suite_teardown(LAB, dir);
}

/* Starts a worker with source 198.19.0.@host; stderr to DIR/w@host.err. Returns its pid. */
static pid_t worker(const char *url, const char *id, int host, const char *extra)
{
	char cmd[2048];
	pid_t pid;

	snprintf(cmd, sizeof(cmd),
		 "cd %s && exec ip netns exec " NS_SCAN " " PPSCAN_PCAP_BIN " -i " IF_SCAN
		 " -S 198.19.0.%d --gateway-ip 198.19.0.1 -q --redis %s --scan-id %s --join"
		 " --worker w%d %s 2>%s/w%d.err",
		 dir, host, url, id, host, extra ? extra : "", dir, host);
	pid = fork();
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	return pid;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int wait_ok(pid_t pid)
{
	int st;

	return waitpid(pid, &st, 0) == pid && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The stream as "ip,port,status" lines: each once, and exactly the lab's truth. */
static void check_results(redisContext *c, const char *id)
{
	struct lab_set st, truth;
	char key[128];
	long n;

	snprintf(key, sizeof(key), "ppscan:%s:results", id);
	n = rt_stream_set(c, key, &st);
	cr_assert_gt(n, 0, "stream %s is empty", key);
	cr_expect_eq(rt_distinct(&st), (size_t)n, "%ld entries but %zu distinct results", n,
		     rt_distinct(&st));
	cr_assert_eq(lab_truth(&truth), 0);
	cr_expect_eq(lab_set_common(&st, &truth), truth.n, "recall: %zu of %zu truth results",
		     lab_set_common(&st, &truth), truth.n);
	cr_expect_eq(lab_set_common(&st, &truth), st.n, "precision: %zu results not in the truth",
		     st.n - lab_set_common(&st, &truth));
	lab_set_free(&st);
	lab_set_free(&truth);
}

static void check_done(redisContext *c, const char *id, const char *shards)
{
	char meta[128], v[64];

	snprintf(meta, sizeof(meta), "ppscan:%s:meta", id);
	cr_expect_str_eq(rt_hget(c, meta, "state", v, sizeof(v)), "done");
	cr_expect_str_eq(rt_hget(c, meta, "shards_done", v, sizeof(v)), shards);
	cr_expect_str_eq(rt_hget(c, meta, "results", v, sizeof(v)), "15104");
}

/* Waits until @path contains @text (grep -q), at most @secs. 0 when found. */
static int wait_for(const char *path, const char *text, double secs)
{
	for (int i = 0; i < (int)(secs * 20); i++) {
		if (lab_sh("grep -q '%s' %s 2>/dev/null", text, path) == 0)
			return 0;
		usleep(50000);
	}
	return -1;
}

Test(lab, three_workers_one_killed_every_target_once, .init = setup, .fini = teardown,
     .timeout = 300)
{
	struct rt_redis rd;
	struct lab_set probes;
	char pcap[256], err[256];
	pid_t w[3];
	int cap, max_seen = 0;
	size_t distinct = 0;
	redisContext *c;

	cr_assert_eq(rt_redis_start(&rd, NULL), 0);
	snprintf(pcap, sizeof(pcap), "%s/probes.pcap", dir);
	/* 6 shards of ~2,731 probes at 300 pps a shard: ~9.1 s each, two per worker */
	cr_assert_eq(lab_sh(PPSCAN_PCAP_BIN " --redis %s --scan-id j3 --plan --shards 6 --lease 3 "
					    "-r 300 " PLAN_OPTS " 2>%s/plan.err",
			    rd.url, dir),
		     0, "--plan failed");
	cap = lab_capture_start(NS_TGT, IF_TGT, pcap,
				"tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn");
	for (int i = 0; i < 3; i++)
		w[i] = worker(rd.url, "j3", 2 + i, NULL);
	/* the first worker, 40% into its first shard (~3.6 s of ~9.1 s: its checkpoints of
	 * 1 s and 2 s in are written by then) */
	snprintf(err, sizeof(err), "%s/w2.err", dir);
	cr_assert_eq(wait_for(err, "join: shard", 20), 0, "worker w2 never claimed a shard");
	usleep(3600000);
	kill(w[0], SIGKILL);
	/* ip netns exec replaced sh, and exec'ed the scanner: the pid is the scanner's */
	waitpid(w[0], NULL, 0);
	cr_expect_eq(wait_ok(w[1]), 0, "worker w3 failed; see %s/w3.err", dir);
	cr_expect_eq(wait_ok(w[2]), 0, "worker w4 failed; see %s/w4.err", dir);
	lab_capture_stop(cap);
	cr_expect_eq(lab_sh("cat %s/w3.err %s/w4.err | grep -q 'resumed at index'", dir, dir), 0,
		     "no worker took the killed worker's shard over from its checkpoint");

	c = rt_connect(rd.sock, NULL);
	cr_assert_not_null(c);
	check_results(c, "j3");
	check_done(c, "j3", "6");
	redisFree(c);

	/* every target probed at least once, none more than twice */
	cr_assert_geq(lab_read_probes(pcap, &probes), 0, "cannot read %s", pcap);
	for (size_t i = 0; i < probes.n; i++) /* "daddr,dport,sport,seq" -> "daddr,dport" */
		*strchr(strchr(probes.items[i], ',') + 1, ',') = '\0';
	qsort(probes.items, probes.n, sizeof(char *), cmp_str); /* equal targets adjacent */
	for (size_t i = 0, run = 0; i < probes.n; i++) {
		run = i && !strcmp(probes.items[i], probes.items[i - 1]) ? run + 1 : 1;
		if (run == 1)
			distinct++;
		if ((int)run > max_seen)
			max_seen = (int)run;
	}
	cr_expect_eq(distinct, 16384, "%zu of 16384 targets probed", distinct);
	cr_expect_leq(max_seen, 2, "a target was probed %d times", max_seen);
	cr_expect_gt(probes.n, 16384, "no probe was sent twice: the kill came too late to test");
	lab_set_free(&probes);
	rt_redis_stop(&rd);
}

Test(lab, redis_restarted_during_joined_scan, .init = setup, .fini = teardown, .timeout = 300)
{
	struct rt_redis rd;
	redisContext *c;
	pid_t w[2];

	cr_assert_eq(rt_redis_start(&rd, "--appendonly yes --appendfsync always"), 0);
	cr_assert_eq(lab_sh(PPSCAN_PCAP_BIN " --redis %s --scan-id jr --plan --shards 4 --lease 10 "
					    "-r 1000 " PLAN_OPTS " 2>%s/plan.err",
			    rd.url, dir),
		     0);
	w[0] = worker(rd.url, "jr", 2, NULL);
	w[1] = worker(rd.url, "jr", 3, NULL);
	sleep(2);
	rt_redis_kill(&rd);
	sleep(2);
	cr_assert_eq(rt_redis_restart(&rd), 0, "redis-server did not come back");
	cr_expect_eq(wait_ok(w[0]), 0, "worker w2 failed; see %s/w2.err", dir);
	cr_expect_eq(wait_ok(w[1]), 0, "worker w3 failed; see %s/w3.err", dir);
	c = rt_connect(rd.sock, NULL);
	cr_assert_not_null(c);
	check_results(c, "jr");
	check_done(c, "jr", "4");
	redisFree(c);
	rt_redis_stop(&rd);
}

/* A value of an instant query against the Prometheus in the scan namespace, or -1. */
static double prom_value(const char *query)
{
	char cmd[1024], out[64] = "";
	FILE *p;

	snprintf(
		cmd, sizeof(cmd),
		"ip netns exec " NS_SCAN " python3 -c 'import json,sys,urllib.parse,urllib.request;"
		"q=urllib.parse.quote(sys.argv[1]);"
		"r=json.load(urllib.request.urlopen(\"http://127.0.0.1:19090/api/v1/query?query=\"+q));"
		"v=r[\"data\"][\"result\"];print(v[0][\"value\"][1] if v else -1)' '%s'",
		query);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	if (!fgets(out, sizeof(out), p))
		out[0] = '\0';
	pclose(p);
	return out[0] ? strtod(out, NULL) : -1;
}

Test(lab, prometheus_scrapes_a_worker_values_equal_summary, .init = setup, .fini = teardown,
     .timeout = 300)
{
	struct rt_redis rd;
	char err[256];
	int prom;
	static const struct {
		const char *metric, *summary;
	} pairs[] = {
		{ "ppscan_probes_sent_total", "sent" },
		{ "ppscan_responses_received_total", "received" },
		{ "ppscan_responses_valid_total", "valid" },
		{ "ppscan_open_total", "open" },
		{ "ppscan_closed_total", "closed" },
		{ "ppscan_duplicates_total", "duplicates" },
		{ "ppscan_responses_invalid_total{reason=\"malformed\"}", "malformed" },
		{ "ppscan_rst_sent_total", "connections" },
	};

	cr_assert_eq(rt_redis_start(&rd, NULL), 0);
	cr_assert_eq(lab_sh("ip netns exec " NS_SCAN " ip link set lo up"), 0);
	lab_sh("printf 'global:\\n  scrape_interval: 1s\\nscrape_configs:\\n  - job_name: ppscan\\n"
	       "    static_configs:\\n      - targets: [\"127.0.0.1:19464\"]\\n' > %s/prom.yml",
	       dir);
	prom = fork();
	cr_assert_geq(prom, 0);
	if (prom == 0) {
		char cfg[300], data[300];

		snprintf(cfg, sizeof(cfg), "--config.file=%s/prom.yml", dir);
		snprintf(data, sizeof(data), "--storage.tsdb.path=%s/prom", dir);
		freopen("/dev/null", "w", stdout);
		freopen("/dev/null", "w", stderr);
		execlp("ip", "ip", "netns", "exec", NS_SCAN, "prometheus", cfg, data,
		       "--web.listen-address=127.0.0.1:19090", (char *)NULL);
		_exit(127);
	}
	cr_assert_eq(lab_sh(PPSCAN_PCAP_BIN
			    " --redis %s --scan-id jp --plan --shards 2 "
			    "-r 2000 -c 3 -e 5 -b " PPS_SOURCE_DIR
			    "/scripts/lab-blocklist.conf -p 22,80,443,8080 --output-closed "
			    "198.18.0.0/20 2>%s/plan.err",
			    rd.url, dir),
		     0);
	/* Prometheus up before the scan ends its first shard */
	for (int i = 0; i < 100 && prom_value("up") < 0; i++)
		usleep(100000);
	cr_assert_eq(wait_ok(worker(rd.url, "jp", 2, "--metrics 127.0.0.1:19464")), 0,
		     "the worker failed; see %s/w2.err", dir);
	sleep(2);
	snprintf(err, sizeof(err), "%s/w2.err", dir);
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		char q[256];
		double got;
		long long want = lab_summary_value(err, pairs[i].summary);

		snprintf(q, sizeof(q), "last_over_time(%s[10m])", pairs[i].metric);
		got = prom_value(q);
		cr_expect_geq(want, 0, "no '%s' in the summary", pairs[i].summary);
		cr_expect_eq((long long)got, want, "%s: Prometheus has %.0f, the summary %lld",
			     pairs[i].metric, got, want);
	}
	/* the second shard is acknowledged after its cooldown, maybe after the last scrape */
	cr_expect_geq((long long)prom_value("last_over_time(ppscan_shards_done_total[10m])"), 1);
	cr_expect_eq((long long)prom_value("last_over_time(ppscan_probes_sent_total[10m])"), 16384);
	kill(prom, SIGTERM);
	waitpid(prom, NULL, 0);
	rt_redis_stop(&rd);
}
