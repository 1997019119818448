/*
 * pps_banner.h - the output side of --banners: names the protocol, product and version of a
 * first data segment, on the monitor thread (never on the receive lcore), with the same
 * fingerprints as ppscan-id (core/fingerprint.h, data/fingerprints/NAME.conf) and a parse of a
 * TLS ServerHello (RFC 8446 4.1.3), which no regular expression reads.
 */
#ifndef PPS_BANNER_H
#define PPS_BANNER_H

#include <stddef.h>
#include <stdint.h>

#include "fingerprint.h"

struct pps_result;
struct pps_ring;

/** An endpoint whose SYN-ACK we answered, waiting for its first data (pps_banner_track()). */
struct pps_banner_wait {
	uint64_t deadline_ns; /* Unix ns: SYN-ACK time + the cooldown */
	uint32_t saddr_h;     /* the target, host order */
	uint32_t daddr_h;     /* our source address */
	uint16_t sport_h;     /* target port */
	uint16_t dport_h;     /* our source port */
	uint32_t ack_h;	      /* the SYN-ACK's ack: cookie + 1 */
};

/** What the monitor keeps for --banners (pps_banner_new()). */
struct pps_banner_out {
	struct pps_fp_db *db;	  /* every built-in fingerprint */
	size_t extra_size;	  /* the ring's extra bytes per slot */
	size_t max;		  /* results per drain */
	uint8_t *xbuf;		  /* max * extra_size: the drained results' bytes */
	struct pps_fp_match *ids; /* max: their matches */
	uint64_t named, unnamed;  /* data results with and without a protocol */
	/* endpoints waiting for data: a FIFO in SYN-ACK order (deadlines ascend) and the set of
	 * their keys that have not answered yet (open addressing, linear probing) */
	struct pps_banner_wait *fifo;
	size_t fifo_cap, fifo_head, fifo_n; /* fifo_cap: a power of two */
	uint64_t *set;			    /* keys (0: empty), set_cap of them */
	size_t set_cap, set_n;
	uint64_t wait_ns;  /* how long an endpoint may stay silent: the cooldown */
	uint64_t no_data;  /* endpoints reset for saying nothing */
	uint64_t untracked; /* SYN-ACKs beyond PPS_BANNER_WAIT_MAX waiting: never reset */
};

/** Most endpoints pps_banner_track() keeps waiting at once (beyond: not tracked, counted). */
#define PPS_BANNER_WAIT_MAX (1u << 22)

/**
 * pps_banner_new - the state for draining @max results at a time from a ring with
 * @extra_size extra bytes per slot, the fingerprints loaded and JIT-compiled. NULL with a
 * reason in @why (a bad built-in file, out of memory).
 */
struct pps_banner_out *pps_banner_new(size_t max, size_t extra_size, char *why, size_t whylen);

/** pps_banner_free - NULL allowed. */
void pps_banner_free(struct pps_banner_out *b);

/**
 * pps_banner_identify - names the first bytes @data (@n bytes) into @m (zeroed first):
 * a TLS handshake record holding a ServerHello is "tls" with version "TLSv1.3" / "TLSv1.2"
 * (supported_versions, RFC 8446 4.2.1, or legacy_version) and the suite's code point as
 * product ("0x1302"); a TLS alert record "tls" too; otherwise the first fingerprint of
 * @db that matches. Returns 1 when named, 0 when not.
 */
int pps_banner_identify(struct pps_fp_db *db, const uint8_t *data, size_t n,
			struct pps_fp_match *m);

/**
 * pps_banner_track - the output side's one piece of state for --banners (never on a receive
 * loop): each SYN-ACK result of @r (@n) starts a wait of b->wait_ns for the endpoint's
 * answer; a data, FIN or RST-on-data result ends it. Memory: 24 + 16 bytes per waiting
 * endpoint, at most PPS_BANNER_WAIT_MAX (the open ports a scan finds in one cooldown), grown
 * on demand; beyond the bound or out of memory a SYN-ACK is not tracked (counted in
 * untracked: that endpoint gets no RST).
 */
void pps_banner_track(struct pps_banner_out *b, const struct pps_result *r, size_t n);

/**
 * pps_banner_due - the endpoints whose wait is over at @now_ns (Unix ns; with @all every
 * waiting one) without an answer: for each, a result of class no_data (tcp part: ack_h =
 * the sequence number the RST takes, cookie + 1 + @first_len(@arg, its port) bytes of first
 * payload: RFC 9293 3.10.7.4, a reset in an established connection must carry RCV.NXT)
 * pushed to @resets (the receive loop sends the RST, pps_rx_resets()) and copied to @out
 * (at most @max) for the sinks. Stops early when @resets is full (the rest wait for the
 * next call). Returns how many results it wrote to @out.
 */
size_t pps_banner_due(struct pps_banner_out *b, uint64_t now_ns, int all, struct pps_ring *resets,
		      uint32_t (*first_len)(const void *arg, uint16_t port_h), const void *arg,
		      struct pps_result *out, size_t max);

/** pps_banner_waiting - endpoints still waiting for their first data. */
static inline size_t pps_banner_waiting(const struct pps_banner_out *b)
{
	return b->fifo_n;
}

/**
 * pps_banner_attach - for the @n results just drained into @r (their extra bytes at
 * b->xbuf + i * extra_size): points each data result at its bytes and at its match.
 */
void pps_banner_attach(struct pps_banner_out *b, struct pps_result *r, size_t n);

#endif /* PPS_BANNER_H */
