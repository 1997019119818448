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
 * --banners (a third scan, the same space with --banners): the RX loop's work per first data
 * segment (a 41-byte SSH greeting acking our first payload: parse, validate against
 * cookie + 1 + the payload's length, copy into the ring's extra bytes, the RST built by
 * pps_scan_fill_replies()), bench_validate_banners(); then the output side's naming of first
 * segments, bench_classify(): pps_banner_identify() over the segments of FILE (one hex line
 * each: the `data` column of a --banners scan, e.g. of the lab's real servers; without FILE a
 * built-in set of greetings), in segments per CPU second.
 *
 *   bench_core [probes] [responses] [segments [FILE]]
 *
 * The last line is machine-readable for bench/run.sh.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fingerprint.h"
#include "pps_banner.h"
#include "pps_config.h"
#include "pps_ring.h"
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

/*
 * A response to probe @p from @src_ip in @f: TCP flags @flags, ack @ack, @plen bytes of
 * @payload after a 4-byte MSS option, right checksums. Returns the frame's length.
 */
static size_t segment(uint8_t *f, const struct pps_syn_probe *p, uint32_t src_ip, uint8_t flags,
		      uint32_t ack, const void *payload, size_t plen)
{
	uint8_t *ip = f + 14, *tcp = f + 34;

	memset(f, 0, 60);
	f[12] = 0x08;
	ip[0] = 0x45;
	ip[2] = (uint8_t)((44 + plen) >> 8);
	ip[3] = (uint8_t)(44 + plen);
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
	tcp[8] = (uint8_t)(ack >> 24);
	tcp[9] = (uint8_t)(ack >> 16);
	tcp[10] = (uint8_t)(ack >> 8);
	tcp[11] = (uint8_t)ack;
	tcp[12] = 0x60;
	tcp[13] = flags;
	tcp[14] = 0xfa; /* window 64240 */
	tcp[15] = 0xf0;
	tcp[20] = 2; /* MSS 1460 */
	tcp[21] = 4;
	tcp[22] = 0x05;
	tcp[23] = 0xb4;
	if (plen)
		memcpy(tcp + 24, payload, plen);
	/* right checksums: the RX path verifies them for every response it would report */
	{
		uint16_t c = pps_csum_ipv4_header(ip, 20);

		ip[10] = (uint8_t)(c >> 8);
		ip[11] = (uint8_t)c;
		c = pps_csum_tcp_full(p->dst_ip_h, src_ip, tcp, (uint16_t)(24 + plen));
		tcp[16] = (uint8_t)(c >> 8);
		tcp[17] = (uint8_t)c;
	}
	return 58 + plen < 60 ? 60 : 58 + plen;
}

static size_t synack(uint8_t *f, const struct pps_syn_probe *p, uint32_t src_ip)
{
	return segment(f, p, src_ip, 0x12, p->seq_h + 1, NULL, 0);
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

/* --banners: the RX loop's work for @k first data segments @frames (@lens bytes), the RSTs
 * that answer them included. */
__attribute__((noinline)) static uint64_t bench_validate_banners(struct pps_scan *s,
								 uint8_t (*frames)[128],
								 const uint32_t *lens, size_t k,
								 struct pps_counters *c,
								 struct pps_ring *ring)
{
	static uint8_t rbuf[BURST][128];
	uint8_t *rp[BURST];
	uint16_t rl[BURST];
	uint64_t sink = 0;

	for (int j = 0; j < BURST; j++)
		rp[j] = rbuf[j];
	for (size_t i = 0; i < k; i += BURST) {
		const uint8_t *f[BURST];
		struct pps_pkt pkt[BURST];
		struct pps_rx_burst b = {
			.frames = f, .lens = lens + i, .with_ethernet = 1, .c = c, .ring = ring, .pkt = pkt
		};

		b.n = k - i < BURST ? (unsigned)(k - i) : BURST;
		for (unsigned j = 0; j < b.n; j++)
			f[j] = frames[i + j];
		pps_scan_classify(s, &b);
		sink += pps_scan_fill_replies(s, &b, rp, rl);
	}
	return sink;
}

/* The output side's naming of @n first segments (noinline: callgrind counts it apart). */
__attribute__((noinline)) static uint64_t bench_classify(struct pps_fp_db *db, uint8_t **seg,
							 const size_t *len, size_t n_seg,
							 uint64_t n)
{
	struct pps_fp_match m;
	uint64_t named = 0;

	for (uint64_t i = 0; i < n; i++)
		named += (uint64_t)pps_banner_identify(db, seg[i % n_seg], len[i % n_seg], &m);
	return named;
}

/* Greetings as the lab's real servers send them (when no FILE is given). */
static const char *const builtin_segments[] = {
	"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n",
	"220 (vsFTPd 3.0.3)\r\n",
	"220 lab.test ESMTP Postfix (Debian/GNU)\r\n",
	"+OK Dovecot (Debian) ready.\r\n",
	"* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS "
	"AUTH=PLAIN] Dovecot (Debian) ready.\r\n",
	"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Thu, 03 Dec 2026 07:00:00 GMT\r\n"
	"Content-Type: text/html\r\nContent-Length: 615\r\nConnection: keep-alive\r\n\r\n",
	"HTTP/1.1 400 Bad Request\r\nServer: nginx/1.22.1\r\nContent-Type: text/html\r\n"
	"Content-Length: 157\r\nConnection: close\r\n\r\n<html>",
	"-NOAUTH Authentication required.\r\n",
	"VERSION 1.6.18\r\n",
	"@RSYNCD: 31.0 sha512 sha256 sha1 md5 md4\n",
};

/* Reads one hex string a line from @path into @seg/@len (at most @max). Returns the count. */
static size_t load_segments(const char *path, uint8_t **seg, size_t *len, size_t max)
{
	FILE *f = fopen(path, "r");
	char line[4096];
	size_t n = 0;

	if (!f) {
		perror(path);
		exit(2);
	}
	while (n < max && fgets(line, sizeof(line), f)) {
		size_t h = strspn(line, "0123456789abcdef");

		if (h < 2 || h % 2)
			continue;
		seg[n] = malloc(h / 2);
		for (size_t i = 0; i < h / 2; i++) {
			unsigned b;

			sscanf(line + 2 * i, "%2x", &b);
			seg[n][i] = (uint8_t)b;
		}
		len[n++] = h / 2;
	}
	fclose(f);
	return n;
}

int main(int argc, char **argv)
{
	char *args[] = {
		"ppscan", "--dryrun",  "-q", "--seed",	       "1",	     "-S", "198.19.0.2",
		"-b",	  "/dev/null", "-p", "22,80,443,8080", "10.0.0.0/8", NULL
	};
	uint64_t n_tx = argc > 1 ? strtoull(argv[1], NULL, 10) : 20000000;
	uint64_t n_rx = argc > 2 ? strtoull(argv[2], NULL, 10) : 20000000;
	uint64_t n_seg = argc > 3 ? strtoull(argv[3], NULL, 10) : 2000000, n_cls = 0;
	double ban_s = 0, cls_ns = 0;
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
	if (n_seg) { /* --banners: first data segments through the RX loop, then named */
		char *bargs[] = { "ppscan", "--dryrun", "-q", "--seed", "1", "-S", "198.19.0.2",
				  "-b", "/dev/null", "-p", "22,80,443,8080", "--banners",
				  "10.0.0.0/8", NULL };
		static const char greet[] = "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n";
		size_t batch = 1 << 14, n_files;
		uint8_t(*frames)[128] = malloc(batch * 128);
		uint32_t *lens = malloc(batch * sizeof(*lens));
		static struct pps_result out[RX_CHUNK];
		static uint8_t xout[RX_CHUNK * 1460];
		static uint8_t *seg[4096];
		static size_t seglen[4096];
		struct pps_config bcfg;
		struct pps_scan s3;
		struct pps_counters c3 = { 0 };
		struct pps_banner_out *bo;
		char why[256];
		uint64_t named = 0;
		double cls_s;

		if (pps_config_parse(&bcfg, PPS_BACKEND_DPDK, 13, bargs, stderr) != PPS_PARSE_OK ||
		    pps_scan_init(&s3, &bcfg, mac, mac, 1) < 0)
			return 1;
		ring = pps_ring_new(1 << 16);
		if (!frames || !lens || !ring || pps_ring_set_extra(ring, bcfg.banner_bytes))
			return 1;
		if (n_seg > s3.total)
			n_seg = s3.total;
		for (uint64_t done = 0; done < n_seg; done += batch) {
			size_t k = n_seg - done < batch ? (size_t)(n_seg - done) : batch;

			for (size_t i = 0; i < k; i++) {
				struct pps_syn_probe p;

				pps_synscan_probe_at(&s3, done + i, &p);
				lens[i] = (uint32_t)segment(
					frames[i], &p, 0xc6130002u, 0x18,
					p.seq_h + 1 + pps_synscan_first_len_of(&s3, p.dst_port_h),
					greet, sizeof(greet) - 1);
			}
			for (size_t i = 0; i < k; i += RX_CHUNK) {
				size_t w = k - i < RX_CHUNK ? k - i : RX_CHUNK;

				t0 = cpu_s();
				sink += bench_validate_banners(&s3, frames + i, lens + i, w, &c3, ring);
				ban_s += cpu_s() - t0;
				while (pps_ring_pop_extra(ring, out, xout, RX_CHUNK))
					;
			}
		}
		printf("--banners: %" PRIu64 " first data segments in %.3f s CPU: %.2f ns/segment, "
		       "%.2f M/s (one core), RST included; recorded %" PRIu64 ", invalid %" PRIu64 "\n",
		       n_seg, ban_s, ban_s * 1e9 / (double)n_seg, (double)n_seg / ban_s / 1e6,
		       (uint64_t)c3.banners, (uint64_t)c3.invalid);

		if (argc > 4) {
			n_files = load_segments(argv[4], seg, seglen, 4096);
		} else {
			for (n_files = 0; n_files < sizeof(builtin_segments) / sizeof(*builtin_segments);
			     n_files++) {
				seg[n_files] = (uint8_t *)(uintptr_t)builtin_segments[n_files];
				seglen[n_files] = strlen(builtin_segments[n_files]);
			}
		}
		if (!n_files || !(bo = pps_banner_new(1, 0, why, sizeof(why)))) {
			fprintf(stderr, "bench_core: no segments or no fingerprints: %s\n",
				n_files ? why : "empty file");
			return 2;
		}
		n_cls = n_seg;
		t0 = cpu_s();
		named = bench_classify(bo->db, seg, seglen, n_files, n_cls);
		cls_s = cpu_s() - t0;
		cls_ns = cls_s * 1e9 / (double)n_cls;
		printf("classify: %" PRIu64 " first segments (%zu distinct) in %.3f s CPU: %.0f ns/segment, "
		       "%.2f M segments/s (one core); named %" PRIu64 "\n",
		       n_cls, n_files, cls_s, cls_ns, (double)n_cls / cls_s / 1e6, named);
		pps_banner_free(bo);
		pps_scan_fini(&s3);
		pps_config_free(&bcfg);
		pps_ring_free(ring);
		free(frames);
		free(lens);
	}
	printf("bench_core: gen_ns=%.3f val_ns=%.3f val_offload_ns=%.3f banner_ns=%.3f "
	       "classify_ns=%.3f\n",
	       n_tx ? gen_s * 1e9 / (double)n_tx : 0, n_rx ? val_s * 1e9 / (double)n_rx : 0,
	       n_rx ? off_s * 1e9 / (double)n_rx : 0, n_seg ? ban_s * 1e9 / (double)n_seg : 0,
	       cls_ns);
	pps_scan_fini(&s);
	pps_config_free(&cfg);
	return sink == 42 ? 3 : 0;
}
