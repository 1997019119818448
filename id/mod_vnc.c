/*
 * VNC, the Remote Framebuffer protocol (RFC 6143): server-first. The server sends its
 * ProtocolVersion, exactly 12 bytes "RFB xxx.yyy\n" (7.1.1). The module answers with its
 * own ("RFB 003.008\n"); a 3.7 or 3.8 server then lists its security types: u8 count, count
 * u8 types; count 0 is followed by u32 reason length and the reason (7.1.2). A 3.3 server
 * instead sends one u32 security type (RFC 6143 appendix A.1 / the 3.3 specification).
 *
 * Example: TigerVNC's Xvnc sends "RFB 003.008\n", then 01 02 (one type: VNC authentication)
 * or, with its default VeNCrypt set-up, 02 13 02 (VeNCrypt, VNC authentication).
 */
#include "id_b.h"
#include "id_module.h"

#include <stdio.h>
#include <string.h>

size_t idb_vnc_request(uint8_t *buf, size_t cap)
{
	if (cap < 12)
		return 0;
	memcpy(buf, "RFB 003.008\n", 12);
	return 12;
}

static int digit3(const uint8_t *p)
{
	for (int i = 0; i < 3; i++)
		if (p[i] < '0' || p[i] > '9')
			return -1;
	return (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
}

int idb_vnc_parse(const uint8_t *p, size_t n, struct idb_ident *out)
{
	static const char pfx[] = "RFB ";
	int major, minor;
	char v[16];

	if (memcmp(p, pfx, n < 4 ? n : 4) != 0)
		return IDB_NO;
	if (n < 12)
		return IDB_MORE;
	major = digit3(p + 4);
	minor = digit3(p + 8);
	if (major < 0 || minor < 0 || p[7] != '.' || p[11] != '\n')
		return IDB_NO;
	snprintf(v, sizeof(v), "%d.%d", major, minor);
	json_object_set_new(out->fields, "rfb_version", json_string(v));
	return IDB_MATCH;
}

static const char *vnc_sec_name(uint8_t t)
{
	switch (t) {
	case 1: return "none";
	case 2: return "vnc";
	case 5: return "ra2";
	case 6: return "ra2ne";
	case 16: return "tight";
	case 17: return "ultra";
	case 18: return "tls";
	case 19: return "vencrypt";
	case 20: return "gtk-vnc-sasl";
	case 21: return "md5";
	case 22: return "xvp";
	case 30: return "apple-ard";
	case 113: return "mslogon";
	default: return NULL;
	}
}

int idb_vnc_security_parse(const uint8_t *p, size_t n, int minor, struct idb_ident *out)
{
	json_t *types, *names;

	if (minor < 7) { /* 3.3: u32 type chosen by the server; 0 = failure + reason */
		uint32_t t;

		if (n < 4)
			return IDB_MORE;
		t = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
		if (t > 255)
			return IDB_BAD;
		types = json_array();
		json_array_append_new(types, json_integer(t));
		json_object_set_new(out->fields, "security_types", types);
		return IDB_MATCH;
	}
	if (n < 1)
		return IDB_MORE;
	if (p[0] == 0) {
		uint32_t rl;

		if (n < 5)
			return IDB_MORE;
		rl = (uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 8 | p[4];
		if (rl > 1024)
			return IDB_BAD;
		if (n < 5 + (size_t)rl)
			return IDB_MORE;
		idb_set_text(out->fields, "security_failure", p + 5, rl);
		return IDB_MATCH;
	}
	if (n < 1 + (size_t)p[0])
		return IDB_MORE;
	types = json_array();
	names = json_array();
	for (size_t i = 0; i < p[0]; i++) {
		const char *nm = vnc_sec_name(p[1 + i]);

		json_array_append_new(types, json_integer(p[1 + i]));
		if (nm)
			json_array_append_new(names, json_string(nm));
	}
	json_object_set_new(out->fields, "security_types", types);
	json_object_set_new(out->fields, "security_names", names);
	return IDB_MATCH;
}

/* ---- module ---------------------------------------------------------------------- */

struct vnc_state {
	int8_t minor; /* the server's minor version once its greeting was read; 0 before */
};

static int vnc_security(const uint8_t *p, size_t n, struct idb_ident *out, int minor)
{
	return idb_vnc_security_parse(p, n, minor, out);
}

static int vnc_sec7(const uint8_t *p, size_t n, struct idb_ident *out)
{
	return vnc_security(p, n, out, 7);
}

static int vnc_sec3(const uint8_t *p, size_t n, struct idb_ident *out)
{
	return vnc_security(p, n, out, 3);
}

static int vnc_readable(struct id_conn *c, void *stp, const uint8_t *d, size_t n)
{
	struct vnc_state *st = stp;
	char reply[13];
	int r;

	if (id_phase(c) == ID_PHASE_DIALOGUE && st->minor) {
		r = idb_judge(c, st->minor >= 7 ? vnc_sec7 : vnc_sec3, d, n);
		return r == ID_MORE ? ID_MORE : ID_MATCH; /* the greeting already proved RFB */
	}
	r = idb_judge(c, idb_vnc_parse, d, n);
	if (r != ID_MATCH)
		return r;
	/* answer with the highest version both speak (RFC 6143 7.1.1): 3.3, 3.7 or 3.8 */
	{
		int major = digit3(d + 4), minor = digit3(d + 8);

		st->minor = (int8_t)(major > 3 || minor >= 8 ? 8 : minor == 7 ? 7 : 3);
	}
	snprintf(reply, sizeof(reply), "RFB 003.00%d\n", st->minor);
	id_consume(c, 12);
	if (id_send(c, reply, 12))
		return ID_MATCH;
	return ID_CLAIM;
}

static const uint16_t vnc_ports[] = { 5900, 5901, 5902, 5800, 0 };

const struct id_module id_mod_vnc = {
	.name = "vnc",
	.summary = "VNC (RFC 6143 RFB: protocol version, security types)",
	.flags = ID_F_GREETING | ID_F_REACT,
	.weight = 100,
	.ports = vnc_ports,
	.state_size = sizeof(struct vnc_state),
	.start = NULL,
	.on_readable = vnc_readable,
};
