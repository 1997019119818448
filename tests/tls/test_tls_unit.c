/*
 * ppscan-tls without the network (suite unit, no root): input lines (ppscan CSV and NDJSON),
 * the file reader, TLS record sniffing, banners, ALPN encoding, option errors, and the
 * certificate facts of a certificate built here with OpenSSL (fixed key, dates and serial).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pps_targets.h"
#include "tls_config.h"
#include "tls_input.h"
#include "tls_record.h"

static int parse(struct tls_line_state *st, const char *line, struct tls_target *t)
{
	char buf[512], why[160];

	snprintf(buf, sizeof(buf), "%s", line);
	return tls_parse_line(st, buf, t, why, sizeof(why));
}

Test(tls_input, ppscan_csv_keeps_open_rows_only)
{
	struct tls_line_state st = { 0 };
	struct tls_target t;

	cr_assert_eq(parse(&st, "saddr,sport,classification\n", &t), 0);
	cr_assert_eq(parse(&st, "198.18.0.10,8443,synack\n", &t), 1);
	cr_assert_eq(t.ip_h, 0xc612000au);
	cr_assert_eq(t.port_h, 8443);
	cr_assert_str_empty(t.id);
	cr_assert_eq(parse(&st, "198.18.0.10,8080,rst\r\n", &t), 2);
	cr_assert_eq(parse(&st, "\n", &t), 0);
	cr_assert_eq(parse(&st, "198.18.0.300,443,synack", &t), -EINVAL);
	cr_assert_eq(parse(&st, "198.18.0.1,0,synack", &t), -EINVAL);
	cr_assert_eq(parse(&st, "198.18.0.1,443", &t), -EINVAL, "field count differs from the header");
}

Test(tls_input, csv_columns_in_any_order_and_without_classification)
{
	struct tls_line_state st = { 0 };
	struct tls_target t;

	cr_assert_eq(parse(&st, "timestamp_str,sport,ttl,saddr", &t), 0);
	cr_assert_eq(parse(&st, "2026-01-01T00:00:00Z,443,64,198.18.0.7", &t), 1);
	cr_assert_eq(t.ip_h, 0xc6120007u);
	cr_assert_eq(t.port_h, 443);

	memset(&st, 0, sizeof(st));
	cr_assert_eq(parse(&st, "ip,port,status", &t), 0);
	cr_assert_eq(parse(&st, "198.18.0.8,22,open", &t), 1);
	cr_assert_eq(parse(&st, "198.18.0.8,23,closed", &t), 2);

	memset(&st, 0, sizeof(st));
	cr_assert_eq(parse(&st, "daddr,dport", &t), -EINVAL, "a header without saddr/sport");
}

Test(tls_input, ndjson_as_ppscan_and_masscan_write_it)
{
	struct tls_line_state st = { 0 };
	struct tls_target t;

	cr_assert_eq(parse(&st, "{\"saddr\":\"198.18.0.11\",\"sport\":8443,\"classification\":\"synack\"}", &t), 1);
	cr_assert_eq(t.ip_h, 0xc612000bu);
	cr_assert_eq(t.port_h, 8443);
	cr_assert_eq(parse(&st, "{\"saddr\":\"198.18.0.11\",\"sport\":80,\"classification\":\"rst\"}", &t), 2);
	cr_assert_eq(parse(&st, "{\"ip\":\"198.18.0.12\",\"port\":\"443\",\"status\":\"open\"}", &t), 1);
	cr_assert_eq(t.port_h, 443);
	cr_assert_eq(parse(&st, "{\"saddr\":\"198.18.0.12\"}", &t), -EINVAL);
	cr_assert_eq(parse(&st, "{\"saddr\":\"x\",\"sport\":1}", &t), -EINVAL);
	cr_assert_eq(parse(&st, "{not json", &t), -EINVAL);
	cr_assert_eq(parse(&st, "{\"saddr\":\"198.18.0.12\",\"sport\":70000}", &t), -EINVAL);
}

Test(tls_input, file_reader_handles_crlf_bad_lines_and_a_last_line_without_newline)
{
	char path[] = "/tmp/ppscan-tls-unit-XXXXXX";
	int fd = mkstemp(path);
	const char text[] = "saddr,sport,classification\r\n"
			    "198.18.0.1,443,synack\r\n"
			    "garbage\r\n"
			    "198.18.0.2,443,rst\n"
			    "198.18.0.3,8443,synack";
	struct tls_target t[8];
	struct tls_input *in;
	int n, total = 0;

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, sizeof(text) - 1), (ssize_t)sizeof(text) - 1);
	close(fd);
	in = tls_input_open_file(path);
	cr_assert_not_null(in);
	cr_assert_eq(in->fd(in), -1, "a regular file is read directly, not waited on");
	while ((n = in->read(in, t + total, 8 - total, 0)) > 0)
		total += n;
	cr_assert_eq(n, TLS_INPUT_EOF);
	cr_assert_eq(total, 2);
	cr_assert_eq(t[0].ip_h, 0xc6120001u);
	cr_assert_eq(t[1].ip_h, 0xc6120003u);
	cr_assert_eq(t[1].port_h, 8443);
	cr_assert_eq(in->skipped, 1);
	cr_assert_eq(in->not_open, 1);
	in->close(in);
	unlink(path);
}

Test(tls_record, sniffs_tls_records_and_plaintext)
{
	static const unsigned char hello[] = { 0x16, 0x03, 0x03, 0x00, 0x7a };
	static const unsigned char alert[] = { 0x15, 0x03, 0x01 };

	cr_assert(tls_looks_like_tls(hello, 5));
	cr_assert(tls_looks_like_tls(hello, 1), "one byte 0x16 can still be TLS");
	cr_assert(tls_looks_like_tls(alert, 3));
	cr_assert_not(tls_looks_like_tls((const unsigned char *)"SSH-2.0-OpenSSH_9.2\r\n", 21));
	cr_assert_not(tls_looks_like_tls((const unsigned char *)"HTTP/1.1 400 Bad", 16));
	cr_assert_not(tls_looks_like_tls((const unsigned char *)"\x16\x48", 2), "0x16 then not 3.x");
	cr_assert_not(tls_looks_like_tls((const unsigned char *)"\x16\x03\x09", 3));
}

Test(tls_record, banner_keeps_text_and_escapes_bytes)
{
	json_t *j = tls_json_banner((const unsigned char *)"SSH-2.0-x\r\n\x00\xff", 13);
	char hex[64];

	cr_assert_str_eq(json_string_value(j), "SSH-2.0-x\r\n\\x00\\xff");
	json_decref(j);
	tls_hex((const unsigned char *)"\x00\xab\x10", 3, hex);
	cr_assert_str_eq(hex, "00ab10");
}

Test(tls_config, alpn_wire_format)
{
	unsigned char w[32];

	cr_assert_eq(tls_alpn_encode("h2,http/1.1", w, sizeof(w)), 12);
	cr_assert_eq(memcmp(w, "\x02h2\x08http/1.1", 12), 0);
	cr_assert_eq(tls_alpn_encode("none", w, sizeof(w)), 0);
	cr_assert_eq(tls_alpn_encode("", w, sizeof(w)), 0);
	cr_assert_eq(tls_alpn_encode("h2,,x", w, sizeof(w)), -EINVAL);
	cr_assert_eq(tls_alpn_encode("h2,", w, sizeof(w)), -EINVAL);
	cr_assert_eq(tls_alpn_encode("a-very-long-protocol-name-list", w, 8), -EINVAL);
}

/* Parses @args (space-separated); returns the outcome and the error text in @err. */
static int parse_args(const char *args, struct tls_config *cfg, char *err, size_t errlen)
{
	static char buf[512]; /* cfg points into it */
	char *argv[32], *save = NULL;
	int argc = 0, rc;
	FILE *f = fmemopen(err, errlen, "w");

	snprintf(buf, sizeof(buf), "ppscan-tls %s", args);
	for (char *tok = strtok_r(buf, " ", &save); tok && argc < 31; tok = strtok_r(NULL, " ", &save))
		argv[argc++] = tok;
	argv[argc] = NULL;
	memset(err, 0, errlen);
	rc = tls_config_parse(cfg, argc, argv, f);
	fclose(f);
	return rc;
}

Test(tls_config, bad_values_give_one_line_naming_value_and_option)
{
	static const struct {
		const char *args, *needle;
	} cases[] = {
		{ "-c 0", "'0' (from -c)" },
		{ "--concurrency=abc", "'abc' (from --concurrency)" },
		{ "-r -1", "'-1' (from -r)" },
		{ "--timeout 0", "'0' (from --timeout)" },
		{ "--connect-timeout 1e9", "'1e9' (from --connect-timeout)" },
		{ "--per-host x", "'x' (from --per-host)" },
		{ "-p 0", "'0' (from -p)" },
		{ "--sni a/b", "'a/b' (from --sni)" },
		{ "--alpn h2,,x", "'h2,,x' (from --alpn)" },
		{ "--banner-bytes 5000", "'5000' (from --banner-bytes)" },
		{ "--ca-file /nonexistent/ca.pem", "'/nonexistent/ca.pem' (from --ca-file)" },
		{ "-b /nonexistent/block.conf", "'/nonexistent/block.conf' (from -b)" },
		{ "--redis http://x", "'http://x' (from --redis)" },
		{ "--redis redis://:pw@h:99999 --scan-id s", "'redis://:***@h:99999' (from --redis)" },
		{ "--redis redis://h", "'--scan-id ID'" },
		{ "--follow-timeout -3", "'-3' (from --follow-timeout)" },
		{ "--bogus", "'--bogus'" },
		{ "/nonexistent/input.csv", "'/nonexistent/input.csv' (from FILE)" },
		{ "a.csv b.csv", "'b.csv'" },
	};
	char err[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tls_config cfg;
		int rc = parse_args(cases[i].args, &cfg, err, sizeof(err));

		cr_expect_eq(rc, TLS_PARSE_ERROR, "'%s' parsed as %d", cases[i].args, rc);
		cr_expect(strstr(err, cases[i].needle) != NULL, "'%s': message '%s' lacks %s",
			  cases[i].args, err, cases[i].needle);
		cr_expect_eq(strchr(err, '\n'), err + strlen(err) - 1, "'%s': not one line: %s",
			     cases[i].args, err);
		cr_expect_eq(strstr(err, "pw"), NULL, "a password in a message: %s", err);
		tls_config_free(&cfg);
	}
}

Test(tls_config, defaults_and_the_default_blocklist)
{
	struct tls_config cfg;
	char err[256];

	cr_assert_eq(parse_args("-", &cfg, err, sizeof(err)), TLS_PARSE_OK, "%s", err);
	cr_assert_eq(cfg.concurrency, 1000);
	cr_assert_eq(cfg.per_host, 4);
	cr_assert_float_eq(cfg.rate, 1000.0, 1e-9);
	cr_assert_float_eq(cfg.timeout_s, 5.0, 1e-9);
	cr_assert_eq(cfg.alpn_len, 12);
	cr_assert_str_eq(cfg.input, "-");
	cr_assert_not_null(cfg.blocklist);
	/* the scanner's default: special-purpose ranges, the lab's 198.18.0.0/15 included */
	cr_assert_geq(pps_targets_index_of(cfg.blocklist, 0xc6120001u), 0);
	cr_assert_geq(pps_targets_index_of(cfg.blocklist, 0x0a000001u), 0);
	cr_assert_eq(pps_targets_index_of(cfg.blocklist, 0x08080808u), -1);
	tls_config_free(&cfg);
}

/* A certificate with known facts: EC P-256, serial 0x0abc, SANs, fixed dates, self-signed. */
static X509 *make_cert(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();
	ASN1_INTEGER *serial = ASN1_INTEGER_new();
	X509V3_CTX v3;
	X509_EXTENSION *ext;

	cr_assert(k && x && n && serial);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(serial, 0x0abc);
	X509_set_serialNumber(x, serial);
	X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8, (const unsigned char *)"Unit", -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)"unit.test", -1,
				   -1, 0);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, n);
	ASN1_TIME_set_string(X509_getm_notBefore(x), "20240301120000Z");
	ASN1_TIME_set_string(X509_getm_notAfter(x), "20300301120000Z");
	X509_set_pubkey(x, k);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name,
				  "DNS:unit.test,IP:198.18.0.99,email:a@unit.test");
	cr_assert_not_null(ext);
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	cr_assert(X509_sign(x, k, EVP_sha384()));
	X509_NAME_free(n);
	ASN1_INTEGER_free(serial);
	EVP_PKEY_free(k);
	return x;
}

static const char *str_at(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	cr_assert(json_is_string(v), "%s is not a string", k);
	return json_string_value(v);
}

Test(tls_record, certificate_facts)
{
	X509 *x = make_cert();
	json_t *c = tls_record_cert(x), *san;
	unsigned char md[32];
	unsigned int len;
	char hex[65];

	cr_assert_not_null(c);
	cr_assert_str_eq(str_at(c, "subject"), "CN=unit.test,O=Unit");
	cr_assert_str_eq(str_at(c, "issuer"), "CN=unit.test,O=Unit");
	san = json_object_get(c, "san");
	cr_assert_eq(json_array_size(san), 3);
	cr_assert_str_eq(json_string_value(json_array_get(san, 0)), "DNS:unit.test");
	cr_assert_str_eq(json_string_value(json_array_get(san, 1)), "IP:198.18.0.99");
	cr_assert_str_eq(json_string_value(json_array_get(san, 2)), "email:a@unit.test");
	cr_assert_str_eq(str_at(c, "not_before"), "2024-03-01T12:00:00Z");
	cr_assert_str_eq(str_at(c, "not_after"), "2030-03-01T12:00:00Z");
	cr_assert_str_eq(str_at(c, "serial"), "0abc");
	cr_assert_str_eq(str_at(c, "key_type"), "EC");
	cr_assert_eq(json_integer_value(json_object_get(c, "key_bits")), 256);
	cr_assert_str_eq(str_at(c, "curve"), "prime256v1");
	cr_assert_str_eq(str_at(c, "signature_algorithm"), "ecdsa-with-SHA384");
	X509_digest(x, EVP_sha256(), md, &len);
	tls_hex(md, len, hex);
	cr_assert_str_eq(str_at(c, "sha256"), hex);
	json_decref(c);
	X509_free(x);
}
