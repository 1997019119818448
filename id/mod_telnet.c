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

static int telnet_readable(struct id_conn *c, void *st, const uint8_t *d, size_t n)
{
	(void)st;
	return idb_judge(c, idb_telnet_parse, d, n);
}

static const uint16_t telnet_ports[] = { 23, 2323, 0 };

const struct id_module id_mod_telnet = {
	.name = "telnet",
	.summary = "Telnet (RFC 854/855 option negotiation, login banner)",
	.flags = ID_F_GREETING | ID_F_REACT,
	.weight = 100,
	.ports = telnet_ports,
	.on_readable = telnet_readable,
};
