/*
 * SMB (MS-SMB2): client-first. The module sends an SMB2 NEGOTIATE over Direct TCP (MS-SMB2
 * 2.1: a 4-byte header 00 + 24-bit big-endian length, no NetBIOS session) offering the
 * dialects 2.0.2, 2.1, 3.0, 3.0.2 and 3.1.1, with the two negotiate contexts 3.1.1 requires
 * (2.2.3.1.1 preauth integrity: SHA-512 and a salt; 2.2.3.1.2 encryption: AES-128-GCM and
 * AES-128-CCM). The server answers NEGOTIATE (2.2.4): structure size 65, security mode,
 * the dialect it chose, its GUID, capabilities, size limits, its clock. A server that only
 * speaks SMB1 answers with an SMB1 header (0xff 'SMB', [MS-CIFS] 2.2.4.52) or closes.
 *
 * Example: Samba 4.17 answers dialect 0x0311, security mode 1 (signing enabled, not
 * required), capabilities 0x2f: the record says "dialect": "3.1.1".
 */
#include "id_b.h"
#include "id_module.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define SMB_REPLY_MAX 4096

size_t idb_smb_request(uint8_t *buf, size_t cap)
{
	static const uint16_t dialects[] = { 0x0202, 0x0210, 0x0300, 0x0302, 0x0311 };
	size_t o = 4, h, ctx_off;

	if (cap < 4 + 64 + 36 + 10 + 2 + 8 + 38 + 2 + 8 + 6)
		return 0;
	memset(buf, 0, 4 + 64 + 36 + 10 + 2 + 8 + 38 + 2 + 8 + 6);
	h = o;
	memcpy(buf + h, "\xfeSMB", 4);
	buf[h + 4] = 64; /* StructureSize */
	buf[h + 14] = 1; /* CreditRequest 1; Command 0 = NEGOTIATE; MessageId 0 */
	o = h + 64;
	buf[o] = 36;	   /* StructureSize */
	buf[o + 2] = 5;	   /* DialectCount */
	buf[o + 4] = 1;	   /* SecurityMode: signing enabled */
	buf[o + 8] = 0x7f; /* Capabilities: DFS, leasing, large MTU, multichannel, ... */
	memcpy(buf + o + 12, "ppscan-id client", 16); /* ClientGuid (fixed) */
	ctx_off = 64 + 36 + 10 + 2;		      /* after the dialects, 8-aligned: 112 */
	buf[o + 28] = (uint8_t)ctx_off;
	buf[o + 32] = 2; /* NegotiateContextCount */
	for (int i = 0; i < 5; i++) {
		buf[o + 36 + 2 * i] = (uint8_t)dialects[i];
		buf[o + 37 + 2 * i] = (uint8_t)(dialects[i] >> 8);
	}
	o = h + ctx_off;
	buf[o] = 1;	  /* SMB2_PREAUTH_INTEGRITY_CAPABILITIES */
	buf[o + 2] = 38;  /* DataLength */
	buf[o + 8] = 1;	  /* HashAlgorithmCount */
	buf[o + 10] = 32; /* SaltLength */
	buf[o + 12] = 1;  /* SHA-512 */
	memcpy(buf + o + 14, "ppscan-id fixed preauth salt 32b", 32);
	o += 8 + 38 + 2; /* next context 8-aligned */
	buf[o] = 2;	 /* SMB2_ENCRYPTION_CAPABILITIES */
	buf[o + 2] = 6;	 /* DataLength */
	buf[o + 8] = 2;	 /* CipherCount */
	buf[o + 10] = 2; /* AES-128-GCM */
	buf[o + 12] = 1; /* AES-128-CCM */
	o += 8 + 6;
	buf[1] = (uint8_t)((o - 4) >> 16);
	buf[2] = (uint8_t)((o - 4) >> 8);
	buf[3] = (uint8_t)(o - 4);
	return o;
}

/* FILETIME (100 ns since 1601-01-01) -> "YYYY-MM-DDTHH:MM:SSZ"; 0 if out of range. */
static int filetime_iso(uint64_t ft, char *out, size_t cap)
{
	time_t t;
	struct tm tm;

	if (ft < 116444736000000000ull || ft > 116444736000000000ull + 4102444800ull * 10000000ull)
		return 0;
	t = (time_t)((ft - 116444736000000000ull) / 10000000ull);
	if (!gmtime_r(&t, &tm))
		return 0;
	return strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) > 0;
}

int idb_smb_parse(const uint8_t *p, size_t n, struct idb_ident *out)
{
	struct idb_cur c;
	size_t len;
	uint32_t status, caps;
	uint16_t mode, dialect;
	const uint8_t *guid;
	char buf[64];

	if (n >= 1 && p[0] != 0)
		return IDB_NO;
	if (n >= 5 && p[4] != 0xfe && p[4] != 0xff)
		return IDB_NO;
	if (n >= 8 && memcmp(p + 5, "SMB", 3) != 0)
		return IDB_NO;
	if (n < 8)
		return IDB_MORE;
	len = (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
	if (len > SMB_REPLY_MAX)
		return IDB_BAD;
	if (n < 4 + len)
		return IDB_MORE;
	c = (struct idb_cur){ p, 4 + len, 4, 0 };
	if (p[4] == 0xff) { /* SMB1 header: command 0x72 = SMB_COM_NEGOTIATE */
		if (len < 32 || p[8] != 0x72)
			return IDB_NO;
		json_object_set_new(out->fields, "dialect", json_string("1"));
		return IDB_MATCH;
	}
	if (len < 64 + 65 - 1 || p[8] != 64)
		return IDB_NO;
	c.off = 4 + 8;
	status = idb_u32le(&c);
	if ((p[16] | p[17] << 8) != 0) /* Command: NEGOTIATE */
		return IDB_NO;
	json_object_set_new(out->fields, "status", json_integer(status));
	if (status != 0)
		return IDB_MATCH; /* an SMB2 server that refused our negotiate: still SMB */
	c.off = 4 + 64;
	if (idb_u16le(&c) != 65)
		return IDB_NO;
	mode = idb_u16le(&c);
	dialect = idb_u16le(&c);
	idb_u16le(&c); /* NegotiateContextCount */
	guid = idb_take(&c, 16);
	caps = idb_u32le(&c);
	json_object_set_new(out->fields, "max_transact_size", json_integer(idb_u32le(&c)));
	json_object_set_new(out->fields, "max_read_size", json_integer(idb_u32le(&c)));
	json_object_set_new(out->fields, "max_write_size", json_integer(idb_u32le(&c)));
	{
		uint64_t lo = idb_u32le(&c);
		uint64_t ft = lo | (uint64_t)idb_u32le(&c) << 32;

		if (filetime_iso(ft, buf, sizeof(buf)))
			json_object_set_new(out->fields, "system_time", json_string(buf));
	}
	if (c.err || !guid)
		return IDB_NO;
	if (dialect == 0x02ff)
		snprintf(buf, sizeof(buf), "2.???"); /* wildcard: the client must negotiate again */
	else if (dialect == 0x0210 || dialect == 0x0300)
		snprintf(buf, sizeof(buf), "%x.%x", dialect >> 8, (dialect >> 4) & 15);
	else
		snprintf(buf, sizeof(buf), "%x.%x.%x", dialect >> 8, (dialect >> 4) & 15,
			 dialect & 15);
	json_object_set_new(out->fields, "dialect", json_string(buf));
	json_object_set_new(out->fields, "dialect_code", json_integer(dialect));
	json_object_set_new(out->fields, "signing_enabled", json_boolean(mode & 1));
	json_object_set_new(out->fields, "signing_required", json_boolean(mode & 2));
	json_object_set_new(out->fields, "capabilities", json_integer(caps));
	for (int i = 0; i < 16; i++)
		snprintf(buf + 2 * i, 3, "%02x", guid[i]);
	json_object_set_new(out->fields, "server_guid", json_string(buf));
	return IDB_MATCH;
}

/* ---- module ---------------------------------------------------------------------- */

static int smb_start(struct id_conn *c, void *st)
{
	(void)st;
	return idb_send_built(c, idb_smb_request);
}

static int smb_readable(struct id_conn *c, void *st, const uint8_t *d, size_t n)
{
	(void)st;
	return id_phase(c) == ID_PHASE_PROBE ? idb_judge(c, idb_smb_parse, d, n) : ID_NO;
}

static const uint16_t smb_ports[] = { 445, 139, 0 };

const struct id_module id_mod_smb = {
	.name = "smb",
	.summary = "SMB2/3 (MS-SMB2 NEGOTIATE: dialect, signing, capabilities, GUID)",
	.flags = ID_F_PROBE,
	.weight = 170,
	.ports = smb_ports,
	.start = smb_start,
	.on_readable = smb_readable,
};
