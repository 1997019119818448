/*
 * mod_ftp.c - FTP (RFC 959; FEAT RFC 2389; AUTH TLS RFC 4217). Server-first: the greeting
 * is a reply (id_text_reply) with code 220 (ready), 120 (ready soon) or 421 (not available).
 * A greeting that names FTP is claimed as FTP; a bare "220" that names neither FTP nor SMTP is
 * claimed too and settled by FEAT: a "211" feature list proves FTP, anything else leaves a
 * soft result. With "AUTH TLS" among the features (and not already inside TLS) the module
 * sends AUTH TLS and, on "234", hands the connection to TLS (STARTTLS).
 * Record: "ftp": {banner, code, features, auth_tls}; product/version from ftp.conf.
 */
#include <string.h>

#include "id_module.h"
#include "id_util.h"

enum {
	FTP_GREETED = 1,
	FTP_FEAT,
	FTP_AUTH
};

struct ftp_state {
	uint8_t step;
	uint8_t named; /* the greeting said "FTP" */
};

static int contains(const uint8_t *d, size_t n, const char *word)
{
	for (size_t i = 0; i < n; i++)
		if (id_prefix(d + i, n - i, word, 1) == ID_MATCH)
			return 1;
	return 0;
}

static int ftp_greeting(struct id_conn *c, struct ftp_state *st, const uint8_t *d, size_t n)
{
	int code;
	size_t len;
	int r = id_text_reply(d, n, &code, &len);
	json_t *o;

	if (r != ID_MATCH)
		return r == ID_MORE && !id_ended(c) ? ID_MORE : ID_NO;
	if (code != 220 && code != 120 && code != 421)
		return ID_NO;
	st->named = (uint8_t)contains(d, len, "FTP");
	if (!st->named && (contains(d, len, "SMTP") || contains(d, len, "mail")))
		return ID_NO; /* a mail server's greeting: mod_smtp's */
	o = id_obj(c);
	if (o) {
		json_object_set_new(o, "banner", id_json_text(d, len));
		json_object_set_new(o, "code", json_integer(code));
	}
	id_fingerprint(c, d, id_text_len(d, len));
	id_consume(c, len);
	if (code != 220 || id_send_str(c, "FEAT\r\n"))
		return st->named ? ID_MATCH : ID_SOFT;
	st->step = FTP_FEAT;
	return ID_CLAIM;
}

static int ftp_readable(struct id_conn *c, void *stp, const uint8_t *d, size_t n)
{
	struct ftp_state *st = stp;
	int code, r;
	size_t len;
	json_t *o;

	if (id_phase(c) != ID_PHASE_DIALOGUE)
		return ftp_greeting(c, st, d, n);
	r = id_text_reply(d, n, &code, &len);
	if (r == ID_MORE && !id_ended(c))
		return ID_MORE;
	o = id_obj(c);
	if (st->step == FTP_FEAT) {
		int auth = 0;

		if (r != ID_MATCH || code != 211)
			return st->named ? ID_MATCH : ID_SOFT;
		/* RFC 2389: "211-Features:" CRLF, one feature per line with a leading space */
		auth = contains(d, len, "AUTH TLS");
		if (o) {
			json_t *lines = id_reply_lines(d, len), *f = json_array();
			size_t i;
			json_t *v;

			json_array_foreach(lines, i, v)
			{
				const char *s = json_string_value(v);

				if (i > 0 && i + 1 < json_array_size(lines) && s)
					json_array_append_new(f, json_string(s + strspn(s, " ")));
			}
			json_decref(lines);
			json_object_set_new(o, "features", f);
			json_object_set_new(o, "auth_tls", json_boolean(auth));
		}
		id_consume(c, len);
		if (!auth || id_in_tls(c) || id_send_str(c, "AUTH TLS\r\n"))
			return ID_MATCH;
		st->step = FTP_AUTH;
		return ID_CLAIM;
	}
	/* AUTH TLS: 234 = go ahead (RFC 4217 4) */
	return r == ID_MATCH && code == 234 ? ID_STARTTLS : ID_MATCH;
}

static const uint16_t ftp_ports[] = { 21, 2121, 990, 0 };

const struct id_module id_mod_ftp = {
	.name = "ftp",
	.summary = "FTP (RFC 959 greeting, FEAT, AUTH TLS into TLS)",
	.flags = ID_F_GREETING | ID_F_REACT | ID_F_INNER,
	.weight = 200,
	.ports = ftp_ports,
	.state_size = sizeof(struct ftp_state),
	.on_readable = ftp_readable,
};
