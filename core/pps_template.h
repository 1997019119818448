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

#include <stdint.h>
#include <string.h>

#include "pps_checksum.h"

#define PPS_ETH_HLEN 14
#define PPS_IP_OFF 14
#define PPS_TCP_OFF 34
#define PPS_TEMPLATE_MAX 128
#define PPS_ETH_MIN_FRAME 60 /* without FCS; shorter frames are zero-padded */

/** TCP option layouts, byte-exact to ZMap's presets (shared/REFERENCE.md). */
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
	uint8_t ttl;		/* default 64 */
	uint16_t window_h;	/* TCP window, default 65535 */
	uint16_t mss_h;		/* default 1460 */
	enum pps_tcp_options options;
	int with_ethernet; /* 0: raw IP (tun-like links), frame starts at the IPv4 header */
};

/** A built template; read-only after pps_template_build(), shareable between threads. */
struct pps_template {
	uint8_t bytes[PPS_TEMPLATE_MAX];
	uint16_t len;	  /* bytes to send (Ethernet frames padded to 60) */
	uint16_t ip_off;  /* offset of the IPv4 header in bytes[] */
	uint16_t tcp_off; /* offset of the TCP header */
	uint16_t tcp_len; /* TCP header + options */
	uint32_t src_ip_h; /* default source address (host order) */
	uint64_t ip_sum;   /* partial sum of the IPv4 header without addresses, id, checksum */
	uint64_t tcp_sum;  /* partial sum of pseudo header without addresses + TCP without ports,
			      seq, checksum */
};

/**
 * pps_template_build - builds the probe template from @prm. Returns 0, or -EINVAL for an
 * unknown options preset.
 */
int pps_template_build(struct pps_template *t, const struct pps_template_params *prm);

/**
 * pps_template_fill_src - writes one probe from source address @src_ip_h into @buf (at least
 * t->len bytes, caller-owned) and returns its length in bytes. All arguments are host order;
 * they are stored big-endian. Per-probe work: one 60-80 byte copy, a few stores and two
 * checksum folds from the precomputed partial sums (RFC 1624); no allocation.
 */
static inline uint16_t pps_template_fill_src(const struct pps_template *t, uint8_t *buf,
					     uint32_t src_ip_h, uint32_t dst_ip_h,
					     uint16_t dst_port_h, uint16_t src_port_h, uint32_t seq_h,
					     uint16_t ipid_h)
{
	uint8_t *ip = buf + t->ip_off;
	uint8_t *tcp = buf + t->tcp_off;
	uint64_t addr = (uint64_t)(src_ip_h >> 16) + (src_ip_h & 0xffff) + (dst_ip_h >> 16) +
			(dst_ip_h & 0xffff);
	uint16_t c;

	memcpy(buf, t->bytes, t->len);
	ip[4] = (uint8_t)(ipid_h >> 8);
	ip[5] = (uint8_t)ipid_h;
	ip[12] = (uint8_t)(src_ip_h >> 24);
	ip[13] = (uint8_t)(src_ip_h >> 16);
	ip[14] = (uint8_t)(src_ip_h >> 8);
	ip[15] = (uint8_t)src_ip_h;
	ip[16] = (uint8_t)(dst_ip_h >> 24);
	ip[17] = (uint8_t)(dst_ip_h >> 16);
	ip[18] = (uint8_t)(dst_ip_h >> 8);
	ip[19] = (uint8_t)dst_ip_h;
	c = pps_csum_fold(t->ip_sum + addr + ipid_h);
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;

	tcp[0] = (uint8_t)(src_port_h >> 8);
	tcp[1] = (uint8_t)src_port_h;
	tcp[2] = (uint8_t)(dst_port_h >> 8);
	tcp[3] = (uint8_t)dst_port_h;
	tcp[4] = (uint8_t)(seq_h >> 24);
	tcp[5] = (uint8_t)(seq_h >> 16);
	tcp[6] = (uint8_t)(seq_h >> 8);
	tcp[7] = (uint8_t)seq_h;
	c = pps_csum_fold(t->tcp_sum + addr + src_port_h + dst_port_h + (seq_h >> 16) +
			  (seq_h & 0xffff));
	tcp[16] = (uint8_t)(c >> 8);
	tcp[17] = (uint8_t)c;
	return t->len;
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
