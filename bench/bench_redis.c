/*
 * bench_redis - results per second through the Redis sink, on the real output path: a
 * producer thread stands in for the RX loop and pushes N synthetic results (distinct
 * address/port pairs, all open) into the SPSC results ring; the main thread runs
 * pps_monitor_loop() and pps_monitor_finish(), which drain the ring into the sink, batch,
 * pipeline and wait until Redis has confirmed every result. The rate is N over the time
 * from the first push to the last confirmation.
 *
 *   bench_redis URL [N [BUFFER]]     e.g. bench_redis unix:///tmp/r/redis.sock 1000000
 *
 * BUFFER is --redis-buffer (default: N, so the journal stays out of the measurement; pass a
 * smaller one to include it). Writes to keys bench:<id>:*, deleted afterwards. Prints one
 * line: "bench_redis: N results in S s = R results/s (stream length L)".
 */
#include <errno.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "output/out_redis.h"
#include "output/pps_redis_url.h"
#include "pps_monitor.h"

struct producer {
	struct pps_ring *ring;
	uint64_t n;
	_Atomic uint64_t pushed;
	_Atomic int done;
};

static void *produce(void *arg)
{
	struct producer *p = arg;
	struct pps_result r;
	uint64_t ts = pps_realtime_ns();

	memset(&r, 0, sizeof(r));
	r.daddr_h = 0xc6130002u;
	r.ttl = 64;
	r.classification = PPS_CLASS_SYNACK;
	for (uint64_t i = 0; i < p->n; i++) {
		/* distinct (address, port): 2^24 addresses x ports 1..N/2^24+1 */
		r.saddr_h = 0x0b000000u + (uint32_t)(i & 0xffffff);
		r.sport_h = (uint16_t)(1 + (i >> 24));
		r.dport_h = (uint16_t)(32768 + (i & 0x3fff));
		r.ts_ns = ts + i * 1000;
		while (!pps_ring_push(p->ring, &r))
			usleep(50); /* ring full: the output thread is behind; leave it the CPU */
		atomic_store_explicit(&p->pushed, i + 1, memory_order_relaxed);
	}
	atomic_store(&p->done, 1);
	return NULL;
}

static void totals(void *ctx, struct pps_totals *t)
{
	struct producer *p = ctx;

	memset(t, 0, sizeof(*t));
	t->sent = t->recv = t->valid = t->open = atomic_load(&p->pushed);
}

static int tx_done(void *ctx)
{
	return atomic_load(&((struct producer *)ctx)->done);
}

int main(int argc, char **argv)
{
	static struct pps_monitor mon;
	static struct pps_config cfg;
	static volatile sig_atomic_t sigints;
	struct producer p = { 0 };
	char id[64], nbuf[24], pattern[128];
	uint64_t n = argc > 2 ? strtoull(argv[2], NULL, 10) : 1000000;
	uint64_t buffer = argc > 3 ? strtoull(argv[3], NULL, 10) : n;
	pthread_t th;
	double t0, dt;
	long long xlen = -1;

	if (argc < 2 || n == 0) {
		fprintf(stderr, "usage: %s URL [N [BUFFER]]\n", argv[0]);
		return 2;
	}
	snprintf(id, sizeof(id), "b%d", (int)getpid());
	snprintf(nbuf, sizeof(nbuf), "%" PRIu64, buffer > (1u << 26) ? (1u << 26) : buffer);
	{
		char *args[] = { "bench_redis",
				 "--dryrun",
				 "-q",
				 "-c",
				 "0",
				 "-p",
				 "80",
				 "--redis",
				 argv[1],
				 "--redis-prefix",
				 "bench",
				 "--scan-id",
				 id,
				 "--redis-buffer",
				 nbuf,
				 "11.0.0.0/8",
				 NULL };
		if (pps_config_parse(&cfg, PPS_BACKEND_PCAP, 16, args, stderr) != PPS_PARSE_OK)
			return 2;
	}
	mon.cfg = &cfg;
	if (pps_outputs_open(&mon, &cfg, stderr) < 0)
		return 2;
	p.ring = pps_ring_new(cfg.rx_ring);
	p.n = n;
	mon.results = p.ring;
	mon.total_probes = n;
	mon.ctx = &p;
	mon.totals = totals;
	mon.tx_done = tx_done;
	mon.sigints = &sigints;

	t0 = pps_monotonic_s();
	pthread_create(&th, NULL, produce, &p);
	pps_monitor_loop(&mon);
	pthread_join(th, NULL);
	if (pps_monitor_finish(&mon) < 0)
		fprintf(stderr, "bench_redis: the sink reported an error\n");
	dt = pps_monotonic_s() - t0;

	/* check and clean up with a plain connection */
	{
		struct pps_redis_url u;
		char why[128];
		redisContext *c;
		redisReply *r;

		pps_redis_url_parse(argv[1], &u, why, sizeof(why));
		c = u.is_unix ? redisConnectUnix(u.path) : redisConnect(u.host, u.port_h);
		if (c && !c->err) {
			if (u.has_password)
				freeReplyObject(u.user[0] ? redisCommand(c, "AUTH %s %s", u.user,
									 u.password)
							  : redisCommand(c, "AUTH %s", u.password));
			if (u.db)
				freeReplyObject(redisCommand(c, "SELECT %u", u.db));
			r = redisCommand(c, "XLEN bench:%s:results", id);
			if (r && r->type == REDIS_REPLY_INTEGER)
				xlen = r->integer;
			freeReplyObject(r);
			snprintf(pattern, sizeof(pattern), "bench:%s:", id);
			freeReplyObject(redisCommand(c, "DEL %sresults %sseen %smeta", pattern,
						     pattern, pattern));
			freeReplyObject(redisCommand(c, "SREM bench:scans %s", id));
		}
		if (c)
			redisFree(c);
	}
	printf("bench_redis: %" PRIu64 " results in %.3f s = %.0f results/s (stream length %lld)\n",
	       n, dt, (double)n / dt, xlen);
	pps_ring_free(p.ring);
	pps_config_free(&cfg);
	return xlen == (long long)n ? 0 : 1;
}
