/*
 * probe/probe_tcp_synscan.h - the TCP SYN probe (ZMap's tcp_synscan): a SYN whose sequence
 * number is the SYN cookie; a SYN-ACK acknowledging cookie + 1 is open, a RST acknowledging
 * cookie or cookie + 1 closed; each genuine SYN-ACK is answered with a RST (unless
 * --no-rst). The module's ops are pps_probe_tcp_synscan; the inline functions below are the
 * one-probe-at-a-time references the burst paths are tested against.
 *
 * Cookie (pps_cookie.h): h = SipHash-2-4(key; dst ip, src ip, dst port, src port); the
 * sequence number is the low 32 bits, the IP ID bits 32..47.
 */
#ifndef PPS_PROBE_TCP_SYNSCAN_H
#define PPS_PROBE_TCP_SYNSCAN_H

#include <stdint.h>

#include "../pps_scan.h"
#include "../pps_template.h"
#include "pps_first_payload.h"

/** The module's state (struct pps_scan.probe_priv), read-only after init. */
struct pps_synscan {
	struct pps_template tmpl;     /* the SYN */
	struct pps_template rst_tmpl; /* the RST that closes a half-open connection */
	int no_rst;		      /* --no-rst */
	int banners;		      /* --banners */
	unsigned banner_bytes;	      /* --banner-bytes */
	struct pps_first_table first; /* --banners: the first payload per port */
};

/** pps_synscan_state - the module state of a tcp_synscan scan @s. */
static inline const struct pps_synscan *pps_synscan_state(const struct pps_scan *s)
{
	return (const struct pps_synscan *)s->probe_priv;
}

/** One SYN's identity, as the dry run prints it and tests check it (host order). */
struct pps_syn_probe {
	uint32_t src_ip_h;
	uint32_t dst_ip_h;
	uint16_t dst_port_h;
	uint16_t src_port_h;
	uint32_t seq_h;
	uint16_t ipid_h;
};

/** pps_synscan_probe_at - the SYN with index @j (0 <= j < s->total). */
static inline void pps_synscan_probe_at(const struct pps_scan *s, uint64_t j,
					struct pps_syn_probe *p)
{
	struct pps_target t;
	uint64_t h;

	pps_scan_target_at(s, j, &t);
	p->src_ip_h = t.src_ip_h;
	p->dst_ip_h = t.dst_ip_h;
	p->dst_port_h = t.dst_port_h;
	p->src_port_h = t.src_port_h;
	h = pps_cookie(&s->key, p->dst_ip_h, p->dst_port_h, p->src_ip_h, p->src_port_h);
	p->seq_h = (uint32_t)h;
	p->ipid_h = (uint16_t)(h >> 32);
}

/**
 * pps_synscan_fill - writes SYN @j (0 <= j < s->total) into @buf (caller-owned, at least
 * the template's length) and returns the frame length in bytes: byte for byte what
 * pps_scan_fill_burst() writes for the same index.
 */
static inline uint16_t pps_synscan_fill(const struct pps_scan *s, uint64_t j, uint8_t *buf)
{
	struct pps_syn_probe p;

	pps_synscan_probe_at(s, j, &p);
	return pps_template_fill_src(&pps_synscan_state(s)->tmpl, buf, p.src_ip_h, p.dst_ip_h,
				     p.dst_port_h, p.src_port_h, p.seq_h, p.ipid_h);
}

/**
 * pps_synscan_validate - judges a parsed TCP segment (RFC 793 / ZMap validate.c / masscan
 * syn-cookie.c rules): a SYN-ACK (without FIN or URG) is open only if it comes from a probed
 * address and port, to a source port of our range and one of our source addresses, with
 * ack == cookie + 1; a RST (with or without ACK) is closed if ack is cookie or cookie + 1;
 * both only with right checksums (pps_csum_ipv4_tcp_ok(), when @t came from a frame). Writes
 * the target index (for dedup) to @target_index. The classify burst's scalar reference.
 */
enum pps_verdict pps_synscan_validate(const struct pps_scan *s, const struct pps_tcp_pkt *t,
				      uint64_t *target_index);

/**
 * pps_synscan_fill_rst - writes into @buf (caller-owned, at least the RST template's length)
 * the RST that closes the half-open connection a genuine SYN-ACK @synack reports (verdict
 * PPS_V_SYNACK), and returns its length in bytes. RFC 793 (3.4, reset generation): to a
 * segment carrying an ACK the reset is <SEQ=SEG.ACK><CTL=RST>; so seq = @synack->ack_h (our
 * cookie + 1), from the address and port the SYN-ACK was sent to, to the address and port it
 * came from, TTL and next-hop MAC as the probes'. Without it the target keeps the connection
 * half-open and retransmits its SYN-ACK (Linux: 5 times over ~1 min); masscan sends the same
 * reset. Never for a frame that failed validation: that would make the scanner a reflector.
 */
static inline uint16_t pps_synscan_fill_rst(const struct pps_scan *s,
					    const struct pps_tcp_pkt *synack, uint8_t *buf)
{
	return pps_template_fill_src(&pps_synscan_state(s)->rst_tmpl, buf, synack->daddr_h,
				     synack->saddr_h, synack->sport_h, synack->dport_h,
				     synack->ack_h, (uint16_t)(synack->ack_h >> 16));
}

/**
 * pps_synscan_first_len - --banners: bytes of the first payload sent to target port
 * @port_h (0: the server speaks first). The data segments of that target must acknowledge
 * cookie + 1 + this, which is how they are validated without state.
 */
static inline uint32_t pps_synscan_first_len(const struct pps_synscan *st, uint16_t port_h)
{
	return pps_first_payload_for(&st->first, port_h)->len;
}

/**
 * pps_synscan_first_len_of - pps_synscan_first_len() of scan @scan (a const struct pps_scan *,
 * tcp_synscan with --banners), the shape the monitor calls it in (pps_banner_due()).
 */
uint32_t pps_synscan_first_len_of(const void *scan, uint16_t port_h);

/**
 * pps_synscan_fill_reset - writes into @buf (as pps_synscan_fill_rst()) the RST that closes
 * the connection of a no_data result @r (pps_banner_due(): an endpoint that completed the
 * handshake and said nothing): from our address and port @r->daddr_h:@r->dport_h to the
 * target @r->saddr_h:@r->sport_h, seq = @r->tcp.ack_h = cookie + 1 + the first payload's
 * length, the target's RCV.NXT (RFC 9293 3.10.7.4; RFC 5961 3.2: an exact match, else it
 * answers with a challenge ACK). Returns the frame's length in bytes.
 */
static inline uint16_t pps_synscan_fill_reset(const struct pps_scan *s, const struct pps_result *r,
					      uint8_t *buf)
{
	const struct pps_tcp_pkt seg = {
		.saddr_h = r->saddr_h,
		.daddr_h = r->daddr_h,
		.sport_h = r->sport_h,
		.dport_h = r->dport_h,
		.ack_h = r->tcp.ack_h,
	};

	return pps_synscan_fill_rst(s, &seg, buf);
}

/**
 * pps_synscan_fill_first - --banners: writes into @buf (at least 14 + 40 + the payload's
 * bytes) the ACK that completes the handshake a genuine SYN-ACK @synack opened, carrying
 * the first payload of its port with PSH (RFC 9293 3.5: seq = our ISN + 1 = cookie + 1 =
 * @synack->ack_h, ack = the SYN-ACK's seq + 1), and returns the frame's length in bytes.
 * A retransmitted SYN-ACK gets the same frame again.
 */
uint16_t pps_synscan_fill_first(const struct pps_scan *s, const struct pps_tcp_pkt *synack,
				uint8_t *buf);

/**
 * pps_synscan_payload_len - payload bytes of the parsed segment @t (its IPv4 total length
 * minus the IPv4 and TCP headers, the TCP data offset read from the frame); 0 for a segment
 * built field by field (t->ip NULL) or an inconsistent offset.
 */
static inline unsigned pps_synscan_payload_len(const struct pps_tcp_pkt *t)
{
	unsigned doff;

	if (!t->ip)
		return 0;
	doff = (unsigned)(t->ip[t->ihl + 12] >> 4) * 4;
	return doff >= 20 && doff <= t->tcp_len ? t->tcp_len - doff : 0;
}

extern const struct pps_probe_ops pps_probe_tcp_synscan;

#endif /* PPS_PROBE_TCP_SYNSCAN_H */
