/*
 * RTSP (RFC 2326; RTSP 2.0, RFC 7826): client-first. The module sends "OPTIONS * RTSP/1.0"
 * with a CSeq (10.1); a server answers a status line "RTSP/1.0 200 OK", headers (CSeq,
 * Public: the methods it supports, Server), an empty line. The Server header is named by
 * data/fingerprints/rtsp.conf. Reacts to other modules' requests: RTSP servers answer an
 * HTTP request with an RTSP status line ("RTSP/1.0 400 Bad Request").
 */
#include <string.h>

#include "id_b.h"
#include "id_module.h"
#include "id_util.h"

static const char rtsp_options[] = "OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: ppscan-id\r\n\r\n";

struct rtsp_state {
	uint8_t asked; /* claimed another module's reply, our OPTIONS is out */
};

static int rtsp_start(struct id_conn *c, void *st);

static int rtsp_readable(struct id_conn *c, void *stp, const uint8_t *d, size_t n)
{
	struct rtsp_state *st = stp;
	size_t hl, vl;
	const uint8_t *v;
	json_t *o;
	int r;

	if (id_phase(c) == ID_PHASE_DIALOGUE && n == 0 && id_ended(c))
		return ID_MATCH; /* the server closed after its first answer: that one stands */
	r = idb_head_reply(c, d, n, "RTSP/1.", "RTSP/2.", &hl);
	if (r != ID_MATCH)
		return r;
	o = id_obj(c);
	if (o) {
		if ((v = idb_head_get(d, hl, "Public", 0, &vl)))
			json_object_set_new(o, "methods", idb_json_csv(v, vl));
	}
	if ((v = idb_head_get(d, hl, "Server", 0, &vl))) {
		if (o)
			json_object_set_new(o, "server", id_json_text(v, vl));
		id_fingerprint(c, v, vl);
	}
	/* an answer to another module's request (400 Bad Request): ask our own question on the
	 * same connection for the methods the server supports */
	if (id_phase(c) == ID_PHASE_REACT && !st->asked && !id_ended(c)) {
		id_consume(c, n);
		if (rtsp_start(c, st) == ID_MORE) {
			st->asked = 1;
			return ID_CLAIM;
		}
	}
	return ID_MATCH;
}

static int rtsp_start(struct id_conn *c, void *st)
{
	(void)st;
	return id_send(c, rtsp_options, sizeof(rtsp_options) - 1) ? ID_NO : ID_MORE;
}

static const uint16_t rtsp_ports[] = { 554, 8554, 7070, 0 };

const struct id_module id_mod_rtsp = {
	.name = "rtsp",
	.summary = "RTSP (RFC 2326 OPTIONS: methods, Server)",
	.flags = ID_F_PROBE | ID_F_REACT | ID_F_INNER,
	.weight = 110,
	.ports = rtsp_ports,
	.state_size = sizeof(struct rtsp_state),
	.start = rtsp_start,
	.on_readable = rtsp_readable,
};
