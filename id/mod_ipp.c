/*
 * mod_ipp.c - IPP: Get-Printer-Attributes (RFC 8011, section 4.2.5) encoded as RFC 8010
 * section 3 describes, carried in an HTTP/1.1 POST (RFC 8010 section 4, RFC 9112). The reply
 * is an HTTP response whose body (Content-Length or chunked) holds the IPP response; the
 * module reads the version, status-code, request-id and a few printer attributes from it.
 */
#include <stdio.h>
#include <string.h>

#include "id_module.h"
#include "id_rd.h"
#include "id_util.h"
#include "mod_wire.h"

#define IPP_BODY_MAX 65536u /* an HTTP body longer than this is not waited for */
#define IPP_KEEP_MAX 8192u  /* the first bytes of the IPP message that are parsed */
#define IPP_HEAD_MAX 8192u  /* HTTP status line and headers */

/* An attribute in the request: tag, name (may be empty: another value), value. */
static uint8_t *ipp_attr(uint8_t *p, uint8_t tag, const char *name, const char *value)
{
	size_t nl = strlen(name), vl = strlen(value);

	*p++ = tag;
	id_wr_be16(p, (uint16_t)nl);
	memcpy(p + 2, name, nl);
	p += 2 + nl;
	id_wr_be16(p, (uint16_t)vl);
	memcpy(p + 2, value, vl);
	return p + 2 + vl;
}

size_t id_ipp_request(uint8_t *buf, size_t cap, const char *name, uint16_t port_h)
{
	uint8_t body[400], *p = body;
	char host[80], uri[96];
	int hl;

	if (strlen(name) > 63)
		return 0;
	snprintf(host, sizeof(host), "%s:%u", name, port_h);
	snprintf(uri, sizeof(uri), "ipp://%s/", host);
	memcpy(p, "\x02\x00\x00\x0b\x00\x00\x00\x01\x01", 9); /* 2.0, op 0x000B, id 1, op group */
	p += 9;
	p = ipp_attr(p, 0x47, "attributes-charset", "utf-8");
	p = ipp_attr(p, 0x48, "attributes-natural-language", "en");
	p = ipp_attr(p, 0x45, "printer-uri", uri);
	p = ipp_attr(p, 0x44, "requested-attributes", "printer-make-and-model");
	p = ipp_attr(p, 0x44, "", "printer-name");
	p = ipp_attr(p, 0x44, "", "printer-info");
	p = ipp_attr(p, 0x44, "", "ipp-versions-supported");
	*p++ = 0x03; /* end-of-attributes-tag */
	hl = snprintf((char *)buf, cap,
		      "POST / HTTP/1.1\r\nHost: %s\r\nContent-Type: application/ipp\r\n"
		      "Content-Length: %zu\r\nConnection: close\r\n\r\n",
		      host, (size_t)(p - body));
	if (hl < 0 || (size_t)hl + (size_t)(p - body) > cap)
		return 0;
	memcpy(buf + hl, body, (size_t)(p - body));
	return (size_t)hl + (size_t)(p - body);
}

/* One header line `name: value` (value trimmed); true when `name` matches. */
static bool http_header(const char *line, size_t n, const char *name, const char **v, size_t *vn)
{
	size_t k = strlen(name);

	if (n <= k || line[k] != ':' || strncasecmp(line, name, k))
		return false;
	line += k + 1;
	n -= k + 1;
	while (n && (*line == ' ' || *line == '\t'))
		line++, n--;
	while (n && (line[n - 1] == ' ' || line[n - 1] == '\t'))
		n--;
	*v = line;
	*vn = n;
	return true;
}

/*
 * Decodes a chunked body (RFC 9112 section 7.1) from p[0..n) into dst (at most cap bytes
 * kept). Returns 1 when the last chunk was seen, 0 when more is needed, -1 when malformed.
 */
static int http_dechunk(const uint8_t *p, size_t n, uint8_t *dst, size_t cap, size_t *got)
{
	size_t at = 0, total = 0;

	*got = 0;
	for (;;) {
		size_t size = 0, digits = 0;
		const uint8_t *eol;

		while (at < n && digits <= 8) {
			uint8_t c = p[at];
			int d = c >= '0' && c <= '9'   ? c - '0'
				: c >= 'a' && c <= 'f' ? c - 'a' + 10
				: c >= 'A' && c <= 'F' ? c - 'A' + 10
						       : -1;
			if (d < 0)
				break;
			size = size * 16 + (size_t)d;
			digits++, at++;
		}
		if (digits > 8 || (at < n && !digits))
			return -1;
		eol = memchr(p + at, '\n', n - at); /* chunk extensions end at the line's end */
		if (!eol)
			return n - at > 256 ? -1 : 0;
		at = (size_t)(eol - p) + 1;
		if (!size) { /* the trailer section: header lines up to an empty one */
			for (;;) {
				eol = memchr(p + at, '\n', n - at);
				if (!eol)
					return n - at > 1024 ? -1 : 0;
				if (eol == p + at + 1 && p[at] == '\r')
					return 1;
				at = (size_t)(eol - p) + 1;
			}
		}
		total += size;
		if (total > IPP_BODY_MAX)
			return -1;
		if (n - at < size + 2)
			return 0;
		if (*got < cap) {
			size_t k = size < cap - *got ? size : cap - *got;

			memcpy(dst + *got, p + at, k);
			*got += k;
		}
		at += size;
		if (p[at] != '\r' || p[at + 1] != '\n')
			return -1;
		at += 2;
	}
}

/* Copies a text value into a comma-separated list, or the first value into a scalar. */
static void ipp_keep(char *dst, size_t cap, bool list, const uint8_t *v, size_t n)
{
	size_t used = strlen(dst);

	if (used && !list)
		return;
	if (used && used + 1 < cap)
		dst[used++] = ',';
	if (used + 1 < cap)
		id_text_copy(dst + used, cap - used, v, n);
}

static enum id_wire ipp_message(const uint8_t *b, size_t n, bool cut, struct id_ipp_info *out)
{
	struct id_rd r = id_rd_init(b, n);
	char *dst = NULL;
	size_t cap = 0;
	bool list = false;

	out->major = id_rd_u8(&r);
	out->minor = id_rd_u8(&r);
	out->status = id_rd_be16(&r);
	if (r.bad || id_rd_be32(&r) != 1 || out->major < 1 || out->major > 2)
		return ID_WIRE_BAD;
	while (!r.bad) {
		uint8_t tag = id_rd_u8(&r);
		uint16_t nl, vl;
		const uint8_t *name, *v;

		if (r.bad)
			break;
		if (tag == 0x03)
			return ID_WIRE_MATCH;
		if (tag < 0x10)
			continue; /* a group delimiter */
		nl = id_rd_be16(&r);
		name = id_rd_bytes(&r, nl);
		vl = id_rd_be16(&r);
		v = id_rd_bytes(&r, vl);
		if (r.bad)
			break;
		if (nl) {
#define IS(s) (nl == sizeof(s) - 1 && !memcmp(name, s, nl))
			dst = NULL;
			list = false;
			if (IS("printer-make-and-model"))
				dst = out->make_model, cap = sizeof(out->make_model);
			else if (IS("printer-name"))
				dst = out->name, cap = sizeof(out->name);
			else if (IS("printer-info"))
				dst = out->info, cap = sizeof(out->info);
			else if (IS("ipp-versions-supported"))
				dst = out->versions, cap = sizeof(out->versions), list = true;
#undef IS
		}
		if (dst && tag >= 0x40 && tag <= 0x4A) /* character-string value tags */
			ipp_keep(dst, cap, list, v, vl);
	}
	/* ran out of bytes: fine where the module cut a long body, malformed otherwise */
	return cut ? ID_WIRE_MATCH : ID_WIRE_BAD;
}

enum id_wire id_ipp_parse(const uint8_t *buf, size_t len, struct id_ipp_info *out)
{
	const uint8_t *end, *line, *body;
	const char *v;
	size_t vn, clen = 0, bn;
	bool have_len = false, chunked = false, is_ipp = false;
	uint8_t keep[IPP_KEEP_MAX];
	size_t got;
	int st;

	memset(out, 0, sizeof(*out));
	if (memcmp(buf, "HTTP/1.", len < 7 ? len : 7))
		return ID_WIRE_NO;
	end = len >= 4 ? memmem(buf, len < IPP_HEAD_MAX ? len : IPP_HEAD_MAX, "\r\n\r\n", 4) : NULL;
	if (!end)
		return len >= IPP_HEAD_MAX ? ID_WIRE_BAD : ID_WIRE_MORE;
	if (end - buf < 12 || buf[8] != ' ' || buf[9] < '1' || buf[9] > '5' || buf[10] < '0' ||
	    buf[10] > '9' || buf[11] < '0' || buf[11] > '9')
		return ID_WIRE_NO;
	out->http_status =
		(uint16_t)((buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0'));
	line = (const uint8_t *)memchr(buf, '\n', (size_t)(end - buf) + 2) + 1;
	while (line < end + 2) {
		const uint8_t *eol = memchr(line, '\r', (size_t)(end + 2 - line));
		size_t n;

		if (!eol)
			break;
		n = (size_t)(eol - line);

		if (http_header((const char *)line, n, "Content-Type", &v, &vn))
			is_ipp = vn >= 15 && !strncasecmp(v, "application/ipp", 15);
		else if (http_header((const char *)line, n, "Server", &v, &vn))
			id_text_copy(out->server, sizeof(out->server), (const uint8_t *)v, vn);
		else if (http_header((const char *)line, n, "Transfer-Encoding", &v, &vn))
			chunked = vn >= 7 && !strncasecmp(v + vn - 7, "chunked", 7);
		else if (http_header((const char *)line, n, "Content-Length", &v, &vn)) {
			size_t k;

			for (k = 0, clen = 0; k < vn && k < 9 && v[k] >= '0' && v[k] <= '9'; k++)
				clen = clen * 10 + (size_t)(v[k] - '0');
			if (!vn || k != vn)
				return ID_WIRE_BAD;
			have_len = true;
		}
		line = eol + 2;
	}
	if (!is_ipp)
		return ID_WIRE_NO; /* HTTP, but not IPP: the HTTP module's business */
	body = end + 4;
	bn = len - (size_t)(body - buf);
	if (chunked) {
		st = http_dechunk(body, bn, keep, sizeof(keep), &got);
		if (st < 0)
			return ID_WIRE_BAD;
		if (st == 0)
			return ID_WIRE_MORE;
		return ipp_message(keep, got, got == sizeof(keep), out);
	}
	if (!have_len)
		return ID_WIRE_BAD; /* Connection: close without a length: not how IPP servers answer */
	if (clen > IPP_BODY_MAX)
		return ID_WIRE_BAD;
	if (bn < clen)
		return ID_WIRE_MORE;
	return ipp_message(body, clen < IPP_KEEP_MAX ? clen : IPP_KEEP_MAX, clen > IPP_KEEP_MAX,
			   out);
}

/* ---- the module ---- */

static int ipp_start(struct id_conn *c, void *st)
{
	uint8_t req[600];
	size_t n = id_ipp_request(req, sizeof(req), id_host_name(c), id_port(c));

	(void)st;
	return n && !id_send(c, req, n) ? ID_MORE : ID_NO;
}

static int ipp_readable(struct id_conn *c, void *st, const uint8_t *d, size_t n)
{
	struct id_ipp_info p;
	int w = id_ipp_parse(d, n, &p);
	json_t *o;
	char v[16];

	(void)st;
	/* a body cut by the receive buffer's end: what arrived is what there is */
	if (w == ID_WIRE_MORE && n >= ID_RX_MAX)
		w = ID_WIRE_BAD;
	if (w != ID_WIRE_MATCH || !(o = id_obj(c)))
		return id_wire_verdict(c, w);
	json_object_set_new(o, "http_status", json_integer(p.http_status));
	snprintf(v, sizeof(v), "%u.%u", p.major, p.minor);
	json_object_set_new(o, "ipp_version", json_string(v));
	snprintf(v, sizeof(v), "0x%04x", p.status);
	json_object_set_new(o, "status_code", json_string(v));
	id_json_set_text(o, "server", p.server);
	id_json_set_text(o, "printer_make_and_model", p.make_model);
	id_json_set_text(o, "printer_name", p.name);
	id_json_set_text(o, "printer_info", p.info);
	if (p.versions[0])
		json_object_set_new(o, "ipp_versions_supported", id_json_csv(p.versions));
	/* the product is the server's (CUPS/2.4 IPP/2.1: data/fingerprints/ipp.conf) */
	if (p.server[0])
		id_fingerprint(c, (const uint8_t *)p.server, strlen(p.server));
	return ID_MATCH;
}

static const uint16_t ipp_ports[] = { 631, 0 };

const struct id_module id_mod_ipp = {
	.name = "ipp",
	.summary =
		"IPP (RFC 8010/8011 Get-Printer-Attributes over HTTP: server, printer, versions)",
	.flags = ID_F_PROBE | ID_F_INNER,
	.weight = 110,
	.ports = ipp_ports,
	.start = ipp_start,
	.on_readable = ipp_readable,
};
