/*
 * mod_irc.c - IRC (RFC 1459 and RFC 2812, "Internet Relay Chat: Client Protocol"): the
 * client registers with NICK and USER (2812 3.1); a server answers with numeric replies
 * (2812 5.1: 001 RPL_WELCOME, 002 RPL_YOURHOST, 003 RPL_CREATED, 004 RPL_MYINFO "<servername>
 * <version> <user modes> <channel modes>", 005 RPL_ISUPPORT) or refuses with ERROR or a 4xx/5xx
 * numeric; many servers speak first with NOTICEs ("*** Looking up your hostname"). A PING
 * before registration is answered with its PONG (2812 3.7.3). Every line must have the message
 * shape of 2812 2.3.1 ([":" prefix SP] command params CR LF, at most 512 bytes).
 *
 * Record: "irc": {server, software, network, user_modes, channel_modes, first_numeric, error};
 * product and version from the 004 software token (data/fingerprints/irc.conf).
 */
#include <stdio.h>
#include <string.h>

#include "id_module.h"
#include "id_util.h"

#define IRC_LINE_MAX 512  /* RFC 2812 2.3 */
#define IRC_WAIT_MAX 8192 /* bytes of replies waited for before judging */

struct irc_state {
	uint8_t registered; /* NICK and USER sent */
	uint8_t ponged;
};

static const char irc_register[] = "NICK ppscanid\r\nUSER ppscanid 0 * :ppscan-id\r\n";

/* The words of a line: *@prefix (without ':'), *@cmd, and where the parameters begin. */
struct irc_msg {
	const uint8_t *prefix, *cmd, *params;
	size_t prefix_n, cmd_n, params_n;
};

/*
 * Splits one line (CR LF excluded); 0 if it has the RFC 2812 2.3.1 shape of a message from a
 * server, -1 if not.
 */
static int irc_split(const uint8_t *s, size_t n, struct irc_msg *m)
{
	const uint8_t *end = s + n, *sp;
	size_t i;

	memset(m, 0, sizeof(*m));
	if (!n || !id_is_text(s, n))
		return -1;
	if (s[0] == ':') {
		sp = memchr(s, ' ', n);
		if (!sp || sp == s + 1)
			return -1;
		m->prefix = s + 1;
		m->prefix_n = (size_t)(sp - s - 1);
		s = sp + 1;
	}
	sp = memchr(s, ' ', (size_t)(end - s));
	m->cmd = s;
	m->cmd_n = (size_t)((sp ? sp : end) - s);
	if (!m->cmd_n)
		return -1;
	if (m->cmd[0] >= '0' && m->cmd[0] <= '9') {
		if (m->cmd_n != 3)
			return -1;
		for (i = 0; i < 3; i++)
			if (m->cmd[i] < '0' || m->cmd[i] > '9')
				return -1;
	} else {
		for (i = 0; i < m->cmd_n; i++)
			if (!((m->cmd[i] >= 'A' && m->cmd[i] <= 'Z') ||
			      (m->cmd[i] >= 'a' && m->cmd[i] <= 'z')))
				return -1;
	}
	if (sp) {
		m->params = sp + 1;
		m->params_n = (size_t)(end - sp - 1);
	}
	/* a server prefixes what it sends (2812 2.3: numerics always); bare are only NOTICE
	   AUTH, PING and ERROR, which servers send before the client is registered */
	if (!m->prefix && !(m->cmd_n == 6 && !memcmp(m->cmd, "NOTICE", 6)) &&
	    !(m->cmd_n == 4 && !memcmp(m->cmd, "PING", 4)) &&
	    !(m->cmd_n == 5 && !memcmp(m->cmd, "ERROR", 5)))
		return -1;
	return 0;
}

static int irc_is(const struct irc_msg *m, const char *cmd)
{
	return m->cmd_n == strlen(cmd) && !memcmp(m->cmd, cmd, m->cmd_n);
}

/* The @k-th space-separated parameter (0-based; a ':' trailing one is the rest). */
static json_t *irc_param(const struct irc_msg *m, unsigned k, const uint8_t **p, size_t *pn)
{
	const uint8_t *s = m->params, *end = s ? s + m->params_n : NULL; /* NULL + 0 is UB */

	while (s && s < end) {
		const uint8_t *sp = *s == ':' ? NULL : memchr(s, ' ', (size_t)(end - s));
		const uint8_t *e = sp ? sp : end;

		if (!k--) {
			if (*s == ':')
				s++;
			*p = s;
			*pn = (size_t)(e - s);
			return id_json_text(s, *pn);
		}
		s = sp ? sp + 1 : NULL;
	}
	return NULL;
}

/* Records what a reply reveals; returns 1 once the server is known to be IRC for sure. */
static int irc_record(struct id_conn *c, const uint8_t *d, size_t n, int *lines)
{
	size_t pos = 0;
	int certain = 0;
	json_t *o = id_obj(c), *v;

	*lines = 0;
	while (pos < n) {
		size_t l = id_line_len(d + pos, n - pos), t;
		struct irc_msg m;
		const uint8_t *p;
		size_t pn;

		if (!l)
			break;
		t = id_text_len(d + pos, l);
		if (l > IRC_LINE_MAX || irc_split(d + pos, t, &m))
			return -1;
		(*lines)++;
		pos += l;
		if (!o)
			continue;
		if (m.cmd[0] >= '0' && m.cmd[0] <= '9') {
			certain = 1;
			if (!json_object_get(o, "first_numeric"))
				json_object_set_new(o, "first_numeric", id_json_text(m.cmd, 3));
			if (m.prefix && !json_object_get(o, "server"))
				json_object_set_new(o, "server",
						    id_json_text(m.prefix, m.prefix_n));
		}
		if (irc_is(&m, "004") && (v = irc_param(&m, 2, &p, &pn))) {
			json_object_set_new(o, "software", v);
			id_fingerprint(c, p, pn);
			if ((v = irc_param(&m, 3, &p, &pn)))
				json_object_set_new(o, "user_modes", v);
			if ((v = irc_param(&m, 4, &p, &pn)))
				json_object_set_new(o, "channel_modes", v);
		} else if (irc_is(&m, "005")) {
			for (unsigned k = 1; (v = irc_param(&m, k, &p, &pn)); k++) {
				if (pn > 8 && !memcmp(p, "NETWORK=", 8))
					json_object_set_new(o, "network",
							    id_json_text(p + 8, pn - 8));
				json_decref(v);
			}
		} else if (irc_is(&m, "ERROR")) {
			certain = 1;
			if ((v = irc_param(&m, 0, &p, &pn)))
				json_object_set_new(o, "error", v);
		}
	}
	return certain;
}

/* Whether the replies are complete: the 004 (or a later numeric, or an ERROR) is in. */
static int irc_done(const uint8_t *d, size_t n)
{
	static const char *const ends[] = { " 004 ", " 005 ", " 376 ", " 422 ", "ERROR " };

	for (size_t i = 0; i < sizeof(ends) / sizeof(ends[0]); i++) {
		const uint8_t *at = memmem(d, n, ends[i], strlen(ends[i]));

		if (at && memchr(at, '\n', n - (size_t)(at - d)))
			return 1;
	}
	return 0;
}

/* A PING before registration completes: answer it (inside the reply's own bytes). */
static void irc_pong(struct id_conn *c, struct irc_state *st, const uint8_t *d, size_t n)
{
	const uint8_t *ping = memmem(d, n, "PING ", 5), *eol;
	char buf[IRC_LINE_MAX + 8];
	size_t l;

	if (st->ponged || !ping || (ping != d && ping[-1] != '\n'))
		return;
	eol = memchr(ping, '\n', n - (size_t)(ping - d));
	if (!eol)
		return;
	l = id_text_len(ping + 5, (size_t)(eol - ping - 4));
	if (l > IRC_LINE_MAX || !id_is_text(ping + 5, l))
		return;
	snprintf(buf, sizeof(buf), "PONG %.*s\r\n", (int)l, (const char *)(ping + 5));
	if (!id_send_str(c, buf))
		st->ponged = 1;
}

static int irc_start(struct id_conn *c, void *stp)
{
	struct irc_state *st = stp;

	st->registered = 1;
	return id_send_str(c, irc_register) ? ID_NO : ID_MORE;
}

static int irc_readable(struct id_conn *c, void *stp, const uint8_t *d, size_t n)
{
	struct irc_state *st = stp;
	int phase = id_phase(c), lines, certain;
	size_t whole = n;

	/* judge complete lines only */
	while (whole && d[whole - 1] != '\n')
		whole--;
	if (phase == ID_PHASE_GREETING || phase == ID_PHASE_REACT) {
		if (!whole)
			return n > IRC_LINE_MAX || id_ended(c) ? ID_NO : ID_MORE;
		certain = irc_record(c, d, whole, &lines);
		if (certain < 0)
			return ID_NO;
		if (phase == ID_PHASE_REACT)
			return certain ? ID_SOFT : ID_NO; /* a reply to someone else's request */
		/* a greeting of NOTICEs (or numerics): register to hear the rest */
		if (id_send_str(c, irc_register))
			return ID_SOFT;
		st->registered = 1;
		return ID_CLAIM;
	}
	if (!id_ended(c) && n < IRC_WAIT_MAX && !irc_done(d, whole)) {
		irc_pong(c, st, d, whole);
		return ID_MORE;
	}
	certain = irc_record(c, d, whole, &lines);
	if (certain < 0 || !lines)
		return phase == ID_PHASE_DIALOGUE ? ID_MATCH : ID_NO;
	return certain ? ID_MATCH : ID_SOFT;
}

static const uint16_t irc_ports[] = { 6667, 6668, 6669, 6697, 7000, 194, 0 };

const struct id_module id_mod_irc = {
	.name = "irc",
	.summary = "IRC (RFC 2812 registration: server, software, network; NOTICE greetings)",
	.flags = ID_F_GREETING | ID_F_PROBE | ID_F_REACT | ID_F_INNER,
	.weight = 150,
	.ports = irc_ports,
	.state_size = sizeof(struct irc_state),
	.start = irc_start,
	.on_readable = irc_readable,
};
