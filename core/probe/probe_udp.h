/*
 * probe/probe_udp.h - the UDP probe (-M udp, ZMap's udp module): one datagram per target
 * whose payload depends on the destination port (probe/pps_udp_payloads.h: DNS, NTP, SNMP,
 * ... from data/udp-payloads.conf, or --probe-args), validated without a sequence number.
 *
 * Cookie: h = SipHash-2-4(key; dst ip, src ip, dst port, 0) (pps_cookie.h, the source port
 * being what h chooses). The source port is first + (h mod 2^32) mod n_source_ports (as ZMap
 * derives it from its validation bytes), the IP ID h >> 48, and where the protocol echoes a
 * client value (DNS ID, SNMP request-id, STUN transaction ID, NTP origin timestamp, CoAP
 * message ID and token, SIP Call-ID and branch, ...) the payload carries cookie bytes there:
 * c = big-endian mix(h) || mix(h ^ golden), mix being SplitMix64's finaliser (16 bytes).
 *
 * Classification:
 *   udp           a UDP datagram from a probed address and port (any port for sport=any
 *                 payloads), to the derived source port, echo checks right, checksums right:
 *                 open, its first bytes kept (struct pps_result_udp)
 *   port-unreach  ICMP destination unreachable, code 3 (port unreachable), from the probed
 *                 address, quoting our probe (quoted source and destination, ports, UDP
 *                 length and IP ID all as we sent them): closed
 *   unreach       any other ICMP destination unreachable quoting our probe (a router's host
 *                 or admin-prohibited, ...): filtered, counted apart (unreach)
 * Targets that stay silent are open|filtered: the summary counts them.
 */
#ifndef PPS_PROBE_UDP_H
#define PPS_PROBE_UDP_H

#include <stdint.h>
#include <string.h>

#include "../pps_scan.h"
#include "pps_udp_payloads.h"

/** udp's classifications (its classes[]). */
enum pps_udp_class {
	PPS_UDP_CLASS_UDP = 0,
	PPS_UDP_CLASS_PORT_UNREACH,
	PPS_UDP_CLASS_UNREACH,
};

/** The module's state (struct pps_scan.probe_priv), read-only after init. */
struct pps_udp_state {
	struct pps_udp_table tab;
	uint8_t l3[64];	 /* Ethernet (if any) + IPv4 header, ID/length/addresses/checksum 0 */
	uint16_t ip_off; /* 14 or 0 */
	uint8_t with_ethernet;
};

/** pps_udp_state - the module state of a udp scan @s. */
static inline const struct pps_udp_state *pps_udp_state(const struct pps_scan *s)
{
	return (const struct pps_udp_state *)s->probe_priv;
}

/** SplitMix64's finaliser (Steele, Lea, Flood, OOPSLA 2014): the cookie bytes' mixer. */
static inline uint64_t pps_udp_mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/** pps_udp_cookie_bytes - the 16 cookie bytes @c of cookie @h (see above). */
static inline void pps_udp_cookie_bytes(uint64_t h, uint8_t c[16])
{
	uint64_t a = pps_udp_mix(h), b = pps_udp_mix(h ^ 0x9e3779b97f4a7c15ULL);

	for (int i = 0; i < 8; i++) {
		c[i] = (uint8_t)(a >> (56 - 8 * i));
		c[8 + i] = (uint8_t)(b >> (56 - 8 * i));
	}
}

/** pps_udp_sport - the source port cookie @h selects (host order). */
static inline uint16_t pps_udp_sport(const struct pps_scan *s, uint64_t h)
{
	return (uint16_t)(s->sport_first_h + pps_fastdiv_mod(&s->div_sports, (uint32_t)h));
}

/**
 * pps_udp_write_payload - writes payload @p with the cookie bytes @c into @out (p->len
 * bytes): the echo bytes at p->off (an SNMP request-id kept positive and minimally encoded:
 * its first byte 0x40 | (c & 0x3f)), and 16 lowercase hex digits of c[0..8) at each
 * ${cookie} place.
 */
static inline void pps_udp_write_payload(const struct pps_udp_payload *p, const uint8_t c[16],
					 uint8_t *out)
{
	static const char hex[] = "0123456789abcdef";

	memcpy(out, p->bytes, p->len);
	if (p->echo != PPS_UDP_ECHO_NONE) {
		memcpy(out + p->off, c, p->clen);
		if (p->echo == PPS_UDP_ECHO_SNMP)
			out[p->off] = (uint8_t)(0x40 | (c[0] & 0x3f));
	}
	for (unsigned k = 0; k < p->n_text; k++)
		for (unsigned i = 0; i < 8; i++) {
			out[p->text_off[k] + 2 * i] = (uint8_t)hex[c[i] >> 4];
			out[p->text_off[k] + 2 * i + 1] = (uint8_t)hex[c[i] & 15];
		}
}

/**
 * pps_udp_reply_echo_ok - 1 if the UDP payload @d (@len bytes) of a reply to a probe that
 * carried payload @p with cookie bytes @c echoes what the protocol echoes (RFC 1035 4.1.1
 * ID, RFC 3416 3 request-id, RFC 8489 6 transaction ID, RFC 5905 7.3 origin timestamp, RFC
 * 7252 4.2 message ID and token, RFC 3261 8.2.6.2 Via branch and Call-ID, ...), by the
 * payload's checks; 1 for a payload without checks.
 */
int pps_udp_reply_echo_ok(const struct pps_udp_payload *p, const uint8_t c[16], const uint8_t *d,
			  size_t len);

/**
 * pps_udp_fill - writes probe @j (0 <= j < s->total) into @buf (at least pps_scan_frame_max()
 * bytes) and returns its length: one probe at a time, byte for byte what the module's
 * fill_burst() writes for the same index (the tests' reference).
 */
uint16_t pps_udp_fill(const struct pps_scan *s, uint64_t j, uint8_t *buf);

extern const struct pps_probe_ops pps_probe_udp;

#endif /* PPS_PROBE_UDP_H */
