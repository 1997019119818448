/*
 * test_validate.c - response validation against a scan's own probes (pps_synscan_validate)
 * and the whole RX path (pps_scan_rx): verdicts, dedup of retransmissions, counters, the
 * results ring and its overflow.
 */
#include <criterion/criterion.h>

#include "pps_arp.h"
#include "pps_scan.h"
#include "probe/probe_tcp_synscan.h"
#include "unit_util.h"

#define SRC_IP 0xc0000201u /* 192.0.2.1 */

static struct pps_config cfg;
static struct pps_scan s;
static const uint8_t zero_mac[6];

static void setup(void)
{
	char *errtext;

	cr_assert_eq(ut_parse_args(&cfg, PPS_BACKEND_DPDK,
				   ARGV(DRY_NOBL, "--seed", "99", "-S", "192.0.2.1", "-p",
					"22,80,443", "198.18.0.0/24", "198.18.5.5"),
				   &errtext),
		     PPS_PARSE_OK, "%s", errtext);
	free(errtext);
	cr_assert_eq(pps_scan_init(&s, &cfg, zero_mac, zero_mac, 1), 0);
}

static void teardown(void)
{
	pps_scan_fini(&s);
	pps_config_free(&cfg);
}

TestSuite(validate, .init = setup, .fini = teardown);
TestSuite(rx, .init = setup, .fini = teardown);

/* The target's answer to @p. */
static struct pps_tcp_pkt answer(const struct pps_syn_probe *p, uint8_t flags, uint32_t ack)
{
	struct pps_tcp_pkt t = { 0 };

	t.saddr_h = p->dst_ip_h;
	t.daddr_h = SRC_IP;
	t.sport_h = p->dst_port_h;
	t.dport_h = p->src_port_h;
	t.seq_h = 0x01020304;
	t.ack_h = ack;
	t.flags = flags;
	t.window_h = 1000;
	t.ttl = 60;
	return t;
}

static uint64_t expected_index(const struct pps_syn_probe *p)
{
	return (uint64_t)pps_targets_index_of(cfg.targets, p->dst_ip_h) * 3 +
	       cfg.ports->index[p->dst_port_h];
}

#define SA (PPS_TCP_SYN | PPS_TCP_ACK)

Test(validate, synack_needs_ack_seq_plus_one)
{
	uint64_t bad = 0;

	for (uint64_t i = 0; i < s.n; i++) {
		struct pps_syn_probe p;
		struct pps_tcp_pkt t;
		uint64_t idx = ~0ULL;

		pps_synscan_probe_at(&s, i, &p);
		t = answer(&p, SA, p.seq_h + 1);
		bad += pps_synscan_validate(&s, &t, &idx) != PPS_V_SYNACK;
		bad += idx != expected_index(&p);
		t.ack_h = p.seq_h;
		bad += pps_synscan_validate(&s, &t, &idx) != PPS_V_BAD_COOKIE;
		t.ack_h = p.seq_h + 2;
		bad += pps_synscan_validate(&s, &t, &idx) != PPS_V_BAD_COOKIE;
		t.ack_h = (p.seq_h + 1) ^ 0x80000000u;
		bad += pps_synscan_validate(&s, &t, &idx) != PPS_V_BAD_COOKIE;
	}
	cr_assert_eq(bad, 0, "%llu wrong verdicts over %llu probes", (unsigned long long)bad,
		     (unsigned long long)s.n);
}

Test(validate, rst_accepts_seq_and_seq_plus_one)
{
	static const uint8_t rst_flags[] = { PPS_TCP_RST, PPS_TCP_RST | PPS_TCP_ACK };

	for (uint64_t i = 0; i < s.n; i += 7) {
		for (size_t k = 0; k < 2; k++) {
			struct pps_syn_probe p;
			struct pps_tcp_pkt t;
			uint64_t idx = ~0ULL;

			pps_synscan_probe_at(&s, i, &p);
			t = answer(&p, rst_flags[k], p.seq_h);
			cr_assert_eq(pps_synscan_validate(&s, &t, &idx), PPS_V_RST);
			cr_assert_eq(idx, expected_index(&p));
			t.ack_h = p.seq_h + 1;
			cr_assert_eq(pps_synscan_validate(&s, &t, &idx), PPS_V_RST);
			t.ack_h = p.seq_h + 2;
			cr_assert_eq(pps_synscan_validate(&s, &t, &idx), PPS_V_BAD_COOKIE);
			t.ack_h = p.seq_h - 1;
			cr_assert_eq(pps_synscan_validate(&s, &t, &idx), PPS_V_BAD_COOKIE);
			t.ack_h = 0;
			cr_assert_eq(pps_synscan_validate(&s, &t, &idx),
				     p.seq_h == 0 || p.seq_h == 0xffffffff ? PPS_V_RST
									   : PPS_V_BAD_COOKIE);
		}
	}
}

Test(validate, not_target)
{
	struct pps_syn_probe p;
	struct pps_tcp_pkt t;
	uint64_t idx;

	pps_synscan_probe_at(&s, 0, &p);
	t = answer(&p, SA, p.seq_h + 1);
	t.saddr_h = 0xc6120100; /* 198.18.1.0: not in the targets */
	cr_assert_eq(pps_synscan_validate(&s, &t, &idx), PPS_V_NOT_TARGET);
	t.saddr_h = 0xc6120504; /* next to 198.18.5.5 */
	cr_assert_eq(pps_synscan_validate(&s, &t, &idx), PPS_V_NOT_TARGET);
	t = answer(&p, SA, p.seq_h + 1);
	t.sport_h = 8080; /* a port we did not probe */
	cr_assert_eq(pps_synscan_validate(&s, &t, &idx), PPS_V_NOT_TARGET);
	t.sport_h = 0;
	cr_assert_eq(pps_synscan_validate(&s, &t, &idx), PPS_V_NOT_TARGET);
	/* the RST of a non-target is not a result either */
	t = answer(&p, PPS_TCP_RST, p.seq_h);
	t.saddr_h = 0x08080808;
	cr_assert_eq(pps_synscan_validate(&s, &t, &idx), PPS_V_NOT_TARGET);
}

Test(validate, dport_outside_source_range)
{
	static const uint16_t outside[] = { 0, 1, 32767, 61001, 65535 };
	struct pps_syn_probe p;
	struct pps_tcp_pkt t;
	uint64_t idx;

	pps_synscan_probe_at(&s, 0, &p);
	for (size_t i = 0; i < sizeof(outside) / sizeof(outside[0]); i++) {
		t = answer(&p, SA, p.seq_h + 1);
		t.dport_h = outside[i];
		cr_assert_eq(pps_synscan_validate(&s, &t, &idx), PPS_V_BAD_DPORT, "dport %u",
			     outside[i]);
	}
	/* both ends of the range are ours: a genuine answer there is valid */
	for (uint32_t sport = 32768; sport <= 61000; sport += 61000 - 32768) {
		uint32_t seq = (uint32_t)pps_cookie(&s.key, p.dst_ip_h, p.dst_port_h, SRC_IP,
						    (uint16_t)sport);

		t = answer(&p, SA, seq + 1);
		t.dport_h = (uint16_t)sport;
		cr_assert_eq(pps_synscan_validate(&s, &t, &idx), PPS_V_SYNACK, "dport %u", sport);
	}
}

Test(validate, not_ours)
{
	struct pps_syn_probe p;
	struct pps_tcp_pkt t;
	uint64_t idx;

	pps_synscan_probe_at(&s, 3, &p);
	t = answer(&p, SA, p.seq_h + 1);
	t.daddr_h = SRC_IP + 1;
	cr_assert_eq(pps_synscan_validate(&s, &t, &idx), PPS_V_NOT_OURS);
	/* our own probe seen on the wire */
	t.saddr_h = SRC_IP;
	t.daddr_h = p.dst_ip_h;
	t.sport_h = p.src_port_h;
	t.dport_h = p.dst_port_h;
	t.seq_h = p.seq_h;
	t.ack_h = 0;
	t.flags = PPS_TCP_SYN;
	cr_assert_eq(pps_synscan_validate(&s, &t, &idx), PPS_V_NOT_OURS);
}

Test(validate, flags_without_synack_or_rst)
{
	static const uint8_t flags[] = {
		PPS_TCP_ACK, PPS_TCP_SYN,	 0, PPS_TCP_FIN | PPS_TCP_ACK,
		PPS_TCP_FIN, 0x08 | PPS_TCP_ACK, /* PSH ACK */
	};
	struct pps_syn_probe p;
	uint64_t idx;

	pps_synscan_probe_at(&s, 5, &p);
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		struct pps_tcp_pkt t = answer(&p, flags[i], p.seq_h + 1);

		cr_assert_eq(pps_synscan_validate(&s, &t, &idx), PPS_V_BAD_FLAGS, "flags %02x",
			     flags[i]);
	}
	/* extra bits around SYN-ACK (PSH, ECE, CWR) do not hide it */
	struct pps_tcp_pkt t = answer(&p, SA | 0x08 | 0x40 | 0x80, p.seq_h + 1);
	cr_assert_eq(pps_synscan_validate(&s, &t, &idx), PPS_V_SYNACK);
}

Test(validate, other_seed_is_bad_cookie)
{
	struct pps_config cfg2;
	struct pps_scan s2;
	char *errtext;
	int genuine = 0;

	cr_assert_eq(ut_parse_args(&cfg2, PPS_BACKEND_DPDK,
				   ARGV(DRY_NOBL, "--seed", "100", "-S", "192.0.2.1", "-p",
					"22,80,443", "198.18.0.0/24", "198.18.5.5"),
				   &errtext),
		     PPS_PARSE_OK);
	free(errtext);
	cr_assert_eq(pps_scan_init(&s2, &cfg2, zero_mac, zero_mac, 1), 0);
	for (uint64_t i = 0; i < s2.n; i++) {
		struct pps_syn_probe p;
		struct pps_tcp_pkt t;
		uint64_t idx;

		pps_synscan_probe_at(&s2, i, &p);
		t = answer(&p, SA, p.seq_h + 1);
		genuine += pps_synscan_validate(&s, &t, &idx) != PPS_V_BAD_COOKIE;
	}
	cr_assert_eq(genuine, 0, "another scan's answers pass our cookie check");
	pps_scan_fini(&s2);
	pps_config_free(&cfg2);
}

/* ---- pps_scan_rx ---- */

static size_t frame_for(uint8_t *buf, const struct pps_syn_probe *p, uint8_t flags, uint32_t ack)
{
	struct ut_frame f = { 0 };

	f.saddr = p->dst_ip_h;
	f.daddr = SRC_IP;
	f.sport = p->dst_port_h;
	f.dport = p->src_port_h;
	f.seq = 0xdead0000 | p->dst_port_h;
	f.ack = ack;
	f.flags = flags;
	f.window = 29200;
	f.ttl = 54;
	f.ipid = 0x4242;
	f.frag = 0x4000;
	return ut_build(buf, &f);
}

static void expect_counters(const struct pps_counters *c, uint64_t recv, uint64_t valid,
			    uint64_t open, uint64_t closed, uint64_t dup, uint64_t invalid,
			    uint64_t malformed, uint64_t other, uint64_t ring_full)
{
	struct pps_totals t = { 0 };

	pps_totals_sum(&t, c, 1);
	cr_assert_eq(t.recv, recv, "recv %llu", (unsigned long long)t.recv);
	cr_assert_eq(t.valid, valid, "valid %llu", (unsigned long long)t.valid);
	cr_assert_eq(t.open, open, "open %llu", (unsigned long long)t.open);
	cr_assert_eq(t.closed, closed, "closed %llu", (unsigned long long)t.closed);
	cr_assert_eq(t.dup, dup, "dup %llu", (unsigned long long)t.dup);
	cr_assert_eq(t.invalid, invalid, "invalid %llu", (unsigned long long)t.invalid);
	cr_assert_eq(t.malformed, malformed, "malformed %llu", (unsigned long long)t.malformed);
	cr_assert_eq(t.not_ours, other, "other %llu", (unsigned long long)t.not_ours);
	cr_assert_eq(t.ring_full, ring_full, "ring_full %llu", (unsigned long long)t.ring_full);
}

Test(rx, results_dedup_and_counters)
{
	static struct pps_counters c;
	struct pps_ring *ring = pps_ring_new(64);
	struct pps_result out[64];
	struct pps_syn_probe p0, p1, p2;
	struct pps_pkt pkt;
	uint8_t buf[256];
	size_t len;

	cr_assert_not_null(ring);
	pps_synscan_probe_at(&s, 0, &p0);
	pps_synscan_probe_at(&s, 1, &p1);
	pps_synscan_probe_at(&s, 2, &p2);

	/* a SYN-ACK, then its retransmission */
	len = frame_for(buf, &p0, SA, p0.seq_h + 1);
	cr_assert_eq(pps_scan_rx(&s, buf, (uint32_t)len, 1, 1111, 0, &c, ring, &pkt), PPS_PKT_TCP);
	cr_assert_eq(pps_scan_rx(&s, buf, (uint32_t)len, 1, 2222, 0, &c, ring, &pkt), PPS_PKT_TCP);
	expect_counters(&c, 2, 2, 1, 0, 1, 0, 0, 0, 0);

	/* a RST (ack = seq, as a RST to a SYN without ACK may carry) in cooldown */
	len = frame_for(buf, &p1, PPS_TCP_RST | PPS_TCP_ACK, p1.seq_h);
	pps_scan_rx(&s, buf, (uint32_t)len, 1, 3333, 1, &c, ring, &pkt);
	expect_counters(&c, 3, 3, 1, 1, 1, 0, 0, 0, 0);

	/* invalid: bad cookie, bad flags, bad dport, not a target */
	len = frame_for(buf, &p2, SA, p2.seq_h + 2);
	pps_scan_rx(&s, buf, (uint32_t)len, 1, 0, 0, &c, ring, &pkt);
	len = frame_for(buf, &p2, PPS_TCP_ACK, p2.seq_h + 1);
	pps_scan_rx(&s, buf, (uint32_t)len, 1, 0, 0, &c, ring, &pkt);
	struct pps_syn_probe q = p2;
	q.src_port_h = 1000;
	len = frame_for(buf, &q, SA, p2.seq_h + 1);
	pps_scan_rx(&s, buf, (uint32_t)len, 1, 0, 0, &c, ring, &pkt);
	q = p2;
	q.dst_ip_h = 0x01010101;
	len = frame_for(buf, &q, SA, p2.seq_h + 1);
	pps_scan_rx(&s, buf, (uint32_t)len, 1, 0, 0, &c, ring, &pkt);
	expect_counters(&c, 7, 3, 1, 1, 1, 4, 0, 0, 0);

	/* a bad cookie does not poison dedup: the genuine answer still counts */
	len = frame_for(buf, &p2, SA, p2.seq_h + 1);
	pps_scan_rx(&s, buf, (uint32_t)len, 1, 4444, 0, &c, ring, &pkt);
	expect_counters(&c, 8, 4, 2, 1, 1, 4, 0, 0, 0);
	/* and a later RST for an open port is a repeat, not a second result */
	len = frame_for(buf, &p2, PPS_TCP_RST, p2.seq_h + 1);
	pps_scan_rx(&s, buf, (uint32_t)len, 1, 0, 0, &c, ring, &pkt);
	expect_counters(&c, 9, 5, 2, 1, 2, 4, 0, 0, 0);

	/* malformed, other protocol, not ours, ARP */
	len = frame_for(buf, &p0, SA, p0.seq_h + 1);
	cr_assert_eq(pps_scan_rx(&s, buf, 30, 1, 0, 0, &c, ring, &pkt), PPS_PKT_MALFORMED);
	buf[14 + 9] = 47; /* GRE */
	cr_assert_eq(pps_scan_rx(&s, buf, (uint32_t)len, 1, 0, 0, &c, ring, &pkt), PPS_PKT_OTHER);
	q = p0;
	len = frame_for(buf, &q, SA, p0.seq_h + 1);
	ut_put32(buf + 14 + 16, SRC_IP + 9); /* to another host */
	cr_assert_eq(pps_scan_rx(&s, buf, (uint32_t)len, 1, 0, 0, &c, ring, &pkt), PPS_PKT_TCP);
	static const uint8_t mac[6] = { 2, 0, 0, 0, 0, 7 };
	len = pps_arp_build(buf, 1, mac, 0xc0000202, mac, SRC_IP);
	cr_assert_eq(pps_scan_rx(&s, buf, (uint32_t)len, 1, 0, 0, &c, ring, &pkt), PPS_PKT_ARP);
	cr_assert_eq(pkt.arp.tpa_h, SRC_IP, "ARP fields handed to the caller");
	expect_counters(&c, 13, 5, 2, 1, 2, 4, 1, 3, 0);

	/* exactly three results, in order, with the response's fields */
	cr_assert_eq(pps_ring_pop(ring, out, 64), 3);
	cr_assert_eq(out[0].saddr_h, p0.dst_ip_h);
	cr_assert_eq(out[0].daddr_h, SRC_IP);
	cr_assert_eq(out[0].sport_h, p0.dst_port_h);
	cr_assert_eq(out[0].dport_h, p0.src_port_h);
	cr_assert_eq(out[0].tcp.seq_h, 0xdead0000 | p0.dst_port_h);
	cr_assert_eq(out[0].tcp.ack_h, p0.seq_h + 1);
	cr_assert_eq(out[0].tcp.window_h, 29200);
	cr_assert_eq(out[0].ipid_h, 0x4242);
	cr_assert_eq(out[0].ttl, 54);
	cr_assert_eq(out[0].classification, PPS_CLASS_SYNACK);
	cr_assert_eq(out[0].cooldown, 0);
	cr_assert_eq(out[0].ts_ns, 1111, "first arrival's time, not the retransmission's");
	cr_assert_eq(out[1].saddr_h, p1.dst_ip_h);
	cr_assert_eq(out[1].classification, PPS_CLASS_RST);
	cr_assert_eq(out[1].cooldown, 1);
	cr_assert_eq(out[1].ts_ns, 3333);
	cr_assert_eq(out[2].saddr_h, p2.dst_ip_h);
	cr_assert_eq(out[2].classification, PPS_CLASS_SYNACK);
	cr_assert_eq(out[2].ts_ns, 4444);
	pps_ring_free(ring);
}

Test(rx, vlan_and_raw_frames)
{
	static struct pps_counters c;
	struct pps_ring *ring = pps_ring_new(8);
	struct pps_result out[8];
	struct pps_syn_probe p;
	struct ut_frame f = { 0 };
	struct pps_pkt pkt;
	uint8_t buf[256];
	size_t len;

	pps_synscan_probe_at(&s, 10, &p);
	f.saddr = p.dst_ip_h;
	f.daddr = SRC_IP;
	f.sport = p.dst_port_h;
	f.dport = p.src_port_h;
	f.ack = p.seq_h + 1;
	f.flags = SA;
	f.n_vlan = 1;
	len = ut_build(buf, &f);
	pps_scan_rx(&s, buf, (uint32_t)len, 1, 0, 0, &c, ring, &pkt);
	f.n_vlan = 0;
	f.raw = 1; /* same answer again, raw IP */
	len = ut_build(buf, &f);
	pps_scan_rx(&s, buf, (uint32_t)len, 0, 0, 0, &c, ring, &pkt);
	expect_counters(&c, 2, 2, 1, 0, 1, 0, 0, 0, 0);
	cr_assert_eq(pps_ring_pop(ring, out, 8), 1);
	pps_ring_free(ring);
}

Test(rx, ring_full_is_counted)
{
	static struct pps_counters c;
	struct pps_ring *ring = pps_ring_new(2);
	struct pps_result out[8];
	struct pps_pkt pkt;
	uint8_t buf[256];

	for (uint64_t i = 0; i < 5; i++) {
		struct pps_syn_probe p;
		size_t len;

		pps_synscan_probe_at(&s, i, &p);
		len = frame_for(buf, &p, SA, p.seq_h + 1);
		pps_scan_rx(&s, buf, (uint32_t)len, 1, i, 0, &c, ring, &pkt);
	}
	/* five unique results, two fit */
	expect_counters(&c, 5, 5, 5, 0, 0, 0, 0, 0, 3);
	cr_assert_eq(pps_ring_pop(ring, out, 8), 2);
	cr_assert_eq(out[0].ts_ns, 0);
	cr_assert_eq(out[1].ts_ns, 1);
	pps_ring_free(ring);
}

Test(validate, several_source_addresses)
{
	struct pps_config cfg2;
	struct pps_scan s2;
	char *errtext;

	cr_assert_eq(ut_parse_args(&cfg2, PPS_BACKEND_DPDK,
				   ARGV(DRY_NOBL, "--seed", "99", "-S",
					"192.0.2.1,192.0.2.8-192.0.2.9", "-p", "80",
					"198.18.0.0/26"),
				   &errtext),
		     PPS_PARSE_OK, "%s", errtext);
	free(errtext);
	cr_assert_eq(pps_scan_init(&s2, &cfg2, zero_mac, zero_mac, 1), 0);
	cr_assert_eq(s2.n_sources, 3);
	for (uint64_t j = 0; j < s2.total; j++) {
		struct pps_syn_probe p;
		struct pps_tcp_pkt t = { 0 };
		uint64_t idx;

		pps_synscan_probe_at(&s2, j, &p);
		t.saddr_h = p.dst_ip_h;
		t.daddr_h = p.src_ip_h;
		t.sport_h = p.dst_port_h;
		t.dport_h = p.src_port_h;
		t.ack_h = p.seq_h + 1;
		t.flags = SA;
		cr_assert_eq(pps_synscan_validate(&s2, &t, &idx), PPS_V_SYNACK, "to %08x",
			     p.src_ip_h);
		/* the same answer at another of our addresses fails the cookie */
		t.daddr_h = p.src_ip_h == 0xc0000201 ? 0xc0000208 : 0xc0000201;
		cr_assert_eq(pps_synscan_validate(&s2, &t, &idx), PPS_V_BAD_COOKIE);
		/* and at an address that is not ours it is not ours */
		t.daddr_h = 0xc0000202;
		cr_assert_eq(pps_synscan_validate(&s2, &t, &idx), PPS_V_NOT_OURS);
	}
	pps_scan_fini(&s2);
	pps_config_free(&cfg2);
}

/* The RST that answers a genuine SYN-ACK: RFC 793 <SEQ=SEG.ACK><CTL=RST>, back to the target. */
Test(rx, rst_answers_genuine_synacks_only)
{
	static struct pps_counters c;
	struct pps_ring *ring = pps_ring_new(64);
	struct pps_syn_probe p0, p1;
	struct pps_pkt pkt;
	uint8_t buf[256], rst[128];
	size_t len;

	cr_assert_not_null(ring);
	pps_synscan_probe_at(&s, 5, &p0);
	pps_synscan_probe_at(&s, 6, &p1);

	len = frame_for(buf, &p0, SA, p0.seq_h + 1);
	cr_assert_eq(pps_scan_rx(&s, buf, (uint32_t)len, 1, 1, 0, &c, ring, &pkt), PPS_PKT_TCP);
	cr_assert_eq(pkt.verdict, PPS_V_SYNACK);
	/* a retransmission is still a genuine SYN-ACK: it gets a RST too */
	pps_scan_rx(&s, buf, (uint32_t)len, 1, 2, 0, &c, ring, &pkt);
	cr_assert_eq(pkt.verdict, PPS_V_SYNACK);

	uint16_t rl = pps_synscan_fill_rst(&s, &pkt.tcp, rst);
	const uint8_t *ip = rst + 14, *tcp = rst + 34;

	cr_assert_eq(rl, 60); /* 14 + 20 + 20 = 54, padded to the Ethernet minimum */
	cr_assert_eq(ut_get16(rst + 12), 0x0800);
	cr_assert_eq(ip[0], 0x45);
	cr_assert_eq(ut_get16(ip + 2), 40, "IP total length");
	cr_assert_eq(ip[8], cfg.ttl);
	cr_assert_eq(ip[9], 6);
	cr_assert_eq(ut_get32(ip + 12), SRC_IP, "from the address the SYN-ACK was sent to");
	cr_assert_eq(ut_get32(ip + 16), p0.dst_ip_h, "to the target");
	cr_assert_eq(ut_get16(tcp), p0.src_port_h, "from our source port");
	cr_assert_eq(ut_get16(tcp + 2), p0.dst_port_h, "to the target's port");
	cr_assert_eq(ut_get32(tcp + 4), p0.seq_h + 1, "seq = the SYN-ACK's ack");
	cr_assert_eq(ut_get32(tcp + 8), 0, "no ack number");
	cr_assert_eq(tcp[12], 0x50, "data offset 5: no options");
	cr_assert_eq(tcp[13], PPS_TCP_RST, "flags: RST only");
	cr_assert_eq(ut_get16(tcp + 14), 0, "window 0");
	cr_assert_eq(ut_csum(ip, 20, 0), 0, "IP checksum");
	cr_assert_eq(ut_csum(tcp, 20, ut_pseudo(SRC_IP, p0.dst_ip_h, 6, 20)), 0, "TCP checksum");

	/* closed ports, forged and foreign frames get no RST: their verdicts say so */
	len = frame_for(buf, &p1, PPS_TCP_RST | PPS_TCP_ACK, p1.seq_h + 1);
	pps_scan_rx(&s, buf, (uint32_t)len, 1, 3, 0, &c, ring, &pkt);
	cr_assert_eq(pkt.verdict, PPS_V_RST);
	len = frame_for(buf, &p1, SA, p1.seq_h + 7);
	pps_scan_rx(&s, buf, (uint32_t)len, 1, 4, 0, &c, ring, &pkt);
	cr_assert_eq(pkt.verdict, PPS_V_BAD_COOKIE);
	cr_assert_eq(pps_scan_rx(&s, buf, 30, 1, 5, 0, &c, ring, &pkt), PPS_PKT_MALFORMED);
	cr_assert_eq(pkt.verdict, PPS_V_NONE);
	pps_ring_free(ring);
}

/* Flags beyond SYN-ACK and wrong checksums: a right cookie is not enough to be reported. */
Test(rx, flags_and_checksums_of_cookie_right_responses)
{
	static struct pps_counters c;
	struct pps_ring *ring = pps_ring_new(64);
	struct pps_syn_probe p;
	struct pps_pkt pkt;
	uint8_t buf[256];
	size_t len;

	cr_assert_not_null(ring);
	pps_synscan_probe_at(&s, 7, &p);
	/* FIN or URG with SYN-ACK: not a SYN-ACK */
	len = frame_for(buf, &p, SA | PPS_TCP_FIN, p.seq_h + 1);
	pps_scan_rx(&s, buf, (uint32_t)len, 1, 1, 0, &c, ring, &pkt);
	cr_assert_eq(pkt.verdict, PPS_V_BAD_FLAGS);
	len = frame_for(buf, &p, SA | PPS_TCP_URG, p.seq_h + 1);
	pps_scan_rx(&s, buf, (uint32_t)len, 1, 1, 0, &c, ring, &pkt);
	cr_assert_eq(pkt.verdict, PPS_V_BAD_FLAGS);
	/* a wrong IP checksum, then a wrong TCP checksum */
	len = frame_for(buf, &p, SA, p.seq_h + 1);
	buf[14 + 10] ^= 0x01;
	pps_scan_rx(&s, buf, (uint32_t)len, 1, 1, 0, &c, ring, &pkt);
	cr_assert_eq(pkt.verdict, PPS_V_BAD_CHECKSUM);
	len = frame_for(buf, &p, SA, p.seq_h + 1);
	buf[14 + 20 + 19] ^= 0x80; /* the last byte of the TCP header (the frame is padded) */
	pps_scan_rx(&s, buf, (uint32_t)len, 1, 1, 0, &c, ring, &pkt);
	cr_assert_eq(pkt.verdict, PPS_V_BAD_CHECKSUM);
	cr_assert_eq(c.open, 0, "nothing above is an open port");
	cr_assert_eq(c.invalid, 4);
	/* ECN's ECE on a SYN-ACK is fine, and the same frame with right checksums is open */
	len = frame_for(buf, &p, SA | 0x40, p.seq_h + 1);
	pps_scan_rx(&s, buf, (uint32_t)len, 1, 1, 0, &c, ring, &pkt);
	cr_assert_eq(pkt.verdict, PPS_V_SYNACK);
	cr_assert_eq(c.open, 1);
	pps_ring_free(ring);
}
