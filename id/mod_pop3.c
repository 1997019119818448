/*
 * mod_pop3.c - POP3 (RFC 1939; CAPA RFC 2449; STLS RFC 2595). Server-first: the greeting
 * is one line "+OK text" (4). Claimed, the module sends CAPA and reads the multi-line reply
 * ("+OK", capability lines, "." alone: RFC 2449 5); with STLS offered (and not already
 * inside TLS) it sends STLS and, on "+OK", hands the connection to TLS.
 * Record: "pop3": {banner, capabilities, stls}; product/version from pop3.conf.
 */
#include <string.h>

#include "id_module.h"
#include "id_util.h"

#define POP3_LINE_MAX 512 /* RFC 2449 4: responses up to 512 octets */

enum {
	POP3_CAPA = 1,
	POP3_STLS
};

struct pop3_state {
	uint8_t step;
};

/* End of a multi-line reply: offset after the "." CRLF line, 0 if not complete. */
static size_t multiline_end(const uint8_t *d, size_t n)
{
	size_t pos = 0;

	while (pos < n) {
		size_t l = id_line_len(d + pos, n - pos);

		if (!l)
			return 0;
		if (pos && id_text_len(d + pos, l) == 1 && d[pos] == '.')
			return pos + l;
		pos += l;
	}
	return 0;
}

static int pop3_readable(struct id_conn *c, void *stp, const uint8_t *d, size_t n)
{
	struct pop3_state *st = stp;
	size_t l = id_line_len(d, n), end;
	json_t *o;
	int r;

	if (id_phase(c) != ID_PHASE_DIALOGUE) {
		r = id_prefix(d, n, "+OK", 0);
		if (r != ID_MATCH)
			return r == ID_MORE && !id_ended(c) ? ID_MORE : ID_NO;
		if (!l)
			return n <= POP3_LINE_MAX && !id_ended(c) ? ID_MORE : ID_NO;
		if (l > POP3_LINE_MAX || !id_is_text(d, l) ||
		    (l > 3 && d[3] != ' ' && d[3] != '\r'))
			return ID_NO;
		o = id_obj(c);
		if (o)
			json_object_set_new(o, "banner", id_json_text(d, l));
		id_fingerprint(c, d, id_text_len(d, l));
		id_consume(c, l);
		if (id_send_str(c, "CAPA\r\n"))
			return ID_MATCH;
		st->step = POP3_CAPA;
		return ID_CLAIM;
	}
	if (st->step == POP3_STLS) {
		if (!l)
			return id_ended(c) ? ID_MATCH : ID_MORE;
		return id_prefix(d, n, "+OK", 0) == ID_MATCH ? ID_STARTTLS : ID_MATCH;
	}
	if (!l)
		return id_ended(c) ? ID_MATCH : ID_MORE;
	if (id_prefix(d, n, "+OK", 0) != ID_MATCH)
		return ID_MATCH; /* CAPA not supported (RFC 1939 servers): still POP3 */
	end = multiline_end(d, n);
	if (!end)
		return id_ended(c) ? ID_MATCH : ID_MORE;
	o = id_obj(c);
	{
		json_t *caps = json_array();
		int stls = 0;
		size_t pos = l;

		while (pos < end) {
			size_t ll = id_line_len(d + pos, end - pos), t = id_text_len(d + pos, ll);

			if (t == 1 && d[pos] == '.')
				break;
			json_array_append_new(caps, id_json_text(d + pos, t));
			if (t == 4 && !memcmp(d + pos, "STLS", 4))
				stls = 1;
			pos += ll;
		}
		if (o) {
			json_object_set_new(o, "capabilities", caps);
			json_object_set_new(o, "stls", json_boolean(stls));
		} else {
			json_decref(caps);
		}
		id_consume(c, end);
		if (!stls || id_in_tls(c) || id_send_str(c, "STLS\r\n"))
			return ID_MATCH;
	}
	st->step = POP3_STLS;
	return ID_CLAIM;
}

static const uint16_t pop3_ports[] = { 110, 995, 1110, 0 };

const struct id_module id_mod_pop3 = {
	.name = "pop3",
	.summary = "POP3 (RFC 1939 greeting, CAPA, STLS into TLS)",
	.flags = ID_F_GREETING | ID_F_REACT | ID_F_INNER,
	.weight = 150,
	.ports = pop3_ports,
	.state_size = sizeof(struct pop3_state),
	.on_readable = pop3_readable,
};
