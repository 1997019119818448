/*
 * RDP (MS-RDPBCGR): client-first. The connection starts with an X.224 Connection Request
 * (ITU-T X.224 13.3, in a TPKT, RFC 1006) carrying an RDP Negotiation Request
 * (MS-RDPBCGR 2.2.1.1.1) that lists the security protocols the client accepts; the server
 * answers with a Connection Confirm (2.2.1.2) carrying RDP_NEG_RSP (type 2: the protocol it
 * selected, and flags) or RDP_NEG_FAILURE (type 3: why not), or nothing after the header
 * (an old server that only speaks standard RDP security).
 *
 * Request (19 bytes): 03 00 00 13 (TPKT v3, length 19) | 0e (LI 14) e0 (CR) 00 00 00 00 00
 * (dst-ref, src-ref, class 0) | 01 00 08 00 (RDP_NEG_REQ, flags 0, length 8) + u32le
 * requestedProtocols (PROTOCOL_SSL 1, PROTOCOL_HYBRID 2, PROTOCOL_RDSTLS 4, HYBRID_EX 8).
 * Example: xrdp 0.9 asked for SSL|HYBRID answers 03 00 00 13 0e d0 00 00 12 34 00 02 1f
 * 08 00 01 00 00 00: TLS selected.
 */
#include "id_b.h"
#include "id_module.h"

#include <string.h>

size_t idb_rdp_request(uint8_t *buf, size_t cap, uint32_t protocols)
{
	static const uint8_t head[] = { 0x03, 0x00, 0x00, 0x13, 0x0e, 0xe0, 0x00, 0x00,
					0x00, 0x00, 0x00, 0x01, 0x00, 0x08, 0x00 };

	if (cap < 19)
		return 0;
	memcpy(buf, head, sizeof(head));
	for (int i = 0; i < 4; i++)
		buf[15 + i] = (uint8_t)(protocols >> (8 * i));
	return 19;
}

static json_t *rdp_protocols(uint32_t v)
{
	static const char *const names[] = { "tls", "credssp", "rdstls", "credssp_early_auth" };
	json_t *a = json_array();

	if (v == 0)
		json_array_append_new(a, json_string("rdp"));
	for (int i = 0; i < 4; i++)
		if (v & (1u << i))
			json_array_append_new(a, json_string(names[i]));
	return a;
}

int idb_rdp_parse(const uint8_t *p, size_t n, struct idb_ident *out)
{
	static const char *const failures[] = { NULL,
						"ssl_required_by_server",
						"ssl_not_allowed_by_server",
						"ssl_cert_not_on_server",
						"inconsistent_flags",
						"hybrid_required_by_server",
						"ssl_with_user_auth_required_by_server" };
	struct idb_cur c;
	size_t len;
	uint8_t li;

	if ((n >= 1 && p[0] != 3) || (n >= 2 && p[1] != 0))
		return IDB_NO;
	if (n >= 6 && (p[5] & 0xf0) != 0xd0) /* X.224 CC (0xd0) */
		return IDB_NO;
	if (n < 4)
		return IDB_MORE;
	len = (size_t)p[2] << 8 | p[3];
	if (len < 11 || len > 512)
		return len < 11 ? IDB_NO : IDB_BAD;
	if (n < len)
		return IDB_MORE;
	li = p[4];
	if (li < 6 || (size_t)li + 5 > len)
		return IDB_NO;
	c = (struct idb_cur){ p, 5 + (size_t)li, 11, 0 };
	if (li >= 14) {
		uint8_t type = idb_u8(&c), flags = idb_u8(&c);
		uint16_t nl = idb_u16le(&c);
		uint32_t v = idb_u32le(&c);

		if (c.err || nl != 8)
			return IDB_NO;
		if (type == 2) {
			json_object_set_new(out->fields, "selected_protocol", rdp_protocols(v));
			json_object_set_new(out->fields, "selected_protocol_code", json_integer(v));
			json_object_set_new(out->fields, "neg_flags", json_integer(flags));
		} else if (type == 3) {
			json_object_set_new(out->fields, "failure_code", json_integer(v));
			if (v < sizeof(failures) / sizeof(failures[0]) && failures[v])
				json_object_set_new(out->fields, "failure",
						    json_string(failures[v]));
		} else {
			return IDB_NO;
		}
	} else {
		json_object_set_new(out->fields, "selected_protocol", rdp_protocols(0));
		json_object_set_new(out->fields, "selected_protocol_code", json_integer(0));
	}
	return IDB_MATCH;
}

/* ---- module ---------------------------------------------------------------------- */

#define RDP_ASK (1u | 2u | 8u) /* TLS, CredSSP, CredSSP with early user authorization */

static size_t rdp_build(uint8_t *buf, size_t cap)
{
	return idb_rdp_request(buf, cap, RDP_ASK);
}

static int rdp_start(struct id_conn *c, void *st)
{
	(void)st;
	return idb_send_built(c, rdp_build);
}

/*
 * A reply to another module's request: an RDP server answers bytes it cannot parse with an
 * X.224 PDU in a TPKT (03 00 length, then LI and a TPDU code: DT f0, DR 80, CC d0, ER 70),
 * e.g. xrdp's 03 00 00 09 02 f0 80 21 80 (MCS Disconnect-Provider-Ultimatum) to a TLS
 * ClientHello. Weak evidence (TPKT also carries ISO-TSAP, S7comm): soft.
 */
static int rdp_react(struct id_conn *c, const uint8_t *d, size_t n)
{
	size_t len;

	if (n < 4)
		return d[0] == 3 && (n < 2 || d[1] == 0) && !id_ended(c) ? ID_MORE : ID_NO;
	len = (size_t)d[2] << 8 | d[3];
	if (d[0] != 3 || d[1] != 0 || len < 7 || len != n || d[4] + 5u > len)
		return ID_NO;
	if (d[5] != 0xf0 && d[5] != 0x80 && d[5] != 0xd0 && d[5] != 0x70)
		return ID_NO;
	if (id_obj(c))
		json_object_set_new(id_obj(c), "x224_tpdu", json_integer(d[5]));
	return ID_SOFT;
}

static int rdp_readable(struct id_conn *c, void *st, const uint8_t *d, size_t n)
{
	(void)st;
	if (id_phase(c) == ID_PHASE_REACT)
		return n ? rdp_react(c, d, n) : ID_MORE;
	return id_phase(c) == ID_PHASE_PROBE ? idb_judge(c, idb_rdp_parse, d, n) : ID_NO;
}

static const uint16_t rdp_ports[] = { 3389, 0 };

const struct id_module id_mod_rdp = {
	.name = "rdp",
	.summary = "RDP (MS-RDPBCGR X.224 negotiation: selected security protocol)",
	.flags = ID_F_PROBE | ID_F_REACT,
	.weight = 180,
	.ports = rdp_ports,
	.start = rdp_start,
	.on_readable = rdp_readable,
};
