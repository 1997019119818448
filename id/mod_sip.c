/*
 * SIP over TCP (RFC 3261): client-first. The module sends an OPTIONS request (11.1: "query
 * capabilities") with the mandatory headers (8.1.1: Via with a branch starting "z9hG4bK",
 * Max-Forwards, To, From with a tag, Call-ID, CSeq, Content-Length; 18.3: the length is
 * required over TCP). Responses come back on the same connection (18.2.2): a status line
 * "SIP/2.0 200 OK", headers (Server or User-Agent, Allow, Supported), an empty line. The
 * Server / User-Agent value is named by data/fingerprints/sip.conf. Reacts to other
 * modules' requests: a SIP server answers a malformed request with "SIP/2.0 400 ...".
 */
#include <stdio.h>
#include <string.h>

#include "id_b.h"
#include "id_module.h"
#include "id_util.h"

static int sip_readable(struct id_conn *c, void *st, const uint8_t *d, size_t n)
{
	size_t hl, vl;
	const uint8_t *v;
	json_t *o;
	int r;

	(void)st;
	r = idb_head_reply(c, d, n, "SIP/2.", NULL, &hl);
	if (r != ID_MATCH)
		return r;
	o = id_obj(c);
	if (o) {
		if ((v = idb_head_get(d, hl, "Allow", 0, &vl)))
			json_object_set_new(o, "methods", idb_json_csv(v, vl));
	}
	if ((v = idb_head_get(d, hl, "Server", 0, &vl)) ||
	    (v = idb_head_get(d, hl, "User-Agent", 0, &vl))) {
		if (o)
			json_object_set_new(o, "server", id_json_text(v, vl));
		id_fingerprint(c, v, vl);
	}
	return ID_MATCH;
}

static int sip_start(struct id_conn *c, void *st)
{
	const char *host = id_host_name(c);
	char req[1024];
	int len;

	(void)st;
	len = snprintf(req, sizeof(req),
		       "OPTIONS sip:%s SIP/2.0\r\n"
		       "Via: SIP/2.0/TCP ppscan-id.invalid;branch=z9hG4bK-ppscan-id-1\r\n"
		       "Max-Forwards: 70\r\n"
		       "To: <sip:%s>\r\n"
		       "From: <sip:ppscan-id@ppscan-id.invalid>;tag=ppscan-id\r\n"
		       "Call-ID: ppscan-id-1@ppscan-id.invalid\r\n"
		       "CSeq: 1 OPTIONS\r\n"
		       "Contact: <sip:ppscan-id@ppscan-id.invalid;transport=tcp>\r\n"
		       "Accept: application/sdp\r\n"
		       "User-Agent: ppscan-id\r\n"
		       "Content-Length: 0\r\n\r\n",
		       host, host);
	if (len < 0 || (size_t)len >= sizeof(req))
		return ID_NO;
	return id_send(c, req, (size_t)len) ? ID_NO : ID_MORE;
}

static const uint16_t sip_ports[] = { 5060, 5061, 0 };

const struct id_module id_mod_sip = {
	.name = "sip",
	.summary = "SIP over TCP (RFC 3261 OPTIONS: status, Server/User-Agent, Allow)",
	.flags = ID_F_PROBE | ID_F_REACT | ID_F_INNER,
	.weight = 105,
	.ports = sip_ports,
	.start = sip_start,
	.on_readable = sip_readable,
};
