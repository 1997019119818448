/*
 * MongoDB (the MongoDB Wire Protocol; BSON, bsonspec.org): client-first. The module sends
 * two commands at once: "isMaster" as an OP_QUERY on admin.$cmd (opcode 2004: every server
 * version answers this handshake, old ones with OP_REPLY, opcode 1), then "buildInfo" as an
 * OP_MSG (opcode 2013, MongoDB 3.6 and later; section kind 0, the command with "$db"). The
 * isMaster answer proves MongoDB (ismaster / maxWireVersion); buildInfo names the version.
 *
 *   MsgHeader: int32 messageLength, int32 requestID, int32 responseTo, int32 opCode (LE)
 *   OP_REPLY:  int32 responseFlags, int64 cursorID, int32 startingFrom, int32 numberReturned,
 *              documents
 *   OP_MSG:    uint32 flagBits, sections (kind 0: one BSON document)
 *   BSON doc:  int32 total length, elements (type byte, cstring name, value), 0x00
 *
 * Example: MongoDB 7.0 answers isMaster with {ismaster: true, maxWireVersion: 21, ...} and
 * buildInfo with {version: "7.0.14", gitVersion: ..., ok: 1.0}.
 */
#include "id_b.h"
#include "id_module.h"

#include <stdio.h>
#include <string.h>

#define MONGO_REPLY_MAX 16384 /* an isMaster/buildInfo reply is 0.3-2 KiB */
#define MONGO_ID_HELLO 0x70700001
#define MONGO_ID_BUILDINFO 0x70700002

static void put32le(uint8_t *b, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		b[i] = (uint8_t)(v >> (8 * i));
}

size_t idb_mongo_request(uint8_t *buf, size_t cap)
{
	/* {isMaster: 1} and {buildInfo: 1, $db: "admin"} as BSON (int32 0x10 elements) */
	static const uint8_t hello[] = { 0x13, 0,   0,	 0, 0x10, 'i', 's', 'M', 'a', 's',
					 't',  'e', 'r', 0, 1,	  0,   0,   0,	 0x00 };
	static const uint8_t build[] = { 0x23, 0,   0, 0, 0x10, 'b', 'u', 'i',	'l', 'd', 'I', 'n',
					 'f',  'o', 0, 1, 0,	0,   0,	  0x02, '$', 'd', 'b', 0,
					 6,    0,   0, 0, 'a',	'd', 'm', 'i',	'n', 0,	  0x00 };
	size_t q = 16 + 4 + 11 + 4 + 4 + sizeof(hello), m = 16 + 4 + 1 + sizeof(build), o;

	if (cap < q + m)
		return 0;
	put32le(buf, (uint32_t)q);
	put32le(buf + 4, MONGO_ID_HELLO);
	put32le(buf + 8, 0);
	put32le(buf + 12, 2004); /* OP_QUERY */
	put32le(buf + 16, 0);	 /* flags */
	memcpy(buf + 20, "admin.$cmd", 11);
	put32le(buf + 31, 0);		/* numberToSkip */
	put32le(buf + 35, 0xffffffffu); /* numberToReturn -1: one document, close cursor */
	memcpy(buf + 39, hello, sizeof(hello));
	o = q;
	put32le(buf + o, (uint32_t)m);
	put32le(buf + o + 4, MONGO_ID_BUILDINFO);
	put32le(buf + o + 8, 0);
	put32le(buf + o + 12, 2013); /* OP_MSG */
	put32le(buf + o + 16, 0);    /* flagBits */
	buf[o + 20] = 0;	     /* section kind 0: body */
	memcpy(buf + o + 21, build, sizeof(build));
	return q + m;
}

/* Size of a BSON value of @type at @c (bsonspec.org 1.1), -1 unknown/malformed. */
static long bson_value_len(uint8_t type, const struct idb_cur *c)
{
	const uint8_t *p = c->p + c->off;
	size_t left = c->n - c->off;
	long l;

	switch (type) {
	case 0x01:
	case 0x09:
	case 0x11:
	case 0x12: return 8;
	case 0x07: return 12;
	case 0x08: return 1;
	case 0x0a:
	case 0x7f:
	case 0xff: return 0;
	case 0x10: return 4;
	case 0x13: return 16;
	case 0x02:
	case 0x0d:
	case 0x0e: /* string: int32 length (NUL included), bytes */
		if (left < 4)
			return -1;
		l = (long)(p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24);
		return l >= 1 && (size_t)l <= left - 4 ? l + 4 : -1;
	case 0x03:
	case 0x04: /* document, array: int32 total length */
		if (left < 4)
			return -1;
		l = (long)(p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24);
		return l >= 5 && (size_t)l <= left ? l : -1;
	case 0x05: /* binary: int32 length, subtype, bytes */
		if (left < 5)
			return -1;
		l = (long)(p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24);
		return l >= 0 && (size_t)l <= left - 5 ? l + 5 : -1;
	default: return -1;
	}
}

/* Walks the top-level elements of one BSON document; -1 if malformed. */
static int bson_scan(const uint8_t *d, size_t n, struct idb_ident *out, int *hello)
{
	struct idb_cur c = { d, n, 4, 0 };
	uint32_t total;

	if (n < 5)
		return -1;
	total = (uint32_t)d[0] | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 16 | (uint32_t)d[3] << 24;
	if (total != n || d[n - 1] != 0)
		return -1;
	c.n = n - 1;
	while (c.off < c.n) {
		uint8_t type = idb_u8(&c);
		const uint8_t *name = c.p + c.off, *e = memchr(name, 0, c.n - c.off);
		size_t nl;
		long vl;
		const uint8_t *v;

		if (!e)
			return -1;
		nl = (size_t)(e - name);
		c.off += nl + 1;
		vl = bson_value_len(type, &c);
		if (vl < 0 || !(v = idb_take(&c, (size_t)vl)))
			return -1;
#define IS(s) (nl == sizeof(s) - 1 && !memcmp(name, s, nl))
		if (type == 0x08 && (IS("ismaster") || IS("isWritablePrimary"))) {
			json_object_set_new(out->fields, "is_primary", json_boolean(v[0]));
			*hello = 1;
		} else if (type == 0x10 && (IS("maxWireVersion") || IS("minWireVersion"))) {
			int32_t w = (int32_t)(v[0] | v[1] << 8 | v[2] << 16 | (uint32_t)v[3] << 24);

			json_object_set_new(out->fields,
					    IS("maxWireVersion") ? "max_wire_version"
								 : "min_wire_version",
					    json_integer(w));
			*hello = 1;
		} else if (type == 0x02 && (IS("version") || IS("gitVersion") || IS("msg") ||
					    IS("setName") || IS("errmsg"))) {
			char key[16];

			idb_copy(key, sizeof(key), name, nl);
			idb_set_text(out->fields,
				     IS("gitVersion") ? "git_version"
				     : IS("setName")  ? "replica_set"
						      : key,
				     v + 4, (size_t)vl - 5);
			if (IS("version"))
				idb_copy(out->version, sizeof(out->version), v + 4, (size_t)vl - 5);
		}
#undef IS
	}
	return 0;
}

static int mongo_parse(const uint8_t *p, size_t n, struct idb_ident *out, int need_both)
{
	size_t o = 0;
	int hello = 0, replies = 0;

	while (n - o >= 16) {
		uint32_t len = (uint32_t)p[o] | (uint32_t)p[o + 1] << 8 | (uint32_t)p[o + 2] << 16 |
			       (uint32_t)p[o + 3] << 24;
		uint32_t to = (uint32_t)p[o + 8] | (uint32_t)p[o + 9] << 8 |
			      (uint32_t)p[o + 10] << 16 | (uint32_t)p[o + 11] << 24;
		uint32_t op = (uint32_t)p[o + 12] | (uint32_t)p[o + 13] << 8 |
			      (uint32_t)p[o + 14] << 16 | (uint32_t)p[o + 15] << 24;
		const uint8_t *doc;
		size_t dl;

		if ((to != MONGO_ID_HELLO && to != MONGO_ID_BUILDINFO) || (op != 1 && op != 2013))
			return o ? IDB_BAD : IDB_NO;
		if (len < 16 + 5 || len > MONGO_REPLY_MAX)
			return IDB_BAD;
		if (n - o < len)
			break;
		if (op == 1) { /* OP_REPLY: 20 bytes of cursor fields, then the document */
			if (len < 16 + 20 + 5)
				return IDB_BAD;
			doc = p + o + 16 + 20;
			dl = len - 16 - 20;
		} else { /* OP_MSG: flagBits, kind 0, document (checksum ignored) */
			doc = p + o + 16 + 5;
			dl = len - 16 - 5;
			if (len < 16 + 5 + 5 || p[o + 20] != 0)
				return IDB_BAD;
			if (p[o + 16] & 1) /* checksumPresent: the CRC-32C after the body */
				dl = dl >= 4 ? dl - 4 : 0;
		}
		if (dl < 5)
			return IDB_BAD;
		dl = (size_t)doc[0] | (size_t)doc[1] << 8 | (size_t)doc[2] << 16 |
		     (size_t)doc[3] << 24;
		if (dl > (size_t)(p + o + len - doc) || bson_scan(doc, dl, out, &hello) < 0)
			return IDB_BAD;
		replies++;
		o += len;
	}
	if (replies < (need_both ? 2 : 1))
		return IDB_MORE;
	if (!hello && !json_object_get(out->fields, "errmsg"))
		return IDB_NO; /* valid BSON with our ids, but nothing MongoDB would say */
	snprintf(out->product, sizeof(out->product), "MongoDB");
	return IDB_MATCH;
}

int idb_mongo_parse(const uint8_t *p, size_t n, struct idb_ident *out)
{
	return mongo_parse(p, n, out, 1);
}

int idb_mongo_parse_partial(const uint8_t *p, size_t n, struct idb_ident *out)
{
	return mongo_parse(p, n, out, 0);
}

/* ---- module ---------------------------------------------------------------------- */

static int mongo_start(struct id_conn *c, void *st)
{
	(void)st;
	return idb_send_built(c, idb_mongo_request);
}

static int mongo_readable(struct id_conn *c, void *st, const uint8_t *d, size_t n)
{
	(void)st;
	if (id_phase(c) != ID_PHASE_PROBE)
		return ID_NO;
	/* an old server may answer isMaster and close on the OP_MSG: one reply is enough then */
	return idb_judge(c, id_ended(c) ? idb_mongo_parse_partial : idb_mongo_parse, d, n);
}

static const uint16_t mongo_ports[] = { 27017, 27018, 27019, 0 };

const struct id_module id_mod_mongodb = {
	.name = "mongodb",
	.summary = "MongoDB (wire protocol: isMaster and buildInfo)",
	.flags = ID_F_PROBE | ID_F_INNER,
	.weight = 120,
	.ports = mongo_ports,
	.start = mongo_start,
	.on_readable = mongo_readable,
};
