/*
 * test_parse.c - the bounds-checked frame parser: SYN-ACK, RST, ARP, other protocols,
 * fragments, every truncation, inconsistent IPv4/TCP lengths, TCP options, VLAN tags and
 * raw IP. Frames are copied into buffers of exactly their length before parsing.
 */
#include <criterion/criterion.h>

#include "pps_arp.h"
#include "pps_parse.h"
#include "unit_util.h"

/* Parses a heap copy of exactly @len bytes, so an overread is a real out-of-bounds read. */
static enum pps_parse_kind parse(const uint8_t *frame, size_t len, int eth, struct pps_pkt *pkt)
{
	uint8_t *copy = malloc(len ? len : 1);
	enum pps_parse_kind k;

	memcpy(copy, frame, len);
	memset(pkt, 0xa5, sizeof(*pkt));
	k = pps_parse_frame(copy, len, eth, pkt);
	free(copy);
	cr_assert_eq(pkt->kind, k, "out->kind %d, returned %d", pkt->kind, k);
	return k;
}

static enum pps_parse_kind parse_f(const struct ut_frame *f, struct pps_pkt *pkt)
{
	uint8_t buf[256];
	size_t len = ut_build(buf, f);

	return parse(buf, len, !f->raw, pkt);
}

static void expect_fields(const struct pps_pkt *pkt, const struct ut_frame *f)
{
	cr_assert_eq(pkt->tcp.saddr_h, f->saddr);
	cr_assert_eq(pkt->tcp.daddr_h, f->daddr);
	cr_assert_eq(pkt->tcp.sport_h, f->sport);
	cr_assert_eq(pkt->tcp.dport_h, f->dport);
	cr_assert_eq(pkt->tcp.seq_h, f->seq);
	cr_assert_eq(pkt->tcp.ack_h, f->ack);
	cr_assert_eq(pkt->tcp.window_h, f->window);
	cr_assert_eq(pkt->tcp.ipid_h, f->ipid);
	cr_assert_eq(pkt->tcp.ttl, f->ttl);
	cr_assert_eq(pkt->tcp.flags, f->flags);
}

Test(parse, synack)
{
	struct ut_frame f = ut_synack();
	struct pps_pkt pkt;

	cr_assert_eq(parse_f(&f, &pkt), PPS_PKT_TCP);
	expect_fields(&pkt, &f);
	cr_assert_eq(pkt.tcp.flags & (PPS_TCP_SYN | PPS_TCP_ACK), PPS_TCP_SYN | PPS_TCP_ACK);
}

Test(parse, rst)
{
	struct ut_frame f = ut_synack();
	struct pps_pkt pkt;

	f.flags = PPS_TCP_RST | PPS_TCP_ACK;
	f.seq = 0;
	f.window = 0;
	f.frag = 0; /* no DF */
	cr_assert_eq(parse_f(&f, &pkt), PPS_PKT_TCP);
	expect_fields(&pkt, &f);
	f.flags = PPS_TCP_RST;
	cr_assert_eq(parse_f(&f, &pkt), PPS_PKT_TCP);
	cr_assert_eq(pkt.tcp.flags, PPS_TCP_RST);
}

Test(parse, extreme_field_values)
{
	struct ut_frame f = ut_synack();
	struct pps_pkt pkt;

	f.saddr = 0xffffffff;
	f.daddr = 0;
	f.sport = 0xffff;
	f.dport = 1;
	f.seq = 0xffffffff;
	f.ack = 0x80000000;
	f.window = 0xffff;
	f.ttl = 255;
	f.ipid = 0xffff;
	f.flags = 0xff;
	cr_assert_eq(parse_f(&f, &pkt), PPS_PKT_TCP);
	expect_fields(&pkt, &f);
}

Test(parse, arp_request_and_reply)
{
	static const uint8_t sha[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
	static const uint8_t tha[6] = { 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff };
	static const uint8_t zero[6], bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint8_t buf[PPS_ARP_FRAME_LEN];
	struct pps_pkt pkt;

	cr_assert_eq(pps_arp_build(buf, 1, sha, 0xc0000201, tha, 0xc0000202), 60);
	cr_assert_eq(memcmp(buf, bcast, 6), 0, "request goes to broadcast");
	cr_assert_eq(parse(buf, 60, 1, &pkt), PPS_PKT_ARP);
	cr_assert_eq(pkt.arp.op_h, 1);
	cr_assert_eq(memcmp(pkt.arp.sha, sha, 6), 0);
	cr_assert_eq(pkt.arp.spa_h, 0xc0000201);
	cr_assert_eq(memcmp(pkt.arp.tha, zero, 6), 0, "request: tha is zero");
	cr_assert_eq(pkt.arp.tpa_h, 0xc0000202);

	cr_assert_eq(pps_arp_build(buf, 2, sha, 0xc0000201, tha, 0xc0000202), 60);
	cr_assert_eq(memcmp(buf, tha, 6), 0, "reply goes to the asker");
	cr_assert_eq(memcmp(buf + 6, sha, 6), 0);
	cr_assert_eq(parse(buf, 60, 1, &pkt), PPS_PKT_ARP);
	cr_assert_eq(pkt.arp.op_h, 2);
	cr_assert_eq(memcmp(pkt.arp.sha, sha, 6), 0);
	cr_assert_eq(memcmp(pkt.arp.tha, tha, 6), 0);
	cr_assert_eq(pkt.arp.spa_h, 0xc0000201);
	cr_assert_eq(pkt.arp.tpa_h, 0xc0000202);

	/* the 42 meaningful bytes suffice; fewer are malformed */
	cr_assert_eq(parse(buf, 42, 1, &pkt), PPS_PKT_ARP);
	for (size_t len = 14; len < 42; len++)
		cr_assert_eq(parse(buf, len, 1, &pkt), PPS_PKT_MALFORMED, "ARP len %zu", len);
	/* not Ethernet/IPv4 ARP */
	buf[14 + 1] = 6;
	cr_assert_eq(parse(buf, 60, 1, &pkt), PPS_PKT_OTHER);
}

Test(parse, other_protocols)
{
	struct ut_frame f = ut_synack();
	struct pps_pkt pkt;

	f.proto = 47; /* GRE */
	cr_assert_eq(parse_f(&f, &pkt), PPS_PKT_OTHER);
	f.proto = 132; /* SCTP */
	cr_assert_eq(parse_f(&f, &pkt), PPS_PKT_OTHER);

	f = ut_synack();
	f.ethertype = 0x86dd; /* IPv6 */
	cr_assert_eq(parse_f(&f, &pkt), PPS_PKT_OTHER);
	f.ethertype = 0x88cc; /* LLDP */
	cr_assert_eq(parse_f(&f, &pkt), PPS_PKT_OTHER);

	/* raw mode: an IPv6 packet (version 6) */
	uint8_t v6[60] = { 0x60 };
	v6[4] = 0;
	v6[5] = 20;
	v6[6] = 6;
	cr_assert_eq(parse(v6, sizeof(v6), 0, &pkt), PPS_PKT_OTHER);
}

Test(parse, fragments_are_other)
{
	struct ut_frame f = ut_synack();
	struct pps_pkt pkt;

	f.frag = 0x2000; /* MF */
	cr_assert_eq(parse_f(&f, &pkt), PPS_PKT_OTHER);
	f.frag = 0x0001; /* offset 8 bytes */
	cr_assert_eq(parse_f(&f, &pkt), PPS_PKT_OTHER);
	f.frag = 0x4000 | 0x1fff;
	cr_assert_eq(parse_f(&f, &pkt), PPS_PKT_OTHER);
	f.frag = 0x4000; /* DF alone is not a fragment */
	cr_assert_eq(parse_f(&f, &pkt), PPS_PKT_TCP);
	f.frag = 0;
	cr_assert_eq(parse_f(&f, &pkt), PPS_PKT_TCP);
}

static void every_truncation(const struct ut_frame *f, size_t min_ok)
{
	uint8_t buf[256];
	size_t len = ut_build(buf, f);
	struct pps_pkt pkt;

	for (size_t l = 0; l < len; l++) {
		enum pps_parse_kind k = parse(buf, l, !f->raw, &pkt);

		if (l >= min_ok) {
			cr_assert_eq(k, PPS_PKT_TCP, "len %zu of %zu: only padding cut", l, len);
			expect_fields(&pkt, f);
		} else {
			cr_assert_eq(k, PPS_PKT_MALFORMED, "len %zu of %zu: kind %d", l, len, k);
		}
	}
}

Test(parse, every_truncation)
{
	struct ut_frame f = ut_synack();

	every_truncation(&f, 54); /* 60-byte frame, 6 bytes of padding */
	f.tcp_optlen = 12;
	every_truncation(&f, 66); /* no padding */
	f = ut_synack();
	f.n_vlan = 2;
	f.vlan_tpid[0] = 0x88a8;
	every_truncation(&f, 62);
	f = ut_synack();
	f.raw = 1;
	every_truncation(&f, 40);
}

Test(parse, bad_ihl)
{
	struct ut_frame f = ut_synack();
	struct pps_pkt pkt;

	f.version_ihl = 0x44; /* IHL 4 */
	cr_assert_eq(parse_f(&f, &pkt), PPS_PKT_MALFORMED);
	f.version_ihl = 0x40; /* IHL 0 */
	cr_assert_eq(parse_f(&f, &pkt), PPS_PKT_MALFORMED);
	f.version_ihl = 0x4f; /* IHL 60 bytes, total length 40 */
	cr_assert_eq(parse_f(&f, &pkt), PPS_PKT_MALFORMED);
	f.version_ihl = 0x4f; /* IHL 60 bytes and total length 60, only 46 bytes present */
	f.tot_adjust = 20;
	cr_assert_eq(parse_f(&f, &pkt), PPS_PKT_MALFORMED);
	f = ut_synack();
	f.version_ihl = 0x46; /* IHL 24 but no room for the 20-byte TCP header in tot */
	cr_assert_eq(parse_f(&f, &pkt), PPS_PKT_MALFORMED);
	f.version_ihl = 0x65; /* version 6 under ethertype IPv4 */
	cr_assert_eq(parse_f(&f, &pkt), PPS_PKT_MALFORMED);
}

Test(parse, ip_options_honoured)
{
	struct ut_frame f = ut_synack();
	struct pps_pkt pkt;

	f.ip_optlen = 8; /* IHL 7: TCP at offset 28 of the IP header */
	cr_assert_eq(parse_f(&f, &pkt), PPS_PKT_TCP);
	expect_fields(&pkt, &f);
}

Test(parse, total_length)
{
	struct ut_frame f = ut_synack();
	struct pps_pkt pkt;

	f.no_pad = 1;
	f.tot_adjust = 1; /* claims one byte more than captured */
	cr_assert_eq(parse_f(&f, &pkt), PPS_PKT_MALFORMED);
	f.tot_adjust = 1000;
	cr_assert_eq(parse_f(&f, &pkt), PPS_PKT_MALFORMED);
	f.tot_adjust = -1; /* TCP header no longer fits */
	cr_assert_eq(parse_f(&f, &pkt), PPS_PKT_MALFORMED);
	f.tot_adjust = -40; /* tot 0 */
	cr_assert_eq(parse_f(&f, &pkt), PPS_PKT_MALFORMED);
	f.tot_adjust = -21; /* tot 19 < IHL */
	cr_assert_eq(parse_f(&f, &pkt), PPS_PKT_MALFORMED);
	/* trailing bytes after tot (Ethernet padding) are ignored */
	f.no_pad = 0;
	f.payload = 6;
	f.tot_adjust = -6;
	cr_assert_eq(parse_f(&f, &pkt), PPS_PKT_TCP);
	expect_fields(&pkt, &f);
}

Test(parse, tcp_data_offset)
{
	struct ut_frame f = ut_synack();
	struct pps_pkt pkt;

	f.doff_set = 1;
	for (int doff = 0; doff < 5; doff++) {
		f.doff = doff;
		cr_assert_eq(parse_f(&f, &pkt), PPS_PKT_MALFORMED, "doff %d", doff);
	}
	/* 24 bytes: beyond the 20-byte segment, though within the frame's padding */
	f.doff = 6;
	cr_assert_eq(parse_f(&f, &pkt), PPS_PKT_MALFORMED);
	f.doff = 15;
	cr_assert_eq(parse_f(&f, &pkt), PPS_PKT_MALFORMED);
	f.tcp_optlen = 4; /* doff 7 with a 24-byte segment */
	f.doff = 7;
	cr_assert_eq(parse_f(&f, &pkt), PPS_PKT_MALFORMED);

	f = ut_synack();
	f.tcp_optlen = 12; /* doff 8 */
	cr_assert_eq(parse_f(&f, &pkt), PPS_PKT_TCP);
	expect_fields(&pkt, &f);
	f.tcp_optlen = 40; /* doff 15, the maximum */
	f.payload = 3;
	cr_assert_eq(parse_f(&f, &pkt), PPS_PKT_TCP);
	expect_fields(&pkt, &f);
}

Test(parse, vlan_tags)
{
	struct ut_frame f = ut_synack();
	struct pps_pkt pkt;

	f.n_vlan = 1; /* 802.1Q */
	cr_assert_eq(parse_f(&f, &pkt), PPS_PKT_TCP);
	expect_fields(&pkt, &f);

	f.n_vlan = 1;
	f.vlan_tpid[0] = 0x88a8; /* 802.1ad alone */
	cr_assert_eq(parse_f(&f, &pkt), PPS_PKT_TCP);
	expect_fields(&pkt, &f);

	f.n_vlan = 2; /* QinQ: 802.1ad outer, 802.1Q inner */
	f.vlan_tpid[0] = 0x88a8;
	f.vlan_tpid[1] = 0x8100;
	cr_assert_eq(parse_f(&f, &pkt), PPS_PKT_TCP);
	expect_fields(&pkt, &f);

	f.n_vlan = 3;
	cr_assert_neq(parse_f(&f, &pkt), PPS_PKT_TCP, "three tags are not parsed");

	/* a tagged ARP */
	uint8_t arp[PPS_ARP_FRAME_LEN + 4];
	static const uint8_t mac[6] = { 2, 0, 0, 0, 0, 9 };
	pps_arp_build(arp + 4, 2, mac, 0x0a000001, mac, 0x0a000002);
	memmove(arp, arp + 4, 12);
	ut_put16(arp + 12, 0x8100);
	ut_put16(arp + 14, 7);
	cr_assert_eq(parse(arp, sizeof(arp), 1, &pkt), PPS_PKT_ARP);
	cr_assert_eq(pkt.arp.spa_h, 0x0a000001);
}

Test(parse, raw_ip)
{
	struct ut_frame f = ut_synack();
	struct pps_pkt pkt;

	f.raw = 1;
	cr_assert_eq(parse_f(&f, &pkt), PPS_PKT_TCP);
	expect_fields(&pkt, &f);
	f.tcp_optlen = 20;
	cr_assert_eq(parse_f(&f, &pkt), PPS_PKT_TCP);
	expect_fields(&pkt, &f);
	f.proto = 47;
	cr_assert_eq(parse_f(&f, &pkt), PPS_PKT_OTHER);

	/* the same bytes read as Ethernet are not TCP */
	uint8_t buf[256];
	struct ut_frame g = ut_synack();
	size_t len;

	g.raw = 1;
	len = ut_build(buf, &g);
	cr_assert_neq(parse(buf, len, 1, &pkt), PPS_PKT_TCP);
}

Test(parse, random_garbage_never_crashes_and_stays_consistent)
{
	struct ut_rng r;
	uint8_t buf[256];

	/* mutations of a valid frame: whatever comes out must be a valid kind */
	ut_rng_seed(&r, 99);
	for (int i = 0; i < 20000; i++) {
		struct ut_frame f = ut_synack();
		size_t len = ut_build(buf, &f);
		struct pps_pkt pkt;
		enum pps_parse_kind k;

		for (int m = 0; m < 3; m++)
			buf[ut_below(&r, len)] = (uint8_t)ut_rand32(&r);
		len = ut_below(&r, len + 1);
		k = parse(buf, len, (int)(i & 1), &pkt);
		cr_assert(k == PPS_PKT_TCP || k == PPS_PKT_ARP || k == PPS_PKT_OTHER ||
			  k == PPS_PKT_MALFORMED || k == PPS_PKT_UDP || k == PPS_PKT_ICMP);
		if (k == PPS_PKT_TCP)
			cr_assert_geq(len, (i & 1) ? 54u : 40u);
	}
}
