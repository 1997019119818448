/*
 * DNS over TCP (RFC 1035 4.2.2: each message prefixed by a two-byte length; RFC 7766): the
 * module asks the CHAOS-class TXT record "version.bind" (the de-facto version query BIND,
 * Unbound, Knot, PowerDNS and dnsmasq answer unless configured not to). Any well-formed
 * reply with our ID and QR set is DNS; the TXT, when given, is the server's version string.
 *
 * Query as sent (32 bytes): 00 1e | 70 70 (ID) 00 00 (flags: query, opcode 0, no RD)
 * 00 01 00 00 00 00 00 00 (1 question) | 07 "version" 04 "bind" 00 | 00 10 (TXT) 00 03 (CH)
 *
 * Reply: header (ID, flags with QR, opcode, AA, TC, RD, RA, RCODE; four counts), the question
 * echoed, answers (name, possibly compressed (4.1.4), type, class, TTL, RDLENGTH, RDATA;
 * a TXT RDATA is one or more <length><bytes> strings, RFC 1035 3.3.14).
 * Example: Unbound 1.17 answers TXT "unbound 1.17.1": product Unbound, version 1.17.1.
 */
#include "id_b.h"
#include "id_module.h"

#include <stdio.h>
#include <string.h>

#define DNS_ID 0x7070
#define DNS_REPLY_MAX 4096 /* a version.bind reply is < 200 bytes */

static const uint8_t dns_query[] = { 0x00, 0x1e, 0x70, 0x70, 0x00, 0x00, 0x00, 0x01,
				     0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 7,    'v',
				     'e',  'r',	 's',  'i',  'o',  'n',	 4,    'b',
				     'i',  'n',	 'd',  0,    0x00, 0x10, 0x00, 0x03 };

size_t idb_dns_request(uint8_t *buf, size_t cap)
{
	if (cap < sizeof(dns_query))
		return 0;
	memcpy(buf, dns_query, sizeof(dns_query));
	return sizeof(dns_query);
}

/* Skips a domain name at c (labels or a compression pointer, 4.1.4). 0, or -1 malformed. */
static int dns_skip_name(struct idb_cur *c)
{
	for (int labels = 0; labels < 128; labels++) {
		uint8_t l = idb_u8(c);

		if (c->err)
			return -1;
		if (l == 0)
			return 0;
		if ((l & 0xc0) == 0xc0) {
			idb_u8(c);
			return c->err ? -1 : 0;
		}
		if (l & 0xc0 || !idb_take(c, l))
			return -1;
	}
	return -1;
}

/* "unbound 1.17.1" / "9.18.19-1~deb12u1-Debian" / "dnsmasq-2.89" -> product and version */
static void dns_product(const char *v, struct idb_ident *out)
{
	static const struct {
		const char *prefix, *product;
	} known[] = { { "unbound ", "Unbound" },
		      { "dnsmasq-", "dnsmasq" },
		      { "PowerDNS Recursor ", "PowerDNS Recursor" },
		      { "PowerDNS Authoritative Server ", "PowerDNS" },
		      { "Knot DNS ", "Knot DNS" },
		      { "NSD ", "NSD" } };
	size_t k = 0;

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		size_t pl = strlen(known[i].prefix);

		if (strncmp(v, known[i].prefix, pl) == 0) {
			snprintf(out->product, sizeof(out->product), "%s", known[i].product);
			v += pl;
			while (v[k] && v[k] != ' ')
				k++;
			idb_copy(out->version, sizeof(out->version), v, k);
			return;
		}
	}
	/* BIND 9 answers its bare version: "9.18.19-1~deb12u1-Debian" */
	if (v[0] == '9' && v[1] == '.') {
		snprintf(out->product, sizeof(out->product), "BIND");
		while (v[k] && ((v[k] >= '0' && v[k] <= '9') || v[k] == '.'))
			k++;
		idb_copy(out->version, sizeof(out->version), v, k);
	}
}

int idb_dns_parse(const uint8_t *p, size_t n, struct idb_ident *out)
{
	static const char *const rcodes[] = { "noerror",  "formerr", "servfail",
					      "nxdomain", "notimp",  "refused" };
	struct idb_cur c;
	size_t len;
	uint16_t id, flags, qd, an;

	if (n < 2)
		return IDB_MORE;
	len = (size_t)p[0] << 8 | p[1];
	if (len < 12)
		return IDB_NO;
	if (n >= 4 && (p[2] << 8 | p[3]) != DNS_ID)
		return IDB_NO;
	if (n >= 5 && !(p[4] & 0x80)) /* QR: a response */
		return IDB_NO;
	if (len > DNS_REPLY_MAX)
		return IDB_BAD;
	if (n < 2 + len)
		return IDB_MORE;
	c = (struct idb_cur){ p + 2, len, 0, 0 };
	id = idb_u16be(&c);
	flags = idb_u16be(&c);
	qd = idb_u16be(&c);
	an = idb_u16be(&c);
	idb_take(&c, 4);
	if (id != DNS_ID || ((flags >> 11) & 15) != 0 || qd > 1)
		return IDB_NO;
	json_object_set_new(out->fields, "rcode", json_integer(flags & 15));
	if ((flags & 15) < sizeof(rcodes) / sizeof(rcodes[0]))
		json_object_set_new(out->fields, "rcode_name", json_string(rcodes[flags & 15]));
	json_object_set_new(out->fields, "authoritative", json_boolean(flags & 0x0400));
	json_object_set_new(out->fields, "recursion_available", json_boolean(flags & 0x0080));
	if (qd == 1 && (dns_skip_name(&c) < 0 || !idb_take(&c, 4)))
		return IDB_BAD;
	for (unsigned i = 0; i < an && i < 16; i++) {
		uint16_t type, cls, rdlen;
		const uint8_t *rd;

		if (dns_skip_name(&c) < 0)
			return IDB_BAD;
		type = idb_u16be(&c);
		cls = idb_u16be(&c);
		idb_take(&c, 4);
		rdlen = idb_u16be(&c);
		rd = idb_take(&c, rdlen);
		if (!rd)
			return IDB_BAD;
		if (type == 16 && cls == 3 && rdlen >= 1 && rd[0] < rdlen) {
			char v[256];

			idb_copy(v, sizeof(v), rd + 1, rd[0]);
			json_object_set_new(out->fields, "version_bind", json_string(v));
			dns_product(v, out);
			break;
		}
	}
	return IDB_MATCH;
}

/* ---- module ---------------------------------------------------------------------- */

static int dns_start(struct id_conn *c, void *st)
{
	(void)st;
	return idb_send_built(c, idb_dns_request);
}

static int dns_readable(struct id_conn *c, void *st, const uint8_t *d, size_t n)
{
	(void)st;
	return id_phase(c) == ID_PHASE_PROBE ? idb_judge(c, idb_dns_parse, d, n) : ID_NO;
}

static const uint16_t dns_ports[] = { 53, 5353, 853, 0 };

const struct id_module id_mod_dns = {
	.name = "dns",
	.summary = "DNS over TCP (RFC 1035/7766: version.bind CH TXT)",
	.flags = ID_F_PROBE | ID_F_INNER,
	.weight = 160,
	.ports = dns_ports,
	.start = dns_start,
	.on_readable = dns_readable,
};
