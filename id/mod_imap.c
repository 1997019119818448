/*
 * mod_imap.c - IMAP (RFC 9051, RFC 3501; STARTTLS RFC 9051 6.2.1). Server-first: the
 * greeting is an untagged "* OK", "* PREAUTH" or "* BYE" line (7.1), often with a
 * [CAPABILITY ...] response code. Claimed, the module sends "a1 CAPABILITY" and reads the
 * untagged "* CAPABILITY" line up to the tagged "a1 OK"; with STARTTLS offered (and not
 * already inside TLS) it sends "a2 STARTTLS" and, on "a2 OK", hands the connection to TLS.
 * Record: "imap": {banner, capabilities, starttls}; product/version from imap.conf.
 */
#include <string.h>

#include "id_module.h"
#include "id_util.h"

#define IMAP_LINE_MAX 8192

enum {
	IMAP_CAPA = 1,
	IMAP_STARTTLS
};

struct imap_state {
	uint8_t step;
};

/* Capabilities (space-separated atoms after "CAPABILITY") of @d into @o; 1 if STARTTLS. */
static int caps(json_t *o, const uint8_t *d, size_t n)
{
	const uint8_t *p = NULL;
	size_t rest;
	int tls = 0;
	json_t *a;

	for (size_t i = 0; i + 10 <= n; i++)
		if (id_prefix(d + i, n - i, "CAPABILITY", 1) == ID_MATCH) {
			p = d + i + 10;
			break;
		}
	if (!p)
		return 0;
	rest = (size_t)(d + n - p);
	for (size_t i = 0; i < rest; i++)
		if (p[i] == ']' || p[i] == '\r' || p[i] == '\n') {
			rest = i;
			break;
		}
	a = id_json_list(p, rest, ' ');
	for (size_t i = 0; i < json_array_size(a); i++)
		if (!strcasecmp(json_string_value(json_array_get(a, i)), "STARTTLS"))
			tls = 1;
	if (o) {
		json_object_set_new(o, "capabilities", a);
		json_object_set_new(o, "starttls", json_boolean(tls));
	} else {
		json_decref(a);
	}
	return tls;
}

/* Offset after the line that starts with @tag, 0 if it has not arrived. */
static size_t tagged_end(const uint8_t *d, size_t n, const char *tag, int *ok)
{
	size_t pos = 0, tl = strlen(tag);

	while (pos < n) {
		size_t l = id_line_len(d + pos, n - pos);

		if (!l)
			return 0;
		if (l > tl && !memcmp(d + pos, tag, tl)) {
			*ok = id_prefix(d + pos + tl, l - tl, "OK", 1) == ID_MATCH;
			return pos + l;
		}
		pos += l;
	}
	return 0;
}

static int imap_readable(struct id_conn *c, void *stp, const uint8_t *d, size_t n)
{
	struct imap_state *st = stp;
	size_t l = id_line_len(d, n), end;
	json_t *o;
	int ok = 0;

	if (id_phase(c) != ID_PHASE_DIALOGUE) {
		int r1 = id_prefix(d, n, "* OK", 1), r2 = id_prefix(d, n, "* PREAUTH", 1),
		    r3 = id_prefix(d, n, "* BYE", 1);

		if (r1 != ID_MATCH && r2 != ID_MATCH && r3 != ID_MATCH)
			return (r1 == ID_MORE || r2 == ID_MORE || r3 == ID_MORE) && !id_ended(c)
				       ? ID_MORE
				       : ID_NO;
		if (!l)
			return n <= IMAP_LINE_MAX && !id_ended(c) ? ID_MORE : ID_NO;
		if (!id_is_text(d, l))
			return ID_NO;
		o = id_obj(c);
		if (o)
			json_object_set_new(o, "banner", id_json_text(d, l));
		caps(o, d, l);
		id_fingerprint(c, d, id_text_len(d, l));
		id_consume(c, l);
		if (r3 == ID_MATCH || id_send_str(c, "a1 CAPABILITY\r\n"))
			return ID_MATCH;
		st->step = IMAP_CAPA;
		return ID_CLAIM;
	}
	if (st->step == IMAP_STARTTLS) {
		end = tagged_end(d, n, "a2 ", &ok);
		if (!end)
			return id_ended(c) ? ID_MATCH : ID_MORE;
		return ok ? ID_STARTTLS : ID_MATCH;
	}
	end = tagged_end(d, n, "a1 ", &ok);
	if (!end)
		return id_ended(c) ? ID_MATCH : ID_MORE;
	o = id_obj(c);
	if (!caps(o, d, end) || id_in_tls(c)) {
		id_consume(c, end);
		return ID_MATCH;
	}
	id_consume(c, end);
	if (id_send_str(c, "a2 STARTTLS\r\n"))
		return ID_MATCH;
	st->step = IMAP_STARTTLS;
	return ID_CLAIM;
}

static const uint16_t imap_ports[] = { 143, 993, 1143, 0 };

const struct id_module id_mod_imap = {
	.name = "imap",
	.summary = "IMAP (RFC 9051 greeting, CAPABILITY, STARTTLS into TLS)",
	.flags = ID_F_GREETING | ID_F_REACT | ID_F_INNER,
	.weight = 150,
	.ports = imap_ports,
	.state_size = sizeof(struct imap_state),
	.on_readable = imap_readable,
};
