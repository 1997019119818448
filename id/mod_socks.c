/*
 * mod_socks.c - SOCKS: the SOCKS5 method negotiation (RFC 1928, section 3; username/password
 * is RFC 1929), and the SOCKS4 reply (SOCKS 4, "SOCKS: A protocol for TCP proxy across
 * firewalls", Ying-Da Lee, NEC) that a SOCKS4-only server sends when it cannot read it.
 * Only the greeting is sent: no CONNECT, no BIND, so no proxy is ever asked to reach a third
 * host.
 */
#include <stdio.h>
#include <string.h>

#include "id_module.h"
#include "id_rd.h"
#include "id_util.h"
#include "mod_wire.h"

const uint8_t id_socks_request[4] = { 0x05, 0x02, 0x00, 0x02 };

enum id_wire id_socks_parse(const uint8_t *buf, size_t len, struct id_socks_info *out)
{
	memset(out, 0, sizeof(*out));
	if (!len)
		return ID_WIRE_MORE;
	if (buf[0] == 0x05) {
		if (len < 2)
			return ID_WIRE_MORE;
		if (len > 2)
			return ID_WIRE_NO;
		if (buf[1] != 0x00 && buf[1] != 0x02 && buf[1] != 0xFF)
			return ID_WIRE_BAD; /* a method we did not offer */
		out->version = 5;
		out->method = buf[1];
		return ID_WIRE_MATCH;
	}
	if (buf[0] == 0x00) { /* SOCKS4 reply: VN 0, CD, DSTPORT, DSTIP */
		if (len >= 2 && (buf[1] < 0x5A || buf[1] > 0x5D))
			return ID_WIRE_NO;
		if (len < 8)
			return ID_WIRE_MORE;
		if (len > 8)
			return ID_WIRE_NO;
		out->version = 4;
		out->method = buf[1];
		return ID_WIRE_MATCH;
	}
	return ID_WIRE_NO;
}

/* ---- the module ---- */

static int socks_start(struct id_conn *c, void *st)
{
	(void)st;
	return id_send(c, id_socks_request, sizeof(id_socks_request)) ? ID_NO : ID_MORE;
}

static int socks_readable(struct id_conn *c, void *st, const uint8_t *d, size_t n)
{
	struct id_socks_info s;
	int w = id_socks_parse(d, n, &s);
	json_t *o;

	(void)st;
	if (w != ID_WIRE_MATCH || !(o = id_obj(c)))
		return id_wire_verdict(c, w);
	json_object_set_new(o, "version", json_integer(s.version));
	if (s.version == 5) {
		json_object_set_new(o, "method",
				    json_string(s.method == 0x00   ? "none"
						: s.method == 0x02 ? "username/password"
								   : "no acceptable methods"));
	} else {
		json_object_set_new(o, "reply_code", json_integer(s.method));
	}
	return ID_MATCH;
}

static const uint16_t socks_ports[] = { 1080, 1081, 9050, 0 };

const struct id_module id_mod_socks = {
	.name = "socks",
	.summary =
		"SOCKS5 method negotiation (RFC 1928), SOCKS4 replies; never asks for a connection",
	.flags = ID_F_PROBE,
	.weight = 180,
	.ports = socks_ports,
	.start = socks_start,
	.on_readable = socks_readable,
};
