/*
 * The udp module's payload table (pps_udp_payloads.h): a line parser that checks
 * everything once, at option time, and names file and line in its one error line.
 */
#include "pps_udp_payloads.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../pps_data.h"

#define BUILTIN_NAME "data/udp-payloads.conf"

/* A parse in progress: where we are, for the error line. */
struct lp {
	const char *origin;
	unsigned line;
	char *why;
	size_t whylen;
};

__attribute__((format(printf, 2, 3))) static int bad(struct lp *lp, const char *fmt, ...)
{
	va_list ap;
	int n = lp->origin ? snprintf(lp->why, lp->whylen, "%s:%u: ", lp->origin, lp->line) : 0;

	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < lp->whylen)
		vsnprintf(lp->why + n, lp->whylen - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* hex:... to the end of @s (spaces and tabs between digit pairs allowed). */
static int parse_hex(struct lp *lp, const char *s, struct pps_udp_payload *p)
{
	p->len = 0;
	for (; *s; s++) {
		int hi, lo;

		if (*s == ' ' || *s == '\t')
			continue;
		if ((hi = hexval(s[0])) < 0 || (lo = hexval(s[1])) < 0)
			return bad(lp, "payload: '%.8s' is not a pair of hex digits", s);
		if (p->len == PPS_UDP_PAYLOAD_MAX)
			return bad(lp, "payload longer than %d bytes", PPS_UDP_PAYLOAD_MAX);
		p->bytes[p->len++] = (uint8_t)(hi << 4 | lo);
		s++;
	}
	return 0;
}

/*
 * Escaped text from @s up to the closing quote @q (0: the end of @s, for text:STR); ${cookie}
 * places are noted. Sets *@end past the quote.
 */
static int parse_text(struct lp *lp, const char *s, char q, struct pps_udp_payload *p,
		      const char **end)
{
	p->len = 0;
	for (;;) {
		int c = (unsigned char)*s++;

		if (q && c == q)
			break;
		if (!c) {
			if (q)
				return bad(lp, "payload: no closing quote");
			s--;
			break;
		}
		if (c == '$' && !strncmp(s, "{cookie}", 8)) {
			if (p->n_text == PPS_UDP_TEXT_MAX)
				return bad(lp, "more than %d ${cookie} places", PPS_UDP_TEXT_MAX);
			if (p->len + PPS_UDP_COOKIE_HEX > PPS_UDP_PAYLOAD_MAX)
				return bad(lp, "payload longer than %d bytes", PPS_UDP_PAYLOAD_MAX);
			p->text_off[p->n_text++] = p->len;
			memset(p->bytes + p->len, '0', PPS_UDP_COOKIE_HEX);
			p->len += PPS_UDP_COOKIE_HEX;
			s += 8;
			continue;
		}
		if (c == '\\') {
			int e = (unsigned char)*s++, hi, lo;

			switch (e) {
			case 'r': c = '\r'; break;
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case '0': c = 0; break;
			case '\\': c = '\\'; break;
			case '"': c = '"'; break;
			case 'x':
				if ((hi = hexval(s[0])) < 0 || (lo = hexval(s[1])) < 0)
					return bad(lp, "payload: \\x needs two hex digits");
				c = hi << 4 | lo;
				s += 2;
				break;
			default: return bad(lp, "payload: unknown escape '\\%c'", e ? e : '0');
			}
		}
		if (p->len == PPS_UDP_PAYLOAD_MAX)
			return bad(lp, "payload longer than %d bytes", PPS_UDP_PAYLOAD_MAX);
		p->bytes[p->len++] = (uint8_t)c;
	}
	*end = s;
	return 0;
}

/* A decimal in [0, @max] at *@s, advancing it. */
static int number(const char **s, unsigned max, unsigned *out)
{
	char *e;
	unsigned long v;

	if (!isdigit((unsigned char)**s))
		return -1;
	v = strtoul(*s, &e, 10);
	if (v > max)
		return -1;
	*s = e;
	*out = (unsigned)v;
	return 0;
}

static int parse_check(struct lp *lp, const char *tok, size_t len, struct pps_udp_payload *p)
{
	char buf[64];
	const char *s = buf;
	unsigned off, clen, roff;

	if (len >= sizeof(buf))
		return bad(lp, "unknown check '%.20s...'", tok);
	memcpy(buf, tok, len);
	buf[len] = '\0';
	if (!strcmp(buf, "sport=any")) {
		p->any_sport = 1;
		return 0;
	}
	if (p->echo != PPS_UDP_ECHO_NONE &&
	    (!strncmp(buf, "echo=", 5) || !strncmp(buf, "snmp-id=", 8)))
		return bad(lp, "'%s': one echo or snmp-id check per line", buf);
	if (!strncmp(buf, "snmp-id=", 8)) {
		s += 8;
		if (number(&s, PPS_UDP_PAYLOAD_MAX, &off) || *s)
			return bad(lp, "'%s': expected snmp-id=OFFSET", buf);
		p->echo = PPS_UDP_ECHO_SNMP;
		p->off = (uint16_t)off;
		p->clen = 4;
		return 0;
	}
	if (strncmp(buf, "echo=", 5))
		return bad(lp,
			   "unknown check '%s' (echo=OFF+LEN[@ROFF|@any], snmp-id=OFF, "
			   "sport=any)",
			   buf);
	s += 5;
	if (number(&s, PPS_UDP_PAYLOAD_MAX, &off) || *s++ != '+' || number(&s, 16, &clen) ||
	    clen == 0)
		return bad(lp, "'%s': expected echo=OFF+LEN, LEN 1 to 16", buf);
	p->echo = PPS_UDP_ECHO_AT;
	roff = off;
	if (*s == '@') {
		s++;
		if (!strcmp(s, "any")) {
			p->echo = PPS_UDP_ECHO_ANY;
			s += 3;
		} else if (number(&s, PPS_UDP_PAYLOAD_MAX, &roff)) {
			return bad(lp, "'%s': expected @REPLY-OFFSET or @any", buf);
		}
	}
	if (*s)
		return bad(lp, "'%s': unexpected '%s'", buf, s);
	p->off = (uint16_t)off;
	p->clen = (uint16_t)clen;
	p->roff = (uint16_t)roff;
	return 0;
}

/* The ports field: N, N-M, lists of those; marks them in @mark (65536 bytes). */
static int parse_ports(struct lp *lp, const char *tok, size_t len, uint8_t *mark)
{
	const char *s = tok, *end = tok + len;

	while (s < end) {
		unsigned a, b;

		if (number(&s, 65535, &a) || a == 0)
			return bad(lp, "bad port in '%.*s' (1 to 65535)", (int)len, tok);
		b = a;
		if (s < end && *s == '-') {
			s++;
			if (number(&s, 65535, &b) || b < a)
				return bad(lp, "bad port range in '%.*s'", (int)len, tok);
		}
		if (s < end && *s++ != ',')
			return bad(lp, "bad port list '%.*s'", (int)len, tok);
		for (unsigned q = a; q <= b; q++)
			mark[q] = 1;
	}
	return 0;
}

/* The payload's own consistency: its checks lie inside it. */
static int payload_checks(struct lp *lp, const struct pps_udp_payload *p)
{
	if (p->echo != PPS_UDP_ECHO_NONE && p->off + p->clen > p->len)
		return bad(lp, "%s: cookie bytes %u..%u lie outside the %u-byte payload", p->name,
			   p->off, p->off + p->clen - 1, p->len);
	if (p->echo == PPS_UDP_ECHO_SNMP &&
	    (p->off < 2 || p->bytes[p->off - 2] != 0x02 || p->bytes[p->off - 1] != 4))
		return bad(lp, "%s: snmp-id=%u does not follow an INTEGER header (02 04)", p->name,
			   p->off);
	return 0;
}

static int parse_line(struct lp *lp, const char *s, struct pps_udp_table *t, uint8_t *seen)
{
	struct pps_udp_payload *p = &t->p[t->n];
	uint8_t *mark = seen + 65536;
	const char *tok;
	size_t len;
	int rc;

	memset(p, 0, sizeof(*p));
	memset(mark, 0, 65536);
	/* ports */
	len = strcspn(s, " \t");
	if ((rc = parse_ports(lp, s, len, mark)))
		return rc;
	s += len;
	s += strspn(s, " \t");
	/* name */
	len = strcspn(s, " \t");
	if (!len)
		return bad(lp, "a name must follow the ports");
	if (len >= sizeof(p->name) ||
	    strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		      "0123456789_.-") < len)
		return bad(lp, "bad name '%.*s' (1 to 23 of A-Z a-z 0-9 _ . -)", (int)len, s);
	memcpy(p->name, s, len);
	s += len;
	/* checks, then the payload */
	for (;;) {
		s += strspn(s, " \t");
		if (!*s)
			return bad(lp, "%s: no payload (hex:... or \"text\")", p->name);
		if (*s == '"' || !strncmp(s, "hex:", 4))
			break;
		tok = s;
		len = strcspn(s, " \t");
		if ((rc = parse_check(lp, tok, len, p)))
			return rc;
		s += len;
	}
	if (*s == '"') {
		if ((rc = parse_text(lp, s + 1, '"', p, &s)))
			return rc;
		s += strspn(s, " \t");
		if (*s && *s != '#')
			return bad(lp, "%s: unexpected '%.20s' after the payload", p->name, s);
	} else if ((rc = parse_hex(lp, s + 4, p))) {
		return rc;
	}
	if ((rc = payload_checks(lp, p)))
		return rc;
	for (unsigned q = 1; q < 65536; q++) {
		if (!mark[q])
			continue;
		if (seen[q])
			return bad(lp, "port %u has a payload already (%s)", q,
				   t->p[t->by_port[q] - 1].name);
		seen[q] = 1;
		t->by_port[q] = (uint16_t)(t->n + 1);
		if (p->any_sport) {
			if (t->n_any_sport == PPS_UDP_ANY_SPORT_MAX)
				return bad(lp, "more than %d ports with sport=any",
					   PPS_UDP_ANY_SPORT_MAX);
			t->any_sport[t->n_any_sport++] = (uint16_t)q;
		}
	}
	if (p->len > t->max_len)
		t->max_len = p->len;
	t->n++;
	return 0;
}

int pps_udp_table_parse(struct pps_udp_table *t, const char *text, const char *origin, char *why,
			size_t whylen)
{
	struct lp lp = { origin, 0, why, whylen };
	unsigned lines = 1, cap;
	uint8_t *seen;
	int rc = 0;

	memset(t, 0, sizeof(*t));
	for (const char *c = text; *c; c++)
		lines += *c == '\n';
	cap = lines < 65535 ? lines : 65535;
	t->p = calloc(cap, sizeof(*t->p));
	t->by_port = calloc(65536, sizeof(*t->by_port));
	seen = calloc(2, 65536);
	if (!t->p || !t->by_port || !seen) {
		free(seen);
		snprintf(why, whylen, "%s: out of memory", origin);
		return -ENOMEM;
	}
	snprintf(t->dflt.name, sizeof(t->dflt.name), "empty");
	for (const char *s = text; *s && !rc;) {
		const char *nl = strchr(s, '\n');
		size_t len = nl ? (size_t)(nl - s) : strlen(s);
		char *line = malloc(len + 1);

		lp.line++;
		if (!line) {
			rc = -ENOMEM;
			break;
		}
		memcpy(line, s, len);
		line[len] = '\0';
		if (len && line[len - 1] == '\r')
			line[len - 1] = '\0';
		{
			const char *b = line + strspn(line, " \t");

			if (*b && *b != '#')
				rc = parse_line(&lp, b, t, seen);
		}
		free(line);
		s += len + (nl != NULL);
	}
	free(seen);
	if (t->dflt.len > t->max_len)
		t->max_len = t->dflt.len;
	return rc;
}

static int read_file(const char *path, char **out, size_t *len, char *why, size_t whylen)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0;

	if (!f) {
		snprintf(why, whylen, "cannot open '%s': %s", path, strerror(errno));
		return -EINVAL;
	}
	for (;;) {
		size_t r;

		if (n + 4096 + 1 > cap) {
			char *nb = realloc(buf, cap = cap * 2 + 8192);

			if (!nb) {
				free(buf);
				fclose(f);
				snprintf(why, whylen, "%s: out of memory", path);
				return -ENOMEM;
			}
			buf = nb;
		}
		r = fread(buf + n, 1, 4096, f);
		n += r;
		if (r < 4096)
			break;
		if (n > 16 << 20) {
			free(buf);
			fclose(f);
			snprintf(why, whylen, "'%s' is larger than 16 MiB", path);
			return -EINVAL;
		}
	}
	if (ferror(f)) {
		free(buf);
		fclose(f);
		snprintf(why, whylen, "cannot read '%s'", path);
		return -EINVAL;
	}
	fclose(f);
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

int pps_udp_table_from_args(struct pps_udp_table *t, const char *args, char *why, size_t whylen)
{
	struct lp lp = { NULL, 1, why, whylen }; /* the caller names --probe-args */
	char *text;
	size_t len;
	int rc;

	if (!args || !*args)
		return pps_udp_table_parse(t, pps_udp_payloads_conf, BUILTIN_NAME, why, whylen);
	if (!strncmp(args, "payloads:", 9)) {
		if ((rc = read_file(args + 9, &text, &len, why, whylen)))
			return rc;
		if (strlen(text) != len) {
			free(text);
			snprintf(why, whylen, "'%s' holds a NUL byte: not a payload table",
				 args + 9);
			return -EINVAL;
		}
		rc = pps_udp_table_parse(t, text, args + 9, why, whylen);
		free(text);
		return rc;
	}
	memset(t, 0, sizeof(*t));
	if (!strncmp(args, "text:", 5)) {
		const char *end;

		snprintf(t->dflt.name, sizeof(t->dflt.name), "text");
		rc = parse_text(&lp, args + 5, 0, &t->dflt, &end);
		if (!rc && t->dflt.n_text) /* a place needs a check: give it one line of a table */
			rc = bad(&lp, "${cookie} needs a payload table (payloads:PATH)");
	} else if (!strncmp(args, "hex:", 4)) {
		snprintf(t->dflt.name, sizeof(t->dflt.name), "hex");
		rc = parse_hex(&lp, args + 4, &t->dflt);
	} else if (!strncmp(args, "file:", 5)) {
		snprintf(t->dflt.name, sizeof(t->dflt.name), "file");
		if ((rc = read_file(args + 5, &text, &len, why, whylen)))
			return rc;
		if (len > PPS_UDP_PAYLOAD_MAX) {
			snprintf(why, whylen, "'%s' holds %zu bytes, more than a datagram's %d",
				 args + 5, len, PPS_UDP_PAYLOAD_MAX);
			rc = -EINVAL;
		} else {
			memcpy(t->dflt.bytes, text, len);
			t->dflt.len = (uint16_t)len;
		}
		free(text);
	} else {
		snprintf(why, whylen,
			 "expected payloads:PATH (a payload table), text:STR, hex:HEX or "
			 "file:PATH (one payload for every port)");
		rc = -EINVAL;
	}
	t->max_len = t->dflt.len;
	return rc;
}

void pps_udp_table_free(struct pps_udp_table *t)
{
	free(t->p);
	free(t->by_port);
	t->p = NULL;
	t->by_port = NULL;
	t->n = 0;
}
