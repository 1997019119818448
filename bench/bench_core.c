/*
 * bench_core - cost per probe of the generation path (permutation, cookie, template fill)
 * and per response of the validation path (parse, validate, dedup), in ns from a timed loop
 * and, under callgrind, in instructions (repeatable on a noisy machine).
 *
 *   bench_core [probes] [responses]      (defaults 20,000,000 and 20,000,000)
 *   valgrind --tool=callgrind bench_core 1000000 1000000   -> Ir / 1e6 per item
 *
 * Scan: 10.0.0.0/8 x ports 22,80,443,8080 (a /8-sized multi-port space, 67,108,864 probes),
 * empty blocklist, seed 1. Responses: genuine SYN-ACKs to the probes (ack = cookie + 1),
 * all new, so every one is parsed, validated, deduplicated and pushed to the results ring.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pps_config.h"
#include "pps_scan.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t synack(uint8_t *f, const struct pps_probe *p, uint32_t src_ip)
{
	uint8_t *ip = f + 14, *tcp = f + 34;

	memset(f, 0, 60);
	f[12] = 0x08;
	ip[0] = 0x45;
	ip[3] = 44;
	ip[8] = 64;
	ip[9] = 6;
	ip[12] = (uint8_t)(p->dst_ip_h >> 24);
	ip[13] = (uint8_t)(p->dst_ip_h >> 16);
	ip[14] = (uint8_t)(p->dst_ip_h >> 8);
	ip[15] = (uint8_t)p->dst_ip_h;
	ip[16] = (uint8_t)(src_ip >> 24);
	ip[17] = (uint8_t)(src_ip >> 16);
	ip[18] = (uint8_t)(src_ip >> 8);
	ip[19] = (uint8_t)src_ip;
	tcp[0] = (uint8_t)(p->dst_port_h >> 8);
	tcp[1] = (uint8_t)p->dst_port_h;
	tcp[2] = (uint8_t)(p->src_port_h >> 8);
	tcp[3] = (uint8_t)p->src_port_h;
	uint32_t ack = p->seq_h + 1;
	tcp[8] = (uint8_t)(ack >> 24);
	tcp[9] = (uint8_t)(ack >> 16);
	tcp[10] = (uint8_t)(ack >> 8);
	tcp[11] = (uint8_t)ack;
	tcp[12] = 0x60;
	tcp[13] = 0x12;
	return 58;
}

int main(int argc, char **argv)
{
	char *args[] = { "ppscan", "--dryrun", "-q", "--seed", "1", "-S", "198.19.0.2", "-b",
			 "/dev/null", "-p", "22,80,443,8080", "10.0.0.0/8", NULL };
	uint64_t n_tx = argc > 1 ? strtoull(argv[1], NULL, 10) : 20000000;
	uint64_t n_rx = argc > 2 ? strtoull(argv[2], NULL, 10) : 20000000;
	static const uint8_t mac[6] = { 2, 0, 0, 0, 0, 1 };
	struct pps_config cfg;
	struct pps_scan s;
	struct pps_counters c = { 0 };
	struct pps_ring *ring;
	uint8_t buf[128];
	uint64_t sink = 0;
	double t0, t1;

	if (pps_config_parse(&cfg, PPS_BACKEND_DPDK, 12, args, stderr) != PPS_PARSE_OK)
		return 2;
	if (pps_scan_init(&s, &cfg, mac, mac, 1) < 0)
		return 1;
	if (n_tx > s.total)
		n_tx = s.total;
	if (n_rx > s.total)
		n_rx = s.total;

	t0 = now_s();
	for (uint64_t j = 0; j < n_tx; j++) {
		pps_scan_fill(&s, j, buf);
		sink += buf[40];
	}
	t1 = now_s();
	printf("generate: %" PRIu64 " probes in %.3f s: %.2f ns/probe, %.2f Mpps (one core)\n", n_tx,
	       t1 - t0, (t1 - t0) * 1e9 / (double)n_tx, (double)n_tx / (t1 - t0) / 1e6);

	/* responses: built up front so only the RX path is timed */
	{
		size_t batch = 1 << 16;
		uint8_t(*frames)[64] = malloc(batch * 64);
		struct pps_result out[256];
		double spent = 0;

		ring = pps_ring_new(1 << 16);
		for (uint64_t done = 0; done < n_rx; done += batch) {
			size_t k = n_rx - done < batch ? (size_t)(n_rx - done) : batch;
			for (size_t i = 0; i < k; i++) {
				struct pps_probe p;
				pps_scan_probe_at(&s, done + i, &p);
				synack(frames[i], &p, 0xc6130002u);
			}
			t0 = now_s();
			for (size_t i = 0; i < k; i++) {
				struct pps_pkt pkt;
				pps_scan_rx(&s, frames[i], 60, 1, 0, 0, &c, ring, &pkt);
				if ((i & 255) == 255)
					pps_ring_pop(ring, out, 256);
			}
			spent += now_s() - t0;
			while (pps_ring_pop(ring, out, 256))
				;
		}
		printf("validate: %" PRIu64 " responses in %.3f s: %.2f ns/response, %.2f M/s (one core); open %" PRIu64 ", invalid %" PRIu64 "\n",
		       n_rx, spent, spent * 1e9 / (double)n_rx, (double)n_rx / spent / 1e6,
		       (uint64_t)c.open, (uint64_t)c.invalid);
		free(frames);
		pps_ring_free(ring);
	}
	pps_scan_fini(&s);
	pps_config_free(&cfg);
	return sink == 42 ? 3 : 0;
}
