/*
 * MySQL / MariaDB: the server speaks first with its initial handshake packet, which names
 * the server version in clear. Parsed here field by field from the MySQL client/server
 * protocol documentation ("Protocol::HandshakeV10", "Protocol::HandshakeV9", "ERR_Packet";
 * MariaDB's "Connection" page for the extended capabilities in the reserved bytes).
 *
 *   packet:    length (3 bytes, LE)  sequence id (1 byte, 0)  payload
 *   payload:   0x0a  server_version NUL  connection_id u32le  auth_data_1[8]  0x00
 *              capabilities_lo u16le  charset u8  status u16le  capabilities_hi u16le
 *              auth_data_len u8  reserved[6]  mariadb_caps u32le  auth_data_2[max(13,len-8)]
 *              auth_plugin_name NUL
 *   error:     0xff  code u16le  message (rest of the packet), e.g. 1130 "Host ... is not
 *              allowed to connect"
 *
 * Example: MariaDB 10.11 on Debian 12 sends the version "5.5.5-10.11.19-MariaDB-0+deb12u1"
 * (the "5.5.5-" prefix is there for old clients); product "MariaDB", version "10.11.19".
 */
#include "id_b.h"
#include "id_module.h"

#include <stdio.h>
#include <string.h>

#define MYSQL_GREETING_MAX 1024 /* real greetings are ~80-130 bytes */
#define MYSQL_CLIENT_SSL 0x00000800u
#define MYSQL_CLIENT_PLUGIN_AUTH 0x00080000u
#define MYSQL_CLIENT_SECURE_CONN 0x00008000u

/* "5.5.5-10.11.19-MariaDB-0+deb12u1" -> product MariaDB, version 10.11.19 */
static void mysql_product(const char *sv, struct idb_ident *out)
{
	const char *v = sv, *maria = strstr(sv, "MariaDB");
	size_t k = 0;

	if (maria && strncmp(v, "5.5.5-", 6) == 0)
		v += 6;
	while (v[k] && (v[k] == '.' || (v[k] >= '0' && v[k] <= '9')))
		k++;
	snprintf(out->product, sizeof(out->product), "%s", maria ? "MariaDB" : "MySQL");
	idb_copy(out->version, sizeof(out->version), v, k);
	if (maria && maria[7] == '-' && maria[8])
		idb_set_text(out->fields, "version_extra", maria + 8, strlen(maria + 8));
	else if (!maria && v[k] == '-' && v[k + 1])
		idb_set_text(out->fields, "version_extra", v + k + 1, strlen(v + k + 1));
}

int idb_mysql_parse(const uint8_t *p, size_t n, struct idb_ident *out)
{
	struct idb_cur c = { p, n, 0, 0 };
	uint32_t len, caps, mcaps;
	const uint8_t *sv, *nul;
	char version[128];
	uint8_t proto, seq;

	if (n < 4)
		return IDB_MORE;
	len = p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
	seq = p[3];
	if (seq != 0 || len < 3)
		return IDB_NO;
	if (len > MYSQL_GREETING_MAX)
		return len > 0x10000 ? IDB_NO : IDB_BAD;
	if (n >= 5 && p[4] != 10 && p[4] != 9 && p[4] != 0xff)
		return IDB_NO;
	if (n < 4 + (size_t)len)
		return IDB_MORE;
	c.n = 4 + len;
	c.off = 4;
	proto = idb_u8(&c);
	if (proto == 0xff) { /* ERR_Packet before the handshake: no SQL state marker */
		uint16_t code = idb_u16le(&c);

		if (c.err || code < 1000 || code > 9999)
			return IDB_NO;
		snprintf(out->product, sizeof(out->product), "MySQL");
		json_object_set_new(out->fields, "error_code", json_integer(code));
		idb_set_text(out->fields, "error_message", p + c.off, c.n - c.off);
		return IDB_MATCH;
	}
	sv = p + c.off;
	nul = memchr(sv, 0, c.n - c.off);
	if (!nul || nul == sv || (size_t)(nul - sv) >= sizeof(version))
		return IDB_NO;
	for (const uint8_t *q = sv; q < nul; q++)
		if (*q < 0x20 || *q >= 0x7f)
			return IDB_NO;
	memcpy(version, sv, (size_t)(nul - sv));
	version[nul - sv] = '\0';
	c.off += (size_t)(nul - sv) + 1;
	json_object_set_new(out->fields, "protocol_version", json_integer(proto));
	json_object_set_new(out->fields, "server_version", json_string(version));
	json_object_set_new(out->fields, "connection_id", json_integer(idb_u32le(&c)));
	if (proto == 9) { /* HandshakeV9: scramble NUL, nothing else */
		if (c.err)
			return IDB_NO;
		mysql_product(version, out);
		return IDB_MATCH;
	}
	idb_take(&c, 8); /* auth-plugin-data-part-1 */
	if (idb_u8(&c) != 0 || c.err)
		return IDB_NO;
	caps = idb_u16le(&c);
	if (idb_have(&c, 1)) {
		uint8_t charset = idb_u8(&c);
		uint16_t status = idb_u16le(&c);
		uint8_t alen;

		caps |= (uint32_t)idb_u16le(&c) << 16;
		alen = idb_u8(&c);
		idb_take(&c, 6);
		mcaps = idb_u32le(&c);
		if (c.err)
			return IDB_NO;
		json_object_set_new(out->fields, "character_set", json_integer(charset));
		json_object_set_new(out->fields, "status_flags", json_integer(status));
		if (strstr(version, "MariaDB") && !(caps & 1u)) /* CLIENT_MYSQL clear: MariaDB */
			json_object_set_new(out->fields, "mariadb_capabilities",
					    json_integer(mcaps));
		if (caps & MYSQL_CLIENT_SECURE_CONN) {
			size_t k = alen > 21 ? (size_t)alen - 8 : 13;

			if (!idb_take(&c, k))
				return IDB_NO;
		}
		if ((caps & MYSQL_CLIENT_PLUGIN_AUTH) && c.off < c.n) {
			const uint8_t *pl = p + c.off;
			const uint8_t *e = memchr(pl, 0, c.n - c.off);

			idb_set_text(out->fields, "auth_plugin", pl,
				     e ? (size_t)(e - pl) : c.n - c.off);
		}
	}
	json_object_set_new(out->fields, "capabilities", json_integer(caps));
	json_object_set_new(out->fields, "ssl", json_boolean(caps & MYSQL_CLIENT_SSL));
	mysql_product(version, out);
	return IDB_MATCH;
}

/* ---- module ---------------------------------------------------------------------- */

static int mysql_readable(struct id_conn *c, void *st, const uint8_t *d, size_t n)
{
	(void)st;
	return idb_judge(c, idb_mysql_parse, d, n);
}

static const uint16_t mysql_ports[] = { 3306, 3307, 33060, 0 };

const struct id_module id_mod_mysql = {
	.name = "mysql",
	.summary = "MySQL / MariaDB (initial handshake packet: server version, capabilities)",
	.flags = ID_F_GREETING | ID_F_REACT,
	.weight = 120,
	.ports = mysql_ports,
	.on_readable = mysql_readable,
};
