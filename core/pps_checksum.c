#include "pps_checksum.h"

#include <string.h>

/*
 * Adds @len bytes at @p to @sum as 16-bit words in the CPU's byte order, eight bytes at a
 * time with the carry added back in (RFC 1071 2(C): a ones' complement sum may be taken over
 * wider words, end-around carry included, and folded at the end).
 */
static inline uint64_t sum_native(const uint8_t *p, size_t len, uint64_t sum)
{
	uint64_t w8;
	uint32_t w4 = 0;
	uint16_t w2 = 0;

	for (; len >= 8; p += 8, len -= 8) {
		memcpy(&w8, p, 8);
		sum += w8;
		sum += sum < w8; /* end-around carry */
	}
	if (len >= 4) {
		memcpy(&w4, p, 4);
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		memcpy(&w2, p, 2);
		p += 2;
		len -= 2;
	}
	if (len) { /* an odd last byte, padded with a zero byte after it (RFC 1071) */
		uint8_t pad[2] = { p[0], 0 };
		uint16_t w;
		memcpy(&w, pad, 2);
		w4 += w;
	}
	w8 = (uint64_t)w4 + w2; /* < 2^33 */
	sum += w8;
	return sum + (sum < w8);
}

/* The 16-bit folded (not complemented) sum of a native-order sum, as its two bytes. */
static inline uint16_t folded_native(uint64_t sum)
{
	return (uint16_t)~pps_csum_fold(sum);
}

uint64_t pps_csum_partial(const void *data, size_t len, uint64_t sum)
{
	/* RFC 1071 2(B): the folded sum's bytes in memory are the big-endian sum's bytes */
	uint16_t n = folded_native(sum_native(data, len, 0));
	uint8_t b[2];

	memcpy(b, &n, 2);
	return sum + (uint64_t)(b[0] << 8 | b[1]);
}

/*
 * Both checksums of an IPv4 packet carrying protocol @proto (@l4_len bytes after the @ihl
 * header bytes, its checksum field at @csum_off): the header's, then the segment's with the
 * pseudo header (RFC 793 3.1, RFC 768).
 */
static int ipv4_l4_ok(const uint8_t *ip, size_t ihl, uint8_t proto, size_t l4_len, size_t csum_off)
{
	/* pseudo header: the two addresses (in the packet already), zero, protocol, length */
	const uint8_t proto_len[4] = { 0, proto, (uint8_t)(l4_len >> 8), (uint8_t)l4_len };
	uint64_t pseudo;
	uint16_t field;

	if (pps_csum_fold(sum_native(ip, ihl, 0)) != 0) /* folds to all ones: right */
		return 0;
	pseudo = sum_native(proto_len, 4, sum_native(ip + 12, 8, 0));
	if (pps_csum_fold(sum_native(ip + ihl, l4_len, pseudo)) == 0)
		return 1;
	/*
	 * Checksum offload on a local path (veth, loopback: CHECKSUM_PARTIAL): the sender left
	 * the pseudo header's folded sum in the field for hardware that never ran. Neither
	 * AF_PACKET PMDs nor libpcap pass on the kernel's "checksum not ready" flag, so that
	 * exact value is taken as "not computed" (1 in 65,536 for a corrupted field). Both
	 * sides in the CPU's byte order.
	 */
	memcpy(&field, ip + ihl + csum_off, 2);
	return field == folded_native(pseudo);
}

int pps_csum_ipv4_tcp_ok(const uint8_t *ip, size_t ihl, size_t tcp_len)
{
	return ipv4_l4_ok(ip, ihl, 6, tcp_len, 16);
}

int pps_csum_ipv4_udp_ok(const uint8_t *ip, size_t ihl, size_t udp_len)
{
	if (udp_len >= 8 && ip[ihl + 6] == 0 && ip[ihl + 7] == 0) /* RFC 768: no checksum */
		return pps_csum_fold(sum_native(ip, ihl, 0)) == 0;
	return ipv4_l4_ok(ip, ihl, 17, udp_len, 6);
}

int pps_csum_ipv4_icmp_ok(const uint8_t *ip, size_t ihl, size_t icmp_len)
{
	return pps_csum_fold(sum_native(ip, ihl, 0)) == 0 &&
	       pps_csum_fold(sum_native(ip + ihl, icmp_len, 0)) == 0;
}

uint16_t pps_csum_ipv4_header(const uint8_t *hdr, size_t ihl_bytes)
{
	uint64_t sum = pps_csum_partial(hdr, 10, 0);
	sum = pps_csum_partial(hdr + 12, ihl_bytes - 12, sum);
	return pps_csum_fold(sum);
}

uint16_t pps_csum_tcp_full(uint32_t src_ip_h, uint32_t dst_ip_h, const uint8_t *tcp, size_t tcp_len)
{
	uint64_t sum = (src_ip_h >> 16) + (src_ip_h & 0xffff) + (dst_ip_h >> 16) +
		       (dst_ip_h & 0xffff) + 6 + tcp_len;
	sum = pps_csum_partial(tcp, 16, sum);
	sum = pps_csum_partial(tcp + 18, tcp_len - 18, sum);
	return pps_csum_fold(sum);
}
