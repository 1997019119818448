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

enum pps_parse_kind pps_parse_frame(const uint8_t *frame, size_t len, int with_ethernet,
				    struct pps_pkt *out)
{
	const uint8_t *ip = frame;
	size_t iplen = len;

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
	size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
	size_t tot = be16(ip + 2);
	if (ihl < 20 || tot < ihl || tot > iplen)
		return PPS_PKT_MALFORMED;
	if ((be16(ip + 6) & 0x3fff) != 0) /* MF set or fragment offset != 0 */
		return out->kind = PPS_PKT_OTHER;
	if (ip[9] != 6)
		return out->kind = PPS_PKT_OTHER;
	const uint8_t *tcp = ip + ihl;
	size_t tcplen = tot - ihl;
	if (tcplen < 20)
		return PPS_PKT_MALFORMED;
	size_t doff = (size_t)(tcp[12] >> 4) * 4;
	if (doff < 20 || doff > tcplen)
		return PPS_PKT_MALFORMED;

	out->tcp.saddr_h = be32(ip + 12);
	out->tcp.daddr_h = be32(ip + 16);
	out->tcp.ipid_h = be16(ip + 4);
	out->tcp.ttl = ip[8];
	out->tcp.sport_h = be16(tcp);
	out->tcp.dport_h = be16(tcp + 2);
	out->tcp.seq_h = be32(tcp + 4);
	out->tcp.ack_h = be32(tcp + 8);
	out->tcp.flags = tcp[13];
	out->tcp.window_h = be16(tcp + 14);
	out->tcp.ihl = (uint16_t)ihl;
	out->tcp.tcp_len = (uint16_t)tcplen;
	out->tcp.ip = ip;
	return out->kind = PPS_PKT_TCP;
}
