/*
 * probe/pps_first_payload.h - what --banners sends on each handshake it completes: the first
 * payload for each destination port (data/first-payloads.conf, embedded at build time). The
 * table's lines have the udp payload table's format (probe/pps_udp_payloads.h, parsed by the
 * same parser) without checks, plus two words of their own: the ports "default" (the
 * generic probe for ports without a line) and the payload tls-clienthello (the ClientHello
 * built once at start, pps_tls_client_hello()). ${host} in a payload becomes --sni, or
 * "localhost" without it.
 */
#ifndef PPS_FIRST_PAYLOAD_H
#define PPS_FIRST_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>

/** Largest first payload: one segment of a 1500-byte MTU path (1460 bytes). */
#define PPS_FIRST_PAYLOAD_MAX 1460

/** One payload (owned by its table). */
struct pps_first_payload {
	char name[24];	/* the protocol the line names ("http", "tls", "ssh") */
	uint16_t len;	/* bytes; 0: the server speaks first */
	uint8_t *bytes; /* len bytes */
};

/** The table: a payload for every port. */
struct pps_first_table {
	struct pps_first_payload *p; /* n entries, the last the default (owned) */
	unsigned n;
	uint16_t *by_port; /* 65536 entries: index into p (owned) */
	uint16_t max_len;  /* the longest payload */
};

/**
 * pps_first_table_load - parses the table text @text (NUL-terminated; NULL: the built-in
 * data/first-payloads.conf) named @origin in messages into @t (zeroed first), with the
 * ClientHello's server_name @sni (NULL: none). Returns 0, or -EINVAL with one line
 * "ORIGIN:LINE: what is wrong" in @why, or -ENOMEM. Free with pps_first_table_free().
 */
int pps_first_table_load(struct pps_first_table *t, const char *text, const char *origin,
			 const char *sni, char *why, size_t whylen);

/** pps_first_table_free - frees @t's storage (also after a failed load). */
void pps_first_table_free(struct pps_first_table *t);

/** pps_first_payload_for - the payload sent to destination port @port_h. */
static inline const struct pps_first_payload *pps_first_payload_for(const struct pps_first_table *t,
								    uint16_t port_h)
{
	return &t->p[t->by_port[port_h]];
}

/**
 * pps_tls_client_hello - writes into @buf (@cap bytes) one TLS record holding a ClientHello
 * (RFC 8446 4.1.2, 4.2; RFC 5246 7.4.1.2) offering TLS 1.3 and 1.2 (supported_versions),
 * the TLS 1.3 suites and the ECDHE AEAD suites of 1.2, groups X25519, P-256, P-384, a key
 * share for X25519 (random bytes: the scanner never finishes the handshake, and every
 * 32-byte string is an X25519 public value, RFC 7748 5), the common signature algorithms,
 * ALPN http/1.1, and server_name @sni (RFC 6066 3) when non-NULL. Random and session id from
 * getrandom(). Returns the record's length, or -ENOSPC.
 */
int pps_tls_client_hello(uint8_t *buf, size_t cap, const char *sni);

#endif /* PPS_FIRST_PAYLOAD_H */
