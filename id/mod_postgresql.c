/*
 * PostgreSQL: client-first. The module sends an SSLRequest (the answer is one byte, 'S' or
 * 'N': SSL support), and then a StartupMessage for protocol 3.2 (or the same after TLS).
 * Every backend message is Byte1 type, Int32 length (counting itself, big-endian), body
 * (PostgreSQL documentation, "Frontend/Backend Protocol", "Message Formats"):
 *
 *   'R' Authentication: Int32 method (0 ok, 3 cleartext, 5 md5 + 4-byte salt, 10 SASL + a
 *       list of mechanism names, ...)
 *   'v' NegotiateProtocolVersion: Int32 newest minor version, Int32 n, n option names
 *       (servers newer than 2017 send it when asked for a minor they do not speak)
 *   'S' ParameterStatus: name NUL value NUL (server_version only after authentication)
 *   'E' ErrorResponse: (Byte1 field code, String)* NUL: S severity, C SQLSTATE, M message
 *   'K' BackendKeyData, 'N' NoticeResponse, 'Z' ReadyForQuery
 *
 * Example: a Debian 12 server that trusts the client answers R(0), S(...,
 * "server_version" "15.14 (Debian 15.14-0+deb12u1)"), K, Z: product PostgreSQL, version
 * 15.14; one that does not answers R(10, "SCRAM-SHA-256") or E(28000 "no pg_hba.conf entry").
 */
#include "id_b.h"
#include "id_module.h"

#include <stdio.h>
#include <string.h>

#define PG_MSG_MAX 8192 /* no pre-query backend message is near this */
#define PG_MAX_PARAMS 32

static void put32(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)(v >> 24);
	b[1] = (uint8_t)(v >> 16);
	b[2] = (uint8_t)(v >> 8);
	b[3] = (uint8_t)v;
}

size_t idb_pg_sslrequest(uint8_t *buf, size_t cap)
{
	if (cap < 8)
		return 0;
	put32(buf, 8);
	put32(buf + 4, 80877103u); /* 1234 << 16 | 5679 */
	return 8;
}

size_t idb_pg_startup(uint8_t *buf, size_t cap)
{
	static const char params[] =
		"user\0ppscan\0database\0ppscan\0application_name\0ppscan-id\0";
	size_t len = 8 + sizeof(params); /* sizeof counts the final NUL: the list terminator */

	if (cap < len)
		return 0;
	put32(buf, (uint32_t)len);
	put32(buf + 4, 3u << 16 | 2u); /* protocol 3.2 */
	memcpy(buf + 8, params, sizeof(params));
	return len;
}

int idb_pg_ssl_parse(const uint8_t *p, size_t n, struct idb_ident *out)
{
	if (n < 1)
		return IDB_MORE;
	if (p[0] != 'S' && p[0] != 'N')
		return p[0] == 'E' ? idb_pg_parse(p, n, out) : IDB_NO;
	if (n > 1) /* nothing may follow the answer before the handshake (CVE-2021-23214) */
		return IDB_NO;
	snprintf(out->product, sizeof(out->product), "PostgreSQL");
	json_object_set_new(out->fields, "ssl", json_boolean(p[0] == 'S'));
	return IDB_MATCH;
}

static const char *pg_auth_name(uint32_t m)
{
	static const char *const names[] = { "ok", NULL,  "kerberos5",	  "cleartext", NULL,  "md5",
					     NULL, "gss", "gss_continue", "sspi",      "sasl" };

	return m < sizeof(names) / sizeof(names[0]) ? names[m] : NULL;
}

/* "15.14 (Debian 15.14-0+deb12u1)" -> version 15.14, version_extra "Debian 15.14-0+deb12u1" */
static void pg_version(const char *v, size_t n, struct idb_ident *out)
{
	size_t k = 0;

	while (k < n && ((v[k] >= '0' && v[k] <= '9') || v[k] == '.'))
		k++;
	idb_copy(out->version, sizeof(out->version), v, k);
	if (k + 2 < n && v[k] == ' ' && v[k + 1] == '(' && v[n - 1] == ')')
		idb_set_text(out->fields, "version_extra", v + k + 2, n - k - 3);
}

/* ErrorResponse / NoticeResponse body: (code, string)* NUL. */
static int pg_error(const uint8_t *b, size_t n, json_t *fields)
{
	json_t *err = json_object();
	size_t o = 0;

	while (o < n && b[o] != 0) {
		const uint8_t *s = b + o + 1, *e = memchr(s, 0, n - o - 1);
		char key[2] = { (char)b[o], 0 };

		if (!e) {
			json_decref(err);
			return -1;
		}
		if (strchr("SVCM", key[0]))
			idb_set_text(err,
				     key[0] == 'C'   ? "code"
				     : key[0] == 'M' ? "message"
						     : "severity",
				     s, (size_t)(e - s));
		o = (size_t)(e - b) + 1;
	}
	if (o >= n) {
		json_decref(err);
		return -1;
	}
	json_object_set_new(fields, "error", err);
	return 0;
}

int idb_pg_parse(const uint8_t *p, size_t n, struct idb_ident *out)
{
	size_t o = 0, nparams = 0;
	int seen_v = 0, seen_params = 0, done = 0, count = 0;
	json_t *params = NULL;

	while (!done && n - o >= 5) {
		uint8_t type = p[o];
		uint32_t len = (uint32_t)p[o + 1] << 24 | (uint32_t)p[o + 2] << 16 |
			       (uint32_t)p[o + 3] << 8 | p[o + 4];
		const uint8_t *b = p + o + 5;
		size_t bl;

		if (!strchr("RvSEKNZ", type) || type == 0)
			return count ? IDB_BAD : IDB_NO;
		if (len < 4 || len > PG_MSG_MAX)
			return count ? IDB_BAD : IDB_NO;
		if (n - o - 1 < len)
			break;
		bl = len - 4;
		if (type == 'R') {
			struct idb_cur c = { b, bl, 0, 0 };
			uint32_t m = idb_u32be(&c);
			const char *name = pg_auth_name(m);

			if (c.err || !name)
				return count ? IDB_BAD : IDB_NO;
			json_object_set_new(out->fields, "auth_method", json_string(name));
			if (m == 10) {
				json_t *mechs = json_array();

				while (c.off < bl && b[c.off] != 0) {
					const uint8_t *s = b + c.off, *e = memchr(s, 0, bl - c.off);

					if (!e)
						break;
					if (json_array_size(mechs) < 8)
						json_array_append_new(
							mechs, id_json_text(s, (size_t)(e - s)));
					c.off = (size_t)(e - b) + 1;
				}
				json_object_set_new(out->fields, "sasl_mechanisms", mechs);
			}
			if (m != 0)
				done = 1; /* the server now waits for a password */
		} else if (type == 'v') {
			struct idb_cur c = { b, bl, 0, 0 };
			uint32_t minor = idb_u32be(&c);
			char proto[16];

			/* the documentation says "newest minor version"; servers send the whole
			 * version (major << 16 | minor, 196608 for 3.0): accept both */
			if (minor >> 16 > 3)
				minor = 0x10000;
			if (c.err || (minor >> 16 != 0 && minor >> 16 != 3))
				return count ? IDB_BAD : IDB_NO;
			snprintf(proto, sizeof(proto), "3.%u", minor & 0xffff);
			json_object_set_new(out->fields, "protocol", json_string(proto));
			seen_v = 1;
		} else if (type == 'S') {
			const uint8_t *e1 = memchr(b, 0, bl), *e2;

			if (!e1 || !(e2 = memchr(e1 + 1, 0, bl - (size_t)(e1 + 1 - b))))
				return count ? IDB_BAD : IDB_NO;
			if (!params) { /* owned by out->fields from the start: no leak on errors */
				params = json_object();
				json_object_set_new(out->fields, "parameters", params);
			}
			if (nparams++ < PG_MAX_PARAMS) {
				char key[64];

				idb_copy(key, sizeof(key), b, (size_t)(e1 - b));
				idb_set_text(params, key, e1 + 1, (size_t)(e2 - e1 - 1));
			}
			if ((size_t)(e1 - b) == 14 && memcmp(b, "server_version", 14) == 0)
				pg_version((const char *)e1 + 1, (size_t)(e2 - e1 - 1), out);
			seen_params = 1;
		} else if (type == 'E') {
			if (pg_error(b, bl, out->fields) < 0)
				return count ? IDB_BAD : IDB_NO;
			done = 1;
		} else if (type == 'Z') {
			done = 1;
		}
		count++;
		o += 1 + len;
	}
	if (!done)
		return IDB_MORE;
	if (!seen_v)
		json_object_set_new(out->fields, "protocol",
				    json_string(seen_params ? "3.2" : "3"));
	snprintf(out->product, sizeof(out->product), "PostgreSQL");
	return IDB_MATCH;
}

/* ---- module ---------------------------------------------------------------------- */

struct pg_state {
	uint8_t sent_startup; /* SSLRequest answered 'N': the StartupMessage is on its way */
};

static int pg_start(struct id_conn *c, void *st)
{
	(void)st;
	return idb_send_built(c, idb_pg_sslrequest);
}

/*
 * A reply to another module's request: PostgreSQL reads any first 8 bytes as a startup
 * packet and answers what it cannot accept with an ErrorResponse, e.g. FATAL 0A000
 * "unsupported frontend protocol 65107.16973" to an SMB2 NEGOTIATE. Only a complete
 * ErrorResponse with a severity and a five-character SQLSTATE counts.
 */
static int pg_react_parse(const uint8_t *p, size_t n, struct idb_ident *out)
{
	json_t *err;
	const char *code, *sev;
	int r;

	if (n && p[0] != 'E')
		return IDB_NO;
	r = idb_pg_parse(p, n, out);
	if (r != IDB_MATCH)
		return r == IDB_MORE ? IDB_MORE : IDB_NO;
	err = json_object_get(out->fields, "error");
	code = json_string_value(json_object_get(err, "code"));
	sev = json_string_value(json_object_get(err, "severity"));
	if (!code || strlen(code) != 5 || !sev || (strcmp(sev, "FATAL") && strcmp(sev, "ERROR")))
		return IDB_NO;
	json_object_del(out->fields, "protocol"); /* no startup of ours was answered */
	return IDB_MATCH;
}

static int pg_readable(struct id_conn *c, void *stp, const uint8_t *d, size_t n)
{
	struct pg_state *st = stp;
	int r;

	if (id_phase(c) == ID_PHASE_DIALOGUE && st->sent_startup) {
		r = idb_judge(c, idb_pg_parse, d, n);
		return r == ID_NO && id_ended(c) ? ID_MATCH : r; /* the 'N' already proved it */
	}
	if (id_phase(c) == ID_PHASE_REACT)
		return idb_judge(c, pg_react_parse, d, n);
	if (id_phase(c) != ID_PHASE_PROBE)
		return ID_NO;
	r = idb_judge(c, idb_pg_ssl_parse, d, n);
	if (r != ID_MATCH || d[0] == 'E')
		return r;
	if (d[0] == 'S')
		return id_in_tls(c) ? ID_MATCH : ID_STARTTLS;
	id_consume(c, 1);
	if (idb_send_built(c, idb_pg_startup) != ID_MORE)
		return ID_MATCH;
	st->sent_startup = 1;
	return ID_CLAIM;
}

static const uint16_t pg_ports[] = { 5432, 5433, 0 };

const struct id_module id_mod_postgresql = {
	.name = "postgresql",
	.summary = "PostgreSQL (SSLRequest, StartupMessage 3.2: SSL, auth method, version)",
	.flags = ID_F_PROBE | ID_F_REACT,
	.weight = 150,
	.ports = pg_ports,
	.state_size = sizeof(struct pg_state),
	.start = pg_start,
	.on_readable = pg_readable,
};
