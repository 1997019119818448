/*
 * ppscan-id without the network (suite unit, no root): the fingerprint format and matcher
 * (core/fingerprint.c), every built-in fingerprint file, the module registry's rules
 * (id_module.h), the byte helpers (id_util.h) and the ppscan-id options.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fingerprint.h"
#include "id_engine.h"
#include "id_fingerprints.h"
#include "id_module.h"
#include "id_util.h"
#include "tls_config.h"

static struct pps_fp_db *load(const char *text, int expect_rc, char *why, size_t whylen)
{
	struct pps_fp_db *db = pps_fp_db_new();

	cr_assert_not_null(db);
	cr_assert_eq(pps_fp_db_load(db, "t.conf", text, strlen(text), why, whylen), expect_rc,
		     "load: %s", why);
	return db;
}

Test(fingerprint, named_groups_give_product_version_and_fields)
{
	char why[256] = "";
	struct pps_fp_db *db = load("# c\n"
				    "match ssh m|^SSH-[\\d.]+-OpenSSH_(?<version>[\\w.]+)(?: "
				    "(?<os>Debian|Ubuntu)\\S*)?|\n"
				    "  product OpenSSH\n"
				    "match ssh m|^SSH-[\\d.]+-(?<product>[^_\\s]+)|\n  soft\n",
				    0, why, sizeof(why));
	struct pps_fp_match m;
	const char *s = "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3";

	cr_assert_eq(pps_fp_db_count(db, NULL), 2);
	cr_assert_eq(pps_fp_db_count(db, "ssh"), 2);
	cr_assert_eq(pps_fp_match(db, "ssh", (const uint8_t *)s, strlen(s), &m), 1);
	cr_assert_str_eq(m.product, "OpenSSH");
	cr_assert_str_eq(m.version, "9.2p1");
	cr_assert_eq(m.n_fields, 1);
	cr_assert_str_eq(m.fields[0].name, "os");
	cr_assert_str_eq(m.fields[0].value, "Debian");
	cr_assert_eq(m.soft, 0);
	cr_assert_eq(m.line, 2);
	s = "SSH-2.0-dropbear_2022.83";
	cr_assert_eq(pps_fp_match(db, "ssh", (const uint8_t *)s, strlen(s), &m), 1);
	cr_assert_str_eq(m.product, "dropbear");
	cr_assert_eq(m.soft, 1);
	/* another protocol's entries are not tried */
	cr_assert_eq(pps_fp_match(db, "http", (const uint8_t *)s, strlen(s), &m), 0);
	pps_fp_db_free(db);
}

Test(fingerprint, templates_and_raw_bytes)
{
	char why[256] = "";
	struct pps_fp_db *db = load("match x m%^v(?<maj>\\d+)\\.(?<min>\\d+)\\x00(?<tail>.*)%s\n"
				    "  product Thing $$ ${maj}\n"
				    "  version $maj.$min\n"
				    "  field build b-$tail\n",
				    0, why, sizeof(why));
	struct pps_fp_match m;
	static const uint8_t s[] = { 'v', '1', '.', '2', 0, 'a', '\n', 0xff };

	cr_assert_eq(pps_fp_match(db, "x", s, sizeof(s), &m), 1);
	cr_assert_str_eq(m.product, "Thing $ 1");
	cr_assert_str_eq(m.version, "1.2");
	/* fields from groups and field lines; non-printable bytes become '?' */
	cr_assert_eq(m.n_fields, 4, "%u fields", m.n_fields);
	cr_assert_str_eq(m.fields[3].name, "build");
	cr_assert_str_eq(m.fields[3].value, "b-a??");
	pps_fp_db_free(db);
}

Test(fingerprint, bad_lines_name_file_and_line)
{
	char why[256];

	pps_fp_db_free(load("match ssh m|(|\n", -EINVAL, why, sizeof(why)));
	cr_assert(strstr(why, "t.conf:1: regex does not compile"), "%s", why);
	pps_fp_db_free(load("# x\n  product A\n", -EINVAL, why, sizeof(why)));
	cr_assert(strstr(why, "t.conf:2: attribute line before the first 'match'"), "%s", why);
	pps_fp_db_free(load("match ssh m|a|\n  version $nope\n", -EINVAL, why, sizeof(why)));
	cr_assert(strstr(why, "t.conf:2:") && strstr(why, "'nope'"), "%s", why);
	pps_fp_db_free(load("match SSH m|a|\n", -EINVAL, why, sizeof(why)));
	cr_assert(strstr(why, "protocol name"), "%s", why);
	pps_fp_db_free(load("match ssh m|a|q\n", -EINVAL, why, sizeof(why)));
	cr_assert(strstr(why, "unknown regex flag 'q'"), "%s", why);
	pps_fp_db_free(load("match ssh m|a|\n  colour red\n", -EINVAL, why, sizeof(why)));
	cr_assert(strstr(why, "unknown directive 'colour'"), "%s", why);
	pps_fp_db_free(load("fingerprint ssh\n", -EINVAL, why, sizeof(why)));
	cr_assert(strstr(why, "t.conf:1: expected 'match"), "%s", why);
}

Test(fingerprint, a_failed_load_adds_nothing)
{
	char why[256];
	struct pps_fp_db *db = load("match a m|x|\n", 0, why, sizeof(why));
	const char *bad = "match b m|y|\nmatch b m|(|\n";

	cr_assert_eq(pps_fp_db_load(db, "bad.conf", bad, strlen(bad), why, sizeof(why)), -EINVAL);
	cr_assert_eq(pps_fp_db_count(db, NULL), 1);
	pps_fp_db_free(db);
}

Test(fingerprint, hostile_subjects_are_bounded)
{
	char why[256];
	/* catastrophic backtracking: the match limit ends it with an error, never a hang */
	struct pps_fp_db *db = load("match a m|^(a+)+$|\n", 0, why, sizeof(why));
	static uint8_t s[PPS_FP_SUBJECT_MAX * 2];
	struct pps_fp_match m;
	int rc;

	memset(s, 'a', sizeof(s));
	s[sizeof(s) - 1] = 'b';
	rc = pps_fp_match(db, "a", s, sizeof(s), &m);
	/* only PPS_FP_SUBJECT_MAX bytes are looked at: all 'a', so it matches */
	cr_assert_eq(rc, 1);
	s[PPS_FP_SUBJECT_MAX - 1] = 'b';
	rc = pps_fp_match(db, "a", s, sizeof(s), &m);
	cr_assert(rc == 0 || rc == -EIO, "rc %d", rc);
	pps_fp_db_free(db);
}

Test(fingerprint, every_built_in_file_loads)
{
	struct pps_fp_db *db = pps_fp_db_new();
	char why[512] = "";

	cr_assert_gt(id_builtin_fingerprints_n, 5);
	for (unsigned long i = 0; i < id_builtin_fingerprints_n; i++)
		cr_assert_eq(pps_fp_db_load(db, id_builtin_fingerprints[i].name,
					    id_builtin_fingerprints[i].text,
					    id_builtin_fingerprints[i].len, why, sizeof(why)),
			     0, "%s", why);
	/* each entry's protocol is a module's (http entries serve http2 too) */
	for (unsigned long i = 0; i < id_builtin_fingerprints_n; i++) {
		const char *base = strrchr(id_builtin_fingerprints[i].name, '/') + 1;
		char proto[64];

		snprintf(proto, sizeof(proto), "%.*s", (int)(strlen(base) - 5), base);
		cr_expect_not_null(id_module_find(proto), "%s: no module %s", base, proto);
		cr_expect_gt(pps_fp_db_count(db, proto), 0, "%s has no entry for %s", base, proto);
	}
	pps_fp_db_free(db);
}

Test(registry, modules_follow_the_interface_rules)
{
	size_t n;
	const struct id_module *const *m = id_modules(&n);

	cr_assert_geq(n, 8);
	for (size_t i = 0; i < n; i++) {
		cr_assert_not_null(m[i]->name);
		cr_assert_eq(strspn(m[i]->name, "abcdefghijklmnopqrstuvwxyz0123456789_"),
			     strlen(m[i]->name), "%s", m[i]->name);
		cr_assert_not_null(m[i]->summary, "%s", m[i]->name);
		cr_assert_not_null(m[i]->on_readable, "%s", m[i]->name);
		cr_assert_leq(m[i]->state_size, ID_STATE_MAX, "%s", m[i]->name);
		cr_assert(m[i]->weight >= 1 && m[i]->weight <= 1000, "%s", m[i]->name);
		cr_assert(m[i]->flags & (ID_F_GREETING | ID_F_PROBE | ID_F_REACT), "%s",
			  m[i]->name);
		if ((m[i]->flags & ID_F_PROBE) && !(m[i]->flags & ID_F_TLS))
			cr_assert_not_null(m[i]->start, "%s probes without start()", m[i]->name);
		for (size_t j = 0; j < i; j++)
			cr_assert_str_neq(m[i]->name, m[j]->name);
		cr_assert_eq(id_module_find(m[i]->name), m[i]);
	}
	cr_assert_null(id_module_find("nope"));
}

Test(util, text_replies)
{
	int code = 0;
	size_t len = 0;
	const char *one = "220 (vsFTPd 3.0.3)\r\nrest";
	const char *multi = "250-mail.lab.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n";
	const char *feat = "211-Features:\r\n EPSV\r\n AUTH TLS\r\n211 End\r\n";

	cr_assert_eq(id_text_reply((const uint8_t *)one, strlen(one), &code, &len), ID_MATCH);
	cr_assert_eq(code, 220);
	cr_assert_eq(len, 20);
	cr_assert_eq(id_text_reply((const uint8_t *)multi, strlen(multi), &code, &len), ID_MATCH);
	cr_assert_eq(len, strlen(multi));
	cr_assert_eq(id_text_reply((const uint8_t *)multi, 25, &code, &len), ID_MORE);
	cr_assert_eq(id_text_reply((const uint8_t *)feat, strlen(feat), &code, &len), ID_MATCH);
	cr_assert_eq(code, 211);
	cr_assert_eq(id_text_reply((const uint8_t *)"22", 2, &code, &len), ID_MORE);
	cr_assert_eq(id_text_reply((const uint8_t *)"SSH-2.0", 7, &code, &len), ID_NO);
	cr_assert_eq(id_text_reply((const uint8_t *)"220\x01x\r\n", 7, &code, &len), ID_NO);
	cr_assert_eq(id_text_reply((const uint8_t *)"999 x\r\n", 7, &code, &len), ID_NO);
}

Test(util, prefixes_and_text)
{
	json_t *j;

	cr_assert_eq(id_prefix((const uint8_t *)"SS", 2, "SSH-", 0), ID_MORE);
	cr_assert_eq(id_prefix((const uint8_t *)"ssh-2", 5, "SSH-", 1), ID_MATCH);
	cr_assert_eq(id_prefix((const uint8_t *)"ssh-2", 5, "SSH-", 0), ID_NO);
	j = id_json_text((const uint8_t *)"caf\xc3\xa9 \xff\xc3\x28 ok\r\n", 13);
	cr_assert_str_eq(json_string_value(j), "caf\xc3\xa9 \\xff\\xc3( ok");
	json_decref(j);
	j = id_json_list((const uint8_t *)"a,,b,c", 6, ',');
	cr_assert_eq(json_array_size(j), 3);
	json_decref(j);
}

static int parse_args(const char *a0, const char *a1, const char *a2, char *err, size_t errlen)
{
	struct tls_config cfg;
	char *argv[] = { (char *)a0, (char *)a1, (char *)a2, NULL };
	FILE *f = fmemopen(err, errlen, "w");
	int rc = tls_config_parse(&cfg, a2 ? 3 : 2, argv, f);

	fclose(f);
	if (rc == TLS_PARSE_OK)
		tls_config_free(&cfg);
	return rc;
}

Test(options, ppscan_id_options_and_their_errors)
{
	char err[512] = "";

	cr_assert_eq(parse_args("/usr/bin/ppscan-id", "--max-handshakes", "3", err, sizeof(err)),
		     TLS_PARSE_OK, "%s", err);
	memset(err, 0, sizeof(err));
	cr_assert_eq(parse_args("ppscan-id", "--max-handshakes", "0", err, sizeof(err)),
		     TLS_PARSE_ERROR);
	cr_assert_str_eq(err, "ppscan-id: invalid handshake count '0' (from --max-handshakes): "
			      "expected 1-64\n");
	memset(err, 0, sizeof(err));
	cr_assert_eq(parse_args("ppscan-id", "--greeting-wait", "-1", err, sizeof(err)),
		     TLS_PARSE_ERROR);
	cr_assert(strstr(err, "invalid greeting wait '-1'"), "%s", err);
	memset(err, 0, sizeof(err));
	cr_assert_eq(parse_args("ppscan-id", "--fingerprints", "/nonexistent", err, sizeof(err)),
		     TLS_PARSE_ERROR);
	cr_assert(strstr(err, "invalid fingerprint directory '/nonexistent'"), "%s", err);
	/* ppscan-tls keeps its option set */
	memset(err, 0, sizeof(err));
	cr_assert_eq(parse_args("ppscan-tls", "--max-handshakes", "3", err, sizeof(err)),
		     TLS_PARSE_ERROR);
	cr_assert_str_eq(err, "ppscan-tls: unknown option '--max-handshakes' (see --help)\n");
}

/* ---- the modules' parsers on what the lab's real servers sent (id_judge) ---- */

static struct pps_fp_db *builtin_db(void)
{
	struct pps_fp_db *db = pps_fp_db_new();
	char why[512];

	for (unsigned long i = 0; i < id_builtin_fingerprints_n; i++)
		cr_assert_eq(pps_fp_db_load(db, id_builtin_fingerprints[i].name,
					    id_builtin_fingerprints[i].text,
					    id_builtin_fingerprints[i].len, why, sizeof(why)),
			     0, "%s", why);
	return db;
}

struct judged {
	int v;
	json_t *obj;
	char product[128], version[128];
};

static struct judged judge(const char *mod, int phase, const char *bytes, size_t n, int ended)
{
	static struct pps_fp_db *db;
	struct judged j;
	const struct id_module *m = id_module_find(mod);

	if (!db)
		db = builtin_db();
	cr_assert_not_null(m, "no module %s", mod);
	j.v = id_judge(m, phase, 1, db, (const uint8_t *)bytes, n, ended, &j.obj, j.product,
		       j.version);
	return j;
}

#define JUDGE(mod, phase, lit, ended) judge(mod, phase, lit, sizeof(lit) - 1, ended)

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

Test(modules, ssh_greeting_of_openssh)
{
	struct judged j =
		JUDGE("ssh", ID_PHASE_GREETING, "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n", 0);

	cr_assert_eq(j.v, ID_CLAIM);
	cr_assert_str_eq(j.product, "OpenSSH");
	cr_assert_str_eq(j.version, "9.2p1");
	cr_assert_str_eq(str(j.obj, "software"), "OpenSSH_9.2p1");
	cr_assert_str_eq(str(j.obj, "comments"), "Debian-2+deb12u3");
	cr_assert_str_eq(str(j.obj, "os"), "Debian");
	json_decref(j.obj);
	cr_assert_eq(JUDGE("ssh", ID_PHASE_GREETING, "SSH-2.0-Open", 0).v, ID_MORE);
	cr_assert_eq(JUDGE("ssh", ID_PHASE_GREETING, "SSH-2.0-Open", 1).v, ID_NO);
	cr_assert_eq(JUDGE("ssh", ID_PHASE_GREETING, "220 (vsFTPd 3.0.3)\r\n", 0).v, ID_MORE);
	cr_assert_eq(JUDGE("ssh", ID_PHASE_REACT, "HTTP/1.1 400 Bad\r\n", 0).v, ID_NO);
	cr_assert_eq(JUDGE("ssh", ID_PHASE_GREETING, "SSH-x.y-z\r\n", 0).v, ID_NO);
}

Test(modules, ftp_smtp_pop3_imap_greetings)
{
	struct judged j = JUDGE("ftp", ID_PHASE_GREETING, "220 (vsFTPd 3.0.3)\r\n", 0);

	cr_assert_eq(j.v, ID_CLAIM);
	cr_assert_str_eq(j.product, "vsftpd");
	cr_assert_str_eq(j.version, "3.0.3");
	json_decref(j.obj);
	j = JUDGE("smtp", ID_PHASE_GREETING, "220 mail.lab.test ESMTP Postfix (Debian/GNU)\r\n", 0);
	cr_assert_eq(j.v, ID_CLAIM);
	cr_assert_str_eq(j.product, "Postfix");
	cr_assert_str_eq(str(j.obj, "hostname"), "mail.lab.test");
	json_decref(j.obj);
	/* a mail server's greeting is not FTP's, an FTP greeting not SMTP's */
	cr_assert_eq(JUDGE("ftp", ID_PHASE_GREETING,
			   "220 mail.lab.test ESMTP Postfix (Debian/GNU)\r\n", 0)
			     .v,
		     ID_NO);
	cr_assert_eq(JUDGE("smtp", ID_PHASE_GREETING, "220 (vsFTPd 3.0.3)\r\n", 0).v, ID_NO);
	j = JUDGE("pop3", ID_PHASE_GREETING, "+OK Dovecot (Debian) ready.\r\n", 0);
	cr_assert_eq(j.v, ID_CLAIM);
	cr_assert_str_eq(j.product, "Dovecot pop3d");
	json_decref(j.obj);
	j = JUDGE("imap", ID_PHASE_GREETING,
		  "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ "
		  "STARTTLS AUTH=PLAIN] Dovecot (Debian) ready.\r\n",
		  0);
	cr_assert_eq(j.v, ID_CLAIM);
	cr_assert_str_eq(j.product, "Dovecot imapd");
	cr_assert_eq(json_is_true(json_object_get(j.obj, "starttls")), 1);
	json_decref(j.obj);
}

Test(modules, http_replies)
{
	struct judged j =
		JUDGE("http", ID_PHASE_PROBE,
		      "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nContent-Type: text/html\r\n"
		      "Content-Length: 47\r\n\r\n"
		      "<html><head><title> ppscan  lab </title></head>",
		      0);

	cr_assert_eq(j.v, ID_MATCH);
	cr_assert_str_eq(j.product, "nginx");
	cr_assert_str_eq(j.version, "1.22.1");
	cr_assert_str_eq(str(j.obj, "title"), "ppscan lab");
	cr_assert_eq(json_integer_value(json_object_get(j.obj, "status")), 200);
	json_decref(j.obj);
	/* the body has not come yet: wait */
	cr_assert_eq(
		JUDGE("http", ID_PHASE_PROBE, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", 0).v,
		ID_MORE);
	j = JUDGE("http", ID_PHASE_REACT, "HTTP/1.1 400 Bad Request\r\nServer: nginx\r\n\r\n", 1);
	cr_assert_eq(j.v, ID_SOFT);
	json_decref(j.obj);
	cr_assert_eq(JUDGE("http", ID_PHASE_PROBE, "SSH-2.0-x\r\n", 0).v, ID_NO);
	cr_assert_eq(JUDGE("http", ID_PHASE_PROBE, "HTTP/1.1 999 x\r\n\r\n", 0).v, ID_NO);
}

Test(modules, http2_and_tls_frames)
{
	/* nginx's server preface: SETTINGS (max_concurrent_streams 128, initial_window_size
	 * 65536, max_frame_size 16777215) */
	static const char settings[] = "\x00\x00\x12\x04\x00\x00\x00\x00\x00"
				       "\x00\x03\x00\x00\x00\x80"
				       "\x00\x04\x00\x01\x00\x00"
				       "\x00\x05\x00\xff\xff\xff";
	static const char alert[] = "\x15\x03\x01\x00\x02\x02\x46";
	struct judged j = judge("http2", ID_PHASE_PROBE, settings, sizeof(settings) - 1, 0);

	cr_assert_eq(j.v, ID_MORE); /* waits for the HEADERS of its request */
	json_decref(j.obj);
	j = judge("http2", ID_PHASE_PROBE, settings, sizeof(settings) - 1, 1);
	cr_assert_eq(j.v, ID_MATCH);
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(j.obj, "settings"),
							"max_concurrent_streams")),
		     128);
	json_decref(j.obj);
	j = judge("http2", ID_PHASE_REACT, settings, sizeof(settings) - 1, 0);
	cr_assert_eq(j.v, ID_SOFT);
	json_decref(j.obj);
	cr_assert_eq(JUDGE("http2", ID_PHASE_PROBE, "HTTP/1.1 400 Bad Request\r\n", 0).v, ID_NO);
	j = judge("tls", ID_PHASE_REACT, alert, sizeof(alert) - 1, 0);
	cr_assert_eq(j.v, ID_SOFT);
	cr_assert_eq(json_integer_value(json_object_get(j.obj, "alert_description")), 70);
	json_decref(j.obj);
	cr_assert_eq(JUDGE("tls", ID_PHASE_REACT, "HTTP/1.1 400", 0).v, ID_NO);
}
