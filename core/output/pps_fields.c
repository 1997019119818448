/*
 * The output fields (pps_fields.h). Names and meanings follow ZMap's output fields where
 * ZMap has them (saddr, sport, daddr, dport, seqnum, acknum, window, ttl, ipid,
 * classification, success, cooldown, timestamp_str, timestamp_ts, timestamp_us); status and
 * timestamp_unix are the Redis stream's values (open|closed, seconds.microseconds).
 */
#include "pps_fields.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../pps_targets.h"
#include "../fingerprint.h"
#include "../probe/pps_first_payload.h"
#include "../probe/pps_probe.h"
#include "pps_output.h"

#define NS 1000000000ULL

static void put_uint(struct pps_value *v, uint64_t u)
{
	v->kind = PPS_VAL_UINT;
	v->u = u;
}

static void put_str(struct pps_value *v, const char *s, size_t len)
{
	v->kind = PPS_VAL_STR;
	v->s = s;
	v->len = len;
}

/* Strict decimal in [lo, hi] for the journal's inverse functions. */
static int get_num(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return -1;
	v = strtoull(s, &end, 10);
	if (*end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

/* ---- the fields every probe kind has ---- */

static void get_saddr(const struct pps_result *r, struct pps_value *v, char *scratch)
{
	(void)scratch;
	v->kind = PPS_VAL_IPV4;
	v->u = r->saddr_h;
}

static int set_saddr(struct pps_result *r, const char *t)
{
	return pps_parse_ipv4(t, &r->saddr_h) ? -1 : 0;
}

static void get_daddr(const struct pps_result *r, struct pps_value *v, char *scratch)
{
	(void)scratch;
	v->kind = PPS_VAL_IPV4;
	v->u = r->daddr_h;
}

static void get_sport(const struct pps_result *r, struct pps_value *v, char *scratch)
{
	(void)scratch;
	put_uint(v, r->sport_h);
}

static int set_sport(struct pps_result *r, const char *t)
{
	uint64_t u;

	if (get_num(t, 1, 65535, &u))
		return -1;
	r->sport_h = (uint16_t)u;
	return 0;
}

static void get_dport(const struct pps_result *r, struct pps_value *v, char *scratch)
{
	(void)scratch;
	put_uint(v, r->dport_h);
}

static void get_ttl(const struct pps_result *r, struct pps_value *v, char *scratch)
{
	(void)scratch;
	put_uint(v, r->ttl);
}

static int set_ttl(struct pps_result *r, const char *t)
{
	uint64_t u;

	if (get_num(t, 0, 255, &u))
		return -1;
	r->ttl = (uint8_t)u;
	return 0;
}

static void get_ipid(const struct pps_result *r, struct pps_value *v, char *scratch)
{
	(void)scratch;
	put_uint(v, r->ipid_h);
}

static void get_classification(const struct pps_result *r, struct pps_value *v, char *scratch)
{
	const char *c = pps_result_class_name(r);

	(void)scratch;
	put_str(v, c, strlen(c));
}

static void get_success(const struct pps_result *r, struct pps_value *v, char *scratch)
{
	(void)scratch;
	v->kind = PPS_VAL_BOOL;
	v->u = (uint64_t)pps_result_success(r);
}

static void get_middlebox(const struct pps_result *r, struct pps_value *v, char *scratch)
{
	(void)scratch;
	v->kind = PPS_VAL_BOOL;
	v->u = r->middlebox;
}

static int set_middlebox(struct pps_result *r, const char *t)
{
	if (strcmp(t, "0") && strcmp(t, "1"))
		return -1;
	r->middlebox = t[0] == '1';
	return 0;
}

static void get_status(const struct pps_result *r, struct pps_value *v, char *scratch)
{
	const char *st = pps_result_status(r);

	(void)scratch;
	put_str(v, st, strlen(st));
}

/* "open", "closed" (or a module's own word): the first class of the result's module with
 * that status. */
static int set_status(struct pps_result *r, const char *t)
{
	const struct pps_probe_ops *p = pps_probe_by_id(r->probe);

	if (!p)
		return -1;
	for (unsigned c = 0; c < p->n_classes; c++) {
		const char *st = p->classes[c].status	 ? p->classes[c].status
				 : p->classes[c].success ? "open"
							 : "closed";

		if (!strcmp(st, t)) {
			r->classification = (uint8_t)c;
			return 0;
		}
	}
	return -1;
}

static void get_cooldown(const struct pps_result *r, struct pps_value *v, char *scratch)
{
	(void)scratch;
	v->kind = PPS_VAL_BOOL;
	v->u = r->cooldown != 0;
}

static void get_timestamp_str(const struct pps_result *r, struct pps_value *v, char *scratch)
{
	pps_output_format_timestamp(r->ts_ns, scratch, PPS_VALUE_SCRATCH);
	put_str(v, scratch, strlen(scratch));
}

static void get_timestamp_ts(const struct pps_result *r, struct pps_value *v, char *scratch)
{
	(void)scratch;
	put_uint(v, r->ts_ns / NS);
}

static void get_timestamp_us(const struct pps_result *r, struct pps_value *v, char *scratch)
{
	(void)scratch;
	put_uint(v, (r->ts_ns % NS) / 1000);
}

static size_t put_decimal(char *buf, uint64_t u);

/* Unix seconds with microseconds, "1764428184.123456", without printf. */
static void get_timestamp_unix(const struct pps_result *r, struct pps_value *v, char *scratch)
{
	uint64_t us = (r->ts_ns % NS) / 1000;
	size_t n = put_decimal(scratch, r->ts_ns / NS);

	scratch[n++] = '.';
	for (int d = 5; d >= 0; d--) {
		scratch[n + (size_t)d] = (char)('0' + us % 10);
		us /= 10;
	}
	n += 6;
	scratch[n] = '\0';
	put_str(v, scratch, n);
}

static int set_timestamp_unix(struct pps_result *r, const char *t)
{
	char *end;
	unsigned long long sec, us = 0;

	if (*t < '0' || *t > '9')
		return -1;
	sec = strtoull(t, &end, 10);
	if (*end == '.')
		us = strtoull(end + 1, &end, 10);
	if (*end || us > 999999)
		return -1;
	r->ts_ns = (uint64_t)sec * NS + (uint64_t)us * 1000;
	return 0;
}

/* ---- tcp_synscan ---- */

static void get_seqnum(const struct pps_result *r, struct pps_value *v, char *scratch)
{
	(void)scratch;
	put_uint(v, r->tcp.seq_h);
}

static void get_acknum(const struct pps_result *r, struct pps_value *v, char *scratch)
{
	(void)scratch;
	put_uint(v, r->tcp.ack_h);
}

static void get_window(const struct pps_result *r, struct pps_value *v, char *scratch)
{
	(void)scratch;
	put_uint(v, r->tcp.window_h);
}

/* ---- udp ---- */

static void get_udp_pkt_size(const struct pps_result *r, struct pps_value *v, char *scratch)
{
	(void)scratch;
	put_uint(v, r->udp.udp_len_h);
}

static int set_udp_pkt_size(struct pps_result *r, const char *t)
{
	uint64_t u;

	if (get_num(t, 0, 65535, &u))
		return -1;
	r->udp.udp_len_h = (uint16_t)u;
	return 0;
}

static unsigned data_len(const struct pps_result *r)
{
	return r->part_len < PPS_UDP_DATA_MAX ? r->part_len : PPS_UDP_DATA_MAX;
}

/* @n bytes at @b in lowercase hex (2 * n characters). */
static void put_hex(const uint8_t *b, unsigned n, struct pps_value *v, char *scratch)
{
	static const char hex[] = "0123456789abcdef";

	for (unsigned i = 0; i < n; i++) {
		scratch[2 * i] = hex[b[i] >> 4];
		scratch[2 * i + 1] = hex[b[i] & 15];
	}
	scratch[2 * n] = '\0';
	put_str(v, scratch, 2 * n);
}

/*
 * @n bytes at @b as text: printable ASCII as it is, backslash doubled, \r \n \t, any other
 * byte \xHH (at most 4 * n characters; CSV and JSON quote and escape the result further).
 */
static void put_text(const uint8_t *b, unsigned n, struct pps_value *v, char *scratch)
{
	static const char hex[] = "0123456789abcdef";
	size_t k = 0;

	for (unsigned i = 0; i < n; i++) {
		uint8_t c = b[i];

		if (c == '\\' || c == '\r' || c == '\n' || c == '\t') {
			scratch[k++] = '\\';
			scratch[k++] = c == '\\' ? '\\' : c == '\r' ? 'r' : c == '\n' ? 'n' : 't';
		} else if (c >= 0x20 && c < 0x7f) {
			scratch[k++] = (char)c;
		} else {
			scratch[k++] = '\\';
			scratch[k++] = 'x';
			scratch[k++] = hex[c >> 4];
			scratch[k++] = hex[c & 15];
		}
	}
	scratch[k] = '\0';
	put_str(v, scratch, k);
}

/* The reply's first bytes in hex (at most 2 * 88 characters). */
static void get_data(const struct pps_result *r, struct pps_value *v, char *scratch)
{
	put_hex(r->udp.data, data_len(r), v, scratch);
}

static int set_data(struct pps_result *r, const char *t)
{
	size_t n = strlen(t);

	if (n % 2 || n / 2 > PPS_UDP_DATA_MAX)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned b;

		if (sscanf(t + 2 * i, "%2x", &b) != 1 || !strchr("0123456789abcdef", t[2 * i]) ||
		    !strchr("0123456789abcdef", t[2 * i + 1]))
			return -1;
		r->udp.data[i] = (uint8_t)b;
	}
	r->part_len = (uint8_t)(n / 2);
	return 0;
}

/* The reply's first bytes as text (put_text()). */
static void get_data_text(const struct pps_result *r, struct pps_value *v, char *scratch)
{
	put_text(r->udp.data, data_len(r), v, scratch);
}

/* ---- tcp_synscan --banners: the first data segment and what the output side made of it ---- */

/* A data result's bytes, as the consumer's copy of it points at them (pps_result.h). */
static unsigned banner_bytes(const struct pps_result *r, const uint8_t **b)
{
	if (r->probe != PPS_PROBE_TCP_SYNSCAN || r->classification != PPS_CLASS_DATA ||
	    !r->banner.data)
		return 0;
	*b = r->banner.data;
	return r->banner.data_len_h;
}

static void get_banner_data(const struct pps_result *r, struct pps_value *v, char *scratch)
{
	const uint8_t *b = NULL;

	put_hex(b, banner_bytes(r, &b), v, scratch);
}

static void get_banner_text(const struct pps_result *r, struct pps_value *v, char *scratch)
{
	const uint8_t *b = NULL;

	put_text(b, banner_bytes(r, &b), v, scratch);
}

static void get_banner_len(const struct pps_result *r, struct pps_value *v, char *scratch)
{
	(void)scratch;
	put_uint(v, r->classification == PPS_CLASS_DATA ? r->banner.seg_len_h : 0);
}

/*
 * The journal's way back (out_redis_journal.c): a parsed result's banner pointers show the
 * parser's own copy (writable), which these fill.
 */
static int set_banner_data(struct pps_result *r, const char *t)
{
	uint8_t *d = (uint8_t *)(uintptr_t)r->banner.data;
	size_t n = strlen(t);

	if (n % 2 || n / 2 > PPS_FIRST_PAYLOAD_MAX || (n && !d))
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!strchr("0123456789abcdef", t[i]))
			return -1;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned b;

		if (sscanf(t + 2 * i, "%2x", &b) != 1)
			return -1;
		d[i] = (uint8_t)b;
	}
	r->banner.data_len_h = (uint16_t)(n / 2);
	if (!n && r->classification == PPS_CLASS_DATA)
		r->banner.data = NULL;
	return 0;
}

static int set_banner_len(struct pps_result *r, const char *t)
{
	char *end;
	unsigned long u = strtoul(t, &end, 10);

	if (!*t || *end || u > 65535)
		return -1;
	r->banner.seg_len_h = (uint16_t)u;
	return 0;
}

/* protocol, product, version into the parser's copy of the match (size @cap bytes at @at) */
static int set_id_str(struct pps_result *r, size_t off, size_t cap, const char *t)
{
	char *m = (char *)(uintptr_t)r->banner.id;
	size_t n = strlen(t);

	if (!n)
		return 0;
	if (!m || n >= cap)
		return -1;
	memcpy(m + off, t, n + 1);
	return 0;
}

static int set_protocol(struct pps_result *r, const char *t)
{
	return set_id_str(r, offsetof(struct pps_fp_match, protocol), PPS_FP_NAME_MAX, t);
}

static int set_product(struct pps_result *r, const char *t)
{
	return set_id_str(r, offsetof(struct pps_fp_match, product), PPS_FP_VALUE_MAX, t);
}

static int set_version(struct pps_result *r, const char *t)
{
	return set_id_str(r, offsetof(struct pps_fp_match, version), PPS_FP_VALUE_MAX, t);
}

/* protocol, product, version: the fingerprint match (core/fingerprint.h), "" without one */
static const struct pps_fp_match *banner_id(const struct pps_result *r)
{
	return r->probe == PPS_PROBE_TCP_SYNSCAN && r->classification == PPS_CLASS_DATA
		       ? r->banner.id
		       : NULL;
}

static void get_protocol(const struct pps_result *r, struct pps_value *v, char *scratch)
{
	const struct pps_fp_match *m = banner_id(r);

	(void)scratch;
	put_str(v, m ? m->protocol : "", m ? strlen(m->protocol) : 0);
}

static void get_product(const struct pps_result *r, struct pps_value *v, char *scratch)
{
	const struct pps_fp_match *m = banner_id(r);

	(void)scratch;
	put_str(v, m ? m->product : "", m ? strlen(m->product) : 0);
}

static void get_version(const struct pps_result *r, struct pps_value *v, char *scratch)
{
	const struct pps_fp_match *m = banner_id(r);

	(void)scratch;
	put_str(v, m ? m->version : "", m ? strlen(m->version) : 0);
}

static void get_icmp_responder(const struct pps_result *r, struct pps_value *v, char *scratch)
{
	(void)scratch;
	v->kind = PPS_VAL_IPV4;
	v->u = r->udp.icmp_src_h;
}

static int set_icmp_responder(struct pps_result *r, const char *t)
{
	return pps_parse_ipv4(t, &r->udp.icmp_src_h) ? -1 : 0;
}

static void get_icmp_type(const struct pps_result *r, struct pps_value *v, char *scratch)
{
	(void)scratch;
	put_uint(v, r->udp.icmp_type);
}

static int set_icmp_type(struct pps_result *r, const char *t)
{
	uint64_t u;

	if (get_num(t, 0, 255, &u))
		return -1;
	r->udp.icmp_type = (uint8_t)u;
	return 0;
}

static void get_icmp_code(const struct pps_result *r, struct pps_value *v, char *scratch)
{
	(void)scratch;
	put_uint(v, r->udp.icmp_code);
}

static int set_icmp_code(struct pps_result *r, const char *t)
{
	uint64_t u;

	if (get_num(t, 0, 255, &u))
		return -1;
	r->udp.icmp_code = (uint8_t)u;
	return 0;
}

/* The class by its name (the journal's classification column). */
static int set_classification(struct pps_result *r, const char *t)
{
	const struct pps_probe_ops *p = pps_probe_by_id(r->probe);

	for (unsigned c = 0; p && c < p->n_classes; c++)
		if (!strcmp(p->classes[c].name, t)) {
			r->classification = (uint8_t)c;
			return 0;
		}
	return -1;
}

#define FIELD(id, help, ...)                                                                       \
	static const struct pps_field f_##id = { #id, help, get_##id, __VA_ARGS__ }

FIELD(saddr, "the responding target's address", set_saddr);
FIELD(sport, "the responding target's port", set_sport);
FIELD(daddr, "our address the response came to", NULL);
FIELD(dport, "our port the response came to", NULL);
FIELD(seqnum, "the response's TCP sequence number", NULL);
FIELD(acknum, "the response's TCP acknowledgment number", NULL);
FIELD(window, "the response's TCP window", NULL);
FIELD(ttl, "the response's IP TTL", set_ttl);
FIELD(ipid, "the response's IP ID", NULL);
FIELD(classification, "what the response was (the probe module's name for it)", set_classification);
FIELD(success, "1 if the port is open", NULL);
FIELD(cooldown, "1 if the response came after the last probe was sent", NULL);
FIELD(timestamp_str, "receive time, ISO 8601 UTC with microseconds", NULL);
FIELD(timestamp_ts, "receive time, Unix seconds", NULL);
FIELD(timestamp_us, "receive time, the microseconds within the second", NULL);
FIELD(status, "open or closed (udp: also filtered, for an ICMP unreachable)", set_status);
FIELD(timestamp_unix, "receive time, Unix seconds with microseconds", set_timestamp_unix);

static const struct pps_field f_banner_data = {
	"data", "--banners: the first data segment's bytes (at most --banner-bytes) in hex",
	get_banner_data, set_banner_data
};
static const struct pps_field f_banner_text = {
	"data_text", "--banners: the same as text: printable ASCII, \\\\, \\r, \\n, \\t, \\xHH",
	get_banner_text, NULL
};
static const struct pps_field f_banner_len = {
	"data_len", "--banners: payload bytes of the first data segment (all, not only those kept)",
	get_banner_len, set_banner_len
};
FIELD(middlebox, "1 if the address answered on most probed ports (--middlebox-ports)",
      set_middlebox);
FIELD(protocol, "--banners: the protocol the first bytes name (data/fingerprints, TLS)",
      set_protocol);
FIELD(product, "--banners: the product the fingerprint names, or empty", set_product);
FIELD(version, "--banners: its version (TLS: the ServerHello's version and suite)", set_version);

const struct pps_field *const pps_fields_tcp_synscan[PPS_FIELDS_TCP_SYNSCAN_N] = {
	&f_saddr,    &f_sport,		&f_daddr,	  &f_dport,	   &f_seqnum,
	&f_acknum,   &f_window,		&f_ttl,		  &f_ipid,	   &f_classification,
	&f_success,  &f_cooldown,	&f_timestamp_str, &f_timestamp_ts, &f_timestamp_us,
	&f_status,   &f_timestamp_unix, &f_banner_data,	  &f_banner_text,  &f_banner_len,
	&f_protocol, &f_product,	&f_version,	  &f_middlebox,
};

FIELD(udp_pkt_size, "the reply's UDP payload length in bytes (ICMP: 0)", set_udp_pkt_size);
FIELD(data, "the reply's first bytes (at most 88) in hex", set_data);
FIELD(data_text, "the reply's first bytes as text: printable ASCII, \\\\, \\r, \\n, \\t, \\xHH",
      NULL);
FIELD(icmp_responder, "the ICMP error's sender (ICMP only, else 0.0.0.0)", set_icmp_responder);
FIELD(icmp_type, "the ICMP error's type (3: destination unreachable)", set_icmp_type);
FIELD(icmp_code, "the ICMP error's code (3: port unreachable)", set_icmp_code);

const struct pps_field *const pps_fields_udp[PPS_FIELDS_UDP_N] = {
	&f_saddr,	 &f_sport,	    &f_daddr,	       &f_dport,	  &f_ttl,
	&f_ipid,	 &f_classification, &f_success,	       &f_cooldown,	  &f_timestamp_str,
	&f_timestamp_ts, &f_timestamp_us,   &f_status,	       &f_timestamp_unix, &f_udp_pkt_size,
	&f_data,	 &f_data_text,	    &f_icmp_responder, &f_icmp_type,	  &f_icmp_code,
};

/* ---- selection ---- */

static const struct pps_field *find(const struct pps_probe_ops *p, const char *name, size_t len)
{
	for (unsigned k = 0; k < p->n_fields; k++)
		if (strlen(p->fields[k]->name) == len && !strncmp(p->fields[k]->name, name, len))
			return p->fields[k];
	return NULL;
}

int pps_fields_select(const struct pps_probe_ops *probe, const char *spec,
		      struct pps_field_sel *sel, char *why, size_t whylen)
{
	const char *s = spec;

	if (!probe)
		probe = pps_probe_default();
	sel->n = 0;
	if (!strcmp(spec, "*")) {
		for (unsigned k = 0; k < probe->n_fields && k < PPS_MAX_FIELDS; k++) {
			sel->f[k] = probe->fields[k];
			sel->name[k] = probe->fields[k]->name;
		}
		sel->n = probe->n_fields < PPS_MAX_FIELDS ? probe->n_fields : PPS_MAX_FIELDS;
		return 0;
	}
	for (;;) {
		const char *e = strchr(s, ','), *eq;
		size_t len = e ? (size_t)(e - s) : strlen(s), alen = 0;
		const struct pps_field *f;

		eq = memchr(s, '=', len);
		if (eq) { /* alias=field: the field written under another name */
			alen = (size_t)(eq - s);
			f = find(probe, eq + 1, len - alen - 1);
		} else {
			f = find(probe, s, len);
		}
		if (!f) {
			snprintf(why, whylen, "unknown field '%.*s'%s%s%s", (int)len, s,
				 probe == pps_probe_default() ? "" : " for probe module ",
				 probe == pps_probe_default() ? "" : probe->name,
				 " (--list-output-fields lists them)");
			return -EINVAL;
		}
		for (unsigned i = 0; i < sel->n; i++)
			if (sel->f[i] == f && !eq) {
				snprintf(why, whylen, "field '%.*s' given twice", (int)len, s);
				return -EINVAL;
			}
		if (sel->n == PPS_MAX_FIELDS) {
			snprintf(why, whylen, "more than %d fields", PPS_MAX_FIELDS);
			return -EINVAL;
		}
		sel->f[sel->n] = f;
		sel->name[sel->n] = f->name;
		if (eq) {
			snprintf(sel->alias[sel->n], sizeof(sel->alias[0]), "%.*s", (int)alen, s);
			sel->name[sel->n] = sel->alias[sel->n];
		}
		sel->n++;
		if (!e)
			return 0;
		s = e + 1;
	}
}

/* @u in decimal at @buf, without printf (a sink formats several numbers per result). */
static size_t put_decimal(char *buf, uint64_t u)
{
	char tmp[20];
	size_t n = 0, k = 0;

	do {
		tmp[k++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	while (k)
		buf[n++] = tmp[--k];
	return n;
}

const char *pps_value_text(const struct pps_value *v, char *buf, size_t *len)
{
	size_t n = 0;

	switch (v->kind) {
	case PPS_VAL_STR: *len = v->len; return v->s;
	case PPS_VAL_IPV4:
		for (int sh = 24; sh >= 0; sh -= 8) {
			n += put_decimal(buf + n, (v->u >> sh) & 0xff);
			if (sh)
				buf[n++] = '.';
		}
		break;
	case PPS_VAL_BOOL: buf[n++] = v->u ? '1' : '0'; break;
	case PPS_VAL_UINT: n = put_decimal(buf, v->u); break;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

void pps_fields_list(const struct pps_probe_ops *probe, FILE *out)
{
	if (!probe)
		probe = pps_probe_default();
	fprintf(out, "output fields of probe module %s (-f NAME,..., or -f '*' for all):\n",
		probe->name);
	for (unsigned k = 0; k < probe->n_fields; k++)
		fprintf(out, "  %-16s %s\n", probe->fields[k]->name, probe->fields[k]->help);
}
