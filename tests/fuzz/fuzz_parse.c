/*
 * fuzz_parse.c - libFuzzer target for everything a received frame goes through (clang:
 * -fsanitize=fuzzer,address,undefined; scripts/fuzz.sh). Each input is parsed as an Ethernet
 * frame and as a bare IPv4 packet (pps_parse_frame), then judged by the whole receive path of
 * a fixed scan (198.18.0.0/20 x {22,80,443,8080} from 198.19.0.2, seed 1): once frame by frame
 * (pps_scan_rx) and once as a burst (pps_scan_rx_burst) on a second, identical scan, with
 * the tcp_synscan module and again with the udp module (UDP replies, ICMP errors and their
 * quotes). The two paths must agree exactly (counters, results and ARP frames): a difference
 * traps, as does any parse result that claims more headers than the input holds.
 *
 * The same file, built with fuzz_regress.c instead of libFuzzer's main, replays the seed
 * corpus and every input that once crashed (tests/fuzz/regress/) as a unit test.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "pps_config.h"
#include "pps_parse.h"
#include "pps_scan.h"
#include "probe/probe_tcp_synscan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			__builtin_trap();                                                          \
	} while (0)

struct side {
	struct pps_scan scan;
	struct pps_counters c;
	struct pps_ring *ring;
};

static struct pps_config cfg, cfg_udp;
static struct side single, burst, udp_single, udp_burst;

static void side_init(struct side *sd, const struct pps_config *c)
{
	static const uint8_t mac[6] = { 2, 0, 0, 0, 0, 1 };

	CHECK(pps_scan_init(&sd->scan, c, mac, mac, 1) == 0);
	sd->ring = pps_ring_new(1024);
	CHECK(sd->ring != NULL);
}

static void init_once(void)
{
	static char *argv[] = { "fuzz_parse", "-b",	  "/dev/null",	    "-S",
				"198.19.0.2", "-p",	  "22,80,443,8080", "--seed",
				"1",	      "--dryrun", "198.18.0.0/20",  NULL };
	static char *argv_udp[] = { "fuzz_parse",
				    "-b",
				    "/dev/null",
				    "-S",
				    "198.19.0.2",
				    "-p",
				    "7,53,69,123,161,5060,9999",
				    "--seed",
				    "1",
				    "--dryrun",
				    "-M",
				    "udp",
				    "198.18.0.0/20",
				    NULL };
	static int done;

	if (done)
		return;
	done = 1;
	CHECK(pps_config_parse(&cfg, PPS_BACKEND_PCAP, 11, argv, stderr) == PPS_PARSE_OK);
	CHECK(pps_config_parse(&cfg_udp, PPS_BACKEND_PCAP, 13, argv_udp, stderr) == PPS_PARSE_OK);
	side_init(&single, &cfg);
	side_init(&burst, &cfg);
	side_init(&udp_single, &cfg_udp);
	side_init(&udp_burst, &cfg_udp);
}

/* The parser never reports a TCP segment shorter than the headers it read. */
static void check_parse(const uint8_t *data, size_t size, int with_ethernet)
{
	struct pps_pkt pkt;
	enum pps_parse_kind k = pps_parse_frame(data, size, with_ethernet, &pkt);

	CHECK(k >= PPS_PKT_TCP && k <= PPS_PKT_ICMP);
	CHECK(pkt.kind == k);
	if (k == PPS_PKT_TCP)
		CHECK(size >= (with_ethernet ? 14u : 0u) + 20u + 20u);
	if (k == PPS_PKT_UDP)
		CHECK(pkt.udp.udp_len >= 8 && pkt.udp.data + pkt.udp.udp_len - 8 <= data + size);
	if (k == PPS_PKT_ICMP && pkt.icmp.has_quote)
		CHECK(size >= (with_ethernet ? 14u : 0u) + 20u + 8u + 20u + 8u);
	if (k == PPS_PKT_ARP)
		CHECK(with_ethernet && size >= 14u + 28u);
}

/* Field by field: struct pps_result has padding that neither path need initialise. */
static int result_eq(const struct pps_result *a, const struct pps_result *b)
{
	return a->saddr_h == b->saddr_h && a->daddr_h == b->daddr_h && a->sport_h == b->sport_h &&
	       a->dport_h == b->dport_h && a->tcp.seq_h == b->tcp.seq_h &&
	       a->tcp.ack_h == b->tcp.ack_h && a->tcp.window_h == b->tcp.window_h &&
	       a->ipid_h == b->ipid_h && a->ttl == b->ttl && a->probe == b->probe &&
	       a->classification == b->classification && a->cooldown == b->cooldown &&
	       a->ts_ns == b->ts_ns;
}

static void same_results(struct side *one, struct side *many)
{
	struct pps_result a[64], b[64];
	size_t na, nb;

	do {
		na = pps_ring_pop(one->ring, a, 64);
		nb = pps_ring_pop(many->ring, b, 64);
		CHECK(na == nb);
		for (size_t i = 0; i < na; i++)
			CHECK(result_eq(&a[i], &b[i]) && a[i].part_len == b[i].part_len &&
			      !memcmp(a[i].part, b[i].part, sizeof(a[i].part)));
	} while (na);
	CHECK(memcmp(&one->c, &many->c, sizeof(one->c)) == 0);
}

/* The udp module: frame by frame and as a burst agree. */
static void udp_paths(const uint8_t *const *frames, const uint32_t *lens)
{
	for (int with_ethernet = 0; with_ethernet <= 1; with_ethernet++) {
		struct pps_pkt pkts[2], pkt;
		uint64_t arp_mask = 0;
		uint8_t verdict[2];

		for (unsigned k = 0; k < 2; k++) {
			if (pps_scan_rx(&udp_single.scan, frames[k], lens[k], with_ethernet, 1000,
					0, &udp_single.c, udp_single.ring, &pkt) == PPS_PKT_ARP)
				arp_mask |= 1ull << k;
			verdict[k] = pkt.verdict;
		}
		CHECK(pps_scan_rx_burst(&udp_burst.scan, frames, lens, 2, with_ethernet, 1000, 0,
					&udp_burst.c, udp_burst.ring, pkts) == arp_mask);
		for (unsigned k = 0; k < 2; k++)
			CHECK(pkts[k].verdict == verdict[k]);
		same_results(&udp_single, &udp_burst);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* two frames per input: the whole input, and the input without its first byte */
	const uint8_t *frames[2] = { data, data + (size > 0) };
	uint32_t lens[2] = { (uint32_t)size, (uint32_t)(size > 0 ? size - 1 : 0) };
	struct pps_pkt pkts[2], pkt;
	uint64_t arp_mask = 0, mask;
	uint8_t verdict[2];

	if (size > 65535)
		return 0;
	init_once();
	check_parse(data, size, 1);
	check_parse(data, size, 0);
	for (int with_ethernet = 0; with_ethernet <= 1; with_ethernet++) {
		arp_mask = 0;
		for (unsigned k = 0; k < 2; k++) {
			if (pps_scan_rx(&single.scan, frames[k], lens[k], with_ethernet, 1000, 0,
					&single.c, single.ring, &pkt) == PPS_PKT_ARP)
				arp_mask |= 1ull << k;
			verdict[k] = pkt.verdict;
		}
		mask = pps_scan_rx_burst(&burst.scan, frames, lens, 2, with_ethernet, 1000, 0,
					 &burst.c, burst.ring, pkts);
		CHECK(mask == arp_mask);
		for (unsigned k = 0; k < 2; k++) {
			uint8_t rst[PPS_TEMPLATE_MAX];

			CHECK(pkts[k].verdict == verdict[k]);
			/* a genuine SYN-ACK (the seeds hold some) gets a RST of the template's size */
			if (verdict[k] == PPS_V_SYNACK)
				CHECK(pps_synscan_fill_rst(&burst.scan, &pkts[k].tcp, rst) ==
				      pps_synscan_state(&burst.scan)->rst_tmpl.len);
		}
		same_results(&single, &burst);
	}
	udp_paths(frames, lens);
	return 0;
}
