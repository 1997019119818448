#include "pps_checksum.h"

uint64_t pps_csum_partial(const void *data, size_t len, uint64_t sum)
{
	const uint8_t *p = data;
	size_t i = 0;

	for (; i + 1 < len; i += 2)
		sum += (uint64_t)(p[i] << 8 | p[i + 1]);
	if (i < len)
		sum += (uint64_t)p[i] << 8;
	return sum;
}

uint16_t pps_csum_ipv4_header(const uint8_t *hdr, size_t ihl_bytes)
{
	uint64_t sum = pps_csum_partial(hdr, 10, 0);
	sum = pps_csum_partial(hdr + 12, ihl_bytes - 12, sum);
	return pps_csum_fold(sum);
}

uint16_t pps_csum_tcp_full(uint32_t src_ip_h, uint32_t dst_ip_h, const uint8_t *tcp,
			   size_t tcp_len)
{
	uint64_t sum = (src_ip_h >> 16) + (src_ip_h & 0xffff) + (dst_ip_h >> 16) +
		       (dst_ip_h & 0xffff) + 6 + tcp_len;
	sum = pps_csum_partial(tcp, 16, sum);
	sum = pps_csum_partial(tcp + 18, tcp_len - 18, sum);
	return pps_csum_fold(sum);
}
