/*
 * mod_modbus.c - Modbus/TCP: Read Device Identification (MODBUS Application Protocol
 * Specification V1.1b3, section 6.21, function code 43 / MEI type 14) framed by the MBAP
 * header (MODBUS Messaging on TCP/IP Implementation Guide V1.0b, section 3.1.3). A device
 * that does not implement the function still answers with exception 0xAB, which names the
 * protocol as surely.
 */
#include <stdio.h>
#include <string.h>

#include "id_module.h"
#include "id_rd.h"
#include "id_util.h"
#include "mod_wire.h"

/* tid | protocol 0 | length 5 | unit 0xFF | 0x2B 0x0E read-code 01 object 00 */
const uint8_t id_modbus_request[11] = {
	0x70, 0x73, 0x00, 0x00, 0x00, 0x05, 0xFF, 0x2B, 0x0E, 0x01, 0x00,
};

/* MBAP length counts unit id + PDU; a PDU is at most 253 bytes (section 4.1 of the spec) */
#define MODBUS_LEN_MAX 254

enum id_wire id_modbus_parse(const uint8_t *buf, size_t len, struct id_modbus_info *out)
{
	static const uint8_t head[4] = { 0x70, 0x73, 0x00, 0x00 };
	struct id_rd r;
	uint16_t mlen;
	uint8_t fc, i;

	memset(out, 0, sizeof(*out));
	if (memcmp(buf, head, len < 4 ? len : 4))
		return ID_WIRE_NO;
	if (len < 8)
		return ID_WIRE_MORE;
	r = id_rd_init(buf + 4, len - 4);
	mlen = id_rd_be16(&r);
	if (mlen < 3 || mlen > MODBUS_LEN_MAX)
		return ID_WIRE_BAD;
	if (len < 6 + (size_t)mlen)
		return ID_WIRE_MORE;
	r.left = mlen;
	out->unit = id_rd_u8(&r);
	fc = id_rd_u8(&r);
	if (fc == 0xAB) {
		out->exception = true;
		out->exc_code = id_rd_u8(&r);
		return r.left || !out->exc_code ? ID_WIRE_BAD : ID_WIRE_MATCH;
	}
	if (fc != 0x2B)
		return ID_WIRE_NO;
	if (id_rd_u8(&r) != 0x0E)
		return ID_WIRE_BAD;
	id_rd_skip(&r, 1); /* read device id code */
	out->conformity = id_rd_u8(&r);
	id_rd_skip(&r, 2); /* more follows, next object id */
	out->n_objects = id_rd_u8(&r);
	for (i = 0; i < out->n_objects && !r.bad; i++) {
		uint8_t id = id_rd_u8(&r), vlen = id_rd_u8(&r);
		const uint8_t *v = id_rd_bytes(&r, vlen);
		char *dst;
		size_t cap;

		if (!v)
			break;
		switch (id) {
		case 0: dst = out->vendor, cap = sizeof(out->vendor); break;
		case 1: dst = out->product_code, cap = sizeof(out->product_code); break;
		case 2: dst = out->revision, cap = sizeof(out->revision); break;
		case 3: dst = out->vendor_url, cap = sizeof(out->vendor_url); break;
		case 4: dst = out->product_name, cap = sizeof(out->product_name); break;
		case 5: dst = out->model_name, cap = sizeof(out->model_name); break;
		default: continue;
		}
		id_text_copy(dst, cap, v, vlen);
	}
	return r.bad || r.left ? ID_WIRE_BAD : ID_WIRE_MATCH;
}

/* ---- the module ---- */

static int modbus_start(struct id_conn *c, void *st)
{
	(void)st;
	return id_send(c, id_modbus_request, sizeof(id_modbus_request)) ? ID_NO : ID_MORE;
}

static int modbus_readable(struct id_conn *c, void *st, const uint8_t *d, size_t n)
{
	struct id_modbus_info m;
	int w = id_modbus_parse(d, n, &m);
	json_t *o;

	(void)st;
	if (w != ID_WIRE_MATCH || !(o = id_obj(c)))
		return id_wire_verdict(c, w);
	json_object_set_new(o, "unit_id", json_integer(m.unit));
	if (m.exception) {
		json_object_set_new(o, "exception_code", json_integer(m.exc_code));
		return ID_MATCH;
	}
	json_object_set_new(o, "conformity_level", json_integer(m.conformity));
	id_json_set_text(o, "vendor_name", m.vendor);
	id_json_set_text(o, "product_code", m.product_code);
	id_json_set_text(o, "revision", m.revision);
	id_json_set_text(o, "vendor_url", m.vendor_url);
	id_json_set_text(o, "product_name", m.product_name);
	id_json_set_text(o, "model_name", m.model_name);
	id_set_product(c, m.vendor[0] ? m.vendor : NULL, m.revision[0] ? m.revision : NULL);
	return ID_MATCH;
}

static const uint16_t modbus_ports[] = { 502, 5020, 0 };

const struct id_module id_mod_modbus = {
	.name = "modbus",
	.summary = "Modbus/TCP (Read Device Identification: vendor, product code, revision)",
	.flags = ID_F_PROBE,
	.weight = 100,
	.ports = modbus_ports,
	.start = modbus_start,
	.on_readable = modbus_readable,
};
