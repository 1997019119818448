/*
 * Redis sink (suite `redis`, no root): URL parsing and masking, the one-line errors for a bad
 * URL, an unreachable server, a wrong password, database or key type (in process and from
 * the ppscan binary: exit 2, password never shown), the stream and meta hash a scan
 * writes, and the outage paths: Redis killed and restarted (buffer, journal, replay,
 * every result once), Redis gone for good (the journal holds exactly the rest), and
 * batches whose replies were lost, applied or not (a proxy swallows them), settled by their
 * markers without duplicates. Every test runs its own redis-server on a unix socket in a
 * temp dir.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fingerprint.h"
#include "output/out_redis.h"
#include "output/pps_redis_url.h"
#include "pps_config.h"
#include "pps_monitor.h"
#include "probe/pps_first_payload.h"
#include "probe/pps_probe.h"
#include "redis_util.h"

/* ---- helpers ---- */

/* A config as `ppscan-pcap --dryrun ... --redis URL` would give (nothing is sent). */
static void make_cfg(struct pps_config *cfg, const char *url, const char *scan, const char *buffer,
		     const char *journal, const char *extra)
{
	char *args[24];
	int n = 0;

	args[n++] = "ppscan-pcap";
	args[n++] = "--dryrun";
	args[n++] = "-p";
	args[n++] = "80";
	args[n++] = "--output-closed";
	args[n++] = "--redis";
	args[n++] = (char *)url;
	args[n++] = "--scan-id";
	args[n++] = (char *)scan;
	args[n++] = "--redis-buffer";
	args[n++] = (char *)(buffer ? buffer : "1024");
	args[n++] = "--redis-journal";
	args[n++] = (char *)journal;
	if (extra && extra[0] == '-') { /* a flag: --redis-keep */
		args[n++] = (char *)extra;
	} else if (extra) {
		args[n++] = "--redis-maxlen";
		args[n++] = (char *)extra;
	}
	args[n++] = "11.0.0.0/8";
	args[n] = NULL;
	cr_assert_eq(pps_config_parse(cfg, PPS_BACKEND_PCAP, n, args, stderr), PPS_PARSE_OK);
}

/* Result @i: a distinct (address, port), open unless i % 5 == 0. */
static struct pps_result result(unsigned i)
{
	struct pps_result r;

	memset(&r, 0, sizeof(r));
	r.saddr_h = 0x0b000000u + i;
	r.sport_h = (uint16_t)(80 + i % 3);
	r.ttl = (uint8_t)(60 + i % 4);
	r.classification = i % 5 == 0 ? PPS_CLASS_RST : PPS_CLASS_SYNACK;
	r.ts_ns = 1764428184000000000ULL + (uint64_t)i * 1000;
	return r;
}

static void expected_line(unsigned i, char *buf, size_t len)
{
	struct pps_result r = result(i);

	snprintf(buf, len, "11.%u.%u.%u,%u,%s", (r.saddr_h >> 16) & 255, (r.saddr_h >> 8) & 255,
		 r.saddr_h & 255, r.sport_h, i % 5 == 0 ? "closed" : "open");
}

/* Polls the sink until nothing is pending or @seconds pass. Returns the pending count. */
static uint64_t pump_until_delivered(struct pps_output *o, double seconds)
{
	struct pps_redis_stats st;
	double end = pps_monotonic_s() + seconds;

	do {
		pps_output_poll(o, pps_monotonic_s());
		pps_output_redis_stats(o, &st);
		if (!st.pending)
			return 0;
		usleep(1000);
	} while (pps_monotonic_s() < end);
	return st.pending;
}

static void pump_for(struct pps_output *o, double seconds)
{
	double end = pps_monotonic_s() + seconds;

	while (pps_monotonic_s() < end) {
		pps_output_poll(o, pps_monotonic_s());
		usleep(1000);
	}
}

/* Asserts the stream holds results [0, n) exactly once each. */
static void assert_stream_exactly(redisContext *c, const char *key, unsigned n)
{
	struct lab_set s;
	long count = rt_stream_set(c, key, &s);
	size_t found = 0;

	cr_assert_eq(count, (long)n, "stream %s has %ld entries, expected %u", key, count, n);
	cr_assert_eq(rt_distinct(&s), n, "stream has %zu distinct results, expected %u",
		     rt_distinct(&s), n);
	for (unsigned i = 0; i < n; i++) {
		char line[64];
		expected_line(i, line, sizeof(line));
		for (size_t k = 0; k < s.n; k++)
			if (!strcmp(s.items[k], line)) {
				found++;
				break;
			}
	}
	cr_assert_eq(found, n, "only %zu of %u results found in the stream", found, n);
	lab_set_free(&s);
}

static int count_lines(const char *path)
{
	FILE *f = fopen(path, "r");
	int n = 0, ch;

	if (!f)
		return -1;
	while ((ch = fgetc(f)) != EOF)
		n += ch == '\n';
	fclose(f);
	return n;
}

/* ---- URL parsing (no server) ---- */

Test(redis, url_shapes)
{
	struct pps_redis_url u;
	char why[256];

	cr_assert_eq(pps_redis_url_parse("redis://127.0.0.1", &u, why, sizeof(why)), 0);
	cr_assert_str_eq(u.host, "127.0.0.1");
	cr_assert_eq(u.port_h, 6379);
	cr_assert_eq(u.db, 0);
	cr_assert_eq(u.has_password, 0);

	cr_assert_eq(pps_redis_url_parse("redis://:s%40cret@redis.example:6380/3", &u, why,
					 sizeof(why)),
		     0);
	cr_assert_str_eq(u.host, "redis.example");
	cr_assert_eq(u.port_h, 6380);
	cr_assert_eq(u.db, 3);
	cr_assert_str_eq(u.password, "s@cret");
	cr_assert_str_eq(u.user, "");

	cr_assert_eq(pps_redis_url_parse("redis://scanner:pw@[::1]:7000/0", &u, why, sizeof(why)),
		     0);
	cr_assert_str_eq(u.host, "::1");
	cr_assert_str_eq(u.user, "scanner");
	cr_assert_str_eq(u.password, "pw");
	cr_assert_eq(u.port_h, 7000);

	cr_assert_eq(pps_redis_url_parse("unix:///run/redis/redis.sock?db=2", &u, why, sizeof(why)),
		     0);
	cr_assert(u.is_unix);
	cr_assert_str_eq(u.path, "/run/redis/redis.sock");
	cr_assert_eq(u.db, 2);

	cr_assert_eq(pps_redis_url_parse("unix://:pw@/tmp/r.sock", &u, why, sizeof(why)), 0);
	cr_assert_str_eq(u.password, "pw");
	cr_assert_str_eq(u.path, "/tmp/r.sock");
}

Test(redis, url_errors_name_the_problem)
{
	static const struct {
		const char *url, *why;
	} bad[] = {
		{ "http://host", "expected redis://" },
		{ "redis://", "no host" },
		{ "redis://host:0", "port '0' is not 1-65535" },
		{ "redis://host:65536", "port '65536'" },
		{ "redis://host:x1", "port 'x1'" },
		{ "redis://host/db7", "database 'db7'" },
		{ "redis://host?db=1", "unexpected '?db=1'" },
		{ "rediss://host", "TLS" },
		{ "unix://", "no socket path" },
		{ "unix:///tmp/r.sock?x=1", "unknown parameter" },
		{ "unix:///tmp/r.sock?db=a", "database 'a'" },
		{ "redis://:bad%zz@host", "bad password" },
	};
	struct pps_redis_url u;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char why[256] = "";

		cr_expect_eq(pps_redis_url_parse(bad[i].url, &u, why, sizeof(why)), -EINVAL,
			     "'%s' accepted", bad[i].url);
		cr_expect(strstr(why, bad[i].why), "'%s': reason '%s' lacks '%s'", bad[i].url, why,
			  bad[i].why);
	}
}

Test(redis, url_mask_hides_the_password)
{
	char buf[256];

	pps_redis_url_mask("redis://:s3cret@host:6379/1", buf, sizeof(buf));
	cr_assert_str_eq(buf, "redis://:***@host:6379/1");
	pps_redis_url_mask("redis://bob:s3cret@host", buf, sizeof(buf));
	cr_assert_str_eq(buf, "redis://bob:***@host");
	pps_redis_url_mask("redis://s3cret@host", buf, sizeof(buf));
	cr_assert_str_eq(buf, "redis://***@host");
	pps_redis_url_mask("unix://:s3cret@/tmp/r.sock", buf, sizeof(buf));
	cr_assert_str_eq(buf, "unix://:***@/tmp/r.sock");
	pps_redis_url_mask("unix:///tmp/r.sock", buf, sizeof(buf));
	cr_assert_str_eq(buf, "unix:///tmp/r.sock");
	pps_redis_url_mask("redis://:pa/ss@host:bad", buf,
			   sizeof(buf)); /* malformed: still hidden */
	cr_assert_null(strstr(buf, "pa/ss"));
}

Test(redis, bad_url_is_a_parse_error_naming_it)
{
	struct pps_config cfg;
	char *buf = NULL;
	size_t len = 0;
	FILE *err = open_memstream(&buf, &len);
	char *args[] = { "ppscan",     "--dryrun", "-p",
			 "80",	       "--redis",  "redis://:hunter2@h:99999",
			 "11.0.0.0/8", NULL };

	cr_assert_eq(pps_config_parse(&cfg, PPS_BACKEND_DPDK, 7, args, err), PPS_PARSE_ERROR);
	fclose(err);
	cr_assert_str_eq(
		buf,
		"ppscan: invalid Redis URL 'redis://:***@h:99999' (from --redis): port '99999' is not 1-65535\n");
	free(buf);
}

/* ---- open errors against real servers ---- */

/* Opens the sink for @url; asserts failure and returns the (single) error line. */
static char *open_error(const char *url, const char *scan, const char *journal)
{
	static struct pps_config cfg;
	struct pps_output o;
	char *buf = NULL;
	size_t len = 0;
	FILE *err = open_memstream(&buf, &len);
	int rc;

	make_cfg(&cfg, url, scan, NULL, journal, NULL);
	rc = pps_output_redis_open(&o, &cfg, err);
	fclose(err);
	cr_assert_lt(rc, 0, "opening %s succeeded", url);
	cr_assert_eq(strchr(buf, '\n'), buf + len - 1, "not one line: %s", buf);
	pps_config_free(&cfg);
	return buf;
}

Test(redis, open_errors_name_the_url_and_hide_the_password)
{
	struct rt_redis plain, locked;
	char url[256], journal[256], *msg;
	redisContext *c;

	cr_assert_eq(rt_redis_start(&plain, NULL), 0, "cannot start redis-server");
	cr_assert_eq(rt_redis_start(&locked, "--requirepass s3cret"), 0);
	snprintf(journal, sizeof(journal), "%s/j", plain.dir);

	snprintf(url, sizeof(url), "unix://%s/missing.sock", plain.dir);
	msg = open_error(url, "e1", journal);
	cr_expect(strstr(msg, "cannot use Redis at unix://") &&
			  strstr(msg, "missing.sock (from --redis): cannot connect"),
		  "%s", msg);
	free(msg);

	snprintf(url, sizeof(url), "unix://:wrongpass@%s", locked.sock);
	msg = open_error(url, "e2", journal);
	cr_expect(strstr(msg, "unix://:***@") && strstr(msg, "authentication failed") &&
			  !strstr(msg, "wrongpass"),
		  "%s", msg);
	free(msg);

	msg = open_error(locked.url, "e3", journal);
	cr_expect(strstr(msg, "the server wants a password: NOAUTH"), "%s", msg);
	free(msg);

	snprintf(url, sizeof(url), "unix://:s3cret@%s?db=999", locked.sock);
	msg = open_error(url, "e4", journal);
	cr_expect(strstr(msg, "cannot select the database") && strstr(msg, "?db=999") &&
			  !strstr(msg, "s3cret"),
		  "%s", msg);
	free(msg);

	c = rt_connect(plain.sock, NULL);
	cr_assert_not_null(c);
	freeReplyObject(redisCommand(c, "SET ppscan:e5:results not-a-stream"));
	msg = open_error(plain.url, "e5", journal);
	cr_expect(strstr(msg, "key 'ppscan:e5:results' holds a string, not a stream"), "%s", msg);
	free(msg);
	redisFree(c);

	/* a journal that is not this scan's is not taken */
	lab_sh("echo 11.0.0.1,80,open,64,1.0 > %s", journal);
	msg = open_error(plain.url, "e6", journal);
	cr_expect(strstr(msg, "holds results that are not from stream ppscan:e6:results"), "%s",
		  msg);
	free(msg);

	rt_redis_stop(&plain);
	rt_redis_stop(&locked);
}

#ifdef PPSCAN_BIN
/* The binary: exit 2 and one line on stderr, before the EAL starts (nothing sent). */
Test(redis, binary_exits_2_with_one_line)
{
	struct rt_redis locked;
	char out[256], cmd_url[256];
	static const char *const wrong[] = { "unix://:nope@%s", "unix://%s",
					     "unix://:s3cret@%s?db=77", "unix://%s.missing" };

	cr_assert_eq(rt_redis_start(&locked, "--requirepass s3cret"), 0);
	snprintf(out, sizeof(out), "%s/err.txt", locked.dir);
	for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
		int rc;

		snprintf(cmd_url, sizeof(cmd_url), wrong[i], locked.sock);
		rc = lab_sh("cd %s && " PPSCAN_BIN
			    " -- -b /dev/null -S 198.19.0.2 -G 02:00:00:00:00:01 -p 80 "
			    "--redis '%s' 198.18.0.0/24 >/dev/null 2>%s",
			    locked.dir, cmd_url, out);
		cr_expect_eq(rc, 2, "'%s': exit %d, expected 2", cmd_url, rc);
		cr_expect_eq(count_lines(out), 1, "'%s': not one error line", cmd_url);
		cr_expect_eq(lab_sh("grep -q 'cannot use Redis at unix://' %s", out), 0,
			     "'%s': error does not name the URL", cmd_url);
		cr_expect_neq(lab_sh("grep -q 'nope\\|s3cret' %s", out), 0,
			      "'%s': the password is shown", cmd_url);
	}
	rt_redis_stop(&locked);
}
#endif

/* ---- writing ---- */

Test(redis, stream_and_meta_of_a_scan)
{
	struct rt_redis r;
	struct pps_config cfg;
	struct pps_output o;
	struct pps_totals t = {
		.sent = 5000, .recv = 2100, .valid = 2100, .open = 1600, .closed = 400
	};
	struct pps_progress p = { .totals = &t,
				  .total_probes = 5000,
				  .results = 2000,
				  .state = PPS_SCAN_RUNNING,
				  .stop_reason = "" };
	char journal[256], v[256];
	redisContext *c;
	redisReply *rep;

	cr_assert_eq(rt_redis_start(&r, NULL), 0);
	snprintf(journal, sizeof(journal), "%s/j", r.dir);
	make_cfg(&cfg, r.url, "meta1", NULL, journal, NULL);
	cr_assert_eq(pps_output_redis_open(&o, &cfg, stderr), 0);
	c = rt_connect(r.sock, NULL);
	cr_assert_str_eq(rt_hget(c, "ppscan:meta1:meta", "state", v, sizeof(v)), "running");

	for (unsigned i = 0; i < 2000; i++) {
		struct pps_result res = result(i);
		cr_assert_eq(pps_output_write(&o, &res), 0);
	}
	pps_output_progress(&o, &p);
	cr_assert_eq(pump_until_delivered(&o, 10), 0);
	pump_for(&o, 0.05); /* the meta update's reply */
	cr_assert_str_eq(rt_hget(c, "ppscan:meta1:meta", "sent", v, sizeof(v)), "5000");
	cr_assert_str_eq(rt_hget(c, "ppscan:meta1:meta", "results", v, sizeof(v)), "2000");

	p.state = PPS_SCAN_DONE;
	p.stop_reason = "done";
	t.sent = 5000;
	pps_output_progress(&o, &p);
	cr_assert_eq(pps_output_close(&o), 0);

	assert_stream_exactly(c, "ppscan:meta1:results", 2000);
	/* one entry in full */
	rep = redisCommand(c, "XRANGE ppscan:meta1:results - + COUNT 1");
	cr_assert_eq(rep->elements, 1);
	{
		redisReply *kv = rep->element[0]->element[1];
		const char *want[] = { "ip",	 "11.0.0.0", "port", "80", "status",
				       "closed", "ttl",	     "60",   "ts", "1764428184.000000" };
		cr_assert_eq(kv->elements, 10);
		for (int i = 0; i < 10; i++)
			cr_expect_str_eq(kv->element[i]->str, want[i]);
	}
	freeReplyObject(rep);
	cr_expect_str_eq(rt_hget(c, "ppscan:meta1:meta", "state", v, sizeof(v)), "done");
	cr_expect_str_eq(rt_hget(c, "ppscan:meta1:meta", "stop_reason", v, sizeof(v)), "done");
	cr_expect_str_eq(rt_hget(c, "ppscan:meta1:meta", "open", v, sizeof(v)), "1600");
	cr_expect_str_eq(rt_hget(c, "ppscan:meta1:meta", "closed", v, sizeof(v)), "400");
	cr_expect_str_eq(rt_hget(c, "ppscan:meta1:meta", "probes_total", v, sizeof(v)), "5000");
	cr_expect_str_eq(rt_hget(c, "ppscan:meta1:meta", "results", v, sizeof(v)), "2000");
	cr_expect_str_eq(rt_hget(c, "ppscan:meta1:meta", "pending", v, sizeof(v)), "0");
	cr_expect_str_eq(rt_hget(c, "ppscan:meta1:meta", "undelivered", v, sizeof(v)), "0");
	cr_expect_neq(rt_hget(c, "ppscan:meta1:meta", "end", v, sizeof(v))[0], '\0');
	cr_expect_neq(rt_hget(c, "ppscan:meta1:meta", "start", v, sizeof(v))[0], '\0');
	cr_expect(strstr(rt_hget(c, "ppscan:meta1:meta", "options", v, sizeof(v)),
			 "\"scan-id\":\"meta1\""),
		  "options: %s", v);
	rep = redisCommand(c, "SISMEMBER ppscan:scans meta1");
	cr_expect_eq(rep->integer, 1);
	freeReplyObject(rep);
	cr_expect_neq(access(journal, F_OK), 0, "an empty journal is removed");
	redisFree(c);
	pps_config_free(&cfg);
	rt_redis_stop(&r);
}

Test(redis, maxlen_trims_the_stream)
{
	struct rt_redis r;
	struct pps_config cfg;
	struct pps_output o;
	char journal[256];
	redisContext *c;
	redisReply *rep;

	cr_assert_eq(rt_redis_start(&r, NULL), 0);
	snprintf(journal, sizeof(journal), "%s/j", r.dir);
	make_cfg(&cfg, r.url, "trim", NULL, journal, "100");
	cr_assert_eq(pps_output_redis_open(&o, &cfg, stderr), 0);
	for (unsigned i = 0; i < 3000; i++) {
		struct pps_result res = result(i);
		pps_output_write(&o, &res);
	}
	cr_assert_eq(pump_until_delivered(&o, 10), 0);
	cr_assert_eq(pps_output_close(&o), 0);
	c = rt_connect(r.sock, NULL);
	rep = redisCommand(c, "XLEN ppscan:trim:results");
	cr_expect(rep->integer >= 100 && rep->integer < 1000, "XLEN %lld with MAXLEN ~ 100",
		  rep->integer);
	freeReplyObject(rep);
	redisFree(c);
	pps_config_free(&cfg);
	rt_redis_stop(&r);
}

/* ---- outages ---- */

Test(redis, killed_and_restarted_every_result_once, .timeout = 120)
{
	struct rt_redis r;
	struct pps_config cfg;
	struct pps_output o;
	struct pps_redis_stats st;
	char journal[256];
	redisContext *c;

	cr_assert_eq(rt_redis_start(&r, "--appendonly yes --appendfsync always"), 0);
	snprintf(journal, sizeof(journal), "%s/j", r.dir);
	make_cfg(&cfg, r.url, "kill", "64", journal, NULL);
	cr_assert_eq(pps_output_redis_open(&o, &cfg, stderr), 0);
	for (unsigned i = 0; i < 500; i++) {
		struct pps_result res = result(i);
		pps_output_write(&o, &res);
	}
	cr_assert_eq(pump_until_delivered(&o, 10), 0);

	rt_redis_kill(&r);
	for (unsigned i = 500; i < 4000; i++) { /* 64 in memory, the rest in the journal */
		struct pps_result res = result(i);
		cr_assert_eq(pps_output_write(&o, &res), 0);
		if (i % 100 == 0)
			pps_output_poll(&o, pps_monotonic_s());
	}
	pump_for(&o, 0.5);
	pps_output_redis_stats(&o, &st);
	cr_assert_eq(st.connected, 0);
	cr_assert_eq(st.outages, 1);
	cr_assert_geq(st.journal_lines, 3000, "journal holds %llu",
		      (unsigned long long)st.journal_lines);
	cr_assert_geq(count_lines(journal), 3000);

	cr_assert_eq(rt_redis_restart(&r), 0);
	cr_assert_eq(pump_until_delivered(&o, 20), 0, "not delivered after the restart");
	pps_output_redis_stats(&o, &st);
	cr_assert_eq(st.delivered, 4000);
	cr_assert_eq(st.journal_lines, 0);
	cr_assert_eq(pps_output_close(&o), 0);
	cr_expect_neq(access(journal, F_OK), 0, "the journal is removed once delivered");

	c = rt_connect(r.sock, NULL);
	assert_stream_exactly(c, "ppscan:kill:results", 4000);
	redisFree(c);
	pps_config_free(&cfg);
	rt_redis_stop(&r);
}

/*
 * A server that forgets what it confirmed: 500 results confirmed, the server killed with
 * SIGKILL and started again (with @server_args: no persistence, or an AOF), 500 more
 * results, then (with @again) a second kill and restart after everything was confirmed,
 * noticed only at close. @keep: --redis-keep. Checks the sink's loss counters, the close's
 * result (an error exactly when results stay lost), the stream and the meta hash.
 */
static void forgetful_server(const char *server_args, int keep, int again, uint64_t want_lost,
			     uint64_t want_resent, unsigned want_stream_from)
{
	struct rt_redis r;
	struct pps_config cfg;
	struct pps_output o;
	struct pps_redis_stats st;
	char journal[256], kept[300], v[64];
	redisContext *c;
	int rc;

	cr_assert_eq(rt_redis_start(&r, server_args), 0);
	snprintf(journal, sizeof(journal), "%s/j", r.dir);
	snprintf(kept, sizeof(kept), "%s.kept", journal);
	make_cfg(&cfg, r.url, "forget", "4096", journal, keep ? "--redis-keep" : NULL);
	cr_assert_eq(pps_output_redis_open(&o, &cfg, stderr), 0);
	cr_assert_eq(access(kept, F_OK) == 0, keep, "keep file %s", kept);
	for (unsigned i = 0; i < 500; i++) {
		struct pps_result res = result(i);
		pps_output_write(&o, &res);
	}
	cr_assert_eq(pump_until_delivered(&o, 10), 0);
	pps_output_redis_stats(&o, &st);
	cr_assert_eq(st.delivered, 500);

	rt_redis_kill(&r);
	for (unsigned i = 500; i < 1000; i++) {
		struct pps_result res = result(i);
		cr_assert_eq(pps_output_write(&o, &res), 0);
	}
	pump_for(&o, 0.3);
	pps_output_redis_stats(&o, &st);
	cr_assert_eq(st.connected, 0);
	cr_assert_eq(rt_redis_restart(&r), 0);
	cr_assert_eq(pump_until_delivered(&o, 20), 0, "not delivered after the restart");
	pps_output_redis_stats(&o, &st);
	/* a server without persistence forgot the first 500 */
	cr_assert_eq(st.lost + st.lost_resent, server_args ? 0 : 500, "lost %llu, sent again %llu",
		     (unsigned long long)st.lost, (unsigned long long)st.lost_resent);
	if (again) { /* everything confirmed; the server forgets it while the sink is idle */
		rt_redis_kill(&r);
		cr_assert_eq(rt_redis_restart(&r), 0);
	}
	rc = pps_output_close(&o);
	cr_assert_eq(rc != 0, want_lost != 0, "close returned %d", rc);
	cr_assert_neq(access(kept, F_OK), 0, "the keep file is removed at the end");

	c = rt_connect(r.sock, NULL);
	{
		struct lab_set set;
		long n = rt_stream_set(c, "ppscan:forget:results", &set);

		cr_assert_eq(n, (long)(1000 - want_stream_from), "stream holds %ld", n);
		cr_assert_eq(rt_distinct(&set), (size_t)n, "duplicates in the stream");
		lab_set_free(&set);
	}
	snprintf(journal, sizeof(journal), "%u", 1000 - want_stream_from);
	cr_assert_str_eq(rt_hget(c, "ppscan:forget:meta", "results", v, sizeof(v)), journal);
	snprintf(journal, sizeof(journal), "%llu", (unsigned long long)want_lost);
	cr_assert_str_eq(rt_hget(c, "ppscan:forget:meta", "lost", v, sizeof(v)), journal);
	snprintf(journal, sizeof(journal), "%llu", (unsigned long long)want_resent);
	cr_assert_str_eq(rt_hget(c, "ppscan:forget:meta", "lost_resent", v, sizeof(v)), journal);
	cr_assert_str_eq(rt_hget(c, "ppscan:forget:meta", "id", v, sizeof(v)), "forget");
	redisFree(c);
	pps_config_free(&cfg);
	rt_redis_stop(&r);
}

/* No persistence: the 500 confirmed before the kill are gone, counted, and close fails. */
Test(redis, restarted_without_persistence_loss_is_counted, .timeout = 120)
{
	forgetful_server(NULL, 0, 0, 500, 0, 500);
}

/* No persistence, --redis-keep: the lost 500 go out again, then at close all 1000. */
Test(redis, restarted_without_persistence_keep_loses_nothing, .timeout = 120)
{
	forgetful_server(NULL, 1, 1, 0, 1500, 0);
}

/* AOF with fsync always: nothing is lost, nothing sent again, no alarm. */
Test(redis, restarted_with_aof_no_false_alarm, .timeout = 120)
{
	forgetful_server("--appendonly yes --appendfsync always", 1, 1, 0, 0, 0);
}

/* A consumer that deletes what it handled (XDEL), then a dropped connection: the reconnect
 * finds the stream shorter but the counter intact, which is no loss (no alarm, close 0). */
Test(redis, consumer_xdel_is_no_loss, .timeout = 60)
{
	struct rt_redis r;
	struct pps_config cfg;
	struct pps_output o;
	struct pps_redis_stats st;
	char journal[256], v[64];
	redisContext *c;
	redisReply *rep;

	cr_assert_eq(rt_redis_start(&r, NULL), 0);
	snprintf(journal, sizeof(journal), "%s/j", r.dir);
	make_cfg(&cfg, r.url, "xdel", NULL, journal, NULL);
	cr_assert_eq(pps_output_redis_open(&o, &cfg, stderr), 0);
	for (unsigned i = 0; i < 300; i++) {
		struct pps_result res = result(i);
		pps_output_write(&o, &res);
	}
	cr_assert_eq(pump_until_delivered(&o, 10), 0);
	c = rt_connect(r.sock, NULL);
	rep = redisCommand(c, "XRANGE ppscan:xdel:results - + COUNT 100");
	cr_assert_eq(rep->elements, 100);
	for (size_t i = 0; i < rep->elements; i++)
		freeReplyObject(redisCommand(c, "XDEL ppscan:xdel:results %s",
					     rep->element[i]->element[0]->str));
	freeReplyObject(rep);
	freeReplyObject(redisCommand(c, "CLIENT KILL TYPE normal SKIPME yes"));
	for (unsigned i = 300; i < 400; i++) {
		struct pps_result res = result(i);
		pps_output_write(&o, &res);
	}
	cr_assert_eq(pump_until_delivered(&o, 10), 0);
	pps_output_redis_stats(&o, &st);
	cr_assert_geq(st.outages, 1, "the connection was not dropped");
	cr_assert_eq(st.lost, 0, "a consumer's XDEL was taken for a loss");
	cr_assert_eq(pps_output_close(&o), 0);
	cr_assert_str_eq(rt_hget(c, "ppscan:xdel:meta", "lost", v, sizeof(v)), "0");
	cr_assert_str_eq(rt_hget(c, "ppscan:xdel:meta", "results", v, sizeof(v)), "400");
	redisFree(c);
	pps_config_free(&cfg);
	rt_redis_stop(&r);
}

Test(redis, gone_for_good_the_journal_holds_the_rest, .timeout = 120)
{
	struct rt_redis r;
	struct pps_config cfg;
	struct pps_output o;
	char journal[256];
	FILE *f;
	char line[128];
	unsigned i;

	cr_assert_eq(rt_redis_start(&r, "--appendonly yes --appendfsync always"), 0);
	snprintf(journal, sizeof(journal), "%s/j", r.dir);
	make_cfg(&cfg, r.url, "gone", "32", journal, NULL);
	cr_assert_eq(pps_output_redis_open(&o, &cfg, stderr), 0);
	for (unsigned k = 0; k < 100; k++) {
		struct pps_result res = result(k);
		pps_output_write(&o, &res);
	}
	cr_assert_eq(pump_until_delivered(&o, 10), 0);
	rt_redis_kill(&r);
	for (unsigned k = 100; k < 400; k++) {
		struct pps_result res = result(k);
		pps_output_write(&o, &res);
	}
	cr_assert_eq(pps_output_close(&o), -ENOTCONN, "close should report undelivered results");
	cr_assert_eq(lab_sh("head -1 %s | grep -qx '#ppscan-journal v1 stream=ppscan:gone:results'",
			    journal),
		     0, "journal header");
	/* besides, "#doubt" lines mark batches written to the dead socket */
	cr_assert_eq(lab_sh("test $(grep -vc '^#' %s) -eq 300", journal), 0);
	/* the journal holds exactly results 100..399 (order: buffered first, then the rest) */
	f = fopen(journal, "r");
	cr_assert_not_null(f);
	{
		int seen[300] = { 0 };
		while (fgets(line, sizeof(line), f)) {
			unsigned a, b, c2, d, port, ttl;
			char status[8];
			struct pps_result res;

			if (line[0] == '#')
				continue;
			cr_assert_eq(sscanf(line, "%u.%u.%u.%u,%u,%7[a-z],%u,", &a, &b, &c2, &d,
					    &port, status, &ttl),
				     7, "bad journal line %s", line);
			i = ((b << 16) | (c2 << 8) | d);
			cr_assert(i >= 100 && i < 400, "result %u should not be in the journal", i);
			res = result(i);
			cr_assert_eq(port, res.sport_h);
			cr_assert_eq(ttl, res.ttl);
			cr_assert_str_eq(status, i % 5 == 0 ? "closed" : "open");
			seen[i - 100]++;
		}
		for (int k = 0; k < 300; k++)
			cr_assert_eq(seen[k], 1, "result %d journaled %d times", k + 100, seen[k]);
	}
	fclose(f);
	cr_assert_eq(rt_redis_restart(&r), 0);
	{
		redisContext *c = rt_connect(r.sock, NULL);
		assert_stream_exactly(c, "ppscan:gone:results", 100);
		redisFree(c);
	}
	pps_config_free(&cfg);
	rt_redis_stop(&r);
}

/*
 * A proxy between the sink and Redis that can swallow replies (mode 1), swallow everything
 * (mode 2) and cut the connection, to lose batches' confirmations on purpose.
 */
struct proxy {
	char path[128], upstream[128];
	int lfd;
	_Atomic int mode, cut, stop;
	pthread_t th;
};

static void *proxy_main(void *arg)
{
	struct proxy *p = arg;
	char buf[65536];

	while (!atomic_load(&p->stop)) {
		struct pollfd pl = { p->lfd, POLLIN, 0 };
		struct sockaddr_un ua = { .sun_family = AF_UNIX };
		int cfd, ufd;

		if (poll(&pl, 1, 20) <= 0)
			continue;
		cfd = accept(p->lfd, NULL, NULL);
		if (cfd < 0)
			continue;
		ufd = socket(AF_UNIX, SOCK_STREAM, 0);
		snprintf(ua.sun_path, sizeof(ua.sun_path), "%.100s", p->upstream);
		if (connect(ufd, (struct sockaddr *)&ua, sizeof(ua)) < 0) {
			close(cfd);
			close(ufd);
			continue;
		}
		while (!atomic_load(&p->stop)) {
			struct pollfd f[2] = { { cfd, POLLIN, 0 }, { ufd, POLLIN, 0 } };
			ssize_t n;

			if (atomic_exchange(&p->cut, 0))
				break;
			if (poll(f, 2, 10) <= 0)
				continue;
			if (f[0].revents) {
				n = read(cfd, buf, sizeof(buf));
				if (n <= 0)
					break;
				if (atomic_load(&p->mode) != 2 && write(ufd, buf, (size_t)n) != n)
					break;
			}
			if (f[1].revents) {
				n = read(ufd, buf, sizeof(buf));
				if (n <= 0)
					break;
				if (atomic_load(&p->mode) == 0 && write(cfd, buf, (size_t)n) != n)
					break;
			}
		}
		close(cfd);
		close(ufd);
	}
	return NULL;
}

static void proxy_start(struct proxy *p, const char *dir, const char *upstream)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };

	memset(p, 0, sizeof(*p));
	snprintf(p->path, sizeof(p->path), "%s/proxy.sock", dir);
	snprintf(p->upstream, sizeof(p->upstream), "%s", upstream);
	snprintf(a.sun_path, sizeof(a.sun_path), "%.100s", p->path);
	p->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	cr_assert_eq(bind(p->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(listen(p->lfd, 8), 0);
	pthread_create(&p->th, NULL, proxy_main, p);
}

static void proxy_stop(struct proxy *p)
{
	atomic_store(&p->stop, 1);
	pthread_join(p->th, NULL);
	close(p->lfd);
}

/* Batches are sent, their confirmations lost; @applied: did Redis get them? */
static void lost_confirmations(int applied)
{
	struct rt_redis r;
	struct proxy px;
	struct pps_config cfg;
	struct pps_output o;
	struct pps_redis_stats st;
	char journal[256], url[256];
	redisContext *c;
	redisReply *rep;

	cr_assert_eq(rt_redis_start(&r, NULL), 0);
	proxy_start(&px, r.dir, r.sock);
	snprintf(journal, sizeof(journal), "%s/j", r.dir);
	snprintf(url, sizeof(url), "unix://%s", px.path);
	make_cfg(&cfg, url, "doubt", NULL, journal, NULL);
	cr_assert_eq(pps_output_redis_open(&o, &cfg, stderr), 0);

	atomic_store(&px.mode, applied ? 1 : 2);
	for (unsigned i = 0; i < 1000; i++) {
		struct pps_result res = result(i);
		pps_output_write(&o, &res);
	}
	pump_for(&o, 0.3);
	c = rt_connect(r.sock, NULL);
	rep = redisCommand(c, "XLEN ppscan:doubt:results");
	cr_assert_eq(rep->integer, applied ? 1000 : 0, "XLEN %lld before the cut", rep->integer);
	freeReplyObject(rep);
	pps_output_redis_stats(&o, &st);
	cr_assert_eq(st.pending, 1000, "nothing can be confirmed without replies");

	atomic_store(&px.mode, 0);
	atomic_store(&px.cut, 1);
	cr_assert_eq(pump_until_delivered(&o, 10), 0);
	pps_output_redis_stats(&o, &st);
	cr_expect_eq(st.outages, 1);
	cr_expect_eq(st.delivered, 1000);
	cr_expect_eq(st.resent, applied ? 0 : 1000, "resent %llu", (unsigned long long)st.resent);
	cr_assert_eq(pps_output_close(&o), 0);
	assert_stream_exactly(c, "ppscan:doubt:results", 1000);
	redisFree(c);
	pps_config_free(&cfg);
	proxy_stop(&px);
	rt_redis_stop(&r);
}

Test(redis, lost_confirmations_applied_batches_are_not_resent, .timeout = 60)
{
	lost_confirmations(1);
}

Test(redis, lost_confirmations_lost_batches_are_resent, .timeout = 60)
{
	lost_confirmations(0);
}

/*
 * A run ends with Redis unreachable and batches in doubt (sent, reply lost); a later run of
 * the same scan adopts the journal: results already in Redis (@applied) are not added twice.
 */
static void journal_adopted(int applied)
{
	struct rt_redis r;
	struct proxy px;
	struct pps_config cfg, cfg2;
	struct pps_output o;
	char journal[256], url[256];
	redisContext *c;

	cr_assert_eq(rt_redis_start(&r, NULL), 0);
	proxy_start(&px, r.dir, r.sock);
	snprintf(journal, sizeof(journal), "%s/j", r.dir);
	snprintf(url, sizeof(url), "unix://%s", px.path);
	make_cfg(&cfg, url, "adopt", NULL, journal, NULL);
	cr_assert_eq(pps_output_redis_open(&o, &cfg, stderr), 0);
	for (unsigned i = 0; i < 100; i++) {
		struct pps_result res = result(i);
		pps_output_write(&o, &res);
	}
	cr_assert_eq(pump_until_delivered(&o, 10), 0);
	atomic_store(&px.mode, applied ? 1 : 2);
	for (unsigned i = 100; i < 400; i++) {
		struct pps_result res = result(i);
		pps_output_write(&o, &res);
	}
	pump_for(&o, 0.3);
	proxy_stop(&px); /* Redis unreachable from now on */
	cr_assert_eq(pps_output_close(&o), -ENOTCONN);
	cr_assert_eq(
		lab_sh("head -1 %s | grep -qx '#ppscan-journal v1 stream=ppscan:adopt:results'",
		       journal),
		0, "journal header");
	cr_assert_eq(lab_sh("grep -c '^#doubt ' %s | grep -qx 1", journal), 0,
		     "the batch in doubt is not marked");
	cr_assert_eq(lab_sh("test $(grep -vc '^#' %s) -eq 300", journal), 0);

	make_cfg(&cfg2, r.url, "adopt", NULL, journal, NULL);
	cr_assert_eq(pps_output_redis_open(&o, &cfg2, stderr), 0);
	cr_assert_eq(pump_until_delivered(&o, 10), 0);
	{
		struct pps_redis_stats st;
		pps_output_redis_stats(&o, &st);
		cr_expect_eq(st.delivered, applied ? 0 : 300, "delivered %llu",
			     (unsigned long long)st.delivered);
	}
	cr_assert_eq(pps_output_close(&o), 0);
	cr_expect_neq(access(journal, F_OK), 0, "the delivered journal is removed");
	c = rt_connect(r.sock, NULL);
	assert_stream_exactly(c, "ppscan:adopt:results", 400);
	redisFree(c);
	pps_config_free(&cfg);
	pps_config_free(&cfg2);
	rt_redis_stop(&r);
}

Test(redis, journal_adopted_batch_in_doubt_was_applied, .timeout = 60)
{
	journal_adopted(1);
}

Test(redis, journal_adopted_batch_in_doubt_was_lost, .timeout = 60)
{
	journal_adopted(0);
}

/*
 * -M udp: the stream entry carries the module's fields (classification, udp_pkt_size, data,
 * icmp_*); with Redis gone they wait in the journal, and the next run of the scan delivers
 * them from it with every UDP field as it was.
 */
Test(redis, udp_fields_in_the_stream_and_through_the_journal, .timeout = 60)
{
	struct rt_redis r;
	struct pps_config cfg, cfg2;
	struct pps_output o;
	char journal[256],
		*args[] = { "ppscan-pcap", "--dryrun",	      "-M",	 "udp",	       "-p",
			    "53",	   "--output-closed", "--redis", NULL,	       "--scan-id",
			    "udp1",	   "--redis-journal", journal,	 "11.0.0.0/8", NULL };
	redisContext *c;
	redisReply *rep;

	cr_assert_eq(rt_redis_start(&r, "--appendonly yes --appendfsync always"), 0);
	snprintf(journal, sizeof(journal), "%s/j", r.dir);
	args[8] = r.url;
	cr_assert_eq(pps_config_parse(&cfg, PPS_BACKEND_PCAP, 14, args, stderr), PPS_PARSE_OK);
	cr_assert_eq(pps_output_redis_open(&o, &cfg, stderr), 0);
	for (unsigned i = 0; i < 20; i++) {
		struct pps_result res = { 0 };

		res.saddr_h = 0x0b000000u + i;
		res.sport_h = 53;
		res.ttl = 61;
		res.probe = PPS_PROBE_UDP;
		res.ts_ns = 1764428184000000000ULL + i * 1000ULL;
		if (i % 2) { /* a reply with its first bytes */
			res.classification = 0;
			res.udp.udp_len_h = 300;
			res.part_len = 4;
			memcpy(res.udp.data, "\x12\x34\x81\x80", 4);
		} else { /* an ICMP port unreachable */
			res.classification = 1;
			res.udp.icmp_type = 3;
			res.udp.icmp_code = 3;
			res.udp.icmp_src_h = res.saddr_h;
		}
		if (i == 10)
			rt_redis_kill(&r); /* the second half goes to the journal */
		cr_assert_eq(pps_output_write(&o, &res), 0);
		if (i < 10)
			cr_assert_eq(pump_until_delivered(&o, 10), 0);
	}
	cr_assert_eq(pps_output_close(&o), -ENOTCONN);
	cr_assert_eq(lab_sh("grep -q '^11.0.0.11,53,open,61,1764428184.000011,udp,300,12348180,"
			    "0.0.0.0,0,0$' %s",
			    journal),
		     0, "a UDP reply's journal line");
	cr_assert_eq(rt_redis_restart(&r), 0);
	cr_assert_eq(pps_config_parse(&cfg2, PPS_BACKEND_PCAP, 14, args, stderr), PPS_PARSE_OK);
	cr_assert_eq(pps_output_redis_open(&o, &cfg2, stderr), 0);
	cr_assert_eq(pump_until_delivered(&o, 10), 0);
	cr_assert_eq(pps_output_close(&o), 0);
	c = rt_connect(r.sock, NULL);
	rep = redisCommand(c, "XRANGE ppscan:udp1:results - +");
	cr_assert_eq(rep->elements, 20);
	for (size_t e = 0, seen = 0; e < rep->elements; e++) {
		redisReply *kv = rep->element[e]->element[1];
		unsigned i = (unsigned)(strtoul(strrchr(kv->element[1]->str, '.') + 1, NULL, 10));

		cr_assert_lt(i, 20);
		cr_assert_eq(seen & (1u << i), 0, "result %u twice", i);
		seen |= 1u << i;
		const char *reply[] = { "status",	"open", "classification", "udp",
					"udp_pkt_size", "300",	"data",		  "12348180",
					"icmp_type",	"0" };
		const char *icmp[] = { "status",       "closed", "classification", "port-unreach",
				       "udp_pkt_size", "0",	 "data",	   "",
				       "icmp_type",    "3" };
		const char **want = i % 2 ? reply : icmp;

		cr_assert_eq(kv->elements, 22, "entry %zu has %zu values", e, kv->elements);
		cr_expect_str_eq(kv->element[4]->str, want[0]);
		cr_expect_str_eq(kv->element[5]->str, want[1]);
		for (int k = 2; k < 10; k += 2) {
			size_t at = 0;

			for (size_t q = 0; q < kv->elements; q += 2)
				if (!strcmp(kv->element[q]->str, want[k]))
					at = q + 1;
			cr_assert_neq(at, 0, "no field %s", want[k]);
			cr_expect_str_eq(kv->element[at]->str, want[k + 1], "entry of %u: %s", i,
					 want[k]);
		}
	}
	freeReplyObject(rep);
	redisFree(c);
	pps_config_free(&cfg);
	pps_config_free(&cfg2);
	rt_redis_stop(&r);
}

/* ---- --banners: the first data segment's fields in the stream ---- */

static const char *const banner_greeting[] = {
	"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n",
	"220 lab.example ESMTP Postfix (Debian/GNU)\r\n",
	"+OK Dovecot (Debian) ready.\r\n\x01\xff",
};

/*
 * Result @i of a --banners scan: even ones are the SYN-ACK of endpoint i / 2, odd ones its
 * first data segment, whose bytes and fingerprint match live in the caller's buffers (@bytes,
 * @id) and are overwritten after the write, as the monitor's drain buffer is.
 */
static struct pps_result banner_result(unsigned i, uint8_t *bytes, struct pps_fp_match *id)
{
	struct pps_result r = result(i / 2);
	const char *g = banner_greeting[(i / 2) % 3];

	if (!(i & 1))
		return r;
	r.classification = PPS_CLASS_DATA;
	memset(&r.banner, 0, sizeof(r.banner));
	r.banner.seg_len_h = (uint16_t)(strlen(g) + 100);
	r.banner.data_len_h = (uint16_t)strlen(g);
	memcpy(bytes, g, strlen(g));
	r.banner.data = bytes;
	memset(id, 0, sizeof(*id));
	if ((i / 2) % 3 != 2) { /* the third greeting stays unnamed */
		snprintf(id->protocol, sizeof(id->protocol), "%s", (i / 2) % 3 ? "smtp" : "ssh");
		snprintf(id->product, sizeof(id->product), "%s", (i / 2) % 3 ? "Postfix" : "OpenSSH");
		snprintf(id->version, sizeof(id->version), "%s", (i / 2) % 3 ? "" : "9.2p1");
		r.banner.id = id;
	}
	return r;
}

static const char *entry_field(const redisReply *kv, const char *name)
{
	for (size_t k = 0; k + 1 < kv->elements; k += 2)
		if (!strcmp(kv->element[k]->str, name))
			return kv->element[k + 1]->str;
	return NULL;
}

/*
 * With --banners the stream entry adds classification, protocol, product, version, data_len
 * and data (hex); the sink keeps its own copy of each data result's bytes while it waits (the
 * caller's buffers are scribbled over after each write), and results that wait in the journal
 * during an outage come back with the same fields.
 */
Test(redis, banners_fields_through_ring_and_journal, .timeout = 120)
{
	struct rt_redis r;
	struct pps_config cfg;
	struct pps_output o;
	uint8_t bytes[PPS_FIRST_PAYLOAD_MAX];
	struct pps_fp_match id;
	char journal[256];
	unsigned n = 3000, seen_data = 0;
	redisContext *c;
	redisReply *rep;

	cr_assert_eq(rt_redis_start(&r, "--appendonly yes --appendfsync always"), 0);
	snprintf(journal, sizeof(journal), "%s/j", r.dir);
	make_cfg(&cfg, r.url, "bann", "64", journal, "--banners");
	cr_assert_eq(pps_output_redis_open(&o, &cfg, stderr), 0);
	for (unsigned i = 0; i < n; i++) {
		struct pps_result res = banner_result(i, bytes, &id);

		if (i == 1000)
			rt_redis_kill(&r); /* 64 in the ring, the rest in the journal */
		cr_assert_eq(pps_output_write(&o, &res), 0);
		memset(bytes, 0xa5, sizeof(bytes));
		memset(&id, 0x5a, sizeof(id));
		if (i % 100 == 0)
			pps_output_poll(&o, pps_monotonic_s());
	}
	pump_for(&o, 0.3);
	cr_assert_eq(rt_redis_restart(&r), 0);
	cr_assert_eq(pump_until_delivered(&o, 20), 0, "not delivered after the restart");
	cr_assert_eq(pps_output_close(&o), 0);

	c = rt_connect(r.sock, NULL);
	rep = redisCommand(c, "XRANGE ppscan:bann:results - +");
	cr_assert_eq(rep->type, REDIS_REPLY_ARRAY);
	cr_assert_eq(rep->elements, n);
	for (size_t e = 0; e < rep->elements; e++) {
		const redisReply *kv = rep->element[e]->element[1];
		const char *cls = entry_field(kv, "classification"), *port = entry_field(kv, "port");
		const char *ip = entry_field(kv, "ip"), *data = entry_field(kv, "data");
		unsigned a, b, d, k;
		const char *g;
		char hex[2 * PPS_FIRST_PAYLOAD_MAX + 1], num[24];

		cr_assert(cls && port && ip && data && entry_field(kv, "protocol") &&
			  entry_field(kv, "product") && entry_field(kv, "version") &&
			  entry_field(kv, "data_len"));
		if (strcmp(cls, "data")) {
			cr_expect(!strcmp(cls, "synack") || !strcmp(cls, "rst"), "class %s", cls);
			cr_expect_str_eq(data, "");
			cr_expect_str_eq(entry_field(kv, "protocol"), "");
			continue;
		}
		seen_data++;
		cr_assert_eq(sscanf(ip, "11.%u.%u.%u", &a, &b, &d), 3);
		k = (a << 16 | b << 8 | d) % 3;
		g = banner_greeting[k];
		for (size_t i = 0; i < strlen(g); i++)
			snprintf(hex + 2 * i, 3, "%02x", (unsigned char)g[i]);
		cr_expect_str_eq(data, hex, "entry %zu (%s:%s)", e, ip, port);
		snprintf(num, sizeof(num), "%zu", strlen(g) + 100);
		cr_expect_str_eq(entry_field(kv, "data_len"), num);
		cr_expect_str_eq(entry_field(kv, "protocol"), k == 2 ? "" : k ? "smtp" : "ssh");
		cr_expect_str_eq(entry_field(kv, "product"), k == 2 ? "" : k ? "Postfix" : "OpenSSH");
		cr_expect_str_eq(entry_field(kv, "version"), k == 0 ? "9.2p1" : "");
	}
	cr_expect_eq(seen_data, n / 2);
	freeReplyObject(rep);
	redisFree(c);
	pps_config_free(&cfg);
	rt_redis_stop(&r);
}
