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
#include "id_util.h"

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

/*
 * The second step (MS-SMB2 3.2.4.2.3, MS-NLMP 3.1.5.1.1): a SESSION_SETUP whose security
 * buffer is SPNEGO (RFC 4178) NegTokenInit carrying an NTLMSSP NEGOTIATE_MESSAGE
 * (MS-NLMP 2.2.1.1). The server answers STATUS_MORE_PROCESSING_REQUIRED with an NTLMSSP
 * CHALLENGE_MESSAGE (2.2.1.2) that names it before any authentication: its NetBIOS and DNS
 * computer and domain names (the AV_PAIRs of TargetInfo, 2.2.2.1) and, with
 * NEGOTIATE_VERSION, its OS version (2.2.2.10: major, minor, build).
 */
static const uint8_t smb_spnego_ntlm[] = {
	0x60, 0x48, 0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02, /* GSS-API, SPNEGO OID */
	0xa0, 0x3e, 0x30, 0x3c,					    /* NegTokenInit */
	0xa0, 0x0e, 0x30, 0x0c, 0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82,
	0x37, 0x02, 0x02, 0x0a, /* mechTypes: NTLMSSP 1.3.6.1.4.1.311.2.2.10 */
	0xa2, 0x2a, 0x04, 0x28, /* mechToken: OCTET STRING of 40 bytes */
	'N',  'T',  'L',  'M',	'S',  'S',  'P',  0,	1,    0,    0,	  0, /* NEGOTIATE */
	0x05, 0x82, 0x88, 0xa2, /* UNICODE, REQUEST_TARGET, NTLM, ALWAYS_SIGN, ESS, TARGET_INFO,
				   VERSION, 128, 56 */
	0,    0,    0,	  0,	0,    0,    0,	  0,	/* DomainNameFields */
	0,    0,    0,	  0,	0,    0,    0,	  0,	/* WorkstationFields */
	0,    0,    0,	  0,	0,    0,    0,	  0x0f, /* Version (NTLMSSP_REVISION_W2K3) */
};

size_t idb_smb_session_setup(uint8_t *buf, size_t cap)
{
	size_t len = 4 + 64 + 24 + sizeof(smb_spnego_ntlm);

	if (cap < len)
		return 0;
	memset(buf, 0, 4 + 64 + 24);
	buf[1] = (uint8_t)((len - 4) >> 16);
	buf[2] = (uint8_t)((len - 4) >> 8);
	buf[3] = (uint8_t)(len - 4);
	memcpy(buf + 4, "\xfeSMB", 4);
	buf[4 + 4] = 64;	/* StructureSize */
	buf[4 + 12] = 1;	/* Command: SESSION_SETUP */
	buf[4 + 14] = 1;	/* CreditRequest */
	buf[4 + 24] = 1;	/* MessageId 1 */
	buf[68] = 25;		/* StructureSize */
	buf[68 + 3] = 1;	/* SecurityMode: signing enabled */
	buf[68 + 4] = 1;	/* Capabilities: DFS */
	buf[68 + 12] = 64 + 24; /* SecurityBufferOffset (from the SMB2 header) */
	buf[68 + 14] = (uint8_t)sizeof(smb_spnego_ntlm);
	memcpy(buf + 4 + 64 + 24, smb_spnego_ntlm, sizeof(smb_spnego_ntlm));
	return len;
}

/* UTF-16LE @s/@n (bytes) as ASCII into @obj[@key]; other characters as '?'. */
static void utf16_field(json_t *obj, const char *key, const uint8_t *s, size_t n)
{
	char a[128];
	size_t k = 0;

	for (size_t i = 0; i + 1 < n && k + 1 < sizeof(a); i += 2)
		a[k++] = s[i + 1] == 0 && s[i] >= 0x20 && s[i] < 0x7f ? (char)s[i] : '?';
	a[k] = '\0';
	json_object_set_new(obj, key, json_string(a));
}

int idb_smb_ntlm_parse(const uint8_t *p, size_t n, struct idb_ident *out)
{
	static const char *const av_names[] = {
		NULL, "netbios_computer", "netbios_domain", "dns_computer", "dns_domain", "dns_tree"
	};
	const uint8_t *m, *end;
	size_t len, ml;
	uint32_t flags, ti_off;
	uint16_t ti_len;
	json_t *ntlm;

	if (n < 8)
		return n >= 1 && p[0] != 0 ? IDB_NO : IDB_MORE;
	len = (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
	if (p[0] != 0 || memcmp(p + 4, "\xfeSMB", 4) != 0)
		return IDB_NO;
	if (len > SMB_REPLY_MAX)
		return IDB_BAD;
	if (n < 4 + len)
		return IDB_MORE;
	if (len < 64 + 8 || p[4 + 12] != 1) /* Command: SESSION_SETUP */
		return IDB_NO;
	end = p + 4 + len;
	m = memmem(p + 4 + 64, len - 64, "NTLMSSP\0\x02\0\0\0", 12);
	if (!m)
		return IDB_NO; /* no NTLM challenge (Kerberos only, or refused): nothing to add */
	ml = (size_t)(end - m);
	if (ml < 48)
		return IDB_BAD;
	flags = id_le32(m + 20);
	ti_len = id_le16(m + 40);
	ti_off = id_le32(m + 44);
	ntlm = json_object();
	if (ti_off <= ml && ti_len <= ml - ti_off) {
		const uint8_t *av = m + ti_off, *ae = av + ti_len;

		while (ae - av >= 4) {
			uint16_t id = id_le16(av), al = id_le16(av + 2);

			if (id == 0 || al > ae - av - 4)
				break;
			if (id < sizeof(av_names) / sizeof(av_names[0]) && av_names[id])
				utf16_field(ntlm, av_names[id], av + 4, al);
			av += 4 + al;
		}
	}
	if ((flags & 0x02000000u) && ml >= 56) { /* NTLMSSP_NEGOTIATE_VERSION */
		char v[32];

		snprintf(v, sizeof(v), "%u.%u.%u", m[48], m[49], id_le16(m + 50));
		json_object_set_new(ntlm, "os_version", json_string(v));
	}
	json_object_set_new(out->fields, "ntlm", ntlm);
	return IDB_MATCH;
}

/* ---- module ---------------------------------------------------------------------- */

static int smb_start(struct id_conn *c, void *st)
{
	(void)st;
	return idb_send_built(c, idb_smb_request);
}

struct smb_state {
	uint8_t setup; /* the NEGOTIATE was answered: our SESSION_SETUP is out */
};

static int smb_readable(struct id_conn *c, void *stp, const uint8_t *d, size_t n)
{
	struct smb_state *st = stp;
	size_t len;
	int r;

	if (id_phase(c) == ID_PHASE_DIALOGUE && st->setup) {
		r = idb_judge(c, idb_smb_ntlm_parse, d, n);
		return r == ID_MORE ? ID_MORE : ID_MATCH; /* the NEGOTIATE already proved SMB */
	}
	if (id_phase(c) != ID_PHASE_PROBE)
		return ID_NO;
	r = idb_judge(c, idb_smb_parse, d, n);
	/* an SMB2 server that accepted the NEGOTIATE: ask for its NTLM challenge */
	if (r != ID_MATCH || n < 12 || d[4] != 0xfe || id_le32(d + 12) != 0)
		return r;
	len = (size_t)d[1] << 16 | (size_t)d[2] << 8 | d[3];
	id_consume(c, 4 + len);
	if (idb_send_built(c, idb_smb_session_setup) != ID_MORE)
		return ID_MATCH;
	st->setup = 1;
	return ID_CLAIM;
}

static const uint16_t smb_ports[] = { 445, 139, 0 };

const struct id_module id_mod_smb = {
	.name = "smb",
	.summary = "SMB2/3 (NEGOTIATE: dialect, signing, GUID; NTLM challenge: names, OS version)",
	.flags = ID_F_PROBE,
	.weight = 170,
	.ports = smb_ports,
	.state_size = sizeof(struct smb_state),
	.start = smb_start,
	.on_readable = smb_readable,
};
