/*
 * The first-payload table of --banners (pps_first_payload.h): lines in the udp payload
 * table's format go to that parser (pps_udp_table_parse()), one call for the table and one
 * for the default line; this file adds only the two words of its own and the ClientHello.
 */
#include "pps_first_payload.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "../pps_data.h"
#include "pps_udp_payloads.h"

static int copy_payload(struct pps_first_payload *d, const char *name, const uint8_t *b, size_t len)
{
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->len = (uint16_t)len;
	d->bytes = malloc(len ? len : 1);
	if (!d->bytes)
		return -ENOMEM;
	memcpy(d->bytes, b, len);
	return 0;
}

/* @p's bytes with each ${host} replaced by @host into @out (PPS_FIRST_PAYLOAD_MAX). */
static int expand_host(const struct pps_udp_payload *p, const char *host, uint8_t *out, size_t *len)
{
	size_t n = 0, hl = strlen(host);

	for (size_t i = 0; i < p->len;) {
		if (p->len - i >= 7 && !memcmp(p->bytes + i, "${host}", 7)) {
			if (n + hl > PPS_FIRST_PAYLOAD_MAX)
				return -1;
			memcpy(out + n, host, hl);
			n += hl;
			i += 7;
			continue;
		}
		if (n == PPS_FIRST_PAYLOAD_MAX)
			return -1;
		out[n++] = p->bytes[i++];
	}
	*len = n;
	return 0;
}

int pps_first_table_load(struct pps_first_table *t, const char *text, const char *origin,
			 const char *sni, char *why, size_t whylen)
{
	struct pps_udp_table ut = { 0 }, dt = { 0 };
	char *rest = NULL, *dline = NULL, *line, *copy = NULL;
	uint8_t *buf = NULL;
	size_t cap, used = 0, len;
	unsigned lineno = 0, dlineno = 0;
	char tlsname[24] = "";
	int dtls = 0; /* the default line's payload is the ClientHello */
	int rc = -ENOMEM;

	memset(t, 0, sizeof(*t));
	if (!text)
		text = pps_first_payloads_conf;
	cap = strlen(text) + 64;
	copy = strdup(text);
	rest = calloc(1, cap);
	buf = malloc(PPS_FIRST_PAYLOAD_MAX);
	if (!copy || !rest || !buf)
		goto out;
	/* the table for the udp parser: comments kept as blank lines (line numbers stay), the
	 * default line taken out, tls-clienthello written as "" */
	for (char *next = copy; next;) {
		char *w, *nl = strchr(next, '\n');

		line = next;
		if (nl)
			*nl = '\0';
		next = nl ? nl + 1 : NULL;
		lineno++;
		if (!strncmp(line, "default", 7) && (line[7] == ' ' || line[7] == '\t')) {
			if (dline) {
				snprintf(why, whylen, "%s:%u: a second default line", origin,
					 lineno);
				rc = -EINVAL;
				goto out;
			}
			dline = line;
			dlineno = lineno;
			if ((w = strstr(line, "tls-clienthello")) != NULL) {
				dtls = 1;
				memcpy(w, "\"\"", 2);
				w[2] = '\0';
			}
			used += (size_t)snprintf(rest + used, cap - used, "\n");
			continue;
		}
		if ((w = strstr(line, "tls-clienthello")) && line[0] != '#') {
			char name[24] = "";

			sscanf(line, "%*s %23s", name);
			snprintf(tlsname, sizeof(tlsname), "%s", name);
			used += (size_t)snprintf(rest + used, cap - used, "%.*s\"\"\n",
						 (int)(w - line), line);
			continue;
		}
		used += (size_t)snprintf(rest + used, cap - used, "%s\n", line);
	}
	if (!dline) {
		snprintf(why, whylen, "%s: no default line (the payload for other ports)", origin);
		rc = -EINVAL;
		goto out;
	}
	if ((rc = pps_udp_table_parse(&ut, rest, origin, why, whylen)) < 0)
		goto out;
	snprintf(rest, cap, "1%s\n", dline + 7);
	if ((rc = pps_udp_table_parse(&dt, rest, origin, why, whylen)) < 0) {
		snprintf(why, whylen, "%s:%u: bad default line", origin, dlineno);
		goto out;
	}
	rc = -ENOMEM;
	t->p = calloc(ut.n + 1, sizeof(*t->p));
	t->by_port = calloc(65536, sizeof(*t->by_port));
	if (!t->p || !t->by_port)
		goto out;
	for (unsigned i = 0; i <= ut.n; i++) {
		const struct pps_udp_payload *p = i < ut.n ? &ut.p[i] : &dt.p[0];
		int n;

		if (p->echo != PPS_UDP_ECHO_NONE || p->n_text || p->any_sport) {
			snprintf(why, whylen, "%s: %s: first payloads take no checks or ${cookie}",
				 origin, p->name);
			rc = -EINVAL;
			goto out;
		}
		if ((i < ut.n && tlsname[0] && !strcmp(p->name, tlsname) && !p->len) ||
		    (i == ut.n && dtls)) {
			if ((n = pps_tls_client_hello(buf, PPS_FIRST_PAYLOAD_MAX, sni)) < 0)
				goto out;
			len = (size_t)n;
		} else if (expand_host(p, sni ? sni : "localhost", buf, &len) < 0) {
			snprintf(why, whylen, "%s: %s: payload longer than %d bytes", origin,
				 p->name, PPS_FIRST_PAYLOAD_MAX);
			rc = -EINVAL;
			goto out;
		}
		if ((rc = copy_payload(&t->p[i], p->name, buf, len)) < 0)
			goto out;
		t->n = i + 1;
		if (len > t->max_len)
			t->max_len = (uint16_t)len;
	}
	for (unsigned q = 0; q < 65536; q++)
		t->by_port[q] = ut.by_port[q] ? (uint16_t)(ut.by_port[q] - 1) : (uint16_t)ut.n;
	rc = 0;
out:
	pps_udp_table_free(&ut);
	pps_udp_table_free(&dt);
	free(copy);
	free(rest);
	free(buf);
	return rc;
}

void pps_first_table_free(struct pps_first_table *t)
{
	for (unsigned i = 0; t->p && i < t->n; i++)
		free(t->p[i].bytes);
	free(t->p);
	free(t->by_port);
	memset(t, 0, sizeof(*t));
}

/* A writer that remembers running out of room. */
struct w {
	uint8_t *b;
	size_t n, cap;
};

static void put(struct w *w, const void *p, size_t len)
{
	if (w->n + len <= w->cap)
		memcpy(w->b + w->n, p, len);
	w->n += len;
}

static void put8(struct w *w, unsigned v)
{
	uint8_t b = (uint8_t)v;

	put(w, &b, 1);
}

static void put16(struct w *w, unsigned v)
{
	put8(w, v >> 8);
	put8(w, v);
}

/* A 16-bit (or 24-bit with @three) length placeholder; patch() fills it. */
static size_t hold(struct w *w, int three)
{
	size_t at = w->n;

	put(w, "\0\0\0", three ? 3 : 2);
	return at;
}

static void patch(struct w *w, size_t at, int three)
{
	size_t len = w->n - at - (three ? 3 : 2);

	if (w->n > w->cap)
		return;
	if (three)
		w->b[at++] = (uint8_t)(len >> 16);
	w->b[at] = (uint8_t)(len >> 8);
	w->b[at + 1] = (uint8_t)len;
}

int pps_tls_client_hello(uint8_t *buf, size_t cap, const char *sni)
{
	static const uint16_t suites[] = { 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c,
					   0xc030, 0xcca9, 0xcca8, 0xc009, 0xc013, 0xc00a,
					   0xc014, 0x009c, 0x009d, 0x002f, 0x0035 };
	static const uint16_t groups[] = { 0x001d, 0x0017, 0x0018 };
	static const uint16_t sigalgs[] = { 0x0403, 0x0804, 0x0401, 0x0503, 0x0805,
					    0x0501, 0x0806, 0x0601, 0x0203, 0x0201 };
	uint8_t rnd[32 + 32 + 32];
	struct w w = { buf, 0, cap };
	size_t rec, hs, ext, e, l;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return -EIO;
	put8(&w, 0x16); /* handshake record, legacy version TLS 1.0 (RFC 8446 5.1) */
	put16(&w, 0x0301);
	rec = hold(&w, 0);
	put8(&w, 1); /* client_hello */
	hs = hold(&w, 1);
	put16(&w, 0x0303); /* legacy_version TLS 1.2 */
	put(&w, rnd, 32);
	put8(&w, 32); /* legacy_session_id: 32 bytes (middlebox compatibility, D.4) */
	put(&w, rnd + 32, 32);
	put16(&w, sizeof(suites));
	for (unsigned i = 0; i < sizeof(suites) / 2; i++)
		put16(&w, suites[i]);
	put8(&w, 1); /* compression: null */
	put8(&w, 0);
	ext = hold(&w, 0);
	if (sni && *sni) { /* server_name (RFC 6066 3) */
		size_t n = strlen(sni);

		put16(&w, 0x0000);
		put16(&w, (unsigned)(n + 5));
		put16(&w, (unsigned)(n + 3));
		put8(&w, 0); /* host_name */
		put16(&w, (unsigned)n);
		put(&w, sni, n);
	}
	put16(&w, 0x000a); /* supported_groups */
	e = hold(&w, 0);
	put16(&w, sizeof(groups));
	for (unsigned i = 0; i < sizeof(groups) / 2; i++)
		put16(&w, groups[i]);
	patch(&w, e, 0);
	put16(&w, 0x000b); /* ec_point_formats: uncompressed (RFC 8422 5.1.2) */
	put16(&w, 2);
	put8(&w, 1);
	put8(&w, 0);
	put16(&w, 0x000d); /* signature_algorithms */
	e = hold(&w, 0);
	put16(&w, sizeof(sigalgs));
	for (unsigned i = 0; i < sizeof(sigalgs) / 2; i++)
		put16(&w, sigalgs[i]);
	patch(&w, e, 0);
	put16(&w, 0x0010); /* ALPN (RFC 7301): http/1.1 */
	e = hold(&w, 0);
	l = hold(&w, 0);
	put8(&w, 8);
	put(&w, "http/1.1", 8);
	patch(&w, l, 0);
	patch(&w, e, 0);
	put16(&w, 0x0017); /* extended_master_secret (RFC 7627) */
	put16(&w, 0);
	put16(&w, 0xff01); /* renegotiation_info (RFC 5746): empty */
	put16(&w, 1);
	put8(&w, 0);
	put16(&w, 0x002b); /* supported_versions: 1.3, 1.2 */
	put16(&w, 5);
	put8(&w, 4);
	put16(&w, 0x0304);
	put16(&w, 0x0303);
	put16(&w, 0x002d); /* psk_key_exchange_modes: psk_dhe_ke */
	put16(&w, 2);
	put8(&w, 1);
	put8(&w, 1);
	put16(&w, 0x0033); /* key_share: X25519 */
	e = hold(&w, 0);
	l = hold(&w, 0);
	put16(&w, 0x001d);
	put16(&w, 32);
	put(&w, rnd + 64, 32);
	patch(&w, l, 0);
	patch(&w, e, 0);
	patch(&w, ext, 0);
	patch(&w, hs, 1);
	patch(&w, rec, 0);
	return w.n > cap ? -ENOSPC : (int)w.n;
}
