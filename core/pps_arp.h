/*
 * pps_arp.h - ARP (RFC 826) for Ethernet/IPv4: the DPDK app owns its port, so it asks for
 * the gateway's MAC and answers requests for its own source address itself.
 */
#ifndef PPS_ARP_H
#define PPS_ARP_H

#include <stdint.h>

#define PPS_ARP_FRAME_LEN 60 /* 14 + 28, padded to the Ethernet minimum */

/**
 * pps_arp_build - writes an ARP frame of PPS_ARP_FRAME_LEN bytes into @buf (caller-owned).
 * @op_h: 1 request (Ethernet destination broadcast, tha zero) or 2 reply (to @tha).
 * Addresses are host order. Returns the frame length in bytes.
 */
uint16_t pps_arp_build(uint8_t *buf, uint16_t op_h, const uint8_t sha[6], uint32_t spa_h,
		       const uint8_t tha[6], uint32_t tpa_h);

/**
 * pps_parse_mac - parses "aa:bb:cc:dd:ee:ff" (or '-' separated), two hex digits each.
 * Returns 0, or -EINVAL.
 */
int pps_parse_mac(const char *s, uint8_t mac[6]);

/** pps_hexval - the value of hex digit @c (0-15), or -1. */
int pps_hexval(int c);

/** pps_format_mac - "aa:bb:cc:dd:ee:ff" into @buf (18 bytes with the NUL). */
void pps_format_mac(const uint8_t mac[6], char buf[18]);

#endif /* PPS_ARP_H */
