/*
 * probe/pps_udp_payloads.h - the udp module's payload table: which datagram each destination
 * port gets and how its reply is tied to the probe (data/udp-payloads.conf, embedded at build
 * time, or a user's table; README "UDP payloads" describes the format).
 *
 * A line:   PORTS  NAME  [CHECK ...]  PAYLOAD          ('#' starts a comment line)
 *   PORTS   53 | 53,5353 | 1000-1010 | a list of those; each port in one line at most
 *   NAME    [A-Za-z0-9_.-]{1,23}: the protocol, for the dry run and --list-probe-modules
 *   CHECK   echo=OFF+LEN        cookie bytes at payload offset OFF (LEN 1..16); the reply
 *                               must carry them at the same offset (DNS ID, STUN transaction ID)
 *           echo=OFF+LEN@ROFF   ... at reply offset ROFF (NTP: transmit -> origin timestamp)
 *           echo=OFF+LEN@any    ... anywhere in the reply (OpenVPN's acknowledged session ID)
 *           snmp-id=OFF         a 4-byte BER INTEGER request-id at OFF (its value kept positive
 *                               and minimally encoded); the reply's request-id, found by
 *                               walking its BER (RFC 3416), must equal it
 *           sport=any           the reply may come from another port of the probed address
 *                               (TFTP: RFC 1350 4, the server answers from a new TID)
 *   PAYLOAD hex:0011 22..       hex digits, spaces allowed, to the end of the line
 *           "text\r\n"          C escapes \r \n \t \0 \\ \" \xHH; each ${cookie} becomes 16
 *                               lowercase hex cookie digits, which the reply must contain
 *                               (SIP Call-ID and branch, WS-Discovery MessageID)
 *           empty               "" (a zero-length datagram)
 * Without a check the reply is validated by address, port and the derived source port alone.
 */
#ifndef PPS_UDP_PAYLOADS_H
#define PPS_UDP_PAYLOADS_H

#include <stddef.h>
#include <stdint.h>

/** Largest payload: a 1514-byte Ethernet frame minus Ethernet, IPv4 and UDP headers. */
#define PPS_UDP_PAYLOAD_MAX 1472
#define PPS_UDP_TEXT_MAX 4	/* ${cookie} places per payload */
#define PPS_UDP_COOKIE_HEX 16	/* hex digits of one ${cookie} */
#define PPS_UDP_ANY_SPORT_MAX 8 /* ports with sport=any */

enum pps_udp_echo {
	PPS_UDP_ECHO_NONE = 0,
	PPS_UDP_ECHO_AT,   /* the reply holds the cookie bytes at roff */
	PPS_UDP_ECHO_ANY,  /* anywhere in the reply */
	PPS_UDP_ECHO_SNMP, /* as the request-id of the SNMP reply */
};

/** One payload and its checks. */
struct pps_udp_payload {
	char name[24];
	uint16_t len;		  /* payload bytes */
	uint8_t echo;		  /* enum pps_udp_echo */
	uint8_t any_sport;	  /* sport=any */
	uint16_t off, clen, roff; /* echo: cookie bytes [off, off + clen), reply at roff */
	uint8_t n_text;		  /* ${cookie} places */
	uint16_t text_off[PPS_UDP_TEXT_MAX]; /* where each place's 16 hex digits go */
	uint8_t bytes[PPS_UDP_PAYLOAD_MAX];  /* with zeros where cookie bytes go */
};

/** The table: a payload per port, a default for the rest. */
struct pps_udp_table {
	struct pps_udp_payload *p; /* n entries (owned) */
	unsigned n;
	uint16_t *by_port;	     /* 65536 entries: 1 + index into p, 0: the default (owned) */
	struct pps_udp_payload dflt; /* ports without a line: a zero-length datagram, or the
					payload --probe-args gives for every port */
	uint16_t max_len;	     /* the longest payload of all */
	uint16_t n_any_sport;	     /* ports with sport=any (at most PPS_UDP_ANY_SPORT_MAX) */
	uint16_t any_sport[PPS_UDP_ANY_SPORT_MAX];
};

/**
 * pps_udp_table_parse - parses the table text @text (NUL-terminated) into @t (zeroed first;
 * free with pps_udp_table_free(), also after an error). @origin names the text in errors
 * ("data/udp-payloads.conf", a path). Returns 0, or -EINVAL with one line "ORIGIN:LINE: what
 * is wrong" in @why (@whylen bytes), or -ENOMEM.
 */
int pps_udp_table_parse(struct pps_udp_table *t, const char *text, const char *origin, char *why,
			size_t whylen);

/**
 * pps_udp_table_from_args - the table --probe-args asks for, into @t (zeroed first): NULL or
 * "" the built-in table (data/udp-payloads.conf); "payloads:PATH" the table in file PATH;
 * "text:STR" (C escapes) or "hex:HEX" one payload for every port, checked by address and
 * ports alone; "file:PATH" the bytes of file PATH for every port (ZMap's udp forms). Returns
 * 0, or -EINVAL/-ENOMEM with one line naming the bad value and where it came from in @why.
 */
int pps_udp_table_from_args(struct pps_udp_table *t, const char *args, char *why, size_t whylen);

/** pps_udp_table_free - frees what parsing allocated. */
void pps_udp_table_free(struct pps_udp_table *t);

/** pps_udp_table_get - the payload probes to @port_h carry. */
static inline const struct pps_udp_payload *pps_udp_table_get(const struct pps_udp_table *t,
							      uint16_t port_h)
{
	uint16_t i = t->by_port ? t->by_port[port_h] : 0;

	return i ? &t->p[i - 1] : &t->dflt;
}

#endif /* PPS_UDP_PAYLOADS_H */
