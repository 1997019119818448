/*
 * LDAP (RFC 4511, BER as in ITU-T X.690): client-first. The module reads the root DSE
 * (RFC 4512 5.1) anonymously: one SearchRequest, base "", scope baseObject, filter
 * (objectClass=*), for the attributes that say what the server is. The server answers with
 * a SearchResultEntry ([APPLICATION 4]) and a SearchResultDone ([APPLICATION 5]: result
 * code, matched DN, diagnostic message), or only the Done (e.g. 50 insufficientAccessRights),
 * or an unsolicited Notice of Disconnection (ExtendedResponse, [APPLICATION 24]).
 *
 *   LDAPMessage  ::= SEQUENCE { messageID INTEGER, protocolOp CHOICE { ... } }
 *   SearchResultEntry ::= [APPLICATION 4] SEQUENCE { objectName OCTET STRING,
 *                         attributes SEQUENCE OF SEQUENCE { type OCTET STRING,
 *                                                           vals SET OF OCTET STRING } }
 *
 * Product: RFC 3045 vendorName/vendorVersion where the server publishes them; OpenLDAP's
 * root DSE has structuralObjectClass "OpenLDAProotDSE" instead; Active Directory's has
 * forestFunctionality.
 */
#include "id_b.h"
#include "id_module.h"

#include <stdio.h>
#include <string.h>

#define LDAP_MSGID 1
#define LDAP_REPLY_MAX 32768 /* a root DSE with these attributes is a few KiB at most */

static const char *const ldap_attrs[] = { "namingContexts",	     "supportedLDAPVersion",
					  "supportedSASLMechanisms", "vendorName",
					  "vendorVersion",	     "structuralObjectClass",
					  "forestFunctionality",     "dnsHostName" };

/* Appends tag, length (short form, or 0x81/0x82 long form) and @n bytes of @v at @b + *@o. */
static int ber_put(uint8_t *b, size_t cap, size_t *o, uint8_t tag, const void *v, size_t n)
{
	size_t hl = n < 128 ? 2 : n < 256 ? 3 : 4;

	if (n > 0xffff || *o + hl + n > cap)
		return -1;
	b[(*o)++] = tag;
	if (n >= 256) {
		b[(*o)++] = 0x82;
		b[(*o)++] = (uint8_t)(n >> 8);
	} else if (n >= 128) {
		b[(*o)++] = 0x81;
	}
	b[(*o)++] = (uint8_t)n;
	if (n)
		memmove(b + *o, v, n);
	*o += n;
	return 0;
}

size_t idb_ldap_request(uint8_t *buf, size_t cap)
{
	uint8_t attrs[256], search[384], msg[448];
	size_t a = 0, s = 0, m = 0, o = 0;
	int bad = 0;

	for (size_t i = 0; i < sizeof(ldap_attrs) / sizeof(ldap_attrs[0]); i++)
		bad |= ber_put(attrs, sizeof(attrs), &a, 0x04, ldap_attrs[i],
			       strlen(ldap_attrs[i]));
	bad |= ber_put(search, sizeof(search), &s, 0x04, "", 0);	     /* baseObject "" */
	bad |= ber_put(search, sizeof(search), &s, 0x0a, "\x00", 1);	     /* scope base */
	bad |= ber_put(search, sizeof(search), &s, 0x0a, "\x00", 1);	     /* neverDerefAliases */
	bad |= ber_put(search, sizeof(search), &s, 0x02, "\x00", 1);	     /* sizeLimit 0 */
	bad |= ber_put(search, sizeof(search), &s, 0x02, "\x0a", 1);	     /* timeLimit 10 s */
	bad |= ber_put(search, sizeof(search), &s, 0x01, "\x00", 1);	     /* typesOnly FALSE */
	bad |= ber_put(search, sizeof(search), &s, 0x87, "objectClass", 11); /* present */
	bad |= ber_put(search, sizeof(search), &s, 0x30, attrs, a);
	bad |= ber_put(msg, sizeof(msg), &m, 0x02, "\x01", 1); /* messageID 1 */
	bad |= ber_put(msg, sizeof(msg), &m, 0x63, search, s); /* [APPLICATION 3] */
	bad |= ber_put(buf, cap, &o, 0x30, msg, m);
	return bad ? 0 : o;
}

/*
 * Reads one BER tag and definite length at c (X.690 8.1.2-8.1.3, single-byte tags only).
 * Returns the content length, or -1 (malformed, indefinite, or beyond @max), -2 need more.
 */
static long ber_head(struct idb_cur *c, uint8_t *tag, size_t max)
{
	uint8_t l;
	size_t len = 0;

	if (!idb_have(c, 2))
		return -2;
	*tag = idb_u8(c);
	if ((*tag & 0x1f) == 0x1f)
		return -1;
	l = idb_u8(c);
	if (l < 0x80) {
		len = l;
	} else {
		uint8_t k = l & 0x7f;

		if (k == 0 || k > 3)
			return -1;
		if (!idb_have(c, k))
			return -2;
		while (k--)
			len = len << 8 | idb_u8(c);
	}
	return len > max ? -1 : (long)len;
}

static long ber_int(const uint8_t *p, size_t n)
{
	long v = 0;

	if (n == 0 || n > 4)
		return -1;
	for (size_t i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* One attribute of the entry: type, SET OF values -> @attrs[type] = [values] (bounded). */
static int ldap_attr(const uint8_t *p, size_t n, json_t *attrs, struct idb_ident *out)
{
	struct idb_cur c = { p, n, 0, 0 };
	uint8_t tag;
	long tl = ber_head(&c, &tag, n), sl;
	const uint8_t *type;
	char key[64];
	json_t *vals;

	if (tl < 0 || tag != 0x04 || !(type = idb_take(&c, (size_t)tl)))
		return -1;
	sl = ber_head(&c, &tag, n);
	if (sl < 0 || tag != 0x31 || c.n - c.off < (size_t)sl)
		return -1;
	idb_copy(key, sizeof(key), type, (size_t)tl);
	vals = json_array();
	while (c.off < c.n) {
		long vl = ber_head(&c, &tag, n);
		const uint8_t *v;

		if (vl < 0 || tag != 0x04 || !(v = idb_take(&c, (size_t)vl))) {
			json_decref(vals);
			return -1;
		}
		if (json_array_size(vals) < 16)
			json_array_append_new(vals, id_json_text(v, (size_t)vl));
		if (!strcmp(key, "vendorName"))
			idb_copy(out->product, sizeof(out->product), v, (size_t)vl);
		else if (!strcmp(key, "vendorVersion"))
			idb_copy(out->version, sizeof(out->version), v, (size_t)vl);
		else if (!strcmp(key, "structuralObjectClass") && vl == 15 &&
			 !memcmp(v, "OpenLDAProotDSE", 15) && !out->product[0])
			snprintf(out->product, sizeof(out->product), "OpenLDAP");
		else if (!strcmp(key, "forestFunctionality") && !out->product[0])
			snprintf(out->product, sizeof(out->product), "Microsoft Active Directory");
	}
	if (json_object_size(attrs) < 16)
		json_object_set_new(attrs, key, vals);
	else
		json_decref(vals);
	return 0;
}

int idb_ldap_parse(const uint8_t *p, size_t n, struct idb_ident *out)
{
	struct idb_cur c = { p, n, 0, 0 };
	int seen = 0;

	if (n >= 1 && p[0] != 0x30)
		return IDB_NO;
	while (c.off < n) {
		struct idb_cur m;
		uint8_t tag;
		long len = ber_head(&c, &tag, LDAP_REPLY_MAX), il, ol, id;
		const uint8_t *ip;

		if (len == -2 || (len >= 0 && c.n - c.off < (size_t)len))
			return len == -2 || c.n <= LDAP_REPLY_MAX ? IDB_MORE : IDB_BAD;
		if (len < 0 || tag != 0x30)
			return seen ? IDB_BAD : IDB_NO;
		m = (struct idb_cur){ p + c.off, (size_t)len, 0, 0 };
		c.off += (size_t)len;
		il = ber_head(&m, &tag, (size_t)len);
		if (il < 0 || tag != 0x02 || !(ip = idb_take(&m, (size_t)il)))
			return seen ? IDB_BAD : IDB_NO;
		id = ber_int(ip, (size_t)il);
		if (id != LDAP_MSGID && id != 0)
			return seen ? IDB_BAD : IDB_NO;
		ol = ber_head(&m, &tag, (size_t)len);
		if (ol < 0 || m.n - m.off < (size_t)ol)
			return seen ? IDB_BAD : IDB_NO;
		seen++;
		if (tag == 0x64) { /* SearchResultEntry */
			struct idb_cur e = { m.p + m.off, (size_t)ol, 0, 0 };
			long dl = ber_head(&e, &tag, (size_t)ol), al;
			json_t *attrs;

			if (dl < 0 || tag != 0x04 || !idb_take(&e, (size_t)dl))
				return IDB_BAD;
			al = ber_head(&e, &tag, (size_t)ol);
			if (al < 0 || tag != 0x30 || e.n - e.off < (size_t)al)
				return IDB_BAD;
			attrs = json_object();
			while (e.off < e.n) {
				long pl = ber_head(&e, &tag, (size_t)ol);

				if (pl < 0 || tag != 0x30 || e.n - e.off < (size_t)pl ||
				    ldap_attr(e.p + e.off, (size_t)pl, attrs, out) < 0) {
					json_decref(attrs);
					return IDB_BAD;
				}
				e.off += (size_t)pl;
			}
			json_object_set_new(out->fields, "root_dse", attrs);
		} else if (tag == 0x65 || tag == 0x78) { /* SearchResultDone, ExtendedResponse */
			struct idb_cur r = { m.p + m.off, (size_t)ol, 0, 0 };
			long rl = ber_head(&r, &tag, (size_t)ol), code;
			const uint8_t *rp;

			if (rl < 0 || tag != 0x0a || !(rp = idb_take(&r, (size_t)rl)) ||
			    (code = ber_int(rp, (size_t)rl)) < 0)
				return IDB_BAD;
			json_object_set_new(out->fields, "result_code", json_integer(code));
			rl = ber_head(&r, &tag, (size_t)ol); /* matchedDN, then diagnosticMessage */
			if (rl >= 0 && tag == 0x04 && idb_take(&r, (size_t)rl)) {
				rl = ber_head(&r, &tag, (size_t)ol);
				if (rl > 0 && tag == 0x04 && (rp = idb_take(&r, (size_t)rl)))
					idb_set_text(out->fields, "diagnostic_message", rp,
						     (size_t)rl);
			}
			return IDB_MATCH;
		} else {
			return seen > 1 ? IDB_BAD : IDB_NO;
		}
	}
	return IDB_MORE;
}

/* ---- module ---------------------------------------------------------------------- */

static int ldap_start(struct id_conn *c, void *st)
{
	(void)st;
	return idb_send_built(c, idb_ldap_request);
}

static int ldap_readable(struct id_conn *c, void *st, const uint8_t *d, size_t n)
{
	(void)st;
	return id_phase(c) == ID_PHASE_PROBE ? idb_judge(c, idb_ldap_parse, d, n) : ID_NO;
}

static const uint16_t ldap_ports[] = { 389, 636, 3268, 3269, 0 };

const struct id_module id_mod_ldap = {
	.name = "ldap",
	.summary = "LDAPv3 (RFC 4511: anonymous root DSE search: vendor, naming contexts)",
	.flags = ID_F_PROBE | ID_F_INNER,
	.weight = 120,
	.ports = ldap_ports,
	.start = ldap_start,
	.on_readable = ldap_readable,
};
