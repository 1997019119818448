/*
 * id_b.h - the pure parsers and request builders behind the Telnet, DNS, Redis, memcached,
 * MQTT, PostgreSQL, MySQL/MariaDB, LDAP, rsync, MongoDB, SMB, RDP, VNC, RTSP, SIP and XMPP
 * modules (id/mod_*.c). Bytes in, fields out: no sockets, no clock, no allocation except
 * the JSON object the caller passes in. The modules glue them to the engine; the unit and
 * fuzz suites call them directly.
 *
 * Every parser has the same contract: @p/@n is everything the server sent so far on this
 * connection (the caller appends and calls again); the return value is an idb_verdict. A
 * parser never reads outside [@p, @p + @n) and never trusts a length field: lengths are
 * checked against @n and against a per-protocol maximum, and a message over that maximum
 * or otherwise impossible is IDB_BAD (the engine counts it as a hostile or broken server).
 */
#ifndef PPS_ID_B_H
#define PPS_ID_B_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/** What a parser concluded from the bytes so far. */
enum idb_verdict {
	IDB_MORE = 0,  /* consistent with the protocol so far; need more bytes */
	IDB_MATCH = 1, /* this is the protocol; @out is filled */
	IDB_NO = -1,   /* not this protocol */
	IDB_BAD = -2,  /* claims to be this protocol but breaks its rules (lengths, limits) */
	IDB_SOFT = 2,  /* probably this protocol: weak evidence (a generic error reply) */
};

/**
 * What a parser found: @product and @version ("" when the server did not reveal them), and
 * the per-protocol facts in @fields (a JSON object owned by the caller, which the parser
 * only adds keys to).
 */
struct idb_ident {
	char product[64];
	char version[64];
	json_t *fields;
};

/* ---- bounded cursor over untrusted bytes ------------------------------------------- */

/** A read position in @p[0..@n); @err becomes 1 at the first read past the end. */
struct idb_cur {
	const uint8_t *p;
	size_t n, off;
	int err;
};

static inline int idb_have(const struct idb_cur *c, size_t k)
{
	return !c->err && c->n - c->off >= k;
}

static inline uint8_t idb_u8(struct idb_cur *c)
{
	if (!idb_have(c, 1)) {
		c->err = 1;
		return 0;
	}
	return c->p[c->off++];
}

static inline uint16_t idb_u16le(struct idb_cur *c)
{
	uint16_t lo = idb_u8(c);

	return (uint16_t)(lo | (uint16_t)idb_u8(c) << 8);
}

static inline uint16_t idb_u16be(struct idb_cur *c)
{
	uint16_t hi = idb_u8(c);

	return (uint16_t)(hi << 8 | idb_u8(c));
}

static inline uint32_t idb_u32le(struct idb_cur *c)
{
	uint32_t lo = idb_u16le(c);

	return lo | (uint32_t)idb_u16le(c) << 16;
}

static inline uint32_t idb_u32be(struct idb_cur *c)
{
	uint32_t hi = idb_u16be(c);

	return hi << 16 | idb_u16be(c);
}

static inline const uint8_t *idb_take(struct idb_cur *c, size_t k)
{
	const uint8_t *r;

	if (!idb_have(c, k)) {
		c->err = 1;
		return NULL;
	}
	r = c->p + c->off;
	c->off += k;
	return r;
}

/**
 * idb_set_text - adds @key to @obj as id_json_text() of @s[0..@n) (at most 512 bytes; bytes
 * that are not printable ASCII or valid UTF-8 become "\xNN"). @obj NULL: nothing.
 */
void idb_set_text(json_t *obj, const char *key, const void *s, size_t n);

/** idb_copy - @s[0..@n) into @dst (capacity @cap, NUL-terminated), printable ASCII only. */
void idb_copy(char *dst, size_t cap, const void *s, size_t n);

/* ---- requests (client-first protocols) ----------------------------------------------- */

/*
 * Each builder writes its request into @buf (capacity @cap) and returns its length, or 0
 * when @cap is too small. The bytes are fixed (no clock, no randomness) so that records
 * and tests are reproducible; identifiers the protocol needs are constants.
 */

/** DNS over TCP (RFC 1035 4.2.2, 2-byte length prefix; RFC 7766): "version.bind" CH TXT. */
size_t idb_dns_request(uint8_t *buf, size_t cap);
/** MQTT 3.1.1 CONNECT (OASIS MQTT 3.1.1, 3.1): clean session, client id "ppscan-id". */
size_t idb_mqtt_request(uint8_t *buf, size_t cap);
/** MQTT SUBSCRIBE to "$SYS/broker/version" at QoS 0 (3.8), sent after an accepted CONNACK. */
size_t idb_mqtt_subscribe(uint8_t *buf, size_t cap);
/** PostgreSQL SSLRequest (PostgreSQL docs, "Message Formats": Int32 8, Int32 80877103). */
size_t idb_pg_sslrequest(uint8_t *buf, size_t cap);
/** PostgreSQL StartupMessage, protocol 3.2, user/database "ppscan", application "ppscan-id". */
size_t idb_pg_startup(uint8_t *buf, size_t cap);
/** LDAPv3 anonymous search of the root DSE (RFC 4511 4.5.1, RFC 4512 5.1), attrs "*" "+". */
size_t idb_ldap_request(uint8_t *buf, size_t cap);
/** MongoDB OP_QUERY isMaster then buildInfo on admin.$cmd (MongoDB wire protocol). */
size_t idb_mongo_request(uint8_t *buf, size_t cap);
/** SMB2 NEGOTIATE over Direct TCP (MS-SMB2 2.2.3, [MS-SMB2] 2.1), dialects 2.0.2 - 3.1.1. */
size_t idb_smb_request(uint8_t *buf, size_t cap);
/** SMB2 SESSION_SETUP with SPNEGO / NTLMSSP NEGOTIATE (MS-SMB2 2.2.5, MS-NLMP 2.2.1.1). */
size_t idb_smb_session_setup(uint8_t *buf, size_t cap);
/** RDP X.224 Connection Request with RDP_NEG_REQ (MS-RDPBCGR 2.2.1.1), @protocols flags. */
size_t idb_rdp_request(uint8_t *buf, size_t cap, uint32_t protocols);
/** RFB client ProtocolVersion "RFB 003.008\n" (RFC 6143 7.1.1). */
size_t idb_vnc_request(uint8_t *buf, size_t cap);

/* ---- parsers ----------------------------------------------------------------------- */

/** Telnet (RFC 854, RFC 855): option negotiation (IAC DO/DONT/WILL/WONT, SB..SE). */
int idb_telnet_parse(const uint8_t *p, size_t n, struct idb_ident *out);
/** DNS over TCP reply to idb_dns_request(): rcode, flags, the version.bind TXT. */
int idb_dns_parse(const uint8_t *p, size_t n, struct idb_ident *out);
/** MQTT CONNACK (3.2): session present, return code. */
int idb_mqtt_parse(const uint8_t *p, size_t n, struct idb_ident *out);
/** MQTT SUBACK / PUBLISH after idb_mqtt_subscribe(): the broker's version topic. */
int idb_mqtt_sys_parse(const uint8_t *p, size_t n, struct idb_ident *out);
/** PostgreSQL answer to SSLRequest: one byte 'S' or 'N' (or an ErrorResponse). */
int idb_pg_ssl_parse(const uint8_t *p, size_t n, struct idb_ident *out);
/** PostgreSQL messages after a StartupMessage: R, v, S, K, Z, E (protocol 3, 55.7). */
int idb_pg_parse(const uint8_t *p, size_t n, struct idb_ident *out);
/** MySQL / MariaDB initial handshake (Protocol::Handshake v9/v10) or ERR packet. */
int idb_mysql_parse(const uint8_t *p, size_t n, struct idb_ident *out);
/** LDAP SearchResultEntry / SearchResultDone of the root DSE (RFC 4511, BER X.690). */
int idb_ldap_parse(const uint8_t *p, size_t n, struct idb_ident *out);
/** MongoDB OP_REPLY / OP_MSG answers to both requests of idb_mongo_request() (BSON). */
int idb_mongo_parse(const uint8_t *p, size_t n, struct idb_ident *out);
/** idb_mongo_parse() content with only the first reply (the server closed after it). */
int idb_mongo_parse_partial(const uint8_t *p, size_t n, struct idb_ident *out);
/** SMB2 NEGOTIATE response (MS-SMB2 2.2.4) or an SMB1 negotiate response. */
int idb_smb_parse(const uint8_t *p, size_t n, struct idb_ident *out);
/** SMB2 SESSION_SETUP response: the NTLMSSP CHALLENGE's names and OS version (MS-NLMP). */
int idb_smb_ntlm_parse(const uint8_t *p, size_t n, struct idb_ident *out);
/** RDP X.224 Connection Confirm with RDP_NEG_RSP / RDP_NEG_FAILURE (MS-RDPBCGR 2.2.1.2). */
int idb_rdp_parse(const uint8_t *p, size_t n, struct idb_ident *out);
/** RFB ProtocolVersion greeting (RFC 6143 7.1.1), then the security types (7.1.2). */
int idb_vnc_parse(const uint8_t *p, size_t n, struct idb_ident *out);
/** RFB security types after our ProtocolVersion; @minor is the server's (3.3: one u32). */
int idb_vnc_security_parse(const uint8_t *p, size_t n, int minor, struct idb_ident *out);

/* ---- text headers (RTSP, SIP: RFC 2326 / RFC 3261, both of the RFC 822 shape) ----- */

/**
 * idb_head_len - length of the start line and header block at @d (through the empty line
 * that ends it, CRLF or LF), 0 while it may still complete, (size_t)-1 when @n exceeds
 * IDB_HEAD_MAX without an end or the bytes are not text.
 */
#define IDB_HEAD_MAX 8192
size_t idb_head_len(const uint8_t *d, size_t n);

/**
 * idb_head_get - the value of header @name (caseless; @alt: its compact form, 0 for none,
 * RFC 3261 7.3.3) in the header block @d/@len, leading spaces skipped, CR LF excluded;
 * NULL when absent. *@vlen gets the value's length.
 */
const uint8_t *idb_head_get(const uint8_t *d, size_t len, const char *name, char alt, size_t *vlen);

/** idb_json_csv - a header's comma-separated list ("OPTIONS, DESCRIBE") as a JSON array of
 * trimmed strings (at most 64). New reference. */
json_t *idb_json_csv(const uint8_t *d, size_t n);

/**
 * idb_status_line - "PROTO/x.y DDD reason" at @d (@proto e.g. "RTSP/1."): IDB_MATCH with
 * *@code, IDB_MORE while it may still complete, IDB_NO otherwise.
 */
int idb_status_line(const uint8_t *d, size_t n, const char *proto, int *code);

/* ---- glue to the engine (id_module.h) ------------------------------------------------ */

struct id_conn;
typedef int (*idb_parse_fn)(const uint8_t *p, size_t n, struct idb_ident *out);

/**
 * idb_judge - runs @parse over @d/@n into a scratch object; on IDB_MATCH or IDB_SOFT its
 * fields are added to the record's per-protocol object (id_obj) and its product/version
 * set. Returns the engine's verdict: ID_MATCH, ID_SOFT, ID_MORE (ID_NO once the connection
 * has ended), or ID_NO. IDB_BAD (the bytes claim the protocol but break its rules: lengths
 * over the limits, impossible fields) becomes ID_SOFT with "malformed": true in the
 * per-protocol object and nothing else the parser extracted, counted in idb_malformed_count.
 */
int idb_judge(struct id_conn *c, idb_parse_fn parse, const uint8_t *d, size_t n);

/** Replies that claimed one of these protocols but broke its rules (one thread: no lock). */
extern unsigned long long idb_malformed_count;

/**
 * idb_head_reply - a reply "PROTO/x.y DDD reason" plus headers (RTSP, SIP) at @d: ID_MATCH
 * with *@hl the length of the head (the status code and line recorded in id_obj), ID_MORE
 * while it may complete, ID_NO if it is none. @proto2: a second accepted prefix, or NULL.
 */
int idb_head_reply(struct id_conn *c, const uint8_t *d, size_t n, const char *proto,
		   const char *proto2, size_t *hl);

/** idb_send_built - id_send() of what @build writes: ID_MORE, or ID_NO if it cannot. */
int idb_send_built(struct id_conn *c, size_t (*build)(uint8_t *, size_t));

#endif /* PPS_ID_B_H */
