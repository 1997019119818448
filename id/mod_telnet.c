/*
 * Telnet (RFC 854 and RFC 855): server-first. A telnet daemon opens with option
 * negotiation: IAC (255) followed by WILL (251), WONT (252), DO (253) or DONT (254) and an
 * option code, or IAC SB option ... IAC SE (250 ... 240) for subnegotiation. The module
 * calls a greeting telnet when it starts with a well-formed negotiation, and records the
 * options the server asked for or offered (RFC 1091 terminal type 24, RFC 1073 window size
 * 31, RFC 1079 terminal speed 32, RFC 1184 linemode 34, RFC 1572 new environ 39, ...) and
 * the text that follows (the login banner), with the negotiation taken out.
 *
 * Example: inetutils telnetd opens with FF FD 18 FF FD 20 FF FD 23 FF FD 27 (DO TTYPE,
 * DO TSPEED, DO XDISPLOC, DO NEW-ENVIRON).
 */
#include "id_b.h"
#include "id_module.h"

#include <string.h>

enum {
	T_SE = 240,
	T_SB = 250,
	T_WILL = 251,
	T_WONT,
	T_DO,
	T_DONT,
	T_IAC
};

int idb_telnet_parse(const uint8_t *p, size_t n, struct idb_ident *out)
{
	json_t *lists[4] = { NULL };
	static const char *const names[4] = { "will", "wont", "do", "dont" };
	uint8_t text[512];
	size_t o = 0, t = 0, cmds = 0;

	if (n >= 1 && p[0] != T_IAC)
		return IDB_NO;
	if (n >= 2 && !(p[1] >= T_SB && p[1] <= T_DONT))
		return IDB_NO;
	if (n < 3)
		return IDB_MORE;
	while (o < n) {
		if (p[o] != T_IAC) {
			if (t < sizeof(text))
				text[t++] = p[o];
			o++;
			continue;
		}
		if (o + 1 >= n)
			break;
		if (p[o + 1] >= T_WILL && p[o + 1] <= T_DONT) {
			int k = p[o + 1] - T_WILL;

			if (o + 2 >= n)
				break;
			if (!lists[k])
				lists[k] = json_array();
			if (json_array_size(lists[k]) < 32)
				json_array_append_new(lists[k], json_integer(p[o + 2]));
			o += 3;
		} else if (p[o + 1] == T_SB) {
			size_t e = o + 2;

			while (e + 1 < n && !(p[e] == T_IAC && p[e + 1] == T_SE))
				e++;
			if (e + 1 >= n)
				break;
			o = e + 2;
		} else if (p[o + 1] == T_IAC) {
			if (t < sizeof(text))
				text[t++] = T_IAC;
			o += 2;
		} else if (p[o + 1] >= T_SE) {
			o += 2;
		} else {
			break; /* IAC followed by a byte that is no command */
		}
		cmds++;
	}
	for (int k = 0; k < 4; k++)
		if (lists[k])
			json_object_set_new(out->fields, names[k], lists[k]);
	json_object_set_new(out->fields, "commands", json_integer((json_int_t)cmds));
	if (t)
		idb_set_text(out->fields, "banner", text, t);
	return cmds ? IDB_MATCH : IDB_MORE;
}

/* ---- module ---------------------------------------------------------------------- */

/*
 * After the greeting the module declines every option (RFC 854: WONT to a DO, DONT to a
 * WILL, each option answered once, so no negotiation loops) until the server sends its
 * login banner; the text up to "login:", "Username:", "Password:" or a shell prompt (or
 * 4 KiB, or the handshake's end) is the record's banner, named by data/fingerprints/telnet.conf.
 */
#define TELNET_BANNER_MAX 4096

struct telnet_state {
	uint8_t claimed;
	uint8_t answered[2][32]; /* [0]: DO answered with WONT, [1]: WILL with DONT; bit per option */
};

/* Declines what @d asks that was not answered yet; the text (IAC sequences taken out) into
 * @text. Returns the text's length. */
static size_t telnet_decline(struct id_conn *c, struct telnet_state *st, const uint8_t *d, size_t n,
			     uint8_t *text, size_t cap)
{
	uint8_t out[96];
	size_t o = 0, t = 0, i = 0;

	while (i < n) {
		if (d[i] != T_IAC) {
			if (t < cap)
				text[t++] = d[i];
			i++;
		} else if (i + 2 < n && (d[i + 1] == T_DO || d[i + 1] == T_WILL)) {
			int k = d[i + 1] == T_WILL;
			uint8_t opt = d[i + 2];

			if (!(st->answered[k][opt >> 3] & (1u << (opt & 7))) &&
			    o + 3 <= sizeof(out)) {
				st->answered[k][opt >> 3] |= (uint8_t)(1u << (opt & 7));
				out[o++] = T_IAC;
				out[o++] = k ? T_DONT : T_WONT;
				out[o++] = opt;
			}
			i += 3;
		} else if (i + 2 < n && (d[i + 1] == T_DONT || d[i + 1] == T_WONT)) {
			i += 3;
		} else if (i + 1 < n && d[i + 1] == T_SB) {
			const uint8_t *se = memmem(d + i, n - i, "\xff\xf0", 2);

			i = se ? (size_t)(se - d) + 2 : n;
		} else if (i + 1 < n && d[i + 1] == T_IAC) {
			if (t < cap)
				text[t++] = T_IAC;
			i += 2;
		} else {
			i += i + 1 < n ? 2 : 1;
		}
	}
	if (o)
		id_send(c, out, o);
	return t;
}

/* The banner is complete: a login or password prompt, or a shell prompt, ends it. */
static int telnet_prompt(const uint8_t *t, size_t n)
{
	static const char *const prompts[] = { "login:",    "Login:",	 "Username:",
					       "username:", "Password:", "password:" };
	size_t e = n;

	for (size_t i = 0; i < sizeof(prompts) / sizeof(prompts[0]); i++)
		if (memmem(t, n, prompts[i], strlen(prompts[i])))
			return 1;
	while (e && t[e - 1] == ' ')
		e--;
	return e && e < n && (t[e - 1] == '#' || t[e - 1] == '$' || t[e - 1] == '>');
}

static int telnet_readable(struct id_conn *c, void *stp, const uint8_t *d, size_t n)
{
	struct telnet_state *st = stp;
	uint8_t text[TELNET_BANNER_MAX];
	size_t t;
	int r;

	if (id_phase(c) == ID_PHASE_DIALOGUE && st->claimed) {
		t = telnet_decline(c, st, d, n, text, sizeof(text));
		if (!id_ended(c) && n < TELNET_BANNER_MAX && !telnet_prompt(text, t))
			return ID_MORE;
		if (t && id_obj(c))
			json_object_set_new(id_obj(c), "banner", id_json_text(text, t));
		if (t)
			id_fingerprint(c, text, t);
		return ID_MATCH;
	}
	r = idb_judge(c, idb_telnet_parse, d, n);
	if (r != ID_MATCH)
		return r;
	/* every byte so far stays in the buffer: the dialogue judges the whole exchange */
	telnet_decline(c, st, d, n, text, sizeof(text));
	st->claimed = 1;
	return ID_CLAIM;
}

static const uint16_t telnet_ports[] = { 23, 2323, 0 };

const struct id_module id_mod_telnet = {
	.name = "telnet",
	.summary = "Telnet (RFC 854/855 option negotiation, login banner)",
	.flags = ID_F_GREETING | ID_F_REACT,
	.weight = 100,
	.ports = telnet_ports,
	.state_size = sizeof(struct telnet_state),
	.on_readable = telnet_readable,
};
