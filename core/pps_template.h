/*
 * pps_template.h - the SYN probe: Ethernet + IPv4 + TCP SYN (+ options), built once; per probe
 * only the destination address, IP ID, ports, sequence number and both checksums are written
 * (ZMap's and masscan's approach), straight into the caller's buffer (an mbuf's data area or a
 * batch slot), with checksums finished from precomputed partial sums (RFC 1624).
 *
 * Frame layout (no VLAN): 0 Ethernet (14) | 14 IPv4 (20, no options) | 34 TCP (20 + options).
 */
#ifndef PPS_TEMPLATE_H
#define PPS_TEMPLATE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "pps_checksum.h"

#define PPS_ETH_HLEN 14
#define PPS_IP_OFF 14
#define PPS_TCP_OFF 34
#define PPS_TEMPLATE_MAX 128
#define PPS_ETH_MIN_FRAME 60 /* without FCS; shorter frames are zero-padded */

/** TCP option layouts, byte-exact to ZMap's presets (its src/probe_modules/packet.c). */
enum pps_tcp_options {
	PPS_TCPOPT_SMALLEST = 0, /* MSS */
	PPS_TCPOPT_WINDOWS,	 /* MSS, NOP, WS, NOP, NOP, SACK-permitted */
	PPS_TCPOPT_LINUX,	 /* MSS, SACK-permitted, timestamps, NOP, WS */
	PPS_TCPOPT_BSD,		 /* MSS, NOP, WS, NOP, NOP, timestamps, SACK-permitted, EOL */
};

/** Everything constant across probes. */
struct pps_template_params {
	uint8_t src_mac[6];
	uint8_t dst_mac[6]; /* the gateway's (next hop's) MAC */
	uint32_t src_ip_h;
	uint8_t ttl;	   /* default 64 */
	uint16_t window_h; /* TCP window, default 65535 */
	uint16_t mss_h;	   /* default 1460 */
	enum pps_tcp_options options;
	int with_ethernet; /* 0: raw IP (tun-like links), frame starts at the IPv4 header */
	int rst;	   /* 1: the RST that closes a half-open connection (RFC 793: flags RST,
			      window 0, no options; options/window_h/mss_h ignored) */
};

/** A built template; read-only after pps_template_build(), shareable between threads. */
struct pps_template {
	uint8_t bytes[PPS_TEMPLATE_MAX];
	uint16_t len;	   /* bytes to send (Ethernet frames padded to 60) */
	uint16_t ip_off;   /* offset of the IPv4 header in bytes[] */
	uint16_t tcp_off;  /* offset of the TCP header */
	uint16_t tcp_len;  /* TCP header + options */
	uint32_t src_ip_h; /* default source address (host order) */
	uint32_t ip_sum;   /* partial sum of the IPv4 header without addresses, id, checksum;
			      folded to 16 bits, not complemented */
	uint32_t tcp_sum;  /* the same for the pseudo header without addresses + TCP without
			      ports, seq, checksum */
};

/**
 * pps_template_build - builds the probe template from @prm. Returns 0, or -EINVAL for an
 * unknown options preset.
 */
int pps_template_build(struct pps_template *t, const struct pps_template_params *prm);

/**
 * pps_template_put_l3 - the link and network headers every probe kind starts with, into
 * @buf: with prm->with_ethernet the Ethernet header (prm->dst_mac, prm->src_mac, type IPv4),
 * then a 20-byte IPv4 header (RFC 791: version 4, IHL 5, DF, TTL prm->ttl, protocol @proto,
 * total length @tot_len bytes) whose ID, checksum and addresses are left zero for the
 * probe's fill. Returns the IPv4 header's offset in @buf (14 or 0).
 */
size_t pps_template_put_l3(uint8_t *buf, const struct pps_template_params *prm, uint8_t proto,
			   uint16_t tot_len);

static inline void pps_put_be16(uint8_t *p, uint16_t v_h)
{
	v_h = __builtin_bswap16(v_h);
	memcpy(p, &v_h, 2); /* one unaligned store */
}

static inline void pps_put_be32(uint8_t *p, uint32_t v_h)
{
	v_h = __builtin_bswap32(v_h);
	memcpy(p, &v_h, 4);
}

/*
 * Copies the constant bytes with fixed-size (so inlined, vector) moves: two overlapping
 * 32-byte halves up to 64 bytes, 64 + an overlapping 32-byte tail up to 96 (every preset:
 * 44..78 bytes), a library call only beyond.
 */
static inline void pps_template_copy(const struct pps_template *t, uint8_t *buf)
{
	size_t len = t->len;

	if (len >= 32 && len <= 64) {
		memcpy(buf, t->bytes, 32);
		memcpy(buf + len - 32, t->bytes + len - 32, 32);
	} else if (len > 64 && len <= 96) {
		memcpy(buf, t->bytes, 64);
		memcpy(buf + len - 32, t->bytes + len - 32, 32);
	} else {
		memcpy(buf, t->bytes, len);
	}
}

/**
 * pps_template_ip_csum, pps_template_tcp_csum - the IPv4 header checksum and the TCP checksum
 * (host order, ready to store) of the probe with these fields, from the template's partial
 * sums (RFC 1624): a few 16-bit additions and two folds, no memory touched but @t. Pure
 * functions of their arguments, so a burst computes them lane-parallel (pps_scan_fill_burst).
 */
static inline uint16_t pps_template_ip_csum(const struct pps_template *t, uint32_t src_ip_h,
					    uint32_t dst_ip_h, uint16_t ipid_h)
{
	return pps_csum_fold32(t->ip_sum + (src_ip_h >> 16) + (src_ip_h & 0xffff) +
			       (dst_ip_h >> 16) + (dst_ip_h & 0xffff) + ipid_h);
}

static inline uint16_t pps_template_tcp_csum(const struct pps_template *t, uint32_t src_ip_h,
					     uint32_t dst_ip_h, uint16_t dst_port_h,
					     uint16_t src_port_h, uint32_t seq_h)
{
	return pps_csum_fold32(t->tcp_sum + (src_ip_h >> 16) + (src_ip_h & 0xffff) +
			       (dst_ip_h >> 16) + (dst_ip_h & 0xffff) + src_port_h + dst_port_h +
			       (seq_h >> 16) + (seq_h & 0xffff));
}

/**
 * pps_template_fill_csum - writes one probe into @buf (at least t->len bytes, caller-owned)
 * with checksums already computed by pps_template_ip_csum() and pps_template_tcp_csum() for
 * the same fields; returns its length in bytes. All arguments are host order; they are
 * stored big-endian. One 60-80 byte copy and seven stores; no allocation.
 */
static inline uint16_t pps_template_fill_csum(const struct pps_template *t, uint8_t *buf,
					      uint32_t src_ip_h, uint32_t dst_ip_h,
					      uint16_t dst_port_h, uint16_t src_port_h,
					      uint32_t seq_h, uint16_t ipid_h, uint16_t ip_csum_h,
					      uint16_t tcp_csum_h)
{
	uint8_t *ip = buf + t->ip_off;
	uint8_t *tcp = buf + t->tcp_off;

	pps_template_copy(t, buf);
	pps_put_be16(ip + 4, ipid_h);
	pps_put_be16(ip + 10, ip_csum_h);
	pps_put_be32(ip + 12, src_ip_h);
	pps_put_be32(ip + 16, dst_ip_h);
	pps_put_be16(tcp, src_port_h);
	pps_put_be16(tcp + 2, dst_port_h);
	pps_put_be32(tcp + 4, seq_h);
	pps_put_be16(tcp + 16, tcp_csum_h);
	return t->len;
}

/**
 * pps_template_fill_src - writes one probe from source address @src_ip_h into @buf (at least
 * t->len bytes, caller-owned) and returns its length in bytes. All arguments are host order;
 * they are stored big-endian. Per-probe work: one 60-80 byte copy, a few stores and two
 * checksum folds from the precomputed partial sums (RFC 1624); no allocation.
 */
static inline uint16_t pps_template_fill_src(const struct pps_template *t, uint8_t *buf,
					     uint32_t src_ip_h, uint32_t dst_ip_h,
					     uint16_t dst_port_h, uint16_t src_port_h,
					     uint32_t seq_h, uint16_t ipid_h)
{
	return pps_template_fill_csum(t, buf, src_ip_h, dst_ip_h, dst_port_h, src_port_h, seq_h,
				      ipid_h, pps_template_ip_csum(t, src_ip_h, dst_ip_h, ipid_h),
				      pps_template_tcp_csum(t, src_ip_h, dst_ip_h, dst_port_h,
							    src_port_h, seq_h));
}

/**
 * pps_template_fill - as pps_template_fill_src() with the template's own source address
 * (struct pps_template_params.src_ip_h).
 */
static inline uint16_t pps_template_fill(const struct pps_template *t, uint8_t *buf,
					 uint32_t dst_ip_h, uint16_t dst_port_h,
					 uint16_t src_port_h, uint32_t seq_h, uint16_t ipid_h)
{
	return pps_template_fill_src(t, buf, t->src_ip_h, dst_ip_h, dst_port_h, src_port_h, seq_h,
				     ipid_h);
}

#endif /* PPS_TEMPLATE_H */
