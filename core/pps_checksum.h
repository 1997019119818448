/*
 * pps_checksum.h - the Internet checksum (RFC 1071) with partial sums, so that a probe's
 * IPv4 and TCP checksums are finished from a precomputed sum of the constant fields plus the
 * few 16-bit words that change (RFC 1624 incremental update; masscan's templ-pkt.c does the same).
 */
#ifndef PPS_CHECKSUM_H
#define PPS_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

/**
 * pps_csum_partial - adds the 16-bit big-endian words of @len bytes at @data to @sum
 * (an odd last byte is padded with zero, RFC 1071). Returns the unfolded 32/64-bit sum.
 */
uint64_t pps_csum_partial(const void *data, size_t len, uint64_t sum);

/** pps_csum_fold - folds a partial sum to 16 bits and complements it (host order result). */
static inline uint16_t pps_csum_fold(uint64_t sum)
{
	sum = (sum & 0xffffffffULL) + (sum >> 32);
	sum = (sum & 0xffffULL) + (sum >> 16);
	sum = (sum & 0xffffULL) + (sum >> 16);
	sum = (sum & 0xffffULL) + (sum >> 16);
	return (uint16_t)~sum;
}

/**
 * pps_csum_fold32 - pps_csum_fold() for a sum below 2^32 (the per-probe sums: a folded
 * 16-bit partial plus at most a few 16-bit words): two folding steps are enough, because
 * after the first the sum is at most 0x1fffe.
 */
static inline uint16_t pps_csum_fold32(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/**
 * pps_csum_ipv4_tcp_ok - 1 if both checksums of an IPv4 packet carrying TCP are right: the
 * header's (@ihl bytes at @ip) and the segment's (@tcp_len bytes after the header, with the
 * pseudo header of RFC 793 3.1). Sums 32-bit words in the CPU's byte order and checks for
 * all ones (RFC 1071 2(B): the sum is independent of byte order), so it costs a few ns for
 * a 60-byte response. A TCP checksum field holding just the pseudo header's sum counts as
 * right: that is a segment from a local path with checksum offload (veth, loopback), which
 * the kernel would not verify either. @ip must hold ihl + tcp_len readable bytes.
 */
int pps_csum_ipv4_tcp_ok(const uint8_t *ip, size_t ihl, size_t tcp_len);

/**
 * pps_csum_ipv4_udp_ok - pps_csum_ipv4_tcp_ok() for UDP (RFC 768): 1 if the header's
 * checksum and the datagram's (@udp_len bytes after the @ihl header bytes at @ip, pseudo
 * header included) are right; a zero UDP checksum field means "none" (allowed over IPv4)
 * and only the header's is checked. The same rule for a local path's offloaded sum.
 */
int pps_csum_ipv4_udp_ok(const uint8_t *ip, size_t ihl, size_t udp_len);

/**
 * pps_csum_ipv4_icmp_ok - 1 if the IPv4 header's checksum and the ICMP message's (@icmp_len
 * bytes after the @ihl header bytes at @ip, no pseudo header: RFC 792) are right.
 */
int pps_csum_ipv4_icmp_ok(const uint8_t *ip, size_t ihl, size_t icmp_len);

/**
 * pps_csum_ipv4_header - full checksum of an IPv4 header of @ihl_bytes at @hdr, computed
 * with the checksum field taken as zero. Host-order result. Used by tests and the ARP/reply
 * paths, not per probe.
 */
uint16_t pps_csum_ipv4_header(const uint8_t *hdr, size_t ihl_bytes);

/**
 * pps_csum_tcp_full - full TCP checksum of the segment at @tcp (@tcp_len bytes: header,
 * options and payload) with the IPv4 pseudo-header (RFC 793 section 3.1) for @src_ip_h and
 * @dst_ip_h; the checksum field in @tcp is taken as zero. Host-order result.
 */
uint16_t pps_csum_tcp_full(uint32_t src_ip_h, uint32_t dst_ip_h, const uint8_t *tcp,
			   size_t tcp_len);

#endif /* PPS_CHECKSUM_H */
