#include "pps_arp.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

uint16_t pps_arp_build(uint8_t *buf, uint16_t op_h, const uint8_t sha[6], uint32_t spa_h,
		       const uint8_t tha[6], uint32_t tpa_h)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t zero[6] = { 0 };
	uint8_t *a = buf + 14;

	memset(buf, 0, PPS_ARP_FRAME_LEN);
	memcpy(buf, op_h == 1 ? bcast : tha, 6);
	memcpy(buf + 6, sha, 6);
	buf[12] = 0x08;
	buf[13] = 0x06;
	a[1] = 1;    /* htype Ethernet */
	a[2] = 0x08; /* ptype IPv4 */
	a[4] = 6;
	a[5] = 4;
	a[6] = (uint8_t)(op_h >> 8);
	a[7] = (uint8_t)op_h;
	memcpy(a + 8, sha, 6);
	put32(a + 14, spa_h);
	memcpy(a + 18, op_h == 1 ? zero : tha, 6);
	put32(a + 24, tpa_h);
	return PPS_ARP_FRAME_LEN;
}

int pps_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int pps_parse_mac(const char *s, uint8_t mac[6])
{
	char sep = 0;

	if (!s)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		int hi = pps_hexval(s[0]), lo = hi < 0 ? -1 : pps_hexval(s[1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		mac[i] = (uint8_t)(hi << 4 | lo);
		s += 2;
		if (i < 5) {
			if (*s != ':' && *s != '-')
				return -EINVAL;
			if (sep && *s != sep)
				return -EINVAL;
			sep = *s++;
		}
	}
	return *s == '\0' ? 0 : -EINVAL;
}

void pps_format_mac(const uint8_t mac[6], char buf[18])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
		 mac[5]);
}
