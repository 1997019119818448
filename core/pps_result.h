/*
 * pps_result.h - one validated response, fixed size (128 bytes: two cache lines), passed
 * from the RX loop to the output thread through the SPSC ring. No pointers, nothing to free.
 *
 * The first 32 bytes are what every probe module reports (addresses, ports, TTL, IP ID, the
 * module and its classification, the receive time); the other 96 are the module's own part
 * (the TCP header fields of a SYN-ACK, or the first bytes of a reply), named in the union
 * below. A module's fields are listed with the module (core/probe/), the names the sinks
 * print in core/output/pps_fields.c.
 */
#ifndef PPS_RESULT_H
#define PPS_RESULT_H

#include <stdint.h>

/** Bytes of a result's per-kind part: the bound on the first bytes a result can carry. */
#define PPS_RESULT_PART_MAX 96

/** tcp_synscan's part: the SYN-ACK's (or RST's) TCP header fields, host order. */
struct pps_result_tcp {
	uint32_t seq_h;	   /* response sequence number */
	uint32_t ack_h;	   /* response acknowledgment number */
	uint16_t window_h; /* advertised window */
	uint8_t flags;	   /* TCP flags byte */
};

/** Bytes of a reply's payload a udp result keeps (its part minus the fields below). */
#define PPS_UDP_DATA_MAX 88

/**
 * udp's part: for a reply its payload's length and first bytes (part_len of them); for an
 * ICMP error the message's sender, type and code (RFC 792).
 */
struct pps_result_udp {
	uint16_t udp_len_h;  /* the reply's UDP payload bytes (all of them; data[] holds the
				first part_len) */
	uint8_t icmp_type;   /* ICMP: type (3: destination unreachable); reply: 0 */
	uint8_t icmp_code;   /* ICMP: code (3: port unreachable) */
	uint32_t icmp_src_h; /* ICMP: the message's sender (host order); reply: 0 */
	uint8_t data[PPS_UDP_DATA_MAX];
};

struct pps_fp_match;

/**
 * tcp_synscan --banners' part of a data result (classification data): the first data
 * segment's TCP fields and how many of its payload bytes were kept. The bytes travel in the
 * ring's extra storage of the slot (pps_ring.h), not here; the consumer's copy of a result
 * points at them (@data) and at the fingerprint match the output side made (@id, NULL when
 * none): pointers the ring itself never carries.
 */
struct pps_result_banner {
	uint32_t seq_h;		       /* the segment's sequence number */
	uint32_t ack_h;		       /* its ack: cookie + 1 + the first payload's length */
	uint16_t window_h;	       /* advertised window */
	uint8_t flags;		       /* TCP flags byte */
	uint8_t pad0;		       /* zero */
	uint16_t data_len_h;	       /* payload bytes kept (at most --banner-bytes) */
	uint16_t seg_len_h;	       /* payload bytes of the segment */
	uint8_t pad1[8];	       /* zero */
	const uint8_t *data;	       /* consumer side: data_len_h bytes; NULL in the ring */
	const struct pps_fp_match *id; /* consumer side: protocol, product, version; or NULL */
};

struct pps_result {
	uint32_t saddr_h;	/* the target (response source), host order */
	uint32_t daddr_h;	/* our source address the response came to */
	uint16_t sport_h;	/* target port */
	uint16_t dport_h;	/* our source port */
	uint16_t ipid_h;	/* the response's IPv4 ID */
	uint8_t ttl;		/* the response's TTL */
	uint8_t probe;		/* enum pps_probe_id of the module that judged it */
	uint8_t classification; /* index into that module's classes[] (probe/pps_probe.h) */
	uint8_t cooldown;	/* 1 if received after the last probe was sent */
	uint8_t part_len;	/* bytes of part[] in use where the module records first bytes */
	uint8_t extra;		/* 1: the ring's extra bytes of this slot belong to it (banner) */
	uint8_t middlebox;	/* output side: 1 if the address answered on most probed ports */
	uint8_t pad[3];		/* zero */
	uint64_t ts_ns;		/* receive time, Unix epoch nanoseconds */
	union {
		struct pps_result_tcp tcp;	   /* probe tcp_synscan */
		struct pps_result_udp udp;	   /* probe udp */
		struct pps_result_banner banner;   /* probe tcp_synscan, class data */
		uint8_t part[PPS_RESULT_PART_MAX]; /* any module's bytes */
	};
} __attribute__((aligned(8)));

_Static_assert(sizeof(struct pps_result) == 128, "pps_result layout");

/** Classifications of tcp_synscan (its classes[]: ZMap's strings "synack" and "rst"). */
enum pps_class {
	PPS_CLASS_SYNACK = 0, /* open: SYN-ACK with ack == cookie + 1 */
	PPS_CLASS_RST = 1,    /* closed: RST with ack in {cookie, cookie + 1} */
	/* --banners: what the target did after our ACK with the first payload */
	PPS_CLASS_DATA = 2,	   /* its first data segment (struct pps_result_banner) */
	PPS_CLASS_RST_ON_DATA = 3, /* it reset the connection (RST acking our payload) */
	PPS_CLASS_FIN = 4,	   /* it closed the connection without data */
	PPS_CLASS_NO_DATA = 5,	   /* it completed the handshake, then said nothing */
};

#endif /* PPS_RESULT_H */
