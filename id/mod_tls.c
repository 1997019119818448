/*
 * mod_tls.c - TLS (RFC 8446, RFC 5246). The handshake itself is run by the engine (flag
 * ID_F_TLS): an OpenSSL ClientHello with the options of ppscan-tls (--sni, --alpn, --ca-file),
 * and the record's "tls" object is the one ppscan-tls writes (tls_record.h). After a completed
 * handshake the engine identifies the protocol inside (implicit TLS). This module's own code
 * judges bytes a server sent in reply to another module's plaintext request: a TLS record
 * there (RFC 8446 5.1: content type 21 alert or 22 handshake, legacy version 3.x, a length
 * within 2^14 + 2048) says the port speaks TLS.
 */
#include "id_module.h"
#include "id_util.h"

#define TLS_RECORD_MAX (16384 + 2048)

static int tls_readable(struct id_conn *c, void *st, const uint8_t *d, size_t n)
{
	json_t *o;

	(void)st;
	if (n >= 1 && d[0] != 21 && d[0] != 22)
		return ID_NO;
	if (n >= 2 && d[1] != 3)
		return ID_NO;
	if (n >= 3 && d[2] > 4)
		return ID_NO;
	if (n < 5)
		return id_ended(c) ? ID_NO : ID_MORE;
	if (id_be16(d + 3) == 0 || id_be16(d + 3) > TLS_RECORD_MAX)
		return ID_NO;
	o = id_obj(c);
	if (o) {
		json_object_set_new(o, "record_type",
				    json_string(d[0] == 21 ? "alert" : "handshake"));
		if (d[0] == 21 && n >= 7) {
			json_object_set_new(o, "alert_level", json_integer(d[5]));
			json_object_set_new(o, "alert_description", json_integer(d[6]));
		}
	}
	/* an alert in answer to plaintext is what a TLS server sends; weak, it names no more */
	return d[0] == 21 ? ID_SOFT : ID_MATCH;
}

static const uint16_t tls_ports[] = { 443, 8443, 993,  995,  465,  636,	 853,  990,   992,
				      994, 5061, 6697, 8883, 5671, 9443, 4443, 10443, 0 };

const struct id_module id_mod_tls = {
	.name = "tls",
	.summary = "TLS (OpenSSL handshake; the protocol inside is identified too)",
	.flags = ID_F_TLS | ID_F_PROBE | ID_F_REACT,
	.weight = 900,
	.ports = tls_ports,
	.state_size = 0,
	.on_readable = tls_readable,
};
