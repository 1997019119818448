/*
 * mod_http2.c - HTTP/2 (RFC 9113; HPACK RFC 7541). Client-first, with prior knowledge in the
 * clear (3.3) and as the protocol ALPN selected inside TLS ("h2", 3.2): the connection
 * preface "PRI * HTTP/2.0..." and an empty SETTINGS frame, then a HEADERS frame for GET /
 * (stream 1, END_STREAM | END_HEADERS; header block hand-encoded from the static table).
 * A server's preface is a SETTINGS frame on stream 0 (3.4): that proves HTTP/2. The module then
 * waits (bounded) for the HEADERS frame of stream 1 and decodes it with libnghttp2's HPACK
 * inflater for :status and server. A GOAWAY or SETTINGS frame in answer to another module's
 * request (an h2c-only server sent HTTP/1.1) is recognised too, as a soft result: the
 * module's own request, tried later, can name the server.
 * Record: "http2": {settings: {name: value}, status, server, goaway_error}; protocol "http2";
 * product/version from http.conf (the Server header).
 */
#include <nghttp2/nghttp2.h>
#include <stdio.h>
#include <string.h>

#include "id_module.h"
#include "id_util.h"

#define FRAME_HDR 9
#define T_HEADERS 1
#define T_SETTINGS 4
#define T_GOAWAY 7
#define F_END_HEADERS 0x4
#define F_PADDED 0x8
#define F_PRIORITY 0x20

static const char *const setting_names[] = {
	NULL,
	"header_table_size",
	"enable_push",
	"max_concurrent_streams",
	"initial_window_size",
	"max_frame_size",
	"max_header_list_size",
};

static int h2_start(struct id_conn *c, void *st)
{
	static const uint8_t preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
	static const uint8_t settings[FRAME_HDR] = { 0, 0, 0, T_SETTINGS, 0, 0, 0, 0, 0 };
	uint8_t frame[FRAME_HDR + 400];
	const char *host = id_host_name(c);
	size_t hl = strlen(host), p = FRAME_HDR;
	static const char ua[] = "ppscan-id/1";

	(void)st;
	if (hl > 120)
		hl = 120;
	frame[p++] = 0x82;			 /* :method GET (static index 2) */
	frame[p++] = 0x84;			 /* :path / (4) */
	frame[p++] = id_in_tls(c) ? 0x87 : 0x86; /* :scheme https (7) / http (6) */
	frame[p++] = 0x41;			 /* :authority, literal, incremental indexing */
	frame[p++] = (uint8_t)hl;
	memcpy(frame + p, host, hl);
	p += hl;
	frame[p++] = 0x0f; /* user-agent (58 = 15 + 43), literal without indexing */
	frame[p++] = 0x2b;
	frame[p++] = sizeof(ua) - 1;
	memcpy(frame + p, ua, sizeof(ua) - 1);
	p += sizeof(ua) - 1;
	frame[0] = 0;
	frame[1] = (uint8_t)((p - FRAME_HDR) >> 8);
	frame[2] = (uint8_t)(p - FRAME_HDR);
	frame[3] = T_HEADERS;
	frame[4] = 0x1 | F_END_HEADERS; /* END_STREAM | END_HEADERS */
	frame[5] = frame[6] = frame[7] = 0;
	frame[8] = 1;
	if (id_send(c, preface, sizeof(preface) - 1) || id_send(c, settings, sizeof(settings)) ||
	    id_send(c, frame, p))
		return ID_NO;
	return ID_MORE;
}

/* Decodes the header block @b into @o (:status, server). */
static void headers(struct id_conn *c, json_t *o, const uint8_t *b, size_t n)
{
	nghttp2_hd_inflater *inf;

	if (nghttp2_hd_inflate_new(&inf))
		return;
	while (n) {
		nghttp2_nv nv;
		int fl = 0;
		ssize_t rv = nghttp2_hd_inflate_hd2(inf, &nv, &fl, b, n, 1);

		if (rv < 0)
			break;
		b += rv;
		n -= (size_t)rv;
		if (fl & NGHTTP2_HD_INFLATE_EMIT) {
			if (nv.namelen == 7 && !memcmp(nv.name, ":status", 7) && nv.valuelen == 3)
				json_object_set_new(o, "status",
						    json_integer((nv.value[0] - '0') * 100 +
								 (nv.value[1] - '0') * 10 +
								 (nv.value[2] - '0')));
			else if (nv.namelen == 6 && !memcmp(nv.name, "server", 6)) {
				json_object_set_new(o, "server",
						    id_json_text(nv.value, nv.valuelen));
				id_fingerprint_as(c, "http", nv.value, nv.valuelen);
			} else if (nv.namelen == 8 && !memcmp(nv.name, "location", 8))
				json_object_set_new(o, "redirect",
						    id_json_text(nv.value, nv.valuelen));
			else if (nv.namelen == 12 && !memcmp(nv.name, "content-type", 12))
				json_object_set_new(o, "content_type",
						    id_json_text(nv.value, nv.valuelen));
		}
		if (fl & NGHTTP2_HD_INFLATE_FINAL) {
			nghttp2_hd_inflate_end_headers(inf);
			break;
		}
		if (!rv && !(fl & NGHTTP2_HD_INFLATE_EMIT))
			break;
	}
	nghttp2_hd_inflate_del(inf);
}

static int h2_readable(struct id_conn *c, void *st, const uint8_t *d, size_t n)
{
	size_t pos = 0;
	int first = 1, done = 0;
	json_t *o, *set;

	(void)st;
	if (n < FRAME_HDR)
		return id_ended(c) ? ID_NO : ID_MORE;
	/* the first frame: SETTINGS on stream 0 (length a multiple of 6, flags 0) or GOAWAY */
	if (!((d[3] == T_SETTINGS && (d[4] & ~1u) == 0 && (id_be32(d) >> 8) % 6 == 0) ||
	      (d[3] == T_GOAWAY && id_phase(c) == ID_PHASE_REACT && (id_be32(d) >> 8) >= 8)) ||
	    (id_be32(d + 5) & 0x7fffffffu) != 0 || (id_be32(d) >> 8) > 16384)
		return ID_NO;
	o = id_obj(c);
	if (!o)
		return ID_MATCH;
	id_set_protocol(c, "http2");
	set = json_object();
	while (pos + FRAME_HDR <= n) {
		size_t len = id_be32(d + pos) >> 8;
		uint8_t type = d[pos + 3], flags = d[pos + 4];
		uint32_t stream = id_be32(d + pos + 5) & 0x7fffffffu;
		const uint8_t *p = d + pos + FRAME_HDR;

		if (pos + FRAME_HDR + len > n)
			break;
		if (type == T_SETTINGS && !stream && !(flags & 1)) {
			for (size_t i = 0; i + 6 <= len; i += 6) {
				uint16_t id = id_be16(p + i);
				char name[24];

				if (id < sizeof(setting_names) / sizeof(setting_names[0]))
					snprintf(name, sizeof(name), "%s", setting_names[id]);
				else
					snprintf(name, sizeof(name), "0x%x", id);
				json_object_set_new(set, name, json_integer(id_be32(p + i + 2)));
			}
		} else if (type == T_GOAWAY && !stream && len >= 8) {
			json_object_set_new(o, "goaway_error", json_integer(id_be32(p + 4)));
			done = 1;
		} else if (type == T_HEADERS && stream == 1 && (flags & F_END_HEADERS)) {
			size_t skip = 0, pad = 0;

			if (flags & F_PADDED && len >= 1) {
				pad = p[0];
				skip = 1;
			}
			if (flags & F_PRIORITY)
				skip += 5;
			if (skip + pad <= len)
				headers(c, o, p + skip, len - skip - pad);
			done = 1;
		}
		first = 0;
		pos += FRAME_HDR + len;
	}
	(void)first;
	json_object_set_new(o, "settings", set);
	/* a reply to another module's request: HTTP/2 for sure, but our own request (next,
	 * on its own connection) can tell more: soft, so the search goes on */
	if (id_phase(c) == ID_PHASE_REACT)
		return ID_SOFT;
	if (!done && !id_ended(c) && n < ID_RX_MAX)
		return ID_MORE;
	return ID_MATCH;
}

static const uint16_t h2_ports[] = { 0 };

const struct id_module id_mod_http2 = {
	.name = "http2",
	.summary = "HTTP/2 (RFC 9113: prior-knowledge preface, or ALPN h2 inside TLS)",
	.flags = ID_F_PROBE | ID_F_REACT | ID_F_INNER,
	.weight = 100,
	.ports = h2_ports,
	.state_size = 0,
	.start = h2_start,
	.on_readable = h2_readable,
};
