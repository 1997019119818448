/*
 * mod_cql.c - Cassandra's CQL native protocol: OPTIONS, answered by SUPPORTED (CQL binary
 * protocol v4 specification, native_protocol_v4.spec in the Apache Cassandra sources,
 * sections 2 "Frame header", 3 "Notations", 4.1.3 OPTIONS, 4.2.4 SUPPORTED, 9 "Error codes").
 * OPTIONS needs no startup and no authentication.
 */
#include <stdio.h>
#include <string.h>

#include "id_module.h"
#include "id_rd.h"
#include "id_util.h"
#include "mod_wire.h"

const uint8_t id_cql_request[9] = { 0x04, 0x00, 0x00, 0x01, 0x05, 0, 0, 0, 0 };

#define CQL_BODY_MAX 65536u
#define CQL_OP_ERROR 0x00
#define CQL_OP_SUPPORTED 0x06

/* Appends one [string] value to a comma-separated list (cut at the array's end). */
static void cql_append(char *dst, size_t cap, const uint8_t *v, size_t n)
{
	size_t used = strlen(dst);

	if (used && used + 1 < cap)
		dst[used++] = ',';
	if (used + 1 < cap)
		id_text_copy(dst + used, cap - used, v, n);
}

static bool cql_key_is(const uint8_t *k, size_t n, const char *want)
{
	return strlen(want) == n && !memcmp(k, want, n);
}

static enum id_wire cql_supported(struct id_rd *r, struct id_cql_info *out)
{
	uint16_t n = id_rd_be16(r), i, j;

	for (i = 0; i < n && !r->bad; i++) {
		uint16_t klen = id_rd_be16(r), m;
		const uint8_t *k = id_rd_bytes(r, klen);
		char *dst = NULL;
		size_t cap = 0;

		if (!k)
			break;
		if (cql_key_is(k, klen, "CQL_VERSION"))
			dst = out->cql_version, cap = sizeof(out->cql_version);
		else if (cql_key_is(k, klen, "PROTOCOL_VERSIONS"))
			dst = out->protocol_versions, cap = sizeof(out->protocol_versions);
		else if (cql_key_is(k, klen, "COMPRESSION"))
			dst = out->compression, cap = sizeof(out->compression);
		else if (klen > 7 && !memcmp(k, "SCYLLA_", 7))
			out->scylla = true;
		m = id_rd_be16(r);
		for (j = 0; j < m && !r->bad; j++) {
			uint16_t vlen = id_rd_be16(r);
			const uint8_t *v = id_rd_bytes(r, vlen);

			if (v && dst)
				cql_append(dst, cap, v, vlen);
		}
	}
	return r->bad || r->left ? ID_WIRE_BAD : ID_WIRE_MATCH;
}

enum id_wire id_cql_parse(const uint8_t *buf, size_t len, struct id_cql_info *out)
{
	struct id_rd r = id_rd_init(buf, len);
	uint8_t ver, op;
	uint32_t blen;

	memset(out, 0, sizeof(*out));
	if (!len)
		return ID_WIRE_MORE;
	/* a response (0x80) of versions 3 to 6; v1/v2 servers answer a v4 frame with a v3+ error */
	ver = buf[0];
	if ((ver & 0x80) == 0 || (ver & 0x7f) < 3 || (ver & 0x7f) > 6)
		return ID_WIRE_NO;
	if (len >= 4 && (buf[2] != 0 || (buf[3] != 1 && buf[3] != 0)))
		return ID_WIRE_NO; /* stream: ours (1), or 0 on a protocol error before parsing it */
	if (len >= 5 && buf[4] != CQL_OP_SUPPORTED && buf[4] != CQL_OP_ERROR)
		return ID_WIRE_NO;
	if (len < 9)
		return ID_WIRE_MORE;
	id_rd_skip(&r, 4);
	op = id_rd_u8(&r);
	blen = id_rd_be32(&r);
	if (blen > CQL_BODY_MAX)
		return ID_WIRE_BAD;
	if (len < 9 + (size_t)blen)
		return ID_WIRE_MORE;
	r.left = blen;
	out->version = ver & 0x7f;
	if (op == CQL_OP_SUPPORTED) {
		out->supported = true;
		return cql_supported(&r, out);
	}
	out->error_code = id_rd_be32(&r);
	{
		uint16_t mlen = id_rd_be16(&r);
		const uint8_t *m = id_rd_bytes(&r, mlen);

		if (m)
			id_text_copy(out->error_msg, sizeof(out->error_msg), m, mlen);
	}
	/* ERROR bodies may carry more after the message (e.g. Unavailable's counts) */
	return r.bad ? ID_WIRE_BAD : ID_WIRE_MATCH;
}

/* ---- the module ---- */

static int cql_start(struct id_conn *c, void *st)
{
	(void)st;
	return id_send(c, id_cql_request, sizeof(id_cql_request)) ? ID_NO : ID_MORE;
}

static int cql_readable(struct id_conn *c, void *st, const uint8_t *d, size_t n)
{
	struct id_cql_info q;
	int w = id_cql_parse(d, n, &q);
	json_t *o;

	(void)st;
	/* another request reaches a CQL server as a frame of a bad version: ERROR, stream 0 */
	if (w == ID_WIRE_MATCH && q.supported && id_phase(c) != ID_PHASE_PROBE)
		return ID_NO;
	if (w != ID_WIRE_MATCH || !(o = id_obj(c)))
		return id_wire_verdict(c, w);
	json_object_set_new(o, "protocol_version", json_integer(q.version));
	if (q.supported) {
		json_object_set_new(o, "cql_version", id_json_csv(q.cql_version));
		json_object_set_new(o, "protocol_versions", id_json_csv(q.protocol_versions));
		json_object_set_new(o, "compression", id_json_csv(q.compression));
		if (q.scylla)
			id_set_product(c, "ScyllaDB", NULL);
	} else {
		json_object_set_new(o, "error_code", json_integer(q.error_code));
		json_object_set_new(o, "error", json_string(q.error_msg));
	}
	/* an ERROR frame in answer to another module's request: CQL, but SUPPORTED (the
	   versions) needs our own OPTIONS, so soft lets the search go on */
	return id_phase(c) == ID_PHASE_REACT ? ID_SOFT : ID_MATCH;
}

static const uint16_t cql_ports[] = { 9042, 9142, 0 };

const struct id_module id_mod_cql = {
	.name = "cql",
	.summary = "Cassandra CQL native protocol (OPTIONS/SUPPORTED: CQL and protocol versions)",
	.flags = ID_F_PROBE | ID_F_REACT | ID_F_INNER,
	.weight = 120,
	.ports = cql_ports,
	.start = cql_start,
	.on_readable = cql_readable,
};
