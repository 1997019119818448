/*
 * mod_smtp.c - SMTP (RFC 5321; STARTTLS RFC 3207). Server-first: the greeting is a reply
 * (id_text_reply) "220 domain ESMTP ..." (or 554, service refused, 4.3.2). A 220/554 greeting
 * that names SMTP, ESMTP or a mail server is claimed; the module sends "EHLO" and reads the
 * extension list of the 250 reply (4.1.1.1). With STARTTLS offered (and not already inside
 * TLS) it sends STARTTLS and, on "220", hands the connection to TLS.
 * Record: "smtp": {banner, code, hostname, extensions, starttls}; product/version from
 * smtp.conf.
 */
#include <string.h>

#include "id_module.h"
#include "id_util.h"

enum {
	SMTP_EHLO = 1,
	SMTP_STARTTLS
};

struct smtp_state {
	uint8_t step;
};

static int has_word(const uint8_t *d, size_t n, const char *w)
{
	for (size_t i = 0; i < n; i++)
		if (id_prefix(d + i, n - i, w, 1) == ID_MATCH)
			return 1;
	return 0;
}

static int smtp_greeting(struct id_conn *c, struct smtp_state *st, const uint8_t *d, size_t n)
{
	int code;
	size_t len;
	int r = id_text_reply(d, n, &code, &len);
	json_t *o;

	if (r != ID_MATCH)
		return r == ID_MORE && !id_ended(c) ? ID_MORE : ID_NO;
	if ((code != 220 && code != 554 && code != 421) ||
	    !(has_word(d, len, "SMTP") || has_word(d, len, "Postfix") || has_word(d, len, "Exim") ||
	      has_word(d, len, "Sendmail") || has_word(d, len, " mail")))
		return ID_NO;
	o = id_obj(c);
	if (o) {
		size_t sp;

		json_object_set_new(o, "banner", id_json_text(d, len));
		json_object_set_new(o, "code", json_integer(code));
		/* "220 domain ..." (RFC 5321 4.2: Greeting = "220 " (Domain / address-literal)) */
		for (sp = 4; sp < len && d[sp] != ' ' && d[sp] != '\r' && d[sp] != '\n'; sp++)
			;
		if (len > 4 && sp > 4)
			json_object_set_new(o, "hostname", id_json_text(d + 4, sp - 4));
	}
	id_fingerprint(c, d, id_text_len(d, len));
	id_consume(c, len);
	if (code != 220 || id_send_str(c, "EHLO ppscan-id.invalid\r\n"))
		return ID_MATCH;
	st->step = SMTP_EHLO;
	return ID_CLAIM;
}

static int smtp_readable(struct id_conn *c, void *stp, const uint8_t *d, size_t n)
{
	struct smtp_state *st = stp;
	int code, r, tls;
	size_t len;
	json_t *o;

	if (id_phase(c) != ID_PHASE_DIALOGUE)
		return smtp_greeting(c, st, d, n);
	r = id_text_reply(d, n, &code, &len);
	if (r == ID_MORE && !id_ended(c))
		return ID_MORE;
	if (st->step == SMTP_STARTTLS)
		return r == ID_MATCH && code == 220 ? ID_STARTTLS : ID_MATCH;
	if (r != ID_MATCH || code != 250)
		return ID_MATCH; /* EHLO refused: still an SMTP server */
	o = id_obj(c);
	tls = 0;
	if (o) {
		json_t *lines = id_reply_lines(d, len), *ext = json_array();
		size_t i;
		json_t *v;

		/* the first line is the server's domain and greeting, then one keyword a line */
		json_array_foreach(lines, i, v)
		{
			const char *s = json_string_value(v);

			if (i == 0 || !s)
				continue;
			json_array_append_new(ext, json_string(s));
			if (!strncasecmp(s, "STARTTLS", 8) && (s[8] == 0 || s[8] == ' '))
				tls = 1;
		}
		json_decref(lines);
		json_object_set_new(o, "extensions", ext);
		json_object_set_new(o, "starttls", json_boolean(tls));
	}
	id_consume(c, len);
	if (!tls || id_in_tls(c) || id_send_str(c, "STARTTLS\r\n"))
		return ID_MATCH;
	st->step = SMTP_STARTTLS;
	return ID_CLAIM;
}

static const uint16_t smtp_ports[] = { 25, 587, 465, 2525, 0 };

const struct id_module id_mod_smtp = {
	.name = "smtp",
	.summary = "SMTP (RFC 5321 greeting, EHLO extensions, STARTTLS into TLS)",
	.flags = ID_F_GREETING | ID_F_REACT | ID_F_INNER,
	.weight = 200,
	.ports = smtp_ports,
	.state_size = sizeof(struct smtp_state),
	.on_readable = smtp_readable,
};
