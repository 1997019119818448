/*
 * test_template.c - SYN probes from the template: checksums recomputed independently
 * (RFC 1071, written here; pps_csum_* is not used to verify), every header field, the four
 * TCP option presets byte for byte, padding to the Ethernet minimum, raw IP mode.
 */
#include <criterion/criterion.h>
#include <errno.h>

#include "pps_checksum.h"
#include "pps_template.h"
#include "unit_util.h"

static const uint8_t SRC_MAC[6] = { 0x02, 0x00, 0x5e, 0x10, 0x20, 0x30 };
static const uint8_t DST_MAC[6] = { 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff };

/* Expected option bytes; 0xee marks the 8 timestamp bytes (TSval, TSecr), not compared. */
static const struct {
	enum pps_tcp_options preset;
	const char *name;
	uint8_t len;
	uint8_t bytes[24];
} presets[] = {
	{ PPS_TCPOPT_SMALLEST, "smallest", 4, { 0x02, 0x04, 0x05, 0xb4 } },
	{ PPS_TCPOPT_WINDOWS,
	  "windows",
	  12,
	  { 0x02, 0x04, 0x05, 0xb4, 0x01, 0x03, 0x03, 0x07, 0x01, 0x01, 0x04, 0x02 } },
	{ PPS_TCPOPT_LINUX, "linux", 20, { 0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08,
					   0x0a, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee,
					   0xee, 0xee, 0x01, 0x03, 0x03, 0x07 } },
	{ PPS_TCPOPT_BSD, "bsd", 24, { 0x02, 0x04, 0x05, 0xb4, 0x01, 0x03, 0x03, 0x07,
				       0x01, 0x01, 0x08, 0x0a, 0xee, 0xee, 0xee, 0xee,
				       0xee, 0xee, 0xee, 0xee, 0x04, 0x02, 0x00, 0x00 } },
};

#define N_PRESETS (sizeof(presets) / sizeof(presets[0]))

static void build(struct pps_template *t, enum pps_tcp_options o, uint32_t src, uint8_t ttl,
		  int with_ethernet)
{
	struct pps_template_params prm = { 0 };

	memcpy(prm.src_mac, SRC_MAC, 6);
	memcpy(prm.dst_mac, DST_MAC, 6);
	prm.src_ip_h = src;
	prm.ttl = ttl;
	prm.window_h = 65535;
	prm.mss_h = 1460;
	prm.options = o;
	prm.with_ethernet = with_ethernet;
	cr_assert_eq(pps_template_build(t, &prm), 0);
}

struct probe {
	uint32_t src, dst;
	uint16_t sport, dport, ipid;
	uint32_t seq;
	uint8_t ttl;
};

/* Checks one filled frame completely; returns 0 or a short description of the failure. */
static const char *check_frame(const uint8_t *f, size_t len, size_t pi, int eth,
			       const struct probe *p)
{
	size_t optlen = presets[pi].len, ip_off = eth ? 14 : 0;
	size_t tcp_len = 20 + optlen, want_len = ip_off + 20 + tcp_len;
	const uint8_t *ip = f + ip_off, *tcp = ip + 20;
	uint8_t hdr[20];
	uint8_t seg[64];
	uint32_t acc;

	if (eth && want_len < 60)
		want_len = 60;
	if (len != want_len)
		return "frame length";
	for (size_t i = ip_off + 20 + tcp_len; i < len; i++)
		if (f[i])
			return "padding not zero";
	if (eth &&
	    (memcmp(f, DST_MAC, 6) || memcmp(f + 6, SRC_MAC, 6) || f[12] != 0x08 || f[13] != 0x00))
		return "Ethernet header";

	/* IPv4 */
	if (ip[0] != 0x45 || ip[1] != 0)
		return "version/IHL/TOS";
	if (ut_get16(ip + 2) != 20 + tcp_len)
		return "total length";
	if (ut_get16(ip + 4) != p->ipid)
		return "IP ID";
	if (ut_get16(ip + 6) != 0x4000)
		return "DF / fragment";
	if (ip[8] != p->ttl || ip[9] != 6)
		return "TTL / protocol";
	if (ut_get32(ip + 12) != p->src || ut_get32(ip + 16) != p->dst)
		return "addresses";
	memcpy(hdr, ip, 20);
	hdr[10] = hdr[11] = 0;
	if (ut_get16(ip + 10) != ut_csum(hdr, 20, 0))
		return "IPv4 checksum";
	if (ut_fold(ut_add16(ip, 20, 0)) != 0xffff)
		return "IPv4 header does not sum to 0xffff";

	/* TCP */
	if (ut_get16(tcp) != p->sport || ut_get16(tcp + 2) != p->dport)
		return "ports";
	if (ut_get32(tcp + 4) != p->seq || ut_get32(tcp + 8) != 0)
		return "seq / ack";
	if (tcp[12] != (tcp_len / 4) << 4)
		return "data offset";
	if (tcp[13] != 0x02)
		return "flags (SYN only)";
	if (ut_get16(tcp + 14) != 65535 || ut_get16(tcp + 18) != 0)
		return "window / urgent pointer";
	for (size_t i = 0; i < optlen; i++)
		if (presets[pi].bytes[i] != 0xee && tcp[20 + i] != presets[pi].bytes[i])
			return "option bytes";
	memcpy(seg, tcp, tcp_len);
	seg[16] = seg[17] = 0;
	acc = ut_pseudo(p->src, p->dst, 6, (uint16_t)tcp_len);
	if (ut_get16(tcp + 16) != ut_csum(seg, tcp_len, acc))
		return "TCP checksum";
	/* receiver's view: pseudo header + whole segment incl. checksum sums to 0xffff */
	if (ut_fold(ut_add16(tcp, tcp_len, ut_pseudo(p->src, p->dst, 6, (uint16_t)tcp_len))) !=
	    0xffff)
		return "TCP segment + pseudo header does not sum to 0xffff";
	return NULL;
}

static void random_probes(int eth, uint64_t seed)
{
	struct ut_rng r;

	ut_rng_seed(&r, seed);
	for (size_t pi = 0; pi < N_PRESETS; pi++) {
		for (int tmpl = 0; tmpl < 8; tmpl++) {
			struct pps_template t;
			struct probe p;

			p.src = ut_rand32(&r);
			p.ttl = (uint8_t)(1 + ut_below(&r, 255));
			build(&t, presets[pi].preset, p.src, p.ttl, eth);
			for (int k = 0; k < 1000; k++) {
				uint8_t buf[PPS_TEMPLATE_MAX + 16];
				const char *why;
				uint16_t len;

				p.dst = ut_rand32(&r);
				p.sport = (uint16_t)ut_rand32(&r);
				p.dport = (uint16_t)ut_rand32(&r);
				p.seq = ut_rand32(&r);
				p.ipid = (uint16_t)ut_rand32(&r);
				/* all-ones and all-zeros fields: carries in the sums */
				if (k < 4) {
					p.dst = k & 1 ? 0xffffffff : 0;
					p.sport = p.dport = p.ipid = k & 1 ? 0xffff : 0;
					p.seq = k & 2 ? 0xffffffff : 0;
				}
				memset(buf, 0x5a, sizeof(buf));
				if (k & 1) { /* a per-probe source address (-S ranges) */
					struct probe q = p;

					q.src = ut_rand32(&r);
					len = pps_template_fill_src(&t, buf, q.src, q.dst, q.dport,
								    q.sport, q.seq, q.ipid);
					why = check_frame(buf, len, pi, eth, &q);
					cr_assert_null(why, "%s (%s, eth %d, fill_src %08x)", why,
						       presets[pi].name, eth, q.src);
				}
				memset(buf, 0x5a, sizeof(buf));
				len = pps_template_fill(&t, buf, p.dst, p.dport, p.sport, p.seq,
							p.ipid);
				why = check_frame(buf, len, pi, eth, &p);
				cr_assert_null(why, "%s (%s, eth %d): %08x>%08x %u>%u seq %08x",
					       why, presets[pi].name, eth, p.src, p.dst, p.sport,
					       p.dport, p.seq);
				cr_assert_eq(buf[len], 0x5a, "wrote past the frame");
			}
		}
	}
}

Test(template, ethernet_probes_random)
{
	random_probes(1, 1);
}

Test(template, raw_ip_probes_random)
{
	random_probes(0, 2);
}

Test(template, frame_lengths)
{
	static const uint16_t eth_len[] = { 60, 66, 74, 78 };
	static const uint16_t raw_len[] = { 44, 52, 60, 64 };

	for (size_t pi = 0; pi < N_PRESETS; pi++) {
		struct pps_template t;

		build(&t, presets[pi].preset, 0xc0000201, 64, 1);
		cr_assert_eq(t.len, eth_len[pi], "%s", presets[pi].name);
		cr_assert_eq(t.ip_off, 14);
		cr_assert_eq(t.tcp_off, 34);
		cr_assert_eq(t.tcp_len, 20 + presets[pi].len);
		build(&t, presets[pi].preset, 0xc0000201, 64, 0);
		cr_assert_eq(t.len, raw_len[pi], "%s raw", presets[pi].name);
		cr_assert_eq(t.ip_off, 0);
		cr_assert_eq(t.tcp_off, 20);
	}
}

Test(template, smallest_is_58_bytes_padded_to_60)
{
	struct pps_template t;
	uint8_t buf[PPS_TEMPLATE_MAX];

	build(&t, PPS_TCPOPT_SMALLEST, 0xc0000201, 64, 1);
	memset(buf, 0xff, sizeof(buf));
	cr_assert_eq(pps_template_fill(&t, buf, 0xc6120001, 80, 40000, 1, 2), 60);
	cr_assert_eq(ut_get16(buf + 14 + 2), 44, "IP total length excludes the padding");
	cr_assert_eq(buf[58], 0);
	cr_assert_eq(buf[59], 0);
}

Test(template, timestamp_option_layout)
{
	/* timestamps: kind 8, length 10, at the documented offsets in linux and bsd */
	struct pps_template t;

	build(&t, PPS_TCPOPT_LINUX, 1, 64, 1);
	cr_assert_eq(t.bytes[34 + 20 + 6], 8);
	cr_assert_eq(t.bytes[34 + 20 + 7], 10);
	build(&t, PPS_TCPOPT_BSD, 1, 64, 1);
	cr_assert_eq(t.bytes[34 + 20 + 10], 8);
	cr_assert_eq(t.bytes[34 + 20 + 11], 10);
}

Test(template, mss_parameter)
{
	struct pps_template_params prm = { 0 };
	struct pps_template t;

	prm.src_ip_h = 1;
	prm.ttl = 64;
	prm.window_h = 1024;
	prm.mss_h = 536;
	prm.options = PPS_TCPOPT_SMALLEST;
	prm.with_ethernet = 1;
	cr_assert_eq(pps_template_build(&t, &prm), 0);
	cr_assert_eq(t.bytes[54], 0x02);
	cr_assert_eq(t.bytes[55], 0x04);
	cr_assert_eq(ut_get16(t.bytes + 56), 536);
	cr_assert_eq(ut_get16(t.bytes + 34 + 14), 1024, "window");
}

Test(template, unknown_preset)
{
	struct pps_template_params prm = { 0 };
	struct pps_template t;

	prm.options = (enum pps_tcp_options)4;
	cr_assert_eq(pps_template_build(&t, &prm), -EINVAL);
	prm.options = (enum pps_tcp_options) - 1;
	cr_assert_eq(pps_template_build(&t, &prm), -EINVAL);
}

Test(checksum, library_helpers_agree_with_rfc1071)
{
	struct ut_rng r;

	ut_rng_seed(&r, 3);
	for (int k = 0; k < 2000; k++) {
		uint8_t ip[60], seg[101];
		size_t ihl = 20 + 4 * ut_below(&r, 11), tl = 20 + ut_below(&r, 81);
		uint32_t src = ut_rand32(&r), dst = ut_rand32(&r);

		for (size_t i = 0; i < sizeof(ip); i++)
			ip[i] = (uint8_t)ut_rand32(&r);
		for (size_t i = 0; i < sizeof(seg); i++)
			seg[i] = (uint8_t)ut_rand32(&r);
		/* the checksum field counts as zero: compute over a zeroed copy */
		uint8_t ipz[60], segz[101];

		memcpy(ipz, ip, ihl);
		ipz[10] = ipz[11] = 0;
		memcpy(segz, seg, tl);
		segz[16] = segz[17] = 0;
		cr_assert_eq(pps_csum_ipv4_header(ip, ihl), ut_csum(ipz, ihl, 0));
		cr_assert_eq(pps_csum_tcp_full(src, dst, seg, tl),
			     ut_csum(segz, tl, ut_pseudo(src, dst, 6, (uint16_t)tl)), "tcp_len %zu",
			     tl);
		/* odd length: the last byte is padded with zero */
		cr_assert_eq(pps_csum_fold(pps_csum_partial(seg, tl, 0)), ut_csum(seg, tl, 0));
	}
	/* RFC 1071 section 3 example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2 */
	static const uint8_t ex[8] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	cr_assert_eq(pps_csum_fold(pps_csum_partial(ex, 8, 0)), (uint16_t)(0xffff - 0xddf2));
	cr_assert_eq(ut_fold(ut_add16(ex, 8, 0)), 0xddf2);
}

/* The RX side's check: right checksums pass, any flipped bit fails, every length and IHL. */
Test(checksum, ipv4_tcp_ok_accepts_right_and_rejects_wrong)
{
	struct ut_rng r;

	ut_rng_seed(&r, 5);
	for (int k = 0; k < 3000; k++) {
		uint8_t pkt[60 + 101];
		size_t ihl = 20 + 4 * ut_below(&r, 11), tl = 20 + ut_below(&r, 81);
		uint8_t *tcp = pkt + ihl;

		for (size_t i = 0; i < sizeof(pkt); i++)
			pkt[i] = (uint8_t)ut_rand32(&r);
		ut_put16(pkt + 10, 0);
		ut_put16(pkt + 10, ut_csum(pkt, ihl, 0));
		ut_put16(tcp + 16, 0);
		ut_put16(tcp + 16, ut_csum(tcp, tl,
					   ut_pseudo(ut_get32(pkt + 12), ut_get32(pkt + 16), 6,
						     (uint16_t)tl)));
		cr_assert(pps_csum_ipv4_tcp_ok(pkt, ihl, tl), "ihl %zu tcp_len %zu", ihl, tl);
		/* one flipped bit anywhere in the header or segment */
		size_t at = ut_below(&r, ihl + tl);
		uint8_t bit = (uint8_t)(1u << ut_below(&r, 8));

		pkt[at] ^= bit;
		cr_assert(!pps_csum_ipv4_tcp_ok(pkt, ihl, tl), "flip at %zu of %zu + %zu", at, ihl,
			  tl);
	}
}

/* A segment from a local path with checksum offload carries the pseudo header's sum only. */
Test(checksum, ipv4_tcp_ok_takes_an_offloaded_partial_checksum)
{
	uint8_t pkt[40] = {
		0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0, 198, 18, 0, 5, 198, 19, 0, 2
	};
	uint8_t *tcp = pkt + 20;
	uint32_t ps = ut_pseudo(ut_get32(pkt + 12), ut_get32(pkt + 16), 6, 20);

	ut_put16(pkt + 10, ut_csum(pkt, 20, 0));
	tcp[13] = 0x12;
	tcp[12] = 0x50;
	ut_put16(tcp + 16, ut_fold(ps)); /* what Linux leaves for the NIC: CHECKSUM_PARTIAL */
	cr_assert(pps_csum_ipv4_tcp_ok(pkt, 20, 20));
	ut_put16(tcp + 16, (uint16_t)(ut_fold(ps) + 1));
	cr_assert(!pps_csum_ipv4_tcp_ok(pkt, 20, 20));
	ut_put16(tcp + 16, 0);
	ut_put16(tcp + 16, ut_csum(tcp, 20, ps)); /* the real one */
	cr_assert(pps_csum_ipv4_tcp_ok(pkt, 20, 20));
}
