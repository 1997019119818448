/*
 * bench_core - cost per probe of the generation path (permutation, cookie, template fill)
 * and per response of the validation path (parse, validate, dedup, results ring), in ns of
 * this thread's CPU time (so time the scheduler gives to other processes does not count) and,
 * under callgrind, in instructions (repeatable on a noisy machine).
 *
 *   bench_core [probes] [responses]      (defaults 20,000,000 and 20,000,000)
 *   valgrind --tool=callgrind bench_core 200000 200000
 *   callgrind_annotate --inclusive=yes callgrind.out.* | grep bench_   -> Ir of each loop
 *
 * bench_generate() is the TX loop's work without the device: bursts of 32 probes written into
 * 32 buffers with pps_scan_fill_burst(); bench_validate() is the RX loop's: bursts of 32
 * frames judged by pps_scan_classify() (the probe module tcp_synscan in both).
 * Scan: 10.0.0.0/8 x ports 22,80,443,8080 (a /8-sized multi-port space, 67,108,864 probes;
 * nothing is sent anywhere), empty blocklist, seed 1. Responses: genuine SYN-ACKs to the
 * probes (ack = cookie + 1), all new, so every one is parsed, validated, deduplicated and
 * pushed to the results ring; once with the checksums summed in software (net_null,
 * af_packet, the pcap backend) and once as a NIC that verified them reports (val_offload).
 * The last line is machine-readable for bench/run.sh.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pps_config.h"
#include "pps_scan.h"
#include "probe/probe_tcp_synscan.h"

#define BURST 32
#define RX_CHUNK 256

static double cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t synack(uint8_t *f, const struct pps_syn_probe *p, uint32_t src_ip)
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
	/* right checksums: the RX path verifies them for every response it would report */
	{
		uint16_t c = pps_csum_ipv4_header(ip, 20);

		ip[10] = (uint8_t)(c >> 8);
		ip[11] = (uint8_t)c;
		c = pps_csum_tcp_full(p->dst_ip_h, src_ip, tcp, 24);
		tcp[16] = (uint8_t)(c >> 8);
		tcp[17] = (uint8_t)c;
	}
	return 58;
}

/* The TX loop's work for @n probes from index 0 (noinline: callgrind counts it apart). */
__attribute__((noinline)) static uint64_t bench_generate(const struct pps_scan *s, uint64_t n,
							 uint8_t (*bufs)[128])
{
	uint8_t *ptr[BURST];
	uint16_t lens[BURST];
	uint64_t sink = 0;

	for (int k = 0; k < BURST; k++)
		ptr[k] = bufs[k];
	for (uint64_t j = 0; j < n; j += BURST) {
		unsigned w = n - j < BURST ? (unsigned)(n - j) : BURST;

		pps_scan_fill_burst(s, j, 1, w, ptr, lens);
		sink += bufs[w - 1][40] + lens[0];
	}
	return sink;
}

/*
 * The RX loop's work for @k frames. @csum_ok: the frames' checksums as a NIC that verified
 * them reports (all good), or 0 (software checks).
 */
static inline void validate(struct pps_scan *s, uint8_t (*frames)[64], size_t k,
			    struct pps_counters *c, struct pps_ring *ring, uint64_t csum_ok)
{
	for (size_t i = 0; i < k; i += BURST) {
		const uint8_t *f[BURST];
		uint32_t len[BURST];
		struct pps_pkt pkt[BURST];
		struct pps_rx_burst b = { .frames = f,
					  .lens = len,
					  .with_ethernet = 1,
					  .csum_ok = csum_ok,
					  .c = c,
					  .ring = ring,
					  .pkt = pkt };

		b.n = k - i < BURST ? (unsigned)(k - i) : BURST;
		for (unsigned j = 0; j < b.n; j++) {
			f[j] = frames[i + j];
			len[j] = 60;
		}
		pps_scan_classify(s, &b);
	}
}

/* The RX loop with software checksums (noinline: callgrind counts each apart). */
__attribute__((noinline)) static void bench_validate(struct pps_scan *s, uint8_t (*frames)[64],
						     size_t k, struct pps_counters *c,
						     struct pps_ring *ring)
{
	validate(s, frames, k, c, ring, 0);
}

/* The same with the checksums a NIC verified (the DPDK path on a real NIC). */
__attribute__((noinline)) static void bench_validate_offload(struct pps_scan *s,
							     uint8_t (*frames)[64], size_t k,
							     struct pps_counters *c,
							     struct pps_ring *ring)
{
	validate(s, frames, k, c, ring, ~0ULL);
}

int main(int argc, char **argv)
{
	char *args[] = {
		"ppscan", "--dryrun",  "-q", "--seed",	       "1",	     "-S", "198.19.0.2",
		"-b",	  "/dev/null", "-p", "22,80,443,8080", "10.0.0.0/8", NULL
	};
	uint64_t n_tx = argc > 1 ? strtoull(argv[1], NULL, 10) : 20000000;
	uint64_t n_rx = argc > 2 ? strtoull(argv[2], NULL, 10) : 20000000;
	static const uint8_t mac[6] = { 2, 0, 0, 0, 0, 1 };
	static uint8_t bufs[BURST][128];
	struct pps_config cfg;
	struct pps_scan s;
	struct pps_counters c = { 0 };
	struct pps_ring *ring;
	uint64_t sink = 0;
	double t0, gen_s = 0, val_s = 0, off_s = 0;

	if (pps_config_parse(&cfg, PPS_BACKEND_DPDK, 12, args, stderr) != PPS_PARSE_OK)
		return 2;
	if (pps_scan_init(&s, &cfg, mac, mac, 1) < 0)
		return 1;
	if (n_tx > s.total)
		n_tx = s.total;
	if (n_rx > s.total)
		n_rx = s.total;

	if (n_tx) {
		t0 = cpu_s();
		sink += bench_generate(&s, n_tx, bufs);
		gen_s = cpu_s() - t0;
		printf("generate: %" PRIu64
		       " probes in %.3f s CPU: %.2f ns/probe, %.2f Mpps (one core)\n",
		       n_tx, gen_s, gen_s * 1e9 / (double)n_tx, (double)n_tx / gen_s / 1e6);
	}

	/*
	 * responses: built up front so only the RX path is timed; judged twice, by two scans
	 * with the same seed (each its own dedup): software checksums, then NIC-verified ones
	 */
	if (n_rx) {
		size_t batch = 1 << 16;
		uint8_t(*frames)[64] = malloc(batch * 64);
		static struct pps_result out[RX_CHUNK];
		struct pps_scan s2;
		struct pps_counters c2 = { 0 };

		ring = pps_ring_new(1 << 16);
		if (!frames || !ring || pps_scan_init(&s2, &cfg, mac, mac, 1) < 0)
			return 1;
		/* two passes, one after the other: software checksums, then NIC-verified ones */
		for (int pass = 0; pass < 2; pass++) {
			for (uint64_t done = 0; done < n_rx; done += batch) {
				size_t k = n_rx - done < batch ? (size_t)(n_rx - done) : batch;

				for (size_t i = 0; i < k; i++) {
					struct pps_syn_probe p;

					pps_synscan_probe_at(&s, done + i, &p);
					synack(frames[i], &p, 0xc6130002u);
				}
				for (size_t i = 0; i < k; i += RX_CHUNK) {
					size_t w = k - i < RX_CHUNK ? k - i : RX_CHUNK;

					t0 = cpu_s();
					if (pass == 0)
						bench_validate(&s, frames + i, w, &c, ring);
					else
						bench_validate_offload(&s2, frames + i, w, &c2,
								       ring);
					*(pass == 0 ? &val_s : &off_s) += cpu_s() - t0;
					/* the output thread's part */
					while (pps_ring_pop(ring, out, RX_CHUNK))
						;
				}
			}
		}
		printf("validate: %" PRIu64
		       " responses in %.3f s CPU: %.2f ns/response, %.2f M/s (one core); open %" PRIu64
		       ", invalid %" PRIu64 "\n",
		       n_rx, val_s, val_s * 1e9 / (double)n_rx, (double)n_rx / val_s / 1e6,
		       (uint64_t)c.open, (uint64_t)c.invalid);
		printf("validate, checksums verified by the NIC: %.2f ns/response, %.2f M/s (one core); open %" PRIu64
		       "\n",
		       off_s * 1e9 / (double)n_rx, (double)n_rx / off_s / 1e6, (uint64_t)c2.open);
		pps_scan_fini(&s2);
		free(frames);
		pps_ring_free(ring);
	}
	printf("bench_core: gen_ns=%.3f val_ns=%.3f val_offload_ns=%.3f\n",
	       n_tx ? gen_s * 1e9 / (double)n_tx : 0, n_rx ? val_s * 1e9 / (double)n_rx : 0,
	       n_rx ? off_s * 1e9 / (double)n_rx : 0);
	pps_scan_fini(&s);
	pps_config_free(&cfg);
	return sink == 42 ? 3 : 0;
}
