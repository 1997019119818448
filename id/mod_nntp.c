/*
 * mod_nntp.c - NNTP (RFC 3977). Server-first: the greeting is one response line, 200
 * (posting allowed) or 201 (no posting), or 400 / 502 when the server will not serve this
 * client (5.1.1). With a 200/201 greeting the module claims the connection and sends
 * CAPABILITIES (5.2); the answer is 101 and a multi-line block ending with "." (3.1.1) that
 * holds "VERSION 2" and, usually, "IMPLEMENTATION <server software>". Old RFC 977 servers
 * answer 500; the greeting stands then.
 *
 * Record: "nntp": {greeting_code, greeting, posting, capabilities, implementation};
 * product and version from the IMPLEMENTATION line, else the greeting
 * (data/fingerprints/nntp.conf).
 */
#include <string.h>

#include "id_module.h"
#include "id_util.h"

#define NNTP_BLOCK_MAX 8192 /* bytes of a CAPABILITIES block waited for */

struct nntp_state {
	uint8_t asked; /* CAPABILITIES sent */
};

/* The end of a multi-line block (a line "." alone, RFC 3977 3.1.1) after @d's first line. */
static size_t nntp_block_end(const uint8_t *d, size_t n)
{
	size_t pos = id_line_len(d, n);

	while (pos && pos < n) {
		size_t l = id_line_len(d + pos, n - pos);

		if (!l)
			return 0;
		if (id_text_len(d + pos, l) == 1 && d[pos] == '.')
			return pos + l;
		pos += l;
	}
	return 0;
}

static int nntp_greeting(struct id_conn *c, struct nntp_state *st, const uint8_t *d, size_t n)
{
	size_t len;
	int code, r = id_text_reply(d, n, &code, &len);
	json_t *o;

	if (r != ID_MATCH)
		return r == ID_MORE && id_ended(c) ? ID_NO : r;
	if (code != 200 && code != 201 && code != 400 && code != 502)
		return ID_NO;
	/* 400 and 502 are how other text protocols refuse, too: weak unless the text says news */
	if ((code == 400 || code == 502) && !memmem(d, len, "NNTP", 4) &&
	    !memmem(d, len, "news", 4) && !memmem(d, len, "News", 4))
		return ID_NO;
	o = id_obj(c);
	if (o) {
		json_object_set_new(o, "greeting_code", json_integer(code));
		json_object_set_new(o, "greeting",
				    id_json_text(d + 4, id_text_len(d + 4, len - 4)));
		json_object_set_new(o, "posting", json_boolean(code == 200));
	}
	id_fingerprint(c, d, id_text_len(d, len));
	id_consume(c, len);
	if (code >= 400)
		return ID_SOFT;
	if (id_send_str(c, "CAPABILITIES\r\n"))
		return ID_MATCH;
	st->asked = 1;
	return ID_CLAIM;
}

static int nntp_capabilities(struct id_conn *c, const uint8_t *d, size_t n)
{
	size_t first = id_line_len(d, n), end, pos;
	json_t *o = id_obj(c), *caps;

	if (!first)
		return id_ended(c) || n > NNTP_BLOCK_MAX ? ID_MATCH : ID_MORE;
	if (n < 3 || memcmp(d, "101", 3))
		return ID_MATCH; /* 500 from an RFC 977 server, 480 ...: the greeting stands */
	end = nntp_block_end(d, n);
	if (!end)
		return id_ended(c) || n > NNTP_BLOCK_MAX ? ID_MATCH : ID_MORE;
	if (!o || !(caps = json_array()))
		return ID_MATCH;
	for (pos = first; pos < end;) {
		size_t l = id_line_len(d + pos, end - pos), t = id_text_len(d + pos, l);

		if (t == 1 && d[pos] == '.')
			break;
		if (t > 15 && !memcmp(d + pos, "IMPLEMENTATION ", 15)) {
			json_object_set_new(o, "implementation",
					    id_json_text(d + pos + 15, t - 15));
			/* the implementation names the software better than the greeting */
			id_fingerprint(c, d + pos, t);
		}
		json_array_append_new(caps, id_json_text(d + pos, t));
		pos += l;
	}
	json_object_set_new(o, "capabilities", caps);
	return ID_MATCH;
}

static int nntp_readable(struct id_conn *c, void *stp, const uint8_t *d, size_t n)
{
	struct nntp_state *st = stp;

	if (id_phase(c) == ID_PHASE_DIALOGUE && st->asked)
		return nntp_capabilities(c, d, n);
	if (id_phase(c) != ID_PHASE_GREETING)
		return ID_NO;
	return nntp_greeting(c, st, d, n);
}

static const uint16_t nntp_ports[] = { 119, 433, 0 };

const struct id_module id_mod_nntp = {
	.name = "nntp",
	.summary = "NNTP (RFC 3977 greeting and CAPABILITIES: implementation, posting)",
	.flags = ID_F_GREETING | ID_F_INNER,
	.weight = 100,
	.ports = nntp_ports,
	.state_size = sizeof(struct nntp_state),
	.on_readable = nntp_readable,
};
