#include "pps_parse.h"

#include <string.h>

static inline uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static enum pps_parse_kind parse_arp(const uint8_t *a, size_t len, struct pps_pkt *out)
{
	/* htype 1 (Ethernet), ptype 0x0800, hlen 6, plen 4: 28 bytes */
	if (len < 28)
		return PPS_PKT_MALFORMED;
	if (be16(a) != 1 || be16(a + 2) != 0x0800 || a[4] != 6 || a[5] != 4)
		return PPS_PKT_OTHER;
	out->arp.op_h = be16(a + 6);
	memcpy(out->arp.sha, a + 8, 6);
	out->arp.spa_h = be32(a + 14);
	memcpy(out->arp.tha, a + 18, 6);
	out->arp.tpa_h = be32(a + 24);
	return PPS_PKT_ARP;
}

/*
 * One IPv4 header at @ip with @len bytes present: version 4, IHL >= 5 and within @len. For
 * a packet (@quoted 0) also total length >= IHL and <= @len, and no fragment; a quoted
 * header (an ICMP error's, @quoted 1) stands before a truncated datagram, so its total
 * length is only read. Returns the header length in bytes, or 0 (not IPv4 / inconsistent),
 * or -1 (a fragment: well-formed, not ours). The total length goes to *@tot.
 */
static int ipv4_header(const uint8_t *ip, size_t len, int quoted, size_t *tot)
{
	size_t ihl;

	if (len < 20 || (ip[0] >> 4) != 4)
		return 0;
	ihl = (size_t)(ip[0] & 0x0f) * 4;
	*tot = be16(ip + 2);
	if (ihl < 20 || ihl > len)
		return 0;
	if (quoted)
		return (int)ihl;
	if (*tot < ihl || *tot > len)
		return 0;
	if ((be16(ip + 6) & 0x3fff) != 0) /* MF set or fragment offset != 0 */
		return -1;
	return (int)ihl;
}

/* The IPv4 header fields every kind reports: addresses, ID, TTL (host order). */
static inline void ip_fields(const uint8_t *ip, uint32_t *saddr_h, uint32_t *daddr_h,
			     uint16_t *ipid_h, uint8_t *ttl)
{
	*saddr_h = be32(ip + 12);
	*daddr_h = be32(ip + 16);
	*ipid_h = be16(ip + 4);
	*ttl = ip[8];
}

static enum pps_parse_kind parse_tcp(const uint8_t *ip, size_t ihl, size_t tot, struct pps_pkt *out)
{
	const uint8_t *tcp = ip + ihl;
	size_t tcplen = tot - ihl;
	if (tcplen < 20)
		return PPS_PKT_MALFORMED;
	size_t doff = (size_t)(tcp[12] >> 4) * 4;
	if (doff < 20 || doff > tcplen)
		return PPS_PKT_MALFORMED;

	ip_fields(ip, &out->tcp.saddr_h, &out->tcp.daddr_h, &out->tcp.ipid_h, &out->tcp.ttl);
	out->tcp.sport_h = be16(tcp);
	out->tcp.dport_h = be16(tcp + 2);
	out->tcp.seq_h = be32(tcp + 4);
	out->tcp.ack_h = be32(tcp + 8);
	out->tcp.flags = tcp[13];
	out->tcp.window_h = be16(tcp + 14);
	out->tcp.ihl = (uint16_t)ihl;
	out->tcp.tcp_len = (uint16_t)tcplen;
	out->tcp.ip = ip;
	return PPS_PKT_TCP;
}

static enum pps_parse_kind parse_udp(const uint8_t *ip, size_t ihl, size_t tot, struct pps_pkt *out)
{
	const uint8_t *udp = ip + ihl;
	size_t ulen;

	if (tot - ihl < 8)
		return PPS_PKT_MALFORMED;
	ulen = be16(udp + 4);
	if (ulen < 8 || ulen > tot - ihl)
		return PPS_PKT_MALFORMED;
	ip_fields(ip, &out->udp.saddr_h, &out->udp.daddr_h, &out->udp.ipid_h, &out->udp.ttl);
	out->udp.sport_h = be16(udp);
	out->udp.dport_h = be16(udp + 2);
	out->udp.ihl = (uint16_t)ihl;
	out->udp.udp_len = (uint16_t)ulen;
	out->udp.ip = ip;
	out->udp.data = udp + 8;
	return PPS_PKT_UDP;
}

static enum pps_parse_kind parse_icmp(const uint8_t *ip, size_t ihl, size_t tot,
				      struct pps_pkt *out)
{
	const uint8_t *icmp = ip + ihl, *q;
	size_t ilen = tot - ihl, qtot;
	struct pps_icmp_pkt *m = &out->icmp;
	int qihl;

	if (ilen < 8)
		return PPS_PKT_MALFORMED;
	memset(m, 0, sizeof(*m));
	ip_fields(ip, &m->saddr_h, &m->daddr_h, &m->ipid_h, &m->ttl);
	m->type = icmp[0];
	m->code = icmp[1];
	m->ihl = (uint16_t)ihl;
	m->icmp_len = (uint16_t)ilen;
	m->ip = ip;
	if (m->type != 3 && m->type != 4 && m->type != 5 && m->type != 11 && m->type != 12)
		return PPS_PKT_ICMP; /* no quote: echo, timestamp, ... */
	q = icmp + 8;
	qihl = ipv4_header(q, ilen - 8, 1, &qtot);
	if (qihl <= 0 || ilen - 8 < (size_t)qihl + 8)
		return PPS_PKT_MALFORMED;
	m->has_quote = 1;
	ip_fields(q, &m->q_saddr_h, &m->q_daddr_h, &m->q_ipid_h, &m->q_ttl);
	m->q_tot_len = (uint16_t)qtot;
	m->q_proto = q[9];
	q += qihl;
	m->q_sport_h = be16(q);
	m->q_dport_h = be16(q + 2);
	if (m->q_proto == 17) {
		m->q_udp_len = be16(q + 4);
		m->q_udp_sum = be16(q + 6);
	} else if (m->q_proto == 6) {
		m->q_seq_h = be32(q + 4);
	}
	return PPS_PKT_ICMP;
}

enum pps_parse_kind pps_parse_frame(const uint8_t *frame, size_t len, int with_ethernet,
				    struct pps_pkt *out)
{
	const uint8_t *ip = frame;
	size_t iplen = len, tot;
	int ihl;

	out->kind = PPS_PKT_MALFORMED;
	if (with_ethernet) {
		size_t off = 12;
		uint16_t type;
		int tags = 0;

		if (len < 14)
			return PPS_PKT_MALFORMED;
		type = be16(frame + off);
		while (type == 0x8100 || type == 0x88a8) {
			if (++tags > 2)
				return out->kind = PPS_PKT_OTHER;
			off += 4;
			if (len < off + 2)
				return PPS_PKT_MALFORMED;
			type = be16(frame + off);
		}
		off += 2;
		if (type == 0x0806)
			return out->kind = parse_arp(frame + off, len - off, out);
		if (type != 0x0800)
			return out->kind = PPS_PKT_OTHER;
		ip = frame + off;
		iplen = len - off;
	}
	if (iplen < 20)
		return PPS_PKT_MALFORMED;
	if ((ip[0] >> 4) != 4)
		return out->kind = with_ethernet ? PPS_PKT_MALFORMED : PPS_PKT_OTHER;
	ihl = ipv4_header(ip, iplen, 0, &tot);
	if (ihl == 0)
		return PPS_PKT_MALFORMED;
	if (ihl < 0)
		return out->kind = PPS_PKT_OTHER;
	switch (ip[9]) {
	case 6: return out->kind = parse_tcp(ip, (size_t)ihl, tot, out);
	case 17: return out->kind = parse_udp(ip, (size_t)ihl, tot, out);
	case 1: return out->kind = parse_icmp(ip, (size_t)ihl, tot, out);
	default: return out->kind = PPS_PKT_OTHER;
	}
}
