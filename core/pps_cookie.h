/*
 * pps_cookie.h - the stateless SYN cookie. For a probe to (dst ip, dst port) from
 * (src ip, src port): h = SipHash-2-4(key; dst ip, src ip, dst port, src port), the fields
 * little-endian (pps_siphash24_4tuple; masscan's syn-cookie.c and ZMap's validate.c use the
 * same idea); the low 32 bits are the sequence number, bits 32..47 the IP ID (so the ID is
 * unpredictable without a second hash).
 * A SYN-ACK is genuine iff ack == seq + 1 (RFC 793: the peer acknowledges our SYN).
 */
#ifndef PPS_COOKIE_H
#define PPS_COOKIE_H

#include <stdint.h>

#include "pps_siphash.h"

/** pps_cookie - the 64-bit SipHash tag; seq = (uint32_t)h, ipid = (uint16_t)(h >> 32). */
static inline uint64_t pps_cookie(const struct pps_siphash_key *key, uint32_t dst_ip_h,
				  uint16_t dst_port_h, uint32_t src_ip_h, uint16_t src_port_h)
{
	return pps_siphash24_4tuple(key, dst_ip_h, src_ip_h, dst_port_h, src_port_h);
}

#endif /* PPS_COOKIE_H */
