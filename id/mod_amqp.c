/*
 * mod_amqp.c - AMQP: the 0-9-1 protocol header, then Connection.Start (AMQP 0-9-1
 * specification, sections 4.2.2-4.2.5 and the class "connection"; field-table types as
 * RabbitMQ's errata to 0-9-1 lists them), or the protocol header a 1.0 broker answers with
 * (OASIS AMQP 1.0, part 2.2 "Version Negotiation").
 */
#include <stdio.h>
#include <string.h>

#include "id_module.h"
#include "id_rd.h"
#include "id_util.h"
#include "mod_wire.h"

const uint8_t id_amqp_request[8] = { 'A', 'M', 'Q', 'P', 0, 0, 9, 1 };

#define AMQP_FRAME_MAX 65536u
#define AMQP_DEPTH_MAX 8

/* Skips one field value of type `t`; false when the type is unknown or nests too deep. */
static bool amqp_skip_value(struct id_rd *r, uint8_t t, int depth)
{
	uint32_t n;

	switch (t) {
	case 't':
	case 'b':
	case 'B': id_rd_skip(r, 1); return true;
	case 's':
	case 'u': id_rd_skip(r, 2); return true;
	case 'I':
	case 'i':
	case 'f': id_rd_skip(r, 4); return true;
	case 'l':
	case 'L':
	case 'd':
	case 'T': id_rd_skip(r, 8); return true;
	case 'D': id_rd_skip(r, 5); return true;
	case 'V': return true;
	case 'S':
	case 'x': id_rd_skip(r, id_rd_be32(r)); return true;
	case 'F':
	case 'A': {
		struct id_rd in;
		const uint8_t *p;

		if (depth >= AMQP_DEPTH_MAX)
			return false;
		n = id_rd_be32(r);
		p = id_rd_bytes(r, n);
		if (!p)
			return true; /* r->bad tells */
		in = id_rd_init(p, n);
		while (in.left && !in.bad) {
			if (t == 'F')
				id_rd_skip(&in, id_rd_u8(&in)); /* the field's name */
			if (!amqp_skip_value(&in, id_rd_u8(&in), depth + 1))
				return false;
		}
		return !in.bad;
	}
	default: return false;
	}
}

/* Reads the server-properties table, keeping the text fields the record names. */
static bool amqp_properties(struct id_rd *r, struct id_amqp_info *out)
{
	static const struct {
		const char *name;
		size_t off, cap;
	} keep[] = {
		{ "product", offsetof(struct id_amqp_info, product), sizeof(out->product) },
		{ "version", offsetof(struct id_amqp_info, version), sizeof(out->version) },
		{ "platform", offsetof(struct id_amqp_info, platform), sizeof(out->platform) },
		{ "cluster_name", offsetof(struct id_amqp_info, cluster), sizeof(out->cluster) },
	};
	uint32_t n = id_rd_be32(r);
	const uint8_t *p = id_rd_bytes(r, n);
	struct id_rd t;

	if (!p)
		return false;
	t = id_rd_init(p, n);
	while (t.left && !t.bad) {
		uint8_t nlen = id_rd_u8(&t), type;
		const uint8_t *name = id_rd_bytes(&t, nlen);
		size_t k;

		type = id_rd_u8(&t);
		if (t.bad)
			return false;
		if (type == 'S') {
			uint32_t vlen = id_rd_be32(&t);
			const uint8_t *v = id_rd_bytes(&t, vlen);

			for (k = 0; v && k < sizeof(keep) / sizeof(keep[0]); k++)
				if (strlen(keep[k].name) == nlen &&
				    !memcmp(keep[k].name, name, nlen))
					id_text_copy((char *)out + keep[k].off, keep[k].cap, v,
						     vlen);
		} else if (!amqp_skip_value(&t, type, 1)) {
			return false;
		}
	}
	return !t.bad;
}

enum id_wire id_amqp_parse(const uint8_t *buf, size_t len, struct id_amqp_info *out)
{
	struct id_rd r = id_rd_init(buf, len), f;
	uint32_t size, n;
	const uint8_t *p;

	memset(out, 0, sizeof(*out));
	if (!len)
		return ID_WIRE_MORE;
	if (buf[0] == 'A') { /* a protocol header: the broker speaks another version */
		if (memcmp(buf, "AMQP", len < 4 ? len : 4))
			return ID_WIRE_NO;
		if (len < 8)
			return ID_WIRE_MORE;
		out->proto_id = buf[4];
		out->major = buf[5];
		out->minor = buf[6];
		out->revision = buf[7];
		/* 0-8 and 0-9 put 1 1 there; 1.0 puts its protocol id (0, 2, 3) and 1 0 0 */
		if (out->proto_id > 3 || out->major > 9)
			return ID_WIRE_BAD;
		return ID_WIRE_MATCH;
	}
	if (buf[0] != 1) /* a method frame */
		return ID_WIRE_NO;
	if (len < 7)
		return memcmp(buf + 1, "\0\0", len < 3 ? len - 1 : 2) ? ID_WIRE_NO : ID_WIRE_MORE;
	id_rd_skip(&r, 1);
	if (id_rd_be16(&r) != 0) /* channel 0 */
		return ID_WIRE_NO;
	size = id_rd_be32(&r);
	if (size < 4 || size > AMQP_FRAME_MAX)
		return ID_WIRE_BAD;
	if (len < 7 + (size_t)size + 1)
		return ID_WIRE_MORE;
	p = id_rd_bytes(&r, size);
	if (id_rd_u8(&r) != 0xCE)
		return ID_WIRE_BAD;
	f = id_rd_init(p, size);
	if (id_rd_be16(&f) != 10 || id_rd_be16(&f) != 10) /* connection.start */
		return ID_WIRE_NO;
	out->start = true;
	out->major = id_rd_u8(&f);
	out->minor = id_rd_u8(&f);
	if (!amqp_properties(&f, out))
		return ID_WIRE_BAD;
	n = id_rd_be32(&f);
	p = id_rd_bytes(&f, n);
	if (p)
		id_text_copy(out->mechanisms, sizeof(out->mechanisms), p, n);
	n = id_rd_be32(&f);
	p = id_rd_bytes(&f, n);
	if (p)
		id_text_copy(out->locales, sizeof(out->locales), p, n);
	return f.bad || f.left ? ID_WIRE_BAD : ID_WIRE_MATCH;
}

/* ---- the module ---- */

static int amqp_start(struct id_conn *c, void *st)
{
	(void)st;
	return id_send(c, id_amqp_request, sizeof(id_amqp_request)) ? ID_NO : ID_MORE;
}

static int amqp_readable(struct id_conn *c, void *st, const uint8_t *d, size_t n)
{
	struct id_amqp_info a;
	int w = id_amqp_parse(d, n, &a);
	json_t *o;
	char v[16];

	(void)st;
	/* another module's request gets only the header back: no Start without ours */
	if (w == ID_WIRE_MATCH && a.start && id_phase(c) != ID_PHASE_PROBE)
		return ID_NO;
	/* our own header coming back is an echo, not a broker (a 0-9-1 broker sends Start) */
	if (w == ID_WIRE_MATCH && !a.start && id_phase(c) == ID_PHASE_PROBE &&
	    !memcmp(d, id_amqp_request, sizeof(id_amqp_request)))
		return ID_NO;
	if (w != ID_WIRE_MATCH || !(o = id_obj(c)))
		return id_wire_verdict(c, w);
	if (a.start) {
		snprintf(v, sizeof(v), "%u-%u", a.major, a.minor); /* "0-9" for 0-9-1 */
		json_object_set_new(o, "protocol_version", json_string(v));
		id_json_set_text(o, "product", a.product);
		id_json_set_text(o, "version", a.version);
		id_json_set_text(o, "platform", a.platform);
		id_json_set_text(o, "cluster_name", a.cluster);
		json_object_set_new(o, "mechanisms",
				    id_json_list((const uint8_t *)a.mechanisms,
						 strlen(a.mechanisms), ' '));
		id_json_set_text(o, "locales", a.locales);
		id_set_product(c, a.product[0] ? a.product : NULL, a.version[0] ? a.version : NULL);
	} else {
		/* the broker's own protocol header: AMQP 1.0 (id 0 plain, 2 TLS, 3 SASL) or 0-x */
		snprintf(v, sizeof(v), "%u.%u.%u", a.major, a.minor, a.revision);
		json_object_set_new(o, "protocol_version", json_string(v));
		json_object_set_new(o, "protocol_id", json_integer(a.proto_id));
	}
	/* the header alone, in answer to another module's request (a 0-9-1 broker answers any
	   bytes it cannot read so): AMQP for sure, but the broker is still unnamed; soft lets the
	   search go on to AMQP's own handshake, which gets Connection.Start */
	return !a.start && id_phase(c) == ID_PHASE_REACT ? ID_SOFT : ID_MATCH;
}

static const uint16_t amqp_ports[] = { 5672, 5671, 0 };

const struct id_module id_mod_amqp = {
	.name = "amqp",
	.summary =
		"AMQP 0-9-1 (Connection.Start: broker product, version, platform) and 1.0 headers",
	.flags = ID_F_PROBE | ID_F_REACT | ID_F_INNER,
	.weight = 200,
	.ports = amqp_ports,
	.on_readable = amqp_readable,
	.start = amqp_start,
};
