/*
 * mod_http.c - HTTP/1.x (RFC 9112 message syntax, RFC 9110 semantics). Client-first: the
 * request "GET / HTTP/1.1" with Host, User-Agent, Accept and "Connection: close". A reply is
 * HTTP when it starts with a status line "HTTP/1.x DDD reason" (RFC 9112 4). The module waits
 * for the end of the header section and a bounded piece of the body (for <title>), then
 * records the status, the Server, Location and Content-Type headers and the title; the Server
 * header is matched against data/fingerprints/http.conf. It also recognises an HTTP reply to
 * another module's request (a TLS ClientHello sent to a plain HTTP server draws "400").
 */
#include <stdio.h>
#include <string.h>

#include "id_module.h"
#include "id_util.h"

#define BODY_WANT 4096 /* body bytes waited for (the title is near the start) */

/* Finds the end of the header section: offset after CRLF CRLF (or LF LF), 0 if not there. */
static size_t header_end(const uint8_t *d, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++) {
		if (d[i] == '\n' && d[i + 1] == '\n')
			return i + 2;
		if (i + 3 < n && d[i] == '\r' && d[i + 1] == '\n' && d[i + 2] == '\r' &&
		    d[i + 3] == '\n')
			return i + 4;
	}
	return 0;
}

/* The value of header @name (caseless) within d[0..n), trimmed. Returns its length or -1. */
static long header(const uint8_t *d, size_t n, const char *name, const uint8_t **val)
{
	size_t nl = strlen(name);
	size_t pos = id_line_len(d, n); /* skip the status line */

	while (pos < n) {
		size_t l = id_line_len(d + pos, n - pos), t;
		const uint8_t *s = d + pos;

		if (!l)
			l = n - pos;
		t = id_text_len(s, l);
		if (t > nl && s[nl] == ':' && id_prefix(s, t, name, 1) == ID_MATCH) {
			size_t a = nl + 1;

			while (a < t && (s[a] == ' ' || s[a] == '\t'))
				a++;
			while (t > a && (s[t - 1] == ' ' || s[t - 1] == '\t'))
				t--;
			*val = s + a;
			return (long)(t - a);
		}
		pos += l;
	}
	return -1;
}

/* The <title> of an HTML body, whitespace collapsed, as JSON; NULL if none. */
static json_t *title(const uint8_t *b, size_t n)
{
	char buf[256];
	size_t o = 0;

	for (size_t i = 0; i + 7 <= n; i++) {
		size_t j;

		if (id_prefix(b + i, n - i, "<title", 1) != ID_MATCH)
			continue;
		for (j = i + 6; j < n && b[j] != '>'; j++)
			;
		for (j++; j < n && o < sizeof(buf) - 1; j++) {
			if (b[j] == '<')
				break;
			if (b[j] == ' ' || b[j] == '\t' || b[j] == '\r' || b[j] == '\n') {
				if (o && buf[o - 1] != ' ')
					buf[o++] = ' ';
				continue;
			}
			buf[o++] = (char)b[j];
		}
		while (o && buf[o - 1] == ' ')
			o--;
		return id_json_text((const uint8_t *)buf, o);
	}
	return NULL;
}

static int http_start(struct id_conn *c, void *st)
{
	char req[512];

	(void)st;
	snprintf(req, sizeof(req),
		 "GET / HTTP/1.1\r\nHost: %s\r\nUser-Agent: ppscan-id/1\r\nAccept: */*\r\n"
		 "Connection: close\r\n\r\n",
		 id_host_name(c));
	return id_send_str(c, req) ? ID_NO : ID_MORE;
}

static int http_readable(struct id_conn *c, void *st, const uint8_t *d, size_t n)
{
	size_t sl = id_line_len(d, n), he, body;
	const uint8_t *v;
	long vl, clen = -1;
	json_t *o;
	int r = id_prefix(d, n, "HTTP/1.", 0);

	(void)st;
	if (r != ID_MATCH)
		return r == ID_MORE && !id_ended(c) ? ID_MORE : ID_NO;
	if (!sl)
		return n < 1024 && !id_ended(c) ? ID_MORE : ID_NO;
	/* "HTTP/1.x SP DDD" (RFC 9112 4) */
	if (sl < 13 || d[8] != ' ' || d[9] < '1' || d[9] > '5' || d[10] < '0' || d[10] > '9' ||
	    d[11] < '0' || d[11] > '9' || (d[12] != ' ' && d[12] != '\r' && d[12] != '\n'))
		return ID_NO;
	he = header_end(d, n);
	if (!he && !id_ended(c))
		return ID_MORE;
	if (!he)
		he = n;
	body = n - he;
	vl = header(d, he, "content-length", &v);
	if (vl > 0 && vl < 20) {
		clen = 0;
		for (long i = 0; i < vl && v[i] >= '0' && v[i] <= '9'; i++)
			clen = clen * 10 + (v[i] - '0');
	}
	/* wait for the body's start, except where there is none (1xx, 204, 304, length 0) */
	if (!id_ended(c) && d[9] != '1' && clen != 0 && body < BODY_WANT &&
	    (clen < 0 || body < (size_t)clen) &&
	    !(d[10] == '0' && d[11] == '4' && (d[9] == '2' || d[9] == '3')))
		return ID_MORE;
	o = id_obj(c);
	if (!o)
		return ID_MATCH;
	json_object_set_new(o, "version", id_json_text(d + 5, 3));
	json_object_set_new(o, "status",
			    json_integer((d[9] - '0') * 100 + (d[10] - '0') * 10 + (d[11] - '0')));
	if (sl > 13)
		json_object_set_new(o, "reason",
				    id_json_text(d + 13, id_text_len(d + 13, sl - 13)));
	if ((vl = header(d, he, "server", &v)) >= 0) {
		json_object_set_new(o, "server", id_json_text(v, (size_t)vl));
		id_fingerprint(c, v, (size_t)vl);
	}
	if ((vl = header(d, he, "location", &v)) >= 0)
		json_object_set_new(o, "redirect", id_json_text(v, (size_t)vl));
	if ((vl = header(d, he, "content-type", &v)) >= 0)
		json_object_set_new(o, "content_type", id_json_text(v, (size_t)vl));
	if ((vl = header(d, he, "x-powered-by", &v)) >= 0)
		json_object_set_new(o, "powered_by", id_json_text(v, (size_t)vl));
	if ((vl = header(d, he, "www-authenticate", &v)) >= 0)
		json_object_set_new(o, "auth", id_json_text(v, (size_t)vl));
	if (body) {
		json_t *t = title(d + he, body);

		if (t)
			json_object_set_new(o, "title", t);
	}
	/* "400 Bad Request" to a plain GET: an HTTP server, or the plaintext face of a TLS port
	 * (nginx: "The plain HTTP request was sent to HTTPS port"): soft, the search goes on */
	if (d[9] == '4' && d[10] == '0' && d[11] == '0')
		return ID_SOFT;
	return ID_MATCH;
}

static const uint16_t http_ports[] = { 80, 8080, 8000, 8008, 8081, 8888, 3000, 5000, 9000, 0 };

const struct id_module id_mod_http = {
	.name = "http",
	.summary = "HTTP/1.x (RFC 9112: GET /, status, Server, title, redirect)",
	.flags = ID_F_PROBE | ID_F_REACT | ID_F_INNER,
	.weight = 1000,
	.ports = http_ports,
	.state_size = 0,
	.start = http_start,
	.on_readable = http_readable,
};
