/*
 * pps_parse.h - bounds-checked parsing of received frames (Ethernet, up to two VLAN tags,
 * ARP, IPv4, and TCP, UDP or ICMP on it, with the IPv4 header + 8 bytes an ICMP error
 * quotes). One walker for every kind: the link layer and each IPv4 header (the outer one and
 * the quoted one) are read by the same code. Never reads past @len; never trusts a length
 * field.
 */
#ifndef PPS_PARSE_H
#define PPS_PARSE_H

#include <stddef.h>
#include <stdint.h>

enum pps_parse_kind {
	PPS_PKT_TCP = 0,   /* a well-formed IPv4/TCP segment; fields in struct pps_tcp_pkt */
	PPS_PKT_ARP,	   /* an Ethernet/IPv4 ARP packet; fields in struct pps_arp_pkt */
	PPS_PKT_OTHER,	   /* well-formed but not for us: IPv6, other protocols, fragments */
	PPS_PKT_MALFORMED, /* truncated or inconsistent headers: counted and dropped */
	PPS_PKT_UDP,	   /* a well-formed IPv4/UDP datagram; fields in struct pps_udp_pkt */
	PPS_PKT_ICMP,	   /* a well-formed ICMP message; fields in struct pps_icmp_pkt */
};

/** TCP fields of a received segment, host order. */
struct pps_tcp_pkt {
	uint32_t saddr_h;
	uint32_t daddr_h;
	uint16_t sport_h;
	uint16_t dport_h;
	uint32_t seq_h;
	uint32_t ack_h;
	uint16_t window_h;
	uint16_t ipid_h;
	uint8_t ttl;
	uint8_t flags;	   /* TCP flags byte: FIN 0x01 SYN 0x02 RST 0x04 PSH 0x08 ACK 0x10 */
	uint16_t ihl;	   /* IPv4 header bytes */
	uint16_t tcp_len;  /* TCP header + payload bytes (from the IPv4 total length) */
	const uint8_t *ip; /* the IPv4 header in the caller's frame (for the checksums), or NULL
			      for a segment built field by field */
};

#define PPS_TCP_FIN 0x01
#define PPS_TCP_SYN 0x02
#define PPS_TCP_RST 0x04
#define PPS_TCP_ACK 0x10
#define PPS_TCP_URG 0x20

/** UDP fields of a received datagram (RFC 768), host order. */
struct pps_udp_pkt {
	uint32_t saddr_h;
	uint32_t daddr_h;
	uint16_t sport_h;
	uint16_t dport_h;
	uint16_t ipid_h;
	uint8_t ttl;
	uint16_t ihl;	     /* IPv4 header bytes */
	uint16_t udp_len;    /* UDP header + payload bytes: the UDP length field, which parsing
				checked against the IPv4 total length */
	const uint8_t *ip;   /* the IPv4 header in the caller's frame (for the checksums) */
	const uint8_t *data; /* the payload: udp_len - 8 bytes */
};

/**
 * An ICMP message (RFC 792), host order. For the error types (destination unreachable 3,
 * source quench 4, redirect 5, time exceeded 11, parameter problem 12) that quote the
 * datagram they answer, has_quote is 1 and q_* hold its IPv4 header fields and the first 8
 * bytes after it (RFC 792: "Internet Header + 64 bits of Original Data Datagram"; RFC 1812
 * 4.3.2.3 lets routers quote more).
 */
struct pps_icmp_pkt {
	uint32_t saddr_h; /* the ICMP message's sender (the target, or a router on the way) */
	uint32_t daddr_h; /* its destination (our source address) */
	uint16_t ipid_h;
	uint8_t ttl;
	uint8_t type;
	uint8_t code;
	uint8_t has_quote;
	uint16_t ihl;	   /* outer IPv4 header bytes */
	uint16_t icmp_len; /* ICMP header + body bytes (from the IPv4 total length) */
	const uint8_t *ip; /* the outer IPv4 header in the caller's frame (for the checksums) */
	/* the quoted datagram (has_quote), as we sent it if it was our probe */
	uint32_t q_saddr_h;
	uint32_t q_daddr_h;
	uint16_t q_ipid_h;
	uint16_t q_tot_len; /* its IPv4 total length field */
	uint8_t q_proto;
	uint8_t q_ttl;
	uint16_t q_sport_h; /* the first 8 bytes after its header: ports (TCP, UDP) */
	uint16_t q_dport_h;
	uint16_t q_udp_len; /* UDP: its length field; TCP: 0 */
	uint16_t q_udp_sum; /* UDP: its checksum field as sent */
	uint32_t q_seq_h;   /* TCP: its sequence number; UDP: 0 */
};

/** ARP (RFC 826) fields for Ethernet/IPv4, host order for addresses. */
struct pps_arp_pkt {
	uint16_t op_h; /* 1 request, 2 reply */
	uint8_t sha[6];
	uint32_t spa_h;
	uint8_t tha[6];
	uint32_t tpa_h;
};

/** The parsed frame: kind and the matching fields. */
struct pps_pkt {
	enum pps_parse_kind kind;
	uint8_t verdict; /* set by pps_scan_rx() / pps_scan_rx_burst(): the enum pps_verdict of
			    a TCP frame, PPS_V_NONE (0xff) for any other (not set by parsing) */
	union {
		struct pps_tcp_pkt tcp;
		struct pps_udp_pkt udp;
		struct pps_icmp_pkt icmp;
		struct pps_arp_pkt arp;
	};
};

/**
 * pps_parse_frame - parses @len bytes at @frame. @with_ethernet = 1 for Ethernet frames
 * (optionally 802.1Q / 802.1ad tagged, at most two tags), 0 for raw IPv4 (tun, DLT_RAW).
 * IPv4 rules: version 4, IHL >= 5, total length >= IHL*4 and <= bytes present (trailing
 * Ethernet padding is ignored), not a fragment. TCP rules: data offset >= 5 and within the
 * IP payload. UDP: length field >= 8 and within the IP payload. ICMP: at least its 8-byte
 * header; an error's quote needs a version-4 header (IHL >= 5) and 8 bytes after it, or the
 * message is malformed. Checksums are not verified (veth and NICs may hand over partial checksums;
 * the SYN cookie is what authenticates a response). Returns the kind and fills @out.
 */
enum pps_parse_kind pps_parse_frame(const uint8_t *frame, size_t len, int with_ethernet,
				    struct pps_pkt *out);

#endif /* PPS_PARSE_H */
