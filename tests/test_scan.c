/*
 * test_scan.c - the probe sequence of a whole scan: every (address, port) of the target
 * space exactly once, source ports from the configured range, sequence numbers and IP IDs
 * equal to the SYN cookie, frames consistent with the probe, order fixed by the seed;
 * probes per target, target limits, several source addresses, and shard/thread slices.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <inttypes.h>

#include "pps_parse.h"
#include "pps_scan.h"
#include "probe/probe_tcp_synscan.h"
#include "pps_shard.h"
#include "unit_scan.h"
#include "unit_util.h"

static const uint8_t zero_mac[6];

static void scan_from(struct pps_config *cfg, struct pps_scan *s, char **argv)
{
	ut_scan_from(cfg, s, PPS_BACKEND_DPDK, argv);
}

Test(scan, covers_every_target_exactly_once)
{
	struct pps_config cfg;
	struct pps_scan s;
	uint8_t *count;
	uint64_t bad_sport = 0, bad_cookie = 0, not_target = 0;

	scan_from(&cfg, &s,
		  ARGV(DRY_NOBL, "--seed", "5", "-p", "22,80,443", "198.18.0.0/22", "198.18.8.7"));
	cr_assert_eq(s.n, (1024 + 1) * 3);
	cr_assert_eq(s.n_ports, 3);
	count = calloc(s.n, 1);
	for (uint64_t i = 0; i < s.n; i++) {
		struct pps_syn_probe p;
		int64_t a;
		uint64_t h;

		pps_synscan_probe_at(&s, i, &p);
		a = pps_targets_index_of(cfg.targets, p.dst_ip_h);
		if (a < 0 || !pps_ports_contains(cfg.ports, p.dst_port_h)) {
			not_target++;
			continue;
		}
		count[(uint64_t)a * 3 + cfg.ports->index[p.dst_port_h]]++;
		if (p.src_port_h < 32768 || p.src_port_h > 61000 ||
		    p.src_port_h != 32768 + i % (61000 - 32768 + 1))
			bad_sport++;
		h = pps_cookie(&s.key, p.dst_ip_h, p.dst_port_h, cfg.src_ip_h, p.src_port_h);
		if (p.seq_h != (uint32_t)h || p.ipid_h != (uint16_t)(h >> 32))
			bad_cookie++;
	}
	cr_assert_eq(not_target, 0);
	cr_assert_eq(bad_sport, 0);
	cr_assert_eq(bad_cookie, 0);
	for (uint64_t t = 0; t < s.n; t++)
		cr_assert_eq(count[t], 1, "target %llu probed %u times", (unsigned long long)t,
			     count[t]);
	/* 198.18.8.7 on each port */
	cr_assert_eq(count[1024 * 3 + 0] + count[1024 * 3 + 1] + count[1024 * 3 + 2], 3);
	free(count);
	pps_scan_fini(&s);
	pps_config_free(&cfg);
}

Test(scan, seed_fixes_order_and_cookies)
{
	struct pps_config c1, c2, c3;
	struct pps_scan s1, s2, s3;
	uint64_t same_order = 0, same_seq = 0;

	scan_from(&c1, &s1, ARGV(DRY_NOBL, "--seed", "5", "-p", "80,443", "198.18.0.0/24"));
	scan_from(&c2, &s2, ARGV(DRY_NOBL, "--seed", "5", "-p", "80,443", "198.18.0.0/24"));
	scan_from(&c3, &s3, ARGV(DRY_NOBL, "--seed", "6", "-p", "80,443", "198.18.0.0/24"));
	for (uint64_t i = 0; i < s1.n; i++) {
		struct pps_syn_probe a, b, c;

		pps_synscan_probe_at(&s1, i, &a);
		pps_synscan_probe_at(&s2, i, &b);
		pps_synscan_probe_at(&s3, i, &c);
		cr_assert_eq(a.dst_ip_h, b.dst_ip_h);
		cr_assert_eq(a.dst_port_h, b.dst_port_h);
		cr_assert_eq(a.src_port_h, b.src_port_h);
		cr_assert_eq(a.seq_h, b.seq_h);
		cr_assert_eq(a.ipid_h, b.ipid_h);
		same_order += a.dst_ip_h == c.dst_ip_h && a.dst_port_h == c.dst_port_h;
		same_seq += a.seq_h == c.seq_h;
	}
	cr_assert_lt(same_order, s1.n / 10, "seeds 5 and 6 give nearly the same order");
	cr_assert_lt(same_seq, 3, "seeds 5 and 6 give the same cookies");
	pps_scan_fini(&s1);
	pps_scan_fini(&s2);
	pps_scan_fini(&s3);
	pps_config_free(&c1);
	pps_config_free(&c2);
	pps_config_free(&c3);
}

Test(scan, source_port_range_cycles)
{
	struct pps_config cfg;
	struct pps_scan s;

	scan_from(&cfg, &s,
		  ARGV(DRY_NOBL, "--seed", "9", "-s", "40000-40002", "-p", "80", "10.0.0.0/28"));
	cr_assert_eq(s.n_sports, 3);
	for (uint64_t i = 0; i < s.n; i++) {
		struct pps_syn_probe p;

		pps_synscan_probe_at(&s, i, &p);
		cr_assert_eq(p.src_port_h, 40000 + i % 3);
	}
	pps_scan_fini(&s);
	pps_config_free(&cfg);
}

Test(scan, filled_frame_matches_probe)
{
	static const uint8_t gw[6] = { 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff };
	static const uint8_t me[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
	struct pps_config cfg;
	struct pps_scan s;
	char *errtext;

	cr_assert_eq(ut_parse_args(&cfg, PPS_BACKEND_DPDK,
				   ARGV(DRY_NOBL, "--seed", "77", "-S", "192.0.2.1", "--probe-ttl",
					"33", "-p", "22,80", "198.18.1.0/24"),
				   &errtext),
		     PPS_PARSE_OK);
	free(errtext);
	cr_assert_eq(pps_scan_init(&s, &cfg, me, gw, 1), 0);
	for (uint64_t i = 0; i < s.n; i++) {
		uint8_t buf[PPS_TEMPLATE_MAX];
		struct pps_syn_probe p;
		struct pps_pkt pkt;
		uint16_t len = pps_synscan_fill(&s, i, buf);

		pps_synscan_probe_at(&s, i, &p);
		cr_assert_eq(len, pps_synscan_state(&s)->tmpl.len);
		cr_assert_geq(len, 60);
		cr_assert_eq(memcmp(buf, gw, 6), 0);
		cr_assert_eq(memcmp(buf + 6, me, 6), 0);
		cr_assert_eq(pps_parse_frame(buf, len, 1, &pkt), PPS_PKT_TCP);
		cr_assert_eq(pkt.tcp.saddr_h, 0xc0000201);
		cr_assert_eq(pkt.tcp.daddr_h, p.dst_ip_h);
		cr_assert_eq(pkt.tcp.sport_h, p.src_port_h);
		cr_assert_eq(pkt.tcp.dport_h, p.dst_port_h);
		cr_assert_eq(pkt.tcp.seq_h, p.seq_h);
		cr_assert_eq(pkt.tcp.ack_h, 0);
		cr_assert_eq(pkt.tcp.ipid_h, p.ipid_h);
		cr_assert_eq(pkt.tcp.ttl, 33);
		cr_assert_eq(pkt.tcp.flags, PPS_TCP_SYN);
	}
	pps_scan_fini(&s);
	pps_config_free(&cfg);
}

/* All of IPv4 on two ports (2^33 targets) is exact in the default --dedup-memory: the
 * target index (address index * 2 + port index) of addresses at both ends of the space and
 * around 2^31 keys the bitmap, each (address, port) once, its other port apart. */
Test(scan, all_of_ipv4_on_two_ports_dedups_exactly)
{
	static const uint32_t addrs[] = { 0,	       1,	    0x7fffffffu, 0x80000000u,
					  0xc6120001u, 0xfffffffeu, 0xffffffffu };
	struct pps_config cfg;
	struct pps_scan s;

	scan_from(&cfg, &s, ARGV(DRY_NOBL, "--seed", "1", "-p", "80,443", "0.0.0.0/0"));
	cr_assert_eq(s.n, 1ULL << 33);
	cr_assert(pps_dedup_is_exact(s.dedup));
	for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		int64_t i80 = pps_scan_target_index(&s, addrs[i], 80);
		int64_t i443 = pps_scan_target_index(&s, addrs[i], 443);

		cr_assert_eq(i80, (int64_t)addrs[i] * 2);
		cr_assert_eq(i443, (int64_t)addrs[i] * 2 + 1);
		cr_assert_eq(pps_dedup_check_set(s.dedup, (uint64_t)i80, addrs[i], 80), 0);
		cr_assert_eq(pps_dedup_check_set(s.dedup, (uint64_t)i80, addrs[i], 80), 1);
		cr_assert_eq(pps_dedup_check_set(s.dedup, (uint64_t)i443, addrs[i], 443), 0);
	}
	pps_scan_fini(&s);
	pps_config_free(&cfg);
}

Test(scan, whole_internet_all_ports)
{
	struct pps_config cfg;
	struct pps_scan s;

	scan_from(&cfg, &s, ARGV(DRY_NOBL, "--seed", "1", "-p", "1-65535", "0.0.0.0/0"));
	cr_assert_eq(s.n, 281470681743360ULL);
	cr_assert(!pps_dedup_is_exact(s.dedup), "2^48 targets need the window dedup");
	for (uint64_t k = 0; k < 1000; k++) {
		uint64_t i = s.n - 1 - k * 1000003, t = pps_perm_apply(&s.perm, i);
		struct pps_syn_probe p;

		/* on 0.0.0.0/0 the address index is the address; ports 1.. follow */
		pps_synscan_probe_at(&s, i, &p);
		cr_assert_lt(t, s.n);
		cr_assert_eq(p.dst_ip_h, (uint32_t)(t / 65535));
		cr_assert_eq(p.dst_port_h, t % 65535 + 1);
		cr_assert_eq(p.src_port_h, 32768 + i % 28233);
	}
	pps_scan_fini(&s);
	pps_config_free(&cfg);
}

Test(scan, probes_per_target_spread_over_passes)
{
	struct pps_config cfg;
	struct pps_scan s;
	uint8_t *count;

	scan_from(&cfg, &s,
		  ARGV(DRY_NOBL, "--seed", "3", "-P", "3", "-p", "80,443", "198.18.0.0/25"));
	cr_assert_eq(s.n, 256);
	cr_assert_eq(s.total, 3 * 256);
	count = calloc(s.n, 1);
	for (uint64_t j = 0; j < s.total; j++) {
		struct pps_syn_probe p, q;

		pps_synscan_probe_at(&s, j, &p);
		count[(uint64_t)pps_targets_index_of(cfg.targets, p.dst_ip_h) * 2 +
		      cfg.ports->index[p.dst_port_h]]++;
		if (j + s.n < s.total) {
			/* the next pass probes the same target from the next source port */
			pps_synscan_probe_at(&s, j + s.n, &q);
			cr_assert_eq(q.dst_ip_h, p.dst_ip_h);
			cr_assert_eq(q.dst_port_h, p.dst_port_h);
			cr_assert_eq(q.src_port_h,
				     p.src_port_h == 61000 ? 32768 : p.src_port_h + 1);
		}
	}
	for (uint64_t t = 0; t < s.n; t++)
		cr_assert_eq(count[t], 3, "target %llu probed %u times", (unsigned long long)t,
			     count[t]);
	free(count);
	pps_scan_fini(&s);
	pps_config_free(&cfg);
}

Test(scan, max_targets_takes_distinct_targets)
{
	struct pps_config cfg;
	struct pps_scan s;
	uint8_t *seen;

	scan_from(&cfg, &s,
		  ARGV(DRY_NOBL, "--seed", "4", "-n", "100", "-p", "1-10", "198.18.0.0/24"));
	cr_assert_eq(s.n, 2560);
	cr_assert_eq(s.total, 100);
	seen = calloc(s.n, 1);
	for (uint64_t j = 0; j < s.total; j++) {
		struct pps_syn_probe p;
		uint64_t t;

		pps_synscan_probe_at(&s, j, &p);
		t = (uint64_t)pps_targets_index_of(cfg.targets, p.dst_ip_h) * 10 +
		    cfg.ports->index[p.dst_port_h];
		cr_assert_eq(seen[t]++, 0, "target %llu twice", (unsigned long long)t);
	}
	free(seen);
	pps_scan_fini(&s);
	pps_config_free(&cfg);
}

Test(scan, several_source_addresses)
{
	struct pps_config cfg;
	struct pps_scan s;
	unsigned per_source[4] = { 0 };

	scan_from(&cfg, &s,
		  ARGV(DRY_NOBL, "--seed", "8", "-S", "192.0.2.1-192.0.2.4", "-p", "80",
		       "198.18.0.0/24"));
	cr_assert_eq(s.n_sources, 4);
	for (uint64_t j = 0; j < s.total; j++) {
		uint8_t buf[PPS_TEMPLATE_MAX];
		struct pps_syn_probe p;
		struct pps_pkt pkt;
		uint64_t h;

		pps_synscan_probe_at(&s, j, &p);
		cr_assert(p.src_ip_h >= 0xc0000201 && p.src_ip_h <= 0xc0000204);
		cr_assert_eq(p.src_ip_h, 0xc0000201 + j % 4);
		per_source[p.src_ip_h - 0xc0000201]++;
		h = pps_cookie(&s.key, p.dst_ip_h, p.dst_port_h, p.src_ip_h, p.src_port_h);
		cr_assert_eq(p.seq_h, (uint32_t)h, "the cookie covers the source address");
		/* the frame carries that source address */
		cr_assert_eq(pps_parse_frame(buf, pps_synscan_fill(&s, j, buf), 1, &pkt),
			     PPS_PKT_TCP);
		cr_assert_eq(pkt.tcp.saddr_h, p.src_ip_h);
	}
	for (int k = 0; k < 4; k++)
		cr_assert_eq(per_source[k], 64);
	pps_scan_fini(&s);
	pps_config_free(&cfg);
}

Test(shard, header_worked_example)
{
	static const uint64_t want[2][2][3] = {
		{ { 0, 4, 8 }, { 2, 6, ~0ULL } },
		{ { 1, 5, 9 }, { 3, 7, ~0ULL } },
	};

	for (uint32_t sh = 0; sh < 2; sh++) {
		for (uint32_t th = 0; th < 2; th++) {
			struct pps_slice sl;
			int k = 0;

			cr_assert_eq(pps_slice_init(&sl, 10, sh, 2, th, 2), 0);
			cr_assert_eq(pps_slice_remaining(&sl), want[sh][th][2] == ~0ULL ? 2 : 3);
			for (uint64_t j = sl.next; j < sl.end; j += sl.stride)
				cr_assert_eq(j, want[sh][th][k++]);
		}
	}
}

/* Every index of [0, total) is sent by exactly one (shard, thread). */
static void check_partition(uint64_t total, uint32_t ns, uint32_t nt)
{
	uint8_t *hit = calloc(total + 1, 1);

	for (uint32_t sh = 0; sh < ns; sh++) {
		for (uint32_t th = 0; th < nt; th++) {
			struct pps_slice sl;
			uint64_t n = 0;

			cr_assert_eq(pps_slice_init(&sl, total, sh, ns, th, nt), 0);
			for (uint64_t j = sl.next; j < sl.end; j += sl.stride) {
				hit[j]++;
				n++;
			}
			cr_assert_eq(pps_slice_remaining(&sl), n);
		}
	}
	for (uint64_t j = 0; j < total; j++)
		cr_assert_eq(hit[j], 1, "total %llu, %u shards x %u threads: index %llu",
			     (unsigned long long)total, ns, nt, (unsigned long long)j);
	free(hit);
}

Test(shard, slices_partition_the_index_space)
{
	static const uint64_t totals[] = { 0, 1, 2, 7, 100, 1001 };
	static const uint32_t counts[] = { 1, 2, 3, 5, 8 };

	for (size_t a = 0; a < 6; a++)
		for (size_t b = 0; b < 5; b++)
			for (size_t c = 0; c < 5; c++)
				check_partition(totals[a], counts[b], counts[c]);
}

Test(shard, invalid_arguments)
{
	struct pps_slice sl;

	cr_assert_eq(pps_slice_init(&sl, 10, 0, 0, 0, 1), -EINVAL);
	cr_assert_eq(pps_slice_init(&sl, 10, 0, 1, 0, 0), -EINVAL);
	cr_assert_eq(pps_slice_init(&sl, 10, 2, 2, 0, 1), -EINVAL);
	cr_assert_eq(pps_slice_init(&sl, 10, 0, 2, 3, 3), -EINVAL);
}

/* The burst functions write and judge exactly what the one-at-a-time functions do. */
static void check_fill_burst(char **argv, uint64_t stride)
{
	static uint8_t a[100][PPS_TEMPLATE_MAX], b[100][PPS_TEMPLATE_MAX];
	uint8_t *ptr[100];
	uint16_t lens[100];
	struct pps_config cfg;
	struct pps_scan s;
	uint64_t j0 = 0;
	unsigned n = 1;

	scan_from(&cfg, &s, argv);
	for (int k = 0; k < 100; k++)
		ptr[k] = b[k];
	while (j0 < s.total) {
		unsigned w = 0;

		for (uint64_t j = j0; j < s.total && w < n; j += stride)
			pps_synscan_fill(&s, j, a[w++]);
		pps_scan_fill_burst(&s, j0, stride, w, ptr, lens);
		for (unsigned k = 0; k < w; k++) {
			cr_assert_eq(lens[k], pps_synscan_state(&s)->tmpl.len);
			cr_assert_eq(memcmp(a[k], b[k], pps_synscan_state(&s)->tmpl.len), 0,
				     "probe %" PRIu64 " differs between fill and fill_burst",
				     j0 + k * stride);
		}
		j0 += (uint64_t)w * stride;
		n = n % 97 + 1; /* bursts of 1..97: short tails, more than PPS_BURST */
	}
	pps_scan_fini(&s);
	pps_config_free(&cfg);
}

Test(scan, fill_burst_matches_fill)
{
	check_fill_burst(ARGV(DRY_NOBL, "--seed", "3", "-P", "2", "-S", "192.0.2.1-192.0.2.3", "-p",
			      "22,80,443,8080", "198.18.0.0/22", "198.18.64.5"),
			 3);
	check_fill_burst(ARGV(DRY_NOBL, "--seed", "4", "--tcp-options", "bsd", "-p", "1-7",
			      "198.18.4.0/24"),
			 1);
	/* 10 targets: a = 3, b = 4, so indices 10 and 11 are walked past (cycle walking) */
	check_fill_burst(
		ARGV(DRY_NOBL, "--seed", "5", "-p", "80", "198.18.0.0/29", "198.18.0.8/31"), 1);
	check_fill_burst(ARGV(DRY_NOBL, "--seed", "6", "-p", "80", "198.18.0.1"), 1);
	/* the largest space: 2^32 addresses x 65535 ports, a and b near 2^24 (first 3000) */
	check_fill_burst(ARGV(DRY_NOBL, "--seed", "7", "-n", "3000", "-p", "1-65535", "0.0.0.0/0"),
			 1);
}

Test(scan, rx_burst_matches_rx)
{
	struct pps_config cfg;
	struct pps_scan s1, s2;
	struct pps_counters c1 = { 0 }, c2 = { 0 };
	struct pps_ring *r1 = pps_ring_new(4096), *r2 = pps_ring_new(4096);
	static uint8_t frames[1000][256];
	static uint32_t lens[1000];
	static struct pps_result o1[4096], o2[4096];
	struct ut_rng rng;
	size_t n1, n2;
	unsigned nf = 0, arp1 = 0, arp2 = 0;

	scan_from(&cfg, &s1,
		  ARGV(DRY_NOBL, "--seed", "9", "-S", "192.0.2.1", "-p", "22,80,443",
		       "198.18.0.0/24"));
	cr_assert_eq(pps_scan_init(&s2, &cfg, zero_mac, zero_mac, 1), 0);
	ut_rng_seed(&rng, 99);
	while (nf < 1000) {
		struct pps_syn_probe p;
		struct ut_frame f = ut_synack();
		unsigned kind = (unsigned)ut_below(&rng, 10);

		pps_synscan_probe_at(&s1, ut_below(&rng, s1.total), &p);
		f.saddr = p.dst_ip_h;
		f.sport = p.dst_port_h;
		f.daddr = p.src_ip_h;
		f.dport = p.src_port_h;
		f.ack = p.seq_h + 1;
		switch (kind) {
		case 0:
			f.flags = 0x14;
			f.ack = p.seq_h;
			break;			     /* RST-ACK, closed */
		case 1: f.ack += 7; break;	     /* bad cookie */
		case 2: f.daddr = 0xc0000202; break; /* not ours */
		case 3: f.dport = 1000; break;	     /* outside the sport range */
		case 4: f.saddr = 0xc6120100; break; /* not a target */
		case 5: f.proto = 17; break;	     /* UDP */
		case 6: f.flags = 0x10; break;	     /* bare ACK */
		case 7: f.tot_adjust = 400; break;   /* malformed */
		default: break;			     /* genuine SYN-ACK */
		}
		lens[nf] = (uint32_t)ut_build(frames[nf], &f);
		nf++;
		if (kind == 8 && nf < 1000) { /* a retransmission: a duplicate */
			memcpy(frames[nf], frames[nf - 1], 256);
			lens[nf] = lens[nf - 1];
			nf++;
		}
		if (kind == 9 && nf < 1000) { /* an ARP request for our address */
			static const uint8_t arp[28] = { 0, 1, 8, 0, 6,	  4,  0, 1, 2, 0,
							 0, 0, 0, 9, 198, 19, 0, 1, 0, 0,
							 0, 0, 0, 0, 192, 0,  2, 1 };
			memset(frames[nf], 0, 256);
			frames[nf][12] = 0x08;
			frames[nf][13] = 0x06;
			memcpy(frames[nf] + 14, arp, 28);
			lens[nf++] = 60;
		}
	}
	static uint8_t verdict1[4096];

	for (unsigned k = 0; k < nf; k++) {
		struct pps_pkt pkt;
		if (pps_scan_rx(&s1, frames[k], lens[k], 1, 42, 0, &c1, r1, &pkt) == PPS_PKT_ARP)
			arp1++;
		verdict1[k] = pkt.verdict;
		if (pkt.kind == PPS_PKT_TCP) { /* the module's verdict is the scalar reference's */
			uint64_t idx;

			cr_assert_eq(pkt.verdict, pps_synscan_validate(&s1, &pkt.tcp, &idx),
				     "frame %u", k);
		}
	}
	for (unsigned k = 0, w = 1; k < nf; k += w, w = w % 64 + 1) {
		const uint8_t *f[64];
		struct pps_pkt pkt[64];
		uint64_t mask;

		if (w > nf - k)
			w = nf - k;
		for (unsigned q = 0; q < w; q++)
			f[q] = frames[k + q];
		mask = pps_scan_rx_burst(&s2, f, lens + k, w, 1, 42, 0, &c2, r2, pkt);
		arp2 += (unsigned)__builtin_popcountll(mask);
		for (unsigned q = 0; q < w; q++) {
			if (mask >> q & 1)
				cr_assert_eq(pkt[q].arp.tpa_h, 0xc0000201);
			cr_assert_eq(pkt[q].verdict, verdict1[k + q], "frame %u: verdicts differ",
				     k + q);
		}
	}
	cr_assert_gt(arp1, 0);
	cr_assert_eq(arp1, arp2);
	cr_assert_gt(c1.open, 100);
	cr_assert_gt(c1.closed, 50);
	cr_assert_gt(c1.dup, 10);
	cr_assert_eq(memcmp(&c1, &c2, sizeof(c1)), 0, "counters differ");
	n1 = pps_ring_pop(r1, o1, 4096);
	n2 = pps_ring_pop(r2, o2, 4096);
	cr_assert_eq(n1, n2);
	cr_assert_eq(memcmp(o1, o2, n1 * sizeof(o1[0])), 0, "results differ");
	pps_ring_free(r1);
	pps_ring_free(r2);
	pps_scan_fini(&s1);
	pps_scan_fini(&s2);
	pps_config_free(&cfg);
}
