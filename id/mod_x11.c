/*
 * mod_x11.c - X11: connection setup (X Window System Protocol, X Consortium Standard,
 * X Version 11 Release 7.7, section 8 "Connection Setup" and the encoding appendix B,
 * "Connection Setup"). The client names the byte order; the module asks for little-endian,
 * so every field of the reply is little-endian.
 */
#include <stdio.h>
#include <string.h>

#include "id_module.h"
#include "id_rd.h"
#include "id_util.h"
#include "mod_wire.h"

/* 'l' | unused | major 11 | minor 0 | auth name length 0 | auth data length 0 | unused */
const uint8_t id_x11_request[12] = { 0x6C, 0, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0 };

#define X11_EXTRA_MAX (65536u / 4) /* additional data, 4-byte units */
#define LE true

static enum id_wire x11_success(struct id_rd *r, struct id_x11_info *out)
{
	uint16_t vlen;
	uint8_t nfmt;
	const uint8_t *v;

	out->release = id_rd_32(r, LE);
	id_rd_skip(r, 12); /* resource-id base and mask, motion buffer size */
	vlen = id_rd_16(r, LE);
	id_rd_skip(r, 2); /* maximum request length */
	out->screens = id_rd_u8(r);
	nfmt = id_rd_u8(r);
	id_rd_skip(r, 10); /* byte orders, scanline unit and pad, keycodes, unused */
	v = id_rd_bytes(r, vlen);
	id_rd_skip(r, (4 - vlen % 4) % 4);
	id_rd_skip(r, 8u * nfmt);
	if (r->bad)
		return ID_WIRE_BAD;
	id_text_copy(out->vendor, sizeof(out->vendor), v, vlen);
	if (out->screens) {
		id_rd_skip(r, 20); /* root, colormap, white and black pixel, input masks */
		out->width = id_rd_16(r, LE);
		out->height = id_rd_16(r, LE);
		if (r->bad)
			return ID_WIRE_BAD;
	}
	return ID_WIRE_MATCH;
}

enum id_wire id_x11_parse(const uint8_t *buf, size_t len, struct id_x11_info *out)
{
	struct id_rd r = id_rd_init(buf, len);
	uint8_t rlen;
	uint16_t extra;
	const uint8_t *reason;

	memset(out, 0, sizeof(*out));
	if (!len)
		return ID_WIRE_MORE;
	if (buf[0] > 2)
		return ID_WIRE_NO;
	if (len >= 3 && buf[2] != 11)
		return ID_WIRE_NO;
	if (len >= 4 && buf[3] != 0)
		return ID_WIRE_NO;
	if (len < 8)
		return ID_WIRE_MORE;
	out->status = id_rd_u8(&r);
	rlen = id_rd_u8(&r);
	out->major = id_rd_16(&r, LE);
	out->minor = id_rd_16(&r, LE);
	extra = id_rd_16(&r, LE);
	if (extra > X11_EXTRA_MAX)
		return ID_WIRE_BAD;
	if (len < 8 + 4 * (size_t)extra)
		return ID_WIRE_MORE;
	r.left = 4 * (size_t)extra;
	if (out->status == 1)
		return x11_success(&r, out);
	/* Failed: the reason's length is byte 1; Authenticate: the whole additional data */
	if (out->status == 2)
		rlen = (uint8_t)(r.left < 255 ? r.left : 255);
	reason = id_rd_bytes(&r, rlen);
	if (!reason)
		return ID_WIRE_BAD;
	while (rlen && (reason[rlen - 1] == 0 || reason[rlen - 1] == '\n'))
		rlen--; /* padding; X.Org ends its reasons with a newline */
	id_text_copy(out->reason, sizeof(out->reason), reason, rlen);
	return ID_WIRE_MATCH;
}

void id_x11_release_text(uint32_t release, char *buf, size_t cap)
{
	unsigned a = release / 10000000, b = release / 100000 % 100, c = release / 1000 % 100,
		 d = release % 1000;

	if (a == 1 && b >= 21) /* X.Org 21.1.7 is 1.21.1.7 in the encoding */
		snprintf(buf, cap, "%u.%u.%u", b, c, d);
	else if (a && d)
		snprintf(buf, cap, "%u.%u.%u.%u", a, b, c, d);
	else if (a)
		snprintf(buf, cap, "%u.%u.%u", a, b, c);
	else
		snprintf(buf, cap, "%u", release);
}

/* ---- the module ---- */

static int x11_start(struct id_conn *c, void *st)
{
	(void)st;
	return id_send(c, id_x11_request, sizeof(id_x11_request)) ? ID_NO : ID_MORE;
}

static int x11_readable(struct id_conn *c, void *st, const uint8_t *d, size_t n)
{
	static const char *const status[] = { "failed", "success", "authenticate" };
	struct id_x11_info x;
	int w = id_x11_parse(d, n, &x);
	json_t *o;
	char v[32];

	(void)st;
	if (w != ID_WIRE_MATCH || !(o = id_obj(c)))
		return id_wire_verdict(c, w);
	json_object_set_new(o, "status", json_string(status[x.status]));
	snprintf(v, sizeof(v), "%u.%u", x.major, x.minor);
	json_object_set_new(o, "protocol_version", json_string(v));
	if (x.status != 1) {
		json_object_set_new(o, "reason", json_string(x.reason));
		return ID_MATCH;
	}
	json_object_set_new(o, "vendor", json_string(x.vendor));
	json_object_set_new(o, "release", json_integer(x.release));
	json_object_set_new(o, "screens", json_integer(x.screens));
	if (x.screens) {
		json_object_set_new(o, "width", json_integer(x.width));
		json_object_set_new(o, "height", json_integer(x.height));
	}
	/* the vendor string names the product (data/fingerprints/x11.conf); X.Org's release
	   number encodes its version */
	if (id_fingerprint(c, (const uint8_t *)x.vendor, strlen(x.vendor)) &&
	    strstr(x.vendor, "X.Org")) {
		id_x11_release_text(x.release, v, sizeof(v));
		id_set_product(c, NULL, v);
	}
	return ID_MATCH;
}

static const uint16_t x11_ports[] = { 6000, 6001, 6002, 6010, 0 };

const struct id_module id_mod_x11 = {
	.name = "x11",
	.summary = "X11 connection setup (vendor, release, screens; or the refusal's reason)",
	.flags = ID_F_PROBE,
	.weight = 120,
	.ports = x11_ports,
	.start = x11_start,
	.on_readable = x11_readable,
};
